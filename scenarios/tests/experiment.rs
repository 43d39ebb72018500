//! `byzsim experiment` as a user runs it: spec errors exit 2 naming the key, a claim that does
//! not hold exits 1 naming it, the outputs do not depend on `--jobs`, `--isolate` runs the same
//! runs in child processes, and the load search is the old figures' `saturate`.

mod common;

use std::path::Path;
use std::process::Output;

use scenarios::results::RunSummary;
use scenarios::search::Search;
use scenarios::{parse, run};

use common::{TOY, TempDir, byzsim};

/// Two variants, an axis of two values, two named rates, a table, a plot and a claim.
const SPEC: &str = r#"
name = "toy"
scenario = "toy.toml"

[[variant]]
label = "three"
[[variant]]
label = "two"
sets = ['hotstuff.variant="two_chain"']

[[axis]]
name = "batch"
key = "hotstuff.batch_size"
values = [50, 400]

[rates]
low = 100
high = 400

[[table]]
name = "main"
columns = ["variant", "batch", "low.goodput_tps", "low.e2e_p50_ms", "high.goodput_tps"]

[[plot]]
name = "p50"
kind = "line"
x = "batch"
y = "low.e2e_p50_ms"
series = "variant"
title = "p50"

[[expect]]
left = "two/400.low.goodput_tps"
op = ">"
right = 0.5
times = "three/400.low.goodput_tps"
why = "both carry the low load"
"#;

const PAGE: &str = "# Toy\n\n{{table main}}\n\n{{plot p50}}\n\np50 {{value three/50.low.e2e_p50_ms 1}} ms\n\
                    ratio {{value two/400.low.goodput_tps / three/400.low.goodput_tps * 100 3}} %\n\n{{claims}}\n";

