//! The leaderless protocol's data: configuration, Byzantine behaviours, dependency replies,
//! proofs, messages with their sizes on the wire, timers, and what replicas report to the
//! monitor.

use std::rc::Rc;

use sim_core::digest::{Fold, hash_words};
use std::fmt::Write;

use sim_core::{AggregateSignature, Message, NodeId, Signature, Span, Tx, TxId};

use super::membership::Variant;
use crate::ledger::{ConflictRelation, Settlement};

/// Bytes of one BLS12-381 signature (min_pk: signatures in G2).
pub const SIGNATURE_BYTES: u32 = 96;
/// Bytes of a client's signature on a transaction (Ed25519-sized).
pub const CLIENT_SIGNATURE_BYTES: u32 = 64;
/// Bytes of a message header: kind, command id, view, sender.
pub const HEADER_BYTES: u32 = 24;
/// Bytes of a transaction reference in a dependency set.
pub const DEP_BYTES: u32 = 8;

/// The top bit of an id a Byzantine replica makes up. The engine numbers transactions densely
/// from 0, so no client ever signs an id with this bit set: an invented dependency stays
/// invalid at any rate and any run length (it used to be `max_seen + 1000 + k`, which became a
/// real command once a thousand more were submitted: issue 11, item 12).
pub const INVENTED_ID_FLAG: u64 = 1 << 63;

/// The `k`-th id a Byzantine replica invents: outside every id a client can sign.
pub fn invented_id(k: u64) -> TxId {
    TxId(INVENTED_ID_FLAG | k)
}

/// The flag of a floor inside a dependency set (Wintermute's pruning): `FLOOR_FLAG | L` says
/// "every command with an id below `L` comes before this one". Real ids are dense from 0 and
/// invented ones carry `INVENTED_ID_FLAG`, so a floor is neither; it sorts after every real id.
pub const FLOOR_FLAG: u64 = 1 << 62;

/// The dependency-set entry that carries the floor `floor` (below 2^62).
pub fn floor_marker(floor: u64) -> TxId {
    assert!(floor < FLOOR_FLAG, "floor {floor} out of range");
    TxId(FLOOR_FLAG | floor)
}

/// True if `id` is a floor, not a command.
pub fn is_floor(id: TxId) -> bool {
    id.0 & (INVENTED_ID_FLAG | FLOOR_FLAG) == FLOOR_FLAG
}

/// The floor a dependency set carries (the highest, should a Byzantine set carry several), or 0.
pub fn floor_of(deps: &[TxId]) -> u64 {
    deps.iter().filter(|d| is_floor(**d)).map(|d| d.0 & !FLOOR_FLAG).max().unwrap_or(0)
}

/// The commands a dependency set names, its floor left out.
pub fn named(deps: &[TxId]) -> impl Iterator<Item = TxId> + '_ {
    deps.iter().copied().filter(|d| !is_floor(*d))
}

