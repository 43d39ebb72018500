//! `byzsim sweep` and `byzsim merge`: a grid of runs (the cartesian product of swept values,
//! times seeds) over local worker threads or over machines (shards), merged into one table.
//!
//! The grid: in a sweep, `--set key=v1,v2,...` sweeps `key` over the values; commas inside
//! brackets, braces or quotes do not split (`--set 'replicas.regions=["a","b"],["c"]'` is two
//! values, each a TOML array), and a `--set` with one value is a plain override. Runs are
//! numbered 0.. in grid order: the first swept key varies slowest, the seed fastest, values in
//! the order given. Each run keeps its typed `RunSummary` beside its printed sweep.csv row;
//! every table and plot is computed from the summaries in run order (no cell is read back), so
//! the folder is the same whatever the number of workers, and a merge of shards gives the same
//! sweep.csv (and every other file) as the unsharded sweep.
//!
//! Shards: `--shard i/N` (0 <= i < N) runs the runs whose number is i modulo N and writes
//! `shard-<i>-of-<N>.json` (format 2: the rows, their summaries, and everything `merge` needs to
//! finish: the scenario text, the overrides, the seeds, the saturation bound; a format 1 shard
//! is refused by name). A sweep id (a hash of those and the byzsim version) refuses shards of
//! different sweeps. `byzsim merge` of experiment shards is in `experiment/shard.rs`.
//!
//! Saturation: with `--saturation-p99-ms B` and `workload.rate_tps` swept, for each combination
//! of the other swept keys, the highest offered load below the first (lowest) load at which some
//! seed's end-to-end p99 exceeds B, counting unconfirmed transactions as infinitely late (so a
//! run with more than 1% unconfirmed never holds), or stops early.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use plots::{Chart, Kind};
use serde::{Deserialize, Serialize};

use crate::batch::{self, Failure};
use crate::model::Scenario;
use crate::output;
use crate::parse;
use plots::{Figure, Html};

use crate::report;
use crate::results::metric::{self as m, Metric};
use crate::results::{RunSummary, full, num};
use crate::resultsdir::{self, Marker};
use crate::run;
use crate::search;
use crate::stats;

/// The swept key that is the offered load, for saturation and the throughput-latency curves.
pub const LOAD_KEY: &str = "workload.rate_tps";

/// What `byzsim sweep` was asked.
#[derive(Clone, Debug)]
pub struct Args {
    pub file: PathBuf,
    pub sets: Vec<String>,
    pub seeds: Option<(u64, u64)>,
    pub jobs: usize,
    /// (i, N): run only the runs numbered i modulo N.
    pub shard: Option<(u64, u64)>,
    pub out: Option<PathBuf>,
    pub saturation_p99_ms: Option<f64>,
    pub quiet: bool,
}

/// A finished sweep, shard or merge: what to print, the folder or file written, the exit code
/// (0; 3 when a run broke an invariant; 4 when one hit a limit).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub text: String,
    pub path: PathBuf,
    pub code: u8,
}

// ---------------------------------------------------------------------------------------------
// The grid
// ---------------------------------------------------------------------------------------------

/// One swept key and its values (as written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

