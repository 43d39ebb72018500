//! Algorand's notes, message summaries and debug state (issue 12): rounds and BA* steps at
//! every user, catch-up asked by users that were down, fork recovery, Byzantine users by
//! behaviour, and a planted fork's two commits in the flight recorder before the violation.
//! The harness is `algorand.rs`'s, smaller.

mod common;
mod notes;

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use common::Steady;
use notes::{Log, before_violation, collector, conflicting_commits};
use protocols::algorand::{Algorand, AlgorandConfig, Behavior, PlantedBug, Topology, World};
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement, PartitionSpec};
use sim_core::{
    CpuConfig, FaultAction, FaultAt, NodeId, Note, Protocol, RunResult, SendPolicy, SimConfig, Simulation, Span, Stop,
    Streams, Time,
};

struct Case {
    users: u32,
    secs: u64,
    cfg: AlgorandConfig,
    /// Per user; missing ones are correct.
    behaviors: Vec<Behavior>,
    partitions: Vec<PartitionSpec>,
    faults: Vec<FaultAt>,
}

impl Default for Case {
    fn default() -> Self {
        Case { users: 60, secs: 10, cfg: fast_mainnet(), behaviors: vec![], partitions: vec![], faults: vec![] }
    }
}

/// Today's parameters with timeouts scaled down, so that a test run holds many rounds.
fn fast_mainnet() -> AlgorandConfig {
    AlgorandConfig {
        priority_wait: Span::from_millis(500),
        block_wait: Span::from_millis(500),
        step_timeout: Span::from_millis(1000),
        topology: Topology::Relays { relays: 6, relay_degree: 3 },
        ..AlgorandConfig::mainnet()
    }
}

fn behavior(case: &Case, user: u32) -> Behavior {
    case.behaviors.get(user as usize).copied().unwrap_or(Behavior::Correct)
}

fn simulation(case: &Case) -> Simulation<Algorand> {
    let clients = 4;
    let place = NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
    let cfg = SimConfig {
        seed: 1,
        n_replicas: case.users,
        f: 0,
        net: NetConfig {
            nodes: vec![place; (case.users + clients) as usize],
            n_replicas: case.users,
            delay: DelayModel::Uniform(Span::from_millis(20)),
            jitter: Jitter::None,
            loss_ppb: 0,
            fifo: true,
            partitions: case.partitions.clone(),
            spikes: vec![],
        },
        send_to: SendPolicy::Nearest,
        faults: case.faults.clone(),
        end: Time::from_secs_f64(case.secs as f64),
        limits: sim_core::Limits { max_events: 100_000_000, max_queue: 10_000_000, ..sim_core::Limits::DEFAULT },
        correct: (0..case.users).map(|u| behavior(case, u) == Behavior::Correct).collect(),
        cpu: CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: None,
        clients: sim_core::ClientModel::OPEN,
        adversary: sim_core::Adversary::OFF,
    };
    let until = case.secs * 1_000_000_000;
    let workload = Steady { gap_ns: 1_000_000_000 / 200, next: 0, until, clients, count: 0 };
    let world = Rc::new(World::new(&case.cfg, case.users, &mut Streams::new(1).stream("algorand")));
    let acfg = Rc::new(case.cfg.clone());
    let behaviors: Vec<Behavior> = (0..case.users).map(|u| behavior(case, u)).collect();
    Simulation::new(cfg, Box::new(workload), move |id| Algorand::new(world.clone(), acfg.clone(), behaviors[id.idx()]))
}

fn observed(case: &Case) -> (RunResult, Log) {
    let (log, sink) = collector();
    let r = simulation(case).with_sink(sink).run();
    let log = std::mem::take(&mut *log.borrow_mut());
    (r, log)
}

fn counter(r: &RunResult, user: usize, name: &str) -> u64 {
    r.nodes[user].counters.iter().find(|(k, _)| *k == name).map_or(0, |&(_, v)| v)
}

