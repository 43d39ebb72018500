//! What the engine records while a run goes: per-transaction times, client reply tallies, and
//! the safety checker. Pure bookkeeping; the summaries are computed in `metrics`.

use std::collections::BTreeMap;

use crate::checker::{LogChecker, Violation};
use crate::ids::{NodeId, Tx, TxId, TxResult};
use crate::time::Time;

/// The life of one transaction. `Time::MAX` means "not yet".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxRecord {
    pub client: NodeId,
    /// What the client signed.
    pub tx: Tx,
    /// The client sent it.
    pub submitted: Time,
    /// It first reached a replica.
    pub arrived: Time,
    /// A correct replica first committed it.
    pub committed: Time,
    /// A correct replica first executed it.
    pub executed: Time,
    /// The client held f+1 matching replies.
    pub confirmed: Time,
    pub result: TxResult,
    /// The proposal that carried it to its commit was made (the block's creation at its leader,
    /// the asonnino/hotstuff prototype's start of consensus latency); `Time::MAX` for protocols
    /// with no such proposal.
    pub proposed: Time,
    /// It reached the replica that proposed it (Bamboo's start of latency, at the proposer).
    pub proposer_arrived: Time,
    /// That proposer, if correct, committed it (Bamboo's end of latency).
    pub proposer_committed: Time,
    /// Replicas answered busy to it this many times (a bounded request queue's push-backs).
    pub pushed_back: u32,
    /// The transaction of the same account with the previous nonce (a ledger holds this one
    /// until that one executes); `None` for an account's first.
    pub follows: Option<TxId>,
}

impl TxRecord {
    pub fn is_confirmed(&self) -> bool {
        self.confirmed != Time::MAX
    }
    pub fn is_committed(&self) -> bool {
        self.committed != Time::MAX
    }
}

#[derive(Debug)]
pub struct Observer {
    pub txs: Vec<TxRecord>,
    /// Replies received for transactions not yet confirmed: (replica, result).
    tallies: BTreeMap<TxId, Vec<(NodeId, TxResult)>>,
    replies_needed: usize,
    correct: Vec<bool>,
    checker: LogChecker,
    pub violation: Option<Violation>,
}

impl Observer {
    pub fn new(correct: Vec<bool>, f: u32) -> Observer {
        Observer {
            txs: Vec::new(),
            tallies: BTreeMap::new(),
            replies_needed: f as usize + 1,
            checker: LogChecker::new(correct.clone()),
            correct,
            violation: None,
        }
    }

    /// A client sent `tx`, the next nonce of the account whose last transaction was `follows`.
    pub fn on_submit(&mut self, now: Time, tx: Tx, follows: Option<TxId>) -> TxId {
        let id = TxId(self.txs.len() as u64);
        assert_eq!(tx.id, id, "transaction ids are dense, in submission order");
        assert!(follows.is_none_or(|f| f < id), "an account's earlier nonce was submitted earlier");
        self.txs.push(TxRecord {
            client: tx.client,
            tx,
            submitted: now,
            arrived: Time::MAX,
            committed: Time::MAX,
            executed: Time::MAX,
            confirmed: Time::MAX,
            result: 0,
            proposed: Time::MAX,
            proposer_arrived: Time::MAX,
            proposer_committed: Time::MAX,
            pushed_back: 0,
            follows,
        });
        id
    }

    pub fn on_arrival(&mut self, now: Time, tx: TxId) {
        let rec = &mut self.txs[tx.idx()];
        rec.arrived = rec.arrived.min(now);
    }

    pub fn on_commit(&mut self, now: Time, replica: NodeId, slot: u64, entry: u64, txs: &[Tx]) {
        if let Err(v) = self.checker.check(now.0, replica, slot, entry, txs) {
            self.violation.get_or_insert(v);
        }
        if !self.correct[replica.idx()] {
            return;
        }
        for tx in txs {
            let rec = &mut self.txs[tx.id.idx()];
            assert!(rec.submitted <= now, "committed before it was submitted");
            // Not executed yet: the ledger may hold it behind its account's earlier nonces, so
            // execution is what the protocol reports (`on_executed`).
            rec.committed = rec.committed.min(now);
        }
    }

