//! `byzsim shrink`: from a run that breaks an invariant, a smaller scenario that still breaks
//! the same invariant (by name; the replica may differ), by greedy delta debugging.
//!
//! Passes run in a fixed order, cheap and big cuts first: the run's length, the faults, the
//! Byzantine replicas and the adversary, the number of replicas, the load and the network's
//! noise. A pass offers candidates, each a little smaller than the current scenario; the first
//! that still breaks becomes the current one and the pass starts again; a pass with none left
//! hands over to the next, and the passes repeat until a whole round changes nothing (or the
//! run budget is spent). A candidate is written as TOML and loaded back: one that fails
//! validation is skipped, never run, and the result is always a file that loads. Runs are
//! sequential, so the result depends on nothing but the scenario, the seed and the budget.

use std::path::{Path, PathBuf};

use crate::model::{AdversaryAction, AdversaryMode, Jitter, Pacing, Scenario, Who};
use crate::planted::Planted;
use crate::{lower, parse, run, write};

/// What to shrink.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The scenario file: candidates are validated as if they were it (relative input paths
    /// resolve from its folder).
    pub path: PathBuf,
    pub scenario: Scenario,
    pub planted: Option<Planted>,
    /// Runs the search may take, the first (the scenario as given) included.
    pub max_runs: u64,
}

/// How a run broke an invariant, and how big it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub invariant: &'static str,
    pub at_ns: u64,
    /// `replica 3`, `client 7`, `user 12`.
    pub node: String,
    pub detail: String,
    pub events: u64,
    pub transactions: u64,
}

/// The size of a scenario and of its run, as the report compares them.
#[derive(Clone, Debug, PartialEq)]
pub struct Size {
    pub n: u32,
    pub f: u32,
    /// Partitions and crashes of `[faults]`, and the network's loss and delay spikes.
    pub faults: usize,
    pub byzantine: u32,
    pub duration_s: f64,
    pub drain_s: f64,
    pub transactions: u64,
    pub events: u64,
}

impl Size {
    fn of(s: &Scenario, probe: &Probe) -> Size {
        let byzantine = s.byzantine.iter().map(|b| match &b.who {
            Who::Replicas(ids) => ids.len() as u32,
            Who::Count(count) => *count,
        });
        Size {
            n: s.replicas.n,
            f: s.replicas.f,
            faults: s.faults.partitions.len() + s.faults.crashes.len() + s.network.spikes.len(),
            byzantine: byzantine.sum(),
            duration_s: s.duration_s,
            drain_s: s.drain_s,
            transactions: probe.transactions,
            events: probe.events,
        }
    }
}

/// The outcome of a search.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The scenario the search started from (made concrete: see [`entry`]).
    pub original: Scenario,
    pub scenario: Scenario,
    /// The first run's violation and the last kept candidate's.
    pub first: Probe,
    pub last: Probe,
    pub before: Size,
    pub after: Size,
    /// Runs taken, the first included.
    pub runs: u64,
    /// The budget ran out before a round changed nothing: smaller, maybe not minimal.
    pub exhausted: bool,
}

/// The scenario as given breaks no invariant at its seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NothingBroke {
    /// How the run ended: `the run ended` or `the run hit a limit: ...`.
    pub how: String,
}

/// Progress after each run: (runs so far, the current scenario's size).
pub type Progress<'a> = &'a mut dyn FnMut(u64, &Size);

/// Where a loaded scenario enters shrink: the one place to turn a scenario whose faults are
/// drawn per seed into the concrete scenario of its seed.
pub fn entry(scenario: &Scenario) -> Scenario {
    named_byzantine(&crate::swarm::materialize(scenario))
}

/// `count = k` Byzantine entries replaced by the replicas the seed draws for them (the run is
/// the same: only the `byzantine` stream is no longer drawn from), so that each can be made
/// correct alone and the written file names them.
fn named_byzantine(s: &Scenario) -> Scenario {
    let assigned = lower::assign_byzantine(s);
    let mut out = s.clone();
    for (entry, ids) in out.byzantine.iter_mut().zip(assigned) {
        entry.who = Who::Replicas(ids);
    }
    out
}