/// A deliberately broken protocol, to prove the checkers catch what it breaks. Test-only: a
/// scenario file cannot set one (`LeaderlessConfig::bug`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedBug {
    /// Wintermute's slow path takes the plain union of the replies, not the threshold union:
    /// one replica's invented dependency gets in.
    PlainUnion,
    /// Replies leave out commands already executed: conflicting commands can miss each other.
    OmitExecuted,
    /// The ledger holds a transfer ahead of its nonce until the gap fills, and the executor
    /// does not chain a source's transfers (before issue 11): correct replicas diverge.
    HeldNonces,
    /// The executor never runs: commands commit and nothing executes or replies (the engine's
    /// liveness check must notice).
    ExecutorNeverRuns,
    /// Coordinators settle for one DDS reply fewer than the quorum: two quorums may share too
    /// few replicas to report a conflict.
    DdsQuorumMinusOne,
    /// PBFT counts one vote fewer than its quorum (prepare, commit, certificates): two quorums
    /// of one view may share no correct replica.
    PbftQuorumMinusOne,
    /// The threshold union keeps a dependency reported by f replicas instead of f+1
    /// (Wintermute): a Byzantine replica's dependency gets in alone.
    ThresholdF,
    /// A new view's value ignores the prepared certificates of the view changes and is the
    /// union of their replies (leader and followers alike).
    IgnorePreparedValues,
    /// Wintermute's fast path commits on n-1 identical replies instead of n.
    FastPathNMinusOne,
    /// A replica accepts a decision (`Commit`) without checking its proof.
    CommitWithoutProof,
    /// The executor runs a strongly connected component in the order its search met the
    /// commands (which follows commit arrival), not by the canonical key.
    NonCanonicalSccOrder,
    /// The executor ignores floors: a command runs before the commands below its floor, which
    /// its dependency set no longer names (the monitor's stability check must notice).
    IgnoreFloors,
    /// A command's floor is the highest one among the replies, not the (f+1)-th highest: one
    /// Byzantine replica claiming a floor above the command makes it wait for itself.
    HighestFloor,
    /// The EPaxos variant's answers name, per account, the anchor before the last one and
    /// nothing after it: neither the commands executed since nor the unexecuted ones (the
    /// monitor's consistency check must notice).
    StaleAnchor,
}

impl PlantedBug {
    pub const ALL: &'static [PlantedBug] = &[
        PlantedBug::PlainUnion,
        PlantedBug::OmitExecuted,
        PlantedBug::HeldNonces,
        PlantedBug::ExecutorNeverRuns,
        PlantedBug::DdsQuorumMinusOne,
        PlantedBug::PbftQuorumMinusOne,
        PlantedBug::ThresholdF,
        PlantedBug::IgnorePreparedValues,
        PlantedBug::FastPathNMinusOne,
        PlantedBug::CommitWithoutProof,
        PlantedBug::NonCanonicalSccOrder,
        PlantedBug::IgnoreFloors,
        PlantedBug::HighestFloor,
        PlantedBug::StaleAnchor,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PlantedBug::PlainUnion => "plain_union",
            PlantedBug::OmitExecuted => "omit_executed",
            PlantedBug::HeldNonces => "held_nonces",
            PlantedBug::ExecutorNeverRuns => "executor_never_runs",
            PlantedBug::DdsQuorumMinusOne => "dds_quorum_minus_one",
            PlantedBug::PbftQuorumMinusOne => "pbft_quorum_minus_one",
            PlantedBug::ThresholdF => "threshold_f",
            PlantedBug::IgnorePreparedValues => "ignore_prepared_values",
            PlantedBug::FastPathNMinusOne => "fast_path_n_minus_one",
            PlantedBug::CommitWithoutProof => "commit_without_proof",
            PlantedBug::NonCanonicalSccOrder => "non_canonical_scc_order",
            PlantedBug::IgnoreFloors => "ignore_floors",
            PlantedBug::HighestFloor => "highest_floor",
            PlantedBug::StaleAnchor => "stale_anchor",
        }
    }
}

#[derive(Clone, Debug)]
pub struct LeaderlessConfig {
    pub variant: Variant,
    pub conflicts: ConflictRelation,
    /// After a DDS quorum replied, how long the coordinator waits for all n (Wintermute).
    pub fast_path_wait: Span,
    /// A consensus view that has not decided by then moves to the next view; doubled per view.
    pub view_timeout: Span,
    /// A known command not committed this long after it was first seen gets recovered.
    pub recovery_timeout: Span,
    /// Every account's balance at genesis.
    pub genesis_balance: u64,
    /// Wintermute prunes dependency sets below executed prefixes rounded down to a multiple of
    /// this many ids (replicas that round alike reply alike, so the fast path survives); 0
    /// keeps every dependency. The EPaxos variant prunes by per-account anchors instead.
    pub checkpoint_interval: u64,
    /// The EPaxos variant keeps every dependency, as before anchors (tests compare the two).
    #[doc(hidden)]
    pub keep_all_deps: bool,
    /// A planted bug, for tests of the checkers only; never set from a scenario file.
    #[doc(hidden)]
    pub bug: Option<PlantedBug>,
}

