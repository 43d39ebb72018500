//! Why a run stopped, in words a user can act on: the saturated CPU or link behind a liveness
//! stop, and which `[limits]` key ended a run early and what to change.

use sim_core::cpu::RecentBusy;
use sim_core::{Limit, NodeReport, Stop, Time};

use crate::run::Report;

/// A resource at least this busy over the recent window counts as saturated.
pub const SATURATED_PCT: f64 = 95.0;

/// One resource's recent utilisation.
struct Busy {
    what: String,
    /// Busy time over the window's capacity, in percent (may exceed 100 when work was charged
    /// ahead: a queue's backlog).
    pct: f64,
    window_s: f64,
    note: String,
}

/// "overload: ..." when a replica's CPU or a node's link was saturated over the last seconds
/// before the run stopped; None otherwise. Meant for a liveness stop: an offered load beyond
/// what the replicas can process delays commits without any protocol bug.
pub fn overload(report: &Report) -> Option<String> {
    let at = report.result.end_time;
    let nodes = &report.result.nodes;
    let placements = &report.lowered.sim.net.nodes;
    let cpus = nodes.iter().filter(|n| n.is_replica && n.cores > 0).map(|n| cpu_busy(n, at));
    let links = nodes.iter().zip(placements).flat_map(|(n, p)| {
        let up = (p.uplink_bps > 0).then(|| link_busy(n, "uplink", p.uplink_bps, &n.uplink_recent, at));
        let down = (p.downlink_bps > 0).then(|| link_busy(n, "downlink", p.downlink_bps, &n.downlink_recent, at));
        up.into_iter().chain(down)
    });
    // The busiest resource; the first one listed on ties.
    let busiest = cpus.chain(links).fold(None::<Busy>, |best, b| match best {
        Some(best) if best.pct >= b.pct => Some(best),
        _ => Some(b),
    })?;
    (busiest.pct >= SATURATED_PCT).then(|| {
        format!(
            "overload: {}{} was {:.1}% busy over the last {:.1} s before the stop; the offered load exceeds what \
             it can process, this is not necessarily a protocol bug",
            busiest.what,
            busiest.note,
            busiest.pct.min(100.0),
            busiest.window_s
        )
    })
}

fn node_name(n: &NodeReport) -> String {
    if n.is_replica { format!("replica {}", n.id.0) } else { format!("client {}", n.id.0) }
}

fn cpu_busy(n: &NodeReport, at: Time) -> Busy {
    let (busy_ns, window_ns) = n.cpu_recent.window(at);
    let capacity_ns = window_ns as f64 * f64::from(n.cores);
    let waiting = if n.cpu_waiting > 0 { format!(", {} inputs waiting", n.cpu_waiting) } else { String::new() };
    Busy {
        what: format!("{}'s CPU", node_name(n)),
        pct: percent(busy_ns, capacity_ns),
        window_s: window_ns as f64 / 1e9,
        note: format!(" ({} core{}{waiting})", n.cores, if n.cores == 1 { "" } else { "s" }),
    }
}

fn link_busy(n: &NodeReport, which: &str, bps: u64, recent: &RecentBusy, at: Time) -> Busy {
    let (busy_ns, window_ns) = recent.window(at);
    Busy {
        what: format!("{}'s {which}", node_name(n)),
        pct: percent(busy_ns, window_ns as f64),
        window_s: window_ns as f64 / 1e9,
        note: format!(" ({} Mbit/s)", bps as f64 / 1e6),
    }
}

fn percent(busy_ns: u64, capacity_ns: f64) -> f64 {
    if capacity_ns > 0.0 { 100.0 * busy_ns as f64 / capacity_ns } else { 0.0 }
}

/// For a run a limit stopped: what happened, the `[limits]` key and its value, and what to
/// change. None for any other stop.
pub fn limit_stop(report: &Report) -> Option<String> {
    let Stop::Limit { limit, detail } = &report.result.stop else { return None };
    let l = &report.scenario.limits;
    let value = match limit {
        Limit::Events => l.max_events,
        Limit::EventQueue => l.max_queue,
        Limit::CpuQueue { .. } => l.max_cpu_queue,
        Limit::Transactions => l.max_transactions,
        Limit::Stalled => l.max_stalled_events,
    };
    let fix = match limit {
        Limit::Events => "raise it to run further (the run takes longer, not more memory)",
        Limit::EventQueue => "lower the offered load, or raise it (about 150 bytes per pending event)",
        Limit::CpuQueue { .. } => {
            "lower workload.rate_tps or give the replicas more cores (cpu.cores), or raise it \
             (about 100 bytes per waiting input)"
        }
        Limit::Transactions => "lower workload.rate_tps or duration_s, or raise it (about 100 bytes per transaction)",
        Limit::Stalled => "raise it only if that many events at one instant are expected",
    };
    Some(format!("the run stopped early: {detail}\n  limit: [limits] {} = {value}; {fix}", limit.key()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{parse, run};

    /// HotStuff on 4 replicas, every transaction to every replica, a liveness bound of 1 s.
    const BASE: &str = r#"
duration_s = 4
[replicas]
n = 4
[clients]
count = 2
send_to = "all"
[network]
uniform_delay_ms = 5
[workload]
rate_tps = 300
[checks]
liveness_bound_s = 1
"#;

    /// The invariant that stopped the run (or the stop), and the diagnosis.
    fn diagnose(sets: &[&str]) -> (String, Option<String>) {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let s = parse::load_str(Path::new("t.toml"), BASE, &sets, None).expect("valid");
        let report = run::run(&s, &mut |_, _| {});
        let stop = match &report.result.stop {
            Stop::Violation(v) => v.invariant.to_string(),
            other => format!("{other:?}"),
        };
        (stop, overload(&report))
    }

    #[test]
    fn a_saturated_cpu_is_named_with_its_utilisation() {
        // 1 ms per input on one core: at most 1,000 inputs/s, against 3,000 requests/s.
        let (stop, why) = diagnose(&["cpu.cores=1", "cpu.base_us=1000", "workload.rate_tps=3000"]);
        assert_eq!(stop, "liveness");
        let why = why.expect("an overload");
        assert!(why.starts_with("overload: replica "), "{why}");
        assert!(why.contains("'s CPU (1 core, "), "{why}");
        let pct: f64 = why.split(" was ").nth(1).and_then(|w| w.split('%').next()).unwrap().parse().unwrap();
        assert!(pct >= SATURATED_PCT, "{why}");
    }

    #[test]
    fn a_saturated_uplink_is_named_with_its_bandwidth() {
        // No CPU model; the leader's proposals (3,000 tx/s of 256 bytes to 3 others, about
        // 18 Mbit/s) through a 1 Mbit/s uplink.
        let (stop, why) = diagnose(&["cpu.cores=0", "replicas.uplink_mbps=1", "workload.rate_tps=3000"]);
        assert_eq!(stop, "liveness");
        let why = why.expect("an overload");
        assert!(why.starts_with("overload: replica 0's uplink (1 Mbit/s) was 100.0% busy"), "{why}");
    }

    #[test]
    fn a_liveness_stop_without_overload_has_no_diagnosis() {
        // Two of four replicas crash: no quorum, idle CPUs.
        let crashes = "faults.crashes=[{ replica = 2, at_s = 1 }, { replica = 3, at_s = 1 }]";
        let (stop, why) = diagnose(&[crashes]);
        assert_eq!((stop.as_str(), why), ("liveness", None));
    }
}
