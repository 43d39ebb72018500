//! A Narwhal-style mempool (the asonnino/hotstuff prototype's `mempool` crate), sans-IO and
//! embedded by a protocol in its own state and message enum.
//!
//! Each replica's worker batches the transactions clients hand it, sealing a batch when it
//! reaches `batch_bytes` or `max_batch_delay` after its first transaction. It broadcasts the
//! batch to every other replica, which stores it and acknowledges it to its author; once
//! `ack_quorum` replicas hold it (the author included, n - f by default: the prototype's
//! `QuorumWaiter` stops at the quorum threshold of stake, its own counted), the digest is
//! *ready* for the author's consensus to propose. Another replica's batch is ready at this
//! replica as soon as its author's broadcast arrives (the prototype's processor hands every
//! stored batch's digest to consensus, its own and others'), so any leader, a stable one
//! included, proposes every replica's batches. A replica that meets a digest it lacks asks
//! for it (`request`: first whoever sent the block, then, on `retry`, everyone: the prototype's
//! `Synchronizer` asks the block's author and retries with other nodes).
//!
//! The component never sends, arms timers or hashes by itself: each call returns `Action`s for
//! the embedding protocol to carry out through its `ctx`, so a two-faced Byzantine replica can
//! route them as it routes the rest. Batches are shared by `Rc`.
//!
//! Costs: a batch travels at its real size (its transactions' bytes plus a header) and a digest
//! as 32 bytes; a receiver pays the per-KiB cost of hashing a batch through the engine's
//! per-KiB receive cost, as for every message. Client signatures are not checked: the
//! prototype's workers store client transactions as opaque bytes.
//!
//! State: the batch being built, the stored batches (own and others'), the acknowledgements of
//! own batches in flight, the ready digests and the digests asked for. Committed batches are
//! forgotten `KEEP_COMMITTED_HEIGHTS` committed heights later (lagging replicas may still ask
//! for them until then); a batch no block ever names stays until the run ends, as in the
//! prototype (its store is garbage-collected by round only for committed payloads).
//!
//! A batch whose broadcast was lost (a partition, loss) would never reach its quorum, and its
//! transactions never a block: the prototype's reliable sender retries until each peer has it.
//! Here a resend timer runs while own batches are short of their quorum: every `RESEND_AFTER`
//! the author sends each such batch again to the replicas that have not acknowledged it. A
//! committed batch needs no more holders and is not sent again.
//!
//! A Byzantine worker that withholds (`Mempool::withholding`) sends each batch only to as many
//! replicas as its acknowledgement quorum needs, and answers no request: the replicas it left
//! out must fetch the batch from those that hold it.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write;
use std::rc::Rc;

use sim_core::digest::{Fold, hash_words};
use sim_core::{NodeId, NodeSet, Span, Time, Tx};

/// A batch's digest (a hash of its author, sequence number and transactions).
pub type BatchDigest = u64;

/// Bytes of a digest on the wire.
pub const DIGEST_BYTES: u32 = 32;
/// Bytes of a mempool message header: kind, author, sequence number, count.
pub const BATCH_HEADER_BYTES: u32 = 24;
/// Committed batches are kept this many committed heights, for lagging replicas to fetch.
const KEEP_COMMITTED_HEIGHTS: u64 = 64;
/// Digests asked for again at most, per retry.
const RETRY_MAX: usize = 16;
/// An own batch short of its quorum is sent again no sooner than this after its last send.
pub const RESEND_AFTER: Span = Span(1_000_000_000);

/// The mempool's settings (`[hotstuff] mempool_*` in a scenario).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// A batch is sealed once its transactions add up to this many bytes.
    pub batch_bytes: u32,
    /// ...or this long after its first transaction arrived, whichever comes first.
    pub max_batch_delay: Span,
    /// Replicas that must hold a batch (its author included) before its digest is ready; 0
    /// means n - f.
    pub ack_quorum: u32,
}

/// A sealed batch of client transactions.
#[derive(Debug, PartialEq, Eq)]
pub struct Batch {
    pub digest: BatchDigest,
    pub author: NodeId,
    pub seq: u64,
    pub txs: Vec<Tx>,
    /// When each transaction reached the author: measurement only (the latency at the
    /// proposer), neither in the digest nor on the wire.
    pub arrived_at: Vec<Time>,
}

