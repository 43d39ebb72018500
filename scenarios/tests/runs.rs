//! Runs of the shipped scenarios: determinism, the closed form, a crashed replica, a partition.

use std::path::{Path, PathBuf};

use scenarios::{parse, run};

/// Shipped scenarios too slow to run (twice) in `cargo test`: they are only validated.
const TOO_SLOW_TO_RUN: &[&str] = &["algorand-10k.toml"];

/// Every shipped scenario: the quickstart and the examples.
fn all_shipped() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("quickstart.toml")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .expect("scenarios/examples exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    examples.sort();
    files.extend(examples);
    files
}

/// The shipped scenarios the tests run: all but the slow ones and those whose data is absent.
fn shipped() -> Vec<PathBuf> {
    let slow = |p: &PathBuf| p.file_name().is_some_and(|name| TOO_SLOW_TO_RUN.iter().any(|slow| name == *slow));
    all_shipped().into_iter().filter(|p| !slow(p) && has_its_shared_data(p)).collect()
}

#[test]
fn every_shipped_scenario_is_valid() {
    let files: Vec<PathBuf> = all_shipped().into_iter().filter(|p| has_its_shared_data(p)).collect();
    for slow in TOO_SLOW_TO_RUN {
        assert!(files.iter().any(|p| p.ends_with(slow)), "{slow} is not shipped: drop it from TOO_SLOW_TO_RUN");
    }
    for file in files {
        parse::load(&file, &[], None).unwrap_or_else(|d| panic!("{d}"));
    }
}

/// An example that reads `../shared` (the data folder next to the project, as in CI) is skipped
/// on a clone without it.
fn has_its_shared_data(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).expect("readable example");
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let present = !text.contains("/shared/data/") || shared.is_dir();
    if !present {
        eprintln!("skipped {}: it needs {}", path.display(), shared.display());
    }
    present
}

fn run_file(path: &Path, sets: &[&str], seed: Option<u64>) -> run::Report {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let scenario = parse::load(path, &sets, seed).unwrap_or_else(|d| panic!("{d}"));
    run::run(&scenario, &mut |_, _| {})
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

/// What a shipped scenario's run is pinned to (`tests/golden.toml`): a change in behaviour shows
/// as a diff of this file, reviewed like code.
fn golden_pin(report: &run::Report) -> toml::Table {
    let (r, s) = (&report.result, &report.summary);
    let mut pin = toml::Table::new();
    pin.insert("seed".into(), toml::Value::Integer(report.scenario.seed as i64));
    pin.insert("digest".into(), format!("{:016x}", r.digest).into());
    pin.insert("stop".into(), r.stop.name().into());
    pin.insert("events".into(), toml::Value::Integer(r.events as i64));
    pin.insert("committed_tx".into(), toml::Value::Integer(s.committed_tx as i64));
    pin.insert("confirmed_tx".into(), toml::Value::Integer(s.confirmed_tx as i64));
    pin.insert("goodput_tps".into(), format!("{:.3}", s.goodput_tps).into());
    pin.insert("e2e_p50_ms".into(), format!("{:.3}", s.e2e.p50_ms).into());
    pin.insert("e2e_p99_ms".into(), format!("{:.3}", s.e2e.p99_ms).into());
    pin
}

/// Checks every run against its pin; with `BYZSIM_BLESS=1`, writes the pins instead (then
/// review the diff of tests/golden.toml).
fn check_golden(pins: &toml::Table) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden.toml");
    if std::env::var_os("BYZSIM_BLESS").is_some() {
        let mut text = String::from(
            "# The runs of the shipped scenarios, pinned: digest, stop, events, transactions and key\n\
             # metrics at each file's own seed. `BYZSIM_BLESS=1 cargo test -p scenarios --test runs` rewrites\n\
             # it; a change here is a change in behaviour, reviewed like code.\n\n",
        );
        text.push_str(&toml::to_string(pins).expect("a table"));
        std::fs::write(&path, text).expect("tests/golden.toml written");
        return;
    }
    let text = std::fs::read_to_string(&path).expect("tests/golden.toml");
    let golden: toml::Table = text.parse().expect("tests/golden.toml is TOML");
    let mut problems = Vec::new();
    for (name, pin) in pins {
        match golden.get(name) {
            None => problems.push(format!("{name}: no pin")),
            Some(g) if g.as_table() != pin.as_table() => {
                problems.push(format!("{name}:\n  pinned {g}\n  now    {pin}"))
            }
            Some(_) => {}
        }
    }
    let shipped_names: Vec<String> = all_shipped().iter().map(|p| file_key(p)).collect();
    for name in golden.keys().filter(|n| !shipped_names.contains(n)) {
        problems.push(format!("{name}: pinned but not shipped"));
    }
    assert!(
        problems.is_empty(),
        "runs differ from tests/golden.toml (if the change is intended: BYZSIM_BLESS=1 cargo test -p scenarios \
         --test runs, and review the diff):\n{}",
        problems.join("\n")
    );
}

