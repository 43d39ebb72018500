//! Leaderless BFT on the engine, without scenario files: the fast and slow paths' closed-form
//! latencies, every Byzantine behaviour on contended workloads with all invariants checked, and
//! planted bugs the monitor must catch.

mod kinds;

use protocols::leaderless::{Behavior, Leaderless, LeaderlessConfig, LeaderlessMonitor, PlantedBug, Variant};
use protocols::ledger::ConflictRelation;
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement, PartitionSpec};
use sim_core::workload::{Arrival, ListWorkload};
use sim_core::{
    AccountId, LivenessCheck, RunResult, SendPolicy, SimConfig, SimRng, Simulation, Span, Stop, Streams, Time,
};

struct Case {
    n: u32,
    f: u32,
    variant: Variant,
    delay_ms: u64,
    jitter: Jitter,
    send_to: SendPolicy,
    arrivals: Vec<Arrival>,
    behaviors: Vec<Behavior>,
    bug: Option<PlantedBug>,
    conflicts: ConflictRelation,
    seed: u64,
    secs: u64,
    partitions: Vec<PartitionSpec>,
    /// Regions instead of one uniform delay: 0 = none; 2 = two regions 40 ms apart (replicas
    /// and clients alternate); 3 = three regions 10, 40 and 80 ms apart.
    regions: u16,
    fifo: bool,
    /// The view and recovery timeouts, if not the defaults.
    timeouts_ms: Option<(u64, u64)>,
    /// The engine's liveness bound (from time 0), if checked.
    liveness_bound_ms: Option<u64>,
}

impl Case {
    fn new(variant: Variant, arrivals: Vec<Arrival>) -> Case {
        let (n, f) = match variant {
            Variant::Wintermute => (6, 1),
            Variant::Epaxos => (4, 1),
        };
        Case {
            n,
            f,
            variant,
            delay_ms: 10,
            jitter: Jitter::None,
            send_to: SendPolicy::Nearest,
            arrivals,
            behaviors: vec![],
            bug: None,
            conflicts: ConflictRelation::SharedAccount,
            seed: 1,
            secs: 10,
            partitions: vec![],
            regions: 0,
            fifo: true,
            timeouts_ms: None,
            liveness_bound_ms: None,
        }
    }
}

const CLIENTS: u32 = 8;

fn run(case: Case) -> RunResult {
    let regions = case.regions;
    let place = |i: u32| NodePlacement { region: (i % regions.max(1) as u32) as u16, uplink_bps: 0, downlink_bps: 0 };
    let ms = Span::from_millis;
    let delay = match regions {
        0 => DelayModel::Uniform(Span::from_millis(case.delay_ms)),
        2 => DelayModel::Matrix { n_regions: 2, one_way: vec![ms(1), ms(40), ms(40), ms(1)] },
        3 => {
            let one_way = vec![ms(1), ms(10), ms(40), ms(10), ms(1), ms(80), ms(40), ms(80), ms(1)];
            DelayModel::Matrix { n_regions: 3, one_way }
        }
        other => panic!("no layout for {other} regions"),
    };
    let mut roster = case.behaviors.clone();
    roster.resize(case.n as usize, Behavior::Correct);
    let cfg = SimConfig {
        seed: case.seed,
        n_replicas: case.n,
        f: case.f,
        net: NetConfig {
            nodes: (0..case.n + CLIENTS).map(place).collect(),
            n_replicas: case.n,
            delay,
            jitter: case.jitter,
            loss_ppb: 0,
            fifo: case.fifo,
            partitions: case.partitions,
            spikes: vec![],
        },
        send_to: case.send_to,
        faults: vec![],
        end: Time::from_secs_f64(case.secs as f64),
        limits: sim_core::Limits { max_events: 50_000_000, max_queue: 10_000_000, ..sim_core::Limits::DEFAULT },
        correct: roster.iter().map(|b| *b == Behavior::Correct).collect(),
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: case.liveness_bound_ms.map(|ms| LivenessCheck { from: Time::ZERO, bound: Span::from_millis(ms) }),
        client_retry: Some(Span::from_millis(500)),
        clients: sim_core::ClientModel::OPEN,
        adversary: sim_core::Adversary::OFF,
    };
    let mut ll = LeaderlessConfig::new(case.variant);
    ll.bug = case.bug;
    ll.conflicts = case.conflicts;
    if let Some((view_ms, recovery_ms)) = case.timeouts_ms {
        ll.view_timeout = Span::from_millis(view_ms);
        ll.recovery_timeout = Span::from_millis(recovery_ms);
    }
    let monitor = LeaderlessMonitor::new(case.n, case.conflicts);
    let (n, f) = (case.n, case.f);
    Simulation::new(cfg, Box::new(ListWorkload::new(case.arrivals)), |id| {
        Leaderless::new(ll.clone(), n, f, roster[id.idx()])
    })
    .with_monitor(Box::new(monitor))
    .run()
}

