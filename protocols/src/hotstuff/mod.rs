//! Chained HotStuff with the pacemaker of the dissertation (shared/seeds, Algorithms 1-4).
//!
//! One generic phase per view; a block commits when it heads a three-chain of blocks in
//! consecutive views. The pacemaker: round-robin leaders; on a valid proposal a replica votes
//! to the next leader, sends it NEWVIEW(qc_high) and moves on (unless it is that next leader,
//! which waits for n-f votes, forms the QC and proposes). A view timeout sends COMPLAIN; n-f
//! complaints form the view-change proof (NEXTVIEW); any QC of a view >= the current one
//! moves a lagging replica forward.
//!
//! Where we depart from the dissertation, and why:
//! - COMPLAIN goes to every replica (not only the next leader), and f+1 complaints about a
//!   higher view make a replica join them. Without this, replicas that drifted apart during a
//!   partition never gather n-f complaints about one view again (Bracha-style amplification).
//! - COMPLAIN carries the sender's last vote. With round-robin leaders and one crashed replica
//!   out of four, the QC of the block before a crashed leader's view is otherwise never formed,
//!   no three consecutive views are ever certified, and chained HotStuff never commits
//!   (LibraBFT re-sends its last vote on timeout for the same reason).
//! - Deduplication (Algorithm 4's goal): a leader skips transactions already in a block of the
//!   branch it extends, and drops committed ones; unlike the `seen` set, a transaction whose
//!   block was abandoned by a view change is proposed again instead of being lost.
//! - Block synchronization: a replica missing a block asks the sender for it.

mod types;

pub use types::{Block, BlockId, Height, HsMsg, Qc, Tc, View, Wire};

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use sim_core::TxSet;
use sim_core::{Ctx, NodeId, Protocol, Span, Tx};

use crate::common::quorum::{Votes, byzantine_quorum};
use types::{complain_digest, vote_digest};

/// Blocks committed more than this many heights ago are forgotten; a replica further behind
/// than this cannot catch up by block synchronization.
const KEEP_COMMITTED_BLOCKS: u64 = 4096;
/// Ancestors sent along with a requested block.
const SYNC_BATCH_BLOCKS: usize = 32;
/// Messages held back while their block is fetched, at most.
const WAITING_MAX: usize = 4096;

#[derive(Clone, Debug, PartialEq)]
pub struct HotStuffConfig {
    pub batch_size: usize,
    pub view_timeout: Span,
    /// Each consecutive timeout multiplies the timeout by backoff_permille / 1000.
    pub backoff_permille: u64,
    pub max_timeout: Span,
    /// Certificates list their n-f signatures (verified one by one) instead of aggregating them.
    pub list_certificates: bool,
}

/// The timers of a replica: one slot, the current view's timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HsTimer {
    ViewTimeout,
}

#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    timeouts: u64,
    view_changes: u64,
    qcs_formed: u64,
    blocks_proposed: u64,
    blocks_committed: u64,
    txs_committed: u64,
    block_requests: u64,
}

pub struct HotStuff {
    cfg: HotStuffConfig,
    n: u32,
    f: u32,
    quorum: usize,
    view: View,
    /// Highest view this replica voted in.
    voted_view: View,
    /// Highest view this replica complained about; it votes no more in it.
    complained_view: View,
    /// Highest view this replica proposed in.
    proposed_view: View,
    last_vote: Option<(View, BlockId, sim_core::Signature)>,
    qc_high: Qc,
    lock: BlockId,
    exec: BlockId,
    blocks: BTreeMap<BlockId, Rc<Block>>,
    by_height: BTreeSet<(Height, BlockId)>,
    votes: Votes<(View, BlockId)>,
    complaints: Votes<View>,
    /// A proposal for a view this replica has not reached yet.
    future: Option<(NodeId, Rc<Block>)>,
    pending: VecDeque<Tx>,
    committed: TxSet,
    /// Messages waiting for a block, by the missing block's id.
    waiting: BTreeMap<BlockId, Vec<(NodeId, HsMsg)>>,
    n_waiting: usize,
    consecutive_timeouts: u32,
    stats: Counters,
}

