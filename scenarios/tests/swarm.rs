//! Swarm exploration on the shipped swarm examples: a planted bug is found within a pinned
//! range of seeds and the clean protocol breaks nothing there; a seed runs the same under
//! `explore`, `run` and from its concrete `seed-N.toml`.

mod common;

use std::path::{Path, PathBuf};

use common::{TempDir, byzsim};
use scenarios::explore::{Plan, explore};
use scenarios::model::Scenario;
use scenarios::planted::Planted;
use scenarios::{parse, run, swarm};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

fn load(name: &str, sets: &[&str]) -> Scenario {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse::load(&example(name), &sets, None).unwrap_or_else(|d| panic!("{d}"))
}

/// (first breaking seed, seeds that broke) over `seeds`.
fn explored(scenario: &Scenario, seeds: std::ops::RangeInclusive<u64>, bug: Option<&str>) -> (Option<u64>, usize) {
    let planted = bug.map(|b| Planted::parse(b).expect("a planted bug"));
    let plan = Plan { scenario: scenario.clone(), seeds: seeds.collect(), jobs: 2, planted, max_failures: None };
    let found = explore(&plan, &mut || {}, &mut |_| {});
    (found.findings.first().map(|f| f.seed), found.findings.len())
}

#[test]
fn hotstuff_swarm_finds_a_quorum_one_too_small_and_nothing_without_it() {
    let s = load("hotstuff-swarm.toml", &[]);
    // Measured: first caught on seed 29 (18 of seeds 1..=200).
    let (first, _) = explored(&s, 1..=40, Some("hotstuff/quorum_minus_one"));
    assert_eq!(first, Some(29));
    assert_eq!(explored(&s, 1..=40, None), (None, 0));
}

#[test]
fn leaderless_swarm_finds_a_pbft_quorum_one_too_small_and_nothing_without_it() {
    let s = load("leaderless-swarm.toml", &[]);
    // Measured: first caught on seed 2 (7 of seeds 1..=200).
    let (first, _) = explored(&s, 1..=10, Some("leaderless/pbft_quorum_minus_one"));
    assert_eq!(first, Some(2));
    assert_eq!(explored(&s, 1..=10, None), (None, 0));
}

#[test]
fn a_seed_runs_the_same_under_explore_run_and_its_concrete_file() {
    let s = load("hotstuff-swarm.toml", &[]);
    let src = std::fs::read_to_string(example("hotstuff-swarm.toml")).unwrap();
    for seed in [3, 7, 29] {
        let plan = Plan { scenario: s.clone(), seeds: vec![seed], jobs: 1, planted: None, max_failures: None };
        let explored = explore(&plan, &mut || {}, &mut |_| {}).rows[0].digest;
        let at_seed = Scenario { seed, ..s.clone() };
        if seed == 3 {
            assert!(swarm::draw(&at_seed).is_some_and(|d| !d.crashes.is_empty()), "seed 3 draws a crash");
        }
        let ran = run::run(&at_seed, &mut |_, _| {}).result.digest;
        let path = example("hotstuff-swarm.toml");
        let text = swarm::concrete_toml(&path, &src, &[], seed, &path).expect("the concrete file loads back");
        let concrete = parse::load_str(&path, &text, &[], None).unwrap_or_else(|d| panic!("{d}"));
        assert!(concrete.explore.is_none());
        let from_file = run::run(&concrete, &mut |_, _| {}).result.digest;
        assert_eq!((explored, ran), (from_file, from_file), "seed {seed}");
    }
}

#[test]
fn the_settings_swarm_reaches_the_mempool_where_the_fault_swarm_does_not() {
    // `vote_without_batches` lives only in the mempool, which only the settings draw turns on.
    let faults_only = load("hotstuff-swarm.toml", &[]);
    assert_eq!(explored(&faults_only, 1..=40, Some("hotstuff/vote_without_batches")), (None, 0));
    let s = load("hotstuff-swarm.toml", &["explore.settings=true"]);
    // Measured: first caught on seed 8 (18 of seeds 1..=100).
    let (first, _) = explored(&s, 1..=10, Some("hotstuff/vote_without_batches"));
    assert_eq!(first, Some(8));
    assert_eq!(explored(&s, 1..=10, None), (None, 0));
}

