//! `byzsim calibrate --fit`: fits a scenario's CPU costs to measured points of a real system.
//! Each point is the base scenario with some overrides and the throughput and latency measured
//! there; the fit searches the costs whose runs reproduce them, minimizing the summed squared
//! relative error, and writes a profile that `[cpu] profile_file` reads.
//!
//! What is fitted: `base_us` (per protocol message or timer, and per client request unless
//! `request_base_us` is given), `per_kib_us` (per KiB received), `per_tx_us` (per
//! transaction of a block; only when the base scenario gives it a start above 0, so that a fit
//! that never asked for it keeps it at 0 and runs as before), `request_base_us` (per client
//! request; only when the base scenario gives it, for the same reason) and one scale on the
//! base profile's four signature costs (sign, verify, aggregate, aggregate-verify). Sign and
//! verify are not fitted apart: a protocol signs and verifies in a fixed proportion per message
//! kind, so throughput and latency only see their weighted sum; the scale keeps the ratios of
//! the base profile (built in, or measured by `byzsim calibrate`). Base and per-KiB costs part
//! when the points vary the load and the transaction size; the per-transaction cost when they
//! vary the block size (a `hotstuff.batch_size` column); the request cost from the message cost
//! when they hold both the latency at low load (views, messages) and maxima (requests).
//!
//! A point may leave `latency_ms` empty: its throughput alone is compared (a maximum throughput
//! measured with closed-loop clients, whose latency there is the clients' queue).
//!
//! The search is deterministic: a coarse grid around the base scenario's costs (factors 1/8 to
//! 64 on base and per-KiB, the request cost moving with the base, 1/2 to 2 on signatures), then from its best point a pattern search
//! (Hooke-Jeeves) on the logarithms of the three costs: each step tried up and down, the
//! pass's move repeated, the step halved (in log) when none helps, stopped at a step under
//! 0.5% or at the run budget. Every evaluation is a normal run of each point through `run::run`.
//!
//! One minimum does not say the costs are pinned: on few points a lower base cost with a
//! higher signature scale can fit as well. `identify` probes each cost after the fit: moved
//! by x1.2 to x10 each way (the whole ladder, since the surface is ragged near saturation),
//! the others re-fitted by a short pattern search, and reports the range of values whose
//! total error stays within the best fit's plus 5% RMS per value, and whether the points
//! identify the cost (the error leaves the tolerance within a factor 2 either way). The
//! re-fit is local and bounded, so a range is a lower bound on what fits; a cost the probe
//! could not move far enough within `--max-runs` is never called identified.
//!
//! `--fix NAME=VALUE` holds a cost at a value measured elsewhere: it is neither searched nor
//! probed, and the table and profile say so. That is the remedy when the points cannot tell two
//! costs apart (at n = 4 a per-signature cost looks like a per-message one): pin one from an
//! independent measurement and fit the rest.

use std::fmt::Write as _;
use std::path::Path;

use crate::batch::Failure;
use crate::calibrate::FIT_HEADER;
use crate::model::{CostProfile, Scenario};
use crate::results::RunSummary;
use crate::results::metric::{self, Metric};
use crate::{parse, run};

/// Most points a file may hold (each costs a run per evaluation).
pub const MAX_POINTS: usize = 64;
/// The smallest step factor the search refines to.
const MIN_STEP: f64 = 1.005;
/// The grid's factors on the start's base and per-KiB costs, and on its signature costs.
const GRID_BASE: [f64; 4] = [0.125, 1.0, 8.0, 64.0];
const GRID_SCALE: [f64; 3] = [0.5, 1.0, 2.0];
/// Relative error charged to a point whose run measured nothing (no transaction confirmed).
const MISSING_ERROR: f64 = 10.0;

/// The fitted costs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Costs {
    pub base_us: f64,
    pub per_kib_us: f64,
    /// Per transaction of a block (`[cpu] per_tx_us`); fitted only when it starts above 0.
    pub per_tx_us: f64,
    /// Multiplies each of the base profile's signature costs.
    pub crypto_scale: f64,
    /// Per client request (`[cpu] request_base_us`); None: requests pay `base_us`, and it is
    /// not fitted.
    pub request_base_us: Option<f64>,
}

