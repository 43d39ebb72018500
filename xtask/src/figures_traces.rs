//! The `traces` figure set of `cargo xtask figures`, written to docs/figures/traces/: chained
//! HotStuff, leaderless BFT (BLSMR-W, n = 6, f = 1) and the Algorand-style baseline (mainnet
//! preset, 6 users) around the world on replayed traces: the NASDAQ market open (real trades on
//! ten stocks: real hot accounts) and two Diablo rate curves (Dota 2, steady; FIFA 1998, moving),
//! each at a few rate scales; per run the headline numbers and the goodput and latency over time,
//! side by side for the three protocols. At each trace's lowest rate Algorand also runs with 600
//! users, to show that its latency is set by its timeouts and steps, not by n.
//!
//! Every simulation runs in a child process, `byzsim run FILE --set ...` (release build), one at a
//! time; the set reads the results folder it writes (`summary.json`, `timeseries.csv`) under
//! target/figures-runs/traces/. The protocols run the same file on the same seed with the same
//! `--set`s, except `protocol` and `clients.send_to` (HotStuff: "all", BLSMR-W and Algorand:
//! "nearest"), which `byzsim compare` would force to one value; the workload, drawn from the
//! seed's `workload` stream, is the same transaction for transaction (the set checks that every
//! run of a file offered the same count). Runs are seeded, so every table is the same on every
//! rerun; wall times are in their own section.

use crate::figures::{plot, write};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use protocols::algorand::AlgorandConfig;
use scenarios::model::{Delay, Scenario};

/// The NASDAQ per-second file, from the repository root (where `cargo xtask figures` runs).
const NASDAQ_CSV: &str = "../shared/data/traces/diablo_nasdaq_top10_2021-01-11_per_second.csv";
const NASDAQ_FILE: &str = "scenarios/figures/traces-nasdaq.toml";
const NASDAQ_OPEN_FILE: &str = "scenarios/figures/traces-nasdaq-open.toml";
const DOTA_FILE: &str = "scenarios/figures/traces-dota2.toml";
const FIFA_FILE: &str = "scenarios/figures/traces-fifa1998.toml";

// ===================================================================================== cases

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    HotStuff,
    Blsmr,
    Algorand,
}

impl Proto {
    fn sets(self) -> &'static [&'static str] {
        match self {
            Proto::HotStuff => &["protocol=hotstuff", "clients.send_to=all"],
            Proto::Blsmr => &["protocol=leaderless", "clients.send_to=nearest"],
            Proto::Algorand => &["protocol=algorand", "clients.send_to=nearest", "algorand.preset=mainnet"],
        }
    }
}

/// Users of the "Algorand, 600 users" variant (at each trace's lowest rate), and its label.
const MANY_USERS: u32 = 600;
const MANY_LABEL: &str = "Algorand, 600 users";

/// One run of a case: a protocol, and what it changes besides (a control, a diagnostic).
#[derive(Clone, Debug)]
struct Variant {
    label: &'static str,
    /// Drawn in the case's plots (diagnostic runs are in the tables only).
    in_plots: bool,
    proto: Proto,
    /// Another scenario file than the trace's (the NASDAQ control).
    file: Option<&'static str>,
    sets: Vec<String>,
}

fn hotstuff() -> Variant {
    Variant { label: "HotStuff", in_plots: true, proto: Proto::HotStuff, file: None, sets: Vec::new() }
}

fn blsmr() -> Variant {
    Variant { label: "BLSMR-W", in_plots: true, proto: Proto::Blsmr, file: None, sets: Vec::new() }
}

fn algorand() -> Variant {
    Variant { label: "Algorand", in_plots: true, proto: Proto::Algorand, file: None, sets: Vec::new() }
}

/// The same users' stake spread over `MANY_USERS` users, who take the six regions in turn.
fn algorand_many() -> Variant {
    Variant {
        label: MANY_LABEL,
        in_plots: true,
        proto: Proto::Algorand,
        file: None,
        sets: vec![format!("replicas.n={MANY_USERS}")],
    }
}

/// One rate scale of a trace, run under every variant.
#[derive(Clone, Debug)]
struct Case {
    /// Share of the trace's rate offered ("1/10"), as text and as a number.
    scale: &'static str,
    fraction: f64,
    variants: Vec<Variant>,
    plot: bool,
    quick: bool,
}

fn case(scale: &'static str, fraction: f64, plot: bool, quick: bool) -> Case {
    Case { scale, fraction, variants: vec![hotstuff(), blsmr(), algorand()], plot, quick }
}

/// A trace's lowest rate: the three protocols and Algorand with `MANY_USERS` users.
fn lowest_case(scale: &'static str, fraction: f64, plot: bool, quick: bool) -> Case {
    let mut c = case(scale, fraction, plot, quick);
    c.variants.push(algorand_many());
    c
}

/// Diagnostic: `MANY_USERS` users with the CPU model off (how much of their longer rounds is CPU).
const MANY_CPU_OFF_LABEL: &str = "Algorand, 600 users, CPU off";

/// A trace and its cases.
#[derive(Clone, Debug)]
struct Trace {
    key: &'static str,
    title: &'static str,
    /// For plot titles.
    short: &'static str,
    file: &'static str,
    /// Trace seconds per simulated second; `workload.rate_scale` = fraction / time_scale.
    time_scale: f64,
    /// What is replayed and how, for the page.
    how: String,
    cases: Vec<Case>,
}

fn traces(real_nasdaq: bool) -> Vec<Trace> {
    let nasdaq_how = if real_nasdaq {
        format!(
            "`source = \"nasdaq\"` reading `{NASDAQ_CSV}`: one transfer per real trade, between the stock's \
             account (accounts 0-9, one per stock: real hot accounts, so real conflicts) and one of 1,000 traders. \
             The first 30 s of trading (49,317 trades, 46,227 of them in the first 3 s: 34,762 at 09:30:00, of \
             which 22,397 on TSLA and 12,361 on AAPL), in real time (`time_scale = 1`, `window_s = 30`), measured \
             from t = 0, 10 s of drain"
        )
    } else {
        format!(
            "**`{NASDAQ_CSV}` is missing, so this is the fallback**: the built-in `nasdaq_open` curve (the same \
             per-second counts) from `{NASDAQ_OPEN_FILE}`, whose transfers join two of 1,010 accounts drawn by Zipf \
             1.0: hot accounts, but synthetic ones, not the ten stocks. The first 30 s in real time, measured from \
             t = 0, 10 s of drain"
        )
    };
    let mut nasdaq = Trace {
        key: "nasdaq",
        title: "NASDAQ market open (2021-01-11, ten stocks)",
        short: "NASDAQ open",
        file: if real_nasdaq { NASDAQ_FILE } else { NASDAQ_OPEN_FILE },
        time_scale: 1.0,
        how: nasdaq_how,
        cases: vec![
            lowest_case("1/100", 0.01, true, true),
            case("1/50", 0.02, false, false),
            case("1/20", 0.05, false, true),
            case("1/10", 0.1, true, false),
        ],
    };
    // Diagnostics: the same burst without hot accounts (every protocol); the contended run with
    // longer timeouts; the contended run with the CPU model off.
    let uncontended = || vec!["workload.accounts=100000".to_string(), "workload.zipf_s=0".to_string()];
    nasdaq.cases[3].variants.extend([
        Variant {
            label: "BLSMR-W, recovery 5 s, view 3 s",
            in_plots: false,
            proto: Proto::Blsmr,
            file: None,
            sets: vec!["leaderless.recovery_timeout_ms=5000".into(), "leaderless.view_timeout_ms=3000".into()],
        },
        Variant {
            label: "HotStuff, no hot account",
            in_plots: false,
            proto: Proto::HotStuff,
            file: Some(NASDAQ_OPEN_FILE),
            sets: uncontended(),
        },
        Variant {
            label: "BLSMR-W, no hot account",
            in_plots: true,
            proto: Proto::Blsmr,
            file: Some(NASDAQ_OPEN_FILE),
            sets: uncontended(),
        },
        Variant {
            label: "Algorand, no hot account",
            in_plots: false,
            proto: Proto::Algorand,
            file: Some(NASDAQ_OPEN_FILE),
            sets: uncontended(),
        },
    ]);
    nasdaq.cases[0].variants.push(Variant {
        label: MANY_CPU_OFF_LABEL,
        in_plots: false,
        proto: Proto::Algorand,
        file: None,
        sets: vec![format!("replicas.n={MANY_USERS}"), "cpu.cores=0".into()],
    });
    nasdaq.cases[1].variants.push(Variant {
        label: "BLSMR-W, CPU off",
        in_plots: false,
        proto: Proto::Blsmr,
        file: None,
        sets: vec!["cpu.cores=0".into()],
    });
    let mut dota = Trace {
        key: "dota2",
        title: "Dota 2 (Diablo): steady",
        short: "Dota 2",
        file: DOTA_FILE,
        time_scale: 12.0,
        how: "`source = \"preset\"`, `preset = \"dota2\"`: Diablo's Dota 2 curve, 13,296 to 13,425 tx/s for 276 s. \
              The whole curve 12 times faster (`time_scale = 12`: 276 s in 23 s), transfers between 100,000 accounts \
              drawn uniformly (almost no conflicts), 1 s of warm-up, 5 s of drain"
            .into(),
        cases: vec![
            lowest_case("1/20", 0.05, false, false),
            case("1/10", 0.1, true, true),
            case("1/5", 0.2, true, false),
        ],
    };
    dota.cases[2].variants.extend([
        Variant {
            label: "HotStuff, batch 800",
            in_plots: true,
            proto: Proto::HotStuff,
            file: None,
            sets: vec!["hotstuff.batch_size=800".into()],
        },
        // Whether Algorand's unconfirmed transactions are only those the 5 s drain cuts off.
        Variant {
            label: "Algorand, drain 10 s",
            in_plots: false,
            proto: Proto::Algorand,
            file: None,
            sets: vec!["drain_s=10".into()],
        },
    ]);
    let fifa = Trace {
        key: "fifa1998",
        title: "FIFA 1998 (Diablo): moving",
        short: "FIFA 1998",
        file: FIFA_FILE,
        time_scale: 10.0,
        how:
            "`source = \"preset\"`, `preset = \"fifa1998\"`: Diablo's FIFA 1998 web-log curve, 177 s between 1,416 and \
              5,305 tx/s (a dip to 1,416 at 56-61 s, 4,097 at 104-112 s, 4,487 at 129-147 s, 5,305 in the last \
              second). The whole curve 10 times faster (`time_scale = 10`: 177 s in 17.7 s), transfers between \
              100,000 accounts drawn uniformly, 1 s of warm-up, 5 s of drain. (Diablo's `youtube` and `uber` curves, \
              38,020 to 39,437 and 810 to 900 tx/s, are nearly flat: this is the Diablo application curve that moves.)"
                .into(),
        cases: vec![
            lowest_case("1/8", 0.125, false, false),
            case("1/3", 1.0 / 3.0, true, true),
            case("2/5", 0.4, true, false),
        ],
    };
    vec![nasdaq, dota, fifa]
}

// ===================================================================================== runs

/// One window of a run's time series (timeseries.csv).
#[derive(Clone, Debug)]
struct Win {
    start_s: f64,
    offered: f64,
    /// Transactions first committed in the window (per second): one Algorand block lands in one window.
    committed: f64,
    goodput: f64,
    count: u64,
    p50: f64,
    p99: f64,
}

/// One run: what it was and what byzsim wrote.
#[derive(Clone, Debug)]
struct Run {
    trace: &'static str,
    scale: &'static str,
    label: &'static str,
    proto: Proto,
    cores: u32,
    vals: BTreeMap<String, String>,
    windows: Vec<Win>,
    wall_s: f64,
}

impl Run {
    fn num(&self, k: &str) -> f64 {
        self.vals.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    }

    fn text(&self, k: &str) -> &str {
        self.vals.get(k).map_or("?", String::as_str)
    }

    fn counter(&self, k: &str) -> Option<f64> {
        self.vals.get(&format!("counters.{k}")).and_then(|v| v.parse().ok())
    }

    fn committed(&self) -> f64 {
        self.num("committed_tx")
    }

