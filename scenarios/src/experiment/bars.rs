//! Bar charts of an experiment (`kind = "bars"`): one category per distinct `x` (any value,
//! text included: a variant or an axis of names), in case order; one series per value of
//! `series`, or a single one named by `y`'s label when `series` is not given.

use std::path::Path;

use super::cases::CaseResult;
use super::spec::{Loaded, Plot};
use super::table::value;
use crate::batch::Failure;

/// Checks a bar chart's values: `x` any value, `y` a number, `series` optional.
pub fn check(loaded: &Loaded, p: &Plot) -> Result<(), Failure> {
    let mut named = vec![("x", &p.x), ("y", &p.y)];
    if !p.series.is_empty() {
        named.push(("series", &p.series));
    }
    for (key, text) in named {
        value(loaded, text).map_err(|e| {
            let what = format!("plot `{}`, {key} = `{text}`: {e}", p.name);
            loaded.error(text, &what, "see docs/experiments.md, Values")
        })?;
    }
    Ok(())
}

/// Draws the chart into `dir` as `stem.svg` and `stem.png`; returns the markdown that shows it.
pub fn plot(loaded: &Loaded, p: &Plot, results: &[&CaseResult], dir: &Path, stem: &str) -> Result<String, String> {
    let x = value(loaded, &p.x).expect("checked");
    let y = value(loaded, &p.y).expect("checked");
    let series = (!p.series.is_empty()).then(|| value(loaded, &p.series).expect("checked"));
    let mut categories: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for r in results {
        let (c, s) = (x.cell(r, None), series.as_ref().map_or_else(|| p.y.clone(), |s| s.legend(loaded, r)));
        if !categories.contains(&c) {
            categories.push(c);
        }
        if !names.contains(&s) {
            names.push(s);
        }
    }
    let x_label = p.x_label.clone().unwrap_or_else(|| p.x.clone());
    let y_label = p.y_label.clone().unwrap_or_else(|| p.y.clone());
    let mut chart = plots::Chart::new(p.title.clone(), x_label, y_label.clone(), plots::Kind::Bars);
    for name in names {
        let points: Vec<(f64, f64)> = results
            .iter()
            .filter(|r| series.as_ref().map_or_else(|| p.y.clone(), |s| s.legend(loaded, r)) == name)
            .filter_map(|r| {
                let at = categories.iter().position(|c| *c == x.cell(r, None))?;
                Some((at as f64, y.number(r)?))
            })
            .collect();
        let label = if series.is_some() { name } else { y_label.clone() };
        chart = chart.series(label, points);
    }
    chart = chart.categories(categories);
    plots::write_both(&chart, dir, stem).map_err(|e| format!("plot {stem}: {e}"))?;
    Ok(format!("![{}]({stem}.svg)\n", chart.title))
}
