//! Metric definitions, computed once from a run's records. The README and `byzsim --help`
//! print the same definitions:
//!
//! - offered load: transactions submitted by clients per second, over the measurement window
//!   [warmup, duration).
//! - consensus latency: from a transaction's arrival at its first replica to its first commit
//!   at a correct replica.
//! - end-to-end latency: from the client's send to the client holding f+1 matching replies.
//! - proposal-to-commit latency (the asonnino/hotstuff prototype's "consensus latency"): from
//!   the proposal of the entry that carried a transaction to its first commit at a correct
//!   replica. Only transactions whose protocol reported a proposal (`Ctx::proposal_committed`).
//! - latency at the proposer (Bamboo's): from a transaction's arrival at the correct replica
//!   that proposed it to that replica's commit of it (`Ctx::proposer_committed`).
//! - goodput: distinct valid transactions confirmed (f+1 matching replies) per second, counting
//!   confirmations inside the measurement window.
//!
//! Latency percentiles cover transactions submitted inside the window that completed before
//! the run ended; those that did not are counted as unconfirmed.

use crate::observe::TxRecord;
use crate::time::Time;

/// Nearest-rank percentiles of a set of latencies, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatencyStats {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl LatencyStats {
    /// From latencies in nanoseconds (sorted in place).
    pub fn from_nanos(latencies_ns: &mut [u64]) -> LatencyStats {
        if latencies_ns.is_empty() {
            return LatencyStats::default();
        }
        latencies_ns.sort_unstable();
        let rank = |p: u64| {
            let len = latencies_ns.len() as u64;
            let idx = (p * len).div_ceil(100).max(1) - 1;
            latencies_ns[idx as usize] as f64 / 1e6
        };
        let sum: u128 = latencies_ns.iter().map(|&x| x as u128).sum();
        LatencyStats {
            count: latencies_ns.len() as u64,
            p50_ms: rank(50),
            p90_ms: rank(90),
            p99_ms: rank(99),
            max_ms: *latencies_ns.last().expect("not empty") as f64 / 1e6,
            mean_ms: (sum / latencies_ns.len() as u128) as f64 / 1e6,
        }
    }
}

/// The measurement window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: Time,
    pub end: Time,
}

impl Window {
    pub fn contains(&self, t: Time) -> bool {
        self.start <= t && t < self.end
    }
    pub fn secs(&self) -> f64 {
        (self.end - self.start).as_secs_f64()
    }
}

/// The headline numbers of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub submitted_tx: u64,
    pub offered_tps: f64,
    pub committed_tx: u64,
    pub confirmed_tx: u64,
    pub unconfirmed_tx: u64,
    pub goodput_tps: f64,
    pub consensus: LatencyStats,
    /// From arrival at the first replica to the first execution by a correct replica (under a
    /// slot log, the commit, unless the ledger holds the transaction behind its account's
    /// earlier nonce).
    pub execution: LatencyStats,
    pub e2e: LatencyStats,
    /// From the proposal of the entry carrying it to its first commit at a correct replica.
    pub proposal_commit: LatencyStats,
    /// From its arrival at the correct replica that proposed it to that replica's commit.
    pub proposer: LatencyStats,
}

/// The latencies measured from a proposal, of the transactions that have them.
fn proposal_latencies_ns(txs: &[TxRecord], window: Window) -> (Vec<u64>, Vec<u64>) {
    let in_window = txs.iter().filter(|r| window.contains(r.submitted));
    let proposal_commit_ns = in_window
        .clone()
        .filter(|r| r.is_committed() && r.proposed != Time::MAX)
        .map(|r| (r.committed.max(r.proposed) - r.proposed).as_nanos())
        .collect();
    let proposer_ns = in_window
        .filter(|r| r.proposer_committed != Time::MAX)
        .map(|r| (r.proposer_committed - r.proposer_arrived).as_nanos())
        .collect();
    (proposal_commit_ns, proposer_ns)
}

impl Summary {
    pub fn compute(txs: &[TxRecord], window: Window) -> Summary {
        assert!(window.start < window.end, "empty measurement window");
        let mut consensus_ns = Vec::new();
        let mut e2e_ns = Vec::new();
        let mut execution_ns = Vec::new();
        let (mut submitted, mut unconfirmed, mut good) = (0u64, 0u64, 0u64);
        let (mut committed, mut confirmed) = (0u64, 0u64);
        for rec in txs {
            committed += u64::from(rec.is_committed());
            confirmed += u64::from(rec.is_confirmed());
            if rec.is_confirmed() && rec.result == 0 && window.contains(rec.confirmed) {
                good += 1;
            }
            if !window.contains(rec.submitted) {
                continue;
            }
            submitted += 1;
            if rec.is_committed() && rec.arrived != Time::MAX {
                consensus_ns.push((rec.committed.max(rec.arrived) - rec.arrived).as_nanos());
            }
            if rec.executed != Time::MAX && rec.arrived != Time::MAX {
                execution_ns.push((rec.executed.max(rec.arrived) - rec.arrived).as_nanos());
            }
            if rec.is_confirmed() {
                e2e_ns.push((rec.confirmed - rec.submitted).as_nanos());
            } else {
                unconfirmed += 1;
            }
        }
        let (mut proposal_commit_ns, mut proposer_ns) = proposal_latencies_ns(txs, window);
        Summary {
            submitted_tx: submitted,
            offered_tps: submitted as f64 / window.secs(),
            committed_tx: committed,
            confirmed_tx: confirmed,
            unconfirmed_tx: unconfirmed,
            goodput_tps: good as f64 / window.secs(),
            consensus: LatencyStats::from_nanos(&mut consensus_ns),
            execution: LatencyStats::from_nanos(&mut execution_ns),
            e2e: LatencyStats::from_nanos(&mut e2e_ns),
            proposal_commit: LatencyStats::from_nanos(&mut proposal_commit_ns),
            proposer: LatencyStats::from_nanos(&mut proposer_ns),
        }
    }
}