impl Costs {
    /// Cost `i` of `COST_NAMES` (the request cost is `base_us` while it has none of its own).
    fn get(&self, i: usize) -> f64 {
        match i {
            0 => self.base_us,
            1 => self.per_kib_us,
            2 => self.crypto_scale,
            3 => self.per_tx_us,
            _ => self.request_base_us.unwrap_or(self.base_us),
        }
    }

    fn with(mut self, i: usize, v: f64) -> Costs {
        match i {
            0 => self.base_us = v,
            1 => self.per_kib_us = v,
            2 => self.crypto_scale = v,
            3 => self.per_tx_us = v,
            _ => self.request_base_us = Some(v),
        }
        self
    }

    /// These costs with each of `fixed` set to its value.
    pub fn fixed(self, fixed: &[Fixed]) -> Costs {
        fixed.iter().fold(self, |c, f| c.with(f.index, f.value))
    }

    /// The profile's signature costs: `profile`'s, scaled.
    pub fn profile(&self, profile: &CostProfile) -> CostProfile {
        let k = self.crypto_scale;
        CostProfile {
            name: "fitted".to_string(),
            sign_us: profile.sign_us * k,
            verify_us: profile.verify_us * k,
            aggregate_per_sig_us: profile.aggregate_per_sig_us * k,
            verify_aggregate_us: profile.verify_aggregate_us * k,
        }
    }

    /// `scenario` with these costs.
    pub fn apply(&self, scenario: &mut Scenario, profile: &CostProfile) {
        scenario.cpu.base_us = self.base_us;
        scenario.cpu.per_kib_us = self.per_kib_us;
        scenario.cpu.per_tx_us = self.per_tx_us;
        scenario.cpu.request_base_us = self.request_base_us;
        scenario.cpu.profile = self.profile(profile);
    }
}

/// One measured point of POINTS.csv.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The line of the CSV file it came from.
    pub line: u64,
    /// Overrides of the base scenario, as `--set` takes them.
    pub sets: Vec<String>,
    pub throughput_tps: f64,
    /// None: the row left it empty, and only its throughput is compared.
    pub latency_ms: Option<f64>,
}

/// A cost held at a value (`--fix NAME=VALUE`): neither fitted nor probed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fixed {
    /// Its index in `COST_NAMES`.
    pub index: usize,
    pub value: f64,
}

impl Fixed {
    /// Parses `NAME=VALUE`: a name of `COST_NAMES` and a finite value >= 0.
    pub fn parse(text: &str) -> Result<Fixed, String> {
        let names = COST_NAMES.join(", ");
        let Some((name, value)) = text.split_once('=') else {
            return Err(format!("`{text}` is not NAME=VALUE (names: {names})"));
        };
        let Some(index) = COST_NAMES.iter().position(|n| *n == name.trim()) else {
            return Err(format!("unknown cost `{}`; the costs are {names}", name.trim()));
        };
        match value.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Fixed { index, value: v }),
            _ => Err(format!("`{}` must be a number >= 0, found `{}`", name.trim(), value.trim())),
        }
    }

    /// `signature_scale = 1 (fixed by --fix, neither fitted nor probed: ...)`.
    pub fn line(&self) -> String {
        format!(
            "{}: {} fixed by --fix, neither fitted nor probed: the fit and the probe of the others hold only given this value",
            COST_NAMES[self.index],
            sig(self.value)
        )
    }
}

/// The costs a fit searches: the per-transaction one only when it starts above 0, the
/// per-request one only when it is given, none of `fixed`.
pub fn free_costs(start: &Costs, fixed: &[Fixed]) -> Vec<usize> {
    let wanted = [true, true, true, start.per_tx_us > 0.0, start.request_base_us.is_some()];
    (0..COST_NAMES.len()).filter(|&i| wanted[i] && fixed.iter().all(|f| f.index != i)).collect()
}

/// Throughput and latency of a run, as compared with a point's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    pub throughput_tps: f64,
    pub latency_ms: f64,
}

