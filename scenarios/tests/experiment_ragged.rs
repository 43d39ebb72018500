//! Ragged experiments and time series (docs/experiments.md): a variant run at some axis values
//! only, an axis value with its own base scenario and several overrides, a table and a series
//! plot of some cases; their mistakes exit 2 naming the key.

mod common;

use std::path::Path;
use std::process::Output;

use common::{TOY, TempDir, byzsim};

/// Point `a` on toy.toml at 100 tx/s; point `b` on toy-long.toml at 300 tx/s with batches of 50;
/// the variant `two` only at `b`.
const SPEC: &str = r#"
name = "toy"
scenario = "toy.toml"

[[variant]]
label = "three"
[[variant]]
label = "two"
sets = ['hotstuff.variant="two_chain"']
only = { point = ["b"] }

[[axis]]
name = "point"
values = ["a", "b"]
scenario = { b = "toy-long.toml" }
instead = { a = "workload.rate_tps=100", b = ["workload.rate_tps=300", "hotstuff.batch_size=50"] }

[[table]]
name = "b"
only = { point = ["b"] }
columns = ["variant", "point", "goodput_tps", "virtual_time_s"]

[[plot]]
name = "b-goodput"
kind = "series"
x = "window_start_s"
y = "goodput_tps"
series = "variant"
only = { point = ["b"] }
title = "goodput over time"

[[expect]]
left = "two/b.goodput_tps"
op = ">"
right = 0.5
times = "three/b.goodput_tps"
why = "both carry the load"
"#;

const PAGE: &str = "{{table b}}\n\n{{plot b-goodput}}\n\noffered {{value three/a.offered_tps 0}}\n";

fn setup(dir: &Path, spec: &str) {
    std::fs::write(dir.join("toy.toml"), TOY).unwrap();
    std::fs::write(dir.join("toy-long.toml"), TOY.replace("duration_s = 2", "duration_s = 3")).unwrap();
    std::fs::write(dir.join("toy-spec.toml"), spec).unwrap();
    std::fs::write(dir.join("toy-spec.md"), PAGE).unwrap();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

#[test]
fn a_ragged_spec_runs_only_its_cases_on_their_scenarios() {
    let dir = TempDir::new("exp-ragged");
    setup(&dir, SPEC);
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let out_dir = dir.join("out");
    let runs = read(&out_dir, "toy-runs.csv");
    let cases: Vec<&str> = runs.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(cases, ["three/a", "three/b", "two/b"], "`two` runs at `b` only: {runs}");
    let page = read(&out_dir, "toy.md");
    assert!(page.contains("| three | b |") && page.contains("| two | b |") && !page.contains("| a |"), "{page}");
    let offered: f64 = page.split("offered ").nth(1).and_then(|t| t.trim().parse().ok()).unwrap();
    assert!((50.0..150.0).contains(&offered), "point a's override, 100 tx/s: {page}");
    let json: serde_json::Value = serde_json::from_str(&read(&out_dir, "results.json")).unwrap();
    let b = &json["cases"][1];
    assert_eq!(b["case"]["scenario"], "toy-long.toml");
    assert_eq!(b["case"]["sets"], serde_json::json!(["workload.rate_tps=300", "hotstuff.batch_size=50"]));
    assert!(b["runs"][0]["summary"]["virtual_time_s"].as_f64().unwrap() > 3.0, "the long file ran: {b}");
    let windows = b["runs"][0]["windows"].as_array().map_or(0, Vec::len);
    assert!(windows >= 4, "one window per second of the run: {windows}");
    assert!(json["cases"][0]["case"].get("scenario").is_none(), "the spec's scenario is not repeated");
    let svg = read(&out_dir, "toy-b-goodput.svg");
    assert!(svg.contains("three") && svg.contains("two") && svg.contains("offered"), "every series is drawn");
}

#[test]
fn ragged_mistakes_exit_2_naming_the_key() {
    let cases = [
        (
            SPEC.replace("only = { point = [\"b\"] }\n\n[[axis]]", "only = { spot = [\"b\"] }\n\n[[axis]]"),
            "`only.spot`",
        ),
        (SPEC.replace("only = { point = [\"b\"] }\ncolumns", "only = { point = [\"c\"] }\ncolumns"), "no value `c`"),
        (SPEC.replace("scenario = { b =", "scenario = { c ="), "`scenario` names a file for `c`"),
        (SPEC.replace("y = \"goodput_tps\"", "y = \"goodput\""), "no window column `goodput`"),
        (SPEC.replace("x = \"window_start_s\"", "x = \"point\""), "a series plot's x is `window_start_s`"),
        (
            SPEC.replace("instead = { a = \"workload.rate_tps=100\", ", "instead = { "),
            "give exactly one of `key` and `set`",
        ),
    ];
    for (spec, want) in cases {
        let dir = TempDir::new("exp-ragged-errors");
        setup(&dir, &spec);
        let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
        assert_eq!(out.status.code(), Some(2), "{want}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(want) && stderr(&out).contains("toy-spec.toml"),
            "want {want:?} in:\n{}",
            stderr(&out)
        );
        assert!(!dir.join("out").exists(), "nothing is written on bad input");
    }
}
