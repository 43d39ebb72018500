//! HotStuff's data: views, blocks, quorum and timeout certificates, and the messages with
//! their sizes on the wire.

use std::fmt::{self, Write};
use std::rc::Rc;

use sim_core::digest::{Fold, hash_words};
use sim_core::{AggregateSignature, NodeId, NodeSet, Signature, Time, Tx};

use crate::common::mempool::{BatchDigest, DIGEST_BYTES, MempoolMsg};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct View(pub u64);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u64);

pub type BlockId = u64;

impl View {
    pub fn next(self) -> View {
        View(self.0 + 1)
    }
    /// Round-robin: the leader of view v is replica v mod n.
    pub fn leader(self, n: u32) -> NodeId {
        NodeId((self.0 % n as u64) as u32)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// Bytes of one BLS12-381 signature (min_pk: signatures in G2).
pub const SIGNATURE_BYTES: u32 = 96;
/// Bytes of a message header: kind, view, sender.
pub const HEADER_BYTES: u32 = 16;
/// Bytes of a hash on the wire.
pub const HASH_BYTES: u32 = 32;

const VOTE_TAG: u64 = 0x766f_7465;
const PHASE_VOTE_TAG: u64 = 0x7068_6173;
const COMPLAIN_TAG: u64 = 0x636f_6d70;
const GENESIS_TAG: u64 = 0x6765_6e65;
const DIGEST_TAG: u64 = 0x6469_6773;

/// What a vote for `block` in `view` signs.
pub fn vote_digest(view: View, block: BlockId) -> u64 {
    hash_words(&[VOTE_TAG, view.0, block])
}

/// The phases a replica votes in. Chained HotStuff has one generic phase (`Prepare`); basic
/// HotStuff votes in all three, and the leader's DECIDE closes the view without a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Prepare = 0,
    PreCommit = 1,
    Commit = 2,
}

impl Phase {
    /// What a vote of this phase for `block` in `view` signs: votes of different phases never
    /// count toward the same certificate. A prepare vote signs what a chained vote signs.
    pub fn vote_digest(self, view: View, block: BlockId) -> u64 {
        match self {
            Phase::Prepare => vote_digest(view, block),
            Phase::PreCommit | Phase::Commit => hash_words(&[PHASE_VOTE_TAG, self as u64, view.0, block]),
        }
    }
}

impl Phase {
    /// The phase's name in logs.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Prepare => "prepare",
            Phase::PreCommit => "pre-commit",
            Phase::Commit => "commit",
        }
    }
}

/// A block id as logs show it: its first four hex digits (the start of its 16-digit form).
pub struct Short(pub BlockId);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}", self.0 >> 48)
    }
}

/// What a complaint about `view` signs.
pub fn complain_digest(view: View) -> u64 {
    hash_words(&[COMPLAIN_TAG, view.0])
}

/// A quorum certificate: n-f votes for one block in one view (of one phase, which the message
/// carrying it implies: a block's `justify`, a NEWVIEW or a complaint carry prepare QCs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Qc {
    pub view: View,
    pub block: BlockId,
    pub sig: Rc<AggregateSignature>,
}

impl Qc {
    pub fn genesis() -> Qc {
        let block = genesis_id();
        Qc { view: View(0), block, sig: Rc::new(AggregateSignature::genesis(vote_digest(View(0), block))) }
    }
    pub fn is_genesis(&self) -> bool {
        self.view == View(0) && self.block == genesis_id()
    }
    pub fn wire_size(&self, wire: Wire) -> u32 {
        8 + HASH_BYTES + wire.certificate_bytes(&self.sig)
    }
}

/// A timeout certificate (the dissertation's view-change proof): n-f complaints about a view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tc {
    pub view: View,
    pub sig: Rc<AggregateSignature>,
}

impl Tc {
    pub fn wire_size(&self, wire: Wire) -> u32 {
        8 + wire.certificate_bytes(&self.sig)
    }
}

/// What the size of a message depends on besides its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wire {
    pub n: u32,
    /// Certificates carry their signatures (n-f x 96 bytes) instead of one aggregate.
    pub list_certificates: bool,
}

