//! The page of an experiment: a hand-written markdown template whose placeholders
//! (`{{table NAME}}`, `{{plot NAME}}`, `{{value CASE.VALUE}}` or `{{value CASE.VALUE DECIMALS}}`,
//! `{{reference NAME}}`, `{{claims}}`)
//! are filled from the results. An unknown placeholder is an error before anything runs; a value
//! may be arithmetic within a case or across cases.

use super::cases::CaseResult;
use super::claims;
use super::expr::{self, Arith};
use super::spec::{Loaded, line_at};
use super::table::Value;
use crate::batch::Failure;
use crate::results::num;

/// A placeholder, as written.
enum Hole<'a> {
    Table(&'a str),
    Plot(&'a str),
    /// Where a reference's data came from, or that it was absent (`reference.rs`).
    Reference(&'a str),
    /// Every claim with its values and whether it holds.
    Claims,
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
            ["claims"] => Hole::Claims,
            _ => return Err(at(page, start, &format!("unknown placeholder `{}`", &page[start..end]))),
        };
        if let Hole::Value { reference, .. } = &hole {
            PageValue::read(loaded, reference).map_err(|e| at(page, start, &e))?;
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

/// What a value placeholder shows: one case's value (`CASE.VALUE`, itself arithmetic within the
/// case: `c.capacity_tps / 1000`), or arithmetic across cases, each operand `CASE.VALUE` or a
/// number (`a.round_s / b.round_s`).
enum PageValue {
    One(claims::Ref),
    Across(Vec<(Arith, Operand)>),
}

enum Operand {
    Number(f64),
    Case(claims::Ref),
}

impl PageValue {
    fn read(loaded: &Loaded, text: &str) -> Result<PageValue, String> {
        let one = match claims::reference(loaded, text) {
            Ok(r) => return Ok(PageValue::One(r)),
            Err(e) => e,
        };
        let operand = |word: &str| match word.parse::<f64>() {
            Ok(x) => Ok(Operand::Number(x)),
            Err(_) => claims::reference(loaded, word).map(Operand::Case),
        };
        match expr::terms(text, operand) {
            Ok(terms) if text.split_whitespace().nth(1).is_some() => Ok(PageValue::Across(terms)),
            Ok(_) => Err(one),
            Err(across) => Err(format!("{one}; read as arithmetic across cases: {across}")),
        }
    }

    /// None when a case it needs did not run.
    fn get(&self, results: &[CaseResult]) -> Option<f64> {
        match self {
            PageValue::One(r) => r.get(results),
            PageValue::Across(terms) => expr::eval(terms, |t| match t {
                Operand::Number(x) => Some(*x),
                Operand::Case(r) => r.get(results),
            }),
        }
    }

    /// The metric's decimals for one metric, else 2 for a ratio, 0 for a count.
    fn decimals(&self) -> usize {
        match self {
            PageValue::One(r) => match r.value {
                Value::Metric { metric, .. } => metric.decimals,
                Value::Expr(_) | Value::Reference { .. } => 2,
                _ => 0,
            },
            PageValue::Across(_) => 2,
        }
    }
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
        let help = "the placeholders are {{table NAME}}, {{plot NAME}}, {{value CASE.VALUE [DECIMALS]}}, \
                    {{reference NAME}}, {{claims}}";
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
            Hole::Claims => claims::table(loaded, results),
            Hole::Value { reference, decimals } => {
                let v = PageValue::read(loaded, reference).expect("checked");
                v.get(results).map_or("-".into(), |x| num(x, decimals.unwrap_or(v.decimals())))
            }
        };
        out.push_str(text.trim_end_matches('\n'));
        from = end;
    }
    out.push_str(&page[from..]);
    out
}