impl Batch {
    pub fn compute_digest(author: NodeId, seq: u64, txs: &[Tx]) -> BatchDigest {
        let mut f = Fold::new(0x6261_7463);
        f.add(u64::from(author.0)).add(seq);
        for tx in txs {
            f.add(tx.id.0);
        }
        f.value()
    }

    pub fn is_well_formed(&self) -> bool {
        self.digest == Batch::compute_digest(self.author, self.seq, &self.txs)
    }

    pub fn wire_size(&self) -> u32 {
        BATCH_HEADER_BYTES + self.txs.iter().map(|t| t.size_bytes).sum::<u32>()
    }
}

/// The mempool's messages, which the embedding protocol wraps in its own enum.
#[derive(Clone, Debug)]
pub enum MempoolMsg {
    /// A sealed batch: broadcast by its author, or sent in answer to a request.
    Batch(Rc<Batch>),
    /// To a batch's author: the sender stores it.
    BatchAck { digest: BatchDigest },
    /// Asks for the batches of these digests.
    BatchRequest { digests: Vec<BatchDigest> },
}

impl MempoolMsg {
    /// The kind names, in the order of `kind_offset`.
    pub const KINDS: [&'static str; 3] = ["batch", "batch-ack", "batch-request"];

    /// This message's index in `KINDS`.
    pub fn kind_offset(&self) -> usize {
        match self {
            MempoolMsg::Batch(_) => 0,
            MempoolMsg::BatchAck { .. } => 1,
            MempoolMsg::BatchRequest { .. } => 2,
        }
    }

    pub fn wire_size(&self) -> u32 {
        match self {
            MempoolMsg::Batch(batch) => batch.wire_size(),
            MempoolMsg::BatchAck { .. } => BATCH_HEADER_BYTES + DIGEST_BYTES,
            MempoolMsg::BatchRequest { digests } => BATCH_HEADER_BYTES + DIGEST_BYTES * digests.len() as u32,
        }
    }

    pub fn fingerprint(&self) -> u64 {
        match self {
            MempoolMsg::Batch(batch) => hash_words(&[0x006d_7001, batch.digest]),
            MempoolMsg::BatchAck { digest } => hash_words(&[0x006d_7002, *digest]),
            MempoolMsg::BatchRequest { digests } => hash_words(&[0x006d_7003, digests.len() as u64, digests[0]]),
        }
    }

    /// "batch 3f2a from 1 seq 4 txs 120", "ack 3f2a", "request 2 first 3f2a".
    pub fn describe(&self, out: &mut String) {
        let short = |d: BatchDigest| format!("{:04x}", d >> 48);
        let _ = match self {
            MempoolMsg::Batch(b) => {
                write!(out, "batch {} from {} seq {} txs {}", short(b.digest), b.author.0, b.seq, b.txs.len())
            }
            MempoolMsg::BatchAck { digest } => write!(out, "ack {}", short(*digest)),
            MempoolMsg::BatchRequest { digests } => {
                write!(out, "request {} first {}", digests.len(), short(digests[0]))
            }
        };
    }
}

/// What the embedding protocol must do for the mempool.
#[derive(Clone, Debug)]
pub enum Action {
    Broadcast(MempoolMsg),
    Send(NodeId, MempoolMsg),
    /// Arm the batch-delay timer (replacing any pending one).
    ArmDelay(Span),
    DisarmDelay,
    /// Arm the resend timer: own batches are short of their quorum (`Mempool::on_resend`).
    ArmResend(Span),
    /// A batch this replica lacked is now stored: what waited for it may go on.
    Stored(BatchDigest),
}

/// Counters for the run's per-node results.
#[derive(Clone, Copy, Debug, Default)]
pub struct MempoolStats {
    pub batches_sealed: u64,
    pub batch_requests: u64,
}

/// One replica's mempool.
#[derive(Debug)]
pub struct Mempool {
    cfg: MempoolConfig,
    me: NodeId,
    n: u32,
    /// Holders needed for a digest to be ready (the author included).
    quorum: usize,
    withholding: bool,
    building: Vec<Tx>,
    building_arrived: Vec<Time>,
    building_bytes: u32,
    next_seq: u64,
    store: BTreeMap<BatchDigest, Rc<Batch>>,
    /// Own batches not yet at a quorum: who holds them, and when they were last sent.
    acks: BTreeMap<BatchDigest, (NodeSet, Time)>,
    /// Batches this replica may propose, not yet committed, oldest first: its own once at
    /// their quorum, others' as their authors' broadcasts arrive.
    ready: VecDeque<BatchDigest>,
    /// Digests asked for and not yet received, with whom they were asked of.
    requested: BTreeMap<BatchDigest, NodeSet>,
    /// Digests committed, by committed height, until they are forgotten.
    committed: VecDeque<(u64, Vec<BatchDigest>)>,
    pub stats: MempoolStats,
}

impl Mempool {
    pub fn new(cfg: MempoolConfig, me: NodeId, n: u32, f: u32) -> Mempool {
        assert!(cfg.batch_bytes >= 1 && cfg.max_batch_delay > Span::ZERO && cfg.ack_quorum <= n);
        let quorum = if cfg.ack_quorum == 0 { (n - f) as usize } else { cfg.ack_quorum as usize };
        Mempool {
            cfg,
            me,
            n,
            quorum,
            withholding: false,
            building: Vec::new(),
            building_arrived: Vec::new(),
            building_bytes: 0,
            next_seq: 0,
            store: BTreeMap::new(),
            acks: BTreeMap::new(),
            ready: VecDeque::new(),
            requested: BTreeMap::new(),
            committed: VecDeque::new(),
            stats: MempoolStats::default(),
        }
    }