impl Wire {
    /// A certificate's signatures: one aggregate, or the list, plus a signer bitmap.
    pub fn certificate_bytes(&self, sig: &AggregateSignature) -> u32 {
        let sigs = if self.list_certificates { sig.signers().len() as u32 } else { 1 };
        sigs * SIGNATURE_BYTES + NodeSet::wire_bytes(self.n)
    }
}

pub fn genesis_id() -> BlockId {
    hash_words(&[GENESIS_TAG])
}

/// A block of the chain. Shared by `Rc`: the proposal's copies are one allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub id: BlockId,
    pub view: View,
    pub height: Height,
    pub parent: BlockId,
    pub justify: Qc,
    pub proposer: NodeId,
    /// The payload in the proposal (empty with a mempool)...
    pub txs: Vec<Tx>,
    /// ...or the digests of mempool batches, whose transactions the block commits in order.
    pub digests: Vec<BatchDigest>,
    /// 0 for a correct proposer; an equivocator's second face sets 1 so its block differs.
    pub salt: u64,
    /// When its proposer made it (`Time::MAX`: not stamped), and when each of `txs` reached
    /// the proposer: measurement only, for the reference latencies (`stamped`); neither in the
    /// id nor on the wire.
    pub proposed_at: Time,
    pub arrived_at: Vec<Time>,
}

impl Block {
    pub fn genesis() -> Block {
        Block {
            id: genesis_id(),
            view: View(0),
            height: Height(0),
            parent: genesis_id(),
            justify: Qc::genesis(),
            proposer: NodeId(0),
            txs: Vec::new(),
            digests: Vec::new(),
            salt: 0,
            proposed_at: Time::MAX,
            arrived_at: Vec::new(),
        }
    }

    /// A new block extending `parent` under `justify` (which certifies `parent`).
    pub fn new(parent: &Block, view: View, justify: Qc, proposer: NodeId, txs: Vec<Tx>, salt: u64) -> Block {
        Block::with_payload(parent, view, justify, proposer, (txs, Vec::new()), salt)
    }

    /// A new block whose payload is mempool batches, named by their digests.
    pub fn of_batches(
        parent: &Block,
        view: View,
        justify: Qc,
        proposer: NodeId,
        digests: Vec<BatchDigest>,
        salt: u64,
    ) -> Block {
        Block::with_payload(parent, view, justify, proposer, (Vec::new(), digests), salt)
    }

    fn with_payload(
        parent: &Block,
        view: View,
        justify: Qc,
        proposer: NodeId,
        (txs, digests): (Vec<Tx>, Vec<BatchDigest>),
        salt: u64,
    ) -> Block {
        assert_eq!(justify.block, parent.id, "a block extends the block its QC certifies");
        assert!(view > parent.view, "a block's view is above its parent's");
        let height = Height(parent.height.0 + 1);
        let id = Block::compute_id(parent.id, view, height, &justify, proposer, (&txs, &digests), salt);
        Block {
            id,
            view,
            height,
            parent: parent.id,
            justify,
            proposer,
            txs,
            digests,
            salt,
            proposed_at: Time::MAX,
            arrived_at: Vec::new(),
        }
    }

    /// The block stamped with its proposal time and its transactions' arrivals at the proposer.
    /// (A block of batches keeps its arrivals in the batches: `arrived_at` is then empty.)
    pub fn stamped(self, proposed_at: Time, arrived_at: Vec<Time>) -> Block {
        assert_eq!(arrived_at.len(), self.txs.len(), "one arrival per transaction");
        Block { proposed_at, arrived_at, ..self }
    }

    pub fn compute_id(
        parent: BlockId,
        view: View,
        height: Height,
        justify: &Qc,
        proposer: NodeId,
        (txs, digests): (&[Tx], &[BatchDigest]),
        salt: u64,
    ) -> BlockId {
        let mut f = Fold::new(0x626c_6f63);
        f.add(parent).add(view.0).add(height.0).add(justify.view.0).add(justify.block).add(proposer.0 as u64).add(salt);
        for tx in txs {
            f.add(tx.id.0);
        }
        // Only blocks of batches fold a tag and their digests: the ids of the others stay.
        if !digests.is_empty() {
            f.add(DIGEST_TAG).add(digests.len() as u64);
            for &d in digests {
                f.add(d);
            }
        }
        f.value()
    }

