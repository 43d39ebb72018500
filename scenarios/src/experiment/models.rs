//! Closed-form model columns of an experiment: a named registry of models, each a number computed
//! from a case's scenario (and, for some, its run), referenced as `model.NAME` wherever a value
//! is (tables, plots, claims, the page). Only the models a spec or its page names are computed,
//! once per case after the runs, and kept in `CaseResult::models`.

use std::path::Path;

use super::cases::{Case, CaseResult};
use super::geo::{Whole, whole};
use super::spec::Loaded;
use crate::model::{Conflicts, Scenario};
use crate::parse;
use crate::results::RunSummary;

/// A model: its name (`model.NAME`), its header and printed decimals, and its value for a case.
pub struct Model {
    pub name: &'static str,
    pub label: &'static str,
    pub decimals: usize,
    /// The value for a case's scenario and its first run; None when it does not apply.
    pub get: fn(&Scenario, Option<&RunSummary>) -> Option<f64>,
}

/// Every model.
pub const MODELS: &[Model] = &[
    Model { name: "conflict_probability", label: "P(conflict)", decimals: 4, get: |s, _| leaderless_conflicts(s) },
    Model {
        name: "conflicts_in_flight",
        label: "conflicting commands in flight",
        decimals: 2,
        get: |s, run| {
            let p = leaderless_conflicts(s)?;
            Some(p * s.workload.rate_tps * run?.latency_ms.consensus.mean? / 1e3)
        },
    },
    Model {
        name: "zipf_top_share",
        label: "share of draws on the hottest account",
        decimals: 4,
        get: |s, _| Some(zipf_top_share(s.workload.accounts, s.workload.zipf_s)),
    },
    Model {
        name: "cpu_ms_per_tx",
        label: "model: CPU per command per replica (ms)",
        decimals: 2,
        get: |s, _| fast_path_cpu_ms(s),
    },
    Model {
        name: "cpu_bound_tps",
        label: "model: cores / CPU per command (tx/s)",
        decimals: 0,
        get: |s, _| Some(f64::from(s.cpu.cores) * 1e3 / fast_path_cpu_ms(s)?),
    },
    // The regional models of a whole case (`geo.rs`): means over client regions and the design note's numbers.
    Model {
        name: "e2e_p50_region_mean",
        label: "model: e2e p50, mean over regions (ms)",
        decimals: 0,
        get: |s, _| whole(s, Whole::E2eP50Mean),
    },
    Model {
        name: "pbft_best_region_mean",
        label: "model: PBFT best leader, mean over regions (ms)",
        decimals: 0,
        get: |s, _| whole(s, Whole::PbftBestMean),
    },
    Model {
        name: "pbft_best_leader",
        label: "model: PBFT's best leader (replica)",
        decimals: 0,
        get: |s, _| whole(s, Whole::PbftBestLeader),
    },
    Model {
        name: "hotstuff_view_ms",
        label: "model: HotStuff view (ms)",
        decimals: 0,
        get: |s, _| whole(s, Whole::HotStuffViewMs),
    },
    Model {
        name: "wait_needed_ms",
        label: "model: sixth reply after the fifth, worst coordinator (ms)",
        decimals: 0,
        get: |s, _| whole(s, Whole::WaitNeededMs),
    },
    Model {
        name: "note_fast_ms",
        label: "model: Wintermute fast path at the coordinator, mean (ms)",
        decimals: 0,
        get: |s, _| whole(s, Whole::NoteFastMean),
    },
    Model {
        name: "note_fast_min_ms",
        label: "model: Wintermute fast path, least coordinator (ms)",
        decimals: 0,
        get: |s, _| whole(s, Whole::NoteFastMin),
    },
    Model {
        name: "note_fast_max_ms",
        label: "model: Wintermute fast path, most coordinator (ms)",
        decimals: 0,
        get: |s, _| whole(s, Whole::NoteFastMax),
    },
    Model {
        name: "e2e_p50_region_gap_max",
        label: "largest |run - model| e2e p50 over regions (ms)",
        decimals: 0,
        get: |s, run| super::geo::p50_gap_max(s, run?),
    },
    Model {
        name: "note_pbft_ms",
        label: "model: PBFT best leader, proposal to decision (ms)",
        decimals: 0,
        get: |s, _| whole(s, Whole::NotePbft),
    },
    Model {
        name: "uplink_ceiling_tps",
        label: "model: leader uplink ceiling (tx/s)",
        decimals: 0,
        get: uplink_ceiling_tps,
    },
    Model {
        name: "closed_form_tps",
        label: "model: batch / 2d (tx/s)",
        decimals: 0,
        get: |s, _| Some(f64::from(hotstuff_batch(s)?) * 1e3 / (2.0 * replica_one_way_ms(s)?)),
    },
    Model {
        name: "closed_form_latency_ms",
        label: "model: 8d (ms)",
        decimals: 1,
        get: |s, _| Some(8.0 * replica_one_way_ms(s)?),
    },
];

