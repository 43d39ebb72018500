//! `kind = "series"` plots: a value of each run's windows (timeseries.csv's typed rows, kept
//! with the run) against the window's start, one line per case (named by `series`); a window
//! that confirmed nothing has no latency point, so the line joins the windows around it.

use std::path::Path;

use super::cases::CaseResult;
use super::spec::{Loaded, Plot};
use super::table::{self, Value};
use crate::batch::Failure;
use crate::results::WindowRecord;

/// The x of every series plot.
const X: &str = "window_start_s";

/// A window's value.
type Pick = fn(&WindowRecord) -> Option<f64>;

/// The window values a series plot draws, by column name.
const COLUMNS: [(&str, Pick); 6] = [
    ("offered_tps", |w| Some(w.offered_tps)),
    ("committed_tps", |w| Some(w.committed_tps)),
    ("goodput_tps", |w| Some(w.goodput_tps)),
    ("e2e_p50_ms", |w| w.e2e_p50_ms),
    ("e2e_p90_ms", |w| w.e2e_p90_ms),
    ("e2e_p99_ms", |w| w.e2e_p99_ms),
];

/// `y` as (run name, window column): `RUN.COLUMN`, or `COLUMN` when a case has one run.
fn y_of(loaded: &Loaded, y: &str) -> Result<(String, Pick), String> {
    let names = loaded.run_names();
    let (run, column) = match y.split_once('.') {
        Some((run, column)) => (run.to_string(), column),
        None if names.len() == 1 => (names[0].clone(), y),
        None => return Err(format!("write RUN.COLUMN (the runs are {})", names.join(", "))),
    };
    if loaded.spec.search.is_some() || !names.contains(&run) {
        return Err(format!("no run `{run}` keeps its windows (the runs are {})", names.join(", ")));
    }
    let pick = COLUMNS.iter().find(|c| c.0 == column).map(|c| c.1);
    let known: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
    Ok((run, pick.ok_or_else(|| format!("no window column `{column}`; they are {}", known.join(", ")))?))
}

/// Checks every series plot: x the window start, y a window column, series a variant or axis.
pub fn check(loaded: &Loaded) -> Result<(), Failure> {
    let bad = |what: String, needle: &str| loaded.error(needle, &what, "see docs/experiments.md, Time series");
    for p in loaded.spec.plots.iter().filter(|p| matches!(p.kind, super::spec::PlotKind::Series)) {
        if p.x != X {
            return Err(bad(format!("plot `{}`: a series plot's x is `{X}`", p.name), &p.x));
        }
        y_of(loaded, &p.y).map_err(|e| bad(format!("plot `{}`, y = `{}`: {e}", p.name, p.y), &p.y))?;
        match table::value(loaded, &p.series) {
            Ok(Value::Variant | Value::Axis(_)) => {}
            _ => return Err(bad(format!("plot `{}`: series is `variant` or an axis", p.name), &p.series)),
        }
    }
    Ok(())
}

/// The points of one run's windows.
fn points(r: &CaseResult, run: &str, pick: Pick) -> Vec<(f64, f64)> {
    let windows = r.runs.iter().find(|n| n.name == run).map_or(&[][..], |n| &n.windows[..]);
    windows.iter().map(|w| (w.window_start_s, pick(w).unwrap_or(f64::NAN))).collect()
}

/// Draws a series plot of the cases `p.only` keeps into `dir`; returns the markdown that shows it.
/// A goodput plot also draws the first case's offered load, last (so that each case keeps its
/// colour in the plots of the same cases).
pub fn plot(loaded: &Loaded, p: &Plot, results: &[CaseResult], dir: &Path, stem: &str) -> Result<String, String> {
    let (run, pick) = y_of(loaded, &p.y).expect("checked");
    let series = table::value(loaded, &p.series).expect("checked");
    let x_label = p.x_label.clone().unwrap_or_else(|| "simulated time (s)".into());
    let y_label = p.y_label.clone().unwrap_or_else(|| p.y.clone());
    let mut chart = plots::Chart::new(p.title.clone(), x_label, y_label, plots::Kind::Line);
    if p.y_log {
        chart = chart.y_log();
    }
    let kept: Vec<&CaseResult> = results.iter().filter(|r| p.only.admits(&r.case)).collect();
    for r in &kept {
        chart = chart.series(series.legend(loaded, r), points(r, &run, pick));
    }
    if p.y.ends_with("goodput_tps")
        && let Some(first) = kept.first()
    {
        chart = chart.series("offered", points(first, &run, |w| Some(w.offered_tps)));
    }
    plots::write_both(&chart, dir, stem).map_err(|e| format!("plot {stem}: {e}"))?;
    Ok(format!("![{}]({stem}.svg)\n", chart.title))
}