    /// Messages sent by replicas over the whole run per transaction committed (as `byzsim compare`).
    fn msgs_per_tx(&self) -> f64 {
        self.num("messages_per_replica") * self.num("n_replicas") / self.committed()
    }

    /// Replica CPU time (all replicas, all cores) per committed transaction, in microseconds.
    fn cpu_us_per_tx(&self) -> f64 {
        self.num("cpu_util_mean") * self.num("n_replicas") * f64::from(self.cores) * self.num("virtual_time_s") * 1e6
            / self.committed()
    }

    fn fast_pct(&self) -> Option<f64> {
        let (fast, slow) = (self.counter("fast_path")?, self.counter("slow_path")?);
        (fast + slow > 0.0).then(|| 100.0 * fast / (fast + slow))
    }

    fn e2e(&self, p: &str) -> f64 {
        if self.num("latency_ms.e2e.count") > 0.0 { self.num(&format!("latency_ms.e2e.{p}")) } else { f64::NAN }
    }

    /// Start of the last window that confirmed something (for "still draining").
    fn last_confirmed_s(&self) -> Option<f64> {
        self.windows.iter().rev().find(|w| w.count > 0).map(|w| w.start_s)
    }

    /// Transactions submitted over the whole run, warm-up included (the windows' offered load).
    fn submitted_all(&self) -> f64 {
        self.windows.iter().map(|w| w.offered).sum()
    }

    /// The first window that confirmed something.
    fn first_confirmed(&self) -> Option<&Win> {
        self.windows.iter().find(|w| w.count > 0)
    }

    /// Algorand: rounds decided (the most any correct user decided).
    fn rounds(&self) -> Option<f64> {
        if self.proto == Proto::Algorand { self.counter("rounds").filter(|&k| k > 0.0) } else { None }
    }

    /// Algorand: mean round time, run length / rounds decided (an upper bound: the run's last
    /// round is unfinished when it ends).
    fn round_s(&self) -> Option<f64> {
        Some(self.num("virtual_time_s") / self.rounds()?)
    }

    /// Algorand: the most transactions committed in one window, i.e. the fullest block.
    fn max_block(&self) -> f64 {
        self.windows.iter().map(|w| w.committed).fold(0.0, f64::max)
    }
}

/// Reads byzsim's pretty-printed summary.json into dotted keys (`latency_ms.e2e.p50`); arrays
/// are skipped. Enough for the file byzsim writes (one key per line), not a JSON parser.
fn flat_json(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut path: Vec<String> = Vec::new();
    let mut in_array = 0usize;
    for line in text.lines().map(str::trim) {
        if line.starts_with('}') || line.starts_with(']') {
            if line.starts_with(']') {
                in_array = in_array.saturating_sub(1);
            } else if in_array == 0 {
                path.pop();
            }
            continue;
        }
        let Some((key, value)) = line.split_once("\": ") else { continue };
        let key = key.trim_start_matches('"').to_string();
        let value = value.trim_end_matches(',');
        if in_array > 0 {
            continue;
        }
        match value {
            "{" => path.push(key),
            "[" => in_array += 1,
            v => {
                let full = path.iter().chain([&key]).cloned().collect::<Vec<_>>().join(".");
                out.insert(full, v.trim_matches('"').replace("\\\"", "\""));
            }
        }
    }
    out
}

fn read_timeseries(path: &Path) -> Result<Vec<Win>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or(format!("{}: empty", path.display()))?.split(',').collect();
    let col =
        |name: &str| header.iter().position(|h| *h == name).ok_or(format!("{}: no column {name}", path.display()));
    let (c_start, c_off, c_com, c_good, c_count, c_p50, c_p99) = (
        col("window_start_s")?,
        col("offered_tps")?,
        col("committed_tps")?,
        col("goodput_tps")?,
        col("e2e_count")?,
        col("e2e_p50_ms")?,
        col("e2e_p99_ms")?,
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            // An empty cell is a percentile of a window with no confirmed transaction.
            let num = |i: usize| {
                f.get(i)
                    .and_then(|v| if v.is_empty() { Some(f64::NAN) } else { v.parse::<f64>().ok() })
                    .ok_or(format!("{}: bad row {l:?}", path.display()))
            };
            Ok(Win {
                start_s: num(c_start)?,
                offered: num(c_off)?,
                committed: num(c_com)?,
                goodput: num(c_good)?,
                count: num(c_count)? as u64,
                p50: num(c_p50)?,
                p99: num(c_p99)?,
            })
        })
        .collect()
}

struct Runner {
    byzsim: PathBuf,
    runs_dir: PathBuf,
    log: Vec<Run>,
}

impl Runner {
    fn run(&mut self, t: &Trace, c: &Case, v: &Variant) -> Result<Run, String> {
        let file = v.file.unwrap_or(t.file);
        let sets = run_sets(t, c, v);
        let slug: String = format!("{}-{}-{}", t.key, c.scale, v.label)
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch.to_ascii_lowercase() } else { '-' })
            .collect();
        let dir = self.runs_dir.join(slug);
        let mut cmd = Command::new(&self.byzsim);
        cmd.args(["run", file, "--seed", "1", "--quiet", "--out"]).arg(&dir);
        for s in &sets {
            cmd.arg("--set").arg(s);
        }
        let t0 = Instant::now();
        let out = cmd.output().map_err(|e| format!("{}: {e}", self.byzsim.display()))?;
        let wall_s = t0.elapsed().as_secs_f64();
        // 3 (an invariant broke) and 4 (a limit) still write the folder; the table shows the stop.
        if !matches!(out.status.code(), Some(0 | 3 | 4)) {
            return Err(format!(
                "byzsim run {file} {} failed ({}): {}",
                sets.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let summary = dir.join("summary.json");
        let vals = flat_json(&std::fs::read_to_string(&summary).map_err(|e| format!("{}: {e}", summary.display()))?);
        let windows = read_timeseries(&dir.join("timeseries.csv"))?;
        let scen = load(file, &sets)?;
        let run = Run {
            trace: t.key,
            scale: c.scale,
            label: v.label,
            proto: v.proto,
            cores: scen.cpu.cores,
            vals,
            windows,
            wall_s,
        };
        eprintln!(
            "  {:<46} offered {:>7.1}  goodput {:>7.1}  e2e p50 {:>8.1} ms  p99 {:>8.1} ms  {:>5.1} s wall{}",
            format!("{} {} {}", t.key, c.scale, v.label),
            run.num("offered_tps"),
            run.num("goodput_tps"),
            run.e2e("p50"),
            run.e2e("p99"),
            wall_s,
            if run.text("stop") == "end" { String::new() } else { format!("  STOP {}", run.text("stop")) }
        );
        self.log.push(run.clone());
        Ok(run)
    }
}

/// The `--set`s of a run: the protocol's two, the case's rate scale, then the variant's own.
fn run_sets(t: &Trace, c: &Case, v: &Variant) -> Vec<String> {
    let mut sets: Vec<String> = v.proto.sets().iter().map(|s| s.to_string()).collect();
    sets.push(format!("workload.rate_scale={}", c.fraction / t.time_scale));
    sets.extend(v.sets.iter().cloned());
    sets
}

fn load(file: &str, sets: &[String]) -> Result<Scenario, String> {
    scenarios::parse::load(Path::new(file), sets, None).map_err(|d| d.to_string())
}

fn reproduce(t: &Trace, c: &Case, v: &Variant) -> String {
    let sets: Vec<String> = run_sets(t, c, v).iter().map(|s| format!("--set {s}")).collect();
    format!("cargo run --release -- run {} --seed 1 {}", v.file.unwrap_or(t.file), sets.join(" "))
}

// ===================================================================================== output helpers

fn f0(x: f64) -> String {
    if x.is_finite() { format!("{x:.0}") } else { "-".into() }
}

fn f1(x: f64) -> String {
    if x.is_finite() { format!("{x:.1}") } else { "-".into() }
}

fn lat3(r: &Run) -> String {
    if r.num("latency_ms.e2e.count") > 0.0 {
        format!("{} / {} / {}", f0(r.e2e("p50")), f0(r.e2e("p90")), f0(r.e2e("p99")))
    } else {
        "none confirmed".into()
    }
}

fn find<'a>(runs: &'a [Run], trace: &str, scale: &str, label: &str) -> Option<&'a Run> {
    runs.iter().find(|r| r.trace == trace && r.scale == scale && r.label == label)
}

/// The headline table of a trace's runs.
fn main_table(runs: &[&Run]) -> String {
    let mut t = String::from(
        "| rate | protocol | offered tx/s | goodput tx/s | e2e p50 / p90 / p99 ms | unconfirmed | CPU busy | CPU µs per committed tx | messages per committed tx |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in runs {
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} of {} | {:.1}% | {} | {} |",
            r.scale,
            r.label,
            f1(r.num("offered_tps")),
            f1(r.num("goodput_tps")),
            lat3(r),
            r.text("unconfirmed_tx"),
            r.text("submitted_tx"),
            100.0 * r.num("cpu_util_mean"),
            f0(r.cpu_us_per_tx()),
            f1(r.msgs_per_tx()),
        );
    }
    t
}

/// What explains the headline numbers: commits, consensus latency, the leaderless counters, the
/// Algorand ones (max over correct users) and its mean round time.
fn diag_table(runs: &[&Run]) -> String {
    let mut t = String::from(
        "| rate | protocol | committed (whole run) | consensus p50 ms | last confirmation (window start, s) | fast path | deps per command mean / max | largest component | recovered commands | view changes | rounds / empty / final | step timeouts | s per round | stop |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for r in runs {
        let leaderless = r.proto == Proto::Blsmr;
        let algorand = r.proto == Proto::Algorand;
        let opt = |x: Option<f64>| x.map_or("-".to_string(), f0);
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.scale,
            r.label,
            r.text("committed_tx"),
            if r.num("latency_ms.consensus.count") > 0.0 { f0(r.num("latency_ms.consensus.p50")) } else { "-".into() },
            r.last_confirmed_s().map_or("-".into(), f0),
            if leaderless { r.fast_pct().map_or("-".into(), |x| format!("{x:.1}%")) } else { "-".into() },
            if leaderless {
                format!(
                    "{} / {}",
                    r.counter("deps_mean_milli").map_or("-".into(), |x| format!("{:.1}", x / 1000.0)),
                    opt(r.counter("deps_max"))
                )
            } else {
                "-".into()
            },
            if leaderless { opt(r.counter("component_max")) } else { "-".into() },
            if leaderless { opt(r.counter("recovered_commands")) } else { "-".into() },
            if algorand { "-".into() } else { opt(r.counter("view_changes")) },
            if algorand {
                format!(
                    "{} / {} / {}",
                    opt(r.counter("rounds")),
                    opt(r.counter("empty_rounds")),
                    opt(r.counter("final_rounds"))
                )
            } else {
                "-".into()
            },
            if algorand { opt(r.counter("step_timeouts")) } else { "-".into() },
            r.round_s().map_or("-".into(), |x| format!("{x:.2}")),
            r.text("stop"),
        );
    }
    t
}