#[test]
fn settings_leave_each_seed_s_faults_as_they_were_and_reproduce_from_the_concrete_file() {
    let path = example("byzantine.toml");
    let src = std::fs::read_to_string(&path).unwrap();
    let sets = ["explore.settings=true".to_string()];
    let (faults, with) = (load("byzantine.toml", &["explore.settings=false"]), load("byzantine.toml", &[&sets[0]]));
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 1..=40 {
        let (a, b) = (Scenario { seed, ..faults.clone() }, Scenario { seed, ..with.clone() });
        let (da, db) = (swarm::draw(&a).unwrap(), swarm::draw(&b).unwrap());
        assert_eq!(da, swarm::Draw { settings: None, ..db.clone() }, "seed {seed}: the faults moved");
        let set = db.settings.expect("drawn");
        kinds.extend(set.phrases().iter().map(|p| p.split(' ').next().unwrap().to_string()));
        let text = swarm::concrete_toml(&path, &src, &sets, seed, &path).expect("the concrete file loads back");
        assert!(text.contains("# Drawn by [explore]") && text.contains("settings"), "{text}");
    }
    let want = ["closed", "queue", "request_cores", "leader", "payload"];
    assert!(want.iter().all(|k| kinds.contains(*k)), "every setting drawn on some seed: {kinds:?}");
}

#[test]
fn explore_out_writes_every_seed_and_a_concrete_file_that_breaks_the_same_way() {
    let dir = TempDir::new("swarm-out");
    std::fs::copy(example("hotstuff-swarm.toml"), dir.join("hs.toml")).unwrap();
    // Beyond f (two of four replicas may be faulty) and with the liveness check, seed 6 breaks
    // liveness: more than f replicas crashed or Byzantine leave no quorum.
    let args = ["explore", "hs.toml", "--seeds", "1..8", "--jobs", "2", "--quiet", "--out", "res"];
    let beyond = ["--set", "explore.beyond_f=true", "--set", "checks.liveness_bound_s=3"];
    let out = byzsim(&[&args[..], &beyond[..], &["--max-failures", "1"]].concat(), &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("seed 6: `liveness`") && stdout.contains("concrete: res/seed-6.toml"), "{stdout}");
    let csv = std::fs::read_to_string(dir.join("res/explore.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("seed,drawn,crash,partition,byzantine,loss,delay,adversary,outcome,invariant"));
    assert_eq!(lines.len(), 7, "seeds 1 to 6, stopped at the first failure:\n{csv}");
    let row3 = lines[6];
    assert!(row3.starts_with("6,") && row3.contains(",violation,liveness,"), "{row3}");
    let digest = row3.split(',').rev().nth(1).unwrap().to_string();
    let concrete = std::fs::read_to_string(dir.join("res/seed-6.toml")).unwrap();
    assert!(!concrete.lines().any(|l| l.starts_with("[explore")), "{concrete}");
    let rerun = byzsim(&["run", "res/seed-6.toml", "--quiet", "--out", "rerun"], &dir);
    let rerun_out = String::from_utf8_lossy(&rerun.stdout);
    assert_eq!(rerun.status.code(), Some(3), "{rerun_out}");
    assert!(rerun_out.contains(&digest), "digest {digest} in:\n{rerun_out}");
    assert!(String::from_utf8_lossy(&rerun.stderr).contains("`liveness`"));
    // The same seed from the original file says what it drew.
    let again = byzsim(&[&["run", "hs.toml", "--seed", "6", "-q", "--out", "r3"][..], &beyond[..]].concat(), &dir);
    let again_out = String::from_utf8_lossy(&again.stdout);
    assert!(again_out.contains("drawn by [explore]") && again_out.contains(&digest), "{again_out}");
    let as_run = std::fs::read_to_string(dir.join("r3/scenario.toml")).unwrap();
    assert!(as_run.contains("# Drawn by [explore] for seed 6:"), "{as_run}");
}

#[test]
fn explore_out_refuses_a_folder_byzsim_did_not_write() {
    let dir = TempDir::new("swarm-refuse");
    std::fs::copy(example("hotstuff-swarm.toml"), dir.join("hs.toml")).unwrap();
    std::fs::create_dir(dir.join("mine")).unwrap();
    std::fs::write(dir.join("mine/notes.md"), "mine").unwrap();
    let out = byzsim(&["explore", "hs.toml", "--seeds", "1..2", "--quiet", "--out", "mine"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("byzsim did not write"));
    assert_eq!(std::fs::read_to_string(dir.join("mine/notes.md")).unwrap(), "mine");
}
