//! Published data joined to an experiment's cases by key (docs/experiments.md, "Published
//! data"): `[[reference]]` names a CSV file, read by path after the runs (never copied), and
//! the columns that must equal a case's values; its other columns are values `NAME.COLUMN`
//! wherever a value is. A file that is absent leaves those values empty, the claims that need
//! them skipped, and `{{reference NAME}}` on the page saying so. Also here: a variant's
//! per-axis-value search starts (`search_starts`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::cases::{Case, CaseResult};
use super::spec::{Loaded, Variant};
use super::table::Value;
use crate::batch::Failure;

/// `[[reference]]`: a CSV file of published numbers and how its rows meet the cases.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub name: String,
    /// The CSV file (a header line, then rows), relative to the spec's folder.
    pub file: String,
    /// CSV column -> the case's value it must equal: an axis, `variant`, or a variant's `keys`.
    #[serde(rename = "match")]
    pub matches: BTreeMap<String, String>,
}

/// A CSV file's header and rows; None when the file is absent.
type Rows = Option<(Vec<String>, Vec<Vec<String>>)>;

fn read(loaded: &Loaded, r: &Reference) -> Result<Rows, String> {
    let path: PathBuf = loaded.beside(&r.file);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> =
        csv.headers().map_err(|e| format!("{}: {e}", path.display()))?.iter().map(String::from).collect();
    let mut rows = Vec::new();
    for row in csv.records() {
        rows.push(row.map_err(|e| format!("{}: {e}", path.display()))?.iter().map(String::from).collect());
    }
    Ok(Some((header, rows)))
}

/// Checks every reference: its name is free, its `match` names axes, `variant` or variant keys,
/// and, when the file is there, its columns exist.
pub fn check(loaded: &Loaded) -> Result<(), Failure> {
    let spec = &loaded.spec;
    for r in &spec.references {
        let bad = |what: String, help: &str| loaded.error(&r.name, &format!("reference `{}`: {what}", r.name), help);
        if r.name == "model" || loaded.run_names().contains(&r.name) {
            return Err(bad("the name is taken by a run or `model`".into(), "name it otherwise"));
        }
        for what in r.matches.values() {
            let known = what == "variant" && !spec.variants.is_empty()
                || spec.axes.iter().any(|a| &a.name == what)
                || spec.variants.iter().any(|v| v.keys.contains_key(what));
            if !known {
                return Err(bad(format!("`match` names `{what}`"), "name an axis, `variant`, or a variant's `keys`"));
            }
        }
        let header = read(loaded, r).map_err(|e| bad(e, "the file is CSV with a header line"))?.map(|x| x.0);
        if let Some(missing) = header.and_then(|h| r.matches.keys().find(|c| !h.contains(c)).cloned()) {
            return Err(bad(format!("the file has no column `{missing}`"), "`match` keys are the file's columns"));
        }
    }
    for v in &spec.variants {
        if let Some(axis) = v.search_starts.keys().find(|a| !spec.axes.iter().any(|x| &x.name == *a)) {
            let what = format!("variant `{}`: `search_starts.{axis}` names no axis", v.label);
            return Err(loaded.error(axis, &what, &format!("the axes are {}", loaded.axis_names().join(", "))));
        }
    }
    Ok(())
}

/// `NAME.COLUMN` of a reference, when `text` starts with a reference's name.
pub fn value(loaded: &Loaded, text: &str) -> Option<Result<Value, String>> {
    let (name, column) = text.split_once('.')?;
    let r = loaded.spec.references.iter().find(|r| r.name == name)?;
    if r.matches.contains_key(column) {
        return Some(Err(format!("`{text}`: `{column}` is a `match` column of `{name}`, not a value")));
    }
    match read(loaded, r) {
        Ok(Some((header, _))) if !header.iter().any(|h| h == column) => {
            Some(Err(format!("`{text}`: `{}` has no column `{column}` (it has {})", r.file, header.join(", "))))
        }
        _ => Some(Ok(Value::Reference { name: r.name.clone(), column: column.to_string() })),
    }
}

/// What a case gives for a `match` entry: its axis value, its variant, or its variant's key.
fn case_value(loaded: &Loaded, case: &Case, what: &str) -> Option<String> {
    if let Some((_, v)) = case.axes.iter().find(|(a, _)| a == what) {
        return Some(v.clone());
    }
    if what == "variant" {
        return case.variant.clone();
    }
    loaded.variant_of(case)?.keys.get(what).cloned()
}

/// Two cells equal as numbers when both are numbers, else as text.
fn same(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Joins every reference to the cases: each case's matching row's numbers, as `NAME.COLUMN`.
pub fn fill(loaded: &Loaded, results: &mut [CaseResult]) {
    for r in &loaded.spec.references {
        let Some((header, rows)) = read(loaded, r).expect("checked when the spec was read") else { continue };
        let col = |name: &str| header.iter().position(|h| h == name).expect("checked when the spec was read");
        for result in results.iter_mut() {
            let fits = |row: &Vec<String>| {
                r.matches
                    .iter()
                    .all(|(c, what)| case_value(loaded, &result.case, what).is_some_and(|v| same(&row[col(c)], &v)))
            };
            let Some(row) = rows.iter().find(|row| fits(row)) else { continue };
            for (i, h) in header.iter().enumerate().filter(|(_, h)| !r.matches.contains_key(*h)) {
                if let Ok(x) = row[i].parse::<f64>() {
                    result.references.insert(format!("{}.{h}", r.name), x);
                }
            }
        }
    }
}

/// Whether `value` needs a reference of which the case has no row (the file absent, or no row
/// matches): a claim on it is skipped rather than failed.
pub fn missing(value: &Value, r: &CaseResult) -> bool {
    match value {
        Value::Reference { name, .. } => !r.references.keys().any(|k| k.split_once('.').is_some_and(|x| x.0 == name)),
        Value::Expr(terms) => terms.iter().any(|(_, v)| missing(v, r)),
        _ => false,
    }
}

/// `{{reference NAME}}` on the page: where the data came from, or that it was not found.
pub fn page_note(loaded: &Loaded, name: &str, results: &[CaseResult]) -> String {
    let r = loaded.spec.references.iter().find(|r| r.name == name).expect("checked when the page was read");
    let prefix = format!("{name}.");
    let joined = results.iter().filter(|c| c.references.keys().any(|k| k.starts_with(&prefix))).count();
    if joined == 0 {
        return format!(
            "**The published data `{}` was not found** (or matched no case): its columns are empty, its curves \
             missing and the claims that need it skipped.",
            r.file
        );
    }
    format!("Published data: `{}`, read when the experiment ran (not copied); it matched {joined} cases.", r.file)
}

/// The series a plot's `also` adds: the value at each distinct x of the kept cases (the first
/// case with a number there).
pub fn also_points(x: &Value, also: &Value, results: &[&CaseResult]) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    for r in results {
        if let (Some(px), Some(py)) = (x.number(r), also.number(r))
            && !points.iter().any(|p| p.0 == px)
        {
            points.push((px, py));
        }
    }
    points
}

impl Variant {
    /// Where this variant's load search starts for `case`: its `search_starts` at one of the
    /// case's axis values, else its `search_start_tps`.
    pub fn search_start(&self, case: &Case) -> Option<f64> {
        let at = case.axes.iter().find_map(|(axis, v)| self.search_starts.get(axis)?.get(v).copied());
        at.or(self.search_start_tps)
    }
}