impl HotStuff {
    pub fn new(cfg: HotStuffConfig) -> HotStuff {
        assert!(cfg.batch_size >= 1 && cfg.view_timeout > Span::ZERO && cfg.backoff_permille >= 1000);
        let genesis = Rc::new(Block::genesis());
        let mut by_height = BTreeSet::new();
        by_height.insert((genesis.height, genesis.id));
        HotStuff {
            cfg,
            n: 0,
            f: 0,
            quorum: 0,
            view: View(0),
            voted_view: View(0),
            complained_view: View(0),
            proposed_view: View(0),
            last_vote: None,
            qc_high: Qc::genesis(),
            lock: genesis.id,
            exec: genesis.id,
            blocks: BTreeMap::from([(genesis.id, genesis)]),
            by_height,
            votes: Votes::default(),
            complaints: Votes::default(),
            future: None,
            pending: VecDeque::new(),
            committed: TxSet::default(),
            waiting: BTreeMap::new(),
            n_waiting: 0,
            consecutive_timeouts: 0,
            stats: Counters::default(),
        }
    }

    pub fn view(&self) -> View {
        self.view
    }

    pub fn committed_height(&self) -> Height {
        self.block(self.exec).height
    }

    fn block(&self, id: BlockId) -> &Rc<Block> {
        self.blocks.get(&id).expect("block in store")
    }

    fn wire(&self) -> Wire {
        Wire { n: self.n, list_certificates: self.cfg.list_certificates }
    }

    fn leader(&self, view: View) -> NodeId {
        view.leader(self.n)
    }

    fn timeout(&self) -> Span {
        let mut t = self.cfg.view_timeout;
        for _ in 0..self.consecutive_timeouts.min(64) {
            t = Span(t.0.saturating_mul(self.cfg.backoff_permille) / 1000);
            if t >= self.cfg.max_timeout {
                return self.cfg.max_timeout;
            }
        }
        t.min(self.cfg.max_timeout)
    }

    // ----- views -----

    fn enter_view(&mut self, ctx: &mut Ctx<'_, Self>, view: View) {
        assert!(view > self.view, "views only move forward");
        self.view = view;
        ctx.set_timer(HsTimer::ViewTimeout, self.timeout());
        self.votes.prune_below((View(view.0.saturating_sub(2)), 0));
        self.complaints.prune_below(View(view.0.saturating_sub(1)));
        if self.leader(view) == ctx.me() {
            self.propose(ctx);
        }
        if let Some((from, block)) = self.future.take_if(|(_, b)| b.view <= view) {
            self.on_propose(ctx, from, block);
        }
    }

    /// Any usable QC of a view >= the current one moves this replica past that view.
    /// `verified` says the caller already checked its signatures.
    fn on_qc(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, qc: Qc, verified: bool) {
        if qc.view <= self.qc_high.view && qc.view < self.view {
            return; // neither a higher QC nor a way forward: not worth a verification
        }
        if !verified && !self.qc_valid(ctx, &qc) {
            return;
        }
        if !self.blocks.contains_key(&qc.block) {
            let block = qc.block;
            self.wait_for(ctx, block, from, HsMsg::NewView { qc, wire: self.wire() });
            return;
        }
        if qc.view > self.qc_high.view {
            self.qc_high = qc.clone();
        }
        if qc.view >= self.view {
            self.consecutive_timeouts = 0;
            self.enter_view(ctx, qc.view.next());
        }
    }

    fn qc_valid(&self, ctx: &mut Ctx<'_, Self>, qc: &Qc) -> bool {
        // qc_high was verified when it was adopted: no need to pay for it again.
        let known = qc.view == self.qc_high.view && qc.block == self.qc_high.block;
        qc.is_genesis() || known || self.certificate_valid(ctx, &qc.sig, vote_digest(qc.view, qc.block))
    }

    fn certificate_valid(&self, ctx: &mut Ctx<'_, Self>, sig: &sim_core::AggregateSignature, digest: u64) -> bool {
        if self.cfg.list_certificates {
            ctx.verify_each(sig, digest, self.quorum)
        } else {
            ctx.verify_aggregate(sig, digest, self.quorum)
        }
    }

    // ----- proposing -----

    fn propose(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.proposed_view >= self.view {
            return;
        }
        self.proposed_view = self.view;
        let parent = Rc::clone(self.block(self.qc_high.block));
        let txs = self.take_batch(&parent);
        let block = Block::new(&parent, self.view, self.qc_high.clone(), ctx.me(), txs);
        self.stats.blocks_proposed += 1;
        ctx.broadcast(HsMsg::Propose { block: Rc::new(block), wire: self.wire() });
    }

