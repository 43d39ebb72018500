//! Seeds that an exploration found breaking a protocol, kept after their fix: each one broke
//! the named invariant before the fix and must run clean after it.

use scenarios::explore::{Plan, explore};

/// (scenario file, `--set`s, seed, what broke before the fix).
const FOUND: &[(&str, &[&str], u64, &str)] = &[
    // Half the users decided round 2 on votes still in flight when the partition began; the
    // votes that would tell the other half were cut off, BinaryBA* sends none again, and the
    // other half timed out its steps for ever (one round behind: no catch-up was asked).
    ("scenarios/examples/algorand-attacks.toml", &[], 498, "liveness"),
    ("scenarios/examples/algorand-attacks.toml", &["clients.retry_ms=1000"], 97, "liveness"),
    // A replica's view timer, re-armed by a handler still running on one core, fired on the
    // other core and moved a correct replica on from the view it had just accepted; views fell
    // out of step until a command waited past the bound (the engine now supersedes a timer
    // when the handler that re-arms or cancels it runs).
    ("scenarios/examples/leaderless-pbft-attacks.toml", &[], 40, "liveness"),
    // HotStuff, a crashed replica and a partition drawn by the swarm: the view-18 leader voted
    // for its own proposal and moved to view 19; the partition lost the proposal, so the two
    // other correct replicas timed out in view 18 for ever, and the leader ignored their
    // complaints for a view it had left (a replica now answers a complaint for a view it left
    // with its timeout certificate or its own complaint for that view).
    (
        "scenarios/examples/hotstuff-swarm.toml",
        &["checks.liveness_bound_s=3", "explore.kinds=[\"crash\",\"partition\"]"],
        106,
        "liveness",
    ),
    // HotStuff with reputation leaders, a forking and an equivocating replica: the forker
    // handed the certificate that elected a leader to one correct replica only, which then
    // refused the round-robin leader the others followed; each such failure put the
    // round-robin fallback on the Byzantine replicas again, seven views a cycle, and nothing
    // committed (the fallback now gives each round-robin leader the three views its blocks
    // need to commit on their own, as DiemBFT v4 gives two under its two-chain rule).
    ("scenarios/examples/byzantine.toml", &["hotstuff.leader=\"reputation\""], 114, "liveness"),
    // HotStuff with the mempool, a partition drawn by `explore --swarm` (seed 92): batches
    // sealed while replicas 3-6 were cut off reached only 0-2, never their quorum of n - f = 5,
    // and no worker sent a batch twice, so their transactions never reached a block (11,000
    // unconfirmed). An author now sends an own batch short of its quorum again, to those that
    // did not acknowledge it, every second while it is short. (Since others' batches are ready
    // at whoever receives them, this seed runs clean without the resend too: the test that needs
    // it is `batches_sealed_by_a_cut_off_replica_...` in tests/mempool.rs.)
    (
        "scenarios/examples/byzantine.toml",
        &[
            "byzantine=[]",
            "hotstuff.payload=\"mempool\"",
            "hotstuff.mempool_max_batch_delay_ms=30",
            "faults.partitions=[{ groups = [[0, 1, 2], [3, 4, 5, 6]], start_s = 6.639, heal_s = 7.5 }]",
        ],
        92,
        "liveness",
    ),
    // HotStuff with the mempool, drawn by `explore --swarm` with a 3 s liveness bound (seed 30):
    // replica 0 lost block 0520 of view 6 to the drawn loss and asked replica 3, which had sent
    // it the block's QC, for it; replica 3 then crashed, and each view timeout asked replica 3
    // again, never replicas 1 and 2, whose new-views named the same block. Without it replica 0
    // could not vote, and with one replica crashed every quorum needed it: nothing committed
    // in the whole run. A retry now asks every replica whose message named the missing block.
    ("scenarios/examples/hotstuff-swarm.toml", &["explore.settings=true", "checks.liveness_bound_s=3"], 30, "liveness"),
];

#[test]
fn seeds_that_broke_a_protocol_run_clean_after_the_fix() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for &(path, sets, seed, broke) in FOUND {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let scenario = scenarios::parse::load(&root.join(path), &sets, None).unwrap_or_else(|d| panic!("{path}: {d}"));
        let plan = Plan { scenario, seeds: vec![seed], jobs: 1, planted: None, max_failures: None };
        let found = explore(&plan, &mut || {}, &mut |_| {}).findings;
        let found: Vec<String> = found.iter().map(|f| format!("{}: {}", f.invariant, f.detail)).collect();
        assert!(found.is_empty(), "{path} {sets:?} seed {seed} (broke {broke} before its fix): {found:?}");
    }
}
