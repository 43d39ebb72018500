//! `byzsim explore`: one scenario over many seeds, looking for seeds that break an invariant.
//!
//! Seeds run on the batch pool in chunks, so findings come out in seed order while the search
//! goes on, and a search that stops at its first finding wastes at most one chunk. Which seeds
//! break, and the first of them, do not depend on `--jobs`.

use crate::batch;
use crate::model::Scenario;
use crate::output;
use crate::planted::Planted;
use crate::run;

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
enum Outcome {
    End,
    Violation(Finding),
    Limit,
}

/// What to explore.
#[derive(Clone, Debug)]
pub struct Plan {
    pub scenario: Scenario,
    pub seeds: Vec<u64>,
    pub jobs: usize,
    pub planted: Option<Planted>,
    /// Stop at the first finding: the lowest breaking seed, the same whatever the number of
    /// workers (the rest of its chunk ran, and is not reported).
    pub stop_at_first: bool,
}

/// The result of an exploration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exploration {
    /// Seeds run, or, stopped at the first finding, the seeds up to it.
    pub runs: u64,
    /// In seed order.
    pub findings: Vec<Finding>,
    /// Runs that hit a `[limits]` bound.
    pub limited: u64,
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
        for outcome in outcomes {
            result.runs += 1;
            match outcome {
                Outcome::End => {}
                Outcome::Limit => result.limited += 1,
                Outcome::Violation(finding) => {
                    found(&finding);
                    result.findings.push(finding);
                    if plan.stop_at_first {
                        return result;
                    }
                }
            }
        }
    }
    result
}

/// One run, reduced at once to its outcome (a run's records are dropped in the worker).
fn one_seed(plan: &Plan, seed: u64) -> Outcome {
    let scenario = Scenario { seed, ..plan.scenario.clone() };
    let report = run::run_planted(&scenario, plan.planted, &mut |_, _| {});
    match &report.result.stop {
        sim_core::Stop::End => Outcome::End,
        sim_core::Stop::Limit { .. } => Outcome::Limit,
        sim_core::Stop::Violation(v) => Outcome::Violation(Finding {
            seed,
            invariant: v.invariant,
            node: output::node_label(&report, v.replica),
            at_ns: v.at_ns,
            detail: v.detail.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn plan(seeds: Vec<u64>, jobs: usize, planted: Option<Planted>, stop_at_first: bool) -> Plan {
        let src = "name = \"t\"\nprotocol = \"leaderless\"\nduration_s = 1\ndrain_s = 1\n\
                   [replicas]\nn = 6\n[network]\nuniform_delay_ms = 5\n[workload]\nrate_tps = 100\n[checks]\nliveness_bound_s = 0.5\n";
        let scenario = parse::load_str(std::path::Path::new("t.toml"), src, &[], None).expect("valid");
        Plan { scenario, seeds, jobs, planted, stop_at_first }
    }

    #[test]
    fn a_planted_bug_is_found_the_same_whatever_the_workers() {
        let bug = Some(Planted::Leaderless(protocols::leaderless::PlantedBug::ExecutorNeverRuns));
        let (mut runs, mut seen) = (0, Vec::new());
        let one = explore(&plan(vec![3, 4, 5], 1, bug, false), &mut || runs += 1, &mut |f| seen.push(f.seed));
        assert_eq!(runs, 3);
        assert_eq!(one.findings.len(), 3, "the executor never runs on any seed: {one:?}");
        assert_eq!(seen, vec![3, 4, 5]);
        assert!(one.findings.iter().all(|f| f.invariant == "liveness"), "{one:?}");
        let two = explore(&plan(vec![3, 4, 5], 2, bug, false), &mut || {}, &mut |_| {});
        assert_eq!(one, two);
        assert_eq!(one.seeds_to_first(&[3, 4, 5]), Some(1));
    }

    #[test]
    fn without_a_planted_bug_nothing_is_found() {
        let clean = explore(&plan(vec![1, 2], 2, None, true), &mut || {}, &mut |_| {});
        assert_eq!((clean.runs, clean.findings.len(), clean.limited), (2, 0, 0));
        assert_eq!(clean.seeds_to_first(&[1, 2]), None);
    }
}
