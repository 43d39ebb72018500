//! What a run leaves for people: the summary table on stdout, and the results folder
//! (summary.json, latency.csv, timeseries.csv, nodes.csv, scenario.toml, the plots and
//! report.html), written to a temporary sibling and renamed into place so that no half-written
//! folder ever exists (`write_atomically`, also used by `compare`, `sweep` and `merge`).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sim_core::metrics::LatencyStats;
use sim_core::{Stop, Time};

use crate::model::ProtocolKind;
use crate::report::{self, Html};
use crate::rows::RunData;
use crate::run::Report;

pub fn protocol_name(p: ProtocolKind) -> &'static str {
    match p {
        ProtocolKind::HotStuff => "hotstuff",
        ProtocolKind::Leaderless => "leaderless",
        ProtocolKind::Algorand => "algorand",
    }
}

pub fn behavior_name(b: Option<crate::model::Behavior>) -> &'static str {
    use crate::model::Behavior;
    match b {
        None => "correct",
        Some(Behavior::Crash) => "crash",
        Some(Behavior::Silent) => "silent",
        Some(Behavior::Fork) => "fork",
        Some(Behavior::Equivocate) => "equivocate",
        Some(Behavior::WithholdVotes) => "withhold_votes",
        Some(Behavior::SlowLeader) => "slow_leader",
        Some(Behavior::OmitDeps) => "omit_deps",
        Some(Behavior::InventDeps) => "invent_deps",
        Some(Behavior::IrrelevantDeps) => "irrelevant_deps",
        Some(Behavior::SpoilDifferent) => "spoil_different",
        Some(Behavior::SpoilSilent) => "spoil_silent",
        Some(Behavior::NeverCommit) => "never_commit",
        Some(Behavior::ProposeWithoutProof) => "propose_without_proof",
        Some(Behavior::ForgeCommit) => "forge_commit",
        Some(Behavior::DoubleVote) => "double_vote",
    }
}

/// Byzantine replicas named in the summary table; the others are counted.
const MAX_LISTED: usize = 32;

/// The Byzantine replicas as (id, behaviour).
fn byzantine_list(report: &Report) -> Vec<(usize, &'static str)> {
    let roles = &report.lowered.byzantine;
    (0..roles.len()).filter(|&i| roles[i].is_some()).map(|i| (i, behavior_name(roles[i]))).collect()
}

pub fn stop_name(stop: &Stop) -> &'static str {
    match stop {
        Stop::End => "end",
        Stop::EventLimit => "event_limit",
        Stop::QueueLimit => "queue_limit",
        Stop::Violation(_) => "violation",
    }
}

fn latency_json(s: &LatencyStats) -> Value {
    if s.count == 0 {
        return json!({ "count": 0, "p50": null, "p90": null, "p99": null, "max": null, "mean": null });
    }
    json!({ "count": s.count, "p50": s.p50_ms, "p90": s.p90_ms, "p99": s.p99_ms, "max": s.max_ms, "mean": s.mean_ms })
}

/// Mean over replicas of a per-node link counter.
fn per_replica(report: &Report, field: impl Fn(&sim_core::net::LinkStats) -> u64) -> f64 {
    let replicas: Vec<_> = report.result.nodes.iter().filter(|n| n.is_replica).collect();
    replicas.iter().map(|n| field(&n.link)).sum::<u64>() as f64 / replicas.len().max(1) as f64
}

/// Share of a replica's cores busy over the run (0 without a CPU model).
fn cpu_util(report: &Report, node: &sim_core::NodeReport) -> f64 {
    let capacity = report.result.end_time.as_nanos() as f64 * node.cores as f64;
    if capacity > 0.0 { node.cpu_busy_ns as f64 / capacity } else { 0.0 }
}

/// Mean and max CPU utilisation over replicas.
pub fn cpu_util_summary(report: &Report) -> (f64, f64) {
    let utils: Vec<f64> = report.result.nodes.iter().filter(|n| n.is_replica).map(|n| cpu_util(report, n)).collect();
    let mean = utils.iter().sum::<f64>() / utils.len().max(1) as f64;
    (mean, utils.iter().copied().fold(0.0, f64::max))
}

