//! The cases of an experiment: every variant crossed with every axis value and seed, in that
//! order (the variant slowest, the seed fastest), each with its label and overrides.

use serde::{Deserialize, Serialize};

use super::select::Only;
use super::spec::{Axis, Loaded};
use crate::results::{RunSummary, WindowRecord};
use crate::search::Found;

/// One case: what it is called and the overrides it runs with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// `variant/value/value[/seedS]`: what claims and `{{value}}` name it by.
    pub label: String,
    pub variant: Option<String>,
    /// (axis name, value as text), in the spec's order.
    pub axes: Vec<(String, String)>,
    pub seed: Option<u64>,
    pub sets: Vec<String>,
    /// The base scenario when an axis value names another than the spec's (`select.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

/// One run of a case, by the name tables use (`capacity`, `latency`, a rate's name, `run`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedRun {
    pub name: String,
    pub rate_tps: Option<f64>,
    pub summary: RunSummary,
    /// The run's windows (timeseries.csv's rows), for series plots; empty for the runs of a
    /// search and for `--isolate`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<WindowRecord>,
}

/// A case with its runs, and what its search found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub case: Case,
    pub runs: Vec<NamedRun>,
    pub search: Option<Found>,
    /// The closed-form models the spec names (`model.NAME`), by name.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub models: std::collections::BTreeMap<String, f64>,
    /// The region models the spec names (`region.model.NAME`), by client region then name.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub region_models: std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>,
    /// The published numbers joined to the case (`reference.rs`), as `NAME.COLUMN`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub references: std::collections::BTreeMap<String, f64>,
}

impl CaseResult {
    /// `case C`, or `case C run R` when its runs have names of their own (rates, a search).
    pub fn which(&self, run: &NamedRun) -> String {
        match run.name.as_str() {
            "run" => format!("case {}", self.case.label),
            name => format!("case {} run {name}", self.case.label),
        }
    }

    /// Every run of the case in the order run: (run name, rate, summary).
    pub fn every_run(&self) -> Vec<(String, Option<f64>, &RunSummary)> {
        match &self.search {
            Some(found) => {
                let mut out: Vec<_> = found.runs.iter().map(|(r, s)| (format!("search @{r}"), Some(*r), s)).collect();
                out.push(("latency".into(), Some(found.latency.0), &found.latency.1));
                out
            }
            None => self.runs.iter().map(|r| (r.name.clone(), r.rate_tps, &r.summary)).collect(),
        }
    }

    pub fn run(&self, name: &str) -> Option<&RunSummary> {
        self.runs.iter().find(|r| r.name == name).map(|r| &r.summary)
    }
}

/// A value's text: a string as it is, anything else as TOML writes it.
pub fn text_of(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The overrides an axis value makes in a variant.
fn axis_set(axis: &Axis, value: &toml::Value, variant: &str) -> Vec<String> {
    if let Some(sets) = axis.instead.get(&text_of(value)) {
        return sets.list();
    }
    match (&axis.key, &axis.set) {
        (Some(key), _) => vec![format!("{key}={value}")],
        (None, Some(template)) => vec![template.replace("{value}", &value.to_string()).replace("{variant}", variant)],
        (None, None) => unreachable!("checked when the spec was read"),
    }
}

/// The cases of the spec, `quick` taking the axis values of `[quick]`.
pub fn cases(loaded: &Loaded, quick: bool) -> Vec<Case> {
    let spec = &loaded.spec;
    let no_only = Only::default();
    let variants: Vec<(Option<&str>, Vec<String>, &Only)> = if spec.variants.is_empty() {
        vec![(None, Vec::new(), &no_only)]
    } else {
        spec.variants.iter().map(|v| (Some(v.label.as_str()), v.overrides(), &v.only)).collect()
    };
    let values = |axis: &Axis| match spec.quick.values.get(&axis.name) {
        Some(v) if quick => v.clone(),
        _ => axis.values.clone(),
    };
    let seeds: Vec<Option<u64>> =
        if spec.seeds.is_empty() { vec![None] } else { spec.seeds.iter().copied().map(Some).collect() };
    let mut out = Vec::new();
    for (variant, sets, only) in variants {
        let mut points: Vec<Vec<(&Axis, toml::Value)>> = vec![Vec::new()];
        for axis in &spec.axes {
            let values = values(axis);
            points = points
                .into_iter()
                .flat_map(|p| values.iter().map(move |x| [p.clone(), vec![(axis, x.clone())]].concat()))
                .collect();
        }
        for point in points.into_iter().filter(|p| only.admits_point(p)) {
            for &seed in &seeds {
                out.push(case(variant, &sets, &point, seed, seeds.len() > 1));
            }
        }
    }
    out
}

fn case(
    variant: Option<&str>,
    sets: &[String],
    point: &[(&Axis, toml::Value)],
    seed: Option<u64>,
    many_seeds: bool,
) -> Case {
    let mut label: Vec<String> = variant.map(String::from).into_iter().collect();
    label.extend(point.iter().map(|(_, v)| text_of(v)));
    if many_seeds && let Some(s) = seed {
        label.push(format!("seed{s}"));
    }
    let mut all = sets.to_vec();
    all.extend(point.iter().flat_map(|(a, v)| axis_set(a, v, variant.unwrap_or(""))));
    // A spec with neither variants, axes nor seeds has one case, named `all`.
    let label = if label.is_empty() { "all".to_string() } else { label.join("/") };
    Case {
        label,
        variant: variant.map(String::from),
        axes: point.iter().map(|(a, v)| (a.name.clone(), text_of(v))).collect(),
        seed,
        sets: all,
        scenario: point.iter().rev().find_map(|(a, v)| a.scenario.get(&text_of(v)).cloned()),
    }
}