fn setup(dir: &Path, spec: &str, page: &str) {
    std::fs::write(dir.join("toy.toml"), TOY).unwrap();
    std::fs::write(dir.join("toy-spec.toml"), spec).unwrap();
    std::fs::write(dir.join("toy-spec.md"), page).unwrap();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

#[test]
fn outputs_are_the_same_whatever_the_jobs_and_claims_hold() {
    let dir = TempDir::new("exp-jobs");
    setup(&dir, SPEC, PAGE);
    for jobs in ["1", "2"] {
        let out = byzsim(&["experiment", "toy-spec.toml", "--out", &format!("out{jobs}"), "--jobs", jobs, "-q"], &dir);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("claims: 1 hold, 0 fail"));
    }
    let files = ["toy.md", "toy-main.csv", "toy-runs.csv", "toy-p50.svg", "toy-p50.png", "results.json"];
    for f in files {
        assert_eq!(read(&dir.join("out1"), f), read(&dir.join("out2"), f), "{f} differs between --jobs 1 and 2");
    }
    let page = String::from_utf8(read(&dir.join("out1"), "toy.md")).unwrap();
    assert!(page.contains("| variant | batch | goodput (tx/s) | end-to-end p50 (ms) | goodput (tx/s) |"), "{page}");
    assert!(page.contains("| two | 400 |") && page.contains("![p50](toy-p50.svg)") && !page.contains("{{"), "{page}");
    let runs = String::from_utf8(read(&dir.join("out1"), "toy-runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 4 * 2, "{runs}");
    // A value across cases: the ratio of two cases' goodputs, from the table's full precision.
    let table = String::from_utf8(read(&dir.join("out1"), "toy-main.csv")).unwrap();
    let goodput = |case: &str| -> f64 {
        let (variant, batch) = case.split_once('/').unwrap();
        let row = table.lines().find(|l| l.starts_with(&format!("{variant},{batch},"))).expect("the case's row");
        row.split(',').nth(2).unwrap().parse().unwrap()
    };
    let ratio = goodput("two/400") / goodput("three/400") * 100.0;
    assert!(ratio > 50.0, "both carry the low load: {ratio}");
    assert!(page.contains(&format!("ratio {ratio:.3} %")), "{ratio:.3} not in {page}");
    // The claims' table: the claim, both sides with their values, and that it holds.
    let line = SPEC.lines().position(|l| l == "[[expect]]").unwrap() + 1;
    let short = |x: f64| match x {
        _ if x.fract() == 0.0 || x >= 100.0 => format!("{x:.0}"),
        _ if x >= 1.0 => format!("{x:.2}"),
        _ => format!("{x:.3}"),
    };
    let (two, three) = (goodput("two/400"), goodput("three/400"));
    let row = format!(
        "| {line} | both carry the low load | `two/400.low.goodput_tps` {} | > | 0.500 x `three/400.low.goodput_tps` \
         {} = {} | yes |",
        short(two),
        short(three),
        short(three * 0.5)
    );
    assert!(page.contains(&row), "{row}\nnot in\n{page}");
}

#[test]
fn render_from_writes_what_a_new_run_writes_and_refuses_changed_runs() {
    let dir = TempDir::new("exp-render");
    setup(&dir, SPEC, PAGE);
    let first = byzsim(&["experiment", "toy-spec.toml", "--out", "first", "-q"], &dir);
    assert!(first.status.success(), "{}", stderr(&first));
    // Only the presentation changes: a column, a claim and the page's prose.
    let spec = SPEC.replace("\"high.goodput_tps\"]", "\"high.goodput_tps\", \"high.e2e_p50_ms\"]")
        + "\n[[expect]]\nleft = \"three/50.high.goodput_tps\"\nop = \">\"\nright = 0\nwhy = \"it commits\"\n";
    setup(&dir, &spec, &format!("{PAGE}\nRendered again.\n"));
    let again = byzsim(&["experiment", "toy-spec.toml", "--render-from", "first", "-q"], &dir);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("4 cases -> first"), "in place by default");
    let fresh = byzsim(&["experiment", "toy-spec.toml", "--out", "fresh", "-q"], &dir);
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    let files = ["toy.md", "toy-main.csv", "toy-runs.csv", "toy-p50.svg", "toy-p50.png", "results.json"];
    for f in files {
        assert_eq!(read(&dir.join("first"), f), read(&dir.join("fresh"), f), "{f}: rendered again != run again");
    }
    let page = String::from_utf8(read(&dir.join("first"), "toy.md")).unwrap();
    assert!(page.contains("Rendered again.") && page.contains("| it commits |"), "{page}");
    // What decides the runs changed: refused, naming the fix, and the folder left as it was.
    let before = read(&dir.join("first"), "toy.md");
    let refusals = [
        (spec.replace("two_chain\"']", "two_chain\"', \"duration_s=3\"]"), vec![], "what decides the runs changed"),
        (spec.replace("low = 100", "low = 120"), vec![], "what decides the runs changed"),
        (spec.clone(), vec!["--quick"], "these results are a full run's"),
        (spec.replace("name = \"toy\"", "name = \"other\""), vec![], "the results of experiment `toy`, not `other`"),
    ];
    for (changed, flags, want) in refusals {
        setup(&dir, &changed, PAGE);
        let mut argv = vec!["experiment", "toy-spec.toml", "--render-from", "first", "-q"];
        argv.extend(flags);
        let out = byzsim(&argv, &dir);
        assert_eq!(out.status.code(), Some(2), "{want}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "want {want:?} in {}", stderr(&out));
        assert_eq!(read(&dir.join("first"), "toy.md"), before, "a refused render writes nothing");
    }
    // The scenario changed.
    setup(&dir, &spec, PAGE);
    std::fs::write(dir.join("toy.toml"), TOY.replace("duration_s = 2", "duration_s = 3")).unwrap();
    let out = byzsim(&["experiment", "toy-spec.toml", "--render-from", "first", "-q"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("what decides the runs changed"), "{}", stderr(&out));
    let out = byzsim(&["experiment", "toy-spec.toml", "--render-from", "nowhere", "-q"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nowhere/results.json") && stderr(&out).contains("--render-from takes"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_page_value_across_cases_with_an_unknown_case_is_refused_naming_it() {
    let dir = TempDir::new("exp-across");
    setup(&dir, SPEC, "{{table main}}\nratio {{value two/400.low.goodput_tps / thre/400.low.goodput_tps}}\n");
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("toy-spec.md, line 2") && err.contains("`thre/400.low.goodput_tps` names no case"), "{err}");
    assert!(!dir.join("out").exists(), "nothing is written");
}

#[test]
fn two_shards_merged_are_the_unsharded_folder_and_other_shards_are_refused() {
    let dir = TempDir::new("exp-shards");
    setup(&dir, SPEC, PAGE);
    let whole = byzsim(&["experiment", "toy-spec.toml", "--out", "whole", "-q"], &dir);
    assert!(whole.status.success(), "{}", stderr(&whole));
    for i in ["0/2", "1/2"] {
        let out = byzsim(&["experiment", "toy-spec.toml", "--shard", i, "--out", "shards", "-q"], &dir);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("shard {i}: 2 of 4 cases")));
    }
    let merged = byzsim(&["merge", "shards", "--out", "merged"], &dir);
    assert!(merged.status.success(), "{}", stderr(&merged));
    let printed = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(printed(&whole), printed(&merged).replace("merged", "whole"), "the merge prints what the run did");
    let files = ["toy.md", "toy-main.csv", "toy-runs.csv", "toy-p50.svg", "toy-p50.png", "results.json"];
    for f in files.into_iter().chain([".byzsim"]) {
        assert_eq!(read(&dir.join("whole"), f), read(&dir.join("merged"), f), "{f} differs from the unsharded run");
    }
    // One shard alone: the missing one is named, with the command that runs it.
    let shards: Vec<String> = std::fs::read_dir(dir.join("shards"))
        .unwrap()
        .map(|e| format!("shards/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    let lone = shards.iter().find(|s| s.contains("shard-0-of-2")).unwrap();
    let out = byzsim(&["merge", lone, "--out", "m1"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("shard 1/2") && stderr(&out).contains("--shard 1/2"), "{}", stderr(&out));
    // A shard of another version of byzsim.
    let text = std::fs::read_to_string(dir.join(lone)).unwrap();
    let version = format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    std::fs::create_dir(dir.join("old")).unwrap();
    std::fs::write(dir.join("old/shard-0-of-2.json"), text.replace(&version, "\"version\": \"0.0.1\"")).unwrap();
    let out = byzsim(&["merge", "old", "--out", "m2"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("a shard of byzsim 0.0.1"), "{}", stderr(&out));
    // The spec changed since the shards ran; then a shard of the changed spec beside the old ones.
    std::fs::write(dir.join("toy-spec.toml"), SPEC.replace("high = 400", "high = 300")).unwrap();
    let out = byzsim(&["merge", "shards", "--out", "m3"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("changed since the shards ran"), "{}", stderr(&out));
    let out = byzsim(&["experiment", "toy-spec.toml", "--shard", "1/2", "--out", "new", "-q"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = byzsim(&["merge", lone, "new", "--out", "m4"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("shards of different experiments"), "{}", stderr(&out));
    for m in ["m1", "m2", "m3", "m4"] {
        assert!(!dir.join(m).exists(), "a refused merge writes nothing");
    }
}

/// A run that stops at a limit is in the tables all the same, so the command says which one
/// stopped early and why (the SOSP page's 10,000 users stopped at the event limit unnoticed).
#[test]
fn a_run_stopped_by_a_limit_is_named_in_a_warning() {
    let dir = TempDir::new("exp-limit");
    let spec = "name = \"toy\"\nscenario = \"toy.toml\"\n\n[[variant]]\nlabel = \"whole\"\n[[variant]]\nlabel = \"cut\"\n\
                sets = [\"limits.max_events=500\"]\n\n[rates]\nlow = 100\n\n[[table]]\nname = \"main\"\n\
                columns = [\"variant\", \"low.goodput_tps\"]\n";
    setup(&dir, spec, "# Toy\n\n{{table main}}\n");
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("warning: case cut run low stopped early (event_limit): hit [limits] max_events"), "{text}");
    assert!(!text.contains("case whole"), "a whole run is not named: {text}");
    // The page marks the row and names the run under the table.
    let page = String::from_utf8(read(&dir.join("out"), "toy.md")).unwrap();
    assert!(page.contains("| cut † |") && page.contains("| whole |"), "{page}");
    assert!(page.contains("† case cut run low stopped before its end (event_limit: hit [limits] max_events"), "{page}");
}

#[test]
fn a_claim_that_does_not_hold_exits_1_naming_it_with_both_values() {
    let dir = TempDir::new("exp-claim");
    let spec = SPEC.replace("right = 0.5", "right = 5");
    setup(&dir, &spec, PAGE);
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let line = spec.lines().position(|l| l == "[[expect]]").unwrap() + 1;
    assert!(err.contains(&format!("toy-spec.toml:{line}: claim does not hold: two/400.low.goodput_tps = ")), "{err}");
    assert!(err.contains("x three/400.low.goodput_tps (") && err.contains("both carry the low load"), "{err}");
    // The results are written all the same, to see why, and the page's table says which failed.
    let page = String::from_utf8(read(&dir.join("out"), "toy.md")).unwrap();
    assert!(page.contains(&format!("| {line} | both carry the low load | `two/400.low.goodput_tps` ")), "{page}");
    assert!(page.contains("| > | 5 x `three/400.low.goodput_tps` ") && page.contains("| **no** |"), "{page}");
}

#[test]
fn spec_errors_exit_2_naming_the_key() {
    let cases = [
        (SPEC.replace("[rates]", "colour = 1\n[rates]"), PAGE.to_string(), "unknown field `colour`"),
        (SPEC.replace("\"low.e2e_p50_ms\"", "\"low.e2e_p50_msec\""), PAGE.to_string(), "no metric `e2e_p50_msec`"),
        (SPEC.replace("\"high.goodput_tps\"", "\"peak.goodput_tps\""), PAGE.to_string(), "no run `peak`"),
        (SPEC.replace("two/400.low", "four/400.low"), PAGE.to_string(), "`four/400.low.goodput_tps` names no case"),
        (SPEC.replace("op = \">\"", "op = \"=>\""), PAGE.to_string(), "unknown variant `=>`"),
        (SPEC.to_string(), PAGE.replace("{{plot p50}}", "{{plot p90}}"), "unknown placeholder `{{plot p90}}`"),
        (SPEC.replace("hotstuff.batch_size", "hotstuff.batch_sizes"), PAGE.to_string(), "batch_sizes"),
    ];
    for (spec, page, want) in cases {
        let dir = TempDir::new("exp-errors");
        setup(&dir, &spec, &page);
        let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
        assert_eq!(out.status.code(), Some(2), "{want}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "want {want:?} in:\n{}", stderr(&out));
        assert!(stderr(&out).contains("toy-spec"), "the file is named: {}", stderr(&out));
        assert!(!dir.join("out").exists(), "nothing is written on bad input");
    }
}

#[test]
fn isolated_runs_are_the_same_runs_with_their_cost() {
    let dir = TempDir::new("exp-isolate");
    let spec = "name = \"toy\"\nscenario = \"toy.toml\"\n[[table]]\nname = \"t\"\ncolumns = [\"goodput_tps\"]\n";
    setup(&dir, spec, "{{table t}}\n{{value all.goodput_tps 1}}\n");
    for (out, isolate) in [("a", false), ("b", true)] {
        let mut args = vec!["experiment", "toy-spec.toml", "--out", out, "-q"];
        args.extend(isolate.then_some("--isolate"));
        let done = byzsim(&args, &dir);
        assert!(done.status.success(), "{}", stderr(&done));
    }
    let json =
        |out: &str| -> serde_json::Value { serde_json::from_slice(&read(&dir.join(out), "results.json")).unwrap() };
    let (a, b) = (json("a"), json("b"));
    let summary = |v: &serde_json::Value| v["cases"][0]["runs"][0]["summary"].clone();
    assert_eq!(summary(&a)["digest"], summary(&b)["digest"]);
    assert!(summary(&a)["cost"].is_null());
    assert!(summary(&b)["cost"]["wall_s"].as_f64().unwrap() > 0.0);
    assert!(summary(&b)["cost"]["peak_rss_mib"].as_f64().unwrap() > 1.0, "{}", summary(&b));
}

/// The old figures' `saturate` (xtask/src/figures.rs before the experiment pipeline), ported
/// as the oracle: saturated when goodput < 0.93 x offered, steps of 1.25, one refinement,
/// latency at 0.9 of the best goodput, rates rounded to 100.
fn old_saturate(run: &mut dyn FnMut(f64) -> RunSummary, start_tps: f64) -> (f64, bool, f64, usize) {
    let saturated = |m: &RunSummary| m.goodput_tps < 0.93 * m.offered_tps;
    let round = |x: f64| (x / 100.0).round().max(1.0) * 100.0;
    let mut rate = round(start_tps);
    let mut runs: Vec<(f64, RunSummary)> = vec![(rate, run(rate))];
    let going_up = !saturated(&runs[0].1);
    for _ in 0..12 {
        rate = round(if going_up { rate * 1.25 } else { rate / 1.25 });
        let m = run(rate);
        let done = saturated(&m) == going_up;
        runs.push((rate, m));
        if done {
            break;
        }
    }
    let lo = runs.iter().filter(|x| !saturated(&x.1)).map(|x| x.0).fold(0.0, f64::max);
    let hi = runs.iter().filter(|x| saturated(&x.1)).map(|x| x.0).fold(f64::INFINITY, f64::min);
    let bracketed = hi.is_finite();
    if bracketed && lo > 0.0 && lo < hi {
        let mid = round((lo + hi) / 2.0);
        if mid > lo && mid < hi {
            runs.push((mid, run(mid)));
        }
    }
    let count = runs.len() + 1;
    let best = runs.into_iter().map(|x| x.1).max_by(|a, b| a.goodput_tps.total_cmp(&b.goodput_tps)).unwrap();
    (best.goodput_tps, bracketed, (0.9 * best.goodput_tps / 100.0).round().max(1.0) * 100.0, count)
}

fn old_parameters(start_tps: f64) -> Search {
    Search { goodput_share: 0.93, p99_bound_ms: None, start_tps, step: 1.25, refinements: 1, latency_share: 0.9 }
}

/// A real toy case: HotStuff n = 4 whose single core (1 ms per request) saturates below 2,000 tx/s.
fn toy_run(rate: f64) -> RunSummary {
    let sets = vec![format!("workload.rate_tps={rate}"), "cpu.cores=1".into(), "cpu.base_us=1000".into()];
    let s = parse::load_str(Path::new("toy.toml"), TOY, &sets, None).expect("the toy scenario");
    RunSummary::of(&s, &run::run(&s, &mut |_, _| {}))
}

#[test]
fn the_search_finds_what_the_old_saturate_found_on_a_toy_case() {
    for start in [500.0, 3_000.0] {
        let mut rates_new = Vec::new();
        let found = old_parameters(start).run(|r| {
            rates_new.push(r);
            toy_run(r)
        });
        let mut count_old = 0;
        let (capacity, bracketed, latency_rate, runs_old) = old_saturate(
            &mut |r| {
                count_old += 1;
                toy_run(r)
            },
            start,
        );
        assert_eq!(found.capacity_tps, capacity, "start {start}: rates {rates_new:?}");
        assert_eq!((found.bracketed, found.latency.0), (bracketed, latency_rate), "start {start}");
        assert_eq!(rates_new.len(), runs_old, "start {start}: the same runs");
        let seen: Vec<(f64, f64, f64)> = found.runs.iter().map(|(r, s)| (*r, s.offered_tps, s.goodput_tps)).collect();
        assert!(found.bracketed && capacity > 300.0 && capacity < 2_000.0, "the toy saturates: {capacity} {seen:?}");
    }
}

/// A synthetic case (goodput = min(rate, capacity), offered = rate): the same capacity, bracket
/// and latency rate as the old search over a range of capacities and starts.
#[test]
fn the_search_is_the_old_saturate_on_synthetic_runs() {
    let fake = |capacity: f64| {
        move |rate: f64| {
            let mut s = toy_run_template();
            s.offered_tps = rate;
            s.goodput_tps = rate.min(capacity) - (rate * 7.0) % 13.0;
            s
        }
    };
    for capacity in [150.0, 980.0, 3_333.0, 12_345.0] {
        for start in [100.0, 1_000.0, 20_000.0] {
            let found = old_parameters(start).run(fake(capacity));
            let (cap, bracketed, lat, runs) = old_saturate(&mut fake(capacity), start);
            assert_eq!(
                (found.capacity_tps, found.bracketed, found.latency.0),
                (cap, bracketed, lat),
                "{capacity} {start}"
            );
            assert_eq!(found.runs.len() + 1, runs, "{capacity} {start}");
        }
    }
}

fn toy_run_template() -> RunSummary {
    RunSummary { protocol: "hotstuff".into(), seed: 1, stop: "end".into(), ..RunSummary::default() }
}

#[test]
fn keeps_up_with_share_zero_is_the_sweep_bound() {
    use scenarios::search::keeps_up;
    assert!(keeps_up(10.0, 1000.0, 99.0, 0.0, Some(100.0)));
    assert!(!keeps_up(10.0, 1000.0, f64::INFINITY, 0.0, Some(100.0)));
    assert!(!keeps_up(10.0, 1000.0, f64::NAN, 0.0, Some(100.0)));
    assert!(keeps_up(930.0, 1000.0, f64::NAN, 0.93, None));
    assert!(!keeps_up(929.0, 1000.0, 1.0, 0.93, None));
}

#[test]
fn a_spec_with_a_search_reports_the_capacity_the_search_finds() {
    let dir = TempDir::new("exp-search");
    let spec = r#"
name = "toy"
scenario = "toy.toml"
[[variant]]
label = "slow"
sets = ["cpu.cores=1", "cpu.base_us=1000"]
[search]
goodput_share = 0.93
start_tps = 500
step = 1.25
latency_share = 0.9
[[table]]
name = "t"
columns = ["variant", "capacity_tps", "latency.e2e_p50_ms", "capacity.goodput_tps"]
[[expect]]
left = "slow.capacity_tps"
op = ">="
right = "slow.capacity.goodput_tps"
why = "the capacity is the best run's goodput"
"#;
    setup(&dir, spec, "{{table t}}\ncapacity {{value slow.capacity_tps}}\n");
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let found = old_parameters(500.0).run(toy_run);
    let page = String::from_utf8(read(&dir.join("out"), "toy.md")).unwrap();
    assert!(page.contains(&format!("capacity {:.0}\n", found.capacity_tps)), "{page}");
    let runs = String::from_utf8(read(&dir.join("out"), "toy-runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + found.runs.len() + 1, "every search run and the latency run: {runs}");
}

/// A variant's `search_start_tps` starts its search there, the others at `[search] start_tps`:
/// each variant's runs are those of the search from its own start.
#[test]
fn a_variant_search_start_is_where_its_search_starts() {
    let dir = TempDir::new("exp-search-start");
    let spec = r#"
name = "toy"
scenario = "toy.toml"
[[variant]]
label = "low"
sets = ["cpu.cores=1", "cpu.base_us=1000"]
[[variant]]
label = "high"
sets = ["cpu.cores=1", "cpu.base_us=1000"]
search_start_tps = 2000
[search]
goodput_share = 0.93
start_tps = 500
step = 1.25
latency_share = 0.9
[[table]]
name = "t"
columns = ["variant", "capacity_tps"]
"#;
    setup(&dir, spec, "{{table t}}\nlow {{value low.capacity_tps}} high {{value high.capacity_tps}}\n");
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let (low, high) = (old_parameters(500.0).run(toy_run), old_parameters(2000.0).run(toy_run));
    assert_ne!(low.runs.len(), high.runs.len(), "the two starts must take different searches to tell them apart");
    let runs = String::from_utf8(read(&dir.join("out"), "toy-runs.csv")).unwrap();
    let first_rate = |case: &str| {
        let row = runs.lines().find(|l| l.starts_with(&format!("{case},search"))).expect("a search run");
        row.split(',').nth(2).unwrap().to_string()
    };
    assert_eq!((first_rate("low").as_str(), first_rate("high").as_str()), ("500", "2000"), "{runs}");
    for (case, found) in [("low", &low), ("high", &high)] {
        let n = runs.lines().filter(|l| l.starts_with(&format!("{case},"))).count();
        assert_eq!(n, found.runs.len() + 1, "{case}: every search run and the latency run: {runs}");
    }
    let page = String::from_utf8(read(&dir.join("out"), "toy.md")).unwrap();
    let want = format!("low {:.0} high {:.0}\n", low.capacity_tps, high.capacity_tps);
    assert!(page.contains(&want), "want {want:?} in {page}");
}

/// A variant with its own `rate_tps` runs once, at that load (run `at`), beside a search: the
/// search's cases keep their capacity, the variant's case has no search and its one run's
/// offered load is the variant's rate, not the scenario's 200 tx/s.
#[test]
fn a_variant_rate_runs_its_cases_once_at_that_load() {
    let dir = TempDir::new("exp-variant-rate");
    let spec = r#"
name = "toy"
scenario = "toy.toml"
[[variant]]
label = "searched"
sets = ["cpu.cores=1", "cpu.base_us=1000"]
[[variant]]
label = "fixed"
sets = ["cpu.cores=1", "cpu.base_us=1000"]
rate_tps = 300
[search]
goodput_share = 0.93
start_tps = 500
step = 1.25
latency_share = 0.9
[[table]]
name = "t"
columns = ["variant", "capacity_tps", "at.offered_tps", "at.goodput_tps"]
"#;
    let page = "{{table t}}\nsearched {{value searched.capacity_tps 0}} at [{{value searched.at.offered_tps 0}}]\n\
                fixed [{{value fixed.capacity_tps 0}}] at {{value fixed.at.offered_tps 0}}\n";
    setup(&dir, spec, page);
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let found = old_parameters(500.0).run(toy_run);
    let page = String::from_utf8(read(&dir.join("out"), "toy.md")).unwrap();
    let want = format!("searched {:.0} at []\nfixed [] at ", found.capacity_tps);
    assert!(page.contains(&want), "want {want:?} in {page}");
    // Poisson arrivals: the offered load measured is near 300 tx/s, far from the scenario's 200.
    let offered: f64 = page.split(&want).nth(1).and_then(|r| r.lines().next()).unwrap().parse().unwrap();
    assert!((270.0..=330.0).contains(&offered), "the at run offers 300 tx/s: {page}");
    let bad = spec.replace("rate_tps = 300", "rate_tps = -1");
    setup(&dir, &bad, "{{table t}}\n");
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out2", "-q"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("toy-spec.toml:10: variant `fixed`: `rate_tps` must be a positive"),
        "{}",
        stderr(&out)
    );
}

/// A variant with `outstanding` runs once with closed-loop clients (run `at`), though the
/// scenario offers an open 200 tx/s: its two clients keep 2 x 3 transactions in flight, so
/// goodput x mean latency is 6 (Little's law), while the open variant offers the file's rate.
#[test]
fn a_variant_with_outstanding_runs_its_cases_once_closed_loop() {
    let dir = TempDir::new("exp-variant-closed");
    let spec = r#"
name = "toy"
scenario = "toy.toml"
[[variant]]
label = "open"
[[variant]]
label = "closed"
outstanding = 3
[[table]]
name = "t"
columns = ["variant", "run.offered_tps", "at.goodput_tps", "at.e2e_mean_ms"]
"#;
    let page = "{{table t}}\nopen {{value open.run.offered_tps 0}} [{{value open.at.goodput_tps 0}}]\n\
                closed {{value closed.at.goodput_tps 3}} {{value closed.at.e2e_mean_ms 3}}\n";
    setup(&dir, spec, page);
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = String::from_utf8(read(&dir.join("out"), "toy.md")).unwrap();
    let line = |start: &str| page.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("{page}"));
    let open: Vec<&str> = line("open ").split(' ').collect();
    let offered: f64 = open[1].parse().unwrap();
    assert!((170.0..=230.0).contains(&offered) && open[2] == "[]", "the open variant offers 200 tx/s: {page}");
    let closed: Vec<f64> = line("closed ").split(' ').skip(1).map(|x| x.parse().unwrap()).collect();
    let in_flight = closed[0] * closed[1] / 1000.0;
    assert!((5.0..=7.0).contains(&in_flight), "2 clients x 3 outstanding: {in_flight} in flight: {page}");
    let bad = spec.replace("outstanding = 3", "outstanding = 3\nrate_tps = 100");
    setup(&dir, &bad, "{{table t}}\n");
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out2", "-q"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("variant `closed`: both `rate_tps` and `outstanding` given"), "{}", stderr(&out));
}

/// Columns of words (the variant, an axis whose values are words) are left-aligned, numbers right.
#[test]
fn word_columns_align_left_and_numbers_right() {
    let dir = TempDir::new("exp-align");
    let spec = r#"
name = "toy"
scenario = "toy.toml"
[[axis]]
name = "chain"
key = "hotstuff.variant"
values = ["chained", "two_chain"]
[[axis]]
name = "batch"
key = "hotstuff.batch_size"
values = [50]
[[table]]
name = "t"
columns = ["chain", "batch", "goodput_tps"]
"#;
    setup(&dir, spec, "{{table t}}\n");
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = String::from_utf8(read(&dir.join("out"), "toy.md")).unwrap();
    assert!(page.contains("|---|---:|---:|\n| chained | 50 |"), "{page}");
}

/// Under `--quick`, a plot none of whose cases ran is not drawn, and its page says so.
#[test]
fn a_plot_with_no_case_in_quick_is_left_out() {
    let dir = TempDir::new("exp-quick-plot");
    let spec = r#"
name = "toy"
scenario = "toy.toml"
[[axis]]
name = "batch"
key = "hotstuff.batch_size"
values = [50, 400]
[quick]
values = { batch = [50] }
[[plot]]
name = "small"
kind = "points"
x = "batch"
y = "goodput_tps"
series = "batch"
title = "small"
only = { batch = [50] }
[[plot]]
name = "large"
kind = "points"
x = "batch"
y = "goodput_tps"
series = "batch"
title = "large"
only = { batch = [400] }
"#;
    setup(&dir, spec, "{{plot small}}\n{{plot large}}\n");
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q", "--quick"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = String::from_utf8(read(&dir.join("out"), "toy.md")).unwrap();
    assert!(page.contains("![small](toy-small.svg)"), "{page}");
    assert!(page.contains("*(Plot `large`: none of its cases ran in this run.)*"), "{page}");
    assert!(dir.join("out/toy-small.svg").exists() && !dir.join("out/toy-large.svg").exists());
    let svg = String::from_utf8(read(&dir.join("out"), "toy-small.svg")).unwrap();
    assert!(svg.contains("batch = 50"), "a numeric axis names its legend entries: {svg}");
}

/// Every shipped experiment spec (experiments/**/*.toml) reads and passes its checks, and its
/// page template's placeholders all name something: a spec that no longer loads fails here, not
/// in the next `cargo xtask figures`.
#[test]
fn every_shipped_spec_and_page_load() {
    use scenarios::experiment::{page, spec::Loaded};
    fn specs(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                specs(&path, out);
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments");
    let mut found = Vec::new();
    specs(&root, &mut found);
    found.sort();
    assert!(found.len() >= 6, "the shipped specs: {found:?}");
    for path in &found {
        let loaded = Loaded::read(path).unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
        page::read(&loaded).unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
    }
}