/// Protocol counters: the run's monitor counters (fast paths, recoveries...), then the maximum
/// over correct replicas of each replica counter (views reached, view changes seen...).
fn counters_max(report: &Report) -> Vec<(&'static str, u64)> {
    let mut out: Vec<(&'static str, u64)> = report.result.counters.clone();
    for node in report.result.nodes.iter().filter(|n| n.is_replica && n.correct) {
        for &(name, v) in &node.counters {
            match out.iter_mut().find(|(k, _)| *k == name) {
                Some(entry) => entry.1 = entry.1.max(v),
                None => out.push((name, v)),
            }
        }
    }
    out
}

pub fn summary_json(report: &Report, reproduce: &str) -> Value {
    let s = &report.scenario;
    let m = &report.summary;
    let counters: serde_json::Map<String, Value> =
        counters_max(report).into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let violation = match &report.result.stop {
        Stop::Violation(v) => json!({
            "invariant": v.invariant, "replica": v.replica.0, "at_s": Time(v.at_ns).as_secs_f64(), "detail": v.detail,
        }),
        _ => Value::Null,
    };
    json!({
        "scenario": s.name,
        "protocol": protocol_name(s.protocol),
        "seed": s.seed,
        "digest": format!("{:016x}", report.result.digest),
        "version": env!("CARGO_PKG_VERSION"),
        "n_replicas": s.replicas.n,
        "f": s.replicas.f,
        "byzantine_stake_ppm": report.byzantine_stake_ppm,
        "n_clients": s.clients.count,
        "byzantine": byzantine_list(report).iter().map(|(id, b)| json!({ "replica": id, "behavior": b })).collect::<Vec<_>>(),
        "duration_s": s.duration_s,
        "warmup_s": s.warmup_s,
        "drain_s": s.drain_s,
        "offered_tps": m.offered_tps,
        "submitted_tx": m.submitted_tx,
        "committed_tx": m.committed_tx,
        "confirmed_tx": m.confirmed_tx,
        "unconfirmed_tx": m.unconfirmed_tx,
        "goodput_tps": m.goodput_tps,
        "latency_ms": {
            "consensus": latency_json(&m.consensus),
            "execution": latency_json(&m.execution),
            "e2e": latency_json(&m.e2e),
        },
        "messages_per_replica": per_replica(report, |l| l.msgs_sent),
        "cpu_util_mean": cpu_util_summary(report).0,
        "cpu_util_max": cpu_util_summary(report).1,
        "bytes_per_replica": per_replica(report, |l| l.bytes_sent),
        "messages_by_type": crate::messages::per_tx_json(report),
        "counters": counters,
        "events": report.result.events,
        "virtual_time_s": report.result.end_time.as_secs_f64(),
        "stop": stop_name(&report.result.stop),
        "violation": violation,
        "reproduce": reproduce,
    })
}

/// The table printed after a run.
pub fn summary_table(report: &Report, reproduce: &str) -> String {
    let mut t = String::new();
    for (k, v) in summary_rows(report, reproduce) {
        let _ = writeln!(t, "  {k:<28} {v}");
    }
    t
}

/// The rows of the summary table, as (what, value): printed after a run and shown in
/// report.html.
pub fn summary_rows(report: &Report, reproduce: &str) -> Vec<(String, String)> {
    let s = &report.scenario;
    let m = &report.summary;
    let mut t: Vec<(String, String)> = Vec::new();
    let mut row = |k: &str, v: String| t.push((k.to_string(), v));
    let size = match s.protocol {
        ProtocolKind::Algorand => format!("n = {} users", s.replicas.n),
        _ => format!("n = {}, f = {}", s.replicas.n, s.replicas.f),
    };
    row("scenario", format!("{} ({}, {size})", s.name, protocol_name(s.protocol)));
    let byz = byzantine_list(report);
    if !byz.is_empty() {
        // Algorand runs may have thousands: the table names the first ones (nodes.csv has all).
        let mut list: Vec<String> = byz.iter().take(MAX_LISTED).map(|(id, b)| format!("{id} {b}")).collect();
        if byz.len() > MAX_LISTED {
            list.push(format!("and {} more", byz.len() - MAX_LISTED));
        }
        let beyond = match report.byzantine_stake_ppm {
            Some(ppm) => format!(" ({:.2}% of the stake)", ppm as f64 / 1e4),
            None if byz.len() > s.replicas.f as usize => " (more than f: safety not guaranteed)".to_string(),
            None => String::new(),
        };
        row("byzantine replicas", format!("{}{beyond}", list.join(", ")));
    }
    row("offered load", format!("{:.1} tx/s ({} tx in the window)", m.offered_tps, m.submitted_tx));
    row("committed (whole run)", format!("{} tx", m.committed_tx));
    row("goodput", format!("{:.1} tx/s", m.goodput_tps));
    row("unconfirmed at the end", format!("{} tx", m.unconfirmed_tx));
    let lat = |l: &LatencyStats| match l.count {
        0 => "none: no transaction of the window completed".to_string(),
        _ => format!("p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1} ms", l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms),
    };
    row("consensus latency", lat(&m.consensus));
    if s.protocol == crate::model::ProtocolKind::Leaderless {
        row("execution latency", lat(&m.execution));
    }
    row("end-to-end latency", lat(&m.e2e));
    row("messages per replica", format!("{:.0}", per_replica(report, |l| l.msgs_sent)));
    row("bytes per replica", format!("{:.0}", per_replica(report, |l| l.bytes_sent)));
    let (util_mean, util_max) = cpu_util_summary(report);
    row("CPU utilisation", format!("mean {:.1}%  max {:.1}%", 100.0 * util_mean, 100.0 * util_max));
    let counters = counters_max(report);
    let get = |name: &str| counters.iter().find(|(k, _)| *k == name).map_or(0, |c| c.1);
    match s.protocol {
        crate::model::ProtocolKind::HotStuff => {
            row("views / view changes", format!("{} / {}", get("view"), get("view_changes")));
        }
        crate::model::ProtocolKind::Leaderless => {
            let ratio = get("fast_path_permille") as f64 / 10.0;
            row("fast / slow path", format!("{} / {} ({ratio:.1}% fast)", get("fast_path"), get("slow_path")));
            row("recoveries", format!("{} commands ({} requests)", get("recovered_commands"), get("recoveries")));
            let deps = get("deps_mean_milli") as f64 / 1000.0;
            row("dependencies per command", format!("mean {deps:.1}  max {}", get("deps_max")));
            row("largest component", format!("{} commands", get("component_max")));
        }
        crate::model::ProtocolKind::Algorand => {
            // The counters as the protocol names them (the maximum over correct users).
            for (name, v) in &counters {
                row(name, v.to_string());
            }
        }
    }
    row("events", format!("{} (stop: {})", report.result.events, stop_name(&report.result.stop)));
    row("seed", s.seed.to_string());
    row("digest", format!("{:016x}", report.result.digest));
    row("reproduce", reproduce.to_string());
    t
}

/// A word for a POSIX shell: as is when it is plain, else in single quotes.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:".contains(c));
    if plain { s.to_string() } else { format!("'{}'", s.replace('\'', r"'\''")) }
}