/// Runs the search. The plan's scenario should come from [`entry`].
pub fn shrink(plan: &Plan, progress: Progress<'_>) -> Result<Shrunk, NothingBroke> {
    let mut search = Search { plan, runs: 0, progress };
    let first = match search.run(&plan.scenario) {
        Ok(probe) => probe,
        Err(how) => return Err(NothingBroke { how }),
    };
    let before = Size::of(&plan.scenario, &first);
    (search.progress)(1, &before);
    let (mut current, mut probe) = (plan.scenario.clone(), first.clone());
    let passes: [Pass; 5] = [duration_cuts, fault_cuts, byzantine_cuts, replica_cuts, load_cuts];
    let mut exhausted = false;
    loop {
        let mut changed = false;
        for pass in passes {
            loop {
                match search.first_breaking(pass(&current, &probe), &current, &probe) {
                    Step::Kept(next, next_probe) => (current, probe, changed) = (*next, next_probe, true),
                    Step::NoneBroke => break,
                    Step::Budget => {
                        exhausted = true;
                        break;
                    }
                }
            }
        }
        if exhausted || !changed {
            break;
        }
    }
    let after = Size::of(&current, &probe);
    Ok(Shrunk {
        original: plan.scenario.clone(),
        scenario: current,
        first,
        last: probe,
        before,
        after,
        runs: search.runs,
        exhausted,
    })
}

/// The shrunk scenario as the file `out` holds it: a header saying where it comes from, then
/// every key. Fails when it cannot be written as TOML.
pub fn render(shrunk: &Shrunk, from: &Path, planted: Option<Planted>, out: &Path) -> Result<String, String> {
    let dir = out.parent().unwrap_or(Path::new(""));
    let body = write::to_toml(&shrunk.scenario, dir)?;
    let planted = planted.map(|b| format!(" with the planted bug {}", b.name())).unwrap_or_default();
    Ok(format!(
        "{HEADER}\n# From {} at seed {}{planted}: `{}` still breaks after {} runs ({}).\n{body}",
        from.display(),
        shrunk.scenario.seed,
        shrunk.first.invariant,
        shrunk.runs,
        shrunk.last.detail.replace('\n', " ")
    ))
}

/// The first line of every file `byzsim shrink` writes: such a file it may replace, no other.
pub const HEADER: &str = "# Scenario shrunk by `byzsim shrink` (a file byzsim wrote; it may replace it).";

/// True if `bytes` are a file `byzsim shrink` wrote.
pub fn ours(bytes: &[u8]) -> bool {
    bytes.starts_with(HEADER.as_bytes())
}

/// Candidates of one pass, in the order they are tried.
type Pass = fn(&Scenario, &Probe) -> Vec<Scenario>;

enum Step {
    Kept(Box<Scenario>, Probe),
    NoneBroke,
    Budget,
}

struct Search<'p, 'g> {
    plan: &'p Plan,
    runs: u64,
    progress: Progress<'g>,
}

impl Search<'_, '_> {
    /// One run: the violation, or how the run ended instead.
    fn run(&mut self, s: &Scenario) -> Result<Probe, String> {
        self.runs += 1;
        let report = run::run_planted(s, self.plan.planted, &mut |_, _| {});
        match &report.result.stop {
            sim_core::Stop::Violation(v) => Ok(Probe {
                invariant: v.invariant,
                at_ns: v.at_ns,
                node: crate::results::node_label(&report, v.replica),
                detail: v.detail.clone(),
                events: report.result.events,
                transactions: report.result.txs.len() as u64,
            }),
            sim_core::Stop::End => Err("the run ended with every invariant intact".to_string()),
            sim_core::Stop::Limit { .. } => {
                let why = crate::diagnose::limit_stop(&report).unwrap_or_default();
                Err(format!("the run hit a limit of [limits] before breaking any invariant: {why}"))
            }
        }
    }

