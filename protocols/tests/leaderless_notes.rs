//! Leaderless BFT's notes, message summaries and debug state (issue 12): the path each
//! command's coordinator takes, view changes and recoveries under the PBFT attacks, every
//! Byzantine behaviour by name, and a planted bug's conflicting commits in the flight recorder
//! before the violation. The harness is `leaderless_pbft.rs`'s.

mod notes;

use notes::{before_violation, collector};
use protocols::leaderless::types::Envelope;
use protocols::leaderless::{Behavior, Leaderless, LeaderlessConfig, LeaderlessMonitor, PlantedBug, Variant};
use sim_core::adversary::{Mode, RandomAttack, kind_bit};
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement};
use sim_core::workload::{Arrival, ListWorkload};
use sim_core::{
    AccountId, Adversary, Message, NodeId, Note, Protocol, Record, SendPolicy, SimConfig, Simulation, Span, Stop,
    Streams, Time, TxId,
};

const CLIENTS: u32 = 4;
const ACCOUNTS: u64 = 6;

/// About 100 transfers a second for 2 s among 6 accounts, from random clients.
fn workload(seed: u64) -> Vec<Arrival> {
    let mut rng = Streams::new(seed).stream("test-workload");
    let mut at_ns = 0;
    let mut arrivals = Vec::new();
    while at_ns < 2_000_000_000 {
        at_ns += rng.below(20_000_000);
        let from = rng.below(ACCOUNTS) as u32;
        let to = (from + 1 + rng.below(ACCOUNTS - 1) as u32) % ACCOUNTS as u32;
        let client_idx = rng.below(CLIENTS as u64) as u32;
        let (from, to) = (AccountId(from), AccountId(to));
        arrivals.push(Arrival { at: Time(at_ns), client_idx, from, to, amount: 1, size_bytes: 100 });
    }
    arrivals
}

/// Half of the critical messages up to 100 ms late, 2% dropped (`attacked`), or none.
fn adversary(attacked: bool) -> Adversary {
    if !attacked {
        return Adversary::OFF;
    }
    let targets_mask = Envelope::CRITICAL_KINDS.iter().fold(0, |mask, &k| mask | kind_bit(k));
    let attack = RandomAttack { targets_mask, delay_ppb: 500_000_000, drop_ppb: 20_000_000 };
    Adversary { mode: Mode::Random(attack), delay_max: Span::from_millis(100) }
}

struct Case {
    variant: Variant,
    behavior: Behavior,
    bug: Option<PlantedBug>,
    seed: u64,
    attacked: bool,
}

impl Case {
    fn n(&self) -> u32 {
        match self.variant {
            Variant::Epaxos => 4,
            Variant::Wintermute => 6,
        }
    }
}

/// EPaxos runs n = 4, Wintermute n = 6; f = 1, the Byzantine replica is `seed % n`.
fn simulation(c: &Case) -> Simulation<Leaderless> {
    let n = c.n();
    let mut roster = vec![Behavior::Correct; n as usize];
    roster[(c.seed % n as u64) as usize] = c.behavior;
    let place = NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
    let cfg = SimConfig {
        seed: c.seed,
        n_replicas: n,
        f: 1,
        net: NetConfig {
            nodes: vec![place; (n + CLIENTS) as usize],
            n_replicas: n,
            delay: DelayModel::Uniform(Span::from_millis(10)),
            jitter: Jitter::Uniform { max_ns: 5_000_000 },
            loss_ppb: 0,
            fifo: true,
            partitions: vec![],
            spikes: vec![],
        },
        send_to: SendPolicy::Random,
        faults: vec![],
        end: Time::from_secs_f64(5.0),
        limits: sim_core::Limits::DEFAULT,
        correct: roster.iter().map(|b| *b == Behavior::Correct).collect(),
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: Some(Span::from_millis(1_000)),
        clients: sim_core::ClientModel::OPEN,
        adversary: adversary(c.attacked),
    };
    let mut ll = LeaderlessConfig::new(c.variant);
    ll.bug = c.bug;
    ll.view_timeout = Span::from_millis(150);
    ll.recovery_timeout = Span::from_millis(300);
    let monitor = LeaderlessMonitor::new(n, ll.conflicts);
    Simulation::new(cfg, Box::new(ListWorkload::new(workload(c.seed))), |id| {
        Leaderless::new(ll.clone(), n, 1, roster[id.idx()])
    })
    .with_monitor(Box::new(monitor))
}

fn correct(behavior: Behavior, variant: Variant, seed: u64) -> Case {
    Case { variant, behavior, bug: None, seed, attacked: false }
}

/// Fault-free, every committed command's coordinator notes the path it took: Wintermute's
/// fast path where all answers agree (conflicts on 6 accounts and jitter make many differ),
/// the slow path for every command of the EPaxos variant (it has no fast path). Notes change nothing: the run with an observer has the digest of the run
/// without.
#[test]
fn coordinators_note_the_path_of_every_command() {
    for (variant, fast_share_min) in [(Variant::Wintermute, 25), (Variant::Epaxos, 0)] {
        let case = correct(Behavior::Correct, variant, 3);
        let (log, sink) = collector();
        let r = simulation(&case).with_sink(sink).run();
        assert_eq!(r.stop, Stop::End);
        assert_eq!(r.digest, simulation(&case).run().digest, "{variant:?}: notes are not in the digest");
        let log = log.borrow();
        let paths: Vec<(u64, bool)> = log
            .notes()
            .iter()
            .filter_map(|n| if let Note::Path { instance, fast } = n.2 { Some((instance, fast)) } else { None })
            .collect();
        let committed: std::collections::BTreeSet<u64> =
            r.txs.iter().filter(|t| t.is_committed()).map(|t| t.tx.id.0).collect();
        let noted: std::collections::BTreeSet<u64> = paths.iter().map(|p| p.0).collect();
        assert!(
            !committed.is_empty() && committed.is_subset(&noted),
            "{variant:?}: a committed command without a path"
        );
        let fast = paths.iter().filter(|p| p.1).count();
        assert!(fast * 100 >= fast_share_min * paths.len(), "{variant:?}: {fast} fast of {}", paths.len());
        if variant == Variant::Epaxos {
            assert_eq!(fast, 0, "the EPaxos variant has no fast path");
        }
        assert!(log.described > 1000, "{} messages described", log.described);
    }
}