/// Reads POINTS.csv: a header naming `throughput_tps`, `latency_ms` and overrides (a scenario
/// key such as `workload.rate_tps`, or `set` holding `KEY=VALUE` pairs split by `;`).
pub fn read_points(path: &Path) -> Result<Vec<Point>, Failure> {
    let text = traces::input::read_text(path, traces::input::InputKind::FitPoints)
        .map_err(|e| Failure::input(format!("error: {e}")))?;
    let at = |line: u64, what: String| Failure::input(format!("error: {}:{line}: {what}", path.display()));
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => return Err(at(1, format!("unreadable header: {e}"))),
    };
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(tput), Some(lat)) = (column("throughput_tps"), column("latency_ms")) else {
        return Err(at(1, "the header needs `throughput_tps` and `latency_ms` columns".into()));
    };
    if let Some(bad) =
        header.iter().find(|h| !h.contains('.') && !["set", "throughput_tps", "latency_ms"].contains(&h.as_str()))
    {
        return Err(at(
            1,
            format!(
                "column `{bad}` is neither a scenario key (like `workload.rate_tps`), `set`, `throughput_tps` nor `latency_ms`"
            ),
        ));
    }
    let mut points = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| at(e.position().map_or(0, |p| p.line()), format!("{e}")))?;
        let line = record.position().map_or(0, |p| p.line());
        let number = |i: usize| match record.get(i).map(str::parse::<f64>) {
            Some(Ok(v)) if v.is_finite() && v > 0.0 => Ok(v),
            _ => {
                Err(at(line, format!("`{}` must be a number > 0, found `{}`", header[i], record.get(i).unwrap_or(""))))
            }
        };
        let latency_ms = match record.get(lat) {
            Some("") => None,
            _ => Some(number(lat)?),
        };
        let throughput_tps = number(tput)?;
        let mut sets = Vec::new();
        for (name, value) in header.iter().zip(record.iter()) {
            match name.as_str() {
                "throughput_tps" | "latency_ms" => {}
                "set" => sets.extend(value.split(';').map(str::trim).filter(|s| !s.is_empty()).map(String::from)),
                key => sets.push(format!("{key}={value}")),
            }
        }
        points.push(Point { line, sets, throughput_tps, latency_ms });
    }
    match points.len() {
        0 => Err(at(1, "no points: add one row per measured point".into())),
        n if n > MAX_POINTS => Err(at(MAX_POINTS as u64 + 2, format!("{n} points; at most {MAX_POINTS}"))),
        _ => Ok(points),
    }
}

/// The base scenario at one point, checked: the run of `point` with `costs`.
pub fn scenario_at(base: &Path, src: &str, point: &Point, points: &Path) -> Result<Scenario, Failure> {
    parse::load_str(base, src, &point.sets, None).map_err(|d| {
        Failure::input(format!(
            "error: {}:{}: the base scenario with this row's settings is invalid:\n{d}",
            points.display(),
            point.line
        ))
    })
}

/// Runs `scenario` with `costs`: its goodput and its `latency` (a registry metric in ms: the
/// mean end-to-end latency by default, or the definition the measured system reports).
pub fn simulate(scenario: &Scenario, costs: &Costs, profile: &CostProfile, latency: &Metric) -> Measured {
    let mut s = scenario.clone();
    costs.apply(&mut s, profile);
    let report = run::run(&s, &mut |_, _| {});
    let summary = RunSummary::of(&s, &report);
    Measured { throughput_tps: metric::GOODPUT_TPS.value(&summary), latency_ms: latency.value(&summary) }
}

/// Relative error of `simulated` against `measured` (`MISSING_ERROR` when the run has none).
pub fn relative(simulated: f64, measured: f64) -> f64 {
    let e = (simulated - measured) / measured;
    if e.is_finite() { e } else { MISSING_ERROR }
}

/// The summed squared relative errors of throughput and latency over the points.
pub fn objective(points: &[Point], simulated: &[Measured]) -> f64 {
    points
        .iter()
        .zip(simulated)
        .map(|(p, s)| {
            let latency = p.latency_ms.map_or(0.0, |l| relative(s.latency_ms, l).powi(2));
            relative(s.throughput_tps, p.throughput_tps).powi(2) + latency
        })
        .sum()
}

