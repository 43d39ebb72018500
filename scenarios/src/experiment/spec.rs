//! The experiment spec (`experiments/<name>.toml`, docs/experiments.md): read with serde, then
//! checked against itself, the metric registry and its page before anything runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::batch::Failure;
use crate::results;
use crate::search::Search;

/// The name of the one run of a variant with its own `rate_tps`.
pub const AT_RUN: &str = "at";

/// An experiment as its file says it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: String,
    /// The base scenario, relative to the spec's folder.
    pub scenario: String,
    /// The page template, relative to the spec's folder (default: the spec's name with `.md`).
    #[serde(default)]
    pub page: Option<String>,
    /// Seeds (default: the scenario's).
    #[serde(default)]
    pub seeds: Vec<u64>,
    #[serde(default, rename = "variant")]
    pub variants: Vec<Variant>,
    #[serde(default, rename = "axis")]
    pub axes: Vec<Axis>,
    /// Named offered loads, each run per case (`workload.rate_tps`).
    #[serde(default)]
    pub rates: BTreeMap<String, f64>,
    #[serde(default)]
    pub search: Option<Search>,
    #[serde(default, rename = "table")]
    pub tables: Vec<Table>,
    #[serde(default, rename = "plot")]
    pub plots: Vec<Plot>,
    #[serde(default, rename = "expect")]
    pub expects: Vec<Spanned<Expect>>,
    #[serde(default)]
    pub quick: Quick,
    /// Every run in a child process, as `--isolate` (wall time and peak memory per run).
    #[serde(default)]
    pub isolate: bool,
    /// Published data joined to the cases by key (`reference.rs`).
    #[serde(default, rename = "reference")]
    pub references: Vec<super::reference::Reference>,
}

/// A labelled set of overrides.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub label: String,
    #[serde(default)]
    pub sets: Vec<String>,
    /// Only at these values of these axes (`select.rs`); every value when empty.
    #[serde(default)]
    pub only: super::select::Only,
    /// This variant's load search starts here instead of at `[search] start_tps`.
    #[serde(default)]
    pub search_start_tps: Option<f64>,
    /// ... or here at particular axis values: `{ AXIS = { VALUE = tps } }` (`reference.rs`).
    #[serde(default)]
    pub search_starts: BTreeMap<String, BTreeMap<String, f64>>,
    /// Texts a reference's `match` may name (`series = "payload1024_lan"`: `reference.rs`).
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
    /// This variant's cases run once at this offered load (run `at`) instead of the spec's
    /// search or named rates: a published curve's point at the load it was measured at.
    #[serde(default)]
    pub rate_tps: Option<f64>,
    /// ... or once with closed-loop clients, each keeping this many transactions in flight
    /// (run `at`): a published curve measured with closed-loop clients, at the transactions in
    /// flight its own numbers give (Little's law: throughput x latency).
    #[serde(default)]
    pub outstanding: Option<u32>,
}

impl Variant {
    /// Whether this variant's cases run once, at its own load (run `at`).
    pub fn runs_once(&self) -> bool {
        self.rate_tps.is_some() || self.outstanding.is_some()
    }

    /// The variant's overrides, the closed loop of `outstanding` included.
    pub fn overrides(&self) -> Vec<String> {
        let closed =
            self.outstanding.map(|n| ["clients.loop=\"closed\"".to_string(), format!("clients.outstanding={n}")]);
        self.sets.iter().cloned().chain(closed.into_iter().flatten()).collect()
    }
}

/// A named list of values, crossed with the variants and the other axes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    pub name: String,
    pub values: Vec<toml::Value>,
    /// The scenario key a value sets (`key=value`) ...
    #[serde(default)]
    pub key: Option<String>,
    /// ... or an override with `{value}` (and `{variant}`) in it.
    #[serde(default)]
    pub set: Option<String>,
    /// Another base scenario for particular values (relative to the spec), by value.
    #[serde(default)]
    pub scenario: BTreeMap<String, String>,
    /// Overrides for particular values instead of the above, by value: one, or a list.
    #[serde(default)]
    pub instead: BTreeMap<String, super::select::Sets>,
}

