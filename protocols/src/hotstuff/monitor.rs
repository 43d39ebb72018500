//! HotStuff's invariant monitor: at most one certified block per view and phase, over the
//! certificates correct replicas form (the lemma every HotStuff safety argument starts from).
//!
//! A certificate needs n-f distinct signers, so two certificates of one view and phase for
//! different blocks share at least f+1 signers, one of them correct: a correct replica signed
//! two votes in one phase of one view. With at most f Byzantine replicas this cannot happen
//! whatever the network does, so the check can fail only through a protocol bug. It is checked
//! where a certificate is formed, at once, which catches a double vote even when the leader uses
//! only the first of its two certificates and agreement never breaks in that run. Memory: one
//! entry per certified (view, phase).

use std::collections::BTreeMap;

use sim_core::checker::Violation;
use sim_core::observe::Observer;
use sim_core::{Monitor, NodeId, Time};

use super::{BlockId, Phase, View};
use crate::common::results::{ResultMonitor, Settled};

/// What a HotStuff replica reports to the monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HsRecord {
    /// This replica aggregated n-f votes of `phase` in `view` for `block` into a certificate.
    Certified { view: View, phase: Phase, block: BlockId },
    /// This replica's ledger settled a transaction (the per-transaction result check).
    Settled(Settled),
}

/// Checks `one_certificate_per_view`, and the per-transaction result check, over what correct
/// replicas report.
#[derive(Debug, Default)]
pub struct HotStuffMonitor {
    results: ResultMonitor,
    /// The first certified block per (view, phase), and the correct replica that formed it.
    certified: BTreeMap<(View, Phase), (BlockId, NodeId)>,
    certificates: u64,
}

impl HotStuffMonitor {
    pub fn new() -> HotStuffMonitor {
        HotStuffMonitor::default()
    }
}

impl Monitor<HsRecord> for HotStuffMonitor {
    fn observe(&mut self, at: Time, node: NodeId, record: &HsRecord, world: &Observer) -> Result<(), Violation> {
        let (view, phase, block) = match *record {
            HsRecord::Settled(settled) => return self.results.observe(at, node, &settled, world),
            HsRecord::Certified { view, phase, block } => (view, phase, block),
        };
        if !world.is_correct(node) {
            return Ok(());
        }
        self.certificates += 1;
        let (first, by) = *self.certified.entry((view, phase)).or_insert((block, node));
        if first == block {
            return Ok(());
        }
        let detail = format!(
            "view {} {phase:?}: certified block {block:#018x}, but replica {} certified {first:#018x} in the same \
             view and phase (a correct replica voted twice, or more than f replicas are Byzantine)",
            view.0, by.0
        );
        Err(Violation { at_ns: at.0, replica: node, invariant: "one_certificate_per_view", detail })
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        let mut counters = vec![("certificates_formed", self.certificates)];
        counters.extend(self.results.counters());
        counters
    }
}
