//! Input files the `byzsim` binary must refuse quickly and clearly, or read quickly when they are
//! valid but big: FIFOs, devices, directories, oversized files, bad UTF-8, very long matrices and
//! very wide NASDAQ files. One row per input, in one table; each runs the built binary under a
//! 1 GiB address-space limit and a 10 s wall-clock limit, and checks the exit code and that the
//! message names the file and the problem.
#![allow(clippy::disallowed_types)] // the wall clock here only bounds how long a child process may take

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::TempDir;

/// A small valid scenario; `extra` adds or replaces sections.
fn scenario(extra: &str) -> String {
    let network = if extra.contains("[network]") { "" } else { "[network]\nuniform_delay_ms = 5\n" };
    let workload = if extra.contains("[workload]") { "" } else { "[workload]\nrate_tps = 100\n" };
    format!("duration_s = 2\n[replicas]\nn = 4\n{network}{workload}{extra}")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write a test file");
}

/// Makes a FIFO at `dir/name`; false (and a note) when `mkfifo` is not available.
fn mkfifo(dir: &Path, name: &str) -> bool {
    let made = Command::new("mkfifo").arg(dir.join(name)).status().is_ok_and(|s| s.success());
    if !made {
        eprintln!("note: mkfifo is not available; skipping the FIFO row");
    }
    made
}

/// A matrix file: a header of `n_regions` regions, then `n_rows` rows of zeros.
fn matrix(n_regions: usize, n_rows: usize) -> String {
    let names: Vec<String> = (0..n_regions).map(|i| format!("r{i}")).collect();
    let mut text = format!("from_region,{}\n", names.join(","));
    let zeros = vec!["0"; n_regions].join(",");
    for i in 0..n_rows {
        let _ = writeln!(text, "{},{zeros}", names.get(i).map_or("extra", String::as_str));
    }
    text
}

/// A NASDAQ file with `n_stocks` stock columns and `n_rows` seconds of one trade each.
fn nasdaq(n_stocks: usize, n_rows: usize) -> String {
    let header: Vec<String> = (0..n_stocks).map(|i| format!("S{i}_trades")).collect();
    let mut text = format!("t_s,{}\n", header.join(","));
    let ones = vec!["1"; n_stocks].join(",");
    for t in 0..n_rows {
        let _ = writeln!(text, "{t},{ones}");
    }
    text
}

const NASDAQ_WORKLOAD: &str = "[workload]\nsource = \"nasdaq\"\nfile = \"n.csv\"\naccounts = 100000\n";

/// One input: `setup` writes the files into the folder and returns the arguments (None to skip
/// the row), then byzsim must exit with `code` within 10 s, its stderr (or stdout for code 0)
/// holding every `needle`.
struct Case {
    name: &'static str,
    setup: fn(&Path) -> Option<Vec<String>>,
    code: i32,
    needles: &'static [&'static str],
}

fn args(words: &[&str]) -> Option<Vec<String>> {
    Some(words.iter().map(|w| w.to_string()).collect())
}

