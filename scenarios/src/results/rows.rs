//! A run's per-row records, one type per CSV file of the results folder: per transaction
//! (latency.csv), per window (timeseries.csv), per node (nodes.csv) and per node and message
//! kind (messages.csv). Each is serde-derived, so the files read back typed
//! (`csv::Reader::deserialize`, an empty cell being `None`); the cells are written in full
//! precision, as every file of byzsim (latency.csv's times exactly, to the nanosecond).

use serde::{Deserialize, Serialize};
use sim_core::Time;
use sim_core::metrics::WindowRow;
use sim_core::net::KindStats;
use sim_core::observe::TxRecord as Tx;

use super::{cpu_util, full, request_cpu_util};
use crate::model::Behavior;
use crate::run::Report;

/// A count as a cell.
fn int(x: u64) -> String {
    x.to_string()
}

/// A value that may be missing as a cell (empty when missing).
fn opt(x: Option<f64>) -> String {
    x.map_or(String::new(), full)
}

/// One transaction (latency.csv): when it was submitted, arrived at a replica, committed,
/// executed and confirmed to its client (seconds of virtual time), the spans between them
/// (ms), and what the replicas answered. None (an empty cell): it never happened.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct TxRecord {
    pub tx: u64,
    pub client: u32,
    pub region: String,
    /// Submitted inside the measured window (after warm-up, before the load stops).
    pub in_window: bool,
    pub submitted_s: Option<f64>,
    pub arrived_s: Option<f64>,
    pub committed_s: Option<f64>,
    pub executed_s: Option<f64>,
    pub confirmed_s: Option<f64>,
    /// Arrival to commit.
    pub consensus_ms: Option<f64>,
    /// Arrival to execution.
    pub execution_ms: Option<f64>,
    /// Submission to confirmation.
    pub e2e_ms: Option<f64>,
    /// `applied`, `bad_nonce`, `insufficient_funds`, `other` or `unconfirmed`.
    pub result: String,
}

impl TxRecord {
    pub const COLUMNS: [&str; 13] = [
        "tx",
        "client",
        "region",
        "in_window",
        "submitted_s",
        "arrived_s",
        "committed_s",
        "executed_s",
        "confirmed_s",
        "consensus_ms",
        "execution_ms",
        "e2e_ms",
        "result",
    ];

    /// The cells of the run's transaction `i` under [`TxRecord::COLUMNS`], times written
    /// exactly from the run's nanoseconds (not through an f64).
    pub fn cells(report: &Report, i: usize, t: &Tx) -> [String; 13] {
        let s = &report.scenario;
        let (from, to) = (Time::from_secs_f64(s.warmup_s), Time::from_secs_f64(s.duration_s));
        [
            i.to_string(),
            t.client.0.to_string(),
            report.lowered.node_regions[t.client.idx()].clone(),
            (from <= t.submitted && t.submitted < to).to_string(),
            secs_or_empty(t.submitted),
            secs_or_empty(t.arrived),
            secs_or_empty(t.committed),
            secs_or_empty(t.executed),
            secs_or_empty(t.confirmed),
            ms_between(t.arrived, t.committed),
            ms_between(t.arrived, t.executed),
            ms_between(t.submitted, t.confirmed),
            result_word(t).to_string(),
        ]
    }
}

/// Seconds with nanosecond precision (exact), or an empty cell for "never".
fn secs_or_empty(t: Time) -> String {
    if t == Time::MAX {
        return String::new();
    }
    format!("{}.{:09}", t.as_nanos() / 1_000_000_000, t.as_nanos() % 1_000_000_000)
}

/// Milliseconds from `a` to `b` with nanosecond precision (exact), or empty if either is never.
fn ms_between(a: Time, b: Time) -> String {
    if a == Time::MAX || b == Time::MAX {
        return String::new();
    }
    let ns = b.saturating_sub(a).as_nanos();
    format!("{}.{:06}", ns / 1_000_000, ns % 1_000_000)
}

