//! `byzsim experiment SPEC`: an experiment as data (docs/experiments.md). The spec's cases run
//! on the worker pool (a case's runs, its load search included, in order on one worker);
//! results come back in case order, so every file is the same whatever `--jobs`. The results
//! folder holds the page filled from its template, a CSV per table, every run in
//! `<name>-runs.csv`, the plots and `results.json`; a claim that does not hold fails with exit
//! code 1 once the folder is written. `--shard I/N` runs a share of the cases (`shard.rs`).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // `--isolate` times child processes

pub mod bars;
pub mod cases;
pub mod claims;
pub mod expr;
pub mod geo;
pub mod models;
pub mod page;
pub mod reference;
pub mod regions;
pub mod render;
pub mod select;
pub mod series;
pub mod shard;
pub mod spec;
pub mod table;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::batch::{self, Failure};
use crate::parse;
use crate::results::full;
use crate::results::{METRICS, RunCost, RunSummary, WindowRecord};
use crate::resultsdir::{self, Marker};
use cases::{Case, CaseResult, NamedRun};
use spec::Loaded;

/// `byzsim experiment`'s arguments.
pub struct Args {
    pub spec: PathBuf,
    pub out: Option<PathBuf>,
    pub jobs: usize,
    pub isolate: bool,
    pub quick: bool,
    pub quiet: bool,
    /// (I, N): run only the cases numbered I modulo N and write a shard file (`shard.rs`).
    pub shard: Option<(u64, u64)>,
    /// Run nothing: the page, tables and plots again from this folder's runs (`render.rs`).
    pub render_from: Option<PathBuf>,
}

/// What the command prints and its exit code.
pub struct Outcome {
    pub text: String,
    pub code: u8,
}

/// Everything an experiment found, as `results.json` holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub name: String,
    pub quick: bool,
    /// What decides the runs (`render::runs_id`): `--render-from` uses them only if it matches.
    #[serde(default)]
    pub runs_id: String,
    pub cases: Vec<CaseResult>,
}

/// How a run is run: in this process, or in a child process of this binary; the base
/// scenarios (the spec's first) with their text.
#[derive(Clone, Copy)]
struct Runner<'a> {
    scenarios: &'a [(PathBuf, String)],
    isolate: bool,
}

pub fn experiment(args: &Args) -> Result<Outcome, Failure> {
    let loaded = Loaded::read(&args.spec)?;
    let template = page::read(&loaded)?;
    let scenarios = select::scenarios(&loaded)?;
    let runner = Runner { scenarios: &scenarios, isolate: args.isolate || loaded.spec.isolate };
    let cases = cases::cases(&loaded, args.quick);
    check_cases(&loaded, runner, &cases)?;
    if let Some(shard) = args.shard {
        let sources = all_sources(&scenarios);
        let job = shard::Job { loaded: &loaded, template: &template, scenario_src: &sources, shard };
        return shard::run(&job, args, &cases, |mine| run_modelled(&loaded, &template, runner, mine, args));
    }
    let page_path = loaded.page_path();
    let mut inputs: Vec<&Path> = vec![&args.spec, &page_path];
    inputs.extend(scenarios.iter().map(|s| s.0.as_path()));
    let runs_id = render::runs_id(&loaded, &all_sources(&scenarios));
    if let Some(from) = &args.render_from {
        let mut results = render::read(&loaded, args, &cases, &runs_id, from)?;
        let dir = args.out.clone().unwrap_or_else(|| from.clone());
        resultsdir::check(&dir, &inputs)?;
        derive(&loaded, &template, runner, &mut results.cases);
        return finish(&loaded, &template, &results, &dir, &inputs);
    }
    let dir = args.out.clone().unwrap_or_else(|| default_dir(&loaded.spec.name, args.quick));
    resultsdir::check(&dir, &inputs)?;
    let results = run_modelled(&loaded, &template, runner, &cases, args);
    let results = Results { name: loaded.spec.name.clone(), quick: args.quick, runs_id, cases: results };
    finish(&loaded, &template, &results, &dir, &inputs)
}

/// The cases' runs, then the closed-form models the spec or page names, per case.
fn run_modelled(loaded: &Loaded, template: &str, runner: Runner<'_>, cases: &[Case], args: &Args) -> Vec<CaseResult> {
    let mut results = run_cases(loaded, runner, cases, args);
    derive(loaded, template, runner, &mut results);
    results
}

/// What the cases' results take from the spec and page rather than from the runs: the models
/// they name and the published data joined to them, made anew (a render drops what it had).
fn derive(loaded: &Loaded, template: &str, runner: Runner<'_>, results: &mut [CaseResult]) {
    for r in results.iter_mut() {
        r.models.clear();
        r.region_models.clear();
        r.references.clear();
    }
    models::fill(loaded, template, |case| runner.scenario(case), results);
    reference::fill(loaded, results);
}

