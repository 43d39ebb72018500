//! The sans-IO protocol interface: a replica is a state machine that sees the world only
//! through `Ctx` (time, identity, randomness, peers, signatures, commits and replies).

use std::fmt::Debug;

use crate::bitset::NodeSet;
use crate::checker::Violation;
use crate::cpu::{CryptoCosts, Pool};
use crate::crypto::RealCrypto;
use crate::ids::{NodeId, Tx, TxId, TxResult};
use crate::observe::Observer;
use crate::record::{Detail, Note, Record, Recorder};
use crate::rng::SimRng;
use crate::time::{Span, Time};

/// What a protocol message must tell the engine.
pub trait Message: Clone + Debug {
    /// The protocol's closed list of message kinds (proposal, vote...), named once: `kind`
    /// indexes it, and the reports count messages and bytes per kind.
    const KINDS: &'static [&'static str];
    /// Kinds of the items one message can carry several of (Algorand's gossip batches). They
    /// are counted besides the messages that carry them; most protocols have none.
    const ITEM_KINDS: &'static [&'static str] = &[];
    /// Bytes on the wire, computed from the content.
    fn wire_size(&self) -> u32;
    /// A stable hash of the content, folded into the run digest at delivery.
    fn fingerprint(&self) -> u64;
    /// This message's index in `KINDS`.
    fn kind(&self) -> usize;
    /// Per entry of `ITEM_KINDS` (or a prefix of them): the items of that kind this message
    /// carries and their bytes.
    fn items(&self) -> &[ItemTally] {
        &[]
    }
    /// The view (or round) this message belongs to, for the network adversary's rules; `None`
    /// for messages outside any view (block fetches, say).
    fn view(&self) -> Option<u64> {
        None
    }
    /// A one-line summary of the content for event logs and timelines ("view 4, block 1a2b,
    /// height 7"), written to `out`; the kind, size, sender and receiver are logged anyway.
    /// Called only when a run is observed.
    fn describe(&self, out: &mut String) {
        let _ = out;
    }
    /// The CPU pool this message is handled on when the replica has a request pool (payload
    /// dissemination a protocol wants off the consensus cores goes on `Pool::Request`).
    fn pool(&self) -> Pool {
        Pool::Consensus
    }
    /// The kinds a targeted adversary goes after by default: the ones safety and progress hang
    /// on (proposals, votes, certificates, view changes). Empty: every kind.
    const CRITICAL_KINDS: &'static [usize] = &[];
    /// How this message queues on a finite uplink or downlink (`net`): `Class::Normal`, one
    /// FIFO queue per link, unless the protocol marks small urgent messages (votes) that go
    /// ahead of bulk ones (blocks), as go-algorand's message tags do.
    fn class(&self) -> Class {
        Class::Normal
    }
}

/// A message's queueing class on finite links. Every message is `Normal` unless its protocol
/// says otherwise, so a protocol that names no class queues exactly as before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Class {
    /// One FIFO queue per link direction.
    #[default]
    Normal,
    /// Goes ahead of the `Normal` backlog (queueing only behind other urgent messages), which
    /// it pushes back by its own transmission time.
    Urgent,
}

/// Items of one kind inside one message, and their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ItemTally {
    pub count: u32,
    pub bytes: u32,
}

/// A replica's protocol. The engine calls one handler per event; the handler's effects
/// (sends, timers, replies) are applied when it returns.
pub trait Protocol: Sized {
    type Message: Message;
    /// A closed enum; each distinct value is one timer slot of the node.
    type Timer: Copy + Ord + Debug;
    /// What a replica reports to the protocol's invariant monitor (`Ctx::record`); a protocol
    /// without one uses `std::convert::Infallible`.
    type Record: Debug;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>);
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Self::Message);
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Self::Timer);
    /// A client's transaction reached this replica.
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx);
    /// The replica restarts after a crash. Its state survived (durable storage); timers and
    /// messages sent to it while down did not.
    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.on_start(ctx);
    }
    /// Protocol counters for the reports, as (name, value).
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
    /// The state that matters when an invariant breaks (locked and highest certificates, the
    /// status of commands in progress...), as a few readable lines for the violation report.
    fn debug_state(&self) -> String {
        String::new()
    }
}

