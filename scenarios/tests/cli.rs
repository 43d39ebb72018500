//! The `byzsim` binary as a user runs it: outputs, exit codes, and bad input that must exit 2
//! with a message naming the file and the line or field, leaving no results folder behind.

mod common;

use std::path::Path;

use common::{TempDir, byzsim};

const VALID: &str = r#"
name = "tiny"
duration_s = 2
[replicas]
n = 4
[clients]
count = 2
send_to = "all"
[network]
uniform_delay_ms = 5
[workload]
rate_tps = 500
"#;

#[test]
fn run_writes_every_result_file() {
    let dir = TempDir::new("run");
    std::fs::write(dir.join("tiny.toml"), VALID).unwrap();
    let out = byzsim(&["run", "tiny.toml", "--quiet", "--out", "res"], &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for needle in
        ["goodput", "end-to-end latency", "digest", "reproduce", "cargo run --release -- run tiny.toml --seed 1"]
    {
        assert!(stdout.contains(needle), "summary lacks {needle:?}:\n{stdout}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("res/summary.json")).unwrap()).unwrap();
    for key in [
        "scenario",
        "protocol",
        "seed",
        "digest",
        "n_replicas",
        "duration_s",
        "offered_tps",
        "committed_tx",
        "goodput_tps",
    ] {
        assert!(!summary[key].is_null(), "summary.json lacks {key}");
    }
    for kind in ["consensus", "e2e"] {
        for p in ["p50", "p90", "p99", "max"] {
            assert!(summary["latency_ms"][kind][p].as_f64().is_some_and(|v| v > 0.0), "latency_ms.{kind}.{p}");
        }
    }
    assert_eq!(summary["protocol"], "hotstuff");
    let submitted = summary["submitted_tx"].as_u64().unwrap();
    let latency_rows = std::fs::read_to_string(dir.join("res/latency.csv")).unwrap().lines().count();
    assert_eq!(latency_rows as u64, submitted + 1, "one row per transaction plus the header");
    let nodes = std::fs::read_to_string(dir.join("res/nodes.csv")).unwrap();
    assert_eq!(nodes.lines().count(), 1 + 4 + 2);
    assert!(std::fs::read_to_string(dir.join("res/timeseries.csv")).unwrap().lines().count() >= 3);
    // The printed reproduce command gives the same digest.
    let again = byzsim(&["run", "tiny.toml", "--quiet", "--seed", "1", "--out", "res2"], &dir);
    let digest = |p: &str| {
        let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(p)).unwrap()).unwrap();
        s["digest"].as_str().unwrap().to_string()
    };
    assert!(again.status.success());
    assert_eq!(digest("res/summary.json"), digest("res2/summary.json"));
}

/// (what, file contents, --set overrides, substrings stderr must contain).
const BAD: &[(&str, &str, &[&str], &[&str])] = &[
    ("malformed TOML", "duration_s = = 3\n", &[], &["bad.toml:1"]),
    (
        "unknown field",
        "duration_s = 3\nduraton = 4\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n",
        &[],
        &["bad.toml:2", "duraton"],
    ),
    (
        "n < 3f+1",
        "duration_s = 3\n[replicas]\nn = 4\nf = 2\n[workload]\nrate_tps = 1\n",
        &[],
        &["bad.toml:4", "replicas.f"],
    ),
    (
        "zero rate",
        "duration_s = 3\n[replicas]\nn = 4\n[workload]\nrate_tps = 0\n",
        &[],
        &["bad.toml:5", "workload.rate_tps"],
    ),
    (
        "negative rate",
        "duration_s = 3\n[replicas]\nn = 4\n[workload]\nrate_tps = -5\n",
        &[],
        &["bad.toml:5", "workload.rate_tps"],
    ),
    (
        "unknown preset",
        "duration_s = 3\n[replicas]\nn = 4\n[network]\nmatrix = \"gcp1999\"\n[workload]\nrate_tps = 1\n",
        &[],
        &["bad.toml:5", "gcp1999", "gcp2019"],
    ),
    (
        "missing matrix file",
        "duration_s = 3\n[replicas]\nn = 4\n[network]\nmatrix_file = \"nope.csv\"\n[workload]\nrate_tps = 1\n",
        &[],
        &["bad.toml:5", "nope.csv"],
    ),
    (
        "region the matrix lacks",
        "duration_s = 3\n[replicas]\nn = 4\nregions = [\"us-east1\", \"mars-north1\"]\n[network]\nmatrix = \"gcp2019\"\n[workload]\nrate_tps = 1\n",
        &[],
        &["bad.toml:4", "mars-north1"],
    ),
    ("bad override", VALID, &["workload.rate_tps=-1"], &["--set workload.rate_tps"]),
    (
        "leader_order of the wrong length",
        VALID,
        &["hotstuff.leader_order=[0, 1, 2]"],
        &["hotstuff.leader_order", "replicas.n = 4", "each of them once"],
    ),
    (
        "leader_order naming a replica twice",
        VALID,
        &["hotstuff.leader_order=[0, 1, 1, 3]"],
        &["hotstuff.leader_order[2]", "replica 1 is listed twice"],
    ),
    (
        "leader_order naming a replica that does not exist",
        "duration_s = 2\n[replicas]\nn = 4\n[workload]\nrate_tps = 1\n[hotstuff]\nleader_order = [0, 1, 2, 4]\n",
        &[],
        &["bad.toml:7", "hotstuff.leader_order[3]"],
    ),
    ("unknown leader policy", VALID, &["hotstuff.leader=\"random\""], &["hotstuff.leader", "reputation"]),
];

#[test]
fn bad_input_exits_2_naming_the_place_and_writes_nothing() {
    let dir = TempDir::new("bad");
    for &(what, src, sets, needles) in BAD {
        std::fs::write(dir.join("bad.toml"), src).unwrap();
        for cmd in ["run", "validate"] {
            let mut args = vec![cmd, "bad.toml"];
            for s in sets {
                args.extend(["--set", s]);
            }
            if cmd == "run" {
                args.extend(["--quiet", "--out", "never"]);
            }
            let out = byzsim(&args, &dir);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{what} ({cmd}): exit {:?}\n{stderr}", out.status.code());
            assert!(!stderr.contains("panicked"), "{what}: {stderr}");
            for needle in needles {
                assert!(stderr.contains(needle), "{what} ({cmd}): stderr lacks {needle:?}:\n{stderr}");
            }
            assert!(!dir.join("never").exists(), "{what}: a results folder was left behind");
        }
    }
    let out = byzsim(&["run", "absent.toml", "--quiet"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.toml"));
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("bad.toml")], "only the input file remains");
}

#[test]
fn help_defines_the_metrics() {
    let out = byzsim(&["run", "--help"], Path::new("."));
    let help = String::from_utf8_lossy(&out.stdout);
    for term in ["offered load", "consensus latency", "end-to-end latency", "goodput", "f+1 matching replies"] {
        assert!(help.contains(term), "--help lacks {term:?}");
    }
}

/// Two equivocators out of four (beyond f = 1), and a network that only they bridge: safety
/// breaks (a correct leader certifies two blocks of one view, caught before they commit), byzsim stops with exit code 3, names the invariant, the seed and the command, and
/// that command reproduces the same violation.
const ATTACK: &str = r#"
name = "attack"
duration_s = 3
[replicas]
n = 4
[clients]
count = 2
send_to = "all"
[network]
uniform_delay_ms = 10
[[faults.partitions]]
groups = [[0, 2, 3], [1, 2, 3]]
start_s = 0
heal_s = 3
[[byzantine]]
behavior = "equivocate"
replicas = [2, 3]
[workload]
rate_tps = 500
"#;

#[test]
fn a_broken_invariant_exits_3_with_what_to_reproduce() {
    let dir = TempDir::new("attack");
    std::fs::write(dir.join("attack.toml"), ATTACK).unwrap();
    let out = byzsim(&["run", "attack.toml", "--quiet", "--out", "res"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    for needle in [
        "INVARIANT BROKEN: `one_certificate_per_view`",
        "seed 1",
        "reproduce: cargo run --release -- run attack.toml --seed 1",
    ] {
        assert!(stderr.contains(needle), "stderr lacks {needle:?}:\n{stderr}");
    }
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(p)).unwrap()).unwrap()
    };
    let summary = read("res/summary.json");
    assert_eq!(summary["stop"], "violation");
    assert_eq!(summary["violation"]["invariant"], "one_certificate_per_view");
    assert_eq!(summary["byzantine"].as_array().map(Vec::len), Some(2));
    let again = byzsim(&["run", "attack.toml", "--quiet", "--seed", "1", "--out", "res2"], &dir);
    assert_eq!(again.status.code(), Some(3));
    let second = read("res2/summary.json");
    assert_eq!((&summary["digest"], &summary["violation"]), (&second["digest"], &second["violation"]));
}