    /// Up to batch_size pending transactions, skipping committed ones (dropped for good) and
    /// those already in an uncommitted block of the branch this proposal extends.
    fn take_batch(&mut self, parent: &Block) -> Vec<Tx> {
        let in_branch = self.uncommitted_branch_txs(parent);
        let mut batch = Vec::with_capacity(self.cfg.batch_size.min(self.pending.len()));
        while self.pending.front().is_some_and(|tx| self.committed.contains(tx.id)) {
            self.pending.pop_front();
        }
        for tx in &self.pending {
            if batch.len() == self.cfg.batch_size {
                break;
            }
            if !self.committed.contains(tx.id) && !in_branch.contains(&tx.id) {
                batch.push(*tx);
            }
        }
        batch
    }

    fn uncommitted_branch_txs(&self, tip: &Block) -> BTreeSet<sim_core::TxId> {
        let exec_height = self.committed_height();
        let mut ids = BTreeSet::new();
        let mut b = tip;
        while b.height > exec_height {
            ids.extend(b.txs.iter().map(|t| t.id));
            b = self.block(b.parent);
        }
        ids
    }

    // ----- handling a proposal -----

    fn on_propose(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, block: Rc<Block>) {
        if from != block.proposer || block.proposer != self.leader(block.view) || !block.is_well_formed() {
            return;
        }
        if !self.qc_valid(ctx, &block.justify) {
            return;
        }
        if !self.insert_block(ctx, from, &block) {
            return;
        }
        self.on_qc(ctx, from, block.justify.clone(), true);
        if block.view > self.view {
            self.future = Some((from, block));
            return;
        }
        if block.view < self.view {
            return;
        }
        self.vote_if_safe(ctx, &block);
        self.update(ctx, &block);
        let next_leader = self.leader(self.view.next());
        if next_leader != ctx.me() {
            ctx.send(next_leader, HsMsg::NewView { qc: self.qc_high.clone(), wire: self.wire() });
            self.enter_view(ctx, self.view.next());
        }
    }

    /// Stores a block whose parent is known; otherwise asks `from` for the parent first.
    fn insert_block(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, block: &Rc<Block>) -> bool {
        if self.blocks.contains_key(&block.id) {
            return true;
        }
        let Some(parent) = self.blocks.get(&block.parent) else {
            let msg = HsMsg::Propose { block: Rc::clone(block), wire: self.wire() };
            self.wait_for(ctx, block.parent, from, msg);
            return false;
        };
        if block.height.0 != parent.height.0 + 1 || block.view <= parent.view {
            return false;
        }
        self.blocks.insert(block.id, Rc::clone(block));
        self.by_height.insert((block.height, block.id));
        self.wake(ctx, block.id);
        true
    }

    fn vote_if_safe(&mut self, ctx: &mut Ctx<'_, Self>, block: &Block) {
        if block.view <= self.voted_view || block.view <= self.complained_view {
            return;
        }
        let lock = self.block(self.lock);
        let safe = self.extends(block, lock.id, lock.height) || block.justify.view > lock.view;
        if !safe {
            return;
        }
        self.voted_view = block.view;
        let sig = ctx.sign(vote_digest(block.view, block.id));
        self.last_vote = Some((block.view, block.id, sig));
        let to = self.leader(block.view.next());
        ctx.send(to, HsMsg::Vote { view: block.view, block: block.id, sig });
    }

    fn extends(&self, block: &Block, ancestor: BlockId, ancestor_height: Height) -> bool {
        let mut b = block;
        while b.height > ancestor_height {
            match self.blocks.get(&b.parent) {
                Some(p) => b = p,
                None => return false,
            }
        }
        b.id == ancestor
    }

    /// Algorithm 1's UPDATE: lock on the two-chain head, commit the three-chain head.
    fn update(&mut self, ctx: &mut Ctx<'_, Self>, b_star: &Block) {
        let b2 = Rc::clone(self.block(b_star.justify.block));
        let Some(b1) = self.blocks.get(&b2.justify.block).cloned() else { return };
        let Some(b0) = self.blocks.get(&b1.justify.block).cloned() else { return };
        if b1.height > self.block(self.lock).height {
            self.lock = b1.id;
        }
        let direct = b2.parent == b1.id && b1.parent == b0.id;
        let consecutive = b2.view.0 == b1.view.0 + 1 && b1.view.0 == b0.view.0 + 1;
        if direct && consecutive {
            self.commit(ctx, &b0);
        }
    }