/// A table: one row per case, these columns.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Only the cases at these values (`select.rs`); every case when empty.
    #[serde(default)]
    pub only: super::select::Only,
    /// One row per case (the default) or per case and client region (`regions.rs`).
    #[serde(default)]
    pub rows: Rows,
}

/// What a table's rows are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rows {
    #[default]
    Case,
    Region,
}

/// A column: a value reference (`variant`, an axis name, `RUN.METRIC`, `capacity_tps`), with
/// an optional header and number of decimals.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Column {
    Plain(String),
    Full(FullColumn),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullColumn {
    pub value: String,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub decimals: Option<usize>,
}

impl Column {
    pub fn value(&self) -> &str {
        match self {
            Column::Plain(v) => v,
            Column::Full(c) => &c.value,
        }
    }
    pub fn header(&self) -> Option<&str> {
        match self {
            Column::Plain(_) => None,
            Column::Full(c) => c.header.as_deref(),
        }
    }
    pub fn decimals(&self) -> Option<usize> {
        match self {
            Column::Plain(_) => None,
            Column::Full(c) => c.decimals,
        }
    }
}

/// A chart: `y` against the axis `x`, one series per value of `series` (`variant` or an axis).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plot {
    pub name: String,
    pub kind: PlotKind,
    pub x: String,
    pub y: String,
    /// `variant` or an axis; optional for bars (one series, named by `y`'s label).
    #[serde(default)]
    pub series: String,
    pub title: String,
    #[serde(default)]
    pub x_label: Option<String>,
    #[serde(default)]
    pub y_label: Option<String>,
    /// Only the cases at these values (`select.rs`); every case when empty.
    #[serde(default)]
    pub only: super::select::Only,
    /// A logarithmic y axis (`series` plots; empty windows drop off it).
    #[serde(default)]
    pub y_log: bool,
    /// A logarithmic x axis (line and points plots).
    #[serde(default)]
    pub x_log: bool,
    /// One more series: this value (a reference's column) at each x, named `also_label`.
    #[serde(default)]
    pub also: Option<String>,
    #[serde(default)]
    pub also_label: Option<String>,
    /// The extra series' own x (default: the plot's `x`): a published curve drawn at its own
    /// throughput beside ours at ours.
    #[serde(default)]
    pub also_x: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlotKind {
    Line,
    Points,
    /// A run's windows over time (`series.rs`).
    Series,
    /// One bar per case, `x` a category (see `bars.rs`).
    Bars,
}

/// A claim: `left op right` (x `times` when given), with why it should hold.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub left: String,
    pub op: Op,
    pub right: Operand,
    #[serde(default)]
    pub times: Option<Operand>,
    pub why: String,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    /// A ratio within `right` of 1 either way: `right = 0.15` holds from 0.85 to 1.15.
    #[serde(rename = "within")]
    Within,
}

impl Op {
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Within => (a - 1.0).abs() <= b,
        }
    }
    pub fn text(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Within => "within 1 +-",
        }
    }
}

/// A number, or a reference `CASE.RUN.METRIC` / `CASE.capacity_tps`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Operand {
    Number(f64),
    Ref(String),
}

/// What `--quick` changes: fewer values on some axes.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quick {
    #[serde(default)]
    pub values: BTreeMap<String, Vec<toml::Value>>,
}

/// A spec read from its file, with its text (for line numbers) and its folder.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub text: String,
    pub spec: Spec,
}

impl Loaded {
    /// The variant a case belongs to, if the spec has variants.
    pub fn variant_of(&self, case: &super::cases::Case) -> Option<&Variant> {
        self.spec.variants.iter().find(|v| case.variant.as_deref() == Some(v.label.as_str()))
    }

