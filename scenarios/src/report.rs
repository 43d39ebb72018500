//! Plots and `report.html` for a results folder: the charts of one or more runs (latency CDF,
//! latency percentiles and goodput over time, latency by client region), and a self-contained
//! HTML page (no network resource) that shows a summary table, the plots by relative path, the
//! scenario text and the command that reproduces it.

use plots::{Chart, Figure, Kind};
use sim_core::metrics::LatencyStats;

use crate::results::RunData;

pub use plots::write_figures;

/// Reads one percentile of latency statistics.
type Pick = fn(&LatencyStats) -> f64;

/// Most points of a latency CDF: a run with a million transactions must not write a
/// million-point SVG. Beyond it the CDF is sampled at evenly spaced ranks (plus the minimum).
const CDF_POINTS_MAX: usize = 2000;

/// The empirical CDF of latencies in ns, as (ms, fraction) points (see [`CDF_POINTS_MAX`]).
pub fn cdf_ms(latencies_ns: &[u64]) -> Vec<(f64, f64)> {
    let mut sorted = latencies_ns.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    if n <= CDF_POINTS_MAX {
        let values: Vec<f64> = sorted.iter().map(|&x| x as f64 / 1e6).collect();
        return plots::cdf(&values);
    }
    let mut points = vec![(sorted[0] as f64 / 1e6, 1.0 / n as f64)];
    for k in 1..=CDF_POINTS_MAX {
        let rank = (k * n).div_ceil(CDF_POINTS_MAX) - 1;
        points.push((sorted[rank] as f64 / 1e6, (rank + 1) as f64 / n as f64));
    }
    points
}

/// Nearest-rank statistics of latencies in ns.
pub fn stats(latencies_ns: &[u64]) -> LatencyStats {
    LatencyStats::from_nanos(&mut latencies_ns.to_vec())
}

/// The charts of labelled groups of runs (one group per protocol in `compare`, a single
/// unlabelled group for `run`). CDFs and region latencies pool every run of a group (seeds);
/// time series show the group's first run. `pooled` ends the titles of the pooled charts (e.g.
/// "seeds 1..5") and `first` those of the time series (e.g. "seed 1"); empty: nothing.
pub fn run_figures(groups: &[(String, Vec<&RunData>)], pooled: &str, first: &str) -> Vec<Figure> {
    let names = Names { single: groups.len() == 1, pooled, first };
    let (over_time, goodput) = over_time_charts(groups, &names);
    vec![
        Figure {
            stem: "latency-cdf".into(),
            caption: "Empirical CDF of the latencies of the transactions submitted in the measurement window.".into(),
            chart: cdf_chart(groups, &names),
        },
        Figure {
            stem: "latency-over-time".into(),
            caption: "End-to-end latency percentiles of the transactions confirmed in each window of output.window_s."
                .into(),
            chart: over_time,
        },
        Figure {
            stem: "goodput-over-time".into(),
            caption: "Offered load and goodput per window of output.window_s.".into(),
            chart: goodput,
        },
        Figure {
            stem: "latency-by-region".into(),
            caption: "End-to-end latency percentiles by the region of the client that sent the transaction.".into(),
            chart: region_chart(groups, &names),
        },
    ]
}

/// How the run plots name their series and titles: one group's series by what they show,
/// several groups' by their labels; titles say what was pooled, or which run is drawn.
struct Names<'a> {
    single: bool,
    pooled: &'a str,
    first: &'a str,
}

impl Names<'_> {
    fn series(&self, label: &str, what: &str) -> String {
        match (self.single, what.is_empty()) {
            (true, _) => what.to_string(),
            (false, true) => label.to_string(),
            (false, false) => format!("{label} {what}"),
        }
    }

    fn titled(what: &str, note: &str) -> String {
        if note.is_empty() { what.to_string() } else { format!("{what} ({note})") }
    }

    fn pooled(&self, what: &str) -> String {
        Names::titled(what, self.pooled)
    }

    fn first(&self, what: &str) -> String {
        Names::titled(what, self.first)
    }
}

