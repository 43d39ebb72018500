//! Chained and basic HotStuff with the pacemaker of the dissertation (shared/seeds,
//! Algorithms 1-4).
//!
//! Chained: one generic phase per view; a block commits when it heads a three-chain of blocks
//! in consecutive views. Basic (`CommitRule::Basic`, its phases in `basic.rs`): one block per
//! view through prepare, pre-commit, commit and decide; it shares everything else with chained
//! (blocks, certificates, pacemaker, synchronization, batching, Byzantine behaviours).
//!
//! Leaders (`leader.rs`): round robin by default over `HotStuffConfig::leader_order`, or
//! Bamboo's hash per view, a stable leader (from the committed log), or DiemBFT v4's leader
//! reputation (elected by certificates); the pacemaker below never changes with the policy,
//! only who `leader(view)` names (and, for the last two, blocks fetched for a certified chain
//! are not checked against it).
//!
//! The pacemaker: on a valid proposal a replica votes to the next leader,
//! sends it NEWVIEW(qc_high) and moves on (unless it is that next leader, which waits for n-f
//! votes, forms the QC and proposes; basic sends NEWVIEW on every view change instead). A view
//! timeout sends COMPLAIN; n-f complaints form the view-change proof (NEXTVIEW); any QC of a
//! view >= the current one moves a lagging replica forward.
//!
//! Safety, as we keep it. The lock is the block a replica has seen certified by a QC that is
//! itself certified (three-chain: the head of the two-chain it knows of; two-chain: the block
//! of the highest QC in a proposal). A replica votes for a block only if the block extends the
//! lock or the block's QC has a higher view than the lock; the lock moves only to a block of a
//! higher **view**. Views, not heights: without the dissertation's dummy nodes (CREATELEAF pads
//! the chain so that height tracks the view) a branch can overtake another at equal height
//! with a higher view, and a replica that kept its height lock would later vote for the old
//! branch again (issue 11: with n = 4 and one Byzantine leader, two correct replicas committed
//! different blocks at slot 1). Why views suffice: if b commits, n-f replicas locked on b or a
//! descendant in view v; a conflicting block needs n-f votes, so one of them voted for a
//! conflicting block whose QC has a view above v; take the lowest such QC above v: its block
//! conflicts with b yet needed a vote from a replica locked on b with a lower justify view, a
//! contradiction. Every argument is about views; heights only index the log.
//!
//! Where we depart from the dissertation, and why:
//! - Locks compare views, not heights (above), since we create no dummy nodes.
//! - COMPLAIN goes to every replica (not only the next leader), and f+1 complaints about a
//!   higher view make a replica join them. Without this, replicas that drifted apart during a
//!   partition never gather n-f complaints about one view again (Bracha-style amplification).
//! - A COMPLAIN about a view the receiver has left is answered: with the timeout certificate
//!   that moved it on, or with its own COMPLAIN about that view (carrying its highest QC). A
//!   leader moves on by voting for its own proposal, with no certificate; replicas that missed
//!   the proposal would otherwise time out in the old view for ever.
//! - COMPLAIN carries the sender's last vote (chained only). With round-robin leaders and one
//!   crashed replica out of four, the QC of the block before a crashed leader's view is
//!   otherwise never formed, no three consecutive views are ever certified, and chained
//!   HotStuff never commits (LibraBFT re-sends its last vote on timeout for the same reason).
//! - Basic: a leader that hears n-f NEWVIEWs for a view it has not reached enters it, and an
//!   equivocating leader proposes without waiting for NEWVIEWs (`basic.rs`).
//! - Deduplication (Algorithm 4's goal): a leader skips transactions already in a block of the
//!   branch it extends, and drops committed ones; unlike the `seen` set, a transaction whose
//!   block was abandoned by a view change is proposed again instead of being lost.
//! - Block synchronization: a replica missing a block asks the sender for it, and on each view
//!   timeout every replica whose message named the block (the first sender may have crashed).
//! - CPU per transaction of a block (`[cpu] per_tx_us`, zero by default): the leader pays it for
//!   each transaction it puts in a block (encoding, hashing the entries into the block's id),
//!   every other replica for each transaction of a block it stores (decoding), once per block.
//!   Bamboo's Go replicas do this work (`blockchain.MakeBlock` hashes the encoded list of the
//!   block's transaction ids; receivers decode the whole block).
//!
//! Twins (`Behavior::Twins`, Bano et al.): a Byzantine replica is two correct copies sharing
//! its id and keys, reusing the equivocator's two faces; in each view the Twins adversary
//! (`sim_core::adversary::TwinsPlan`) partitions, a copy hears and reaches only the node copies
//! of its group, computed from the same plan as the network's. The partitions end with view
//! `partitioned_views` or at the plan's `partition_until`, whichever comes first: a placement
//! in which no group holds a quorum partitions complaints too, and would stall view changes
//! for good. A twin's copy judges what it sends by the time it sends it, what it receives by
//! the time it receives it (after the heal both copies get everything).
//!
//! Invariant checked online besides agreement (`monitor.rs`): at most one block certified per
//! view and phase among the certificates correct replicas form (two certificates of n-f
//! signers share a correct signer; it would have voted twice).
//!
//! Planted bug `VoteWithoutBatches` (mempool): a replica stores and votes for a block without
//! its batches and commits the transactions of those it holds; on
//! `scenarios/examples/mempool-hotstuff.toml` (a `withhold_batches` worker) the slot check
//! (`agreement`) catches it on 18 of seeds 1..=20 (first 1); without it, 0 of 100.
//!
//! Planted bugs (`HotStuffConfig::bug`, test-only) that Twins catches, seeds 1..=200, chained
//! three-chain: on `scenarios/examples/twins-hotstuff.toml` (n = 4, one twin, 12 partitioned
//! views, 2 groups, partitions ending at 2 s at the latest) vote_ignoring_lock 7 of 200 (first
//! 65, `agreement`), quorum_minus_one 95 (first 3; 91 `one_certificate_per_view`, 4
//! `agreement`); on `twins-hotstuff-n7.toml` (n = 7, twins 5 and 6, who lead views 5, 6, 12 and
//! 13) several_votes_per_view 200 of 200 (first 1, `one_certificate_per_view`: a correct leader
//! certifies both proposals of a twin's view; 155 of 200 when partitions ended only by view).
//! Without a bug, with a 1 s liveness bound from the heal: 0 of 10,000 on each.
//!
//! Notes (`Ctx::note`, for event logs and timelines; not in the digest): every view entered,
//! view timeouts, each lock with its block's view; Byzantine behaviours acting under their
//! scenario names (a two-faced replica's first copy alone notes views, timeouts and locks).
//! Messages describe their views, blocks and certificates (`HsMsg::describe`); `debug_state`
//! gives the view, leader, lock, highest QC, committed height and last vote.
//!
//! The references' latencies (`Ctx::proposal_committed`, `Ctx::proposer_committed`): a block
//! carries the time its leader made it and when each of its transactions reached that leader
//! (`Block::stamped`, kept with the pending transactions): measurement only, in neither the
//! block id, the wire size nor the digest. Every replica reports the proposal time of each
//! block it commits (the asonnino/hotstuff prototype's consensus latency starts there); the
//! block's proposer alone reports its own commit with the arrivals (Bamboo's latency at the
//! proposer). A transaction proposed in an abandoned block counts from the block that commits
//! it. With d the one-way delay and no CPU cost: chained commits first 6d after the proposal
//! (two-chain 4d), basic 6d, at its proposer 6d.
//!
//! Payload (`payload.rs`). By default a block carries its transactions. With the mempool
//! (`HotStuffConfig::mempool`, `common::mempool`: the asonnino/hotstuff prototype's design) a
//! replica's worker batches the transactions it receives and broadcasts the batches; a leader
//! proposes the digests of its own batches that a quorum holds and of others' batches it
//! received from their authors (at most 16 per block, oldest first, not already in the branch
//! it extends), and a block is a header plus 32 bytes per digest. A
//! replica stores a block, and so votes for it, only once it holds every batch the block names:
//! it asks the block's sender for the missing ones and, on each view timeout, everyone (a
//! Byzantine author, `Behavior::WithholdBatches`, answers no request). Invariant: a stored block's
//! batches are held, so committing a block commits its batches' transactions, in order. A leader
//! naming a batch nobody has stalls only its view (no correct replica stores the block; the view
//! times out). A transaction in two batches (a client sending to several replicas) commits once:
//! committing skips transactions already committed, as with the payload in the proposal. The
//! latencies keep their meaning: from the client's submission, and from the block's proposal;
//! at the proposer, from the transaction's arrival at the batch's author, who is the proposer.
//! Only the chained rules use the mempool (basic is refused at the boundary).
//!
//! Execution (`execute.rs`): a replica runs each committed block's new transactions on its own
//! ledger in log order (a transfer ahead of its nonce waits for the gap, as leaderless's nonce
//! chain makes it wait), answers each client with the ledger's result when the transfer
//! settles, and reports the settlement to the per-transaction result check; it costs no CPU
//! time in the model. Invariant: every correct replica settles a transaction the same way
//! (outcome, and the source's and destination's state just after).