/// Each user notes every round it enters, in order, and the BA* steps of each round (1 and
/// 2 the reductions, 3 on BinaryBA*'s steps): a few notes per round, not per vote. Notes are
/// not in the digest.
#[test]
fn every_user_notes_its_rounds_and_steps() {
    let case = Case::default();
    let (r, log) = observed(&case);
    assert_eq!(r.stop, Stop::End);
    assert_eq!(r.digest, simulation(&case).run().digest, "notes change nothing in the run");
    let mut per_user: BTreeMap<NodeId, Vec<Note>> = BTreeMap::new();
    for (_, user, note) in log.notes() {
        per_user.entry(user).or_default().push(note);
    }
    assert_eq!(per_user.len(), case.users as usize, "every user notes");
    for (user, notes) in &per_user {
        let rounds: Vec<u64> =
            notes.iter().filter_map(|n| if let Note::View { view } = n { Some(*view) } else { None }).collect();
        let expected: Vec<u64> = (1..=rounds.len() as u64).collect();
        assert_eq!(rounds, expected, "user {}: rounds one after the other", user.0);
        assert!(rounds.len() >= 5, "user {}: {} rounds", user.0, rounds.len());
        let mut round = 0;
        let mut steps = Vec::new();
        for n in notes {
            match *n {
                Note::View { view } => round = view,
                Note::Step { round: r, step } => {
                    assert_eq!(r, round, "user {}: a step of the round it is in", user.0);
                    steps.push((r, step));
                }
                other => panic!("user {}: unexpected {other:?}", user.0),
            }
        }
        let first: Vec<u32> = steps.iter().filter(|s| s.0 == 1).map(|s| s.1).collect();
        assert_eq!(first, vec![1, 2, 3], "user {}: reduction one and two, then binary step 1", user.0);
        assert!(notes.len() <= rounds.len() * 8, "user {}: {} notes in {} rounds", user.0, notes.len(), rounds.len());
    }
    assert!(log.described > 1000, "{} messages described", log.described);
}

/// A relay and an ordinary user down from 4 s to 12 s ask to catch up once back.
#[test]
fn users_back_from_a_crash_note_their_catch_up() {
    let down = |user: u32| {
        [
            FaultAt { at: Time::from_secs_f64(4.0), replica: NodeId(user), action: FaultAction::Crash },
            FaultAt { at: Time::from_secs_f64(12.0), replica: NodeId(user), action: FaultAction::Recover },
        ]
    };
    let (r, log) = observed(&Case { faults: [down(3), down(30)].concat(), secs: 20, ..Case::default() });
    assert_eq!(r.stop, Stop::End);
    for user in [3, 30].map(NodeId) {
        let asked: Vec<(Time, u64)> = log
            .notes()
            .into_iter()
            .filter_map(
                |(at, u, n)| {
                    if let (true, Note::CatchUp { round }) = (u == user, n) { Some((at, round)) } else { None }
                },
            )
            .collect();
        assert!(
            !asked.is_empty() && asked.iter().all(|a| a.0 >= Time::from_secs_f64(12.0)),
            "user {}: {asked:?}",
            user.0
        );
    }
}

/// With the planted bug that takes any catch-up answer extending the chain, the liar's
/// neighbours adopt its empty rounds and, once it stops (it crashes at 8 s), recover the
/// certified chain: each such user notes a fork recovery.
#[test]
fn fork_recovery_is_noted() {
    let liar = 50;
    let mut behaviors = vec![Behavior::Correct; 100];
    behaviors[liar] = Behavior::FakeSync;
    let cfg = AlgorandConfig { bug: Some(PlantedBug::TrustAnySync), ..AlgorandConfig::mainnet() };
    let faults =
        vec![FaultAt { at: Time::from_secs_f64(8.0), replica: NodeId(liar as u32), action: FaultAction::Crash }];
    let (r, log) = observed(&Case { users: 100, cfg, secs: 30, behaviors, faults, ..Case::default() });
    let recovered: Vec<usize> = (0..100).filter(|&u| counter(&r, u, "forks_recovered") > 0).collect();
    assert!(!recovered.is_empty(), "nobody adopted the liar's rounds");
    let noted: BTreeSet<usize> =
        log.notes().iter().filter(|n| matches!(n.2, Note::Recovery { .. })).map(|n| n.1.idx()).collect();
    assert_eq!(noted, recovered.into_iter().collect());
    let lies = log
        .notes()
        .iter()
        .filter(|n| n.1.idx() == liar && matches!(n.2, Note::Byzantine { action: "fake_sync", .. }))
        .count();
    assert!(lies > 0, "the liar notes its lies");
}

