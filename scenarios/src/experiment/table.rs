//! What a column, a plot or a claim names (a variant, an axis, a run's registry metric, the
//! search's capacity), and the tables and charts made from the cases' results.

use std::path::Path;

use super::cases::CaseResult;
use super::spec::{Column, Loaded, Plot, PlotKind, metric_help};
use crate::batch::Failure;
use crate::results::{self, Metric};
use crate::results::{full, num};

/// What a column shows.
#[derive(Clone)]
pub enum Value {
    Variant,
    Axis(usize),
    Metric {
        run: String,
        metric: &'static Metric,
    },
    Capacity,
    Model(&'static super::models::Model),
    /// One client region's value (`region.REGION.VALUE`, `regions.rs`).
    Region {
        region: String,
        value: super::regions::RegionValue,
    },
    /// A column of published data joined to the case (`reference.rs`).
    Reference {
        name: String,
        column: String,
    },
    /// Arithmetic on values (`expr.rs`), and its literal numbers.
    Expr(Vec<(super::expr::Arith, Value)>),
    Number(f64),
}

impl Value {
    /// The number of a case's result, when it has one.
    pub fn number(&self, r: &CaseResult) -> Option<f64> {
        match self {
            Value::Variant => None,
            Value::Axis(i) => r.case.axes[*i].1.parse().ok(),
            Value::Metric { run, metric } => r.run(run).and_then(metric.get),
            Value::Capacity => r.search.as_ref().map(|f| f.capacity_tps),
            Value::Model(m) => r.models.get(m.name).copied(),
            Value::Region { region, value } => value.number(r, region),
            Value::Reference { name, column } => r.references.get(&format!("{name}.{column}")).copied(),
            Value::Expr(terms) => super::expr::eval(terms, |v| v.number(r)),
            Value::Number(x) => Some(*x),
        }
    }

    /// The text of a case's result in a table cell: `decimals` for numbers, or full precision.
    pub fn cell(&self, r: &CaseResult, decimals: Option<usize>) -> String {
        match self {
            Value::Variant => r.case.variant.clone().unwrap_or_default(),
            Value::Axis(i) => r.case.axes[*i].1.clone(),
            _ => self.number(r).map_or(String::new(), |x| decimals.map_or_else(|| full(x), |d| num(x, d))),
        }
    }

    /// A case's name in a plot's legend: a numeric axis value with its axis's name (`n = 4`,
    /// where a bare `4` says nothing), anything else as its cell.
    pub fn legend(&self, loaded: &Loaded, r: &CaseResult) -> String {
        let cell = self.cell(r, None);
        match self {
            Value::Axis(_) if cell.parse::<f64>().is_ok() => format!("{} = {cell}", self.header(loaded)),
            _ => cell,
        }
    }

    pub fn header(&self, loaded: &Loaded) -> String {
        match self {
            Value::Variant => "variant".into(),
            Value::Axis(i) => loaded.spec.axes[*i].name.clone(),
            Value::Metric { metric, .. } => metric.label.to_string(),
            Value::Capacity => "capacity tx/s".into(),
            Value::Model(m) => m.label.to_string(),
            Value::Region { region, value } => format!("{region}: {}", value.header()),
            Value::Reference { name, column } => format!("{name}: {column}"),
            Value::Expr(_) | Value::Number(_) => "value".into(),
        }
    }

    pub fn decimals(&self) -> usize {
        match self {
            Value::Metric { metric, .. } => metric.decimals,
            Value::Model(m) => m.decimals,
            Value::Region { value, .. } => value.decimals(),
            Value::Reference { .. } | Value::Expr(_) => 2,
            _ => 0,
        }
    }

