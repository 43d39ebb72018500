//! Per-region rows and regional models (docs/experiments.md, Per-region rows): a table with one
//! row per case and client region, a region's value in a claim and on the page; and two axis
//! values with the same overrides on different base scenarios run apart.

mod common;

use std::path::Path;

use common::{TOY, TempDir, byzsim};

/// The toy (n = 4, HotStuff, us-east1 and europe-west1 on gcp2019) with clients in both regions.
const SPEC: &str = r#"
name = "toy"
scenario = "toy.toml"

[[axis]]
name = "file"
values = ["short", "long"]
scenario = { long = "toy-long.toml" }
instead = { short = [], long = [] }

[[table]]
name = "regions"
rows = "region"
columns = ["file", "region", "region.e2e_p50_ms", "region.e2e_count", "region.model.pbft_best_e2e"]

[[expect]]
left = "long.region.europe-west1.e2e_p50_ms"
op = ">"
right = 0
why = "europe-west1's clients commit"
"#;

const PAGE: &str = "{{table regions}}\n\nus-east1 p50 {{value short.region.us-east1.e2e_p50_ms 0}}\n";

fn setup(dir: &Path, spec: &str) {
    let toy = TOY.replace("count = 2", "count = 2\nregions = [\"us-east1\", \"europe-west1\"]");
    std::fs::write(dir.join("toy.toml"), &toy).unwrap();
    std::fs::write(dir.join("toy-long.toml"), toy.replace("duration_s = 2", "duration_s = 3")).unwrap();
    std::fs::write(dir.join("toy-spec.toml"), spec).unwrap();
    std::fs::write(dir.join("toy-spec.md"), PAGE).unwrap();
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

#[test]
fn a_region_table_has_a_row_per_case_and_client_region() {
    let dir = TempDir::new("exp-regions");
    setup(&dir, SPEC);
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = read(&dir.join("out"), "toy-regions.csv");
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let keys: Vec<(&str, &str)> = rows.iter().map(|r| (r[0], r[1])).collect();
    assert_eq!(
        keys,
        [("short", "us-east1"), ("short", "europe-west1"), ("long", "us-east1"), ("long", "europe-west1")],
        "{csv}"
    );
    for r in &rows {
        let (p50, pbft): (f64, f64) = (r[2].parse().unwrap(), r[4].parse().unwrap());
        assert!(p50 > 0.0 && pbft > 0.0, "a region's p50 and its model: {csv}");
    }
    // The regions split the run's transactions.
    let count = |file: &str| rows.iter().filter(|r| r[0] == file).map(|r| r[3].parse::<f64>().unwrap()).sum::<f64>();
    let json: serde_json::Value = serde_json::from_str(&read(&dir.join("out"), "results.json")).unwrap();
    let total = json["cases"][0]["runs"][0]["summary"]["latency_ms"]["e2e"]["count"].as_f64().unwrap();
    assert_eq!(count("short"), total);
    // Same overrides, another base scenario: its own run (it once shared the first case's).
    assert!(count("long") > count("short"), "the long file ran: {csv}");
    let page = read(&dir.join("out"), "toy.md");
    assert!(page.contains(&format!("us-east1 p50 {:.0}", rows[0][2].parse::<f64>().unwrap())), "{page}");
}

#[test]
fn a_region_claim_that_does_not_hold_fails_and_a_bad_region_value_exits_2() {
    let dir = TempDir::new("exp-regions-claim");
    setup(&dir, &SPEC.replace("op = \">\"", "op = \"<\""));
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("long.region.europe-west1.e2e_p50_ms"));
    let dir = TempDir::new("exp-regions-bad");
    setup(&dir, &SPEC.replace("\"region.e2e_count\"", "\"region.goodput_tps\""));
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no region value"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
