//! HotStuff's payload with the mempool (`HotStuffConfig::mempool`): client transactions go to
//! the replica's own `Mempool`, a leader proposes the ready batch digests it holds (its own
//! and others'), and a replica
//! stores (so votes for, and may commit) a block only once it holds every batch the block
//! names, asking the sender for the missing ones first and everyone on a view timeout. A
//! leader naming a batch nobody has stalls only its own view: no one stores its block, and the
//! view times out.

use std::collections::BTreeSet;
use std::rc::Rc;

use sim_core::{Ctx, NodeId, Time, Tx};

use super::{Awaited, Behavior, HotStuff, HsMsg, HsTimer, Parked, PlantedBug, Wire};
use crate::common::mempool::{Action, BatchDigest, Mempool, MempoolMsg};
use crate::hotstuff::Block;

/// Batch digests one block names, at most (the prototype bounds a block's payload in bytes:
/// its default 500 B holds 15 digests).
const MAX_BLOCK_DIGESTS: usize = 16;

impl HotStuff {
    pub(super) fn start_mempool(&mut self, me: NodeId) {
        let Some(cfg) = self.cfg.mempool else { return };
        let pool = Mempool::new(cfg, me, self.n, self.f);
        let withholds = self.behavior == Behavior::WithholdBatches;
        self.mempool = Some(if withholds { pool.withholding() } else { pool });
    }

    fn pool(&mut self) -> &mut Mempool {
        self.mempool.as_mut().expect("the mempool is on")
    }

    pub(super) fn on_client_tx(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        if self.mempool.is_none() {
            return; // not started (a scripted replica)
        }
        let actions = self.pool().on_tx(tx, ctx.now());
        self.apply(ctx, actions);
    }

    pub(super) fn on_batch_delay(&mut self, ctx: &mut Ctx<'_, Self>) {
        let actions = self.pool().on_delay(ctx.now());
        self.apply(ctx, actions);
    }

    pub(super) fn on_batch_resend(&mut self, ctx: &mut Ctx<'_, Self>) {
        let actions = self.pool().on_resend(ctx.now());
        self.apply(ctx, actions);
    }

    /// After a crash the mempool's timers are gone: arm the batch delay again for a batch under
    /// way, and the resend timer for own batches short of their quorum.
    pub(super) fn rearm_mempool_timers(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(pool) = &self.mempool else { return };
        let (delay, resend) = (pool.delay_if_building(), pool.resend_if_short());
        if let Some(delay) = delay {
            ctx.set_timer(HsTimer::BatchDelay(self.side()), delay);
        }
        if let Some(resend) = resend {
            ctx.set_timer(HsTimer::BatchResend(self.side()), resend);
        }
    }

    pub(super) fn on_mempool(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: MempoolMsg) {
        let Some(pool) = &mut self.mempool else { return };
        let actions = pool.on_message(from, msg);
        self.apply(ctx, actions);
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, Self>, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Broadcast(msg) => {
                    let me = ctx.me();
                    for to in (0..self.n).map(NodeId).filter(|&to| to != me) {
                        self.send(ctx, to, HsMsg::Mempool(msg.clone()));
                    }
                }
                Action::Send(to, msg) => self.send(ctx, to, HsMsg::Mempool(msg)),
                Action::ArmDelay(delay) => ctx.set_timer(HsTimer::BatchDelay(self.side()), delay),
                Action::DisarmDelay => ctx.cancel_timer(HsTimer::BatchDelay(self.side())),
                Action::ArmResend(after) => ctx.set_timer(HsTimer::BatchResend(self.side()), after),
                Action::Stored(digest) => self.wake(ctx, Awaited::Batch(digest)),
            }
        }
    }

    /// Whether this replica holds every batch `blocks` name; if not, `parked(wire)` waits for the
    /// last missing one, and `from` is asked for all of them.
    pub(super) fn batches_held(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        blocks: &[Rc<Block>],
        parked: impl FnOnce(Wire) -> HsMsg,
    ) -> bool {
        let Some(pool) = &self.mempool else { return true };
        let named: Vec<BatchDigest> = blocks.iter().flat_map(|b| b.digests.iter().copied()).collect();
        let missing = pool.missing(&named);
        if missing.is_empty() || self.cfg.bug == Some(PlantedBug::VoteWithoutBatches) {
            return true;
        }
        // Under the last missing batch: answers come in request order, so it is woken once.
        let msg = parked(self.wire());
        let last = *missing.last().expect("some batch is missing");
        self.wait_for(ctx, Awaited::Batch(last), from, Parked::Message(msg));
        let actions = self.pool().request(from, &missing);
        self.apply(ctx, actions);
        false
    }

    pub(super) fn retry_batches(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(pool) = &mut self.mempool else { return };
        let actions = pool.retry();
        self.apply(ctx, actions);
    }

    /// Ready digests (own and others') not already named by the uncommitted branch the proposal extends.
    pub(super) fn take_digests(&self, parent: &Block) -> Vec<BatchDigest> {
        let exec_height = self.committed_height();
        let mut in_branch = BTreeSet::new();
        let mut b = parent;
        while b.height > exec_height {
            in_branch.extend(b.digests.iter().copied());
            b = self.block(b.parent);
        }
        let pool = self.mempool.as_ref().expect("the mempool is on");
        pool.take_ready(MAX_BLOCK_DIGESTS, |d| in_branch.contains(&d))
    }

    /// A committed block's transactions, with their arrivals at whoever batched them (the
    /// proposer, for its own block or batches).
    pub(super) fn payload(&self, block: &Block) -> (Vec<Tx>, Vec<Time>) {
        let Some(pool) = &self.mempool else { return (block.txs.clone(), block.arrived_at.clone()) };
        let held: Vec<BatchDigest> = block.digests.iter().copied().filter(|&d| pool.holds(d)).collect();
        let planted = self.cfg.bug == Some(PlantedBug::VoteWithoutBatches);
        assert!(planted || held.len() == block.digests.len(), "a stored block's batches are held");
        pool.payload(&held)
    }

    pub(super) fn batches_committed(&mut self, block: &Block) {
        if let Some(pool) = &mut self.mempool {
            pool.committed(block.height.0, &block.digests);
        }
    }

    pub(super) fn mempool_counters(&self) -> Vec<(&'static str, u64)> {
        let Some(pool) = &self.mempool else { return Vec::new() };
        vec![("batches_sealed", pool.stats.batches_sealed), ("batch_requests", pool.stats.batch_requests)]
    }
}
