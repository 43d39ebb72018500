//! The leaderless figure sets of `cargo xtask figures`, written to docs/figures/leaderless/:
//! `leaderless/regions` (end-to-end latency per client region on the GCP 2019 matrix for BLSMR-W,
//! BLSMR-E and chained HotStuff, with and without a misbehaving replica, against closed-form
//! models of each protocol's message pattern), `leaderless/conflicts` (fast-path ratio,
//! dependency sets and latency against contention) and `leaderless/saturation` (BLSMR-W's
//! throughput at saturation with BLS costs for n = 6, 11, 16, HotStuff for reference).
//!
//! As in the other sets, every simulation runs in a child process of the release-built xtask
//! (`figures-leaderless-case FILE [--set key=value]...`), one at a time; the child prints the
//! run's metrics, its protocol counters and the end-to-end latency per client region as lines of
//! text. Runs are seeded: every table is the same on every rerun; wall times are in their own
//! section. Each set also rewrites docs/figures/leaderless/README.md, which gathers the readings
//! of the pages present.

use crate::figures::{plot, write};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use scenarios::model::{Delay, Scenario};
use sim_core::Time;
use sim_core::metrics::{LatencyStats, Window};

// ===================================================================================== child

/// `xtask figures-leaderless-case FILE [--set key=value]...`: runs one scenario in this (release)
/// process and prints `run key=value...`, `counter NAME VALUE` lines, `region NAME COUNT
/// UNCONFIRMED P50 P90 P99 MEAN` lines (end-to-end latency in ms of the transactions submitted in
/// the measurement window, by client region) and, if the run broke an invariant, `violation TEXT`.
pub fn case(args: &[String]) -> Result<(), String> {
    let (file, sets) = crate::figures::case_args(args, "figures-leaderless-case")?;
    let s = scenarios::parse::load(Path::new(file), &sets, None).map_err(|d| d.to_string())?;
    let t = Instant::now();
    let report = scenarios::run::run(&s, &mut |_, _| {});
    let wall = t.elapsed().as_secs_f64();
    let (m, r) = (&report.summary, &report.result);
    let end_ns = r.end_time.as_nanos().max(1) as f64;
    let correct: Vec<&sim_core::NodeReport> = r.nodes.iter().filter(|n| n.is_replica && n.correct).collect();
    let util = |n: &sim_core::NodeReport| n.cpu_busy_ns as f64 / (end_ns * f64::from(n.cores.max(1)));
    let stop = crate::figures::stop_label(&r.stop);
    let fields: Vec<(&str, String)> = vec![
        ("offered_tps", format!("{}", m.offered_tps)),
        ("goodput_tps", format!("{}", m.goodput_tps)),
        ("submitted_tx", m.submitted_tx.to_string()),
        ("committed_tx", m.committed_tx.to_string()),
        ("unconfirmed_tx", m.unconfirmed_tx.to_string()),
        ("e2e_count", m.e2e.count.to_string()),
        ("e2e_p50_ms", format!("{}", m.e2e.p50_ms)),
        ("e2e_p90_ms", format!("{}", m.e2e.p90_ms)),
        ("e2e_p99_ms", format!("{}", m.e2e.p99_ms)),
        ("e2e_mean_ms", format!("{}", m.e2e.mean_ms)),
        ("consensus_p50_ms", format!("{}", m.consensus.p50_ms)),
        ("consensus_mean_ms", format!("{}", m.consensus.mean_ms)),
        ("execution_p50_ms", format!("{}", m.execution.p50_ms)),
        ("cpu_util_max", format!("{}", correct.iter().map(|n| util(n)).fold(0.0, f64::max))),
        ("cpu_busy_ms", format!("{}", correct.iter().map(|n| n.cpu_busy_ns as f64 / 1e6).sum::<f64>())),
        ("correct_replicas", correct.len().to_string()),
        ("events", r.events.to_string()),
        ("stop", stop),
        ("digest", format!("{:016x}", r.digest)),
        ("wall_s", format!("{wall}")),
    ];
    let line: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("run {}", line.join(" "));
    // Run-level counters (the monitor's), then per-replica ones as their maximum over correct replicas.
    let mut counters: BTreeMap<&str, u64> = r.counters.iter().copied().collect();
    for n in &correct {
        for &(name, v) in &n.counters {
            if !r.counters.iter().any(|c| c.0 == name) {
                let e = counters.entry(name).or_insert(0);
                *e = (*e).max(v);
            }
        }
    }
    for (name, v) in counters {
        println!("counter {name} {v}");
    }
    let window = Window { start: Time::from_secs_f64(s.warmup_s), end: Time::from_secs_f64(s.duration_s) };
    let mut by_region: Vec<(String, Vec<u64>, u64)> = Vec::new();
    for rec in r.txs.iter().filter(|rec| window.contains(rec.submitted)) {
        let name = &report.lowered.node_regions[rec.client.idx()];
        let i = match by_region.iter().position(|g| &g.0 == name) {
            Some(i) => i,
            None => {
                by_region.push((name.clone(), Vec::new(), 0));
                by_region.len() - 1
            }
        };
        if rec.is_confirmed() {
            by_region[i].1.push((rec.confirmed - rec.submitted).as_nanos());
        } else {
            by_region[i].2 += 1;
        }
    }
    for (name, mut lat, unconfirmed) in by_region {
        let st = LatencyStats::from_nanos(&mut lat);
        println!("region {name} {} {unconfirmed} {} {} {} {}", st.count, st.p50_ms, st.p90_ms, st.p99_ms, st.mean_ms);
    }
    if let sim_core::Stop::Violation(v) = &r.stop {
        println!(
            "violation `{}` at replica {} at {:.6} s: {}",
            v.invariant,
            v.replica.0,
            v.at_ns as f64 / 1e9,
            v.detail.replace('\n', " ")
        );
    }
    Ok(())
}

// ===================================================================================== runner

/// End-to-end latency of one client region in one run (ms).
#[derive(Clone, Debug)]
struct RegionStat {
    name: String,
    count: u64,
    unconfirmed: u64,
    p50: f64,
    p90: f64,
    p99: f64,
    mean: f64,
}

/// One run as the child printed it.
#[derive(Clone, Debug, Default)]
struct Run {
    label: String,
    vals: BTreeMap<String, String>,
    counters: BTreeMap<String, u64>,
    regions: Vec<RegionStat>,
    violation: Option<String>,
}

impl Run {
    fn parse(label: &str, out: &str) -> Result<Run, String> {
        let mut run = Run { label: label.to_string(), ..Run::default() };
        for line in out.lines() {
            let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
            match kind {
                "run" => {
                    run.vals = rest
                        .split_whitespace()
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                }
                "counter" => {
                    let (k, v) = rest.split_once(' ').ok_or(format!("bad counter line {line:?}"))?;
                    run.counters.insert(k.to_string(), v.parse().map_err(|e| format!("{line:?}: {e}"))?);
                }
                "region" => {
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).ok_or(format!("bad {line:?}"));
                    run.regions.push(RegionStat {
                        name: f.first().ok_or(format!("bad {line:?}"))?.to_string(),
                        count: num(1)? as u64,
                        unconfirmed: num(2)? as u64,
                        p50: num(3)?,
                        p90: num(4)?,
                        p99: num(5)?,
                        mean: num(6)?,
                    });
                }
                "violation" => run.violation = Some(rest.to_string()),
                _ => {}
            }
        }
        if run.vals.is_empty() {
            return Err(format!("run {label}: the child printed no metrics: {out:?}"));
        }
        Ok(run)
    }

    fn num(&self, k: &str) -> f64 {
        self.vals.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    }

    fn text(&self, k: &str) -> &str {
        self.vals.get(k).map_or("?", String::as_str)
    }

    fn counter(&self, k: &str) -> u64 {
        self.counters.get(k).copied().unwrap_or(0)
    }

    fn region(&self, name: &str) -> Option<&RegionStat> {
        self.regions.iter().find(|r| r.name == name)
    }

    /// Share of the commands coordinated by correct replicas that took the fast path, in percent.
    fn fast_pct(&self) -> Option<f64> {
        let (fast, slow) = (self.counter("fast_path"), self.counter("slow_path"));
        (fast + slow > 0).then(|| 100.0 * fast as f64 / (fast + slow) as f64)
    }

    /// CPU time per committed command per correct replica, in ms of one core.
    fn cpu_ms_per_cmd(&self) -> f64 {
        self.num("cpu_busy_ms") / self.num("committed_tx").max(1.0) / self.num("correct_replicas").max(1.0)
    }

    fn stopped_early(&self) -> bool {
        self.text("stop") != "end"
    }
}

struct Runner {
    exe: PathBuf,
    log: Vec<Run>,
}