    /// A Byzantine worker: each batch reaches only the replicas its quorum needs, and requests
    /// go unanswered.
    pub fn withholding(mut self) -> Mempool {
        self.withholding = true;
        self
    }

    pub fn holds(&self, digest: BatchDigest) -> bool {
        self.store.contains_key(&digest)
    }

    /// The digests of `digests` this replica does not hold.
    pub fn missing(&self, digests: &[BatchDigest]) -> Vec<BatchDigest> {
        digests.iter().copied().filter(|d| !self.holds(*d)).collect()
    }

    /// The batch delay, if a batch is under way (to arm the timer again after a crash).
    pub fn delay_if_building(&self) -> Option<Span> {
        (!self.building.is_empty()).then_some(self.cfg.max_batch_delay)
    }

    /// Batches stored, and digests ready to propose.
    pub fn sizes(&self) -> (usize, usize) {
        (self.store.len(), self.ready.len())
    }

    /// A client transaction reaches this worker.
    pub fn on_tx(&mut self, tx: Tx, now: Time) -> Vec<Action> {
        let mut out = Vec::new();
        if self.building.is_empty() {
            out.push(Action::ArmDelay(self.cfg.max_batch_delay));
        }
        self.building.push(tx);
        self.building_arrived.push(now);
        self.building_bytes = self.building_bytes.saturating_add(tx.size_bytes);
        if self.building_bytes >= self.cfg.batch_bytes {
            out.push(Action::DisarmDelay);
            out.extend(self.seal(now));
        }
        out
    }

    /// The batch delay passed: seal what there is.
    pub fn on_delay(&mut self, now: Time) -> Vec<Action> {
        if self.building.is_empty() { Vec::new() } else { self.seal(now) }
    }

    /// The resend timer fired: each own batch still short of its quorum and last sent
    /// `RESEND_AFTER` ago or more goes again to those that lack it; the timer is armed again
    /// while any is short.
    pub fn on_resend(&mut self, now: Time) -> Vec<Action> {
        let mut out = self.resend_stale(now);
        if !self.acks.is_empty() {
            out.push(Action::ArmResend(RESEND_AFTER));
        }
        out
    }

    /// Each own batch short of its quorum and last sent `RESEND_AFTER` ago or more, to the
    /// replicas that have not acknowledged it (a withholder: to those it sent it to).
    fn resend_stale(&mut self, now: Time) -> Vec<Action> {
        let mut out = Vec::new();
        for (digest, (holders, sent)) in &mut self.acks {
            if *sent + RESEND_AFTER > now {
                continue;
            }
            *sent = now;
            let batch = &self.store[digest];
            let targets = (0..self.n).map(NodeId).filter(|&to| to != self.me);
            let targets: Vec<NodeId> =
                if self.withholding { targets.take(self.quorum - 1).collect() } else { targets.collect() };
            let missing = targets.into_iter().filter(|to| !holders.contains(*to));
            out.extend(missing.map(|to| Action::Send(to, MempoolMsg::Batch(Rc::clone(batch)))));
        }
        out
    }