/// The result of a fit.
#[derive(Clone, Debug)]
pub struct Fit {
    /// The latency metric the points' `latency_ms` are compared with.
    pub latency: &'static Metric,
    pub costs: Costs,
    pub simulated: Vec<Measured>,
    pub error: f64,
    pub runs: usize,
    /// The costs held at a value, neither fitted nor probed.
    pub fixed: Vec<Fixed>,
}

/// A grid around `start`, then a pattern search on log-costs, at most `max_runs` runs. Costs
/// start from at least a floor (a log-step cannot leave zero); `fixed` ones stay at their value.
pub fn fit(
    scenarios: &[Scenario],
    points: &[Point],
    start: Costs,
    profile: &CostProfile,
    (max_runs, latency, fixed): (usize, &'static Metric, &[Fixed]),
) -> Fit {
    let eval = |c: &Costs| -> Vec<Measured> { scenarios.iter().map(|s| simulate(s, c, profile, latency)).collect() };
    let best = Costs {
        base_us: start.base_us.max(1.0),
        per_kib_us: start.per_kib_us.max(0.1),
        crypto_scale: start.crypto_scale.max(0.01),
        per_tx_us: start.per_tx_us,
        request_base_us: start.request_base_us.map(|r| r.max(1.0)),
    }
    .fixed(fixed);
    let dims = free_costs(&best, fixed);
    let simulated = eval(&best);
    let error = objective(points, &simulated);
    let mut fit = Fit { latency, costs: best, error, simulated, runs: scenarios.len(), fixed: fixed.to_vec() };
    grid(&mut fit, best, &eval, points, max_runs);
    let mut step = 2.0f64;
    while step >= MIN_STEP && fit.runs + scenarios.len() <= max_runs {
        let before = fit.costs;
        for &i in &dims {
            for factor in [step, 1.0 / step] {
                let candidate = fit.costs.with(i, fit.costs.get(i) * factor);
                if try_costs(&mut fit, candidate, &eval, points, max_runs) {
                    break;
                }
            }
        }
        if fit.costs == before {
            step = step.sqrt();
            continue;
        }
        // Hooke-Jeeves: the pass's move again, along a ridge that one cost at a time climbs slowly.
        let mut pattern = fit.costs;
        for &i in &dims {
            pattern = pattern.with(i, fit.costs.get(i) * fit.costs.get(i) / before.get(i));
        }
        try_costs(&mut fit, pattern, &eval, points, max_runs);
    }
    fit
}

/// A coarse grid around `best` first (base and per-KiB x1/8 to x64, signatures x1/2 to x2; the
/// request cost moves with the base cost, as one cost, until the pattern search parts them; a
/// fixed cost keeps its value): runs near saturation make the error surface ragged, and a
/// descent from far away stops in the first dip.
fn grid(fit: &mut Fit, best: Costs, eval: &dyn Fn(&Costs) -> Vec<Measured>, points: &[Point], max_runs: usize) {
    let mut tried = Vec::new();
    for k in GRID_BASE {
        for j in GRID_BASE {
            for m in GRID_SCALE {
                let c = Costs {
                    base_us: best.base_us * k,
                    per_kib_us: best.per_kib_us * j,
                    crypto_scale: best.crypto_scale * m,
                    per_tx_us: best.per_tx_us,
                    request_base_us: best.request_base_us.map(|r| r * k),
                }
                .fixed(&fit.fixed);
                if c != best && !tried.contains(&c) {
                    try_costs(fit, c, eval, points, max_runs);
                    tried.push(c);
                }
            }
        }
    }
}

/// Runs the points with `candidate` (within the budget) and keeps it if it fits better.
fn try_costs(
    fit: &mut Fit,
    candidate: Costs,
    eval: &dyn Fn(&Costs) -> Vec<Measured>,
    points: &[Point],
    max_runs: usize,
) -> bool {
    if fit.runs + points.len() > max_runs {
        return false;
    }
    let simulated = eval(&candidate);
    fit.runs += points.len();
    let error = objective(points, &simulated);
    let better = error < fit.error;
    if better {
        (fit.costs, fit.simulated, fit.error) = (candidate, simulated, error);
    }
    better
}

/// The error a probe may add to the best fit's and still fit equally: every point's throughput
/// and latency 5% further off, in root mean square.
const PROBE_RMS: f64 = 0.05;
/// The probe's steps away from a fitted cost, each way (a factor, then its inverse).
const PROBE_LADDER: [f64; 5] = [1.2, 1.5, 2.0, 4.0, 10.0];
/// A cost is identified when the probe leaves the tolerance within this factor each way.
const IDENTIFIED_WITHIN: f64 = 2.0;
/// Evaluations a probe step spends re-fitting the other costs, at most.
const REFIT_EVALS: usize = 12;
/// The costs' names, and the points that would tell each apart from the others.
pub const COST_NAMES: [&str; 5] = ["base_us", "per_kib_us", "signature_scale", "per_tx_us", "request_base_us"];
const COST_HINTS: [&str; 5] = [
    "add points that vary the load (workload.rate_tps) below and near saturation",
    "add points that vary payload size (workload.tx_size_bytes)",
    "add points that vary n (replicas.n) or the batch size",
    "add maxima at several batch sizes (hotstuff.batch_size)",
    "add maxima (requests per second) beside latencies at low load (messages per view)",
];

/// How far one fitted cost can move, the others re-fitted, with the error within tolerance.
#[derive(Clone, Debug, PartialEq)]
pub struct Spread {
    pub name: &'static str,
    pub best: f64,
    /// The lowest and highest values probed that fit within tolerance (the best included).
    pub lo: f64,
    pub hi: f64,
    /// The nearest values probed below and above that do not; None where the probe reached
    /// its last step, or its budget, first.
    pub lo_out: Option<f64>,
    pub hi_out: Option<f64>,
}

impl Spread {
    /// Whether these points pin the cost: the error leaves the tolerance within
    /// `IDENTIFIED_WITHIN` of the best either way.
    pub fn identified(&self) -> bool {
        self.lo_out.is_some_and(|v| v >= self.best / IDENTIFIED_WITHIN)
            && self.hi_out.is_some_and(|v| v <= self.best * IDENTIFIED_WITHIN)
    }

    /// `per_kib_us: 20-650 fit equally; add points that vary payload size`, or the range and
    /// the values that do not fit.
    pub fn line(&self, hint: &str) -> String {
        if self.lo == self.hi && self.lo_out.is_none() && self.hi_out.is_none() {
            return format!(
                "{}: {} not probed (the run budget was spent first: raise --max-runs)",
                self.name,
                sig(self.best)
            );
        }
        let range = format!("{}: {}-{}", self.name, sig(self.lo), sig(self.hi));
        if self.identified() {
            let (lo, hi) = (self.lo_out.map_or_else(String::new, sig), self.hi_out.map_or_else(String::new, sig));
            return format!("{range} fit within tolerance (identified: {lo} and {hi} do not)");
        }
        let open =
            |out: Option<f64>, word: &str| if out.is_none() { format!(", {word} probed") } else { String::new() };
        let ends = format!("{}{}", open(self.lo_out, "lowest"), open(self.hi_out, "highest"));
        format!("{range} fit equally{ends}; not identified by these points: {hint}")
    }
}

/// The probe of every fitted cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Identification {
    /// The largest total error that fits equally: the best fit's plus the tolerance.
    pub threshold: f64,
    pub spreads: Vec<Spread>,
    /// The costs held at a value, reported as such.
    pub fixed: Vec<Fixed>,
    pub runs: usize,
}

