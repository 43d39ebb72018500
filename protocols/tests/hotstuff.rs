//! Chained HotStuff on the engine, without scenario files: closed-form throughput and
//! latency, a crashed replica, a partition, loss, and determinism.

mod common;
mod kinds;

use common::Steady;
use protocols::hotstuff::{Behavior, CommitRule, HotStuff, HotStuffConfig};
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement, PartitionSpec};
use sim_core::{FaultAction, FaultAt, NodeId, RunResult, SendPolicy, SimConfig, Simulation, Span, Stop, Time};

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
    /// Per replica; empty means all correct.
    behaviors: Vec<Behavior>,
    rule: CommitRule,
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
            behaviors: vec![],
            rule: CommitRule::ThreeChain,
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
            spikes: vec![],
        },
        send_to: SendPolicy::All,
        faults: case.faults,
        end: Time::from_secs_f64(case.secs as f64),
        limits: sim_core::Limits { max_events: 100_000_000, max_queue: 10_000_000, ..sim_core::Limits::DEFAULT },
        correct: (0..case.n as usize).map(|i| case.behaviors.get(i).is_none_or(|b| *b == Behavior::Correct)).collect(),
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: None,
        clients: sim_core::ClientModel::OPEN,
        adversary: sim_core::Adversary::OFF,
    };
    let until = case.secs * 1_000_000_000;
    let workload = Steady { gap_ns: 1_000_000_000 / case.rate_tps, next: 0, until, clients, count: 0 };
    let hs = HotStuffConfig {
        batch_size: case.batch,
        view_timeout: Span::from_millis(200),
        backoff_permille: 1000,
        max_timeout: Span::from_millis(10_000),
        list_certificates: false,
        commit_rule: case.rule,
        leader: Default::default(),
        leader_order: Vec::new(),
        mempool: None,
        twins: None,
        bug: None,
    };
    let mut roster = case.behaviors.clone();
    roster.resize(case.n as usize, Behavior::Correct);
    Simulation::new(cfg, Box::new(workload), |id| HotStuff::with_behavior(hs.clone(), roster[id.idx()], &roster)).run()
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
    let p = PartitionSpec::new(Time::from_secs_f64(2.0), Time::from_secs_f64(12.0), 4, &[vec![0, 1], vec![2, 3]]);
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

fn with_byzantine(behavior: Behavior, ids: &[usize], n: u32, seed: u64) -> Case {
    let mut behaviors = vec![Behavior::Correct; n as usize];
    for &i in ids {
        behaviors[i] = behavior;
    }
    Case {
        n,
        behaviors,
        seed,
        secs: 3,
        rate_tps: 500,
        jitter: Jitter::Uniform { max_ns: 3_000_000 },
        ..Case::default()
    }
}

const BEHAVIORS: [Behavior; 5] =
    [Behavior::Silent, Behavior::Fork, Behavior::Equivocate, Behavior::WithholdVotes, Behavior::SlowLeader];

fn committed(r: &RunResult) -> usize {
    r.txs.iter().filter(|t| t.is_committed()).count()
}

/// f Byzantine replicas of each behaviour, placed by the seed: the checker sees no violation
/// on any of 50 seeds (25 per commit rule), and the correct replicas keep committing.
#[test]
fn f_byzantine_replicas_never_break_safety() {
    for behavior in BEHAVIORS {
        for seed in 1..=50 {
            let rule = if seed % 2 == 0 { CommitRule::TwoChain } else { CommitRule::ThreeChain };
            let r = run(Case { rule, ..with_byzantine(behavior, &[seed as usize % 4], 4, seed) });
            assert_eq!(r.stop, Stop::End, "{behavior:?}, seed {seed}");
            assert!(committed(&r) > 1_000, "{behavior:?}, seed {seed}: only {} of 1500 committed", committed(&r));
        }
        for seed in 1..=10 {
            let ids = [seed as usize % 7, (seed as usize + 3) % 7];
            let r = run(with_byzantine(behavior, &ids, 7, seed));
            assert_eq!(r.stop, Stop::End, "{behavior:?}, n = 7, seed {seed}");
            assert!(committed(&r) > 1_000, "{behavior:?}, n = 7, seed {seed}: {} committed", committed(&r));
        }
    }
}