#[test]
fn calibrate_writes_a_profile_a_scenario_can_use() {
    let dir = TempDir::new("calibrate");
    let calibrate = ["calibrate", "--rounds", "2", "--batches", "3", "--signers", "3", "--out", "p.toml"];
    let out = byzsim(&calibrate, &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("a warm-up batch, then 3 batches of 2 operations"), "{stderr}");
    assert!(stderr.contains("median µs") && stderr.contains("aggregate-verify"), "{stderr}");
    let profile = std::fs::read_to_string(dir.join("p.toml")).unwrap();
    assert!(profile.contains("median over 3 batches of 2 operations") && profile.contains("  # spread "), "{profile}");
    std::fs::write(dir.join("tiny.toml"), format!("{VALID}[cpu]\nprofile_file = \"p.toml\"\n")).unwrap();
    let validate = byzsim(&["validate", "tiny.toml"], &dir);
    assert!(validate.status.success(), "{}", String::from_utf8_lossy(&validate.stderr));
    let run = byzsim(&["run", "tiny.toml", "--quiet", "--out", "res"], &dir);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary = std::fs::read_to_string(dir.join("res/summary.json")).unwrap();
    assert!(summary.contains("\"committed_tx\""));
    // Its own profile is replaced, in place, with no staging file left beside it.
    let again = byzsim(&calibrate, &dir);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(names.iter().all(|n| !n.to_string_lossy().contains("partial")), "{names:?}");
}

