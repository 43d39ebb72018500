//! The one metric registry: every number a table, CSV or JSON file, `compare` or `sweep` shows
//! of a run is a [`Metric`] here, with its column name, label, unit, printed precision and how
//! to read it from a [`RunSummary`]. Files keep full precision ([`Metric::cell`]); printed
//! tables round to the metric's decimals ([`Metric::printed`]). Code names a metric by its
//! handle (`metric::GOODPUT_TPS`), users by its name ([`metric`], [`parse_names`]).

use super::RunSummary;

/// A number of a run.
#[derive(Debug)]
pub struct Metric {
    /// The column name in files, and the name users give (`--metric`).
    pub name: &'static str,
    /// The row or column label of printed tables.
    pub label: &'static str,
    pub unit: &'static str,
    /// Decimals in printed tables.
    pub decimals: usize,
    /// The value; None when the run has none (no transaction, a counter the protocol lacks, a
    /// cost not measured).
    pub get: fn(&RunSummary) -> Option<f64>,
}

impl Metric {
    /// The value, NaN when missing.
    pub fn value(&self, s: &RunSummary) -> f64 {
        (self.get)(s).unwrap_or(f64::NAN)
    }

    /// The value in full precision, for files (empty when missing).
    pub fn cell(&self, s: &RunSummary) -> String {
        full(self.value(s))
    }

    /// The value rounded for printed tables (empty when missing).
    pub fn printed(&self, s: &RunSummary) -> String {
        num(self.value(s), self.decimals)
    }

    /// Whether the run has the value and it is not 0 (rows shown only then).
    pub fn is_nonzero(&self, s: &RunSummary) -> bool {
        (self.get)(s).is_some_and(|x| x != 0.0)
    }
}

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

fn count(x: u64) -> Option<f64> {
    Some(x as f64)
}

fn counter(s: &RunSummary, name: &str) -> Option<f64> {
    s.counter(name).map(|v| v as f64)
}

macro_rules! m {
    ($name:literal, $label:literal, $unit:literal, $decimals:literal, $get:expr) => {
        Metric { name: $name, label: $label, unit: $unit, decimals: $decimals, get: $get }
    };
}