/// The overrides of a sweep: plain ones, and swept ones (by axis).
#[derive(Clone, Debug, PartialEq, Eq)]
enum SetArg {
    Fixed(String),
    Swept(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    sets: Vec<SetArg>,
    pub axes: Vec<Axis>,
    pub seeds: Vec<u64>,
}

/// Splits `v1,v2,...` at the commas outside brackets, braces and quotes.
pub fn split_values(raw: &str) -> Result<Vec<String>, String> {
    let mut values = Vec::new();
    let mut current = String::new();
    let mut stack: Vec<char> = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in raw.chars() {
        if let Some(q) = quote {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' | '{' => stack.push(c),
            ']' | '}' => {
                let open = if c == ']' { '[' } else { '{' };
                if stack.pop() != Some(open) {
                    return Err(format!("`{c}` closes nothing"));
                }
            }
            ',' if stack.is_empty() => {
                values.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if let Some(q) = quote {
        return Err(format!("a {q} quote is never closed"));
    }
    if let Some(open) = stack.last() {
        return Err(format!("`{open}` is never closed"));
    }
    values.push(current);
    let values: Vec<String> = values.into_iter().map(|v| v.trim().to_string()).collect();
    if let Some(idx) = values.iter().position(String::is_empty) {
        return Err(format!("value {} of {} is empty", idx + 1, values.len()));
    }
    Ok(values)
}

impl Grid {
    /// Reads the `--set` arguments of a sweep.
    pub fn new(sets: &[String], seeds: Vec<u64>) -> Result<Grid, Failure> {
        let mut grid = Grid { sets: Vec::new(), axes: Vec::new(), seeds };
        let mut keys: Vec<String> = Vec::new();
        for text in sets {
            let bad = |why: String| Failure::input(format!("--set {text}: {why}"));
            let (key, raw) = text
                .split_once('=')
                .ok_or_else(|| bad("not KEY=VALUE or KEY=V1,V2,... (e.g. --set workload.rate_tps=1000,2000)".into()))?;
            let key = key.trim();
            if key.is_empty() {
                return Err(bad("the key is empty".into()));
            }
            let values = split_values(raw).map_err(|why| bad(format!("{why} (values are separated by commas)")))?;
            if keys.iter().any(|k| k == key) && (values.len() > 1 || grid.axes.iter().any(|a| a.key == key)) {
                return Err(bad(format!("`{key}` is set more than once; a swept key is set by one --set")));
            }
            keys.push(key.to_string());
            if values.len() == 1 {
                grid.sets.push(SetArg::Fixed(text.clone()));
                continue;
            }
            if key == "seed" {
                return Err(bad("seeds are swept with --seeds FIRST..LAST".into()));
            }
            if let Some(dup) = values.iter().enumerate().find(|(i, v)| values[..*i].contains(v)) {
                return Err(bad(format!("the value `{}` is listed twice", dup.1)));
            }
            grid.sets.push(SetArg::Swept(grid.axes.len()));
            grid.axes.push(Axis { key: key.to_string(), values });
        }
        let runs = grid.combos().saturating_mul(grid.seeds.len() as u64);
        if runs > batch::MAX_RUNS {
            return Err(Failure::input(format!("the grid has {runs} runs; at most {}", batch::MAX_RUNS)));
        }
        Ok(grid)
    }

    /// Combinations of swept values.
    pub fn combos(&self) -> u64 {
        self.axes.iter().fold(1u64, |acc, a| acc.saturating_mul(a.values.len() as u64))
    }

    pub fn runs(&self) -> u64 {
        self.combos() * self.seeds.len() as u64
    }

    /// The value index of each axis for combination `combo` (the first axis varies slowest).
    fn value_indices(&self, mut combo: u64) -> Vec<usize> {
        let mut idx = vec![0; self.axes.len()];
        for (a, axis) in self.axes.iter().enumerate().rev() {
            let len = axis.values.len() as u64;
            idx[a] = (combo % len) as usize;
            combo /= len;
        }
        idx
    }

    /// The `--set` overrides of combination `combo`, in command-line order.
    fn overrides(&self, combo: u64) -> Vec<String> {
        let idx = self.value_indices(combo);
        self.sets
            .iter()
            .map(|s| match s {
                SetArg::Fixed(text) => text.clone(),
                SetArg::Swept(a) => format!("{}={}", self.axes[*a].key, self.axes[*a].values[idx[*a]]),
            })
            .collect()
    }

    /// `key=value, key=value` of a combination, for messages.
    fn describe(&self, combo: u64) -> String {
        let idx = self.value_indices(combo);
        let parts: Vec<String> =
            self.axes.iter().zip(&idx).map(|(a, &i)| format!("{}={}", a.key, a.values[i])).collect();
        if parts.is_empty() { "the scenario".into() } else { parts.join(", ") }
    }

    /// The columns of sweep.csv.
    fn columns(&self) -> Vec<String> {
        let mut cols = vec!["run".to_string()];
        cols.extend(self.axes.iter().map(|a| a.key.clone()));
        cols.push("seed".into());
        if !self.axes.iter().any(|a| a.key == "protocol") {
            cols.push("protocol".into());
        }
        cols.extend(m::run_columns().into_iter().map(String::from));
        cols
    }

    /// The row of run `run` (formatted cells under `columns`).
    fn cells(&self, run: u64, row: &RunSummary) -> Vec<String> {
        let idx = self.value_indices(run / self.seeds.len() as u64);
        let mut cells = vec![run.to_string()];
        cells.extend(self.axes.iter().zip(&idx).map(|(a, &i)| a.values[i].clone()));
        cells.push(row.seed.to_string());
        if !self.axes.iter().any(|a| a.key == "protocol") {
            cells.push(row.protocol.clone());
        }
        cells.extend(row.run_cells());
        cells
    }
}

// ---------------------------------------------------------------------------------------------
// What a sweep is, as stored in shard files
// ---------------------------------------------------------------------------------------------

/// Everything needed to finish a sweep from its rows; stored in every shard file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub version: String,
    /// The scenario file as given on the command line.
    pub file: String,
    pub name: String,
    /// The scenario text as read.
    pub scenario: String,
    pub sets: Vec<String>,
    pub seeds: (u64, u64),
    pub saturation_p99_ms: Option<f64>,
    pub runs: u64,
    pub columns: Vec<String>,
}

impl Meta {
    /// The sweep id: a hash of what decides the rows and the reports (not the file's path).
    pub fn id(&self) -> String {
        let bound = self.saturation_p99_ms.map_or("none".to_string(), |b| b.to_string());
        let text = format!(
            "{}\0{}\0{}\0{}..{}\0{bound}\0{}",
            self.version,
            self.scenario,
            self.sets.join("\0"),
            self.seeds.0,
            self.seeds.1,
            self.runs
        );
        format!("{:016x}", sim_core::digest::stable_hash_str(&text))
    }

    /// The command that runs the whole sweep on one machine.
    fn reproduce(&self) -> String {
        let mut words = vec!["sweep".to_string(), self.file.clone()];
        for s in &self.sets {
            words.extend(["--set".to_string(), s.clone()]);
        }
        words.extend(["--seeds".to_string(), format!("{}..{}", self.seeds.0, self.seeds.1)]);
        if let Some(b) = self.saturation_p99_ms {
            words.extend(["--saturation-p99-ms".to_string(), b.to_string()]);
        }
        output::command_line(&words)
    }

    /// What differs from `other`, for the message that refuses a merge.
    fn difference(&self, other: &Meta) -> &'static str {
        if self.version != other.version {
            "byzsim version"
        } else if self.scenario != other.scenario {
            "scenario text"
        } else if self.sets != other.sets {
            "--set overrides"
        } else if self.seeds != other.seeds {
            "--seeds"
        } else if self.saturation_p99_ms != other.saturation_p99_ms {
            "--saturation-p99-ms"
        } else {
            "grid"
        }
    }
}

/// A shard file: `shard-<i>-of-<N>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ShardFile {
    format: String,
    sweep_id: String,
    shard: u64,
    shards: u64,
    meta: Meta,
    /// The shard's rows of sweep.csv, in run order.
    rows: Vec<Vec<String>>,
    /// The typed results of the same runs, which the tables and plots are computed from.
    summaries: Vec<RunSummary>,
}

impl ShardFile {
    /// The shard's runs: (run number, sweep.csv row, results).
    fn runs(&self) -> impl Iterator<Item = (u64, &Vec<String>, &RunSummary)> {
        let numbers = (self.shard..).step_by(self.shards as usize);
        numbers.zip(&self.rows).zip(&self.summaries).map(|((n, r), s)| (n, r, s))
    }
}

/// Version 2 carries the typed summaries; a version 1 shard is refused by name.
const SHARD_FORMAT: &str = "byzsim-sweep-shard/2";

/// `shard-<i>-of-<N>-<first 8 digits of the sweep id>.json`: shards of different sweeps never
/// share a name.
pub(crate) fn shard_name(i: u64, n: u64, sweep_id: &str) -> String {
    format!("shard-{i}-of-{n}-{}.json", &sweep_id[..sweep_id.len().min(8)])
}

/// Parses `i/N` with 0 <= i < N.
pub fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text.split_once('/').ok_or("expected I/N, like 0/8 (shards are numbered 0 to N-1)")?;
    let i: u64 = a.trim().parse().map_err(|e| format!("shard {a:?}: {e}"))?;
    let n: u64 = b.trim().parse().map_err(|e| format!("shard count {b:?}: {e}"))?;
    if n == 0 || i >= n {
        return Err(format!("shard {i}/{n}: shards are numbered 0 to N-1, so 0 <= I < N"));
    }
    Ok((i, n))
}

// ---------------------------------------------------------------------------------------------
// sweep
// ---------------------------------------------------------------------------------------------

/// Runs a sweep (or one shard of it) and writes its folder (or shard file).
pub fn sweep(args: &Args) -> Result<Outcome, Failure> {
    let src = parse::read_scenario(&args.file).map_err(|e| Failure::input(e.to_string()))?;
    let seeds = seed_range(args, &src);
    let grid = Grid::new(&args.sets, batch::seeds_of(seeds)?)?;
    if let Some(bound) = args.saturation_p99_ms {
        check_saturation_args(&grid, bound)?;
    }
    let scenarios = validate(&grid, &args.file, &src)?;
    let meta = Meta {
        version: env!("CARGO_PKG_VERSION").to_string(),
        file: args.file.display().to_string(),
        name: scenarios[0].name.clone(),
        scenario: src.clone(),
        sets: args.sets.clone(),
        seeds,
        saturation_p99_ms: args.saturation_p99_ms,
        runs: grid.runs(),
        columns: grid.columns(),
    };
    check_seeds(&grid, &scenarios, &meta.file)?;
    let dir = args.out.clone().unwrap_or_else(|| default_dir(&meta, args.shard.is_some()));
    let reads = output::inputs_of(&args.file, &scenarios);
    let inputs: Vec<&Path> = reads.iter().map(PathBuf::as_path).collect();
    let Some((shard, shards)) = args.shard else {
        resultsdir::check(&dir, &inputs)?;
        let (rows, summaries) = run_grid(&grid, &scenarios, (0, 1), args);
        return finish(&meta, Runs { rows: &rows, summaries: &summaries }, &dir, &inputs, "sweep");
    };
    let path = dir.join(shard_name(shard, shards, &meta.id()));
    if let Ok(old) = fs::read(&path)
        && !same_sweep(&old, &meta)
    {
        return Err(Failure::input(format!(
            "{}: this file exists and is not a shard of this sweep; byzsim never overwrites it\n  help: move it away, \
             or choose another --out",
            path.display()
        )));
    }
    let (rows, summaries) = run_grid(&grid, &scenarios, (shard, shards), args);
    let sweep_id = meta.id();
    let shard_file = ShardFile { format: SHARD_FORMAT.into(), sweep_id, shard, shards, meta, rows, summaries };
    write_shard(&shard_file, &path, &dir)
}

/// The seeds: `--seeds`, or the scenario's own, read with the plain overrides only.
fn seed_range(args: &Args, src: &str) -> (u64, u64) {
    if let Some(range) = args.seeds {
        return range;
    }
    let plain = |s: &&String| s.split_once('=').is_some_and(|(_, v)| split_values(v).is_ok_and(|v| v.len() == 1));
    let fixed: Vec<String> = args.sets.iter().filter(plain).cloned().collect();
    let base = parse::load_str(&args.file, src, &fixed, None);
    let seed = base.as_ref().map_or(1, |s| s.seed);
    (seed, seed)
}

/// Runs the runs numbered `shard` modulo `shards` on the worker pool: their sweep.csv rows and
/// their results, in run order.
fn run_grid(
    grid: &Grid,
    scenarios: &[Scenario],
    (shard, shards): (u64, u64),
    args: &Args,
) -> (Vec<Vec<String>>, Vec<RunSummary>) {
    let per_seed = grid.seeds.len() as u64;
    let jobs: Vec<(u64, Scenario)> = (shard..grid.runs())
        .step_by(shards as usize)
        .map(|r| {
            (r, Scenario { seed: grid.seeds[(r % per_seed) as usize], ..scenarios[(r / per_seed) as usize].clone() })
        })
        .collect();
    let bar = batch::progress_bar(jobs.len(), args.quiet);
    let done: Vec<(Vec<String>, RunSummary)> = batch::run_all(
        &jobs,
        args.jobs,
        |(r, s)| {
            let summary = RunSummary::of(s, &run::run(s, &mut |_, _| {}));
            (grid.cells(*r, &summary), summary)
        },
        |_| bar.inc(1),
    );
    bar.finish_and_clear();
    done.into_iter().unzip()
}

/// Writes a shard file and says what is left to do.
fn write_shard(file: &ShardFile, path: &Path, dir: &Path) -> Result<Outcome, Failure> {
    let json = serde_json::to_string_pretty(file).map_err(|e| Failure::output(e.to_string()))? + "\n";
    resultsdir::write_file(path, json.as_bytes(), |old| same_sweep(old, &file.meta))
        .map_err(|e| Failure::output(format!("could not write {}: {e}", path.display())))?;
    let mut text = format!(
        "  shard {}/{}: {} of {} runs, written to {}\n  when every shard is done: byzsim merge {}\n",
        file.shard,
        file.shards,
        file.rows.len(),
        file.meta.runs,
        path.display(),
        output::shell_word(&dir.display().to_string())
    );
    let table = Table::new(&file.meta, Runs { rows: &file.rows, summaries: &file.summaries });
    let code = stopped_early(&file.meta, &table, &mut text);
    Ok(Outcome { text, path: path.to_path_buf(), code })
}

/// Whether `bytes` are a shard file of the sweep `meta` describes, in any format version
/// (which a shard may replace).
fn same_sweep(bytes: &[u8], meta: &Meta) -> bool {
    #[derive(Deserialize)]
    struct Head {
        format: String,
        sweep_id: String,
    }
    serde_json::from_slice::<Head>(bytes)
        .is_ok_and(|s| s.format.starts_with("byzsim-sweep-shard/") && s.sweep_id == meta.id())
}

/// Where a sweep writes by default: `results/<name>-sweep-<hash of the grid>` (and `-shards`
/// for its shard files), so that sweeps of different grids never share a folder.
fn default_dir(meta: &Meta, shards: bool) -> PathBuf {
    let mut key = meta.sets.clone();
    key.push(format!("seeds={}..{}", meta.seeds.0, meta.seeds.1));
    if let Some(b) = meta.saturation_p99_ms {
        key.push(format!("saturation_p99_ms={b}"));
    }
    let dir = output::default_dir(&format!("{}-sweep", meta.name), &key);
    if !shards {
        return dir;
    }
    let name = dir.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!("{name}-shards"))
}