    /// Reads and checks the spec at `path` (exit code 2 on any problem).
    pub fn read(path: &Path) -> Result<Loaded, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
        let spec: Spec = toml::from_str(&text).map_err(|e| {
            let help = "see docs/experiments.md for the keys of a spec";
            Failure::input(format!("{}: {}\n  help: {help}", path.display(), e.to_string().trim_end()))
        })?;
        let loaded = Loaded { path: path.to_path_buf(), text, spec };
        loaded.check()?;
        Ok(loaded)
    }

    /// A file the spec names, relative to its folder.
    pub fn beside(&self, name: &str) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join(name)
    }

    /// The page template's path.
    pub fn page_path(&self) -> PathBuf {
        match &self.spec.page {
            Some(p) => self.beside(p),
            None => self.path.with_extension("md"),
        }
    }

    /// The 1-based line of the first occurrence of `needle` in the spec (1 when absent).
    pub fn line_of(&self, needle: &str) -> usize {
        self.text.find(needle).map_or(1, |at| line_at(&self.text, at))
    }

    /// A bad-input failure naming the file, the line of `needle`, the key and the fix.
    pub fn error(&self, needle: &str, what: &str, help: &str) -> Failure {
        let line = self.line_of(needle);
        Failure::input(format!("{}:{line}: {what}\n  help: {help}", self.path.display()))
    }

    /// The names the runs of a case have: the rates', the search's, or `run`; and `at` when a
    /// variant runs at its own load (`rate_tps` or `outstanding`).
    pub fn run_names(&self) -> Vec<String> {
        let mut names: Vec<String> = if self.spec.search.is_some() {
            vec!["capacity".into(), "latency".into()]
        } else if self.spec.rates.is_empty() {
            vec!["run".into()]
        } else {
            self.spec.rates.keys().cloned().collect()
        };
        if self.spec.variants.iter().any(Variant::runs_once) {
            names.push(AT_RUN.into());
        }
        names
    }

    fn check(&self) -> Result<(), Failure> {
        let s = &self.spec;
        if s.search.is_some() && !s.rates.is_empty() {
            return Err(self.error(
                "[rates]",
                "`[rates]` and `[search]` both given",
                "keep one: a case either runs at named rates or searches its capacity",
            ));
        }
        if let Some(v) = s.variants.iter().find(|v| v.rate_tps.is_some_and(|r| !(r.is_finite() && r > 0.0))) {
            let what = format!("variant `{}`: `rate_tps` must be a positive number of tx/s", v.label);
            return Err(self.error(
                "rate_tps",
                &what,
                "give the offered load its cases run at, e.g. `rate_tps = 15000`",
            ));
        }
        if let Some(v) = s.variants.iter().find(|v| v.rate_tps.is_some() && v.outstanding.is_some()) {
            let what = format!("variant `{}`: both `rate_tps` and `outstanding` given", v.label);
            return Err(self.error(
                "outstanding",
                &what,
                "keep one: an open loop at `rate_tps`, or closed-loop clients with `outstanding` in flight each",
            ));
        }
        if let Some(v) = s.variants.iter().find(|v| v.outstanding == Some(0)) {
            let what = format!("variant `{}`: `outstanding` must be at least 1", v.label);
            return Err(self.error("outstanding", &what, "give the transactions each client keeps in flight"));
        }
        for axis in &s.axes {
            // Neither is fine when every value has its own overrides in `instead`.
            let all_instead = axis.values.iter().all(|v| axis.instead.contains_key(&super::cases::text_of(v)));
            let neither_ok = axis.key.is_none() && axis.set.is_none() && all_instead;
            if axis.key.is_some() == axis.set.is_some() && !neither_ok {
                let what = format!("axis `{}`: give exactly one of `key` and `set`", axis.name);
                return Err(self.error(
                    &axis.name,
                    &what,
                    "`key = \"workload.rate_tps\"` sets a key to each value; `set = '...{value}...'` is a template",
                ));
            }
        }
        for name in s.quick.values.keys() {
            if !s.axes.iter().any(|a| &a.name == name) {
                let what = format!("quick.values.{name}: no axis `{name}`");
                return Err(self.error(name, &what, &format!("the axes are {}", self.axis_names().join(", "))));
            }
        }
        super::select::check(self)?;
        super::reference::check(self)?;
        super::table::check(self)?;
        super::claims::check(self)
    }

    pub fn axis_names(&self) -> Vec<String> {
        self.spec.axes.iter().map(|a| a.name.clone()).collect()
    }
}

/// The 1-based line of byte offset `at` in `text`.
pub fn line_at(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Whether `name` is a metric of the registry; else the failure's help lists them.
pub fn metric_help() -> String {
    let names: Vec<&str> = results::METRICS.iter().map(|m| m.name).collect();
    format!("the metrics are {}", names.join(", "))
}
