//! What a run leaves for people: the summary table on stdout, and the results folder
//! (summary.json, latency.csv, timeseries.csv, nodes.csv, scenario.toml, the plots and
//! report.html), written to a temporary sibling and renamed into place so that no half-written
//! folder ever exists (`write_atomically`, also used by `compare`, `sweep` and `merge`).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use plots::Html;
use sim_core::Stop;
use sim_core::metrics::LatencyStats;

use crate::model::Scenario;
use crate::protocols::SummaryRows;
use crate::report;
use crate::results::{
    self, MessageRecord, NodeRecord, RunData, RunSummary, TxRecord, WindowRecord, byzantine_list, node_label,
};
use crate::resultsdir::{self, Marker};
use crate::run::Report;

/// Byzantine replicas named in the summary table; the others are counted.
const MAX_LISTED: usize = 32;

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
    let sum = RunSummary::of(&report.scenario, report);
    let s = &report.scenario;
    let mut t: Vec<(String, String)> = Vec::new();
    let mut row = |k: &str, v: String| t.push((k.to_string(), v));
    // A node word other than "replica" is a protocol without f (Algorand's users).
    let size = match s.protocol().node_word() {
        "replica" => format!("n = {}, f = {}", s.replicas.n, s.replicas.f),
        word => format!("n = {} {word}s", s.replicas.n),
    };
    row("scenario", format!("{} ({}, {size})", s.name, s.protocol().name()));
    if let Some(list) = byzantine_line(report) {
        row("byzantine replicas", list);
    }
    row("offered load", format!("{:.1} tx/s ({} tx in the window)", sum.offered_tps, sum.submitted_tx));
    row("committed (whole run)", format!("{} tx", sum.committed_tx));
    row("goodput", format!("{:.1} tx/s", sum.goodput_tps));
    row("unconfirmed at the end", format!("{} tx", sum.unconfirmed_tx));
    for metric in [results::metric::REQUESTS_DROPPED, results::metric::REQUESTS_PUSHED_BACK] {
        if metric.is_nonzero(&sum) {
            row(metric.label, metric.printed(&sum));
        }
    }
    let m = &report.summary;
    let lat = |l: &LatencyStats| match l.count {
        0 => "none: no transaction of the window completed".to_string(),
        _ => format!("p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1} ms", l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms),
    };
    row("consensus latency", lat(&m.consensus));
    if s.protocol().executes_apart() {
        row("execution latency", lat(&m.execution));
    }
    row("end-to-end latency", lat(&m.e2e));
    // The references' latencies, where the protocol has proposals (README, Metrics).
    if m.proposal_commit.count > 0 {
        row("proposal-to-commit latency", lat(&m.proposal_commit));
    }
    if m.proposer.count > 0 {
        row("latency at the proposer", lat(&m.proposer));
    }
    row("messages per replica", format!("{:.0}", sum.messages_per_replica));
    row("bytes per replica", format!("{:.0}", sum.bytes_per_replica));
    let (util_mean, util_max) = (sum.cpu_util_mean, sum.cpu_util_max);
    row("CPU utilisation", format!("mean {:.1}%  max {:.1}%", 100.0 * util_mean, 100.0 * util_max));
    t.extend(counter_rows(report, &sum));
    let mut row = |k: &str, v: String| t.push((k.to_string(), v));
    row("events", format!("{} (stop: {})", sum.events, sum.stop));
    row("seed", s.seed.to_string());
    row("digest", sum.digest.clone());
    row("reproduce", reproduce.to_string());
    t
}

/// The Byzantine replicas of the summary table, None without one.
fn byzantine_line(report: &Report) -> Option<String> {
    let byz = byzantine_list(report);
    if byz.is_empty() {
        return None;
    }
    // Algorand runs may have thousands: the table names the first ones (nodes.csv has all).
    let mut list: Vec<String> = byz.iter().take(MAX_LISTED).map(|(id, b)| format!("{id} {b}")).collect();
    if byz.len() > MAX_LISTED {
        list.push(format!("and {} more", byz.len() - MAX_LISTED));
    }
    let beyond = match report.byzantine_stake_ppm {
        Some(ppm) => format!(" ({:.2}% of the stake)", ppm as f64 / 1e4),
        None if byz.len() > report.scenario.replicas.f as usize => " (more than f: safety not guaranteed)".to_string(),
        None => String::new(),
    };
    Some(format!("{}{beyond}", list.join(", ")))
}