/// The network splits the correct replicas in two halves that only the equivocators bridge
/// (the adversary also controls the schedule), for the whole run.
fn bridged(mut case: Case, equivocators: &[u32]) -> Case {
    let others: Vec<u32> = (0..case.n).filter(|i| !equivocators.contains(i)).collect();
    let (a, b) = others.split_at(others.len().div_ceil(2));
    let side = |half: &[u32]| half.iter().chain(equivocators).copied().collect::<Vec<u32>>();
    case.partitions = vec![PartitionSpec::new(Time::ZERO, Time::MAX, case.n, &[side(a), side(b)])];
    case
}

#[test]
fn f_equivocators_cannot_break_safety_even_with_the_network() {
    for seed in 1..=20 {
        let r = run(bridged(with_byzantine(Behavior::Equivocate, &[3], 4, seed), &[3]));
        assert_eq!(r.stop, Stop::End, "seed {seed}");
        let two = Case { rule: CommitRule::TwoChain, ..with_byzantine(Behavior::Equivocate, &[3], 4, seed) };
        assert_eq!(run(bridged(two, &[3])).stop, Stop::End, "two-chain, seed {seed}");
        let r = run(bridged(with_byzantine(Behavior::Equivocate, &[5, 6], 7, seed), &[5, 6]));
        assert_eq!(r.stop, Stop::End, "n = 7, seed {seed}");
    }
}

/// Beyond the bound the checker must catch the attack: proof that it can fail.
#[test]
fn f_plus_one_equivocators_are_caught() {
    let cases = [(4, vec![2u32, 3], CommitRule::ThreeChain), (7, vec![4, 5, 6], CommitRule::ThreeChain)];
    for (n, ids, rule) in cases.into_iter().chain([(4, vec![2u32, 3], CommitRule::TwoChain)]) {
        let idx: Vec<usize> = ids.iter().map(|&i| i as usize).collect();
        let attack = |seed| bridged(Case { rule, ..with_byzantine(Behavior::Equivocate, &idx, n, seed) }, &ids);
        let caught = (1..=3).find_map(|seed| match run(attack(seed)).stop {
            Stop::Violation(v) => Some(v),
            _ => None,
        });
        let v = caught.unwrap_or_else(|| panic!("n = {n}, {rule:?}: no violation in 3 seeds"));
        assert_eq!(v.invariant, "agreement");
        assert!(!ids.contains(&v.replica.0), "a correct replica is the one reported");
    }
}

/// The two-chain rule commits one view earlier: about 2d less latency below saturation.
#[test]
fn two_chain_saves_a_view() {
    let latency = |rule| {
        let r = run(Case { rule, rate_tps: 500, secs: 3, ..Case::default() });
        let window = sim_core::metrics::Window { start: Time::from_secs_f64(0.5), end: Time::from_secs_f64(3.0) };
        sim_core::metrics::Summary::compute(&r.txs, window).consensus.p50_ms
    };
    let (three, two) = (latency(CommitRule::ThreeChain), latency(CommitRule::TwoChain));
    assert!((three - two - 20.0).abs() <= 4.0, "three-chain {three} ms, two-chain {two} ms: expected 2d = 20 ms apart");
}