/// A transaction's result as a word: what the replicas answered, or `unconfirmed`.
fn result_word(t: &Tx) -> &'static str {
    if !t.is_confirmed() {
        return "unconfirmed";
    }
    match t.result {
        0 => "applied",
        1 => "bad_nonce",
        2 => "insufficient_funds",
        _ => "other",
    }
}

/// One window of `output.window_s` (timeseries.csv).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowRecord {
    pub window_start_s: f64,
    pub offered_tps: f64,
    pub committed_tps: f64,
    pub goodput_tps: f64,
    /// Transactions confirmed in the window; the percentiles are theirs (None without one).
    pub e2e_count: u64,
    pub e2e_p50_ms: Option<f64>,
    pub e2e_p90_ms: Option<f64>,
    pub e2e_p99_ms: Option<f64>,
}

impl WindowRecord {
    pub const COLUMNS: [&str; 8] = [
        "window_start_s",
        "offered_tps",
        "committed_tps",
        "goodput_tps",
        "e2e_count",
        "e2e_p50_ms",
        "e2e_p90_ms",
        "e2e_p99_ms",
    ];

    pub fn of(w: &WindowRow) -> WindowRecord {
        let some = |x: f64| (w.e2e.count > 0).then_some(x);
        WindowRecord {
            window_start_s: w.start_s,
            offered_tps: w.offered_tps,
            committed_tps: w.committed_tps,
            goodput_tps: w.goodput_tps,
            e2e_count: w.e2e.count,
            e2e_p50_ms: some(w.e2e.p50_ms),
            e2e_p90_ms: some(w.e2e.p90_ms),
            e2e_p99_ms: some(w.e2e.p99_ms),
        }
    }

    /// The cells under [`WindowRecord::COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            full(self.window_start_s),
            full(self.offered_tps),
            full(self.committed_tps),
            full(self.goodput_tps),
            int(self.e2e_count),
            opt(self.e2e_p50_ms),
            opt(self.e2e_p90_ms),
            opt(self.e2e_p99_ms),
        ]
    }
}

/// One node over the whole run (nodes.csv); the protocol's counters follow as columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub node: u32,
    /// `replica` or `client`.
    pub kind: String,
    pub region: String,
    pub correct: bool,
    pub crashed_at_end: bool,
    pub msgs_sent: u64,
    pub bytes_sent: u64,
    pub msgs_recv: u64,
    pub bytes_recv: u64,
    pub msgs_dropped: u64,
    /// Share of the node's cores busy over the run (replicas only).
    pub cpu_util: Option<f64>,
    /// Share of the node's request-pool cores busy (replicas with a request pool only; the
    /// column is written only when the scenario has one).
    #[serde(default)]
    pub request_cpu_util: Option<f64>,
    /// The Byzantine behaviour (`correct` for a correct replica; empty for a client).
    pub behavior: String,
    /// The protocol's counters, in the protocol's order (replicas only).
    pub counters: Vec<(String, u64)>,
}

impl NodeRecord {
    pub const COLUMNS: [&str; 12] = [
        "node",
        "kind",
        "region",
        "correct",
        "crashed_at_end",
        "msgs_sent",
        "bytes_sent",
        "msgs_recv",
        "bytes_recv",
        "msgs_dropped",
        "cpu_util",
        "behavior",
    ];

    /// Every node of the run, in id order.
    pub fn all(report: &Report) -> Vec<NodeRecord> {
        report.result.nodes.iter().map(|n| NodeRecord::of(report, n)).collect()
    }

