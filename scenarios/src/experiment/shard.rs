//! Experiment shards: `byzsim experiment SPEC --shard I/N` runs the cases numbered I modulo N
//! (in case order) and writes `shard-I-of-N-<id>.json` with their typed results; `byzsim merge`
//! joins the N files into the folder the unsharded run writes, byte for byte. The experiment id
//! hashes byzsim's version, the spec, its scenario and page template and `--quick`: shards of
//! another experiment or version, or of a spec changed since, are refused (exit code 2). The
//! merge reads the spec again (its path as given to the shards), as the folder's page needs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::cases::{Case, CaseResult};
use super::spec::Loaded;
use super::{Args, Outcome, Results, default_dir, finish, page};
use crate::batch::Failure;
use crate::output;
use crate::resultsdir;
use crate::sweep;

/// The format of an experiment shard file.
pub const FORMAT: &str = "byzsim-experiment-shard/1";

/// What a shard is cut from.
pub(super) struct Job<'a> {
    pub loaded: &'a Loaded,
    pub template: &'a str,
    pub scenario_src: &'a str,
    /// (I, N).
    pub shard: (u64, u64),
}

/// A shard file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ShardFile {
    format: String,
    version: String,
    experiment_id: String,
    shard: u64,
    shards: u64,
    /// The spec's path as given to `experiment`: the merge reads it again.
    spec: String,
    quick: bool,
    /// The cases of the whole experiment.
    cases: u64,
    /// This shard's cases (numbered I, I + N, ...) with their runs.
    results: Vec<CaseResult>,
}

fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// A hash of what decides an experiment's folder: version, spec, scenario, page, `--quick`.
fn experiment_id(loaded: &Loaded, scenario_src: &str, template: &str, quick: bool) -> String {
    let text = format!("{}\0{}\0{scenario_src}\0{template}\0{quick}", version(), loaded.text);
    format!("{:016x}", sim_core::digest::stable_hash_str(&text))
}

/// Runs this shard's cases through `run_cases` and writes its file (the folder is created).
pub(super) fn run(
    job: &Job<'_>,
    args: &Args,
    cases: &[Case],
    run_cases: impl FnOnce(&[Case]) -> Vec<CaseResult>,
) -> Result<Outcome, Failure> {
    let (i, n) = job.shard;
    let id = experiment_id(job.loaded, job.scenario_src, job.template, args.quick);
    let name = &job.loaded.spec.name;
    let dir = args.out.clone().unwrap_or_else(|| shards_dir(name, args.quick));
    let path = dir.join(sweep::shard_name(i, n, &id));
    if let Ok(old) = std::fs::read(&path)
        && !same_experiment(&old, &id)
    {
        return Err(Failure::input(format!(
            "{}: this file exists and is not a shard of this experiment; byzsim never overwrites it\n  help: move it \
             away, or choose another --out",
            path.display()
        )));
    }
    let mine: Vec<Case> = cases.iter().skip(i as usize).step_by(n as usize).cloned().collect();
    let file = ShardFile {
        format: FORMAT.into(),
        version: version(),
        experiment_id: id.clone(),
        shard: i,
        shards: n,
        spec: args.spec.display().to_string(),
        quick: args.quick,
        cases: cases.len() as u64,
        results: run_cases(&mine),
    };
    let json = serde_json::to_string_pretty(&file).map_err(|e| Failure::output(e.to_string()))? + "\n";
    resultsdir::write_file(&path, json.as_bytes(), |old| same_experiment(old, &id))
        .map_err(|e| Failure::output(format!("could not write {}: {e}", path.display())))?;
    let text = format!(
        "  shard {i}/{n}: {} of {} cases, written to {}\n  when every shard is done: byzsim merge {}\n",
        file.results.len(),
        file.cases,
        path.display(),
        output::shell_word(&dir.display().to_string())
    );
    Ok(Outcome { text, code: 0 })
}

/// `results/<name>-experiment[-quick]-shards`.
fn shards_dir(name: &str, quick: bool) -> PathBuf {
    let dir = default_dir(name, quick);
    let last = dir.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!("{last}-shards"))
}

/// Whether `bytes` are a shard file of experiment `id` (which a shard may replace).
fn same_experiment(bytes: &[u8], id: &str) -> bool {
    #[derive(Deserialize)]
    struct Head {
        format: String,
        experiment_id: String,
    }
    serde_json::from_slice::<Head>(bytes).is_ok_and(|h| h.format.starts_with(FORMAT_NAME) && h.experiment_id == id)
}

/// The format without its version.
const FORMAT_NAME: &str = "byzsim-experiment-shard/";

/// Whether `paths` hold experiment shards (by the first shard file's format), for `merge`.
pub fn among(paths: &[PathBuf]) -> Result<bool, Failure> {
    let files = sweep::shard_files(paths)?;
    let (format, _) = sweep::shard_format(&files[0])?;
    Ok(format.starts_with(FORMAT_NAME))
}

