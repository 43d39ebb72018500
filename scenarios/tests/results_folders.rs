//! Results folders as a user meets them: byzsim never replaces what it did not write, a kill
//! while replacing a folder leaves a complete one, runs that stop early are never averaged and
//! are impossible to miss, and compare.json holds numbers as numbers.
#![allow(clippy::disallowed_types)] // the wall clock times the child processes the kill test kills

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{TempDir, byzsim};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file under `dir` with its bytes, sorted by path.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

const TINY: &str = r#"
name = "tiny"
duration_s = 2
warmup_s = 0.5
[replicas]
n = 4
[clients]
count = 2
[network]
uniform_delay_ms = 5
[workload]
rate_tps = 200
"#;

#[test]
fn out_targets_that_are_not_ours_are_refused_and_left_intact() {
    let s = TempDir::new("refuse");
    let work = s.join("work");
    std::fs::create_dir_all(work.join("thesis")).unwrap();
    std::fs::write(work.join("tiny.toml"), TINY).unwrap();
    std::fs::write(work.join("thesis").join("chapter1.tex"), "\\chapter{Results}").unwrap();
    std::fs::write(s.join("beside.txt"), "a file of the parent folder").unwrap();
    let before = tree(&s);
    for (out, needle) in [
        (".", "the current folder"),
        ("..", "holds the current folder"),
        ("/", "the root folder"),
        ("thesis", "byzsim did not write it"),
        ("tiny.toml", "input of the command"),
    ] {
        for cmd in [
            &["run", "tiny.toml", "--quiet", "--out", out][..],
            &[
                "compare",
                "tiny.toml",
                "--protocols",
                "hotstuff,leaderless",
                "--quiet",
                "--set",
                "leaderless.variant=epaxos",
                "--out",
                out,
            ][..],
        ] {
            let o = byzsim(cmd, &work);
            assert_eq!(o.status.code(), Some(2), "--out {out}: {}", stderr(&o));
            assert!(stderr(&o).contains(needle), "--out {out}: {}", stderr(&o));
            assert!(stderr(&o).contains("help:"), "--out {out}: {}", stderr(&o));
        }
        let o = byzsim(&["sweep", "tiny.toml", "--set", "workload.rate_tps=100,200", "--quiet", "--out", out], &work);
        assert_eq!(o.status.code(), Some(2), "sweep --out {out}: {}", stderr(&o));
    }
    assert_eq!(tree(&s), before, "every file is still there, byte for byte");
}

#[test]
fn a_results_folder_is_ours_until_a_user_adds_a_file() {
    let s = TempDir::new("ours");
    std::fs::write(s.join("tiny.toml"), TINY).unwrap();
    assert!(byzsim(&["run", "tiny.toml", "--quiet", "--out", "res"], &s).status.success());
    let marker = std::fs::read_to_string(s.join("res/.byzsim")).unwrap();
    assert!(marker.contains("command = \"run\"") && marker.contains("summary.json"), "{marker}");
    // Ours: replaced.
    let o = byzsim(&["run", "tiny.toml", "--quiet", "--out", "res", "--seed", "2"], &s);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.join("res/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 2);
    // A user's notes make it theirs.
    std::fs::write(s.join("res/notes.md"), "my notes").unwrap();
    let o = byzsim(&["run", "tiny.toml", "--quiet", "--out", "res"], &s);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`notes.md`"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(s.join("res/notes.md")).unwrap(), "my notes");
    let names: Vec<String> =
        std::fs::read_dir(&s).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains(".partial-") && !n.contains(".old-")), "{names:?}");
}

#[test]
fn default_names_tell_overrides_apart_and_scenario_toml_is_as_run() {
    let s = TempDir::new("names");
    std::fs::write(s.join("tiny.toml"), TINY).unwrap();
    let digest = |out: &Output| -> String {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().find(|l| l.trim_start().starts_with("digest")).expect("a digest line").to_string()
    };
    let plain = byzsim(&["run", "tiny.toml", "--quiet"], &s);
    let fast = byzsim(&["run", "tiny.toml", "--quiet", "--set", "workload.rate_tps=400", "--seed", "3"], &s);
    let slow = byzsim(&["run", "tiny.toml", "--quiet", "--set", "workload.rate_tps=100", "--seed", "3"], &s);
    assert!(plain.status.success() && fast.status.success() && slow.status.success());
    let mut dirs: Vec<String> = std::fs::read_dir(s.join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 3, "{dirs:?}");
    assert!(dirs.contains(&"tiny-seed1".to_string()), "{dirs:?}");
    assert!(dirs.iter().filter(|d| d.starts_with("tiny-seed3-")).count() == 2, "{dirs:?}");
    // The folder's scenario.toml reruns the very run; the original text is kept beside it.
    for dir in &dirs[1..] {
        let folder = s.join("results").join(dir);
        assert_eq!(std::fs::read_to_string(folder.join("scenario.original.toml")).unwrap(), TINY);
        let again = byzsim(&["run", "scenario.toml", "--quiet", "--out", "../again"], &folder);
        assert!(again.status.success(), "{}", stderr(&again));
        let rerun = digest(&again);
        assert!(rerun == digest(&fast) || rerun == digest(&slow), "{rerun}");
    }
    assert_ne!(digest(&fast), digest(&slow));
}

