//! `[workload]` with a trace source: each source reads its file (or preset) at validation and
//! replays it; a bad trace file exits 2 naming the scenario's line, the trace file, and the
//! line and column in it; fields that do not apply to a source are refused; synthetic
//! scenarios are untouched.

mod common;

use std::path::Path;

use scenarios::model::{ClientsBy, TraceSource};
use scenarios::parse::{self, Diagnostics};
use scenarios::{model::Scenario, run};

use common::{TempDir, byzsim};

/// The traces crate's documented example files.
fn data(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/tests/data").join(name);
    std::fs::read_to_string(path).expect("traces/tests/data")
}

const HEAD: &str = "duration_s = 5\n[replicas]\nn = 4\n[clients]\ncount = 3\n[workload]\n";

/// Writes `files` and the scenario (HEAD then `workload`) into `dir`, and loads it.
fn load_in(dir: &Path, workload: &str, files: &[(&str, &str)], sets: &[&str]) -> Result<Scenario, Diagnostics> {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let path = dir.join("s.toml");
    std::fs::write(&path, format!("{HEAD}{workload}")).unwrap();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse::load(&path, &sets, None)
}

fn problems(result: Result<Scenario, Diagnostics>) -> String {
    match result {
        Ok(s) => panic!("expected problems, got a valid scenario: {:?}", s.workload),
        Err(d) => d.to_string(),
    }
}

