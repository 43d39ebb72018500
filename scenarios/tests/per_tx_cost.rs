//! `[cpu] per_tx_us`: HotStuff charges it once per transaction of a block at each replica (the
//! leader that builds the block, every other replica that stores it), so the CPU time of the
//! correct replicas grows by about n x per_tx_us per transaction; at 0 (the default) a run is
//! the run of a scenario that does not name it.

use std::path::Path;

use scenarios::results::RunSummary;
use scenarios::{parse, run};

const BASE: &str = r#"
name = "per-tx"
duration_s = 2
warmup_s = 0.5
drain_s = 0.5
[replicas]
n = 4
[network]
uniform_delay_ms = 1
[workload]
arrivals = "constant"
rate_tps = 4000
[hotstuff]
batch_size = 200
[cpu]
cores = 2
base_us = 0
per_kib_us = 0
client_verify_us = 0
profile = "free"
"#;

fn summary(sets: &[&str]) -> (RunSummary, u64) {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let s = parse::load_str(Path::new("per-tx.toml"), BASE, &sets, None).expect("the scenario loads");
    let report = run::run(&s, &mut |_, _| {});
    (RunSummary::of(&s, &report), report.result.digest)
}

#[test]
fn each_replica_pays_per_transaction_of_a_block_once() {
    let (without, digest) = summary(&[]);
    let (zero, zero_digest) = summary(&["cpu.per_tx_us=0"]);
    assert_eq!(digest, zero_digest, "per_tx_us = 0 is today's run");
    assert_eq!(without.cpu_busy_ms, zero.cpu_busy_ms);
    let per_tx_us = 50.0;
    assert_eq!(without.cpu_busy_ms, 0.0, "every other cost is 0: the CPU time is the per-transaction cost");
    let (with, _) = summary(&["cpu.per_tx_us=50"]);
    // Charges per committed transaction, over all correct replicas: n = 4 when each replica
    // pays once (a little more: blocks proposed but not yet committed when the run stops).
    let charges = with.cpu_busy_ms * 1e3 / per_tx_us / with.committed_tx as f64;
    assert!((3.95..4.3).contains(&charges), "{charges:.3} charges per transaction");
}