impl LeaderlessConfig {
    pub fn new(variant: Variant) -> LeaderlessConfig {
        LeaderlessConfig {
            variant,
            conflicts: ConflictRelation::SharedAccount,
            fast_path_wait: Span::from_millis(50),
            view_timeout: Span::from_millis(500),
            recovery_timeout: Span::from_millis(1000),
            genesis_balance: 1_000_000,
            checkpoint_interval: match variant {
                Variant::Wintermute => 32,
                Variant::Epaxos => 0,
            },
            keep_all_deps: false,
            bug: None,
        }
    }
}

/// What a replica does. Correct replicas follow the protocol; the others do what an adversary
/// can, except sign as another replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    Correct,
    /// Drops everything.
    Silent,
    /// Replies with no dependencies at all.
    OmitDeps,
    /// Adds dependencies on commands no client signed (ids from `invented_id`, never real).
    InventDeps,
    /// Adds real commands that do not conflict.
    IrrelevantDeps,
    /// Replies differently to different askers.
    Equivocate,
    /// Replies a different (valid) set, so the fast path cannot hold.
    SpoilDifferent,
    /// Never replies to dependency requests.
    SpoilSilent,
    /// As coordinator, announces and never drives the command further.
    NeverCommit,
    /// As coordinator or view leader, proposes its own dependencies with no valid proof.
    ProposeWithoutProof,
    /// As coordinator, broadcasts a commit of a forged dependency set.
    ForgeCommit,
    /// Claims every command it hears of as its own: pushes the payload to all at once (when
    /// replicas believed whoever delivered a payload first, that made it their coordinator)
    /// and coordinates the command itself, racing the client's coordinator with its own
    /// view-0 proposal. Leaders now derive from the command, so the claim is ignored.
    ClaimCoordinator,
    /// As a view-0 coordinator or a view leader, proposes two different values to the two
    /// halves of the replicas, each with a proof that verifies where it can build one (two
    /// quorums of replies or view changes whose values differ, or a second answer of its own),
    /// and sends the second half a decision it forged (its own vote as the certificate).
    EquivocateProposal,
    /// Votes prepare and commit for every value it sees proposed or voted for, several per
    /// view.
    DoubleVote,
    /// In view changes, reports nothing prepared, and a dependency answer listing every
    /// conflicting command it knows by then (not the answer it gave at first sight).
    HidePrepared,
    /// In view changes, reports the oldest prepared certificate it holds (a stale, possibly
    /// different value) instead of the highest, and the late answer of `HidePrepared`.
    StalePrepared,
    /// The PBFT attacks together, on every command it hears of (it claims each one like
    /// `ClaimCoordinator`): equivocating proposals and forged decisions, double votes, and view
    /// changes with a stale certificate where it holds one and none otherwise.
    PbftAttack,
}

impl Behavior {
    /// The behaviour's name in scenario files (and in the Byzantine notes of event logs).
    pub fn name(self) -> &'static str {
        match self {
            Behavior::Correct => "correct",
            Behavior::Silent => "silent",
            Behavior::OmitDeps => "omit_deps",
            Behavior::InventDeps => "invent_deps",
            Behavior::IrrelevantDeps => "irrelevant_deps",
            Behavior::Equivocate => "equivocate",
            Behavior::SpoilDifferent => "spoil_different",
            Behavior::SpoilSilent => "spoil_silent",
            Behavior::NeverCommit => "never_commit",
            Behavior::ProposeWithoutProof => "propose_without_proof",
            Behavior::ForgeCommit => "forge_commit",
            Behavior::ClaimCoordinator => "claim_coordinator",
            Behavior::EquivocateProposal => "equivocate_proposal",
            Behavior::DoubleVote => "double_vote",
            Behavior::HidePrepared => "hide_prepared",
            Behavior::StalePrepared => "stale_prepared",
            Behavior::PbftAttack => "pbft_attack",
        }
    }

    /// Proposes different values to different replicas (and forges decisions).
    pub fn equivocates_proposals(self) -> bool {
        matches!(self, Behavior::EquivocateProposal | Behavior::PbftAttack)
    }

    /// Votes for several values in one view.
    pub fn double_votes(self) -> bool {
        matches!(self, Behavior::DoubleVote | Behavior::PbftAttack)
    }

    /// Lies in its view changes (prepared certificate and dependency answer).
    pub fn lies_in_view_changes(self) -> bool {
        matches!(self, Behavior::HidePrepared | Behavior::StalePrepared | Behavior::PbftAttack)
    }
}