fn transfer(at_ms: u64, client: u32, from: u32, to: u32) -> Arrival {
    Arrival {
        at: Time(at_ms * 1_000_000),
        client_idx: client,
        from: AccountId(from),
        to: AccountId(to),
        amount: 1,
        size_bytes: 100,
    }
}

/// `count` transfers among `accounts` accounts (a few hot ones make conflicts), from all
/// clients, one every `gap_ms`.
fn contended(seed: u64, count: u64, accounts: u32, gap_ms: u64) -> Vec<Arrival> {
    let mut rng: SimRng = Streams::new(seed).stream("test-workload");
    (0..count)
        .map(|i| {
            let from = rng.below(accounts as u64) as u32;
            let to = (from + 1 + rng.below(accounts as u64 - 1) as u32) % accounts;
            transfer(i * gap_ms, (i % CLIENTS as u64) as u32, from, to)
        })
        .collect()
}

fn counter(r: &RunResult, name: &str) -> u64 {
    r.counters.iter().find(|c| c.0 == name).unwrap_or_else(|| panic!("no counter {name}")).1
}

fn ns(ms: u64) -> u64 {
    ms * 1_000_000
}

#[test]
fn conflict_free_transfer_takes_the_fast_path_in_two_delays() {
    let r = run(Case::new(Variant::Wintermute, vec![transfer(0, 0, 1, 2)]));
    assert_eq!(r.stop, Stop::End);
    let t = r.txs[0];
    assert_eq!(t.arrived.0, ns(10), "client to coordinator: d");
    assert_eq!(t.executed.0 - t.arrived.0, ns(20), "fast path: announce + reply = 2d");
    assert_eq!(counter(&r, "fast_path"), 1);
    assert_eq!(counter(&r, "slow_path"), 0);
    assert!(t.is_confirmed(), "f+1 replies reach the client");
}

#[test]
fn one_silent_replica_forces_the_slow_path() {
    let mut case = Case::new(Variant::Wintermute, vec![transfer(0, 0, 1, 2)]);
    case.behaviors = vec![Behavior::Correct, Behavior::Correct, Behavior::Correct, Behavior::Correct, Behavior::Silent];
    let r = run(case);
    let t = r.txs[0];
    let wait = LeaderlessConfig::new(Variant::Wintermute).fast_path_wait.as_nanos();
    // 2d to a DDS quorum, the fast-path wait for the missing reply, then PBFT's 3d.
    assert_eq!(t.executed.0 - t.arrived.0, ns(50) + wait);
    assert_eq!((counter(&r, "fast_path"), counter(&r, "slow_path")), (0, 1));
}

#[test]
fn epaxos_variant_always_runs_consensus() {
    let r = run(Case::new(Variant::Epaxos, vec![transfer(0, 0, 1, 2)]));
    let t = r.txs[0];
    assert_eq!(t.executed.0 - t.arrived.0, ns(50), "2d of discovery, 3d of PBFT, no wait");
    assert_eq!((counter(&r, "fast_path"), counter(&r, "slow_path")), (0, 1));
}

fn assert_all_confirmed(r: &RunResult, what: &str) {
    assert_eq!(r.stop, Stop::End, "{what}");
    let missing = r.txs.iter().filter(|t| !t.is_confirmed()).count();
    assert_eq!(missing, 0, "{what}: {missing} of {} transactions never confirmed", r.txs.len());
}