fn file_key(path: &Path) -> String {
    path.file_stem().and_then(|n| n.to_str()).unwrap_or_default().to_string()
}

#[test]
fn every_shipped_scenario_is_deterministic() {
    let files = shipped();
    assert!(files.len() >= 5, "{files:?}");
    let mut pins = toml::Table::new();
    // Examples that break an invariant on purpose (beyond the fault model), and which.
    let breaking = [("beyond-f-hotstuff.toml", "one_certificate_per_view")];
    for file in files {
        let a = run_file(&file, &[], None);
        let b = run_file(&file, &[], None);
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        match breaking.iter().find(|(f, _)| *f == name) {
            Some((_, invariant)) => assert!(
                matches!(&a.result.stop, sim_core::Stop::Violation(v) if v.invariant == *invariant),
                "{name} should break {invariant}: {:?}",
                a.result.stop
            ),
            None => {
                assert_eq!(a.result.stop, sim_core::Stop::End, "{}", file.display());
                assert!(a.summary.committed_tx > 0, "{} committed nothing", file.display());
            }
        }
        assert_eq!(a.result.digest, b.result.digest, "{} is not deterministic", file.display());
        assert_eq!(a.result.events, b.result.events);
        let c = run_file(&file, &[], Some(a.scenario.seed + 1));
        assert_ne!(a.result.digest, c.result.digest, "{}: another seed gave the same digest", file.display());
        pins.insert(file_key(&file), golden_pin(&a).into());
    }
    check_golden(&pins);
}

/// Closed form: n = 4, uniform d, no jitter, unlimited bandwidth, batch 400, saturated:
/// goodput 400 / (2d) within 10%, three-chain commit latency near 8d.
#[test]
fn closed_form_throughput_and_latency() {
    for (d_ms, rate, secs, warmup) in [(10.0, 30_000, "4", "1"), (1.0, 300_000, "1.2", "0.4")] {
        let sets = [
            &format!("network.uniform_delay_ms={d_ms}"),
            &format!("workload.rate_tps={rate}"),
            &format!("duration_s={secs}"),
            &format!("warmup_s={warmup}"),
        ];
        let r = run_file(&example("closed-form.toml"), &sets.map(|s| s.as_str()), None);
        let expected = 400.0 / (2.0 * d_ms / 1000.0);
        let goodput = r.summary.goodput_tps;
        assert!(
            (goodput - expected).abs() <= 0.1 * expected,
            "d = {d_ms} ms: goodput {goodput:.0}, expected {expected:.0}"
        );
        // Above saturation transactions also queue behind earlier batches, so the latency here
        // is only bounded below; the 8d check is below saturation (next test).
        let p50 = r.summary.consensus.p50_ms;
        assert!(p50 >= 7.0 * d_ms, "d = {d_ms} ms: consensus p50 {p50} ms below the 7d of a three-chain");
        println!(
            "d = {d_ms} ms: goodput {goodput:.0} tx/s (closed form {expected:.0}), consensus p50 {p50:.2} ms, e2e p50 {:.2} ms",
            r.summary.e2e.p50_ms
        );
    }
}