impl Runner {
    fn run(&mut self, label: &str, file: &str, sets: &[String]) -> Result<Run, String> {
        let mut cmd = Command::new(&self.exe);
        cmd.arg("figures-leaderless-case").arg(file);
        for s in sets {
            cmd.arg("--set").arg(s);
        }
        let out = cmd.output().map_err(|e| format!("{}: {e}", self.exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "run {label} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let run = Run::parse(label, &String::from_utf8_lossy(&out.stdout))?;
        eprintln!(
            "  {label:<44} goodput {:>7.1}  e2e p50 {:>7.1} ms  p99 {:>7.1} ms  {:>5.1} s wall{}",
            run.num("goodput_tps"),
            run.num("e2e_p50_ms"),
            run.num("e2e_p99_ms"),
            run.num("wall_s"),
            if run.stopped_early() { format!("  STOP {}", run.text("stop")) } else { String::new() }
        );
        self.log.push(run.clone());
        Ok(run)
    }
}

// ===================================================================================== output helpers

fn out_dir(root_out: &Path) -> Result<PathBuf, String> {
    let dir = root_out.join("leaderless");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn f0(x: f64) -> String {
    if x.is_finite() { format!("{x:.0}") } else { "-".into() }
}

fn opt0(x: Option<f64>) -> String {
    x.map_or("-".into(), f0)
}

/// "p50 / p90" of a region, or of the whole run when `region` is None.
fn cell(run: Option<&Run>, region: Option<&str>) -> String {
    let Some(run) = run else { return "-".into() };
    let base = match region {
        Some(name) => match run.region(name) {
            Some(r) if r.count > 0 => format!("{} / {}", f0(r.p50), f0(r.p90)),
            _ => "none".into(),
        },
        None if run.num("e2e_count") > 0.0 => format!("{} / {}", f0(run.num("e2e_p50_ms")), f0(run.num("e2e_p90_ms"))),
        None => "none".into(),
    };
    if run.stopped_early() { format!("{base} ⚠") } else { base }
}

/// Every run of a set, with its deterministic metrics.
fn runs_csv(log: &[Run]) -> String {
    let mut t = String::from(
        "label,offered_tps,goodput_tps,e2e_count,e2e_p50_ms,e2e_p90_ms,e2e_p99_ms,e2e_mean_ms,consensus_p50_ms,\
         unconfirmed_tx,fast_path,slow_path,deps_mean,deps_max,recoveries,view_changes,cpu_util_max,\
         cpu_ms_per_cmd_per_replica,events,stop,digest\n",
    );
    for r in log {
        let _ = writeln!(
            t,
            "{},{:.1},{:.1},{},{:.3},{:.3},{:.3},{:.3},{:.3},{},{},{},{:.3},{},{},{},{:.4},{:.4},{},{},{}",
            r.label,
            r.num("offered_tps"),
            r.num("goodput_tps"),
            r.text("e2e_count"),
            r.num("e2e_p50_ms"),
            r.num("e2e_p90_ms"),
            r.num("e2e_p99_ms"),
            r.num("e2e_mean_ms"),
            r.num("consensus_p50_ms"),
            r.text("unconfirmed_tx"),
            r.counter("fast_path"),
            r.counter("slow_path"),
            r.counter("deps_mean_milli") as f64 / 1000.0,
            r.counter("deps_max"),
            r.counter("recovered_commands"),
            r.counter("view_changes"),
            r.num("cpu_util_max"),
            r.cpu_ms_per_cmd(),
            r.text("events"),
            r.text("stop"),
            r.text("digest"),
        );
    }
    t
}

/// Wall time of every run (the only thing that changes between reruns).
fn wall_table(log: &[Run], set_wall_s: f64) -> String {
    let mut t = String::from(
        "\n## Wall time\n\nThe only section that changes between reruns: seconds of wall time per simulation \
         (release build, one child process per run, run one at a time).\n\n| run | wall s | events |\n|---|---:|---:|\n",
    );
    let mut sum = 0.0;
    for r in log {
        let _ = writeln!(t, "| {} | {:.2} | {} |", r.label, r.num("wall_s"), r.text("events"));
        sum += r.num("wall_s");
    }
    let _ = writeln!(
        t,
        "| **{} runs** | {sum:.1} | |\n\nThe whole set, with process start-up and plotting: {set_wall_s:.1} s.",
        log.len()
    );
    t
}

/// Violations seen in a set's runs, as a markdown list (empty if none).
fn violations(log: &[Run]) -> String {
    let mut t = String::new();
    for r in log.iter().filter(|r| r.violation.is_some() || r.stopped_early()) {
        let _ = writeln!(
            t,
            "- **{}**: stopped with `{}`{}",
            r.label,
            r.text("stop"),
            r.violation.as_ref().map_or(String::new(), |v| format!(": {v}"))
        );
    }
    t
}

const READING_START: &str = "<!-- reading -->";
const READING_END: &str = "<!-- /reading -->";

/// Rewrites README.md from the readings of the pages present in `dir`.
fn write_readme(dir: &Path) -> Result<(), String> {
    let mut t = String::from(
        "# Leaderless BFT: figures\n\n\
         Written by `cargo xtask figures` (sets `leaderless/regions`, `leaderless/conflicts`, \
         `leaderless/saturation`; `--only NAME` runs one, `--quick` writes fewer points to \
         target/figures-quick/leaderless/). Code: `xtask/src/figures_leaderless.rs`; scenarios: \
         `scenarios/figures/leaderless-*.toml`, varied with `--set`. Every number comes from seeded runs, so the \
         tables are the same on every rerun; only the wall-time sections change. Each page has its tables, plots, \
         the CSV files behind them (`<set>.csv`, and `<set>-runs.csv` with every run and its digest) and its \
         reading, gathered here.\n\n\
         Protocols: **BLSMR-W** (`protocol = \"leaderless\"`, `variant = \"wintermute\"`: DDS quorums of \
         ceil((n+3f+1)/2), fast path on n identical replies, PBFT otherwise), **BLSMR-E** (`variant = \"epaxos\"`: \
         quorums of ceil((n+f+1)/2), which is 2f+1 at n = 3f+1, PBFT every time), **HotStuff** (`protocol = \"hotstuff\"`, chained, three-chain commit, \
         round-robin leaders) and, for reference, HotStuff with the two-chain rule (Jolteon / DiemBFT v4). \
         Latency is end-to-end: from the client's send to its holding f+1 matching replies.\n",
    );
    for (page, title) in [("regions.md", "Regions"), ("conflicts.md", "Conflicts"), ("saturation.md", "Saturation")] {
        let Ok(text) = std::fs::read_to_string(dir.join(page)) else {
            let _ = writeln!(
                t,
                "\n## {title}\n\nNot run yet (`cargo xtask figures --only leaderless/{}`).",
                page.trim_end_matches(".md")
            );
            continue;
        };
        let summary = text
            .find("**Summary.**")
            .and_then(|i| text[i..].split("\n\n").next())
            .map_or(String::new(), |s| format!("{}\n\n", s.trim()));
        let reading = text
            .split_once(READING_START)
            .and_then(|(_, rest)| rest.split_once(READING_END))
            .map_or("", |(r, _)| r.trim());
        let _ = writeln!(t, "\n## {title} ([{page}]({page}))\n\n{summary}{reading}");
    }
    write(&dir.join("README.md"), &t)
}

/// The CPU model of a scenario in words, from its parsed fields.
fn cpu_words(s: &Scenario) -> String {
    let c = &s.cpu;
    format!(
        "{} cores per replica, BLS12-381 prices of the `{}` profile charged per operation (sign {:.0} us, verify \
         {:.0} us, aggregate {:.1} us per signature, aggregate-verify {:.0} us), client signatures (Ed25519-class) \
         {:.0} us to verify, {:.0} us per message plus {:.0} us per KiB received; signatures modeled, not computed",
        c.cores,
        c.profile.name,
        c.profile.sign_us,
        c.profile.verify_us,
        c.profile.aggregate_per_sig_us,
        c.profile.verify_aggregate_us,
        c.client_verify_us,
        c.base_us,
        c.per_kib_us
    )
}

// ===================================================================================== models

/// Where the replicas are and the one-way delays between regions (ms).
#[derive(Clone, Debug)]
struct Geo {
    /// One-way delay from region a to region b.
    m: Vec<Vec<f64>>,
    names: Vec<String>,
    /// Region index of each replica.
    rep: Vec<usize>,
    f: usize,
}

impl Geo {
    fn from_scenario(s: &Scenario) -> Result<Geo, String> {
        let Delay::Matrix { regions, one_way_ms, .. } = &s.network.delay else {
            return Err(format!("scenario {}: the models need a delay matrix", s.name));
        };
        let list = &s.replicas.regions;
        let rep = (0..s.replicas.n as usize)
            .map(|i| regions.iter().position(|r| *r == list[i % list.len()]).ok_or(format!("no region {}", list[i])))
            .collect::<Result<Vec<usize>, String>>()?;
        Ok(Geo { m: one_way_ms.clone(), names: regions.clone(), rep, f: s.replicas.f as usize })
    }

    fn from_preset(preset: &str, replicas: &[&str], f: usize) -> Result<Geo, String> {
        let (names, m) = scenarios::presets::get(preset).ok_or(format!("no preset {preset}"))?;
        let rep = replicas
            .iter()
            .map(|r| names.iter().position(|x| x == r).ok_or(format!("no region {r} in {preset}")))
            .collect::<Result<Vec<usize>, String>>()?;
        Ok(Geo { m, names, rep, f })
    }

    fn n(&self) -> usize {
        self.rep.len()
    }

    /// Replica i to replica j.
    fn d(&self, i: usize, j: usize) -> f64 {
        if i == j { 0.0 } else { self.m[self.rep[i]][self.rep[j]] }
    }

    /// The client regions: the replicas' regions, each once, in replica order.
    fn client_regions(&self) -> Vec<usize> {
        let mut v: Vec<usize> = Vec::new();
        for &r in &self.rep {
            if !v.contains(&r) {
                v.push(r);
            }
        }
        v
    }

    /// The replica a client of region r sends to with `send_to = "nearest"`.
    fn nearest(&self, r: usize) -> usize {
        (0..self.n()).fold(0, |best, j| if self.m[r][self.rep[j]] < self.m[r][self.rep[best]] { j } else { best })
    }

    /// PBFT's quorum for n, f: any two share a correct replica.
    fn pbft_quorum(&self) -> usize {
        (self.n() + self.f + 1).div_ceil(2)
    }

    /// When the client of region r holds f+1 replies, given when each replica committed.
    fn replies(&self, r: usize, commits: &[f64]) -> f64 {
        let arrivals: Vec<f64> = (0..self.n()).map(|j| commits[j] + self.m[self.rep[j]][r]).collect();
        kth(arrivals, self.f + 1)
    }
}

/// The k-th smallest (1-based) of `v`; infinity if there are fewer finite values.
fn kth(mut v: Vec<f64>, k: usize) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(k - 1).copied().unwrap_or(f64::INFINITY)
}

/// A single-shot PBFT instance led by `leader`, which proposes at `start`: prepare and commit
/// votes all-to-all, a quorum of each; returns when each replica decides (infinity if it does
/// not take part).
fn pbft(g: &Geo, leader: usize, start: f64, alive: &[bool]) -> Vec<f64> {
    let (n, q) = (g.n(), g.pbft_quorum());
    let inf = f64::INFINITY;
    let proposed: Vec<f64> = (0..n).map(|i| if alive[i] { start + g.d(leader, i) } else { inf }).collect();
    let step = |sent: &[f64]| -> Vec<f64> {
        (0..n).map(|i| if alive[i] { kth((0..n).map(|j| sent[j] + g.d(j, i)).collect(), q) } else { inf }).collect()
    };
    step(&step(&proposed))
}

/// Which DDS a leaderless model runs.
#[derive(Clone, Copy, Debug)]
enum Dds {
    /// Quorum ceil((n+3f+1)/2), fast path on n identical replies within `wait_ms` of the quorum.
    Wintermute { wait_ms: f64 },
    /// A quorum of `quorum` replies, then PBFT.
    Epaxos { quorum: usize },
}

/// What the misbehaving replica does in a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    SpoilSilent,
    SpoilDifferent,
    Silent,
}

impl Fault {
    fn label(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::SpoilSilent => "spoil_silent",
            Fault::SpoilDifferent => "spoil_different",
            Fault::Silent => "silent",
        }
    }
}