/// Goodput and latency over time of one case: one chart of goodput and one each of the p50 and the
/// p99 latency, every plotted variant as one series on the same axes (in the same colour in all three).
fn case_plots(dir: &Path, t: &Trace, c: &Case, runs: &[&Run]) -> Result<String, String> {
    let stem = format!("{}-{}", t.key, c.scale.replace('/', "-"));
    let time_note =
        if t.time_scale == 1.0 { String::new() } else { format!(" (trace time = {} x this)", t.time_scale) };
    let x_label = format!("simulated time (s){time_note}");
    let mut g = plots::Chart::new(
        format!("{} at {} of its rate: goodput per 1 s window", t.short, c.scale),
        x_label.clone(),
        "tx/s",
        plots::Kind::Line,
    );
    if t.key == "nasdaq" {
        // The opening second is 300 times the quiet ones: a log axis shows both (empty windows vanish).
        g.y_label = "tx/s (log scale)".into();
        g = g.y_log();
    }
    let offered: Vec<(f64, f64)> =
        runs.first().map_or(Vec::new(), |r| r.windows.iter().map(|w| (w.start_s, w.offered)).collect());
    // Diagnostic runs are in the tables only.
    let runs: Vec<&Run> =
        runs.iter().copied().filter(|r| c.variants.iter().any(|v| v.label == r.label && v.in_plots)).collect();
    for r in &runs {
        g = g.series(r.label, r.windows.iter().map(|w| (w.start_s, w.goodput)).collect::<Vec<_>>());
    }
    // Offered last, so that each protocol has the same colour in the goodput and latency charts.
    g = g.series("offered", offered);
    let mut md = plot(dir, &format!("{stem}-goodput"), &g)?;
    if let Some(a) = runs.iter().find(|r| r.proto == Proto::Algorand) {
        let _ = writeln!(
            md,
            "\n*Algorand certifies one block per round ({} s here, run length / rounds), so its goodput is a block's \
             worth of transactions in the window where a block is confirmed and zero in the windows between{}.*",
            a.round_s().map_or("-".into(), |x| format!("{x:.2}")),
            if t.key == "nasdaq" { " (zero is off the log axis: the line joins the blocks)" } else { "" }
        );
    }
    for (name, file, pick) in [
        ("p50", format!("{stem}-latency"), (|w: &Win| w.p50) as fn(&Win) -> f64),
        ("p99", format!("{stem}-latency-p99"), |w: &Win| w.p99),
    ] {
        md.push('\n');
        md.push_str(&plot(dir, &file, &latency_chart(t, c, &runs, name, &x_label, pick))?);
    }
    for r in runs.iter().filter(|r| r.windows.iter().all(|w| w.count == 0)) {
        let _ = writeln!(md, "\n*{} confirmed no transaction in this run: it has no latency line.*", r.label);
    }
    Ok(md)
}

/// One latency percentile per window, one series per run; a window that confirmed nothing has no
/// point (the line joins the windows around it).
fn latency_chart(t: &Trace, c: &Case, runs: &[&Run], name: &str, x_label: &str, pick: fn(&Win) -> f64) -> plots::Chart {
    // A log axis when the latencies span more than a factor of 20, else a linear one (easier to read).
    let lats: Vec<f64> = runs.iter().flat_map(|r| r.windows.iter().filter(|w| w.count > 0).map(pick)).collect();
    let (lo, hi) = lats.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let log = hi > 20.0 * lo;
    let mut l = plots::Chart::new(
        format!("{} at {}: end-to-end {name} latency of the tx confirmed per 1 s window", t.short, c.scale),
        x_label,
        if log { "ms (log scale)" } else { "ms" },
        plots::Kind::Line,
    );
    if log {
        l = l.y_log();
    }
    for r in runs {
        let pts: Vec<(f64, f64)> =
            r.windows.iter().map(|w| (w.start_s, if w.count > 0 { pick(w) } else { f64::NAN })).collect();
        l = l.series(r.label, pts);
    }
    l
}

