//! Inputs that once aborted or hung (issue 10, part 3): each must now run, be refused at
//! validation (exit 2) or stop at a limit (exit 4) within 10 s of wall time and under a 1 GiB
//! address-space cap, with a message naming the field or the limit.
#![allow(clippy::disallowed_types)] // a wall-clock timeout around the child process, not inside a run

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The address-space cap of every case, in KiB: an allocation blow-up fails the test (as an
/// abort) instead of taking the machine's memory.
const ADDRESS_SPACE_KIB: u64 = 1 << 20;
const WALL_LIMIT: Duration = Duration::from_secs(10);

mod common;

use common::TempDir;

struct Case {
    name: &'static str,
    /// Relative to the `scenarios` crate.
    file: &'static str,
    sets: &'static [&'static str],
    exit: i32,
    /// Substrings of stdout + stderr.
    says: &'static [&'static str],
}

const CASES: &[Case] = &[
    // 1. The largest account count runs: no table or ledger sized by it.
    Case {
        name: "hotstuff-4g-accounts",
        file: "quickstart.toml",
        sets: &["workload.accounts=4294967295", "duration_s=3", "drain_s=1"],
        exit: 0,
        says: &["goodput"],
    },
    Case {
        name: "leaderless-4g-accounts",
        file: "examples/leaderless.toml",
        sets: &["workload.accounts=4294967295", "workload.zipf_s=0.8", "duration_s=3", "drain_s=1"],
        exit: 0,
        says: &["goodput"],
    },
    Case {
        name: "algorand-4g-accounts",
        file: "examples/algorand.toml",
        sets: &["workload.accounts=4294967295", "workload.zipf_s=0.8", "duration_s=3", "drain_s=1", "warmup_s=1"],
        exit: 0,
        says: &["goodput"],
    },
    // 2. An offered load the replicas cannot process.
    Case {
        name: "records-refused",
        file: "examples/basic.toml",
        sets: &["cpu.cores=2", "workload.rate_tps=1e7"],
        exit: 2,
        says: &["workload.rate_tps", "duration_s", "limits.max_transactions = 20000000"],
    },
    Case {
        name: "cpu-queue",
        file: "examples/basic.toml",
        sets: &["cpu.cores=2", "workload.rate_tps=2e6", "limits.max_cpu_queue=50000"],
        exit: 4,
        says: &["CPU has 50001 inputs waiting", "[limits] max_cpu_queue = 50000"],
    },
    Case {
        name: "event-queue",
        file: "examples/basic.toml",
        sets: &["workload.rate_tps=2e6", "network.uniform_delay_ms=1000", "limits.max_queue=50000"],
        exit: 4,
        says: &["events pending in the engine's queue", "[limits] max_queue = 50000"],
    },
    // 3. Scales whose product takes a trace past the cap on rates.
    Case {
        name: "trace-scaled-rate",
        file: "examples/trace-preset-dota.toml",
        sets: &["workload.rate_scale=1", "workload.time_scale=1000"],
        exit: 2,
        says: &["workload.time_scale", "rate_scale 1 x time_scale 1000", "above the cap of 10000000 tx/s"],
    },
    // 4. Zero delay and no CPU model: time stands still.
    Case {
        name: "stalled",
        file: "examples/closed-form.toml",
        sets: &["network.uniform_delay_ms=0", "limits.max_stalled_events=200000"],
        exit: 4,
        says: &["virtual time stalled at t = 0.000000 s", "give the network a delay", "max_stalled_events = 200000"],
    },
];

/// Runs `byzsim run` on a case under the address-space cap; kills it past the wall limit.
fn run_case(case: &Case, out: &Path) -> (Option<i32>, String, Duration) {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args: Vec<String> = vec![
        "-c".into(),
        format!("ulimit -v {ADDRESS_SPACE_KIB}; exec \"$0\" \"$@\""),
        env!("CARGO_BIN_EXE_byzsim").into(),
        "run".into(),
        crate_dir.join(case.file).display().to_string(),
        "--quiet".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    for set in case.sets {
        args.extend(["--set".to_string(), set.to_string()]);
    }
    let mut child =
        Command::new("sh").args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("sh runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > WALL_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("output");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (status.and_then(|s| s.code()), text, started.elapsed())
}

#[test]
fn every_once_fatal_input_ends_in_bounded_time_and_memory() {
    let tmp = TempDir::new("cases");
    let mut failures = Vec::new();
    for case in CASES {
        let (code, text, took) = run_case(case, &tmp.join(case.name));
        let missing: Vec<&&str> = case.says.iter().filter(|s| !text.contains(**s)).collect();
        if code != Some(case.exit) || !missing.is_empty() {
            failures.push(format!(
                "{}: exit {code:?} (want {}) after {took:.1?}, missing {missing:?}\n{text}",
                case.name, case.exit
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