/// HotStuff's batch; None for other protocols.
fn hotstuff_batch(s: &Scenario) -> Option<u32> {
    s.section.hotstuff().map(|h| h.batch_size)
}

/// Bytes of a full proposal as our HotStuff counts them (protocols/src/hotstuff/types.rs): a
/// header, three hashes, view and height, a list certificate of n-f 96-byte signatures with its
/// signer bitmap, and a batch of transactions.
fn proposal_bytes(n: u32, f: u32, batch: u32, tx_bytes: u32) -> f64 {
    f64::from(16 + 3 * 32 + 24 + 8 + 32 + (n - f) * 96 + n.div_ceil(8)) + f64::from(batch) * f64::from(tx_bytes)
}

/// HotStuff's leader-uplink ceiling: the throughput at which the leader's uplink is busy all the
/// time sending each full proposal to the n-1 others, once per view. None without an uplink
/// limit or under another protocol.
fn uplink_ceiling_tps(s: &Scenario, _: Option<&RunSummary>) -> Option<f64> {
    let batch = hotstuff_batch(s)?;
    let (n, f) = (s.replicas.n, s.replicas.f);
    let bits_per_view = f64::from(n - 1) * proposal_bytes(n, f, batch, s.workload.tx_size_bytes) * 8.0;
    (s.replicas.uplink_mbps > 0.0).then(|| f64::from(batch) / (bits_per_view / (s.replicas.uplink_mbps * 1e6)))
}

/// The one-way delay between two replicas when every pair has the same (a uniform delay, or a
/// matrix with every replica in one region); None otherwise.
fn replica_one_way_ms(s: &Scenario) -> Option<f64> {
    match &s.network.delay {
        crate::model::Delay::Uniform { one_way_ms } => Some(*one_way_ms),
        crate::model::Delay::Matrix { regions, one_way_ms, .. } => {
            let [only] = s.replicas.regions.as_slice() else { return None };
            let i = regions.iter().position(|r| r == only)?;
            Some(one_way_ms[i][i])
        }
    }
}

/// BLSMR-W's CPU per command at every replica on the fast path, from the cost profile: the
/// client's signature checked, its reply signed, one aggregate checked (the coordinator the n
/// replies, the others the commit's proof) and about three messages handled. None for other
/// protocols or without a CPU model.
fn fast_path_cpu_ms(s: &Scenario) -> Option<f64> {
    let c = &s.cpu;
    let leaderless = s.section.leaderless().is_some() && c.cores > 0;
    leaderless.then(|| (c.client_verify_us + c.profile.sign_us + c.profile.verify_aggregate_us + 3.0 * c.base_us) / 1e3)
}

/// The chance that two drawn transfers conflict under a leaderless scenario's relation; None
/// for other protocols, which order every transaction.
fn leaderless_conflicts(s: &Scenario) -> Option<f64> {
    let relation = s.section.leaderless()?.conflicts;
    Some(conflict_probability(s.workload.accounts, s.workload.zipf_s, relation))
}

/// The model of a name.
pub fn model(name: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.name == name)
}