/// Every run of the grid (not only this shard's, so that every shard refuses alike) is valid
/// at its seed: validation checked each combination at the first seed only.
fn check_seeds(grid: &Grid, scenarios: &[Scenario], file: &str) -> Result<(), Failure> {
    for (combo, s) in scenarios.iter().enumerate() {
        for &seed in &grid.seeds {
            if let Some(problem) = parse::seed_problem(&Scenario { seed, ..s.clone() }) {
                // The problem names the seed.
                let at = if grid.axes.is_empty() {
                    String::new()
                } else {
                    format!("with {}: ", grid.describe(combo as u64))
                };
                return Err(Failure::input(format!("{file}: {at}{problem}")));
            }
        }
    }
    Ok(())
}

fn check_saturation_args(grid: &Grid, bound: f64) -> Result<(), Failure> {
    if !(bound.is_finite() && bound > 0.0) {
        return Err(Failure::input(format!("--saturation-p99-ms {bound}: the bound must be a number of ms > 0")));
    }
    let Some(axis) = grid.axes.iter().find(|a| a.key == LOAD_KEY) else {
        return Err(Failure::input(format!(
            "--saturation-p99-ms needs the offered load swept: add --set {LOAD_KEY}=V1,V2,... (e.g. 1000,2000,4000,8000)"
        )));
    };
    if let Some(v) = axis.values.iter().find(|v| v.parse::<f64>().is_err()) {
        return Err(Failure::input(format!(
            "--set {LOAD_KEY}: `{v}` is not a number (needed for --saturation-p99-ms)"
        )));
    }
    Ok(())
}

