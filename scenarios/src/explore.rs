//! `byzsim explore`: one scenario over many seeds, looking for seeds that break an invariant.
//!
//! Seeds run on the batch pool in chunks, so findings come out in seed order while the search
//! goes on, and a search that stops at its first finding wastes at most one chunk. Which seeds
//! break, and the first of them, do not depend on `--jobs`. A scenario with `[explore]` draws
//! its faults per seed (`swarm`); each seed's row says what it drew.

use std::io;

use crate::batch;
use crate::model::Scenario;
use crate::planted::Planted;
use crate::run;
use crate::swarm::{self, Draw};

/// One seed that broke an invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub seed: u64,
    pub invariant: &'static str,
    /// `replica 3`, `client 7`, `user 12`.
    pub node: String,
    pub at_ns: u64,
    pub detail: String,
}

/// What one seed did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    End,
    Violation(Finding),
    Limit,
}

impl Outcome {
    /// `end`, `violation` or `limit`, as the CSV writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::End => "end",
            Outcome::Violation(_) => "violation",
            Outcome::Limit => "limit",
        }
    }
}

/// One seed run: what it drew and how it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedRow {
    pub seed: u64,
    /// None without `[explore]`.
    pub drawn: Option<Draw>,
    pub outcome: Outcome,
    /// The liveness check found late transactions that a backlog explains (overload).
    pub overloaded: bool,
    pub digest: u64,
}

/// What to explore.
#[derive(Clone, Debug)]
pub struct Plan {
    pub scenario: Scenario,
    pub seeds: Vec<u64>,
    pub jobs: usize,
    pub planted: Option<Planted>,
    /// Stop after this many findings: the lowest breaking seeds, the same whatever the number
    /// of workers (the rest of the last chunk ran, and is not reported). None: run every seed.
    pub max_failures: Option<u64>,
}

/// The result of an exploration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Exploration {
    /// Seeds run, or, stopped after `max_failures` findings, the seeds up to the last.
    pub runs: u64,
    /// In seed order.
    pub findings: Vec<Finding>,
    /// Runs that hit a `[limits]` bound.
    pub limited: u64,
    /// Runs the liveness check found overloaded (not findings: see `sim_core::liveness`).
    pub overloaded: u64,
    /// Every seed counted in `runs`, in seed order.
    pub rows: Vec<SeedRow>,
}

impl Exploration {
    /// Seeds run until the first finding, counting it: the seeds-to-detection of a bug.
    pub fn seeds_to_first(&self, seeds: &[u64]) -> Option<u64> {
        let first = self.findings.first()?;
        let at = seeds.iter().position(|&s| s == first.seed).expect("a finding is one of the seeds");
        Some(at as u64 + 1)
    }
}

/// Runs the plan's seeds; `done()` after each run (progress), `found(f)` for each finding, in
/// seed order.
pub fn explore(plan: &Plan, done: &mut dyn FnMut(), found: &mut dyn FnMut(&Finding)) -> Exploration {
    let chunk = (plan.jobs.max(1) * 16).max(16);
    let mut result = Exploration::default();
    for seeds in plan.seeds.chunks(chunk) {
        let outcomes = batch::run_all(seeds, plan.jobs, |&seed| one_seed(plan, seed), |_| done());
        for row in outcomes {
            result.runs += 1;
            result.overloaded += u64::from(row.overloaded);
            match &row.outcome {
                Outcome::End => {}
                Outcome::Limit => result.limited += 1,
                Outcome::Violation(finding) => {
                    found(finding);
                    result.findings.push(finding.clone());
                }
            }
            result.rows.push(row);
            if plan.max_failures.is_some_and(|max| result.findings.len() as u64 >= max) {
                return result;
            }
        }
    }
    result
}

/// One run, reduced at once to its row (a run's records are dropped in the worker).
fn one_seed(plan: &Plan, seed: u64) -> SeedRow {
    let scenario = Scenario { seed, ..plan.scenario.clone() };
    let report = run::run_planted(&scenario, plan.planted, &mut |_, _| {});
    let outcome = match &report.result.stop {
        sim_core::Stop::End => Outcome::End,
        sim_core::Stop::Limit { .. } => Outcome::Limit,
        sim_core::Stop::Violation(v) => Outcome::Violation(Finding {
            seed,
            invariant: v.invariant,
            node: crate::results::node_label(&report, v.replica),
            at_ns: v.at_ns,
            detail: v.detail.clone(),
        }),
    };
    let overloaded = report.result.backlog.is_some();
    SeedRow { seed, drawn: swarm::draw(&scenario), outcome, overloaded, digest: report.result.digest }
}