/// Computes, for every case, each model and region model (`geo.rs`) the spec or its page
/// names, on the case's scenario.
pub fn fill<'a>(
    loaded: &Loaded,
    page: &str,
    scenario_of: impl Fn(&Case) -> (&'a Path, &'a str),
    results: &mut [CaseResult],
) {
    let names = |name: &str| {
        let needle = format!("model.{name}");
        loaded.text.contains(&needle) || page.contains(&needle)
    };
    let named: Vec<&Model> = MODELS.iter().filter(|m| names(m.name)).collect();
    let regional = super::geo::named(names);
    if named.is_empty() && regional.is_empty() {
        return;
    }
    for r in results {
        let (scenario, src) = scenario_of(&r.case);
        let s = parse::load_str(scenario, src, &r.case.sets, r.case.seed).expect("validated before the runs");
        let run = r.runs.first().map(|n| &n.summary);
        r.models = named.iter().filter_map(|m| Some((m.name.to_string(), (m.get)(&s, run)?))).collect();
        super::geo::fill_case(&regional, &s, r);
    }
}

/// The share of draws that pick the most popular of `accounts` under Zipf(s).
pub fn zipf_top_share(accounts: u32, s: f64) -> f64 {
    1.0 / (1..=accounts).map(|k| f64::from(k).powf(-s)).sum::<f64>()
}

/// The probability that two independent transfers of the synthetic workload conflict, estimated
/// on 400,000 pairs from a fixed splitmix64 stream with the workload's drawing rule (source and
/// destination Zipf-popular, a destination equal to the source replaced by another account).
pub fn conflict_probability(accounts: u32, s: f64, relation: Conflicts) -> f64 {
    let cdf = zipf_cdf(accounts, s);
    let mut rng = SplitMix(0x5eed);
    let pairs = 400_000;
    let mut hits = 0u32;
    for _ in 0..pairs {
        let (a, b) = (draw(&cdf, &mut rng), draw(&cdf, &mut rng));
        let debits_meet = a.0 == b.0 || a.0 == b.1 || a.1 == b.0;
        let clash = match relation {
            Conflicts::CreditsCommute => debits_meet,
            Conflicts::SharedAccount => debits_meet || a.1 == b.1,
        };
        hits += u32::from(clash);
    }
    f64::from(hits) / f64::from(pairs)
}

fn zipf_cdf(accounts: u32, s: f64) -> Vec<f64> {
    let weights: Vec<f64> = (1..=accounts).map(|k| f64::from(k).powf(-s)).collect();
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w;
            acc / total
        })
        .collect()
}

/// One transfer (source, destination) drawn from the popularity `cdf`.
fn draw(cdf: &[f64], rng: &mut SplitMix) -> (usize, usize) {
    let accounts = cdf.len();
    let pick = |u: u64| cdf.partition_point(|&c| c <= (u >> 11) as f64 / (1u64 << 53) as f64).min(accounts - 1);
    let from = pick(rng.next());
    let mut to = pick(rng.next());
    if to == from {
        to = (from + 1 + (rng.next() % (accounts as u64 - 1)) as usize) % accounts;
    }
    (from, to)
}

/// splitmix64: a fixed stream for the estimate, independent of any run's seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_probability_matches_the_old_figures() {
        // The values the leaderless/conflicts page printed (1,000 accounts).
        let p = |s, r| format!("{:.4}", conflict_probability(1000, s, r));
        assert_eq!(p(0.0, Conflicts::SharedAccount), "0.0041");
        assert_eq!(p(1.3, Conflicts::SharedAccount), "0.3201");
        assert_eq!(p(1.3, Conflicts::CreditsCommute), "0.2617");
        assert!((zipf_top_share(1000, 1.3) - 0.28).abs() < 0.01);
    }

    #[test]
    fn proposal_bytes_match_the_old_figures() {
        // The old hotstuff-paper page printed for the leader-uplink ceiling (81k, 9.4k, 185k).
        let ceiling =
            |n: u32, tx: u32| 400.0 / (f64::from(n - 1) * proposal_bytes(n, (n - 1) / 3, 400, tx) * 8.0 / 1e10);
        assert_eq!(format!("{:.0}", ceiling(16, 1024) / 1e3), "81");
        assert_eq!(format!("{:.1}", ceiling(128, 1024) / 1e3), "9.4");
        assert_eq!(format!("{:.0}", ceiling(128, 32) / 1e3), "185");
    }
}