    fn seal(&mut self, now: Time) -> Vec<Action> {
        let txs = std::mem::take(&mut self.building);
        let arrived_at = std::mem::take(&mut self.building_arrived);
        self.building_bytes = 0;
        let seq = self.next_seq;
        self.next_seq += 1;
        let digest = Batch::compute_digest(self.me, seq, &txs);
        let batch = Rc::new(Batch { digest, author: self.me, seq, txs, arrived_at });
        self.stats.batches_sealed += 1;
        self.store.insert(digest, Rc::clone(&batch));
        let idle = self.acks.is_empty();
        self.acks.insert(digest, (NodeSet::new(), now));
        self.acknowledged(self.me, digest);
        let mut out = Vec::new();
        if idle && !self.acks.is_empty() {
            out.push(Action::ArmResend(RESEND_AFTER));
        }
        if !self.withholding {
            out.push(Action::Broadcast(MempoolMsg::Batch(batch)));
            return out;
        }
        // Just enough others for the quorum: the lowest ids but this replica.
        let others = (0..self.n).map(NodeId).filter(|&to| to != self.me).take(self.quorum - 1);
        out.extend(others.map(|to| Action::Send(to, MempoolMsg::Batch(Rc::clone(&batch)))));
        out
    }

    /// The resend timer's delay, if own batches are short of their quorum (to arm it again
    /// after a crash).
    pub fn resend_if_short(&self) -> Option<Span> {
        (!self.acks.is_empty()).then_some(RESEND_AFTER)
    }

    fn acknowledged(&mut self, by: NodeId, digest: BatchDigest) {
        let Some((holders, _)) = self.acks.get_mut(&digest) else { return };
        holders.insert(by);
        if holders.len() >= self.quorum {
            self.acks.remove(&digest);
            self.ready.push_back(digest);
        }
    }

    /// One mempool message from `from`.
    pub fn on_message(&mut self, from: NodeId, msg: MempoolMsg) -> Vec<Action> {
        match msg {
            MempoolMsg::Batch(batch) => self.on_batch(from, batch),
            MempoolMsg::BatchAck { digest } => {
                self.acknowledged(from, digest);
                Vec::new()
            }
            MempoolMsg::BatchRequest { digests } => self.on_request(from, &digests),
        }
    }

    fn on_batch(&mut self, from: NodeId, batch: Rc<Batch>) -> Vec<Action> {
        if !batch.is_well_formed() || batch.author == self.me {
            return Vec::new();
        }
        let mut out = Vec::new();
        if from == batch.author {
            out.push(Action::Send(from, MempoolMsg::BatchAck { digest: batch.digest }));
        }
        if self.store.insert(batch.digest, Rc::clone(&batch)).is_none() {
            self.requested.remove(&batch.digest);
            if from == batch.author && !self.was_committed(batch.digest) {
                // Another's batch, from its author: this replica may propose it too.
                self.ready.push_back(batch.digest);
            }
            out.push(Action::Stored(batch.digest));
        }
        out
    }

    /// Whether a block this replica committed in the last `KEEP_COMMITTED_HEIGHTS` heights
    /// named `digest` (an author's late resend must not make it ready again).
    fn was_committed(&self, digest: BatchDigest) -> bool {
        self.committed.iter().any(|(_, named)| named.contains(&digest))
    }

    fn on_request(&mut self, from: NodeId, digests: &[BatchDigest]) -> Vec<Action> {
        if self.withholding {
            return Vec::new();
        }
        let held = digests.iter().filter_map(|d| self.store.get(d));
        held.map(|b| Action::Send(from, MempoolMsg::Batch(Rc::clone(b)))).collect()
    }

    /// Asks `from` (who named them) for the digests of `missing` not asked of it yet: a
    /// withholding author never answers, but the next replica to name the batch holds it.
    pub fn request(&mut self, from: NodeId, missing: &[BatchDigest]) -> Vec<Action> {
        let mut ask = |d: &BatchDigest| self.requested.entry(*d).or_default().insert(from);
        let fresh: Vec<BatchDigest> = missing.iter().copied().filter(|d| ask(d)).collect();
        if fresh.is_empty() || from == self.me {
            return Vec::new();
        }
        self.stats.batch_requests += 1;
        vec![Action::Send(from, MempoolMsg::BatchRequest { digests: fresh })]
    }