    /// Tries the candidates in order: the first valid one, different from `current`, that
    /// breaks `invariant`.
    fn first_breaking(&mut self, candidates: Vec<Scenario>, current: &Scenario, probe: &Probe) -> Step {
        let size = Size::of(current, probe);
        for candidate in candidates {
            let Some(valid) = self.validate(&candidate) else { continue };
            if valid == *current {
                continue;
            }
            if self.runs >= self.plan.max_runs {
                return Step::Budget;
            }
            match self.run(&valid) {
                Ok(next) if next.invariant == probe.invariant => {
                    (self.progress)(self.runs, &Size::of(&valid, &next));
                    return Step::Kept(Box::new(valid), next);
                }
                _ => (self.progress)(self.runs, &size),
            }
        }
        Step::NoneBroke
    }

    /// The candidate as its file would load, or None if validation refuses it.
    fn validate(&self, candidate: &Scenario) -> Option<Scenario> {
        let dir = self.plan.path.parent().unwrap_or(Path::new(""));
        let text = write::to_toml(candidate, dir).ok()?;
        parse::load_str(&self.plan.path, &text, &[], None).ok()
    }
}

// ---------------------------------------------------------------------------------------------
// The passes
// ---------------------------------------------------------------------------------------------

/// Shortest run length tried, in seconds.
const MIN_DURATION_S: f64 = 0.01;

/// Pass 1: The run cut to just after the violation (a tenth more, at least 10 ms, rounded up to the
/// millisecond), no drain, then
/// the duration halved and the drain halved.
fn duration_cuts(s: &Scenario, probe: &Probe) -> Vec<Scenario> {
    let end_s = s.duration_s + s.drain_s;
    let broke_s = probe.at_ns as f64 / 1e9;
    // Whole milliseconds, so that the written file reads well.
    let cut_s = ((broke_s + (broke_s / 10.0).max(0.01)) * 1e3).ceil() / 1e3;
    let mut out = Vec::new();
    if cut_s < end_s {
        let (duration, drain) = if cut_s <= s.duration_s { (cut_s, 0.0) } else { (s.duration_s, cut_s - s.duration_s) };
        out.push(fit_run(s, duration, drain));
    }
    if s.drain_s > 0.0 {
        out.push(fit_run(s, s.duration_s, 0.0));
    }
    if s.duration_s / 2.0 >= MIN_DURATION_S {
        out.push(fit_run(s, s.duration_s / 2.0, s.drain_s));
    }
    if s.drain_s / 2.0 >= MIN_DURATION_S {
        out.push(fit_run(s, s.duration_s, s.drain_s / 2.0));
    }
    out
}

/// `s` with a new length: what starts after the end is dropped, what ends after it is cut.
fn fit_run(s: &Scenario, duration_s: f64, drain_s: f64) -> Scenario {
    let mut out = s.clone();
    let end_s = duration_s + drain_s;
    out.duration_s = duration_s;
    out.drain_s = drain_s;
    if out.warmup_s >= duration_s {
        out.warmup_s = 0.0;
    }
    out.faults.partitions.retain(|p| p.start_s < end_s);
    out.faults.crashes.retain(|c| c.at_s < end_s);
    out.network.spikes.retain(|p| p.start_s < end_s);
    out.byzantine.retain(|b| b.at_s.is_none_or(|at| at < end_s));
    out.section.fit(out.replicas.n, duration_s);
    match &mut out.adversary.mode {
        AdversaryMode::Twins { partition_until_s, .. } => *partition_until_s = partition_until_s.min(end_s),
        AdversaryMode::Scripted(rules) => {
            rules.retain(|r| !matches!(r.action, AdversaryAction::Hold { until_s } if until_s >= end_s));
            if rules.is_empty() {
                out.adversary = Default::default();
            }
        }
        _ => {}
    }
    out
}