/// latency.csv and timeseries.csv read back typed through their records, and agree with each
/// other and with themselves (a span is the difference of its two times).
#[test]
fn per_row_files_read_back_typed() {
    use scenarios::results::{TxRecord, WindowRecord};
    let s = TempDir::new("typed-rows");
    std::fs::write(s.join("tiny.toml"), TINY).unwrap();
    let out = byzsim(&["run", "tiny.toml", "--quiet", "--out", "res"], &s);
    assert!(out.status.success(), "{}", stderr(&out));
    let txs: Vec<TxRecord> =
        csv::Reader::from_path(s.join("res/latency.csv")).unwrap().deserialize().map(Result::unwrap).collect();
    let windows: Vec<WindowRecord> =
        csv::Reader::from_path(s.join("res/timeseries.csv")).unwrap().deserialize().map(Result::unwrap).collect();
    assert!(txs.len() > 200 && !windows.is_empty(), "{} tx, {} windows", txs.len(), windows.len());
    for t in &txs {
        let (Some(sub), Some(conf), Some(e2e)) = (t.submitted_s, t.confirmed_s, t.e2e_ms) else {
            assert_eq!((t.result.as_str(), t.e2e_ms), ("unconfirmed", None), "{t:?}");
            continue;
        };
        assert!(((conf - sub) * 1e3 - e2e).abs() < 1e-6, "{t:?}");
        assert!(!t.region.is_empty(), "{t:?}");
    }
    let confirmed = txs.iter().filter(|t| t.confirmed_s.is_some()).count() as u64;
    let counted: u64 = windows.iter().map(|w| w.e2e_count).sum();
    assert!(counted <= confirmed && counted > 0, "windows count {counted} of {confirmed} confirmed");
}

/// Waits for a child at most `limit`; kills it after.
fn wait_at_most(child: &mut std::process::Child, limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The folder at `dir` is complete: its marker says so and every file it lists is there.
fn assert_complete(dir: &Path, when: &str) {
    let marker = std::fs::read_to_string(dir.join(".byzsim"))
        .unwrap_or_else(|e| panic!("{when}: no complete folder at {}: {e}", dir.display()));
    assert!(marker.contains("state = \"complete\""), "{when}: {marker}");
    let files = marker.split("files = [").nth(1).expect("a file list");
    for name in files.trim_end().trim_end_matches(']').split(',') {
        let name = name.trim().trim_matches('"');
        assert!(dir.join(name).is_file(), "{when}: {name} is missing");
    }
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&summary).unwrap_or_else(|e| panic!("{when}: summary.json: {e}"));
}

#[test]
fn a_kill_while_replacing_a_large_folder_always_leaves_a_complete_one() {
    let s = TempDir::new("kill");
    // 6,000 transactions: a latency.csv of about half a megabyte, and many plots' points.
    std::fs::write(s.join("big.toml"), TINY.replace("duration_s = 2", "duration_s = 30")).unwrap();
    let args = ["run", "big.toml", "--quiet", "--out", "res"];
    let started = Instant::now();
    assert!(byzsim(&args, &s).status.success());
    let full = started.elapsed();
    assert_complete(&s.join("res"), "after the first run");
    // Kill points spread over the whole run, and past its end; an LCG keeps them reproducible.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..16 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let at = full.mul_f64(0.3 + 1.0 * ((x >> 11) as f64 / (1u64 << 53) as f64));
        let mut child = Command::new(env!("CARGO_BIN_EXE_byzsim"))
            .args(args)
            .current_dir(&s)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let _ = child.kill();
        let _ = child.wait();
        let dir = s.join("res");
        if !dir.exists() {
            // Killed between its two renames: the next command puts the old folder back.
            byzsim(&["run", "big.toml", "--quiet", "--out", "res", "--set", "duration_s=1"], &s);
        }
        assert_complete(&dir, &format!("kill {round} at {at:?}"));
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_byzsim")).args(args).current_dir(&s).spawn().unwrap();
    wait_at_most(&mut child, Duration::from_secs(60));
    assert_complete(&s.join("res"), "after the last run");
    let left: Vec<String> = std::fs::read_dir(&s)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial-") || n.contains(".old-"))
        .collect();
    assert!(left.is_empty(), "stale folders survive the next run: {left:?}");
}

