//! `byzsim compare`: one scenario under several protocols, on the same seeds, side by side.
//!
//! Every run of a seed shares the environment: the workload (`workload` stream), the clients'
//! choices (`clients`), the Byzantine roster (`byzantine`) and the fault schedule, whatever the
//! protocol; each protocol's own randomness lives in per-replica streams (`node/<id>/<inc>`).
//! These common random numbers make the paired difference of a metric between two protocols on
//! the same seed far less noisy than the two metrics apart; over several seeds its mean comes
//! with a 95% t interval (`stats.rs`). The network's jitter and loss draws come from one
//! `network` stream in the order messages are sent, so with jitter or loss they have the same
//! distribution under every protocol but not draw for draw (protocols send different messages).
//!
//! The protocol of each run is `--set protocol=<name>`, added after the user's overrides. A
//! scenario whose `[[byzantine]]` behaviours a protocol lacks (`fork` is HotStuff's only) is
//! refused before anything runs (exit 2), naming the behaviour, its line, and the behaviours
//! every compared protocol has (`crash`, `silent`, ...). The same for the message kinds an
//! `[adversary]` names: each must be a kind of every compared protocol.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::batch::{self, Failure};
use crate::model::{AdversaryMode, AdversaryTargets, ProtocolKind, Scenario};
use crate::output;
use crate::parse;
use plots::Html;

use crate::report;
use crate::results::metric::{self as m, Metric};
use crate::results::{RunData, RunSummary, full};
use crate::resultsdir::{self, Marker};
use crate::run;
use crate::stats::{self, PairedDiff};

/// What `byzsim compare` was asked.
#[derive(Clone, Debug)]
pub struct Args {
    pub file: PathBuf,
    /// As given: `hotstuff,leaderless`.
    pub protocols: String,
    /// Inclusive; default the scenario's own seed.
    pub seeds: Option<(u64, u64)>,
    pub sets: Vec<String>,
    pub out: Option<PathBuf>,
    pub jobs: usize,
    pub quiet: bool,
}

/// A finished comparison: the text to print, the folder written, and the exit code (0; 3 when
/// a run broke an invariant; 4 when one hit a limit).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub text: String,
    pub dir: PathBuf,
    pub code: u8,
}

/// The metrics of the comparison table, compare.csv and compare.json, in order.
pub(crate) const COMPARED: &[&Metric] = &[
    m::OFFERED_TPS,
    m::GOODPUT_TPS,
    m::E2E_P50_MS,
    m::E2E_P90_MS,
    m::E2E_P99_MS,
    m::CONSENSUS_P50_MS,
    m::CONSENSUS_P90_MS,
    m::CONSENSUS_P99_MS,
    m::MSGS_PER_TX,
    m::BYTES_PER_TX,
    m::CPU_UTIL_MEAN,
    m::CPU_US_PER_TX,
    m::UNCONFIRMED_TX,
];

