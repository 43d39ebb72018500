//! HotStuff at the boundary: its behaviours, the n and f it tolerates, its lowered
//! configuration and how a run of it is built (one `HotStuff` per replica, `HotStuffMonitor`).

use protocols::hotstuff::{self as hs, CommitRule, HotStuffConfig, HotStuffMonitor};
use sim_core::adversary::Mode;
use sim_core::workload::Workload;
use sim_core::{SimConfig, Simulation, Span};

use super::{Boundary, Ran, Run, SummaryRows, drive};
use crate::model::{self, Scenario};

pub struct Module;

/// HotStuff's Byzantine behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Drops everything, sends nothing.
    Silent,
    /// As leader, extends the parent of the block its highest QC certifies.
    Fork,
    /// Two faces: one run of the protocol for each half of the correct replicas: two blocks
    /// as leader, a vote for each as voter.
    Equivocate,
    /// Never votes.
    WithholdVotes,
    /// As leader, proposes just before the view times out.
    SlowLeader,
    /// Two correct copies under one id, each in its group of the Twins adversary's per-view
    /// partitions (`[adversary] mode = "twins"`).
    Twins,
}

/// A HotStuff run: the protocol's configuration and what each replica does.
#[derive(Clone, Debug)]
pub struct Config {
    pub hotstuff: HotStuffConfig,
    pub roster: Vec<hs::Behavior>,
    /// Every account's opening balance (`[leaderless] genesis_balance`, which every protocol's
    /// ledger reads).
    pub genesis_balance: u64,
}

impl Boundary for Module {
    type Behavior = Behavior;
    type Bug = hs::PlantedBug;
    type Config = Config;
    type Message = hs::HsMsg;
    const NAME: &'static str = "hotstuff";
    const NODE: &'static str = "replica";
    const VIEW: &'static str = "view";
    const VIEWS_MONOTONE: bool = true;
    const SUMMARY_ROWS: SummaryRows = SummaryRows::Metrics(&[("views / view changes", "{views} / {view_changes}")]);
    const BEHAVIORS: &'static [Behavior] = &[
        Behavior::Silent,
        Behavior::Fork,
        Behavior::Equivocate,
        Behavior::WithholdVotes,
        Behavior::SlowLeader,
        Behavior::Twins,
    ];
    const BUGS: &'static [hs::PlantedBug] = hs::PlantedBug::ALL;

    fn behavior_name(b: Behavior) -> &'static str {
        match b {
            Behavior::Silent => "silent",
            Behavior::Fork => "fork",
            Behavior::Equivocate => "equivocate",
            Behavior::WithholdVotes => "withhold_votes",
            Behavior::SlowLeader => "slow_leader",
            Behavior::Twins => "twins",
        }
    }

    fn twin() -> Option<Behavior> {
        Some(Behavior::Twins)
    }

    fn tolerates(_: &Scenario, n: u32, f: u32) -> bool {
        u64::from(n) > 3 * u64::from(f)
    }

    fn client_f(s: &Scenario) -> u32 {
        s.replicas.f
    }

    fn bug_name(b: hs::PlantedBug) -> &'static str {
        b.name()
    }

    fn explored_by(b: hs::PlantedBug) -> Option<(&'static str, &'static [&'static str])> {
        Some(match b {
            hs::PlantedBug::ReversedBlocks => ("scenarios/examples/ledger-hotstuff.toml", &[]),
            // Two twins at n = 7 lead views 5, 6, 12 and 13 and make double votes common.
            hs::PlantedBug::SeveralVotesPerView => ("scenarios/examples/twins-hotstuff-n7.toml", &[]),
            hs::PlantedBug::VoteIgnoringLock | hs::PlantedBug::QuorumMinusOne => {
                ("scenarios/examples/twins-hotstuff.toml", &[])
            }
        })
    }

    fn lower(s: &Scenario, roles: &[Option<Behavior>], sim: &SimConfig) -> Config {
        let h = &s.hotstuff;
        let hotstuff = HotStuffConfig {
            batch_size: h.batch_size as usize,
            view_timeout: Span::from_millis_f64(h.view_timeout_ms),
            backoff_permille: (h.timeout_backoff * 1000.0).round() as u64,
            max_timeout: Span::from_millis_f64(h.max_timeout_ms),
            list_certificates: h.certificate == model::Certificate::List,
            commit_rule: match h.variant {
                model::HotStuffVariant::Chained => CommitRule::ThreeChain,
                model::HotStuffVariant::TwoChain => CommitRule::TwoChain,
                model::HotStuffVariant::Basic => CommitRule::Basic,
            },
            // The twins play the network's own plan.
            twins: match &sim.adversary.mode {
                Mode::Twins(plan) => Some(plan.clone()),
                _ => None,
            },
            bug: None,
        };
        let roster = roles.iter().map(|r| r.map_or(hs::Behavior::Correct, core_behavior)).collect();
        Config { hotstuff, roster, genesis_balance: s.leaderless.genesis_balance }
    }

    fn plant(cfg: &mut Config, bug: hs::PlantedBug) {
        cfg.hotstuff.bug = Some(bug);
    }

    fn run(run: Run<'_>, workload: Box<dyn Workload>, cfg: &Config) -> Ran {
        let make = |id: sim_core::NodeId| {
            hs::HotStuff::with_behavior(cfg.hotstuff.clone(), cfg.roster[id.idx()], &cfg.roster)
                .with_genesis_balance(cfg.genesis_balance)
        };
        let sim = Simulation::new(run.sim.clone(), workload, make).with_monitor(Box::new(HotStuffMonitor::new()));
        let (result, states) = drive(sim, run);
        Ran { result, states, byzantine_stake_ppm: None }
    }
}

fn core_behavior(b: Behavior) -> hs::Behavior {
    match b {
        Behavior::Silent => hs::Behavior::Silent,
        Behavior::Fork => hs::Behavior::Fork,
        Behavior::Equivocate => hs::Behavior::Equivocate,
        Behavior::WithholdVotes => hs::Behavior::WithholdVotes,
        Behavior::SlowLeader => hs::Behavior::SlowLeader,
        Behavior::Twins => hs::Behavior::Twins,
    }
}
