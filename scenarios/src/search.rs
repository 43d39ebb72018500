//! The one load search of byzsim, and the one test of whether a run keeps up with its load.
//!
//! A run keeps up when its goodput is at least `share` of the offered load and, when a bound is
//! given, its end-to-end p99 counting unconfirmed transactions as infinitely late
//! (`e2e_p99_all_ms`) is within the bound. `sweep --saturation-p99-ms` uses the same test with
//! share 0.
//!
//! The search: from the start rate, raise (or lower) the offered load by the step factor until
//! two runs bracket capacity (one keeps up, the next does not), then bisect the bracket
//! `refinements` times; the highest goodput seen is the capacity. One more run at
//! `latency_share` of the capacity measures latency (open-loop clients cannot hold a queue at
//! capacity: above it every latency grows for as long as the run lasts). Rates are rounded to
//! 100 tx/s.

use serde::{Deserialize, Serialize};

use crate::results::RunSummary;

/// Whether a run with this goodput, offered load and p99 (ms, unconfirmed counted; infinite or
/// NaN when it has none) keeps up: goodput >= `share` x offered and p99 <= `bound_ms` if given.
pub fn keeps_up(goodput_tps: f64, offered_tps: f64, p99_all_ms: f64, share: f64, bound_ms: Option<f64>) -> bool {
    goodput_tps >= share * offered_tps && bound_ms.is_none_or(|b| p99_all_ms <= b)
}

/// Most steps of the bracketing phase.
const MAX_STEPS: usize = 12;

/// A search's parameters (the `[search]` table of an experiment spec).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Search {
    /// A run keeps up when its goodput is at least this share of its offered load.
    pub goodput_share: f64,
    /// ... and its end-to-end p99 (unconfirmed counted) at most this, when given.
    #[serde(default)]
    pub p99_bound_ms: Option<f64>,
    pub start_tps: f64,
    pub step: f64,
    #[serde(default = "one")]
    pub refinements: u32,
    /// Latency is measured at this share of the capacity.
    pub latency_share: f64,
}

fn one() -> u32 {
    1
}

/// What a search found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Found {
    /// The highest goodput of the search's runs.
    pub capacity_tps: f64,
    /// Some run fell behind its load (else the capacity is only a lower bound).
    pub bracketed: bool,
    /// Every run of the search in the order run, with its offered rate.
    pub runs: Vec<(f64, RunSummary)>,
    /// The index in `runs` of the run with the highest goodput.
    pub best: usize,
    /// The run at `latency_share` of the capacity, and its rate.
    pub latency: (f64, RunSummary),
}

impl Search {
    /// Whether `run` keeps up under this search's test.
    pub fn keeps_up(&self, run: &RunSummary) -> bool {
        let p99 = run.e2e_p99_all_ms.get().unwrap_or(f64::INFINITY);
        keeps_up(run.goodput_tps, run.offered_tps, p99, self.goodput_share, self.p99_bound_ms)
    }

    /// Runs the search, `run(rate_tps)` running the case at an offered rate.
    pub fn run(&self, mut run: impl FnMut(f64) -> RunSummary) -> Found {
        let mut runs: Vec<(f64, RunSummary)> = Vec::new();
        let mut rate = round(self.start_tps);
        runs.push((rate, run(rate)));
        let going_up = self.keeps_up(&runs[0].1);
        for _ in 0..MAX_STEPS {
            rate = round(if going_up { rate * self.step } else { rate / self.step });
            let summary = run(rate);
            let done = self.keeps_up(&summary) != going_up;
            runs.push((rate, summary));
            if done {
                break;
            }
        }
        let bracketed = runs.iter().any(|r| !self.keeps_up(&r.1));
        for _ in 0..self.refinements {
            let Some(mid) = self.midpoint(&runs) else { break };
            runs.push((mid, run(mid)));
        }
        let best = (0..runs.len()).max_by(|&a, &b| runs[a].1.goodput_tps.total_cmp(&runs[b].1.goodput_tps));
        let best = best.expect("a search runs at least once");
        let capacity_tps = runs[best].1.goodput_tps;
        let latency_rate = round(self.latency_share * capacity_tps);
        let latency = (latency_rate, run(latency_rate));
        Found { capacity_tps, bracketed, runs, best, latency }
    }

    /// Half way between the highest rate that kept up and the lowest that did not, if that is a
    /// new rate strictly between them.
    fn midpoint(&self, runs: &[(f64, RunSummary)]) -> Option<f64> {
        let lo = runs.iter().filter(|r| self.keeps_up(&r.1)).map(|r| r.0).fold(0.0, f64::max);
        let hi = runs.iter().filter(|r| !self.keeps_up(&r.1)).map(|r| r.0).fold(f64::INFINITY, f64::min);
        if !(hi.is_finite() && lo > 0.0 && lo < hi) {
            return None;
        }
        let mid = round((lo + hi) / 2.0);
        (mid > lo && mid < hi).then_some(mid)
    }
}

/// A rate rounded to 100 tx/s, at least 100.
fn round(rate_tps: f64) -> f64 {
    (rate_tps / 100.0).round().max(1.0) * 100.0
}