/// The protocols of `--protocols`, checked: known, distinct, at least two.
pub fn parse_protocols(text: &str) -> Result<Vec<(&'static str, ProtocolKind)>, Failure> {
    let known: Vec<&str> = ProtocolKind::ALL.iter().map(|p| p.name()).collect();
    let mut out: Vec<(&'static str, ProtocolKind)> = Vec::new();
    for word in text.split(',').map(str::trim) {
        let Some((name, kind)) = ProtocolKind::from_name(word).map(|p| (p.name(), p)) else {
            let what = if word.is_empty() {
                "an empty protocol name".to_string()
            } else {
                format!("unknown protocol `{word}`")
            };
            return Err(Failure::input(format!(
                "--protocols {text}: {what}\n  help: the protocols are {}",
                known.join(", ")
            )));
        };
        if out.iter().any(|(n, _)| *n == name) {
            return Err(Failure::input(format!("--protocols {text}: `{name}` is listed twice")));
        }
        out.push((name, kind));
    }
    if out.len() < 2 {
        return Err(Failure::input(format!(
            "--protocols {text}: compare needs at least two protocols, like --protocols {}",
            known.join(",")
        )));
    }
    Ok(out)
}

/// Loads the scenario once per protocol; refuses behaviours a protocol lacks. Every protocol
/// under which the scenario is invalid is reported at once.
fn load_per_protocol(
    args: &Args,
    src: &str,
    protocols: &[(&'static str, ProtocolKind)],
) -> Result<Vec<Scenario>, Failure> {
    let file = args.file.display().to_string();
    if let Some(set) = args.sets.iter().find(|s| s.split_once('=').is_some_and(|(k, _)| k.trim() == "protocol")) {
        return Err(Failure::input(format!(
            "{file}: --set {set}: compare sets the protocol of each run itself\n  help: list the protocols with --protocols"
        )));
    }
    let loaded: Vec<_> = protocols
        .iter()
        .map(|(name, _)| {
            let mut sets = args.sets.clone();
            sets.push(format!("protocol={name}"));
            parse::load_str(&args.file, src, &sets, None)
        })
        .collect();
    // The behaviours the scenario names, read under a protocol that accepts it.
    let named: Vec<&'static str> = loaded
        .iter()
        .find_map(|l| l.as_ref().ok())
        .map(|s| s.byzantine.iter().map(|b| b.behavior.name()).collect())
        .unwrap_or_default();
    let kinds: Vec<String> = loaded.iter().find_map(|l| l.as_ref().ok()).map(adversary_kinds).unwrap_or_default();
    let mut problems = Vec::new();
    for (&(name, kind), result) in protocols.iter().zip(&loaded) {
        let Err(diags) = result else { continue };
        let mut msg = format!("{file}: the scenario does not run under protocol `{name}`");
        msg.push_str(&lacking_behaviors(name, kind, &named, protocols));
        msg.push_str(&lacking_kinds(name, kind, &kinds, protocols));
        let _ = write!(msg, "\n\n{diags}");
        problems.push(msg);
    }
    if !problems.is_empty() {
        return Err(Failure::input(problems.join("\n\n")));
    }
    Ok(loaded.into_iter().map(|l| l.expect("checked")).collect())
}

/// The list of Byzantine replicas a user may put instead of the scenario's.
const BYZANTINE_LIST: &str = r#"--set 'byzantine=[{ behavior = "silent", count = 1 }]'"#;

/// Why protocol `name` refuses the behaviours `named`, with those every compared protocol has
/// (empty if it has them all).
fn lacking_behaviors(
    name: &str,
    kind: ProtocolKind,
    named: &[&'static str],
    protocols: &[(&'static str, ProtocolKind)],
) -> String {
    let offered = parse::protocol_behaviors(kind);
    let lacking: Vec<&str> = named.iter().copied().filter(|b| !offered.iter().any(|(o, _)| o == b)).collect();
    if lacking.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = protocols.iter().map(|p| p.0).collect();
    format!(
        ": `{name}` has no Byzantine behaviour {}\n  help: the behaviours every compared protocol ({}) has \
         are: {}; use one of them, or replace the list: {BYZANTINE_LIST}",
        quoted(&lacking),
        names.join(", "),
        common_behaviors(protocols).join(", ")
    )
}

/// Which of the adversary's message kinds protocol `name` lacks, with those every compared
/// protocol has (empty if it has them all).
fn lacking_kinds(
    name: &str,
    kind: ProtocolKind,
    kinds: &[String],
    protocols: &[(&'static str, ProtocolKind)],
) -> String {
    let own = kind.message_kinds();
    let missing: Vec<&str> = kinds.iter().map(String::as_str).filter(|k| !own.contains(k)).collect();
    if missing.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = protocols.iter().map(|p| p.0).collect();
    let shared = common_kinds(protocols);
    let shared = if shared.is_empty() { "none".to_string() } else { shared.join(", ") };
    format!(
        "\n  `{name}` has no message kind {}\n  help: the kinds every compared protocol ({}) has are: \
         {shared}; or target \"critical\" or \"all\", which fit every protocol",
        quoted(&missing),
        names.join(", "),
    )
}

fn quoted(words: &[&str]) -> String {
    words.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ")
}

/// The message kinds a scenario's adversary names (random targets and rules), each once.
fn adversary_kinds(s: &Scenario) -> Vec<String> {
    let mut kinds: Vec<String> = match &s.adversary.mode {
        AdversaryMode::Off
        | AdversaryMode::Twins { .. }
        | AdversaryMode::Random { targets: AdversaryTargets::Critical | AdversaryTargets::All, .. } => Vec::new(),
        AdversaryMode::Random { targets: AdversaryTargets::Kinds(kinds), .. } => kinds.clone(),
        AdversaryMode::Scripted(rules) => rules.iter().flat_map(|r| r.kinds.iter().cloned()).collect(),
    };
    kinds.sort();
    kinds.dedup();
    kinds
}

/// The message kinds every protocol of the list has.
fn common_kinds(protocols: &[(&'static str, ProtocolKind)]) -> Vec<&'static str> {
    let first = protocols[0].1.message_kinds();
    first.iter().copied().filter(|k| protocols.iter().all(|p| p.1.message_kinds().contains(k))).collect()
}

/// The behaviours every protocol of the list offers.
fn common_behaviors(protocols: &[(&'static str, ProtocolKind)]) -> Vec<&'static str> {
    let first = parse::protocol_behaviors(protocols[0].1);
    first
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| protocols.iter().all(|p| parse::protocol_behaviors(p.1).iter().any(|(o, _)| o == name)))
        .collect()
}

/// Runs the comparison and writes its folder.
pub fn compare(args: &Args) -> Result<Outcome, Failure> {
    let protocols = parse_protocols(&args.protocols)?;
    let src = parse::read_scenario(&args.file).map_err(|e| Failure::input(e.to_string()))?;
    let scenarios = load_per_protocol(args, &src, &protocols)?;
    let seeds = batch::seeds_of(args.seeds.unwrap_or((scenarios[0].seed, scenarios[0].seed)))?;
    let jobs: Vec<Scenario> =
        scenarios.iter().flat_map(|s| seeds.iter().map(move |&seed| Scenario { seed, ..s.clone() })).collect();
    if let Some(problem) = jobs.iter().find_map(parse::seed_problem) {
        return Err(Failure::input(format!("{}: {problem}", args.file.display())));
    }
    let name = &scenarios[0].name;
    let dir = args.out.clone().unwrap_or_else(|| {
        let (first, last) = (seeds[0], seeds[seeds.len() - 1]);
        let tag = if first == last { format!("seed{first}") } else { format!("seeds{first}-{last}") };
        output::default_dir(&format!("{name}-compare-{tag}"), &args.sets)
    });
    let sources = output::Sources::new(&args.file, &src, &args.sets, None, None).reading(&scenarios);
    resultsdir::check(&dir, &sources.input_paths())?;
    let bar = batch::progress_bar(jobs.len(), args.quiet);
    let data: Vec<RunData> =
        batch::run_all(&jobs, args.jobs, |s| RunData::of(&run::run(s, &mut |_, _| {})), |_| bar.inc(1));
    bar.finish_and_clear();

    let reproduce = reproduce(args, &seeds);
    let cmp = Comparison { names: protocols.iter().map(|p| p.0).collect(), seeds: seeds.clone(), data };
    let mut text = cmp.text_table(name);
    let written = write_folder(&cmp, args, &dir, name, &sources, &reproduce);
    let _ = writeln!(text, "  {:<28} {reproduce}", "reproduce");
    let code = problems(&cmp, args, &mut text);
    if let Err(e) = written {
        return Err(Failure::output(format!(
            "{text}\nerror: could not write the results folder {}: {e}",
            dir.display()
        )));
    }
    let _ = writeln!(text, "  {:<28} {}", "results", dir.display());
    Ok(Outcome { text, dir, code })
}

/// Warns of every run that stopped early (what stopped it, the protocol, the seed and the
/// command that reproduces that one run); the exit code they call for.
fn problems(cmp: &Comparison, args: &Args, text: &mut String) -> u8 {
    let mut code = 0;
    for d in cmp.data.iter().filter(|d| !d.summary.complete()) {
        let r = &d.summary;
        let _ = writeln!(
            text,
            "  warning: {} seed {} stopped early and is left out of the means and plots: {}\n    reproduce: {}",
            r.protocol,
            r.seed,
            r.stop_detail,
            reproduce_run(args, &r.protocol, r.seed)
        );
        code = match (code, r.violation.is_some()) {
            (_, true) => 3,
            (0, false) => 4,
            (c, false) => c,
        };
    }
    code
}

/// The command that reproduces one run of the comparison.
fn reproduce_run(args: &Args, protocol: &str, seed: u64) -> String {
    let mut words: Vec<String> = vec!["run".into(), args.file.display().to_string(), "--seed".into(), seed.to_string()];
    for s in &args.sets {
        words.extend(["--set".to_string(), s.clone()]);
    }
    words.extend(["--set".to_string(), format!("protocol={protocol}")]);
    output::command_line(&words)
}

fn reproduce(args: &Args, seeds: &[u64]) -> String {
    let mut words: Vec<String> = vec!["compare".into(), args.file.display().to_string()];
    words.extend(["--protocols".to_string(), args.protocols.clone()]);
    words.extend(["--seeds".to_string(), format!("{}..{}", seeds[0], seeds[seeds.len() - 1])]);
    for s in &args.sets {
        words.extend(["--set".to_string(), s.clone()]);
    }
    output::command_line(&words)
}

/// The runs of a comparison, protocol-major: `data[p * seeds.len() + s]`.
struct Comparison {
    names: Vec<&'static str>,
    seeds: Vec<u64>,
    data: Vec<RunData>,
}

impl Comparison {
    fn runs(&self, p: usize) -> &[RunData] {
        &self.data[p * self.seeds.len()..(p + 1) * self.seeds.len()]
    }

    /// The metric of each seed's run; NaN (left out of means and pairs) for a run that stopped
    /// early, whose numbers describe a truncated run.
    fn values(&self, p: usize, m: &Metric) -> Vec<f64> {
        self.runs(p).iter().map(|d| if d.summary.complete() { m.value(&d.summary) } else { f64::NAN }).collect()
    }

    /// The runs of protocol `p` that reached their end.
    fn complete(&self, p: usize) -> usize {
        self.runs(p).iter().filter(|d| d.summary.complete()).count()
    }

    /// Seeds on which protocol `p` and the first both completed.
    fn pairs(&self, p: usize) -> usize {
        self.runs(0).iter().zip(self.runs(p)).filter(|(a, b)| a.summary.complete() && b.summary.complete()).count()
    }

    /// Whether some run stopped early.
    fn any_incomplete(&self) -> bool {
        self.data.iter().any(|d| !d.summary.complete())
    }

    fn mean(&self, p: usize, m: &Metric) -> f64 {
        stats::mean(&self.values(p, m))
    }

    /// Protocol `p` minus the first protocol, paired by seed.
    fn diff(&self, p: usize, m: &Metric) -> PairedDiff {
        stats::paired_diff(&self.values(0, m), &self.values(p, m))
    }

    fn diff_cell(&self, p: usize, m: &Metric) -> String {
        let d = self.diff(p, m);
        let signed = |x: f64| if x.is_finite() { format!("{x:+.prec$}", prec = m.decimals) } else { "-".into() };
        match d.ci95 {
            Some((lo, hi)) => {
                format!(
                    "{} [{}, {}]{}",
                    signed(d.mean),
                    signed(lo),
                    signed(hi),
                    if d.significant() { " *" } else { "" }
                )
            }
            None => signed(d.mean),
        }
    }

    fn header(&self) -> Vec<String> {
        let k = self.seeds.len();
        let over = if self.any_incomplete() { "complete runs of".to_string() } else { String::new() };
        let mut h = vec![format!("mean over {over} {k} seed{}", if k == 1 { "" } else { "s" }).replace("  ", " ")];
        h.extend(self.names.iter().map(|n| n.to_string()));
        h.extend(self.names[1..].iter().map(|n| format!("{n} - {}", self.names[0])));
        h
    }

    /// Metrics as rows, protocols as columns, then the paired differences; the first row counts
    /// the complete runs (and the seeds paired).
    fn table_rows(&self) -> Vec<Vec<String>> {
        let k = self.seeds.len();
        let mut counts = vec!["complete runs".to_string()];
        counts.extend((0..self.names.len()).map(|p| format!("{} of {k}", self.complete(p))));
        counts.extend((1..self.names.len()).map(|p| format!("{} pairs", self.pairs(p))));
        let mut rows = vec![counts];
        rows.extend(COMPARED.iter().map(|m| {
            let mut row = vec![m.label.to_string()];
            row.extend((0..self.names.len()).map(|p| fmt_or_dash(self.mean(p, m), m.decimals)));
            row.extend((1..self.names.len()).map(|p| self.diff_cell(p, m)));
            row
        }));
        rows
    }

    fn note(&self) -> String {
        let k = self.seeds.len();
        let left_out = if self.any_incomplete() {
            " Runs that stopped early (an invariant broke or a limit was hit) are left out of every mean, \
             difference and plot; see the runs table."
        } else {
            ""
        };
        format!("{}{left_out}", self.note_pairs(k))
    }

    fn note_pairs(&self, k: usize) -> String {
        if k < 2 {
            "Differences are of one seed: run several (--seeds 1..10) for confidence intervals.".to_string()
        } else {
            format!(
                "Differences are paired by seed (same workload, clients, faults and Byzantine replicas): mean [95% CI, \
                 t with {} degrees of freedom]; * marks an interval that excludes 0.",
                k - 1
            )
        }
    }

    fn text_table(&self, name: &str) -> String {
        let mut rows = vec![self.header()];
        rows.extend(self.table_rows());
        let widths: Vec<usize> =
            (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
        let mut t = format!(
            "  {name}: {} on seeds {}..{}\n",
            self.names.join(" vs "),
            self.seeds[0],
            self.seeds[self.seeds.len() - 1]
        );
        for row in &rows {
            let mut line = String::from(" ");
            for (c, cell) in row.iter().enumerate() {
                if c == 0 {
                    let _ = write!(line, " {cell:<w$}", w = widths[c]);
                } else {
                    let _ = write!(line, "  {cell:>w$}", w = widths[c]);
                }
            }
            t.push_str(line.trim_end());
            t.push('\n');
        }
        let _ = writeln!(t, "  {}", self.note());
        t
    }

    fn markdown(&self, name: &str, reproduce: &str) -> String {
        let header = self.header();
        let mut md = format!("# {name}: {}\n\n", self.names.join(" vs "));
        let _ = writeln!(md, "Seeds {}..{}. {}\n", self.seeds[0], self.seeds[self.seeds.len() - 1], self.note());
        let _ = writeln!(md, "| {} |", header.join(" | "));
        let _ = writeln!(md, "|{}", "---|".repeat(header.len()));
        for row in self.table_rows() {
            let _ = writeln!(md, "| {} |", row.join(" | "));
        }
        let _ = writeln!(md, "\nReproduce: `{reproduce}`");
        md
    }

    /// compare.csv: one row per protocol, the mean over seeds of each metric.
    fn summary_csv(&self) -> io::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["protocol", "seeds", "complete_runs"];
        header.extend(COMPARED.iter().map(|m| m.name));
        w.write_record(&header)?;
        for (p, name) in self.names.iter().enumerate() {
            let mut rec = vec![name.to_string(), self.seeds.len().to_string(), self.complete(p).to_string()];
            rec.extend(COMPARED.iter().map(|m| full(self.mean(p, m))));
            w.write_record(&rec)?;
        }
        w.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }

    /// compare-runs.csv: every run.
    fn runs_csv(&self) -> io::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["protocol", "seed"];
        header.extend(m::run_columns());
        w.write_record(&header)?;
        for d in &self.data {
            w.write_record(run_row(&d.summary))?;
        }
        w.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }

    fn json(&self, name: &str, reproduce: &str) -> CompareJson {
        let finite = |x: f64| x.is_finite().then_some(x);
        let protocols = (0..self.names.len())
            .map(|p| ProtocolMeans {
                protocol: self.names[p],
                seeds: self.seeds.len(),
                complete_runs: self.complete(p),
                means: COMPARED.iter().map(|m| (m.name, finite(self.mean(p, m)))).collect(),
            })
            .collect();
        let mut differences = Vec::new();
        for p in 1..self.names.len() {
            for m in COMPARED {
                let d = self.diff(p, m);
                differences.push(Difference {
                    metric: m.name,
                    baseline: self.names[0],
                    protocol: self.names[p],
                    seeds: d.n,
                    mean: finite(d.mean),
                    ci95: d.ci95.map(|(lo, hi)| [lo, hi]),
                    significant: d.significant(),
                });
            }
        }
        CompareJson {
            scenario: name.to_string(),
            version: crate::version::CRATE,
            git_commit: crate::version::GIT,
            dirty: crate::version::dirty(),
            protocols,
            seeds: self.seeds.clone(),
            differences,
            runs: self.data.iter().map(|d| RunRecord::of(&d.summary)).collect(),
            reproduce: reproduce.to_string(),
        }
    }
}

/// A run's row of compare-runs.csv and report.html: protocol, seed, then [`m::run_columns`].
fn run_row(s: &RunSummary) -> Vec<String> {
    let mut row = vec![s.protocol.clone(), s.seed.to_string()];
    row.extend(s.run_cells());
    row
}

/// A run in compare.json: numbers are JSON numbers, a missing value is null; the metrics of
/// [`m::RUN_ROW`] read from the summary.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
struct RunRecord {
    protocol: String,
    seed: u64,
    stop: String,
    stop_detail: String,
    /// Whether the run reached its end: only complete runs enter means and plots.
    complete: bool,
    offered_tps: f64,
    goodput_tps: f64,
    submitted_tx: u64,
    committed_tx: u64,
    unconfirmed_tx: u64,
    e2e_p50_ms: Option<f64>,
    e2e_p90_ms: Option<f64>,
    e2e_p99_ms: Option<f64>,
    e2e_max_ms: Option<f64>,
    /// Null when infinite (more than 1% of the window's transactions unconfirmed).
    e2e_p99_all_ms: Option<f64>,
    consensus_p50_ms: Option<f64>,
    consensus_p90_ms: Option<f64>,
    consensus_p99_ms: Option<f64>,
    msgs_per_tx: Option<f64>,
    bytes_per_tx: Option<f64>,
    /// A fraction of the cores (0 to 1), as everywhere in byzsim's files.
    cpu_util_mean: f64,
    cpu_us_per_tx: Option<f64>,
    events: u64,
    /// The run digest, as 16 hex digits (a u64 does not survive a JSON double).
    digest: String,
}

impl RunRecord {
    fn of(s: &RunSummary) -> RunRecord {
        let (e2e, consensus) = (&s.latency_ms.e2e, &s.latency_ms.consensus);
        RunRecord {
            protocol: s.protocol.clone(),
            seed: s.seed,
            stop: s.stop.clone(),
            stop_detail: s.stop_detail.clone(),
            complete: s.complete(),
            offered_tps: s.offered_tps,
            goodput_tps: s.goodput_tps,
            submitted_tx: s.submitted_tx,
            committed_tx: s.committed_tx,
            unconfirmed_tx: s.unconfirmed_tx,
            e2e_p50_ms: e2e.p50,
            e2e_p90_ms: e2e.p90,
            e2e_p99_ms: e2e.p99,
            e2e_max_ms: e2e.max,
            e2e_p99_all_ms: s.e2e_p99_all_ms.get().filter(|x| x.is_finite()),
            consensus_p50_ms: consensus.p50,
            consensus_p90_ms: consensus.p90,
            consensus_p99_ms: consensus.p99,
            msgs_per_tx: s.msgs_per_tx,
            bytes_per_tx: s.bytes_per_tx,
            cpu_util_mean: s.cpu_util_mean,
            cpu_us_per_tx: s.cpu_us_per_tx,
            events: s.events,
            digest: s.digest.clone(),
        }
    }
}

/// compare.json: typed, so that numbers are JSON numbers (null when missing).
#[derive(serde::Serialize)]
struct CompareJson {
    scenario: String,
    version: &'static str,
    git_commit: &'static str,
    dirty: bool,
    protocols: Vec<ProtocolMeans>,
    seeds: Vec<u64>,
    differences: Vec<Difference>,
    runs: Vec<RunRecord>,
    reproduce: String,
}

/// A protocol's means over its complete runs.
#[derive(serde::Serialize)]
struct ProtocolMeans {
    protocol: &'static str,
    seeds: usize,
    complete_runs: usize,
    #[serde(flatten)]
    means: std::collections::BTreeMap<&'static str, Option<f64>>,
}

/// A paired difference (protocol minus baseline) over the seeds where both runs completed.
#[derive(serde::Serialize)]
struct Difference {
    metric: &'static str,
    baseline: &'static str,
    protocol: &'static str,
    seeds: usize,
    mean: Option<f64>,
    ci95: Option<[f64; 2]>,
    significant: bool,
}

fn fmt_or_dash(x: f64, decimals: usize) -> String {
    if x.is_finite() { format!("{x:.decimals$}") } else { "-".into() }
}

fn write_folder(
    cmp: &Comparison,
    args: &Args,
    dir: &Path,
    name: &str,
    sources: &output::Sources,
    reproduce: &str,
) -> io::Result<()> {
    output::write_atomically(dir, &sources.input_paths(), Marker::new("compare", name), |staging| {
        fs::write(staging.join("compare.csv"), cmp.summary_csv()?)?;
        fs::write(staging.join("compare-runs.csv"), cmp.runs_csv()?)?;
        let json = serde_json::to_string_pretty(&cmp.json(name, reproduce)).map_err(io::Error::other)?;
        fs::write(staging.join("compare.json"), json + "\n")?;
        fs::write(staging.join("compare.md"), cmp.markdown(name, reproduce))?;
        let mut files = vec!["compare.csv", "compare-runs.csv", "compare.json", "compare.md"];
        files.extend(sources.write(staging)?);
        // Plots show complete runs only.
        let groups: Vec<(String, Vec<&RunData>)> = (0..cmp.names.len())
            .map(|p| (cmp.names[p].to_string(), cmp.runs(p).iter().filter(|d| d.summary.complete()).collect()))
            .collect();
        let first = format!("seed {}", cmp.seeds[0]);
        let note = if cmp.seeds.len() == 1 {
            first.clone()
        } else {
            format!("seeds {}..{}", cmp.seeds[0], cmp.seeds[cmp.seeds.len() - 1])
        };
        let figures = report::run_figures(&groups, &note, &first);
        report::write_figures(staging, &figures)?;

        let mut page = Html::new(&format!("byzsim compare: {name}"), &format!("{} ({note})", cmp.names.join(" vs ")));
        let early: Vec<&RunData> = cmp.data.iter().filter(|d| !d.summary.complete()).collect();
        if !early.is_empty() {
            let title = format!(
                "{} of {} runs stopped early: they are left out of the means, differences and plots",
                early.len(),
                cmp.data.len()
            );
            let rows: Vec<(String, String)> = early
                .iter()
                .map(|d| {
                    let r = &d.summary;
                    let what = format!("{}\nreproduce: {}", r.stop_detail, reproduce_run(args, &r.protocol, r.seed));
                    (format!("{} seed {}", r.protocol, r.seed), what)
                })
                .collect();
            page.banner(&title, &rows);
        }
        page.heading("Summary");
        let header = cmp.header();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        page.table(&header, &cmp.table_rows());
        page.para(&cmp.note());
        page.heading("Plots");
        page.figures(&figures);
        page.heading("Runs");
        let mut run_header = vec!["protocol", "seed"];
        run_header.extend(m::run_columns());
        let rows: Vec<Vec<String>> = cmp.data.iter().map(|d| run_row(&d.summary)).collect();
        page.table(&run_header, &rows);
        page.heading("Scenario");
        page.para(&format!("{}, as run (each run also sets protocol = \"...\"):", sources.file.display()));
        page.pre(&sources.as_run);
        page.heading("Reproduce");
        page.pre(reproduce);
        page.files(&files);
        page.version(&crate::version::long());
        fs::write(staging.join("report.html"), page.finish())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_lists() {
        let both = parse_protocols("hotstuff, leaderless").unwrap();
        assert_eq!(both.iter().map(|p| p.0).collect::<Vec<_>>(), ["hotstuff", "leaderless"]);
        for (bad, needle) in [
            ("hotstuff,paxos", "unknown protocol `paxos`"),
            ("hotstuff", "at least two"),
            ("hotstuff,hotstuff", "listed twice"),
            ("hotstuff,", "empty protocol name"),
        ] {
            let err = parse_protocols(bad).unwrap_err();
            assert_eq!(err.code, 2);
            assert!(err.message.contains(needle), "{bad}: {}", err.message);
        }
        let common = common_behaviors(&both);
        assert!(common.contains(&"silent") && common.contains(&"crash") && !common.contains(&"fork"));
        let all = parse_protocols("hotstuff,leaderless,algorand").unwrap();
        assert_eq!(all[2], ("algorand", ProtocolKind::Algorand));
        assert_eq!(common_behaviors(&all), ["crash", "silent", "equivocate"]);
        let algorand = parse_protocols("algorand,leaderless").unwrap();
        // Leaderless and Algorand both have a double voter.
        assert_eq!(common_behaviors(&algorand), ["crash", "silent", "equivocate", "double_vote"]);
    }
}