/// Every base scenario's text, in the order read, for the experiment id of shards.
pub(crate) fn all_sources(scenarios: &[(PathBuf, String)]) -> String {
    scenarios.iter().map(|s| s.1.as_str()).collect::<Vec<_>>().join("\0")
}

/// Every case loads (exit code 2 naming the first that does not).
fn check_cases(loaded: &Loaded, runner: Runner<'_>, cases: &[Case]) -> Result<(), Failure> {
    for case in cases {
        let (scenario, src) = runner.scenario(case);
        parse::load_str(scenario, src, &case.sets, case.seed).map_err(|d| {
            Failure::input(format!(
                "{}: case `{}` (its overrides {:?}):\n{d}",
                loaded.path.display(),
                case.label,
                case.sets
            ))
        })?;
    }
    Ok(())
}

/// Checks the claims and writes the folder (the same for a whole run and a merge of shards);
/// exit code 1 when a claim fails.
fn finish(
    loaded: &Loaded,
    template: &str,
    results: &Results,
    dir: &Path,
    inputs: &[&Path],
) -> Result<Outcome, Failure> {
    let (failed, skipped) = claims::evaluate(loaded, &results.cases);
    let marker = Marker::new("experiment", &loaded.spec.name);
    resultsdir::replace(dir, inputs, marker, |staging| write(loaded, template, results, staging))
        .map_err(|e| Failure::output(format!("{}: {e}", dir.display())))?;
    let mut text = format!("{} cases -> {}\n", results.cases.len(), dir.display());
    text.push_str(&stopped_early(&results.cases));
    let total = loaded.spec.expects.len();
    text.push_str(&format!(
        "claims: {} hold, {} fail, {skipped} not run\n",
        total - failed.len() - skipped,
        failed.len()
    ));
    if failed.is_empty() {
        return Ok(Outcome { text, code: 0 });
    }
    Err(Failure::output(format!("{text}{}", failed.join("\n"))))
}

/// A warning line per run that did not reach its end (a limit hit, an invariant broken): its
/// numbers are in the tables all the same, but they are of the part it ran.
fn stopped_early(cases: &[CaseResult]) -> String {
    let mut text = String::new();
    for c in cases {
        for r in c.runs.iter().filter(|r| !r.summary.complete()) {
            text.push_str(&format!(
                "warning: {} stopped early ({}): {}; its numbers are of the part it ran\n",
                c.which(r),
                r.summary.stop,
                r.summary.stop_detail
            ));
        }
    }
    text
}

fn default_dir(name: &str, quick: bool) -> PathBuf {
    PathBuf::from("results").join(if quick { format!("{name}-experiment-quick") } else { format!("{name}-experiment") })
}

/// Runs every distinct case once (a case whose runs' inputs, its base scenario, overrides, seed
/// and search start, repeat an earlier one's shares its runs) on the worker pool, and returns
/// the results in case order.
fn run_cases(loaded: &Loaded, runner: Runner<'_>, cases: &[Case], args: &Args) -> Vec<CaseResult> {
    // Everything a case's runs depend on; the rest of a case (label, axes) only names it.
    let start = |c: &Case| (search_start_tps(loaded, c).map(f64::to_bits), at_rate_tps(loaded, c).map(f64::to_bits));
    let same_runs =
        |a: &Case, b: &Case| (&a.scenario, &a.sets, a.seed, start(a)) == (&b.scenario, &b.sets, b.seed, start(b));
    let mut jobs: Vec<&Case> = Vec::new();
    let job_of: Vec<usize> = cases
        .iter()
        .map(|c| match jobs.iter().position(|j| same_runs(j, c)) {
            Some(i) => i,
            None => {
                jobs.push(c);
                jobs.len() - 1
            }
        })
        .collect();
    let bar = batch::progress_bar(jobs.len(), args.quiet);
    let done = batch::run_all(&jobs, args.jobs, |c| run_case(loaded, runner, c), |_| bar.inc(1));
    bar.finish_and_clear();
    cases
        .iter()
        .zip(job_of)
        .map(|(case, j)| CaseResult {
            case: case.clone(),
            runs: done[j].0.clone(),
            search: done[j].1.clone(),
            models: Default::default(),
            region_models: Default::default(),
            references: Default::default(),
        })
        .collect()
}

