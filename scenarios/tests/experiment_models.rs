//! Model columns of `byzsim experiment` (`model.NAME`): computed per case from the case's
//! scenario, shown in tables, compared in claims; an unknown model exits 2 naming the models.

mod common;

use common::{TempDir, byzsim};

/// Four leaderless replicas, one second of load over 50 accounts.
const TOY: &str = r#"
name = "toy-leaderless"
protocol = "leaderless"
duration_s = 1
warmup_s = 0.2
drain_s = 1
[replicas]
n = 4
[clients]
count = 2
[network]
uniform_delay_ms = 5
[workload]
rate_tps = 100
accounts = 50
zipf_s = 1.0
[leaderless]
variant = "epaxos"
[cpu]
cores = 0
"#;

const SPEC: &str = r#"
name = "toy"
scenario = "toy.toml"

[[axis]]
name = "conflicts"
key = "leaderless.conflicts"
values = ["shared_account", "credits_commute"]

[[table]]
name = "main"
columns = ["conflicts", "model.conflict_probability", "model.conflicts_in_flight", "fast_path_pct"]

[[expect]]
left = "credits_commute.model.conflict_probability"
op = "<"
right = "shared_account.model.conflict_probability"
why = "commuting credits leave fewer pairs in conflict"
"#;

fn run(dir: &TempDir, spec: &str) -> std::process::Output {
    std::fs::write(dir.join("toy.toml"), TOY).unwrap();
    std::fs::write(dir.join("toy-spec.toml"), spec).unwrap();
    std::fs::write(
        dir.join("toy-spec.md"),
        "{{table main}}\n\nP {{value shared_account.model.conflict_probability 3}}\n",
    )
    .unwrap();
    byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], dir)
}

#[test]
fn a_model_column_is_computed_per_case_and_claims_compare_it() {
    let dir = TempDir::new("exp-models");
    let out = run(&dir, SPEC);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("claims: 1 hold, 0 fail"));
    let page = std::fs::read_to_string(dir.join("out").join("toy.md")).unwrap();
    assert!(page.contains("| conflicts | P(conflict) | conflicting commands in flight |"), "{page}");
    let row = page.lines().find(|l| l.starts_with("| shared_account |")).expect("a row per case");
    assert!(row.split('|').nth(2).is_some_and(|p| p.trim().parse::<f64>().is_ok_and(|p| p > 0.0)), "{row}");
    assert!(page.contains("\nP 0."), "{page}");
}

#[test]
fn an_unknown_model_exits_2_naming_the_models() {
    let dir = TempDir::new("exp-models-bad");
    let out = run(&dir, &SPEC.replace("model.conflicts_in_flight", "model.conflicts_in_air"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no model `conflicts_in_air`") && err.contains("conflict_probability"), "{err}");
}