/// The protocol's rows in the summary table, as its module declares them (a counter the run
/// lacks shows 0).
fn counter_rows(report: &Report, sum: &RunSummary) -> Vec<(String, String)> {
    match report.scenario.protocol().summary_rows() {
        SummaryRows::Metrics(rows) => {
            rows.iter().map(|(label, template)| (label.to_string(), results::metric::fill(template, sum))).collect()
        }
        SummaryRows::Counters => {
            results::counters_max(report).into_iter().map(|(name, v)| (name.to_string(), v.to_string())).collect()
        }
    }
}

/// A word for a POSIX shell: as is when it is plain, else in single quotes.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:".contains(c));
    if plain { s.to_string() } else { format!("'{}'", s.replace('\'', r"'\''")) }
}

/// How the command was invoked, for reproduce lines: `byzsim` when it was found on PATH,
/// `cargo run --release --` under cargo, else the path it was run by.
static INVOKED_AS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Records how byzsim was invoked (`argv[0]`); call once from `main`.
pub fn set_invocation(argv0: &str) {
    let _ = INVOKED_AS.set(invocation(argv0, std::env::var_os("CARGO_MANIFEST_DIR").is_some()));
}

/// The words that start a reproduce line, from `argv[0]` and whether cargo started us.
pub fn invocation(argv0: &str, under_cargo: bool) -> String {
    let path = Path::new(argv0);
    let bare = path.components().count() == 1;
    if bare {
        // Found on PATH: the name as typed.
        return shell_word(argv0);
    }
    let in_target = path.components().any(|c| c.as_os_str() == "target");
    if under_cargo && in_target { "cargo run --release --".to_string() } else { shell_word(argv0) }
}

/// The reproduce line: byzsim as invoked, then `words`, each quoted for the shell as needed.
pub fn command_line(words: &[String]) -> String {
    let mut cmd = INVOKED_AS.get().cloned().unwrap_or_else(|| "cargo run --release --".to_string());
    for w in words {
        cmd.push(' ');
        cmd.push_str(&shell_word(w));
    }
    cmd
}

fn write_latency_csv(report: &Report, path: &Path) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(TxRecord::COLUMNS)?;
    for (i, t) in report.result.txs.iter().enumerate() {
        w.write_record(TxRecord::cells(report, i, t))?;
    }
    w.flush()
}

fn write_timeseries_csv(report: &Report, path: &Path) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(WindowRecord::COLUMNS)?;
    for r in &report.windows {
        w.write_record(WindowRecord::of(r).cells())?;
    }
    w.flush()
}

fn write_nodes_csv(report: &Report, path: &Path) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let nodes = NodeRecord::all(report);
    // The counters of the first replica name the counter columns (every replica has the same).
    let names: Vec<&str> = nodes
        .iter()
        .find(|n| n.kind == "replica")
        .map_or(Vec::new(), |n| n.counters.iter().map(|c| c.0.as_str()).collect());
    let pools = report.scenario.cpu.request_cores > 0;
    w.write_record(NodeRecord::header(pools, &names))?;
    for node in &nodes {
        w.write_record(node.cells(pools, &names))?;
    }
    w.flush()
}

/// messages.csv: one row per node and kind it sent or received anything of, in node order.
fn write_messages_csv(report: &Report, path: &Path) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(MessageRecord::COLUMNS)?;
    for r in MessageRecord::all(report) {
        w.write_record(r.cells())?;
    }
    w.flush()
}

/// The scenario of a command, as given and as run.
#[derive(Clone, Debug)]
pub struct Sources {
    /// The file as named on the command line.
    pub file: PathBuf,
    /// Its text as read.
    pub original: String,
    /// The scenario as run: the overrides and seed applied (see [`Sources::new`]).
    pub as_run: String,
    /// Every input of the command: the scenario file, then the files it reads. A results
    /// folder never replaces a folder holding one of them.
    pub inputs: Vec<PathBuf>,
}