/// A replica's signed answer of the dependency discovery service for one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    pub cmd: TxId,
    pub deps: Rc<[TxId]>,
    pub sig: Signature,
}

impl Ack {
    pub fn signer(&self) -> NodeId {
        self.sig.signer()
    }
    pub fn wire_size(&self, variant: Variant) -> u32 {
        let per_dep = match variant {
            Variant::Wintermute => DEP_BYTES,
            // Each dependency travels with its client's signature, the proof it is real.
            Variant::Epaxos => DEP_BYTES + CLIENT_SIGNATURE_BYTES,
        };
        8 + SIGNATURE_BYTES + per_dep * self.deps.len() as u32
    }
}

const ACK_TAG: u64 = 0x6464_7361;
const PREPARE_TAG: u64 = 0x7072_6570;
const COMMIT_TAG: u64 = 0x636f_6d6d;
const VIEW_CHANGE_TAG: u64 = 0x7663_6867;

/// A digest of a dependency set, the value consensus agrees on.
pub fn value_digest(cmd: TxId, deps: &[TxId]) -> u64 {
    let mut f = Fold::new(cmd.0);
    f.add(deps.len() as u64);
    for d in deps {
        f.add(d.0);
    }
    f.value()
}

/// What a DDS reply signs.
pub fn ack_digest(cmd: TxId, deps: &[TxId]) -> u64 {
    hash_words(&[ACK_TAG, value_digest(cmd, deps)])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Prepare,
    Commit,
}

/// What a PBFT vote signs: the phase, the command, the view and the value.
pub fn vote_digest(phase: Phase, cmd: TxId, view: u32, value: u64) -> u64 {
    let tag = match phase {
        Phase::Prepare => PREPARE_TAG,
        Phase::Commit => COMMIT_TAG,
    };
    hash_words(&[tag, cmd.0, view as u64, value])
}

/// 2f+1-style prepare votes for one value in one view: the lock a view change carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    pub view: u32,
    pub deps: Rc<[TxId]>,
    pub cert: AggregateSignature,
}

/// A replica's move to a new view of one command's consensus, signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewChange {
    pub cmd: TxId,
    pub view: u32,
    pub ack: Rc<Ack>,
    pub prepared: Option<Rc<Prepared>>,
    pub sig: Signature,
}

impl ViewChange {
    pub fn digest(cmd: TxId, view: u32, ack: &Ack, prepared: Option<&Prepared>) -> u64 {
        let p = prepared.map_or([u64::MAX, 0], |p| [p.view as u64, value_digest(cmd, &p.deps)]);
        hash_words(&[VIEW_CHANGE_TAG, cmd.0, view as u64, ack.sig.digest(), p[0], p[1]])
    }
    pub fn wire_size(&self, variant: Variant, n: u32) -> u32 {
        let prepared =
            self.prepared.as_ref().map_or(0, |p| 8 + SIGNATURE_BYTES + n.div_ceil(8) + DEP_BYTES * p.deps.len() as u32);
        HEADER_BYTES + SIGNATURE_BYTES + self.ack.wire_size(variant) + prepared
    }
}

/// Why a proposal's value is the right one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Justification {
    /// View 0: the DDS replies of a quorum; the value is their (threshold) union.
    Replies(Rc<[Rc<Ack>]>),
    /// A later view: a quorum of view changes; the value is the highest prepared one, or the
    /// union of the replies they carry if none prepared.
    ViewChanges(Rc<[ViewChange]>),
}

