//! Chained HotStuff on the engine, without scenario files: closed-form throughput and
//! latency, a crashed replica, a partition, loss, and determinism.

use protocols::hotstuff::{HotStuff, HotStuffConfig};
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement, PartitionSpec};
use sim_core::workload::{Arrival, Workload};
use sim_core::{
    AccountId, FaultAction, FaultAt, NodeId, RunResult, SendPolicy, SimConfig, Simulation, Span, Stop, Time,
};

/// Arrivals at a constant rate, round-robin over clients.
struct Steady {
    gap_ns: u64,
    next: u64,
    until: u64,
    clients: u32,
    count: u64,
}

impl Workload for Steady {
    fn next_arrival(&mut self) -> Option<Arrival> {
        if self.next >= self.until {
            return None;
        }
        let a = Arrival {
            at: Time(self.next),
            client_idx: (self.count % self.clients as u64) as u32,
            from: AccountId(0),
            to: AccountId(1),
            amount: 1,
            size_bytes: 0,
        };
        self.count += 1;
        self.next += self.gap_ns;
        Some(a)
    }
}

struct Case {
    n: u32,
    delay_ms: u64,
    rate_tps: u64,
    secs: u64,
    batch: usize,
    faults: Vec<FaultAt>,
    partitions: Vec<PartitionSpec>,
    loss_ppb: u32,
    jitter: Jitter,
    seed: u64,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            n: 4,
            delay_ms: 10,
            rate_tps: 1000,
            secs: 5,
            batch: 400,
            faults: vec![],
            partitions: vec![],
            loss_ppb: 0,
            jitter: Jitter::None,
            seed: 1,
        }
    }
}

fn run(case: Case) -> RunResult {
    let clients = 4;
    let place = NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
    let cfg = SimConfig {
        seed: case.seed,
        n_replicas: case.n,
        f: (case.n - 1) / 3,
        net: NetConfig {
            nodes: vec![place; (case.n + clients) as usize],
            n_replicas: case.n,
            delay: DelayModel::Uniform(Span::from_millis(case.delay_ms)),
            jitter: case.jitter,
            loss_ppb: case.loss_ppb,
            fifo: true,
            partitions: case.partitions,
        },
        send_to: SendPolicy::All,
        faults: case.faults,
        end: Time::from_secs_f64(case.secs as f64),
        max_events: 100_000_000,
        max_queue: 10_000_000,
        correct: vec![true; case.n as usize],
        cpu: sim_core::CpuConfig::UNLIMITED,
    };
    let until = case.secs * 1_000_000_000;
    let workload = Steady { gap_ns: 1_000_000_000 / case.rate_tps, next: 0, until, clients, count: 0 };
    let hs = HotStuffConfig {
        batch_size: case.batch,
        view_timeout: Span::from_millis(200),
        backoff_permille: 1000,
        max_timeout: Span::from_millis(10_000),
        list_certificates: false,
    };
    Simulation::new(cfg, Box::new(workload), |_| HotStuff::new(hs.clone())).run()
}

fn commits_between(r: &RunResult, from_s: f64, to_s: f64) -> usize {
    let (a, b) = (Time::from_secs_f64(from_s), Time::from_secs_f64(to_s));
    r.txs.iter().filter(|t| t.committed >= a && t.committed < b).count()
}

#[test]
fn commits_and_is_deterministic() {
    let a = run(Case::default());
    assert_eq!(a.stop, Stop::End);
    let committed = a.txs.iter().filter(|t| t.is_committed()).count();
    assert!(committed > 4_000, "committed {committed} of {}", a.txs.len());
    let b = run(Case::default());
    assert_eq!(a.digest, b.digest);
    let c = run(Case { seed: 2, jitter: Jitter::Uniform { max_ns: 1_000_000 }, ..Case::default() });
    let d = run(Case { seed: 3, jitter: Jitter::Uniform { max_ns: 1_000_000 }, ..Case::default() });
    assert_ne!(c.digest, d.digest);
}

#[test]
fn crashed_replica_does_not_stop_commits() {
    let crash = FaultAt { at: Time::from_secs_f64(1.0), replica: NodeId(3), action: FaultAction::Crash };
    let r = run(Case { faults: vec![crash], secs: 10, ..Case::default() });
    assert_eq!(r.stop, Stop::End);
    let late = commits_between(&r, 5.0, 10.0);
    assert!(late > 2_000, "commits in [5s,10s): {late}");
    let view_changes = r.nodes[0].counters.iter().find(|c| c.0 == "view_changes").unwrap().1;
    assert!(view_changes > 5, "view changes {view_changes}");
}

#[test]
fn partition_stops_then_heals() {
    let p =
        PartitionSpec { start: Time::from_secs_f64(2.0), heal: Time::from_secs_f64(12.0), group_of: vec![0, 0, 1, 1] };
    let r = run(Case { partitions: vec![p], secs: 20, ..Case::default() });
    assert_eq!(r.stop, Stop::End);
    assert_eq!(commits_between(&r, 2.5, 12.0), 0);
    let after = commits_between(&r, 12.0, 20.0);
    assert!(after > 8_000, "commits after the heal: {after}");
}

#[test]
fn survives_loss() {
    let r = run(Case { loss_ppb: 20_000_000, secs: 10, ..Case::default() });
    assert_eq!(r.stop, Stop::End);
    let late = commits_between(&r, 5.0, 10.0);
    assert!(late > 3_000, "commits in [5s,10s) with 2% loss: {late}");
}