impl Sources {
    /// `as_run` is TOML that loads into the scenario that ran, under a header naming the file
    /// and overrides; when the overrides cannot be folded into the text exactly, it is the
    /// original text under a header listing them.
    /// `loaded` is the scenario `sets` and `seed` gave, when the caller has it (one load less).
    pub fn new(file: &Path, original: &str, sets: &[String], seed: Option<u64>, loaded: Option<&Scenario>) -> Sources {
        let mut header = format!("# The scenario as run by byzsim {}: {}", crate::version::long(), file.display());
        for set in sets {
            let _ = write!(header, " --set {}", shell_word(set));
        }
        if let Some(seed) = seed {
            let _ = write!(header, " --seed {seed}");
        }
        let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).map_or(".".into(), |d| d.display().to_string());
        let _ = write!(
            header,
            "\n# The file as written is scenario.original.toml. Relative file paths in it are relative to {dir}.\n"
        );
        let drawn = loaded.filter(|s| s.explore.is_some());
        let concrete = drawn.and_then(|s| crate::swarm::concrete_toml(file, original, sets, s.seed, file));
        if let Some(text) = concrete {
            let as_run = format!("{header}# [explore] drew the faults below; this file runs them without it.\n{text}");
            return Sources {
                file: file.to_path_buf(),
                original: original.to_string(),
                as_run,
                inputs: vec![file.to_path_buf()],
            };
        }
        let as_run = match crate::parse::effective_toml(file, original, sets, seed, loaded) {
            Some(text) => format!("{header}\n{text}"),
            None if sets.is_empty() && seed.is_none() => format!("{header}\n{original}"),
            None => format!("{header}# (the overrides above are not applied to the text below)\n\n{original}"),
        };
        Sources { file: file.to_path_buf(), original: original.to_string(), as_run, inputs: vec![file.to_path_buf()] }
    }

    /// Adds the files that scenarios read to the inputs.
    pub fn reading<'a>(mut self, scenarios: impl IntoIterator<Item = &'a Scenario>) -> Sources {
        self.inputs = inputs_of(&self.file, scenarios);
        self
    }

    /// The inputs as paths, for `resultsdir`.
    pub fn input_paths(&self) -> Vec<&Path> {
        self.inputs.iter().map(PathBuf::as_path).collect()
    }

    /// Writes scenario.toml (as run) and scenario.original.toml into `dir`.
    pub fn write(&self, dir: &Path) -> io::Result<[&'static str; 2]> {
        fs::write(dir.join("scenario.toml"), &self.as_run)?;
        fs::write(dir.join("scenario.original.toml"), &self.original)?;
        Ok(["scenario.toml", "scenario.original.toml"])
    }
}

/// A command's inputs: the scenario file, then every file its scenarios read, once each.
pub fn inputs_of<'a>(file: &Path, scenarios: impl IntoIterator<Item = &'a Scenario>) -> Vec<PathBuf> {
    let mut inputs = vec![file.to_path_buf()];
    for path in scenarios.into_iter().flat_map(|s| &s.inputs) {
        if !inputs.contains(path) {
            inputs.push(path.clone());
        }
    }
    inputs
}

/// The default results folder: `results/<stem>`, with a short hash of the overrides when there
/// are some, so that runs of different configurations never share a folder.
pub fn default_dir(stem: &str, sets: &[String]) -> PathBuf {
    if sets.is_empty() {
        return PathBuf::from("results").join(stem);
    }
    let hash = sim_core::digest::stable_hash_str(&sets.join("\0"));
    PathBuf::from("results").join(format!("{stem}-{:08x}", hash >> 32))
}

/// Why a run stopped before its end, as a title and (what, value) rows; None for a complete run.
pub fn early_stop(report: &Report, reproduce: &str) -> Option<(String, Vec<(String, String)>)> {
    let at = |ns: u64| format!("{:.6} s (virtual)", ns as f64 / 1e9);
    let (title, mut rows) = match &report.result.stop {
        Stop::End => return None,
        Stop::Violation(v) => {
            let mut rows = vec![
                ("invariant".to_string(), v.invariant.to_string()),
                ("node".to_string(), node_label(report, v.replica)),
                ("time".to_string(), at(v.at_ns)),
                ("detail".to_string(), v.detail.clone()),
            ];
            if let Some(overload) = results::liveness_overload(report) {
                rows.push(("diagnosis".to_string(), overload));
            }
            (format!("This run broke the invariant `{}`", v.invariant), rows)
        }
        Stop::Limit { limit, detail } => {
            let fix = crate::diagnose::limit_stop(report).unwrap_or_default();
            let rows = vec![
                ("limit".to_string(), format!("[limits] {}", limit.key())),
                ("detail".to_string(), detail.clone()),
                ("time".to_string(), at(report.result.end_time.as_nanos())),
                ("events".to_string(), report.result.events.to_string()),
                ("what to do".to_string(), fix.lines().last().unwrap_or_default().trim().to_string()),
            ];
            (format!("This run stopped early: it hit its limit [limits] {}", limit.key()), rows)
        }
    };
    rows.push(("seed".to_string(), report.scenario.seed.to_string()));
    rows.push(("reproduce".to_string(), reproduce.to_string()));
    Some((title, rows))
}

/// Writes the whole results folder at `dir` (see [`write_atomically`]).
pub fn write_results(report: &Report, reproduce: &str, sources: &Sources, dir: &Path) -> io::Result<()> {
    write_results_with(report, reproduce, sources, dir, None)
}

