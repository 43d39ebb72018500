//! HotStuff's execution: committed blocks run on the ledger in log order, every settled
//! transaction goes to the result check and is answered with its outcome (so a client confirms
//! on f+1 matching results, as under leaderless). Execution adds no event and no CPU cost.

use sim_core::{Ctx, Tx};

use super::{HotStuff, HsRecord, PlantedBug};
use crate::common::log_ledger::LogLedger;
use crate::common::results::Settled;

impl HotStuff {
    /// This replica's ledger (and its equivocating twin's) starts with `balance` in every
    /// account instead of `ledger::GENESIS_BALANCE`.
    pub fn with_genesis_balance(mut self, balance: u64) -> HotStuff {
        self.ledger = LogLedger::own(balance);
        self.twin = self.twin.take().map(|twin| Box::new(twin.with_genesis_balance(balance)));
        self
    }

    /// Runs the transactions one block committed (those not committed before) through the
    /// ledger, in order.
    pub(super) fn execute(&mut self, ctx: &mut Ctx<'_, Self>, fresh: &[Tx]) {
        let reversed: Vec<Tx>;
        let txs = if self.cfg.bug == Some(PlantedBug::ReversedBlocks) && ctx.me().0 % 2 == 1 {
            reversed = fresh.iter().rev().copied().collect();
            &reversed[..]
        } else {
            fresh
        };
        self.ledger.execute(txs, |tx, settlement| {
            ctx.record(HsRecord::Settled(Settled { tx: *tx, settlement }));
            ctx.executed(tx);
            ctx.reply(tx, settlement.outcome.code());
        });
    }
}
