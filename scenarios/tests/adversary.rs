//! The `[adversary]` section as a user meets it through `byzsim`: bad input exits 2 naming the
//! line and field, a scripted rule has an effect the liveness check sees, a random adversary is
//! deterministic and changes the run, `compare` refuses a kind one protocol lacks, and the
//! Twins partitions end at `partition_until_s`.

mod common;

use std::path::Path;

use common::{TempDir, byzsim};

/// A small HotStuff run that commits within its liveness bound on a quiet network.
const SMALL: &str = r#"name = "small"
protocol = "hotstuff"
duration_s = 2
drain_s = 1
[replicas]
n = 4
[clients]
count = 2
[network]
uniform_delay_ms = 5
[workload]
rate_tps = 200
[checks]
liveness_bound_s = 1
"#;

/// One rule that drops every (prepare-phase) vote: no certificate ever forms.
const DROP_VOTES: &str = r#"[adversary]
mode = "scripted"
delay_max_ms = 100
[[adversary.rules]]
kinds = ["vote"]
action = "drop"
"#;

/// (what, what is appended to SMALL (its line 15 is the first appended), substrings stderr must
/// contain).
const BAD: &[(&str, &str, &[&str])] = &[
    (
        "an unknown kind name",
        "[adversary]\nmode = \"random\"\ndelay_max_ms = 100\ndrop = 0.1\ntargets = [\"votes\"]\n",
        &["bad.toml:19:12: adversary.targets[0]: \"votes\" is not a message kind of hotstuff", "help:"],
    ),
    (
        "views under algorand",
        "[adversary]\nmode = \"scripted\"\ndelay_max_ms = 100\n[[adversary.rules]]\nviews = [0, 2]\naction = \"drop\"\n",
        &["bad.toml:19:9: adversary.rules[0].views: Algorand has no views"],
    ),
    (
        "delay_max_ms missing",
        "[adversary]\nmode = \"random\"\ndelay = 0.5\n",
        &["bad.toml:15:1: adversary.delay_max_ms: missing required field"],
    ),
    ("a key under mode = \"off\"", "[adversary]\nmode = \"off\"\ndrop = 0.1\n", &["bad.toml:17:8: adversary.drop"]),
    (
        "a probability out of range",
        "[adversary]\nmode = \"random\"\ndelay_max_ms = 100\ndelay = -0.5\n",
        &["bad.toml:18:9: adversary.delay: must be >= 0 and <= 1, found -0.5"],
    ),
    (
        "from >= n",
        "[adversary]\nmode = \"scripted\"\ndelay_max_ms = 100\n[[adversary.rules]]\nfrom = 4\naction = \"drop\"\n",
        &["bad.toml:19:8: adversary.rules[0].from: replica 4 does not exist"],
    ),
    (
        "partitioned views out of range",
        "[adversary]\nmode = \"twins\"\npartitioned_views = 0\n",
        &["bad.toml:17:21: adversary.partitioned_views: must be an integer from 1 to 1000, found 0"],
    ),
    (
        "one group",
        "[adversary]\nmode = \"twins\"\ngroups = 1\n",
        &["bad.toml:17:10: adversary.groups: must be an integer from 2 to 8, found 1"],
    ),
    (
        "partitions ending after the run",
        "[adversary]\nmode = \"twins\"\npartition_until_s = 4\n",
        &[
            "bad.toml:17:21: adversary.partition_until_s: 4 s is after the end of the run at 3 s (duration_s + drain_s)",
            "help: end the partitions within the run (at most 3), or leave it out for the default, duration_s / 2 = 1 s",
        ],
    ),
    (
        "partitions ending at 0",
        "[adversary]\nmode = \"twins\"\npartition_until_s = 0\n",
        &["bad.toml:17:21: adversary.partition_until_s: must be > 0"],
    ),
    (
        "partition_until_s outside twins",
        "[adversary]\nmode = \"random\"\ndelay_max_ms = 100\ndrop = 0.1\npartition_until_s = 1\n",
        &["bad.toml:19:21: adversary.partition_until_s: only mode = \"twins\" has `partition_until_s`", "help:"],
    ),
    (
        "twins under algorand",
        "[adversary]\nmode = \"twins\"\n",
        &["adversary.mode: mode = \"twins\" partitions HotStuff's views; this scenario runs algorand", "help:"],
    ),
    (
        "more twins than f",
        "[adversary]\nmode = \"twins\"\n[[byzantine]]\nbehavior = \"twins\"\ncount = 2\n",
        &["bad.toml:19:9: byzantine[0].count: 2 twins, but replicas.f = 1", "help: make at most 1"],
    ),
    (
        "a twin under leaderless",
        "[[byzantine]]\nbehavior = \"twins\"\ncount = 1\n",
        &["bad.toml:16:12: byzantine[0].behavior", "help:"],
    ),
];

#[test]
fn bad_adversary_input_exits_2_naming_line_and_field() {
    let dir = TempDir::new("adversary-bad");
    for &(what, section, needles) in BAD {
        let text = format!("{SMALL}{section}");
        let text = if what.contains("algorand") { text.replacen("\"hotstuff\"", "\"algorand\"", 1) } else { text };
        let text = if what.contains("leaderless") {
            text.replacen("\"hotstuff\"", "\"leaderless\"", 1) + "[leaderless]\nvariant = \"epaxos\"\n"
        } else {
            text
        };
        std::fs::write(dir.join("bad.toml"), text).unwrap();
        for cmd in ["run", "validate"] {
            let mut args = vec![cmd, "bad.toml"];
            if cmd == "run" {
                args.extend(["--quiet", "--out", "never"]);
            }
            let out = byzsim(&args, &dir);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{what} ({cmd}): {stderr}");
            for needle in needles {
                assert!(stderr.contains(needle), "{what} ({cmd}): stderr lacks {needle:?}:\n{stderr}");
            }
            assert!(!dir.join("never").exists(), "{what}: a results folder was left behind");
        }
    }
}

