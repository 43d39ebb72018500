//! Leaderless dependency sets on the engine: what a Byzantine replica can make a dependency
//! proof accept (issue 11, item 12).

use protocols::leaderless::{Behavior, Leaderless, LeaderlessConfig, LeaderlessMonitor, Variant};
use protocols::ledger::ConflictRelation;
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement};
use sim_core::workload::{Arrival, ListWorkload};
use sim_core::{AccountId, RunResult, SendPolicy, SimConfig, Simulation, Span, Stop, Time};

const CLIENTS: u32 = 8;

/// A uniform 10 ms network, unlimited CPUs; `behaviors` from replica 0 on, the rest correct.
fn run(variant: Variant, n: u32, arrivals: Vec<Arrival>, behaviors: &[Behavior], secs: u64) -> RunResult {
    let mut roster = behaviors.to_vec();
    roster.resize(n as usize, Behavior::Correct);
    let place = |_| NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
    let cfg = SimConfig {
        seed: 1,
        n_replicas: n,
        f: 1,
        net: NetConfig {
            nodes: (0..n + CLIENTS).map(place).collect(),
            n_replicas: n,
            delay: DelayModel::Uniform(Span::from_millis(10)),
            jitter: Jitter::None,
            loss_ppb: 0,
            fifo: true,
            partitions: vec![],
            spikes: vec![],
        },
        send_to: SendPolicy::Nearest,
        faults: vec![],
        end: Time::from_secs_f64(secs as f64),
        limits: sim_core::Limits { max_events: 50_000_000, max_queue: 10_000_000, ..sim_core::Limits::DEFAULT },
        correct: roster.iter().map(|b| *b == Behavior::Correct).collect(),
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: Some(Span::from_millis(500)),
        clients: sim_core::ClientModel::OPEN,
        adversary: sim_core::Adversary::OFF,
    };
    let ll = LeaderlessConfig::new(variant);
    let monitor = LeaderlessMonitor::new(n, ConflictRelation::SharedAccount);
    Simulation::new(cfg, Box::new(ListWorkload::new(arrivals)), |id| {
        Leaderless::new(ll.clone(), n, 1, roster[id.idx()])
    })
    .with_monitor(Box::new(monitor))
    .run()
}

fn counter(r: &RunResult, name: &str) -> u64 {
    r.counters.iter().find(|c| c.0 == name).unwrap_or_else(|| panic!("no counter {name}")).1
}

/// Issue 11, item 12: a replica inventing dependencies used to name `max_seen + 1000 + k`, an
/// id that becomes a real, client-signed command as soon as a thousand more are submitted;
/// the EPaxos variant's proof ("the id was submitted") then accepted it, and correct
/// coordinators put a command nobody reported into the union. A burst of 4,000 transfers in 20 ms (200,000 per second)
/// on disjoint accounts (no command conflicts with another, so every correct dependency set
/// is empty): any dependency a correct coordinator takes came from the inventing replica.
/// Invented ids now live where no client signs (the top bit set): every such reply fails
/// its proof, and every set stays empty.
#[test]
fn invented_dependencies_never_pass_as_real_commands_at_high_rates() {
    let arrivals: Vec<Arrival> = (0..4_000u32)
        .map(|i| Arrival {
            at: Time(u64::from(i) * 5_000),
            client_idx: i % CLIENTS,
            from: AccountId(2 * i),
            to: AccountId(2 * i + 1),
            amount: 1,
            size_bytes: 100,
        })
        .collect();
    let r = run(Variant::Epaxos, 4, arrivals, &[Behavior::Correct, Behavior::InventDeps], 3);
    assert_eq!(r.stop, Stop::End);
    assert!(r.txs.iter().all(|t| t.is_confirmed()), "every transfer confirms");
    assert_eq!(counter(&r, "deps_max"), 0, "a correct coordinator took an invented dependency: {:?}", r.counters);
}
