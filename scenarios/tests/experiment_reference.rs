//! Published data joined to an experiment's cases (`[[reference]]`), arithmetic on values, and
//! per-axis-value search starts: a joined value reaches tables, claims and the page; a wrong
//! published number fails its claim; an absent file empties the columns and skips the claims
//! that need it; a `match` column the file lacks exits 2.

mod common;

use common::{TOY, TempDir, byzsim};

const SPEC: &str = r#"
name = "toy"
scenario = "toy.toml"

[[variant]]
label = "three"
keys = { series = "chained" }

[[axis]]
name = "batch"
key = "hotstuff.batch_size"
values = [50, 400]

[rates]
low = 100

[[reference]]
name = "pub"
file = "published.csv"
match = { batch = "batch", series = "series" }

[[table]]
name = "main"
columns = ["batch", "pub.goodput_tps", { value = "low.goodput_tps / pub.goodput_tps", header = "sim / pub" }]

[[expect]]
left = "three/400.low.goodput_tps / pub.goodput_tps"
op = ">"
right = 0.8
why = "the published toy carries its load too"
"#;

const PAGE: &str =
    "{{reference pub}}\n\n{{table main}}\n\nratio {{value three/50.low.goodput_tps / pub.goodput_tps 3}}\n";

/// The published numbers: 100 tx/s at both batches (as the toy carries), and a row of another
/// series that must not be joined.
const CSV: &str = "batch,series,goodput_tps\n50,chained,100\n400,chained,100\n400,other,1\n";

fn run(dir: &TempDir, spec: &str, csv: Option<&str>) -> std::process::Output {
    run_with(dir, spec, csv, PAGE)
}

fn run_with(dir: &TempDir, spec: &str, csv: Option<&str>, page: &str) -> std::process::Output {
    std::fs::write(dir.join("toy.toml"), TOY).unwrap();
    std::fs::write(dir.join("toy-spec.toml"), spec).unwrap();
    std::fs::write(dir.join("toy-spec.md"), page).unwrap();
    if let Some(csv) = csv {
        std::fs::write(dir.join("published.csv"), csv).unwrap();
    }
    byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], dir)
}

fn page(dir: &TempDir) -> String {
    std::fs::read_to_string(dir.join("out").join("toy.md")).unwrap()
}

#[test]
fn published_data_joins_by_key_into_tables_claims_and_the_page() {
    let dir = TempDir::new("exp-ref");
    let out = run(&dir, SPEC, Some(CSV));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("claims: 1 hold, 0 fail, 0 not run"));
    let page = page(&dir);
    assert!(page.contains("Published data: `published.csv`") && page.contains("matched 2 cases"), "{page}");
    assert!(
        page.contains("| batch | pub: goodput_tps | sim / pub |") && page.contains("| 400 | 100.00 | 1.09 |"),
        "{page}"
    );
    assert!(page.contains("\nratio 1.087\n"), "{page}");
}

#[test]
fn a_wrong_published_number_fails_its_claim() {
    // The planted mistake: the published goodput at batch 400 ten times what the toy carries.
    let dir = TempDir::new("exp-ref-wrong");
    let out = run(&dir, SPEC, Some(&CSV.replace("400,chained,100", "400,chained,1000")));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("claim does not hold"));
}

/// `op = "within"`: a ratio within `right` of 1 either way. The toy carries 1.09x the published
/// 100 tx/s at batch 400: within 0.15, not within 0.05, and 1.09 is also not within 0.05 of 1
/// from below (a one-sided check would pass it).
#[test]
fn a_within_claim_bounds_a_ratio_on_both_sides() {
    let dir = TempDir::new("exp-ref-within");
    let claim = |tol: &str| SPEC.replace("op = \">\"\nright = 0.8", &format!("op = \"within\"\nright = {tol}"));
    let out = run(&dir, &claim("0.15"), Some(CSV));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    let out = run(&dir, &claim("0.05"), Some(CSV));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not within 1 +- 0.05"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    // The published number 1.5x the toy's: the ratio 0.73 is below, not above.
    let out = run(&dir, &claim("0.15"), Some(&CSV.replace("400,chained,100", "400,chained,150")));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_absent_file_empties_its_columns_and_skips_its_claims() {
    let dir = TempDir::new("exp-ref-absent");
    let out = run(&dir, SPEC, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("claims: 0 hold, 0 fail, 1 not run"));
    let page = page(&dir);
    assert!(page.contains("**The published data `published.csv` was not found**"), "{page}");
    assert!(page.contains("| 400 |  |  |") && page.contains("\nratio -\n"), "{page}");
}

#[test]
fn a_match_column_the_file_lacks_exits_2_naming_it() {
    let dir = TempDir::new("exp-ref-bad");
    let out = run(&dir, SPEC, Some(&CSV.replace("series", "kind")));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("reference `pub`: the file has no column `series`"), "{err}");
    assert!(!dir.join("out").exists(), "nothing is written");
}