/// Loads every combination of the grid (once, not per seed); reports each distinct problem
/// with the first combination that has it.
fn validate(grid: &Grid, path: &Path, src: &str) -> Result<Vec<Scenario>, Failure> {
    let mut scenarios = Vec::new();
    let mut problems: Vec<(String, String)> = Vec::new();
    for combo in 0..grid.combos() {
        match parse::load_str(path, src, &grid.overrides(combo), Some(grid.seeds[0])) {
            Ok(s) => scenarios.push(s),
            Err(diags) => {
                let text = diags.to_string();
                if !problems.iter().any(|(_, t)| *t == text) {
                    problems.push((grid.describe(combo), text));
                }
            }
        }
    }
    if problems.is_empty() {
        return Ok(scenarios);
    }
    let shown: Vec<String> = problems.iter().map(|(at, text)| format!("with {at}:\n{text}")).collect();
    Err(Failure::input(shown.join("\n\n")))
}

/// Whether a `--set` sweeps its key (more than one value).
fn swept(set: &str) -> bool {
    set.split_once('=').is_some_and(|(_, v)| split_values(v).is_ok_and(|v| v.len() > 1))
}

/// The command that reproduces one run of the sweep: its seed, and each swept key at the row's
/// value.
fn run_reproduce(meta: &Meta, table: &Table<'_>, row: usize) -> String {
    let cells = &table.rows[row];
    let seed = table.summaries[row].seed.to_string();
    let mut words = vec!["run".to_string(), meta.file.clone(), "--seed".to_string(), seed];
    for set in &meta.sets {
        let text = match set.split_once('=') {
            Some((key, _)) if swept(set) => format!("{}={}", key.trim(), cells[table.col(key.trim())]),
            _ => set.clone(),
        };
        words.extend(["--set".to_string(), text]);
    }
    output::command_line(&words)
}

/// `key=value, ...` of a row's grid point (`the scenario` when nothing is swept).
fn grid_point(table: &Table<'_>, row: usize) -> String {
    let parts: Vec<String> = table.axes.iter().map(|k| format!("{k}={}", table.rows[row][table.col(k)])).collect();
    if parts.is_empty() { "the scenario".into() } else { parts.join(", ") }
}

/// The runs that stopped early, as (run, grid point and seed; what stopped it and how to
/// reproduce it).
fn early_rows(meta: &Meta, table: &Table<'_>) -> Vec<(String, String)> {
    (0..table.rows.len())
        .filter(|&r| !table.complete(r))
        .map(|r| {
            let cells = &table.rows[r];
            let summary = &table.summaries[r];
            let at = format!("run {}: {}, seed {}", cells[0], grid_point(table, r), summary.seed);
            let what = format!("{}\nreproduce: {}", summary.stop_detail, run_reproduce(meta, table, r));
            (at, what)
        })
        .collect()
}

/// Warns of every run that stopped early (what stopped it, its grid point and seed, the command
/// that reproduces it); the exit code they call for (3 violation, 4 limit).
fn stopped_early(meta: &Meta, table: &Table<'_>, text: &mut String) -> u8 {
    for (at, what) in early_rows(meta, table) {
        let _ = writeln!(
            text,
            "  warning: {at} stopped early and is left out of the means and plots: {}",
            what.replace('\n', "\n    ")
        );
    }
    if table.summaries.iter().any(|s| s.stop == "violation") {
        3
    } else if table.summaries.iter().any(|s| s.stop != "end") {
        4
    } else {
        0
    }
}

// ---------------------------------------------------------------------------------------------
// merge
// ---------------------------------------------------------------------------------------------

/// Reads the shard files in `paths` (folders: every `shard-*-of-*.json` in them) and writes
/// the folder the unsharded sweep would have written.
pub fn merge(paths: &[PathBuf], out: Option<PathBuf>) -> Result<Outcome, Failure> {
    if let Some(dir) = &out {
        resultsdir::check(dir, &paths.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    }
    let files = shard_files(paths)?;
    let shards = read_shards(&files)?;
    let by_index = one_sweep(&shards)?;
    let (first_path, first) = &shards[0];
    missing_shards(first_path, first.shards, &first.sweep_id, &by_index, &first.meta.reproduce())?;
    let mut runs: Vec<(u64, &Vec<String>, &RunSummary)> = by_index.values().flat_map(|(_, s)| s.runs()).collect();
    runs.sort_by_key(|r| r.0);
    let rows: Vec<Vec<String>> = runs.iter().map(|r| r.1.clone()).collect();
    let summaries: Vec<RunSummary> = runs.iter().map(|r| r.2.clone()).collect();
    let meta = &first.meta;
    let dir = out.unwrap_or_else(|| default_dir(meta, false));
    let inputs: Vec<&Path> = paths.iter().map(PathBuf::as_path).chain(files.iter().map(PathBuf::as_path)).collect();
    finish(meta, Runs { rows: &rows, summaries: &summaries }, &dir, &inputs, "sweep")
}

/// The shard files among `paths`: files as given, and every `shard-*.json` of each folder.
pub fn shard_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files: Vec<PathBuf> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = fs::read_dir(p).map_err(|e| Failure::input(format!("{}: {e}", p.display())))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    name.starts_with("shard-") && name.ends_with(".json")
                })
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(Failure::input(format!(
                    "{}: no shard file (shard-<i>-of-<N>.json) in this folder",
                    p.display()
                )));
            }
            files.extend(found);
        } else if p.exists() {
            files.push(p.clone());
        } else {
            return Err(Failure::input(format!("{}: no such file or folder", p.display())));
        }
    }
    if files.is_empty() {
        return Err(Failure::input("merge: no shard file given"));
    }
    Ok(files)
}

