//! The event log, the flight recorder and `diff`: a log folds back into its run's digest, the
//! same seed writes the same bytes, filters keep what they say, and diff finds the first record
//! two runs differ in (the same one the two logs first differ in).

use std::path::{Path, PathBuf};

use scenarios::eventlog::{EventLog, Filter};
use scenarios::model::Scenario;
use scenarios::planted::Planted;
use scenarios::{diff, run, watch};
use serde_json::Value;
use sim_core::digest::Fold;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The quickstart, one virtual second.
fn quick(seed: u64) -> Scenario {
    let sets = ["duration_s=1".to_string(), "drain_s=0.5".to_string(), "warmup_s=0".to_string()];
    scenarios::parse::load(&root().join("scenarios/quickstart.toml"), &sets, Some(seed)).expect("valid")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("byzsim-eventlog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `scenario` writing its event log to `path`; returns the report.
fn logged(scenario: &Scenario, planted: Option<Planted>, path: &Path, filter: Filter) -> run::Report {
    let (log, shared) = watch::share(EventLog::create(path, filter).expect("a new file"));
    let report = run::run_watched(scenario, planted, &[shared], &mut |_, _| {});
    log.borrow_mut().finish(&report).expect("written");
    report
}

fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("log");
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect()
}

fn num(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("no {key} in {v}"))
}

fn hex(v: &Value, key: &str) -> u64 {
    u64::from_str_radix(v[key].as_str().unwrap_or_else(|| panic!("no {key} in {v}")), 16).expect("hex")
}

/// The digest recomputed from the log alone, as docs/event-log.md defines it.
fn refold(seed: u64, records: &[Value]) -> u64 {
    let site = |code: u64, to: u64, from: u64| code | to << 8 | from << 36;
    let mut digest = Fold::new(seed);
    for r in records {
        let words = match r["ev"].as_str().expect("ev") {
            "deliver" => {
                let code = match r["kind"].as_str().expect("kind") {
                    "request" => 2,
                    "reply" => 3,
                    _ => 1,
                };
                Some([site(code, num(r, "to"), num(r, "from")), hex(r, "content")])
            }
            "timer_fire" => Some([site(4, num(r, "node"), num(r, "node")), num(r, "gen")]),
            "submit" => Some([site(5, num(r, "client"), num(r, "client")), num(r, "tx")]),
            "fault" => {
                let action = if r["action"] == "crash" { 0 } else { 1 };
                Some([site(6, num(r, "node"), num(r, "node")), action])
            }
            "release" => Some([site(7, num(r, "node"), num(r, "node")), num(r, "epoch")]),
            "resend" => Some([site(7, num(r, "client"), num(r, "to")), num(r, "tx")]),
            _ => None,
        };
        if let Some([w0, w1]) = words {
            digest.add(num(r, "t_ns")).add(w0).add(w1);
        }
        assert_eq!(hex(r, "digest"), digest.value(), "the running digest at {r}");
    }
    digest.value()
}

/// Every handler names an input delivered to (or fired at) its node before it, and each
/// delivery and firing runs at most once.
fn handlers_name_what_they_ran(records: &[Value]) {
    use std::collections::BTreeMap;
    let mut pending: BTreeMap<(u64, &str, u64), u64> = BTreeMap::new();
    let (mut messages, mut timers) = (0, 0);
    for r in records {
        match r["ev"].as_str().expect("ev") {
            "deliver" if r["kind"] != "reply" => {
                pending.insert((num(r, "to"), r["kind"].as_str().expect("kind"), num(r, "msg")), num(r, "t_ns"));
            }
            "timer_fire" => {
                pending.insert((num(r, "node"), "timer", num(r, "gen")), num(r, "t_ns"));
            }
            "handler" => {
                let input = r["input"].as_str().unwrap_or_else(|| panic!("no input in {r}"));
                let number = if input == "timer" { num(r, "gen") } else { num(r, "msg") };
                let arrived = pending.remove(&(num(r, "node"), input, number));
                assert!(arrived.is_some_and(|t| t <= num(r, "t_ns")), "{r} ran an input never handed to it");
                if input == "timer" {
                    timers += 1;
                } else {
                    messages += 1;
                }
            }
            _ => {}
        }
    }
    assert!(messages > 100 && timers > 0, "{messages} message and {timers} timer handlers");
}

