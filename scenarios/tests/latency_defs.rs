//! The references' latency definitions through a scenario file, the registry and the printed
//! table: proposal to commit (the asonnino/hotstuff prototype) and at the proposer (Bamboo).

use std::path::Path;

use scenarios::results::{RunSummary, metric};
use scenarios::{output, parse, run};

/// n = 4 chained HotStuff, the default uniform one-way delay d = 10 ms (clients too), every
/// client sending to every replica, the CPU model off, 500 tx/s against blocks of 400.
const TINY: &str = r#"
name = "tiny"
protocol = "hotstuff"
duration_s = 3
warmup_s = 0.5
drain_s = 1
[replicas]
n = 4
[clients]
count = 2
send_to = "all"
[workload]
arrivals = "constant"
rate_tps = 500
[cpu]
cores = 0
"#;

fn tiny(sets: &[&str]) -> (RunSummary, String) {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let s = parse::load_str(Path::new("tiny.toml"), TINY, &sets, None).expect("the tiny scenario");
    let report = run::run(&s, &mut |_, _| {});
    (RunSummary::of(&s, &report), output::summary_table(&report, ""))
}

// Chained HotStuff's closed form (protocols/tests/hotstuff.rs): a block commits first 6d after
// its proposal (the leader of the view three later), at its proposer 7d after it, and a
// transaction waits under 2d at the proposer for the next proposal: 60 ms and 70 to 90 ms,
// against end-to-end 2d above the proposer's (the reply hop, and the second matching reply).
#[test]
fn closed_form_through_the_registry() {
    let (s, table) = tiny(&[]);
    let v = |m: &metric::Metric| m.value(&s);
    assert_eq!((v(metric::PROPOSAL_COMMIT_P50_MS), v(metric::PROPOSAL_COMMIT_P99_MS)), (60.0, 60.0));
    let (p50, p99) = (v(metric::PROPOSER_P50_MS), v(metric::PROPOSER_P99_MS));
    assert!((70.0..=90.0).contains(&p50) && (70.0..=90.0).contains(&p99), "at the proposer p50 {p50}, p99 {p99} ms");
    assert!(p99 <= v(metric::E2E_P50_MS), "at the proposer above end-to-end");
    assert_eq!(s.latency_ms.proposal_commit.count, s.latency_ms.e2e.count, "every transaction has a proposal");
    assert!(table.contains("proposal-to-commit latency   p50 60.0  p90 60.0  p99 60.0  max 60.0 ms"), "{table}");
    assert!(table.contains("latency at the proposer"), "{table}");
}

/// Two-chain commits a view (2d) earlier; basic commits at its proposer when it forms the
/// commit QC, 6d after proposing.
#[test]
fn commit_rules_shift_the_closed_form() {
    let (two, _) = tiny(&["hotstuff.variant=two_chain"]);
    assert_eq!(metric::PROPOSAL_COMMIT_P50_MS.value(&two), 40.0);
    let (basic, _) = tiny(&["hotstuff.variant=basic"]);
    assert_eq!(metric::PROPOSAL_COMMIT_P99_MS.value(&basic), 60.0);
    assert!((60.0..=140.0).contains(&metric::PROPOSER_P99_MS.value(&basic)));
}

/// Leaderless, EPaxos variant (consensus for every command): the coordinator's pre-prepare
/// reaches the others at d, their prepare votes each other at 2d, their commit votes at 3d;
/// before it, the discovery takes 2d (announce, answers) from the arrival at the coordinator.
#[test]
fn leaderless_pre_prepare_to_commit() {
    let (s, _) = tiny(&["protocol=leaderless", "leaderless.variant=epaxos", "clients.send_to=nearest"]);
    assert_eq!((metric::PROPOSAL_COMMIT_P50_MS.value(&s), metric::PROPOSAL_COMMIT_P99_MS.value(&s)), (30.0, 30.0));
    assert_eq!((metric::PROPOSER_P50_MS.value(&s), metric::PROPOSER_P99_MS.value(&s)), (50.0, 50.0));
}

/// Wintermute's fast path decides without any proposal: no proposal-to-commit latency (and no
/// row in the table), but the coordinator's latency, 2d, is there.
#[test]
fn fast_path_has_no_proposal() {
    let (s, table) = tiny(&["protocol=leaderless", "replicas.n=6", "clients.send_to=nearest"]);
    assert!(s.latency_ms.e2e.count > 0);
    assert_eq!(s.latency_ms.proposal_commit.count, 0);
    assert!(metric::PROPOSAL_COMMIT_P50_MS.value(&s).is_nan());
    assert!(!table.contains("proposal-to-commit"), "{table}");
    assert_eq!(metric::PROPOSER_P99_MS.value(&s), 20.0);
}

/// Algorand: a block's proposal to its first commit (a correct user seeing its round, or a
/// later one, final); no latency at the proposer (the pool keeps gossiped batches, not when
/// each transaction reached the proposer).
#[test]
fn algorand_block_proposal_to_commit() {
    let (s, table) = tiny(&["protocol=algorand", "clients.send_to=nearest", "duration_s=20"]);
    let p = &s.latency_ms.proposal_commit;
    assert!(p.count > 0 && p.count <= s.latency_ms.e2e.count, "{p:?}");
    assert!(p.p99 <= s.latency_ms.e2e.p99 && p.p50 <= s.latency_ms.consensus.p50, "{:?}", s.latency_ms);
    assert_eq!(s.latency_ms.proposer.count, 0);
    assert!(table.contains("proposal-to-commit") && !table.contains("at the proposer"), "{table}");
}

/// Algorand's round time: each user's mean over the rounds it finished, and the run's figure
/// the median user's (the slowest user's is `counters`' maximum). The example's 200 users over
/// 20 regions finish their rounds at different times; checked against the users' own counters
/// and against the run's length.
#[test]
fn algorand_round_time_is_the_median_users_mean() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/examples/algorand.toml");
    let sets = ["duration_s=12".to_string(), "drain_s=0".into(), "warmup_s=2".into()];
    let s = parse::load(&example, &sets, None).expect("the Algorand example");
    let report = run::run(&s, &mut |_, _| {});
    let summary = RunSummary::of(&s, &report);
    let mut means: Vec<u64> = report
        .result
        .nodes
        .iter()
        .filter(|n| n.correct && !n.counters.is_empty())
        .map(|n| n.counters.iter().find(|c| c.0 == "round_mean_ms").expect("every user times its rounds").1)
        .collect();
    means.sort_unstable();
    assert_eq!(means.len(), 200);
    assert!(means[99] < means[199], "users differ: {} to {} ms", means[0], means[199]);
    assert_eq!(summary.counter_median("round_mean_ms"), Some(means[99]));
    assert_eq!(summary.counter("round_mean_ms"), Some(means[199]), "the maximum stays in `counters`");
    let round_s = (metric::metric("round_mean_s").expect("registered").get)(&summary).expect("rounds timed");
    let rounds = summary.counter_median("rounds").expect("rounds") as f64;
    assert!(round_s > 0.0 && round_s * rounds <= summary.virtual_time_s, "{round_s} s x {rounds} rounds");
}
