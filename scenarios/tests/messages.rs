//! messages.csv and summary.json's messages_by_type, as a user gets them from `byzsim run`:
//! the file parses, its message rows add up to nodes.csv's totals per node, and the per
//! transaction figures match the totals.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::TempDir;

const COMMON: &str =
    "duration_s = 3\nwarmup_s = 0.5\ndrain_s = 1\n[clients]\ncount = 2\n[network]\nuniform_delay_ms = 5\n";

/// (protocol, the rest of its scenario, kinds replicas must have sent).
const CASES: &[(&str, &str, &[&str])] = &[
    ("hotstuff", "[replicas]\nn = 4\n[workload]\nrate_tps = 300\n", &["proposal", "vote", "new-view", "reply"]),
    (
        "leaderless",
        "[replicas]\nn = 6\nf = 1\n[workload]\nrate_tps = 100\n",
        &["dds-request", "dds-answer", "decision", "reply"],
    ),
    (
        "algorand",
        "[replicas]\nn = 12\n[workload]\nrate_tps = 50\n[algorand]\npriority_wait_s = 0.2\nblock_wait_s = 0.2\nstep_timeout_s = 1\n",
        &["gossip", "vote", "block", "tx"],
    ),
];

/// Runs one scenario into `dir/res`; returns the results folder.
fn run(dir: &Path, protocol: &str, rest: &str) -> PathBuf {
    let src = format!("name = \"{protocol}-kinds\"\nprotocol = \"{protocol}\"\n{COMMON}{rest}");
    std::fs::write(dir.join("s.toml"), src).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_byzsim"))
        .args(["run", "s.toml", "--quiet", "--out", "res"])
        .current_dir(dir)
        .output()
        .expect("byzsim runs");
    assert!(out.status.success(), "{protocol}: {}", String::from_utf8_lossy(&out.stderr));
    dir.join("res")
}

/// Per node: (kind, [msgs_sent, bytes_sent, msgs_recv, bytes_recv]).
type Totals = BTreeMap<u64, (String, [u64; 4])>;

/// A CSV file's rows, each as column name -> cell.
fn read(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().unwrap().clone();
    r.records()
        .map(|rec| header.iter().map(String::from).zip(rec.unwrap().iter().map(String::from)).collect())
        .collect()
}

fn counts(row: &BTreeMap<String, String>) -> [u64; 4] {
    ["msgs_sent", "bytes_sent", "msgs_recv", "bytes_recv"].map(|c| row[c].parse().unwrap())
}

fn nodes_totals(res: &Path) -> Totals {
    read(&res.join("nodes.csv"))
        .iter()
        .map(|row| (row["node"].parse().unwrap(), (row["kind"].clone(), counts(row))))
        .collect()
}

/// messages.csv summed per node (message rows only), and replicas' sends per (message, unit).
fn messages_totals(res: &Path) -> (Totals, BTreeMap<(String, String), [u64; 2]>) {
    let (mut per_node, mut sent) = (Totals::new(), BTreeMap::new());
    for row in read(&res.join("messages.csv")) {
        let c = counts(&row);
        assert!(c.iter().any(|&x| x > 0), "a row of zeros: {row:?}");
        let (kind, unit) = (row["kind"].clone(), row["unit"].clone());
        if kind == "replica" {
            let s: &mut [u64; 2] = sent.entry((row["message"].clone(), unit.clone())).or_default();
            s[0] += c[0];
            s[1] += c[1];
        }
        if unit == "message" {
            let node = per_node.entry(row["node"].parse().unwrap()).or_insert((kind, [0; 4]));
            for (a, b) in node.1.iter_mut().zip(c) {
                *a += b;
            }
        } else {
            assert_eq!(unit, "item", "unit is message or item");
        }
    }
    (per_node, sent)
}

#[test]
fn messages_csv_adds_up_to_nodes_csv_and_the_summary_per_tx() {
    for &(protocol, rest, expected) in CASES {
        let dir = TempDir::new(protocol);
        let res = run(&dir, protocol, rest);
        let nodes = nodes_totals(&res);
        let (per_node, sent) = messages_totals(&res);
        // Nodes that sent and received nothing have no row.
        let busy: Totals = nodes.into_iter().filter(|(_, (_, c))| c.iter().any(|&x| x > 0)).collect();
        assert_eq!(per_node, busy, "{protocol}: messages.csv per node against nodes.csv");

        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(res.join("summary.json")).unwrap()).unwrap();
        let by_type = &summary["messages_by_type"];
        let committed = by_type["committed_tx"].as_u64().unwrap();
        assert!(committed > 0, "{protocol}: nothing committed");
        assert_eq!(committed, summary["committed_tx"].as_u64().unwrap());
        for name in expected {
            let unit = if by_type["messages"].get(*name).is_some() { "message" } else { "item" };
            let entry = &by_type[format!("{unit}s")][*name];
            let [msgs, bytes] = sent[&(name.to_string(), unit.to_string())];
            assert!(msgs > 0, "{protocol}: no {name} sent");
            assert_eq!(entry["msgs"].as_u64(), Some(msgs), "{protocol}: {name}");
            assert_eq!(entry["bytes"].as_u64(), Some(bytes), "{protocol}: {name}");
            // serde_json's parser may round the last bit.
            let per_tx = entry["msgs_per_tx"].as_f64().unwrap();
            assert!((per_tx / (msgs as f64 / committed as f64) - 1.0).abs() < 1e-12, "{protocol}: {name} {per_tx}");
        }
    }
}