/// Under the PBFT attacks and the random adversary, correct replicas note view changes and
/// recoveries of commands; the attacker notes its attacks by the names of the behaviours
/// that make them alone.
#[test]
fn view_changes_recoveries_and_attacks_are_noted() {
    for variant in [Variant::Epaxos, Variant::Wintermute] {
        let case = Case { attacked: true, ..correct(Behavior::PbftAttack, variant, 1) };
        let byzantine = NodeId((case.seed % case.n() as u64) as u32);
        let (log, sink) = collector();
        let r = simulation(&case).with_sink(sink).run();
        assert_eq!(r.stop, Stop::End, "{variant:?}");
        let notes = log.borrow().notes();
        let by_correct = |f: fn(&Note) -> bool| notes.iter().any(|(_, node, n)| *node != byzantine && f(n));
        assert!(by_correct(|n| matches!(n, Note::ViewChange { view: 1.., .. })), "{variant:?}: no view change");
        assert!(by_correct(|n| matches!(n, Note::Recovery { .. })), "{variant:?}: no recovery");
        let actions: std::collections::BTreeSet<&str> = notes
            .iter()
            .filter_map(|(_, node, n)| match n {
                Note::Byzantine { action, .. } => {
                    assert_eq!(*node, byzantine, "{variant:?}: a correct replica noted {n:?}");
                    Some(*action)
                }
                _ => None,
            })
            .collect();
        let expected = ["claim_coordinator", "double_vote", "equivocate_proposal", "stale_prepared"];
        assert_eq!(actions, expected.into_iter().collect(), "{variant:?}");
    }
}

/// Each Byzantine behaviour notes what it does under its own name.
#[test]
fn every_byzantine_behaviour_notes_its_name() {
    use Behavior::*;
    let all = [
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
        EquivocateProposal,
        DoubleVote,
        HidePrepared,
        StalePrepared,
    ];
    for behavior in all {
        let case = Case { attacked: true, ..correct(behavior, Variant::Wintermute, 1) };
        let (log, sink) = collector();
        simulation(&case).with_sink(sink).run();
        let named = log
            .borrow()
            .notes()
            .iter()
            .any(|n| matches!(n.2, Note::Byzantine { action, .. } if action == behavior.name()));
        assert!(named, "{} noted nothing", behavior.name());
    }
}

/// A started replica's debug state: epoch, executed prefix, and its commands in progress,
/// within about twenty lines.
#[test]
fn debug_state_shows_the_epoch_the_executed_prefix_and_commands_in_progress() {
    let case = Case { attacked: true, ..correct(Behavior::PbftAttack, Variant::Epaxos, 1) };
    let mut sim = simulation(&case);
    assert!(sim.run_until(Time::from_secs_f64(1.0)).is_none());
    for id in 0..case.n() {
        let state = sim.replica(NodeId(id)).debug_state();
        assert!(state.starts_with(&format!("replica {id} (")), "{state}");
        assert!(state.contains("epoch 0, executed prefix "), "{state}");
        assert!(state.contains("\ncmd "), "commands listed:\n{state}");
        assert!(state.lines().count() <= 22, "bounded:\n{state}");
    }
}

/// The planted bug `commit_without_proof` (EPaxos, seed 1): a correct replica accepts the
/// attacker's forged decision, and the monitor sees two commits of one command with
/// different dependencies. Both commits are in the flight recorder before the violation.
#[test]
fn a_planted_agreement_bug_leaves_both_commits_in_the_flight_recorder() {
    let case = Case {
        bug: Some(PlantedBug::CommitWithoutProof),
        attacked: true,
        ..correct(Behavior::PbftAttack, Variant::Epaxos, 1)
    };
    let mut sim = simulation(&case);
    let Some(Stop::Violation(v)) = sim.run_until(Time::MAX).cloned() else { panic!("the planted bug is not caught") };
    assert_eq!(v.invariant, "agreement");
    let state = sim.replica(v.replica).debug_state();
    let r = sim.run();
    let before = before_violation(&r.recent, v.replica, "agreement");
    // The violating commit is the last command committed before the violation.
    let tx: TxId = before
        .iter()
        .rev()
        .find_map(|record| match *record {
            Record::CommitTx { node, tx } if node == v.replica => Some(tx),
            _ => None,
        })
        .expect("the violating commit is in the flight recorder");
    let committers: Vec<NodeId> = before
        .iter()
        .filter_map(|record| match *record {
            Record::CommitTx { node, tx: t } if t == tx => Some(node),
            _ => None,
        })
        .collect();
    assert!(committers.len() >= 2 && committers.iter().any(|&n| n != v.replica), "commits of {}: {committers:?}", tx.0);
    assert!(state.contains(&format!("cmd {}: committed", tx.0)), "the command in the debug state:\n{state}");
}