impl Identification {
    /// One line per cost, after a line saying what was probed.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "identifiability: each cost moved by x1.2 to x10 each way, the others re-fitted; fits equally while the total error stays <= {:.6} (the best's plus {}% RMS per value; {} runs)",
            self.threshold,
            100.0 * PROBE_RMS,
            self.runs
        )];
        let hint = |s: &Spread| COST_HINTS[COST_NAMES.iter().position(|n| *n == s.name).unwrap_or(0)];
        out.extend(self.spreads.iter().map(|s| s.line(hint(s))));
        out.extend(self.fixed.iter().map(Fixed::line));
        out
    }
}

/// Three significant digits, no exponent.
fn sig(v: f64) -> String {
    let digits = (2 - v.abs().max(1e-9).log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// Probes each cost of `fit` away from its best, up then down the ladder, re-fitting the
/// others at each step, until the error leaves the tolerance; at most `max_runs` runs.
pub fn identify(
    scenarios: &[Scenario],
    points: &[Point],
    fit: &Fit,
    profile: &CostProfile,
    max_runs: usize,
) -> Identification {
    let eval =
        |c: &Costs| -> Vec<Measured> { scenarios.iter().map(|s| simulate(s, c, profile, fit.latency)).collect() };
    let threshold = fit.error + 2.0 * points.len() as f64 * PROBE_RMS * PROBE_RMS;
    let free = free_costs(&fit.costs, &fit.fixed);
    let mut probe = Probe { eval: &eval, points, threshold, runs: 0, max_runs, free: &free };
    let spreads = free
        .iter()
        .map(|&i| {
            let best = fit.costs.get(i);
            let (hi, hi_out) = probe.walk(fit.costs, i, 1.0);
            let (lo, lo_out) = probe.walk(fit.costs, i, -1.0);
            Spread { name: COST_NAMES[i], best, lo, hi, lo_out, hi_out }
        })
        .collect();
    Identification { threshold, spreads, fixed: fit.fixed.clone(), runs: probe.runs }
}

/// The state of an identifiability probe.
struct Probe<'a> {
    eval: &'a dyn Fn(&Costs) -> Vec<Measured>,
    points: &'a [Point],
    threshold: f64,
    runs: usize,
    max_runs: usize,
    /// The costs fitted (indices of `COST_NAMES`): not the fixed ones.
    free: &'a [usize],
}

impl Probe<'_> {
    /// Cost `i` stepped along the whole ladder (`sign` 1: up, -1: down) from `best`, since a
    /// ragged surface may fit again farther out: the farthest value that fits, and the first
    /// value beyond it that does not (None: the farthest step fits, or the budget ran out).
    fn walk(&mut self, best: Costs, i: usize, sign: f64) -> (f64, Option<f64>) {
        let (mut within, mut out, mut others) = (best.get(i), None, best);
        for factor in PROBE_LADDER {
            let v = best.get(i) * factor.powf(sign);
            match self.refit(others.with(i, v), i) {
                None => return (within, None),
                Some((c, true)) => (within, out, others) = (v, None, c),
                Some((_, false)) => out = out.or(Some(v)),
            }
        }
        (within, out)
    }

    /// Re-fits every cost but `i` from `start` (a pattern search, steps x2 to x1.19) until the
    /// error is within the threshold or `REFIT_EVALS` evaluations are spent: the costs reached
    /// and whether they fit; None when the budget cannot pay for the first evaluation.
    fn refit(&mut self, start: Costs, i: usize) -> Option<(Costs, bool)> {
        let mut best = (start, self.error(&start)?);
        let mut evals = 1;
        for step in [2.0f64, 2f64.sqrt(), 2f64.powf(0.25)] {
            let free = self.free;
            for j in free.iter().copied().filter(|&j| j != i) {
                for factor in [step, 1.0 / step] {
                    if best.1 <= self.threshold || evals >= REFIT_EVALS {
                        return Some((best.0, best.1 <= self.threshold));
                    }
                    let c = best.0.with(j, best.0.get(j) * factor);
                    let Some(e) = self.error(&c) else { return Some((best.0, best.1 <= self.threshold)) };
                    evals += 1;
                    if e < best.1 {
                        best = (c, e);
                        break;
                    }
                }
            }
        }
        Some((best.0, best.1 <= self.threshold))
    }

    /// The total error of `c`, or None past the budget.
    fn error(&mut self, c: &Costs) -> Option<f64> {
        if self.runs + self.points.len() > self.max_runs {
            return None;
        }
        self.runs += self.points.len();
        Some(objective(self.points, &(self.eval)(c)))
    }
}