#[test]
fn contended_workloads_keep_every_invariant_under_each_behavior() {
    use Behavior::*;
    let behaviors = [
        Correct,
        Silent,
        OmitDeps,
        InventDeps,
        IrrelevantDeps,
        Equivocate,
        SpoilDifferent,
        SpoilSilent,
        NeverCommit,
        ProposeWithoutProof,
        ForgeCommit,
        ClaimCoordinator,
    ];
    for variant in [Variant::Wintermute, Variant::Epaxos] {
        for &b in &behaviors {
            for seed in 1..=6 {
                let mut case = Case::new(variant, contended(seed, 120, 6, 5));
                case.seed = seed;
                case.jitter = Jitter::Uniform { max_ns: ns(8) };
                case.send_to = SendPolicy::Random;
                let byz = (seed % case.n as u64) as usize;
                case.behaviors = vec![Correct; case.n as usize];
                case.behaviors[byz] = b;
                let r = run(case);
                let what = format!("{variant:?} {b:?} seed {seed}");
                assert_all_confirmed(&r, &what);
                // Each behaviour must have bitten: stalled commands recovered, fast paths spoiled.
                if matches!(b, NeverCommit | ProposeWithoutProof | ForgeCommit) {
                    assert!(counter(&r, "recovered_commands") > 0, "{what}: {:?}", r.counters);
                }
                if variant == Variant::Wintermute && matches!(b, SpoilSilent | SpoilDifferent | Silent) {
                    assert_eq!(counter(&r, "fast_path"), 0, "{what}");
                }
            }
        }
    }
}

#[test]
fn credits_commute_relation_keeps_the_invariants_and_takes_more_fast_paths() {
    let mut fast = [0, 0];
    for (i, relation) in [ConflictRelation::SharedAccount, ConflictRelation::CreditsCommute].into_iter().enumerate() {
        for seed in 1..=4 {
            // Everyone pays a few merchants: credits to one account commute.
            let arrivals: Vec<Arrival> =
                (0..100).map(|k| transfer(k * 3, (k % 8) as u32, 10 + (k % 40) as u32, (k % 2) as u32)).collect();
            let mut case = Case::new(Variant::Wintermute, arrivals);
            case.conflicts = relation;
            case.seed = seed;
            case.jitter = Jitter::Uniform { max_ns: ns(8) };
            case.send_to = SendPolicy::Random;
            let r = run(case);
            assert_all_confirmed(&r, &format!("{relation:?} seed {seed}"));
            fast[i] += counter(&r, "fast_path");
        }
    }
    assert!(fast[1] > fast[0], "commuting credits take more fast paths: {fast:?}");
}

#[test]
fn same_seed_same_digest() {
    let case = || {
        let mut c = Case::new(Variant::Wintermute, contended(3, 100, 5, 4));
        c.jitter = Jitter::Uniform { max_ns: ns(8) };
        c.send_to = SendPolicy::Random;
        c
    };
    assert_eq!(run(case()).digest, run(case()).digest);
}

/// Runs seeds until the monitor reports a violation; returns the invariant and the seed.
fn first_violation(make: impl Fn(u64) -> Case, seeds: u64) -> Option<(&'static str, u64)> {
    (1..=seeds).find_map(|seed| match run(make(seed)).stop {
        Stop::Violation(v) => Some((v.invariant, seed)),
        _ => None,
    })
}

#[test]
fn plain_union_under_invented_dependencies_is_caught() {
    let make = |seed| {
        let mut c = Case::new(Variant::Wintermute, contended(seed, 60, 4, 5));
        c.seed = seed;
        c.bug = Some(PlantedBug::PlainUnion);
        c.jitter = Jitter::Uniform { max_ns: ns(8) };
        c.send_to = SendPolicy::Random;
        c.behaviors = vec![Behavior::Correct, Behavior::Correct, Behavior::InventDeps];
        c
    };
    let found = first_violation(make, 5);
    assert_eq!(found.map(|f| f.0), Some("validity"), "{found:?}");
}

#[test]
fn replies_without_executed_commands_are_caught() {
    let make = |seed| {
        // Slow enough that commands execute before the next conflicting one is announced.
        let mut c = Case::new(Variant::Wintermute, contended(seed, 30, 3, 100));
        c.seed = seed;
        c.bug = Some(PlantedBug::OmitExecuted);
        c.send_to = SendPolicy::Random;
        c
    };
    let found = first_violation(make, 5);
    assert_eq!(found.map(|f| f.0), Some("consistency"), "{found:?}");
}