#[test]
fn commit_latency_is_eight_delays_below_saturation() {
    for d_ms in [10.0, 1.0] {
        let sets = [format!("network.uniform_delay_ms={d_ms}"), "workload.rate_tps=2000".into(), "duration_s=3".into()];
        let r = run_file(&example("closed-form.toml"), &sets.each_ref().map(|s| s.as_str()), None);
        let p50 = r.summary.consensus.p50_ms;
        // A block proposed at t commits at the leader of view v+3 when it proposes (t + 6d) and
        // at the others when that proposal lands (t + 7d); a transaction waits for the next
        // proposal, uniform in [0, 2d]. Consensus latency (first commit) is therefore 7d at the
        // median, and commit at every replica 8d on average, the closed form's figure.
        assert!((6.5 * d_ms..=9.0 * d_ms).contains(&p50), "d = {d_ms} ms: consensus p50 {p50} ms not near 7d-8d");
        println!("d = {d_ms} ms below saturation: consensus p50 {p50:.2} ms = {:.2} d", p50 / d_ms);
    }
}

fn counter(r: &run::Report, replica: usize, name: &str) -> u64 {
    r.result.nodes[replica].counters.iter().find(|c| c.0 == name).map_or(0, |c| c.1)
}

fn committed_between(r: &run::Report, from_s: f64, to_s: f64) -> usize {
    r.result.txs.iter().filter(|t| t.is_committed() && (from_s..to_s).contains(&t.committed.as_secs_f64())).count()
}

#[test]
fn a_crashed_replica_is_skipped_by_view_changes() {
    let r = run_file(&example("crash.toml"), &[], None);
    assert!(r.result.nodes[3].crashed_at_end);
    // Every fourth view is led by the crashed replica: each one times out and a view change
    // (n-f complaints) moves the others past it.
    let changes = counter(&r, 0, "view_changes");
    let views = counter(&r, 0, "view");
    assert!(changes * 4 >= views / 2 && changes > 10, "{changes} view changes in {views} views");
    let late = committed_between(&r, 5.0, 15.0);
    assert!(late as f64 >= 0.9 * 1000.0 * 10.0, "only {late} commits in [5 s, 15 s) at 1000 tx/s");
}

#[test]
fn a_partition_stops_commits_until_it_heals() {
    let r = run_file(&example("partition.toml"), &[], None);
    // Transactions in flight at 5 s may still commit within a few views; none after that.
    assert_eq!(committed_between(&r, 5.2, 15.0), 0);
    let after = committed_between(&r, 15.0, 25.0);
    assert!(after >= 15_000, "only {after} commits after the heal (10 s of backlog + 10 s of load)");
    assert!(r.summary.unconfirmed_tx < 200, "{} transactions never confirmed", r.summary.unconfirmed_tx);
}

#[test]
fn a_recovered_replica_catches_up() {
    let r = run_file(&example("wan-lossy.toml"), &[], None);
    let crash = &r.scenario.faults.crashes[0];
    assert!(crash.recover_s.is_some());
    let recovered = crash.replica as usize;
    let best = (0..r.scenario.replicas.n as usize).map(|i| counter(&r, i, "blocks_committed")).max().unwrap();
    let mine = counter(&r, recovered, "blocks_committed");
    assert!(!r.result.nodes[recovered].crashed_at_end);
    assert!(mine + 2 >= best && best > 20, "recovered replica committed {mine} blocks, the best {best}");
}