/// The same, with the view timeline `byzsim run` kept (`viewtl`): its figure and its section
/// after the plots.
pub fn write_results_with(
    report: &Report,
    reproduce: &str,
    sources: &Sources,
    dir: &Path,
    views: Option<&crate::viewtl::Views>,
) -> io::Result<()> {
    let marker = Marker::new("run", &report.scenario.name);
    write_atomically(dir, &sources.input_paths(), marker, |staging| {
        let summary = RunSummary::of(&report.scenario, report).reproduced_by(reproduce);
        fs::write(staging.join("summary.json"), summary.to_json())?;
        let mut files = vec!["summary.json"];
        if report.scenario.output.latency_csv {
            write_latency_csv(report, &staging.join("latency.csv"))?;
            files.push("latency.csv");
        }
        write_timeseries_csv(report, &staging.join("timeseries.csv"))?;
        write_nodes_csv(report, &staging.join("nodes.csv"))?;
        write_messages_csv(report, &staging.join("messages.csv"))?;
        files.extend(["timeseries.csv", "nodes.csv", "messages.csv"]);
        files.extend(sources.write(staging)?);
        if matches!(report.result.stop, Stop::Violation(_)) {
            fs::write(staging.join("flight-recorder.txt"), flight_recorder_text(report, usize::MAX))?;
            files.push("flight-recorder.txt");
        }
        let data = RunData::of(report);
        let s = &report.scenario;
        let figures = report::run_figures(&[(s.protocol().name().to_string(), vec![&data])], "", "");
        report::write_figures(staging, &figures)?;
        let timeline = views.and_then(crate::viewtl::Views::figure);
        if let Some(figure) = &timeline {
            report::write_figures(staging, std::slice::from_ref(figure))?;
        }
        let subtitle = format!("{} on {} replicas, seed {}", s.protocol().name(), s.replicas.n, s.seed);
        let mut page = Html::new(&format!("byzsim run: {}", s.name), &subtitle);
        if let Some((title, rows)) = early_stop(report, reproduce) {
            page.banner(&title, &rows);
        }
        if matches!(report.result.stop, Stop::Violation(_)) {
            page.heading("Leading to the violation (flight recorder)");
            page.pre(&flight_recorder_text(report, FLIGHT_LINES));
        }
        if !s.description.is_empty() {
            page.para(&s.description);
        }
        page.heading("Summary");
        page.pairs(&summary_rows(report, reproduce));
        page.heading("Messages by type");
        page.pairs(&crate::messages::per_tx_rows(report));
        page.heading("Plots");
        page.figures(&figures);
        if let Some(figure) = &timeline {
            page.heading("View timeline");
            page.figures(std::slice::from_ref(figure));
        } else if let Some(why) = views.and(s.protocol().no_timeline()) {
            page.heading("View timeline");
            page.para(why);
        }
        page.heading("Scenario (as run)");
        page.pre(&sources.as_run);
        page.heading("Reproduce");
        page.pre(reproduce);
        page.files(&files);
        page.version(&crate::version::long());
        fs::write(staging.join("report.html"), page.finish())
    })
}

/// Writes a results folder atomically and safely: refuses a folder byzsim did not write, fills
/// a temporary sibling, marks it with `marker` (listing every file written), and renames it
/// over `dir` (see `resultsdir`). On error `dir` is left as it was: never a half-written
/// folder, never a lost one.
pub fn write_atomically(
    dir: &Path,
    inputs: &[&Path],
    marker: Marker,
    fill: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<()> {
    resultsdir::replace(dir, inputs, marker, |staging| {
        fill(staging)?;
        let mut files = Vec::new();
        for entry in fs::read_dir(staging)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name != resultsdir::MARKER {
                files.push(name);
            }
        }
        Ok(files)
    })
}

/// Records of the flight recorder shown on screen and in report.html after a violation (all of
/// them go to `flight-recorder.txt`).
pub const FLIGHT_LINES: usize = 40;

/// The flight recorder's last `count` telling records before a violation, then the protocol
/// state of the replicas involved.
pub fn flight_recorder_text(report: &Report, count: usize) -> String {
    let mut text = String::new();
    let lines = crate::eventlog::flight_lines(report, count);
    text.push_str(&format!(
        "The last {} records of replicas before the stop, of the run's {} (what they received and decided; \
         sends, handlers, timers set and client traffic are left out; every record: run --events):\n",
        lines.len(),
        report.result.records
    ));
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    for (node, state) in &report.states {
        text.push_str(&format!("\nstate of {} when it stopped:\n", node_label(report, *node)));
        if state.is_empty() {
            text.push_str("  (this protocol describes no state)\n");
        }
        for line in state.lines() {
            text.push_str("  ");
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}