/// Why a commit's value is final.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitProof {
    /// All n replicas signed the same reply (Wintermute's fast path).
    Fast(AggregateSignature),
    /// A quorum of commit votes in one view of the command's consensus.
    Decided { view: u32, cert: AggregateSignature },
}

#[derive(Clone, Debug)]
pub enum LlMsg {
    /// Coordinator -> all: order this command.
    /// With a floor for the answers (0: none; module docs of `leaderless`).
    Announce { tx: Tx, floor: u64 },
    /// Replica -> coordinator: my dependencies for the command.
    Reply { ack: Rc<Ack> },
    /// Leader -> all: PBFT pre-prepare of view `view`.
    Propose { tx: Tx, view: u32, deps: Rc<[TxId]>, why: Justification },
    /// All -> all: PBFT prepare or commit vote.
    Vote { phase: Phase, cmd: TxId, view: u32, value: u64, sig: Signature },
    /// Replica -> leader of `vc.view`.
    ViewChange { vc: ViewChange },
    /// The decision, with its proof.
    Commit { tx: Tx, deps: Rc<[TxId]>, proof: CommitProof },
    /// A replica stuck on this command asks all to finish it (payload included).
    Recover { tx: Tx },
    /// A replica that lacks a command's payload asks for it.
    Fetch { cmd: TxId },
    /// The answer to a fetch.
    Payload { tx: Tx },
}

fn deps_bytes(deps: &[TxId]) -> u32 {
    DEP_BYTES * deps.len() as u32
}

fn tx_bytes(tx: &Tx) -> u32 {
    tx.size_bytes + CLIENT_SIGNATURE_BYTES
}

/// Wire sizes need the variant (how dependencies are proven) and n (signer bitmaps).
#[derive(Clone, Copy, Debug)]
pub struct Wire {
    pub variant: Variant,
    pub n: u32,
}

impl Wire {
    fn aggregate(&self) -> u32 {
        SIGNATURE_BYTES + self.n.div_ceil(8)
    }

    pub fn size(&self, msg: &LlMsg) -> u32 {
        HEADER_BYTES
            + match msg {
                LlMsg::Announce { tx, floor } => tx_bytes(tx) + if *floor > 0 { DEP_BYTES } else { 0 },
                LlMsg::Reply { ack } => ack.wire_size(self.variant),
                LlMsg::Propose { tx, deps, why, .. } => {
                    let why_bytes: u32 = match why {
                        Justification::Replies(acks) => acks.iter().map(|a| a.wire_size(self.variant)).sum(),
                        Justification::ViewChanges(vcs) => vcs.iter().map(|v| v.wire_size(self.variant, self.n)).sum(),
                    };
                    tx_bytes(tx) + deps_bytes(deps) + why_bytes
                }
                LlMsg::Vote { .. } => 16 + SIGNATURE_BYTES,
                LlMsg::ViewChange { vc } => vc.wire_size(self.variant, self.n),
                LlMsg::Commit { tx, deps, .. } => tx_bytes(tx) + deps_bytes(deps) + 4 + self.aggregate(),
                LlMsg::Recover { tx, .. } | LlMsg::Payload { tx, .. } => tx_bytes(tx),
                LlMsg::Fetch { .. } => 8,
            }
    }
}

/// Messages carry the wire model so that sizes come from content.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub msg: LlMsg,
    pub size: u32,
}