    /// Asks everyone for the digests still missing (a lost answer, or an author that withholds).
    pub fn retry(&mut self) -> Vec<Action> {
        let digests: Vec<BatchDigest> = self.requested.keys().take(RETRY_MAX).copied().collect();
        if digests.is_empty() {
            return Vec::new();
        }
        self.stats.batch_requests += 1;
        vec![Action::Broadcast(MempoolMsg::BatchRequest { digests })]
    }

    /// Up to `max` ready digests (own and others'), oldest first, leaving out those `skip` names (already in
    /// the branch a proposal extends).
    pub fn take_ready(&self, max: usize, skip: impl Fn(BatchDigest) -> bool) -> Vec<BatchDigest> {
        self.ready.iter().copied().filter(|&d| !skip(d)).take(max).collect()
    }

    /// The transactions of `digests`, in order, with their arrivals at their authors. Every
    /// digest must be held: a block is stored only once its batches are.
    pub fn payload(&self, digests: &[BatchDigest]) -> (Vec<Tx>, Vec<Time>) {
        let (mut txs, mut arrived) = (Vec::new(), Vec::new());
        for d in digests {
            let batch = self.store.get(d).expect("a stored block's batches are held");
            txs.extend_from_slice(&batch.txs);
            arrived.extend_from_slice(&batch.arrived_at);
        }
        (txs, arrived)
    }