/// Every metric, in the order of the runs tables.
pub const METRICS: &[Metric] = &[
    m!("offered_tps", "offered load (tx/s)", "tx/s", 1, |s| Some(s.offered_tps)),
    m!("goodput_tps", "goodput (tx/s)", "tx/s", 1, |s| Some(s.goodput_tps)),
    m!("submitted_tx", "submitted tx", "tx", 0, |s| count(s.submitted_tx)),
    m!("committed_tx", "committed tx (whole run)", "tx", 0, |s| count(s.committed_tx)),
    m!("confirmed_tx", "confirmed tx", "tx", 0, |s| count(s.confirmed_tx)),
    m!("unconfirmed_tx", "unconfirmed tx", "tx", 1, |s| count(s.unconfirmed_tx)),
    m!("e2e_count", "end-to-end count", "tx", 0, |s| count(s.latency_ms.e2e.count)),
    m!("e2e_p50_ms", "end-to-end p50 (ms)", "ms", 1, |s| s.latency_ms.e2e.p50),
    m!("e2e_p90_ms", "end-to-end p90 (ms)", "ms", 1, |s| s.latency_ms.e2e.p90),
    m!("e2e_p99_ms", "end-to-end p99 (ms)", "ms", 1, |s| s.latency_ms.e2e.p99),
    m!("e2e_max_ms", "end-to-end max (ms)", "ms", 1, |s| s.latency_ms.e2e.max),
    m!("e2e_mean_ms", "end-to-end mean (ms)", "ms", 1, |s| s.latency_ms.e2e.mean),
    m!("e2e_p99_all_ms", "end-to-end p99, unconfirmed as late (ms)", "ms", 3, |s| s.e2e_p99_all_ms.get()),
    m!("consensus_p50_ms", "consensus p50 (ms)", "ms", 1, |s| s.latency_ms.consensus.p50),
    m!("consensus_p90_ms", "consensus p90 (ms)", "ms", 1, |s| s.latency_ms.consensus.p90),
    m!("consensus_p99_ms", "consensus p99 (ms)", "ms", 1, |s| s.latency_ms.consensus.p99),
    m!("consensus_max_ms", "consensus max (ms)", "ms", 1, |s| s.latency_ms.consensus.max),
    m!("consensus_mean_ms", "consensus mean (ms)", "ms", 1, |s| s.latency_ms.consensus.mean),
    m!("execution_p50_ms", "execution p50 (ms)", "ms", 1, |s| s.latency_ms.execution.p50),
    m!("execution_p90_ms", "execution p90 (ms)", "ms", 1, |s| s.latency_ms.execution.p90),
    m!("execution_p99_ms", "execution p99 (ms)", "ms", 1, |s| s.latency_ms.execution.p99),
    m!("execution_mean_ms", "execution mean (ms)", "ms", 1, |s| s.latency_ms.execution.mean),
    m!("proposal_commit_p50_ms", "proposal-to-commit p50 (ms)", "ms", 1, |s| s.latency_ms.proposal_commit.p50),
    m!("proposal_commit_p90_ms", "proposal-to-commit p90 (ms)", "ms", 1, |s| s.latency_ms.proposal_commit.p90),
    m!("proposal_commit_p99_ms", "proposal-to-commit p99 (ms)", "ms", 1, |s| s.latency_ms.proposal_commit.p99),
    m!("proposal_commit_mean_ms", "proposal-to-commit mean (ms)", "ms", 1, |s| s.latency_ms.proposal_commit.mean),
    m!("proposer_p50_ms", "at the proposer p50 (ms)", "ms", 1, |s| s.latency_ms.proposer.p50),
    m!("proposer_p90_ms", "at the proposer p90 (ms)", "ms", 1, |s| s.latency_ms.proposer.p90),
    m!("proposer_p99_ms", "at the proposer p99 (ms)", "ms", 1, |s| s.latency_ms.proposer.p99),
    m!("proposer_mean_ms", "at the proposer mean (ms)", "ms", 1, |s| s.latency_ms.proposer.mean),
    m!("msgs_per_tx", "messages per committed tx", "messages", 2, |s| s.msgs_per_tx),
    m!("bytes_per_tx", "bytes per committed tx", "B", 0, |s| s.bytes_per_tx),
    m!("messages_per_replica", "messages per replica", "messages", 0, |s| Some(s.messages_per_replica)),
    m!("bytes_per_replica", "bytes per replica", "B", 0, |s| Some(s.bytes_per_replica)),
    m!("cpu_util_mean", "replica CPU use, mean (share of cores)", "fraction", 4, |s| Some(s.cpu_util_mean)),
    m!("cpu_util_max", "replica CPU use, max (share of cores)", "fraction", 4, |s| Some(s.cpu_util_max)),
    m!("cpu_us_per_tx", "CPU per committed tx (us)", "us", 1, |s| s.cpu_us_per_tx),
    m!("cpu_busy_pct", "replica CPU busy, mean (%)", "%", 1, |s| Some(100.0 * s.cpu_util_mean)),
    m!("cpu_ms_per_tx_per_replica", "CPU per committed tx per correct replica (ms)", "ms", 2, |s| {
        (s.committed_tx > 0 && s.correct_replicas > 0)
            .then(|| s.cpu_busy_ms / s.committed_tx as f64 / s.correct_replicas as f64)
    }),
    m!("cpu_busy_ms", "CPU time of correct replicas (ms)", "ms", 1, |s| Some(s.cpu_busy_ms)),
    m!("request_cpu_busy_ms", "request-pool CPU time of correct replicas (ms)", "ms", 1, |s| s.request_cpu_busy_ms),
    m!("request_cpu_util_max", "request-pool CPU use, max (share of its cores)", "fraction", 4, |s| {
        s.request_cpu_util_max
    }),
    m!("uplink_util_max", "busiest uplink use (share)", "fraction", 4, |s| Some(s.uplink_util_max)),
    m!("requests_dropped", "requests dropped (queue full)", "requests", 0, |s| s.requests_dropped.and_then(count)),
    m!("requests_pushed_back", "requests pushed back (queue full)", "requests", 0, |s| {
        s.requests_pushed_back.and_then(count)
    }),
    m!("requests_waiting_max", "most requests waiting at a replica", "requests", 0, |s| {
        s.requests_waiting_max.and_then(count)
    }),
    m!("events", "events", "events", 0, |s| count(s.events)),
    m!("virtual_time_s", "virtual time (s)", "s", 3, |s| Some(s.virtual_time_s)),
    m!("correct_replicas", "correct replicas", "replicas", 0, |s| count(s.correct_replicas)),
    m!("views", "views reached (max over correct replicas)", "views", 0, |s| counter(s, "view")),
    m!("view_changes", "view changes", "views", 0, |s| counter(s, "view_changes")),
    m!("rounds", "rounds", "rounds", 0, |s| counter(s, "rounds")),
    m!("empty_rounds", "empty rounds", "rounds", 0, |s| counter(s, "empty_rounds")),
    m!("final_rounds", "final rounds", "rounds", 0, |s| counter(s, "final_rounds")),
    m!("step_timeouts", "BA* step timeouts", "steps", 0, |s| counter(s, "step_timeouts")),
    m!("final_timeouts", "FINAL counts timed out", "rounds", 0, |s| counter(s, "final_timeouts")),
    m!("round_s", "s per round (run length / rounds)", "s", 2, |s| {
        counter(s, "rounds").filter(|&k| k > 0.0).map(|k| s.virtual_time_s / k)
    }),
    m!("round_mean_s", "s per round (a user's mean over the rounds it finished, median user)", "s", 2, |s| {
        s.counter_median("round_mean_ms").filter(|&ms| ms > 0).map(|ms| ms as f64 / 1000.0)
    }),
    m!("fast_path", "fast-path commits", "commands", 0, |s| counter(s, "fast_path")),
    m!("slow_path", "slow-path commits", "commands", 0, |s| counter(s, "slow_path")),
    m!("recoveries", "recovery requests", "requests", 0, |s| counter(s, "recoveries")),
    m!("recovered_commands", "recovered commands", "commands", 0, |s| counter(s, "recovered_commands")),
    m!("fast_path_pct", "fast-path share (%)", "%", 1, |s| counter(s, "fast_path_permille").map(|x| x / 10.0)),
    m!("deps_mean", "dependencies per command, mean", "commands", 1, |s| {
        counter(s, "deps_mean_milli").map(|x| x / 1000.0)
    }),
    m!("deps_max", "dependencies per command, max", "commands", 0, |s| counter(s, "deps_max")),
    m!("component_max", "largest component (commands)", "commands", 0, |s| counter(s, "component_max")),
    m!("wall_s", "wall time (s)", "s", 2, |s| s.cost.map(|c| c.wall_s)),
    m!("peak_mib", "peak memory (MiB)", "MiB", 0, |s| s.cost.map(|c| c.peak_rss_mib)),
    m!("events_per_wall_s", "events per wall second", "events/s", 0, |s| s.cost.map(|c| s.events as f64 / c.wall_s)),
    m!("sim_s_per_wall_s", "simulated seconds per wall second", "s/s", 2, |s| {
        s.cost.map(|c| (s.duration_s + s.drain_s) / c.wall_s)
    }),
    m!("ended_early", "stopped before the end (1 = yes)", "runs", 0, |s| count(u64::from(s.stop != "end"))),
];