impl Message for Envelope {
    /// The dependency discovery service's request (the coordinator's announce) and answer;
    /// PBFT's three phases per command; the coordinator's decision with its proof; view
    /// changes; recovery, and fetching a missing payload.
    const KINDS: &'static [&'static str] = &[
        "dds-request",
        "dds-answer",
        "pre-prepare",
        "prepare",
        "commit",
        "decision",
        "view-change",
        "recover",
        "fetch",
        "payload",
    ];

    fn kind(&self) -> usize {
        match &self.msg {
            LlMsg::Announce { .. } => 0,
            LlMsg::Reply { .. } => 1,
            LlMsg::Propose { .. } => 2,
            LlMsg::Vote { phase: Phase::Prepare, .. } => 3,
            LlMsg::Vote { phase: Phase::Commit, .. } => 4,
            LlMsg::Commit { .. } => 5,
            LlMsg::ViewChange { .. } => 6,
            LlMsg::Recover { .. } => 7,
            LlMsg::Fetch { .. } => 8,
            LlMsg::Payload { .. } => 9,
        }
    }

    /// The DDS, PBFT and decision messages: what ordering a command hangs on.
    const CRITICAL_KINDS: &'static [usize] = &[0, 1, 2, 3, 4, 5, 6];

    /// The view of the command's PBFT consensus the message belongs to, if any.
    fn view(&self) -> Option<u64> {
        match &self.msg {
            LlMsg::Propose { view, .. } | LlMsg::Vote { view, .. } => Some(u64::from(*view)),
            LlMsg::ViewChange { vc } => Some(u64::from(vc.view)),
            _ => None,
        }
    }

    fn wire_size(&self) -> u32 {
        self.size
    }
    fn fingerprint(&self) -> u64 {
        match &self.msg {
            LlMsg::Announce { tx, .. } => hash_words(&[1, tx.id.0]),
            LlMsg::Reply { ack } => hash_words(&[2, ack.cmd.0, ack.sig.digest()]),
            LlMsg::Propose { tx, view, deps, .. } => hash_words(&[3, tx.id.0, *view as u64, value_digest(tx.id, deps)]),
            LlMsg::Vote { phase, cmd, view, value, .. } => hash_words(&[4, *phase as u64, cmd.0, *view as u64, *value]),
            LlMsg::ViewChange { vc } => hash_words(&[5, vc.cmd.0, vc.view as u64]),
            LlMsg::Commit { tx, deps, .. } => hash_words(&[6, value_digest(tx.id, deps)]),
            LlMsg::Recover { tx, .. } => hash_words(&[7, tx.id.0]),
            LlMsg::Fetch { cmd } => hash_words(&[8, cmd.0]),
            LlMsg::Payload { tx, .. } => hash_words(&[9, tx.id.0]),
        }
    }

    /// "cmd 12 view 0 deps 3 floor 96": the command, the consensus view, the value (its
    /// dependency count and floor, a vote's value digest), proofs counted.
    fn describe(&self, out: &mut String) {
        let _ = match &self.msg {
            LlMsg::Announce { tx, floor } => write!(out, "cmd {} floor {floor}", tx.id.0),
            LlMsg::Reply { ack } => {
                let _ = write!(out, "cmd {} ", ack.cmd.0);
                describe_deps(out, &ack.deps)
            }
            LlMsg::Propose { tx, view, deps, why } => {
                let _ = write!(out, "cmd {} view {view} ", tx.id.0);
                let _ = describe_deps(out, deps);
                match why {
                    Justification::Replies(acks) => write!(out, " answers {}", acks.len()),
                    Justification::ViewChanges(vcs) => write!(out, " view_changes {}", vcs.len()),
                }
            }
            LlMsg::Vote { phase, cmd, view, value, .. } => {
                let phase = match phase {
                    Phase::Prepare => "prepare",
                    Phase::Commit => "commit",
                };
                write!(out, "{phase} cmd {} view {view} value {:04x}", cmd.0, value >> 48)
            }
            LlMsg::ViewChange { vc } => {
                let _ = write!(out, "cmd {} view {} ", vc.cmd.0, vc.view);
                let _ = describe_deps(out, &vc.ack.deps);
                match &vc.prepared {
                    Some(p) => write!(out, " prepared view {} deps {}", p.view, p.deps.len()),
                    None => write!(out, " prepared none"),
                }
            }
            LlMsg::Commit { tx, deps, proof } => {
                let _ = write!(out, "cmd {} ", tx.id.0);
                let _ = describe_deps(out, deps);
                match proof {
                    CommitProof::Fast(_) => write!(out, " fast"),
                    CommitProof::Decided { view, .. } => write!(out, " decided view {view}"),
                }
            }
            LlMsg::Recover { tx } | LlMsg::Payload { tx } => write!(out, "cmd {}", tx.id.0),
            LlMsg::Fetch { cmd } => write!(out, "cmd {}", cmd.0),
        };
    }
}

