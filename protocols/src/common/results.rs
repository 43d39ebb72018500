//! The per-transaction result check every protocol's execution passes: each correct replica that
//! settles a transaction settles it as the first correct replica did (outcome, and the state it
//! left in the accounts ordered with it). One check, shared: the leaderless monitor embeds it,
//! and `ResultMonitor` is the whole monitor of the protocols that execute a totally ordered log
//! (HotStuff, Algorand).
//!
//! Memory is one entry per transaction, whatever the number of replicas, so 10,000 Algorand
//! users are checked too; each report costs one indexed read (transaction ids are dense).

use sim_core::checker::Violation;
use sim_core::observe::Observer;
use sim_core::{Monitor, NodeId, Time, Tx};

use crate::ledger::{ConflictRelation, Settlement};

/// What a replica of a totally ordered protocol reports when the ledger settles a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settled {
    pub tx: Tx,
    pub settlement: Settlement,
}

/// Per settled transaction, the first correct replica to settle it and the part of its
/// settlement every correct replica must agree on.
#[derive(Debug)]
pub struct ResultCheck {
    conflicts: ConflictRelation,
    /// By transaction id (ids are dense, in submission order).
    first: Vec<Option<(NodeId, Settlement)>>,
    settled: u64,
}

impl ResultCheck {
    /// Under a total order every account is ordered with every transfer: use `SharedAccount`,
    /// and the whole settlement must agree.
    pub fn new(conflicts: ConflictRelation) -> ResultCheck {
        ResultCheck { conflicts, first: Vec::new(), settled: 0 }
    }

    /// The part of a settlement every correct replica must agree on: the outcome and the
    /// accounts whose operations are ordered with `tx`. When credits commute, other credits to
    /// the destination may run before or after `tx`, so its balance is left out (its nonce
    /// moves only with debits, which are ordered with `tx`).
    fn agreed_part(&self, tx: &Tx, settlement: Settlement) -> Settlement {
        let mut s = settlement;
        if self.conflicts == ConflictRelation::CreditsCommute && tx.from != tx.to {
            s.dst.balance = 0;
        }
        s
    }

    /// `node` (correct) settled `tx` as `settlement`: the same as the first correct replica,
    /// or a description of the difference.
    pub fn check(&mut self, node: NodeId, tx: &Tx, settlement: Settlement) -> Result<(), String> {
        let mine = self.agreed_part(tx, settlement);
        let idx = tx.id.idx();
        if idx >= self.first.len() {
            self.first.resize(idx + 1, None);
        }
        let slot = &mut self.first[idx];
        if slot.is_none() {
            self.settled += 1;
        }
        let (first, theirs) = *slot.get_or_insert((node, mine));
        if theirs == mine {
            return Ok(());
        }
        Err(format!(
            "transaction {} ({} -> {}, {}, nonce {}): {:?}, source {:?}, destination {:?}; replica {} \
             settled it {:?}, source {:?}, destination {:?}",
            tx.id.0,
            tx.from.0,
            tx.to.0,
            tx.amount,
            tx.nonce,
            mine.outcome,
            mine.src,
            mine.dst,
            first.0,
            theirs.outcome,
            theirs.src,
            theirs.dst
        ))
    }

    /// Transactions settled by some correct replica.
    pub fn settled(&self) -> u64 {
        self.settled
    }
}

/// The invariant a failed `ResultCheck` reports.
pub const SAME_RESULT: &str = "same result per transaction";

/// The monitor of a protocol that executes a totally ordered log: the per-transaction result
/// check over what correct replicas settle (the engine's log checker already checks the log).
#[derive(Debug)]
pub struct ResultMonitor {
    check: ResultCheck,
    rejected: u64,
    /// After the first violation the run stops; what follows in the same handler is not checked.
    violated: bool,
}

impl Default for ResultMonitor {
    fn default() -> Self {
        ResultMonitor { check: ResultCheck::new(ConflictRelation::SharedAccount), rejected: 0, violated: false }
    }
}

impl Monitor<Settled> for ResultMonitor {
    fn observe(&mut self, at: Time, node: NodeId, record: &Settled, world: &Observer) -> Result<(), Violation> {
        if self.violated || !world.is_correct(node) {
            return Ok(());
        }
        let before = self.check.settled();
        let checked = self.check.check(node, &record.tx, record.settlement);
        if self.check.settled() > before && !record.settlement.outcome.is_applied() {
            self.rejected += 1;
        }
        self.violated = checked.is_err();
        checked.map_err(|detail| Violation { at_ns: at.0, replica: node, invariant: SAME_RESULT, detail })
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        vec![("txs_settled", self.check.settled()), ("txs_rejected", self.rejected)]
    }
}

#[cfg(test)]
mod tests {
    use sim_core::AccountId;

    use super::*;
    use crate::ledger::{Account, Outcome};

    use sim_core::TxId;

    fn tx(id: u64) -> Tx {
        Tx { id: TxId(id), client: NodeId(9), from: AccountId(1), to: AccountId(2), amount: 5, nonce: 1, size_bytes: 1 }
    }

    fn settled(outcome: Outcome, dst_balance: u64) -> Settlement {
        let src = Account { balance: 95, nonce: 1 };
        Settlement { outcome, src, dst: Account { balance: dst_balance, nonce: 0 } }
    }

    #[test]
    fn the_first_result_is_the_reference() {
        let mut c = ResultCheck::new(ConflictRelation::SharedAccount);
        assert_eq!(c.check(NodeId(0), &tx(0), settled(Outcome::Applied, 105)), Ok(()));
        assert_eq!(c.check(NodeId(1), &tx(0), settled(Outcome::Applied, 105)), Ok(()));
        let err = c.check(NodeId(2), &tx(0), settled(Outcome::Applied, 110)).unwrap_err();
        assert!(err.contains("replica 0"), "{err}");
        let err = c.check(NodeId(3), &tx(0), settled(Outcome::InsufficientFunds, 105)).unwrap_err();
        assert!(err.contains("InsufficientFunds"), "{err}");
        assert_eq!(c.settled(), 1);
    }

    #[test]
    fn credits_that_commute_leave_the_destination_balance_out() {
        let mut c = ResultCheck::new(ConflictRelation::CreditsCommute);
        assert_eq!(c.check(NodeId(0), &tx(0), settled(Outcome::Applied, 105)), Ok(()));
        assert_eq!(c.check(NodeId(1), &tx(0), settled(Outcome::Applied, 110)), Ok(()));
        assert!(c.check(NodeId(1), &tx(0), settled(Outcome::BadNonce, 105)).is_err());
    }
}
