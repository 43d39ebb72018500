//! The timeline (`run --perfetto`): the file is one JSON object in the trace-event format whose
//! tracks are named, whose arrows pair up, and whose slices neither go back in time nor overlap
//! on a track; and the checks catch the writer's planted bugs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::TempDir;
use scenarios::eventlog::{EventLog, Filter};
use scenarios::perfetto::{Options, PlantedBug, Timeline};
use scenarios::{parse, run, watch};
use serde_json::Value;

/// Runs `example` shortened by `sets` with a timeline; returns the parsed file and the run's cores.
fn timeline(example: &str, sets: &[&str], planted: Option<PlantedBug>, dir: &Path) -> (Value, u32) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(example);
    let src = std::fs::read_to_string(&path).expect("example");
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let scenario = parse::load_str(&path, &src, &sets, None).unwrap_or_else(|d| panic!("{d}"));
    let run_ns = ((scenario.duration_s + scenario.drain_s) * 1e9) as u64;
    let mut opts = Options::new(scenario.cpu.cores, run_ns);
    opts.planted = planted;
    let file = dir.join("timeline.json");
    let (typed, shared) = watch::share(Timeline::create(&file, opts).expect("new file"));
    let report = run::run_watched(&scenario, None, &[shared], &mut |_, _| {});
    typed.borrow_mut().finish(&report).expect("written");
    let text = std::fs::read_to_string(&file).expect("written");
    (serde_json::from_str(&text).expect("one JSON object"), scenario.cpu.cores)
}

fn num(e: &Value, key: &str) -> f64 {
    e[key].as_f64().unwrap_or_else(|| panic!("{key} in {e}"))
}

/// Every structural rule of the format the viewers rely on; the first broken one.
fn check(trace: &Value, cores: u32) -> Result<(), String> {
    if trace["displayTimeUnit"] != "ns" || !trace["otherData"]["digest"].is_string() {
        return Err("displayTimeUnit and otherData".into());
    }
    let events = trace["traceEvents"].as_array().ok_or("traceEvents is an array")?;
    let mut named = BTreeSet::new();
    let mut used = BTreeSet::new();
    let mut starts: BTreeMap<u64, f64> = BTreeMap::new();
    let mut ends: BTreeMap<u64, f64> = BTreeMap::new();
    let mut tracks: BTreeMap<(u64, u64), Vec<(f64, f64)>> = BTreeMap::new();
    for e in events {
        let ph = e["ph"].as_str().ok_or(format!("ph in {e}"))?;
        let (pid, tid) = (e["pid"].as_u64().ok_or("pid")?, e["tid"].as_u64().ok_or("tid")?);
        if !e["name"].is_string() {
            return Err(format!("no name: {e}"));
        }
        if ph == "M" {
            if e["name"] == "thread_name" {
                named.insert((pid, tid));
            }
            continue;
        }
        let ts = e["ts"].as_f64().ok_or(format!("ts in {e}"))?;
        used.insert((pid, tid));
        match ph {
            "X" | "i" => {
                let dur = if ph == "X" { num(e, "dur") } else { 0.0 };
                let track = tracks.entry((pid, tid)).or_default();
                if track.last().is_some_and(|&(last, _)| ts < last) {
                    return Err(format!("time goes back on track {pid}/{tid} at {e}"));
                }
                if ph == "X" || ph == "i" {
                    track.push((ts, dur));
                }
            }
            "s" if starts.insert(e["id"].as_u64().ok_or("id")?, ts).is_some() => {
                return Err(format!("two flow starts: {e}"));
            }
            "f" => {
                if e["bp"] != "e" || ends.insert(e["id"].as_u64().ok_or("id")?, ts).is_some() {
                    return Err(format!("two flow ends, or not bound to the enclosing slice: {e}"));
                }
            }
            "s" | "C" => {}
            other => return Err(format!("unexpected ph {other}")),
        }
    }
    if let Some(track) = used.difference(&named).next() {
        return Err(format!("track {track:?} has no name"));
    }
    if starts.keys().ne(ends.keys()) {
        let lone = starts.keys().find(|id| !ends.contains_key(id)).or(ends.keys().find(|id| !starts.contains_key(id)));
        return Err(format!("flow {lone:?} has one end only"));
    }
    if let Some((id, _)) = starts.iter().find(|(id, s)| **s > ends[id]) {
        return Err(format!("flow {id} ends before it starts"));
    }
    // No two slices overlap on a track (a track is one core), so no replica runs more
    // handlers at once than it has cores.
    for ((pid, tid), slices) in &tracks {
        let mut busy_until = 0.0;
        for &(ts, dur) in slices.iter().filter(|(_, d)| *d > 0.0) {
            if ts < busy_until - 1e-6 {
                return Err(format!("slices overlap on track {pid}/{tid} at {ts} µs ({cores} cores)"));
            }
            busy_until = ts + dur;
        }
    }
    Ok(())
}

fn names(trace: &Value, ph: &str) -> BTreeSet<String> {
    let events = trace["traceEvents"].as_array().expect("events");
    events.iter().filter(|e| e["ph"] == ph).map(|e| e["name"].as_str().expect("name").to_string()).collect()
}

#[test]
fn a_crash_run_gives_a_well_formed_timeline() {
    let dir = TempDir::new("perfetto-crash");
    let (trace, cores) = timeline("examples/crash.toml", &["duration_s=3", "drain_s=0.5"], None, &dir);
    check(&trace, cores).unwrap_or_else(|e| panic!("{e}"));
    let instants = names(&trace, "i");
    assert!(instants.contains("commit") && instants.contains("crash"), "{instants:?}");
    let slices = names(&trace, "X");
    assert!(slices.contains("proposal") && slices.contains("vote") && slices.contains("request"), "{slices:?}");
    assert!(!slices.contains("handler"), "every handler is named by its input: {slices:?}");
    assert!(names(&trace, "C").contains("in flight"));
    assert!(names(&trace, "s").contains("vote"), "votes are drawn as arrows");
}