    /// The id matches the content (a replica checks this before trusting a block).
    pub fn is_well_formed(&self) -> bool {
        self.parent == self.justify.block
            && self.id
                == Block::compute_id(
                    self.parent,
                    self.view,
                    self.height,
                    &self.justify,
                    self.proposer,
                    (&self.txs, &self.digests),
                    self.salt,
                )
    }

    pub fn wire_size(&self, wire: Wire) -> u32 {
        let payload: u32 =
            self.txs.iter().map(|t| t.size_bytes).sum::<u32>() + DIGEST_BYTES * self.digests.len() as u32;
        HEADER_BYTES + 3 * HASH_BYTES + 24 + self.justify.wire_size(wire) + payload
    }
}

/// The messages of chained and basic HotStuff with the dissertation's pacemaker.
#[derive(Clone, Debug)]
pub enum HsMsg {
    /// The leader's block for its view (basic HotStuff's PREPARE).
    Propose {
        block: Rc<Block>,
        wire: Wire,
    },
    /// A vote for a block: chained, a generic (`Prepare`) vote to the next leader; basic, a vote
    /// of one phase to the view's leader.
    Vote {
        phase: Phase,
        view: View,
        block: BlockId,
        sig: Signature,
    },
    /// To the leader of `view`, on entering it: the sender's highest (prepare) QC. Chained
    /// sends it after a proposal; basic on every view change, and its leader waits for n-f.
    NewView {
        view: View,
        qc: Qc,
        wire: Wire,
    },
    /// On a view timeout, to all: a signed complaint, the sender's highest QC, and its last
    /// vote (so that anyone can finish a QC the failed next leader never formed).
    Complain {
        view: View,
        sig: Signature,
        qc_high: Qc,
        last_vote: Option<(View, BlockId, Signature)>,
        wire: Wire,
    },
    /// From the next leader: n-f complaints prove the view change.
    NextView {
        tc: Tc,
        qc_high: Qc,
        wire: Wire,
    },
    /// Block synchronization: ask a peer for a block (and its ancestors).
    BlockRequest {
        id: BlockId,
    },
    BlockResponse {
        blocks: Vec<Rc<Block>>,
        wire: Wire,
    },
    /// Basic HotStuff, from the view's leader: the certificate of `phase`, which opens the next
    /// phase: a prepare QC is PRE-COMMIT, a pre-commit QC is COMMIT, a commit QC is DECIDE.
    Certified {
        phase: Phase,
        qc: Qc,
        wire: Wire,
    },
    /// Between equivocators only: a message for the face playing `side`.
    Coalition {
        side: u8,
        inner: Box<HsMsg>,
    },
    /// The mempool's batches, acknowledgements and batch requests (`payload = "mempool"`).
    Mempool(MempoolMsg),
}