/// Joins the shards of one experiment into the folder the unsharded run writes.
pub fn merge(paths: &[PathBuf], out: Option<PathBuf>) -> Result<Outcome, Failure> {
    if let Some(dir) = &out {
        resultsdir::check(dir, &paths.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    }
    let files = sweep::shard_files(paths)?;
    let shards = read_shards(&files)?;
    let by_index = one_experiment(&shards)?;
    let (first_path, first) = &shards[0];
    let reproduce = format!("byzsim experiment {}", output::shell_word(&first.spec));
    let reproduce = if first.quick { format!("{reproduce} --quick") } else { reproduce };
    sweep::missing_shards(first_path, first.shards, &first.experiment_id, &by_index, &reproduce)?;
    let spec_path = PathBuf::from(&first.spec);
    let loaded = Loaded::read(&spec_path)?;
    let template = page::read(&loaded)?;
    let scenarios = super::select::scenarios(&loaded)?;
    if experiment_id(&loaded, &super::all_sources(&scenarios), &template, first.quick) != first.experiment_id {
        return Err(Failure::input(format!(
            "{}: {}, its scenario or its page changed since the shards ran\n  help: run the shards again",
            first_path.display(),
            first.spec
        )));
    }
    let runs_id = super::render::runs_id(&loaded, &super::all_sources(&scenarios));
    let results =
        Results { name: loaded.spec.name.clone(), quick: first.quick, runs_id, cases: in_case_order(&by_index) };
    let dir = out.unwrap_or_else(|| default_dir(&loaded.spec.name, first.quick));
    let page_path = loaded.page_path();
    let mut inputs: Vec<&Path> = paths.iter().chain(&files).map(PathBuf::as_path).collect();
    inputs.extend([spec_path.as_path(), &page_path]);
    inputs.extend(scenarios.iter().map(|s| s.0.as_path()));
    finish(&loaded, &template, &results, &dir, &inputs)
}

/// Reads each file: an experiment shard of this byzsim's version, consistent with itself.
fn read_shards(files: &[PathBuf]) -> Result<Vec<(PathBuf, ShardFile)>, Failure> {
    let mut shards = Vec::new();
    for f in files {
        let bad = |why: String| Failure::input(format!("{}: {why}", f.display()));
        let (format, text) = sweep::shard_format(f)?;
        if format != FORMAT {
            return Err(bad(format!(
                "format `{format}`, expected `{FORMAT}`: merge the shards of one experiment, by this byzsim"
            )));
        }
        let s: ShardFile = serde_json::from_str(&text).map_err(|e| bad(format!("not a byzsim shard file: {e}")))?;
        if s.version != version() {
            return Err(bad(format!(
                "a shard of byzsim {}, this is byzsim {}\n  help: run every shard and the merge with one version",
                s.version,
                version()
            )));
        }
        let expected = (s.shard..s.cases).step_by(s.shards.max(1) as usize).count();
        if s.shards == 0 || s.shard >= s.shards || s.results.len() != expected {
            return Err(bad(format!(
                "shard {}/{} of {} cases holds {} cases",
                s.shard,
                s.shards,
                s.cases,
                s.results.len()
            )));
        }
        shards.push((f.clone(), s));
    }
    Ok(shards)
}

/// The shards by index, all of one experiment, split one way, a repeated shard the same.
fn one_experiment(shards: &[(PathBuf, ShardFile)]) -> Result<BTreeMap<u64, &ShardFile>, Failure> {
    let (first_path, first) = &shards[0];
    let mut by_index: BTreeMap<u64, &ShardFile> = BTreeMap::new();
    for (path, s) in shards {
        if s.experiment_id != first.experiment_id {
            return Err(Failure::input(format!(
                "{} and {} are shards of different experiments (or of a spec changed between them): merge the \
                 shards of one experiment",
                first_path.display(),
                path.display()
            )));
        }
        sweep::split_one_way("an experiment", first_path, (first.shard, first.shards), path, (s.shard, s.shards))?;
        if by_index.insert(s.shard, s).is_some_and(|o| o != s) {
            return Err(Failure::input(format!(
                "{} and another file are both shard {}/{}, with different results",
                path.display(),
                s.shard,
                s.shards
            )));
        }
    }
    Ok(by_index)
}

/// Every case's results in case order (case I + kN is shard I's k-th).
fn in_case_order(by_index: &BTreeMap<u64, &ShardFile>) -> Vec<CaseResult> {
    let n = by_index.len();
    let total: usize = by_index.values().map(|s| s.results.len()).sum();
    (0..total).map(|c| by_index[&((c % n) as u64)].results[c / n].clone()).collect()
}