#[test]
fn recovery_finds_the_fast_path_value_when_the_commit_is_lost() {
    // Conflicting commands first, so the recovered value is not trivially empty.
    let mut arrivals: Vec<Arrival> = (0..5).map(|k| transfer(k, 1, 1, 2)).collect();
    arrivals.push(transfer(200, 0, 1, 2));
    let mut case = Case::new(Variant::Wintermute, arrivals);
    // The coordinator (replica 0) gets every reply at 230 ms and commits on the fast path; its
    // commit messages leave into a partition that cuts it off until 3 s, so the others recover.
    let t = |ms: u64| Time(ns(ms));
    case.partitions = vec![PartitionSpec::new(t(225), t(3_000), 6, &[vec![0], vec![1, 2, 3, 4, 5]])];
    let r = run(case);
    assert_eq!(r.stop, Stop::End);
    assert!(counter(&r, "fast_path") >= 1);
    assert!(counter(&r, "recovered_commands") >= 1, "{:?}", r.counters);
    let last = r.txs[5];
    assert!(last.is_confirmed(), "recovered and executed");
}

#[test]
fn reconfiguration_is_a_barrier_that_moves_every_replica_to_the_next_epoch() {
    use protocols::ledger::RECONFIGURE;
    for variant in [Variant::Wintermute, Variant::Epaxos] {
        let mut arrivals = contended(4, 80, 6, 5);
        for at_ms in [102, 251] {
            let barrier = Arrival { from: RECONFIGURE, to: RECONFIGURE, amount: 0, ..transfer(at_ms, 3, 0, 0) };
            let i = arrivals.partition_point(|a| a.at.0 <= ns(at_ms));
            arrivals.insert(i, barrier);
        }
        let mut case = Case::new(variant, arrivals);
        case.jitter = Jitter::Uniform { max_ns: ns(8) };
        case.send_to = SendPolicy::Random;
        let r = run(case);
        assert_all_confirmed(&r, &format!("{variant:?}"));
        assert_eq!(counter(&r, "epoch"), 2, "{variant:?}");
        for node in r.nodes.iter().filter(|n| n.is_replica) {
            let epoch = node.counters.iter().find(|c| c.0 == "epoch").unwrap().1;
            assert_eq!(epoch, 2, "replica {} is in epoch {epoch}", node.id);
        }
    }
}

#[test]
fn contended_workloads_across_regions_keep_every_invariant() {
    use Behavior::*;
    let behaviors =
        [Correct, Equivocate, InventDeps, OmitDeps, SpoilSilent, NeverCommit, ForgeCommit, ClaimCoordinator];
    for variant in [Variant::Wintermute, Variant::Epaxos] {
        for &b in &behaviors {
            for seed in 1..=4 {
                // Clients near their replicas (nearest), hot accounts, three regions.
                let mut case = Case::new(variant, contended(seed + 100, 150, 5, 3));
                case.seed = seed;
                case.regions = 3;
                case.jitter = Jitter::Uniform { max_ns: ns(5) };
                case.behaviors = vec![Correct; case.n as usize];
                case.behaviors[(seed as usize * 2 + 1) % case.n as usize] = b;
                let r = run(case);
                assert_all_confirmed(&r, &format!("{variant:?} {b:?} seed {seed} (regions)"));
            }
        }
    }
}

#[test]
fn epaxos_beyond_3f_plus_1_keeps_consistency_across_regions() {
    // n = 6, f = 1: dependency quorums of 2f+1 = 3 could miss each other (two regions of
    // three); the quorum must be ceil((n+f+1)/2) = 4.
    for seed in 1..=6 {
        let mut case = Case::new(Variant::Epaxos, contended(seed + 200, 200, 8, 2));
        (case.n, case.f, case.seed, case.regions) = (6, 1, seed, 2);
        case.send_to = SendPolicy::Random;
        let r = run(case);
        assert_all_confirmed(&r, &format!("epaxos n = 6 seed {seed}"));
    }
}

