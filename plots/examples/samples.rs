//! Writes one sample chart of each kind to the folder given as the first argument.

use plots::{Chart, Kind, cdf, write_both};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".to_string()));
    std::fs::create_dir_all(&dir)?;
    let latencies_ms = |scale: f64| {
        (1..=200).map(|i| scale * (1.0 + (i as f64 * 0.37).sin().abs() * i as f64 / 40.0)).collect::<Vec<_>>()
    };
    let charts = [
        Chart::new("Commit latency CDF", "latency (ms)", "fraction of transactions", Kind::Step)
            .series("HotStuff (three-chain)", cdf(&latencies_ms(10.0)))
            .series("HotStuff (two-chain)", cdf(&latencies_ms(7.0))),
        Chart::new("Throughput vs load", "offered load (tx/s)", "throughput (tx/s)", Kind::Line)
            .series("n=4", vec![(1e3, 1e3), (1e4, 9.8e3), (1e5, 6e4), (1e6, 8e4)])
            .series("n=16", vec![(1e3, 1e3), (1e4, 9.5e3), (1e5, 3e4), (1e6, 3.5e4)])
            .x_log()
            .y_log(),
        Chart::new("Latency by committee size", "replicas", "p50 latency (ms)", Kind::Bars)
            .series("LAN", vec![(0.0, 4.0), (1.0, 6.5), (2.0, 12.0)])
            .series("WAN", vec![(0.0, 120.0), (1.0, 160.0), (2.0, 250.0)])
            .series("WAN + 1 crash", vec![(0.0, 180.0), (1.0, 210.0), (2.0, 300.0)])
            .categories(["n=4", "n=16", "n=64"]),
        Chart::new("Views per second", "time (s)", "view", Kind::Points)
            .series("replica 0", (0..40).map(|i| (i as f64 * 0.25, (i / 3) as f64)).collect::<Vec<_>>()),
        Chart::new("Nothing yet", "time (s)", "tx/s", Kind::Line),
    ];
    for (idx, chart) in charts.iter().enumerate() {
        for path in write_both(chart, &dir, &format!("sample-{idx}"))? {
            println!("{}", path.display());
        }
    }
    Ok(())
}
