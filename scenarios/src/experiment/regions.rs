//! Per-region rows: a table with `rows = "region"` has one row per case and client region of
//! the case's run (`RunSummary::regions`, in the clients' order). Its columns are the case's
//! values, `region` (the name), `region.METRIC` (an end-to-end metric of the registry over
//! that region's clients) and `region.model.NAME` (a region model of `geo.rs`); a claim or the
//! page names one region's value as `CASE.region.REGION.METRIC`.

use super::cases::CaseResult;
use super::geo::{self, RegionModel};
use super::spec::{Column, Loaded, Table};
use super::table::{self, Value};
use crate::batch::Failure;
use crate::results::{Metric, RunSummary, full, metric, num};

/// The registry metrics a region has: those of the end-to-end latency and its unconfirmed count.
const REGIONAL: &[&Metric] = &[
    metric::E2E_COUNT,
    metric::E2E_P50_MS,
    metric::E2E_P90_MS,
    metric::E2E_P99_MS,
    metric::E2E_MAX_MS,
    metric::E2E_MEAN_MS,
    metric::UNCONFIRMED_TX,
];

/// A value of one client region.
#[derive(Clone)]
pub enum RegionValue {
    Metric { run: String, metric: &'static Metric },
    Model(&'static RegionModel),
}

/// What a column of a region table shows.
enum Cell {
    Name,
    Case(Value),
    Region(RegionValue),
}

/// Reads a region value (`METRIC`, `RUN.METRIC` or `model.NAME`).
pub fn value(loaded: &Loaded, text: &str) -> Result<RegionValue, String> {
    if let Some(name) = text.strip_prefix("model.") {
        let known = || geo::REGION_MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ");
        return geo::region_model(name)
            .map(RegionValue::Model)
            .ok_or_else(|| format!("no region model `{name}`; the region models are {}", known()));
    }
    match table::value(loaded, text)? {
        Value::Metric { run, metric } if REGIONAL.iter().any(|m| m.name == metric.name) => {
            Ok(RegionValue::Metric { run, metric })
        }
        _ => {
            let names: Vec<&str> = REGIONAL.iter().map(|m| m.name).collect();
            Err(format!("`{text}` is no region value: a region has {} and model.NAME", names.join(", ")))
        }
    }
}

/// `REGION.VALUE` of a claim or the page (after `CASE.region.`).
pub fn named(loaded: &Loaded, text: &str) -> Result<Value, String> {
    let (region, rest) = text.split_once('.').ok_or_else(|| format!("`region.{text}`: write region.REGION.VALUE"))?;
    Ok(Value::Region { region: region.to_string(), value: value(loaded, rest)? })
}

fn cell_of(loaded: &Loaded, text: &str) -> Result<Cell, String> {
    match text {
        "region" => Ok(Cell::Name),
        _ => match text.strip_prefix("region.") {
            Some(rest) => value(loaded, rest).map(Cell::Region),
            None => table::value(loaded, text).map(Cell::Case),
        },
    }
}

/// A region's view of a run: the run with its end-to-end latency and unconfirmed count
/// replaced by the region's, so that the registry's getters read the region.
fn view(s: &RunSummary, region: &str) -> Option<RunSummary> {
    let r = s.regions.iter().find(|r| r.region == region)?;
    let mut v = s.clone();
    v.latency_ms.e2e = r.e2e;
    v.unconfirmed_tx = r.unconfirmed_tx;
    Some(v)
}

impl RegionValue {
    pub fn number(&self, r: &CaseResult, region: &str) -> Option<f64> {
        match self {
            RegionValue::Metric { run, metric } => (metric.get)(&view(r.run(run)?, region)?),
            RegionValue::Model(m) => r.region_models.get(region)?.get(m.name).copied(),
        }
    }

    pub fn header(&self) -> String {
        match self {
            RegionValue::Metric { metric, .. } => metric.label.to_string(),
            RegionValue::Model(m) => m.label.to_string(),
        }
    }

    pub fn decimals(&self) -> usize {
        match self {
            RegionValue::Metric { metric, .. } => metric.decimals,
            RegionValue::Model(m) => m.decimals,
        }
    }
}

/// Checks the columns of a region table.
pub fn check(loaded: &Loaded, t: &Table) -> Result<(), Failure> {
    for c in &t.columns {
        cell_of(loaded, c.value()).map_err(|e| {
            let what = format!("table `{}`, column `{}`: {e}", t.name, c.value());
            loaded.error(c.value(), &what, "see docs/experiments.md, Per-region rows")
        })?;
    }
    Ok(())
}

/// A region table as markdown and CSV rows: one row per case and client region.
pub fn render(loaded: &Loaded, columns: &[Column], results: &[&CaseResult]) -> (String, Vec<Vec<String>>) {
    let cells: Vec<Cell> = columns.iter().map(|c| cell_of(loaded, c.value()).expect("checked")).collect();
    let header: Vec<String> = columns
        .iter()
        .zip(&cells)
        .map(|(c, v)| {
            c.header().map_or_else(
                || match v {
                    Cell::Name => "client region".into(),
                    Cell::Case(v) => v.header(loaded),
                    Cell::Region(v) => v.header(),
                },
                String::from,
            )
        })
        .collect();
    let align: Vec<&str> = cells
        .iter()
        .map(|v| match v {
            Cell::Name => "---",
            Cell::Case(v) if v.is_text(loaded) => "---",
            Cell::Case(_) | Cell::Region(_) => "---:",
        })
        .collect();
    let mut md = format!("| {} |\n|{}|\n", header.join(" | "), align.join("|"));
    let mut csv = vec![columns.iter().map(|c| c.value().to_string()).collect::<Vec<_>>()];
    for r in results {
        let Some(run) = r.runs.first() else { continue };
        for region in run.summary.regions.iter().map(|x| x.region.as_str()) {
            let text = |v: &Cell, decimals: Option<usize>| match v {
                Cell::Name => region.to_string(),
                Cell::Case(v) => v.cell(r, decimals),
                Cell::Region(v) => v.number(r, region).map_or(String::new(), |x| match decimals {
                    Some(d) => num(x, d),
                    None => full(x),
                }),
            };
            let decimals = |c: &Column, v: &Cell| match v {
                Cell::Region(v) => Some(c.decimals().unwrap_or(v.decimals())),
                Cell::Case(v) => Some(c.decimals().unwrap_or(v.decimals())),
                Cell::Name => None,
            };
            let row: Vec<String> = columns.iter().zip(&cells).map(|(c, v)| text(v, decimals(c, v))).collect();
            md.push_str(&format!("| {} |\n", row.join(" | ")));
            csv.push(cells.iter().map(|v| text(v, None)).collect());
        }
    }
    (md, csv)
}