    /// Whether its cells are words (left-aligned): the variant, an axis with a word among its values.
    pub fn is_text(&self, loaded: &Loaded) -> bool {
        match self {
            Value::Variant => true,
            Value::Axis(i) => loaded.spec.axes[*i].values.iter().any(toml::Value::is_str),
            Value::Metric { .. }
            | Value::Capacity
            | Value::Model(_)
            | Value::Region { .. }
            | Value::Reference { .. }
            | Value::Expr(_)
            | Value::Number(_) => false,
        }
    }
}

/// Reads a column's value: `variant`, an axis name, `capacity_tps`, `RUN.METRIC` (or `METRIC`
/// when a case has one run).
pub fn value(loaded: &Loaded, text: &str) -> Result<Value, String> {
    let spec = &loaded.spec;
    if let Some(v) = super::expr::parse(loaded, text).or_else(|| super::reference::value(loaded, text)) {
        return v;
    }
    if text == "variant" && !spec.variants.is_empty() {
        return Ok(Value::Variant);
    }
    if let Some(i) = spec.axes.iter().position(|a| a.name == text) {
        return Ok(Value::Axis(i));
    }
    if text == "capacity_tps" {
        return if spec.search.is_some() {
            Ok(Value::Capacity)
        } else {
            Err("`capacity_tps` needs a `[search]`".into())
        };
    }
    if let Some(rest) = text.strip_prefix("region.") {
        return super::regions::named(loaded, rest);
    }
    if let Some(name) = text.strip_prefix("model.") {
        let known = || super::models::MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ");
        return super::models::model(name)
            .map(Value::Model)
            .ok_or_else(|| format!("no model `{name}` in `{text}`; the models are {}", known()));
    }
    let names = loaded.run_names();
    let (run, name) = match text.split_once('.') {
        Some((run, name)) => (run, name),
        None if names.len() == 1 => (names[0].as_str(), text),
        None => return Err(format!("`{text}` is no variant, axis or RUN.METRIC (the runs are {})", names.join(", "))),
    };
    let Some(run) = names.iter().find(|n| *n == run).cloned() else {
        return Err(format!("no run `{run}` in `{text}`: the runs of a case are {}", names.join(", ")));
    };
    let metric = results::metric(name).ok_or_else(|| format!("no metric `{name}` in `{text}`; {}", metric_help()))?;
    Ok(Value::Metric { run, metric })
}

/// Checks every table column and plot of the spec.
pub fn check(loaded: &Loaded) -> Result<(), Failure> {
    let bad = |what: String, needle: &str| loaded.error(needle, &what, "see docs/experiments.md, Values");
    for t in &loaded.spec.tables {
        if t.rows == super::spec::Rows::Region {
            super::regions::check(loaded, t)?;
            continue;
        }
        for c in &t.columns {
            value(loaded, c.value())
                .map_err(|e| bad(format!("table `{}`, column `{}`: {e}", t.name, c.value()), c.value()))?;
        }
    }
    super::series::check(loaded)?;
    for p in loaded.spec.plots.iter().filter(|p| !matches!(p.kind, PlotKind::Series)) {
        if matches!(p.kind, PlotKind::Bars) {
            super::bars::check(loaded, p)?;
            continue;
        }
        for (key, text) in [("x", &p.x), ("y", &p.y), ("series", &p.series)]
            .into_iter()
            .chain(p.also.iter().map(|a| ("also", a)))
            .chain(p.also_x.iter().map(|a| ("also_x", a)))
        {
            value(loaded, text).map_err(|e| bad(format!("plot `{}`, {key} = `{text}`: {e}", p.name), text))?;
        }
    }
    Ok(())
}

/// A table as markdown (numbers at their decimals) and as CSV rows (full precision). A row with
/// a run that stopped before its end (a limit, a broken invariant) is marked `†` in markdown and
/// the run named under the table, so a truncated number is never read as a whole one.
pub fn render(loaded: &Loaded, columns: &[Column], results: &[&CaseResult]) -> (String, Vec<Vec<String>>) {
    let values: Vec<Value> = columns.iter().map(|c| value(loaded, c.value()).expect("checked")).collect();
    let header: Vec<String> =
        columns.iter().zip(&values).map(|(c, v)| c.header().map_or_else(|| v.header(loaded), String::from)).collect();
    let align: Vec<&str> = values.iter().map(|v| if v.is_text(loaded) { "---" } else { "---:" }).collect();
    let mut md = format!("| {} |\n|{}|\n", header.join(" | "), align.join("|"));
    let mut csv = vec![columns.iter().map(|c| c.value().to_string()).collect::<Vec<_>>()];
    let mut early = String::new();
    for r in results {
        let mut cells: Vec<String> =
            columns.iter().zip(&values).map(|(c, v)| v.cell(r, Some(c.decimals().unwrap_or(v.decimals())))).collect();
        csv.push(values.iter().map(|v| v.cell(r, None)).collect());
        let cut: Vec<_> = r.runs.iter().filter(|run| !run.summary.complete()).collect();
        for run in &cut {
            let (stop, detail) = (&run.summary.stop, &run.summary.stop_detail);
            early.push_str(&format!(
                "\n† {} stopped before its end ({stop}: {detail}); its row is of the part it ran.\n",
                r.which(run)
            ));
        }
        if !cut.is_empty() {
            cells[0].push_str(" †");
        }
        md.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    (md + &early, csv)
}

/// Draws a plot into `dir` as `stem.svg` and `stem.png`; returns the markdown that shows it.
pub fn plot(loaded: &Loaded, p: &Plot, results: &[CaseResult], dir: &Path, stem: &str) -> Result<String, String> {
    if let PlotKind::Series = p.kind {
        return super::series::plot(loaded, p, results, dir, stem);
    }
    let results: Vec<&CaseResult> = results.iter().filter(|r| p.only.admits(&r.case)).collect();
    if matches!(p.kind, PlotKind::Bars) {
        return super::bars::plot(loaded, p, &results, dir, stem);
    }
    let [x, y, series] = [&p.x, &p.y, &p.series].map(|t| value(loaded, t).expect("checked"));
    let x_label = p.x_label.clone().unwrap_or_else(|| x.header(loaded));
    let y_label = p.y_label.clone().unwrap_or_else(|| y.header(loaded));
    let kind = match p.kind {
        PlotKind::Line => plots::Kind::Line,
        PlotKind::Points => plots::Kind::Points,
        PlotKind::Series => unreachable!("drawn by series.rs"),
        PlotKind::Bars => unreachable!("drawn by bars.rs"),
    };
    let mut chart = plots::Chart::new(p.title.clone(), x_label, y_label, kind);
    chart.x_log = p.x_log;
    let mut names: Vec<String> = Vec::new();
    for r in &results {
        let name = series.legend(loaded, r);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    for name in names {
        let points: Vec<(f64, f64)> = results
            .iter()
            .filter(|r| series.legend(loaded, r) == name)
            .filter_map(|r| Some((x.number(r)?, y.number(r)?)))
            .collect();
        chart = chart.series(name, points);
    }
    if let Some(also) = &p.also {
        let also_x = p.also_x.as_ref().map_or_else(|| x.clone(), |t| value(loaded, t).expect("checked"));
        let points = super::reference::also_points(&also_x, &value(loaded, also).expect("checked"), &results);
        if !points.is_empty() {
            chart = chart.series(p.also_label.clone().unwrap_or_else(|| also.clone()), points);
        }
    }
    plots::write_both(&chart, dir, stem).map_err(|e| format!("plot {stem}: {e}"))?;
    Ok(format!("![{}]({stem}.svg)\n", chart.title))
}
