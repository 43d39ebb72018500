//! `byzsim diff`: two runs, or two event logs, to their first divergent record, with the records
//! around it on both sides.
//!
//! Runs are compared in two passes so that long runs need no full logs: the first keeps a hash
//! of every record so far at checkpoints every `CHECKPOINT_EVERY` records; the first checkpoint
//! that differs bounds the divergence, and the second pass (the runs are deterministic) keeps
//! only the records of that stretch and its context. Two event logs (from two builds of byzsim,
//! say) are compared line by line as they stream.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use sim_core::digest::Fold;
use sim_core::{Entry, Record};

use crate::eventlog;
use crate::model::Scenario;
use crate::planted::Planted;
use crate::run::{self, Report};
use crate::watch::{self, RunInfo, Watcher};

/// Records between two checkpoints of the first pass.
pub const CHECKPOINT_EVERY: u64 = 1024;

/// One side of a diff: a scenario at a seed (and, for testing byzsim, a planted bug).
#[derive(Clone, Debug)]
pub struct Side {
    pub label: String,
    pub scenario: Scenario,
    pub planted: Option<Planted>,
}

/// (records so far, hash of them all) every `CHECKPOINT_EVERY` records, and at the end.
struct Checkpoints {
    hash: Fold,
    count: u64,
    points: Vec<(u64, u64)>,
}

impl Checkpoints {
    fn new() -> Checkpoints {
        Checkpoints { hash: Fold::new(0), count: 0, points: Vec::new() }
    }
}

impl Watcher for Checkpoints {
    fn begin(&mut self, _: &RunInfo) {}
    fn wants_about(&self, _: &Entry) -> bool {
        false
    }
    fn record(&mut self, entry: &Entry, _: &str) {
        self.hash.add(entry.hash());
        self.count += 1;
        if self.count.is_multiple_of(CHECKPOINT_EVERY) {
            self.points.push((self.count, self.hash.value()));
        }
    }
}

/// The records numbered `from..to`, with what they are about.
struct Window {
    from: u64,
    to: u64,
    info: Option<RunInfo>,
    lines: Vec<(Entry, String)>,
}

impl Watcher for Window {
    fn begin(&mut self, info: &RunInfo) {
        self.info = Some(info.clone());
    }
    fn wants_about(&self, entry: &Entry) -> bool {
        (self.from..self.to).contains(&entry.seq)
    }
    fn record(&mut self, entry: &Entry, about: &str) {
        if (self.from..self.to).contains(&entry.seq) {
            self.lines.push((*entry, about.to_string()));
        }
    }
}

fn run_with(side: &Side, watcher: watch::Shared) -> Report {
    run::run_watched(&side.scenario, side.planted, &[watcher], &mut |_, _| {})
}

/// The outcome of a diff, as text and whether the two sides differ.
pub struct Outcome {
    pub text: String,
    pub differ: bool,
    /// Runs made (each side runs twice when they differ).
    pub runs: u32,
}

/// Compares two runs record by record; `context` records are shown on each side of the first
/// difference.
pub fn runs(a: &Side, b: &Side, context: u64) -> Outcome {
    let (ca, wa) = watch::share(Checkpoints::new());
    let (cb, wb) = watch::share(Checkpoints::new());
    let ra = run_with(a, wa);
    let rb = run_with(b, wb);
    let (ca, cb) = (ca.borrow(), cb.borrow());
    let mut text = String::new();
    let _ = writeln!(text, "A: {} ({} records, digest {:016x})", a.label, ra.result.records, ra.result.digest);
    let _ = writeln!(text, "B: {} ({} records, digest {:016x})", b.label, rb.result.records, rb.result.digest);
    let same_end = ca.count == cb.count && ca.hash.value() == cb.hash.value();
    let first_bad = ca.points.iter().zip(&cb.points).position(|(x, y)| x != y);
    if same_end && first_bad.is_none() {
        let _ = writeln!(text, "no difference: the {} records are the same, time and content", ca.count);
        return Outcome { text, differ: false, runs: 2 };
    }
    // The divergence is after the last equal checkpoint and at or before the first unequal one.
    // Past the last common checkpoint, the shorter run has fewer than CHECKPOINT_EVERY records.
    let (from, to) = match first_bad {
        Some(i) => (i as u64 * CHECKPOINT_EVERY, (i as u64 + 1) * CHECKPOINT_EVERY),
        None => {
            let from = ca.points.len().min(cb.points.len()) as u64 * CHECKPOINT_EVERY;
            (from, from + CHECKPOINT_EVERY + 1)
        }
    };
    let window = |side: &Side| {
        let w = Window {
            from: from.saturating_sub(context),
            to: to.saturating_add(context),
            info: None,
            lines: Vec::new(),
        };
        let (typed, shared) = watch::share(w);
        let report = run_with(side, shared);
        let w = std::mem::replace(&mut *typed.borrow_mut(), Window { from: 0, to: 0, info: None, lines: Vec::new() });
        (report, w)
    };
    let ((_, wa), (_, wb)) = (window(a), window(b));
    let first = (0..)
        .zip(wa.lines.iter().zip(&wb.lines))
        .find(|(_, (x, y))| x.0.seq >= from && x.0.hash() != y.0.hash())
        .map(|(i, _)| i)
        .unwrap_or(wa.lines.len().min(wb.lines.len()));
    let stops = (ra.result.stop.name(), rb.result.stop.name());
    first_difference(&mut text, wa.lines.get(first), wb.lines.get(first), stops);
    let (info_a, info_b) = (wa.info.clone().expect("began"), wb.info.clone().expect("began"));
    for (name, w, info) in [("A", &wa, &info_a), ("B", &wb, &info_b)] {
        let _ = writeln!(text, "\n{name}:");
        let lo = first.saturating_sub(context as usize);
        let hi = (first + context as usize + 1).min(w.lines.len());
        for (i, (e, about)) in w.lines.iter().enumerate().take(hi).skip(lo) {
            let mark = if i == first { ">>" } else { "  " };
            let _ = writeln!(text, "{mark}{}", eventlog::describe(e, about, info));
        }
    }
    Outcome { text, differ: true, runs: 4 }
}

