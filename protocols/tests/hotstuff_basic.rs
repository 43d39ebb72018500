//! Basic (four-phase) HotStuff on the engine, without scenario files: the closed form, a
//! crashed replica, a partition, loss, determinism, and the Byzantine behaviours.

mod common;
mod kinds;

use common::Steady;
use protocols::hotstuff::{Behavior, CommitRule, HotStuff, HotStuffConfig};
use sim_core::metrics::{Summary, Window};
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement, PartitionSpec};
use sim_core::{FaultAction, FaultAt, NodeId, RunResult, SendPolicy, SimConfig, Simulation, Span, Stop, Time};

struct Case {
    n: u32,
    delay_ms: u64,
    rate_tps: u64,
    secs: f64,
    /// Clients stop submitting at this time (the run goes on to `secs`); 0 = at `secs`.
    load_secs: f64,
    batch: usize,
    faults: Vec<FaultAt>,
    partitions: Vec<PartitionSpec>,
    loss_ppb: u32,
    jitter: Jitter,
    seed: u64,
    /// Per replica; empty means all correct.
    behaviors: Vec<Behavior>,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            n: 4,
            delay_ms: 10,
            rate_tps: 1000,
            secs: 5.0,
            load_secs: 0.0,
            batch: 400,
            faults: vec![],
            partitions: vec![],
            loss_ppb: 0,
            jitter: Jitter::None,
            seed: 1,
            behaviors: vec![],
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
        end: Time::from_secs_f64(case.secs),
        limits: sim_core::Limits { max_events: 100_000_000, max_queue: 10_000_000, ..sim_core::Limits::DEFAULT },
        correct: (0..case.n as usize).map(|i| case.behaviors.get(i).is_none_or(|b| *b == Behavior::Correct)).collect(),
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: None,
        clients: sim_core::ClientModel::OPEN,
        adversary: sim_core::Adversary::OFF,
    };
    let load_secs = if case.load_secs > 0.0 { case.load_secs } else { case.secs };
    let until = Time::from_secs_f64(load_secs).0;
    let workload = Steady { gap_ns: 1_000_000_000 / case.rate_tps, next: 0, until, clients, count: 0 };
    let hs = HotStuffConfig {
        batch_size: case.batch,
        view_timeout: Span::from_millis(200),
        backoff_permille: 1000,
        max_timeout: Span::from_millis(10_000),
        list_certificates: false,
        commit_rule: CommitRule::Basic,
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

fn committed(r: &RunResult) -> usize {
    r.txs.iter().filter(|t| t.is_committed()).count()
}

fn counter(r: &RunResult, replica: usize, name: &str) -> u64 {
    r.nodes[replica].counters.iter().find(|c| c.0 == name).map_or(0, |c| c.1)
}

fn summary(r: &RunResult, from_s: f64, to_s: f64) -> Summary {
    Summary::compute(&r.txs, Window { start: Time::from_secs_f64(from_s), end: Time::from_secs_f64(to_s) })
}

// Closed form. n = 4, one-way delay d everywhere (clients too), no jitter, no CPU or bandwidth
// limit. The leader of view k proposes at t; the others get it at t+d and vote to it (t+2d);
// its prepare QC reaches them at t+3d (PRE-COMMIT), their votes it at t+4d, the pre-commit QC
// them at t+5d (COMMIT), their votes it at t+6d: it forms the commit QC, commits at once (its
// own DECIDE costs no delay) and the others commit at t+7d. Every replica then enters view
// k+1 and sends NEWVIEW to its leader: the leader of view k at t+6d (it arrives at t+7d), the
// next leader itself at t+7d, the other two at t+7d (they arrive at t+8d). The n-f = 3rd
// NEWVIEW comes at t+8d: one block every 8d, no pipelining. View 1 starts at 0 and its leader
// hears n-f NEWVIEWs at d, so view k proposes at 8dk - 7d and first commits at 8dk - d.

/// Saturated, B = 400: throughput B / (8d), exactly 400 transactions per decided view.
#[test]
fn closed_form_one_full_block_every_eight_delays() {
    // d = 10 ms: decisions at 80k - 10 ms fall in [1 s, 4 s) for k = 13..=50: 38 views.
    let r = run(Case { delay_ms: 10, rate_tps: 10_000, secs: 4.0, ..Case::default() });
    assert_eq!(r.stop, Stop::End);
    assert_eq!(commits_between(&r, 1.0, 4.0), 38 * 400, "B / 8d = 5,000 tx/s over 3 s, in whole blocks");
    // View 50 commits everywhere at 8d * 50 = 4 s, the end of the run: 50 blocks, view 51.
    assert_eq!((counter(&r, 0, "blocks_committed"), counter(&r, 0, "view")), (50, 51));
    assert_eq!(counter(&r, 0, "timeouts"), 0);
    // Three certificates per view; replica 0 leads views 4, 8, ..., 48: 12 of them.
    assert_eq!(counter(&r, 0, "qcs_formed"), 3 * 12);

    // d = 1 ms: decisions at 8k - 1 ms in [0.5 s, 2 s) for k = 63..=250: 188 views, 50,133 tx/s.
    let r = run(Case { delay_ms: 1, rate_tps: 100_000, secs: 2.0, ..Case::default() });
    assert_eq!(commits_between(&r, 0.5, 2.0), 188 * 400, "B / 8d = 50,000 tx/s over 1.5 s");
}

/// Below saturation a transaction waits for the next proposal (uniform in [0, 8d)) and then
/// 6d for the leader's commit: consensus latency from 6d to 14d, 10d at the median. A client
/// holds f+1 = 2 replies when the leader's (sent at t+6d) and the first other's (sent at
/// t+7d) have come, d later, and its request took d to arrive: end-to-end 13d at the median.
#[test]
fn latency_is_ten_delays_below_saturation() {
    let r = run(Case { delay_ms: 10, rate_tps: 500, secs: 4.0, ..Case::default() });
    let s = summary(&r, 1.0, 3.5);
    let (p50, mean, max, e2e) = (s.consensus.p50_ms, s.consensus.mean_ms, s.consensus.max_ms, s.e2e.p50_ms);
    assert!((p50 - 100.0).abs() <= 1.0, "consensus p50 {p50} ms, expected 10d = 100 ms");
    assert!((mean - 100.0).abs() <= 1.0, "consensus mean {mean} ms, expected 10d = 100 ms");
    assert!(max <= 140.0, "consensus max {max} ms above 14d");
    assert!((e2e - 130.0).abs() <= 1.0, "end-to-end p50 {e2e} ms, expected 13d = 130 ms");
}

#[test]
fn is_deterministic() {
    let a = run(Case::default());
    assert_eq!(a.stop, Stop::End);
    assert_eq!(a.digest, run(Case::default()).digest);
    let c = run(Case { seed: 2, jitter: Jitter::Uniform { max_ns: 1_000_000 }, ..Case::default() });
    let d = run(Case { seed: 3, jitter: Jitter::Uniform { max_ns: 1_000_000 }, ..Case::default() });
    assert_ne!(c.digest, d.digest);
}

/// Replica 3 crashes: every fourth view (its own) times out after 200 ms and n-f complaints
/// move the others on; the other three views still take 8d each.
#[test]
fn a_crashed_replica_does_not_stop_commits() {
    let crash = FaultAt { at: Time::from_secs_f64(1.0), replica: NodeId(3), action: FaultAction::Crash };
    let r = run(Case { faults: vec![crash], secs: 10.0, ..Case::default() });
    assert_eq!(r.stop, Stop::End);
    let late = commits_between(&r, 5.0, 10.0);
    assert!(late >= 4_900, "commits in [5 s, 10 s) at 1000 tx/s: {late}");
    let view_changes = counter(&r, 0, "view_changes");
    assert!(view_changes > 5, "view changes {view_changes}");
}

#[test]
fn a_partition_stops_commits_until_it_heals() {
    let p = PartitionSpec::new(Time::from_secs_f64(2.0), Time::from_secs_f64(12.0), 4, &[vec![0, 1], vec![2, 3]]);
    let r = run(Case { partitions: vec![p], secs: 20.0, load_secs: 17.0, ..Case::default() });
    assert_eq!(r.stop, Stop::End);
    assert_eq!(commits_between(&r, 2.5, 12.0), 0);
    // The 10 s of backlog and the load after the heal all commit (capacity is 5,000 tx/s).
    assert_eq!(committed(&r), r.txs.len(), "every transaction commits after the heal");
}

#[test]
fn survives_loss() {
    let r = run(Case { loss_ppb: 20_000_000, secs: 10.0, ..Case::default() });
    assert_eq!(r.stop, Stop::End);
    let late = commits_between(&r, 5.0, 10.0);
    assert!(late > 3_000, "commits in [5 s, 10 s) with 2% loss: {late}");
}

/// `behavior` at `ids`; 500 tx/s for 2 s, then 2 s more for the last ones to commit.
fn with_byzantine(behavior: Behavior, ids: &[usize], n: u32, seed: u64) -> Case {
    let mut behaviors = vec![Behavior::Correct; n as usize];
    for &i in ids {
        behaviors[i] = behavior;
    }
    Case {
        n,
        behaviors,
        seed,
        secs: 4.0,
        load_secs: 2.0,
        rate_tps: 500,
        jitter: Jitter::Uniform { max_ns: 3_000_000 },
        ..Case::default()
    }
}

const BEHAVIORS: [Behavior; 5] =
    [Behavior::Silent, Behavior::Fork, Behavior::Equivocate, Behavior::WithholdVotes, Behavior::SlowLeader];

/// f Byzantine replicas of each behaviour, placed by the seed: no violation on any of 50 seeds
/// at n = 4 (and 10 at n = 7), and every transaction commits.
#[test]
fn f_byzantine_replicas_never_break_safety() {
    for behavior in BEHAVIORS {
        for seed in 1..=50 {
            let r = run(with_byzantine(behavior, &[seed as usize % 4], 4, seed));
            assert_eq!(r.stop, Stop::End, "{behavior:?}, seed {seed}");
            assert_eq!(committed(&r), r.txs.len(), "{behavior:?}, seed {seed}: not everything committed");
        }
        for seed in 1..=10 {
            let ids = [seed as usize % 7, (seed as usize + 3) % 7];
            let r = run(with_byzantine(behavior, &ids, 7, seed));
            assert_eq!(r.stop, Stop::End, "{behavior:?}, n = 7, seed {seed}");
            assert_eq!(committed(&r), r.txs.len(), "{behavior:?}, n = 7, seed {seed}: not everything committed");
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
        let r = run(bridged(with_byzantine(Behavior::Equivocate, &[5, 6], 7, seed), &[5, 6]));
        assert_eq!(r.stop, Stop::End, "n = 7, seed {seed}");
    }
}

/// Beyond the bound the checker must catch the attack: proof that it can fail.
#[test]
fn f_plus_one_equivocators_are_caught() {
    for (n, ids) in [(4, vec![2u32, 3]), (7, vec![4, 5, 6])] {
        let idx: Vec<usize> = ids.iter().map(|&i| i as usize).collect();
        let attack = |seed| bridged(with_byzantine(Behavior::Equivocate, &idx, n, seed), &ids);
        let caught = (1..=3).find_map(|seed| match run(attack(seed)).stop {
            Stop::Violation(v) => Some(v),
            _ => None,
        });
        let v = caught.unwrap_or_else(|| panic!("n = {n}: no violation in 3 seeds"));
        assert_eq!(v.invariant, "agreement");
        assert!(!ids.contains(&v.replica.0), "a correct replica is the one reported");
    }
}

/// The closed form above, counted per message kind: in each of the 50 views the leader sends
/// its proposal, PRE-COMMIT, COMMIT and DECIDE to the n-1 = 3 others, and the 3 others each
/// send it a vote of each phase (the leader's own copies and votes stay off the wire). Every
/// replica sends NEWVIEW to the next leader, 3 on the wire per view change, views 1 to 51
/// (the last ones leave at 4 s, the end).
#[test]
fn closed_form_message_counts_per_kind() {
    let r = run(Case { delay_ms: 10, rate_tps: 10_000, secs: 4.0, ..Case::default() });
    kinds::assert_kinds_add_up(&r);
    let totals = kinds::totals(&r);
    let sent = |name| kinds::of(&totals, name).msgs_sent;
    for name in ["proposal", "vote", "pre-commit", "pre-commit-vote", "commit", "commit-vote", "decide"] {
        assert_eq!(sent(name), 50 * 3, "{name}");
    }
    assert_eq!(sent("new-view"), 51 * 3);
    for name in ["complaint", "next-view", "block-request", "block-response", "coalition"] {
        assert_eq!(sent(name), 0, "{name} in a calm run");
    }
}

// The references' latencies, basic. From the closed form above: the leader that proposed a
// block at t forms its commit QC and commits at t + 6d, the first commit anywhere: proposal to
// commit 6d exactly, and at the proposer the wait for the next proposal (under 8d, blocks never
// full at 1,000 tx/s) plus 6d. Its client's second matching reply comes at t + 8d.
#[test]
fn reference_latencies_closed_form() {
    let r = run(Case { secs: 3.0, ..Case::default() });
    let ms = |a: Time, b: Time| (b - a).as_nanos() as f64 / 1e6;
    let window = |t: &&sim_core::observe::TxRecord| {
        t.submitted >= Time::from_secs_f64(0.5) && t.submitted < Time::from_secs_f64(2.5)
    };
    let txs: Vec<_> = r.txs.iter().filter(window).collect();
    assert!(txs.len() > 1500 && txs.iter().all(|t| t.is_confirmed()), "every transaction of the window confirmed");
    for t in txs {
        let (proposal, proposer) = (ms(t.proposed, t.committed), ms(t.proposer_arrived, t.proposer_committed));
        assert_eq!(proposal, 60.0, "proposal to first commit is 6d");
        assert!((60.0..=140.0).contains(&proposer), "{proposer} ms at the proposer: 6d plus under 8d of waiting");
        assert!(proposer <= ms(t.submitted, t.confirmed), "latency at the proposer above end-to-end");
    }
    let s = summary(&r, 0.5, 2.5);
    assert_eq!((s.proposal_commit.p50_ms, s.proposal_commit.p99_ms), (60.0, 60.0));
}