/// The `format` a shard file says it has (sweep's or an experiment's), before reading the rest.
pub fn shard_format(path: &Path) -> Result<(String, String), Failure> {
    #[derive(Deserialize)]
    struct Format {
        format: String,
    }
    let text = traces::read_text(path, traces::InputKind::Shard).map_err(|e| Failure::input(e.to_string()))?;
    let format: Format = serde_json::from_str(&text)
        .map_err(|e| Failure::input(format!("{}: not a byzsim shard file: {e}", path.display())))?;
    Ok((format.format, text))
}

fn read_shards(files: &[PathBuf]) -> Result<Vec<(PathBuf, ShardFile)>, Failure> {
    let mut shards = Vec::new();
    for f in files {
        let (format, text) = shard_format(f)?;
        if format != SHARD_FORMAT {
            return Err(Failure::input(format!(
                "{}: format `{format}`, expected `{SHARD_FORMAT}`: not a shard of a sweep by this byzsim\n  help: run \
                 the shard again with this byzsim (a shard of an experiment merges with the other shards of it)",
                f.display()
            )));
        }
        let shard: ShardFile = serde_json::from_str(&text)
            .map_err(|e| Failure::input(format!("{}: not a byzsim shard file: {e}", f.display())))?;
        check_shard(f, &shard)?;
        shards.push((f.clone(), shard));
    }
    Ok(shards)
}

/// The shards by index, all of one sweep, split one way, a repeated shard the same.
fn one_sweep(shards: &[(PathBuf, ShardFile)]) -> Result<BTreeMap<u64, (&PathBuf, &ShardFile)>, Failure> {
    let (first_path, first) = &shards[0];
    let mut by_index: BTreeMap<u64, (&PathBuf, &ShardFile)> = BTreeMap::new();
    for (path, s) in shards {
        if s.sweep_id != first.sweep_id {
            return Err(Failure::input(format!(
                "{} and {} are shards of different sweeps (their {} differ): merge the shards of one sweep\n  help: \
                 name the files of one sweep, like shard-*-{}.json",
                first_path.display(),
                path.display(),
                first.meta.difference(&s.meta),
                &first.sweep_id[..8]
            )));
        }
        split_one_way("a sweep", first_path, (first.shard, first.shards), path, (s.shard, s.shards))?;
        if let Some((other, o)) = by_index.insert(s.shard, (path, s))
            && (o.rows != s.rows || o.summaries != s.summaries)
        {
            return Err(Failure::input(format!(
                "{} and {} are both shard {}/{}, with different rows",
                other.display(),
                path.display(),
                s.shard,
                s.shards
            )));
        }
    }
    Ok(by_index)
}

/// Refuses two shards split different ways (`a` is shard I/N, `b` shard J/M).
pub(crate) fn split_one_way(
    what: &str,
    a: &Path,
    (i, n): (u64, u64),
    b: &Path,
    (j, m): (u64, u64),
) -> Result<(), Failure> {
    if n == m {
        return Ok(());
    }
    Err(Failure::input(format!(
        "{} is shard {i}/{n} but {} is shard {j}/{m}: {what} is split one way",
        a.display(),
        b.display(),
    )))
}

