//! HotStuff's notes, message summaries and debug state (issue 12): the views, timeouts and
//! locks every replica notes, the Byzantine behaviours by name, and a planted bug's two
//! conflicting commits in the flight recorder before the violation.

mod common;
mod notes;

use common::Steady;
use notes::{before_violation, collector, conflicting_commits};
use protocols::hotstuff::{Behavior, CommitRule, HotStuff, HotStuffConfig, HotStuffMonitor, PlantedBug};
use sim_core::adversary::{Mode, TwinsPlan};
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement};
use sim_core::{
    Adversary, FaultAction, FaultAt, NodeId, Note, Protocol, SendPolicy, SimConfig, Simulation, Span, Stop, Time,
};

const N: u32 = 4;

fn config(seed: u64, secs: u64, roster: &[Behavior], faults: Vec<FaultAt>) -> SimConfig {
    let clients = 2;
    let place = NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
    SimConfig {
        seed,
        n_replicas: N,
        f: 1,
        net: NetConfig {
            nodes: vec![place; (N + clients) as usize],
            n_replicas: N,
            delay: DelayModel::Uniform(Span::from_millis(10)),
            jitter: Jitter::None,
            loss_ppb: 0,
            fifo: true,
            partitions: vec![],
            spikes: vec![],
        },
        send_to: SendPolicy::All,
        faults,
        end: Time::from_secs_f64(secs as f64),
        limits: sim_core::Limits::DEFAULT,
        correct: roster.iter().map(|&b| b == Behavior::Correct).collect(),
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: None,
        clients: sim_core::ClientModel::OPEN,
        adversary: Adversary::OFF,
    }
}

fn hotstuff(twins: Option<TwinsPlan>, bug: Option<PlantedBug>) -> HotStuffConfig {
    HotStuffConfig {
        batch_size: 100,
        view_timeout: Span::from_millis(200),
        backoff_permille: 1000,
        max_timeout: Span::from_millis(10_000),
        list_certificates: false,
        commit_rule: CommitRule::ThreeChain,
        leader: Default::default(),
        leader_order: Vec::new(),
        mempool: None,
        twins,
        bug,
    }
}

fn simulation(cfg: SimConfig, hs: HotStuffConfig, roster: Vec<Behavior>) -> Simulation<HotStuff> {
    let until = cfg.end.0;
    let workload = Steady { gap_ns: 5_000_000, next: 0, until, clients: 2, count: 0 };
    Simulation::new(cfg, Box::new(workload), move |id| HotStuff::with_behavior(hs.clone(), roster[id.idx()], &roster))
        .with_monitor(Box::new(HotStuffMonitor::new()))
}

/// Replica 1, the leader of views 1, 5, 9..., crashes at 1 s: every correct replica notes a
/// view timeout and then a view change, its views only go up, and it locks on blocks of
/// higher and higher views. The notes are not in the digest: the run with an observer has
/// the digest of the run without.
#[test]
fn a_crashed_leader_shows_timeouts_then_view_changes_on_every_correct_replica() {
    let roster = vec![Behavior::Correct; N as usize];
    let crash = FaultAt { at: Time::from_secs_f64(1.0), replica: NodeId(1), action: FaultAction::Crash };
    let cfg = config(7, 3, &roster, vec![crash]);
    let (log, sink) = collector();
    let observed = simulation(cfg.clone(), hotstuff(None, None), roster.clone()).with_sink(sink).run();
    let quiet = simulation(cfg, hotstuff(None, None), roster).run();
    assert_eq!(observed.stop, Stop::End);
    assert_eq!(observed.digest, quiet.digest, "notes and summaries change nothing in the run");
    let log = log.borrow();
    let notes = log.notes();
    for r in [0, 2, 3].map(NodeId) {
        let mine: Vec<(Time, Note)> = notes.iter().filter(|n| n.1 == r).map(|n| (n.0, n.2)).collect();
        let views: Vec<u64> =
            mine.iter().filter_map(|(_, n)| if let Note::View { view } = n { Some(*view) } else { None }).collect();
        assert!(views.windows(2).all(|w| w[0] < w[1]), "replica {}: views go up: {views:?}", r.0);
        assert!(views.len() > 20, "replica {}: {} views", r.0, views.len());
        let timeout = mine.iter().position(|(_, n)| matches!(n, Note::Timeout { .. }));
        let timeout = timeout.unwrap_or_else(|| panic!("replica {} notes no timeout", r.0));
        assert!(mine[..timeout].iter().all(|(at, _)| *at < Time::from_secs_f64(3.0)));
        let Note::Timeout { view: stuck } = mine[timeout].1 else { unreachable!() };
        assert_eq!(stuck % u64::from(N), 1, "replica {}: the timeout is in a view the crashed replica leads", r.0);
        let after =
            mine[timeout..].iter().find_map(|(_, n)| if let Note::View { view } = n { Some(*view) } else { None });
        assert!(after.is_some_and(|v| v > stuck), "replica {}: a view change follows the timeout", r.0);
        let locks: Vec<u64> =
            mine.iter().filter_map(|(_, n)| if let Note::Lock { view, .. } = n { Some(*view) } else { None }).collect();
        assert!(locks.len() > 10 && locks.windows(2).all(|w| w[0] < w[1]), "replica {}: locks {locks:?}", r.0);
    }
    assert!(
        notes.iter().all(|n| n.1 != NodeId(1) || n.0 <= Time::from_secs_f64(1.0)),
        "a crashed replica notes nothing"
    );
    assert!(log.described > 1000, "{} messages described", log.described);
}