#[test]
fn a_log_folds_back_into_the_run_digest_and_the_same_seed_writes_the_same_bytes() {
    let dir = temp_dir("fold");
    // A crash and a recovery of the first leader, so faults, refusals and view timeouts are in
    // the log too.
    let mut scenario = quick(3);
    scenario.duration_s = 2.5;
    scenario.faults.crashes = vec![scenarios::model::Crash { replica: 1, at_s: 0.3, recover_s: Some(0.6) }];
    let report = logged(&scenario, None, &dir.join("a.jsonl"), Filter::default());
    let again = logged(&scenario, None, &dir.join("b.jsonl"), Filter::default());
    assert_eq!(report.result.digest, again.result.digest);
    let (a, b) = (std::fs::read(dir.join("a.jsonl")).expect("a"), std::fs::read(dir.join("b.jsonl")).expect("b"));
    assert!(a == b, "two runs of one seed wrote different logs");
    let all = lines(&dir.join("a.jsonl"));
    let (header, records, footer) = (&all[0], &all[1..all.len() - 1], &all[all.len() - 1]);
    assert_eq!((header["schema"].as_str(), header["version"].as_u64()), (Some("byzsim-events"), Some(1)));
    assert_eq!(records.len() as u64, report.result.records);
    assert_eq!(refold(3, records), report.result.digest);
    assert_eq!(hex(footer, "digest"), report.result.digest);
    for name in ["send", "deliver", "refused", "handler", "timer_fire", "submit", "confirm", "commit", "fault"] {
        assert!(records.iter().any(|r| r["ev"] == name), "no {name} record");
    }
    // Protocol messages are described.
    assert!(records.iter().any(|r| r["ev"] == "deliver" && r["kind"] == "proposal" && r.get("about").is_some()));
    handlers_name_what_they_ran(records);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn filters_keep_only_the_window_the_nodes_and_the_kinds_asked() {
    let dir = temp_dir("filter");
    let filter = Filter {
        from_ns: 200_000_000,
        to_ns: Some(400_000_000),
        nodes: [1].into(),
        records: ["deliver".to_string(), "commit".to_string()].into(),
        kinds: Default::default(),
    };
    let report = logged(&quick(1), None, &dir.join("f.jsonl"), filter);
    let all = lines(&dir.join("f.jsonl"));
    let records = &all[1..all.len() - 1];
    assert!(!records.is_empty() && (records.len() as u64) < report.result.records / 10);
    for r in records {
        let t = num(r, "t_ns");
        assert!((200_000_000..400_000_000).contains(&t), "{r}");
        match r["ev"].as_str() {
            Some("deliver") => assert!(num(r, "to") == 1 || num(r, "from") == 1, "{r}"),
            Some("commit") => assert_eq!(num(r, "node"), 1),
            _ => panic!("kept {r}"),
        }
    }
    let kinds = Filter { kinds: ["vote".to_string()].into(), ..Filter::default() };
    logged(&quick(1), None, &dir.join("k.jsonl"), kinds);
    let votes = lines(&dir.join("k.jsonl"));
    assert!(votes.len() > 10 && votes[1..votes.len() - 1].iter().all(|r| r["kind"] == "vote"));
    let unknown = Filter { kinds: ["no-such-kind".to_string()].into(), ..Filter::default() };
    let problem = unknown.check(&scenarios::eventlog::preview_info(&quick(1))).expect_err("an unknown kind");
    assert!(problem.contains("no-such-kind") && problem.contains("proposal"), "{problem}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_existing_file_is_never_overwritten() {
    let dir = temp_dir("exists");
    let path = dir.join("mine.jsonl");
    std::fs::write(&path, "my notes\n").expect("write");
    let refused = EventLog::create(&path, Filter::default()).err().expect("refused");
    assert!(refused.contains("exists"), "{refused}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "my notes\n");
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 1, "nothing else was created");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn diff_finds_the_record_where_the_logs_first_differ_and_none_for_the_same_seed() {
    let side = |seed| diff::Side { label: format!("seed {seed}"), scenario: quick(seed), planted: None };
    let same = diff::runs(&side(1), &side(1), 3);
    assert!(!same.differ, "{}", same.text);
    assert!(same.text.contains("no difference"));
    // Two seeds, and a partition that changes the run only from 0.5 s on, past many checkpoints.
    let dir = temp_dir("diff");
    let base = quick(1);
    let mut cut = quick(1);
    cut.faults.partitions =
        vec![scenarios::model::Partition { start_s: 0.5, heal_s: 0.7, groups: vec![vec![0, 1], vec![2, 3]] }];
    let a = logged(&base, None, &dir.join("a.jsonl"), Filter::default());
    logged(&cut, None, &dir.join("b.jsonl"), Filter::default());
    let (la, lb) = (lines(&dir.join("a.jsonl")), lines(&dir.join("b.jsonl")));
    let first_line = la[1..].iter().zip(&lb[1..]).position(|(x, y)| {
        let strip = |v: &Value| {
            let mut v = v.clone();
            v.as_object_mut().expect("object").remove("digest");
            v
        };
        strip(x) != strip(y)
    });
    let first_line = first_line.expect("the partition changes the run");
    assert!(first_line as u64 > 4 * diff::CHECKPOINT_EVERY, "the runs share a long prefix: {first_line}");
    let out = diff::runs(
        &diff::Side { label: "whole".into(), scenario: base, planted: None },
        &diff::Side { label: "cut".into(), scenario: cut, planted: None },
        2,
    );
    assert!(out.differ);
    assert!(out.text.contains(&format!("first difference: record #{first_line}\n")), "{}", out.text);
    assert!(out.text.contains("partition"), "{}", out.text);
    assert!(a.result.records > first_line as u64);
    let other = diff::runs(&side(1), &side(2), 2);
    assert!(other.differ && other.text.contains("first difference: record #"), "{}", other.text);
    // The logs themselves, compared line by line.
    let logs = diff::logs(&dir.join("a.jsonl"), &dir.join("b.jsonl"), 1).expect("logs");
    assert!(logs.differ && logs.text.contains(&format!("first difference: line {}", first_line + 2)), "{}", logs.text);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_flight_recorder_shows_the_conflicting_certificates_before_a_violation() {
    let path = root().join("scenarios/examples/twins-hotstuff.toml");
    let scenario = scenarios::parse::load(&path, &[], Some(3)).expect("valid");
    let bug = Planted::parse("hotstuff/quorum_minus_one").expect("a planted bug");
    let report = run::run_planted(&scenario, Some(bug), &mut |_, _| {});
    let sim_core::Stop::Violation(v) = &report.result.stop else {
        panic!("seed 3 broke nothing: {:?}", report.result.stop)
    };
    let last = report.result.recent.last().expect("records");
    assert!(matches!(last.record, sim_core::Record::Violation { .. }), "{last:?}");
    let text = scenarios::output::flight_recorder_text(&report, 40);
    assert!(text.contains(&format!("VIOLATION of `{}`", v.invariant)), "{text}");
    assert!(text.contains("state of replica"), "{text}");
}

#[test]
fn every_record_kind_is_documented() {
    let docs = std::fs::read_to_string(root().join("docs/event-log.md")).expect("docs/event-log.md");
    for name in sim_core::Record::NAMES {
        let row =
            |l: &&str| l.starts_with("| `") && l.split('|').nth(1).is_some_and(|c| c.contains(&format!("`{name}`")));
        assert!(docs.lines().any(|l| row(&l)), "docs/event-log.md has no row for the record {name}");
    }
    let notes = ["view", "timeout", "lock", "step", "catch_up", "path", "view_change", "recovery", "byzantine"];
    for note in notes {
        assert!(docs.contains(&format!("`{note}` (")), "note {note}");
    }
}