/// The metric of a name, None when there is none.
pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// A protocol's summary row (`protocols::SummaryRows`): `template` with each `{name}` replaced by
/// that metric's value (0 when the run lacks it) with its printed decimals. The templates are
/// declarations, not input: a name the registry lacks is a bug, and panics.
pub fn fill(template: &str, s: &RunSummary) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map(|i| open + i);
        let close = close.unwrap_or_else(|| panic!("{template:?}: a `{{` without its `}}`"));
        let name = &rest[open + 1..close];
        let m = metric(name).unwrap_or_else(|| panic!("{template:?}: `{name}` is no metric of the registry"));
        out.push_str(&rest[..open]);
        out.push_str(&num((m.get)(s).unwrap_or(0.0), m.decimals));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The metrics of a comma-separated list of names, or an error naming the unknown one and
/// every known name (for command-line options; exit 2).
pub fn parse_names(list: &str) -> Result<Vec<&'static Metric>, String> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim) {
        match metric(name) {
            Some(m) => out.push(m),
            None => {
                let known: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
                return Err(format!("unknown metric `{name}`\n  help: the metrics are {}", known.join(", ")));
            }
        }
    }
    Ok(out)
}

/// The metric of a name, at compile time: a misspelt name fails the build.
const fn named(name: &str) -> &'static Metric {
    let mut i = 0;
    while i < METRICS.len() {
        if same(METRICS[i].name, name) {
            return &METRICS[i];
        }
        i += 1;
    }
    panic!("no such metric")
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

