//! Closed-loop clients and bounded request queues through scenario files: Little's law, a
//! saturated closed loop against an open loop at the same load, drop and push-back bounds,
//! determinism, the writer's round trip and the refusals of contradictory fields.

mod common;

use std::path::Path;

use scenarios::model::Scenario;
use scenarios::results::{RunSummary, metric};
use scenarios::{output, parse, run, write};

/// n = 4 chained HotStuff, 10 ms one-way delays, two clients sending to every replica, 4 s of
/// load of which the first second is warm-up.
const BASE: &str = r#"
name = "closed"
protocol = "hotstuff"
duration_s = 4
warmup_s = 1
drain_s = 1
[replicas]
n = 4
[clients]
count = 2
send_to = "all"
loop = "closed"
outstanding = 8
[hotstuff]
batch_size = 400
"#;

/// A CPU that saturates below 1,000 tx/s: one core, 1 ms per input.
const SLOW_CPU: &[&str] = &["cpu.cores=1", "cpu.base_us=1000"];

fn load(sets: &[&str]) -> Result<Scenario, String> {
    load_from(BASE, sets)
}

fn load_from(src: &str, sets: &[&str]) -> Result<Scenario, String> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse::load_str(Path::new("closed.toml"), src, &sets, None).map_err(|d| d.to_string())
}

/// `BASE` as an open loop (without `rate_tps`, which the caller sets).
fn open_base() -> String {
    BASE.replace("loop = \"closed\"\noutstanding = 8\n", "")
}

fn summary(s: &Scenario) -> RunSummary {
    RunSummary::of(s, &run::run(s, &mut |_, _| {}))
}

fn run_with(sets: &[&str]) -> RunSummary {
    summary(&load(sets).expect("a valid scenario"))
}

fn v(s: &RunSummary, m: &metric::Metric) -> f64 {
    m.value(s)
}

/// With think time 0, C clients x K in flight are always outstanding: throughput x mean latency
/// = C x K (Little's law), within a few percent over the window's edges.
#[test]
fn littles_law_holds_for_a_closed_loop() {
    for k in ["2", "8", "32"] {
        let s = run_with(&["cpu.cores=0", &format!("clients.outstanding={k}")]);
        let in_flight = 2.0 * k.parse::<f64>().unwrap();
        let little = v(&s, metric::GOODPUT_TPS) * v(&s, metric::E2E_MEAN_MS) / 1e3;
        assert!((little / in_flight - 1.0).abs() < 0.05, "K = {k}: X x R = {little:.2}, C x K = {in_flight}");
        assert_eq!(s.unconfirmed_tx, 0, "K = {k}");
    }
}

/// Past saturation a larger K only lengthens the queue: p50 grows, throughput stays, and every
/// latency is measured. The open loop at the plateau's rate and above keeps falling behind.
#[test]
fn a_saturated_closed_loop_keeps_latency_finite_where_an_open_loop_does_not() {
    let long = ["duration_s=8", "warmup_s=3"];
    let runs: Vec<RunSummary> = ["64", "512", "1024"]
        .iter()
        .map(|k| run_with(&[SLOW_CPU, &long, &[&format!("clients.outstanding={k}") as &str]].concat()))
        .collect();
    let tput: Vec<f64> = runs.iter().map(|s| v(s, metric::GOODPUT_TPS)).collect();
    let p50: Vec<f64> = runs.iter().map(|s| v(s, metric::E2E_P50_MS)).collect();
    assert!(p50[0] < p50[1] && p50[1] < p50[2], "p50 {p50:?}");
    assert!((tput[2] / tput[1] - 1.0).abs() < 0.1, "throughput plateaus: {tput:?}");
    assert!(runs.iter().all(|s| s.e2e_p99_all_ms.get().is_some_and(f64::is_finite)), "latency measured");
    let rate = format!("workload.rate_tps={}", 1.5 * tput[2]);
    let open = summary(&load_from(&open_base(), &[SLOW_CPU, &long, &[rate.as_str()]].concat()).unwrap());
    assert_eq!(open.e2e_p99_all_ms.get(), Some(f64::INFINITY), "the open loop falls behind without bound");
    assert!(open.unconfirmed_tx > 1_000, "{} unconfirmed", open.unconfirmed_tx);
}

/// Both overload policies bound each replica's request queue, count what they refused, show it
/// in the table, and run the same twice.
#[test]
fn drop_and_push_back_bound_the_request_queue_deterministically() {
    let bound = ["clients.outstanding=256", "clients.queue_limit=20", "clients.retry_ms=500"];
    let unbounded = run_with(&[SLOW_CPU, &bound[..1]].concat());
    assert_eq!(unbounded.requests_waiting_max, None, "no bound, no count");
    for (policy, refused) in [("drop", metric::REQUESTS_DROPPED), ("push_back", metric::REQUESTS_PUSHED_BACK)] {
        let overload = format!("clients.overload={policy}");
        let sets = [SLOW_CPU, &bound, &[overload.as_str()]].concat();
        let s = load(&sets).unwrap();
        let report = run::run(&s, &mut |_, _| {});
        let sum = RunSummary::of(&s, &report);
        let waiting = sum.requests_waiting_max.expect("a bound");
        assert!(waiting > 0 && waiting <= 20, "{policy}: {waiting} waiting");
        assert!(v(&sum, refused) > 0.0, "{policy}");
        assert!(v(&sum, metric::GOODPUT_TPS) > 0.0, "{policy}");
        let table = output::summary_table(&report, "");
        assert!(table.contains(refused.label), "{table}");
        assert_eq!(sum.digest, run_with(&sets).digest, "{policy}: same seed, same digest");
    }
}