/// `cargo run --release -- <words>`, each word quoted for the shell as needed.
pub fn command_line(words: &[String]) -> String {
    let mut cmd = "cargo run --release --".to_string();
    for w in words {
        cmd.push(' ');
        cmd.push_str(&shell_word(w));
    }
    cmd
}

fn secs_or_empty(t: Time) -> String {
    if t == Time::MAX { String::new() } else { format!("{:.6}", t.as_secs_f64()) }
}

fn write_latency_csv(report: &Report, path: &Path) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "tx",
        "client",
        "region",
        "submitted_s",
        "arrived_s",
        "committed_s",
        "confirmed_s",
        "consensus_ms",
        "e2e_ms",
        "result",
    ])?;
    for (i, t) in report.result.txs.iter().enumerate() {
        let ms = |a: Time, b: Time| {
            if a == Time::MAX || b == Time::MAX {
                String::new()
            } else {
                format!("{:.3}", b.saturating_sub(a).as_millis_f64())
            }
        };
        w.write_record([
            i.to_string(),
            t.client.0.to_string(),
            report.lowered.node_regions[t.client.idx()].clone(),
            secs_or_empty(t.submitted),
            secs_or_empty(t.arrived),
            secs_or_empty(t.committed),
            secs_or_empty(t.confirmed),
            ms(t.arrived, t.committed),
            ms(t.submitted, t.confirmed),
            if t.is_confirmed() { t.result.to_string() } else { String::new() },
        ])?;
    }
    w.flush()
}

fn write_timeseries_csv(report: &Report, path: &Path) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "window_start_s",
        "offered_tps",
        "committed_tps",
        "goodput_tps",
        "e2e_count",
        "e2e_p50_ms",
        "e2e_p90_ms",
        "e2e_p99_ms",
    ])?;
    for r in &report.windows {
        w.write_record([
            format!("{:.3}", r.start_s),
            format!("{:.1}", r.offered_tps),
            format!("{:.1}", r.committed_tps),
            format!("{:.1}", r.goodput_tps),
            r.e2e.count.to_string(),
            format!("{:.3}", r.e2e.p50_ms),
            format!("{:.3}", r.e2e.p90_ms),
            format!("{:.3}", r.e2e.p99_ms),
        ])?;
    }
    w.flush()
}