pub const OFFERED_TPS: &Metric = named("offered_tps");
pub const GOODPUT_TPS: &Metric = named("goodput_tps");
pub const SUBMITTED_TX: &Metric = named("submitted_tx");
pub const COMMITTED_TX: &Metric = named("committed_tx");
pub const UNCONFIRMED_TX: &Metric = named("unconfirmed_tx");
pub const E2E_P50_MS: &Metric = named("e2e_p50_ms");
pub const E2E_P90_MS: &Metric = named("e2e_p90_ms");
pub const E2E_P99_MS: &Metric = named("e2e_p99_ms");
pub const E2E_MAX_MS: &Metric = named("e2e_max_ms");
pub const E2E_MEAN_MS: &Metric = named("e2e_mean_ms");
pub const E2E_COUNT: &Metric = named("e2e_count");
pub const E2E_P99_ALL_MS: &Metric = named("e2e_p99_all_ms");
pub const CONSENSUS_P50_MS: &Metric = named("consensus_p50_ms");
pub const CONSENSUS_P90_MS: &Metric = named("consensus_p90_ms");
pub const CONSENSUS_P99_MS: &Metric = named("consensus_p99_ms");
pub const PROPOSAL_COMMIT_P50_MS: &Metric = named("proposal_commit_p50_ms");
pub const PROPOSAL_COMMIT_P99_MS: &Metric = named("proposal_commit_p99_ms");
pub const PROPOSER_P50_MS: &Metric = named("proposer_p50_ms");
pub const PROPOSER_P99_MS: &Metric = named("proposer_p99_ms");
pub const MSGS_PER_TX: &Metric = named("msgs_per_tx");
pub const BYTES_PER_TX: &Metric = named("bytes_per_tx");
pub const CPU_UTIL_MEAN: &Metric = named("cpu_util_mean");
pub const CPU_US_PER_TX: &Metric = named("cpu_us_per_tx");
pub const EVENTS: &Metric = named("events");
pub const REQUESTS_DROPPED: &Metric = named("requests_dropped");
pub const REQUESTS_PUSHED_BACK: &Metric = named("requests_pushed_back");
pub const REQUESTS_WAITING_MAX: &Metric = named("requests_waiting_max");
pub const VIEWS: &Metric = named("views");
pub const VIEW_CHANGES: &Metric = named("view_changes");
pub const FAST_PATH: &Metric = named("fast_path");
pub const SLOW_PATH: &Metric = named("slow_path");
pub const FAST_PATH_PCT: &Metric = named("fast_path_pct");
pub const RECOVERIES: &Metric = named("recoveries");
pub const RECOVERED_COMMANDS: &Metric = named("recovered_commands");
pub const DEPS_MEAN: &Metric = named("deps_mean");
pub const DEPS_MAX: &Metric = named("deps_max");
pub const COMPONENT_MAX: &Metric = named("component_max");

/// The metrics of a run's row in compare-runs.csv and sweep.csv, between `stop_detail` and
/// `digest`.
pub const RUN_ROW: &[&Metric] = &[
    OFFERED_TPS,
    GOODPUT_TPS,
    SUBMITTED_TX,
    COMMITTED_TX,
    UNCONFIRMED_TX,
    E2E_P50_MS,
    E2E_P90_MS,
    E2E_P99_MS,
    E2E_MAX_MS,
    E2E_P99_ALL_MS,
    CONSENSUS_P50_MS,
    CONSENSUS_P90_MS,
    CONSENSUS_P99_MS,
    MSGS_PER_TX,
    BYTES_PER_TX,
    CPU_UTIL_MEAN,
    CPU_US_PER_TX,
    EVENTS,
];

/// The columns of a run's row: the stop first, so that a run that did not complete is seen
/// before its numbers, then [`RUN_ROW`], then the digest.
pub fn run_columns() -> Vec<&'static str> {
    let mut cols = vec!["stop", "stop_detail"];
    cols.extend(RUN_ROW.iter().map(|m| m.name));
    cols.push("digest");
    cols
}

