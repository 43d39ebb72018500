//! The liveness bound of a transaction that a ledger holds behind its account's earlier nonce
//! (hotstuff-swarm --swarm seed 156: an earlier nonce, sent before the last fault, pushed back
//! for seconds while a later one committed): it runs from when the transaction could execute,
//! so a held transaction is not late while the earlier one legitimately waits, but a ledger
//! that never releases it, or a stall behind it, is still late.
//!
//! One replica, f = 0, 1 ms each way; the replica commits each request in a slot log at once
//! and executes an account's transactions in nonce order, holding one ahead of its nonce.
//! Transaction 0 (account 7, at 5 ms, before the last fault at 20 ms) reaches the ledger 300 ms
//! late; transaction 1 (account 7, at 30 ms) commits at 31 ms and waits for it; the others are
//! other accounts' transfers every 10 ms. The bound is 100 ms.

mod common;

use std::collections::BTreeMap;

use sim_core::workload::{Arrival, ListWorkload};
use sim_core::{
    AccountId, CpuConfig, Ctx, LivenessCheck, NoMessage, NodeId, Protocol, RunResult, Span, Stop, Time, Tx, TxId,
};

const HELD_ACCOUNT: AccountId = AccountId(7);
/// How late transaction 0 reaches the ledger (longer than the bound).
const EARLY_NONCE_DELAY_MS: u64 = 300;

/// A slot log over a nonce-ordered ledger.
struct NonceLog {
    /// Planted bug when false: a held transaction stays held when its gap fills.
    releases: bool,
    /// A request it takes off its queue and never commits.
    dropped: Option<TxId>,
    next_slot: u64,
    next_nonce: BTreeMap<AccountId, u64>,
    held: BTreeMap<(AccountId, u64), Tx>,
    /// Transaction 0, until its delay is over.
    delayed: Option<Tx>,
}

impl NonceLog {
    fn commit(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        ctx.commit(self.next_slot, tx.id.0, &[tx]);
        self.next_slot += 1;
        let next = *self.next_nonce.get(&tx.from).unwrap_or(&1);
        if tx.nonce != next {
            self.held.insert((tx.from, tx.nonce), tx);
            return;
        }
        self.execute(ctx, tx);
        while self.releases
            && let Some(held) = self.held.remove(&(tx.from, self.next_nonce[&tx.from]))
        {
            self.execute(ctx, held);
        }
    }

    fn execute(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        ctx.executed(&tx);
        ctx.reply(&tx, 0);
        self.next_nonce.insert(tx.from, tx.nonce + 1);
    }
}

impl Protocol for NonceLog {
    type Message = NoMessage;
    type Timer = u8;
    type Record = std::convert::Infallible;
    fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, msg: NoMessage) {
        match msg {}
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: u8) {
        let tx = self.delayed.take().expect("one timer, for the delayed transaction");
        self.commit(ctx, tx);
    }
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        if tx.id == TxId(0) {
            self.delayed = Some(tx);
            ctx.set_timer(0, Span::from_millis(EARLY_NONCE_DELAY_MS));
        } else if Some(tx.id) != self.dropped {
            self.commit(ctx, tx);
        }
    }
}

fn transfer(at_ms: u64, from: AccountId) -> Arrival {
    let to = AccountId(from.0 + 1);
    Arrival { at: Time(at_ms * 1_000_000), client_idx: 0, from, to, amount: 1, size_bytes: 10 }
}

/// Transactions 0 and 1 of `HELD_ACCOUNT`, then one of a fresh account every 10 ms from 40 to
/// 600 ms (transaction 2 at 40 ms, 3 at 50 ms...). Checked from `from_ms`.
fn run(releases: bool, dropped: Option<u64>, from_ms: u64) -> RunResult {
    let mut cfg = common::one_client(1, 0, Span::from_millis(1), CpuConfig::UNLIMITED);
    cfg.liveness = Some(LivenessCheck { from: Time(from_ms * 1_000_000), bound: Span::from_millis(100) });
    let mut arrivals = vec![transfer(5, HELD_ACCOUNT), transfer(30, HELD_ACCOUNT)];
    arrivals.extend((4..60).map(|i| transfer(10 * i, AccountId(100 + 2 * i as u32))));
    let protocol = |_| NonceLog {
        releases,
        dropped: dropped.map(TxId),
        next_slot: 1,
        next_nonce: BTreeMap::new(),
        held: BTreeMap::new(),
        delayed: None,
    };
    sim_core::Simulation::new(cfg, Box::new(ListWorkload::new(arrivals)), protocol).run()
}

fn ms(t: Time) -> u64 {
    t.0 / 1_000_000
}

#[test]
fn a_transaction_held_behind_an_unchecked_earlier_nonce_is_not_late() {
    let r = run(true, None, 20);
    // Before the fix, the bound ran from submission and the observer took a slot log's commit
    // for its execution: transaction 1 was reported at 130 ms, "executed at 0.031000s but the
    // client holds 0 of 1 matching replies" (seed 156's report).
    assert_eq!(r.stop, Stop::End, "held behind an earlier nonce that is not checked");
    let held = &r.txs[1];
    assert_eq!((ms(held.submitted), ms(held.committed)), (30, 31));
    assert_eq!(held.follows, Some(TxId(0)));
    // Executed when the ledger released it, right after transaction 0, 306 ms (5 + 1 + 300).
    assert_eq!((ms(r.txs[0].executed), ms(held.executed)), (306, 306));
    assert!(ms(held.confirmed) - ms(held.submitted) > 100, "late by its submission");
    // Checked from time zero, transaction 0 itself is late: the wait is real.
    let Stop::Violation(v) = run(true, None, 0).stop else { panic!("transaction 0 is late") };
    assert!(v.detail.starts_with("transaction 0 ") && v.detail.contains("is not committed"), "{}", v.detail);
}

#[test]
fn a_ledger_that_never_releases_a_held_transaction_is_late_a_bound_after_the_gap_filled() {
    // A rule that excused every held transaction would miss this: the gap filled at 306 ms.
    let r = run(false, None, 20);
    let Stop::Violation(v) = &r.stop else { panic!("a held transaction never released: {:?}", r.stop) };
    assert_eq!(v.invariant, "liveness");
    assert!((406_000_000..=420_000_000).contains(&v.at_ns), "a bound after 306 ms: {}", v.at_ns);
    let expected = "transaction 1 submitted at 0.030000s (after the last fault ended at 0.020000s), which could \
                    execute from 0.306000s (its account's transaction 0 executed then), was committed at 0.031000s \
                    but never executed 100.000ms after it could execute";
    assert!(v.detail.starts_with(expected), "{}", v.detail);
}

#[test]
fn a_stall_after_a_held_transaction_is_found_while_it_waits() {
    // Transaction 3 (50 ms) is never committed: late at 150 ms, while transaction 1 waits
    // (until 306 ms). A check that stopped at the first unconfirmed transaction, as it did when
    // every bound ran from submission, would not look past transaction 1 until it confirmed.
    let r = run(true, Some(3), 20);
    let Stop::Violation(v) = &r.stop else { panic!("transaction 3 never committed: {:?}", r.stop) };
    assert!((150_000_000..=163_000_000).contains(&v.at_ns), "{}", v.at_ns);
    assert!(v.detail.starts_with("transaction 3 submitted at 0.050000s"), "{}", v.detail);
    assert!(v.detail.contains("is not committed 100.000ms later"), "{}", v.detail);
}