/// The printed table: per point, measured against simulated throughput and latency.
pub fn table(points: &[Point], fit: &Fit) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<6} {:>12} {:>12} {:>7} {:>11} {:>11} {:>7}  settings",
        "line", "meas tx/s", "sim tx/s", "err", "meas ms", "sim ms", "err"
    );
    for (p, s) in points.iter().zip(&fit.simulated) {
        let et = relative(s.throughput_tps, p.throughput_tps);
        let (meas, err) = match p.latency_ms {
            Some(l) => (format!("{l:.2}"), format!("{:.1}%", 100.0 * relative(s.latency_ms, l))),
            None => ("-".to_string(), "-".to_string()),
        };
        let _ = writeln!(
            t,
            "{:<6} {:>12.1} {:>12.1} {:>6.1}% {:>11} {:>11.2} {:>7}  {}",
            p.line,
            p.throughput_tps,
            s.throughput_tps,
            100.0 * et,
            meas,
            s.latency_ms,
            err,
            p.sets.join(" ")
        );
    }
    let c = &fit.costs;
    let _ = writeln!(t, "latency: {} ({})", fit.latency.name, fit.latency.label);
    let _ = writeln!(t, "total squared relative error {:.6} after {} runs", fit.error, fit.runs);
    let _ = writeln!(
        t,
        "costs: base_us {:.3}, per_kib_us {:.3}, signature costs x{:.4}",
        c.base_us, c.per_kib_us, c.crypto_scale
    );
    if c.per_tx_us > 0.0 {
        let _ = writeln!(t, "costs: per_tx_us {:.3}", c.per_tx_us);
    }
    if let Some(r) = c.request_base_us {
        let _ = writeln!(t, "costs: request_base_us {r:.3}");
    }
    for f in &fit.fixed {
        let _ = writeln!(t, "{}", f.line());
    }
    t
}

