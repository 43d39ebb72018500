//! `[cpu] request_cores` in a scenario: the request pool's busy time reaches the summary
//! (`request_cpu_busy_ms`, `request_cpu_util_max`) and nodes.csv (`request_cpu_util`), while a
//! scenario without one keeps its summary and nodes.csv as before.

mod common;

use common::{TOY, TempDir, byzsim};

#[test]
fn a_request_pool_shows_in_the_summary_and_nodes_csv() {
    let dir = TempDir::new("pools");
    std::fs::write(dir.join("toy.toml"), TOY).unwrap();
    for (pools, set) in [(false, "cpu.request_cores=0"), (true, "cpu.request_cores=1")] {
        let out = dir.join(if pools { "with" } else { "without" });
        let status = byzsim(&["run", "toy.toml", "--set", set, "--out", out.to_str().unwrap()], &dir);
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        let nodes = std::fs::read_to_string(out.join("nodes.csv")).unwrap();
        let header = nodes.lines().next().unwrap();
        assert_eq!(summary.contains("\"request_cpu_busy_ms\""), pools, "{summary}");
        assert_eq!(header.contains(",cpu_util,request_cpu_util,"), pools, "{header}");
        if pools {
            let replica = nodes.lines().nth(1).unwrap();
            let util: f64 = replica.split(',').nth(11).unwrap().parse().unwrap();
            assert!(util > 0.0 && util < 1.0, "{replica}");
        }
    }
}