impl sim_core::Message for HsMsg {
    /// Chained HotStuff sends proposals, (generic) votes, new-views, and on timeouts complaints
    /// and next-views. Basic HotStuff's phases: the proposal is its PREPARE, "vote" its prepare
    /// vote; the leader's certificates are PRE-COMMIT, COMMIT and DECIDE, each followed (but
    /// DECIDE) by a vote of that phase. Equivocators wrap messages for each other in coalitions.
    const KINDS: &'static [&'static str] = &[
        "proposal",
        "vote",
        "pre-commit-vote",
        "commit-vote",
        "new-view",
        "complaint",
        "next-view",
        "pre-commit",
        "commit",
        "decide",
        "block-request",
        "block-response",
        "coalition",
        // The mempool's, in `MempoolMsg::KINDS` order.
        "batch",
        "batch-ack",
        "batch-request",
    ];

    fn kind(&self) -> usize {
        match self {
            HsMsg::Propose { .. } => 0,
            HsMsg::Vote { phase: Phase::Prepare, .. } => 1,
            HsMsg::Vote { phase: Phase::PreCommit, .. } => 2,
            HsMsg::Vote { phase: Phase::Commit, .. } => 3,
            HsMsg::NewView { .. } => 4,
            HsMsg::Complain { .. } => 5,
            HsMsg::NextView { .. } => 6,
            // The certificate of a phase opens the next one.
            HsMsg::Certified { phase: Phase::Prepare, .. } => 7,
            HsMsg::Certified { phase: Phase::PreCommit, .. } => 8,
            HsMsg::Certified { phase: Phase::Commit, .. } => 9,
            HsMsg::BlockRequest { .. } => 10,
            HsMsg::BlockResponse { .. } => 11,
            HsMsg::Coalition { .. } => 12,
            HsMsg::Mempool(m) => 13 + m.kind_offset(),
        }
    }

    /// Proposals, votes, certificates and view changes; not block fetches or coalition traffic.
    const CRITICAL_KINDS: &'static [usize] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

    /// The mempool's batches, acknowledgements and batch requests are the workers' work: on
    /// the request pool when a replica has one (`[cpu] request_cores`), as the prototype runs
    /// its workers beside consensus.
    fn pool(&self) -> sim_core::Pool {
        match self {
            HsMsg::Mempool(_) => sim_core::Pool::Request,
            _ => sim_core::Pool::Consensus,
        }
    }

    /// The view a message speaks about: a proposal's block view, a vote's view, the view a
    /// NEWVIEW enters or a complaint gives up, a certificate's view.
    fn view(&self) -> Option<u64> {
        match self {
            HsMsg::Propose { block, .. } => Some(block.view.0),
            HsMsg::Vote { view, .. } | HsMsg::NewView { view, .. } | HsMsg::Complain { view, .. } => Some(view.0),
            HsMsg::NextView { tc, .. } => Some(tc.view.0),
            HsMsg::Certified { qc, .. } => Some(qc.view.0),
            HsMsg::BlockRequest { .. } | HsMsg::BlockResponse { .. } | HsMsg::Mempool(_) => None,
            HsMsg::Coalition { inner, .. } => inner.view(),
        }
    }

    fn wire_size(&self) -> u32 {
        let vote = HEADER_BYTES + HASH_BYTES + SIGNATURE_BYTES;
        match self {
            HsMsg::Propose { block, wire } => block.wire_size(*wire),
            HsMsg::Vote { .. } => vote,
            HsMsg::NewView { qc, wire, .. } => HEADER_BYTES + qc.wire_size(*wire),
            HsMsg::Complain { qc_high, last_vote, wire, .. } => {
                HEADER_BYTES + SIGNATURE_BYTES + qc_high.wire_size(*wire) + if last_vote.is_some() { vote } else { 0 }
            }
            HsMsg::NextView { tc, qc_high, wire } => HEADER_BYTES + tc.wire_size(*wire) + qc_high.wire_size(*wire),
            HsMsg::Certified { qc, wire, .. } => HEADER_BYTES + qc.wire_size(*wire),
            HsMsg::BlockRequest { .. } => HEADER_BYTES + HASH_BYTES,
            HsMsg::BlockResponse { blocks, wire } => {
                HEADER_BYTES + blocks.iter().map(|b| b.wire_size(*wire)).sum::<u32>()
            }
            HsMsg::Coalition { inner, .. } => 1 + inner.wire_size(),
            HsMsg::Mempool(m) => m.wire_size(),
        }
    }

    fn fingerprint(&self) -> u64 {
        match self {
            HsMsg::Propose { block, .. } => hash_words(&[1, block.id]),
            // The phase goes in the kind word: a prepare vote keeps the chained fingerprint.
            HsMsg::Vote { phase, view, block, sig } => {
                hash_words(&[2 + 16 * *phase as u64, view.0, *block, sig.signer().0 as u64])
            }
            HsMsg::NewView { qc, .. } => hash_words(&[3, qc.view.0, qc.block]),
            HsMsg::Complain { view, qc_high, .. } => hash_words(&[4, view.0, qc_high.view.0]),
            HsMsg::NextView { tc, qc_high, .. } => hash_words(&[5, tc.view.0, qc_high.view.0]),
            HsMsg::BlockRequest { id } => hash_words(&[6, *id]),
            HsMsg::BlockResponse { blocks, .. } => hash_words(&[7, blocks.first().map_or(0, |b| b.id)]),
            HsMsg::Coalition { side, inner } => hash_words(&[8, *side as u64, inner.fingerprint()]),
            HsMsg::Certified { phase, qc, .. } => hash_words(&[9, *phase as u64, qc.view.0, qc.block]),
            HsMsg::Mempool(m) => hash_words(&[10, m.fingerprint()]),
        }
    }

    /// "view 7 block 3f2a height 5 justify view 6 txs 100": views, blocks and certificates;
    /// transactions and blocks only counted.
    fn describe(&self, out: &mut String) {
        let qc = |qc: &Qc| (qc.view.0, Short(qc.block));
        let _ = match self {
            HsMsg::Propose { block: b, .. } => {
                let _ = write!(
                    out,
                    "view {} block {} height {} parent {} justify view {} txs {}",
                    b.view.0,
                    Short(b.id),
                    b.height.0,
                    Short(b.parent),
                    b.justify.view.0,
                    b.txs.len()
                );
                match b.digests.len() {
                    0 => Ok(()),
                    batches => write!(out, " batches {batches}"),
                }
            }
            HsMsg::Vote { phase, view, block, .. } => {
                write!(out, "{} view {} block {}", phase.name(), view.0, Short(*block))
            }
            HsMsg::NewView { view, qc: q, .. } => {
                let (v, b) = qc(q);
                write!(out, "view {} qc view {v} block {b}", view.0)
            }
            HsMsg::Complain { view, qc_high, last_vote, .. } => {
                let (v, b) = qc(qc_high);
                let _ = write!(out, "view {} qc_high view {v} block {b}", view.0);
                match last_vote {
                    Some((lv, lb, _)) => write!(out, " last_vote view {} block {}", lv.0, Short(*lb)),
                    None => Ok(()),
                }
            }
            HsMsg::NextView { tc, qc_high, .. } => {
                let (v, b) = qc(qc_high);
                write!(out, "tc view {} qc_high view {v} block {b}", tc.view.0)
            }
            HsMsg::BlockRequest { id } => write!(out, "block {}", Short(*id)),
            HsMsg::BlockResponse { blocks, .. } => match (blocks.first(), blocks.last()) {
                (Some(newest), Some(oldest)) => write!(
                    out,
                    "blocks {} heights {}..={} newest {}",
                    blocks.len(),
                    oldest.height.0,
                    newest.height.0,
                    Short(newest.id)
                ),
                _ => write!(out, "blocks 0"),
            },
            HsMsg::Certified { phase, qc: q, .. } => {
                let (v, b) = qc(q);
                write!(out, "{} qc view {v} block {b}", phase.name())
            }
            HsMsg::Coalition { side, inner } => {
                let _ = write!(out, "face {side}: ");
                inner.describe(out);
                Ok(())
            }
            HsMsg::Mempool(m) => {
                m.describe(out);
                Ok(())
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::Message;

    fn tx(id: u64) -> Tx {
        let (from, to) = (sim_core::AccountId(0), sim_core::AccountId(1));
        Tx { id: sim_core::TxId(id), client: NodeId(9), from, to, amount: 1, nonce: id + 1, size_bytes: 100 }
    }

    fn described(msg: &HsMsg) -> String {
        let mut out = String::new();
        msg.describe(&mut out);
        out
    }

    #[test]
    fn messages_describe_themselves_in_one_short_line() {
        let wire = Wire { n: 4, list_certificates: false };
        let genesis = Block::genesis();
        let block = Rc::new(Block::new(&genesis, View(1), Qc::genesis(), NodeId(1), (0..100).map(tx).collect(), 0));
        let (b, g) = (Short(block.id), Short(genesis.id));
        let propose = HsMsg::Propose { block: Rc::clone(&block), wire };
        assert_eq!(described(&propose), format!("view 1 block {b} height 1 parent {g} justify view 0 txs 100"));
        let new_view = HsMsg::NewView { view: View(2), qc: Qc::genesis(), wire };
        assert_eq!(described(&new_view), format!("view 2 qc view 0 block {g}"));
        let coalition = HsMsg::Coalition { side: 1, inner: Box::new(new_view) };
        assert_eq!(described(&coalition), format!("face 1: view 2 qc view 0 block {g}"));
        assert_eq!(described(&HsMsg::BlockRequest { id: 0x3f2a_0000_0000_0007 }), "block 3f2a");
        let response = HsMsg::BlockResponse { blocks: vec![block], wire };
        assert_eq!(described(&response), format!("blocks 1 heights 1..=1 newest {b}"));
        let decide = HsMsg::Certified { phase: Phase::Commit, qc: Qc::genesis(), wire };
        assert_eq!(described(&decide), format!("commit qc view 0 block {g}"));
    }
}
