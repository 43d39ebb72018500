//! `byzsim shrink` and the scenario writer it needs: the writer loads back every shipped
//! example exactly; a planted bug's run shrinks to a smaller one that breaks the same
//! invariant, and the written file reproduces it.

use std::path::{Path, PathBuf};

use scenarios::model::Scenario;
use scenarios::parse;
use scenarios::planted::Planted;
use scenarios::shrink;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_example_loads_back_from_what_the_writer_writes() {
    let dir = root().join("scenarios/examples");
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("examples").map(|e| e.expect("entry").path()).collect();
    paths.push(root().join("scenarios/quickstart.toml"));
    paths.sort();
    let mut checked = 0;
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        let Ok(scenario) = parse::load(path, &[], None) else {
            // trace-nasdaq.toml needs ../shared; without it the file does not load at all.
            assert!(path.ends_with("trace-nasdaq.toml"), "{} does not load", path.display());
            continue;
        };
        let text = scenarios::write::to_toml(&scenario, path.parent().expect("a folder"))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let back: Scenario = parse::load_str(path, &text, &[], None)
            .unwrap_or_else(|d| panic!("{}: the written text does not load:\n{d}\n{text}", path.display()));
        assert_eq!(back, scenario, "{}:\n{text}", path.display());
        checked += 1;
    }
    assert!(checked >= 20, "{checked} examples checked");
}

/// Every behaviour of every protocol, named in a scenario, is written back by its own name and
/// loads back into the same scenario; `correct` is no behaviour a file can name.
#[test]
fn every_behaviour_of_every_protocol_round_trips_through_the_writer() {
    let mut checked = 0;
    for &protocol in scenarios::model::ProtocolKind::ALL {
        for behavior in protocol.behaviors() {
            let name = behavior.name();
            assert_ne!(name, "correct", "{protocol:?} lists its correct replicas as a behaviour");
            let twins = if Some(behavior) == protocol.twin() { "[adversary]\nmode = \"twins\"\n" } else { "" };
            let crash = if name == "crash" { "at_s = 1\n" } else { "" };
            let src = format!(
                "duration_s = 2\nprotocol = \"{}\"\n[replicas]\nn = 7\nf = 1\n[workload]\nrate_tps = 10\n{twins}\
                 [[byzantine]]\nbehavior = \"{name}\"\nreplicas = [3]\n{crash}",
                protocol.name()
            );
            let path = Path::new("behaviour.toml");
            let scenario = parse::load_str(path, &src, &[], None).unwrap_or_else(|d| panic!("{name}: {d}\n{src}"));
            assert_eq!(scenario.byzantine[0].behavior, behavior, "{src}");
            let text = scenarios::write::to_toml(&scenario, Path::new("")).expect("writable");
            assert!(text.contains(&format!("behavior = \"{name}\"\n")), "{name} written as:\n{text}");
            let back = parse::load_str(path, &text, &[], None).unwrap_or_else(|d| panic!("{d}\n{text}"));
            assert_eq!(back, scenario, "{text}");
            checked += 1;
        }
    }
    // crash and 7 HotStuff, crash and 16 leaderless, crash and 4 Algorand behaviours.
    assert_eq!(checked, 30);
}

/// HotStuff n = 7 with a crash and recovery, a partition, a silent replica, jitter, three
/// clients and 6 s of run: none of it needed to break the per-transaction result check once
/// blocks execute in reverse (the planted bug).
const BIG: &str = "name = \"big\"\nprotocol = \"hotstuff\"\nduration_s = 4\ndrain_s = 2\n\
    [replicas]\nn = 7\n[clients]\ncount = 3\nsend_to = \"all\"\n\
    [network]\nuniform_delay_ms = 10\njitter = { kind = \"uniform\", max_ms = 2 }\n\
    [[faults.crashes]]\nreplica = 4\nat_s = 1\nrecover_s = 2\n\
    [[faults.partitions]]\ngroups = [[0, 1, 2, 3, 4], [5, 6]]\nstart_s = 2.5\nheal_s = 3\n\
    [[byzantine]]\nbehavior = \"silent\"\nreplicas = [6]\n\
    [workload]\nrate_tps = 200\naccounts = 10\n[leaderless]\ngenesis_balance = 100\n";