mod basic;
mod execute;
mod leader;
mod monitor;
mod payload;
mod types;

pub use leader::{ELECTION_LAG_VIEWS, LeaderPolicy, bamboo_slot, sha1};
pub use monitor::{HotStuffMonitor, HsRecord};
pub use types::{Block, BlockId, Height, HsMsg, Phase, Qc, Short, Tc, View, Wire, complain_digest, vote_digest};

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use sim_core::adversary::TwinsPlan;
use sim_core::{Ctx, Message, NodeId, NodeSet, Note, Protocol, Span, Time, Tx, TxSet};

use crate::common::log_ledger::LogLedger;
use crate::common::mempool::{BatchDigest, Mempool, MempoolConfig};
use crate::common::quorum::{Votes, byzantine_quorum};
use crate::ledger::GENESIS_BALANCE;
use leader::Election;

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
    pub commit_rule: CommitRule,
    /// Who leads each view (`leader.rs`).
    pub leader: LeaderPolicy,
    /// The rotation order of the leader policies: a permutation of the replica ids; empty:
    /// 0..n-1.
    pub leader_order: Vec<u32>,
    /// `Some`: blocks name batches of the mempool (`common::mempool`) instead of carrying
    /// transactions (`payload = "mempool"`).
    pub mempool: Option<MempoolConfig>,
    /// The Twins adversary's per-view partitions, which twin replicas apply to their own
    /// copies (`None`: twins, if any, hear and reach everyone).
    pub twins: Option<TwinsPlan>,
    /// Test-only: a deliberately broken rule, to show the checkers catch it. Never set by a
    /// scenario file.
    #[doc(hidden)]
    pub bug: Option<PlantedBug>,
}

/// A deliberately broken protocol rule (test-only, `HotStuffConfig::bug`).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedBug {
    /// Vote for any block of the current view, whatever the lock.
    VoteIgnoringLock,
    /// Certificates (QCs, timeout certificates) need n-f-1 signatures instead of n-f.
    QuorumMinusOne,
    /// Vote for every valid proposal of the latest view voted in, not only the first.
    SeveralVotesPerView,
    /// Replicas with an odd id execute each committed block's transactions in reverse order:
    /// the log agrees, the ledger results do not (the per-transaction result check).
    ReversedBlocks,
    /// With the mempool: store and vote for a block without holding its batches, and commit
    /// only the transactions of the batches held (the slot check sees different lists).
    VoteWithoutBatches,
}

impl PlantedBug {
    pub const ALL: &'static [PlantedBug] = &[
        PlantedBug::VoteIgnoringLock,
        PlantedBug::QuorumMinusOne,
        PlantedBug::SeveralVotesPerView,
        PlantedBug::ReversedBlocks,
        PlantedBug::VoteWithoutBatches,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PlantedBug::VoteIgnoringLock => "vote_ignoring_lock",
            PlantedBug::QuorumMinusOne => "quorum_minus_one",
            PlantedBug::SeveralVotesPerView => "several_votes_per_view",
            PlantedBug::ReversedBlocks => "reversed_blocks",
            PlantedBug::VoteWithoutBatches => "vote_without_batches",
        }
    }
}

/// When a block commits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CommitRule {
    /// HotStuff: the head of three blocks certified in consecutive views; a replica locks on
    /// the head of the two-chain.
    #[default]
    ThreeChain,
    /// Jolteon / DiemBFT v4: the head of two blocks certified in consecutive views; a replica
    /// locks on the block certified by the highest QC it has seen in a proposal. Safe with the
    /// same voting rule: if b commits, the n-f voters of its child locked on b, so a conflicting
    /// block can only win them with a QC above b of a block that does not extend b, and the
    /// lowest such QC would itself have needed one of them to vote against its lock.
    TwoChain,
    /// Basic (unchained) HotStuff: each view takes one block through prepare, pre-commit
    /// (replicas adopt its prepare QC), commit (they lock on it) and decide (they commit it,
    /// with its uncommitted ancestors, on the commit QC of its own view). Replicas vote to the
    /// view's leader, which waits for n-f NEWVIEWs before proposing.
    Basic,
}

/// The timers of a replica, per face (0 unless the replica equivocates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HsTimer {
    /// The current view's timeout.
    ViewTimeout(u8),
    /// A slow leader's delayed proposal.
    ProposeLate(u8),
    /// The mempool's batch delay.
    BatchDelay(u8),
    /// The mempool's resend of own batches short of their quorum.
    BatchResend(u8),
}

