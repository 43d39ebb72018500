//! The planted-bug matrix, pinned: every planted bug is caught by its exploration on one pinned
//! seed, and the same seed without the bug breaks nothing (so the bug is what is caught).
//! `cargo xtask bench` measures seeds-to-detection over 200 seeds; these stay fast.

use scenarios::explore::{Plan, explore};
use scenarios::planted::Planted;

/// One detecting seed per planted bug, found with `byzsim explore FILE --plant BUG
/// --stop-at-first` on its `Planted::explored_by` exploration.
const PINNED: &[(&str, u64)] = &[
    ("hotstuff/vote_ignoring_lock", 65),
    ("hotstuff/quorum_minus_one", 3),
    ("hotstuff/several_votes_per_view", 1),
    ("hotstuff/reversed_blocks", 1),
    ("hotstuff/vote_without_batches", 1),
    ("leaderless/plain_union", 1),
    ("leaderless/omit_executed", 1),
    ("leaderless/held_nonces", 10),
    ("leaderless/executor_never_runs", 1),
    ("leaderless/dds_quorum_minus_one", 1),
    ("leaderless/pbft_quorum_minus_one", 1),
    ("leaderless/threshold_f", 1),
    ("leaderless/ignore_prepared_values", 1),
    ("leaderless/fast_path_n_minus_one", 2),
    ("leaderless/commit_without_proof", 1),
    ("leaderless/non_canonical_scc_order", 1),
    ("leaderless/highest_floor", 1),
    ("leaderless/ignore_floors", 1),
    ("leaderless/stale_anchor", 1),
    ("algorand/trust_any_sync", 1),
    ("algorand/low_threshold", 1),
];

fn scenario_of(bug: Planted) -> Option<scenarios::model::Scenario> {
    let (path, sets) = bug.explored_by()?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Some(scenarios::parse::load(&root.join(path), &sets, None).unwrap_or_else(|d| panic!("{}: {d}", bug.name())))
}

fn run(scenario: &scenarios::model::Scenario, seed: u64, planted: Option<Planted>) -> Vec<String> {
    let plan = Plan { scenario: scenario.clone(), seeds: vec![seed], jobs: 1, planted, max_failures: None };
    explore(&plan, &mut || {}, &mut |_| {}).findings.iter().map(|f| format!("{}: {}", f.invariant, f.detail)).collect()
}

#[test]
fn every_explored_planted_bug_has_a_pinned_seed() {
    for bug in Planted::all() {
        let pinned = PINNED.iter().any(|(name, _)| *name == bug.name());
        assert_eq!(pinned, bug.explored_by().is_some(), "{}: pin a detecting seed, or say why none", bug.name());
    }
    for (name, _) in PINNED {
        assert!(Planted::parse(name).is_ok(), "{name} is no planted bug");
    }
}

#[test]
fn each_planted_bug_is_caught_on_its_pinned_seed_and_only_with_the_bug() {
    let mut missed = Vec::new();
    for &(name, seed) in PINNED {
        let bug = Planted::parse(name).expect("checked above");
        let scenario = scenario_of(bug).expect("an explored bug");
        if run(&scenario, seed, Some(bug)).is_empty() {
            missed.push(format!("{name} seed {seed}"));
        }
        let clean = run(&scenario, seed, None);
        assert!(clean.is_empty(), "{name} seed {seed} breaks without the bug: {clean:?}");
    }
    assert!(missed.is_empty(), "planted bugs not caught on their pinned seeds: {missed:?}");
}