/// Refuses a merge with shards missing, naming them and the command that runs one.
pub(crate) fn missing_shards<T>(
    first_path: &Path,
    n: u64,
    id: &str,
    by_index: &BTreeMap<u64, T>,
    reproduce: &str,
) -> Result<(), Failure> {
    let missing: Vec<u64> = (0..n).filter(|i| !by_index.contains_key(i)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = missing.iter().map(|i| format!("{i}/{n} ({})", shard_name(*i, n, id))).collect();
    let which = if missing.len() == 1 { format!("{}/{n}", missing[0]) } else { format!("I/{n}") };
    let folder = first_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let out = output::shell_word(&folder.display().to_string());
    Err(Failure::input(format!(
        "merge: {} missing: shard{} {} (found {} of {n} shards)\n  help: run it with `{reproduce} --shard {which} --out {out}`",
        if missing.len() == 1 { "one shard is" } else { "shards are" },
        if missing.len() == 1 { "" } else { "s" },
        list.join(", "),
        n - missing.len() as u64
    )))
}

/// A shard file is internally consistent: its id, its rows (their runs, their width).
fn check_shard(path: &Path, s: &ShardFile) -> Result<(), Failure> {
    let bad = |why: String| Err(Failure::input(format!("{}: {why}", path.display())));
    if s.format != SHARD_FORMAT {
        return bad(format!("format `{}`, expected `{SHARD_FORMAT}`", s.format));
    }
    if s.sweep_id != s.meta.id() {
        return bad("the sweep id does not match the sweep it describes (edited by hand?)".into());
    }
    if s.shards == 0 || s.shard >= s.shards {
        return bad(format!("shard {}/{}: shards are numbered 0 to N-1", s.shard, s.shards));
    }
    let expected: Vec<u64> = (s.shard..s.meta.runs).step_by(s.shards as usize).collect();
    let numbered = |(r, run): (&Vec<String>, &u64)| r.first() == Some(&run.to_string());
    if s.rows.len() != expected.len() || !s.rows.iter().zip(&expected).all(numbered) {
        return bad(format!(
            "shard {}/{} should hold runs {:?}...",
            s.shard,
            s.shards,
            &expected[..expected.len().min(4)]
        ));
    }
    if let Some(r) = s.rows.iter().find(|r| r.len() != s.meta.columns.len()) {
        return bad(format!("run {} has {} cells, expected {}", r[0], r.len(), s.meta.columns.len()));
    }
    if s.summaries.len() != s.rows.len() {
        return bad(format!("{} rows but {} summaries", s.rows.len(), s.summaries.len()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The results folder, from the rows
// ---------------------------------------------------------------------------------------------

/// A sweep's runs in run order: the printed cells of sweep.csv and the typed results they
/// were printed from (what every number below is computed from; no cell is read back).
#[derive(Clone, Copy)]
struct Runs<'a> {
    rows: &'a [Vec<String>],
    summaries: &'a [RunSummary],
}

/// The rows of the swept combinations: axis values (except `skip`), then the runs' row indices.
struct Table<'a> {
    columns: &'a [String],
    rows: &'a [Vec<String>],
    summaries: &'a [RunSummary],
    /// The swept keys (the columns between `run` and `seed`).
    axes: Vec<String>,
}

impl<'a> Table<'a> {
    fn new(meta: &'a Meta, runs: Runs<'a>) -> Table<'a> {
        assert_eq!(runs.rows.len(), runs.summaries.len(), "a summary per row");
        let seed = meta.columns.iter().position(|c| c == "seed").expect("a seed column");
        Table {
            columns: &meta.columns,
            rows: runs.rows,
            summaries: runs.summaries,
            axes: meta.columns[1..seed].to_vec(),
        }
    }

    fn col(&self, name: &str) -> usize {
        self.columns.iter().position(|c| c == name).expect("a sweep column")
    }

    /// A metric of row `row`'s run, from its typed results (NaN when missing).
    fn value(&self, row: usize, metric: &Metric) -> f64 {
        metric.value(&self.summaries[row])
    }

    /// Rows grouped by the values of `keys`, groups in order of first appearance.
    fn groups(&self, keys: &[String]) -> Vec<(Vec<String>, Vec<usize>)> {
        let cols: Vec<usize> = keys.iter().map(|k| self.col(k)).collect();
        let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            let key: Vec<String> = cols.iter().map(|&c| row[c].clone()).collect();
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        groups
    }

    /// Whether row `row`'s run reached its end.
    fn complete(&self, row: usize) -> bool {
        self.summaries[row].stop == "end"
    }

    /// The mean over the complete runs among `rows`: a run that stopped early is never averaged.
    fn mean(&self, rows: &[usize], metric: &Metric) -> f64 {
        stats::mean(&rows.iter().filter(|&&r| self.complete(r)).map(|&r| self.value(r, metric)).collect::<Vec<_>>())
    }
}

/// Columns of summary.csv: means over seeds.
pub(crate) const SUMMARY: &[&Metric] = &[
    m::OFFERED_TPS,
    m::GOODPUT_TPS,
    m::E2E_P50_MS,
    m::E2E_P90_MS,
    m::E2E_P99_MS,
    m::E2E_P99_ALL_MS,
    m::CONSENSUS_P50_MS,
    m::MSGS_PER_TX,
    m::BYTES_PER_TX,
    m::CPU_UTIL_MEAN,
    m::CPU_US_PER_TX,
];

fn label(keys: &[String], values: &[String]) -> String {
    if keys.is_empty() {
        return "all".into();
    }
    keys.iter().zip(values).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

fn csv_bytes(header: &[String], rows: &[Vec<String>]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// A plain-text table, first column left-aligned.
fn text_table(header: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).chain([header[c].chars().count()]).max().unwrap_or(0))
        .collect();
    let mut t = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
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
    t
}

/// How a number is written: [`full`] in files, [`num`] (rounded) in printed tables.
type Fmt = fn(f64, usize) -> String;

fn full_fmt(x: f64, _decimals: usize) -> String {
    full(x)
}

/// Per combination: the swept values, the seeds, how many runs completed, the means over them.
fn summary(table: &Table<'_>, fmt: Fmt) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header: Vec<String> = table.axes.clone();
    header.extend(["seeds".into(), "complete_runs".into()]);
    header.extend(SUMMARY.iter().map(|m| m.name.to_string()));
    let rows = table
        .groups(&table.axes)
        .into_iter()
        .map(|(values, members)| {
            let mut row = values;
            row.push(members.len().to_string());
            row.push(members.iter().filter(|&&r| table.complete(r)).count().to_string());
            row.extend(SUMMARY.iter().map(|m| fmt(table.mean(&members, m), m.decimals)));
            row
        })
        .collect();
    (header, rows)
}

/// The saturation table (see the module comment), one row per combination of the other keys.
fn saturation(table: &Table<'_>, bound: f64, num: Fmt) -> (Vec<String>, Vec<Vec<String>>) {
    let others: Vec<String> = table.axes.iter().filter(|k| *k != LOAD_KEY).cloned().collect();
    let mut header = others.clone();
    let (goodput, p99) = (m::GOODPUT_TPS, m::E2E_P99_ALL_MS);
    header.extend([
        "saturation_rate_tps".to_string(),
        goodput.name.to_string(),
        p99.name.to_string(),
        "first_over_rate_tps".to_string(),
        format!("first_over_{}", p99.name),
    ]);
    let mut rows = Vec::new();
    for (values, members) in table.groups(&others) {
        let load = table.col(LOAD_KEY);
        let mut by_rate: Vec<(f64, Vec<usize>)> = Vec::new();
        for &r in &members {
            let rate = table.rows[r][load].parse::<f64>().unwrap_or(f64::NAN);
            match by_rate.iter_mut().find(|(x, _)| x.total_cmp(&rate).is_eq()) {
                Some((_, runs)) => runs.push(r),
                None => by_rate.push((rate, vec![r])),
            }
        }
        by_rate.sort_by(|a, b| a.0.total_cmp(&b.0));
        let worst = |runs: &[usize]| runs.iter().map(|&r| table.value(r, p99)).fold(f64::NEG_INFINITY, f64::max);
        let holds = |runs: &[usize]| {
            let keeps_up = |r: usize| {
                let offered = table.value(r, m::OFFERED_TPS);
                search::keeps_up(table.value(r, goodput), offered, table.value(r, p99), 0.0, Some(bound))
            };
            runs.iter().all(|&r| table.complete(r) && keeps_up(r))
        };
        let first_over = by_rate.iter().position(|(_, runs)| !holds(runs));
        let held = &by_rate[..first_over.unwrap_or(by_rate.len())];
        let mut row = values;
        match held.last() {
            Some((rate, runs)) => {
                let good = table.mean(runs, goodput);
                row.extend([num(*rate, 1), num(good, goodput.decimals), num(worst(runs), p99.decimals)]);
            }
            None => row.extend([String::new(), String::new(), String::new()]),
        }
        match first_over.map(|i| &by_rate[i]) {
            Some((rate, runs)) => row.extend([num(*rate, 1), num(worst(runs), p99.decimals)]),
            None => row.extend([String::new(), String::new()]),
        }
        rows.push(row);
    }
    (header, rows)
}

/// Throughput-latency curves and goodput against offered load: one series per combination of
/// the keys other than the load (the first swept key when the load is not swept).
fn figures(table: &Table<'_>) -> Vec<Figure> {
    let x_key = table.axes.iter().find(|k| *k == LOAD_KEY).or(table.axes.first()).cloned();
    let others: Vec<String> = table.axes.iter().filter(|k| Some(*k) != x_key.as_ref()).cloned().collect();
    let mut p50 = Chart::new("Throughput and latency", "goodput (tx/s)", "end-to-end latency (ms)", Kind::Line);
    let mut goodput = Chart::new("Goodput against offered load", "offered load (tx/s)", "goodput (tx/s)", Kind::Line);
    let single = table.groups(&others).len() == 1;
    for (values, members) in table.groups(&others) {
        let name = label(&others, &values);
        let steps = match &x_key {
            Some(k) => table.groups(std::slice::from_ref(k)),
            None => vec![(Vec::new(), (0..table.rows.len()).collect())],
        };
        let mut points: Vec<(f64, Vec<usize>)> = steps
            .into_iter()
            .map(|(v, runs)| {
                let runs: Vec<usize> = runs.into_iter().filter(|r| members.contains(r)).collect();
                (v.first().and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN), runs)
            })
            .filter(|(_, runs)| !runs.is_empty())
            .collect();
        if x_key.as_deref() == Some(LOAD_KEY) {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        let curve = |y: &Metric| -> Vec<(f64, f64)> {
            points.iter().map(|(_, runs)| (table.mean(runs, m::GOODPUT_TPS), table.mean(runs, y))).collect()
        };
        let series = |p: &str| if single { p.to_string() } else { format!("{name} {p}") };
        p50 = p50.series(series("p50"), curve(m::E2E_P50_MS)).series(series("p99"), curve(m::E2E_P99_MS));
        let offered: Vec<(f64, f64)> = points
            .iter()
            .map(|(_, runs)| (table.mean(runs, m::OFFERED_TPS), table.mean(runs, m::GOODPUT_TPS)))
            .collect();
        goodput = goodput.series(if single { "goodput".into() } else { name }, offered);
    }
    vec![
        Figure {
            stem: "throughput-latency".into(),
            caption: "End-to-end latency (p50 and p99, means over seeds) against goodput, one point per swept value, \
                      in order of offered load."
                .into(),
            chart: p50,
        },
        Figure {
            stem: "goodput-vs-load".into(),
            caption: "Goodput against the measured offered load (means over seeds).".into(),
            chart: goodput,
        },
    ]
}

/// A table's header and rows.
type Rows = (Vec<String>, Vec<Vec<String>>);

/// The tables of a sweep's folder: summary (full and printed), saturation (bound, full,
/// printed rows) when asked.
struct Tables {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    printed: Vec<Vec<String>>,
    saturation: Option<(f64, Rows, Vec<Vec<String>>)>,
}

impl Tables {
    fn of(meta: &Meta, table: &Table<'_>) -> Tables {
        let (header, rows) = summary(table, full_fmt);
        let (_, printed) = summary(table, num);
        let saturation =
            meta.saturation_p99_ms.map(|b| (b, saturation(table, b, full_fmt), saturation(table, b, num).1));
        Tables { header, rows, printed, saturation }
    }

    /// What the command prints: the runs, the summary, the saturation table.
    fn text(&self, meta: &Meta) -> String {
        let mut text = format!(
            "  {}: {} runs ({} combinations x {} seeds {}..{})\n",
            meta.name,
            meta.runs,
            self.rows.len(),
            meta.seeds.1 - meta.seeds.0 + 1,
            meta.seeds.0,
            meta.seeds.1
        );
        text.push_str(&text_table(&self.header, &self.printed));
        if let Some((bound, (h, _), printed)) = &self.saturation {
            let _ = writeln!(text, "\n  saturation: highest offered load whose end-to-end p99 stays under {bound} ms");
            text.push_str(&text_table(h, printed));
        }
        text
    }
}

/// Writes the sweep's folder from its runs (the same for an unsharded sweep and a merge).
fn finish(meta: &Meta, runs: Runs<'_>, dir: &Path, inputs: &[&Path], command: &str) -> Result<Outcome, Failure> {
    let table = Table::new(meta, runs);
    let tables = Tables::of(meta, &table);
    let figs = figures(&table);
    let reproduce = meta.reproduce();
    let mut text = tables.text(meta);
    let fixed: Vec<String> = meta.sets.iter().filter(|s| !swept(s)).cloned().collect();
    let sources = output::Sources::new(Path::new(&meta.file), &meta.scenario, &fixed, None, None);
    let written = output::write_atomically(dir, inputs, Marker::new(command, &meta.name), |staging| {
        fs::write(staging.join("sweep.csv"), csv_bytes(&meta.columns, runs.rows)?)?;
        fs::write(staging.join("summary.csv"), csv_bytes(&tables.header, &tables.rows)?)?;
        let mut files = vec!["sweep.csv", "summary.csv"];
        if let Some((_, (h, r), _)) = &tables.saturation {
            fs::write(staging.join("saturation.csv"), csv_bytes(h, r)?)?;
            files.push("saturation.csv");
        }
        files.extend(sources.write(staging)?);
        report::write_figures(staging, &figs)?;
        let page = Page { meta, table: &table, tables: &tables, figs: &figs, sources: &sources, reproduce: &reproduce };
        fs::write(staging.join("report.html"), page.html(&files))
    });
    let _ = writeln!(text, "  {:<12} {reproduce}", "reproduce");
    let code = stopped_early(meta, &table, &mut text);
    if let Err(e) = written {
        return Err(Failure::output(format!(
            "{text}\nerror: could not write the results folder {}: {e}",
            dir.display()
        )));
    }
    let _ = writeln!(text, "  {:<12} {}", "results", dir.display());
    Ok(Outcome { text, path: dir.to_path_buf(), code })
}

/// What report.html shows.
struct Page<'a> {
    meta: &'a Meta,
    table: &'a Table<'a>,
    tables: &'a Tables,
    figs: &'a [Figure],
    sources: &'a output::Sources,
    reproduce: &'a str,
}

impl Page<'_> {
    fn html(&self, files: &[&str]) -> String {
        let (meta, table, tables) = (self.meta, self.table, self.tables);
        let subtitle = format!(
            "{} runs: {} combinations of {} x seeds {}..{}",
            meta.runs,
            tables.rows.len(),
            if table.axes.is_empty() { "no swept key".to_string() } else { table.axes.join(", ") },
            meta.seeds.0,
            meta.seeds.1
        );
        let mut page = Html::new(&format!("byzsim sweep: {}", meta.name), &subtitle);
        let early = early_rows(meta, table);
        if !early.is_empty() {
            let title = format!(
                "{} of {} runs stopped early: they are left out of the means and plots",
                early.len(),
                table.rows.len()
            );
            page.banner(&title, &early);
        }
        page.heading("Summary (means over the complete runs of each combination)");
        let header: Vec<&str> = tables.header.iter().map(String::as_str).collect();
        page.table(&header, &tables.printed);
        self.saturation(&mut page);
        page.heading("Plots");
        page.figures(self.figs);
        page.heading("Scenario");
        page.para(&format!("{}, as run (the swept keys vary per run, see the command below):", meta.file));
        page.pre(&self.sources.as_run);
        page.heading("Reproduce");
        page.pre(self.reproduce);
        page.files(files);
        page.version(&crate::version::long());
        page.finish()
    }

    fn saturation(&self, page: &mut Html) {
        let Some((bound, (h, _), r)) = &self.tables.saturation else { return };
        page.heading(&format!("Saturation (end-to-end p99 under {bound} ms)"));
        page.para(
            "The highest offered load below the lowest one at which some seed's end-to-end p99 (unconfirmed \
             transactions counted as infinitely late) exceeds the bound, or a run stopped early.",
        );
        let header: Vec<&str> = h.iter().map(String::as_str).collect();
        page.table(&header, r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_split_at_top_level_commas() {
        assert_eq!(split_values("1000,2000, 4000").unwrap(), ["1000", "2000", "4000"]);
        assert_eq!(split_values("5").unwrap(), ["5"]);
        assert_eq!(split_values(r#"["a","b"],["c"]"#).unwrap(), [r#"["a","b"]"#, r#"["c"]"#]);
        assert_eq!(split_values(r#"{ kind = "uniform", max_ms = 2 },"none""#).unwrap().len(), 2);
        assert_eq!(split_values(r#""a,b",c"#).unwrap(), [r#""a,b""#, "c"]);
        assert_eq!(split_values(r#""a\",b""#).unwrap(), [r#""a\",b""#]);
        for (bad, needle) in [
            ("1,,2", "value 2 of 3 is empty"),
            ("1,2,", "value 3 of 3 is empty"),
            ("[1,2", "`[` is never closed"),
            ("1]", "`]` closes nothing"),
            ("\"a,b", "never closed"),
            ("", "value 1 of 1 is empty"),
        ] {
            let err = split_values(bad).unwrap_err();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn the_grid_is_in_order_first_key_slowest_then_seeds() {
        let sets = ["a=1,2".to_string(), "c=x".to_string(), "b=p,q,r".to_string()];
        let grid = Grid::new(&sets, vec![7, 8]).unwrap();
        assert_eq!(grid.combos(), 6);
        assert_eq!(grid.runs(), 12);
        assert_eq!(grid.overrides(0), ["a=1", "c=x", "b=p"]);
        assert_eq!(grid.overrides(1), ["a=1", "c=x", "b=q"]);
        assert_eq!(grid.overrides(3), ["a=2", "c=x", "b=p"]);
        assert_eq!(grid.describe(5), "a=2, b=r");
        for (bad, needle) in [
            (vec!["a"], "not KEY=VALUE"),
            (vec!["=1,2"], "the key is empty"),
            (vec!["a=1,2", "a=3"], "more than once"),
            (vec!["a=1,1"], "listed twice"),
            (vec!["seed=1,2"], "--seeds"),
        ] {
            let sets: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
            let err = Grid::new(&sets, vec![1]).unwrap_err();
            assert!(err.message.contains(needle), "{bad:?}: {}", err.message);
        }
        assert!(Grid::new(&["a=1".into(), "a=2".into()], vec![1]).is_ok(), "plain overrides: the last wins");
    }

    #[test]
    fn shard_specs() {
        assert_eq!(parse_shard("0/4"), Ok((0, 4)));
        assert_eq!(parse_shard("3/4"), Ok((3, 4)));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("0/0").is_err());
        assert!(parse_shard("1").is_err());
    }

    fn meta(columns: &[&str], bound: Option<f64>) -> Meta {
        Meta {
            version: "0".into(),
            file: "s.toml".into(),
            name: "s".into(),
            scenario: String::new(),
            sets: Vec::new(),
            seeds: (1, 2),
            saturation_p99_ms: bound,
            runs: 0,
            columns: columns.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn saturation_is_the_last_load_before_the_first_over_the_bound() {
        let cols = ["run", "protocol", LOAD_KEY, "seed", "offered_tps", "goodput_tps", "e2e_p99_all_ms", "stop"];
        let m = meta(&cols, Some(100.0));
        let row = |p: &str, rate: &str, seed: &str, good: &str, p99: &str, stop: &str| {
            vec!["0".into(), p.into(), rate.into(), seed.into(), rate.into(), good.into(), p99.into(), stop.into()]
        };
        let rows: Vec<Vec<String>> = vec![
            row("a", "1000", "1", "1000", "50", "end"),
            row("a", "1000", "2", "990", "60", "end"),
            row("a", "2000", "1", "2000", "80", "end"),
            row("a", "2000", "2", "1980", "90", "end"),
            row("a", "4000", "1", "3000", "inf", "end"),
            row("a", "4000", "2", "3100", "95", "end"),
            // Below the bound again at 8000: noise after saturation does not count.
            row("a", "8000", "1", "3000", "99", "end"),
            row("a", "8000", "2", "3000", "99", "end"),
            row("b", "1000", "1", "1000", "500", "end"),
            row("b", "1000", "2", "1000", "50", "end"),
            row("b", "2000", "1", "1000", "50", "violation"),
            row("b", "2000", "2", "1000", "50", "end"),
        ];
        // The typed results the cells print.
        let summaries: Vec<RunSummary> = rows
            .iter()
            .map(|r| RunSummary {
                seed: r[3].parse().unwrap(),
                offered_tps: r[4].parse().unwrap(),
                goodput_tps: r[5].parse().unwrap(),
                e2e_p99_all_ms: crate::results::AllMs::of(r[6].parse().unwrap()),
                stop: r[7].clone(),
                ..RunSummary::default()
            })
            .collect();
        let table = Table::new(&m, Runs { rows: &rows, summaries: &summaries });
        assert_eq!(table.axes, ["protocol", LOAD_KEY]);
        let (header, out) = saturation(&table, 100.0, num);
        assert_eq!(header[..3], ["protocol", "saturation_rate_tps", "goodput_tps"]);
        assert_eq!(out[0], ["a", "2000.0", "1990.0", "90.000", "4000.0", "inf"]);
        assert_eq!(out[1], ["b", "", "", "", "1000.0", "500.000"]);
    }
}