/// A CSV field: quoted when it holds a comma or a quote (labels such as "HotStuff, batch 800").
fn csv_field(s: &str) -> String {
    if s.contains([',', '"']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn runs_csv(runs: &[Run]) -> String {
    let mut t = String::from(
        "trace,rate,protocol,offered_tps,goodput_tps,submitted_tx,committed_tx,unconfirmed_tx,e2e_p50_ms,e2e_p90_ms,\
         e2e_p99_ms,consensus_p50_ms,cpu_util_mean,cpu_us_per_tx,msgs_per_tx,fast_path_pct,deps_mean,deps_max,\
         component_max,recovered_commands,view_changes,users,rounds,empty_rounds,final_rounds,step_timeouts,round_s,\
         events,stop,digest\n",
    );
    for r in runs {
        let opt = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
        let _ = writeln!(
            t,
            "{},{},{},{:.1},{:.1},{},{},{},{:.3},{:.3},{:.3},{:.3},{:.4},{:.1},{:.2},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.trace,
            r.scale,
            csv_field(r.label),
            r.num("offered_tps"),
            r.num("goodput_tps"),
            r.text("submitted_tx"),
            r.text("committed_tx"),
            r.text("unconfirmed_tx"),
            r.e2e("p50"),
            r.e2e("p90"),
            r.e2e("p99"),
            r.num("latency_ms.consensus.p50"),
            r.num("cpu_util_mean"),
            r.cpu_us_per_tx(),
            r.msgs_per_tx(),
            r.fast_pct().map_or(String::new(), |x| format!("{x:.1}")),
            r.counter("deps_mean_milli").map_or(String::new(), |x| format!("{:.3}", x / 1000.0)),
            opt(r.counter("deps_max")),
            opt(r.counter("component_max")),
            opt(r.counter("recovered_commands")),
            opt(r.counter("view_changes")),
            r.text("n_replicas"),
            opt(r.rounds()),
            if r.proto == Proto::Algorand { opt(r.counter("empty_rounds")) } else { String::new() },
            if r.proto == Proto::Algorand { opt(r.counter("final_rounds")) } else { String::new() },
            if r.proto == Proto::Algorand { opt(r.counter("step_timeouts")) } else { String::new() },
            r.round_s().map_or(String::new(), |x| format!("{x:.3}")),
            r.text("events"),
            r.text("stop"),
            r.text("digest"),
        );
    }
    t
}

fn timeseries_csv(runs: &[Run]) -> String {
    let mut t = String::from(
        "trace,rate,protocol,window_start_s,offered_tps,committed_tps,goodput_tps,e2e_count,e2e_p50_ms,e2e_p99_ms\n",
    );
    for r in runs {
        for w in &r.windows {
            let _ = writeln!(
                t,
                "{},{},{},{:.3},{:.1},{:.1},{:.1},{},{:.3},{:.3}",
                r.trace,
                r.scale,
                csv_field(r.label),
                w.start_s,
                w.offered,
                w.committed,
                w.goodput,
                w.count,
                w.p50,
                w.p99
            );
        }
    }
    t
}

fn wall_table(runs: &[Run], set_wall_s: f64) -> String {
    let mut t = String::from(
        "## Wall time\n\nThe only section that changes between reruns: seconds of wall time per `byzsim run` child \
         (release build, one at a time, results folder and its plots included).\n\n| run | wall s | events |\n|---|---:|---:|\n",
    );
    for r in runs {
        let _ = writeln!(t, "| {} {} {} | {:.2} | {} |", r.trace, r.scale, r.label, r.wall_s, r.text("events"));
    }
    let _ = writeln!(
        t,
        "| **{} runs** | {:.1} | |\n\nThe whole set, with the byzsim build check and plotting: {set_wall_s:.1} s.",
        runs.len(),
        runs.iter().map(|r| r.wall_s).sum::<f64>()
    );
    t
}

// ===================================================================================== the set

/// `cargo xtask figures --only traces`: runs every case, writes `<out>/traces/`.
pub fn traces_set(quick: bool, root_out: &Path, xtask_exe: &Path) -> Result<String, String> {
    let t0 = Instant::now();
    eprintln!("$ cargo build --release --quiet --package scenarios --bin byzsim");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--package", "scenarios", "--bin", "byzsim"])
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        return Err("`cargo build --release --package scenarios --bin byzsim` failed".into());
    }
    let byzsim = xtask_exe.with_file_name(format!("byzsim{}", std::env::consts::EXE_SUFFIX));
    let runs_dir = xtask_exe
        .parent()
        .and_then(Path::parent)
        .map_or(PathBuf::from("target"), Path::to_path_buf)
        .join(if quick { "figures-runs/traces-quick" } else { "figures-runs/traces" });
    let dir = root_out.join("traces");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let real_nasdaq = Path::new(NASDAQ_CSV).exists();
    let mut all = traces(real_nasdaq);
    if quick {
        for t in &mut all {
            t.cases.retain(|c| c.quick);
        }
    }
    let mut runner = Runner { byzsim, runs_dir, log: Vec::new() };
    for t in &all {
        for c in &t.cases {
            // Same file, same seed, same rate: every protocol must be offered the same transactions.
            let mut offered: BTreeMap<&str, (String, &str)> = BTreeMap::new();
            for v in &c.variants {
                let r = runner.run(t, c, v)?;
                let sub = r.text("submitted_tx").to_string();
                let file = v.file.unwrap_or(t.file);
                match offered.get(file) {
                    None => {
                        offered.insert(file, (sub, v.label));
                    }
                    Some((s, first)) if *s != sub => {
                        return Err(format!(
                            "{} {} ({file}): {first} was offered {s} transactions but {} {sub}: the workloads differ",
                            t.key, c.scale, v.label
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
    }
    let runs = runner.log;
    let scen = load(all[0].file, &[])?;
    let alg = AlgSetup::new(all[0].file)?;
    let mut bounds = Vec::new();
    for t in &all {
        bounds.push((t.file, load(t.file, &[])?.checks.liveness_bound_s));
    }

    let mut md = String::from("# Trace replays: HotStuff, leaderless BFT and Algorand around the world\n\n");
    let _ = writeln!(md, "{}\n", summary(&runs, &alg));
    let _ = writeln!(md, "{}\n", setup(&scen, &alg, &bounds, quick, real_nasdaq));
    let _ = writeln!(
        md,
        "| trace | what is replayed | rates run (share of the trace's rate) | `workload.rate_scale` |\n|---|---|---|---|"
    );
    for t in &all {
        let _ = writeln!(
            md,
            "| {} | {}. Scenario `{}` | {} | {} |",
            t.title,
            t.how,
            t.file,
            t.cases.iter().map(|c| c.scale).collect::<Vec<_>>().join(", "),
            t.cases.iter().map(|c| format!("{:.5}", c.fraction / t.time_scale)).collect::<Vec<_>>().join(", "),
        );
    }
    md.push('\n');
    for t in &all {
        let trs: Vec<&Run> = runs.iter().filter(|r| r.trace == t.key).collect();
        let _ = writeln!(md, "## {}\n\n{}\n", t.title, main_table(&trs));
        let _ = writeln!(md, "Diagnostics:\n\n{}\n", diag_table(&trs));
        for c in t.cases.iter().filter(|c| c.plot || quick) {
            let crs: Vec<&Run> = trs.iter().copied().filter(|r| r.scale == c.scale).collect();
            md.push_str(&case_plots(&dir, t, c, &crs)?);
            md.push('\n');
        }
        let _ = writeln!(md, "Reproduce a run (for example the last rate's, one per protocol):\n");
        if let Some(c) = t.cases.last() {
            let cmds: Vec<String> = [hotstuff(), blsmr(), algorand()].iter().map(|v| reproduce(t, c, v)).collect();
            let _ = writeln!(md, "```sh\n{}\n```\n", cmds.join("\n"));
        }
    }
    let _ = writeln!(md, "## Reading\n\n{}", reading(&runs, &scen, &alg, quick));
    let _ = writeln!(md, "{}", files_section());
    md.push_str(&wall_table(&runs, t0.elapsed().as_secs_f64()));
    write(&dir.join("traces.csv"), &runs_csv(&runs))?;
    write(&dir.join("traces-timeseries.csv"), &timeseries_csv(&runs))?;
    write(&dir.join("README.md"), &md)?;
    Ok("traces/README.md".into())
}

/// Algorand as this set runs it: the trace file with Algorand's `--set`s, and the protocol's
/// configuration lowered from it (committees and thresholds are the preset's).
struct AlgSetup {
    s: Scenario,
    cfg: AlgorandConfig,
}

impl AlgSetup {
    fn new(file: &str) -> Result<AlgSetup, String> {
        let sets: Vec<String> = Proto::Algorand.sets().iter().map(|s| s.to_string()).collect();
        let s = load(file, &sets)?;
        let cfg = scenarios::protocols::algorand::config(&s.sections.algorand);
        Ok(AlgSetup { s, cfg })
    }

    fn filter_s(&self) -> f64 {
        self.cfg.priority_wait.as_secs_f64()
    }

    /// Users (of `n`, equal stake) whose votes a reduction step needs: its threshold over the
    /// committee weight each user is expected to hold.
    fn voters_needed(&self, n: u32) -> u64 {
        let c = self.cfg.reduction;
        (c.threshold * u64::from(n)).div_ceil(c.expected)
    }

    /// With one user per region, the mean over users of the one-way delay to the farthest of
    /// the other users a step needs (its own vote counts too), on the scenario's matrix.
    fn step_delay_ms(&self) -> Option<f64> {
        let Delay::Matrix { regions, one_way_ms, .. } = &self.s.network.delay else { return None };
        let idx: Vec<usize> =
            self.s.replicas.regions.iter().map(|r| regions.iter().position(|x| x == r)).collect::<Option<Vec<_>>>()?;
        let others = usize::try_from(self.voters_needed(self.s.replicas.n)).ok()?.checked_sub(2)?;
        let far: Vec<f64> = idx
            .iter()
            .enumerate()
            .filter_map(|(i, &a)| {
                let mut d: Vec<f64> =
                    idx.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, &b)| one_way_ms[a][b]).collect();
                d.sort_by(f64::total_cmp);
                d.get(others).copied()
            })
            .collect();
        (!far.is_empty()).then(|| far.iter().sum::<f64>() / far.len() as f64)
    }

    /// Transactions of the workload's size in one full block.
    fn block_txs(&self) -> f64 {
        f64::from(self.cfg.block_max_bytes / self.s.workload.tx_size_bytes.max(1))
    }
}

fn setup(s: &Scenario, alg: &AlgSetup, bounds: &[(&str, Option<f64>)], quick: bool, real_nasdaq: bool) -> String {
    let c = &s.cpu;
    let a = &alg.cfg;
    let relays = a.relay_count(alg.s.replicas.n);
    let set_bounds: Vec<String> =
        bounds.iter().filter_map(|(f, b)| b.map(|b| format!("`{f}` sets `liveness_bound_s = {b}`"))).collect();
    format!(
        "Written by `cargo xtask figures --only traces` (code `xtask/src/figures_traces.rs`, scenarios \
         `scenarios/figures/traces-*.toml`).{} Every run is `byzsim run` on seed 1; the tables are the same on every \
         rerun, only the wall-time section changes.\n\n\
         **Protocols.** Chained HotStuff (three-chain commit, round-robin leaders, batch {}, view timeout {} ms, BLS \
         aggregate certificates) and leaderless BFT, BLSMR-W (Wintermute: DDS quorum, fast path when all n replies \
         agree within `fast_path_wait_ms = {}`, PBFT per command otherwise, recovery after {} ms, conflicts = \
         transfers sharing an account), both with n = {}, f = {}; and the Algorand-style baseline (`protocol = \
         \"algorand\"`, `preset = \"mainnet\"`, go-algorand's parameters: {} proposers expected per round, a {} s \
         filter timeout in which users collect proposals, then BA*: two reduction (soft-vote) steps whose \
         committee weighs {} with threshold {}, BinaryBA* and FINAL steps of {} with threshold {}, {} s step \
         timeouts, blocks of up to {} KiB of transactions proposed at the start of each round, gossip batched every \
         {} ms over relays) with n = {} users of equal stake, one per region: relays are n/100 of the users but at \
         least 20 and at most n, so all {relays} users are relays, each linked to the {} others. Algorand has no f: \
         its safety rests on stake. At each trace's lowest rate Algorand also runs with {MANY_USERS} users (`--set \
         replicas.n={MANY_USERS}`; they take the six regions in turn; {} relays, every other user linked to {} of \
         them).\n\n\
         **World.** The GCP 2019 round-trip matrix, one replica (user) in each of {}; {} clients, two per region, so \
         clients in every region; no jitter, no loss, no fault, clients never resend; links of {} bandwidth for every \
         protocol, so Algorand's blocks of up to {} KiB cost their receivers CPU ({:.0} µs per KiB) but no \
         transfer time. **CPU**: the default model, {} cores per replica, BLS12-381 prices of `{}` (sign {:.0} µs, \
         verify {:.0} µs, aggregate-verify {:.0} µs), client signatures {:.0} µs, {:.0} µs per message plus {:.0} µs \
         per KiB, since throughput limits matter here; an Algorand vote or proposal costs its receiver a VRF check \
         ({:.0} µs) and an Ed25519-class signature check (the client price), and every user checks the client \
         signature of every transaction entering its pool. **Checks**: {}.\n\n\
         **Clients, and why not `byzsim compare`.** HotStuff's clients send every transaction to all replicas \
         (`send_to = \"all\"`: with rotating leaders, whoever leads next has it; sent to one replica it would wait \
         for that replica's turn); BLSMR-W's send to their nearest replica (`\"nearest\"`, the replica in their \
         region, which coordinates it); Algorand's to their nearest user (`\"nearest\"`: the user in their region, \
         with {MANY_USERS} users the lowest-numbered one there, a relay), which they trust: its one reply, once the \
         block holding the transaction is certified (FINAL) there, confirms (Algorand refuses `\"all\"`). `byzsim \
         compare` runs one scenario with one `send_to` for every protocol, so the set runs the protocols \
         separately, with the same file, seed and `--set`s except `protocol`, `clients.send_to` and (Algorand) \
         `algorand.preset`: the workload comes from the seed's `workload` stream, so all are offered the same \
         transactions at the same times from the same clients (the set checks that every run of a file offered the \
         same count). Messages per committed transaction count what replicas (users) send over the whole run, \
         replies included, so HotStuff's count excludes the clients' n-fold sends.\n\n\
         **Metrics** (README, Metrics): goodput = distinct valid transactions confirmed (f+1 matching replies; \
         Algorand: the trusted user's reply) per second inside the measured window; end-to-end latency from the \
         client's send to the confirming reply, over the transactions submitted in the window that were confirmed \
         before the run ended, the others counted as *unconfirmed*; CPU busy = mean share of replica cores busy over \
         the whole run (drain included); CPU per committed transaction sums all replicas (users). The plots show, \
         per 1 s window of simulated time, the goodput and the p50 and p99 of the transactions *confirmed* in that \
         window (timeseries.csv of each run), one series per protocol.\n\n\
         **Scaling.** Each run is at most 40 simulated seconds: NASDAQ is replayed in real time but only its first \
         30 s (the open is the point, and 94% of those 30 s of trades fall in the first 3 s); the Diablo curves are \
         replayed whole but compressed (`time_scale` 12 and 10). `time_scale` multiplies the rate too, so \
         `rate_scale` = (share of the rate) / `time_scale`: the offered rate is the stated share of the trace's, and \
         the curve keeps its shape, each step shortened by `time_scale`.{}",
        if quick { " **This is a `--quick` run**: fewer rates." } else { "" },
        s.sections.hotstuff.batch_size,
        s.sections.hotstuff.view_timeout_ms,
        s.sections.leaderless.fast_path_wait_ms,
        s.sections.leaderless.recovery_timeout_ms,
        s.replicas.n,
        s.replicas.f,
        a.proposers,
        alg.filter_s(),
        a.reduction.expected,
        a.reduction.threshold,
        a.binary.expected,
        a.binary.threshold,
        a.step_timeout.as_secs_f64(),
        a.block_max_bytes / 1024,
        a.gossip_batch.as_millis_f64(),
        alg.s.replicas.n,
        relays.saturating_sub(1),
        a.relay_count(MANY_USERS),
        a.fanout,
        s.replicas.regions.join(", "),
        s.clients.count,
        if s.replicas.uplink_mbps == 0.0 && s.replicas.downlink_mbps == 0.0 { "unlimited" } else { "limited" },
        a.block_max_bytes / 1024,
        c.per_kib_us,
        c.cores,
        c.profile.name,
        c.profile.sign_us,
        c.profile.verify_us,
        c.profile.verify_aggregate_us,
        c.client_verify_us,
        c.base_us,
        c.per_kib_us,
        a.vrf_verify.as_secs_f64() * 1e6,
        if set_bounds.is_empty() {
            "no trace file sets `[checks] liveness_bound_s`, so no run checks liveness and Algorand's \
             multi-second rounds needed no override of it (safety is checked in every run)"
                .to_string()
        } else {
            format!("{} (kept for every protocol)", set_bounds.join(", "))
        },
        if real_nasdaq { "" } else { " **NASDAQ ran from the fallback curve: see its row below.**" },
    )
}

fn files_section() -> String {
    "## Files\n\n- `traces.csv`: every run (trace, rate, protocol, the table's metrics, protocol counters, Algorand's \
     users, rounds, empty and final rounds, step timeouts and seconds per round, events, stop, digest);\n- \
     `traces-timeseries.csv`: every run's 1 s windows (offered, committed, goodput, count, p50, p99 of the \
     transactions confirmed in the window);\n- `<trace>-<rate>-goodput.svg/.png`, `<trace>-<rate>-latency.svg/.png` \
     (p50), `<trace>-<rate>-latency-p99.svg/.png`: the plots above.\n"
        .into()
}

// ===================================================================================== reading

/// Offered load at which a run's replicas would be 100% busy, at its CPU cost per committed tx.
fn cpu_capacity(r: &Run) -> f64 {
    r.num("n_replicas") * f64::from(r.cores) * 1e6 / r.cpu_us_per_tx()
}

/// Mean length of a HotStuff view over the run, in ms.
fn view_ms(r: &Run) -> Option<f64> {
    Some(1e3 * r.num("virtual_time_s") / r.counter("view")?)
}

/// Lowest and highest value of `pick` over the windows starting in [from_s, to_s) that confirmed something.
fn window_range(r: &Run, from_s: f64, to_s: f64, pick: fn(&Win) -> f64) -> (f64, f64) {
    r.windows
        .iter()
        .filter(|w| w.count > 0 && w.start_s >= from_s && w.start_s < to_s)
        .map(pick)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)))
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{x:.1}%"))
}

fn deps(r: &Run) -> String {
    r.counter("deps_mean_milli").map_or("-".into(), |x| format!("{:.0}", x / 1000.0))
}

fn confirmed(r: &Run) -> f64 {
    r.num("submitted_tx") - r.num("unconfirmed_tx")
}

/// The uncontended runs in which BLSMR-W confirmed everything (it kept up), as (trace, rate).
const KEEPS_UP: [(&str, &str); 4] = [("dota2", "1/20"), ("fifa1998", "1/8"), ("fifa1998", "1/3"), ("dota2", "1/10")];

/// The runs of `KEEPS_UP` in which BLSMR-W did keep up: (trace, rate, HotStuff, BLSMR-W).
fn kept_up(runs: &[Run]) -> Vec<(&'static str, &'static str, &Run, &Run)> {
    KEEPS_UP
        .iter()
        .filter_map(|&(t, s)| Some((t, s, find(runs, t, s, "HotStuff")?, find(runs, t, s, "BLSMR-W")?)))
        .filter(|(_, _, _, w)| w.num("unconfirmed_tx") == 0.0)
        .collect()
}

/// Algorand's runs with `n` users, diagnostics included.
fn alg_runs(runs: &[Run], n: u32) -> Vec<&Run> {
    runs.iter().filter(|r| r.proto == Proto::Algorand && r.num("n_replicas") == f64::from(n)).collect()
}

/// The round length that every run of `rs` allows if rounds are periodic from t = 0 and the
/// same in every run: run length / (rounds + 1) < round <= run length / rounds, intersected.
/// None when they do not intersect (the round then depends on the run).
fn round_bounds(rs: &[&Run]) -> Option<(f64, f64)> {
    let lo = rs.iter().filter_map(|r| Some(r.num("virtual_time_s") / (r.rounds()? + 1.0))).fold(0.0, f64::max);
    let hi = rs.iter().filter_map(|r| r.round_s()).fold(f64::INFINITY, f64::min);
    (hi.is_finite() && lo < hi).then_some((lo, hi))
}

/// The lowest and highest of some values.
fn span(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)))
}

/// "lo-hi" with `digits` decimals, or one value when they print the same.
fn range_text((lo, hi): (f64, f64), digits: usize) -> String {
    let (a, b) = (format!("{lo:.digits$}"), format!("{hi:.digits$}"));
    if !lo.is_finite() || !hi.is_finite() {
        "-".into()
    } else if a == b {
        a
    } else {
        format!("{a}-{b}")
    }
}

