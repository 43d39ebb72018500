//! What the protocol tests share about message kinds: totals per kind over a run, and the
//! check that a node's kinds add up to its link counters.

use sim_core::RunResult;
use sim_core::net::{KindStats, LinkStats};

/// Per kind, summed over every node: (name, traffic).
pub fn totals(r: &RunResult) -> Vec<(&'static str, KindStats)> {
    let mut out: Vec<_> = r.kinds.iter().map(|k| (k.name, KindStats::default())).collect();
    for node in &r.nodes {
        for (slot, t) in out.iter_mut().zip(&node.traffic) {
            slot.1.msgs_sent += t.msgs_sent;
            slot.1.bytes_sent += t.bytes_sent;
            slot.1.msgs_recv += t.msgs_recv;
            slot.1.bytes_recv += t.bytes_recv;
        }
    }
    out
}

/// The totals of the kind called `name`.
pub fn of(totals: &[(&'static str, KindStats)], name: &str) -> KindStats {
    totals.iter().find(|(k, _)| *k == name).unwrap_or_else(|| panic!("no kind {name}")).1
}

/// On every node, the message kinds (items aside) add up exactly to the link counters.
pub fn assert_kinds_add_up(r: &RunResult) {
    for node in &r.nodes {
        let mut sum = LinkStats { msgs_dropped: node.link.msgs_dropped, ..LinkStats::default() };
        for (t, _) in node.traffic.iter().zip(&r.kinds).filter(|(_, k)| !k.item) {
            sum.msgs_sent += t.msgs_sent;
            sum.bytes_sent += t.bytes_sent;
            sum.msgs_recv += t.msgs_recv;
            sum.bytes_recv += t.bytes_recv;
        }
        assert_eq!(sum, node.link, "the kinds of node {} do not add up to its link counters", node.id.0);
    }
}