/// `calibrate --out` never replaces a file it did not write, nor a folder: exit 2, the path and
/// the way out, and the file byte for byte as it was. (Planted bug: skipping `check_out`
/// exits 0 and overwrites notes.toml.)
#[test]
fn calibrate_refuses_to_overwrite_a_foreign_file() {
    let dir = TempDir::new("calibrate-foreign");
    let notes = "# my notes\nsign_us = 1\n";
    std::fs::write(dir.join("notes.toml"), notes).unwrap();
    std::fs::create_dir(dir.join("folder")).unwrap();
    std::fs::write(dir.join("folder/keep.txt"), "x").unwrap();
    for (target, needle) in [
        ("notes.toml", "notes.toml: exists and was not written by `byzsim calibrate`"),
        ("folder", "folder: exists and is not a regular file"),
    ] {
        let out = byzsim(&["calibrate", "--rounds", "1", "--batches", "3", "--signers", "2", "--out", target], &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{target}: {stderr}");
        assert!(stderr.contains(needle) && stderr.contains("choose another --out"), "{stderr}");
    }
    assert_eq!(std::fs::read_to_string(dir.join("notes.toml")).unwrap(), notes);
    assert_eq!(std::fs::read_to_string(dir.join("folder/keep.txt")).unwrap(), "x");
    let few = byzsim(&["calibrate", "--batches", "1"], &dir);
    assert_eq!(few.status.code(), Some(2), "{}", String::from_utf8_lossy(&few.stderr));
}

#[test]
fn explore_reports_the_seeds_that_break_and_how_to_reproduce_them() {
    let dir = TempDir::new("explore");
    std::fs::write(dir.join("attack.toml"), ATTACK).unwrap();
    let out = byzsim(&["explore", "attack.toml", "--seeds", "1..3", "--quiet"], &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("seed 2: `one_certificate_per_view` broke"), "{stdout}");
    assert!(stdout.contains("reproduce: cargo run --release -- run attack.toml --seed 2"), "{stdout}");
    assert!(stdout.contains("3 seeds, 3 broke an invariant"), "{stdout}");
    std::fs::write(dir.join("tiny.toml"), VALID).unwrap();
    let clean = byzsim(&["explore", "tiny.toml", "--seeds", "1..4", "--quiet"], &dir);
    assert!(clean.status.success());
    assert!(String::from_utf8_lossy(&clean.stdout).contains("4 seeds, 0 broke an invariant"));
    let bad = byzsim(&["explore", "tiny.toml", "--seeds", "5..2"], &dir);
    assert_eq!(bad.status.code(), Some(2));
    // The seeds that break do not depend on --jobs; --stop-at-first stops at the lowest.
    let one = byzsim(&["explore", "attack.toml", "--seeds", "1..3", "--quiet", "--jobs", "1"], &dir);
    let two = byzsim(&["explore", "attack.toml", "--seeds", "1..3", "--quiet", "--jobs", "2"], &dir);
    let seeds_of = |o: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stdout).lines().filter(|l| l.starts_with("seed ")).map(String::from).collect()
    };
    assert_eq!(seeds_of(&one), seeds_of(&two));
    let first =
        byzsim(&["explore", "attack.toml", "--seeds", "2..40", "--quiet", "--jobs", "2", "--stop-at-first"], &dir);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert_eq!(first.status.code(), Some(3), "{stdout}");
    assert!(seeds_of(&first)[0].starts_with("seed 2: "), "{stdout}");
    assert!(stdout.contains("1 seeds, 1 broke an invariant"), "it went on after the first finding: {stdout}");
    // A planted bug of another protocol is refused.
    let wrong = byzsim(&["explore", "tiny.toml", "--seeds", "1..2", "--plant", "leaderless/plain_union"], &dir);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("--set protocol=leaderless"));
}