/// A dependency set in a few words: how many commands it names, and its floor if any.
fn describe_deps(out: &mut String, deps: &[TxId]) -> std::fmt::Result {
    write!(out, "deps {}", named(deps).count())?;
    match floor_of(deps) {
        0 => Ok(()),
        floor => write!(out, " floor {floor}"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LlTimer {
    /// The coordinator has a DDS quorum and waits a little for all n replies.
    FastPath(TxId),
    /// The command's consensus view has run too long.
    View(TxId),
    /// Look for known commands that should have committed by now.
    RecoveryScan,
}

/// How a replica came to commit a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitPath {
    /// Its coordinator saw n identical replies.
    Fast,
    /// Its consensus decided in this view (0 = the coordinator's slow path, more = recovery).
    Decided(u32),
    /// It received a commit with a valid proof.
    Learned,
}

/// What a replica reports to the leaderless monitor.
#[derive(Clone, Debug)]
pub enum LlRecord {
    Committed {
        tx: Tx,
        deps: Rc<[TxId]>,
        path: CommitPath,
        /// The answers name per-account anchors (EPaxos), not every earlier conflicting
        /// command: two conflicting commands may be ordered only through a path.
        anchored: bool,
    },
    /// A quorum of commit votes for `value` in `view` (checked: one decision per command).
    Decided { cmd: TxId, view: u32, value: u64 },
    /// The coordinator took the fast or the slow path.
    Coordinated { cmd: TxId, fast: bool, deps_len: u32 },
    /// The replica started recovering a command.
    Recovering { cmd: TxId },
    /// The executor ran `tx` (dependencies first); its ledger result may come later.
    Executed { tx: Tx },
    /// The ledger settled `tx`: its outcome and the state of the accounts it touched, just
    /// after (checked: every correct replica settles a command the same way).
    Settled { tx: Tx, settlement: Settlement },
    /// A reconfiguration executed: the membership moved to `epoch`.
    Epoch { epoch: u32, barrier: TxId },
    /// After a round of execution: a hash of the set executed so far and the ledger state.
    ExecutedBatch { executed_set: u64, state: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(id: u64) -> Tx {
        let (from, to) = (sim_core::AccountId(0), sim_core::AccountId(1));
        Tx { id: sim_core::TxId(id), client: NodeId(9), from, to, amount: 1, nonce: id + 1, size_bytes: 100 }
    }

    fn described(msg: LlMsg) -> String {
        let mut out = String::new();
        Envelope { msg, size: 0 }.describe(&mut out);
        out
    }

    #[test]
    fn messages_describe_themselves_in_one_short_line() {
        let tx = tx(12);
        let deps: Rc<[TxId]> = Rc::from(vec![TxId(3), TxId(5), TxId(9), floor_marker(96)]);
        assert_eq!(described(LlMsg::Announce { tx, floor: 96 }), "cmd 12 floor 96");
        let why = Justification::Replies(Rc::from([]));
        let propose = LlMsg::Propose { tx, view: 0, deps: deps.clone(), why };
        assert_eq!(described(propose), "cmd 12 view 0 deps 3 floor 96 answers 0");
        let proof = CommitProof::Decided { view: 2, cert: AggregateSignature::genesis(0) };
        assert_eq!(described(LlMsg::Commit { tx, deps, proof }), "cmd 12 deps 3 floor 96 decided view 2");
        let fast = CommitProof::Fast(AggregateSignature::genesis(0));
        assert_eq!(described(LlMsg::Commit { tx, deps: Rc::from([]), proof: fast }), "cmd 12 deps 0 fast");
        assert_eq!(described(LlMsg::Fetch { cmd: TxId(7) }), "cmd 7");
        assert_eq!(described(LlMsg::Recover { tx }), "cmd 12");
    }
}