/// A protocol's invariant checker over the whole cluster: it sees every replica's records, in
/// the order they happen, and what the observer knows (which replicas are correct, what clients
/// submitted). It must ignore what Byzantine replicas report.
pub trait Monitor<R> {
    fn observe(&mut self, at: Time, node: NodeId, record: &R, world: &Observer) -> Result<(), Violation>;
    /// Run-level counters for the reports, as (name, value).
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// The message of a protocol whose replicas send each other nothing (a toy, a test's log).
#[derive(Clone, Debug)]
pub enum NoMessage {}

impl Message for NoMessage {
    const KINDS: &'static [&'static str] = &[];

    fn wire_size(&self) -> u32 {
        match *self {}
    }

    fn fingerprint(&self) -> u64 {
        match *self {}
    }

    fn kind(&self) -> usize {
        match *self {}
    }
}

/// The monitor of a protocol that has none.
#[derive(Debug, Default)]
pub struct NoMonitor;

impl<R> Monitor<R> for NoMonitor {
    fn observe(&mut self, _: Time, _: NodeId, _: &R, _: &Observer) -> Result<(), Violation> {
        Ok(())
    }
}

/// A signature: an unforgeable token. Only `Ctx::sign` of the signing node creates one. In the
/// `real` crypto mode it also points at a real BLS signature, which is what gets verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature {
    signer: NodeId,
    digest: u64,
    real: u32,
}

/// No real signature behind a token (the modeled mode, or the genesis certificate).
const NO_REAL: u32 = u32::MAX;

impl Signature {
    pub fn signer(&self) -> NodeId {
        self.signer
    }
    pub fn digest(&self) -> u64 {
        self.digest
    }
}

/// Signatures of several nodes on one digest, aggregated (one BLS signature plus a bitmap).
/// In the `real` mode it points at the real aggregate, and keeps the real signatures it was made
/// of (signer, index) for certificates verified one by one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AggregateSignature {
    digest: u64,
    signers: NodeSet,
    real: u32,
    parts: Option<std::rc::Rc<[(NodeId, u32)]>>,
}

impl AggregateSignature {
    pub fn signers(&self) -> &NodeSet {
        &self.signers
    }
    pub fn digest(&self) -> u64 {
        self.digest
    }
    /// The genesis certificate every replica starts from: no signer needed.
    pub fn genesis(digest: u64) -> AggregateSignature {
        AggregateSignature { digest, signers: NodeSet::new(), real: NO_REAL, parts: None }
    }
}

/// Where a message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    To(NodeId),
    /// Every replica, the sender included (its own copy is delivered at once, off the network).
    AllReplicas,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimerOp<T> {
    Set(T, Span),
    Cancel(T),
}

/// What a handler asked for, applied by the engine once the handler returns.
#[derive(Debug)]
pub(crate) struct Outbox<M, T> {
    pub sends: Vec<(Dest, M)>,
    pub timers: Vec<TimerOp<T>>,
    pub replies: Vec<(NodeId, TxId, TxResult)>,
}

impl<M, T> Default for Outbox<M, T> {
    fn default() -> Self {
        Outbox { sends: Vec::new(), timers: Vec::new(), replies: Vec::new() }
    }
}

impl<M, T> Outbox<M, T> {
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty() && self.timers.is_empty() && self.replies.is_empty()
    }
    pub fn clear(&mut self) {
        self.sends.clear();
        self.timers.clear();
        self.replies.clear();
    }
}

/// A node's whole view of the world during one handler call.
pub struct Ctx<'a, P: Protocol> {
    pub(crate) now: Time,
    pub(crate) me: NodeId,
    pub(crate) n_replicas: u32,
    pub(crate) f: u32,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) out: &'a mut Outbox<P::Message, P::Timer>,
    pub(crate) obs: &'a mut Observer,
    pub(crate) monitor: &'a mut dyn Monitor<P::Record>,
    pub(crate) rec: &'a mut Recorder<P>,
    pub(crate) crypto: &'a CryptoCosts,
    /// What each transaction of a block built or taken in costs (`CpuConfig::per_tx`).
    pub(crate) per_tx: Span,
    /// The real signatures, in the `real` crypto mode.
    pub(crate) real: Option<&'a mut RealCrypto>,
    /// CPU time this handler has used so far.
    pub(crate) cost: Span,
}

