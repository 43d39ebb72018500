//! A run's results as typed records, built once from a finished run and read by every writer,
//! table, comparison and sweep: [`RunSummary`] (summary.json), and the plot data behind the
//! figures ([`RunData`]), and one record type per row of the other files ([`rows`]). The one
//! metric registry lives in [`metric`].
//!
//! summary.json is `RunSummary` serialized; its keys are declared in alphabetical order, the
//! order summary.json always had. `cost` (wall time and peak memory) is filled only by callers
//! that measure it and is never written into a deterministic file.

pub mod metric;
pub mod rows;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::metrics::{LatencyStats, WindowRow};
use sim_core::{NodeReport, Stop, Time};

use crate::messages;
use crate::model::{Behavior, Scenario};
use crate::run::Report;

pub use metric::{METRICS, Metric, full, metric, num};
pub use rows::{MessageRecord, NodeRecord, TxRecord, WindowRecord};

/// Latency statistics in ms, as summary.json holds them: null percentiles without a transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub count: u64,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
}

impl Latency {
    pub fn of(s: &LatencyStats) -> Latency {
        let some = |x: f64| (s.count > 0).then_some(x);
        Latency {
            count: s.count,
            max: some(s.max_ms),
            mean: some(s.mean_ms),
            p50: some(s.p50_ms),
            p90: some(s.p90_ms),
            p99: some(s.p99_ms),
        }
    }
}

/// The latencies of the measurement window's transactions: ours (consensus, end-to-end,
/// execution) and the references' (`proposal_commit`: the asonnino/hotstuff prototype's
/// consensus latency; `proposer`: Bamboo's latency at the proposer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latencies {
    pub consensus: Latency,
    pub e2e: Latency,
    pub execution: Latency,
    pub proposal_commit: Latency,
    pub proposer: Latency,
}

/// A Byzantine replica and its behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ByzantineReplica {
    pub behavior: String,
    pub replica: usize,
}

/// Late transactions the liveness check found explained by a backlog (`sim_core::Backlog`):
/// the run was overloaded, which is not a violation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LivenessBacklog {
    /// When the first late transaction was found.
    pub at_s: f64,
    /// Transactions pending then, and confirmed over the bound before it.
    pub pending_tx: u64,
    pub confirmed_in_bound: u64,
    /// The most pending at any check after it.
    pub max_pending_tx: u64,
}

impl LivenessBacklog {
    pub fn of(b: &sim_core::Backlog) -> LivenessBacklog {
        LivenessBacklog {
            at_s: b.at.as_secs_f64(),
            pending_tx: b.pending,
            confirmed_in_bound: b.confirmed_in_bound,
            max_pending_tx: b.max_pending,
        }
    }

    /// One line for the run's output.
    pub fn text(&self) -> String {
        format!(
            "overloaded from {:.3} s: {} transactions pending against {} confirmed over the last liveness bound \
             (at most {} pending later); late transactions that the backlog explains, not a liveness violation",
            self.at_s, self.pending_tx, self.confirmed_in_bound, self.max_pending_tx
        )
    }
}

/// The invariant a run broke, where and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub at_s: f64,
    pub detail: String,
    pub invariant: String,
    pub node: u32,
    pub node_label: String,
}

/// What all replicas sent of one message kind over the whole run, in total and per committed
/// transaction (null when none committed).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindTotals {
    pub bytes: u64,
    pub bytes_per_tx: Option<f64>,
    pub msgs: u64,
    pub msgs_per_tx: Option<f64>,
}

/// Per message kind, what replicas sent (see `messages`): message kinds and item kinds apart,
/// every kind the protocol declares, zeros included.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesByType {
    pub committed_tx: u64,
    pub items: BTreeMap<String, KindTotals>,
    pub messages: BTreeMap<String, KindTotals>,
}

/// End-to-end latencies of the window's transactions sent by the clients of one region.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionLatency {
    pub e2e: Latency,
    pub region: String,
    pub unconfirmed_tx: u64,
}

/// What a run cost the machine that ran it: measured, so never in a deterministic file.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunCost {
    pub wall_s: f64,
    pub peak_rss_mib: f64,
}