/// What a replica does: follow the protocol, or misbehave in one of these ways. None of them
/// can sign as another replica: `Ctx` does not allow it. (A crash is an engine fault.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Behavior {
    #[default]
    Correct,
    /// Drops everything and sends nothing.
    Silent,
    /// As leader, extends the parent of the block its highest QC certifies, orphaning that block.
    Fork,
    /// Two faces: one copy of the protocol for each half of the other replicas. As leader it
    /// proposes two different blocks, as voter it votes for both; equivocators relay each
    /// other's traffic per face, so more than f of them split the correct replicas like a
    /// partition.
    Equivocate,
    /// Never votes (nor hands its vote to a complaint).
    WithholdVotes,
    /// As leader, proposes only when three quarters of the view timeout have passed.
    SlowLeader,
    /// Twins (Bano et al.): two correct copies of the protocol under this replica's id and
    /// keys, each hearing and reaching only the node copies of its group in each view of the
    /// Twins adversary's plan (`HotStuffConfig::twins`). As leader both copies propose (two
    /// blocks), as voter each votes as its own state allows.
    Twins,
    /// With the mempool: sends its batches only to the replicas its acknowledgement quorum
    /// needs and answers no batch request; otherwise correct. The others fetch its batches
    /// from those that hold them.
    WithholdBatches,
}

/// Which face of the equivocators a replica talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A replica outside the coalition, shown face 0 or 1.
    Audience(u8),
    /// A fellow equivocator: traffic is tagged with the face it belongs to.
    Coalition,
}

/// Who the copies of a two-faced replica talk to.
#[derive(Clone, Debug)]
enum Audience {
    /// An equivocator: each face has a fixed half of the others.
    Halves(Rc<[Role]>),
    /// A twin: each copy reaches the node copies of its group in a message's view.
    Twins(Rc<TwinsRoute>),
}

/// What a twin needs to route: which replicas are twins (their copies sort messages among
/// themselves, so a twin's traffic to a twin says which copy sent it) and the partitions.
#[derive(Debug)]
struct TwinsRoute {
    twins: Vec<bool>,
    plan: Option<TwinsPlan>,
}

impl TwinsRoute {
    fn connected(&self, now: Time, view: Option<u64>, a: (NodeId, u8), b: (NodeId, u8)) -> bool {
        self.plan.as_ref().is_none_or(|plan| plan.connected(now, view, a, b))
    }
}

/// The face one copy of an equivocator (or twin) plays.
#[derive(Clone, Debug)]
struct Face {
    side: u8,
    audience: Audience,
}

/// What is awaited: a block, or a mempool batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Awaited {
    Block(BlockId),
    Batch(BatchDigest),
}

