//! Regional closed-form models (the leaderless/regions figures): where a case's replicas sit on
//! its delay matrix, and what each protocol's message pattern costs a client of each region with
//! the CPU model off and no conflicts: BLSMR-W's fast or slow path, BLSMR-E's quorum then PBFT,
//! chained HotStuff's round-robin pipeline, PBFT with the best fixed leader. Region models are
//! `region.model.NAME` values of region rows (`regions.rs`); the few numbers of a whole case
//! (the design note's, a view's length) are case models of `models.rs` that call in here.

use std::collections::BTreeMap;

use super::cases::CaseResult;
use crate::model::{Delay, LeaderlessVariant, Scenario};
use crate::results::RunSummary;
use protocols::hotstuff::CommitRule;
use sim_core::metrics::LatencyStats;

/// Where the replicas are and the one-way delays between regions (ms).
#[derive(Clone, Debug)]
pub struct Geo {
    /// One-way delay from region a to region b.
    m: Vec<Vec<f64>>,
    names: Vec<String>,
    /// Region index of each replica.
    rep: Vec<usize>,
    f: usize,
}

impl Geo {
    /// The geometry of a scenario on a delay matrix; None on uniform delays.
    pub fn of(s: &Scenario) -> Option<Geo> {
        let Delay::Matrix { regions, one_way_ms, .. } = &s.network.delay else { return None };
        let list = &s.replicas.regions;
        let rep = (0..s.replicas.n as usize)
            .map(|i| regions.iter().position(|r| *r == list[i % list.len()]))
            .collect::<Option<Vec<usize>>>()?;
        Some(Geo { m: one_way_ms.clone(), names: regions.clone(), rep, f: s.replicas.f as usize })
    }

