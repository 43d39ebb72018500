//! The batch commands as a user runs them (`compare`, `sweep`, `merge`) and the plots and
//! report.html of every results folder: deterministic outputs whatever the workers or shards,
//! common random numbers across protocols, and bad input that exits 2 naming the place.

mod common;

use std::path::Path;
use std::process::Output;

use scenarios::model::Behavior;
use scenarios::{parse, run};

use common::{TempDir, byzsim};

fn byzsim_owned(args: &[String], dir: &Path) -> Output {
    byzsim(&args.iter().map(String::as_str).collect::<Vec<_>>(), dir)
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "exit {:?}\n{stdout}\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Six replicas (the leaderless Wintermute variant needs n >= 5f+1) in three regions, a silent
/// Byzantine replica drawn by the seed, jitter, and clients that pick a replica at random.
const SMALL: &str = r#"
name = "small"
duration_s = 2
warmup_s = 0.5
drain_s = 1
[replicas]
n = 6
f = 1
regions = ["us-east1", "europe-west1", "us-west1"]
[clients]
count = 3
send_to = "random"
retry_ms = 1000
[network]
matrix = "gcp2019"
jitter = { kind = "uniform", max_ms = 2 }
[[byzantine]]
behavior = "silent"
count = 1
[workload]
rate_tps = 200
"#;

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

/// Every file of a folder, by name, with its bytes.
fn folder(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            let bytes = if e.path().is_dir() { Vec::new() } else { std::fs::read(e.path()).unwrap() };
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

fn assert_same_folder(a: &Path, b: &Path) {
    let (fa, fb) = (folder(a), folder(b));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fa), names(&fb), "{} and {} hold different files", a.display(), b.display());
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{name} differs between {} and {}", a.display(), b.display());
    }
}

/// The plots exist and are not empty, and report.html shows each of them by relative path,
/// with no network resource.
fn assert_report(dir: &Path, stems: &[&str], needles: &[&str]) {
    let html = String::from_utf8(read(dir, "report.html")).unwrap();
    for stem in stems {
        for ext in ["svg", "png"] {
            let name = format!("{stem}.{ext}");
            assert!(!read(dir, &name).is_empty(), "{name} is empty");
            assert!(html.contains(&format!("\"{name}\"")), "report.html does not reference {name}");
        }
    }
    for needle in needles {
        assert!(html.contains(needle), "report.html lacks {needle:?}");
    }
    assert!(!html.contains("http://") && !html.contains("https://"), "report.html loads nothing from a network");
    assert!(html.trim_end().ends_with("</html>"));
}

const RUN_PLOTS: &[&str] = &["latency-cdf", "latency-over-time", "goodput-over-time", "latency-by-region"];

#[test]
fn run_writes_plots_and_a_report() {
    let dir = TempDir::new("run");
    std::fs::write(dir.join("small.toml"), SMALL).unwrap();
    ok(&byzsim(&["run", "small.toml", "--quiet", "--out", "res"], &dir));
    let res = dir.join("res");
    assert_report(&res, RUN_PLOTS, &["goodput", "rate_tps = 200", "cargo run --release -- run small.toml --seed 1"]);
    assert!(String::from_utf8(read(&res, "latency-by-region.svg")).unwrap().contains("europe-west1"));
}

