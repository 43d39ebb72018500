//! SHIM (experiment helper): replaced at merge by the results module.
//!
//! Only what `experiment` and `search` need: one run's typed summary (built from today's
//! `rows::RunRow`) and a registry of the metrics they read, by name.

use serde::{Deserialize, Serialize};

use crate::model::Scenario;
use crate::rows::RunRow;
use crate::run::Report;

/// What running one case cost, measured only when it ran in a child process (`--isolate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunCost {
    pub wall_s: f64,
    pub peak_rss_mib: f64,
}

/// One run's summary as typed values: numbers are numbers, a missing value is None.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub protocol: String,
    pub seed: u64,
    /// `end`, `violation`, `event_limit` or `queue_limit`.
    pub stop: String,
    pub offered_tps: f64,
    pub goodput_tps: f64,
    pub unconfirmed_tx: u64,
    pub e2e_count: u64,
    pub e2e_p50_ms: Option<f64>,
    pub e2e_p99_ms: Option<f64>,
    pub e2e_mean_ms: Option<f64>,
    /// None when infinite (more than 1% of the window's transactions unconfirmed).
    pub e2e_p99_all_ms: Option<f64>,
    pub consensus_p50_ms: Option<f64>,
    /// The highest view a correct replica reached, and its view changes (HotStuff counters).
    pub views: u64,
    pub view_changes: u64,
    pub events: u64,
    /// The run digest, as 16 hex digits.
    pub digest: String,
    pub cost: Option<RunCost>,
}

impl RunSummary {
    pub fn of(scenario: &Scenario, report: &Report) -> RunSummary {
        let record = RunRow::of(report).record();
        let e2e = &report.summary.e2e;
        let counter = |name: &str| {
            let correct = report.result.nodes.iter().filter(|n| n.is_replica && n.correct);
            correct.filter_map(|n| n.counters.iter().find(|c| c.0 == name).map(|c| c.1)).max().unwrap_or(0)
        };
        RunSummary {
            protocol: record.protocol.to_string(),
            seed: scenario.seed,
            stop: record.stop.to_string(),
            offered_tps: record.offered_tps,
            goodput_tps: record.goodput_tps,
            unconfirmed_tx: record.unconfirmed_tx,
            e2e_count: e2e.count,
            e2e_p50_ms: record.e2e_p50_ms,
            e2e_p99_ms: record.e2e_p99_ms,
            e2e_mean_ms: (e2e.count > 0).then_some(e2e.mean_ms),
            e2e_p99_all_ms: record.e2e_p99_all_ms,
            consensus_p50_ms: record.consensus_p50_ms,
            views: counter("view"),
            view_changes: counter("view_changes"),
            events: record.events,
            digest: record.digest,
            cost: None,
        }
    }
}

/// A metric of a run: its column name, what a table header says, its unit, the decimals of
/// printed tables, and how to read it.
pub struct Metric {
    pub name: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub decimals: usize,
    pub get: fn(&RunSummary) -> Option<f64>,
}

/// Every metric, by name.
pub const METRICS: &[Metric] = &[
    Metric { name: "offered_tps", label: "offered", unit: "tx/s", decimals: 0, get: |r| Some(r.offered_tps) },
    Metric { name: "goodput_tps", label: "goodput", unit: "tx/s", decimals: 0, get: |r| Some(r.goodput_tps) },
    Metric {
        name: "unconfirmed_tx",
        label: "unconfirmed",
        unit: "tx",
        decimals: 0,
        get: |r| Some(r.unconfirmed_tx as f64),
    },
    Metric { name: "e2e_count", label: "confirmed", unit: "tx", decimals: 0, get: |r| Some(r.e2e_count as f64) },
    Metric { name: "e2e_p50_ms", label: "e2e p50", unit: "ms", decimals: 0, get: |r| r.e2e_p50_ms },
    Metric { name: "e2e_p99_ms", label: "e2e p99", unit: "ms", decimals: 0, get: |r| r.e2e_p99_ms },
    Metric { name: "e2e_mean_ms", label: "e2e mean", unit: "ms", decimals: 0, get: |r| r.e2e_mean_ms },
    Metric {
        name: "e2e_p99_all_ms",
        label: "e2e p99 (unconfirmed counted)",
        unit: "ms",
        decimals: 0,
        get: |r| Some(r.e2e_p99_all_ms.unwrap_or(f64::INFINITY)),
    },
    Metric { name: "consensus_p50_ms", label: "consensus p50", unit: "ms", decimals: 0, get: |r| r.consensus_p50_ms },
    Metric { name: "views", label: "views", unit: "", decimals: 0, get: |r| Some(r.views as f64) },
    Metric { name: "view_changes", label: "view changes", unit: "", decimals: 0, get: |r| Some(r.view_changes as f64) },
    Metric { name: "events", label: "events", unit: "", decimals: 0, get: |r| Some(r.events as f64) },
    Metric { name: "wall_s", label: "wall time", unit: "s", decimals: 1, get: |r| r.cost.as_ref().map(|c| c.wall_s) },
    Metric {
        name: "peak_rss_mib",
        label: "peak memory",
        unit: "MiB",
        decimals: 0,
        get: |r| r.cost.as_ref().map(|c| c.peak_rss_mib),
    },
];

/// The metric called `name`.
pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}