/// One row of the time series.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowRow {
    pub start_s: f64,
    pub offered_tps: f64,
    pub committed_tps: f64,
    pub goodput_tps: f64,
    /// End-to-end latency of the transactions confirmed in this window.
    pub e2e: LatencyStats,
}

/// Per-window rates and latencies over [0, end), windows of `width` nanoseconds.
pub fn timeseries(txs: &[TxRecord], end: Time, width_ns: u64) -> Vec<WindowRow> {
    assert!(width_ns > 0);
    let n_windows = end.0.div_ceil(width_ns) as usize;
    let bucket = |t: Time| (t.0 / width_ns) as usize;
    let mut offered = vec![0u64; n_windows];
    let mut committed = vec![0u64; n_windows];
    let mut good = vec![0u64; n_windows];
    let mut lat: Vec<Vec<u64>> = vec![Vec::new(); n_windows];
    for rec in txs {
        if let Some(c) = offered.get_mut(bucket(rec.submitted)) {
            *c += 1;
        }
        if let Some(c) = committed.get_mut(bucket(rec.committed)).filter(|_| rec.is_committed()) {
            *c += 1;
        }
        if rec.is_confirmed() && bucket(rec.confirmed) < n_windows {
            if rec.result == 0 {
                good[bucket(rec.confirmed)] += 1;
            }
            lat[bucket(rec.confirmed)].push((rec.confirmed - rec.submitted).as_nanos());
        }
    }
    let secs = width_ns as f64 / 1e9;
    (0..n_windows)
        .map(|w| WindowRow {
            start_s: (w as u64 * width_ns) as f64 / 1e9,
            offered_tps: offered[w] as f64 / secs,
            committed_tps: committed[w] as f64 / secs,
            goodput_tps: good[w] as f64 / secs,
            e2e: LatencyStats::from_nanos(&mut lat[w]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeId;

    fn rec(submitted_ms: u64, confirmed_ms: Option<u64>) -> TxRecord {
        let ms = |x: u64| Time(x * 1_000_000);
        let tx = crate::Tx {
            id: crate::TxId(0),
            client: NodeId(4),
            from: crate::AccountId(0),
            to: crate::AccountId(1),
            amount: 1,
            nonce: 1,
            size_bytes: 0,
        };
        TxRecord {
            client: NodeId(4),
            tx,
            submitted: ms(submitted_ms),
            arrived: ms(submitted_ms + 1),
            committed: confirmed_ms.map_or(Time::MAX, |c| ms(c - 1)),
            executed: confirmed_ms.map_or(Time::MAX, |c| ms(c - 1)),
            confirmed: confirmed_ms.map_or(Time::MAX, ms),
            result: 0,
            proposed: Time::MAX,
            proposer_arrived: Time::MAX,
            proposer_committed: Time::MAX,
            pushed_back: 0,
            follows: None,
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=100).map(|x| x * 1_000_000).collect();
        let s = LatencyStats::from_nanos(&mut v);
        assert_eq!((s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms), (50.0, 90.0, 99.0, 100.0));
        assert_eq!(LatencyStats::from_nanos(&mut []).count, 0);
    }

    #[test]
    fn summary_counts_the_window_only() {
        let txs = [rec(100, Some(300)), rec(900, Some(1200)), rec(1500, None), rec(2500, Some(2600))];
        let w = Window { start: Time(500_000_000), end: Time(2_000_000_000) };
        let s = Summary::compute(&txs, w);
        assert_eq!((s.submitted_tx, s.unconfirmed_tx, s.e2e.count), (2, 1, 1));
        assert_eq!(s.e2e.p50_ms, 300.0);
        assert_eq!(s.goodput_tps, 1.0 / 1.5); // only the confirmation at 1.2 s is inside
        assert_eq!(s.committed_tx, 3);
    }

    #[test]
    fn timeseries_buckets_by_event_time() {
        let txs = [rec(100, Some(1100)), rec(200, Some(300))];
        let rows = timeseries(&txs, Time(2_000_000_000), 1_000_000_000);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].offered_tps, rows[0].goodput_tps, rows[1].goodput_tps), (2.0, 1.0, 1.0));
        assert_eq!(rows[1].e2e.max_ms, 1000.0);
    }
}