/// When each replica commits a command that coordinator `c` received at time 0 (CPU off, no
/// conflicts); `None` when `c` is the misbehaving replica (its own clients get what it decides).
fn leaderless_commits(g: &Geo, c: usize, dds: Dds, fault: Fault, byz: usize) -> Option<Vec<f64>> {
    if fault != Fault::None && c == byz {
        return None;
    }
    let n = g.n();
    let inf = f64::INFINITY;
    let alive: Vec<bool> = (0..n).map(|i| !(fault == Fault::Silent && i == byz)).collect();
    let no_reply = |j: usize| j == byz && matches!(fault, Fault::Silent | Fault::SpoilSilent);
    let replies: Vec<f64> = (0..n).map(|j| if no_reply(j) { inf } else { 2.0 * g.d(c, j) }).collect();
    let all_in = replies.iter().copied().fold(0.0, f64::max);
    let start = match dds {
        Dds::Wintermute { wait_ms } => {
            let quorum = kth(replies.clone(), (n + 3 * g.f + 1).div_ceil(2));
            if all_in <= quorum + wait_ms && fault != Fault::SpoilDifferent {
                return Some((0..n).map(|i| if alive[i] { all_in + g.d(c, i) } else { inf }).collect());
            }
            all_in.min(quorum + wait_ms)
        }
        Dds::Epaxos { quorum } => kth(replies, quorum),
    };
    let decided = pbft(g, c, start, &alive);
    // The leader broadcasts its decision with the certificate: a replica commits on whichever comes first.
    Some((0..n).map(|i| if alive[i] { decided[i].min(decided[c] + g.d(c, i)) } else { inf }).collect())
}

/// End-to-end latency of a client in region r that sends to its nearest replica (and, if that one
/// is silent, resends to the next replica by id after `retry_ms`).
fn leaderless_e2e(g: &Geo, r: usize, dds: Dds, fault: Fault, byz: usize, retry_ms: f64) -> Option<f64> {
    let c = g.nearest(r);
    if fault == Fault::Silent && c == byz {
        let next = (byz + 1) % g.n();
        let commits = leaderless_commits(g, next, dds, fault, byz)?;
        return Some(retry_ms + g.m[r][g.rep[next]] + g.replies(r, &commits));
    }
    let commits = leaderless_commits(g, c, dds, fault, byz)?;
    Some(g.m[r][g.rep[c]] + g.replies(r, &commits))
}

/// Distribution of the end-to-end latency of chained HotStuff (no fault, CPU off) for a client
/// of region r that sends to every replica, at a uniformly random time: round-robin leaders,
/// each proposing as soon as it holds n-f votes for its predecessor's block; a transaction goes
/// in the first block whose leader has it when proposing; a block commits when the QC of the
/// block `chain - 1` views later is formed (three-chain: 3, two-chain: 2).
fn hotstuff_e2e(g: &Geo, r: usize, chain: usize) -> LatencyStats {
    let n = g.n();
    let views = 60 * n;
    let mut t = vec![0.0f64; views + 1];
    for v in 0..views {
        let (l, next) = (v % n, (v + 1) % n);
        t[v + 1] = kth((0..n).map(|i| t[v] + g.d(l, i) + g.d(i, next)).collect(), n - g.f);
    }
    let (from, to) = (t[20 * n], t[40 * n]);
    let mut samples: Vec<u64> = Vec::new();
    let mut x = from;
    let mut v0 = 20 * n;
    while x < to {
        while t[v0] < x {
            v0 += 1;
        }
        let v = (v0..views - chain).find(|&v| t[v] >= x + g.m[r][g.rep[v % n]]).expect("a later view");
        let cv = v + chain;
        let commits: Vec<f64> = (0..n).map(|i| t[cv] + g.d(cv % n, i)).collect();
        samples.push(((g.replies(r, &commits) - x) * 1e6).round() as u64);
        x += 0.25;
    }
    LatencyStats::from_nanos(&mut samples)
}

/// Mean duration of a failure-free chained HotStuff view in the model (ms): the next leader
/// proposes when n - f votes for the current block are in.
fn hotstuff_view_ms(g: &Geo) -> f64 {
    let n = g.n();
    let mut t = 0.0;
    for v in 0..10 * n {
        let (l, next) = (v % n, (v + 1) % n);
        t = kth((0..n).map(|i| t + g.d(l, i) + g.d(i, next)).collect(), n - g.f);
    }
    t / (10 * n) as f64
}

/// PBFT with the client sending to `leader`: end-to-end latency for a client of region r.
fn pbft_e2e(g: &Geo, r: usize, leader: usize) -> f64 {
    let alive = vec![true; g.n()];
    let decided = pbft(g, leader, g.m[r][g.rep[leader]], &alive);
    g.replies(r, &decided)
}

/// The PBFT leader with the lowest mean end-to-end latency over the client regions, and that latency per region.
fn pbft_best_leader(g: &Geo) -> (usize, Vec<f64>) {
    let regions = g.client_regions();
    let per = |l: usize| regions.iter().map(|&r| pbft_e2e(g, r, l)).collect::<Vec<f64>>();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let best = (0..g.n()).min_by(|&a, &b| mean(&per(a)).total_cmp(&mean(&per(b)))).expect("n >= 1");
    (best, per(best))
}

/// The design note's two numbers in our model: Wintermute's fast path at the coordinator (the
/// round trip to the farthest replica, averaged over coordinators) and PBFT's commit latency
/// with the best leader (from the leader's proposal to each replica's decision, averaged over
/// replicas, for the leader that minimises it).
fn note_numbers(g: &Geo) -> (f64, f64, f64, f64) {
    let n = g.n();
    let fast: Vec<f64> = (0..n).map(|c| (0..n).map(|j| 2.0 * g.d(c, j)).fold(0.0, f64::max)).collect();
    let alive = vec![true; n];
    let pbft_mean = |l: usize| pbft(g, l, 0.0, &alive).iter().sum::<f64>() / n as f64;
    let best = (0..n).map(pbft_mean).fold(f64::INFINITY, f64::min);
    let lo = fast.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = fast.iter().copied().fold(0.0, f64::max);
    (fast.iter().sum::<f64>() / n as f64, lo, hi, best)
}

// ===================================================================================== set: regions

