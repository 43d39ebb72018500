//! The experiment format's parts the figure sets needed, on a tiny n = 4 case: a variant
//! restricted to some axis values, bar charts of a text value, `isolate = true` in the spec, and
//! the registry metrics of a run's end (`ended_early`) and its cost per wall second.

mod common;

use std::path::Path;
use std::process::Output;

use common::{TOY, TempDir, byzsim};

/// `three` runs only batch 50: three cases, not four.
const SPEC: &str = r#"
name = "toy"
scenario = "toy.toml"
isolate = true

[[variant]]
label = "three"
only = { batch = [50] }
[[variant]]
label = "two"
sets = ['hotstuff.variant="two_chain"']

[[axis]]
name = "batch"
key = "hotstuff.batch_size"
values = [50, 400]

[[table]]
name = "main"
columns = ["variant", "batch", "goodput_tps", "ended_early", "sim_s_per_wall_s"]

[[plot]]
name = "bars"
kind = "bars"
x = "variant"
y = "goodput_tps"
title = "goodput"

[[expect]]
left = "three/50.ended_early"
op = "<="
right = 0
why = "a toy run ends at its end"
"#;

const PAGE: &str = "# Toy\n\n{{table main}}\n\n{{plot bars}}\n";

fn setup(dir: &Path, spec: &str) {
    std::fs::write(dir.join("toy.toml"), TOY).unwrap();
    std::fs::write(dir.join("toy-spec.toml"), spec).unwrap();
    std::fs::write(dir.join("toy-spec.md"), PAGE).unwrap();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_variant_runs_its_values_bars_draw_text_and_the_spec_isolates() {
    let dir = TempDir::new("expf-values");
    setup(&dir, SPEC);
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("claims: 1 hold, 0 fail"));
    let out_dir = dir.join("out");
    let page = std::fs::read_to_string(out_dir.join("toy.md")).unwrap();
    assert!(
        page.contains("| three | 50 |") && page.contains("| two | 50 |") && page.contains("| two | 400 |"),
        "{page}"
    );
    assert!(!page.contains("| three | 400 |"), "`three` runs batch 50 only:\n{page}");
    assert!(page.contains("stopped before the end (1 = yes)") && page.contains("![goodput](toy-bars.svg)"), "{page}");
    let svg = std::fs::read_to_string(out_dir.join("toy-bars.svg")).unwrap();
    assert!(svg.contains("three") && svg.contains("two"), "the categories are the variants");
    let runs = std::fs::read_to_string(out_dir.join("toy-runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 3, "{runs}");
    // `isolate = true`: every run was a child process, so it has a cost.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap()).expect("results.json");
    for case in json["cases"].as_array().unwrap() {
        assert!(case["runs"][0]["summary"]["cost"]["wall_s"].as_f64().unwrap() > 0.0, "{case}");
    }
}

#[test]
fn a_variants_values_must_name_an_axis() {
    let dir = TempDir::new("expf-bad");
    setup(&dir, &SPEC.replace("only = { batch = [50] }", "only = { batches = [50] }"));
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("variant `three`: `only.batches` names no axis"), "{}", stderr(&out));
    assert!(!dir.join("out").exists());
}
