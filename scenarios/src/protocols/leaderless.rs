//! The leaderless protocol at the boundary: its behaviours, the n and f each variant
//! tolerates, its lowered configuration, and its run: one `Leaderless` per replica, the
//! `LeaderlessMonitor`, and the workload with the reconfiguration barriers merged in.

use std::collections::VecDeque;

use protocols::leaderless::{self as ll, LeaderlessConfig, LeaderlessMonitor};
use protocols::ledger::{ConflictRelation, RECONFIGURE};
use sim_core::workload::{Arrival, Workload};
use sim_core::{SimConfig, Simulation, Span, Time};

use super::{Boundary, Ran, Run, SummaryRows, drive};
use crate::model::{self, Scenario};

pub struct Module;

/// The leaderless protocol's Byzantine behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Drops everything, sends nothing.
    Silent,
    /// Dependency replies with no dependencies.
    OmitDeps,
    /// Dependency replies naming commands no client signed.
    InventDeps,
    /// Dependency replies adding real commands that do not conflict.
    IrrelevantDeps,
    /// Two faces: one run of the protocol for each half of the correct replicas.
    Equivocate,
    /// A different (valid) reply, so the fast path fails.
    SpoilDifferent,
    /// No dependency replies at all.
    SpoilSilent,
    /// As coordinator, announces and never drives the command further.
    NeverCommit,
    /// As coordinator or view leader, proposes without a valid proof.
    ProposeWithoutProof,
    /// As coordinator, broadcasts a commit with a forged dependency set.
    ForgeCommit,
    /// Pushes every command's payload to all and coordinates it too, racing the client's
    /// coordinator in view 0.
    ClaimCoordinator,
    /// As a view-0 coordinator or view leader, two values with their proofs to the two halves
    /// of the replicas, and a forged decision.
    EquivocateProposal,
    /// Votes prepare and commit for every value it sees in a view.
    DoubleVote,
    /// In view changes, nothing prepared and a late dependency answer.
    HidePrepared,
    /// In view changes, its oldest prepared certificate and a late answer.
    StalePrepared,
    /// Claims every command and runs every PBFT attack at once.
    PbftAttack,
}

/// A leaderless run: the protocol's configuration, what each replica does, and when client 0
/// submits a reconfiguration barrier.
#[derive(Clone, Debug)]
pub struct Config {
    pub leaderless: LeaderlessConfig,
    pub roster: Vec<ll::Behavior>,
    pub reconfigure_at_s: Vec<f64>,
}

impl Boundary for Module {
    type Behavior = Behavior;
    type Bug = ll::PlantedBug;
    type Config = Config;
    type Message = ll::types::Envelope;
    const NAME: &'static str = "leaderless";
    const NODE: &'static str = "replica";
    const VIEW: &'static str = "view";
    const VIEWS_MONOTONE: bool = false;
    const NO_TIMELINE: Option<&'static str> =
        Some("None: the leaderless protocol has a view per command, no view of the whole replica.");
    /// A command executes once its dependencies have: later than it commits.
    const EXECUTES_APART: bool = true;
    const SUMMARY_ROWS: SummaryRows = SummaryRows::Metrics(&[
        ("fast / slow path", "{fast_path} / {slow_path} ({fast_path_pct}% fast)"),
        ("recoveries", "{recovered_commands} commands ({recoveries} requests)"),
        ("dependencies per command", "mean {deps_mean}  max {deps_max}"),
        ("largest component", "{component_max} commands"),
    ]);
    const BEHAVIORS: &'static [Behavior] = &[
        Behavior::Silent,
        Behavior::OmitDeps,
        Behavior::InventDeps,
        Behavior::IrrelevantDeps,
        Behavior::Equivocate,
        Behavior::SpoilDifferent,
        Behavior::SpoilSilent,
        Behavior::NeverCommit,
        Behavior::ProposeWithoutProof,
        Behavior::ForgeCommit,
        Behavior::ClaimCoordinator,
        Behavior::EquivocateProposal,
        Behavior::DoubleVote,
        Behavior::HidePrepared,
        Behavior::StalePrepared,
        Behavior::PbftAttack,
    ];
    const BUGS: &'static [ll::PlantedBug] = ll::PlantedBug::ALL;

    fn behavior_name(b: Behavior) -> &'static str {
        core_behavior(b).name()
    }

    fn twin() -> Option<Behavior> {
        None
    }

    fn tolerates(s: &Scenario, n: u32, f: u32) -> bool {
        u64::from(n) > 3 * u64::from(f) && variant(s.leaderless.variant).refuse(n, f).is_none()
    }

    fn client_f(s: &Scenario) -> u32 {
        s.replicas.f
    }

    fn bug_name(b: ll::PlantedBug) -> &'static str {
        b.name()
    }

    fn explored_by(b: ll::PlantedBug) -> Option<(&'static str, &'static [&'static str])> {
        use ll::PlantedBug as B;
        const EPAXOS: &str = "scenarios/examples/leaderless-pbft-attacks.toml";
        const WINTERMUTE: &str = "scenarios/examples/leaderless-pbft-attacks-wintermute.toml";
        const FLOORS: &str = "scenarios/examples/leaderless-floors.toml";
        const FLOORS_SLOW: &str = "scenarios/examples/leaderless-floors-slow.toml";
        Some(match b {
            // Bugs of the PBFT layer and of execution, where the EPaxos variant (n = 4) runs
            // consensus on every command.
            B::DdsQuorumMinusOne
            | B::PbftQuorumMinusOne
            | B::IgnorePreparedValues
            | B::CommitWithoutProof
            | B::NonCanonicalSccOrder
            // The EPaxos variant's anchors (dependency pruning).
            | B::StaleAnchor => (EPAXOS, &[]),
            // Wintermute's own rules: the threshold union and the fast path.
            B::ThresholdF | B::FastPathNMinusOne | B::PlainUnion | B::OmitExecuted | B::HeldNonces | B::ExecutorNeverRuns => {
                (WINTERMUTE, &[])
            }
            // Wintermute's floors (dependency pruning): a Byzantine replica claims a floor
            // above every command it has seen.
            B::HighestFloor => (FLOORS, &["byzantine=[{behavior=\"invent_deps\", count=1}]"]),
            // A slow correct replica (every message to it late, up to 600 ms) commits commands
            // whose floor (every 8 ids) lies above its own executed prefix.
            B::IgnoreFloors => (FLOORS_SLOW, &[]),
        })
    }

    fn lower(s: &Scenario, roles: &[Option<Behavior>], _: &SimConfig) -> Config {
        let l = &s.leaderless;
        let variant = variant(l.variant);
        let leaderless = LeaderlessConfig {
            conflicts: match l.conflicts {
                model::Conflicts::SharedAccount => ConflictRelation::SharedAccount,
                model::Conflicts::CreditsCommute => ConflictRelation::CreditsCommute,
            },
            fast_path_wait: Span::from_millis_f64(l.fast_path_wait_ms),
            view_timeout: Span::from_millis_f64(l.view_timeout_ms),
            recovery_timeout: Span::from_millis_f64(l.recovery_timeout_ms),
            genesis_balance: l.genesis_balance,
            checkpoint_interval: match variant {
                ll::Variant::Wintermute => l.checkpoint_interval,
                ll::Variant::Epaxos => 0,
            },
            ..LeaderlessConfig::new(variant)
        };
        let roster = roles.iter().map(|r| r.map_or(ll::Behavior::Correct, core_behavior)).collect();
        Config { leaderless, roster, reconfigure_at_s: l.reconfigure_at_s.clone() }
    }

    fn plant(cfg: &mut Config, bug: ll::PlantedBug) {
        cfg.leaderless.bug = Some(bug);
    }

    fn run(run: Run<'_>, workload: Box<dyn Workload>, cfg: &Config) -> Ran {
        let (n, f) = (run.sim.n_replicas, run.sim.f);
        let make = |id: sim_core::NodeId| ll::Leaderless::new(cfg.leaderless.clone(), n, f, cfg.roster[id.idx()]);
        let monitor = LeaderlessMonitor::new(n, cfg.leaderless.conflicts);
        let workload = Box::new(Reconfigurations::new(workload, &cfg.reconfigure_at_s));
        let sim = Simulation::new(run.sim.clone(), workload, make).with_monitor(Box::new(monitor));
        let (result, states) = drive(sim, run);
        Ran { result, states, byzantine_stake_ppm: None }
    }
}