    /// A correct replica committed `txs`, proposed at `proposed`. Every correct replica commits a
    /// transaction in the same entry, so the earliest report is the entry's proposal time.
    pub fn on_proposal_committed(&mut self, replica: NodeId, proposed: Time, txs: &[Tx]) {
        if !self.correct[replica.idx()] {
            return;
        }
        for tx in txs {
            let rec = &mut self.txs[tx.id.idx()];
            assert!(rec.submitted <= proposed, "proposed before it was submitted");
            rec.proposed = rec.proposed.min(proposed);
        }
    }

    /// The replica that proposed `tx` (which reached it at `arrived`) committed it now: the
    /// first such report counts.
    pub fn on_proposer_committed(&mut self, now: Time, replica: NodeId, tx: TxId, arrived: Time) {
        let rec = &mut self.txs[tx.idx()];
        if !self.correct[replica.idx()] || rec.proposer_committed != Time::MAX {
            return;
        }
        assert!(rec.submitted <= arrived && arrived <= now, "it reached the proposer between send and commit");
        rec.proposer_arrived = arrived;
        rec.proposer_committed = now;
    }

    pub fn on_commit_unordered(&mut self, now: Time, replica: NodeId, tx: TxId) {
        if self.correct[replica.idx()] {
            let rec = &mut self.txs[tx.idx()];
            assert!(rec.submitted <= now, "committed before it was submitted");
            rec.committed = rec.committed.min(now);
        }
    }

    pub fn on_executed(&mut self, now: Time, replica: NodeId, tx: TxId) {
        if self.correct[replica.idx()] {
            let rec = &mut self.txs[tx.idx()];
            rec.executed = rec.executed.min(now);
        }
    }

    /// When `tx` could first execute: its submission, or the first execution of its account's
    /// previous transaction if later (`Time::MAX` while that one has not executed).
    pub fn ready_at(&self, tx: TxId) -> Time {
        let rec = &self.txs[tx.idx()];
        rec.follows.map_or(rec.submitted, |f| rec.submitted.max(self.txs[f.idx()].executed))
    }

    /// When `tx`'s liveness bound starts: its submission until it commits (committing does not
    /// wait for other transactions), then when it could execute (`ready_at`), since a ledger
    /// holds it until its account's previous transaction executes. A commit later than a bound
    /// after submission is judged before it happens: the check sees it uncommitted and late.
    pub fn bound_starts(&self, tx: TxId) -> Time {
        if self.txs[tx.idx()].is_committed() { self.ready_at(tx) } else { self.txs[tx.idx()].submitted }
    }

    pub fn is_correct(&self, replica: NodeId) -> bool {
        self.correct[replica.idx()]
    }

    /// Transactions submitted so far (ids below this exist).
    pub fn submitted(&self) -> u64 {
        self.txs.len() as u64
    }

    /// True if `tx` is exactly what a client submitted: the modeled client signature check.
    pub fn is_client_signed(&self, tx: &Tx) -> bool {
        self.txs.get(tx.id.idx()).is_some_and(|r| r.tx == *tx)
    }

    /// The most matching replies the client holds for `tx` (all of them once confirmed), and
    /// how many confirm it.
    pub fn replies_held(&self, tx: TxId) -> (usize, usize) {
        let held = match self.tallies.get(&tx) {
            _ if self.txs[tx.idx()].is_confirmed() => self.replies_needed,
            None => 0,
            Some(tally) => {
                tally.iter().map(|&(_, r)| tally.iter().filter(|&&(_, x)| x == r).count()).max().unwrap_or(0)
            }
        };
        (held, self.replies_needed)
    }

    /// A reply reached the client: confirms the transaction at f+1 matching results from
    /// distinct replicas. True if this reply confirmed it.
    pub fn on_reply(&mut self, now: Time, replica: NodeId, tx: TxId, result: TxResult) -> bool {
        if self.txs[tx.idx()].is_confirmed() {
            return false;
        }
        let tally = self.tallies.entry(tx).or_default();
        if tally.iter().any(|&(r, _)| r == replica) {
            return false;
        }
        tally.push((replica, result));
        let matching = tally.iter().filter(|&&(_, r)| r == result).count();
        if matching >= self.replies_needed {
            self.tallies.remove(&tx);
            let rec = &mut self.txs[tx.idx()];
            rec.confirmed = now;
            rec.result = result;
            return true;
        }
        false
    }
}