#[test]
fn a_variant_starts_its_search_at_its_value_for_the_case() {
    let dir = TempDir::new("exp-ref-starts");
    let spec = SPEC
        .replace("[rates]\nlow = 100", "[search]\ngoodput_share = 0.9\nstart_tps = 100\nstep = 8\nlatency_share = 0.5")
        .replace("low.", "capacity.")
        .replace("keys = {", "search_starts = { batch = { 50 = 300 } }\nkeys = {");
    let out = run_with(&dir, &spec, Some(CSV), &PAGE.replace("low.", "capacity."));
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));
    let runs = std::fs::read_to_string(dir.join("out").join("toy-runs.csv")).unwrap();
    let first =
        |case: &str| runs.lines().find(|l| l.starts_with(case)).map(|l| l.split(',').nth(1).unwrap().to_string());
    assert_eq!(first("three/50,").as_deref(), Some("search @300"), "{runs}");
    assert_eq!(first("three/400,").as_deref(), Some("search @100"), "{runs}");
}

#[test]
fn cases_on_different_base_scenarios_never_share_runs() {
    // Two axis values with the same (no) overrides but another base scenario each: the second
    // once took the first's runs.
    let dir = TempDir::new("exp-two-files");
    std::fs::write(dir.join("toy.toml"), TOY).unwrap();
    std::fs::write(dir.join("toy-b.toml"), TOY.replace("rate_tps = 200", "rate_tps = 50")).unwrap();
    let spec = "name = \"toy\"\nscenario = \"toy.toml\"\n[[axis]]\nname = \"file\"\nvalues = [\"a\", \"b\"]\n\
                scenario = { b = \"toy-b.toml\" }\ninstead = { a = [], b = [] }\n\
                [[table]]\nname = \"main\"\ncolumns = [\"file\", \"offered_tps\"]\n";
    std::fs::write(dir.join("toy-spec.toml"), spec).unwrap();
    std::fs::write(dir.join("toy-spec.md"), "{{table main}}\n").unwrap();
    let out = byzsim(&["experiment", "toy-spec.toml", "--out", "out", "-q"], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(dir.join("out").join("toy.md")).unwrap();
    assert!(page.contains("| a | 212.7 |") && page.contains("| b | 53.3 |"), "{page}");
}

/// A points plot's published series at its own x (`also_x`): the SVG moves with it, and an
/// `also_x` the spec cannot evaluate is refused before anything runs.
#[test]
fn a_published_series_is_drawn_at_its_own_x() {
    let dir = TempDir::new("exp-ref-also-x");
    let csv = "batch,series,goodput_tps,at_tps\n50,chained,100,900\n400,chained,100,1900\n";
    let plot = "\n[[plot]]\nname = \"curve\"\nkind = \"points\"\nseries = \"variant\"\nx = \"batch\"\n\
                y = \"low.goodput_tps\"\nalso = \"pub.goodput_tps\"\ntitle = \"t\"\n";
    let svg = |extra: &str| {
        let spec = format!("{SPEC}{plot}{extra}");
        let out = run(&dir, &spec, Some(csv));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let svg = std::fs::read_to_string(dir.join("out").join("toy-curve.svg")).unwrap();
        std::fs::remove_dir_all(dir.join("out")).unwrap();
        svg
    };
    let at_batch = svg("");
    let at_own = svg("also_x = \"pub.at_tps\"\n");
    assert_ne!(at_batch, at_own, "the published points moved to x = 900 and 1900");
    assert!(at_own.contains("1,800") || at_own.contains("1800"), "the x axis reaches the published points");
    let out = run(&dir, &format!("{SPEC}{plot}also_x = \"pub.nothing\"\n"), Some(csv));
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("also_x"), "{}", String::from_utf8_lossy(&out.stderr));
}
