//! One run reduced to what the batch commands tabulate and plot: a row of headline numbers
//! (formatted the same way everywhere, so that tables written in different processes are
//! byte-identical) and the latencies and time series behind the plots.

use sim_core::Time;
use sim_core::metrics::{LatencyStats, WindowRow};

use crate::output;
use crate::run::Report;

/// The headline numbers of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    pub protocol: &'static str,
    pub seed: u64,
    pub offered_tps: f64,
    pub goodput_tps: f64,
    pub submitted_tx: u64,
    /// Committed over the whole run (the denominator of the per-transaction costs).
    pub committed_tx: u64,
    pub unconfirmed_tx: u64,
    pub e2e: LatencyStats,
    /// End-to-end p99 over every transaction submitted in the window, unconfirmed ones counted
    /// as infinitely late: infinite when more than 1% are unconfirmed. What `--saturation-p99-ms`
    /// compares with its bound, so that a saturated run (whose few confirmed transactions may
    /// be quick) never looks fast.
    pub e2e_p99_all_ms: f64,
    pub consensus: LatencyStats,
    /// Messages sent by replicas (protocol messages and replies) over the whole run, per
    /// transaction committed over the whole run.
    pub msgs_per_tx: f64,
    pub bytes_per_tx: f64,
    /// Mean over replicas of the share of their cores busy.
    pub cpu_util_mean: f64,
    /// Replica CPU time (all replicas, all cores) per committed transaction, in microseconds.
    pub cpu_us_per_tx: f64,
    pub events: u64,
    /// `end`, `violation`, `event_limit` or `queue_limit`.
    pub stop: &'static str,
    /// What stopped the run early (invariant, node, time, detail), empty for a complete run.
    pub stop_detail: String,
    pub digest: u64,
}

/// The columns of [`RunRow::cells`], after `protocol` and `seed`: the stop first, so that a run
/// that did not complete is seen before its numbers.
pub const METRIC_COLUMNS: &[&str] = &[
    "stop",
    "stop_detail",
    "offered_tps",
    "goodput_tps",
    "submitted_tx",
    "committed_tx",
    "unconfirmed_tx",
    "e2e_p50_ms",
    "e2e_p90_ms",
    "e2e_p99_ms",
    "e2e_max_ms",
    "e2e_p99_all_ms",
    "consensus_p50_ms",
    "consensus_p90_ms",
    "consensus_p99_ms",
    "msgs_per_tx",
    "bytes_per_tx",
    "cpu_util_mean",
    "cpu_us_per_tx",
    "events",
    "digest",
];

/// A number in full precision (the shortest text that reads back as the same f64), or an
/// empty cell when it is not finite (no transaction, say); +infinity is written `inf`.
/// Machine-readable files use it; printed tables round with [`num`].
pub fn full(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else if x == f64::INFINITY {
        "inf".to_string()
    } else {
        String::new()
    }
}

/// A number with `decimals` for printed tables, or an empty cell when it is not finite (no
/// transaction, say); +infinity is written `inf`.
pub fn num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else if x == f64::INFINITY {
        "inf".to_string()
    } else {
        String::new()
    }
}

/// A latency percentile in ms, None when no transaction completed.
fn ms(stats: &LatencyStats, pick: fn(&LatencyStats) -> f64) -> Option<f64> {
    (stats.count > 0).then(|| pick(stats))
}

/// A finite number, or None (JSON null, an empty CSV cell).
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// One run as typed values, for JSON: numbers are numbers, a missing value is null.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RunRecord {
    pub protocol: &'static str,
    pub seed: u64,
    pub stop: &'static str,
    pub stop_detail: String,
    /// Whether the run reached its end: only complete runs enter means and plots.
    pub complete: bool,
    pub offered_tps: f64,
    pub goodput_tps: f64,
    pub submitted_tx: u64,
    pub committed_tx: u64,
    pub unconfirmed_tx: u64,
    pub e2e_p50_ms: Option<f64>,
    pub e2e_p90_ms: Option<f64>,
    pub e2e_p99_ms: Option<f64>,
    pub e2e_max_ms: Option<f64>,
    /// Null when infinite (more than 1% of the window's transactions unconfirmed).
    pub e2e_p99_all_ms: Option<f64>,
    pub consensus_p50_ms: Option<f64>,
    pub consensus_p90_ms: Option<f64>,
    pub consensus_p99_ms: Option<f64>,
    pub msgs_per_tx: Option<f64>,
    pub bytes_per_tx: Option<f64>,
    /// A fraction of the cores (0 to 1), as everywhere in byzsim's files.
    pub cpu_util_mean: f64,
    pub cpu_us_per_tx: Option<f64>,
    pub events: u64,
    /// The run digest, as 16 hex digits (a u64 does not survive a JSON double).
    pub digest: String,
}