impl RunSummary {
    /// The cells under [`run_columns`], numbers in full precision.
    pub fn run_cells(&self) -> Vec<String> {
        let mut cells = vec![self.stop.clone(), self.stop_detail.clone()];
        cells.extend(RUN_ROW.iter().map(|m| m.cell(self)));
        cells.push(self.digest.clone());
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::{ProtocolKind, SummaryRows};

    /// Every protocol's summary rows name metrics of the registry, and fill as the summary
    /// table printed them before the rows moved into the protocol modules.
    #[test]
    fn summary_templates_name_registry_metrics() {
        let counters = [("fast_path".to_string(), 3), ("fast_path_permille".to_string(), 750)].into();
        let s = RunSummary { counters, ..Default::default() };
        for kind in ProtocolKind::ALL {
            let SummaryRows::Metrics(rows) = kind.summary_rows() else { continue };
            for (_, template) in rows {
                fill(template, &s);
            }
        }
        assert_eq!(fill("{fast_path} / {slow_path} ({fast_path_pct}% fast)", &s), "3 / 0 (75.0% fast)");
    }

    #[test]
    #[should_panic(expected = "`fast_paths` is no metric of the registry")]
    fn a_template_naming_no_metric_fails() {
        fill("{fast_paths}", &RunSummary::default());
    }

    #[test]
    fn every_name_is_unique_and_found() {
        for (i, m) in METRICS.iter().enumerate() {
            assert!(METRICS[..i].iter().all(|o| o.name != m.name), "`{}` is registered twice", m.name);
            assert_eq!(metric(m.name).map(|found| found.label), Some(m.label));
            assert!(!m.label.is_empty() && !m.unit.is_empty(), "{} needs a label and a unit", m.name);
        }
        assert!(metric("goodput").is_none());
        let err = parse_names("goodput_tps, goodput").unwrap_err();
        assert!(err.contains("unknown metric `goodput`") && err.contains("e2e_p99_all_ms"), "{err}");
        assert_eq!(parse_names("goodput_tps,e2e_p99_ms").unwrap().len(), 2);
    }

    #[test]
    fn rounds_and_cost_per_wall_second_divide_the_whole_run() {
        let mut s =
            RunSummary { duration_s: 30.0, drain_s: 15.0, virtual_time_s: 45.0, events: 900, ..RunSummary::default() };
        s.stop = "end".into();
        assert_eq!(metric("round_s").and_then(|m| (m.get)(&s)), None, "no rounds counted");
        s.counters.insert("rounds".into(), 15);
        assert_eq!(metric("round_s").and_then(|m| (m.get)(&s)), Some(3.0));
        // The finer round time reads the median user's mean, not the slowest user's.
        assert_eq!(metric("round_mean_s").and_then(|m| (m.get)(&s)), None, "no round timed");
        s.counters.insert("round_mean_ms".into(), 27_241);
        s.counters_median.insert("round_mean_ms".into(), 23_844);
        assert_eq!(metric("round_mean_s").and_then(|m| (m.get)(&s)), Some(23.844));
        assert_eq!(metric("ended_early").and_then(|m| (m.get)(&s)), Some(0.0));
        s.stop = "violation".into();
        assert_eq!(metric("ended_early").and_then(|m| (m.get)(&s)), Some(1.0));
        assert_eq!(metric("sim_s_per_wall_s").and_then(|m| (m.get)(&s)), None, "not measured");
        s.cost = Some(super::super::RunCost { wall_s: 9.0, peak_rss_mib: 1.0 });
        assert_eq!(metric("sim_s_per_wall_s").and_then(|m| (m.get)(&s)), Some(5.0));
        assert_eq!(metric("events_per_wall_s").and_then(|m| (m.get)(&s)), Some(100.0));
    }

    /// Columns of tables that are not numbers of a run: who and what ran, and how it ended.
    const IDENTITY: &[&str] = &["stop", "stop_detail", "digest"];

    #[test]
    fn every_column_of_every_table_is_a_registry_metric() {
        let tables: [(&str, Vec<&str>); 3] = [
            ("run rows (compare-runs.csv, sweep.csv)", run_columns()),
            ("compare.csv, compare.json", crate::compare::COMPARED.iter().map(|m| m.name).collect()),
            ("sweep summary.csv", crate::sweep::SUMMARY.iter().map(|m| m.name).collect()),
        ];
        for (table, columns) in tables {
            for column in columns.into_iter().filter(|c| !IDENTITY.contains(c)) {
                let m = metric(column).unwrap_or_else(|| panic!("{table}: column `{column}` is no registry metric"));
                assert_eq!(m.name, column);
            }
        }
    }
}