/// The profile file: `FIT_HEADER`, the points it was fitted on as comments, then the costs.
pub fn profile_toml(
    fit: &Fit,
    identification: &Identification,
    profile: &CostProfile,
    points: &[Point],
    (points_file, base): (&Path, &Path),
) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{FIT_HEADER}");
    let fixes: String = fit.fixed.iter().map(|f| format!(" --fix {}={}", COST_NAMES[f.index], f.value)).collect();
    let _ = writeln!(
        t,
        "# fitted by `byzsim calibrate --fit {} --scenario {}{fixes}`",
        points_file.display(),
        base.display()
    );
    let _ = writeln!(t, "# to {} points (squared relative error {:.6}, {} runs):", points.len(), fit.error, fit.runs);
    let _ = writeln!(t, "# latency compared: {}", fit.latency.name);
    for (p, s) in points.iter().zip(&fit.simulated) {
        let latency = p.latency_ms.map_or("latency not compared".to_string(), |l| format!("{l} ms"));
        let _ = writeln!(
            t,
            "# line {}: {}: measured {} tx/s, {latency}; simulated {:.1} tx/s, {:.2} ms",
            p.line,
            p.sets.join(" "),
            p.throughput_tps,
            s.throughput_tps,
            s.latency_ms
        );
    }
    let _ = writeln!(t, "# signature costs: `{}` x{:.4}, ratios kept", profile.name, fit.costs.crypto_scale);
    for line in identification.lines() {
        let _ = writeln!(t, "# {line}");
    }
    let p = fit.costs.profile(profile);
    let _ = writeln!(t, "name = \"fitted\"");
    for (key, v) in [
        ("sign_us", p.sign_us),
        ("verify_us", p.verify_us),
        ("aggregate_per_sig_us", p.aggregate_per_sig_us),
        ("verify_aggregate_us", p.verify_aggregate_us),
        ("base_us", fit.costs.base_us),
        ("per_kib_us", fit.costs.per_kib_us),
    ] {
        let _ = writeln!(t, "{key} = {v:.4}");
    }
    if fit.costs.per_tx_us > 0.0 {
        let _ = writeln!(t, "per_tx_us = {:.4}", fit.costs.per_tx_us);
    }
    if let Some(r) = fit.costs.request_base_us {
        let _ = writeln!(t, "request_base_us = {r:.4}");
    }
    t
}
