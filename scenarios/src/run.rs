//! Runs a scenario: lower it, build the engine for its protocol, step through virtual time
//! (reporting progress between steps), and compute the metrics.

use std::rc::Rc;

use protocols::algorand::Algorand;
use protocols::common::log_ledger::{LogLedger, SharedLedger};
use protocols::common::results::ResultMonitor;
use protocols::hotstuff::{HotStuff, HotStuffMonitor};
use protocols::leaderless::{Leaderless, LeaderlessMonitor};
use protocols::ledger::RECONFIGURE;
use sim_core::metrics::{Summary, Window, WindowRow, timeseries};
use sim_core::workload::{Arrival, Workload};
use sim_core::{Protocol, RunResult, Simulation, Span, Streams, Time};

use crate::lower::{Lowered, algorand_world, lower};
use crate::model::{ProtocolKind, Scenario};
use crate::planted::Planted;
use crate::watch::{self, RunInfo, Shared};

/// A finished run with its metrics.
#[derive(Debug)]
pub struct Report {
    pub scenario: Scenario,
    pub lowered: Lowered,
    pub result: RunResult,
    pub summary: Summary,
    pub windows: Vec<WindowRow>,
    /// Algorand: the share of the stake the Byzantine users hold, in parts per million.
    pub byzantine_stake_ppm: Option<u64>,
    /// After a violation: the protocol state (`Protocol::debug_state`) of the replica that broke
    /// it and of the replicas whose commits the flight recorder shows last.
    pub states: Vec<(sim_core::NodeId, String)>,
}

/// Called between steps with (virtual time reached, end time).
pub type Progress<'a> = &'a mut dyn FnMut(Time, Time);

pub fn run(scenario: &Scenario, progress: Progress<'_>) -> Report {
    run_planted(scenario, None, progress)
}

/// The same with a planted bug in every replica (for measuring the checkers; see `planted`).
pub fn run_planted(scenario: &Scenario, planted: Option<Planted>, progress: Progress<'_>) -> Report {
    run_watched(scenario, planted, &[], progress)
}

/// The same with `watchers` seeing every record of the run (event logs, timelines, diffs).
/// A scenario with `[explore]` runs the faults its seed draws (`swarm::materialize`): every
/// command that runs a scenario comes through here, so a seed runs the same everywhere.
pub fn run_watched(
    scenario: &Scenario,
    planted: Option<Planted>,
    watchers: &[Shared],
    progress: Progress<'_>,
) -> Report {
    let scenario = &crate::swarm::materialize(scenario);
    let mut lowered = lower(scenario);
    if let Some(bug) = planted {
        bug.apply(&mut lowered);
    }
    let streams = Streams::new(scenario.seed);
    let workload = lowered.workload.build(streams.stream("workload"));
    let mut byzantine_stake_ppm = None;
    let watch = Watch { watchers, scenario, n_nodes: lowered.sim.net.nodes.len() as u32 };
    let (result, states) = match scenario.protocol {
        ProtocolKind::HotStuff => {
            let (hs, roster) = (lowered.hotstuff.clone(), lowered.behaviors.clone());
            let genesis = lowered.leaderless.genesis_balance;
            let make = |id: sim_core::NodeId| {
                HotStuff::with_behavior(hs.clone(), roster[id.idx()], &roster).with_genesis_balance(genesis)
            };
            let sim =
                Simulation::new(lowered.sim.clone(), workload, make).with_monitor(Box::new(HotStuffMonitor::new()));
            drive(sim, &watch, progress)
        }
        ProtocolKind::Leaderless => {
            let (cfg, roster) = (lowered.leaderless.clone(), lowered.leaderless_behaviors.clone());
            let (n, f) = (lowered.sim.n_replicas, lowered.sim.f);
            let make = |id: sim_core::NodeId| Leaderless::new(cfg.clone(), n, f, roster[id.idx()]);
            let monitor = LeaderlessMonitor::new(n, cfg.conflicts);
            let workload = Box::new(Reconfigurations::new(workload, &scenario.leaderless.reconfigure_at_s));
            let sim = Simulation::new(lowered.sim.clone(), workload, make).with_monitor(Box::new(monitor));
            drive(sim, &watch, progress)
        }
        ProtocolKind::Algorand => {
            let cfg = Rc::new(lowered.algorand.clone());
            let world = Rc::new(algorand_world(&cfg, lowered.sim.n_replicas, scenario.seed));
            byzantine_stake_ppm = Some(world.stake_ppm(|u| lowered.byzantine[u as usize].is_some()));
            let roster = lowered.algorand_behaviors.clone();
            let ledger = SharedLedger::new(lowered.leaderless.genesis_balance);
            let make = |id: sim_core::NodeId| {
                Algorand::new(world.clone(), cfg.clone(), roster[id.idx()]).with_ledger(LogLedger::shared(&ledger))
            };
            let monitor = Box::new(ResultMonitor::default());
            let sim = Simulation::new(lowered.sim.clone(), workload, make).with_monitor(monitor);
            drive(sim, &watch, progress)
        }
    };
    let window =
        Window { start: Time::from_secs_f64(scenario.warmup_s), end: Time::from_secs_f64(scenario.duration_s) };
    let summary = Summary::compute(&result.txs, window);
    let width = Span::from_secs_f64(scenario.output.window_s).as_nanos().max(1);
    let windows = timeseries(&result.txs, result.end_time.max(window.end), width);
    Report { scenario: scenario.clone(), lowered, result, summary, windows, byzantine_stake_ppm, states }
}