const CASES: &[Case] = &[
    Case {
        name: "a FIFO as the scenario",
        setup: |dir| mkfifo(dir, "s.toml").then(|| args(&["validate", "s.toml"]))?,
        code: 2,
        needles: &["s.toml: the scenario file is a FIFO (named pipe), not a regular file", "regular files only"],
    },
    Case {
        name: "/dev/zero as the scenario",
        setup: |_| args(&["validate", "/dev/zero"]),
        code: 2,
        needles: &["/dev/zero: the scenario file is a character device, not a regular file"],
    },
    Case {
        name: "/dev/zero as compare's scenario",
        setup: |_| args(&["compare", "/dev/zero", "--protocols", "hotstuff,leaderless", "--quiet"]),
        code: 2,
        needles: &["/dev/zero: the scenario file is a character device"],
    },
    Case {
        name: "/dev/zero as sweep's scenario",
        setup: |_| args(&["sweep", "/dev/zero", "--set", "replicas.n=4,7", "--quiet"]),
        code: 2,
        needles: &["/dev/zero: the scenario file is a character device"],
    },
    Case {
        name: "a directory as the scenario",
        setup: |dir| {
            std::fs::create_dir(dir.join("d.toml")).ok()?;
            args(&["run", "d.toml", "--quiet", "--out", "res"])
        },
        code: 2,
        needles: &["d.toml: the scenario file is a directory, not a regular file"],
    },
    Case {
        name: "a scenario over its 1 MiB cap",
        setup: |dir| {
            write(dir, "big.toml", &format!("{}{}", scenario(""), "# padding\n".repeat(110_000)));
            args(&["validate", "big.toml"])
        },
        code: 2,
        needles: &["big.toml: the scenario file is larger than 1 MiB (1048576 bytes)", "docs/scenarios.md"],
    },
    Case {
        name: "a scenario with invalid UTF-8 in line 2",
        setup: |dir| {
            std::fs::write(dir.join("bad.toml"), b"duration_s = 2\nname = \"caf\xe9\"\n").ok()?;
            args(&["validate", "bad.toml"])
        },
        code: 2,
        needles: &["bad.toml:2: the scenario file is not UTF-8 text: line 2, byte offset 26", "0xe9"],
    },
    Case {
        name: "a directory as a trace file",
        setup: |dir| {
            std::fs::create_dir(dir.join("traces")).ok()?;
            write(dir, "s.toml", &scenario("[workload]\nsource = \"transactions\"\nfile = \"traces\"\n"));
            args(&["validate", "s.toml"])
        },
        code: 2,
        needles: &["s.toml:8:8: workload.file:", "traces: the trace file is a directory, not a regular file"],
    },
    Case {
        name: "a FIFO as the matrix file",
        setup: |dir| {
            write(dir, "s.toml", &scenario("[network]\nmatrix_file = \"m.csv\"\n"));
            mkfifo(dir, "m.csv").then(|| args(&["validate", "s.toml"]))?
        },
        code: 2,
        needles: &["network.matrix_file:", "m.csv: the matrix file is a FIFO (named pipe)"],
    },
    Case {
        name: "a trace with invalid UTF-8 in line 3",
        setup: |dir| {
            let bytes = b"timestamp_s,sender,receiver,amount\n0,a,b,5\n1,\xff\xfe,b,5\n";
            std::fs::write(dir.join("t.csv"), bytes).ok()?;
            write(dir, "s.toml", &scenario("[workload]\nsource = \"transactions\"\nfile = \"t.csv\"\n"));
            args(&["validate", "s.toml"])
        },
        code: 2,
        needles: &["t.csv: the trace file is not UTF-8 text: line 3, byte offset 45", "0xff", "save the file as UTF-8"],
    },
    Case {
        name: "a missing matrix file named bare, in a scenario named bare",
        setup: |dir| {
            write(dir, "s.toml", &scenario("[network]\nmatrix_file = \"m.csv\"\n"));
            args(&["validate", "s.toml"])
        },
        code: 2,
        needles: &[
            "m.csv: cannot read the matrix file",
            "relative to the scenario's directory, here the current directory",
        ],
    },
    Case {
        name: "a matrix of more regions than the cap",
        setup: |dir| {
            write(dir, "m.csv", &matrix(1025, 0));
            write(dir, "s.toml", &scenario("[network]\nmatrix_file = \"m.csv\"\n"));
            args(&["validate", "s.toml"])
        },
        code: 2,
        needles: &["m.csv, line 1: the header names 1025 regions; at most 1024 are allowed"],
    },
    Case {
        name: "a full 3,000-region matrix, over the 16 MiB cap",
        setup: |dir| {
            write(dir, "m.csv", &matrix(3000, 3000));
            write(dir, "s.toml", &scenario("[network]\nmatrix_file = \"m.csv\"\n"));
            args(&["validate", "s.toml"])
        },
        code: 2,
        needles: &["m.csv: the matrix file is larger than 16 MiB"],
    },
    Case {
        name: "a 100k-row matrix",
        setup: |dir| {
            write(dir, "m.csv", &matrix(3, 100_000));
            write(dir, "s.toml", &scenario("[network]\nmatrix_file = \"m.csv\"\n"));
            args(&["validate", "s.toml"])
        },
        code: 2,
        needles: &["m.csv, line 5: row \"extra\" is one too many", "100000 rows for 3 regions"],
    },
    Case {
        name: "a 100k-column NASDAQ file",
        setup: |dir| {
            write(dir, "n.csv", &nasdaq(100_000, 3));
            write(dir, "s.toml", &scenario(NASDAQ_WORKLOAD));
            args(&["validate", "s.toml"])
        },
        code: 2,
        needles: &["n.csv, line 1 (header): the header has 100000 stock columns; at most 20000 are read"],
    },
    Case {
        name: "a valid NASDAQ file of 20,000 stocks (the cap) and 100 seconds",
        setup: |dir| {
            write(dir, "n.csv", &nasdaq(20_000, 100));
            write(dir, "s.toml", &scenario(NASDAQ_WORKLOAD));
            args(&["validate", "s.toml"])
        },
        code: 0,
        needles: &["s.toml: ok"],
    },
    Case {
        name: "a FIFO among merge's shards",
        setup: |dir| mkfifo(dir, "shard-1-of-2.json").then(|| args(&["merge", "shard-1-of-2.json", "--out", "m"]))?,
        code: 2,
        needles: &["shard-1-of-2.json: the shard file is a FIFO (named pipe)"],
    },
];