#[test]
fn compare_is_deterministic_and_shows_paired_differences() {
    let dir = TempDir::new("compare");
    std::fs::write(dir.join("small.toml"), SMALL).unwrap();
    let args = |out: &str, jobs: &str| {
        [
            "compare",
            "small.toml",
            "--protocols",
            "hotstuff,leaderless",
            "--seeds",
            "1..2",
            "--quiet",
            "--jobs",
            jobs,
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.to_string()])
        .collect::<Vec<_>>()
    };
    let first = args("c1", "2");
    let stdout = ok(&byzsim_owned(&first, &dir));
    for needle in
        ["hotstuff", "leaderless", "leaderless - hotstuff", "goodput (tx/s)", "end-to-end p99 (ms)", "t with 1 degrees"]
    {
        assert!(stdout.contains(needle), "stdout lacks {needle:?}:\n{stdout}");
    }
    let second = args("c2", "1");
    ok(&byzsim_owned(&second, &dir));
    assert_same_folder(&dir.join("c1"), &dir.join("c2"));

    let c1 = dir.join("c1");
    let csv = String::from_utf8(read(&c1, "compare.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    for col in [
        "protocol",
        "goodput_tps",
        "e2e_p50_ms",
        "e2e_p90_ms",
        "e2e_p99_ms",
        "msgs_per_tx",
        "bytes_per_tx",
        "cpu_util_mean",
        "complete_runs",
    ] {
        assert!(header.split(',').any(|c| c == col), "compare.csv lacks {col}: {header}");
    }
    assert_eq!(lines.map(|l| l.split(',').next().unwrap()).collect::<Vec<_>>(), ["hotstuff", "leaderless"]);
    let json: serde_json::Value = serde_json::from_slice(&read(&c1, "compare.json")).unwrap();
    let goodput = json["differences"].as_array().unwrap().iter().find(|d| d["metric"] == "goodput_tps").unwrap();
    assert_eq!(goodput["seeds"], 2);
    assert!(goodput["ci95"].as_array().is_some_and(|ci| ci.len() == 2), "{goodput}");
    // Common random numbers: both protocols were offered exactly the same transactions.
    let offered = json["differences"].as_array().unwrap().iter().find(|d| d["metric"] == "offered_tps").unwrap();
    assert_eq!(offered["mean"], 0.0);
    assert_eq!(json["runs"].as_array().unwrap().len(), 4);
    assert!(String::from_utf8(read(&c1, "compare.md")).unwrap().contains("| goodput (tx/s) |"));
    assert_report(&c1, RUN_PLOTS, &["hotstuff", "leaderless", "--protocols hotstuff,leaderless --seeds 1..2"]);
}