#[test]
fn a_run_that_breaks_an_invariant_opens_its_report_with_a_red_banner() {
    let s = TempDir::new("banner");
    // A liveness bound no HotStuff run can meet.
    let text = format!("{TINY}\n[checks]\nliveness_bound_s = 0.001\n");
    std::fs::write(s.join("strict.toml"), text).unwrap();
    let o = byzsim(&["run", "strict.toml", "--quiet", "--out", "res"], &s);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let html = std::fs::read_to_string(s.join("res/report.html")).unwrap();
    let banner = html.find("class=\"banner\"").expect("a banner");
    assert!(banner < html.find("<h2>Summary</h2>").unwrap(), "the banner comes first");
    for needle in ["liveness", "client ", "(virtual)", "run strict.toml --seed 1"] {
        assert!(html[banner..].contains(needle), "the banner lacks {needle:?}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.join("res/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["stop"], "violation");
    assert!(summary["git_commit"].as_str().is_some_and(|c| !c.is_empty()));
    // A complete run has no banner.
    let o = byzsim(&["run", "strict.toml", "--quiet", "--out", "ok", "--set", "checks.liveness_bound_s=60"], &s);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!std::fs::read_to_string(s.join("ok/report.html")).unwrap().contains("class=\"banner\""));
}

#[test]
fn compare_leaves_runs_that_stopped_early_out_and_says_so() {
    let s = TempDir::new("early");
    // HotStuff (p50 about 80 ms here) misses a 55 ms bound on every seed; leaderless EPaxos
    // (5 message delays of 5 ms and its CPU; p99 about 45 ms) meets it.
    let text = format!("{TINY}\n[checks]\nliveness_bound_s = 0.055\n");
    std::fs::write(s.join("bound.toml"), text).unwrap();
    let o = byzsim(
        &[
            "compare",
            "bound.toml",
            "--protocols",
            "leaderless,hotstuff",
            "--seeds",
            "1..3",
            "--quiet",
            "--set",
            "leaderless.variant=epaxos",
            "--out",
            "cmp",
        ],
        &s,
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(3), "{out}\n{}", stderr(&o));
    assert!(out.contains("complete runs") && out.contains("3 of 3") && out.contains("0 of 3"), "{out}");
    for seed in 1..=3 {
        assert!(out.contains(&format!("warning: hotstuff seed {seed} stopped early")), "{out}");
    }
    assert!(out.contains("`liveness`") || out.contains("liveness"), "{out}");
    assert!(out.contains("reproduce: ") && out.contains("--set protocol=hotstuff"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.join("cmp/compare.json")).unwrap()).unwrap();
    let hotstuff = &json["protocols"][1];
    assert_eq!(hotstuff["protocol"], "hotstuff");
    assert_eq!(hotstuff["complete_runs"], 0);
    assert!(hotstuff["goodput_tps"].is_null(), "no complete run, no mean: {hotstuff}");
    let leaderless = &json["protocols"][0];
    assert_eq!(leaderless["complete_runs"], 3);
    assert!(leaderless["goodput_tps"].is_f64());
    let html = std::fs::read_to_string(s.join("cmp/report.html")).unwrap();
    assert!(html.contains("class=\"banner\"") && html.contains("3 of 6 runs stopped early"));
}