/// A range of milliseconds as seconds with two decimals.
fn secs_range((lo, hi): (f64, f64)) -> String {
    range_text((lo / 1e3, hi / 1e3), 2)
}

/// A round length for the prose: the bounds' middle, else the best single-run estimate.
fn round_estimate(rs: &[&Run]) -> Option<f64> {
    round_bounds(rs).map(|(lo, hi)| (lo + hi) / 2.0).or_else(|| rs.iter().filter_map(|r| r.round_s()).reduce(f64::min))
}

/// Voting steps per round: the two reduction steps and BinaryBA*'s steps (FINAL runs alongside).
fn steps_per_round(r: &Run) -> Option<f64> {
    Some(2.0 + r.counter("binary_steps")? / r.rounds()?)
}

/// Each lowest-rate "600 users" run with the 6-user run of the same trace and rate.
fn many_pairs(runs: &[Run]) -> Vec<(&Run, &Run)> {
    runs.iter()
        .filter(|r| r.label == MANY_LABEL)
        .filter_map(|m| Some((m, find(runs, m.trace, m.scale, "Algorand")?)))
        .collect()
}

/// Where Algorand (6 users) does better than HotStuff or BLSMR-W on the same trace and rate: the
/// other confirmed nothing, or has a higher p50, or only a higher p99. One entry per case:
/// (trace, rate, what it beats and how, with the numbers).
fn algorand_wins(runs: &[Run]) -> Vec<(&'static str, &'static str, String)> {
    let mut out = Vec::new();
    for a in runs.iter().filter(|r| r.label == "Algorand") {
        let beats: Vec<String> = ["HotStuff", "BLSMR-W"]
            .iter()
            .filter_map(|l| find(runs, a.trace, a.scale, l))
            .filter_map(|o| {
                if o.num("latency_ms.e2e.count") == 0.0 {
                    Some(format!("{}, which confirms nothing", o.label))
                } else if o.e2e("p50") > a.e2e("p50") {
                    Some(format!("{} (p50 {} ms against {})", o.label, f0(o.e2e("p50")), f0(a.e2e("p50"))))
                } else if o.e2e("p99") > a.e2e("p99") {
                    Some(format!("{} on p99 only ({} ms against {})", o.label, f0(o.e2e("p99")), f0(a.e2e("p99"))))
                } else {
                    None
                }
            })
            .collect();
        if !beats.is_empty() {
            out.push((a.trace, a.scale, beats.join(" and ")));
        }
    }
    out
}

/// Whether every Algorand run stopped at its end, with no empty round, no step timeout, and
/// at most the transactions of about one round unconfirmed (those the run's end cuts off).
fn algorand_holds(runs: &[Run]) -> bool {
    runs.iter().filter(|r| r.proto == Proto::Algorand).all(|r| {
        let one_round = r.num("offered_tps") * r.round_s().unwrap_or(f64::NAN);
        r.text("stop") == "end"
            && r.counter("empty_rounds") == Some(0.0)
            && r.counter("step_timeouts") == Some(0.0)
            && r.num("unconfirmed_tx") <= one_round
    })
}