fn write_nodes_csv(report: &Report, path: &Path) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let names: Vec<&str> = report
        .result
        .nodes
        .iter()
        .find(|n| n.is_replica)
        .map_or(Vec::new(), |n| n.counters.iter().map(|c| c.0).collect());
    let mut header = vec![
        "node",
        "kind",
        "region",
        "correct",
        "crashed_at_end",
        "msgs_sent",
        "bytes_sent",
        "msgs_recv",
        "bytes_recv",
        "msgs_dropped",
        "cpu_util",
        "behavior",
    ];
    header.extend(&names);
    w.write_record(&header)?;
    for node in &report.result.nodes {
        let l = &node.link;
        let mut rec = vec![
            node.id.0.to_string(),
            if node.is_replica { "replica" } else { "client" }.to_string(),
            report.lowered.node_regions[node.id.idx()].clone(),
            node.correct.to_string(),
            node.crashed_at_end.to_string(),
            l.msgs_sent.to_string(),
            l.bytes_sent.to_string(),
            l.msgs_recv.to_string(),
            l.bytes_recv.to_string(),
            l.msgs_dropped.to_string(),
            if node.is_replica { format!("{:.4}", cpu_util(report, node)) } else { String::new() },
            if node.is_replica { behavior_name(report.lowered.byzantine[node.id.idx()]) } else { "" }.to_string(),
        ];
        for name in &names {
            rec.push(node.counters.iter().find(|c| c.0 == *name).map_or(String::new(), |c| c.1.to_string()));
        }
        w.write_record(&rec)?;
    }
    w.flush()
}

/// Writes the whole results folder at `dir`, atomically (see [`write_atomically`]).
pub fn write_results(report: &Report, reproduce: &str, scenario_src: &str, dir: &Path) -> io::Result<()> {
    write_atomically(dir, |staging| {
        let summary = serde_json::to_string_pretty(&summary_json(report, reproduce)).map_err(io::Error::other)?;
        fs::write(staging.join("summary.json"), summary + "\n")?;
        let mut files = vec!["summary.json"];
        if report.scenario.output.latency_csv {
            write_latency_csv(report, &staging.join("latency.csv"))?;
            files.push("latency.csv");
        }
        write_timeseries_csv(report, &staging.join("timeseries.csv"))?;
        write_nodes_csv(report, &staging.join("nodes.csv"))?;
        crate::messages::write_messages_csv(report, &staging.join("messages.csv"))?;
        fs::write(staging.join("scenario.toml"), scenario_src)?;
        files.extend(["timeseries.csv", "nodes.csv", "messages.csv", "scenario.toml"]);
        let data = RunData::of(report);
        let s = &report.scenario;
        let figures = report::run_figures(&[(protocol_name(s.protocol).to_string(), vec![&data])], "", "");
        report::write_figures(staging, &figures)?;
        let subtitle = format!("{} on {} replicas, seed {}", protocol_name(s.protocol), s.replicas.n, s.seed);
        let mut page = Html::new(&format!("byzsim run: {}", s.name), &subtitle);
        if !s.description.is_empty() {
            page.para(&s.description);
        }
        page.heading("Summary");
        page.pairs(&summary_rows(report, reproduce));
        page.heading("Plots");
        page.figures(&figures);
        page.heading("Scenario");
        page.pre(scenario_src);
        page.heading("Reproduce");
        page.pre(reproduce);
        page.files(&files);
        fs::write(staging.join("report.html"), page.finish())
    })
}

/// Writes a folder atomically: `fill` writes into a temporary sibling `.<name>.partial-<pid>`,
/// which is then renamed over `dir` (an older `dir` is removed first). On error the temporary
/// folder is removed and `dir` is left as it was: never a half-written folder.
pub fn write_atomically(dir: &Path, fill: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
    let staging = staging_dir(dir);
    let _ = fs::remove_dir_all(&staging);
    let written = (|| {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        fs::create_dir_all(&staging)?;
        fill(&staging)?;
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
        fs::rename(&staging, dir)
    })();
    if written.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    written
}

/// Writes one file atomically: into a temporary sibling, then renamed over `path`.
pub fn write_file_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let staging = staging_dir(path);
    let written = fs::write(&staging, contents).and_then(|()| fs::rename(&staging, path));
    if written.is_err() {
        let _ = fs::remove_file(&staging);
    }
    written
}

fn staging_dir(dir: &Path) -> PathBuf {
    let name = dir.file_name().map_or("results".into(), |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}