/// A workload with reconfiguration commands merged in at given times, sent by client 0.
struct Reconfigurations {
    inner: Box<dyn Workload>,
    next_inner: Option<Arrival>,
    at: std::collections::VecDeque<Time>,
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

/// What `drive` needs to attach the watchers.
struct Watch<'a> {
    watchers: &'a [Shared],
    scenario: &'a Scenario,
    n_nodes: u32,
}

/// Steps of 1/200 of the run, so a progress bar moves smoothly without touching the core.
fn drive<P: Protocol>(
    sim: Simulation<P>,
    watch: &Watch<'_>,
    progress: Progress<'_>,
) -> (RunResult, Vec<(sim_core::NodeId, String)>) {
    let info = RunInfo::new(watch.scenario, watch.n_nodes, sim_core::engine::kind_names::<P::Message>());
    let sim = sim.with_flight_recorder(watch.scenario.output.flight_records);
    let mut sim = match watch::sink::<P>(watch.watchers, &info) {
        Some(sink) => sim.with_sink(sink),
        None => sim,
    };
    let end = sim.end();
    let step = Span((end.as_nanos() / 200).max(1));
    loop {
        let next = sim.now() + step;
        let stopped = sim.run_until(next).is_some();
        progress(sim.now(), end);
        if stopped {
            let states = violation_states(&sim);
            return (sim.finish(), states);
        }
    }
}

/// After a violation, the state of the replica that broke the invariant, then of the replicas
/// of the last two commits the flight recorder holds (the conflicting ones, for agreement).
fn violation_states<P: Protocol>(sim: &Simulation<P>) -> Vec<(sim_core::NodeId, String)> {
    let Some(sim_core::Stop::Violation(v)) = sim.stopped() else { return Vec::new() };
    let mut nodes = vec![v.replica];
    let recent = sim.recent();
    let committers = recent.iter().rev().filter_map(|e| match e.record {
        sim_core::Record::Commit { node, .. } | sim_core::Record::CommitTx { node, .. } => Some(node),
        _ => None,
    });
    for node in committers.take(2) {
        if !nodes.contains(&node) {
            nodes.push(node);
        }
    }
    let n = sim.n_replicas();
    nodes.into_iter().filter(|id| id.0 < n).map(|id| (id, sim.replica(id).debug_state())).collect()
}
