//! Messages and bytes per message kind (proposal, vote, DDS answer, gossip...): per node in
//! messages.csv, and per committed transaction in the summary, the message complexity per
//! phase that BFT papers compare.
//!
//! A kind's `unit` is "message" for messages on the wire (per node, their rows add up to the
//! node's totals in nodes.csv) or "item" for things carried inside a message (an Algorand
//! gossip batch's votes, say), which the carrying message's row already counts as a whole.
//! A replica's copy of its own broadcast never touches the network and is not counted.

use sim_core::net::KindName;

use crate::run::Report;

/// Per kind, what all replicas sent over the whole run: (kind, messages, bytes).
pub fn sent_by_replicas(report: &Report) -> Vec<(KindName, u64, u64)> {
    let mut out: Vec<(KindName, u64, u64)> = report.result.kinds.iter().map(|&k| (k, 0, 0)).collect();
    for node in report.result.nodes.iter().filter(|n| n.is_replica) {
        for (slot, t) in out.iter_mut().zip(&node.traffic) {
            slot.1 += t.msgs_sent;
            slot.2 += t.bytes_sent;
        }
    }
    out
}

/// `x` per committed transaction (over the whole run, as `msgs_per_tx`); `None` without one.
pub fn per_tx_of(report: &Report, x: u64) -> Option<f64> {
    let committed = report.summary.committed_tx;
    (committed > 0).then(|| x as f64 / committed as f64)
}

/// For the printed summary: one row per kind replicas sent anything of, as messages and bytes
/// per committed transaction (totals when none committed).
pub fn per_tx_rows(report: &Report) -> Vec<(String, String)> {
    let committed = report.summary.committed_tx > 0;
    let what = if committed { "per committed tx" } else { "in total (no tx committed)" };
    let mut rows = vec![("sent by replicas".to_string(), format!("messages and bytes {what}"))];
    for (kind, msgs, bytes) in sent_by_replicas(report).into_iter().filter(|k| k.1 > 0) {
        let name = if kind.item { format!("  {} (items)", kind.name) } else { format!("  {}", kind.name) };
        let value = match (per_tx_of(report, msgs), per_tx_of(report, bytes)) {
            (Some(m), Some(b)) => format!("{m:.3}  {b:.1} B"),
            _ => format!("{msgs}  {bytes} B"),
        };
        rows.push((name, value));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    use crate::results::messages_by_type as per_tx;

    fn report(duration_s: f64) -> Report {
        let src = format!(
            "duration_s = {duration_s}\n[replicas]\nn = 4\n[clients]\ncount = 2\n[network]\nuniform_delay_ms = 5\n\
             [workload]\nrate_tps = 400\n"
        );
        let s = crate::parse::load_str(Path::new("t.toml"), &src, &[], None).expect("a valid scenario");
        crate::run::run(&s, &mut |_, _| {})
    }

    #[test]
    fn rows_show_the_kinds_sent_per_committed_tx_or_in_total() {
        let r = report(1.0);
        let json = per_tx(&r);
        let vote = &json.messages["vote"];
        let (msgs, bytes) = (vote.msgs_per_tx.unwrap(), vote.bytes_per_tx.unwrap());
        let rows = per_tx_rows(&r);
        assert_eq!(rows[0].1, "messages and bytes per committed tx");
        assert!(rows.contains(&("  vote".to_string(), format!("{msgs:.3}  {bytes:.1} B"))), "{rows:?}");
        assert_eq!(json.messages["complaint"].msgs, 0);
        assert!(!rows.iter().any(|(k, _)| k.trim() == "complaint"), "kinds never sent have no row");

        // 2 ms: proposals leave, nothing commits: totals, and null per transaction.
        let r = report(0.002);
        let json = per_tx(&r);
        assert_eq!(json.committed_tx, 0);
        assert!(json.messages["proposal"].msgs_per_tx.is_none());
        let sent = json.messages["proposal"].msgs;
        assert!(sent > 0);
        let rows = per_tx_rows(&r);
        assert_eq!(rows[0].1, "messages and bytes in total (no tx committed)");
        let bytes = json.messages["proposal"].bytes;
        assert!(rows.contains(&("  proposal".to_string(), format!("{sent}  {bytes} B"))), "{rows:?}");
    }
}