/// Pass 2: The faults (partitions, crashes with their recoveries, loss and delay spikes): all of
/// them, each half when there are four or more, then one by one.
fn fault_cuts(s: &Scenario, _: &Probe) -> Vec<Scenario> {
    let (partitions, crashes) = (s.faults.partitions.len(), s.faults.crashes.len());
    let spikes = s.network.spikes.len();
    let units = partitions + crashes + spikes;
    let without = |drop: &dyn Fn(usize) -> bool| {
        let mut out = s.clone();
        out.faults.partitions = (0..partitions).filter(|&i| !drop(i)).map(|i| s.faults.partitions[i].clone()).collect();
        out.faults.crashes =
            (0..crashes).filter(|&i| !drop(partitions + i)).map(|i| s.faults.crashes[i].clone()).collect();
        let first_spike = partitions + crashes;
        out.network.spikes =
            (0..spikes).filter(|&i| !drop(first_spike + i)).map(|i| s.network.spikes[i].clone()).collect();
        out
    };
    let mut out = Vec::new();
    if units >= 2 {
        out.push(without(&|_| true));
    }
    if units >= 4 {
        out.push(without(&|i| i < units / 2));
        out.push(without(&|i| i >= units / 2));
    }
    out.extend((0..units).map(|unit| without(&|i| i == unit)));
    out
}

/// Pass 3: Byzantine replicas made correct, one by one; then the adversary off, then milder.
fn byzantine_cuts(s: &Scenario, _: &Probe) -> Vec<Scenario> {
    let mut out = Vec::new();
    for (entry_idx, entry) in s.byzantine.iter().enumerate() {
        let Who::Replicas(ids) = &entry.who else { continue };
        for &id in ids {
            out.push(without_byzantine(s, entry_idx, id));
        }
    }
    if s.adversary.mode != AdversaryMode::Off {
        let mut off = s.clone();
        off.adversary = Default::default();
        out.push(off);
    }
    out.extend(milder_adversary(s));
    out
}

fn without_byzantine(s: &Scenario, entry_idx: usize, id: u32) -> Scenario {
    let mut out = s.clone();
    if let Who::Replicas(ids) = &mut out.byzantine[entry_idx].who {
        ids.retain(|&i| i != id);
        if ids.is_empty() {
            out.byzantine.remove(entry_idx);
        }
    }
    out
}

/// Probabilities halved (to 0 below 1%), the slow replica dropped, each rule removed, fewer
/// Twins views and an earlier end of its partitions.
fn milder_adversary(s: &Scenario) -> Vec<Scenario> {
    let with = |mode: AdversaryMode| {
        let mut out = s.clone();
        out.adversary.mode = mode;
        out
    };
    let half = |p: f64| if p < 0.01 { 0.0 } else { p / 2.0 };
    match &s.adversary.mode {
        AdversaryMode::Off => Vec::new(),
        AdversaryMode::Random { targets, delay, drop, slow_replica } => {
            let mut out = Vec::new();
            let random = |delay, drop, slow_replica| AdversaryMode::Random {
                targets: targets.clone(),
                delay,
                drop,
                slow_replica,
            };
            if *slow_replica {
                out.push(with(random(*delay, *drop, false)));
            }
            if *drop > 0.0 {
                out.push(with(random(*delay, half(*drop), *slow_replica)));
            }
            if *delay > 0.0 {
                out.push(with(random(half(*delay), *drop, *slow_replica)));
            }
            out
        }
        AdversaryMode::Scripted(rules) => (0..rules.len())
            .map(|i| {
                let mut fewer = rules.clone();
                fewer.remove(i);
                if fewer.is_empty() { with(AdversaryMode::Off) } else { with(AdversaryMode::Scripted(fewer)) }
            })
            .collect(),
        AdversaryMode::Twins { partitioned_views, groups, partition_until_s } => {
            let mut out = Vec::new();
            if *partitioned_views > 1 {
                let views = partitioned_views / 2;
                out.push(with(AdversaryMode::Twins {
                    partitioned_views: views,
                    groups: *groups,
                    partition_until_s: *partition_until_s,
                }));
            }
            if *partition_until_s / 2.0 >= MIN_DURATION_S {
                let until = partition_until_s / 2.0;
                out.push(with(AdversaryMode::Twins {
                    partitioned_views: *partitioned_views,
                    groups: *groups,
                    partition_until_s: until,
                }));
            }
            out
        }
    }
}