/// One run's results (summary.json). Fields in alphabetical order: that is the key order of the
/// file. Numbers that may be missing (no transaction) are `None`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub byzantine: Vec<ByzantineReplica>,
    pub byzantine_stake_ppm: Option<u64>,
    /// Mean over replicas of the bytes each sent.
    pub bytes_per_replica: f64,
    /// Bytes sent by replicas over the whole run, per transaction committed over the whole run.
    pub bytes_per_tx: Option<f64>,
    pub committed_tx: u64,
    pub confirmed_tx: u64,
    pub correct_replicas: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<RunCost>,
    /// The run's monitor counters, then each replica counter's maximum over correct replicas.
    pub counters: BTreeMap<String, u64>,
    /// Each replica counter's median over correct replicas (the lower middle value).
    #[serde(default)]
    pub counters_median: BTreeMap<String, u64>,
    /// CPU time of correct replicas (all cores), in ms.
    pub cpu_busy_ms: f64,
    /// Replica CPU time (all replicas, all cores) per committed transaction, in microseconds.
    pub cpu_us_per_tx: Option<f64>,
    /// Share of its cores a replica kept busy: the maximum and the mean over replicas (0 to 1).
    pub cpu_util_max: f64,
    pub cpu_util_mean: f64,
    /// The run digest as 16 hex digits (a u64 does not survive a JSON double).
    pub digest: String,
    pub dirty: bool,
    pub drain_s: f64,
    pub duration_s: f64,
    /// End-to-end p99 over every transaction submitted in the window, unconfirmed ones counted
    /// as infinitely late (see [`AllMs`]): what sweep's saturation compares with its bound.
    pub e2e_p99_all_ms: AllMs,
    pub events: u64,
    pub f: u32,
    pub git_commit: String,
    pub goodput_tps: f64,
    pub latency_ms: Latencies,
    /// The liveness check found the run overloaded (None: it did not, or no check ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_backlog: Option<LivenessBacklog>,
    pub messages_by_type: MessagesByType,
    /// Mean over replicas of the messages each sent.
    pub messages_per_replica: f64,
    /// Messages sent by replicas over the whole run, per transaction committed over the whole run.
    pub msgs_per_tx: Option<f64>,
    pub n_clients: u32,
    pub n_replicas: u32,
    pub offered_tps: f64,
    pub protocol: String,
    /// End-to-end latency by client region, regions in the order of the clients.
    pub regions: Vec<RegionLatency>,
    pub reproduce: String,
    /// With `clients.queue_limit` only (None without): the client requests replicas dropped
    /// and pushed back because their request queue was full, and the most requests one
    /// replica held waiting for a core at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_dropped: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_pushed_back: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_waiting_max: Option<u64>,
    /// With a request pool (`[cpu] request_cores`): its CPU time at correct replicas, in ms
    /// (also counted in `cpu_busy_ms`), and the largest share of its cores a replica kept busy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_cpu_busy_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_cpu_util_max: Option<f64>,
    pub scenario: String,
    pub seed: u64,
    pub stop: String,
    pub stop_detail: String,
    pub submitted_tx: u64,
    pub unconfirmed_tx: u64,
    /// The busiest replica's uplink: bytes sent over the run against its capacity (0 unlimited).
    pub uplink_util_max: f64,
    pub version: String,
    pub violation: Option<Violation>,
    pub virtual_time_s: f64,
    pub warmup_s: f64,
}

/// A latency that may be infinite: a number, `"inf"` when more than 1% of the window's
/// transactions went unconfirmed, or null when the window holds no transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AllMs {
    Ms(f64),
    Text(InfText),
    #[default]
    None,
}

/// The one text an [`AllMs`] may hold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum InfText {
    #[serde(rename = "inf")]
    Inf,
}

impl AllMs {
    pub fn of(x: f64) -> AllMs {
        match x {
            x if x.is_finite() => AllMs::Ms(x),
            f64::INFINITY => AllMs::Text(InfText::Inf),
            _ => AllMs::None,
        }
    }

    /// The value, +infinity for `"inf"`, None without a transaction.
    pub fn get(self) -> Option<f64> {
        match self {
            AllMs::Ms(x) => Some(x),
            AllMs::Text(InfText::Inf) => Some(f64::INFINITY),
            AllMs::None => None,
        }
    }
}

