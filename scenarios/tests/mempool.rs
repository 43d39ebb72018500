//! HotStuff with the mempool (`[hotstuff] payload = "mempool"`) through scenario files: the
//! prototype's latency shape at low load, the leader's uplink at high load, and the fields'
//! refusals.

use std::path::Path;

use scenarios::results::{RunSummary, metric};
use scenarios::{parse, run};

/// n = 4 chained HotStuff, uniform one-way delay d = 10 ms, the CPU model off.
const TINY: &str = r#"
name = "tiny-mempool"
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
rate_tps = 100
[cpu]
cores = 0
"#;

fn load(sets: &[&str]) -> scenarios::model::Scenario {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse::load_str(Path::new("tiny.toml"), TINY, &sets, None).expect("the tiny scenario")
}

fn tiny(sets: &[&str]) -> (RunSummary, run::Report) {
    let s = load(sets);
    let report = run::run(&s, &mut |_, _| {});
    (RunSummary::of(&s, &report), report)
}

/// At low load a batch waits out its delay: end-to-end latency grows with the delay (the
/// prototype's behaviour; a transaction waits about half the delay, the batch's first the whole
/// of it: 120 ms at 10 ms, 160 ms at 100 ms), and stays above consensus latency from the
/// proposal.
#[test]
fn low_load_latency_grows_with_the_batch_delay() {
    let mempool = ["hotstuff.payload=mempool", "hotstuff.mempool_batch_bytes=500000"];
    let (short, _) = tiny(&[&mempool[..], &["hotstuff.mempool_max_batch_delay_ms=10"]].concat());
    let (long, _) = tiny(&[&mempool[..], &["hotstuff.mempool_max_batch_delay_ms=100"]].concat());
    let e2e = |s: &RunSummary| metric::E2E_P50_MS.value(s);
    assert!(short.latency_ms.e2e.count > 200 && long.latency_ms.e2e.count > 200, "both commit");
    assert!(e2e(&long) >= e2e(&short) + 30.0, "e2e p50 {} ms (100 ms delay) vs {} ms (10 ms)", e2e(&long), e2e(&short));
    for s in [&short, &long] {
        assert!(e2e(s) > metric::PROPOSAL_COMMIT_P50_MS.value(s), "end-to-end above consensus from the proposal");
    }
}

/// Bytes a replica sent of one message kind.
fn sent(report: &run::Report, node: usize, kind: &str) -> u64 {
    let r = &report.result;
    let k = r.kinds.iter().position(|k| k.name == kind).expect("a kind of HotStuff");
    r.nodes[node].traffic[k].bytes_sent
}

/// At 4,000 tx/s of 512 B with 100 KB batches (every client's nearest replica is replica 0
/// under a uniform delay), proposals carry digests, not transactions: the proposal bytes of a
/// leader holding the payload drop more than 20-fold (18.4 MB to 47 KB here), while each
/// transaction still crosses the network n - 1 times, from the replica that batched it, so its
/// total bytes stay within 1% (with round-robin leaders the uplink that carries the payload
/// is the receiving replica's either way).
#[test]
fn high_load_proposals_no_longer_carry_the_payload() {
    let high = [
        "workload.rate_tps=4000",
        "workload.tx_size_bytes=512",
        "clients.send_to=nearest",
        "hotstuff.batch_size=10000",
    ];
    let (inline, inline_report) = tiny(&high);
    let mempool = [&high[..], &["hotstuff.payload=mempool", "hotstuff.mempool_batch_bytes=102400"]].concat();
    let (batched, batched_report) = tiny(&mempool);
    assert!(batched.latency_ms.e2e.count * 10 >= inline.latency_ms.e2e.count * 9, "the mempool keeps up");
    let (a, b) = (sent(&inline_report, 0, "proposal"), sent(&batched_report, 0, "proposal"));
    assert!(a > 10_000_000 && b * 20 < a, "replica 0: proposal bytes {a} in the proposal, {b} with the mempool");
    assert!(sent(&batched_report, 0, "batch") * 100 >= a * 99, "the batches carry the payload");
    let total = |r: &run::Report| r.result.nodes[0].link.bytes_sent;
    let (a, b) = (total(&inline_report), total(&batched_report));
    assert!(b * 100 <= a * 101, "replica 0 sent {b} bytes with the mempool, {a} in the proposal");
}