#[test]
fn every_source_loads_and_runs() {
    let dir = TempDir::new("sources");
    let files = [
        ("tx.csv", data("transactions.csv")),
        ("rates.csv", data("rates.csv")),
        ("nasdaq.csv", data("nasdaq.csv")),
        ("diablo.csv", data("diablo.csv")),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let cases: &[(&str, TraceSource, u64)] = &[
        ("source = \"transactions\"\nfile = \"tx.csv\"\n", TraceSource::Transactions, 5),
        (
            "source = \"rates\"\nfile = \"rates.csv\"\nrate_scale = 0.01\narrivals = \"constant\"\n",
            TraceSource::Rates,
            49,
        ),
        ("source = \"nasdaq\"\nfile = \"nasdaq.csv\"\nclients_by = \"sender\"\n", TraceSource::Nasdaq, 43),
        (
            "source = \"diablo\"\nfile = \"diablo.csv\"\nworkload_id = \"smart-uber\"\nrate_scale = 0.01\narrivals = \"constant\"\n",
            TraceSource::Diablo,
            40,
        ),
        (
            "source = \"preset\"\npreset = \"uber\"\nrate_scale = 0.01\narrivals = \"constant\"\ntime_scale = 2\n",
            TraceSource::Preset,
            80,
        ),
    ];
    for &(workload, source, submitted) in cases {
        let s = load_in(&dir, workload, &files, &[]).unwrap_or_else(|d| panic!("{workload}\n{d}"));
        let trace = s.workload.trace.as_ref().expect("a trace source");
        assert_eq!(trace.source, source);
        assert!(s.workload.rate_tps > 0.0, "the mean rate is known at validation");
        let report = run::run(&s, &mut |_, _| {});
        assert_eq!(report.result.stop, sim_core::Stop::End);
        assert_eq!(report.result.txs.len() as u64, submitted, "{workload}");
        assert!(report.summary.committed_tx > 0, "{workload}");
    }
    // The transactions trace keeps its own four accounts unless told otherwise.
    let s = load_in(&dir, "source = \"transactions\"\nfile = \"tx.csv\"\n", &files, &[]).unwrap();
    assert_eq!(s.workload.accounts, 4);
    assert_eq!(s.workload.trace.unwrap().clients_by, ClientsBy::RoundRobin);
}

#[test]
fn the_same_trace_scenario_gives_the_same_digest() {
    let dir = TempDir::new("digest");
    let workload = "source = \"preset\"\npreset = \"nasdaq_open\"\nrate_scale = 0.05\n";
    let s = load_in(&dir, workload, &[], &[]).unwrap();
    let a = run::run(&s, &mut |_, _| {});
    let b = run::run(&s, &mut |_, _| {});
    assert_eq!(a.result.digest, b.result.digest);
    let other = load_in(&dir, workload, &[], &["seed=2"]).unwrap();
    assert_ne!(run::run(&other, &mut |_, _| {}).result.digest, a.result.digest);
}

#[test]
fn trace_file_problems_name_the_scenario_line_and_the_trace_place() {
    let dir = TempDir::new("bad-file");
    let bad = "timestamp_s,sender,receiver,amount\n1.0,a,b,5\n2.0,a,b,ten\n";
    let text = problems(load_in(&dir, "source = \"transactions\"\nfile = \"tx.csv\"\n", &[("tx.csv", bad)], &[]));
    let tx = dir.join("tx.csv");
    let expected =
        format!("s.toml:8:8: workload.file: {}, line 3, column 9 (amount): `ten` is not an integer", tx.display());
    assert!(text.contains(&expected), "lacks {expected:?}:\n{text}");
    let missing = problems(load_in(&dir, "source = \"rates\"\nfile = \"nope.csv\"\n", &[], &[]));
    assert!(
        missing.contains("s.toml:8:8: workload.file:") && missing.contains("nope.csv: cannot read the trace file"),
        "{missing}"
    );
    let empty = problems(load_in(&dir, "source = \"rates\"\nfile = \"r.csv\"\n", &[("r.csv", "t_s,rate_tps\n")], &[]));
    assert!(empty.contains("the curve has 0 rows; it needs at least two"), "{empty}");
    let diablo = "source = \"diablo\"\nfile = \"d.csv\"\nworkload_id = \"smart-ubr\"\n";
    let text = problems(load_in(&dir, diablo, &[("d.csv", &data("diablo.csv"))], &[]));
    assert!(text.contains("s.toml:9:15: workload.workload_id:") && text.contains("no curve has workload_id"), "{text}");
    assert!(text.contains("help: the workload ids are: smart-uber, v1-twitter-castle-in-the-sky"), "{text}");
}

#[test]
fn empty_windows_and_misplaced_fields_are_refused() {
    let dir = TempDir::new("window");
    let files = [("rates.csv", data("rates.csv"))];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let past = problems(load_in(&dir, "source = \"rates\"\nfile = \"rates.csv\"\nstart_s = 75\n", &files, &[]));
    assert!(
        past.contains("s.toml:9:11: workload.start_s:") && past.contains("at or after the end of the trace (60 s)"),
        "{past}"
    );
    let sliver = "source = \"preset\"\npreset = \"uber\"\nstart_s = 120.5\nwindow_s = 0.0001\n";
    let text = problems(load_in(&dir, sliver, &[], &[]));
    assert!(text.contains("workload.window_s:") && text.contains("offers 0.085 transactions"), "{text}");
    let rate = problems(load_in(&dir, "source = \"preset\"\npreset = \"uber\"\nrate_tps = 100\n", &[], &[]));
    assert!(rate.contains("s.toml:9:1: workload.rate_tps: `rate_tps` does not apply to source = \"preset\""), "{rate}");
    let file = problems(load_in(&dir, "rate_tps = 100\nfile = \"x.csv\"\n", &[], &[]));
    assert!(file.contains("workload.file: `file` does not apply to source = \"synthetic\""), "{file}");
    assert!(file.contains("it applies to source = \"transactions\", \"rates\", \"nasdaq\", \"diablo\""), "{file}");
    let typo = problems(load_in(&dir, "source = \"preset\"\npreset = \"dota\"\n", &[], &[]));
    assert!(typo.contains("unknown value \"dota\"; did you mean `dota2`?"), "{typo}");
    let scale =
        problems(load_in(&dir, "source = \"transactions\"\nfile = \"rates.csv\"\nrate_scale = 2\n", &files, &[]));
    assert!(scale.contains("workload.rate_scale: must be > 0 and <= 1, found 2"), "{scale}");
    let source = problems(load_in(&dir, "source = \"csv\"\n", &[], &[]));
    assert!(source.contains("workload.source: unknown value \"csv\""), "{source}");
}

#[test]
fn a_bad_trace_file_exits_2_with_its_place() {
    let dir = TempDir::new("cli");
    std::fs::write(dir.join("trace.csv"), "t_s,rate_tps\n0,100\n10,fast\n20,0\n").unwrap();
    let scenario = format!("{HEAD}source = \"rates\"\nfile = \"trace.csv\"\n");
    std::fs::write(dir.join("bad.toml"), scenario).unwrap();
    for cmd in ["validate", "run"] {
        let mut args = vec![cmd, "bad.toml"];
        if cmd == "run" {
            args.extend(["--quiet", "--out", "never"]);
        }
        let out = byzsim(&args, &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let place = "bad.toml:8:8: workload.file: trace.csv, line 3, column 4 (rate_tps): `fast` is not a number";
        assert!(stderr.contains(place), "{cmd}: stderr lacks {place:?}:\n{stderr}");
        assert!(!dir.join("never").exists());
    }
    // From --set, the path is relative to the current directory.
    let out = byzsim(&["validate", "bad.toml", "--set", "workload.file=elsewhere.csv"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--set workload.file: elsewhere.csv: cannot read"));
}

#[test]
fn synthetic_scenarios_are_unchanged() {
    let dir = TempDir::new("synthetic");
    let s = load_in(&dir, "rate_tps = 100\n", &[], &[]).unwrap();
    assert!(s.workload.trace.is_none());
    let explicit = load_in(&dir, "source = \"synthetic\"\nrate_tps = 100\n", &[], &[]).unwrap();
    assert_eq!(s, explicit);
}