impl RunSummary {
    /// The results of `report`, a run of `scenario`; `reproduce` is left empty (see
    /// [`RunSummary::reproduced_by`]).
    pub fn of(scenario: &Scenario, report: &Report) -> RunSummary {
        let m = &report.summary;
        let s = scenario;
        let (util_mean, util_max) = cpu_util_summary(report);
        let bounded = s.clients.queue.is_some();
        let has_pool = s.cpu.request_cores > 0;
        RunSummary {
            byzantine: byzantine_list(report)
                .into_iter()
                .map(|(replica, b)| ByzantineReplica { behavior: b.to_string(), replica })
                .collect(),
            byzantine_stake_ppm: report.byzantine_stake_ppm,
            bytes_per_replica: per_replica(report, |n| n.link.bytes_sent),
            bytes_per_tx: per_tx(report, |n| n.link.bytes_sent),
            committed_tx: m.committed_tx,
            confirmed_tx: m.confirmed_tx,
            correct_replicas: correct(report).count() as u64,
            cost: None,
            counters: counters_max(report).into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            counters_median: counters_median(report),
            cpu_busy_ms: correct(report).map(|n| (n.cpu_busy_ns + n.request_busy_ns) as f64 / 1e6).sum(),
            cpu_us_per_tx: per_tx(report, |n| n.cpu_busy_ns + n.request_busy_ns).map(|x| x / 1e3),
            cpu_util_max: util_max,
            cpu_util_mean: util_mean,
            digest: format!("{:016x}", report.result.digest),
            dirty: crate::version::dirty(),
            drain_s: s.drain_s,
            duration_s: s.duration_s,
            e2e_p99_all_ms: AllMs::of(p99_all_ms(report)),
            events: report.result.events,
            f: s.replicas.f,
            git_commit: crate::version::GIT.to_string(),
            goodput_tps: m.goodput_tps,
            latency_ms: Latencies {
                consensus: Latency::of(&m.consensus),
                e2e: Latency::of(&m.e2e),
                execution: Latency::of(&m.execution),
                proposal_commit: Latency::of(&m.proposal_commit),
                proposer: Latency::of(&m.proposer),
            },
            liveness_backlog: report.result.backlog.as_ref().map(LivenessBacklog::of),
            messages_by_type: messages_by_type(report),
            messages_per_replica: per_replica(report, |n| n.link.msgs_sent),
            msgs_per_tx: per_tx(report, |n| n.link.msgs_sent),
            n_clients: s.clients.count,
            n_replicas: s.replicas.n,
            offered_tps: m.offered_tps,
            protocol: s.protocol().name().to_string(),
            regions: regions(report),
            reproduce: String::new(),
            requests_dropped: bounded.then_some(report.result.clients.dropped),
            requests_pushed_back: bounded.then_some(report.result.clients.pushed_back),
            requests_waiting_max: bounded.then_some(report.result.clients.max_requests_waiting),
            request_cpu_busy_ms: has_pool.then(|| correct(report).map(|n| n.request_busy_ns as f64 / 1e6).sum()),
            request_cpu_util_max: has_pool
                .then(|| replicas(report).map(|n| request_cpu_util(report, n)).fold(0.0, f64::max)),
            scenario: s.name.clone(),
            seed: s.seed,
            stop: report.result.stop.name().to_string(),
            stop_detail: stop_detail(report),
            submitted_tx: m.submitted_tx,
            unconfirmed_tx: m.unconfirmed_tx,
            uplink_util_max: uplink_util_max(report),
            version: crate::version::CRATE.to_string(),
            violation: violation(report),
            virtual_time_s: report.result.end_time.as_secs_f64(),
            warmup_s: s.warmup_s,
        }
    }

    /// The same, with the command that reproduces the run.
    pub fn reproduced_by(self, reproduce: &str) -> RunSummary {
        RunSummary { reproduce: reproduce.to_string(), ..self }
    }

    /// Whether the run reached its end (no invariant broke, no limit hit): only complete runs
    /// enter means and plots.
    pub fn complete(&self) -> bool {
        self.stop == Stop::End.name()
    }

    /// A counter of the run (see `counters`), None when the protocol has none of that name.
    pub fn counter(&self, name: &str) -> Option<u64> {
        self.counters.get(name).copied()
    }

    /// A replica counter's median over correct replicas (see `counters_median`).
    pub fn counter_median(&self, name: &str) -> Option<u64> {
        self.counters_median.get(name).copied()
    }