#[test]
fn compare_takes_the_three_protocols() {
    let dir = TempDir::new("compare3");
    std::fs::write(dir.join("small.toml"), SMALL).unwrap();
    let args = ["compare", "small.toml", "--protocols", "hotstuff,leaderless,algorand", "--seeds", "1..2", "--quiet"];
    let stdout = ok(&byzsim(&[&args[..], &["--out", "c"]].concat(), &dir));
    for needle in ["algorand", "leaderless - hotstuff", "algorand - hotstuff", "offered load (tx/s)"] {
        assert!(stdout.contains(needle), "stdout lacks {needle:?}:\n{stdout}");
    }
    let csv = String::from_utf8(read(&dir.join("c"), "compare.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(rows, ["hotstuff", "leaderless", "algorand"]);
    let json: serde_json::Value = serde_json::from_slice(&read(&dir.join("c"), "compare.json")).unwrap();
    let offered: Vec<&serde_json::Value> =
        json["differences"].as_array().unwrap().iter().filter(|d| d["metric"] == "offered_tps").collect();
    assert_eq!(offered.len(), 2, "one difference per protocol after the first");
    assert!(offered.iter().all(|d| d["mean"] == 0.0), "the same transactions for every protocol: {offered:?}");
}

/// The environment of a seed is the same under every protocol: the workload, the clients'
/// choice of replica, the Byzantine replicas drawn.
#[test]
fn protocols_share_the_environment_of_a_seed() {
    let path = Path::new("small.toml");
    let load = |p: &str| parse::load_str(path, SMALL, &[format!("protocol={p}")], Some(3)).unwrap();
    let (hs, ll) = (run::run(&load("hotstuff"), &mut |_, _| {}), run::run(&load("leaderless"), &mut |_, _| {}));
    let ag = run::run(&load("algorand"), &mut |_, _| {});
    // Each protocol has its own behaviours: the same replicas, with the same behaviour name.
    let roles = |r: &run::Report| -> Vec<&str> { r.lowered.byzantine.iter().map(|&b| Behavior::name_of(b)).collect() };
    assert_eq!(roles(&hs), roles(&ll));
    assert_eq!(roles(&hs), roles(&ag));
    assert_eq!(hs.lowered.byzantine.iter().filter(|b| b.is_some()).count(), 1);
    let offered = |r: &run::Report| -> Vec<_> { r.result.txs.iter().map(|t| (t.submitted, t.tx)).collect() };
    assert!(!offered(&hs).is_empty());
    assert_eq!(offered(&hs), offered(&ll));
    assert_eq!(offered(&hs), offered(&ag));
    assert_ne!(hs.result.digest, ll.result.digest);
    assert_ne!(hs.result.digest, ag.result.digest);
}

#[test]
fn sweep_is_the_same_whatever_the_jobs_and_the_shards() {
    let dir = TempDir::new("sweep");
    std::fs::write(dir.join("small.toml"), SMALL).unwrap();
    let base = [
        "sweep",
        "small.toml",
        "--set",
        "workload.rate_tps=100,300",
        "--set",
        "byzantine=[]",
        "--set",
        "protocol=hotstuff,leaderless",
        "--seeds",
        "1..2",
        "--saturation-p99-ms",
        "2000",
        "--quiet",
    ];
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| s.to_string()).collect() };
    let stdout = ok(&byzsim_owned(&with(&["--jobs", "1", "--out", "j1"]), &dir));
    assert!(stdout.contains("saturation"), "{stdout}");
    ok(&byzsim_owned(&with(&["--jobs", "2", "--out", "j2"]), &dir));
    assert_eq!(read(&dir.join("j1"), "sweep.csv"), read(&dir.join("j2"), "sweep.csv"));
    assert_same_folder(&dir.join("j1"), &dir.join("j2"));

    let sweep = String::from_utf8(read(&dir.join("j1"), "sweep.csv")).unwrap();
    assert_eq!(sweep.lines().count(), 1 + 2 * 2 * 2);
    assert!(
        sweep.starts_with("run,workload.rate_tps,protocol,seed,stop,stop_detail,offered_tps,goodput_tps,"),
        "{sweep}"
    );
    let second: Vec<&str> = sweep.lines().nth(2).unwrap().split(',').take(4).collect();
    assert_eq!(second, ["1", "100", "hotstuff", "2"], "grid order: first key slowest, seeds fastest");
    let saturation = String::from_utf8(read(&dir.join("j1"), "saturation.csv")).unwrap();
    assert_eq!(saturation.lines().count(), 3, "{saturation}");
    assert_report(&dir.join("j1"), &["throughput-latency", "goodput-vs-load"], &["Saturation", "--seeds 1..2"]);

    for i in ["0", "1", "2"] {
        let shard = format!("{i}/3");
        let out = ok(&byzsim_owned(&with(&["--jobs", "1", "--shard", &shard, "--out", "shards"]), &dir));
        assert!(out.contains(&format!("shard {shard}")), "{out}");
    }
    ok(&byzsim(&["merge", "shards", "--out", "merged"], &dir));
    assert_eq!(read(&dir.join("j1"), "sweep.csv"), read(&dir.join("merged"), "sweep.csv"));
    assert_same_folder(&dir.join("j1"), &dir.join("merged"));
    // The shard files themselves, in any order; each name carries the sweep id.
    let mut files: Vec<String> = folder(&dir.join("shards")).into_iter().map(|(n, _)| format!("shards/{n}")).collect();
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(
        files.iter().all(|f| f.starts_with("shards/shard-") && f.len() == "shards/shard-0-of-3-01234567.json".len())
    );
    files.reverse();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    ok(&byzsim(&[&["merge"][..], &files[..], &["--out", "merged2"]].concat(), &dir));
    assert_same_folder(&dir.join("j1"), &dir.join("merged2"));
}