    fn of(report: &Report, node: &sim_core::NodeReport) -> NodeRecord {
        let (l, replica) = (&node.link, node.is_replica);
        let behavior = if replica { Behavior::name_of(report.lowered.byzantine[node.id.idx()]) } else { "" };
        NodeRecord {
            node: node.id.0,
            kind: if replica { "replica" } else { "client" }.to_string(),
            region: report.lowered.node_regions[node.id.idx()].clone(),
            correct: node.correct,
            crashed_at_end: node.crashed_at_end,
            msgs_sent: l.msgs_sent,
            bytes_sent: l.bytes_sent,
            msgs_recv: l.msgs_recv,
            bytes_recv: l.bytes_recv,
            msgs_dropped: l.msgs_dropped,
            cpu_util: replica.then(|| cpu_util(report, node)),
            request_cpu_util: (replica && node.request_cores > 0).then(|| request_cpu_util(report, node)),
            behavior: behavior.to_string(),
            counters: node.counters.iter().map(|&(k, v)| (k.to_string(), v)).collect(),
        }
    }

    /// The header: [`NodeRecord::COLUMNS`], `request_cpu_util` after `cpu_util` when `pools`
    /// (the run had a request pool), then the counters `names`.
    pub fn header<'a>(pools: bool, names: &[&'a str]) -> Vec<&'a str> {
        let mut header = NodeRecord::COLUMNS.to_vec();
        if pools {
            let at = header.iter().position(|c| *c == "cpu_util").expect("a cpu_util column") + 1;
            header.insert(at, "request_cpu_util");
        }
        header.extend(names);
        header
    }

    /// The cells under [`NodeRecord::header`] (empty when the node has no counter of a name).
    pub fn cells(&self, pools: bool, names: &[&str]) -> Vec<String> {
        let mut cells = vec![
            self.node.to_string(),
            self.kind.clone(),
            self.region.clone(),
            self.correct.to_string(),
            self.crashed_at_end.to_string(),
            int(self.msgs_sent),
            int(self.bytes_sent),
            int(self.msgs_recv),
            int(self.bytes_recv),
            int(self.msgs_dropped),
            opt(self.cpu_util),
            self.behavior.clone(),
        ];
        if pools {
            cells.insert(cells.len() - 1, opt(self.request_cpu_util));
        }
        for name in names {
            cells.push(self.counters.iter().find(|c| c.0 == *name).map_or(String::new(), |c| int(c.1)));
        }
        cells
    }
}

/// What one node sent and received of one message kind (messages.csv).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub node: u32,
    /// `replica` or `client`.
    pub kind: String,
    pub message: String,
    /// `message` on the wire, or `item` carried inside one (see `messages`).
    pub unit: String,
    pub msgs_sent: u64,
    pub bytes_sent: u64,
    pub msgs_recv: u64,
    pub bytes_recv: u64,
}

impl MessageRecord {
    pub const COLUMNS: [&str; 8] =
        ["node", "kind", "message", "unit", "msgs_sent", "bytes_sent", "msgs_recv", "bytes_recv"];

    /// One row per node and kind it sent or received anything of, in node order.
    pub fn all(report: &Report) -> Vec<MessageRecord> {
        let mut out = Vec::new();
        for node in &report.result.nodes {
            let kinds = report.result.kinds.iter().zip(&node.traffic);
            for (kind, t) in kinds.filter(|(_, t)| **t != KindStats::default()) {
                out.push(MessageRecord {
                    node: node.id.0,
                    kind: if node.is_replica { "replica" } else { "client" }.to_string(),
                    message: kind.name.to_string(),
                    unit: if kind.item { "item" } else { "message" }.to_string(),
                    msgs_sent: t.msgs_sent,
                    bytes_sent: t.bytes_sent,
                    msgs_recv: t.msgs_recv,
                    bytes_recv: t.bytes_recv,
                });
            }
        }
        out
    }

    /// The cells under [`MessageRecord::COLUMNS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.node.to_string(),
            self.kind.clone(),
            self.message.clone(),
            self.unit.clone(),
            int(self.msgs_sent),
            int(self.bytes_sent),
            int(self.msgs_recv),
            int(self.bytes_recv),
        ]
    }
}
