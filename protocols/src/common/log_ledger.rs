//! The ledger under a totally ordered log (HotStuff, Algorand): each committed block's
//! transactions, in log order, through `Ledger::execute` (a transfer ahead of its nonce waits
//! for the gap, as leaderless's nonce chain makes it wait), and what settled, to reply with and
//! to report to the result check.
//!
//! Two ways to hold the state:
//! - `LogLedger::own`: the replica's own `Ledger` (HotStuff: a handful of replicas).
//! - `LogLedger::shared`: a run-wide memo (Algorand: thousands of users, each with its own
//!   ledger, would hold thousands of copies of the same accounts). Execution is a pure function
//!   of the sequence of transactions executed, so the memo keys each block's results by a hash
//!   chained over that sequence: the first user to execute a sequence runs the ledger, the
//!   others replay its results. A user whose sequence differs from every one executed so far
//!   (a fork, or a planted bug) rebuilds a ledger of its own from the memo's blocks and goes on
//!   alone. Per user: one key; per run: one ledger and one result per transaction.
//!
//! Either way a replica settles exactly what it would with its own ledger; the result check
//! (`common::results`) compares what replicas report, so a replica that executes a different
//! sequence (`HotStuff`'s planted `ReversedBlocks`) is caught either way.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use sim_core::Tx;
use sim_core::digest::hash_words;

use crate::ledger::{Ledger, Settlement};

/// The key of the empty sequence (genesis).
const GENESIS_KEY: u64 = 0x6c6f_675f_6c65_6467; // "log_ledg"

/// One executed block in the memo: the key before it, its transactions, and what settled.
#[derive(Debug)]
struct MemoBlock {
    parent: u64,
    txs: Rc<[Tx]>,
    settled: Rc<[(Tx, Settlement)]>,
}

/// The run-wide memo behind `LogLedger::shared`.
#[derive(Debug)]
struct Memo {
    genesis_balance: u64,
    /// The ledger after the sequence `head` names.
    ledger: Ledger,
    head: u64,
    blocks: BTreeMap<u64, MemoBlock>,
}

impl Memo {
    /// The blocks from genesis to `key`, oldest first.
    fn path_to(&self, mut key: u64) -> Vec<Rc<[Tx]>> {
        let mut path = Vec::new();
        while key != GENESIS_KEY {
            let block = self.blocks.get(&key).expect("a user's key names a sequence the memo executed");
            path.push(Rc::clone(&block.txs));
            key = block.parent;
        }
        path.reverse();
        path
    }
}

/// The executions of one run's logs, shared by its replicas (single-threaded, like the run).
#[derive(Clone, Debug)]
pub struct SharedLedger(Rc<RefCell<Memo>>);

impl SharedLedger {
    pub fn new(genesis_balance: u64) -> SharedLedger {
        let memo =
            Memo { genesis_balance, ledger: Ledger::new(genesis_balance), head: GENESIS_KEY, blocks: BTreeMap::new() };
        SharedLedger(Rc::new(RefCell::new(memo)))
    }

    /// Transactions executed under the longest sequence (for tests and counters).
    pub fn applied_and_rejected(&self) -> (u64, u64) {
        let memo = self.0.borrow();
        (memo.ledger.applied(), memo.ledger.rejected())
    }
}

#[derive(Debug)]
enum State {
    Own(Ledger),
    Shared(SharedLedger),
}

/// One replica's ledger under its log.
#[derive(Debug)]
pub struct LogLedger {
    /// Hash chained over every transaction this replica executed, in order, while it shares
    /// the memo (an own ledger keeps none).
    key: u64,
    state: State,
    executed_txs: u64,
}

impl LogLedger {
    pub fn own(genesis_balance: u64) -> LogLedger {
        LogLedger { key: GENESIS_KEY, state: State::Own(Ledger::new(genesis_balance)), executed_txs: 0 }
    }

    pub fn shared(memo: &SharedLedger) -> LogLedger {
        LogLedger { key: GENESIS_KEY, state: State::Shared(memo.clone()), executed_txs: 0 }
    }

    /// Transactions handed to the ledger so far (settled or held).
    pub fn executed_txs(&self) -> u64 {
        self.executed_txs
    }

