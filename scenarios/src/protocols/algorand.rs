//! Algorand at the boundary: its behaviours, its lowered configuration (a preset with the
//! scenario's `[algorand]` values), the world every user shares, and its run: one `Algorand`
//! per user over one shared ledger memo, checked by the `ResultMonitor`.

use std::rc::Rc;

use protocols::algorand::{self as ag, AlgorandConfig, StakeDistribution, Topology, World};
use protocols::common::log_ledger::{LogLedger, SharedLedger};
use protocols::common::results::ResultMonitor;
use sim_core::workload::Workload;
use sim_core::{SimConfig, Simulation, Span, Streams};

use super::{Boundary, Ran, Run, SummaryRows, drive};
use crate::model::{self, Scenario};

pub struct Module;

/// Algorand's Byzantine behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Drops everything, sends nothing.
    Silent,
    /// Two faces: one run of the protocol for each half of the other users.
    Equivocate,
    /// Votes in every step both for its value and for the empty block.
    DoubleVote,
    /// Tells its neighbours every round, unasked, that the round decided the empty block (a
    /// catch-up reply without a certificate).
    FakeSync,
}

/// An Algorand run: the preset with the scenario's values, what each user does, and every
/// account's opening balance.
#[derive(Clone, Debug)]
pub struct Config {
    pub algorand: AlgorandConfig,
    pub roster: Vec<ag::Behavior>,
    /// `[leaderless] genesis_balance`, which every protocol's ledger reads.
    pub genesis_balance: u64,
}

impl Boundary for Module {
    type Behavior = Behavior;
    type Bug = ag::PlantedBug;
    type Config = Config;
    type Message = ag::Msg;
    const NAME: &'static str = "algorand";
    const NODE: &'static str = "user";
    const VIEW: &'static str = "round";
    const VIEWS_MONOTONE: bool = false;
    /// Its counters as it names them.
    const SUMMARY_ROWS: SummaryRows = SummaryRows::Counters;
    const BEHAVIORS: &'static [Behavior] =
        &[Behavior::Silent, Behavior::Equivocate, Behavior::DoubleVote, Behavior::FakeSync];
    const BUGS: &'static [ag::PlantedBug] = ag::PlantedBug::ALL;

    fn behavior_name(b: Behavior) -> &'static str {
        match b {
            Behavior::Silent => "silent",
            Behavior::Equivocate => "equivocate",
            Behavior::DoubleVote => "double_vote",
            Behavior::FakeSync => "fake_sync",
        }
    }

    fn twin() -> Option<Behavior> {
        None
    }

    /// Safety rests on the Byzantine users' share of the stake, not on a count: f is 0.
    fn tolerates(_: &Scenario, _: u32, f: u32) -> bool {
        f == 0
    }

    /// A client trusts the user it submits to: one reply confirms (the block that holds the
    /// transaction is certified at that user).
    fn client_f(_: &Scenario) -> u32 {
        0
    }

    fn bug_name(b: ag::PlantedBug) -> &'static str {
        b.name()
    }

    fn explored_by(b: ag::PlantedBug) -> Option<(&'static str, &'static [&'static str])> {
        match b {
            ag::PlantedBug::TrustAnySync | ag::PlantedBug::LowThreshold => {
                Some(("scenarios/examples/algorand-attacks.toml", &[]))
            }
        }
    }

    fn lower(s: &Scenario, roles: &[Option<Behavior>], _: &SimConfig) -> Config {
        let roster = roles.iter().map(|r| r.map_or(ag::Behavior::Correct, core_behavior)).collect();
        Config { algorand: config(&s.algorand), roster, genesis_balance: s.leaderless.genesis_balance }
    }

    fn plant(cfg: &mut Config, bug: ag::PlantedBug) {
        cfg.algorand.bug = Some(bug);
    }

    fn run(run: Run<'_>, workload: Box<dyn Workload>, cfg: &Config) -> Ran {
        let config = Rc::new(cfg.algorand.clone());
        let world = Rc::new(world(&config, run.sim.n_replicas, run.scenario.seed));
        // Crashing users count as Byzantine too.
        let byzantine_stake_ppm = Some(world.stake_ppm(|u| !run.sim.correct[u as usize]));
        let ledger = SharedLedger::new(cfg.genesis_balance);
        let make = |id: sim_core::NodeId| {
            ag::Algorand::new(world.clone(), config.clone(), cfg.roster[id.idx()])
                .with_ledger(LogLedger::shared(&ledger))
        };
        let monitor = Box::new(ResultMonitor::default());
        let sim = Simulation::new(run.sim.clone(), workload, make).with_monitor(monitor);
        let (result, states) = drive(sim, run);
        Ran { result, states, byzantine_stake_ppm }
    }
}

fn core_behavior(b: Behavior) -> ag::Behavior {
    match b {
        Behavior::Silent => ag::Behavior::Silent,
        Behavior::Equivocate => ag::Behavior::Equivocate,
        Behavior::DoubleVote => ag::Behavior::DoubleVote,
        Behavior::FakeSync => ag::Behavior::FakeSync,
    }
}

/// The protocol's configuration of a preset (validation takes its defaults from it).
pub fn preset(preset: model::AlgorandPreset) -> AlgorandConfig {
    match preset {
        model::AlgorandPreset::Mainnet => AlgorandConfig::mainnet(),
        model::AlgorandPreset::Sosp2017 => AlgorandConfig::sosp2017(),
    }
}

/// The Algorand preset with the scenario's `[algorand]` values.
pub fn config(a: &model::Algorand) -> AlgorandConfig {
    let preset = preset(a.preset);
    let per_user = match preset.stake {
        StakeDistribution::Equal { per_user } => per_user,
        StakeDistribution::Pareto { mean_per_user, .. } => mean_per_user,
    };
    AlgorandConfig {
        fanout: a.fanout,
        topology: match a.topology {
            model::AlgorandTopology::Relays => Topology::Relays { relays: a.relays, relay_degree: a.relay_degree },
            model::AlgorandTopology::Peers => Topology::Peers,
        },
        gossip_batch: Span::from_millis_f64(a.gossip_batch_ms),
        block_max_bytes: a.block_max_bytes,
        priority_wait: Span::from_secs_f64(a.priority_wait_s),
        block_wait: Span::from_secs_f64(a.block_wait_s),
        step_timeout: Span::from_secs_f64(a.step_timeout_s),
        vrf_verify: Span::from_nanos_f64(a.vrf_verify_us * 1e3),
        stake: match a.stake {
            model::Stake::Equal => StakeDistribution::Equal { per_user },
            model::Stake::Pareto { shape } => StakeDistribution::Pareto { shape, mean_per_user: per_user },
        },
        ..preset
    }
}

/// What every user knows before the first round (stakes, gossip graph, keys), drawn from the
/// seed's `algorand` stream: the same for the run and for validation.
pub fn world(cfg: &AlgorandConfig, n_users: u32, seed: u64) -> World {
    World::new(cfg, n_users, &mut Streams::new(seed).stream("algorand"))
}