    /// Executes `tip` and its uncommitted ancestors, oldest first.
    fn commit(&mut self, ctx: &mut Ctx<'_, Self>, tip: &Rc<Block>) {
        let exec_height = self.committed_height();
        if tip.height <= exec_height {
            return;
        }
        let mut chain = vec![Rc::clone(tip)];
        while chain.last().expect("non-empty").height.0 > exec_height.0 + 1 {
            let parent = chain.last().expect("non-empty").parent;
            chain.push(Rc::clone(self.block(parent)));
        }
        for block in chain.iter().rev() {
            let fresh: Vec<Tx> = block.txs.iter().copied().filter(|tx| self.committed.insert(tx.id)).collect();
            ctx.commit(block.height.0, block.id, &fresh);
            for tx in &fresh {
                ctx.reply(tx, 0);
            }
            self.stats.blocks_committed += 1;
            self.stats.txs_committed += fresh.len() as u64;
        }
        self.exec = tip.id;
        self.prune(tip.height);
    }

    fn prune(&mut self, committed: Height) {
        let Some(floor) = committed.0.checked_sub(KEEP_COMMITTED_BLOCKS) else { return };
        let keep = self.by_height.split_off(&(Height(floor), 0));
        for (_, id) in std::mem::replace(&mut self.by_height, keep) {
            self.blocks.remove(&id);
        }
    }

    // ----- votes, complaints, view changes -----

    fn on_vote(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, view: View, block: BlockId, sig: sim_core::Signature) {
        if view.next() < self.view || !ctx.verify(&sig, from, vote_digest(view, block)) {
            return;
        }
        if self.votes.add((view, block), sig) != Some(self.quorum) {
            return;
        }
        let agg = ctx.aggregate(self.votes.get(&(view, block))).expect("votes on one digest");
        self.stats.qcs_formed += 1;
        assert!(agg.signers().len() == self.quorum && agg.digest() == vote_digest(view, block));
        let qc = Qc { view, block, sig: Rc::new(agg) };
        self.on_qc(ctx, from, qc, true);
    }

    fn on_timeout(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.stats.timeouts += 1;
        self.consecutive_timeouts += 1;
        ctx.set_timer(HsTimer::ViewTimeout, self.timeout());
        self.complain(ctx, self.view);
        self.retry_sync(ctx);
    }

    fn complain(&mut self, ctx: &mut Ctx<'_, Self>, view: View) {
        self.complained_view = self.complained_view.max(view);
        let sig = ctx.sign(complain_digest(view));
        let (qc_high, last_vote, wire) = (self.qc_high.clone(), self.last_vote, self.wire());
        ctx.broadcast(HsMsg::Complain { view, sig, qc_high, last_vote, wire });
    }

    fn on_complain(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        view: View,
        sig: sim_core::Signature,
        qc_high: Qc,
        last_vote: Option<(View, BlockId, sim_core::Signature)>,
    ) {
        if !ctx.verify(&sig, from, complain_digest(view)) {
            return;
        }
        if let Some((v, b, s)) = last_vote {
            self.on_vote(ctx, from, v, b, s);
        }
        self.on_qc(ctx, from, qc_high, false);
        if view < self.view {
            return;
        }
        let Some(count) = self.complaints.add(view, sig) else { return };
        if count == self.f as usize + 1 && self.complained_view < view {
            // f+1 complaints: at least one correct replica gave up on `view`; join it.
            if view > self.view {
                self.enter_view(ctx, view);
            }
            self.complain(ctx, view);
        }
        if self.complaints.count(&view) == self.quorum {
            let agg = ctx.aggregate(self.complaints.get(&view)).expect("complaints on one digest");
            let tc = Tc { view, sig: Rc::new(agg) };
            if self.leader(view.next()) == ctx.me() {
                ctx.broadcast(HsMsg::NextView { tc: tc.clone(), qc_high: self.qc_high.clone(), wire: self.wire() });
            }
            self.on_tc(ctx, &tc);
        }
    }

    fn on_tc(&mut self, ctx: &mut Ctx<'_, Self>, tc: &Tc) {
        if tc.view < self.view || !self.certificate_valid(ctx, &tc.sig, complain_digest(tc.view)) {
            return;
        }
        self.stats.view_changes += 1;
        self.enter_view(ctx, tc.view.next());
    }

    // ----- block synchronization -----

    fn wait_for(&mut self, ctx: &mut Ctx<'_, Self>, missing: BlockId, from: NodeId, msg: HsMsg) {
        if self.n_waiting >= WAITING_MAX {
            return;
        }
        let first = !self.waiting.contains_key(&missing);
        self.waiting.entry(missing).or_default().push((from, msg));
        self.n_waiting += 1;
        if first && from != ctx.me() {
            self.stats.block_requests += 1;
            ctx.send(from, HsMsg::BlockRequest { id: missing });
        }
    }