fn reversed_blocks() -> Option<Planted> {
    Some(Planted::parse("hotstuff/reversed_blocks").expect("a planted bug"))
}

fn invariant_of(s: &Scenario, planted: Option<Planted>) -> Option<&'static str> {
    match scenarios::run::run_planted(s, planted, &mut |_, _| {}).result.stop {
        sim_core::Stop::Violation(v) => Some(v.invariant),
        _ => None,
    }
}

/// A scratch folder of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("byzsim-shrink-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

#[test]
fn a_planted_bug_shrinks_to_fewer_faults_and_events_and_the_file_reproduces_it() {
    let path = Path::new("big.toml");
    let scenario = parse::load_str(path, BIG, &[], Some(1)).expect("valid");
    let plan = shrink::Plan {
        path: path.into(),
        scenario: shrink::entry(&scenario),
        planted: reversed_blocks(),
        max_runs: 200,
    };
    let mut seen = 0;
    let shrunk = shrink::shrink(&plan, &mut |runs, _| seen = runs).expect("seed 1 breaks");
    assert_eq!(seen, shrunk.runs);
    assert_eq!(shrunk.first.invariant, shrunk.last.invariant);
    let (before, after) = (&shrunk.before, &shrunk.after);
    assert_eq!((before.faults, before.byzantine, before.n), (2, 1, 7));
    assert!(after.faults < before.faults && after.byzantine < before.byzantine, "{before:?} -> {after:?}");
    assert!(after.events < before.events && after.n < before.n, "{before:?} -> {after:?}");
    assert!(after.duration_s + after.drain_s < 2.0, "{after:?}");
    assert!(!shrunk.exhausted && shrunk.runs <= 200);

    // The same search gives the same scenario.
    let again = shrink::shrink(&plan, &mut |_, _| {}).expect("seed 1 breaks");
    assert_eq!((again.scenario, again.runs), (shrunk.scenario.clone(), shrunk.runs));

    // Written, loaded back from its own folder: the same invariant at the same seed.
    let out = scratch("reproduce").join("big.shrunk-seed1.toml");
    let text = shrink::render(&shrunk, path, reversed_blocks(), &out).expect("writable");
    assert!(shrink::ours(text.as_bytes()));
    std::fs::write(&out, &text).expect("written");
    let back = parse::load(&out, &[], None).unwrap_or_else(|d| panic!("{d}\n{text}"));
    assert_eq!(back.seed, 1);
    assert_eq!(invariant_of(&back, reversed_blocks()), Some(shrunk.first.invariant));
    assert_eq!(invariant_of(&back, None), None, "the planted bug is what breaks");
}

#[test]
fn naming_the_drawn_byzantine_replicas_changes_no_run() {
    let path = root().join("scenarios/examples/ledger-hotstuff.toml");
    let scenario = parse::load(&path, &[], Some(3)).expect("valid");
    assert!(matches!(scenario.byzantine[0].who, scenarios::model::Who::Count(1)));
    let named = shrink::entry(&scenario);
    assert!(matches!(&named.byzantine[0].who, scenarios::model::Who::Replicas(ids) if ids.len() == 1));
    let digest = |s: &Scenario| scenarios::run::run(s, &mut |_, _| {}).result.digest;
    assert_eq!(digest(&named), digest(&scenario));
}

fn byzsim(args: &[&str], dir: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_byzsim")).args(args).current_dir(dir).output().expect("byzsim runs")
}