    /// The block at committed height `height` named `digests`: they leave the ready queue, and
    /// batches committed `KEEP_COMMITTED_HEIGHTS` heights ago are forgotten.
    pub fn committed(&mut self, height: u64, digests: &[BatchDigest]) {
        if digests.is_empty() {
            return;
        }
        self.ready.retain(|d| !digests.contains(d));
        // A committed batch is available: its author stops sending it.
        self.acks.retain(|d, _| !digests.contains(d));
        self.committed.push_back((height, digests.to_vec()));
        while self.committed.front().is_some_and(|(h, _)| h + KEEP_COMMITTED_HEIGHTS < height) {
            let (_, old) = self.committed.pop_front().expect("non-empty");
            for d in old {
                self.store.remove(&d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(id: u64, size_bytes: u32) -> Tx {
        let (from, to) = (sim_core::AccountId(0), sim_core::AccountId(1));
        Tx { id: sim_core::TxId(id), client: NodeId(9), from, to, amount: 1, nonce: id + 1, size_bytes }
    }

    fn pool(me: u32, batch_bytes: u32) -> Mempool {
        let cfg = MempoolConfig { batch_bytes, max_batch_delay: Span::from_millis(10), ack_quorum: 0 };
        Mempool::new(cfg, NodeId(me), 4, 1)
    }

    fn batch_of(actions: &[Action]) -> Rc<Batch> {
        actions
            .iter()
            .find_map(|a| match a {
                Action::Broadcast(MempoolMsg::Batch(b)) | Action::Send(_, MempoolMsg::Batch(b)) => Some(Rc::clone(b)),
                _ => None,
            })
            .expect("a batch went out")
    }

    #[test]
    fn a_batch_seals_by_size_and_is_ready_at_the_ack_quorum() {
        let mut a = pool(0, 1000);
        assert!(matches!(a.on_tx(tx(1, 600), Time(0))[..], [Action::ArmDelay(_)]));
        let sealed = a.on_tx(tx(2, 600), Time(5));
        let batch = batch_of(&sealed);
        assert_eq!((batch.txs.len(), batch.wire_size()), (2, 1200 + BATCH_HEADER_BYTES));
        assert!(a.take_ready(8, |_| false).is_empty(), "only the author holds it");
        let mut b = pool(1, 1000);
        let got = b.on_message(NodeId(0), MempoolMsg::Batch(Rc::clone(&batch)));
        assert!(matches!(got[0], Action::Send(NodeId(0), MempoolMsg::BatchAck { .. })));
        assert!(matches!(got[1], Action::Stored(d) if d == batch.digest));
        a.on_message(NodeId(1), MempoolMsg::BatchAck { digest: batch.digest });
        assert!(a.take_ready(8, |_| false).is_empty(), "two holders of the three needed");
        a.on_message(NodeId(2), MempoolMsg::BatchAck { digest: batch.digest });
        assert_eq!(a.take_ready(8, |_| false), vec![batch.digest]);
        assert_eq!(b.payload(&[batch.digest]).1, vec![Time(0), Time(5)]);
    }

    #[test]
    fn a_batch_short_of_its_quorum_goes_again_to_those_that_lack_it_while_the_resend_timer_runs() {
        let mut a = pool(0, 100);
        let sealed = a.on_tx(tx(1, 100), Time(0));
        assert!(sealed.iter().any(|x| matches!(x, Action::ArmResend(_))), "{sealed:?}");
        let first = batch_of(&sealed);
        a.on_message(NodeId(1), MempoolMsg::BatchAck { digest: first.digest });
        // A second batch while the timer runs does not arm it again.
        let second = a.on_tx(tx(2, 100), Time(RESEND_AFTER.0 / 2));
        assert!(!second.iter().any(|x| matches!(x, Action::ArmResend(_))), "{second:?}");
        let fired = a.on_resend(Time(RESEND_AFTER.0));
        let again: Vec<(NodeId, BatchDigest)> = fired
            .iter()
            .filter_map(|x| match x {
                Action::Send(to, MempoolMsg::Batch(b)) => Some((*to, b.digest)),
                _ => None,
            })
            .collect();
        // Only the first is stale; it goes to the two replicas that did not acknowledge it.
        assert_eq!(again, vec![(NodeId(2), first.digest), (NodeId(3), first.digest)], "{fired:?}");
        assert!(matches!(fired.last(), Some(Action::ArmResend(_))), "still short: armed again");
        a.on_message(NodeId(2), MempoolMsg::BatchAck { digest: first.digest });
        assert_eq!(a.take_ready(8, |_| false), vec![first.digest]);
        let b = batch_of(&second);
        a.committed(1, &[b.digest]);
        assert!(a.on_resend(Time(3 * RESEND_AFTER.0)).is_empty(), "a committed batch is not sent again");
    }

    #[test]
    fn another_authors_batch_is_ready_here_on_arrival_and_not_again_once_committed() {
        let mut a = pool(0, 100);
        let mut b = pool(1, 100);
        let batch = batch_of(&b.on_tx(tx(1, 100), Time(0)));
        a.on_message(NodeId(1), MempoolMsg::Batch(Rc::clone(&batch)));
        assert_eq!(a.take_ready(8, |_| false), vec![batch.digest], "any leader may propose it");
        a.committed(1, &[batch.digest]);
        assert!(a.take_ready(8, |_| false).is_empty());
        // A batch fetched from another replica, not sent by its author, is not made ready.
        let mut c = pool(2, 100);
        c.on_message(NodeId(3), MempoolMsg::Batch(Rc::clone(&batch)));
        assert!(c.take_ready(8, |_| false).is_empty(), "only an author's own send makes it ready");
    }

    #[test]
    fn the_delay_seals_a_partial_batch_and_commits_forget_it_later() {
        let mut a = pool(0, 1 << 20);
        a.on_tx(tx(1, 100), Time(0));
        let batch = batch_of(&a.on_delay(Time::ZERO));
        assert!(a.on_delay(Time::ZERO).is_empty(), "nothing left to seal");
        a.committed(1, &[batch.digest]);
        assert!(a.holds(batch.digest));
        a.committed(1 + KEEP_COMMITTED_HEIGHTS + 1, &[7]);
        assert!(!a.holds(batch.digest), "forgotten after the committed heights it is kept for");
    }

    #[test]
    fn a_withholder_reaches_only_its_quorum_and_answers_no_request() {
        let mut a = pool(3, 1).withholding();
        let sent = a.on_tx(tx(1, 10), Time(0));
        let to: Vec<NodeId> = sent
            .iter()
            .filter_map(|a| match a {
                Action::Send(to, MempoolMsg::Batch(_)) => Some(*to),
                _ => None,
            })
            .collect();
        assert_eq!(to, vec![NodeId(0), NodeId(1)]);
        let digest = batch_of(&sent).digest;
        assert!(a.on_message(NodeId(2), MempoolMsg::BatchRequest { digests: vec![digest] }).is_empty());
        let mut c = pool(2, 1);
        assert_eq!(c.request(NodeId(3), &[digest]).len(), 1);
        assert!(c.request(NodeId(3), &[digest]).is_empty(), "asked once of each replica");
        assert_eq!(c.request(NodeId(1), &[digest]).len(), 1, "and again of another");
        assert!(matches!(&c.retry()[..], [Action::Broadcast(MempoolMsg::BatchRequest { .. })]));
    }
}