    /// Executes `txs`, one committed block, in order; calls `settled` for each transaction that
    /// settles now (the block's own, and held ones they release), in the order they settle.
    pub fn execute(&mut self, txs: &[Tx], mut settled: impl FnMut(&Tx, Settlement)) {
        if txs.is_empty() {
            return;
        }
        self.executed_txs += txs.len() as u64;
        let memo = match &mut self.state {
            State::Own(ledger) => return run(ledger, txs, &mut settled),
            State::Shared(memo) => memo.clone(),
        };
        // Only the memo needs the sequence's key: an own ledger (every HotStuff replica, per
        // committed transaction) skips the hash.
        let parent = self.key;
        self.key = txs.iter().fold(parent, |k, tx| hash_words(&[k, tx.id.0, tx.nonce, tx.amount]));
        let mut m = memo.0.borrow_mut();
        if let Some(known) = m.blocks.get(&self.key) {
            let results = Rc::clone(&known.settled);
            drop(m);
            return results.iter().for_each(|(tx, s)| settled(tx, *s));
        }
        if m.head != parent {
            // A sequence no user executed: this user leaves the memo with a ledger of its own.
            let mut ledger = Ledger::new(m.genesis_balance);
            for block in m.path_to(parent) {
                run(&mut ledger, &block, &mut |_, _| {});
            }
            drop(m);
            run(&mut ledger, txs, &mut settled);
            self.state = State::Own(ledger);
            return;
        }
        let mut results = Vec::with_capacity(txs.len());
        run(&mut m.ledger, txs, &mut |tx, s| results.push((*tx, s)));
        let results: Rc<[(Tx, Settlement)]> = results.into();
        m.head = self.key;
        m.blocks.insert(self.key, MemoBlock { parent, txs: txs.into(), settled: Rc::clone(&results) });
        drop(m);
        results.iter().for_each(|(tx, s)| settled(tx, *s));
    }
}

fn run(ledger: &mut Ledger, txs: &[Tx], settled: &mut impl FnMut(&Tx, Settlement)) {
    for tx in txs {
        ledger.execute(tx, &mut *settled);
    }
}

#[cfg(test)]
mod tests {
    use sim_core::{AccountId, NodeId, TxId};

    use super::*;
    use crate::ledger::Outcome;

    fn tx(id: u64, from: u32, to: u32, amount: u64, nonce: u64) -> Tx {
        Tx { id: TxId(id), client: NodeId(9), from: AccountId(from), to: AccountId(to), amount, nonce, size_bytes: 1 }
    }

    fn outcomes(l: &mut LogLedger, txs: &[Tx]) -> Vec<(u64, Outcome, u64)> {
        let mut out = Vec::new();
        l.execute(txs, |t, s| out.push((t.id.0, s.outcome, s.dst.balance)));
        out
    }

    /// Blocks of a small log: a held nonce, an overdraft, a shared destination.
    fn blocks() -> Vec<Vec<Tx>> {
        vec![
            vec![tx(0, 1, 2, 30, 2), tx(1, 3, 2, 10, 1)],
            vec![tx(2, 1, 2, 50, 1), tx(3, 2, 4, 500, 1)],
            vec![],
            vec![tx(4, 4, 1, 5, 1)],
        ]
    }

    #[test]
    fn shared_users_settle_as_own_ledgers_do() {
        let memo = SharedLedger::new(100);
        let (mut own, mut a, mut b) = (LogLedger::own(100), LogLedger::shared(&memo), LogLedger::shared(&memo));
        for block in blocks() {
            let reference = outcomes(&mut own, &block);
            assert_eq!(outcomes(&mut a, &block), reference);
            assert_eq!(outcomes(&mut b, &block), reference, "a user behind replays the memo");
        }
        assert_eq!(memo.applied_and_rejected(), (4, 1));
        assert!(matches!(a.state, State::Shared(_)) && matches!(b.state, State::Shared(_)));
    }

    #[test]
    fn the_held_nonce_settles_when_the_gap_fills() {
        let mut l = LogLedger::own(100);
        let b = blocks();
        assert_eq!(outcomes(&mut l, &b[0]), vec![(1, Outcome::Applied, 110)]);
        let second = outcomes(&mut l, &b[1]);
        assert_eq!(second[..2], [(2, Outcome::Applied, 160), (0, Outcome::Applied, 190)]);
        assert_eq!(second[2], (3, Outcome::InsufficientFunds, 100));
    }

    #[test]
    fn a_user_that_leaves_the_memo_rebuilds_its_state() {
        let memo = SharedLedger::new(100);
        let (mut own, mut a, mut forked) = (LogLedger::own(100), LogLedger::shared(&memo), LogLedger::shared(&memo));
        let b = blocks();
        for block in &b[..2] {
            outcomes(&mut a, block);
            outcomes(&mut forked, block);
            outcomes(&mut own, block);
        }
        outcomes(&mut a, &b[3]);
        // `forked` executes another block after the common prefix: not the memo's head.
        let other = [tx(5, 2, 1, 20, 2)];
        assert_eq!(outcomes(&mut forked, &other), outcomes(&mut own, &other));
        assert!(matches!(forked.state, State::Own(_)));
        assert_eq!(outcomes(&mut forked, &b[3]), outcomes(&mut own, &b[3]));
    }
}