    /// summary.json's text.
    pub fn to_json(&self) -> String {
        // Through a `Value`, whose objects sort their keys: the order summary.json always had.
        let value = serde_json::to_value(self).expect("a summary serializes");
        serde_json::to_string_pretty(&value).expect("a value prints") + "\n"
    }
}

/// For summary.json: per kind, the messages and bytes replicas sent over the whole run, in
/// total and per committed transaction (null when none committed). Message kinds and item
/// kinds apart; every kind the protocol declares is listed, zeros included.
pub fn messages_by_type(report: &Report) -> MessagesByType {
    let mut out = MessagesByType { committed_tx: report.summary.committed_tx, ..MessagesByType::default() };
    for (kind, msgs, bytes) in messages::sent_by_replicas(report) {
        let entry = KindTotals {
            msgs,
            bytes,
            msgs_per_tx: messages::per_tx_of(report, msgs),
            bytes_per_tx: messages::per_tx_of(report, bytes),
        };
        let into = if kind.item { &mut out.items } else { &mut out.messages };
        into.insert(kind.name.to_string(), entry);
    }
    out
}

/// Who a node is, for messages: `replica 3`, `user 3` (Algorand) or `client 7`.
pub fn node_label(report: &Report, id: sim_core::NodeId) -> String {
    let replica = report.result.nodes.get(id.idx()).is_none_or(|n| n.is_replica);
    let who = if replica { report.scenario.protocol().node_word() } else { "client" };
    format!("{who} {}", id.0)
}

/// One line for warnings and tables: what stopped the run, where and when.
pub fn stop_detail(report: &Report) -> String {
    match &report.result.stop {
        Stop::End => String::new(),
        Stop::Violation(v) => {
            let mut text = format!(
                "`{}` broke at {} at {:.6} s: {}",
                v.invariant,
                node_label(report, v.replica),
                v.at_ns as f64 / 1e9,
                v.detail
            );
            if let Some(overload) = liveness_overload(report) {
                text.push_str(" (");
                text.push_str(&overload);
                text.push(')');
            }
            text
        }
        Stop::Limit { limit, detail } => format!("hit [limits] {}: {detail}", limit.key()),
    }
}

/// The overload diagnosis of a liveness stop (a saturated CPU or link), if any.
pub fn liveness_overload(report: &Report) -> Option<String> {
    match &report.result.stop {
        Stop::Violation(v) if v.invariant == "liveness" => crate::diagnose::overload(report),
        _ => None,
    }
}

fn violation(report: &Report) -> Option<Violation> {
    let Stop::Violation(v) = &report.result.stop else { return None };
    Some(Violation {
        at_s: Time(v.at_ns).as_secs_f64(),
        detail: v.detail.clone(),
        invariant: v.invariant.to_string(),
        node: v.replica.0,
        node_label: node_label(report, v.replica),
    })
}

/// The Byzantine replicas as (id, behaviour).
pub fn byzantine_list(report: &Report) -> Vec<(usize, &'static str)> {
    let roles = &report.lowered.byzantine;
    (0..roles.len()).filter(|&i| roles[i].is_some()).map(|i| (i, Behavior::name_of(roles[i]))).collect()
}

fn replicas(report: &Report) -> impl Iterator<Item = &NodeReport> {
    report.result.nodes.iter().filter(|n| n.is_replica)
}

fn correct(report: &Report) -> impl Iterator<Item = &NodeReport> {
    replicas(report).filter(|n| n.correct)
}

/// Mean over replicas of a per-node counter.
fn per_replica(report: &Report, field: impl Fn(&NodeReport) -> u64) -> f64 {
    let n = replicas(report).count();
    replicas(report).map(field).sum::<u64>() as f64 / n.max(1) as f64
}

/// The sum over replicas of a per-node counter, per transaction committed over the whole run.
fn per_tx(report: &Report, field: impl Fn(&NodeReport) -> u64) -> Option<f64> {
    let committed = report.summary.committed_tx;
    (committed > 0).then(|| replicas(report).map(field).sum::<u64>() as f64 / committed as f64)
}

/// Share of a replica's cores busy over the run (0 without a CPU model).
pub fn cpu_util(report: &Report, node: &NodeReport) -> f64 {
    let capacity = report.result.end_time.as_nanos() as f64 * node.cores as f64;
    if capacity > 0.0 { node.cpu_busy_ns as f64 / capacity } else { 0.0 }
}