/// A calm run (n = 4, d = 10 ms, one view per 2d) counted per message kind. Each proposal
/// goes to the n-1 = 3 others. Each replica that gets one sends the next leader a vote and a
/// NEWVIEW: 3 of each on the wire per proposal (the leader's own included, the next leader's
/// off the wire). The 251st proposal leaves at the end, 5 s: only its leader's vote has left.
#[test]
fn calm_run_message_counts_per_kind() {
    let r = run(Case::default());
    kinds::assert_kinds_add_up(&r);
    let totals = kinds::totals(&r);
    let (sent, recv) = (|name| kinds::of(&totals, name).msgs_sent, |name| kinds::of(&totals, name).msgs_recv);
    let proposals: u64 = (0..4).map(|i| counter(&r, i, "blocks_proposed")).sum();
    assert_eq!(proposals, 251);
    assert_eq!((sent("proposal"), recv("proposal")), (3 * proposals, 3 * (proposals - 1)));
    assert_eq!((sent("vote"), sent("new-view")), (3 * (proposals - 1) + 1, 3 * (proposals - 1) + 1));
    for name in ["pre-commit-vote", "commit-vote", "pre-commit", "commit", "decide"] {
        assert_eq!(sent(name), 0, "chained HotStuff has no {name}");
    }
    for name in ["complaint", "next-view", "block-request", "block-response", "coalition"] {
        assert_eq!(sent(name), 0, "{name} in a calm run");
    }
    assert_eq!(sent("request"), 4 * 5_000, "1,000 tx/s for 5 s, sent to all 4 replicas");

    // A crashed leader's views time out: complaints and view-change proofs appear.
    let crash = FaultAt { at: Time::from_secs_f64(1.0), replica: NodeId(3), action: FaultAction::Crash };
    let r = run(Case { faults: vec![crash], ..Case::default() });
    kinds::assert_kinds_add_up(&r);
    let totals = kinds::totals(&r);
    assert!(kinds::of(&totals, "complaint").msgs_sent > 0 && kinds::of(&totals, "next-view").msgs_sent > 0);
}

fn counter(r: &RunResult, replica: usize, name: &str) -> u64 {
    r.nodes[replica].counters.iter().find(|c| c.0 == name).map_or(0, |c| c.1)
}

/// The references' latencies of each transaction submitted in [0.5 s, 2.5 s), in ms:
/// (proposal to first commit, arrival at the proposer to its commit, end-to-end, consensus).
fn reference_latencies_ms(r: &RunResult) -> Vec<(f64, f64, f64, f64)> {
    let ms = |a: Time, b: Time| (b - a).as_nanos() as f64 / 1e6;
    let window = |t: &&sim_core::observe::TxRecord| {
        t.submitted >= Time::from_secs_f64(0.5) && t.submitted < Time::from_secs_f64(2.5)
    };
    let txs: Vec<_> = r.txs.iter().filter(window).collect();
    assert!(txs.len() > 1500 && txs.iter().all(|t| t.is_confirmed()), "every transaction of the window confirmed");
    txs.iter()
        .map(|t| {
            let proposer = ms(t.proposer_arrived, t.proposer_committed);
            (ms(t.proposed, t.committed), proposer, ms(t.submitted, t.confirmed), ms(t.arrived, t.committed))
        })
        .collect()
}

// Closed form of the references' latencies. n = 4, d = 10 ms everywhere, send to all, free
// CPU, 1,000 tx/s against blocks of 400 (never full). A block proposed at t (the leader of view
// v+1 forms its QC and proposes at t + 2d) heads a three-chain when the block of view v+3 is
// proposed, at t + 6d: that leader commits it at once (first commit: proposal to commit = 6d
// exactly), the others, its proposer among them, at t + 7d. A transaction reaches every
// replica at once and waits for the next proposal, at most 2d: at its proposer, 7d to 9d. Its
// client holds f+1 matching replies at t + 8d, d after the proposer's commit: so both
// references' latencies stay below end-to-end (and proposal to commit below ours, which starts
// at the arrival). Two-chain commits a view (2d) earlier.
#[test]
fn reference_latencies_closed_form() {
    for (rule, commit_ms) in [(CommitRule::ThreeChain, 60.0), (CommitRule::TwoChain, 40.0)] {
        let r = run(Case { rule, secs: 3, ..Case::default() });
        for (proposal, proposer, e2e, consensus) in reference_latencies_ms(&r) {
            assert_eq!(proposal, commit_ms, "{rule:?}: proposal to first commit");
            let at_proposer = commit_ms + 10.0..=commit_ms + 30.0;
            assert!(at_proposer.contains(&proposer), "{rule:?}: {proposer} ms at the proposer, not in {at_proposer:?}");
            assert!(
                proposal <= e2e && proposer <= e2e,
                "{rule:?}: {proposal}, {proposer} ms above end-to-end {e2e} ms"
            );
            assert!(proposal <= consensus, "{rule:?}: proposal to commit {proposal} ms above consensus {consensus} ms");
        }
    }
}