fn summary(dir: &Path, folder: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(folder).join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_rule_dropping_every_vote_breaks_liveness_and_the_run_without_it_passes() {
    let dir = TempDir::new("adversary-votes");
    std::fs::write(dir.join("small.toml"), SMALL).unwrap();
    let clean = byzsim(&["run", "small.toml", "--quiet", "--out", "clean"], &dir);
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stderr));
    assert!(summary(&dir, "clean")["committed_tx"].as_u64().is_some_and(|c| c > 0));
    std::fs::write(dir.join("drop.toml"), format!("{SMALL}{DROP_VOTES}")).unwrap();
    let out = byzsim(&["run", "drop.toml", "--quiet", "--out", "drop"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("INVARIANT BROKEN: `liveness`"), "{stderr}");
    assert_eq!(summary(&dir, "drop")["committed_tx"].as_u64(), Some(0));
    // The same rule from --set, and under explore.
    let rule = "adversary.rules=[{ kinds = [\"vote\"], action = \"drop\" }]";
    let sets = ["--set", "adversary.mode=scripted", "--set", "adversary.delay_max_ms=100", "--set", rule];
    let out = byzsim(&[&["explore", "small.toml", "--seeds", "1..2", "--quiet"], &sets[..]].concat(), &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("2 seeds, 2 broke an invariant"), "{stdout}");
    assert!(stdout.contains("`liveness` broke"), "{stdout}");
}

#[test]
fn a_random_adversary_is_deterministic_and_changes_the_run() {
    let dir = TempDir::new("adversary-random");
    std::fs::write(dir.join("small.toml"), SMALL).unwrap();
    let sets = ["--set", "adversary.mode=random", "--set", "adversary.delay_max_ms=50", "--set", "adversary.delay=0.5"];
    let digests: Vec<String> = ["a", "b", "off"]
        .iter()
        .map(|folder| {
            let mut args = vec!["run", "small.toml", "--quiet", "--out", folder];
            if *folder != "off" {
                args.extend(sets);
            }
            let out = byzsim(&args, &dir);
            assert!(out.status.success(), "{folder}: {}", String::from_utf8_lossy(&out.stderr));
            summary(&dir, folder)["digest"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(digests[0], digests[1], "the same seed and adversary gave two runs");
    assert_ne!(digests[0], digests[2], "the adversary changed nothing");
}

#[test]
fn compare_refuses_a_kind_one_protocol_lacks() {
    let dir = TempDir::new("adversary-compare");
    let section = "[adversary]\nmode = \"random\"\ndelay_max_ms = 100\ndrop = 0.1\ntargets = [\"vote\"]\n";
    std::fs::write(dir.join("small.toml"), format!("{SMALL}{section}")).unwrap();
    let out = byzsim(&["compare", "small.toml", "--protocols", "hotstuff,algorand", "--quiet", "--out", "never"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in [
        "the scenario does not run under protocol `algorand`",
        "`algorand` has no message kind `vote`",
        "help: the kinds every compared protocol (hotstuff, algorand) has are: none",
        "small.toml:19:12: adversary.targets[0]: \"vote\" is not a message kind of algorand",
    ] {
        assert!(stderr.contains(needle), "stderr lacks {needle:?}:\n{stderr}");
    }
    assert!(!dir.join("never").exists());
    // HotStuff and leaderless share one kind name; "critical" fits every protocol (no liveness
    // bound: Algorand cannot commit within 1 s).
    let out = byzsim(&["compare", "small.toml", "--protocols", "hotstuff,leaderless", "--quiet"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has are: commit; or target \"critical\""), "{stderr}");
    let critical = ["--set", "adversary.targets=critical", "--set", "replicas.n=6", "--set", "checks={}"];
    let args = [&["compare", "small.toml", "--protocols", "hotstuff,leaderless,algorand", "--quiet"], &critical[..]];
    let out = byzsim(&[&args.concat()[..], &["--out", "res"]].concat(), &dir);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
}

/// Seed 2 of the Twins example places the copies so that no group holds a quorum: partitions
/// that end only by view stall it at view 2 for the whole run (nothing commits; the liveness
/// check, which starts when the partitions end, has nothing to check). With the example's
/// `partition_until_s = 2` every transaction commits, within the liveness bound.
#[test]
fn twins_partitions_end_at_partition_until_s() {
    let dir = TempDir::new("adversary-twins-heal");
    let example = include_str!("../examples/twins-hotstuff.toml");
    std::fs::write(dir.join("twins.toml"), example).unwrap();
    let committed = |folder: &str, sets: &[&str]| {
        let args = [&["run", "twins.toml", "--seed", "2", "--quiet", "--out", folder], sets].concat();
        let out = byzsim(&args, &dir);
        assert!(out.status.success(), "{folder}: {}", String::from_utf8_lossy(&out.stderr));
        summary(&dir, folder)["committed_tx"].as_u64().unwrap()
    };
    assert_eq!(committed("stalled", &["--set", "adversary.partition_until_s=5"]), 0);
    assert!(committed("healed", &[]) > 700);
}
