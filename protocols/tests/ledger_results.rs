//! The ledger under HotStuff and Algorand (issue 11, item 7): committed blocks execute, clients
//! get the ledger's result (not a blanket "applied"), and the per-transaction result check
//! catches a replica that executes a different order (a planted bug). The HotStuff runs are
//! configured like `scenarios/examples/ledger-hotstuff.toml`.

use std::rc::Rc;

use protocols::algorand::{Algorand, AlgorandConfig, Behavior as AgBehavior, Topology, World};
use protocols::common::log_ledger::{LogLedger, SharedLedger};
use protocols::common::results::ResultMonitor;
use protocols::hotstuff::{Behavior, CommitRule, HotStuff, HotStuffConfig, HotStuffMonitor, HsMsg, PlantedBug};
use sim_core::adversary::{Mode, RandomAttack};
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement};
use sim_core::workload::{Arrival, Workload};
use sim_core::{
    AccountId, Adversary, Message, RunResult, SendPolicy, SimConfig, Simulation, Span, Stop, Streams, Time,
};

/// Transfers of 1 to 100 between `accounts` accounts, drawn from a fixed generator (hot enough
/// that one block holds several transfers of one account, and that sources run dry).
struct Transfers {
    state: u64,
    gap_ns: u64,
    next: u64,
    until: u64,
    clients: u32,
    accounts: u64,
    count: u64,
}

impl Workload for Transfers {
    fn next_arrival(&mut self) -> Option<Arrival> {
        if self.next >= self.until {
            return None;
        }
        self.state = sim_core::digest::splitmix64(self.state);
        let s = self.state;
        let a = Arrival {
            at: Time(self.next),
            client_idx: (self.count % self.clients as u64) as u32,
            from: AccountId((s % self.accounts) as u32),
            to: AccountId(((s >> 16) % self.accounts) as u32),
            amount: 1 + (s >> 32) % 100,
            size_bytes: 100,
        };
        self.count += 1;
        self.next += self.gap_ns;
        Some(a)
    }
}

fn transfers(rate_tps: u64, secs: u64, clients: u32, accounts: u64) -> Box<Transfers> {
    let gap_ns = 1_000_000_000 / rate_tps;
    Box::new(Transfers { state: 7, gap_ns, next: 0, until: secs * 1_000_000_000, clients, accounts, count: 0 })
}

fn net(n: u32, clients: u32, delay_ms: u64) -> NetConfig {
    let place = NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
    NetConfig {
        nodes: vec![place; (n + clients) as usize],
        n_replicas: n,
        delay: DelayModel::Uniform(Span::from_millis(delay_ms)),
        jitter: Jitter::None,
        loss_ppb: 0,
        fifo: true,
        partitions: vec![],
        spikes: vec![],
    }
}

/// The example's random adversary: on proposals, votes, certificates and view changes, half
/// delayed by up to 200 ms, 2% dropped.
fn random_adversary() -> Adversary {
    let mask = HsMsg::CRITICAL_KINDS.iter().fold(0u64, |m, &k| m | sim_core::adversary::kind_bit(k));
    let attack = RandomAttack { targets_mask: mask, delay_ppb: 500_000_000, drop_ppb: 20_000_000 };
    Adversary { mode: Mode::Random(attack), delay_max: Span::from_millis(200) }
}

const GENESIS: u64 = 100;

/// `ledger-hotstuff.toml`: n = 4, replica 0 forks, two clients send to all, 200 tx/s on ten
/// accounts for 4 s (then 2 s of drain), genesis balance 100.
fn hotstuff(seed: u64, bug: Option<PlantedBug>) -> RunResult {
    let (n, clients, secs) = (4, 2, 4);
    let roster = [Behavior::Fork, Behavior::Correct, Behavior::Correct, Behavior::Correct];
    let cfg = SimConfig {
        seed,
        n_replicas: n,
        f: 1,
        net: net(n, clients, 10),
        send_to: SendPolicy::All,
        faults: vec![],
        end: Time::from_secs_f64((secs + 2) as f64),
        limits: sim_core::Limits::DEFAULT,
        correct: roster.iter().map(|b| *b == Behavior::Correct).collect(),
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: None,
        clients: sim_core::ClientModel::OPEN,
        adversary: random_adversary(),
    };
    let hs = HotStuffConfig {
        batch_size: 800,
        view_timeout: Span::from_millis(500),
        backoff_permille: 1000,
        max_timeout: Span::from_millis(60_000),
        list_certificates: false,
        commit_rule: CommitRule::ThreeChain,
        leader: Default::default(),
        leader_order: Vec::new(),
        mempool: None,
        twins: None,
        bug,
    };
    let make = |id: sim_core::NodeId| {
        HotStuff::with_behavior(hs.clone(), roster[id.idx()], &roster).with_genesis_balance(GENESIS)
    };
    Simulation::new(cfg, transfers(200, secs, clients, 10), make).with_monitor(Box::new(HotStuffMonitor::new())).run()
}