fn summary(runs: &[Run], alg: &AlgSetup) -> String {
    let g = |t: &str, s: &str, l: &str| find(runs, t, s, l);
    let mut parts = Vec::new();
    let kept = kept_up(runs);
    if !kept.is_empty() {
        parts.push(format!(
            "Around the world (one replica or user per region, n = 6), BLSMR-W has the lowest latency while its CPU \
             keeps up and accounts do not conflict: less than half HotStuff's, and at least {:.0} times below \
             Algorand's (end-to-end p50, BLSMR-W / HotStuff / Algorand: {})",
            kept.iter()
                .filter_map(|(t, s, _, w)| Some(g(t, s, "Algorand")?.e2e("p50") / w.e2e("p50")))
                .fold(f64::INFINITY, f64::min),
            kept.iter()
                .map(|(t, s, h, w)| format!(
                    "{t} at {s}: {} / {} / {} ms",
                    f0(w.e2e("p50")),
                    f0(h.e2e("p50")),
                    g(t, s, "Algorand").map_or("-".into(), |a| f0(a.e2e("p50")))
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if let Some((t, s, h, w)) = kept.first() {
        let first = parts.pop().unwrap_or_default();
        parts.push(format!(
            "{first}, but it pays BLS signatures per command at every replica ({} µs of replica CPU per transaction at \
             {t} {s}, against HotStuff's {} and Algorand's {}), which caps it near {} tx/s on these 2-core replicas{}",
            f0(w.cpu_us_per_tx()),
            f0(h.cpu_us_per_tx()),
            g(t, s, "Algorand").map_or("-".into(), |a| f0(a.cpu_us_per_tx())),
            f0(cpu_capacity(w)),
            match (g("dota2", "1/10", "HotStuff"), g("dota2", "1/10", "BLSMR-W")) {
                (Some(h), Some(w)) if w.num("unconfirmed_tx") > 0.0 => format!(
                    ": at a tenth of Dota 2's rate ({} tx/s) it confirms {} tx/s with a p99 of {} ms, HotStuff {} tx/s \
                     and {} ms",
                    f0(w.num("offered_tps")),
                    f0(w.num("goodput_tps")),
                    f0(w.e2e("p99")),
                    f0(h.num("goodput_tps")),
                    f0(h.e2e("p99"))
                ),
                _ => String::new(),
            }
        ));
    }
    if let (Some(h), Some(h8)) = (g("dota2", "1/5", "HotStuff"), g("dota2", "1/5", "HotStuff, batch 800")) {
        parts.push(format!(
            "HotStuff's own ceiling is its batch of 400 per view of about {} ms ({} tx/s confirmed at a fifth of Dota 2, \
             p99 {} ms; {} with batches of 800){}",
            view_ms(h).map_or("-".into(), f0),
            f0(h.num("goodput_tps")),
            f0(h.e2e("p99")),
            f0(h8.num("goodput_tps")),
            g("dota2", "1/5", "Algorand").map_or(String::new(), |a| format!(
                "; Algorand, whose blocks hold up to {} transfers, carries that rate with p99 {} ms",
                f0(alg.block_txs()),
                f0(a.e2e("p99"))
            ))
        ));
    }
    let nasdaq: Vec<String> = ["1/100", "1/50", "1/20", "1/10"]
        .iter()
        .filter_map(|s| {
            let (h, w) = (g("nasdaq", s, "HotStuff")?, g("nasdaq", s, "BLSMR-W")?);
            Some(format!(
                "at {s} of the trades BLSMR-W confirms {} of {}{} (HotStuff {}, p99 {} ms{})",
                f0(confirmed(w)),
                w.text("submitted_tx"),
                if confirmed(w) > 0.0 { format!(", p99 {} ms", f0(w.e2e("p99"))) } else { String::new() },
                f0(confirmed(h)),
                f0(h.e2e("p99")),
                g("nasdaq", s, "Algorand").map_or(String::new(), |a| format!(
                    "; Algorand {}, p99 {} ms",
                    f0(confirmed(a)),
                    f0(a.e2e("p99"))
                ))
            ))
        })
        .collect();
    if !nasdaq.is_empty() {
        parts.push(format!(
            "On the NASDAQ open, whose first seconds pile thousands of trades on a few stocks, hot accounts turn \
             BLSMR-W's per-command costs into a collapse: {}. Conflicting commands lose the fast path, each pays a PBFT \
             instance, and the burst becomes one dependency component that executes only once all of it has committed{}; \
             HotStuff and Algorand order whole blocks and look at no account",
            nasdaq.join("; "),
            g("nasdaq", "1/10", "BLSMR-W, no hot account").map_or(String::new(), |c| format!(
                "; the same burst on uncontended accounts goes through (p99 {} ms)",
                f0(c.e2e("p99"))
            )),
        ));
    }
    let base: Vec<&Run> = runs.iter().filter(|r| r.label == "Algorand").collect();
    if !base.is_empty() {
        let six = alg_runs(runs, alg.s.replicas.n);
        let many = many_pairs(runs);
        let added = many.iter().map(|(m, a)| m.e2e("p50") - a.e2e("p50")).fold(f64::NEG_INFINITY, f64::max);
        parts.push(format!(
            "Algorand pays in latency what it gains in indifference: its end-to-end p50 is {} s on every trace and rate, \
             about {} rounds of {} s (a {} s filter timeout, then {} voting steps; a transaction waits for the next \
             round's block, then for that round), whatever the load, the hot accounts{}; meanwhile its blocks of up to \
             {} transfers, about {} tx/s, keep it far from any ceiling here, its CPU at most {:.0}% busy{}",
            secs_range(span(base.iter().map(|r| r.e2e("p50")))),
            round_estimate(&six).map_or("-".into(), |x| range_text(span(base.iter().map(|r| r.e2e("p50") / 1e3 / x)), 1)),
            round_estimate(&six).map_or("-".into(), |x| format!("{x:.2}")),
            alg.filter_s(),
            base.first().and_then(|r| steps_per_round(r)).map_or("-".into(), f0),
            if many.is_empty() {
                String::new()
            } else {
                format!(" or the number of users ({MANY_USERS} users add at most {} ms)", f0(added))
            },
            f0(alg.block_txs()),
            round_estimate(&six).map_or("-".into(), |r| f0(alg.block_txs() / r)),
            base.iter().map(|r| 100.0 * r.num("cpu_util_mean")).fold(0.0, f64::max),
            match (g("dota2", "1/5", "Algorand"), g("dota2", "1/5", "Algorand, drain 10 s")) {
                (Some(a), Some(d)) if d.num("unconfirmed_tx") == 0.0 && a.num("unconfirmed_tx") > 0.0 => format!(
                    "; its only unconfirmed transactions are those of the last round, cut off by the run's end ({} \
                     at dota2 1/5 with a {} s drain, {} with {} s)",
                    a.text("unconfirmed_tx"),
                    a.num("drain_s"),
                    d.text("unconfirmed_tx"),
                    d.num("drain_s"),
                ),
                _ => String::new(),
            }
        ));
    }
    parts.push(format!(
        "Who wins where: BLSMR-W on latency below its CPU ceiling without conflicts; HotStuff on hot accounts and on \
         sustained load with sub-second latency, up to its batch ceiling; {}",
        if algorand_holds(runs) {
            let wins = algorand_wins(runs);
            format!(
                "Algorand, the slowest wherever the others keep up, holds every load and every burst here at the same \
                 few seconds, and so wins only where they break{}",
                if wins.is_empty() {
                    ": nowhere here".to_string()
                } else {
                    format!(
                        " ({})",
                        wins.iter().map(|(t, s, w)| format!("{t} {s}: over {w}")).collect::<Vec<_>>().join("; ")
                    )
                }
            )
        } else {
            "Algorand: see the reading".into()
        }
    ));
    format!("**Summary.** {}.", parts.join(". "))
}

fn reading(runs: &[Run], s: &Scenario, alg: &AlgSetup, quick: bool) -> String {
    let g = |t: &str, sc: &str, l: &str| find(runs, t, sc, l);
    let mut t = String::new();
    if quick {
        let _ = writeln!(t, "A `--quick` run holds only some rates; the reading quotes the runs present.\n");
    }
    let batch = s.sections.hotstuff.batch_size;
    let hs_view =
        g("dota2", "1/10", "HotStuff").or_else(|| runs.iter().find(|r| r.label == "HotStuff")).and_then(view_ms);
    // ---- latency when BLSMR-W keeps up
    let kept = kept_up(runs);
    if !kept.is_empty() {
        let fast: Vec<f64> = kept.iter().filter_map(|k| k.3.fast_pct()).collect();
        let hs_p50: Vec<f64> = kept.iter().map(|k| k.2.e2e("p50")).collect();
        let (lo, hi) =
            (hs_p50.iter().copied().fold(f64::INFINITY, f64::min), hs_p50.iter().copied().fold(0.0, f64::max));
        let hs_range = if f0(lo) == f0(hi) { f0(lo) } else { format!("{}-{}", f0(lo), f0(hi)) };
        let _ = writeln!(
            t,
            "**Latency while BLSMR-W keeps up: BLSMR-W, by more than half.** End-to-end p50 / p99, BLSMR-W against \
             HotStuff: {}. A BLSMR-W client's nearest replica (in its own region) coordinates the command and, when all \
             six dependency replies agree ({} of the commands here), commits it on the fast path: about a round trip \
             from that replica to the farthest one, then the replies. A HotStuff transaction waits for the next proposal, \
             then three more views (three-chain rule) whose leaders rotate around the world: a view lasts {} ms on average \
             (views over the run), so its p50 stays at {} ms whatever the load below its ceiling, and the client still \
             needs f+1 replies from across the world. Algorand on the same runs: {} (its own section below).\n",
            kept.iter()
                .map(|(tr, sc, h, w)| format!(
                    "{tr} {sc}: {} / {} ms against {} / {} ms",
                    f0(w.e2e("p50")),
                    f0(w.e2e("p99")),
                    f0(h.e2e("p50")),
                    f0(h.e2e("p99"))
                ))
                .collect::<Vec<_>>()
                .join("; "),
            if fast.is_empty() { "-".into() } else { format!("{}%", range_text(span(fast.iter().copied()), 1)) },
            hs_view.map_or("-".into(), f0),
            hs_range,
            kept.iter()
                .filter_map(|(tr, sc, _, _)| {
                    let a = g(tr, sc, "Algorand")?;
                    Some(format!("{tr} {sc}: {} / {} ms", f0(a.e2e("p50")), f0(a.e2e("p99"))))
                })
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    // ---- CPU and the leaderless ceiling
    if let Some((tr, sc, h, w)) = kept.first() {
        let over: Vec<String> = [("dota2", "1/10"), ("fifa1998", "2/5"), ("dota2", "1/5")]
            .iter()
            .filter_map(|(tr, sc)| {
                let w = g(tr, sc, "BLSMR-W")?;
                Some(format!(
                    "{tr} {sc}: {} tx/s offered, {} confirmed per second, p99 {} ms, {} of {} unconfirmed, {} commands \
                     recovered, CPU {:.0}% busy",
                    f0(w.num("offered_tps")),
                    f0(w.num("goodput_tps")),
                    f0(w.e2e("p99")),
                    w.text("unconfirmed_tx"),
                    w.text("submitted_tx"),
                    w.counter("recovered_commands").map_or("-".into(), f0),
                    100.0 * w.num("cpu_util_mean")
                ))
            })
            .collect();
        let _ = writeln!(
            t,
            "**CPU: BLSMR-W's ceiling; HotStuff and Algorand batch.** Replica CPU per committed transaction, six \
             replicas (users) together, at {tr} {sc}: BLSMR-W {} µs, HotStuff {} µs, Algorand {} µs. BLSMR-W orders every command on its own, so every replica checks \
             the client's signature ({:.0} µs), signs its dependency reply ({:.0} µs) and checks an aggregate ({:.0} µs) \
             for every command; HotStuff signs and checks once per block of up to {batch} (its cost per transaction is \
             higher at low rates, {} µs at NASDAQ 1/100, because it runs its views, signatures included, even when \
             blocks are nearly empty). At BLSMR-W's cost, {} cores per replica are 100% busy at about {} tx/s. Above \
             that: {}. The queues then grow past the {} ms recovery timeout, replicas start recovering commands that are \
             only queued (more messages and signatures on CPUs already full), and what gets confirmed falls below what \
             the CPU carried before{}. HotStuff's replicas stay about 1% busy. Algorand pays per round, not per \
             transaction (a VRF check of {:.0} µs and a signature check of {:.0} µs per vote received, a block's bytes \
             at {:.0} µs per KiB), except for the client-signature check every user makes when a transaction enters its \
             pool: {} users x {:.0} µs = {:.0} µs of its {} µs per transaction here, a check HotStuff's model does not \
             charge at all; its users are at most {:.1}% busy in any run of the set.\n",
            f0(w.cpu_us_per_tx()),
            f0(h.cpu_us_per_tx()),
            g(tr, sc, "Algorand").map_or("-".into(), |a| f0(a.cpu_us_per_tx())),
            s.cpu.client_verify_us,
            s.cpu.profile.sign_us,
            s.cpu.profile.verify_aggregate_us,
            g("nasdaq", "1/100", "HotStuff").map_or("-".into(), |r| f0(r.cpu_us_per_tx())),
            s.cpu.cores,
            f0(cpu_capacity(w)),
            if over.is_empty() { "no run here".into() } else { over.join("; ") },
            s.sections.leaderless.recovery_timeout_ms,
            g("dota2", "1/10", "BLSMR-W").map_or(String::new(), |w| {
                let (lo, hi) = window_range(w, 1.0, 10.0, |x| x.goodput);
                let (late, _) = window_range(w, 10.0, 22.0, |x| x.goodput);
                let top = g("dota2", "1/5", "BLSMR-W").map(|w5| window_range(w5, 1.0, 23.0, |x| x.goodput).1);
                format!(
                    " (Dota 2 goodput plots: at 1/10, {}-{} tx/s per window from 1 s to 10 s, then down to {} by 22 s{})",
                    f0(lo),
                    f0(hi),
                    f0(late),
                    top.map_or(String::new(), |t| format!("; at 1/5 never more than {} tx/s", f0(t)))
                )
            }),
            alg.cfg.vrf_verify.as_secs_f64() * 1e6,
            s.cpu.client_verify_us,
            s.cpu.per_kib_us,
            alg.s.replicas.n,
            s.cpu.client_verify_us,
            f64::from(alg.s.replicas.n) * s.cpu.client_verify_us,
            g(tr, sc, "Algorand").map_or("-".into(), |a| f0(a.cpu_us_per_tx())),
            alg_runs(runs, alg.s.replicas.n).iter().map(|r| 100.0 * r.num("cpu_util_mean")).fold(0.0, f64::max),
        );
    }
    if let (Some(h), Some(h8)) = (g("dota2", "1/5", "HotStuff"), g("dota2", "1/5", "HotStuff, batch 800")) {
        let _ = writeln!(
            t,
            "**HotStuff's ceiling is its batch.** {batch} transactions per view of about {} ms is {} tx/s. At a fifth of \
             Dota 2 ({} tx/s offered) HotStuff confirms {} tx/s, p99 {} ms, {} unconfirmed, its CPU {:.1}% busy; the same \
             run with batches of 800 confirms {} tx/s, p99 {} ms, {} unconfirmed: the limit is the batch size, not a \
             resource, and a deployment would size it for the load.{}\n",
            hs_view.map_or("-".into(), f0),
            hs_view.map_or("-".into(), |v| f0(f64::from(batch) * 1e3 / v)),
            f0(h.num("offered_tps")),
            f0(h.num("goodput_tps")),
            f0(h.e2e("p99")),
            h.text("unconfirmed_tx"),
            100.0 * h.num("cpu_util_mean"),
            f0(h8.num("goodput_tps")),
            f0(h8.e2e("p99")),
            h8.text("unconfirmed_tx"),
            g("dota2", "1/5", "Algorand").map_or(String::new(), |a| format!(
                " Algorand at the same rate: {} of the {} transactions of the run (warm-up included) committed \
                 (HotStuff {}), p99 {} ms, {} unconfirmed (its goodput column, {} tx/s, and these are explained in its \
                 section below).",
                a.text("committed_tx"),
                f0(a.submitted_all()),
                h.text("committed_tx"),
                f0(a.e2e("p99")),
                a.text("unconfirmed_tx"),
                f0(a.num("goodput_tps")),
            )),
        );
    }
    // ---- bursts
    if let (Some(h), Some(w)) = (g("fifa1998", "1/3", "HotStuff"), g("fifa1998", "1/3", "BLSMR-W")) {
        // The trace's 4,487 tx/s stretch starts at 129 s of trace time: 12.9 s simulated.
        let (a, b) = window_range(w, 0.0, 12.0, |x| x.p50);
        let (c, d) = window_range(w, 14.0, f64::INFINITY, |x| x.p50);
        let (_, e) = window_range(w, 14.0, f64::INFINITY, |x| x.p99);
        let _ = writeln!(
            t,
            "**A moving curve around the ceiling: absorbed, at a price.** At a third of FIFA 1998 ({} tx/s on average) \
             BLSMR-W is {:.0}% busy over the run. Its per-window p50 stays at {}-{} ms until the trace's 4,487 tx/s \
             stretch (trace 129-147 s, so about 1,500 tx/s offered at 12.9-14.7 s simulated, above its ceiling); the \
             curve then stays near or above the ceiling to its end (3,373, 3,882 and 5,305 tx/s in the trace: about \
             1,120, 1,290 and 1,770 here), the queue does not empty, and from 14 s on the per-window p50 is {}-{} ms, \
             p99 up to {} ms (latency plots). Over the run: p99 {} ms, {} unconfirmed, against HotStuff's flat {} ms; no \
             command waited long enough to be recovered ({} recovered).{}{}\n",
            f0(w.num("offered_tps")),
            100.0 * w.num("cpu_util_mean"),
            f0(a),
            f0(b),
            f0(c),
            f0(d),
            f0(e),
            f0(w.e2e("p99")),
            w.text("unconfirmed_tx"),
            f0(h.e2e("p99")),
            w.counter("recovered_commands").map_or("-".into(), f0),
            g("fifa1998", "2/5", "BLSMR-W").map_or(String::new(), |w| format!(
                " At 2/5 ({} tx/s on average, above the ceiling) the queue outlives the recovery timeout: {} commands \
                 recovered, p99 {} ms, {} unconfirmed.",
                f0(w.num("offered_tps")),
                w.counter("recovered_commands").map_or("-".into(), f0),
                f0(w.e2e("p99")),
                w.text("unconfirmed_tx")
            )),
            g("fifa1998", "1/3", "Algorand").map_or(String::new(), |a| {
                let (lo, hi) = window_range(a, 0.0, f64::INFINITY, |x| x.p50);
                let (_, top) = window_range(a, 0.0, f64::INFINITY, |x| x.p99);
                format!(
                    " Algorand does not notice the curve: its per-window p50 is {}-{} ms and its p99 at most {} ms from \
                     start to end, at 1/3 as at 2/5 ({} / {} ms over the run); the curve only changes how full its \
                     blocks are.",
                    f0(lo),
                    f0(hi),
                    f0(top),
                    g("fifa1998", "2/5", "Algorand").map_or("-".into(), |r| f0(r.e2e("p50"))),
                    g("fifa1998", "2/5", "Algorand").map_or("-".into(), |r| f0(r.e2e("p99"))),
                )
            }),
        );
    }
    // ---- NASDAQ
    let nas: Vec<String> = ["1/100", "1/50", "1/20", "1/10"]
        .iter()
        .filter_map(|sc| {
            let (h, w) = (g("nasdaq", sc, "HotStuff")?, g("nasdaq", sc, "BLSMR-W")?);
            Some(format!(
                "at {sc}, BLSMR-W: p50 / p99 {} / {} ms, {} of {} unconfirmed, {} committed over the whole run, {} fast \
                 path, {} dependencies per command, {} µs of CPU per committed command; HotStuff: {} / {} ms, {} \
                 unconfirmed{}",
                f0(w.e2e("p50")),
                f0(w.e2e("p99")),
                w.text("unconfirmed_tx"),
                w.text("submitted_tx"),
                w.text("committed_tx"),
                pct(w.fast_pct()),
                deps(w),
                f0(w.cpu_us_per_tx()),
                f0(h.e2e("p50")),
                f0(h.e2e("p99")),
                h.text("unconfirmed_tx"),
                g("nasdaq", sc, "Algorand").map_or(String::new(), |a| format!(
                    "; Algorand: {} / {} ms, {} unconfirmed",
                    f0(a.e2e("p50")),
                    f0(a.e2e("p99")),
                    a.text("unconfirmed_tx")
                )),
            ))
        })
        .collect();
    if !nas.is_empty() {
        let _ = writeln!(
            t,
            "**Hot accounts: HotStuff and Algorand, by far.** In the NASDAQ open's first second 22,397 of the 34,762 trades are on \
             TSLA and 12,361 on AAPL, submitted from every region at once (clients take transactions in turn). By rate: \
             {}.\n",
            nas.join("; ")
        );
        let comp: Vec<String> = ["1/100", "1/50"]
            .iter()
            .filter_map(|sc| {
                let w = g("nasdaq", sc, "BLSMR-W")?;
                Some(format!(
                    "{} of {} commands at {sc}",
                    w.counter("component_max").map_or("-".into(), f0),
                    w.text("submitted_tx")
                ))
            })
            .collect();
        let busy: Vec<String> = ["1/20", "1/10"]
            .iter()
            .filter_map(|sc| {
                let w = g("nasdaq", sc, "BLSMR-W")?;
                Some(format!("{:.0}% at {sc}", 100.0 * w.num("cpu_util_mean")))
            })
            .collect();
        let _ = writeln!(
            t,
            "Three things compound. (1) *No fast path*: commands on the same stock reach the six replicas in different \
             orders, so the replicas sign different dependency sets and the coordinator goes to PBFT for nearly every \
             command (the fast-path column). Differing replies cannot be checked as one aggregate: every replica checks \
             each signed reply in the proposal's proof on its own (one BLS verification each, in the protocol's code), \
             then PBFT's certificates, so a command costs several times the fast path's CPU (the CPU column). (2) \
             *Dependency chains*: a command depends on every conflicting command its replicas have seen, hundreds of \
             them, and these dependencies form cycles, so most of the burst is one strongly connected component \
             (largest executed component: {}), which executes, and so answers its clients, only once every command in \
             it has committed. (3) *CPU and recovery*: the slow path drains the burst far below the fast-path ceiling; \
             commands wait past the recovery timeout, every replica starts recovering them, and each recovery is a new \
             view whose view-change messages are signed and carry signed replies (the view-change and recovered \
             columns): more work on CPUs already full. The backlog stops shrinking: the cores are busy {} of the whole \
             run, the component never completes, nothing is confirmed.",
            if comp.is_empty() { "-".into() } else { comp.join(", ") },
            if busy.is_empty() { "-".into() } else { busy.join(" and ") },
        );
        if let Some((h, w)) = g("nasdaq", "1/100", "HotStuff").zip(g("nasdaq", "1/100", "BLSMR-W")) {
            let (wl, wh) = window_range(w, 5.0, f64::INFINITY, |x| x.p50);
            let (hl, hh) = window_range(h, 5.0, f64::INFINITY, |x| x.p50);
            let _ = writeln!(
                t,
                "\nAt 1/100 the burst is small enough to finish (the latency plot: BLSMR-W confirms it around 2 s, in one \
                 piece), and in the quiet seconds after it BLSMR-W is the faster again: per-window p50 from 5 s on {}-{} \
                 ms against HotStuff's {}-{} ms.",
                f0(wl),
                f0(wh),
                f0(hl),
                f0(hh)
            );
        }
        if let Some(off) = g("nasdaq", "1/50", "BLSMR-W, CPU off") {
            let on = g("nasdaq", "1/50", "BLSMR-W");
            let _ = writeln!(
                t,
                "\nThe CPU-off run at 1/50 separates (3) from (1) and (2): the same conflicts with free CPU give a \
                 consensus p50 of {} ms (against {} ms with the CPU model) and p50 / p99 {} / {} ms end to end, {} fast \
                 path, a largest component of {} commands: the conflicts cost latency (the component) but not liveness.",
                f0(off.num("latency_ms.consensus.p50")),
                on.map_or("-".into(), |r| f0(r.num("latency_ms.consensus.p50"))),
                f0(off.e2e("p50")),
                f0(off.e2e("p99")),
                pct(off.fast_pct()),
                off.counter("component_max").map_or("-".into(), f0),
            );
        }
        if let Some(lt) = g("nasdaq", "1/10", "BLSMR-W, recovery 5 s, view 3 s") {
            let _ = writeln!(
                t,
                "\nLonger timeouts do not save it: at 1/10 with `recovery_timeout_ms = 5000` and `view_timeout_ms = 3000` \
                 BLSMR-W recovers fewer commands ({}) and commits {} over the run instead of {}, but confirms {} of {}, \
                 its CPU {:.1}% busy: the component does not complete within the run either.",
                lt.counter("recovered_commands").map_or("-".into(), f0),
                lt.text("committed_tx"),
                g("nasdaq", "1/10", "BLSMR-W").map_or("-", |r| r.text("committed_tx")),
                f0(confirmed(lt)),
                lt.text("submitted_tx"),
                100.0 * lt.num("cpu_util_mean"),
            );
        }
        if let (Some(ch), Some(cw)) =
            (g("nasdaq", "1/10", "HotStuff, no hot account"), g("nasdaq", "1/10", "BLSMR-W, no hot account"))
        {
            let burst: f64 = cw.windows.iter().filter(|x| x.start_s < 3.0).map(|x| x.offered).sum();
            let _ = writeln!(
                t,
                "\nThe control at 1/10 (the same opening from the built-in `nasdaq_open` curve, transfers between 100,000 \
                 uncontended accounts) isolates the hot accounts: BLSMR-W confirms {} of {} with p50 / p99 {} / {} ms, {} \
                 fast path, {} commands recovered (the first 3 s offer {} transactions, about {:.1} s of work at its \
                 fast-path ceiling). HotStuff gives {} / {} ms there against {} / {} ms with the hot accounts: it does not \
                 look at accounts, a block of {batch} is a block of {batch}, and the opening costs it the views it takes to \
                 drain at {batch} per view.{}",
                f0(confirmed(cw)),
                cw.text("submitted_tx"),
                f0(cw.e2e("p50")),
                f0(cw.e2e("p99")),
                pct(cw.fast_pct()),
                cw.counter("recovered_commands").map_or("-".into(), f0),
                f0(burst),
                burst / kept.first().map_or(f64::NAN, |k| cpu_capacity(k.3)),
                f0(ch.e2e("p50")),
                f0(ch.e2e("p99")),
                g("nasdaq", "1/10", "HotStuff").map_or("-".into(), |r| f0(r.e2e("p50"))),
                g("nasdaq", "1/10", "HotStuff").map_or("-".into(), |r| f0(r.e2e("p99"))),
                g("nasdaq", "1/10", "Algorand, no hot account")
                    .zip(g("nasdaq", "1/10", "Algorand"))
                    .map_or(String::new(), |(c, a)| format!(
                        " Algorand gives {} / {} ms there against {} / {} ms with the hot accounts (its section below).",
                        f0(c.e2e("p50")),
                        f0(c.e2e("p99")),
                        f0(a.e2e("p50")),
                        f0(a.e2e("p99"))
                    )),
            );
        }
        t.push('\n');
    }
    t.push_str(&algorand_reading(runs, alg));
    let _ = writeln!(
        t,
        "**Who wins where.** BLSMR-W wins latency, by half or more around the world against HotStuff and by an order of \
         magnitude against Algorand, wherever its CPU keeps up and commands rarely conflict: the Diablo curves at low \
         enough rates, the quiet seconds of the NASDAQ open. HotStuff wins the rest at sub-second latency: sustained \
         load above BLSMR-W's CPU ceiling (BLS per command at every replica against BLS per block), and above all \
         contention on hot accounts, where BLSMR-W loses its fast path, pays a PBFT instance per command and executes a \
         burst all or nothing; up to its own ceiling, its batch of {batch} per view. {} The trades are per-command \
         cryptography and dependency tracking (leaderless) against batching behind a leader that rotates around the \
         world (HotStuff) against batching behind a clock (Algorand: a block every round, whatever arrives); the rates \
         at which they turn are those of 2-core replicas with BLS prices, HotStuff's batch of {batch} and unlimited \
         bandwidth.\n",
        algorand_verdict(runs),
    );
    // ---- anything wrong
    let stopped: Vec<String> = runs
        .iter()
        .filter(|r| r.text("stop") != "end")
        .map(|r| format!("{} {} {}: `{}`", r.trace, r.scale, r.label, r.text("stop")))
        .collect();
    let _ = writeln!(
        t,
        "**Anything wrong?** {} The BLSMR-W collapses are extreme but explained above, not simulator faults as far as \
         these runs show: at NASDAQ 1/10 both cores are busy for the whole 40 s while almost nothing commits (messages \
         per committed transaction in the thousands and more, since few transactions commit), yet with the CPU model \
         off the same conflicts commit. The protocol has no admission control or back-off under overload: a design \
         question for the protocol, left as it is here. Reproduce: `cargo run --release -- run \
         scenarios/figures/traces-nasdaq.toml --seed 1 --set workload.rate_scale=0.1` (BLSMR-W as the file says), and \
         with `--set cpu.cores=0` for the CPU-off comparison. {}",
        if stopped.is_empty() {
            "No run broke an invariant, panicked or hit a limit: every run stopped at its end.".to_string()
        } else {
            format!("Runs that stopped early: {}.", stopped.join("; "))
        },
        algorand_oddities(runs),
    );
    t
}

/// The reading's Algorand sections: its round, its latency, the NASDAQ opening, its goodput
/// column, its capacity, and 600 users.
fn algorand_reading(runs: &[Run], alg: &AlgSetup) -> String {
    let mut t = String::new();
    let base: Vec<&Run> = runs.iter().filter(|r| r.label == "Algorand").collect();
    let six = alg_runs(runs, alg.s.replicas.n);
    let (Some(first), Some(round)) = (base.first(), round_estimate(&six)) else { return t };
    t.push_str(&algorand_round(&six, first, round, alg));
    t.push_str(&algorand_latency(runs, &base, round));
    t.push_str(&algorand_goodput(runs, alg, round));
    t.push_str(&algorand_many_users(runs, alg, round));
    t
}

fn algorand_round(six: &[&Run], first: &Run, round: f64, alg: &AlgSetup) -> String {
    let (lo, hi) = span(six.iter().filter_map(|r| r.round_s()));
    let steps = steps_per_round(first).unwrap_or(f64::NAN);
    let step_ms = (round - alg.filter_s()) * 1e3 / steps;
    let needed = alg.voters_needed(alg.s.replicas.n);
    let clean = six.iter().all(|r| {
        r.counter("empty_rounds") == Some(0.0)
            && r.counter("step_timeouts") == Some(0.0)
            && r.counter("final_rounds") == r.rounds()
    });
    format!(
        "**Algorand: a clock.** Over the {} runs with {} users, run length / rounds decided gives {:.2}-{:.2} s per \
         round (the diagnostics' last column); that is an upper bound, since every run ends inside a round. {} Of a round, \
         {} s is the filter timeout (a user votes for the best proposal it has seen when it expires) and the rest, about \
         {} ms, is {} voting steps (two reduction steps and one BinaryBA* step per round; FINAL is counted alongside the \
         next round), {} ms each. With {} users of equal stake each holds 1/{} of every committee's expected weight, so \
         a step's threshold ({} of {}) needs the votes of {needed} users: its own and the {} nearest others', whose \
         one-way delay averages {} ms over the users on this matrix, plus the {} ms gossip batch and the CPU. {}\n\n",
        six.len(),
        alg.s.replicas.n,
        lo,
        hi,
        match round_bounds(six) {
            Some((a, b)) => format!(
                "If rounds are periodic from t = 0 and the same in every run, each run bounds the round between run \
                 length / (rounds + 1) and run length / rounds, and these bounds intersect in {a:.3}-{b:.3} s: one round \
                 length, about {round:.2} s, whatever the trace, the rate or the accounts."
            ),
            None => "The runs' bounds (run length / (rounds + 1), run length / rounds) do not intersect: the round \
                     length differs between runs."
                .into(),
        },
        alg.filter_s(),
        f0((round - alg.filter_s()) * 1e3),
        f0(steps),
        f0(step_ms),
        alg.s.replicas.n,
        alg.s.replicas.n,
        alg.cfg.reduction.threshold,
        alg.cfg.reduction.expected,
        needed.saturating_sub(1),
        alg.step_delay_ms().map_or("-".into(), f0),
        alg.cfg.gossip_batch.as_millis_f64(),
        if clean {
            "In every run every round decided a proposed block (no empty round), no step timed out, and every round \
             reached its FINAL threshold."
        } else {
            "Some runs had empty rounds, step timeouts or rounds without FINAL: see the diagnostics."
        },
    )
}

fn algorand_latency(runs: &[Run], base: &[&Run], round: f64) -> String {
    let g = |t: &str, sc: &str, l: &str| find(runs, t, sc, l);
    let diablo: Vec<&Run> = base.iter().copied().filter(|r| r.trace != "nasdaq").collect();
    let nasdaq: Vec<&Run> = base.iter().copied().filter(|r| r.trace == "nasdaq").collect();
    let p50 = span(diablo.iter().map(|r| r.e2e("p50")));
    let p99 = span(diablo.iter().map(|r| r.e2e("p99")));
    let reply = span(diablo.iter().map(|r| r.e2e("p50") - r.num("latency_ms.consensus.p50")));
    let load = span(diablo.iter().map(|r| r.num("offered_tps")));
    let mut t = format!(
        "**Algorand's latency: waiting for a block, then a round.** A transaction enters its user's pool, is \
         gossiped, and goes into the block proposed at the start of the next round; that round runs its filter timeout \
         and its steps, and the user the client trusts replies once FINAL certifies the block. So a transaction takes \
         between one and two rounds, spread evenly when arrivals are: p50 about 1.5 rounds, p99 about 2. On the Diablo \
         curves: p50 {} s ({} rounds of {round:.2} s), p99 {} s ({} rounds), the reply {} ms of it (the \
         trusted user is in the client's region), from {} to {} tx/s offered: the load changes how full the blocks are, \
         not how long a round takes.\n\n",
        secs_range(p50),
        range_text((p50.0 / 1e3 / round, p50.1 / 1e3 / round), 2),
        secs_range(p99),
        range_text((p99.0 / 1e3 / round, p99.1 / 1e3 / round), 2),
        range_text(reply, 0),
        f0(load.0),
        f0(load.1),
    );
    let Some(a) = g("nasdaq", "1/10", "Algorand") else { return t };
    let Some(w) = a.first_confirmed() else { return t };
    let np50 = span(nasdaq.iter().map(|r| r.e2e("p50")));
    let _ = write!(
        t,
        "**The NASDAQ open: the worst phase, and no cost for hot accounts.** On NASDAQ Algorand's p50 is {} s at every \
         rate, about {} ms more than on the Diablo curves. Every user starts round 1 at t = 0 and its proposers assemble \
         round 1's block at once, from empty pools; the opening burst, which starts at t = 0 too, misses it and goes \
         whole into round 2's block: at 1/10 no window before {} s confirms anything, and that window confirms {} \
         transactions at once (p50 {} ms). A burst arriving at a random moment of a round would wait half a round less \
         on average. The hot accounts themselves cost nothing: a block is an ordered list of transfers, with no \
         dependency tracking (and, as for HotStuff, users do not execute the ledger in this model){}.\n\n",
        secs_range(np50),
        f0((np50.0 + np50.1 - p50.0 - p50.1) / 2.0),
        f0(w.start_s),
        f0(w.count as f64),
        f0(w.p50),
        g("nasdaq", "1/10", "Algorand, no hot account").map_or(String::new(), |c| format!(
            ": at 1/10 its p50 / p99 are {} / {} ms with the hot accounts and {} / {} ms in the control on uncontended \
             accounts",
            f0(a.e2e("p50")),
            f0(a.e2e("p99")),
            f0(c.e2e("p50")),
            f0(c.e2e("p99"))
        )),
    );
    t
}

fn algorand_goodput(runs: &[Run], alg: &AlgSetup, round: f64) -> String {
    let g = |t: &str, sc: &str, l: &str| find(runs, t, sc, l);
    let mut t = String::new();
    if let Some(a) = g("dota2", "1/10", "Algorand") {
        let _ = write!(
            t,
            "**Algorand's goodput column.** In the Diablo runs Algorand's goodput is below the offered load though it \
             keeps up (dota2 1/10: {} of {} tx/s): goodput counts the confirmations inside the measured window, from \
             {} s to {} s, and Algorand confirms nothing before {} s (round 2's block; round 1's was proposed empty at \
             t = 0), then confirms what arrives in the window's last seconds after the window. The over-time plots show \
             one block's worth every round and nothing between. Its unconfirmed transactions are those whose round ends \
             after the run: its worst latency ({} ms) is longer than the {} s drain{}. Over the run it commits {} of the \
             {} transactions submitted (warm-up included).\n\n",
            f0(a.num("goodput_tps")),
            f0(a.num("offered_tps")),
            a.num("warmup_s"),
            a.num("duration_s"),
            a.first_confirmed().map_or("-".into(), |w| f0(w.start_s)),
            f0(a.num("latency_ms.e2e.max")),
            a.num("drain_s"),
            match (g("dota2", "1/5", "Algorand"), g("dota2", "1/5", "Algorand, drain 10 s")) {
                (Some(a5), Some(d)) => format!(
                    ", and at dota2 1/5 a {} s drain leaves {} of {} unconfirmed instead of {}",
                    d.num("drain_s"),
                    d.text("unconfirmed_tx"),
                    d.text("submitted_tx"),
                    a5.text("unconfirmed_tx")
                ),
                _ => String::new(),
            },
            a.text("committed_tx"),
            f0(a.submitted_all()),
        );
    }
    let six: Vec<&Run> = runs.iter().filter(|r| r.label == "Algorand").collect();
    let Some(full) = six.iter().copied().max_by(|a, b| a.max_block().total_cmp(&b.max_block())) else { return t };
    let _ = write!(
        t,
        "**Algorand's capacity.** A block holds up to {} KiB of transactions, {} of these {}-byte transfers, one block \
         per round: about {} tx/s. The fullest block of the set holds {} transactions ({:.0}% of a block, {} {}): every \
         load here is far below that, which is why Algorand's latency does not move with the load. Links have unlimited \
         bandwidth here, as for every protocol, so a block costs its receivers only CPU.\n\n",
        alg.cfg.block_max_bytes / 1024,
        f0(alg.block_txs()),
        alg.s.workload.tx_size_bytes,
        f0(alg.block_txs() / round),
        f0(full.max_block()),
        100.0 * full.max_block() / alg.block_txs(),
        full.trace,
        full.scale,
    );
    t
}

fn algorand_many_users(runs: &[Run], alg: &AlgSetup, round: f64) -> String {
    let pairs = many_pairs(runs);
    if pairs.is_empty() {
        return String::new();
    }
    let many = alg_runs(runs, MANY_USERS);
    let many_round = round_estimate(&many).unwrap_or(f64::NAN);
    let cpu_off = find(runs, "nasdaq", "1/100", MANY_CPU_OFF_LABEL);
    let cells: Vec<String> = pairs
        .iter()
        .map(|(m, a)| {
            format!(
                "{} {}: p50 / p99 {} / {} ms against {} / {} ms, {} rounds against {}, CPU {:.1}% busy against {:.1}%",
                m.trace,
                m.scale,
                f0(m.e2e("p50")),
                f0(m.e2e("p99")),
                f0(a.e2e("p50")),
                f0(a.e2e("p99")),
                m.rounds().map_or("-".into(), f0),
                a.rounds().map_or("-".into(), f0),
                100.0 * m.num("cpu_util_mean"),
                100.0 * a.num("cpu_util_mean"),
            )
        })
        .collect();
    let votes = |r: &Run| Some(r.counter("votes_counted")? / r.rounds()?);
    let (m0, a0) = pairs[0];
    format!(
        "**Algorand with {MANY_USERS} users: the same clock, a little slower.** {}. The same stake spread over {MANY_USERS} \
         users: {} relays, every other user linked to {} of them (chosen at random, so not necessarily in its region), \
         so a vote crosses up to three links (user, relay, relay, user) instead of one, and a user counts about {} votes \
         a round instead of {} (each a VRF and a signature check). The round grows from about {round:.2} s to about \
         {many_round:.2} s{}. Latency is set by the filter timeout and the steps, and a step by the network's diameter, \
         not by n.\n\n",
        cells.join("; "),
        alg.cfg.relay_count(MANY_USERS),
        alg.cfg.fanout,
        votes(m0).map_or("-".into(), f0),
        votes(a0).map_or("-".into(), f0),
        cpu_off.map_or(String::new(), |c| format!(
            "; with the CPU model off ({} {}) the p50 is {} ms against {} ms with it: of the {} ms that {MANY_USERS} \
             users add, the checks account for {} ms and the longer paths for {} ms",
            m0.trace,
            m0.scale,
            f0(c.e2e("p50")),
            f0(m0.e2e("p50")),
            f0(m0.e2e("p50") - a0.e2e("p50")),
            f0(m0.e2e("p50") - c.e2e("p50")),
            f0(c.e2e("p50") - a0.e2e("p50")),
        )),
    )
}

/// Algorand's part of "Who wins where".
fn algorand_verdict(runs: &[Run]) -> String {
    if !algorand_holds(runs) {
        return "Algorand: see its sections above; not every run held up as the others did.".into();
    }
    let n = runs.iter().find(|r| r.label == "Algorand").map_or(f64::NAN, |r| r.num("n_replicas"));
    let wins = algorand_wins(runs);
    let mut t = format!(
        "Algorand's seconds are set by its filter timeout and steps, and nothing moves them: not the load (its blocks \
         are far from full), not the hot accounts, not a burst, not {} times more users. So it is the slowest \
         wherever the others keep up, and wins where they break: {}",
        f0(f64::from(MANY_USERS) / n),
        if wins.is_empty() {
            "nowhere in this set".to_string()
        } else {
            wins.iter().map(|(t, s, w)| format!("{t} {s}, over {w}")).collect::<Vec<_>>().join("; ")
        }
    );
    let g = |l: &str| find(runs, "dota2", "1/5", l);
    if let (Some(a), Some(h), Some(h8)) = (g("Algorand"), g("HotStuff"), g("HotStuff, batch 800"))
        && h.num("unconfirmed_tx") > a.num("unconfirmed_tx")
        && h.e2e("p99") > a.e2e("p99")
    {
        let _ = write!(
            t,
            ". At a fifth of Dota 2, where HotStuff's batch of 400 falls behind (p99 {} ms, {} unconfirmed) and \
             Algorand keeps up (p99 {} ms, {} unconfirmed{}), HotStuff with batches of 800 keeps up too, with a p50 \
             {:.0} times lower than Algorand's",
            f0(h.e2e("p99")),
            h.text("unconfirmed_tx"),
            f0(a.e2e("p99")),
            a.text("unconfirmed_tx"),
            if g("Algorand, drain 10 s").is_some_and(|d| d.num("unconfirmed_tx") == 0.0) {
                ", all cut off by the run's end"
            } else {
                ""
            },
            a.e2e("p50") / h8.e2e("p50"),
        );
    }
    t.push('.');
    t
}

/// What looked odd in Algorand's runs, for "Anything wrong?".
fn algorand_oddities(runs: &[Run]) -> String {
    let algs: Vec<&Run> = runs.iter().filter(|r| r.proto == Proto::Algorand).collect();
    if algs.is_empty() {
        return String::new();
    }
    let fetched: f64 = algs.iter().filter_map(|r| r.counter("fetches")).sum();
    let hung: f64 = algs.iter().filter_map(|r| r.counter("hung")).sum();
    let caught: f64 = algs.iter().filter_map(|r| r.counter("caught_up")).sum();
    format!(
        "Algorand: over its {} runs no user hung in BinaryBA* ({} hung), fetched a block it had not received ({} \
         fetches) or had to follow a certificate it was behind ({} caught up). Two things in its numbers are artefacts \
         of the setting, not of the protocol, explained above: the first round's block is always empty, since every user \
         proposes at t = 0 before any transaction has arrived (so the NASDAQ burst waits a whole round, the worst \
         phase), and a {} s drain is shorter than its worst latency, so a short run leaves its last round unconfirmed. \
         Reproduce: `cargo run --release -- run scenarios/figures/traces-nasdaq.toml --seed 1 --set protocol=algorand \
         --set clients.send_to=nearest --set algorand.preset=mainnet --set workload.rate_scale=0.1`.",
        algs.len(),
        f0(hung),
        f0(fetched),
        f0(caught),
        algs.iter().map(|r| r.num("drain_s")).fold(f64::INFINITY, f64::min),
    )
}