struct RegionSet {
    key: &'static str,
    title: &'static str,
    file: &'static str,
}

const REGION_SETS: [RegionSet; 2] = [
    RegionSet { key: "us-eu", title: "US+EU", file: "scenarios/figures/leaderless-us-eu.toml" },
    RegionSet { key: "global", title: "Around the world", file: "scenarios/figures/leaderless-global.toml" },
];

/// The region set the design note's US+EU numbers come out of in our model (a guess: the note
/// does not name its regions).
const COMPACT_US_EU: [&str; 6] =
    ["northamerica-northeast1", "us-east4", "europe-north1", "europe-west1", "europe-west2", "europe-west3"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    W,
    W50,
    E,
    Hs,
    Hs2,
}

impl Proto {
    fn label(self) -> &'static str {
        match self {
            Proto::W => "BLSMR-W",
            Proto::W50 => "BLSMR-W, wait 50 ms",
            Proto::E => "BLSMR-E",
            Proto::Hs => "HotStuff",
            Proto::Hs2 => "HotStuff 2-chain",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Proto::W => "w",
            Proto::W50 => "w-wait50",
            Proto::E => "e",
            Proto::Hs => "hs",
            Proto::Hs2 => "hs2",
        }
    }

    fn sets(self) -> Vec<String> {
        let v: &[&str] = match self {
            Proto::W => &[],
            Proto::W50 => &["leaderless.fast_path_wait_ms=50"],
            Proto::E => &["leaderless.variant=epaxos"],
            Proto::Hs => &["protocol=hotstuff", "clients.send_to=all"],
            Proto::Hs2 => &["protocol=hotstuff", "clients.send_to=all", "hotstuff.variant=two_chain"],
        };
        v.iter().map(|s| s.to_string()).collect()
    }
}

/// The misbehaving replica of the regions set.
const BYZ: usize = 0;

fn fault_set(f: Fault) -> String {
    match f {
        Fault::None => "byzantine=[]".into(),
        _ => format!("byzantine=[{{ behavior = \"{}\", replicas = [{BYZ}] }}]", f.label()),
    }
}

const REGION_CASES: &[(Proto, Fault)] = &[
    (Proto::W, Fault::None),
    (Proto::W, Fault::SpoilSilent),
    (Proto::W, Fault::SpoilDifferent),
    (Proto::W, Fault::Silent),
    (Proto::W50, Fault::None),
    (Proto::W50, Fault::SpoilSilent),
    (Proto::E, Fault::None),
    (Proto::E, Fault::SpoilSilent),
    (Proto::E, Fault::SpoilDifferent),
    (Proto::E, Fault::Silent),
    (Proto::Hs, Fault::None),
    (Proto::Hs, Fault::Silent),
    (Proto::Hs2, Fault::None),
    (Proto::Hs2, Fault::Silent),
];

const REGION_CASES_QUICK: &[(Proto, Fault)] = &[
    (Proto::W, Fault::None),
    (Proto::W, Fault::SpoilSilent),
    (Proto::W, Fault::Silent),
    (Proto::E, Fault::None),
    (Proto::Hs, Fault::None),
    (Proto::Hs, Fault::Silent),
];