/// Where a case's load search starts: its variant's start at the case's axis values
/// (`search_starts`) or its `search_start_tps`, else `[search]`'s;
/// None without a search.
fn search_start_tps(loaded: &Loaded, case: &Case) -> Option<f64> {
    let search = loaded.spec.search.as_ref()?;
    Some(loaded.variant_of(case).and_then(|v| v.search_start(case)).unwrap_or(search.start_tps))
}

/// The offered load of a case whose variant runs at its own `rate_tps`.
fn at_rate_tps(loaded: &Loaded, case: &Case) -> Option<f64> {
    loaded.variant_of(case)?.rate_tps
}

/// One case's runs: its variant's own load (a rate or a closed loop, whose overrides the case
/// holds), its search, its named rates, or one run.
fn run_case(loaded: &Loaded, runner: Runner<'_>, case: &Case) -> (Vec<NamedRun>, Option<crate::search::Found>) {
    let at = |rate: Option<f64>| runner.run(case, rate);
    let named = |name: &str, rate: Option<f64>| {
        let (summary, windows) = runner.run_windows(case, rate);
        NamedRun { name: name.into(), rate_tps: rate, summary, windows }
    };
    if loaded.variant_of(case).is_some_and(spec::Variant::runs_once) {
        return (vec![named(spec::AT_RUN, at_rate_tps(loaded, case))], None);
    }
    if let Some(search) = &loaded.spec.search {
        let start_tps = search_start_tps(loaded, case).unwrap_or(search.start_tps);
        let found = crate::search::Search { start_tps, ..search.clone() }.run(|rate| at(Some(rate)));
        let best = &found.runs[found.best];
        let runs = vec![
            NamedRun { name: "capacity".into(), rate_tps: Some(best.0), summary: best.1.clone(), windows: Vec::new() },
            NamedRun {
                name: "latency".into(),
                rate_tps: Some(found.latency.0),
                summary: found.latency.1.clone(),
                windows: Vec::new(),
            },
        ];
        return (runs, Some(found));
    }
    if loaded.spec.rates.is_empty() {
        return (vec![named("run", None)], None);
    }
    (loaded.spec.rates.iter().map(|(name, &rate)| named(name, Some(rate))).collect(), None)
}

impl<'a> Runner<'a> {
    /// The base scenario of a case (its path and text).
    fn scenario(&self, case: &Case) -> (&'a Path, &'a str) {
        let at = |i: usize| (self.scenarios[i].0.as_path(), self.scenarios[i].1.as_str());
        let Some(name) = &case.scenario else { return at(0) };
        at(self.scenarios.iter().position(|s| s.0.ends_with(name)).expect("read before the runs"))
    }

    /// The case's overrides, then the rate's.
    fn sets(case: &Case, rate: Option<f64>) -> Vec<String> {
        let mut sets = case.sets.clone();
        sets.extend(rate.map(|r| format!("workload.rate_tps={r}")));
        sets
    }

    fn run(&self, case: &Case, rate: Option<f64>) -> RunSummary {
        self.run_windows(case, rate).0
    }

    /// A run's summary and its windows (none when isolated: the child prints its summary only).
    fn run_windows(&self, case: &Case, rate: Option<f64>) -> (RunSummary, Vec<WindowRecord>) {
        let sets = Runner::sets(case, rate);
        let (path, src) = self.scenario(case);
        if self.isolate {
            return match isolated(path, &sets, case.seed) {
                Ok(summary) => (summary, Vec::new()),
                Err(e) => child_failed(&case.label, &e),
            };
        }
        let scenario = parse::load_str(path, src, &sets, case.seed).expect("validated before the runs");
        let report = crate::run::run(&scenario, &mut |_, _| {});
        (RunSummary::of(&scenario, &report), report.windows.iter().map(WindowRecord::of).collect())
    }
}

/// An isolated run that did not give a summary: its child could not start, was killed (by the
/// kernel, for memory), or failed. The runs cannot go on without it and nothing is written yet
/// (the folder is written whole at the end), so the experiment stops here with exit code 1.
fn child_failed(case: &str, error: &str) -> ! {
    eprintln!(
        "error: experiment case {case}: {error}\n  nothing was written: the experiment stops without its results folder"
    );
    std::process::exit(1)
}

/// This program for a child: on Linux `/proc/self/exe`, the running image even when its file was
/// rebuilt or removed since it started (a child of another build would mix versions in one
/// experiment); elsewhere its path.
fn this_program() -> Result<PathBuf, String> {
    let proc_self = Path::new("/proc/self/exe");
    if proc_self.exists() {
        return Ok(proc_self.to_path_buf());
    }
    std::env::current_exe().map_err(|e| format!("this program's path: {e}"))
}