/// The columns of `explore.csv`.
pub const CSV_HEADER: [&str; 14] = [
    "seed",
    "drawn",
    "crash",
    "partition",
    "byzantine",
    "loss",
    "delay",
    "adversary",
    "outcome",
    "invariant",
    "node",
    "time_s",
    "digest",
    "reproduce",
];

/// `explore.csv`: one row per seed run, in seed order; `reproduce(seed)` is the command that
/// runs a seed again.
pub fn csv(exploration: &Exploration, reproduce: &dyn Fn(u64) -> String) -> io::Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER)?;
    for row in &exploration.rows {
        let columns = row.drawn.as_ref().map(|d| d.columns());
        let summary = row.drawn.as_ref().map_or_else(String::new, |d| d.summary());
        let mut rec = vec![row.seed.to_string(), summary];
        match &columns {
            Some(columns) => rec.extend(columns.iter().map(|(_, text)| text.clone())),
            None => rec.extend(std::iter::repeat_n(String::new(), 6)),
        }
        rec.push(row.outcome.name().to_string());
        match &row.outcome {
            Outcome::Violation(f) => {
                rec.extend([f.invariant.to_string(), f.node.clone(), format!("{:.6}", f.at_ns as f64 / 1e9)]);
            }
            Outcome::End | Outcome::Limit => rec.extend([String::new(), String::new(), String::new()]),
        }
        rec.push(format!("{:016x}", row.digest));
        rec.push(reproduce(row.seed));
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// What `--out` writes besides the CSV: for each failing seed, `seed-N.toml`, the concrete
/// scenario it ran (no `[explore]`), or why it could not be written.
pub fn seed_file_name(seed: u64) -> String {
    format!("seed-{seed}.toml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn plan(seeds: Vec<u64>, jobs: usize, planted: Option<Planted>, max_failures: Option<u64>) -> Plan {
        let src = "name = \"t\"\nprotocol = \"leaderless\"\nduration_s = 1\ndrain_s = 1\n\
                   [replicas]\nn = 6\n[network]\nuniform_delay_ms = 5\n[workload]\nrate_tps = 100\n[checks]\nliveness_bound_s = 0.5\n";
        let scenario = parse::load_str(std::path::Path::new("t.toml"), src, &[], None).expect("valid");
        Plan { scenario, seeds, jobs, planted, max_failures }
    }

    #[test]
    fn a_planted_bug_is_found_the_same_whatever_the_workers() {
        let bug = Some(Planted::Leaderless(protocols::leaderless::PlantedBug::ExecutorNeverRuns));
        let (mut runs, mut seen) = (0, Vec::new());
        let one = explore(&plan(vec![3, 4, 5], 1, bug, None), &mut || runs += 1, &mut |f| seen.push(f.seed));
        assert_eq!(runs, 3);
        assert_eq!(one.findings.len(), 3, "the executor never runs on any seed: {one:?}");
        assert_eq!(seen, vec![3, 4, 5]);
        assert!(one.findings.iter().all(|f| f.invariant == "liveness"), "{one:?}");
        let two = explore(&plan(vec![3, 4, 5], 2, bug, None), &mut || {}, &mut |_| {});
        assert_eq!(one, two);
        assert_eq!(one.seeds_to_first(&[3, 4, 5]), Some(1));
        let two_found = explore(&plan((3..40).collect(), 2, bug, Some(2)), &mut || {}, &mut |_| {});
        assert_eq!((two_found.runs, two_found.findings.len(), two_found.rows.len()), (2, 2, 2));
        assert_eq!(two_found, explore(&plan((3..40).collect(), 1, bug, Some(2)), &mut || {}, &mut |_| {}));
    }

    #[test]
    fn without_a_planted_bug_nothing_is_found() {
        let clean = explore(&plan(vec![1, 2], 2, None, Some(1)), &mut || {}, &mut |_| {});
        assert_eq!((clean.runs, clean.findings.len(), clean.limited), (2, 0, 0));
        assert_eq!(clean.seeds_to_first(&[1, 2]), None);
    }
}