/// Pass 4: Fewer replicas, removed from the end: half of them, then one less. f is kept unless the
/// protocol's rule needs it lower; faults, Byzantine replicas and rules that name a removed
/// replica go with it.
fn replica_cuts(s: &Scenario, _: &Probe) -> Vec<Scenario> {
    let n = s.replicas.n;
    let mut sizes = Vec::new();
    if n / 2 >= 1 && n / 2 < n - 1 {
        sizes.push(n / 2);
    }
    if n > 1 {
        sizes.push(n - 1);
    }
    sizes.into_iter().map(|m| with_replicas(s, m)).collect()
}

/// The largest f <= `f` the protocol tolerates with `n` replicas.
fn tolerated_f(s: &Scenario, n: u32, f: u32) -> u32 {
    (0..=f).rev().find(|&g| s.section.tolerates(n, g)).unwrap_or(0)
}

fn with_replicas(s: &Scenario, n: u32) -> Scenario {
    let mut out = s.clone();
    out.replicas.n = n;
    out.replicas.f = tolerated_f(s, n, s.replicas.f);
    out.replicas.regions.truncate(n as usize);
    out.faults.crashes.retain(|c| c.replica < n);
    for p in &mut out.faults.partitions {
        p.groups.iter_mut().for_each(|g| g.retain(|&id| id < n));
        p.groups.retain(|g| !g.is_empty());
    }
    out.faults.partitions.retain(|p| !p.groups.is_empty());
    for entry in &mut out.byzantine {
        if let Who::Replicas(ids) = &mut entry.who {
            ids.retain(|&id| id < n);
        }
    }
    out.byzantine.retain(|b| !matches!(&b.who, Who::Replicas(ids) if ids.is_empty()));
    if let AdversaryMode::Scripted(rules) = &mut out.adversary.mode {
        rules.retain(|r| r.from.is_none_or(|id| id < n) && r.to.is_none_or(|id| id < n));
        if rules.is_empty() {
            out.adversary = Default::default();
        }
    }
    out.section.fit(n, out.duration_s);
    out
}

/// Pass 5: Less load and a quieter network: no jitter, no loss, half the rate (or of a trace: half
/// the window and half the rate scale; of a closed loop: half the outstanding transactions),
/// fewer clients, fewer accounts.
fn load_cuts(s: &Scenario, _: &Probe) -> Vec<Scenario> {
    let mut out = Vec::new();
    let mut edit = |change: &dyn Fn(&mut Scenario)| {
        let mut c = s.clone();
        change(&mut c);
        out.push(c);
    };
    if s.network.jitter != Jitter::None {
        edit(&|c| c.network.jitter = Jitter::None);
    }
    if s.network.loss > 0.0 {
        edit(&|c| c.network.loss = 0.0);
    }
    match &s.workload.trace {
        None if s.workload.rate_tps >= 2.0 => edit(&|c| c.workload.rate_tps /= 2.0),
        None => {}
        Some(replay) => {
            let window_s = replay.window_s.unwrap_or(s.duration_s * replay.time_scale);
            if window_s / 2.0 >= MIN_DURATION_S {
                edit(&|c| c.workload.trace.as_mut().expect("a trace").window_s = Some(window_s / 2.0));
            }
            edit(&|c| c.workload.trace.as_mut().expect("a trace").rate_scale /= 2.0);
        }
    }
    if let Pacing::Closed { outstanding, think_ms } = s.clients.pacing
        && outstanding > 1
    {
        edit(&|c| c.clients.pacing = Pacing::Closed { outstanding: outstanding / 2, think_ms });
    }
    if s.clients.count > 2 {
        edit(&|c| c.clients.count /= 2);
    }
    if s.clients.count > 1 {
        edit(&|c| c.clients.count -= 1);
    }
    if s.workload.accounts / 2 >= 2 {
        edit(&|c| c.workload.accounts /= 2);
    }
    out
}

/// Byzantine behaviours the report names (for messages only).
pub fn byzantine_summary(s: &Scenario) -> String {
    let parts: Vec<String> = s
        .byzantine
        .iter()
        .map(|b| {
            let name = b.behavior.name();
            match &b.who {
                Who::Replicas(ids) => format!("{name} {ids:?}"),
                Who::Count(k) => format!("{name} x{k}"),
            }
        })
        .collect();
    if parts.is_empty() { "none".to_string() } else { parts.join(", ") }
}