/// A default scenario shows no request rows and no request keys in summary.json.
#[test]
fn an_unbounded_run_reports_no_request_counts() {
    let s = load_from(&open_base(), &["workload.rate_tps=100", "duration_s=2"]).unwrap();
    let report = run::run(&s, &mut |_, _| {});
    let json = serde_json::to_string(&RunSummary::of(&s, &report)).unwrap();
    assert!(!json.contains("requests_"), "{json}");
    assert!(!output::summary_table(&report, "").contains("requests"));
}

/// The writer writes the new fields back, and they load into the same scenario.
#[test]
fn the_writer_round_trips_pacing_and_queue_fields() {
    let dir = Path::new(".");
    for sets in [
        &["clients.think_ms=2.5", "clients.queue_limit=7", "clients.retry_ms=300"][..],
        &["clients.queue_limit=7", "clients.overload=push_back", "clients.backoff_ms=3", "clients.backoff_max_ms=48"],
    ] {
        let s = load(sets).unwrap();
        let text = write::to_toml(&s, dir).unwrap();
        let back = parse::load_str(Path::new("closed.toml"), &text, &[], None).unwrap();
        assert_eq!(back.clients, s.clients, "{text}");
        assert!(!text.contains("rate_tps"), "{text}");
    }
}

/// Each contradictory field is refused naming it and the fix.
#[test]
fn contradictory_fields_are_refused_with_their_fix() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["workload.rate_tps=100"], "workload.rate_tps", "remove workload.rate_tps"),
        // (`--set clients.loop=open` alone drops the file's outstanding: parse.rs's test.)
        (
            &["clients.loop=open", "workload.rate_tps=100", "clients.outstanding=4"][..],
            "clients.outstanding",
            "set clients.loop = \"closed\"",
        ),
        (
            &["clients.loop=open", "workload.rate_tps=100", "clients.outstanding=1", "clients.think_ms=1"][..],
            "clients.think_ms",
            "remove clients.think_ms",
        ),
        (&["clients.overload=drop"], "clients.overload", "set clients.queue_limit"),
        (
            &["clients.queue_limit=5", "clients.retry_ms=100", "clients.backoff_ms=5"],
            "clients.backoff_ms",
            "overload = \"push_back\"",
        ),
        (&["clients.queue_limit=5"], "clients.queue_limit", "set clients.retry_ms"),
        (
            &[
                "clients.queue_limit=5",
                "clients.overload=push_back",
                "clients.backoff_ms=50",
                "clients.backoff_max_ms=10",
            ],
            "clients.backoff_max_ms",
            "raise clients.backoff_max_ms",
        ),
        (&["clients.outstanding=0"], "clients.outstanding", "from 1"),
    ];
    for (sets, field, fix) in cases {
        let err = load(sets).expect_err(&format!("{sets:?} is refused"));
        assert!(err.contains(field) && err.contains(fix), "{sets:?}: {err}");
    }
    let no_outstanding = BASE.replace("outstanding = 8\n", "");
    let err = parse::load_str(Path::new("c.toml"), &no_outstanding, &[], None).unwrap_err().to_string();
    assert!(err.contains("needs `outstanding`") && err.contains("add clients.outstanding"), "{err}");
}

/// Through the CLI: exit code 2, the field and the fix on stderr, no results folder.
#[test]
fn the_cli_refuses_a_rate_with_a_closed_loop_with_exit_2() {
    let dir = common::TempDir::new("clients-exit2");
    std::fs::write(dir.join("closed.toml"), format!("{BASE}[workload]\nrate_tps = 100\n")).unwrap();
    let out = common::byzsim(&["run", "closed.toml"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("closed.toml:") && stderr.contains("workload.rate_tps"), "{stderr}");
    assert!(stderr.contains("remove workload.rate_tps"), "{stderr}");
    assert!(!dir.join("results").exists());
}

/// Every drop and push-back is an `overload` record of the event log, naming the replica, the
/// client and the transaction: as many as the summary counts.
#[test]
fn each_refused_request_is_an_overload_event() {
    let dir = common::TempDir::new("clients-overload-events");
    std::fs::write(dir.join("closed.toml"), BASE).unwrap();
    for policy in ["drop", "push_back"] {
        let (events, out) = (format!("{policy}.jsonl"), format!("{policy}-out"));
        let overload = format!("clients.overload={policy}");
        let mut args = vec!["run", "closed.toml", "--quiet", "--events", &events, "--events-records", "overload"];
        for set in [SLOW_CPU, &["clients.outstanding=256", "clients.queue_limit=20", "clients.retry_ms=500"]].concat() {
            args.extend(["--set", set]);
        }
        args.extend(["--set", &overload, "--out", &out]);
        let run = common::byzsim(&args, &dir);
        assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
        let log = std::fs::read_to_string(dir.join(&events)).unwrap();
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(r#""ev":"overload""#)).collect();
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(&out).join("summary.json")).unwrap()).unwrap();
        let key = if policy == "drop" { "requests_dropped" } else { "requests_pushed_back" };
        assert_eq!(Some(lines.len() as u64), summary[key].as_u64(), "{policy}");
        assert!(!lines.is_empty() && lines.iter().all(|l| l.contains(&format!(r#""action":"{policy}""#))), "{policy}");
    }
}