/// The runs of the regions set, by (region set, CPU on, protocol, fault).
struct RegionRuns(Vec<(&'static str, bool, Proto, Fault, Run)>);

impl RegionRuns {
    fn get(&self, set: &str, cpu: bool, p: Proto, f: Fault) -> Option<&Run> {
        self.0.iter().find(|r| r.0 == set && r.1 == cpu && r.2 == p && r.3 == f).map(|r| &r.4)
    }
}

/// The closed-form models of one region set (CPU off), per client region.
struct RegionModels {
    geo: Geo,
    retry_ms: f64,
    wait_ms: f64,
    hs: Vec<LatencyStats>,
    hs2: Vec<LatencyStats>,
    pbft_leader: usize,
    pbft: Vec<f64>,
    hs_view_ms: f64,
}

impl RegionModels {
    fn new(s: &Scenario) -> Result<RegionModels, String> {
        let geo = Geo::from_scenario(s)?;
        let regions = geo.client_regions();
        let hs = regions.iter().map(|&r| hotstuff_e2e(&geo, r, 3)).collect();
        let hs2 = regions.iter().map(|&r| hotstuff_e2e(&geo, r, 2)).collect();
        let (pbft_leader, pbft) = pbft_best_leader(&geo);
        let retry_ms = s.clients.retry_ms.unwrap_or(f64::INFINITY);
        let hs_view_ms = hotstuff_view_ms(&geo);
        Ok(RegionModels {
            geo,
            retry_ms,
            wait_ms: s.section.leaderless().ok_or("a leaderless region set")?.fast_path_wait_ms,
            hs,
            hs2,
            pbft_leader,
            pbft,
            hs_view_ms,
        })
    }

    /// The leaderless model for the i-th client region.
    fn leaderless(&self, i: usize, p: Proto, fault: Fault) -> Option<f64> {
        let r = self.geo.client_regions()[i];
        let dds = match p {
            Proto::W => Dds::Wintermute { wait_ms: self.wait_ms },
            Proto::W50 => Dds::Wintermute { wait_ms: 50.0 },
            Proto::E => Dds::Epaxos { quorum: self.geo.pbft_quorum() },
            Proto::Hs | Proto::Hs2 => return None,
        };
        leaderless_e2e(&self.geo, r, dds, fault, BYZ, self.retry_ms)
    }

    /// BLSMR-E with the quorum that intersects in a correct replica, ceil((n+f+1)/2).
    fn epaxos_safe(&self, i: usize) -> Option<f64> {
        let r = self.geo.client_regions()[i];
        leaderless_e2e(&self.geo, r, Dds::Epaxos { quorum: self.geo.pbft_quorum() }, Fault::None, BYZ, self.retry_ms)
    }

    fn region_names(&self) -> Vec<String> {
        self.geo.client_regions().iter().map(|&r| self.geo.names[r].clone()).collect()
    }
}

pub fn regions(quick: bool, root_out: &Path, exe: &Path) -> Result<String, String> {
    let t0 = Instant::now();
    let dir = out_dir(root_out)?;
    let mut runner = Runner { exe: exe.to_path_buf(), log: Vec::new() };
    let cpus: &[bool] = if quick { &[false] } else { &[false, true] };
    let cases = if quick { REGION_CASES_QUICK } else { REGION_CASES };
    let mut runs = RegionRuns(Vec::new());
    for set in &REGION_SETS {
        for &cpu in cpus {
            for &(p, fault) in cases {
                let mut sets = p.sets();
                sets.push(fault_set(fault));
                if !cpu {
                    sets.push("cpu.cores=0".into());
                }
                let label = format!("{} {} {} {}", set.key, p.key(), fault.label(), if cpu { "cpu" } else { "no-cpu" });
                let run = runner.run(&label, set.file, &sets)?;
                runs.0.push((set.key, cpu, p, fault, run));
            }
        }
    }
    // BLSMR-E's DDS quorum at n = 6 > 3f+1, under contention, against n = 4 = 3f+1.
    let mut safety = Vec::new();
    for n in [6, 4] {
        let sets: Vec<String> = Proto::E
            .sets()
            .into_iter()
            .chain(SAFETY_SETS.iter().map(|s| s.to_string()))
            .chain([format!("replicas.n={n}"), "cpu.cores=0".to_string()])
            .collect();
        safety.push((n, runner.run(&format!("us-eu e contention n={n} no-cpu"), REGION_SETS[0].file, &sets)?));
    }
    let mut models = Vec::new();
    let mut cpu = String::new();
    for set in &REGION_SETS {
        let s = scenarios::parse::load(Path::new(set.file), &[], None).map_err(|d| d.to_string())?;
        cpu = cpu_words(&s);
        models.push(RegionModels::new(&s)?);
    }

    let mut csv = String::from(
        "region_set,cpu,protocol,misbehaving,client_region,count,unconfirmed,p50_ms,p90_ms,p99_ms,mean_ms,model_ms\n",
    );
    for (key, cpu, p, fault, run) in &runs.0 {
        let m = &models[REGION_SETS.iter().position(|s| s.key == *key).expect("a set")];
        for (i, name) in m.region_names().iter().enumerate() {
            let model = match p {
                Proto::Hs => Some(m.hs[i].p50_ms),
                Proto::Hs2 => Some(m.hs2[i].p50_ms),
                _ => m.leaderless(i, *p, *fault),
            };
            let model = if *fault != Fault::None && matches!(p, Proto::Hs | Proto::Hs2) { None } else { model };
            if let Some(r) = run.region(name) {
                let _ = writeln!(
                    csv,
                    "{key},{cpu},{},{},{name},{},{},{:.3},{:.3},{:.3},{:.3},{}",
                    p.label(),
                    fault.label(),
                    r.count,
                    r.unconfirmed,
                    r.p50,
                    r.p90,
                    r.p99,
                    r.mean,
                    model.map_or(String::new(), |x| format!("{x:.3}"))
                );
            }
        }
        let _ = writeln!(
            csv,
            "{key},{cpu},{},{},all,{},{},{:.3},{:.3},{:.3},{:.3},",
            p.label(),
            fault.label(),
            run.text("e2e_count"),
            run.text("unconfirmed_tx"),
            run.num("e2e_p50_ms"),
            run.num("e2e_p90_ms"),
            run.num("e2e_p99_ms"),
            run.num("e2e_mean_ms")
        );
    }
    write(&dir.join("regions.csv"), &csv)?;
    write(&dir.join("regions-runs.csv"), &runs_csv(&runner.log))?;

    let mut md = String::from("# Leaderless BFT across regions\n\n");
    let _ = writeln!(md, "{}\n", regions_summary_line(&models, &runs, &safety));
    md.push_str(&regions_setup(&cpu, quick));
    for (si, set) in REGION_SETS.iter().enumerate() {
        md.push_str(&regions_section(&dir, set, &models[si], &runs, cpus)?);
    }
    md.push_str(&note_table(&models, &runs)?);
    md.push_str(&safety_section(&safety));
    md.push_str("\n## Every run\n\n");
    md.push_str(&regions_summary(&runs));
    let bad = violations(&runner.log);
    if !bad.is_empty() {
        let _ = writeln!(md, "\n### Runs that stopped early\n\n{bad}");
    }
    let _ =
        writeln!(md, "\n## Reading\n\n{READING_START}\n{}\n{READING_END}", regions_reading(&models, &runs, &safety));
    md.push_str(&wall_table(&runner.log, t0.elapsed().as_secs_f64()));
    write(&dir.join("regions.md"), &md)?;
    write_readme(&dir)?;
    Ok("leaderless/regions.md".into())
}

fn regions_setup(cpu: &str, quick: bool) -> String {
    let mut t = String::from(
        "Written by `cargo xtask figures --only leaderless/regions`. Scenarios \
         `scenarios/figures/leaderless-us-eu.toml` and `leaderless-global.toml`: n = 6, f = 1, one replica per \
         region on the GCP 2019 round-trip matrix (built-in `gcp2019`, one-way delay = RTT / 2, no jitter), two \
         clients per region, 100 tx/s of Poisson transfers among 100,000 uniformly popular accounts (no \
         contention to speak of), 8 s measured after 2 s of warm-up, 4 s of drain, seed 1.\n\n\
         - **Leaderless clients** send each transfer to their nearest replica (the one in their region), and \
         resend it to the next replica by id after `retry_ms = 1000` without f+1 matching replies. BLSMR-W waits \
         `fast_path_wait_ms = 100` after its DDS quorum of 5 for the sixth reply (the default 50 ms is also run, \
         as `BLSMR-W, wait 50 ms`).\n\
         - **HotStuff clients send to every replica** (`send_to = \"all\"`): with round-robin leaders a transaction \
         sent to one replica waits for that replica's turn to lead (up to n views); sent to all, it goes into the \
         next block whatever the leader. Chained HotStuff (three-chain rule), batch 400, BLS aggregate \
         certificates, `view_timeout_ms = 500` (above the longest view we see, about 300 ms around the world with \
         a silent replica; a silent leader costs one timeout every n = 6 views).\n\
         - **Misbehaving replica**: replica 0 (us-east1 in both sets): `spoil_silent` (never answers dependency \
         requests), `spoil_different` (answers a different valid set), `silent` (drops everything: as a \
         leaderless coordinator its clients must resend; as a HotStuff leader it costs a view timeout).\n\
         - **CPU model**: off (`cpu.cores = 0`, pure message delays) and on (the default: CPU_WORDS).\n\n\
         Latency cells are **end-to-end p50 / p90 in ms** for the clients of one region (client send to f+1 \
         matching replies); `(m)` is the closed-form model of the same message pattern on the same matrix, CPU \
         off: for BLSMR-W the announce round trip to all six (fast path) or to the quorum plus the wait, then \
         PBFT (prepare and commit quorums of 4 of 6, decision broadcast by the leader), then the (f+1)-th reply; \
         for BLSMR-E the third reply then PBFT; for HotStuff a steady round-robin pipeline in which each leader \
         proposes when it holds n - f = 5 votes, a transaction joins the next block whose leader it has reached, \
         and a block commits when the QC of the block two views later (two-chain: one view later) forms; for \
         PBFT, a client sending to the fixed leader that minimises the mean over regions. `⚠` marks a run that \
         stopped early (see the list under the tables).\n",
    );
    t = t.replace("CPU_WORDS", cpu);
    if quick {
        t.push_str("\n**This is a `--quick` run**: CPU model off only and fewer cases.\n");
    }
    t
}

fn regions_section(
    dir: &Path,
    set: &RegionSet,
    m: &RegionModels,
    runs: &RegionRuns,
    cpus: &[bool],
) -> Result<String, String> {
    let names = m.region_names();
    let mut t = String::new();
    let reps: Vec<String> = (0..m.geo.n()).map(|i| format!("{i}: {}", m.geo.names[m.geo.rep[i]])).collect();
    let _ = writeln!(t, "\n## {} ({})\n\nReplicas {}.", set.title, set.key, reps.join(", "));
    let pbft_region = &m.geo.names[m.geo.rep[m.pbft_leader]];
    for &cpu in cpus {
        let cpu_text = if cpu { "CPU model on (2 cores, BLS costs)" } else { "CPU model off" };
        let get = |p: Proto, f: Fault| runs.get(set.key, cpu, p, f);
        let _ = writeln!(t, "\n### No misbehaving replica, {cpu_text}\n");
        let _ = writeln!(
            t,
            "| client region | BLSMR-W | BLSMR-E | BLSMR-E model, quorum 4 | HotStuff | HotStuff 2-chain | BLSMR-W, wait 50 ms | PBFT, best leader (model: {pbft_region}) |"
        );
        let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|");
        for (i, name) in names.iter().enumerate() {
            let hs = |s: &LatencyStats| format!("({} / {})", f0(s.p50_ms), f0(s.p90_ms));
            let _ = writeln!(
                t,
                "| {name} | {} ({}) | {} ({}) | {} | {} {} | {} {} | {} ({}) | {} |",
                cell(get(Proto::W, Fault::None), Some(name)),
                opt0(m.leaderless(i, Proto::W, Fault::None)),
                cell(get(Proto::E, Fault::None), Some(name)),
                opt0(m.leaderless(i, Proto::E, Fault::None)),
                opt0(m.epaxos_safe(i)),
                cell(get(Proto::Hs, Fault::None), Some(name)),
                hs(&m.hs[i]),
                cell(get(Proto::Hs2, Fault::None), Some(name)),
                hs(&m.hs2[i]),
                cell(get(Proto::W50, Fault::None), Some(name)),
                opt0(m.leaderless(i, Proto::W50, Fault::None)),
                f0(m.pbft[i]),
            );
        }
        let mean = |v: &dyn Fn(usize) -> Option<f64>| -> String {
            let xs: Vec<f64> = (0..names.len()).filter_map(v).collect();
            if xs.len() == names.len() { f0(xs.iter().sum::<f64>() / xs.len() as f64) } else { "-".into() }
        };
        let _ = writeln!(
            t,
            "| **all clients** | {} ({}) | {} ({}) | {} | {} | {} | {} ({}) | {} |",
            cell(get(Proto::W, Fault::None), None),
            mean(&|i| m.leaderless(i, Proto::W, Fault::None)),
            cell(get(Proto::E, Fault::None), None),
            mean(&|i| m.leaderless(i, Proto::E, Fault::None)),
            mean(&|i| m.epaxos_safe(i)),
            cell(get(Proto::Hs, Fault::None), None),
            cell(get(Proto::Hs2, Fault::None), None),
            cell(get(Proto::W50, Fault::None), None),
            mean(&|i| m.leaderless(i, Proto::W50, Fault::None)),
            mean(&|i| Some(m.pbft[i])),
        );
        let _ = writeln!(
            t,
            "\nModel values in parentheses; for \"all clients\" the model column is the mean of the regions' models. \
             The PBFT column is a model only (we do not simulate PBFT).\n"
        );
        if !cpu {
            let protos = [Proto::W, Proto::E, Proto::Hs, Proto::Hs2];
            let mut cats = names.clone();
            cats.push("all".into());
            let mut chart = plots::Chart::new(
                format!("{}: end-to-end p50 per client region (CPU off)", set.title),
                "client region",
                "end-to-end latency p50 (ms)",
                plots::Kind::Bars,
            )
            .categories(cats.clone());
            for p in protos {
                if let Some(run) = get(p, Fault::None) {
                    let pts: Vec<(f64, f64)> = cats
                        .iter()
                        .enumerate()
                        .filter_map(|(x, c)| {
                            let y = if c == "all" { run.num("e2e_p50_ms") } else { run.region(c)?.p50 };
                            Some((x as f64, y))
                        })
                        .collect();
                    chart = chart.series(p.label(), pts);
                }
            }
            let mut pbft_pts: Vec<(f64, f64)> = m.pbft.iter().enumerate().map(|(x, &y)| (x as f64, y)).collect();
            pbft_pts.push((names.len() as f64, m.pbft.iter().sum::<f64>() / m.pbft.len() as f64));
            chart = chart.series("PBFT best leader (model)", pbft_pts);
            t.push_str(&plot(dir, &format!("regions-{}-p50", set.key), &chart)?);
        }

        let byz_region = &m.geo.names[m.geo.rep[BYZ]];
        let _ = writeln!(t, "\n### One misbehaving replica (replica {BYZ}, {byz_region}), {cpu_text}\n");
        let cols: [(Proto, Fault); 10] = [
            (Proto::W, Fault::SpoilSilent),
            (Proto::W, Fault::SpoilDifferent),
            (Proto::W, Fault::Silent),
            (Proto::W50, Fault::SpoilSilent),
            (Proto::E, Fault::SpoilSilent),
            (Proto::E, Fault::SpoilDifferent),
            (Proto::E, Fault::Silent),
            (Proto::Hs, Fault::Silent),
            (Proto::Hs2, Fault::Silent),
            (Proto::W, Fault::None),
        ];
        let header: Vec<String> = cols
            .iter()
            .map(|(p, f)| {
                if *f == Fault::None {
                    format!("{} (no fault)", p.label())
                } else {
                    format!("{}: {}", p.label(), f.label())
                }
            })
            .collect();
        let _ = writeln!(t, "| client region | {} |", header.join(" | "));
        let _ = writeln!(t, "|---|{}", "---:|".repeat(cols.len()));
        for (i, name) in names.iter().enumerate() {
            let cells: Vec<String> = cols
                .iter()
                .map(|&(p, f)| {
                    let c = cell(get(p, f), Some(name));
                    match p {
                        Proto::Hs | Proto::Hs2 => c,
                        _ => format!("{c} ({})", opt0(m.leaderless(i, p, f))),
                    }
                })
                .collect();
            let mark = if m.geo.nearest(m.geo.client_regions()[i]) == BYZ { " (its replica misbehaves)" } else { "" };
            let _ = writeln!(t, "| {name}{mark} | {} |", cells.join(" | "));
        }
        let all: Vec<String> = cols.iter().map(|&(p, f)| cell(get(p, f), None)).collect();
        let _ = writeln!(t, "| **all clients** | {} |", all.join(" | "));
        let _ = writeln!(
            t,
            "\nA model of `-` for the misbehaving replica's own region: its clients get whatever it decides to do \
             as a coordinator (a spoiler coordinates its own clients' transfers correctly but its commands are \
             not modelled)."
        );
        if !cpu {
            let faults = [Fault::None, Fault::SpoilSilent, Fault::SpoilDifferent, Fault::Silent];
            let mut chart = plots::Chart::new(
                format!("{}: end-to-end p90 with replica {BYZ} misbehaving (CPU off)", set.title),
                "replica 0's behaviour",
                "end-to-end latency p90, all clients (ms)",
                plots::Kind::Bars,
            )
            .categories(faults.iter().map(|f| f.label()));
            for p in [Proto::W, Proto::W50, Proto::E, Proto::Hs, Proto::Hs2] {
                let pts: Vec<(f64, f64)> = faults
                    .iter()
                    .enumerate()
                    .filter_map(|(x, &f)| {
                        get(p, f).filter(|r| r.num("e2e_count") > 0.0).map(|r| (x as f64, r.num("e2e_p90_ms")))
                    })
                    .collect();
                if !pts.is_empty() {
                    chart = chart.series(p.label(), pts);
                }
            }
            t.push('\n');
            t.push_str(&plot(dir, &format!("regions-{}-faults", set.key), &chart)?);
        }
    }
    Ok(t)
}

/// The design note's numbers against our models and runs.
fn note_table(models: &[RegionModels], runs: &RegionRuns) -> Result<String, String> {
    let compact = Geo::from_preset("gcp2019", &COMPACT_US_EU, 1)?;
    let (c_fast, c_lo, c_hi, c_pbft) = note_numbers(&compact);
    let mut t = String::from(
        "\n## Against the design note\n\n\
         The design note (`shared/design/leaderless-bft.md`) expects, on the GCP 2019 matrix with n = 6, f = 1: \
         Wintermute's fast path about 98 ms against PBFT with the best leader about 58 ms (US+EU), and about \
         249 ms against 202 ms around the world. It does not say which regions or exactly what is measured; we \
         read \"fast path\" as the latency at the coordinator (two message delays: the announce and the \
         farthest replica's reply), averaged over coordinators, and \"PBFT with the best leader\" as the three \
         delays from the leader's proposal to each replica's decision (prepare and commit quorums of \
         ceil((n+f+1)/2) = 4), averaged over replicas, for the best leader. Both are computed by our model \
         on the regions of each set, and on a compact US+EU set for which the model gives the note's numbers.\n\n\
         | | note: Wintermute fast | model: Wintermute fast, mean (range over coordinators) | sim: BLSMR-W consensus latency p50 / mean | note: PBFT best leader | model: PBFT best leader |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    let note = [(98.0, 58.0), (249.0, 202.0)];
    for (i, set) in REGION_SETS.iter().enumerate() {
        let (fast, lo, hi, pbft) = note_numbers(&models[i].geo);
        let sim = runs.get(set.key, false, Proto::W, Fault::None);
        let _ = writeln!(
            t,
            "| {} (our regions) | {} | {} ({} to {}) | {} | {} | {} |",
            set.title,
            note[i].0,
            f0(fast),
            f0(lo),
            f0(hi),
            sim.map_or("-".into(), |r| format!(
                "{} / {}",
                f0(r.num("consensus_p50_ms")),
                f0(r.num("consensus_mean_ms"))
            )),
            note[i].1,
            f0(pbft)
        );
    }
    let _ = writeln!(
        t,
        "| US+EU, compact: {} | 98 | {} ({} to {}) | - | 58 | {} |",
        COMPACT_US_EU.join(", "),
        f0(c_fast),
        f0(c_lo),
        f0(c_hi),
        f0(c_pbft)
    );
    Ok(t)
}

fn regions_summary(runs: &RegionRuns) -> String {
    let mut t = String::from(
        "| set | CPU | protocol | misbehaving | goodput tx/s | e2e p50 / p90 / p99 ms | consensus p50 ms | fast path | recovered cmds | view changes | unconfirmed | CPU busy max | stop |\n\
         |---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for (key, cpu, p, f, r) in &runs.0 {
        let _ = writeln!(
            t,
            "| {key} | {} | {} | {} | {:.1} | {} / {} / {} | {} | {} | {} | {} | {} | {:.0}% | {} |",
            if *cpu { "on" } else { "off" },
            p.label(),
            f.label(),
            r.num("goodput_tps"),
            f0(r.num("e2e_p50_ms")),
            f0(r.num("e2e_p90_ms")),
            f0(r.num("e2e_p99_ms")),
            f0(r.num("consensus_p50_ms")),
            r.fast_pct().map_or("-".into(), |x| format!("{x:.1}%")),
            r.counter("recovered_commands"),
            r.counter("view_changes"),
            r.text("unconfirmed_tx"),
            100.0 * r.num("cpu_util_max"),
            r.text("stop")
        );
    }
    t
}

/// The workload of the BLSMR-E safety check: 1,000 accounts at 200 tx/s, so that conflicting
/// commands from both sides of the Atlantic are concurrent.
const SAFETY_SETS: [&str; 2] = ["workload.accounts=1000", "workload.rate_tps=200"];

fn safety_section(safety: &[(u32, Run)]) -> String {
    let mut t = String::from(
        "\n## BLSMR-E's DDS quorum at n = 6\n\n\
         BLSMR-E's union of replies sees every earlier conflicting command only if two DDS quorums share a correct \
         replica. An earlier version collected 2f+1 replies whatever n: at n = 3f+1 two such quorums share f+1 \
         replicas, but at n = 6, f = 1 the quorum was 3 of 6 and two quorums could be disjoint (a US coordinator's \
         three US replicas, a European one's three European replicas). This set found it: the run below stopped \
         with a `consistency` violation (commands 25 and 22 conflict and neither depends on the other). The \
         quorum is now ceil((n+f+1)/2) = 4 of 6 (`Membership::dds_quorum`), and a two-region test in \
         `protocols/tests/leaderless.rs` catches the old one. The same US+EU scenario with contention (`--set leaderless.variant=epaxos --set cpu.cores=0 --set \
         workload.accounts=1000 --set workload.rate_tps=200`, seed 1), at n = 6 and at n = 4 (the first four \
         regions):\n\n| n | stop | detail | committed before the stop |\n|---:|---|---|---:|\n",
    );
    for (n, r) in safety {
        let _ = writeln!(
            t,
            "| {n} | `{}` | {} | {} |",
            r.text("stop"),
            r.violation.as_deref().unwrap_or("-"),
            r.text("committed_tx")
        );
    }
    t.push_str(
        "\nReproduce: `cargo run --release -- run scenarios/figures/leaderless-us-eu.toml --set \
         leaderless.variant=epaxos --set cpu.cores=0 --set workload.accounts=1000 --set workload.rate_tps=200`. \
         Both runs now end normally; the BLSMR-E columns of this page use the quorum of 4.\n",
    );
    t
}

fn p50_all(runs: &RegionRuns, set: &str, cpu: bool, p: Proto, f: Fault) -> Option<f64> {
    runs.get(set, cpu, p, f).map(|r| r.num("e2e_p50_ms"))
}

fn opt_ms(x: Option<f64>) -> String {
    x.map_or("(not run)".into(), |v| format!("{v:.0} ms"))
}

/// The largest gap, over coordinators, between BLSMR-W's DDS quorum reply and the last reply:
/// the fast-path wait that keeps every fast path.
fn wait_needed(g: &Geo) -> f64 {
    let n = g.n();
    (0..n)
        .map(|c| {
            let replies: Vec<f64> = (0..n).map(|j| 2.0 * g.d(c, j)).collect();
            let all = replies.iter().copied().fold(0.0, f64::max);
            all - kth(replies, (n + 3 * g.f + 1).div_ceil(2))
        })
        .fold(0.0, f64::max)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn regions_summary_line(models: &[RegionModels], runs: &RegionRuns, safety: &[(u32, Run)]) -> String {
    let get = |i: usize, p: Proto, f: Fault| p50_all(runs, REGION_SETS[i].key, false, p, f);
    let e_broken = safety.iter().any(|(n, r)| *n == 6 && r.text("stop").starts_with("violation"));
    format!(
        "**Summary.** n = 6, f = 1 on the GCP 2019 matrix, no fault, CPU off: BLSMR-W's end-to-end p50 over all \
         clients is {} (US+EU) and {} (around the world), chained HotStuff's {} and {}, a modelled PBFT with \
         the best fixed leader's {:.0} and {:.0} ms (means over regions); the simulated leaderless latencies match \
         a closed-form model of their message pattern region by region. One spoiling replica costs BLSMR-W its \
         fast path ({} and {}), a silent one costs HotStuff a view timeout every 6 views ({} and {}). \
         BLSMR-E's DDS quorum is 4 of 6 (3, as first built, broke consistency here): {}",
        opt_ms(get(0, Proto::W, Fault::None)),
        opt_ms(get(1, Proto::W, Fault::None)),
        opt_ms(get(0, Proto::Hs, Fault::None)),
        opt_ms(get(1, Proto::Hs, Fault::None)),
        mean(&models[0].pbft),
        mean(&models[1].pbft),
        opt_ms(get(0, Proto::W, Fault::SpoilSilent)),
        opt_ms(get(1, Proto::W, Fault::SpoilSilent)),
        opt_ms(get(0, Proto::Hs, Fault::Silent)),
        opt_ms(get(1, Proto::Hs, Fault::Silent)),
        if e_broken {
            "under contention it still breaks consistency (a bug, section \"BLSMR-E's DDS quorum\")."
        } else {
            "the contention check holds (section \"BLSMR-E's DDS quorum\")."
        }
    )
}

fn regions_reading(models: &[RegionModels], runs: &RegionRuns, safety: &[(u32, Run)]) -> String {
    let mut t = String::new();
    let key = |i: usize| REGION_SETS[i].key;
    let title = |i: usize| REGION_SETS[i].title;
    let all = |i: usize, p: Proto, f: Fault| p50_all(runs, key(i), false, p, f);

    // --- model against simulation
    let mut cells = 0;
    let mut close = 0;
    let mut off: Vec<String> = Vec::new();
    for (si, m) in models.iter().enumerate() {
        for &(p, f) in REGION_CASES.iter().filter(|c| matches!(c.0, Proto::W | Proto::W50 | Proto::E)) {
            let Some(run) = runs.get(key(si), false, p, f) else { continue };
            for (i, name) in m.region_names().iter().enumerate() {
                let (Some(model), Some(r)) = (m.leaderless(i, p, f), run.region(name)) else { continue };
                cells += 1;
                if (r.p50 - model).abs() <= 1.0 {
                    close += 1;
                } else {
                    off.push(format!(
                        "{} {} in {name} ({}): {:.0} against {:.0} ms",
                        p.label(),
                        f.label(),
                        title(si),
                        r.p50,
                        model
                    ));
                }
            }
        }
    }
    let mut hs_gap: f64 = 0.0;
    for (si, m) in models.iter().enumerate() {
        for (p, stats) in [(Proto::Hs, &m.hs), (Proto::Hs2, &m.hs2)] {
            if let Some(run) = runs.get(key(si), false, p, Fault::None) {
                for (i, name) in m.region_names().iter().enumerate() {
                    if let Some(r) = run.region(name) {
                        hs_gap = hs_gap.max((r.p50 - stats[i].p50_ms).abs());
                    }
                }
            }
        }
    }
    let _ = writeln!(
        t,
        "**Model against simulation.** With the CPU model off and no jitter, nothing random is left on an \
         uncontended leaderless command's path: every transfer of a region takes the same time (p50 = p90) and the \
         closed-form model predicts it. Of the {cells} region cells of BLSMR-W and BLSMR-E that have a model, \
         {close} are within 1 ms of it{}. HotStuff's model, a steady round-robin pipeline, is within {hs_gap:.0} ms \
         of the simulated p50 in every region (the simulated leaders are not perfectly periodic: a view's length \
         depends on which five votes come first, and batches are cut at arrival times).\n",
        if off.is_empty() { String::from(".") } else { format!("; the others are: {}", off.join("; ")) }
    );
    if off.iter().any(|o| o.starts_with("BLSMR-E spoil_different")) {
        t.push_str(
            "The BLSMR-E `spoil_different` gaps are the spoiler's extra dependency: its reply adds a real, \
             irrelevant command, and BLSMR-E keeps every dependency that a client signed (plain union), so when the \
             spoiler's reply is among a coordinator's three (US coordinators: us-east1 is within 34 ms of them), \
             the command is decided on time but executes only once that other command has committed (the \
             commit is on time in the per-transaction records, the replies late by a variable amount). \
             BLSMR-W's threshold union (f+1 reporters) drops such a dependency, which is why its spoil_different \
             column matches the model.\n",
        );
    }
    t.push('\n');

    // --- fast path arithmetic
    let g0 = &models[0].geo;
    let c0 = g0.nearest(g0.client_regions()[0]);
    let far0 = (0..g0.n()).map(|j| 2.0 * g0.d(c0, j)).fold(0.0, f64::max);
    let near0 = (0..g0.n()).filter(|&j| j != c0).map(|j| 2.0 * g0.d(c0, j)).fold(f64::INFINITY, f64::min);
    let _ = writeln!(
        t,
        "**BLSMR-W's fast path.** A coordinator commits when the last of the six dependency replies is in: one \
         round trip to its farthest replica (the design note's \"it waits for the farthest replica\"). The client \
         then needs f+1 = 2 matching replies: its own replica's (same region, 0 ms) and the first other replica's, \
         which commits when the coordinator's commit message reaches it and replies: one more round trip, to the \
         nearest other replica. For us-east1 in the US+EU set: {far0:.0} ms (to {}) + {near0:.0} ms = {:.0} ms, \
         the simulated value. The spread across regions is the spread of the farthest round trip: {} ms from \
         us-east1 to {} ms from us-west1 and europe-west1 in US+EU, {} to {} ms around the world.\n",
        g0.names[g0.rep[(0..g0.n()).max_by(|&a, &b| g0.d(c0, a).total_cmp(&g0.d(c0, b))).unwrap_or(0)]],
        far0 + near0,
        f0(note_numbers(&models[0].geo).1),
        f0(note_numbers(&models[0].geo).2),
        f0(note_numbers(&models[1].geo).1),
        f0(note_numbers(&models[1].geo).2),
    );

    // --- who wins where
    let _ = writeln!(t, "**Who wins where, without faults.**\n");
    for (si, m) in models.iter().enumerate() {
        let w_model: Vec<f64> = (0..m.pbft.len()).filter_map(|i| m.leaderless(i, Proto::W, Fault::None)).collect();
        let better = w_model.iter().zip(&m.pbft).filter(|(w, p)| w < p).count();
        let pbft_region = &m.geo.names[m.geo.rep[m.pbft_leader]];
        let e_safe: Vec<f64> = (0..m.pbft.len()).filter_map(|i| m.epaxos_safe(i)).collect();
        let e_model: Vec<f64> = (0..m.pbft.len()).filter_map(|i| m.leaderless(i, Proto::E, Fault::None)).collect();
        let hs = all(si, Proto::Hs, Fault::None);
        let hs2 = all(si, Proto::Hs2, Fault::None);
        let w = all(si, Proto::W, Fault::None);
        let _ = writeln!(
            t,
            "- *{}.* BLSMR-W {} against HotStuff {} ({}x) and HotStuff 2-chain {}. A HotStuff view lasts until the \
             next leader holds n - f = 5 votes ({:.0} ms on average in the model, round-robin over all six regions); \
             a transaction waits for the next proposal, then its block commits when the QC of the block two views \
             later forms (one view later for two-chain): about 3.5 views plus the trips to the leader and back, \
             which is what the model computes. PBFT with the best fixed leader ({pbft_region}, modelled) averages \
             {:.0} ms against BLSMR-W's {:.0} ms (model means over regions): BLSMR-W is faster for {better} of the \
             {} regions. PBFT's clients must reach the leader first, but then it commits in three delays among the \
             nearest quorum of 4, never waiting for the two farthest replicas; the fast path saves the trip to \
             the leader and one delay, and pays for the farthest replica. BLSMR-E (model mean {:.0} ms, the same \
             with the quorum column's {:.0} ms) waits for 4 of 6 replies and then always runs PBFT's three delays: \
             it never needs the farthest replica, but pays consensus on every command.",
            title(si),
            opt_ms(w),
            opt_ms(hs),
            match (hs, w) {
                (Some(h), Some(w)) => format!("{:.1}", h / w),
                _ => "-".into(),
            },
            opt_ms(hs2),
            m.hs_view_ms,
            mean(&m.pbft),
            mean(&w_model),
            m.pbft.len(),
            mean(&e_model),
            mean(&e_safe),
        );
    }
    t.push('\n');

    // --- the wait
    let w50 = all(1, Proto::W50, Fault::None);
    let w50_fast = runs.get(key(1), false, Proto::W50, Fault::None).and_then(Run::fast_pct);
    let _ = writeln!(
        t,
        "**The fast-path wait is a trade-off.** After its DDS quorum (5 of 6), a BLSMR-W coordinator waits \
         `fast_path_wait_ms` for the sixth reply before it falls back to PBFT. The sixth reply comes at most {:.0} ms \
         after the fifth in US+EU and {:.0} ms around the world (model, over coordinators). With the default 50 ms, \
         around the world {} of the commands go fast (p50 {}, against {} with 100 ms): the three Asia-Pacific \
         coordinators give up on their farthest replica and pay PBFT's three delays instead. With a spoiler the \
         wait is pure loss: `spoil_silent` costs {} with a 100 ms wait and {} with 50 ms (US+EU).\n",
        wait_needed(&models[0].geo),
        wait_needed(&models[1].geo),
        w50_fast.map_or("-".into(), |x| format!("{x:.0}%")),
        opt_ms(w50),
        opt_ms(all(1, Proto::W, Fault::None)),
        opt_ms(all(0, Proto::W, Fault::SpoilSilent)),
        opt_ms(all(0, Proto::W50, Fault::SpoilSilent)),
    );

    // --- faults
    let sil_p90 = |i: usize, p: Proto| runs.get(key(i), false, p, Fault::Silent).map(|r| r.num("e2e_p90_ms"));
    let own = |i: usize, p: Proto| {
        let name = &models[i].geo.names[models[i].geo.rep[BYZ]];
        opt_ms(runs.get(key(i), false, p, Fault::Silent).and_then(|r| r.region(name)).map(|r| r.p50))
    };
    let _ = writeln!(
        t,
        "**One misbehaving replica.** `spoil_silent` takes every BLSMR-W command to the slow path: quorum, then \
         the full wait, then PBFT (p50 {} US+EU, {} around the world, against {} and {}). `spoil_different` is \
         cheaper by up to the wait ({} and {}): the sixth reply does come, differs, and the coordinator starts PBFT \
         at once. `silent` costs the other regions what `spoil_silent` costs plus a little (PBFT's quorum of 4 \
         among 5 live replicas), and its own region's clients the client retry: they wait `retry_ms` = 1 s, resend \
         to replica 1 and go through its slow path (p90 of all clients {} and {}). A client that sent to two \
         replicas would not pay the retry. BLSMR-E has no fast path to lose: a spoiler costs it only when it is \
         among a coordinator's three nearest (the US coordinators). HotStuff with a silent replica: p50 {} and {} \
         (against {} and {}): the silent leader's view ends only at the 500 ms timeout, once every six views, and \
         since a block commits only at the end of a chain of certified blocks in consecutive views, the blocks \
         proposed just before the silent view wait for the chain to restart after it. In the silent replica's own \
         region the comparison turns: its BLSMR-W clients pay the 1 s retry ({} and {} p50 there) while HotStuff's \
         clients, who sent to all, do not ({} and {}).\n",
        opt_ms(all(0, Proto::W, Fault::SpoilSilent)),
        opt_ms(all(1, Proto::W, Fault::SpoilSilent)),
        opt_ms(all(0, Proto::W, Fault::None)),
        opt_ms(all(1, Proto::W, Fault::None)),
        opt_ms(all(0, Proto::W, Fault::SpoilDifferent)),
        opt_ms(all(1, Proto::W, Fault::SpoilDifferent)),
        opt_ms(sil_p90(0, Proto::W)),
        opt_ms(sil_p90(1, Proto::W)),
        opt_ms(all(0, Proto::Hs, Fault::Silent)),
        opt_ms(all(1, Proto::Hs, Fault::Silent)),
        opt_ms(all(0, Proto::Hs, Fault::None)),
        opt_ms(all(1, Proto::Hs, Fault::None)),
        own(0, Proto::W),
        own(1, Proto::W),
        own(0, Proto::Hs),
        own(1, Proto::Hs),
    );

    // --- CPU
    let cpu_run = |p: Proto, f: Fault| runs.get(key(0), true, p, f);
    if let (Some(w_on), Some(w_off)) = (cpu_run(Proto::W, Fault::None), runs.get(key(0), false, Proto::W, Fault::None))
    {
        let busy =
            |p: Proto, f: Fault| cpu_run(p, f).map_or("-".into(), |r| format!("{:.0}%", 100.0 * r.num("cpu_util_max")));
        let delta = |p: Proto| match (cpu_run(p, Fault::None), runs.get(key(0), false, p, Fault::None)) {
            (Some(a), Some(b)) => format!("{:+.0} ms", a.num("e2e_p50_ms") - b.num("e2e_p50_ms")),
            _ => "-".into(),
        };
        let _ = writeln!(
            t,
            "**With the CPU model.** At 100 tx/s the CPU adds little latency (US+EU p50: BLSMR-W {:+.0} ms, \
             BLSMR-E {}, HotStuff {}): the signatures on a command's critical path (checking the client's \
             signature, signing the reply, checking the replies or the votes, checking the commit proof) cost a \
             few milliseconds, about a millisecond per BLS verification. What they cost in capacity shows in \
             the busiest replica's CPU: {} for BLSMR-W on the fast path, {} when a spoiler forces the slow path, \
             {} for BLSMR-E (PBFT on every command: each replica checks the proposal's dependency replies, signs \
             a prepare and a commit vote and checks a quorum certificate of each, on top of the fast path's \
             work), {} for HotStuff, which batches hundreds of transactions per certificate and, in this \
             simulator, does not check client signatures (the saturation page has the throughput).\n",
            w_on.num("e2e_p50_ms") - w_off.num("e2e_p50_ms"),
            delta(Proto::E),
            delta(Proto::Hs),
            busy(Proto::W, Fault::None),
            busy(Proto::W, Fault::SpoilSilent),
            busy(Proto::E, Fault::None),
            busy(Proto::Hs, Fault::None),
        );
    }

    // --- the note
    let compact = Geo::from_preset("gcp2019", &COMPACT_US_EU, 1).ok();
    let (n0, n1) = (note_numbers(&models[0].geo), note_numbers(&models[1].geo));
    let _ = writeln!(
        t,
        "**Against the design note.** Around the world our regions give the note's numbers in the model ({:.0} \
         against 249 ms, {:.0} against 202 ms), and the simulated BLSMR-W consensus latency has the model's mean. \
         On US+EU our set, with us-west1 in it, gives {:.0} against {:.0} ms: the fast path waits for a \
         transatlantic or transcontinental round trip from every coordinator, while PBFT's best leader needs only \
         its nearest quorum of 4. The note's 98 and 58 ms come out of the same model on a compact set ({}: {} and \
         {} ms), which suggests that is the kind of set it used. Either way the note compares latency at the \
         coordinator or leader; end to end, leaderless clients skip the trip to a leader, which is why BLSMR-W beats \
         PBFT's best leader for the clients far from that leader, and loses to it for those near it. HotStuff is \
         not PBFT with the best leader: its leaders rotate through the far regions, and a three-chain commit takes \
         about three views after the proposal, so it is the slowest protocol here by a factor of two to three.\n",
        n1.0,
        n1.3,
        n0.0,
        n0.3,
        COMPACT_US_EU.join(", "),
        compact.as_ref().map_or("-".into(), |g| f0(note_numbers(g).0)),
        compact.as_ref().map_or("-".into(), |g| f0(note_numbers(g).3)),
    );

    // --- the bug
    if let Some((_, r)) = safety.iter().find(|(n, _)| *n == 6) {
        let _ = writeln!(
            t,
            "**BLSMR-E at n > 3f+1.** With 1,000 accounts at 200 tx/s the US+EU BLSMR-E run stops with \
             `{}`{}, and the same run at n = 4 with `{}`. Its DDS quorum was 2f+1 whatever n when this set first \
             ran, and then two quorums (US, Europe) could be disjoint; it is ceil((n+f+1)/2) now (section \
             \"BLSMR-E's DDS quorum at n = 6\").",
            r.text("stop"),
            r.violation.as_ref().map_or(String::new(), |v| format!(" ({v})")),
            safety.iter().find(|(n, _)| *n == 4).map_or("not run", |(_, r)| r.text("stop")),
        );
    }
    t
}