/// Runs byzsim in `dir` under a 1 GiB address-space limit (through `sh`, where there is one),
/// killing it after 10 s; its exit code (None when killed or signalled) and output.
fn run_bounded(dir: &Path, args: &[String]) -> (Option<i32>, String, Duration) {
    let exe = env!("CARGO_BIN_EXE_byzsim");
    let mut command = if Path::new("/bin/sh").exists() {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg("ulimit -v 1048576 && exec \"$0\" \"$@\"").arg(exe).args(args);
        c
    } else {
        let mut c = Command::new(exe);
        c.args(args);
        c
    };
    let started = Instant::now();
    let mut child = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("byzsim starts");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for byzsim") {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let output = child.wait_with_output().expect("byzsim's output");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (status.and_then(|s| s.code()), text, elapsed)
}

#[test]
fn bad_or_big_input_files_are_refused_or_read_quickly() {
    let mut failures = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let dir = TempDir::new(&format!("case{i}"));
        let Some(args) = (case.setup)(&dir) else { continue };
        let (code, text, elapsed) = run_bounded(&dir, &args);
        eprintln!("{}: exit {code:?} in {elapsed:?}", case.name);
        if code != Some(case.code) {
            failures.push(format!("{}: exit {code:?} after {elapsed:?}, expected {}:\n{text}", case.name, case.code));
            continue;
        }
        for needle in case.needles {
            if !text.contains(needle) {
                failures.push(format!("{}: lacks {needle:?} in:\n{text}", case.name));
            }
        }
        if text.contains("panicked") {
            failures.push(format!("{}: panicked:\n{text}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_documented_caps_are_the_caps() {
    use traces::InputKind;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios.md");
    let docs = std::fs::read_to_string(path).expect("docs/scenarios.md");
    let docs = &docs[docs.find("## Input files").expect("an Input files section")..];
    let rows = [
        ("| scenario (`.toml`) |", InputKind::Scenario),
        ("| `profile_file`, `calibrate --fit` points |", InputKind::CostProfile),
        ("| `profile_file`, `calibrate --fit` points |", InputKind::FitPoints),
        ("| `matrix_file` |", InputKind::Matrix),
        ("| transactions trace |", InputKind::Transactions),
        ("| NASDAQ trace, shard file |", InputKind::Nasdaq),
        ("| NASDAQ trace, shard file |", InputKind::Shard),
        ("| rate series, Diablo curves file |", InputKind::Rates),
        ("| rate series, Diablo curves file |", InputKind::Diablo),
    ];
    for (label, kind) in rows {
        let line = docs.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no row {label}"));
        assert_eq!(line, format!("{label} {} |", kind.cap_text()), "{kind:?}");
    }
}
