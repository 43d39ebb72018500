//! The `byzsim` command line: run, validate, explore, compare, sweep and merge scenario runs.
#![allow(clippy::disallowed_types)] // the wall clock here only reports how long a run took

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use scenarios::batch::{self, Failure, parse_seed_range};
use scenarios::{calibrate, compare, diagnose, experiment, output, parse, resultsdir, run, sweep, version};
use sim_core::Stop;

const METRICS_HELP: &str = "\
Metrics (measured over the window [warmup_s, duration_s)):
  offered load        transactions submitted by clients per second
  consensus latency   from a transaction's arrival at its first replica to its first commit
                      at a correct replica
  end-to-end latency  from the client's send to the client holding f+1 matching replies
                      (the reply hop included; under algorand, the reply of the one user
                      it submitted to)
  goodput             distinct valid transactions confirmed (f+1 matching replies) per second
  proposal-to-commit  from the proposal of the entry carrying a transaction (a block's
                      creation, a leaderless coordinator's PBFT proposal) to its first
                      commit at a correct replica (the asonnino/hotstuff prototype's)
  at the proposer     from a transaction's arrival at the correct replica that proposed it
                      to that replica's commit of it (Bamboo's; not under algorand)
  Latency percentiles are nearest-rank over the transactions submitted in the window that
  completed before the run ended; the others are reported as unconfirmed.

Exit codes: 0 success, 1 results could not be written, 2 bad input (file, field, value, or
an --out byzsim may not replace), 3 an invariant broke (safety: agreement, gap-free log,
exactly-once; or liveness: a stall, not an overload's backlog), 4 the run hit a limit of
[limits].";

#[derive(Parser)]
#[command(name = "byzsim", version = version_text(), about = "Deterministic simulator of Byzantine consensus protocols", after_long_help = METRICS_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario, print the summary and write the results folder.
    #[command(after_long_help = METRICS_HELP)]
    Run {
        #[command(flatten)]
        input: Input,
        /// Results folder (default: results/<scenario>-seed<seed>, plus a hash of the --set
        /// overrides). Must be new, empty, or a folder byzsim wrote.
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        #[command(flatten)]
        watch: WatchArgs,
    },
    /// Check a scenario file and report every problem in it.
    Validate {
        #[command(flatten)]
        input: Input,
    },
    /// Run a scenario on a range of seeds and report every seed that breaks an invariant.
    Explore {
        /// The scenario file.
        file: PathBuf,
        /// Seeds to try, as FIRST..LAST (inclusive).
        #[arg(long, value_parser = parse_seed_range)]
        seeds: (u64, u64),
        /// Override any field, as key.path=value; repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Runs at once (threads across runs; default: the machine's cores). The seeds that
        /// break are the same whatever the number.
        #[arg(long)]
        jobs: Option<u32>,
        /// Stop at the first seed that breaks an invariant (the lowest one, whatever --jobs):
        /// --max-failures 1.
        #[arg(long, conflicts_with = "max_failures")]
        stop_at_first: bool,
        /// Stop after K seeds broke an invariant (the K lowest, whatever --jobs).
        #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
        max_failures: Option<u64>,
        /// Results folder: explore.csv (every seed: what it drew, how it ended, its digest and
        /// reproduce command) and seed-N.toml (the concrete scenario of each failing seed).
        /// Must be new, empty, or a folder byzsim wrote.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Plant a bug (PROTOCOL/BUG) in every replica, to measure the checkers. For testing
        /// byzsim itself: a planted run says so on every line.
        #[arg(long, hide = true, value_parser = scenarios::planted::Planted::parse)]
        plant: Option<scenarios::planted::Planted>,
        /// Swarm over settings too: each seed also draws a closed loop, a request queue that
        /// drops or pushes back, request cores and the protocol's own settings (HotStuff: leader
        /// policy, mempool), as `--set explore.settings=true` (an `[explore]` with its defaults
        /// if the file has none); reproduce commands carry the `--set`.
        #[arg(long)]
        swarm: bool,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Compare two runs, or two event logs, up to their first different event, and show the
    /// events around it on both sides. Exit 0: no difference; 1: they differ.
    ///
    /// Two runs: `diff FILE --seed 1 --vs-seed 2` (one scenario, two seeds), `diff FILE --seed 1
    /// --vs-set KEY=VALUE` (what a change does to one seed) or `diff FILE1
    /// FILE2 [--seed N]` (two scenarios). Two event logs (two builds of byzsim, say): `diff
    /// A.jsonl B.jsonl`, written by `run --events`.
    Diff {
        /// A scenario file, or an event log (.jsonl).
        a: PathBuf,
        /// A second scenario file or event log (default: the first scenario again, with --vs-seed).
        b: Option<PathBuf>,
        /// The seed of both runs (default: each scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// The seed of the second run.
        #[arg(long)]
        vs_seed: Option<u64>,
        /// Override a field of the second run only (what a change does to the same seed);
        /// repeatable.
        #[arg(long = "vs-set", value_name = "KEY=VALUE")]
        vs_sets: Vec<String>,
        /// Override any field of both scenarios, as key.path=value; repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Events shown before and after the first difference.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(0..=10_000))]
        context: u64,
        /// Plant a bug in both runs (for testing byzsim itself).
        #[arg(long, hide = true, value_parser = scenarios::planted::Planted::parse)]
        plant: Option<scenarios::planted::Planted>,
    },
    /// From a seed that breaks an invariant, search for a smaller scenario that still breaks
    /// it (fewer faults, Byzantine replicas and replicas, a shorter run, less load) and write it.
    Shrink {
        /// The scenario file.
        file: PathBuf,
        /// The seed whose run breaks an invariant (find one with `byzsim explore`).
        #[arg(long)]
        seed: u64,
        /// Override any field, as key.path=value; repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Where to write the shrunk scenario (default: <FILE stem>.shrunk-seed<N>.toml in the
        /// current folder). An existing file is replaced only if `byzsim shrink` wrote it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs the search may take, the first included.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        max_runs: u64,
        /// Plant a bug (PROTOCOL/BUG) in every replica, as `explore --plant` does.
        #[arg(long, hide = true, value_parser = scenarios::planted::Planted::parse)]
        plant: Option<scenarios::planted::Planted>,
        /// No progress on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run one scenario under several protocols on the same seeds and compare them: a table of
    /// means, paired differences with 95% confidence intervals, plots and report.html.
    #[command(after_long_help = METRICS_HELP)]
    Compare {
        /// The scenario file.
        file: PathBuf,
        /// The protocols, comma-separated (hotstuff, leaderless, algorand): the first is the
        /// baseline of the differences.
        #[arg(long, value_name = "P1,P2,...")]
        protocols: String,
        /// Seeds, as FIRST..LAST (inclusive); default the scenario's seed.
        #[arg(long, value_parser = parse_seed_range, value_name = "FIRST..LAST")]
        seeds: Option<(u64, u64)>,
        /// Override any field, as key.path=value; repeatable (not `protocol`).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Results folder (default: results/<scenario>-compare-seed<S> or -seeds<A>-<B>, plus a
        /// hash of the --set overrides). Must be new, empty, or a folder byzsim wrote.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs at once, on as many threads (default: the number of cores).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
        jobs: Option<u32>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run a grid of runs: every combination of swept values (--set key=v1,v2,...) on every
    /// seed, over local threads or over machines (--shard), into one table, plots and report.
    Sweep {
        /// The scenario file.
        file: PathBuf,
        /// key.path=value overrides; key.path=v1,v2,... sweeps the key over the values (commas
        /// inside [], {} or quotes do not split: a list value is written in brackets).
        #[arg(long = "set", value_name = "KEY=V1,V2,...")]
        sets: Vec<String>,
        /// Seeds, as FIRST..LAST (inclusive); default the scenario's seed.
        #[arg(long, value_parser = parse_seed_range, value_name = "FIRST..LAST")]
        seeds: Option<(u64, u64)>,
        /// Runs at once, on as many threads (default: the number of cores).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
        jobs: Option<u32>,
        /// Run only shard I of N (0 <= I < N: the runs numbered I modulo N) and write
        /// shard-I-of-N-<sweep id>.json for `byzsim merge`.
        #[arg(long, value_parser = sweep::parse_shard, value_name = "I/N")]
        shard: Option<(u64, u64)>,
        /// Results folder (default: results/<scenario>-sweep-<hash of the grid>, or that plus
        /// -shards for a shard).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Report the saturation point: per combination of the other swept keys, the highest
        /// swept workload.rate_tps whose end-to-end p99 stays at or under this many ms.
        #[arg(long, value_name = "MS")]
        saturation_p99_ms: Option<f64>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Join the shard files of a sweep or an experiment (folders or files) into the folder the
    /// unsharded run writes.
    Merge {
        /// Folders holding shard-*-of-*.json files, or the files themselves.
        #[arg(required = true, value_name = "DIR|FILE")]
        paths: Vec<PathBuf>,
        /// Results folder (default: the one the unsharded run writes). Must be new, empty, or a
        /// folder byzsim wrote, and hold no shard.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema (draft 2020-12) of scenario files, for editors (Taplo, Even Better
    /// TOML): every field with its type, bounds, default and meaning.
    Schema,
    /// Run an experiment spec (experiments/*.toml; docs/experiments.md): its cases on the
    /// worker pool, its load search, tables, plots and page; exit code 1 when a claim fails.
    Experiment {
        /// The spec file.
        spec: PathBuf,
        /// Results folder (default: results/<name>-experiment). Must be new, empty, or a folder
        /// byzsim wrote.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Cases at once, on as many threads (default: the number of cores).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
        jobs: Option<u32>,
        /// Run each run in a child process and measure its wall time and peak memory.
        #[arg(long)]
        isolate: bool,
        /// The spec's `[quick]` axis values: fewer cases.
        #[arg(long)]
        quick: bool,
        /// Run only shard I of N (the cases numbered I modulo N) and write
        /// shard-I-of-N-<experiment id>.json for `byzsim merge`.
        #[arg(long, value_parser = sweep::parse_shard, value_name = "I/N")]
        shard: Option<(u64, u64)>,
        /// Run nothing: write the page, tables, plots and claims again from the runs in DIR (a
        /// folder this experiment wrote; its results.json), into DIR or --out. Refused when the
        /// spec's cases, rates, search or seeds or its scenarios changed since.
        #[arg(long, value_name = "DIR", conflicts_with = "shard")]
        render_from: Option<PathBuf>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// One run of `experiment --isolate`, its summary printed as JSON.
    #[command(hide = true)]
    ExperimentRun {
        #[command(flatten)]
        input: Input,
    },
    /// Time BLS12-381 (blst) on this machine and write a crypto cost profile for
    /// `[cpu] profile_file`.
    Calibrate {
        /// Where to write the profile; an existing file is replaced only if calibrate wrote it.
        #[arg(long, default_value = "calibrated-profile.toml")]
        out: PathBuf,
        /// Operations timed per kind in each batch.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        rounds: u32,
        /// Timed batches per kind, after one untimed warm-up batch; the profile takes the median.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(3..=1_000))]
        batches: u32,
        /// Signers of the aggregate that is verified (n - f of the replicas you simulate).
        #[arg(long, default_value_t = 67, value_parser = clap::value_parser!(u32).range(2..=10_000))]
        signers: u32,
        /// Fit base, per-KiB and signature costs to measured points (CSV: override columns such
        /// as `workload.rate_tps` or `set`, then `throughput_tps`, `latency_ms`) instead of
        /// timing blst; needs --scenario.
        #[arg(long, value_name = "POINTS.csv", requires = "scenario")]
        fit: Option<PathBuf>,
        /// The base scenario the points override (with --fit).
        #[arg(long, value_name = "BASE.toml", requires = "fit")]
        scenario: Option<PathBuf>,
        /// Most runs the fit may make (each evaluation runs every point once), and again the
        /// probe of each fitted cost's range after it.
        #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        max_runs: u32,
        /// The latency the points' `latency_ms` are (with --fit): a metric of the registry in ms,
        /// such as `e2e_mean_ms`, `proposer_mean_ms` (Bamboo's) or `proposal_commit_mean_ms`.
        #[arg(long, value_name = "METRIC", default_value = "e2e_mean_ms", requires = "fit")]
        latency: String,
        /// Hold a cost at a value instead of fitting it (with --fit; repeatable), for a cost
        /// measured elsewhere that the points cannot pin: NAME=VALUE, NAME one of base_us,
        /// per_kib_us, signature_scale, per_tx_us, request_base_us.
        #[arg(long, value_name = "NAME=VALUE", requires = "fit")]
        fix: Vec<String>,
    },
}

#[derive(Args)]
struct Input {
    /// The scenario file (TOML; see docs/scenarios.md).
    file: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override any field, as key.path=value (TOML value); repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

/// What to see of a run beyond its results: the event log and the timeline.
#[derive(Args, Default)]
struct WatchArgs {
    /// Write every event of the run to FILE, one JSON object per line (schema: docs/event-log.md).
    /// FILE must not exist.
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Log only events at or after this virtual time (seconds).
    #[arg(long, value_name = "SECONDS", requires = "events")]
    events_from: Option<f64>,
    /// Log only events before this virtual time (seconds).
    #[arg(long, value_name = "SECONDS", requires = "events")]
    events_to: Option<f64>,
    /// Log only events at these nodes (replicas 0..n, then clients), or messages to or from them.
    #[arg(long, value_name = "ID,...", value_delimiter = ',', requires = "events")]
    events_nodes: Vec<u32>,
    /// Log only these records (send, deliver, commit, note, fault, ...; see docs/event-log.md).
    #[arg(long, value_name = "NAME,...", value_delimiter = ',', requires = "events")]
    events_records: Vec<String>,
    /// Log only messages of these kinds (the protocol's message kinds, request, reply).
    #[arg(long, value_name = "KIND,...", value_delimiter = ',', requires = "events")]
    events_kinds: Vec<String>,
    /// Write a timeline of the run to FILE in the trace-event JSON format: open it in
    /// ui.perfetto.dev or chrome://tracing (docs/timeline.md). FILE must not exist.
    #[arg(long, value_name = "FILE")]
    perfetto: Option<PathBuf>,
    /// Draw only events at or after this virtual time (seconds).
    #[arg(long, value_name = "SECONDS", requires = "perfetto")]
    perfetto_from: Option<f64>,
    /// Draw only events before this virtual time (seconds).
    #[arg(long, value_name = "SECONDS", requires = "perfetto")]
    perfetto_to: Option<f64>,
    /// Draw flow arrows only for these message kinds (request, reply, the protocol's), or `none`.
    #[arg(long, value_name = "KIND,...", value_delimiter = ',', requires = "perfetto")]
    perfetto_flows: Vec<String>,
    /// Stop drawing slices and arrows after this many events (instants and counters go on to twice it).
    #[arg(long, value_name = "N", default_value_t = scenarios::perfetto::MAX_EVENTS_DEFAULT, requires = "perfetto")]
    perfetto_max_events: u64,
}

/// Seconds from a flag as nanoseconds; a clear error for a negative or non-finite value.
fn flag_ns(flag: &str, v: Option<f64>) -> Result<Option<u64>, String> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some((s * 1e9).round() as u64)),
        Some(s) => Err(format!("error: --{flag} {s}: a time in seconds, 0 or more")),
    }
}

impl WatchArgs {
    /// The event log's filter, checked against the scenario (exit 2 on a bad value).
    fn filter(&self, scenario: &scenarios::model::Scenario) -> Result<scenarios::eventlog::Filter, String> {
        let secs = flag_ns;
        let from_ns = secs("events-from", self.events_from)?.unwrap_or(0);
        let to_ns = secs("events-to", self.events_to)?;
        if to_ns.is_some_and(|to| to <= from_ns) {
            return Err("error: --events-to must be after --events-from".to_string());
        }
        let filter = scenarios::eventlog::Filter {
            from_ns,
            to_ns,
            nodes: self.events_nodes.iter().copied().collect(),
            records: self.events_records.iter().cloned().collect(),
            kinds: self.events_kinds.iter().cloned().collect(),
        };
        filter.check(&scenarios::eventlog::preview_info(scenario)).map_err(|e| format!("error: {e}"))?;
        Ok(filter)
    }

    /// The timeline's options, checked against the scenario (exit 2 on a bad value).
    fn timeline(&self, scenario: &scenarios::model::Scenario) -> Result<scenarios::perfetto::Options, String> {
        if scenario.cpu.request_cores > 0 {
            // Its lanes follow one queue in arrival order; two pools reorder handlers.
            return Err("error: --perfetto does not draw [cpu] request_cores yet: run with --set cpu.request_cores=0 \
                        for a timeline"
                .to_string());
        }
        let run_ns = ((scenario.duration_s + scenario.drain_s) * 1e9).round() as u64;
        let mut opts = scenarios::perfetto::Options::new(scenario.cpu.cores, run_ns);
        opts.from_ns = flag_ns("perfetto-from", self.perfetto_from)?.unwrap_or(0);
        opts.to_ns = flag_ns("perfetto-to", self.perfetto_to)?;
        if opts.to_ns.is_some_and(|to| to <= opts.from_ns) {
            return Err("error: --perfetto-to must be after --perfetto-from".to_string());
        }
        if self.perfetto_max_events == 0 {
            return Err("error: --perfetto-max-events 0: give at least 1".to_string());
        }
        opts.max_events = self.perfetto_max_events;
        opts.no_flows = self.perfetto_flows.iter().any(|k| k == "none");
        let info = scenarios::eventlog::preview_info(scenario);
        for kind in self.perfetto_flows.iter().filter(|k| k.as_str() != "none") {
            if !info.kinds.iter().any(|k| k.name == kind.as_str()) {
                let known: Vec<&str> = info.kinds.iter().filter(|k| !k.item).map(|k| k.name).collect();
                return Err(format!(
                    "error: --perfetto-flows: this protocol has no message kind `{kind}`; known: {}, or none",
                    known.join(", ")
                ));
            }
            opts.flow_kinds.insert(kind.clone());
        }
        Ok(opts)
    }
}

/// `--version`: the crate version and the git commit.
fn version_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(version::long)
}

fn main() -> ExitCode {
    if let Some(argv0) = std::env::args_os().next() {
        output::set_invocation(&argv0.to_string_lossy());
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { input } => match parse::load(&input.file, &input.sets, input.seed) {
            Ok(s) => {
                println!(
                    "{}: ok ({} {}s, {} clients, {} s)",
                    input.file.display(),
                    s.replicas.n,
                    s.protocol().node_word(),
                    s.clients.count,
                    s.duration_s
                );
                ExitCode::SUCCESS
            }
            Err(diags) => {
                eprintln!("{diags}");
                ExitCode::from(2)
            }
        },
        Command::Run { input, out, quiet, watch } => run_command(&input, out, quiet, &watch),
        Command::Calibrate { out, fit: Some(points), scenario: Some(base), max_runs, latency, fix, .. } => {
            finish(fit_command(&out, &points, &base, (max_runs as usize, &latency, &fix)).map(|text| (text, 0)))
        }
        Command::Calibrate { out, rounds, batches, signers, .. } => calibrate_command(&out, rounds, batches, signers),
        Command::Explore { file, seeds, mut sets, jobs, stop_at_first, max_failures, out, plant, swarm, quiet } => {
            if swarm {
                sets.insert(0, "explore.settings=true".into());
            }
            let jobs = jobs.map_or_else(batch::default_jobs, |j| j as usize);
            let max_failures = if stop_at_first { Some(1) } else { max_failures };
            let args = ExploreArgs { file, range: seeds, sets, jobs, max_failures, out, plant, quiet };
            explore_command(&args)
        }
        Command::Diff { a, b, seed, vs_seed, sets, vs_sets, context, plant } => {
            let second = SecondRun { file: b.as_deref(), seed: vs_seed, sets: &vs_sets };
            diff_command(&a, second, seed, &sets, context, plant)
        }
        Command::Shrink { file, seed, sets, out, max_runs, plant, quiet } => {
            shrink_command(&file, seed, &sets, out, max_runs, plant, quiet)
        }
        Command::Compare { file, protocols, seeds, sets, out, jobs, quiet } => {
            let jobs = jobs.map_or_else(batch::default_jobs, |j| j as usize);
            let args = compare::Args { file, protocols, seeds, sets, out, jobs, quiet };
            finish(compare::compare(&args).map(|o| (o.text, o.code)))
        }
        Command::Sweep { file, sets, seeds, jobs, shard, out, saturation_p99_ms, quiet } => {
            let jobs = jobs.map_or_else(batch::default_jobs, |j| j as usize);
            let args = sweep::Args { file, sets, seeds, jobs, shard, out, saturation_p99_ms, quiet };
            finish(sweep::sweep(&args).map(|o| (o.text, o.code)))
        }
        Command::Experiment { spec, out, jobs, isolate, quick, shard, render_from, quiet } => {
            let jobs = jobs.map_or_else(batch::default_jobs, |j| j as usize);
            let args = experiment::Args { spec, out, jobs, isolate, quick, quiet, shard, render_from };
            finish(experiment::experiment(&args).map(|o| (o.text, o.code)))
        }
        Command::ExperimentRun { input } => {
            finish(experiment::child(&input.file, &input.sets, input.seed).map(|text| (text, 0)))
        }
        Command::Merge { paths, out } => finish(merge(&paths, out)),
        Command::Schema => finish(Ok((parse::schema_json(), 0))),
    }
}

/// `byzsim merge`: the shards of an experiment or of a sweep, by what the files say they are.
fn merge(paths: &[PathBuf], out: Option<PathBuf>) -> Result<(String, u8), Failure> {
    if experiment::shard::among(paths)? {
        return experiment::shard::merge(paths, out).map(|o| (o.text, o.code));
    }
    sweep::merge(paths, out).map(|o| (o.text, o.code))
}

/// Prints what a batch command produced (or why it failed) and turns it into the exit code.
fn finish(outcome: Result<(String, u8), Failure>) -> ExitCode {
    match outcome {
        Ok((text, code)) => {
            // A closed stdout (`| head`) is not an error of the runs.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
            ExitCode::from(code)
        }
        Err(failure) => {
            eprintln!("{}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// `byzsim explore`'s arguments.
struct ExploreArgs {
    file: PathBuf,
    range: (u64, u64),
    sets: Vec<String>,
    jobs: usize,
    max_failures: Option<u64>,
    out: Option<PathBuf>,
    plant: Option<scenarios::planted::Planted>,
    quiet: bool,
}

/// Runs every seed; prints each violation with its reproduce command; with `--out`, writes
/// explore.csv and each failing seed's concrete scenario. Exit 3 if any broke.
fn explore_command(a: &ExploreArgs) -> ExitCode {
    let file = a.file.as_path();
    let (source, scenario) = match load(file, &a.sets, Some(a.range.0)) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let seeds = match batch::seeds_of(a.range) {
        Ok(seeds) => seeds,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            return ExitCode::from(failure.code);
        }
    };
    if let Some(code) = plant_mismatch(file, &scenario, a.plant) {
        return code;
    }
    let sources = output::Sources::new(file, &source, &a.sets, None, None).reading([&scenario]);
    if let Some(dir) = &a.out
        && let Err(refused) = resultsdir::check(dir, &sources.input_paths())
    {
        eprintln!("{}", refused.message);
        return ExitCode::from(2);
    }
    let reproduce = |seed: u64| match a.plant {
        None => reproduce_command(file, seed, &a.sets),
        Some(bug) => planted_reproduce(file, seed, &a.sets, bug),
    };
    let planted_tag = a.plant.map(|b| format!(" [planted bug {}]", b.name())).unwrap_or_default();
    let bar = batch::progress_bar(seeds.len(), a.quiet);
    let started = Instant::now();
    let plan =
        scenarios::explore::Plan { scenario, seeds, jobs: a.jobs, planted: a.plant, max_failures: a.max_failures };
    let mut broken = 0u64;
    let found = scenarios::explore::explore(&plan, &mut || bar.inc(1), &mut |f| {
        broken += 1;
        bar.set_message(format!("{broken} broken"));
        bar.suspend(|| println!("{}", finding_text(f, &planted_tag, &reproduce(f.seed), a.out.as_deref())));
    });
    bar.finish_and_clear();
    let wall_s = started.elapsed().as_secs_f64();
    println!(
        "{} seeds, {} broke an invariant, {} hit a limit, {} overloaded ({wall_s:.1} s wall, {:.1} runs/s){planted_tag}",
        found.runs,
        found.findings.len(),
        found.limited,
        found.overloaded,
        found.runs as f64 / wall_s.max(1e-9)
    );
    if let Some(dir) = &a.out {
        match write_exploration(dir, &found, &sources, &a.sets, &reproduce) {
            Ok(()) => println!("results: {}", dir.display()),
            Err(e) => {
                eprintln!("error: could not write the results folder {}: {e}", dir.display());
                return ExitCode::from(1);
            }
        }
    }
    if found.findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(3) }
}

/// A seed that broke an invariant: where, when, how to reproduce it, its concrete scenario.
fn finding_text(f: &scenarios::explore::Finding, planted_tag: &str, reproduce: &str, out: Option<&Path>) -> String {
    let concrete = out.map_or_else(String::new, |dir| {
        format!("\n  concrete: {}", dir.join(scenarios::explore::seed_file_name(f.seed)).display())
    });
    format!(
        "seed {}: `{}` broke at {} at {:.6} s: {}{planted_tag}\n  reproduce: {reproduce}{concrete}",
        f.seed,
        f.invariant,
        f.node,
        f.at_ns as f64 / 1e9,
        f.detail,
    )
}

fn is_event_log(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "jsonl")
}

/// What differs in the second run of a diff: its file, seed or overrides.
struct SecondRun<'a> {
    file: Option<&'a Path>,
    seed: Option<u64>,
    sets: &'a [String],
}

fn diff_command(
    a: &Path,
    second: SecondRun<'_>,
    seed: Option<u64>,
    sets: &[String],
    context: u64,
    plant: Option<scenarios::planted::Planted>,
) -> ExitCode {
    let (b, vs_seed) = (second.file, second.seed);
    let outcome = if is_event_log(a) || b.is_some_and(is_event_log) {
        let Some(b) = b.filter(|b| is_event_log(a) && is_event_log(b)) else {
            eprintln!("error: diff compares two event logs (.jsonl) or two runs, not one of each");
            return ExitCode::from(2);
        };
        if seed.is_some() || vs_seed.is_some() || !sets.is_empty() || !second.sets.is_empty() || plant.is_some() {
            eprintln!("error: --seed, --vs-seed, --set, --vs-set and --plant apply to runs, not to event logs");
            return ExitCode::from(2);
        }
        match scenarios::diff::logs(a, b, context as usize) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    } else {
        if b.is_none() && vs_seed.is_none() && second.sets.is_empty() {
            eprintln!(
                "error: diff needs two runs\n  help: `byzsim diff {} --seed 1 --vs-seed 2`, `--vs-set KEY=VALUE`, or a \
                 second scenario file",
                a.display()
            );
            return ExitCode::from(2);
        }
        let side = |file: &Path, seed: Option<u64>, extra: &[String]| -> Result<scenarios::diff::Side, ExitCode> {
            let all: Vec<String> = sets.iter().chain(extra).cloned().collect();
            let scenario = parse::load(file, &all, seed).map_err(|d| {
                eprintln!("{d}");
                ExitCode::from(2)
            })?;
            if let Some(code) = plant_mismatch(file, &scenario, plant) {
                return Err(code);
            }
            let mut label = format!("{} seed {}", file.display(), scenario.seed);
            for s in extra {
                label.push_str(&format!(" --set {s}"));
            }
            Ok(scenarios::diff::Side { label, scenario, planted: plant })
        };
        let first = match side(a, seed, &[]) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let second = match side(b.unwrap_or(a), vs_seed.or(seed), second.sets) {
            Ok(s) => s,
            Err(code) => return code,
        };
        scenarios::diff::runs(&first, &second, context)
    };
    let _ = std::io::Write::write_all(&mut std::io::stdout(), outcome.text.as_bytes());
    if outcome.differ { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// Refuses a planted bug of another protocol than the scenario's.
fn plant_mismatch(
    file: &Path,
    scenario: &scenarios::model::Scenario,
    plant: Option<scenarios::planted::Planted>,
) -> Option<ExitCode> {
    let bug = plant.filter(|b| b.protocol() != scenario.protocol())?;
    eprintln!(
        "error: --plant {}: {} runs protocol {}\n  help: plant a bug of that protocol, or add --set protocol={}",
        bug.name(),
        file.display(),
        scenario.protocol().name(),
        (bug.protocol()).name()
    );
    Some(ExitCode::from(2))
}

/// Shrinks a breaking seed's scenario and writes it; exit 2 if the seed breaks nothing or the
/// output may not be written there.
fn shrink_command(
    file: &Path,
    seed: u64,
    sets: &[String],
    out: Option<PathBuf>,
    max_runs: u64,
    plant: Option<scenarios::planted::Planted>,
    quiet: bool,
) -> ExitCode {
    use scenarios::shrink;
    let loaded = match parse::load(file, sets, Some(seed)) {
        Ok(s) => s,
        Err(diags) => {
            eprintln!("{diags}");
            return ExitCode::from(2);
        }
    };
    if let Some(code) = plant_mismatch(file, &loaded, plant) {
        return code;
    }
    let stem = file.file_stem().map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned());
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{stem}.shrunk-seed{seed}.toml")));
    if let Err(problem) = shrink_target_problem(&out, file, &loaded) {
        eprintln!("error: {problem}");
        return ExitCode::from(2);
    }
    let plan = shrink::Plan { path: file.to_path_buf(), scenario: shrink::entry(&loaded), planted: plant, max_runs };
    let mut progress = |runs: u64, size: &shrink::Size| {
        if !quiet {
            eprintln!(
                "shrink: run {runs}/{max_runs}: n = {}, {} faults, {} Byzantine, {} s + {} s drain, {} events",
                size.n, size.faults, size.byzantine, size.duration_s, size.drain_s, size.events
            );
        }
    };
    let shrunk = match shrink::shrink(&plan, &mut progress) {
        Ok(shrunk) => shrunk,
        Err(nothing) => {
            eprintln!(
                "error: {} at seed {seed} breaks no invariant: {}; there is nothing to shrink\n  help: find a \
                 breaking seed with `{}`",
                file.display(),
                nothing.how,
                explore_hint(file, sets, plant)
            );
            return ExitCode::from(2);
        }
    };
    let text = match shrink::render(&shrunk, file, plant, &out) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: the shrunk scenario cannot be written as TOML: {e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = resultsdir::write_file(&out, text.as_bytes(), shrink::ours) {
        eprintln!("error: could not write {}: {e}", out.display());
        return ExitCode::from(if e.kind() == std::io::ErrorKind::AlreadyExists { 2 } else { 1 });
    }
    let reproduce = match plant {
        None => reproduce_command(&out, seed, &[]),
        Some(bug) => planted_reproduce(&out, seed, &[], bug),
    };
    let planted_tag = plant.map(|b| format!(" [planted bug {}]", b.name())).unwrap_or_default();
    let mut text = shrunk_text(&shrunk, seed, max_runs, &planted_tag);
    text.push_str(&format!("  wrote {}\n  reproduce: {reproduce}\n", out.display()));
    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
    ExitCode::SUCCESS
}

/// What `shrink` found: the invariant still broken, and the sizes before and after.
fn shrunk_text(shrunk: &scenarios::shrink::Shrunk, seed: u64, max_runs: u64, planted_tag: &str) -> String {
    let (b, a) = (&shrunk.before, &shrunk.after);
    let rows = [
        ("replicas (n)", b.n.to_string(), a.n.to_string()),
        ("f", b.f.to_string(), a.f.to_string()),
        ("faults", b.faults.to_string(), a.faults.to_string()),
        ("Byzantine replicas", b.byzantine.to_string(), a.byzantine.to_string()),
        (
            "duration_s + drain_s",
            format!("{} + {}", b.duration_s, b.drain_s),
            format!("{} + {}", a.duration_s, a.drain_s),
        ),
        ("transactions", b.transactions.to_string(), a.transactions.to_string()),
        ("events", b.events.to_string(), a.events.to_string()),
    ];
    let mut text = format!(
        "`{}` still breaks at seed {seed} (at {}, {:.6} s: {}){planted_tag}\n  {} runs{}\n",
        shrunk.first.invariant,
        shrunk.last.node,
        shrunk.last.at_ns as f64 / 1e9,
        shrunk.last.detail,
        shrunk.runs,
        if shrunk.exhausted {
            format!(" (stopped at --max-runs {max_runs}: smaller, maybe not minimal)")
        } else {
            String::new()
        }
    );
    text.push_str(&format!("  {:<22} {:>14} -> {}\n", "", "before", "after"));
    for (name, before, after) in rows {
        text.push_str(&format!("  {name:<22} {before:>14} -> {after}\n"));
    }
    text.push_str(&format!("  Byzantine: {}\n", scenarios::shrink::byzantine_summary(&shrunk.scenario)));
    text
}

/// Why `out` may not receive the shrunk scenario: a file byzsim did not write, the scenario
/// itself, or a file it reads.
fn shrink_target_problem(out: &Path, file: &Path, scenario: &scenarios::model::Scenario) -> Result<(), String> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(out, file) || scenario.inputs.iter().any(|i| same(out, i)) {
        return Err(format!("--out {} is an input of the scenario; choose another --out", out.display()));
    }
    match std::fs::symlink_metadata(out) {
        Err(_) => Ok(()),
        Ok(meta) if meta.is_file() && std::fs::read(out).is_ok_and(|b| scenarios::shrink::ours(&b)) => Ok(()),
        Ok(_) => {
            Err(format!("{} exists and byzsim did not write it: move it away or choose another --out", out.display()))
        }
    }
}

/// The `explore` command that looks for a breaking seed of this scenario.
fn explore_hint(file: &Path, sets: &[String], plant: Option<scenarios::planted::Planted>) -> String {
    let mut words = vec!["explore".to_string(), file.display().to_string(), "--seeds".into(), "1..200".into()];
    if let Some(bug) = plant {
        words.extend(["--plant".to_string(), bug.name()]);
    }
    for s in sets {
        words.extend(["--set".to_string(), s.clone()]);
    }
    words.push("--stop-at-first".into());
    output::command_line(&words)
}

/// explore.csv, the scenario as given, and seed-N.toml for each failing seed.
fn write_exploration(
    dir: &Path,
    found: &scenarios::explore::Exploration,
    sources: &output::Sources,
    sets: &[String],
    reproduce: &dyn Fn(u64) -> String,
) -> std::io::Result<()> {
    let csv = scenarios::explore::csv(found, reproduce)?;
    let mut concrete = Vec::new();
    for f in &found.findings {
        let name = scenarios::explore::seed_file_name(f.seed);
        let text = scenarios::swarm::concrete_toml(&sources.file, &sources.original, sets, f.seed, &dir.join(&name));
        match text {
            Some(text) => concrete.push((name, text)),
            None => eprintln!(
                "warning: seed {}: no {name}: its concrete scenario would not load back the same from {} \
                 (a relative input path?); reproduce it with the command instead",
                f.seed,
                dir.display()
            ),
        }
    }
    let marker = resultsdir::Marker::new("explore", &found_name(sources));
    resultsdir::replace(dir, &sources.input_paths(), marker, |staging| {
        let mut files: Vec<String> = sources.write(staging)?.iter().map(|s| s.to_string()).collect();
        std::fs::write(staging.join("explore.csv"), &csv)?;
        files.push("explore.csv".into());
        for (name, text) in &concrete {
            std::fs::write(staging.join(name), text)?;
            files.push(name.clone());
        }
        Ok(files)
    })
}

/// The scenario's name, for the marker.
fn found_name(sources: &output::Sources) -> String {
    sources.file.file_stem().map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned())
}

fn calibrate_command(out: &Path, rounds: u32, batches: u32, signers: u32) -> ExitCode {
    if let Err(problem) = calibrate::check_out(out) {
        eprintln!("error: {problem}");
        return ExitCode::from(2);
    }
    let machine = calibrate::machine();
    eprintln!(
        "timing blst on {machine}: a warm-up batch, then {batches} batches of {rounds} operations of each kind, \
         aggregates of {signers} signatures..."
    );
    let batch_us = calibrate::measure(rounds as usize, signers, batches as usize);
    let summaries = batch_us.each_ref().map(|b| calibrate::summarize(b));
    eprint!("{}", calibrate::table(&summaries));
    for warning in calibrate::busy_warnings(&summaries) {
        eprintln!("warning: {warning}");
    }
    let setup = calibrate::Setup { machine: &machine, signers, rounds, batches };
    let text = calibrate::profile_toml(&summaries, &setup);
    // Checked again: the file may have appeared while we measured.
    if let Err(problem) = calibrate::check_out(out) {
        eprintln!("error: {problem}");
        return ExitCode::from(2);
    }
    if let Err(e) = resultsdir::write_file(out, text.as_bytes(), calibrate::is_ours) {
        eprintln!("error: could not write {}: {e}", out.display());
        return ExitCode::from(1);
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
    eprintln!("wrote {}", out.display());
    ExitCode::SUCCESS
}

/// `calibrate --fit`: reads the points and the base scenario, fits, prints the table on stderr,
/// writes the profile (only over a profile byzsim wrote) and prints it.
fn fit_command(
    out: &Path,
    points_file: &Path,
    base: &Path,
    (max_runs, latency, fix): (usize, &str, &[String]),
) -> Result<String, batch::Failure> {
    use scenarios::fit;
    calibrate::check_out(out).map_err(|p| batch::Failure::input(format!("error: {p}")))?;
    let fixed = fix
        .iter()
        .map(|f| fit::Fixed::parse(f).map_err(|e| batch::Failure::input(format!("error: --fix {f}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let latency = match scenarios::results::metric::parse_names(latency).as_deref() {
        Ok([one]) if one.unit == "ms" => *one,
        Ok(_) => return Err(batch::Failure::input(format!("error: --latency {latency}: one latency metric in ms"))),
        Err(e) => return Err(batch::Failure::input(format!("error: --latency: {e}"))),
    };
    let points = fit::read_points(points_file)?;
    let src = traces::input::read_text(base, traces::input::InputKind::Scenario)
        .map_err(|e| batch::Failure::input(format!("error: {e}")))?;
    let scenarios =
        points.iter().map(|p| fit::scenario_at(base, &src, p, points_file)).collect::<Result<Vec<_>, _>>()?;
    let cpu = &scenarios[0].cpu;
    let start = fit::Costs {
        base_us: cpu.base_us,
        per_kib_us: cpu.per_kib_us,
        per_tx_us: cpu.per_tx_us,
        crypto_scale: 1.0,
        request_base_us: cpu.request_base_us,
    };
    let profile = cpu.profile.clone();
    eprintln!(
        "fitting {} points of {} on {} (at most {max_runs} runs)...",
        points.len(),
        points_file.display(),
        base.display()
    );
    let result = fit::fit(&scenarios, &points, start, &profile, (max_runs, latency, &fixed));
    eprint!("{}", fit::table(&points, &result));
    eprintln!("probing how well the points identify each cost (at most {max_runs} more runs)...");
    let identification = fit::identify(&scenarios, &points, &result, &profile, max_runs);
    identification.lines().iter().for_each(|line| eprintln!("{line}"));
    let text = fit::profile_toml(&result, &identification, &profile, &points, (points_file, base));
    calibrate::check_out(out).map_err(|p| batch::Failure::input(format!("error: {p}")))?;
    resultsdir::write_file(out, text.as_bytes(), calibrate::is_ours)
        .map_err(|e| batch::Failure::output(format!("error: could not write {}: {e}", out.display())))?;
    eprintln!("wrote {}", out.display());
    Ok(text)
}

/// The command that reproduces this run exactly (same version of byzsim).
/// A planted bug exists only under `explore`: its one-seed exploration.
fn planted_reproduce(file: &Path, seed: u64, sets: &[String], bug: scenarios::planted::Planted) -> String {
    let mut words =
        vec!["explore".to_string(), file.display().to_string(), "--seeds".into(), format!("{seed}..{seed}")];
    words.extend(["--plant".to_string(), bug.name()]);
    for s in sets {
        words.extend(["--set".to_string(), s.clone()]);
    }
    output::command_line(&words)
}

fn reproduce_command(file: &Path, seed: u64, sets: &[String]) -> String {
    let mut words = vec!["run".to_string(), file.display().to_string(), "--seed".to_string(), seed.to_string()];
    for s in sets {
        words.extend(["--set".to_string(), s.clone()]);
    }
    output::command_line(&words)
}

fn run_command(input: &Input, out: Option<PathBuf>, quiet: bool, watch: &WatchArgs) -> ExitCode {
    let (source, scenario) = match load(&input.file, &input.sets, input.seed) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let dir =
        out.unwrap_or_else(|| output::default_dir(&format!("{}-seed{}", scenario.name, scenario.seed), &input.sets));
    let sources =
        output::Sources::new(&input.file, &source, &input.sets, input.seed, Some(&scenario)).reading([&scenario]);
    if let Err(refused) = resultsdir::check(&dir, &sources.input_paths()) {
        eprintln!("{}", refused.message);
        return ExitCode::from(2);
    }
    let mut watching = match Watching::attach(watch, &scenario) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // The view timeline of report.html: kept by `run` only, which writes a results folder.
    let run_ns = ((scenario.duration_s + scenario.drain_s) * 1e9).round() as u64;
    let (views, shared) = scenarios::watch::share(scenarios::viewtl::ViewWatcher::new(run_ns));
    watching.watchers.push(shared);
    let reproduce = reproduce_command(&input.file, scenario.seed, &input.sets);
    let (report, wall_s) = run_with_progress(&scenario, &watching.watchers, quiet);
    let watched = match watching.finish(&report, watch) {
        Ok(watched) => watched,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let views = views.borrow().finish(report.result.end_time.0);
    let written = output::write_results_with(&report, &reproduce, &sources, &dir, Some(&views));
    let mut text = run_text(&report, &scenario, wall_s, &reproduce);
    if written.is_ok() {
        text.push_str(&format!("  {:<28} {}\n", "results", dir.display()));
    }
    for (what, path) in watched {
        text.push_str(&format!("  {what:<28} {path}\n"));
    }
    // A closed stdout (`| head`) is not an error of the run.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
    if let Err(e) = written {
        eprintln!("error: could not write the results folder {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    stop_code(&report, &scenario, &reproduce)
}

/// Reads a scenario once, checked (a regular file, under its size cap, UTF-8), and parses it
/// from the text; exit code 2 with the problems printed.
fn load(file: &Path, sets: &[String], seed: Option<u64>) -> Result<(String, scenarios::model::Scenario), ExitCode> {
    let source = parse::read_scenario(file).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })?;
    let scenario = parse::load_str(file, &source, sets, seed).map_err(|diags| {
        eprintln!("{diags}");
        ExitCode::from(2)
    })?;
    Ok((source, scenario))
}

/// The watchers `run` attaches: the event log and the timeline when asked.
struct Watching {
    watchers: Vec<scenarios::watch::Shared>,
    event_log: Option<std::rc::Rc<std::cell::RefCell<scenarios::eventlog::EventLog>>>,
    timeline: Option<std::rc::Rc<std::cell::RefCell<scenarios::perfetto::Timeline>>>,
}

impl Watching {
    /// Creates the files asked for; on a problem, none is left behind.
    fn attach(watch: &WatchArgs, scenario: &scenarios::model::Scenario) -> Result<Watching, String> {
        let mut watching = Watching { watchers: Vec::new(), event_log: None, timeline: None };
        if let Some(path) = &watch.events {
            let log = watch.filter(scenario).and_then(|filter| scenarios::eventlog::EventLog::create(path, filter))?;
            let (typed, shared) = scenarios::watch::share(log);
            watching.watchers.push(shared);
            watching.event_log = Some(typed);
        }
        if let Some(path) = &watch.perfetto {
            match watch.timeline(scenario).and_then(|opts| scenarios::perfetto::Timeline::create(path, opts)) {
                Ok(t) => {
                    let (typed, shared) = scenarios::watch::share(t);
                    watching.watchers.push(shared);
                    watching.timeline = Some(typed);
                }
                Err(e) => {
                    if let Some(log) = &watching.event_log {
                        log.borrow_mut().abandon();
                    }
                    return Err(e);
                }
            }
        }
        Ok(watching)
    }

    /// Finishes the files: what was written, for the summary.
    fn finish(&self, report: &run::Report, watch: &WatchArgs) -> Result<Vec<(&'static str, String)>, String> {
        let mut watched = Vec::new();
        if let Some(log) = &self.event_log {
            let mut log = log.borrow_mut();
            match log.finish(report) {
                Ok(path) => watched.push(("event log", format!("{} ({} records)", path.display(), log.lines))),
                Err(e) => {
                    if let Some(timeline) = &self.timeline {
                        timeline.borrow_mut().abandon();
                    }
                    let path = watch.events.as_ref().expect("set").display();
                    return Err(format!("error: could not write the event log {path}: {e}"));
                }
            }
        }
        if let Some(timeline) = &self.timeline {
            watched.push(("timeline", finish_timeline(&mut timeline.borrow_mut(), report, watch)?));
        }
        Ok(watched)
    }
}

/// Finishes the timeline file; warns when it reached its cap.
fn finish_timeline(
    timeline: &mut scenarios::perfetto::Timeline,
    report: &run::Report,
    watch: &WatchArgs,
) -> Result<String, String> {
    let path = timeline.finish(report).map_err(|e| {
        let path = watch.perfetto.as_ref().expect("set").display();
        format!("error: could not write the timeline {path}: {e}")
    })?;
    let mut what = format!("{} ({} events, {} arrows)", path.display(), timeline.events, timeline.flows);
    if let Some(at) = timeline.capped_at_ns {
        what.push_str(&format!("; slices and arrows stop at {:.6} s", at as f64 / 1e9));
        eprintln!(
            "warning: the timeline reached --perfetto-max-events {} at {:.6} s: slices and arrows stop \
             there (commits, faults and counters go on)\n  help: narrow it with --perfetto-from/--perfetto-to",
            watch.perfetto_max_events,
            at as f64 / 1e9
        );
    }
    Ok(what)
}

/// Runs the scenario under a progress bar of virtual time; the report and the wall seconds.
fn run_with_progress(
    scenario: &scenarios::model::Scenario,
    watchers: &[scenarios::watch::Shared],
    quiet: bool,
) -> (run::Report, f64) {
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(1000) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} virtual {msg} [{bar:40}] {percent}% (wall {elapsed})")
            .expect("static template")
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let report = run::run_watched(scenario, None, watchers, &mut |now, end| {
        bar.set_position(now.as_nanos() * 1000 / end.as_nanos().max(1));
        bar.set_message(format!("{:.1}/{:.1} s", now.as_secs_f64(), end.as_secs_f64()));
    });
    bar.finish_and_clear();
    (report, started.elapsed().as_secs_f64())
}

/// The summary `run` prints, up to the wall time.
fn run_text(report: &run::Report, scenario: &scenarios::model::Scenario, wall_s: f64, reproduce: &str) -> String {
    let mut text = output::summary_table(report, reproduce);
    if let Some(drawn) = scenarios::swarm::draw(scenario) {
        text.push_str(&format!("  {:<28} {}\n", "drawn by [explore]", drawn.summary()));
    }
    text.push_str(&format!(
        "  {:<28} {:.2} s ({:.0} events/s, {:.1} simulated s per wall s)\n",
        "wall time",
        wall_s,
        report.result.events as f64 / wall_s.max(1e-9),
        report.result.end_time.as_secs_f64() / wall_s.max(1e-9)
    ));
    text
}

/// The exit code of how the run stopped, with the violation or limit explained on stderr.
fn stop_code(report: &run::Report, scenario: &scenarios::model::Scenario, reproduce: &str) -> ExitCode {
    if let Some(backlog) = &report.result.backlog {
        let b = scenarios::results::LivenessBacklog::of(backlog);
        eprintln!("\nliveness: {}", b.text());
        if let Some(why) = diagnose::overload(report) {
            eprintln!("  {why}");
        }
    }
    match &report.result.stop {
        Stop::End => ExitCode::SUCCESS,
        Stop::Violation(v) => {
            eprintln!(
                "\nINVARIANT BROKEN: `{}` at {} at {:.6} s: {}\n  seed {}\n  reproduce: {reproduce}",
                v.invariant,
                scenarios::results::node_label(report, v.replica),
                v.at_ns as f64 / 1e9,
                v.detail,
                scenario.seed
            );
            if let Some(overload) = diagnose::overload(report).filter(|_| v.invariant == "liveness") {
                eprintln!("  {overload}");
            }
            eprintln!("\n{}", output::flight_recorder_text(report, 24));
            ExitCode::from(3)
        }
        Stop::Limit { .. } => {
            let why = diagnose::limit_stop(report).unwrap_or_default();
            eprintln!("\nLIMIT REACHED: {why}\n  reproduce: {reproduce}");
            ExitCode::from(4)
        }
    }
}