/// What waits for a missing block: a message to handle again, or a QC to examine again.
#[derive(Clone, Debug)]
enum Parked {
    Message(HsMsg),
    Qc(Qc),
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

/// Test-only: a Byzantine replica played by a script, which receives every message sent to it
/// (and nothing else: no start, no timers) and acts only through `ctx`, so it cannot forge.
#[doc(hidden)]
pub type Script = Box<dyn FnMut(&mut Ctx<'_, HotStuff>, NodeId, HsMsg)>;

pub struct HotStuff {
    /// Test-only: when set, this replica is Byzantine and the script plays it.
    #[doc(hidden)]
    pub script: Option<Script>,
    cfg: HotStuffConfig,
    behavior: Behavior,
    /// For an equivocator: the face this copy plays; `twin` is the copy playing face 1.
    face: Option<Face>,
    twin: Option<Box<HotStuff>>,
    n: u32,
    f: u32,
    quorum: usize,
    view: View,
    /// Highest view and phase this replica voted in (chained votes only in `Prepare`).
    voted: (View, Phase),
    /// A vote withholder: the highest view and phase it noted a withheld vote in.
    withheld: (View, Phase),
    /// Highest view this replica complained about; it votes no more in it.
    complained_view: View,
    /// The highest timeout certificate this copy moved on by: a replica still complaining in
    /// an older view gets it, and catches up.
    tc_high: Option<Tc>,
    /// Per replica, the last view whose stale complaint this copy answered, and when: one
    /// answer per view timeout, so that two replicas past a view do not answer each other's
    /// answers for ever.
    answered: BTreeMap<NodeId, (View, Time)>,
    /// Highest view this replica proposed in.
    proposed_view: View,
    /// A slow leader may propose in this view: its delay has passed.
    late_view: View,
    last_vote: Option<(View, BlockId, sim_core::Signature)>,
    qc_high: Qc,
    lock: BlockId,
    exec: BlockId,
    blocks: BTreeMap<BlockId, Rc<Block>>,
    by_height: BTreeSet<(Height, BlockId)>,
    votes: Votes<(View, Phase, BlockId)>,
    complaints: Votes<View>,
    /// Basic, as a leader: who sent a NEWVIEW for the views it leads.
    new_views: BTreeMap<View, NodeSet>,
    /// A proposal for a view this replica has not reached yet.
    future: Option<(NodeId, Rc<Block>)>,
    /// Transactions to propose, with their arrival here.
    pending: VecDeque<(Tx, Time)>,
    committed: TxSet,
    /// The ledger the committed log runs on (`execute.rs`).
    ledger: LogLedger,
    /// The mempool, when blocks carry batch digests (built at start: it needs n and f).
    mempool: Option<Mempool>,
    /// What waits for a block or a batch, by what is missing.
    waiting: BTreeMap<Awaited, Vec<(NodeId, Parked)>>,
    n_waiting: usize,
    consecutive_timeouts: u32,
    /// Who leads each view, and what of the committed log it reads.
    election: Election,
    stats: Counters,
}

impl HotStuff {
    /// A replica with `behavior`; `roster` gives every replica's behaviour (equivocators need
    /// to know their coalition and how to split the others).
    pub fn with_behavior(cfg: HotStuffConfig, behavior: Behavior, roster: &[Behavior]) -> HotStuff {
        let mut replica = HotStuff::new(cfg.clone());
        replica.behavior = behavior;
        let audience = match behavior {
            Behavior::Equivocate => Audience::Halves(Self::roles(roster)),
            Behavior::Twins => Audience::Twins(Rc::new(Self::twins_route(&cfg, roster))),
            _ => return replica,
        };
        replica.face = Some(Face { side: 0, audience: audience.clone() });
        let mut twin = HotStuff::new(cfg);
        twin.behavior = behavior;
        twin.face = Some(Face { side: 1, audience });
        replica.twin = Some(Box::new(twin));
        replica
    }

    fn twins_route(cfg: &HotStuffConfig, roster: &[Behavior]) -> TwinsRoute {
        let twins: Vec<bool> = roster.iter().map(|&b| b == Behavior::Twins).collect();
        if let Some(plan) = &cfg.twins {
            assert_eq!(plan.n() as usize, roster.len(), "a Twins plan for every replica");
            assert!((0..roster.len()).all(|i| plan.is_twin(NodeId(i as u32)) == twins[i]), "the plan knows the twins");
        }
        TwinsRoute { twins, plan: cfg.twins.clone() }
    }

    /// Equivocators form the coalition; the others are split in two audiences by id.
    fn roles(roster: &[Behavior]) -> Rc<[Role]> {
        let audience: Vec<usize> = (0..roster.len()).filter(|&i| roster[i] != Behavior::Equivocate).collect();
        let half = audience.len().div_ceil(2);
        (0..roster.len())
            .map(|i| match audience.iter().position(|&a| a == i) {
                Some(rank) => Role::Audience(u8::from(rank >= half)),
                None => Role::Coalition,
            })
            .collect()
    }

    fn side(&self) -> u8 {
        self.face.as_ref().map_or(0, |f| f.side)
    }

    /// Sends as this replica's face would: to its own audience and (tagged) to the coalition.
    /// A twin's copy sends to correct replicas of its group in the message's view, and to
    /// twins (itself included) tagged with the copy, for them to sort.
    fn send(&self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: HsMsg) {
        let Some(face) = &self.face else { return ctx.send(to, msg) };
        let tagged = |msg| HsMsg::Coalition { side: face.side, inner: Box::new(msg) };
        match &face.audience {
            Audience::Halves(roles) => match roles[to.idx()] {
                Role::Coalition => ctx.send(to, tagged(msg)),
                Role::Audience(side) if side == face.side => ctx.send(to, msg),
                Role::Audience(_) => {}
            },
            Audience::Twins(route) if route.twins[to.idx()] => ctx.send(to, tagged(msg)),
            Audience::Twins(route) => {
                if route.connected(ctx.now(), msg.view(), (ctx.me(), face.side), (to, 0)) {
                    ctx.send(to, msg);
                }
            }
        }
    }

    fn broadcast(&self, ctx: &mut Ctx<'_, Self>, msg: HsMsg) {
        if self.face.is_none() {
            return ctx.broadcast(msg);
        }
        for to in 0..self.n {
            self.send(ctx, NodeId(to), msg.clone());
        }
    }

    pub fn new(cfg: HotStuffConfig) -> HotStuff {
        assert!(cfg.batch_size >= 1 && cfg.view_timeout > Span::ZERO && cfg.backoff_permille >= 1000);
        let genesis = Rc::new(Block::genesis());
        let chain_views = match cfg.commit_rule {
            CommitRule::ThreeChain => 3,
            CommitRule::TwoChain => 2,
            CommitRule::Basic => 1,
        };
        let election = Election::new(cfg.leader, &cfg.leader_order, chain_views);
        let mut by_height = BTreeSet::new();
        by_height.insert((genesis.height, genesis.id));
        HotStuff {
            script: None,
            cfg,
            behavior: Behavior::Correct,
            face: None,
            twin: None,
            n: 0,
            f: 0,
            quorum: 0,
            view: View(0),
            voted: (View(0), Phase::Prepare),
            withheld: (View(0), Phase::Prepare),
            complained_view: View(0),
            tc_high: None,
            answered: BTreeMap::new(),
            proposed_view: View(0),
            late_view: View(0),
            last_vote: None,
            qc_high: Qc::genesis(),
            lock: genesis.id,
            exec: genesis.id,
            blocks: BTreeMap::from([(genesis.id, genesis)]),
            by_height,
            votes: Votes::default(),
            complaints: Votes::default(),
            new_views: BTreeMap::new(),
            future: None,
            pending: VecDeque::new(),
            committed: TxSet::default(),
            ledger: LogLedger::own(GENESIS_BALANCE),
            mempool: None,
            waiting: BTreeMap::new(),
            n_waiting: 0,
            consecutive_timeouts: 0,
            election,
            stats: Counters::default(),
        }
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
        self.election.leader(view, self.n)
    }

    fn is_basic(&self) -> bool {
        self.cfg.commit_rule == CommitRule::Basic
    }

    /// The view whose leader uses votes of `view`: the next one in chained HotStuff (its
    /// proposal carries their QC), the same one in basic HotStuff (its next phase does).
    fn votes_used_in(&self, view: View) -> View {
        if self.is_basic() { view } else { view.next() }
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

    // ----- notes (event logs and timelines; they change nothing in the run) -----

    /// Notes a decision of this replica. Only the first copy of a two-faced replica notes its
    /// views, timeouts and locks, so that its timeline reads as one replica's.
    fn note(&self, ctx: &mut Ctx<'_, Self>, note: Note) {
        if self.side() == 0 {
            ctx.note(note);
        }
    }

    /// Notes a Byzantine behaviour acting (`action` is its name in scenario files), about a view.
    fn note_byzantine(&self, ctx: &mut Ctx<'_, Self>, action: &'static str, about: u64) {
        ctx.note(Note::Byzantine { action, about });
    }

    /// A forking leader's proposal, and each proposal of an equivocator's or a twin's copy
    /// (each copy proposes on its own: a copy cut off from the quorum may lag behind).
    fn note_misbehaving_proposal(&self, ctx: &mut Ctx<'_, Self>) {
        let action = match self.behavior {
            Behavior::Fork if !self.qc_high.is_genesis() => "fork",
            Behavior::Equivocate => "equivocate",
            Behavior::Twins => "twins",
            _ => return,
        };
        self.note_byzantine(ctx, action, self.view.0);
    }

    /// A vote withholder notes each vote it keeps back, once per view and phase.
    fn note_withheld(&mut self, ctx: &mut Ctx<'_, Self>, phase: Phase, view: View) {
        if self.behavior == Behavior::WithholdVotes && (view, phase) > self.withheld && view > self.complained_view {
            self.withheld = (view, phase);
            self.note_byzantine(ctx, "withhold_votes", view.0);
        }
    }

    // ----- views -----

    fn enter_view(&mut self, ctx: &mut Ctx<'_, Self>, view: View) {
        assert!(view > self.view, "views only move forward");
        self.view = view;
        self.note(ctx, Note::View { view: view.0 });
        ctx.set_timer(HsTimer::ViewTimeout(self.side()), self.timeout());
        self.votes.prune_below((View(view.0.saturating_sub(2)), Phase::Prepare, 0));
        self.complaints.prune_below(View(view.0.saturating_sub(1)));
        if self.leader(view) == ctx.me() && self.behavior == Behavior::SlowLeader {
            self.note_byzantine(ctx, "slow_leader", view.0);
            ctx.set_timer(HsTimer::ProposeLate(self.side()), Span(self.timeout().0 / 4 * 3));
        }
        if self.is_basic() {
            self.send_new_view(ctx, view);
        }
        self.try_propose(ctx);
        if let Some((from, block)) = self.future.take_if(|(_, b)| b.view <= view) {
            self.on_propose(ctx, from, block);
        }
    }

    /// Any usable QC of a view >= the current one moves this replica past that view (basic: a
    /// prepare QC of a higher view, into it). `verified` says the caller already checked its signatures.
    fn on_qc(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, qc: Qc, verified: bool) {
        if qc.view <= self.qc_high.view && qc.view < self.view {
            return; // neither a higher QC nor a way forward: not worth a verification
        }
        if !verified && !self.qc_valid(ctx, &qc) {
            return;
        }
        if !self.blocks.contains_key(&qc.block) {
            let block = qc.block;
            self.wait_for(ctx, Awaited::Block(block), from, Parked::Qc(qc));
            return;
        }
        self.observe_qc(&qc);
        if qc.view > self.qc_high.view {
            self.qc_high = qc.clone();
            // A leader policy that reads the committed log: the commit rule runs on every QC
            // adopted, so that a replica behind on commits catches up without first agreeing
            // with the others on a leader (which needs its log).
            if self.election.reads_log() && !self.is_basic() {
                self.update(ctx, &qc);
            }
        }
        if qc.view >= self.view {
            self.consecutive_timeouts = 0;
            // Chained: a QC closes its view. Basic: a prepare QC shows its view under way.
            let view = if self.is_basic() { qc.view } else { qc.view.next() };
            if view > self.view {
                self.enter_view(ctx, view);
            }
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

    /// Proposes if this replica leads the current view and may propose now: a slow leader once
    /// its delay has passed; a basic leader once n-f NEWVIEWs have come (an equivocator does
    /// not wait for them).
    fn try_propose(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.leader(self.view) != ctx.me() {
            return;
        }
        let waited = self.behavior != Behavior::SlowLeader || self.late_view == self.view;
        let heard = !self.is_basic() || self.behavior == Behavior::Equivocate || self.has_new_view_quorum(self.view);
        if waited && heard {
            self.propose(ctx);
        }
    }

    fn on_propose_late(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.leader(self.view) == ctx.me() {
            self.late_view = self.view;
            self.try_propose(ctx);
        }
    }

    fn propose(&mut self, ctx: &mut Ctx<'_, Self>) {
        // A QC of this view (basic: a replica caught up on it) means its block was proposed.
        if self.proposed_view >= self.view || self.qc_high.view >= self.view {
            return;
        }
        self.proposed_view = self.view;
        self.note_misbehaving_proposal(ctx);
        let (parent, justify) = self.proposal_parent();
        let block = self.new_block(ctx, &parent, justify);
        self.stats.blocks_proposed += 1;
        self.broadcast(ctx, HsMsg::Propose { block: Rc::new(block), wire: self.wire() });
    }

    /// The block to extend and its QC: qc_high's block, or, for a forking leader, its parent.
    fn proposal_parent(&self) -> (Rc<Block>, Qc) {
        let certified = self.block(self.qc_high.block);
        if self.behavior == Behavior::Fork && !self.qc_high.is_genesis() {
            let justify = certified.justify.clone();
            return (Rc::clone(self.block(justify.block)), justify);
        }
        (Rc::clone(certified), self.qc_high.clone())
    }

    /// The leader's block: pending transactions, or ready batch digests with the mempool.
    fn new_block(&mut self, ctx: &mut Ctx<'_, Self>, parent: &Rc<Block>, justify: Qc) -> Block {
        let salt = self.side() as u64;
        if self.mempool.is_some() {
            let digests = self.take_digests(parent);
            return Block::of_batches(parent, self.view, justify, ctx.me(), digests, salt)
                .stamped(ctx.now(), Vec::new());
        }
        let (txs, arrived_at) = self.take_batch(parent);
        ctx.charge_txs(txs.len()); // encoding and hashing each entry of the block
        Block::new(parent, self.view, justify, ctx.me(), txs, salt).stamped(ctx.now(), arrived_at)
    }

    /// Up to batch_size pending transactions, skipping committed ones (dropped for good) and
    /// those already in an uncommitted block of the branch this proposal extends; with their
    /// arrivals here.
    fn take_batch(&mut self, parent: &Block) -> (Vec<Tx>, Vec<Time>) {
        let in_branch = self.uncommitted_branch_txs(parent);
        let capacity = self.cfg.batch_size.min(self.pending.len());
        let (mut batch, mut arrived_at) = (Vec::with_capacity(capacity), Vec::with_capacity(capacity));
        while self.pending.front().is_some_and(|(tx, _)| self.committed.contains(tx.id)) {
            self.pending.pop_front();
        }
        for &(tx, arrived) in &self.pending {
            if batch.len() == self.cfg.batch_size {
                break;
            }
            if !self.committed.contains(tx.id) && !in_branch.contains(&tx.id) {
                batch.push(tx);
                arrived_at.push(arrived);
            }
        }
        (batch, arrived_at)
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
        if from != block.proposer || !block.is_well_formed() {
            return;
        }
        if block.proposer != self.leader(block.view) && !self.elected_by_parent(&block) {
            return;
        }
        // Batches first: a proposal waiting for them is handled again, and pays for its QC once.
        let parked = |wire| HsMsg::Propose { block: Rc::clone(&block), wire };
        if !self.batches_held(ctx, from, &[Rc::clone(&block)], parked) {
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
            // The planted bug votes again for another block of the view it just voted in.
            if self.cfg.bug == Some(PlantedBug::SeveralVotesPerView) && block.view == self.voted.0 {
                self.vote_if_safe(ctx, &block);
            }
            return;
        }
        self.vote_if_safe(ctx, &block);
        if self.is_basic() {
            return; // the leader's certificates drive the next phases (basic.rs)
        }
        self.update(ctx, &block.justify);
        let next_leader = self.leader(self.view.next());
        if next_leader != ctx.me() {
            let msg = HsMsg::NewView { view: self.view.next(), qc: self.qc_high.clone(), wire: self.wire() };
            self.send(ctx, next_leader, msg);
            self.enter_view(ctx, self.view.next());
        }
    }

    /// Stores a block whose parent is known; otherwise asks `from` for the parent first.
    /// Whether a proposal from a replica this one does not take for the view's leader should
    /// wait for its parent: with a policy under which replicas may disagree on leaders, the
    /// parent's certificate may elect the proposer (`leader.rs`).
    fn elected_by_parent(&self, block: &Block) -> bool {
        self.election.is_local() && !self.blocks.contains_key(&block.parent)
    }

    /// Lets a valid certificate whose block this replica holds elect a leader (reputation).
    fn observe_qc(&mut self, qc: &Qc) {
        let blocks = &self.blocks;
        let block_of = |id: BlockId| blocks.get(&id).map(|b| b.as_ref());
        self.election.certified(qc, block_of, self.view, (self.n, self.f));
    }

    fn insert_block(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, block: &Rc<Block>) -> bool {
        if self.blocks.contains_key(&block.id) {
            return true;
        }
        let Some(parent) = self.blocks.get(&block.parent) else {
            let msg = HsMsg::Propose { block: Rc::clone(block), wire: self.wire() };
            self.wait_for(ctx, Awaited::Block(block.parent), from, Parked::Message(msg));
            return false;
        };
        if block.height.0 != parent.height.0 + 1 || block.view <= parent.view {
            return false;
        }
        if block.proposer != ctx.me() {
            ctx.charge_txs(block.txs.len()); // decoding each entry of a block built elsewhere
        }
        self.blocks.insert(block.id, Rc::clone(block));
        self.by_height.insert((block.height, block.id));
        self.observe_qc(&block.justify);
        self.wake(ctx, Awaited::Block(block.id));
        true
    }

    /// The voting rule (basic HotStuff's safeNode): the block extends the locked block, or its
    /// QC is above the lock.
    fn vote_if_safe(&mut self, ctx: &mut Ctx<'_, Self>, block: &Block) {
        if !self.may_vote(Phase::Prepare, block.view) {
            return self.note_withheld(ctx, Phase::Prepare, block.view);
        }
        let lock = self.block(self.lock);
        let safe = self.extends(block, lock.id, lock.height)
            || block.justify.view > lock.view
            || self.cfg.bug == Some(PlantedBug::VoteIgnoringLock);
        if safe {
            self.vote(ctx, Phase::Prepare, block.view, block.id);
        }
    }

    /// Votes only move forward, once per view and phase, never in a view complained about.
    fn may_vote(&self, phase: Phase, view: View) -> bool {
        let again = self.cfg.bug == Some(PlantedBug::SeveralVotesPerView) && (view, phase) == self.voted;
        self.behavior != Behavior::WithholdVotes && ((view, phase) > self.voted || again) && view > self.complained_view
    }

    fn vote(&mut self, ctx: &mut Ctx<'_, Self>, phase: Phase, view: View, block: BlockId) {
        if !self.may_vote(phase, view) {
            return self.note_withheld(ctx, phase, view);
        }
        self.voted = (view, phase);
        let sig = ctx.sign(phase.vote_digest(view, block));
        if !self.is_basic() {
            self.last_vote = Some((view, block, sig));
        }
        let to = self.leader(self.votes_used_in(view));
        self.send(ctx, to, HsMsg::Vote { phase, view, block, sig });
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

    /// Algorithm 1's UPDATE: lock on the two-chain head, commit the three-chain head (or, with
    /// the two-chain rule, lock on the one-chain head and commit the two-chain head). Locks
    /// move by view (`lock_on`), unlike Algorithm 1, which compares heights.
    fn update(&mut self, ctx: &mut Ctx<'_, Self>, justify: &Qc) {
        let b2 = Rc::clone(self.block(justify.block));
        if self.cfg.commit_rule == CommitRule::TwoChain {
            return self.update_two_chain(ctx, &b2);
        }
        let Some(b1) = self.blocks.get(&b2.justify.block).cloned() else { return };
        let Some(b0) = self.blocks.get(&b1.justify.block).cloned() else { return };
        self.lock_on(ctx, &b1);
        let direct = b2.parent == b1.id && b1.parent == b0.id;
        let consecutive = b2.view.0 == b1.view.0 + 1 && b1.view.0 == b0.view.0 + 1;
        if direct && consecutive {
            self.commit(ctx, &b0);
        }
    }

    fn update_two_chain(&mut self, ctx: &mut Ctx<'_, Self>, b2: &Rc<Block>) {
        self.lock_on(ctx, b2);
        let Some(b1) = self.blocks.get(&b2.justify.block).cloned() else { return };
        if b2.parent == b1.id && b2.view.0 == b1.view.0 + 1 {
            self.commit(ctx, &b1);
        }
    }

    /// The lock moves to `block` if its view is above the locked block's: the voting rule
    /// compares views, so the lock must too (see the module docs).
    fn lock_on(&mut self, ctx: &mut Ctx<'_, Self>, block: &Block) {
        if block.view > self.block(self.lock).view {
            self.lock = block.id;
            self.note(ctx, Note::Lock { view: block.view.0, block: block.id });
        }
    }

    /// Commits `tip` and its uncommitted ancestors, oldest first, and executes them.
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
            let (txs, arrived_at) = self.payload(block);
            let fresh: Vec<Tx> = txs.iter().copied().filter(|tx| self.committed.insert(tx.id)).collect();
            ctx.commit(block.height.0, block.id, &fresh);
            report_proposal(ctx, block, (&txs, &arrived_at), &fresh);
            self.batches_committed(block);
            self.election.committed(block);
            self.execute(ctx, &fresh);
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

    fn on_vote(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        vote: (Phase, View, BlockId),
        sig: sim_core::Signature,
    ) {
        let (phase, view, block) = vote;
        // Chained votes only in the generic (prepare) phase.
        let voted_phase = self.is_basic() || phase == Phase::Prepare;
        if !voted_phase || self.votes_used_in(view) < self.view {
            return;
        }
        if !ctx.verify(&sig, from, phase.vote_digest(view, block)) {
            return;
        }
        if self.votes.add((view, phase, block), sig) != Some(self.quorum) {
            return;
        }
        let agg = ctx.aggregate(self.votes.get(&(view, phase, block))).expect("votes on one digest");
        self.stats.qcs_formed += 1;
        assert!(agg.signers().len() == self.quorum && agg.digest() == phase.vote_digest(view, block));
        ctx.record(HsRecord::Certified { view, phase, block });
        let qc = Qc { view, block, sig: Rc::new(agg) };
        if self.is_basic() {
            self.broadcast(ctx, HsMsg::Certified { phase, qc, wire: self.wire() });
        } else {
            self.on_qc(ctx, from, qc, true);
        }
    }

    fn on_timeout(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.stats.timeouts += 1;
        self.consecutive_timeouts += 1;
        self.note(ctx, Note::Timeout { view: self.view.0 });
        ctx.set_timer(HsTimer::ViewTimeout(self.side()), self.timeout());
        self.complain(ctx, self.view);
        self.retry_sync(ctx);
    }

    fn complain(&mut self, ctx: &mut Ctx<'_, Self>, view: View) {
        self.complained_view = self.complained_view.max(view);
        let msg = self.complaint(ctx, view);
        self.broadcast(ctx, msg);
    }

    fn complaint(&mut self, ctx: &mut Ctx<'_, Self>, view: View) -> HsMsg {
        let sig = ctx.sign(complain_digest(view));
        let (qc_high, last_vote, wire) = (self.qc_high.clone(), self.last_vote, self.wire());
        HsMsg::Complain { view, sig, qc_high, last_vote, wire }
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
            self.on_vote(ctx, from, (Phase::Prepare, v, b), s);
        }
        self.on_qc(ctx, from, qc_high, false);
        if view < self.view {
            self.help_catch_up(ctx, from, view);
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
                let msg = HsMsg::NextView { tc: tc.clone(), qc_high: self.qc_high.clone(), wire: self.wire() };
                self.broadcast(ctx, msg);
            }
            self.on_tc(ctx, &tc);
        }
    }

    /// A replica complains in `view`, which this one left. It gets what moved this one on: the
    /// timeout certificate, if one did; else this replica's own complaint for `view`, which
    /// carries its highest QC (a QC of `view` or later moves the complainer on) and counts
    /// towards a certificate for `view`. A replica that left `view` by voting in it holds no
    /// certificate of it; without this answer, the replicas that missed its proposal (a
    /// partition) time out in `view` for ever while it waits in the next one, each side short
    /// of a quorum of complaints (found by swarm exploration: hotstuff-swarm.toml, seed 106).
    fn help_catch_up(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, view: View) {
        let now = ctx.now();
        let recent = |&(v, at): &(View, Time)| v >= view && now < at + self.timeout();
        if from == ctx.me() || self.answered.get(&from).is_some_and(recent) {
            return;
        }
        self.answered.insert(from, (view, now));
        let msg = match self.tc_high.clone().filter(|tc| tc.view >= view) {
            Some(tc) => HsMsg::NextView { tc, qc_high: self.qc_high.clone(), wire: self.wire() },
            None => self.complaint(ctx, view),
        };
        self.send(ctx, from, msg);
    }

    fn on_tc(&mut self, ctx: &mut Ctx<'_, Self>, tc: &Tc) {
        if tc.view < self.view || !self.certificate_valid(ctx, &tc.sig, complain_digest(tc.view)) {
            return;
        }
        self.tc_high = Some(tc.clone());
        self.stats.view_changes += 1;
        self.enter_view(ctx, tc.view.next());
    }

    // ----- block synchronization -----

    /// Parks `parked` until `missing` arrives; asks `from` for a missing block (the caller
    /// asks for batches).
    fn wait_for(&mut self, ctx: &mut Ctx<'_, Self>, missing: Awaited, from: NodeId, parked: Parked) {
        if self.n_waiting >= WAITING_MAX {
            return;
        }
        let first = !self.waiting.contains_key(&missing);
        self.waiting.entry(missing).or_default().push((from, parked));
        self.n_waiting += 1;
        if let (true, Awaited::Block(id)) = (first && from != ctx.me(), missing) {
            self.stats.block_requests += 1;
            self.send(ctx, from, HsMsg::BlockRequest { id });
        }
    }

    fn wake(&mut self, ctx: &mut Ctx<'_, Self>, arrived: Awaited) {
        let Some(waiters) = self.waiting.remove(&arrived) else { return };
        self.n_waiting -= waiters.len();
        for (from, parked) in waiters {
            match parked {
                Parked::Message(msg) => self.handle(ctx, from, msg),
                Parked::Qc(qc) => self.on_qc(ctx, from, qc, false),
            }
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
            self.send(ctx, from, HsMsg::BlockResponse { blocks, wire: self.wire() });
        }
    }

    fn on_block_response(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, blocks: Vec<Rc<Block>>) {
        let valid = |b: &Rc<Block>, me: &Self, ctx: &mut Ctx<'_, Self>| {
            let leads = me.election.is_local() || b.proposer == me.leader(b.view);
            b.is_well_formed() && leads && me.qc_valid(ctx, &b.justify)
        };
        if blocks.iter().any(|b| !b.is_well_formed()) {
            return;
        }
        // Batches before the certificates: a response waiting for them pays for its QCs once.
        let parked = |wire| HsMsg::BlockResponse { blocks: blocks.clone(), wire };
        if !self.batches_held(ctx, from, &blocks, parked) {
            return;
        }
        if blocks.iter().any(|b| !valid(b, self, ctx)) {
            return;
        }
        // Newest first on the wire. If even the oldest has an unknown parent, the whole response
        // waits for that parent (fetched from the same peer).
        let Some(oldest) = blocks.last() else { return };
        if !self.blocks.contains_key(&oldest.parent) && !self.blocks.contains_key(&oldest.id) {
            let parent = oldest.parent;
            let msg = HsMsg::BlockResponse { blocks, wire: self.wire() };
            self.wait_for(ctx, Awaited::Block(parent), from, Parked::Message(msg));
            return;
        }
        for block in blocks.iter().rev() {
            if !self.insert_block(ctx, from, block) {
                return;
            }
        }
    }

    /// Asks again for missing blocks whose request or response may have been lost, from every
    /// replica whose message named the block (the first may have crashed since: asking it
    /// alone, a replica waited for ever on a block two others held), and, from everyone, for
    /// missing batches.
    fn retry_sync(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.retry_batches(ctx);
        let me = ctx.me();
        let mut retries: Vec<(BlockId, NodeId)> = Vec::new();
        let blocks = self.waiting.iter().filter_map(|(awaited, w)| match awaited {
            Awaited::Block(id) => Some((*id, w)),
            Awaited::Batch(_) => None,
        });
        for (id, waiters) in blocks.take(8) {
            let mut senders: Vec<NodeId> = waiters.iter().map(|&(from, _)| from).filter(|&f| f != me).collect();
            senders.sort_unstable();
            senders.dedup();
            retries.extend(senders.into_iter().map(|from| (id, from)));
        }
        for (id, from) in retries {
            self.stats.block_requests += 1;
            self.send(ctx, from, HsMsg::BlockRequest { id });
        }
    }

    /// Runs `f` on the copy of this replica that plays `side` (itself unless it equivocates).
    fn on_face(&mut self, side: u8, f: impl FnOnce(&mut HotStuff)) {
        if side == 0 || self.twin.is_none() {
            return f(self);
        }
        let mut twin = self.twin.take().expect("an equivocator has a twin");
        f(&mut twin);
        self.twin = Some(twin);
    }

    fn enqueue(&mut self, tx: Tx, arrived: Time) {
        if !self.committed.contains(tx.id) {
            self.pending.push_back((tx, arrived));
        }
    }

    /// Runs `f` on the second face of an equivocator; nothing for anyone else.
    fn with_twin(&mut self, f: impl FnOnce(&mut HotStuff)) {
        if let Some(mut twin) = self.twin.take() {
            f(&mut twin);
            self.twin = Some(twin);
        }
    }

    /// The face a message from `from` is meant for (not for twins: see `on_twins_message`).
    fn side_of(&self, from: NodeId, msg: &HsMsg) -> u8 {
        match (msg, self.face.as_ref().map(|f| &f.audience)) {
            (HsMsg::Coalition { side, .. }, _) => *side,
            (_, Some(Audience::Halves(roles))) => match roles[from.idx()] {
                Role::Audience(side) => side,
                Role::Coalition => 0,
            },
            (_, Some(Audience::Twins(_)) | None) => 0,
        }
    }

    /// A twin hands a message to each of its copies in the sender copy's group of the
    /// message's view (both, when the view is not partitioned or the partitions have ended:
    /// judged on arrival, so a message in flight at the heal reaches both copies).
    fn on_twins_message(&mut self, ctx: &mut Ctx<'_, Self>, route: &TwinsRoute, from: NodeId, msg: HsMsg) {
        let (sender_copy, msg) = match msg {
            HsMsg::Coalition { side, inner } => (side, *inner),
            other => (0, other),
        };
        let view = msg.view();
        for copy in 0..2u8 {
            if route.connected(ctx.now(), view, (from, sender_copy), (ctx.me(), copy)) {
                let msg = msg.clone();
                self.on_face(copy, |c| c.handle(ctx, from, msg));
            }
        }
    }

    fn start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.n = ctx.n();
        self.f = ctx.f();
        self.quorum = byzantine_quorum(self.n, self.f);
        let mut order = self.cfg.leader_order.clone();
        order.sort_unstable();
        assert!(order.is_empty() || order.iter().copied().eq(0..self.n), "leader_order: a permutation of 0..n");
        if self.cfg.bug == Some(PlantedBug::QuorumMinusOne) {
            self.quorum -= 1;
        }
        self.start_mempool(ctx.me());
        self.enter_view(ctx, View(1));
    }

    /// One message for this copy: the dispatch of chained and basic HotStuff.
    fn handle(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: HsMsg) {
        match msg {
            HsMsg::Propose { block, .. } => self.on_propose(ctx, from, block),
            HsMsg::Vote { phase, view, block, sig } => {
                if self.leader(self.votes_used_in(view)) == ctx.me() {
                    self.on_vote(ctx, from, (phase, view, block), sig);
                }
            }
            HsMsg::NewView { view, qc, .. } if self.is_basic() => self.on_new_view(ctx, from, view, qc),
            HsMsg::NewView { qc, .. } => self.on_qc(ctx, from, qc, false),
            HsMsg::Certified { phase, qc, .. } => {
                if self.is_basic() {
                    self.on_certified(ctx, from, phase, qc);
                }
            }
            HsMsg::Complain { view, sig, qc_high, last_vote, .. } => {
                self.on_complain(ctx, from, view, sig, qc_high, last_vote)
            }
            HsMsg::NextView { tc, qc_high, .. } => {
                self.on_qc(ctx, from, qc_high, false);
                self.on_tc(ctx, &tc);
            }
            HsMsg::BlockRequest { id } => self.on_block_request(ctx, from, id),
            HsMsg::BlockResponse { blocks, .. } => self.on_block_response(ctx, from, blocks),
            HsMsg::Coalition { .. } => {} // only equivocators use it, and they unwrap it first
            HsMsg::Mempool(m) => self.on_mempool(ctx, from, m),
        }
    }
}

/// Reports the proposal behind `block`'s newly committed transactions `fresh` (a subsequence
/// of its own, in order), and, at the block's proposer, when each had arrived there.
fn report_proposal(ctx: &mut Ctx<'_, HotStuff>, block: &Block, (txs, arrived_at): (&[Tx], &[Time]), fresh: &[Tx]) {
    if block.proposed_at == Time::MAX {
        return;
    }
    ctx.proposal_committed(block.proposed_at, fresh);
    if block.proposer != ctx.me() {
        return;
    }
    let mut rest = fresh.iter().peekable();
    for (tx, &arrived) in txs.iter().zip(arrived_at) {
        if rest.next_if(|f| f.id == tx.id).is_some() {
            ctx.proposer_committed(tx.id, arrived);
        }
    }
}

impl Protocol for HotStuff {
    type Message = HsMsg;
    type Timer = HsTimer;
    type Record = HsRecord;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.behavior == Behavior::Silent {
            self.note_byzantine(ctx, "silent", 0);
        }
        if self.behavior == Behavior::Silent || self.script.is_some() {
            return;
        }
        self.start(ctx);
        self.with_twin(|twin| twin.start(ctx));
    }

    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        // State survived on disk; only the timers were lost.
        if self.behavior == Behavior::Silent || self.script.is_some() {
            return;
        }
        ctx.set_timer(HsTimer::ViewTimeout(0), self.timeout());
        self.rearm_mempool_timers(ctx);
        self.with_twin(|twin| {
            ctx.set_timer(HsTimer::ViewTimeout(1), twin.timeout());
            twin.rearm_mempool_timers(ctx);
        });
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: HsMsg) {
        if let Some(script) = &mut self.script {
            return script(ctx, from, msg);
        }
        if self.behavior == Behavior::Silent {
            return;
        }
        if let Some(Face { audience: Audience::Twins(route), .. }) = &self.face {
            return self.on_twins_message(ctx, &Rc::clone(route), from, msg);
        }
        let side = self.side_of(from, &msg);
        let msg = match msg {
            HsMsg::Coalition { inner, .. } if self.twin.is_some() => *inner,
            other => other,
        };
        self.on_face(side, |copy| copy.handle(ctx, from, msg));
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: HsTimer) {
        match timer {
            HsTimer::ViewTimeout(side) => self.on_face(side, |copy| copy.on_timeout(ctx)),
            HsTimer::ProposeLate(side) => self.on_face(side, |copy| copy.on_propose_late(ctx)),
            HsTimer::BatchDelay(side) => self.on_face(side, |copy| copy.on_batch_delay(ctx)),
            HsTimer::BatchResend(side) => self.on_face(side, |copy| copy.on_batch_resend(ctx)),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        if self.behavior == Behavior::Silent {
            return;
        }
        let now = ctx.now();
        if self.mempool.is_some() {
            self.on_client_tx(ctx, tx);
            return self.with_twin(|twin| twin.on_client_tx(ctx, tx));
        }
        self.enqueue(tx, now);
        self.with_twin(|twin| twin.enqueue(tx, now));
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        let s = &self.stats;
        let mut counters = vec![
            ("view", self.view.0),
            ("view_changes", s.view_changes),
            ("timeouts", s.timeouts),
            ("qcs_formed", s.qcs_formed),
            ("blocks_proposed", s.blocks_proposed),
            ("blocks_committed", s.blocks_committed),
            ("txs_committed", s.txs_committed),
            ("block_requests", s.block_requests),
            ("pending_txs", self.pending.len() as u64),
        ];
        counters.extend(self.mempool_counters());
        counters
    }

    /// The view and its leader, the lock, the highest QC, what is committed, the last vote;
    /// an equivocator's or twin's second copy follows.
    fn debug_state(&self) -> String {
        let mut out = String::new();
        self.write_state(&mut out);
        if let Some(twin) = &self.twin {
            out.push_str("second copy:\n");
            twin.write_state(&mut out);
        }
        out
    }
}

impl HotStuff {
    fn write_state(&self, out: &mut String) {
        use std::fmt::Write;
        if self.n == 0 {
            let _ = writeln!(out, "not started ({:?})", self.behavior);
            return;
        }
        let lock = self.block(self.lock);
        let exec = self.block(self.exec);
        let qc = &self.qc_high;
        let _ = writeln!(
            out,
            "view {} leader {} ({:?}, {} consecutive timeouts)",
            self.view.0,
            self.leader(self.view).0,
            self.behavior,
            self.consecutive_timeouts
        );
        let _ = writeln!(out, "locked block {:016x} view {} height {}", lock.id, lock.view.0, lock.height.0);
        let _ = writeln!(out, "highest qc view {} block {:016x}", qc.view.0, qc.block);
        let _ = writeln!(out, "committed height {} block {:016x}", exec.height.0, exec.id);
        let _ = writeln!(
            out,
            "voted view {} {}, complained view {}, proposed view {}",
            self.voted.0.0,
            self.voted.1.name(),
            self.complained_view.0,
            self.proposed_view.0
        );
        let _ = writeln!(out, "pending txs {}, blocks awaited {}", self.pending.len(), self.waiting.len());
        if let Some(pool) = &self.mempool {
            let (stored, ready) = pool.sizes();
            let _ = writeln!(out, "mempool: batches stored {stored}, ready {ready}");
        }
    }
}