/// Share of a replica's request-pool cores busy over the run (0 without a request pool).
pub fn request_cpu_util(report: &Report, node: &NodeReport) -> f64 {
    let capacity = report.result.end_time.as_nanos() as f64 * node.request_cores as f64;
    if capacity > 0.0 { node.request_busy_ns as f64 / capacity } else { 0.0 }
}

/// Mean and max CPU utilisation over replicas (the consensus pool's).
fn cpu_util_summary(report: &Report) -> (f64, f64) {
    let utils: Vec<f64> = replicas(report).map(|n| cpu_util(report, n)).collect();
    let mean = utils.iter().sum::<f64>() / utils.len().max(1) as f64;
    (mean, utils.iter().copied().fold(0.0, f64::max))
}

/// The busiest replica's uplink use over the run, 0 when uplinks are unlimited.
fn uplink_util_max(report: &Report) -> f64 {
    let uplink_bps = report.scenario.replicas.uplink_mbps * 1e6;
    let end_s = report.result.end_time.as_nanos().max(1) as f64 / 1e9;
    if uplink_bps <= 0.0 {
        return 0.0;
    }
    replicas(report).map(|n| n.link.bytes_sent as f64 * 8.0 / end_s / uplink_bps).fold(0.0, f64::max)
}

/// Protocol counters: the run's monitor counters (fast paths, recoveries...), then the maximum
/// over correct replicas of each replica counter (views reached, view changes seen...).
pub fn counters_max(report: &Report) -> Vec<(&'static str, u64)> {
    let mut out: Vec<(&'static str, u64)> = report.result.counters.clone();
    for node in correct(report) {
        for &(name, v) in &node.counters {
            match out.iter_mut().find(|(k, _)| *k == name) {
                Some(entry) => entry.1 = entry.1.max(v),
                None => out.push((name, v)),
            }
        }
    }
    out
}

/// Each replica counter's median over correct replicas: the lower of the two middle values
/// when their number is even.
pub fn counters_median(report: &Report) -> BTreeMap<String, u64> {
    let mut values: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
    for node in correct(report) {
        for &(name, v) in &node.counters {
            values.entry(name).or_default().push(v);
        }
    }
    values
        .into_iter()
        .map(|(name, mut vs)| {
            vs.sort_unstable();
            (name.to_string(), vs[(vs.len() - 1) / 2])
        })
        .collect()
}

/// The measurement window [warmup, duration).
fn window_of(report: &Report) -> (Time, Time) {
    let s = &report.scenario;
    (Time::from_secs_f64(s.warmup_s), Time::from_secs_f64(s.duration_s))
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

/// Client regions in the order of the clients, each with the end-to-end latencies (ns) of its
/// confirmed transactions submitted in the window and the count of its unconfirmed ones.
fn by_region(report: &Report) -> Vec<(String, Vec<u64>, u64)> {
    let window = window_of(report);
    let regions = &report.lowered.node_regions;
    let mut out: Vec<(String, Vec<u64>, u64)> = Vec::new();
    for t in report.result.txs.iter().filter(|t| window.0 <= t.submitted && t.submitted < window.1) {
        let region = &regions[t.client.idx()];
        let idx = match out.iter().position(|(r, _, _)| r == region) {
            Some(idx) => idx,
            None => {
                out.push((region.clone(), Vec::new(), 0));
                out.len() - 1
            }
        };
        if t.is_confirmed() {
            out[idx].1.push((t.confirmed - t.submitted).as_nanos());
        } else {
            out[idx].2 += 1;
        }
    }
    // Regions in the order of the clients' list, whatever order transactions came in.
    let client_order: Vec<&String> =
        report.result.nodes.iter().filter(|n| !n.is_replica).map(|n| &regions[n.id.idx()]).collect();
    out.sort_by_key(|(r, _, _)| client_order.iter().position(|c| *c == r).unwrap_or(usize::MAX));
    out
}

fn regions(report: &Report) -> Vec<RegionLatency> {
    by_region(report)
        .into_iter()
        .map(|(region, mut ns, unconfirmed_tx)| RegionLatency {
            e2e: Latency::of(&LatencyStats::from_nanos(&mut ns)),
            region,
            unconfirmed_tx,
        })
        .collect()
}

/// What the plots of a run need besides its summary: end-to-end and consensus latencies of the
/// window's transactions, the end-to-end ones by client region, and the time series.
#[derive(Clone, Debug)]
pub struct RunData {
    pub summary: RunSummary,
    /// Client regions in the order of the clients, each with the end-to-end latencies (ns) of
    /// its confirmed transactions submitted in the window.
    pub e2e_by_region_ns: Vec<(String, Vec<u64>)>,
    pub consensus_ns: Vec<u64>,
    pub windows: Vec<WindowRow>,
}

impl RunData {
    pub fn of(report: &Report) -> RunData {
        let window = window_of(report);
        let consensus_ns = report
            .result
            .txs
            .iter()
            .filter(|t| window.0 <= t.submitted && t.submitted < window.1)
            .filter(|t| t.is_committed() && t.arrived != Time::MAX)
            .map(|t| (t.committed.max(t.arrived) - t.arrived).as_nanos())
            .collect();
        RunData {
            summary: RunSummary::of(&report.scenario, report),
            e2e_by_region_ns: by_region(report).into_iter().map(|(r, ns, _)| (r, ns)).collect(),
            consensus_ns,
            windows: report.windows.clone(),
        }
    }

    /// Every end-to-end latency of the window (ns), all regions together.
    pub fn e2e_ns(&self) -> Vec<u64> {
        self.e2e_by_region_ns.iter().flat_map(|(_, v)| v.iter().copied()).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn run(file: &str, sets: &[&str]) -> (Scenario, Report) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let scenario = crate::parse::load(&path, &sets, None).expect("a valid scenario");
        let report = crate::run::run(&scenario, &mut |_, _| {});
        (scenario, report)
    }

    /// summary.json reads back into the value it was written from, and writes the same text.
    #[test]
    fn summary_json_round_trips() {
        let runs = [
            run("quickstart.toml", &["duration_s=2", "warmup_s=0.5"]),
            // Stops on a violation, with more than 1% unconfirmed: an infinite p99.
            run("examples/beyond-f-hotstuff.toml", &[]),
        ];
        for (scenario, report) in &runs {
            let summary = RunSummary::of(scenario, report).reproduced_by("byzsim run x.toml");
            let text = summary.to_json();
            let back: RunSummary = serde_json::from_str(&text).expect("summary.json reads back");
            assert_eq!(back, summary, "{}", scenario.name);
            assert_eq!(back.to_json(), text);
            assert!(!text.contains("cost"), "an unmeasured cost is not written");
            let measured = RunSummary { cost: Some(RunCost { wall_s: 1.5, peak_rss_mib: 20.0 }), ..summary };
            let back: RunSummary = serde_json::from_str(&measured.to_json()).expect("reads back");
            assert_eq!(back, measured);
            assert_eq!(metric::metric("wall_s").and_then(|m| (m.get)(&back)), Some(1.5));
        }
        let violated = RunSummary::of(&runs[1].0, &runs[1].1);
        assert_eq!(violated.e2e_p99_all_ms.get(), Some(f64::INFINITY));
        assert!(violated.violation.is_some() && !violated.complete());
        assert_eq!(metric::E2E_P99_ALL_MS.cell(&violated), "inf");
    }

    /// timeseries.csv and messages.csv read back through serde into the records they were
    /// written from: no reader of our own is needed.
    #[test]
    fn row_files_read_back_typed() {
        let (_, report) = run("quickstart.toml", &["duration_s=2", "warmup_s=0.5"]);
        let windows: Vec<WindowRecord> = report.windows.iter().map(WindowRecord::of).collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(WindowRecord::COLUMNS).unwrap();
        windows.iter().for_each(|r| w.write_record(r.cells()).unwrap());
        let bytes = w.into_inner().unwrap();
        let back: Vec<WindowRecord> =
            csv::Reader::from_reader(&bytes[..]).deserialize().collect::<Result<_, _>>().expect("reads back");
        assert_eq!(back, windows);
        assert!(windows.iter().any(|r| r.e2e_count == 0 && r.e2e_p50_ms.is_none()), "an empty window is None");

        let messages = MessageRecord::all(&report);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(MessageRecord::COLUMNS).unwrap();
        messages.iter().for_each(|r| w.write_record(r.cells()).unwrap());
        let bytes = w.into_inner().unwrap();
        let back: Vec<MessageRecord> =
            csv::Reader::from_reader(&bytes[..]).deserialize().collect::<Result<_, _>>().expect("reads back");
        assert_eq!(back, messages);
    }
}
