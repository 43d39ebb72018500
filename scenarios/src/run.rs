//! Runs a scenario: lower it, build the engine for its protocol, step through virtual time
//! (reporting progress between steps), and compute the metrics.

use sim_core::metrics::{Summary, Window, WindowRow, timeseries};
use sim_core::{RunResult, Span, Streams, Time};

use crate::lower::{Lowered, lower};
use crate::model::Scenario;
use crate::planted::Planted;
use crate::protocols::{Ran, Run};
use crate::watch::{RunInfo, Shared};

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

pub use crate::protocols::Progress;

pub fn run(scenario: &Scenario, progress: Progress<'_>) -> Report {
    run_planted(scenario, None, progress)
}

/// The same with a planted bug in every replica (for measuring the checkers; see `planted`).
pub fn run_planted(scenario: &Scenario, planted: Option<Planted>, progress: Progress<'_>) -> Report {
    run_watched(scenario, planted, &[], progress)
}

/// What a watcher is told of a run of `s` over `n_nodes` nodes (replicas, then clients) with
/// these message kinds.
pub fn run_info(s: &Scenario, n_nodes: u32, kinds: Vec<sim_core::net::KindName>) -> RunInfo {
    let p = s.protocol();
    RunInfo {
        scenario: s.name.clone(),
        protocol: p.name(),
        node_word: p.node_word(),
        view_word: p.view_word(),
        views_monotone: p.views_monotone(),
        seed: s.seed,
        n_replicas: s.replicas.n,
        n_nodes,
        kinds,
    }
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
        bug.apply(&mut lowered.protocol);
    }
    let streams = Streams::new(scenario.seed);
    let workload = lowered.workload.build(streams.stream("workload"));
    let info = run_info(scenario, lowered.sim.net.nodes.len() as u32, scenario.protocol().kind_table());
    let (seed, flight_records) = (scenario.seed, scenario.output.flight_records);
    let run = Run { info, seed, flight_records, sim: &lowered.sim, watchers, progress };
    let ran = scenario.protocol().run(run, workload, &lowered.protocol);
    let Ran { result, states, byzantine_stake_ppm } = ran;
    let window =
        Window { start: Time::from_secs_f64(scenario.warmup_s), end: Time::from_secs_f64(scenario.duration_s) };
    let summary = Summary::compute(&result.txs, window);
    let width = Span::from_secs_f64(scenario.output.window_s).as_nanos().max(1);
    let windows = timeseries(&result.txs, result.end_time.max(window.end), width);
    Report { scenario: scenario.clone(), lowered, result, summary, windows, byzantine_stake_ppm, states }
}