/// The refusals name the field and the fix.
#[test]
fn basic_and_an_ack_quorum_above_n_are_refused() {
    let sets = |sets: &[&str]| sets.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let basic = parse::load_str(
        Path::new("tiny.toml"),
        TINY,
        &sets(&["hotstuff.payload=mempool", "hotstuff.variant=basic"]),
        None,
    );
    let message = basic.expect_err("refused").to_string();
    assert!(message.contains("payload") && message.contains("not supported with variant = \"basic\""), "{message}");
    let quorum = parse::load_str(
        Path::new("tiny.toml"),
        TINY,
        &sets(&["hotstuff.payload=mempool", "hotstuff.mempool_ack_quorum=5"]),
        None,
    );
    let message = quorum.expect_err("refused").to_string();
    assert!(message.contains("mempool_ack_quorum (5) must be at most n (4)"), "{message}");
}

/// With a request pool (`[cpu] request_cores`), the mempool's batches are handled there, beside
/// the clients' requests: the pool works more with the mempool than with the payload in the
/// proposal at the same load (batches received on top of requests), while consensus keeps its
/// own core.
#[test]
fn mempool_batches_run_on_the_request_pool() {
    let pools = ["cpu.cores=1", "cpu.request_cores=1", "workload.rate_tps=1000"];
    let (inline, _) = tiny(&pools);
    let (mempool, _) =
        tiny(&[&pools[..], &["hotstuff.payload=mempool", "hotstuff.mempool_max_batch_delay_ms=10"]].concat());
    let busy = |s: &RunSummary| s.request_cpu_busy_ms.expect("a request pool");
    assert!(busy(&inline) > 0.0, "requests run on the request pool");
    assert!(busy(&mempool) > busy(&inline) * 1.5, "batches too: {} ms vs {} ms", busy(&mempool), busy(&inline));
}

/// A stable leader with clients that each send to one replica: through the mempool every
/// replica's batches are ready at the leader once they arrive, so every transaction commits
/// (when a leader proposed only its own batches, three quarters of them waited forever); with
/// the payload in the proposal the file is refused, naming the fix.
#[test]
fn a_stable_leader_orders_every_replicas_batches_and_is_refused_with_the_payload_in_the_proposal() {
    let stable = ["clients.send_to=\"random\"", "hotstuff.leader=\"stable\""];
    let (s, _) = tiny(&[&stable[..], &["hotstuff.payload=mempool"]].concat());
    assert!(s.confirmed_tx >= 250, "{} confirmed", s.confirmed_tx);
    assert_eq!(s.unconfirmed_tx, 0, "every transaction confirmed under a stable leader");
    let sets: Vec<String> = stable.iter().map(|s| s.to_string()).collect();
    let refused = parse::load_str(Path::new("tiny.toml"), TINY, &sets, None);
    let message = refused.expect_err("refused").to_string();
    assert!(message.contains("hotstuff.leader") && message.contains("send_to = \"all\""), "{message}");
}

/// A replica cut off from the others while it seals batches: none reaches its quorum, no one
/// else holds them, so only the author's resend (every second while short of the quorum) gets
/// its clients' transactions into a block once the partition heals.
#[test]
fn batches_sealed_by_a_cut_off_replica_are_resent_once_the_partition_heals() {
    let (s, _) = tiny(&[
        "clients.send_to=\"random\"",
        "hotstuff.payload=mempool",
        "hotstuff.mempool_max_batch_delay_ms=10",
        "faults.partitions=[{ groups = [[3], [0, 1, 2]], start_s = 0.5, heal_s = 1.5 }]",
    ]);
    assert!(s.confirmed_tx >= 250, "{} confirmed", s.confirmed_tx);
    assert_eq!(s.unconfirmed_tx, 0, "every transaction confirmed after the heal");
}