fn variant(v: model::LeaderlessVariant) -> ll::Variant {
    match v {
        model::LeaderlessVariant::Wintermute => ll::Variant::Wintermute,
        model::LeaderlessVariant::Epaxos => ll::Variant::Epaxos,
    }
}

fn core_behavior(b: Behavior) -> ll::Behavior {
    match b {
        Behavior::Silent => ll::Behavior::Silent,
        Behavior::OmitDeps => ll::Behavior::OmitDeps,
        Behavior::InventDeps => ll::Behavior::InventDeps,
        Behavior::IrrelevantDeps => ll::Behavior::IrrelevantDeps,
        Behavior::Equivocate => ll::Behavior::Equivocate,
        Behavior::SpoilDifferent => ll::Behavior::SpoilDifferent,
        Behavior::SpoilSilent => ll::Behavior::SpoilSilent,
        Behavior::NeverCommit => ll::Behavior::NeverCommit,
        Behavior::ProposeWithoutProof => ll::Behavior::ProposeWithoutProof,
        Behavior::ForgeCommit => ll::Behavior::ForgeCommit,
        Behavior::ClaimCoordinator => ll::Behavior::ClaimCoordinator,
        Behavior::EquivocateProposal => ll::Behavior::EquivocateProposal,
        Behavior::DoubleVote => ll::Behavior::DoubleVote,
        Behavior::HidePrepared => ll::Behavior::HidePrepared,
        Behavior::StalePrepared => ll::Behavior::StalePrepared,
        Behavior::PbftAttack => ll::Behavior::PbftAttack,
    }
}

/// A workload with reconfiguration commands (barriers that move every replica to the next
/// epoch) merged in at given times, sent by client 0.
struct Reconfigurations {
    inner: Box<dyn Workload>,
    next_inner: Option<Arrival>,
    at: VecDeque<Time>,
}

impl Reconfigurations {
    fn new(mut inner: Box<dyn Workload>, at_s: &[f64]) -> Reconfigurations {
        let next_inner = inner.next_arrival();
        Reconfigurations { inner, next_inner, at: at_s.iter().map(|&s| Time::from_secs_f64(s)).collect() }
    }
}

impl Workload for Reconfigurations {
    fn next_arrival(&mut self) -> Option<Arrival> {
        let barrier_first = match (self.at.front(), &self.next_inner) {
            (Some(&t), Some(a)) => t <= a.at,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if barrier_first {
            let at = self.at.pop_front().expect("checked");
            let (from, to) = (RECONFIGURE, RECONFIGURE);
            return Some(Arrival { at, client_idx: 0, from, to, amount: 0, size_bytes: 64 });
        }
        let next = self.next_inner.take();
        self.next_inner = self.inner.next_arrival();
        next
    }
}