#[test]
fn handler_slices_name_the_input_the_event_log_says_they_ran() {
    let dir = TempDir::new("perfetto-inputs");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/crash.toml");
    let sets: Vec<String> = ["duration_s=3", "drain_s=0.5"].iter().map(|s| s.to_string()).collect();
    let scenario = parse::load(&path, &sets, None).unwrap_or_else(|d| panic!("{d}"));
    let run_ns = ((scenario.duration_s + scenario.drain_s) * 1e9) as u64;
    let lanes = scenario.cpu.cores.max(1) as u64;
    let (file, log_file) = (dir.join("timeline.json"), dir.join("events.jsonl"));
    let (typed, shared) = watch::share(Timeline::create(&file, Options::new(scenario.cpu.cores, run_ns)).expect("new"));
    let (log, log_shared) = watch::share(EventLog::create(&log_file, Filter::default()).expect("new"));
    let report = run::run_watched(&scenario, None, &[shared, log_shared], &mut |_, _| {});
    typed.borrow_mut().finish(&report).expect("written");
    log.borrow_mut().finish(&report).expect("written");
    // (node, time ns, input name, message number or timer generation) of every handler.
    let mut from_log = Vec::new();
    for line in std::fs::read_to_string(&log_file).expect("log").lines() {
        let r: Value = serde_json::from_str(line).expect("a JSON line");
        if r["ev"] == "handler" {
            let number = r.get("msg").or(r.get("gen")).and_then(Value::as_u64).expect("msg or gen");
            let at = r["t_ns"].as_u64().expect("t_ns");
            from_log.push((
                r["node"].as_u64().expect("node"),
                at,
                r["input"].as_str().expect("input").to_string(),
                number,
            ));
        }
    }
    let trace: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("timeline")).expect("JSON");
    let mut from_timeline = Vec::new();
    for e in trace["traceEvents"].as_array().expect("events") {
        if e["ph"] == "X" && e["pid"] == 1 {
            let args = &e["args"];
            let number = args.get("msg").or(args.get("gen")).and_then(Value::as_u64).expect("msg or gen");
            let node = (e["tid"].as_u64().expect("tid") - 1) / lanes;
            let at = (num(e, "ts") * 1000.0).round() as u64;
            from_timeline.push((node, at, e["name"].as_str().expect("name").to_string(), number));
        }
    }
    from_log.sort();
    from_timeline.sort();
    assert!(from_log.len() > 1000, "{} handlers", from_log.len());
    assert!(from_log == from_timeline, "the timeline's handlers differ from the log's");
}

#[test]
fn a_partition_is_a_slice_on_its_own_track() {
    let dir = TempDir::new("perfetto-partition");
    let sets = [
        "duration_s=5.5",
        "drain_s=0.2",
        "faults.partitions=[{groups=[[0,1],[2,3]],start_s=5,heal_s=5.3}]",
        "workload.rate_tps=200",
    ];
    let (trace, cores) = timeline("examples/partition.toml", &sets, None, &dir);
    check(&trace, cores).unwrap_or_else(|e| panic!("{e}"));
    let events = trace["traceEvents"].as_array().expect("events");
    let cut = events.iter().find(|e| e["name"] == "partitioned").expect("the partition's slice");
    assert_eq!((num(cut, "ts"), num(cut, "dur")), (5e6, 0.3e6));
    assert!(names(&trace, "i").contains("partition 0 opens"));
}

#[test]
fn the_checks_catch_the_planted_writer_bugs() {
    let dir = TempDir::new("perfetto-planted");
    for bug in [PlantedBug::OneTrack, PlantedBug::EveryStart] {
        let sets = ["duration_s=3", "drain_s=0.5"];
        std::fs::remove_file(dir.join("timeline.json")).ok();
        let (trace, cores) = timeline("examples/crash.toml", &sets, Some(bug), &dir);
        let caught = check(&trace, cores).expect_err("a planted bug is caught");
        eprintln!("{bug:?}: {caught}");
    }
}

#[test]
fn the_command_refuses_an_existing_file_and_writes_a_new_one() {
    let dir = TempDir::new("perfetto-cli");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/crash.toml");
    let example = example.to_str().expect("utf-8");
    std::fs::write(dir.join("taken.json"), "mine").expect("write");
    let args = ["run", example, "-q", "--set", "duration_s=1.5", "--out", "r", "--perfetto", "taken.json"];
    let out = common::byzsim(&args, &dir);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("taken.json exists"));
    assert_eq!(std::fs::read_to_string(dir.join("taken.json")).expect("kept"), "mine");
    assert!(!dir.join("r").exists(), "nothing ran");
    let bad = ["run", example, "-q", "--out", "r", "--perfetto", "t.json", "--perfetto-flows", "nope"];
    assert_eq!(common::byzsim(&bad, &dir).status.code(), Some(2));
    let args = [
        "run",
        example,
        "-q",
        "--set",
        "duration_s=1.5",
        "--out",
        "r",
        "--perfetto",
        "t.json",
        "--perfetto-from",
        "0.5",
    ];
    let out = common::byzsim(&args, &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("timeline"));
    let trace: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("t.json")).expect("t.json")).expect("JSON");
    let events = trace["traceEvents"].as_array().expect("events");
    assert!(events.iter().filter(|e| e["ph"] != "M").all(|e| num(e, "ts") >= 5e5), "the window holds");
    let leftovers: Vec<_> =
        std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert!(!leftovers.iter().any(|n| n.to_string_lossy().ends_with("partial")), "{leftovers:?}");
}
