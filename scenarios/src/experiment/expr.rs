//! Arithmetic on values (docs/experiments.md, "Arithmetic"): `A / B`, `capacity_tps / 1000`,
//! `400000 / capacity_tps`, evaluated left to right; each operand a value or a number, each
//! operator `*` or `/` between spaces. Empty when an operand is.

use super::spec::Loaded;
use super::table::{self, Value};

/// An operator of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    Times,
    Over,
}

/// Reads `A op B op C ...`; None when `text` has no space (a plain value).
pub fn parse(loaded: &Loaded, text: &str) -> Option<Result<Value, String>> {
    text.split_whitespace().nth(1)?; // one word: a plain value
    Some(terms(text, |word| operand(loaded, word)).map(Value::Expr))
}

/// `text` as `A op B op C ...`, each operand read by `operand`.
pub fn terms<T>(text: &str, operand: impl Fn(&str) -> Result<T, String>) -> Result<Vec<(Arith, T)>, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len().is_multiple_of(2) {
        return Err(format!("`{text}`: write `A / B` or `A * B` with spaces around each operator"));
    }
    let mut out = vec![(Arith::Times, operand(words[0])?)];
    for pair in words[1..].chunks(2) {
        let op = match pair[0] {
            "*" => Arith::Times,
            "/" => Arith::Over,
            other => return Err(format!("`{text}`: `{other}` is no operator (`*` or `/`)")),
        };
        out.push((op, operand(pair[1])?));
    }
    Ok(out)
}

fn operand(loaded: &Loaded, word: &str) -> Result<Value, String> {
    match word.parse::<f64>() {
        Ok(x) => Ok(Value::Number(x)),
        Err(_) => match table::value(loaded, word)? {
            Value::Variant => Err(format!("`{word}`: arithmetic takes numbers")),
            v => Ok(v),
        },
    }
}

/// The value of `terms` from the operands' values, None when one is missing.
pub fn eval<T>(terms: &[(Arith, T)], number: impl Fn(&T) -> Option<f64>) -> Option<f64> {
    let mut acc = 1.0;
    for (op, v) in terms {
        let x = number(v)?;
        match op {
            Arith::Times => acc *= x,
            Arith::Over => acc /= x,
        }
    }
    Some(acc)
}
