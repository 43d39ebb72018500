//! Basic (unchained) HotStuff: the phases of one view, on the state machine of `mod.rs`.
//!
//! View v, leader L = leader(v) (round robin: v mod n; `leader.rs`). Every replica entering v sends L a NEWVIEW with its highest
//! prepare QC; L waits for n-f of them and proposes a block extending the highest (PREPARE).
//! A replica votes for it under the same rule as chained (extends the lock, or its QC is above
//! the lock's view). L aggregates n-f prepare votes into a prepare QC and broadcasts it
//! (PRE-COMMIT); replicas adopt it as their highest QC and vote again; n-f pre-commit votes make
//! the pre-commit QC (COMMIT), on which replicas lock and vote; n-f commit votes make the commit
//! QC (DECIDE), on which replicas commit the block and its uncommitted ancestors and enter v+1.
//! Votes sign (phase, view, block), so votes of different phases never make one certificate.
//!
//! What is shared with chained: blocks and their validation, the voting rule, the QC checks
//! (aggregate or list), the view timer with backoff, COMPLAIN / NEXTVIEW, block synchronization,
//! batching with branch-aware deduplication, committing, and the Byzantine behaviours. What
//! differs: NEWVIEW on every view change (counted by the leader), votes to the current leader,
//! three certificates per view instead of one, and catch-up: a prepare or pre-commit QC of a
//! higher view moves a replica into that view (n-f replicas were there), a commit QC past it.

use std::rc::Rc;

use sim_core::{Ctx, NodeId, Note};

use super::{HotStuff, HsMsg, Parked, Phase, Qc, View};

impl HotStuff {
    /// On entering `view`: tell its leader the highest prepare QC this replica knows.
    pub(super) fn send_new_view(&mut self, ctx: &mut Ctx<'_, Self>, view: View) {
        self.new_views = self.new_views.split_off(&view);
        let msg = HsMsg::NewView { view, qc: self.qc_high.clone(), wire: self.wire() };
        self.send(ctx, self.leader(view), msg);
    }

    pub(super) fn has_new_view_quorum(&self, view: View) -> bool {
        self.new_views.get(&view).is_some_and(|senders| senders.len() >= self.quorum)
    }

    /// A NEWVIEW: its QC may raise qc_high; as the view's leader, count the sender. n-f NEWVIEWs
    /// for a view this leader has not reached prove that f+1 correct replicas are there.
    pub(super) fn on_new_view(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, view: View, qc: Qc) {
        // Views further ahead than one round of leaders are not worth memory.
        let near = view >= self.view && view.0 <= self.view.0 + u64::from(self.n);
        if near && self.leader(view) == ctx.me() {
            self.new_views.entry(view).or_default().insert(from);
        }
        self.on_qc(ctx, from, qc, false);
        if view > self.view && self.has_new_view_quorum(view) {
            self.enter_view(ctx, view);
        }
        self.try_propose(ctx);
    }

    /// PRE-COMMIT, COMMIT or DECIDE: the certificate of `phase` for the block of its view.
    pub(super) fn on_certified(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, phase: Phase, qc: Qc) {
        if self.is_stale(phase, &qc) {
            return;
        }
        // A replica's own certificates were checked when it formed them.
        if from != ctx.me() && !self.phase_qc_valid(ctx, phase, &qc) {
            return;
        }
        if !self.blocks.contains_key(&qc.block) {
            let (block, msg) = (qc.block, HsMsg::Certified { phase, qc, wire: self.wire() });
            self.wait_for(ctx, super::Awaited::Block(block), from, Parked::Message(msg));
            return;
        }
        match phase {
            Phase::Prepare => self.on_prepare_qc(ctx, from, qc),
            Phase::PreCommit => self.on_precommit_qc(ctx, qc),
            Phase::Commit => self.on_commit_qc(ctx, qc),
        }
    }

    /// A certificate of a past view that can change nothing here.
    fn is_stale(&self, phase: Phase, qc: &Qc) -> bool {
        match phase {
            Phase::Prepare => qc.view < self.view && qc.view <= self.qc_high.view,
            Phase::PreCommit => qc.view < self.view,
            Phase::Commit => self.blocks.get(&qc.block).is_some_and(|b| b.height <= self.committed_height()),
        }
    }

    fn phase_qc_valid(&self, ctx: &mut Ctx<'_, Self>, phase: Phase, qc: &Qc) -> bool {
        match phase {
            Phase::Prepare => self.qc_valid(ctx, qc),
            Phase::PreCommit | Phase::Commit => {
                self.certificate_valid(ctx, &qc.sig, phase.vote_digest(qc.view, qc.block))
            }
        }
    }

    /// PRE-COMMIT: adopt the prepare QC (it goes into the next NEWVIEW), vote pre-commit.
    fn on_prepare_qc(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, qc: Qc) {
        let (view, block) = (qc.view, qc.block);
        self.on_qc(ctx, from, qc, true);
        if view == self.view {
            self.vote(ctx, Phase::PreCommit, view, block);
        }
    }

    /// COMMIT: lock on the block, vote commit.
    fn on_precommit_qc(&mut self, ctx: &mut Ctx<'_, Self>, qc: Qc) {
        if qc.view > self.view {
            self.enter_view(ctx, qc.view);
        }
        // A QC's view is its block's: replicas vote only for blocks of their current view.
        if qc.view > self.block(self.lock).view {
            self.lock = qc.block;
            self.note(ctx, Note::Lock { view: qc.view.0, block: qc.block });
        }
        if qc.view == self.view {
            self.vote(ctx, Phase::Commit, qc.view, qc.block);
        }
    }

    /// DECIDE: commit the block and its uncommitted ancestors; the view is over.
    fn on_commit_qc(&mut self, ctx: &mut Ctx<'_, Self>, qc: Qc) {
        let block = Rc::clone(self.block(qc.block));
        self.commit(ctx, &block);
        if qc.view >= self.view {
            self.consecutive_timeouts = 0;
            self.enter_view(ctx, qc.view.next());
        }
    }
}