    fn wake(&mut self, ctx: &mut Ctx<'_, Self>, arrived: BlockId) {
        let Some(waiters) = self.waiting.remove(&arrived) else { return };
        self.n_waiting -= waiters.len();
        for (from, msg) in waiters {
            self.on_message(ctx, from, msg);
        }
    }

    fn on_block_request(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, id: BlockId) {
        let mut blocks = Vec::new();
        let mut next = self.blocks.get(&id);
        while let Some(b) = next {
            if blocks.len() == SYNC_BATCH_BLOCKS || b.height.0 == 0 {
                break;
            }
            blocks.push(Rc::clone(b));
            next = self.blocks.get(&b.parent);
        }
        if !blocks.is_empty() {
            ctx.send(from, HsMsg::BlockResponse { blocks, wire: self.wire() });
        }
    }

    fn on_block_response(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, blocks: Vec<Rc<Block>>) {
        let valid = |b: &Rc<Block>, me: &Self, ctx: &mut Ctx<'_, Self>| {
            b.is_well_formed() && b.proposer == me.leader(b.view) && me.qc_valid(ctx, &b.justify)
        };
        if blocks.iter().any(|b| !valid(b, self, ctx)) {
            return;
        }
        // Newest first on the wire. If even the oldest has an unknown parent, the whole response
        // waits for that parent (fetched from the same peer).
        let Some(oldest) = blocks.last() else { return };
        if !self.blocks.contains_key(&oldest.parent) && !self.blocks.contains_key(&oldest.id) {
            let parent = oldest.parent;
            self.wait_for(ctx, parent, from, HsMsg::BlockResponse { blocks, wire: self.wire() });
            return;
        }
        for block in blocks.iter().rev() {
            if !self.insert_block(ctx, from, block) {
                return;
            }
        }
    }

    /// Asks again for missing blocks whose request or response may have been lost.
    fn retry_sync(&mut self, ctx: &mut Ctx<'_, Self>) {
        let retries: Vec<(BlockId, NodeId)> =
            self.waiting.iter().take(8).filter_map(|(id, w)| w.first().map(|(from, _)| (*id, *from))).collect();
        for (id, from) in retries {
            if from != ctx.me() {
                self.stats.block_requests += 1;
                ctx.send(from, HsMsg::BlockRequest { id });
            }
        }
    }
}

impl Protocol for HotStuff {
    type Message = HsMsg;
    type Timer = HsTimer;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.n = ctx.n();
        self.f = ctx.f();
        self.quorum = byzantine_quorum(self.n, self.f);
        self.enter_view(ctx, View(1));
    }

    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        // State survived on disk; only the timer was lost.
        ctx.set_timer(HsTimer::ViewTimeout, self.timeout());
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: HsMsg) {
        match msg {
            HsMsg::Propose { block, .. } => self.on_propose(ctx, from, block),
            HsMsg::Vote { view, block, sig } => {
                if self.leader(view.next()) == ctx.me() {
                    self.on_vote(ctx, from, view, block, sig);
                }
            }
            HsMsg::NewView { qc, .. } => self.on_qc(ctx, from, qc, false),
            HsMsg::Complain { view, sig, qc_high, last_vote, .. } => {
                self.on_complain(ctx, from, view, sig, qc_high, last_vote)
            }
            HsMsg::NextView { tc, qc_high, .. } => {
                self.on_qc(ctx, from, qc_high, false);
                self.on_tc(ctx, &tc);
            }
            HsMsg::BlockRequest { id } => self.on_block_request(ctx, from, id),
            HsMsg::BlockResponse { blocks, .. } => self.on_block_response(ctx, from, blocks),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: HsTimer) {
        match timer {
            HsTimer::ViewTimeout => self.on_timeout(ctx),
        }
    }

    fn on_request(&mut self, _ctx: &mut Ctx<'_, Self>, tx: Tx) {
        if !self.committed.contains(tx.id) {
            self.pending.push_back(tx);
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        let s = &self.stats;
        vec![
            ("view", self.view.0),
            ("view_changes", s.view_changes),
            ("timeouts", s.timeouts),
            ("qcs_formed", s.qcs_formed),
            ("blocks_proposed", s.blocks_proposed),
            ("blocks_committed", s.blocks_committed),
            ("txs_committed", s.txs_committed),
            ("block_requests", s.block_requests),
            ("pending_txs", self.pending.len() as u64),
        ]
    }
}