fn cdf_chart(groups: &[(String, Vec<&RunData>)], names: &Names<'_>) -> Chart {
    let single = names.single;
    let mut cdf =
        Chart::new(names.pooled("End-to-end latency CDF"), "latency (ms)", "fraction of transactions", Kind::Step);
    for (label, runs) in groups {
        let e2e: Vec<u64> = runs.iter().flat_map(|r| r.e2e_ns()).collect();
        cdf = cdf.series(names.series(label, if single { "end-to-end" } else { "" }), cdf_ms(&e2e));
        if single {
            let consensus: Vec<u64> = runs.iter().flat_map(|r| r.consensus_ns.iter().copied()).collect();
            cdf = cdf.series("consensus", cdf_ms(&consensus));
        }
    }
    cdf
}

/// Latency percentiles, and goodput against offered load, over time: each group's first run.
fn over_time_charts(groups: &[(String, Vec<&RunData>)], names: &Names<'_>) -> (Chart, Chart) {
    let mut over_time = Chart::new(names.first("End-to-end latency over time"), "time (s)", "latency (ms)", Kind::Line);
    let mut goodput = Chart::new(names.first("Goodput and offered load over time"), "time (s)", "tx/s", Kind::Line);
    for (idx, (label, runs)) in groups.iter().enumerate() {
        let Some(first) = runs.first() else { continue };
        let confirmed = || first.windows.iter().filter(|w| w.e2e.count > 0);
        let percentiles: &[(&str, Pick)] = if names.single {
            &[("p50", |s| s.p50_ms), ("p90", |s| s.p90_ms), ("p99", |s| s.p99_ms)]
        } else {
            &[("p50", |s| s.p50_ms), ("p99", |s| s.p99_ms)]
        };
        for &(p, pick) in percentiles {
            let points = confirmed().map(|w| (w.start_s, pick(&w.e2e))).collect::<Vec<_>>();
            over_time = over_time.series(names.series(label, p), points);
        }
        // Every group offers the same load (common random numbers): draw it once.
        if idx == 0 {
            goodput =
                goodput.series("offered", first.windows.iter().map(|w| (w.start_s, w.offered_tps)).collect::<Vec<_>>());
        }
        goodput = goodput.series(
            names.series(label, "goodput"),
            first.windows.iter().map(|w| (w.start_s, w.goodput_tps)).collect::<Vec<_>>(),
        );
    }
    (over_time, goodput)
}

/// End-to-end p50 and p99 per client region, pooled over each group's runs.
fn region_chart(groups: &[(String, Vec<&RunData>)], names: &Names<'_>) -> Chart {
    let mut regions: Vec<String> = Vec::new();
    for run in groups.iter().flat_map(|(_, runs)| runs) {
        for (region, _) in &run.e2e_by_region_ns {
            if !regions.contains(region) {
                regions.push(region.clone());
            }
        }
    }
    let mut by_region =
        Chart::new(names.pooled("End-to-end latency by client region"), "client region", "latency (ms)", Kind::Bars)
            .categories(regions.clone());
    for (label, runs) in groups {
        let pooled: Vec<LatencyStats> = regions
            .iter()
            .map(|region| {
                let ns: Vec<u64> = runs
                    .iter()
                    .flat_map(|r| {
                        r.e2e_by_region_ns.iter().filter(|(g, _)| g == region).flat_map(|(_, v)| v.iter().copied())
                    })
                    .collect();
                stats(&ns)
            })
            .collect();
        for (p, pick) in [("p50", (|s: &LatencyStats| s.p50_ms) as Pick), ("p99", |s| s.p99_ms)] {
            let bars: Vec<(f64, f64)> =
                pooled.iter().enumerate().filter(|(_, s)| s.count > 0).map(|(i, s)| (i as f64, pick(s))).collect();
            by_region = by_region.series(names.series(label, p), bars);
        }
    }
    by_region
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_is_sampled_beyond_the_cap() {
        let small: Vec<u64> = (1..=10).map(|i| i * 1_000_000).collect();
        let points = cdf_ms(&small);
        assert_eq!(points.len(), 10);
        assert_eq!(points[9], (10.0, 1.0));
        let large: Vec<u64> = (0..100_000u64).rev().map(|i| i * 1000).collect();
        let points = cdf_ms(&large);
        assert_eq!(points.len(), CDF_POINTS_MAX + 1);
        assert_eq!(points.first(), Some(&(0.0, 1e-5)));
        assert_eq!(points.last(), Some(&(99.999, 1.0)));
        assert!(points.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1));
        assert!(cdf_ms(&[]).is_empty());
    }
}