/// Runs one run in a child process of this binary (`byzsim experiment-run`), which prints its
/// summary as JSON; the wall time is measured here, the peak memory by the child.
fn isolated(scenario: &Path, sets: &[String], seed: Option<u64>) -> Result<RunSummary, String> {
    let mut cmd = Command::new(this_program()?);
    cmd.arg("experiment-run").arg(scenario);
    for s in sets {
        cmd.arg("--set").arg(s);
    }
    if let Some(seed) = seed {
        cmd.arg("--seed").arg(seed.to_string());
    }
    let start = std::time::Instant::now();
    let out = cmd.output().map_err(|e| format!("experiment-run: {e}"))?;
    let wall_s = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("its child process failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    let mut summary: RunSummary =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("experiment-run's JSON: {e}"))?;
    let peak_rss_mib = summary.cost.as_ref().map_or(0.0, |c| c.peak_rss_mib);
    summary.cost = Some(RunCost { wall_s, peak_rss_mib });
    Ok(summary)
}

/// `byzsim experiment-run`: one run in this process, its summary printed as JSON with this
/// process's peak memory (VmHWM).
pub fn child(file: &Path, sets: &[String], seed: Option<u64>) -> Result<String, Failure> {
    let scenario = parse::load(file, sets, seed).map_err(|d| Failure::input(d.to_string()))?;
    let report = crate::run::run(&scenario, &mut |_, _| {});
    let mut summary = RunSummary::of(&scenario, &report);
    summary.cost = Some(RunCost { wall_s: 0.0, peak_rss_mib: peak_rss_mib() });
    Ok(serde_json::to_string(&summary).expect("a summary is plain data") + "\n")
}

/// This process's peak resident memory (VmHWM) in MiB; 0 where /proc is absent.
fn peak_rss_mib() -> f64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:"));
    let kib = line.and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok());
    kib.map_or(0.0, |k| k / 1024.0)
}

/// Writes the folder's files into `dir`; returns their names.
fn write(loaded: &Loaded, template: &str, results: &Results, dir: &Path) -> io::Result<Vec<String>> {
    let name = &results.name;
    let mut files = Vec::new();
    let mut tables = Vec::new();
    for t in &loaded.spec.tables {
        let kept: Vec<&CaseResult> = results.cases.iter().filter(|c| t.only.admits(&c.case)).collect();
        let (md, rows) = match t.rows {
            spec::Rows::Case => table::render(loaded, &t.columns, &kept),
            spec::Rows::Region => regions::render(loaded, &t.columns, &kept),
        };
        let file = format!("{name}-{}.csv", t.name);
        fs::write(dir.join(&file), csv_bytes(&rows)?)?;
        files.push(file);
        tables.push((t.name.clone(), md));
    }
    let mut plots = Vec::new();
    for p in &loaded.spec.plots {
        // `--quick` runs fewer values: a plot none of whose cases ran is not drawn.
        if !results.cases.iter().any(|r| p.only.admits(&r.case)) {
            plots.push((p.name.clone(), format!("*(Plot `{}`: none of its cases ran in this run.)*\n", p.name)));
            continue;
        }
        let stem = format!("{name}-{}", p.name);
        let md = table::plot(loaded, p, &results.cases, dir, &stem).map_err(io::Error::other)?;
        files.extend([format!("{stem}.svg"), format!("{stem}.png")]);
        plots.push((p.name.clone(), md));
    }
    fs::write(dir.join(format!("{name}.md")), page::fill(loaded, template, &tables, &plots, &results.cases))?;
    fs::write(dir.join(format!("{name}-runs.csv")), csv_bytes(&runs_rows(&results.cases))?)?;
    let json = serde_json::to_string_pretty(results).expect("results are plain data") + "\n";
    fs::write(dir.join("results.json"), json)?;
    files.extend([format!("{name}.md"), format!("{name}-runs.csv"), "results.json".into()]);
    Ok(files)
}

/// Every run: case, run, rate, every registry metric, stop, digest.
fn runs_rows(cases: &[CaseResult]) -> Vec<Vec<String>> {
    let mut header: Vec<String> = ["case", "run", "rate_tps"].map(String::from).to_vec();
    header.extend(METRICS.iter().map(|m| m.name.to_string()));
    header.extend(["stop".into(), "digest".into()]);
    let mut rows = vec![header];
    for c in cases {
        for (run, rate, s) in c.every_run() {
            let mut row = vec![c.case.label.clone(), run, rate.map_or(String::new(), full)];
            row.extend(METRICS.iter().map(|m| (m.get)(s).map_or(String::new(), full)));
            row.extend([s.stop.clone(), s.digest.clone()]);
            rows.push(row);
        }
    }
    rows
}

fn csv_bytes(rows: &[Vec<String>]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row).map_err(io::Error::other)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}