/// The first differing record of A and B, or which run ended first (`stops`: how A and B did).
fn first_difference(text: &mut String, x: Option<&(Entry, String)>, y: Option<&(Entry, String)>, stops: (&str, &str)) {
    match (x, y) {
        (Some(x), Some(y)) => {
            let _ = writeln!(text, "\nfirst difference: record #{}", x.0.seq);
            let _ = writeln!(text, "  differs in: {}", what_differs(&x.0, &y.0));
        }
        (Some(x), None) => {
            let _ = writeln!(
                text,
                "\nfirst difference: record #{}: B has no more records (it stopped: {})",
                x.0.seq, stops.1
            );
        }
        (None, Some(y)) => {
            let _ = writeln!(
                text,
                "\nfirst difference: record #{}: A has no more records (it stopped: {})",
                y.0.seq, stops.0
            );
        }
        (None, None) => {
            let _ = writeln!(text, "\nthe records differ, but not in the stretch looked at (a bug in diff)");
        }
    }
}

/// Which parts of two records at the same place differ.
fn what_differs(a: &Entry, b: &Entry) -> String {
    let mut parts = Vec::new();
    if a.at != b.at {
        parts.push(format!("time ({:.9} s vs {:.9} s)", a.at.as_secs_f64(), b.at.as_secs_f64()));
    }
    if a.record.name() != b.record.name() {
        parts.push(format!("kind ({} vs {})", a.record.name(), b.record.name()));
    } else if a.record != b.record {
        let fields = match (a.record, b.record) {
            (Record::Send { fate: x, .. }, Record::Send { fate: y, .. }) if x != y => {
                "fate (arrival, loss or adversary)"
            }
            (Record::Deliver { content: x, .. }, Record::Deliver { content: y, .. }) if x != y => "content",
            _ => "content (nodes, kind, numbers)",
        };
        parts.push(fields.to_string());
    }
    parts.join(", ")
}

/// Compares two event logs line by line (their headers aside: the byzsim version, say, may
/// differ). Errors name the file and the line.
pub fn logs(a: &Path, b: &Path, context: usize) -> Result<Outcome, String> {
    let open = |p: &Path| -> Result<(String, std::io::Lines<std::io::BufReader<std::fs::File>>), String> {
        let file = std::fs::File::open(p).map_err(|e| format!("error: cannot read {}: {e}", p.display()))?;
        let mut lines = std::io::BufReader::new(file).lines();
        let header = match lines.next() {
            Some(Ok(h)) if h.starts_with(r#"{"schema":"byzsim-events","version":1,"#) => h,
            _ => {
                return Err(format!(
                    "error: {}:1: not a byzsim event log (schema byzsim-events, version 1)\n  help: write one with `byzsim run FILE --events LOG.jsonl`",
                    p.display()
                ));
            }
        };
        Ok((header, lines))
    };
    let (ha, mut la) = open(a)?;
    let (hb, mut lb) = open(b)?;
    let mut text = String::new();
    let _ = writeln!(text, "A: {}\nB: {}", a.display(), b.display());
    if ha != hb {
        let _ = writeln!(text, "headers differ:\n  A: {ha}\n  B: {hb}");
    }
    let (mut before_a, mut before_b) = (VecDeque::new(), VecDeque::new());
    let mut line_no = 1u64;
    loop {
        line_no += 1;
        let read = |it: &mut std::io::Lines<_>, p: &Path| -> Result<Option<String>, String> {
            it.next().transpose().map_err(|e| format!("error: {}:{line_no}: {e}", p.display()))
        };
        let (x, y) = (read(&mut la, a)?, read(&mut lb, b)?);
        if x == y {
            let Some(x) = x else {
                let _ = writeln!(text, "no difference after the headers: {} lines the same", line_no - 2);
                return Ok(Outcome { text, differ: false, runs: 0 });
            };
            for (q, l) in [(&mut before_a, &x), (&mut before_b, &x)] {
                q.push_back(l.clone());
                if q.len() > context {
                    q.pop_front();
                }
            }
            continue;
        }
        let _ = writeln!(text, "\nfirst difference: line {line_no}");
        for (name, before, here, it, p) in [("A", &before_a, x, &mut la, a), ("B", &before_b, y, &mut lb, b)] {
            let _ = writeln!(text, "\n{name}:");
            for l in before {
                let _ = writeln!(text, "   {l}");
            }
            let _ = writeln!(text, ">> {}", here.unwrap_or_else(|| "(end of file)".to_string()));
            for l in it.take(context).map_while(Result::ok) {
                let _ = writeln!(text, "   {l}");
            }
            let _ = p;
        }
        return Ok(Outcome { text, differ: true, runs: 0 });
    }
}