/// Byzantine users note their behaviour by name; correct ones never do.
#[test]
fn byzantine_users_note_their_behaviour() {
    let mut behaviors = vec![Behavior::Correct; 60];
    for (i, b) in
        [Behavior::Silent, Behavior::Equivocate, Behavior::DoubleVote, Behavior::FakeSync].into_iter().enumerate()
    {
        behaviors[6 + i] = b;
    }
    let names = ["silent", "equivocate", "double_vote", "fake_sync"];
    let (r, log) = observed(&Case { behaviors: behaviors.clone(), ..Case::default() });
    assert_eq!(r.stop, Stop::End);
    for (i, name) in names.iter().enumerate() {
        let user = NodeId(6 + i as u32);
        let acts = log
            .notes()
            .iter()
            .filter(|n| n.1 == user && matches!(n.2, Note::Byzantine { action, .. } if action == *name))
            .count();
        assert!(acts > 0, "{name} noted nothing");
    }
    let by_correct =
        log.notes().iter().filter(|n| matches!(n.2, Note::Byzantine { .. }) && !(6..10).contains(&n.1.0)).count();
    assert_eq!(by_correct, 0);
}

/// A started user's debug state: round, phase, what is committed, the last certificate.
#[test]
fn debug_state_shows_the_round_the_step_and_the_last_certificate() {
    let case = Case::default();
    let mut sim = simulation(&case);
    assert!(sim.run_until(Time::from_secs_f64(5.0)).is_none());
    for user in [0, 10] {
        let state = sim.replica(NodeId(user)).debug_state();
        assert!(state.starts_with(&format!("user {user} (Correct), round ")), "{state}");
        assert!(state.contains("committed through round "), "{state}");
        assert!(state.lines().count() <= 8, "{state}");
    }
    // Relays (users 0..6) keep certificates.
    assert!(sim.replica(NodeId(0)).debug_state().contains("last certified round "));
}

/// The planted bug `low_threshold` with the users split in halves: each half decides and
/// commits its own block. The flight recorder holds both commits of the slot before the
/// violation.
#[test]
fn a_planted_fork_leaves_both_commits_in_the_flight_recorder() {
    let cfg =
        AlgorandConfig { topology: Topology::Peers, fanout: 6, bug: Some(PlantedBug::LowThreshold), ..fast_mainnet() };
    let evens: Vec<u32> = (0..60).filter(|u| u % 2 == 0).collect();
    let partitions = vec![PartitionSpec::new(Time::ZERO, Time::from_secs_f64(8.0), 60, &[evens])];
    let mut sim = simulation(&Case { cfg, partitions, ..Case::default() });
    let Some(Stop::Violation(v)) = sim.run_until(Time::MAX).cloned() else { panic!("the planted fork is not caught") };
    assert_eq!(v.invariant, "agreement");
    assert!(sim.replica(v.replica).debug_state().contains("round "));
    let r = sim.run();
    let before = before_violation(&r.recent, v.replica, "agreement");
    let (a, b) = conflicting_commits(&before).expect("both commits of the slot before the violation");
    let sim_core::Record::Commit { node: na, .. } = a else { unreachable!() };
    let sim_core::Record::Commit { node: nb, .. } = b else { unreachable!() };
    assert_ne!(na.0 % 2, nb.0 % 2, "one commit in each half");
}