/// With per-signature costs (one core, list certificates verified one by one), the views slow
/// down to the CPU's pace: goodput flattens as offered load rises and latency grows; with
/// free crypto the same offered load goes through.
#[test]
fn crypto_costs_flatten_goodput() {
    let run_at = |rate: u32, profile: &str| {
        let sets = [
            "network.uniform_delay_ms=1".to_string(),
            "cpu.cores=1".into(),
            format!("cpu.profile={profile}"),
            "hotstuff.batch_size=100".into(),
            "hotstuff.certificate=list".into(),
            format!("workload.rate_tps={rate}"),
            "duration_s=3".into(),
            "drain_s=2".into(),
        ];
        run_file(&example("closed-form.toml"), &sets.each_ref().map(|s| s.as_str()), None).summary
    };
    let low = run_at(4_000, "blst-x86-2core");
    let high = run_at(16_000, "blst-x86-2core");
    let higher = run_at(32_000, "blst-x86-2core");
    assert!((low.goodput_tps - 4_000.0).abs() < 200.0, "below saturation all goes through: {}", low.goodput_tps);
    assert!(higher.goodput_tps < 1.1 * high.goodput_tps, "{} then {}: not flat", high.goodput_tps, higher.goodput_tps);
    assert!(higher.goodput_tps < 0.5 * 32_000.0);
    assert!(higher.e2e.p50_ms > 10.0 * low.e2e.p50_ms, "latency {} -> {}", low.e2e.p50_ms, higher.e2e.p50_ms);
    let free = run_at(32_000, "free");
    assert!(free.goodput_tps > 0.95 * 32_000.0, "free crypto keeps up: {}", free.goodput_tps);
}

/// Real BLS signatures (blst) change the wall time, not the run: same digest, same commits.
/// With an equivocator and list certificates, so that aggregate and one-by-one verification
/// both run for real.
#[test]
fn real_crypto_commits_the_same_blocks_as_modeled() {
    let run_mode = |mode: &str, certificate: &str| {
        let sets = [
            format!("cpu.crypto={mode}"),
            format!("hotstuff.certificate={certificate}"),
            "duration_s=1.5".into(),
            "drain_s=0.5".into(),
            "workload.rate_tps=400".into(),
        ];
        run_file(&example("byzantine.toml"), &sets.each_ref().map(|s| s.as_str()), None)
    };
    for certificate in ["aggregate", "list"] {
        let (modeled, real) = (run_mode("modeled", certificate), run_mode("real", certificate));
        assert_eq!(modeled.result.stop, sim_core::Stop::End);
        assert_eq!(real.result.stop, sim_core::Stop::End);
        assert!(modeled.summary.committed_tx > 300, "{certificate}: {}", modeled.summary.committed_tx);
        assert_eq!(modeled.result.digest, real.result.digest, "{certificate}: the runs differ");
        let commits = |r: &run::Report| r.result.txs.iter().map(|t| t.committed).collect::<Vec<_>>();
        assert_eq!(commits(&modeled), commits(&real));
    }
}

/// Basic HotStuff (examples/basic.toml, d = 10 ms, saturated): one block of 400 every 8d, so
/// goodput 400 / (8d) = 5,000 tx/s, a quarter of chained's; 50 views decided in 4 s. Real BLS
/// signatures over the phase-tagged votes give the same run as modeled ones.
#[test]
fn basic_commits_one_block_every_eight_delays() {
    let r = run_file(&example("basic.toml"), &[], None);
    let expected = 400.0 / (8.0 * 0.010);
    let goodput = r.summary.goodput_tps;
    assert!((goodput - expected).abs() <= 0.05 * expected, "goodput {goodput:.0}, expected {expected:.0}");
    assert_eq!(counter(&r, 0, "view"), 51);
    let run_mode = |mode: &str| {
        let sets = [&format!("cpu.crypto={mode}"), "hotstuff.certificate=list", "duration_s=1", "warmup_s=0.2"];
        run_file(&example("basic.toml"), &sets, None)
    };
    let (modeled, real) = (run_mode("modeled"), run_mode("real"));
    assert!(modeled.summary.committed_tx > 4_000, "{}", modeled.summary.committed_tx);
    assert_eq!(modeled.result.digest, real.result.digest, "real signatures changed the run");
}