/// (what, arguments, substrings stderr must contain).
const BAD: &[(&str, &[&str], &[&str])] = &[
    (
        "unknown protocol",
        &["compare", "small.toml", "--protocols", "hotstuff,paxos"],
        &["--protocols", "paxos", "hotstuff, leaderless"],
    ),
    ("one protocol", &["compare", "small.toml", "--protocols", "hotstuff"], &["at least two"]),
    (
        "a behaviour one protocol lacks",
        &["compare", "fork.toml", "--protocols", "hotstuff,leaderless"],
        &["fork.toml:", "`leaderless` has no Byzantine behaviour `fork`", "crash, silent"],
    ),
    (
        "protocol set by hand",
        &["compare", "small.toml", "--protocols", "hotstuff,leaderless", "--set", "protocol=hotstuff"],
        &["--set protocol"],
    ),
    (
        "an invalid override",
        &["compare", "small.toml", "--protocols", "hotstuff,leaderless", "--set", "replicas.n=0"],
        &["--set replicas.n"],
    ),
    (
        "an empty value in a list",
        &["sweep", "small.toml", "--set", "workload.rate_tps=100,,200"],
        &["--set workload.rate_tps=100,,200", "value 2 of 3 is empty"],
    ),
    (
        "an unclosed list",
        &["sweep", "small.toml", "--set", "replicas.regions=[\"us-east1\""],
        &["--set replicas.regions", "never closed"],
    ),
    (
        "an invalid swept value",
        &["sweep", "small.toml", "--set", "workload.rate_tps=100,-5"],
        &["with workload.rate_tps=-5", "--set workload.rate_tps"],
    ),
    (
        "a key swept twice",
        &["sweep", "small.toml", "--set", "replicas.n=6,11", "--set", "replicas.n=16"],
        &["`replicas.n` is set more than once"],
    ),
    (
        "saturation without a load sweep",
        &["sweep", "small.toml", "--set", "replicas.n=6,11", "--saturation-p99-ms", "100"],
        &["--saturation-p99-ms", "workload.rate_tps"],
    ),
    ("a bad shard", &["sweep", "small.toml", "--shard", "3/3"], &["3/3", "0 <= I < N"]),
    ("merge of nothing", &["merge", "absent"], &["absent: no such file or folder"]),
    ("merge of a scenario", &["merge", "small.toml"], &["small.toml: not a byzsim shard file"]),
    ("a missing shard", &["merge", "shards-a"], &["shard 1/2", "missing", "--shard 1/2 --out shards-a"]),
    ("shards of different sweeps", &["merge", "shards-a", "shards-b"], &["different sweeps", "--set overrides"]),
    ("a merge onto its own shards", &["merge", "shards-a", "--out", "shards-a"], &["input of the command"]),
    ("a shard of an older format", &["merge", "old"], &["format `byzsim-sweep-shard/1`", "run the shard again"]),
];

#[test]
fn bad_batch_input_exits_2_naming_the_place() {
    let dir = TempDir::new("bad");
    std::fs::write(dir.join("small.toml"), SMALL).unwrap();
    std::fs::write(dir.join("fork.toml"), SMALL.replace("\"silent\"", "\"fork\"")).unwrap();
    // Shards of two sweeps that differ by one override.
    let quick = ["--set", "duration_s=1", "--set", "warmup_s=0", "--set", "byzantine=[]", "--quiet"];
    let shard = |which: &str, out: &str, extra: &str| {
        let args: Vec<&str> =
            [&["sweep", "small.toml", "--shard", which, "--out", out, "--set", extra][..], &quick[..]].concat();
        ok(&byzsim(&args, &dir));
    };
    shard("0/2", "shards-a", "workload.rate_tps=50");
    shard("1/2", "shards-b", "workload.rate_tps=60");
    // A shard of the format before the typed summaries.
    let (name, _) = folder(&dir.join("shards-a")).into_iter().next().unwrap();
    let text = std::fs::read_to_string(dir.join("shards-a").join(&name)).unwrap();
    std::fs::create_dir(dir.join("old")).unwrap();
    std::fs::write(dir.join("old").join(&name), text.replace("byzsim-sweep-shard/2", "byzsim-sweep-shard/1")).unwrap();
    let before: Vec<_> = folder(&dir).into_iter().map(|(n, _)| n).collect();
    for &(what, args, needles) in BAD {
        let out = byzsim(args, &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: exit {:?}\n{stderr}", out.status.code());
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{what}: stderr lacks {needle:?}:\n{stderr}");
        }
    }
    let after: Vec<_> = folder(&dir).into_iter().map(|(n, _)| n).collect();
    assert_eq!(before, after, "bad input leaves no results behind");
    assert!(!dir.join("results").exists());
}