#[test]
fn a_clean_seed_is_refused_and_an_existing_file_is_kept() {
    let dir = scratch("cli");
    std::fs::write(dir.join("big.toml"), BIG).expect("written");
    let clean = byzsim(&["shrink", "big.toml", "--seed", "1", "--quiet"], &dir);
    let stderr = String::from_utf8_lossy(&clean.stderr);
    assert_eq!(clean.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("breaks no invariant") && stderr.contains("explore"), "{stderr}");
    assert!(!dir.join("big.shrunk-seed1.toml").exists());

    let theirs = dir.join("theirs.toml");
    std::fs::write(&theirs, "# mine\n").expect("written");
    let args =
        ["shrink", "big.toml", "--seed", "1", "--plant", "hotstuff/reversed_blocks", "--out", "theirs.toml", "-q"];
    let refused = byzsim(&args, &dir);
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert_eq!(std::fs::read_to_string(&theirs).expect("kept"), "# mine\n");

    // The default output, then again over it: byzsim replaces what it wrote.
    let args = ["shrink", "big.toml", "--seed", "1", "--plant", "hotstuff/reversed_blocks", "-q"];
    for _ in 0..2 {
        let ok = byzsim(&args, &dir);
        let stdout = String::from_utf8_lossy(&ok.stdout);
        assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
        assert!(stdout.contains("--plant hotstuff/reversed_blocks") && stdout.contains("runs"), "{stdout}");
    }
    let again = byzsim(
        &["explore", "big.shrunk-seed1.toml", "--seeds", "1..1", "--plant", "hotstuff/reversed_blocks", "-q"],
        &dir,
    );
    assert_eq!(again.status.code(), Some(3), "{}", String::from_utf8_lossy(&again.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn values_no_example_uses_load_back_too() {
    let src = "name = \"odd\"\ndescription = \"every default flipped\"\nprotocol = \"leaderless\"\nduration_s = 3\nwarmup_s = 0.5\n\
        drain_s = 1\n[replicas]\nn = 6\nf = 1\nuplink_mbps = 100\n[clients]\ncount = 2\nsend_to = \"random\"\nretry_ms = 300\n\
        [network]\nuniform_delay_ms = 7\nfifo = false\nloss = 0.01\njitter = { kind = \"lognormal\", median_ms = 1, sigma = 0.5 }\n\
        [[faults.partitions]]\ngroups = [[0, 1], [2, 3]]\nstart_s = 1\nheal_s = 2\n\
        [[byzantine]]\nbehavior = \"crash\"\nreplicas = [5]\nat_s = 1\nrecover_s = 2\n\
        [adversary]\nmode = \"scripted\"\ndelay_max_ms = 100\n\
        [[adversary.rules]]\nkinds = [\"commit\"]\nfrom = 1\nviews = [0, 3]\naction = \"delay\"\ndelay_ms = 50\n\
        [[adversary.rules]]\nto = 2\naction = \"hold\"\nuntil_s = 1.5\n\
        [checks]\nliveness_bound_s = 2\n[workload]\narrivals = \"constant\"\nrate_tps = 50\nzipf_s = 0.9\n\
        [leaderless]\nvariant = \"epaxos\"\nconflicts = \"credits_commute\"\nreconfigure_at_s = [1.5]\n\
        [hotstuff]\nvariant = \"basic\"\ncertificate = \"list\"\ntimeout_backoff = 2\n\
        [algorand]\npreset = \"sosp2017\"\nstake = \"pareto\"\n[cpu]\ncores = 0\nprofile = \"free\"\ncrypto = \"real\"\n\
        [output]\nlatency_csv = false\nwindow_s = 0.5\n";
    let path = Path::new("odd.toml");
    let scenario = parse::load_str(path, src, &[], None).unwrap_or_else(|d| panic!("{d}"));
    let text = scenarios::write::to_toml(&scenario, Path::new("")).expect("writable");
    assert_eq!(parse::load_str(path, &text, &[], None).unwrap_or_else(|d| panic!("{d}\n{text}")), scenario, "{text}");
}
