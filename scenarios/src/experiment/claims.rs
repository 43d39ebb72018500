//! `[[expect]]` claims and `CASE.VALUE` references: checked when the spec is read, evaluated
//! against the results; a claim that does not hold fails the experiment (exit code 1).

use super::cases::{self, CaseResult};
use super::spec::{Expect, Loaded, Operand};
use super::table::{self, Value};
use crate::batch::Failure;
use crate::results::num;

/// A reference to one case's value: `fork/10.over.goodput_tps`, `none.capacity_tps`.
pub struct Ref {
    pub case: String,
    pub value: Value,
}

/// Reads `CASE.VALUE`, the case among the spec's (full, not quick) cases, the value a number.
pub fn reference(loaded: &Loaded, text: &str) -> Result<Ref, String> {
    let labels: Vec<String> = cases::cases(loaded, false).into_iter().map(|c| c.label).collect();
    let mut best: Option<&String> = None;
    for label in &labels {
        let fits = text.len() > label.len() && text.starts_with(label.as_str()) && text[label.len()..].starts_with('.');
        if fits && best.is_none_or(|b| label.len() > b.len()) {
            best = Some(label);
        }
    }
    let Some(case) = best else {
        let shown: Vec<&str> = labels.iter().take(4).map(String::as_str).collect();
        return Err(format!("`{text}` names no case: write CASE.VALUE with a case such as {}", shown.join(", ")));
    };
    let value = table::value(loaded, &text[case.len() + 1..])?;
    if matches!(value, Value::Variant | Value::Axis(_)) {
        return Err(format!("`{text}`: a claim compares numbers of runs (RUN.METRIC or capacity_tps)"));
    }
    Ok(Ref { case: case.clone(), value })
}

impl Ref {
    /// The value in `results`: None when the case did not run (a quick run) or lacks the published
    /// data it needs, NaN when it has none.
    pub fn get(&self, results: &[CaseResult]) -> Option<f64> {
        let r = results.iter().find(|r| r.case.label == self.case)?;
        if super::reference::missing(&self.value, r) {
            return None;
        }
        Some(self.value.number(r).unwrap_or(f64::NAN))
    }
}

/// Checks that every claim names cases and values that exist.
pub fn check(loaded: &Loaded) -> Result<(), Failure> {
    for e in &loaded.spec.expects {
        let line = super::spec::line_at(&loaded.text, e.span().start);
        let operands =
            [Some(&Operand::Ref(e.get_ref().left.clone())), Some(&e.get_ref().right), e.get_ref().times.as_ref()];
        for op in operands.into_iter().flatten() {
            if let Operand::Ref(text) = op {
                reference(loaded, text).map_err(|why| {
                    Failure::input(format!(
                        "{}:{line}: [[expect]]: {why}\n  help: see docs/experiments.md, Claims",
                        loaded.path.display()
                    ))
                })?;
            }
        }
    }
    Ok(())
}

fn operand(loaded: &Loaded, op: &Operand, results: &[CaseResult]) -> Option<f64> {
    match op {
        Operand::Number(x) => Some(*x),
        Operand::Ref(text) => reference(loaded, text).expect("checked").get(results),
    }
}

/// One claim against the results: its line in the spec and its operands' values, each None
/// when a case it names did not run.
pub struct Outcome<'a> {
    pub line: usize,
    pub expect: &'a Expect,
    pub left: Option<f64>,
    pub right: Option<f64>,
    pub times: Option<f64>,
}

impl Outcome<'_> {
    /// What `left` is compared with: `right`, times `times` when the claim has it.
    pub fn bound(&self) -> Option<f64> {
        Some(self.right? * self.times?)
    }

    /// None when a case it names did not run.
    pub fn holds(&self) -> Option<bool> {
        Some(self.expect.op.holds(self.left?, self.bound()?))
    }
}

/// Every claim of the spec against `results`, in the spec's order.
pub fn outcomes<'a>(loaded: &'a Loaded, results: &[CaseResult]) -> Vec<Outcome<'a>> {
    let outcome = |e: &'a toml::Spanned<Expect>| {
        let x: &Expect = e.get_ref();
        Outcome {
            line: super::spec::line_at(&loaded.text, e.span().start),
            expect: x,
            left: operand(loaded, &Operand::Ref(x.left.clone()), results),
            right: operand(loaded, &x.right, results),
            times: x.times.as_ref().map_or(Some(1.0), |t| operand(loaded, t, results)),
        }
    };
    loaded.spec.expects.iter().map(outcome).collect()
}

/// Evaluates every claim: the messages of those that do not hold, and the count skipped
/// because a case they name did not run.
pub fn evaluate(loaded: &Loaded, results: &[CaseResult]) -> (Vec<String>, usize) {
    let mut failed = Vec::new();
    let mut skipped = 0;
    for o in outcomes(loaded, results) {
        let (Some(holds), Some(left), Some(right), Some(times)) = (o.holds(), o.left, o.right, o.times) else {
            skipped += 1;
            continue;
        };
        if !holds {
            let x = o.expect;
            failed.push(format!(
                "{}:{}: claim does not hold: {} = {left} is not {} {}{} = {}\n  why it should: {}",
                loaded.path.display(),
                o.line,
                x.left,
                x.op.text(),
                describe(&x.right, right),
                x.times.as_ref().map_or(String::new(), |t| format!(" x {}", describe(t, times))),
                right * times,
                x.why
            ));
        }
    }
    (failed, skipped)
}

/// The page's `{{claims}}`: one row per claim, what it says, both sides with their values, and
/// whether it holds (`not run` when a case it names did not).
pub fn table(loaded: &Loaded, results: &[CaseResult]) -> String {
    let mut out = String::from("| spec line | claim | value | | bound | holds |\n|---:|---|---|---|---|---|\n");
    for o in outcomes(loaded, results) {
        let x = o.expect;
        let value = |v: Option<f64>| v.map_or("-".to_string(), short);
        let side = |op: &Operand, v: Option<f64>| match op {
            Operand::Number(n) => short(*n),
            Operand::Ref(text) => format!("`{text}` {}", value(v)),
        };
        let mut bound = side(&x.right, o.right);
        if let Some(t) = &x.times {
            bound = format!("{bound} x {} = {}", side(t, o.times), value(o.bound()));
        }
        let holds = match o.holds() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not run",
        };
        let why = x.why.replace('|', "\\|");
        out.push_str(&format!(
            "| {} | {why} | `{}` {} | {} | {bound} | {holds} |\n",
            o.line,
            x.left,
            value(o.left),
            x.op.text()
        ));
    }
    out
}

/// A value as a reader takes it in, with the digits a bound near it needs: whole when it is or
/// above 100, 2 decimals from 1, 3 below (a ratio of 0.848 against 0.85), 4 below 0.1.
fn short(x: f64) -> String {
    let decimals = match x.abs() {
        _ if x.fract() == 0.0 => 0,
        a if a >= 100.0 => 0,
        a if a >= 1.0 => 2,
        a if a >= 0.1 => 3,
        _ => 4,
    };
    num(x, decimals)
}

fn describe(op: &Operand, value: f64) -> String {
    match op {
        Operand::Number(x) => format!("{x}"),
        Operand::Ref(text) => format!("{text} ({value})"),
    }
}