    #[cfg(test)]
    fn toy(m: Vec<Vec<f64>>, rep: Vec<usize>, f: usize) -> Geo {
        let names = (0..m.len()).map(|i| format!("r{i}")).collect();
        Geo { m, names, rep, f }
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

    /// The matrix index of a region name.
    fn region(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
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

/// A case's one misbehaving replica and what it does, when the models cover it (None: they do
/// not, e.g. two entries or another behaviour).
fn fault_of(s: &Scenario) -> Option<(Fault, usize)> {
    let [b] = s.byzantine.as_slice() else {
        return s.byzantine.is_empty().then_some((Fault::None, 0));
    };
    let crate::model::Who::Replicas(ids) = &b.who else { return None };
    let [id] = ids.as_slice() else { return None };
    let fault = match b.behavior.name() {
        "spoil_silent" => Fault::SpoilSilent,
        "spoil_different" => Fault::SpoilDifferent,
        "silent" => Fault::Silent,
        _ => return None,
    };
    Some((fault, *id as usize))
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

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// The PBFT leader with the lowest mean end-to-end latency over the client regions.
fn pbft_best_leader(g: &Geo) -> usize {
    let regions = g.client_regions();
    let per = |l: usize| regions.iter().map(|&r| pbft_e2e(g, r, l)).collect::<Vec<f64>>();
    (0..g.n()).min_by(|&a, &b| mean(&per(a)).total_cmp(&mean(&per(b)))).expect("n >= 1")
}

/// The design note's two numbers in our model: Wintermute's fast path at the coordinator (the
/// round trip to the farthest replica: mean, least and most over coordinators) and PBFT's
/// commit latency with the best leader (from the leader's proposal to each replica's decision,
/// averaged over replicas, for the leader that minimises it).
struct Note {
    fast_mean: f64,
    fast_min: f64,
    fast_max: f64,
    pbft: f64,
}

fn note(g: &Geo) -> Note {
    let n = g.n();
    let fast: Vec<f64> = (0..n).map(|c| (0..n).map(|j| 2.0 * g.d(c, j)).fold(0.0, f64::max)).collect();
    let alive = vec![true; n];
    let pbft_mean = |l: usize| pbft(g, l, 0.0, &alive).iter().sum::<f64>() / n as f64;
    Note {
        fast_mean: mean(&fast),
        fast_min: fast.iter().copied().fold(f64::INFINITY, f64::min),
        fast_max: fast.iter().copied().fold(0.0, f64::max),
        pbft: (0..n).map(pbft_mean).fold(f64::INFINITY, f64::min),
    }
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

/// The case's protocol as a model sees it: a leaderless DDS, or HotStuff's chain length.
enum Pattern {
    Leaderless(Dds),
    HotStuff { chain: usize },
}

fn pattern(s: &Scenario, g: &Geo) -> Option<Pattern> {
    if let Some(l) = s.section.leaderless() {
        return Some(Pattern::Leaderless(match l.variant {
            LeaderlessVariant::Wintermute => Dds::Wintermute { wait_ms: l.fast_path_wait_ms },
            LeaderlessVariant::Epaxos => Dds::Epaxos { quorum: g.pbft_quorum() },
        }));
    }
    match s.section.hotstuff()?.variant {
        CommitRule::ThreeChain => Some(Pattern::HotStuff { chain: 3 }),
        CommitRule::TwoChain => Some(Pattern::HotStuff { chain: 2 }),
        CommitRule::Basic => None,
    }
}

/// The case's end-to-end model for a client of region r: (p50, p90). Leaderless commands take
/// one time (p50 = p90); HotStuff's is a distribution, modelled without a fault only.
fn e2e(s: &Scenario, g: &Geo, r: usize) -> Option<(f64, f64)> {
    let (fault, byz) = fault_of(s)?;
    match pattern(s, g)? {
        Pattern::Leaderless(dds) => {
            let retry_ms = s.clients.retry_ms.unwrap_or(f64::INFINITY);
            leaderless_e2e(g, r, dds, fault, byz, retry_ms).map(|x| (x, x))
        }
        Pattern::HotStuff { chain } if fault == Fault::None => {
            let st = hotstuff_e2e(g, r, chain);
            Some((st.p50_ms, st.p90_ms))
        }
        Pattern::HotStuff { .. } => None,
    }
}

/// A model of one client region: `region.model.NAME` in a region row.
pub struct RegionModel {
    pub name: &'static str,
    pub label: &'static str,
    pub decimals: usize,
    pub get: fn(&Scenario, &Geo, usize) -> Option<f64>,
}

/// Every region model.
pub const REGION_MODELS: &[RegionModel] = &[
    RegionModel { name: "e2e_p50", label: "model: e2e p50 (ms)", decimals: 0, get: |s, g, r| Some(e2e(s, g, r)?.0) },
    RegionModel { name: "e2e_p90", label: "model: e2e p90 (ms)", decimals: 0, get: |s, g, r| Some(e2e(s, g, r)?.1) },
    RegionModel {
        name: "pbft_best_e2e",
        label: "model: PBFT, best leader (ms)",
        decimals: 0,
        get: |_, g, r| Some(pbft_e2e(g, r, pbft_best_leader(g))),
    },
];

pub fn region_model(name: &str) -> Option<&'static RegionModel> {
    REGION_MODELS.iter().find(|m| m.name == name)
}

/// What a case model of `models.rs` asks of a scenario's geometry.
#[derive(Clone, Copy)]
pub enum Whole {
    /// The mean over client regions of the region model `e2e_p50` (None if a region has none).
    E2eP50Mean,
    PbftBestMean,
    /// The best PBFT leader's replica index.
    PbftBestLeader,
    HotStuffViewMs,
    WaitNeededMs,
    NoteFastMean,
    NoteFastMin,
    NoteFastMax,
    NotePbft,
}

/// A number of the whole case from its geometry; None off a delay matrix.
pub fn whole(s: &Scenario, what: Whole) -> Option<f64> {
    let g = Geo::of(s)?;
    let per_region = |f: &dyn Fn(usize) -> Option<f64>| -> Option<f64> {
        let v = g.client_regions().into_iter().map(f).collect::<Option<Vec<f64>>>()?;
        Some(mean(&v))
    };
    Some(match what {
        Whole::E2eP50Mean => per_region(&|r| Some(e2e(s, &g, r)?.0))?,
        Whole::PbftBestMean => per_region(&|r| Some(pbft_e2e(&g, r, pbft_best_leader(&g))))?,
        Whole::PbftBestLeader => pbft_best_leader(&g) as f64,
        Whole::HotStuffViewMs => hotstuff_view_ms(&g),
        Whole::WaitNeededMs => wait_needed(&g),
        Whole::NoteFastMean => note(&g).fast_mean,
        Whole::NoteFastMin => note(&g).fast_min,
        Whole::NoteFastMax => note(&g).fast_max,
        Whole::NotePbft => note(&g).pbft,
    })
}

/// The largest gap, over the client regions a model covers, between the run's end-to-end p50
/// and the model's (ms); None when no region has a model.
pub fn p50_gap_max(s: &Scenario, run: &RunSummary) -> Option<f64> {
    let g = Geo::of(s)?;
    let gap = |x: &crate::results::RegionLatency| Some((x.e2e.p50? - e2e(s, &g, g.region(&x.region)?)?.0).abs());
    let gaps: Vec<f64> = run.regions.iter().filter_map(gap).collect();
    (!gaps.is_empty()).then(|| gaps.iter().copied().fold(0.0, f64::max))
}

/// The region models the spec or its page names.
pub fn named(names: impl Fn(&str) -> bool) -> Vec<&'static RegionModel> {
    REGION_MODELS.iter().filter(|m| names(m.name)).collect()
}

/// Computes the `named` region models of a case, per client region of its first run, on its
/// scenario `s`.
pub fn fill_case(named: &[&RegionModel], s: &Scenario, r: &mut CaseResult) {
    let (Some(g), Some(run)) = (Geo::of(s), r.runs.first()) else { return };
    for name in run.summary.regions.iter().map(|x| &x.region) {
        let Some(at) = g.region(name) else { continue };
        let values: BTreeMap<String, f64> =
            named.iter().filter_map(|m| Some((m.name.to_string(), (m.get)(s, &g, at)?))).collect();
        r.region_models.insert(name.clone(), values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three regions 0, 1, 2 with one-way delays 10 (0-1), 20 (1-2), 30 (0-2) ms; four replicas
    /// (two in region 0), f = 1: PBFT's quorum is 3.
    fn toy() -> Geo {
        Geo::toy(vec![vec![0.0, 10.0, 30.0], vec![10.0, 0.0, 20.0], vec![30.0, 20.0, 0.0]], vec![0, 0, 1, 2], 1)
    }

    #[test]
    fn pbft_matches_a_hand_computed_value() {
        let g = toy();
        // Leader 0 proposes at 0: replicas hold it at 0, 0, 10, 30. Prepares, the third of each
        // replica's four: 20, 20, 10, 30; commits, the same way: 20, 20, 30, 50.
        let alive = vec![true; 4];
        assert_eq!(pbft(&g, 0, 0.0, &alive), vec![20.0, 20.0, 30.0, 50.0]);
        // A client of region 2 reaches leader 0 after 30 ms; every replica's decision reaches
        // it at 80 ms (50 + 30, 60 + 20, 80 + 0): f+1 = 2 replies at 80.
        assert_eq!(pbft_e2e(&g, 2, 0), 80.0);
    }

    #[test]
    fn wintermute_fast_path_is_the_farthest_round_trip_then_the_nearest_reply() {
        let g = toy();
        // A client of region 1 sends to replica 2 (its region, 0 ms). Replies in at 20, 20, 0
        // and 40 ms (replica 3, 20 ms away): all within the wait, so every replica commits at
        // 40 + its delay from the coordinator: 50, 50, 40, 60; the client holds replica 2's at
        // 40 and replicas 0 and 1's at 50 + 10 = 60: f+1 = 2 replies at 60.
        let dds = Dds::Wintermute { wait_ms: 100.0 };
        assert_eq!(leaderless_e2e(&g, 1, dds, Fault::None, 0, 1000.0), Some(60.0));
        // The misbehaving replica's own clients are not modelled.
        assert_eq!(leaderless_e2e(&g, 0, dds, Fault::SpoilSilent, 0, 1000.0), None);
    }

    #[test]
    fn a_hotstuff_view_is_the_proposal_out_and_the_votes_back() {
        let uniform = Geo { m: vec![vec![10.0; 4]; 4], names: vec![String::new(); 4], rep: vec![0, 1, 2, 3], f: 1 };
        assert_eq!(hotstuff_view_ms(&uniform), 20.0);
    }
}
