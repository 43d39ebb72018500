//! The view timeline of `report.html`: `byzsim run` draws one line per replica with its crashed
//! interval, a leaderless run draws none, and the checks on the kept series catch the watcher's
//! planted bug.

mod common;

use std::path::{Path, PathBuf};

use common::{TempDir, byzsim};
use scenarios::viewtl::{BUCKETS, PlantedBug, ViewWatcher, Views};
use scenarios::{parse, run, watch};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

/// Runs `example` shortened by `sets` with a view watcher; returns what it kept.
fn kept(name: &str, sets: &[&str], planted: Option<PlantedBug>) -> Views {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let scenario = parse::load(&example(name), &sets, None).unwrap_or_else(|d| panic!("{d}"));
    let run_ns = ((scenario.duration_s + scenario.drain_s) * 1e9).round() as u64;
    let mut watcher = ViewWatcher::new(run_ns);
    watcher.planted = planted;
    let (typed, shared) = watch::share(watcher);
    let report = run::run_watched(&scenario, None, &[shared], &mut |_, _| {});
    typed.borrow().finish(report.result.end_time.0)
}

const CRASH: [&str; 2] = ["duration_s=3", "drain_s=0.5"];

#[test]
fn a_crash_run_keeps_a_line_per_replica_and_the_crashed_interval() {
    let views = kept("crash.toml", &CRASH, None);
    views.check().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(views.steps.len(), 4);
    assert!(views.steps.iter().all(|s| s.len() > 5), "every replica moves through views: {:?}", views.steps);
    assert_eq!(views.crashes[3], [(2_000_000_000, views.end_ns)], "replica 3 crashes at 2 s for good");
    assert!(views.crashes[..3].iter().all(Vec::is_empty) && views.partitions.is_empty());
    // After its crash replica 3 notes nothing; the others go on.
    assert!(views.steps[3].iter().all(|s| s.0 <= 2_000_000_000));
    assert!(views.steps[0].last().expect("steps").0 > 2_500_000_000);
    let figure = views.figure().expect("views were noted");
    assert_eq!(figure.chart.series.len(), 4);
    assert_eq!(figure.chart.bands.len(), 1);
    assert!(figure.caption.contains(&format!("1/{BUCKETS} of the run")), "{}", figure.caption);
}

#[test]
fn byzsim_run_writes_the_view_timeline_into_report_html() {
    let dir = TempDir::new("viewtl-run");
    let crash = example("crash.toml");
    let args = ["run", crash.to_str().expect("utf-8"), "--set", CRASH[0], "--set", CRASH[1], "--quiet", "--out", "res"];
    let out = byzsim(&args, &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(dir.join("res/report.html")).expect("report.html");
    let (plots, timeline) = (html.find("<h2>Plots</h2>").expect("plots"), html.find("<h2>View timeline</h2>"));
    assert!(timeline.is_some_and(|t| t > plots), "a View timeline section after Plots");
    assert!(html.contains("src=\"view-timeline.svg\""));
    let svg = std::fs::read_to_string(dir.join("res/view-timeline.svg")).expect("the figure's file");
    for name in ["replica 0", "replica 1", "replica 2", "replica 3", "crashed"] {
        assert!(svg.contains(&format!("\n{name}\n")), "no {name} in the legend");
    }
    let marker = std::fs::read_to_string(dir.join("res/.byzsim")).expect("marker");
    assert!(marker.contains("view-timeline.svg") && marker.contains("view-timeline.png"), "{marker}");

    let leaderless = example("leaderless.toml");
    let args = ["run", leaderless.to_str().expect("utf-8"), "--set", "duration_s=1", "--set", "drain_s=0.5"];
    let out = byzsim(&[&args[..], &["--set", "warmup_s=0", "--quiet", "--out", "ll"]].concat(), &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.join("ll/view-timeline.svg").exists(), "the leaderless protocol has no global view");
    let html = std::fs::read_to_string(dir.join("ll/report.html")).expect("report.html");
    assert!(html.contains("a view per command"), "the section says why there is none");
}

#[test]
fn the_checks_catch_the_planted_watcher_bug() {
    // A fast network: several views per bucket, which the watcher must fold into one point.
    let sets = ["duration_s=0.5", "drain_s=0", "warmup_s=0", "faults.crashes=[]", "network.uniform_delay_ms=0.1"];
    let good = kept("crash.toml", &sets, None);
    good.check().unwrap_or_else(|e| panic!("{e}"));
    assert!(good.steps.iter().all(|s| s.len() as u64 <= BUCKETS + 1));
    let bad = kept("crash.toml", &sets, Some(PlantedBug::EveryPoint));
    let problem = bad.check().expect_err("two points in a bucket");
    assert!(problem.contains("one bucket"), "{problem}");
    // Views going back at a HotStuff replica are caught too.
    let mut back = good.clone();
    back.steps[0].push((good.end_ns + back.bucket_ns, 0));
    assert!(back.check().expect_err("a view went back").contains("went back"));
}