impl<P: Protocol> Ctx<'_, P> {
    pub fn now(&self) -> Time {
        self.now
    }
    pub fn me(&self) -> NodeId {
        self.me
    }
    /// Number of replicas.
    pub fn n(&self) -> u32 {
        self.n_replicas
    }
    /// Faults tolerated.
    pub fn f(&self) -> u32 {
        self.f
    }
    /// This node's own random stream.
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    pub fn send(&mut self, to: NodeId, msg: P::Message) {
        assert!(to.0 < self.n_replicas, "protocol messages go to replicas; clients get replies");
        self.out.sends.push((Dest::To(to), msg));
    }

    /// To every replica, this one included.
    pub fn broadcast(&mut self, msg: P::Message) {
        self.out.sends.push((Dest::AllReplicas, msg));
    }

    /// Arms `timer` to fire `after` from now, replacing any pending firing of the same slot.
    pub fn set_timer(&mut self, timer: P::Timer, after: Span) {
        self.out.timers.push(TimerOp::Set(timer, after));
    }

    pub fn cancel_timer(&mut self, timer: P::Timer) {
        self.out.timers.push(TimerOp::Cancel(timer));
    }

    /// What each crypto operation costs here, for protocols that charge their own schemes
    /// (Ed25519 votes and VRF proofs, say) through `charge`.
    pub fn crypto_costs(&self) -> &CryptoCosts {
        self.crypto
    }

    /// Charges CPU time for work the protocol models itself (execution, say).
    pub fn charge(&mut self, cost: Span) {
        self.cost = self.cost + cost;
    }

    /// Charges the per-transaction cost of a block for `count` transactions: the work of
    /// building (encoding, hashing) or taking in (decoding) that many entries of a block.
    pub fn charge_txs(&mut self, count: usize) {
        self.charge(self.per_tx.saturating_mul(count as u64));
    }

    pub fn sign(&mut self, digest: u64) -> Signature {
        self.charge(self.crypto.sign);
        let real = self.real.as_deref_mut().map_or(NO_REAL, |r| r.sign(self.me.0, digest));
        Signature { signer: self.me, digest, real }
    }

    pub fn verify(&mut self, sig: &Signature, signer: NodeId, digest: u64) -> bool {
        self.charge(self.crypto.verify);
        match self.real.as_deref() {
            Some(r) => r.verify(sig.real, signer.0, digest),
            None => sig.signer == signer && sig.digest == digest,
        }
    }

    /// Verifies the signatures behind an aggregate one by one, as a certificate that lists
    /// them (no aggregation) must be checked: one verification per signer.
    pub fn verify_each(&mut self, agg: &AggregateSignature, digest: u64, quorum: usize) -> bool {
        let cost = self.crypto.verify.saturating_mul(agg.signers.len() as u64);
        self.charge(cost);
        if agg.signers.len() < quorum || agg.signers.iter().any(|s| s.0 >= self.n_replicas) {
            return false;
        }
        match (self.real.as_deref(), &agg.parts) {
            (Some(r), Some(parts)) => {
                parts.len() == agg.signers.len()
                    && parts
                        .iter()
                        .all(|&(signer, idx)| agg.signers.contains(signer) && r.verify(idx, signer.0, digest))
            }
            (Some(_), None) => false,
            (None, _) => agg.digest == digest,
        }
    }

    /// Aggregates signatures of distinct signers on one digest; `None` if they disagree.
    pub fn aggregate(&mut self, sigs: &[Signature]) -> Option<AggregateSignature> {
        self.charge(self.crypto.aggregate_per_sig.saturating_mul(sigs.len() as u64));
        let digest = sigs.first()?.digest;
        let mut signers = NodeSet::new();
        for s in sigs {
            if s.digest != digest || !signers.insert(s.signer) {
                return None;
            }
        }
        let Some(r) = self.real.as_deref_mut() else {
            return Some(AggregateSignature { digest, signers, real: NO_REAL, parts: None });
        };
        let indices: Vec<u32> = sigs.iter().map(|s| s.real).collect();
        let real = r.aggregate(&indices)?;
        let parts = sigs.iter().map(|s| (s.signer, s.real)).collect();
        Some(AggregateSignature { digest, signers, real, parts: Some(parts) })
    }

    /// True if `agg` signs `digest` with at least `quorum` distinct replicas.
    pub fn verify_aggregate(&mut self, agg: &AggregateSignature, digest: u64, quorum: usize) -> bool {
        self.charge(self.crypto.verify_aggregate);
        if agg.signers.len() < quorum || agg.signers.iter().any(|s| s.0 >= self.n_replicas) {
            return false;
        }
        match self.real.as_deref() {
            Some(r) => r.verify_aggregate(agg.real, agg.signers.iter().map(|s| s.0), digest),
            None => agg.digest == digest,
        }
    }

    /// Hands `record` to the run's invariant monitor at once (not when the handler ends: the
    /// monitor checks what the replica decided, not when the world hears of it).
    pub fn record(&mut self, record: P::Record) {
        if let Err(v) = self.monitor.observe(self.now, self.me, &record, self.obs) {
            self.obs.violation.get_or_insert(v);
        }
    }

    /// Notes that this replica executed `tx` (for the execution latency; the commit time is
    /// separate).
    pub fn executed(&mut self, tx: &Tx) {
        self.obs.on_executed(self.now, self.me, tx.id);
        self.rec.push(self.now, Record::Execute { node: self.me, tx: tx.id }, Detail::None);
    }

    /// Checks a client's signature on `tx` (charged as one verification). Client keys are always
    /// modeled, also in the `real` mode: the check is that a client submitted exactly `tx`.
    pub fn verify_client(&mut self, tx: &Tx) -> bool {
        self.charge(self.crypto.verify_client);
        self.obs.is_client_signed(tx)
    }

    /// Checks a client's signature that travels with a bare transaction id (a dependency
    /// reference): modeled, the id must belong to a submitted transaction.
    pub fn verify_client_id(&mut self, id: TxId) -> bool {
        self.charge(self.crypto.verify_client);
        id.0 < self.obs.submitted()
    }

    /// Reports that this replica committed `tx` outside any slot log (leaderless protocols
    /// order commands by dependencies; their monitor checks them).
    pub fn committed(&mut self, tx: &Tx) {
        self.obs.on_commit_unordered(self.now, self.me, tx.id);
        self.rec.push(self.now, Record::CommitTx { node: self.me, tx: tx.id }, Detail::None);
    }

    /// Reports that this replica committed `txs` at log position `slot` as the entry `entry_id`
    /// (a block id). The engine's safety checker sees every such report.
    pub fn commit(&mut self, slot: u64, entry_id: u64, txs: &[Tx]) {
        self.obs.on_commit(self.now, self.me, slot, entry_id, txs);
        let record = Record::Commit { node: self.me, slot, entry: entry_id, txs: txs.len() as u32 };
        self.rec.push(self.now, record, Detail::None);
    }

    /// Reports that the entry holding `txs`, just committed here (`commit`, `committed`), was
    /// proposed at `proposed`: the start of the prototype-style proposal-to-commit latency. No
    /// record: measurement only, outside the digest.
    pub fn proposal_committed(&mut self, proposed: Time, txs: &[Tx]) {
        self.obs.on_proposal_committed(self.me, proposed, txs);
    }

    /// Reports that this replica, which proposed `tx` after it arrived here at `arrived`, just
    /// committed it: Bamboo's latency at the proposer. Measurement only, outside the digest.
    pub fn proposer_committed(&mut self, tx: TxId, arrived: Time) {
        self.obs.on_proposer_committed(self.now, self.me, tx, arrived);
    }

    /// Notes a decision worth seeing in the event log and the timeline (a view change, a lock,
    /// a path taken). It changes nothing in the run: notes are not in the digest.
    pub fn note(&mut self, note: Note) {
        self.rec.push(self.now, Record::Note { node: self.me, note }, Detail::None);
    }

    /// Sends this replica's result for `tx` to the client that submitted it.
    pub fn reply(&mut self, tx: &Tx, result: TxResult) {
        self.out.replies.push((tx.client, tx.id, result));
    }
}