#[test]
fn compare_json_holds_numbers_as_numbers() {
    let s = TempDir::new("json");
    std::fs::write(s.join("tiny.toml"), TINY).unwrap();
    let o = byzsim(
        &[
            "compare",
            "tiny.toml",
            "--protocols",
            "hotstuff,leaderless",
            "--seeds",
            "1..2",
            "--quiet",
            "--set",
            "leaderless.variant=epaxos",
            "--out",
            "cmp",
        ],
        &s,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.join("cmp/compare.json")).unwrap()).unwrap();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    for run in runs {
        for key in [
            "offered_tps",
            "goodput_tps",
            "e2e_p50_ms",
            "e2e_p99_ms",
            "consensus_p50_ms",
            "msgs_per_tx",
            "bytes_per_tx",
            "cpu_util_mean",
            "cpu_us_per_tx",
        ] {
            assert!(run[key].is_f64(), "{key} is not a number: {}", run[key]);
        }
        for key in ["seed", "submitted_tx", "committed_tx", "unconfirmed_tx", "events"] {
            assert!(run[key].is_u64(), "{key} is not an integer: {}", run[key]);
        }
        assert!(run["cpu_util_mean"].as_f64().unwrap() < 1.0, "CPU use is a fraction");
        assert_eq!(run["complete"], true);
        assert_eq!(run["stop"], "end");
    }
    for d in json["differences"].as_array().unwrap() {
        assert!(d["mean"].is_f64() || d["mean"].is_null());
        assert!(d["ci95"].is_null() || d["ci95"][0].is_f64());
    }
    assert!(json["git_commit"].is_string() && json["dirty"].is_boolean());
}

#[test]
fn shards_of_different_grids_never_overwrite_each_other() {
    let s = TempDir::new("shards");
    std::fs::write(s.join("tiny.toml"), TINY).unwrap();
    let shard = |rates: &str| {
        let set = format!("workload.rate_tps={rates}");
        let o = byzsim(&["sweep", "tiny.toml", "--set", &set, "--shard", "0/2", "--quiet", "--out", "shards"], &s);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    shard("100,200");
    shard("100,300");
    let names: Vec<String> = std::fs::read_dir(s.join("shards"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "two grids, two shard files: {names:?}");
    // A file of a shard's name that is not that sweep's shard is never replaced.
    let first = s.join("shards").join(&names[0]);
    let other = s.join("shards").join(&names[1]);
    std::fs::write(&first, "my own notes").unwrap();
    for rates in ["100,200", "100,300"] {
        let set = format!("workload.rate_tps={rates}");
        let o = byzsim(&["sweep", "tiny.toml", "--set", &set, "--shard", "0/2", "--quiet", "--out", "shards"], &s);
        if o.status.success() {
            continue; // the other grid's shard, replaced by itself
        }
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("not a shard of this sweep"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read_to_string(&first).unwrap(), "my own notes");
    assert!(other.is_file());
}

#[test]
fn a_folder_holding_a_file_the_scenario_reads_is_never_replaced() {
    let s = TempDir::new("reads");
    std::fs::create_dir_all(s.join("data")).unwrap();
    let matrix = "from_region,a,b\na,0,10\nb,10,0\n";
    std::fs::write(s.join("data/m.csv"), matrix).unwrap();
    let text = TINY.replace("uniform_delay_ms = 5", "matrix_file = \"data/m.csv\"");
    std::fs::write(s.join("m.toml"), format!("{text}\n")).unwrap();
    let o = byzsim(&["run", "m.toml", "--quiet", "--out", "data"], &s);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("data/m.csv, an input of the command"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(s.join("data/m.csv")).unwrap(), matrix);
}

#[test]
fn an_overloaded_run_is_not_a_liveness_violation_but_a_stall_still_is() {
    let s = TempDir::new("overload");
    // One transaction a block: HotStuff commits about 20 of the 200 tx/s offered, and every
    // view commits; a 0.3 s bound is missed by a growing backlog, not by a stuck replica.
    let text = format!("{TINY}\n[hotstuff]\nbatch_size = 1\n[checks]\nliveness_bound_s = 0.3\n");
    std::fs::write(s.join("slow.toml"), text).unwrap();
    let o = byzsim(&["run", "slow.toml", "--quiet", "--out", "res"], &s);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("liveness: overloaded from "), "{}", stderr(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.join("res/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["stop"], "end");
    let backlog = &summary["liveness_backlog"];
    let (pending, confirmed) =
        (backlog["pending_tx"].as_u64().unwrap(), backlog["confirmed_in_bound"].as_u64().unwrap());
    assert!(confirmed > 0 && 2 * pending > confirmed, "{backlog}");
    // The same overload, and two of four replicas crash at 1 s: nothing confirms after it.
    let crash = "faults.crashes=[{ replica = 2, at_s = 1 }, { replica = 3, at_s = 1 }]";
    let o = byzsim(&["run", "slow.toml", "--quiet", "--out", "stall", "--set", crash], &s);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`liveness`") && stderr(&o).contains(", 0 confirmed over the last bound"),
        "{}",
        stderr(&o)
    );
}