/// Every Byzantine behaviour notes its actions under its own name (the name scenario files
/// give it), about the view it acts in.
#[test]
fn byzantine_behaviours_note_their_actions_by_name() {
    let cases = [
        (Behavior::Silent, "silent"),
        (Behavior::Fork, "fork"),
        (Behavior::Equivocate, "equivocate"),
        (Behavior::WithholdVotes, "withhold_votes"),
        (Behavior::SlowLeader, "slow_leader"),
    ];
    for (behavior, name) in cases {
        let mut roster = vec![Behavior::Correct; N as usize];
        roster[3] = behavior;
        let (log, sink) = collector();
        let r = simulation(config(3, 2, &roster, vec![]), hotstuff(None, None), roster).with_sink(sink).run();
        assert_eq!(r.stop, Stop::End, "{name}");
        let notes = log.borrow().notes();
        let acts: Vec<u64> = notes
            .iter()
            .filter_map(|(_, node, n)| match n {
                Note::Byzantine { action, about } if *node == NodeId(3) => {
                    assert_eq!(*action, name);
                    Some(*about)
                }
                Note::Byzantine { .. } => panic!("a correct replica noted {n:?}"),
                _ => None,
            })
            .collect();
        assert!(!acts.is_empty(), "{name}: no note");
        if behavior != Behavior::Silent && behavior != Behavior::WithholdVotes {
            assert!(acts.iter().all(|v| v % u64::from(N) == 3), "{name} acts as the leader of views {acts:?}");
        }
    }
}

/// The debug state of a started replica: its view and leader, lock, highest QC, committed
/// height; an equivocator shows both of its copies.
#[test]
fn debug_state_shows_the_view_the_lock_and_the_highest_certificate() {
    let mut roster = vec![Behavior::Correct; N as usize];
    roster[3] = Behavior::Equivocate;
    let mut sim = simulation(config(1, 2, &roster, vec![]), hotstuff(None, None), roster);
    assert!(sim.run_until(Time::from_secs_f64(1.0)).is_none());
    let state = sim.replica(NodeId(0)).debug_state();
    for line in ["view ", "leader ", "locked block ", "highest qc view ", "committed height "] {
        assert!(state.contains(line), "no {line:?} in\n{state}");
    }
    assert!(state.lines().count() <= 8, "a few lines:\n{state}");
    assert!(!state.contains("committed height 0 "), "replica 0 committed by 1 s:\n{state}");
    let twofaced = sim.replica(NodeId(3)).debug_state();
    assert!(twofaced.contains("second copy:"), "{twofaced}");
}

/// Twins (replica 3, seed 65) with the planted bug `vote_ignoring_lock`: two correct
/// replicas commit different blocks at one slot. The flight recorder ends with the
/// violation, and holds both commits before it; the violating replica's debug state shows
/// its lock.
#[test]
fn a_planted_agreement_bug_leaves_both_commits_in_the_flight_recorder() {
    let seed = 65;
    let roster = vec![Behavior::Correct, Behavior::Correct, Behavior::Correct, Behavior::Twins];
    let is_twin: Vec<bool> = roster.iter().map(|&b| b == Behavior::Twins).collect();
    let plan = TwinsPlan::for_seed(seed, 12, 2, 1, is_twin).until(Time::ZERO + Span::from_millis(2_000));
    let mut cfg = config(seed, 4, &roster, vec![]);
    cfg.adversary = Adversary { mode: Mode::Twins(plan.clone()), delay_max: Span::ZERO };
    let hs = hotstuff(Some(plan), Some(PlantedBug::VoteIgnoringLock));
    let (log, sink) = collector();
    let mut sim = simulation(cfg, hs, roster).with_sink(sink);
    let Some(Stop::Violation(v)) = sim.run_until(Time::MAX).cloned() else { panic!("the planted bug is not caught") };
    assert_eq!(v.invariant, "agreement");
    let state = sim.replica(v.replica).debug_state();
    assert!(state.contains("locked block "), "{state}");
    let r = sim.run();
    let commits = before_violation(&r.recent, v.replica, "agreement");
    let (a, b) = conflicting_commits(&commits).expect("two conflicting commits before the violation");
    let sim_core::Record::Commit { node, .. } = b else { unreachable!() };
    assert!(node == v.replica || matches!(a, sim_core::Record::Commit { node, .. } if node == v.replica));
    assert!(log.borrow().notes().iter().any(|n| matches!(n.2, Note::Byzantine { action: "twins", .. })));
}