impl RunRow {
    pub fn of(report: &Report) -> RunRow {
        let m = &report.summary;
        let replicas: Vec<_> = report.result.nodes.iter().filter(|n| n.is_replica).collect();
        let msgs: u64 = replicas.iter().map(|n| n.link.msgs_sent).sum();
        let bytes: u64 = replicas.iter().map(|n| n.link.bytes_sent).sum();
        let cpu_ns: u64 = replicas.iter().map(|n| n.cpu_busy_ns).sum();
        let per_tx = |x: u64| if m.committed_tx == 0 { f64::NAN } else { x as f64 / m.committed_tx as f64 };
        RunRow {
            protocol: report.scenario.protocol.name(),
            seed: report.scenario.seed,
            offered_tps: m.offered_tps,
            goodput_tps: m.goodput_tps,
            submitted_tx: m.submitted_tx,
            committed_tx: m.committed_tx,
            unconfirmed_tx: m.unconfirmed_tx,
            e2e: m.e2e,
            e2e_p99_all_ms: p99_all_ms(report),
            consensus: m.consensus,
            msgs_per_tx: per_tx(msgs),
            bytes_per_tx: per_tx(bytes),
            cpu_util_mean: output::cpu_util_summary(report).0,
            cpu_us_per_tx: per_tx(cpu_ns) / 1e3,
            events: report.result.events,
            stop: report.result.stop.name(),
            stop_detail: output::stop_detail(report),
            digest: report.result.digest,
        }
    }

    /// Whether the run reached its end (no invariant broke, no limit hit).
    pub fn complete(&self) -> bool {
        self.stop == "end"
    }

    /// The typed record of the run.
    pub fn record(&self) -> RunRecord {
        RunRecord {
            protocol: self.protocol,
            seed: self.seed,
            stop: self.stop,
            stop_detail: self.stop_detail.clone(),
            complete: self.complete(),
            offered_tps: self.offered_tps,
            goodput_tps: self.goodput_tps,
            submitted_tx: self.submitted_tx,
            committed_tx: self.committed_tx,
            unconfirmed_tx: self.unconfirmed_tx,
            e2e_p50_ms: ms(&self.e2e, |s| s.p50_ms),
            e2e_p90_ms: ms(&self.e2e, |s| s.p90_ms),
            e2e_p99_ms: ms(&self.e2e, |s| s.p99_ms),
            e2e_max_ms: ms(&self.e2e, |s| s.max_ms),
            e2e_p99_all_ms: finite(self.e2e_p99_all_ms),
            consensus_p50_ms: ms(&self.consensus, |s| s.p50_ms),
            consensus_p90_ms: ms(&self.consensus, |s| s.p90_ms),
            consensus_p99_ms: ms(&self.consensus, |s| s.p99_ms),
            msgs_per_tx: finite(self.msgs_per_tx),
            bytes_per_tx: finite(self.bytes_per_tx),
            cpu_util_mean: self.cpu_util_mean,
            cpu_us_per_tx: finite(self.cpu_us_per_tx),
            events: self.events,
            digest: format!("{:016x}", self.digest),
        }
    }

