//! The safety checker every commit passes through: agreement on each log slot among correct
//! replicas, gap-free logs, and every transaction committed at most once per replica.

use crate::bitset::TxSet;
use crate::digest::hash_words;
use crate::ids::{NodeId, Tx};

/// A broken invariant: the run stops and reports it with its seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub at_ns: u64,
    pub replica: NodeId,
    pub invariant: &'static str,
    pub detail: String,
}

/// Checks commits reported as (replica, slot, entry id, transactions).
///
/// Its memory is O(slots + transactions + replicas), not O(replicas x transactions), so that
/// thousands of replicas (Algorand users) can be checked: the first correct replica to commit
/// a slot fixes its entry and a fingerprint of its transaction list, every other correct
/// replica must commit exactly that, and exactly-once is checked on that one canonical log.
#[derive(Debug)]
pub struct LogChecker {
    /// Per slot: (entry id, fingerprint of the transaction ids) of the first correct commit.
    slots: Vec<Option<(u64, u64)>>,
    /// Per replica: the next slot it may commit (logs are gap-free).
    next_slot: Vec<u64>,
    /// The transactions of the canonical log.
    committed: TxSet,
    correct: Vec<bool>,
}

impl LogChecker {
    /// `correct[i]` says whether replica i follows the protocol (only those are checked).
    pub fn new(correct: Vec<bool>) -> LogChecker {
        let n = correct.len();
        LogChecker { slots: Vec::new(), next_slot: vec![1; n], committed: TxSet::default(), correct }
    }

    pub fn check(&mut self, at_ns: u64, replica: NodeId, slot: u64, entry: u64, txs: &[Tx]) -> Result<(), Violation> {
        if !self.correct[replica.idx()] {
            return Ok(());
        }
        let fail = |invariant, detail| Err(Violation { at_ns, replica, invariant, detail });
        let expected = self.next_slot[replica.idx()];
        if slot != expected {
            return fail("gap-free log", format!("committed slot {slot}, next expected {expected}"));
        }
        self.next_slot[replica.idx()] = slot + 1;
        let idx = usize::try_from(slot).expect("slot fits in memory");
        if self.slots.len() <= idx {
            self.slots.resize(idx + 1, None);
        }
        let fingerprint = txs.iter().fold(txs.len() as u64, |h, tx| hash_words(&[h, tx.id.0]));
        match self.slots[idx] {
            None => {
                self.slots[idx] = Some((entry, fingerprint));
                for tx in txs {
                    if !self.committed.insert(tx.id) {
                        return fail(
                            "exactly-once",
                            format!("transaction {} committed twice (again at slot {slot})", tx.id.0),
                        );
                    }
                }
            }
            Some((first, _)) if first != entry => {
                return fail(
                    "agreement",
                    format!("slot {slot}: entry {entry:#018x}, but another correct replica committed {first:#018x}"),
                );
            }
            Some((_, first_fp)) if first_fp != fingerprint => {
                return fail(
                    "agreement",
                    format!("slot {slot}: entry {entry:#018x} with other transactions than another correct replica's"),
                );
            }
            Some(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, TxId};

    fn tx(id: u64) -> Tx {
        Tx { id: TxId(id), client: NodeId(9), from: AccountId(0), to: AccountId(1), amount: 1, nonce: 1, size_bytes: 1 }
    }

    #[test]
    fn agreeing_logs_pass() {
        let mut c = LogChecker::new(vec![true; 3]);
        for r in 0..3 {
            assert_eq!(c.check(0, NodeId(r), 1, 0xA, &[tx(0), tx(1)]), Ok(()));
            assert_eq!(c.check(0, NodeId(r), 2, 0xB, &[tx(2)]), Ok(()));
        }
    }

    #[test]
    fn conflicting_commit_is_reported() {
        let mut c = LogChecker::new(vec![true; 2]);
        c.check(0, NodeId(0), 1, 0xA, &[tx(0)]).unwrap();
        let v = c.check(5, NodeId(1), 1, 0xB, &[tx(1)]).unwrap_err();
        assert_eq!((v.invariant, v.replica, v.at_ns), ("agreement", NodeId(1), 5));
    }

    #[test]
    fn double_commit_and_gaps_are_reported() {
        let mut c = LogChecker::new(vec![true; 1]);
        c.check(0, NodeId(0), 1, 0xA, &[tx(7)]).unwrap();
        assert_eq!(c.check(0, NodeId(0), 2, 0xB, &[tx(7)]).unwrap_err().invariant, "exactly-once");
        let mut c = LogChecker::new(vec![true; 1]);
        assert_eq!(c.check(0, NodeId(0), 2, 0xA, &[]).unwrap_err().invariant, "gap-free log");
    }

    #[test]
    fn the_same_entry_with_other_transactions_is_reported() {
        let mut c = LogChecker::new(vec![true; 2]);
        c.check(0, NodeId(0), 1, 0xA, &[tx(1), tx(2)]).unwrap();
        let v = c.check(3, NodeId(1), 1, 0xA, &[tx(1)]).unwrap_err();
        assert_eq!((v.invariant, v.replica), ("agreement", NodeId(1)));
    }

    #[test]
    fn byzantine_replicas_are_not_checked() {
        let mut c = LogChecker::new(vec![true, false]);
        c.check(0, NodeId(0), 1, 0xA, &[]).unwrap();
        assert_eq!(c.check(0, NodeId(1), 1, 0xB, &[]), Ok(()));
    }
}