/// One transfer, counted per message kind once everything landed (sent = received). Wintermute
/// (n = 6) takes the fast path: the coordinator's DDS request to the 5 others, their 5
/// answers, its decision to the 5; 6 replies. EPaxos (n = 4) runs PBFT after discovery: a
/// pre-prepare to the 3 others, then prepare and commit votes from each replica to the 3
/// others (12 each), and the decision.
#[test]
fn message_counts_per_kind() {
    let wintermute = [("request", 1), ("reply", 6), ("dds-request", 5), ("dds-answer", 5), ("decision", 5)];
    let epaxos = [
        ("request", 1),
        ("reply", 4),
        ("dds-request", 3),
        ("dds-answer", 3),
        ("pre-prepare", 3),
        ("prepare", 12),
        ("commit", 12),
        ("decision", 3),
    ];
    for (variant, expected) in [(Variant::Wintermute, &wintermute[..]), (Variant::Epaxos, &epaxos[..])] {
        let r = run(Case::new(variant, vec![transfer(0, 0, 1, 2)]));
        kinds::assert_kinds_add_up(&r);
        let totals = kinds::totals(&r);
        for name in r.kinds.iter().map(|k| k.name) {
            let t = kinds::of(&totals, name);
            let want = expected.iter().find(|(k, _)| *k == name).map_or(0, |e| e.1);
            assert_eq!((t.msgs_sent, t.msgs_recv), (want, want), "{variant:?}: {name}");
        }
    }
}

/// Issue 11, bug 3: clients send to every replica, so several replicas coordinate one command.
/// View leaders used to follow each replica's private belief (whoever delivered the payload
/// first): beliefs split and no view gathered a quorum, so commands committed (a fast path
/// needs no leader) but their conflicting neighbours never did and nothing executed. Three
/// regions, 30 ms of jitter, no FIFO, 80 tx/s on 10 accounts, as in the issue's reproducer
/// (seed 6: this harness's three regions are 10, 40 and 80 ms apart, not GCP's).
#[test]
fn clients_sending_to_all_replicas_get_every_transaction_executed() {
    let mut case = Case::new(Variant::Wintermute, contended(6, 240, 10, 12));
    (case.seed, case.regions, case.fifo, case.send_to) = (6, 3, false, SendPolicy::All);
    case.jitter = Jitter::Uniform { max_ns: ns(30) };
    case.timeouts_ms = Some((400, 600));
    let r = run(case);
    let unexecuted = r.txs.iter().filter(|t| t.executed == Time::MAX).count();
    assert_eq!(unexecuted, 0, "{unexecuted} of {} never executed: {:?}", r.txs.len(), r.counters);
    assert_all_confirmed(&r, "send_to = all");
}

/// Issue 11, item 4: the liveness check asks for execution and the client's confirmation, not
/// only a commit. With the executor switched off every command still commits.
#[test]
fn liveness_check_catches_an_executor_that_never_runs() {
    let mut case = Case::new(Variant::Wintermute, contended(5, 60, 6, 5));
    (case.bug, case.liveness_bound_ms, case.secs) = (Some(PlantedBug::ExecutorNeverRuns), Some(2_000), 6);
    let r = run(case);
    let Stop::Violation(v) = r.stop else { panic!("no violation: {:?}", r.stop) };
    assert_eq!(v.invariant, "liveness");
    assert!(v.detail.contains("never executed"), "{}", v.detail);
    assert!(r.txs[0].is_committed(), "it committed: only execution is missing");
}

/// A Byzantine replica that claims every command (it pushes the payload to all first and
/// coordinates the command itself) used to make itself the coordinator, hence the view
/// leaders, of every replica it reached first. Leaders now derive from the command: the claim
/// costs messages and at most a view change, and every transaction executes and confirms.
#[test]
fn a_false_coordinator_claim_changes_no_leader() {
    let case = |behavior| {
        let mut c = Case::new(Variant::Wintermute, contended(7, 150, 6, 4));
        (c.regions, c.fifo) = (3, false);
        c.jitter = Jitter::Uniform { max_ns: ns(10) };
        c.behaviors = vec![Behavior::Correct, Behavior::Correct, behavior];
        c
    };
    let honest = run(case(Behavior::Correct));
    let claimed = run(case(Behavior::ClaimCoordinator));
    assert_all_confirmed(&claimed, "claim_coordinator");
    assert!(claimed.txs.iter().all(|t| t.executed != Time::MAX));
    let announces = |r: &RunResult| kinds::of(&kinds::totals(r), "dds-request").msgs_sent;
    assert!(announces(&claimed) > announces(&honest) + 100, "the claimant coordinated commands too");
    assert!(counter(&claimed, "slow_path") > 0, "{:?}", claimed.counters);
}