    /// The cells under [`METRIC_COLUMNS`], numbers in full precision.
    pub fn cells(&self) -> Vec<String> {
        let opt = |x: Option<f64>| x.map_or(String::new(), full);
        vec![
            self.stop.to_string(),
            self.stop_detail.clone(),
            full(self.offered_tps),
            full(self.goodput_tps),
            self.submitted_tx.to_string(),
            self.committed_tx.to_string(),
            self.unconfirmed_tx.to_string(),
            opt(ms(&self.e2e, |s| s.p50_ms)),
            opt(ms(&self.e2e, |s| s.p90_ms)),
            opt(ms(&self.e2e, |s| s.p99_ms)),
            opt(ms(&self.e2e, |s| s.max_ms)),
            full(self.e2e_p99_all_ms),
            opt(ms(&self.consensus, |s| s.p50_ms)),
            opt(ms(&self.consensus, |s| s.p90_ms)),
            opt(ms(&self.consensus, |s| s.p99_ms)),
            full(self.msgs_per_tx),
            full(self.bytes_per_tx),
            full(self.cpu_util_mean),
            full(self.cpu_us_per_tx),
            self.events.to_string(),
            format!("{:016x}", self.digest),
        ]
    }
}

/// Nearest-rank p99 of the window's end-to-end latencies with unconfirmed transactions as
/// infinitely late (NaN when the window holds no transaction).
fn p99_all_ms(report: &Report) -> f64 {
    let window = window_of(report);
    let mut late: Vec<u64> = report
        .result
        .txs
        .iter()
        .filter(|t| window.0 <= t.submitted && t.submitted < window.1)
        .map(|t| if t.is_confirmed() { (t.confirmed - t.submitted).as_nanos() } else { u64::MAX })
        .collect();
    if late.is_empty() {
        return f64::NAN;
    }
    late.sort_unstable();
    let rank = (99 * late.len()).div_ceil(100).max(1) - 1;
    if late[rank] == u64::MAX { f64::INFINITY } else { late[rank] as f64 / 1e6 }
}

/// The measurement window [warmup, duration).
fn window_of(report: &Report) -> (Time, Time) {
    let s = &report.scenario;
    (Time::from_secs_f64(s.warmup_s), Time::from_secs_f64(s.duration_s))
}

/// What the plots of a run need: end-to-end and consensus latencies of the window's
/// transactions, the end-to-end ones by client region, and the time series.
#[derive(Clone, Debug)]
pub struct RunData {
    pub row: RunRow,
    /// Client regions in the order of the clients, each with the end-to-end latencies (ns) of
    /// its confirmed transactions submitted in the window.
    pub e2e_by_region_ns: Vec<(String, Vec<u64>)>,
    pub consensus_ns: Vec<u64>,
    pub windows: Vec<WindowRow>,
}

impl RunData {
    pub fn of(report: &Report) -> RunData {
        let window = window_of(report);
        let regions = &report.lowered.node_regions;
        let mut by_region: Vec<(String, Vec<u64>)> = Vec::new();
        let mut consensus_ns = Vec::new();
        for t in report.result.txs.iter().filter(|t| window.0 <= t.submitted && t.submitted < window.1) {
            if t.is_committed() && t.arrived != Time::MAX {
                consensus_ns.push((t.committed.max(t.arrived) - t.arrived).as_nanos());
            }
            let region = &regions[t.client.idx()];
            let idx = match by_region.iter().position(|(r, _)| r == region) {
                Some(idx) => idx,
                None => {
                    by_region.push((region.clone(), Vec::new()));
                    by_region.len() - 1
                }
            };
            if t.is_confirmed() {
                by_region[idx].1.push((t.confirmed - t.submitted).as_nanos());
            }
        }
        // Regions in the order of the clients' list, whatever order transactions came in.
        let client_order: Vec<&String> =
            report.result.nodes.iter().filter(|n| !n.is_replica).map(|n| &regions[n.id.idx()]).collect();
        by_region.sort_by_key(|(r, _)| client_order.iter().position(|c| *c == r).unwrap_or(usize::MAX));
        RunData { row: RunRow::of(report), e2e_by_region_ns: by_region, consensus_ns, windows: report.windows.clone() }
    }

    /// Every end-to-end latency of the window (ns), all regions together.
    pub fn e2e_ns(&self) -> Vec<u64> {
        self.e2e_by_region_ns.iter().flat_map(|(_, v)| v.iter().copied()).collect()
    }
}
