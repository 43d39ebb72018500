//! The liveness check's view of progress: how many transactions were confirmed over the last
//! bound, and whether a late transaction is what a backlog explains (overload) or a stall.
//!
//! A transaction past its bound is a violation unless the transactions still pending would take
//! more than half the bound to drain at the rate of the last bound's confirmations: queued
//! behind such a backlog, and served in whatever order the protocol picks (a leader's batch, a
//! mempool's digests: not first come, first served), a transaction can wait past the bound
//! without any replica being stuck. Such a run is overloaded; it goes on, and the check keeps
//! watching: a bound with no confirmation at all, or a late transaction behind a backlog the
//! recent rate drains in less than half the bound (one starved while others commit), is still a
//! violation.
//!
//! A ledger executes an account's transfers in nonce order and holds one whose earlier nonce has
//! not executed. A committed transaction's bound runs from when it could execute: its
//! submission, or its account's previous transaction's execution if later
//! (`Observer::bound_starts`). The earlier one may be legitimately slow (submitted before the
//! last fault, so not checked, or pushed back by a full request queue), and the later one then
//! waits through no fault of the protocol. Committing waits for no other transaction, so an
//! uncommitted one is late a bound after its submission; a ledger that holds one once the gap is
//! filled, or a protocol that never executes what it commits, is late a bound after the gap
//! filled.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::ids::TxId;
use crate::time::{Span, Time};

/// Buckets of the confirmation ring, each an eighth of the bound: the current one and the eight
/// before it, so that "the last bound" always covers a whole bound (up to 9/8 of it).
const BUCKETS: usize = 9;

/// Confirmations per eighth of the bound, over the last bound (a ring of buckets, each tagged
/// with its index since time zero).
#[derive(Clone, Debug)]
pub struct Progress {
    width_ns: u64,
    buckets: [(u64, u64); BUCKETS],
}

impl Progress {
    pub fn new(bound: Span) -> Progress {
        assert!(bound.0 > 0, "a liveness bound is positive");
        Progress { width_ns: (bound.0 / 8).max(1), buckets: [(u64::MAX, 0); BUCKETS] }
    }

    /// A transaction was confirmed at `now`.
    pub fn confirmed(&mut self, now: Time) {
        let index = now.0 / self.width_ns;
        let slot = &mut self.buckets[(index % BUCKETS as u64) as usize];
        if slot.0 != index {
            *slot = (index, 0);
        }
        slot.1 += 1;
    }

    /// Confirmations in the bucket of `now` and the eight before it.
    pub fn over_bound(&self, now: Time) -> u64 {
        let index = now.0 / self.width_ns;
        let recent = |&&(i, _): &&(u64, u64)| i != u64::MAX && i <= index && i + BUCKETS as u64 > index;
        self.buckets.iter().filter(recent).map(|&(_, count)| count).sum()
    }
}

/// Committed transactions late by their submission but not by when they could execute, each
/// filed under the earliest time it can be late: a bound after it could execute, or, while its
/// account's previous transaction has not executed, a bound after it was last looked at. Only late
/// transactions come here, so a run whose transactions are on time never touches it.
#[derive(Clone, Debug, Default)]
pub struct Waiting {
    due: BinaryHeap<Reverse<(Time, TxId)>>,
}

impl Waiting {
    /// Files `tx`, which could execute from `ready` (`Time::MAX`: not yet known), looked at `now`.
    pub fn file(&mut self, tx: TxId, ready: Time, now: Time, bound: Span) {
        let due = ready.min(now) + bound;
        assert!(due > now, "only a transaction not late by its ready time waits");
        self.due.push(Reverse((due, tx)));
    }

    /// The waiting transaction due first, if it is due at `now`.
    pub fn due_at(&self, now: Time) -> Option<TxId> {
        self.due.peek().filter(|Reverse((due, _))| *due <= now).map(|Reverse((_, tx))| *tx)
    }

    /// Takes the transaction `due_at` returned off the list.
    pub fn take(&mut self, tx: TxId) {
        let taken = self.due.pop().map(|Reverse((_, id))| id);
        assert_eq!(taken, Some(tx), "takes the transaction due first");
    }

    pub fn ids(&self) -> impl Iterator<Item = TxId> + '_ {
        self.due.iter().map(|Reverse((_, tx))| *tx)
    }
}

/// The first time the check found a late transaction that the backlog explains, and the
/// largest backlog it saw after that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backlog {
    pub at: Time,
    /// Transactions submitted after the last fault, not yet confirmed, at `at`.
    pub pending: u64,
    /// Transactions confirmed over the bound before `at`.
    pub confirmed_in_bound: u64,
    pub max_pending: u64,
}

impl Backlog {
    /// Whether `pending` transactions take more than half the bound to drain at the rate of
    /// the last bound's `confirmed_in_bound` (a bound with none is a stall, never a backlog).
    pub fn explains(pending: u64, confirmed_in_bound: u64) -> bool {
        confirmed_in_bound > 0 && 2 * pending > confirmed_in_bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_the_last_bound_only() {
        let mut p = Progress::new(Span::from_millis(800));
        assert_eq!(p.over_bound(Time::ZERO), 0, "nothing confirmed yet");
        for ms in [0, 50, 150, 799] {
            p.confirmed(Time(ms * 1_000_000));
        }
        assert_eq!(p.over_bound(Time(799 * 1_000_000)), 4);
        // Buckets of 100 ms: at 950 ms the last bound is 100-999 ms.
        assert_eq!(p.over_bound(Time(850 * 1_000_000)), 4, "0 to 899 ms still in");
        assert_eq!(p.over_bound(Time(950 * 1_000_000)), 2, "0 and 50 ms fell out");
        p.confirmed(Time(1_650 * 1_000_000));
        assert_eq!(p.over_bound(Time(1_650 * 1_000_000)), 1, "a bucket reused is reset");
        assert_eq!(p.over_bound(Time(3_000 * 1_000_000)), 0);
    }

    #[test]
    fn waiting_transactions_come_due_in_order_of_their_ready_time() {
        let (ms, bound) = (|x: u64| Time(x * 1_000_000), Span::from_millis(100));
        let mut w = Waiting::default();
        w.file(TxId(1), Time::MAX, ms(500), bound);
        w.file(TxId(2), ms(450), ms(500), bound);
        assert_eq!(w.due_at(ms(549)), None);
        assert_eq!(w.due_at(ms(550)), Some(TxId(2)), "a bound after it could execute");
        w.take(TxId(2));
        assert_eq!(w.due_at(ms(599)), None);
        assert_eq!(w.due_at(ms(600)), Some(TxId(1)), "unknown: looked at again a bound later");
        w.take(TxId(1));
        assert_eq!(w.ids().count(), 0);
    }

    #[test]
    fn a_backlog_explains_a_late_transaction_only_with_progress() {
        assert!(Backlog::explains(51, 100), "more pending than half a bound drains");
        assert!(!Backlog::explains(50, 100), "drained within half the bound: starved, not queued");
        assert!(!Backlog::explains(5_000, 0), "no confirmation over the bound: a stall");
    }
}
