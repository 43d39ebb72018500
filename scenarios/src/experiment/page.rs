//! The page of an experiment: a hand-written markdown template whose placeholders
//! (`{{table NAME}}`, `{{plot NAME}}`, `{{value CASE.VALUE}}` or `{{value CASE.VALUE DECIMALS}}`)
//! are filled from the results. An unknown placeholder is an error before anything runs.

use super::cases::CaseResult;
use super::claims;
use super::spec::{Loaded, line_at};
use crate::batch::Failure;
use crate::results::num;

/// A placeholder, as written.
enum Hole<'a> {
    Table(&'a str),
    Plot(&'a str),
    /// Where a reference's data came from, or that it was absent (`reference.rs`).
    Reference(&'a str),
    Value {
        reference: &'a str,
        decimals: Option<usize>,
    },
}

/// Every placeholder of `page` with its byte range, or the first that is not one.
fn holes<'a>(loaded: &'a Loaded, page: &'a str) -> Result<Vec<(usize, usize, Hole<'a>)>, String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = page[from..].find("{{").map(|i| i + from) {
        let end =
            page[start..].find("}}").map(|i| i + start + 2).ok_or_else(|| at(page, start, "`{{` is never closed"))?;
        let words: Vec<&str> = page[start + 2..end - 2].split_whitespace().collect();
        let hole = match words.as_slice() {
            ["table", name] if loaded.spec.tables.iter().any(|t| t.name == *name) => Hole::Table(name),
            ["plot", name] if loaded.spec.plots.iter().any(|p| p.name == *name) => Hole::Plot(name),
            ["reference", name] if loaded.spec.references.iter().any(|r| r.name == *name) => Hole::Reference(name),
            ["value", _, ..] => value_hole(page[start + 2..end - 2].trim()),
            _ => return Err(at(page, start, &format!("unknown placeholder `{}`", &page[start..end]))),
        };
        if let Hole::Value { reference, .. } = &hole {
            claims::reference(loaded, reference).map_err(|e| at(page, start, &e))?;
        }
        out.push((start, end, hole));
        from = end;
    }
    Ok(out)
}

/// `value CASE.VALUE [DECIMALS]`; the value may be arithmetic (`expr.rs`), so a last number is
/// the decimals only when no operator stands before it.
fn value_hole(inner: &str) -> Hole<'_> {
    let reference = inner["value".len()..].trim();
    let words: Vec<&str> = reference.split_whitespace().collect();
    if let [.., before, last] = words.as_slice()
        && !matches!(*before, "*" | "/")
        && let Ok(d) = last.parse::<usize>()
    {
        let cut = reference.rfind(last).expect("a word of it");
        return Hole::Value { reference: reference[..cut].trim_end(), decimals: Some(d) };
    }
    Hole::Value { reference, decimals: None }
}

fn at(page: &str, offset: usize, what: &str) -> String {
    format!("line {}: {what}", line_at(page, offset))
}

/// Reads the page template and checks its placeholders.
pub fn read(loaded: &Loaded) -> Result<String, Failure> {
    let path = loaded.page_path();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Failure::input(format!(
            "{}: {e}\n  help: an experiment's page is its spec's name with .md, or `page = ...`",
            path.display()
        ))
    })?;
    holes(loaded, &text).map_err(|e| {
        let help =
            "the placeholders are {{table NAME}}, {{plot NAME}}, {{value CASE.VALUE [DECIMALS]}}, {{reference NAME}}";
        Failure::input(format!("{}, {e}\n  help: {help}", path.display()))
    })?;
    Ok(text)
}

/// The page with every placeholder filled; tables and plots come from `tables` and `plots`
/// (name, markdown) made beforehand. A value of a case that did not run is `-`.
pub fn fill(
    loaded: &Loaded,
    page: &str,
    tables: &[(String, String)],
    plots: &[(String, String)],
    results: &[CaseResult],
) -> String {
    let mut out = String::new();
    let mut from = 0;
    for (start, end, hole) in holes(loaded, page).expect("checked when read") {
        out.push_str(&page[from..start]);
        let find = |list: &[(String, String)], name: &str| list.iter().find(|x| x.0 == name).map(|x| x.1.clone());
        let text = match hole {
            Hole::Table(name) => find(tables, name).expect("every table is made"),
            Hole::Plot(name) => find(plots, name).expect("every plot is made"),
            Hole::Reference(name) => super::reference::page_note(loaded, name, results),
            Hole::Value { reference, decimals } => {
                let r = claims::reference(loaded, reference).expect("checked");
                let decimals = decimals.unwrap_or(match r.value {
                    super::table::Value::Metric { metric, .. } => metric.decimals,
                    super::table::Value::Expr(_) | super::table::Value::Reference { .. } => 2,
                    _ => 0,
                });
                r.get(results).map_or("-".into(), |x| num(x, decimals))
            }
        };
        out.push_str(text.trim_end_matches('\n'));
        from = end;
    }
    out.push_str(&page[from..]);
    out
}