/// Confirmed transactions per result code (applied, bad nonce, insufficient funds).
fn results(r: &RunResult) -> [usize; 3] {
    let mut by_code = [0; 3];
    for t in r.txs.iter().filter(|t| t.is_confirmed()) {
        by_code[t.result as usize] += 1;
    }
    by_code
}

/// Clients confirm the ledger's result: an overdraft is answered "insufficient funds" by f+1
/// replicas (before issue 11 every HotStuff reply said "applied").
#[test]
fn hotstuff_replies_carry_the_ledger_result() {
    let r = hotstuff(1, None);
    assert_eq!(r.stop, Stop::End);
    let [applied, bad_nonce, poor] = results(&r);
    assert!(applied > 200 && poor > 100, "applied {applied}, insufficient funds {poor}");
    assert_eq!(bad_nonce, 0, "a transfer ahead of its nonce waits for the gap, it is not refused");
    let unconfirmed = r.txs.iter().filter(|t| !t.is_confirmed()).count();
    assert_eq!(unconfirmed, 0);
}

/// The planted bug: replicas with an odd id execute each block in reverse. The logs agree (the
/// log checker is silent); the ledger results do not.
#[test]
fn a_replica_executing_another_order_is_caught() {
    let Stop::Violation(v) = hotstuff(1, Some(PlantedBug::ReversedBlocks)).stop else {
        panic!("seed 1 no longer catches the reversed blocks")
    };
    assert_eq!(v.invariant, "same result per transaction", "{v:?}");
    assert_eq!(PlantedBug::ReversedBlocks.name(), "reversed_blocks");
}

/// A small Algorand, every user on the run's shared ledger or each on its own.
fn algorand(shared: bool) -> RunResult {
    let (users, clients, secs) = (40, 4, 12);
    let acfg = AlgorandConfig {
        priority_wait: Span::from_millis(500),
        block_wait: Span::from_millis(500),
        step_timeout: Span::from_millis(1000),
        topology: Topology::Relays { relays: 6, relay_degree: 3 },
        ..AlgorandConfig::mainnet()
    };
    let cfg = SimConfig {
        seed: 3,
        n_replicas: users,
        f: 0,
        net: net(users, clients, 20),
        send_to: SendPolicy::Nearest,
        faults: vec![],
        end: Time::from_secs_f64((secs + 8) as f64),
        limits: sim_core::Limits { max_events: 100_000_000, max_queue: 10_000_000, ..sim_core::Limits::DEFAULT },
        correct: vec![true; users as usize],
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: None,
        clients: sim_core::ClientModel::OPEN,
        adversary: Adversary::OFF,
    };
    let world = Rc::new(World::new(&acfg, users, &mut Streams::new(3).stream("algorand")));
    let acfg = Rc::new(acfg);
    let memo = SharedLedger::new(GENESIS);
    let make = |_: sim_core::NodeId| {
        let ledger = if shared { LogLedger::shared(&memo) } else { LogLedger::own(GENESIS) };
        Algorand::new(world.clone(), acfg.clone(), AgBehavior::Correct).with_ledger(ledger)
    };
    Simulation::new(cfg, transfers(100, secs, clients, 10), make).with_monitor(Box::new(ResultMonitor::default())).run()
}

/// Algorand users execute what they commit and answer with the result; the run's shared
/// ledger gives exactly what a ledger per user gives.
#[test]
fn algorand_executes_and_the_shared_ledger_changes_nothing() {
    let (shared, own) = (algorand(true), algorand(false));
    assert_eq!(shared.stop, Stop::End);
    let [applied, bad_nonce, poor] = results(&shared);
    assert!(applied > 200 && poor > 100, "applied {applied}, insufficient funds {poor}");
    assert_eq!(bad_nonce, 0);
    assert_eq!((shared.digest, results(&shared)), (own.digest, results(&own)));
    let settled = |r: &RunResult| r.counters.iter().find(|c| c.0 == "txs_settled").map(|c| c.1);
    assert_eq!(settled(&shared), Some(shared.txs.iter().filter(|t| t.is_committed()).count() as u64));
}
