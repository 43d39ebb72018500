//! Algorand's messages: everything travels in gossip batches (one message per link and flush)
//! whose items are shared by pointer, plus block fetches and catch-up with its certificate.

use std::cell::Cell;
use std::fmt::Write;
use std::rc::Rc;

use sim_core::digest::hash_words;
use sim_core::{Class, ItemTally, Message, Time, Tx};

use super::sortition::{Credential, Role, Seat};

/// A block proposal. Its id is a hash of its round, parent, proposer credential and content.
#[derive(Debug)]
pub struct Block {
    pub id: u64,
    pub round: u64,
    pub prev: u64,
    pub cred: Credential,
    pub txs: Rc<[Tx]>,
    pub bytes: u32,
    /// When its proposer made it (`Time::MAX`: not stamped): measurement only, for the
    /// proposal-to-commit latency; neither in the id nor on the wire.
    pub proposed_at: Time,
}

impl Block {
    pub fn new(round: u64, prev: u64, cred: Credential, txs: Rc<[Tx]>, header_bytes: u32, salt: u64) -> Block {
        let content = txs.iter().fold(salt, |h, tx| hash_words(&[h, tx.id.0]));
        let id = hash_words(&[0xB10C, round, prev, cred.vrf(), content, txs.len() as u64]);
        let bytes = header_bytes + txs.iter().map(|t| t.size_bytes).sum::<u32>();
        Block { id, round, prev, cred, txs, bytes, proposed_at: Time::MAX }
    }

    /// The block stamped with the time its proposer made it.
    pub fn stamped(self, proposed_at: Time) -> Block {
        Block { proposed_at, ..self }
    }
}

/// The empty block of a round, on a given parent: every user computes the same id.
pub fn empty_block_id(round: u64, prev: u64) -> u64 {
    hash_words(&[0xE3B7, round, prev])
}

/// The round seed, from the previous round's seed and outcome.
pub fn next_seed(seed: u64, round: u64, decided: u64) -> u64 {
    hash_words(&[0x5EED, seed, round, decided])
}

/// A committee member's weighted vote for `value` in one step, signed by the voter.
///
/// Unforgeable by construction, as `Ctx::sign` tokens are: its fields are private and
/// `Vote::sign` is its only constructor, which needs the voter's `Seat` (which only the
/// voter's own draw returns). A Byzantine user can sign as many votes as it likes on its own
/// seats (equivocate, double vote), but no user, and no relay, can make or alter a vote on
/// another's credential, so a verifier checks the credential alone and hashes no signature
/// (the CPU is still charged for the signature check the vote stands for). Shared by pointer:
/// gossip, tallies and certificates hold the one copy the voter made.
#[derive(Debug)]
pub struct Vote {
    cred: Credential,
    /// The voter's previous block: the round seed it drew with follows from it.
    prev: u64,
    value: u64,
}

impl Vote {
    /// The vote of `seat`'s user (only that user holds the seat).
    pub fn sign(seat: &Seat, prev: u64, value: u64) -> Rc<Vote> {
        Rc::new(Vote { cred: seat.credential(), prev, value })
    }

    pub fn cred(&self) -> &Credential {
        &self.cred
    }
    pub fn prev(&self) -> u64 {
        self.prev
    }
    pub fn value(&self) -> u64 {
        self.value
    }
    pub fn role(&self) -> Role {
        self.cred.role()
    }
}

/// What a receiver of a gossiped vote checks first (round, step, voter), beside the pointer to
/// the voter's one copy. Most votes a user hears are ones it counted already, heard again from
/// another neighbour; those are dropped on the header without reading the copy, which at 1,000
/// users is a cache miss per vote and link. Built only from the vote itself (private), so the
/// header always agrees with the copy.
///
/// Seven bytes, so that a vote item (tag, header, pointer) is 16: every relaying user's batches
/// and relay buffer hold one item per vote, and at 5,000 users they were three quarters of the
/// peak heap (1.65 GiB with 40-byte items: a 64-bit round and the parent in the header; the
/// parent is read from the copy once the header says the vote is new). The step is a byte
/// (FINAL 255) and the round 16 bits; a step or round past them (254, `u16::MAX`) says "read
/// it from the copy", so no value is ever cut short, only slower to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoteHead([u8; 7]);

/// `VoteHead`'s step byte for FINAL, and the one that sends the reader to the copy.
const HEAD_FINAL: u8 = u8::MAX;
const HEAD_STEP_IN_COPY: u8 = u8::MAX - 1;
/// `VoteHead`'s round that sends the reader to the copy.
const HEAD_ROUND_IN_COPY: u16 = u16::MAX;

impl VoteHead {
    fn of(vote: &Vote) -> VoteHead {
        let step = match vote.role() {
            Role::FINAL => HEAD_FINAL,
            Role(r) => u8::try_from(r).ok().filter(|&r| r < HEAD_STEP_IN_COPY).unwrap_or(HEAD_STEP_IN_COPY),
        };
        let round = u16::try_from(vote.cred.round()).ok().filter(|&r| r < HEAD_ROUND_IN_COPY);
        let [r0, r1] = round.unwrap_or(HEAD_ROUND_IN_COPY).to_le_bytes();
        let [u0, u1, u2, u3] = vote.cred.user().to_le_bytes();
        VoteHead([step, r0, r1, u0, u1, u2, u3])
    }

    /// The round of `vote`, this header's copy (read only past 16 bits).
    pub fn round(&self, vote: &Vote) -> u64 {
        match u16::from_le_bytes([self.0[1], self.0[2]]) {
            HEAD_ROUND_IN_COPY => vote.cred.round(),
            round => u64::from(round),
        }
    }
    /// The step of `vote`, this header's copy (read only past a byte).
    pub fn role(&self, vote: &Vote) -> Role {
        match self.0[0] {
            HEAD_FINAL => Role::FINAL,
            HEAD_STEP_IN_COPY => vote.role(),
            step => Role(u32::from(step)),
        }
    }
    pub fn user(&self) -> u32 {
        u32::from_le_bytes([self.0[3], self.0[4], self.0[5], self.0[6]])
    }
}

/// The proof that BinaryBA* returned `value` in `round`: votes of one step where it returns
/// (a non-empty value in a step 1 mod 3, the empty block in a step 2 mod 3), of distinct
/// voters, whose weights reach the step's threshold. Its votes name their parent, so it
/// certifies the chain below `value` too (block ids hash their parent's).
#[derive(Debug)]
pub struct Certificate {
    pub round: u64,
    pub role: Role,
    pub prev: u64,
    pub value: u64,
    pub votes: Vec<Rc<Vote>>,
    /// On the wire: a 32-byte header and every vote whole.
    pub bytes: u32,
}

impl Certificate {
    pub fn new(
        round: u64,
        role: Role,
        prev: u64,
        value: u64,
        mut votes: Vec<Rc<Vote>>,
        vote_bytes: u32,
    ) -> Certificate {
        // Kept for a round or two by every relaying user: no room beyond its votes.
        votes.shrink_to_fit();
        let bytes = 32 + vote_bytes.saturating_mul(votes.len() as u32);
        Certificate { round, role, prev, value, votes, bytes }
    }
}

/// Client transactions a user gathered, gossiped as one unit and never copied on the way.
#[derive(Debug)]
pub struct TxBatch {
    /// (first transaction id, origin user): unique per batch.
    pub key: (u64, u32),
    pub txs: Vec<Tx>,
    /// The users that took it into their pool (`Pool::offer`), one bit each: a user reads and
    /// sets only its own bit, so a copy heard again from another neighbour is refused without
    /// a lookup in its pool (at 1,000 users, a few cache misses per batch and link).
    holders: HolderBits,
    /// The users whose pool lists it now: holders whose chain does not yet hold all of it.
    pooled: HolderBits,
    /// How many bits of `pooled` are set: the run's shelf (`Shelf`) lists the batch while
    /// this is above zero.
    pooled_count: Cell<u32>,
}

impl TxBatch {
    /// A batch of `txs` from `origin`, held by no one yet, in a world of `n_users`.
    pub fn new(origin: u32, txs: Vec<Tx>, n_users: u32) -> TxBatch {
        assert!(!txs.is_empty(), "a batch holds transactions");
        let (holders, pooled) = (HolderBits::new(n_users), HolderBits::new(n_users));
        TxBatch { key: (txs[0].id.0, origin), txs, holders, pooled, pooled_count: Cell::new(0) }
    }

    /// Whether `user` took it into its pool.
    pub fn held_by(&self, user: u32) -> bool {
        self.holders.contains(user)
    }

    /// Marks it taken into `user`'s pool; false if it was already.
    pub fn hold(&self, user: u32) -> bool {
        self.holders.insert(user)
    }

    /// Whether `user`'s pool lists it.
    pub fn pooled_by(&self, user: u32) -> bool {
        self.pooled.contains(user)
    }

    /// Lists it in `user`'s pool; true if no pool listed it before (it goes on the shelf).
    pub fn pool(&self, user: u32) -> bool {
        assert!(self.pooled.insert(user), "a pool lists a batch once");
        self.pooled_count.set(self.pooled_count.get() + 1);
        self.pooled_count.get() == 1
    }

    /// Takes it out of `user`'s pool; true if no pool lists it any more (it leaves the shelf).
    pub fn unpool(&self, user: u32) -> bool {
        assert!(self.pooled.remove(user), "only a listed batch is taken out");
        assert!(self.pooled_count.get() > 0, "the count has its bit");
        self.pooled_count.set(self.pooled_count.get() - 1);
        self.pooled_count.get() == 0
    }
}

/// A fixed set of users whose members are added through a shared reference: each user only
/// ever touches its own bit, and a run is one thread, so the order of changes is the event order.
#[derive(Debug)]
struct HolderBits(Box<[Cell<u64>]>);

impl HolderBits {
    fn new(n_users: u32) -> HolderBits {
        HolderBits((0..(n_users as usize).div_ceil(64)).map(|_| Cell::new(0)).collect())
    }

    fn contains(&self, user: u32) -> bool {
        self.0[user as usize / 64].get() & (1 << (user % 64)) != 0
    }

    fn insert(&self, user: u32) -> bool {
        let (word, mask) = (&self.0[user as usize / 64], 1u64 << (user % 64));
        let had = word.get() & mask != 0;
        word.set(word.get() | mask);
        !had
    }

    /// Takes `user` out; false if it was not in.
    fn remove(&self, user: u32) -> bool {
        let (word, mask) = (&self.0[user as usize / 64], 1u64 << (user % 64));
        let had = word.get() & mask != 0;
        word.set(word.get() & !mask);
        had
    }
}

/// A proposer's priority and block id, ahead of the block.
#[derive(Debug)]
pub struct Priority {
    pub cred: Credential,
    pub prev: u64,
    pub block: u64,
}

/// One thing gossiped. Every variant is a pointer, a vote's with its 7-byte header beside the
/// tag (`VoteHead`): 16 bytes, not the 40 of a 64-bit header nor the 56 of a priority inline.
/// Every relaying user's batches hold one item per vote, and batches in flight on capped
/// uplinks and the relay buffers behind busy CPUs are most of the peak heap.
#[derive(Clone, Debug)]
pub enum Item {
    Priority(Rc<Priority>),
    Block(Rc<Block>),
    Vote { head: VoteHead, vote: Rc<Vote> },
    Txs(Rc<TxBatch>),
}

impl Item {
    /// The gossip item for `vote`.
    pub fn vote(vote: Rc<Vote>) -> Item {
        Item::Vote { head: VoteHead::of(&vote), vote }
    }

    /// The gossip item for a proposer's priority.
    pub fn priority(cred: Credential, prev: u64, block: u64) -> Item {
        Item::Priority(Rc::new(Priority { cred, prev, block }))
    }

    pub fn wire_bytes(&self, priority_bytes: u32, vote_bytes: u32) -> u32 {
        match self {
            Item::Priority(_) => priority_bytes,
            Item::Block(b) => b.bytes,
            Item::Vote { .. } => vote_bytes,
            Item::Txs(batch) => 8 + batch.txs.iter().map(|t| t.size_bytes).sum::<u32>(),
        }
    }

    /// Its index in `Msg::ITEM_KINDS`, and how many units it counts as there: a batch of
    /// client transactions counts its transactions.
    fn tally_slot(&self) -> (usize, u32) {
        match self {
            Item::Priority(_) => (0, 1),
            Item::Block(_) => (1, 1),
            Item::Vote { .. } => (2, 1),
            Item::Txs(batch) => (3, batch.txs.len() as u32),
        }
    }

    fn fingerprint(&self) -> u64 {
        match self {
            Item::Priority(p) => hash_words(&[1, p.cred.vrf(), p.block]),
            Item::Block(b) => hash_words(&[2, b.id]),
            Item::Vote { vote, .. } => hash_words(&[3, vote.cred.vrf(), vote.value]),
            Item::Txs(batch) => hash_words(&[4, batch.key.0, batch.key.1 as u64]),
        }
    }
}

/// What one flush sends on every link.
#[derive(Debug)]
pub struct Batch {
    pub items: Vec<Item>,
    pub bytes: u32,
    pub fingerprint: u64,
    /// The items per kind of `Msg::ITEM_KINDS`, for the reports (counted once per batch).
    pub tally: [ItemTally; 4],
    /// Whether it goes ahead of blocks on a finite link (`Class::Urgent`): it carries none.
    pub urgent: bool,
    /// Where the items came from, as runs: items before `end` (and after the previous run's)
    /// were relayed from `source`. Empty when the batch is all this user's own.
    runs: Box<[Run]>,
    /// For each source of relayed items, in source order, the batch without them: what the
    /// link back to that source carries (`Msg::Gossip`'s `cut`).
    pub cuts: Box<[Cut]>,
}

/// A run of a batch's items relayed from one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    end: u32,
    source: u32,
}

/// Items waiting for the next flush, and the users they came from as runs (consecutive items
/// from one source, as a gossip message's items are): 16 bytes an item, where a pair of item
/// and source took 24 (48 before `VoteHead`). At 5,000 users with a sixth of a core each, the
/// relay buffers of users whose CPU is behind held a quarter of the peak heap. The items move
/// into the batch at the flush.
#[derive(Debug, Default)]
pub struct Outgoing {
    items: Vec<Item>,
    runs: Vec<Run>,
}

impl Outgoing {
    pub fn push(&mut self, item: Item, source: u32) {
        self.items.push(item);
        let end = self.items.len() as u32;
        match self.runs.last_mut() {
            Some(r) if r.source == source => r.end = end,
            _ => self.runs.push(Run { end, source }),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The items with their sources, in order.
    fn pairs(&self) -> impl Iterator<Item = (&Item, u32)> {
        let mut start = 0;
        self.runs.iter().flat_map(move |r| {
            let (from, to) = (start, r.end as usize);
            start = to;
            self.items[from..to].iter().map(move |item| (item, r.source))
        })
    }

    /// Splits off the items `apart` picks, both parts in their order (a copy only when some are
    /// picked: blocks are few, and most flushes have none).
    pub fn split(self, apart: impl Fn(&Item) -> bool) -> (Outgoing, Outgoing) {
        if !self.items.iter().any(&apart) {
            return (self, Outgoing::default());
        }
        let (mut kept, mut picked) = (Outgoing::default(), Outgoing::default());
        for (item, source) in self.pairs() {
            let part = if apart(item) { &mut picked } else { &mut kept };
            part.push(item.clone(), source);
        }
        (kept, picked)
    }
}

/// A batch as the link to one of its sources carries it: without that source's items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    /// The source left out (the receiver of this copy).
    pub source: u32,
    pub bytes: u32,
    pub tally: [ItemTally; 4],
}

/// What some items of a batch weigh on the wire and in the reports, and (for a whole batch)
/// their fingerprint.
#[derive(Clone, Copy, Debug)]
struct Weight {
    bytes: u32,
    fingerprint: u64,
    tally: [ItemTally; 4],
}

impl Weight {
    /// Nothing yet; a whole batch's fingerprint starts from its number of items.
    fn new(items: u64) -> Weight {
        Weight { bytes: 0, fingerprint: items, tally: [ItemTally::default(); 4] }
    }

    /// Counts `item`, and folds it into the fingerprint.
    fn add(&mut self, item: &Item, priority_bytes: u32, vote_bytes: u32) {
        self.count(item, priority_bytes, vote_bytes);
        self.fingerprint = hash_words(&[self.fingerprint, item.fingerprint()]);
    }

    /// Counts `item` (bytes and tally only: a run's weight).
    fn count(&mut self, item: &Item, priority_bytes: u32, vote_bytes: u32) {
        let (slot, count) = item.tally_slot();
        let size = item.wire_bytes(priority_bytes, vote_bytes);
        self.bytes += size;
        self.tally[slot].count += count;
        self.tally[slot].bytes += size;
    }

    fn plus(mut self, other: &Weight) -> Weight {
        self.bytes += other.bytes;
        for (t, o) in self.tally.iter_mut().zip(&other.tally) {
            t.count += o.count;
            t.bytes += o.bytes;
        }
        self
    }

    /// The batch these weigh (with its 16-byte header) less `part`: the link to `source`.
    fn without(&self, source: u32, part: &Weight) -> Cut {
        let mut tally = self.tally;
        for (t, p) in tally.iter_mut().zip(&part.tally) {
            t.count -= p.count;
            t.bytes -= p.bytes;
        }
        Cut { source, bytes: 16 + self.bytes - part.bytes, tally }
    }

    fn batch(self, items: Vec<Item>, runs: Box<[Run]>, cuts: Box<[Cut]>) -> Batch {
        let Weight { bytes, fingerprint, tally } = self;
        Batch { items, bytes: 16 + bytes, fingerprint, tally, urgent: false, runs, cuts }
    }
}

/// Adds a run's weight to its source's, keeping `sources` in source order.
fn fold(sources: &mut Vec<(u32, Weight)>, source: u32, run: Weight) {
    match sources.binary_search_by_key(&source, |s| s.0) {
        Ok(at) => sources[at].1 = sources[at].1.plus(&run),
        Err(at) => sources.insert(at, (source, run)),
    }
}

impl Batch {
    pub fn new(items: Vec<Item>, priority_bytes: u32, vote_bytes: u32) -> Batch {
        let mut whole = Weight::new(items.len() as u64);
        for item in &items {
            whole.add(item, priority_bytes, vote_bytes);
        }
        whole.batch(items, Box::default(), Box::default())
    }

    /// A batch of relayed items (`out`: each with the user it came from), and its cut for each
    /// source. One pass: the whole batch's weight, and each run's, folded into its source's at
    /// the run's end (runs are few; items are many). The items move in, not copied.
    pub fn relayed(out: Outgoing, priority_bytes: u32, vote_bytes: u32) -> Batch {
        let Outgoing { mut items, runs } = out;
        items.shrink_to_fit();
        let mut whole = Weight::new(items.len() as u64);
        // Per source, what its items weigh.
        let mut sources: Vec<(u32, Weight)> = Vec::new();
        let mut start = 0;
        for r in &runs {
            let mut run = Weight::new(0);
            for item in &items[start..r.end as usize] {
                whole.add(item, priority_bytes, vote_bytes);
                run.count(item, priority_bytes, vote_bytes);
            }
            fold(&mut sources, r.source, run);
            start = r.end as usize;
        }
        let cuts = sources.iter().map(|(source, part)| whole.without(*source, part)).collect();
        whole.batch(items, runs.into_boxed_slice(), cuts)
    }

    /// The same batch on the urgent class (see `Msg::class`).
    pub fn urgent(self) -> Batch {
        assert_eq!(self.tally[1].count, 0, "blocks are never urgent");
        Batch { urgent: true, ..self }
    }

    /// The index in `cuts` of `source`'s cut, if it relayed any of the items.
    pub fn cut_for(&self, source: u32) -> Option<u32> {
        self.cuts.binary_search_by_key(&source, |c| c.source).ok().map(|i| i as u32)
    }

    /// The items a copy carries: all of them, or all but the cut source's (a slice per run).
    pub fn items_for<'a>(&'a self, cut: Option<&Cut>) -> impl Iterator<Item = &'a Item> {
        let skip = cut.map(|c| c.source);
        let whole: &[Item] = if skip.is_none() { &self.items } else { &[] };
        let mut start = 0;
        let kept = self.runs.iter().filter_map(move |run| {
            let (from, to) = (start, run.end as usize);
            start = to;
            (skip.is_some() && Some(run.source) != skip).then(|| &self.items[from..to])
        });
        whole.iter().chain(kept.flatten())
    }

    /// Whether a cut leaves nothing to send: every item came from its source.
    pub fn is_emptied_by(&self, cut: &Cut) -> bool {
        cut.tally.iter().all(|t| t.count == 0)
    }
}

/// One decided round, as a user that fell behind learns it: the block (`None`: the empty one).
#[derive(Clone, Debug)]
pub struct ChainEntry {
    pub round: u64,
    pub prev: u64,
    pub id: u64,
    pub block: Option<Rc<Block>>,
}

impl ChainEntry {
    /// Whether the entry is self-consistent: the block's round, parent and id, or the empty
    /// block's id.
    pub fn is_consistent(&self) -> bool {
        match &self.block {
            Some(b) => b.round == self.round && b.prev == self.prev && b.id == self.id,
            None => self.id == empty_block_id(self.round, self.prev),
        }
    }

    fn bytes(&self) -> u32 {
        24 + self.block.as_ref().map_or(0, |b| b.bytes)
    }
}

/// `Msg::Gossip`'s `cut` for a whole batch.
pub const NO_CUT: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub enum Msg {
    /// A gossip batch, whole (`cut` is `NO_CUT`) or without the items its receiver relayed
    /// (`batch.cuts[cut]`): flooding never sends a peer back what it relayed (go-algorand's
    /// `Relay(.., except)`).
    Gossip { batch: Rc<Batch>, cut: u32 },
    /// Asks a neighbour for a block it decided but never received.
    Fetch { round: u64, block: u64 },
    /// A user behind asks a neighbour for the rounds it decided from `round` on.
    SyncRequest { round: u64 },
    /// The answer: consecutive decided rounds, the last one certified.
    SyncReply { entries: Rc<[ChainEntry]>, cert: Rc<Certificate> },
}

impl Message for Msg {
    /// Gossip batches, and the block fetches and catch-up requests between neighbours.
    const KINDS: &'static [&'static str] = &["gossip", "fetch", "sync-request", "sync-reply"];
    /// What gossip batches carry: proposers' priorities, blocks, votes, and client
    /// transactions (counted one by one; their bytes include each batch's 8-byte header).
    const ITEM_KINDS: &'static [&'static str] = &["priority", "block", "vote", "tx"];

    fn kind(&self) -> usize {
        match self {
            Msg::Gossip { .. } => 0,
            Msg::Fetch { .. } => 1,
            Msg::SyncRequest { .. } => 2,
            Msg::SyncReply { .. } => 3,
        }
    }

    fn items(&self) -> &[ItemTally] {
        match self {
            Msg::Gossip { batch, cut } => batch.cuts.get(*cut as usize).map_or(&batch.tally, |c| &c.tally),
            _ => &[],
        }
    }

    fn wire_size(&self) -> u32 {
        match self {
            Msg::Gossip { batch, cut } => batch.cuts.get(*cut as usize).map_or(batch.bytes, |c| c.bytes),
            Msg::Fetch { .. } => 48,
            Msg::SyncRequest { .. } => 32,
            Msg::SyncReply { entries, cert } => 16 + entries.iter().map(ChainEntry::bytes).sum::<u32>() + cert.bytes,
        }
    }
    /// Gossip without a block goes ahead of blocks on a finite link (go-algorand's vote and
    /// proposal tags are served before its payload tag); everything else queues in order.
    fn class(&self) -> Class {
        match self {
            Msg::Gossip { batch, .. } if batch.urgent => Class::Urgent,
            _ => Class::Normal,
        }
    }

    fn fingerprint(&self) -> u64 {
        match self {
            Msg::Gossip { batch, cut } => match batch.cuts.get(*cut as usize) {
                Some(cut) => hash_words(&[batch.fingerprint, 8, cut.source as u64]),
                None => batch.fingerprint,
            },
            Msg::Fetch { round, block } => hash_words(&[5, *round, *block]),
            Msg::SyncRequest { round } => hash_words(&[6, *round]),
            Msg::SyncReply { entries, cert } => {
                let head = hash_words(&[7, cert.round, cert.role.0 as u64, cert.value, cert.votes.len() as u64]);
                entries.iter().fold(head, |h, e| hash_words(&[h, e.round, e.id]))
            }
        }
    }

    /// "votes 12 priorities 1 blocks 1 txs 40, first vote round 9 step 3 value 77ab": a
    /// gossip batch's items counted, and the first vote and block in a few words; block ids as
    /// their first four hex digits.
    fn describe(&self, out: &mut String) {
        let short = |id: u64| id >> 48;
        let _ = match self {
            Msg::Gossip { batch, cut } => {
                let t = self.items();
                let (priorities, blocks, votes, txs) = (t[0].count, t[1].count, t[2].count, t[3].count);
                let _ = write!(out, "votes {votes} priorities {priorities} blocks {blocks} txs {txs}");
                let first_vote = batch.items_for(batch.cuts.get(*cut as usize)).find_map(|i| match i {
                    Item::Vote { head, vote } => Some((head, vote)),
                    _ => None,
                });
                if let Some((head, vote)) = first_vote {
                    let value = short(vote.value());
                    let (round, role) = (head.round(vote), head.role(vote));
                    let _ = write!(out, ", first vote round {round} step {role} value {value:04x}");
                }
                let first_block = batch.items_for(batch.cuts.get(*cut as usize)).find_map(|i| match i {
                    Item::Block(b) => Some(b),
                    _ => None,
                });
                match first_block {
                    Some(b) => write!(out, ", block round {} id {:04x} txs {}", b.round, short(b.id), b.txs.len()),
                    None => Ok(()),
                }
            }
            Msg::Fetch { round, block } => write!(out, "round {round} block {:04x}", short(*block)),
            Msg::SyncRequest { round } => write!(out, "from round {round}"),
            Msg::SyncReply { entries, cert } => {
                let (first, last) = (entries.first().map_or(0, |e| e.round), entries.last().map_or(0, |e| e.round));
                write!(
                    out,
                    "rounds {first}..={last} cert round {} step {} value {:04x} votes {}",
                    cert.round,
                    cert.role,
                    short(cert.value),
                    cert.votes.len()
                )
            }
        };
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// Send what is waiting to be relayed.
    Flush,
    /// The proposal step's priority collection ends.
    PriorityWait,
    /// The best block did not come in time.
    BlockWait,
    /// The current voting step timed out.
    StepTimeout,
    /// Ask again for a decided block that has not arrived.
    Refetch,
    /// A catch-up request went unanswered: another may be sent.
    SyncRetry,
    /// The FINAL count of a decided round (`final_wait`) ends: the round is tentative.
    FinalWait,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorand::{AlgorandConfig, World};
    use sim_core::Streams;

    #[test]
    fn a_vote_carries_what_its_seat_signed_and_is_shared_not_copied() {
        let world = World::new(&AlgorandConfig::mainnet(), 100, &mut Streams::new(1).stream("algorand"));
        let seat = (0..100).find_map(|u| Seat::draw(&world, u, 3, 42, Role::binary(1), 1500)).expect("selected");
        let vote = Vote::sign(&seat, 7, 9);
        assert_eq!((*vote.cred(), vote.prev(), vote.value()), (seat.credential(), 7, 9));
        assert_eq!(vote.role(), Role::binary(1));
        let relayed = Item::vote(Rc::clone(&vote));
        assert!(
            matches!(&relayed, Item::Vote { vote: v, .. } if Rc::ptr_eq(v, &vote)),
            "a relay passes the voter's copy on"
        );
        let Item::Vote { head, .. } = &relayed else { unreachable!() };
        assert_eq!((head.round(&vote), head.user(), head.role(&vote)), (3, seat.credential().user(), Role::binary(1)));
        assert_eq!(std::mem::size_of::<Item>(), 16, "a vote's tag, header and pointer: the largest gossip item");
    }

    /// Rounds past 16 bits and steps past a byte are read from the copy: a header that cut them
    /// short (round 70,000 as 4,464, step 300 as 44) would file the vote under another step.
    #[test]
    fn a_vote_header_sends_the_reader_to_the_copy_past_its_widths() {
        let world = World::new(&AlgorandConfig::mainnet(), 100, &mut Streams::new(1).stream("algorand"));
        for (round, role) in [(70_000, Role::binary(300)), (65_534, Role(253)), (65_535, Role::FINAL), (2, Role(254))] {
            let seat = (0..100).find_map(|u| Seat::draw(&world, u, round, 42, role, 1500)).expect("selected");
            let vote = Vote::sign(&seat, 7, 9);
            let Item::Vote { head, .. } = Item::vote(Rc::clone(&vote)) else { unreachable!() };
            assert_eq!((head.round(&vote), head.role(&vote), head.user()), (round, role, seat.credential().user()));
        }
    }

    /// Splitting the blocks off a relay buffer keeps both parts in order with their sources
    /// (what the links back to those sources leave out); with no block, nothing is copied.
    #[test]
    fn a_relay_buffer_splits_off_its_blocks_with_their_sources() {
        let world = World::new(&AlgorandConfig::mainnet(), 100, &mut Streams::new(1).stream("algorand"));
        let seat = (0..100).find_map(|u| Seat::draw(&world, u, 9, 42, Role::binary(1), 1500)).expect("selected");
        let proposer = (0..100).find_map(|u| Seat::draw(&world, u, 9, 42, Role::PROPOSE, 20)).expect("a proposer");
        let block = |salt| Item::Block(Rc::new(Block::new(9, 5, proposer.credential(), Rc::from(vec![]), 100, salt)));
        let vote = |value| Item::vote(Vote::sign(&seat, 5, value));
        let mut out = Outgoing::default();
        for (item, source) in [(vote(1), 3), (block(0), 3), (vote(2), 3), (vote(3), 5), (block(1), 5)] {
            out.push(item, source);
        }
        let (small, blocks) = out.split(|item| matches!(item, Item::Block(_)));
        let pairs = |o: &Outgoing| o.pairs().map(|(i, s)| (i.fingerprint(), s)).collect::<Vec<_>>();
        let fp = |i: Item| i.fingerprint();
        assert_eq!(pairs(&small), [(fp(vote(1)), 3), (fp(vote(2)), 3), (fp(vote(3)), 5)]);
        assert_eq!(pairs(&blocks), [(fp(block(0)), 3), (fp(block(1)), 5)]);
        assert_eq!(small.runs.len(), 2, "one run per source: votes 1 and 2 join across the block");
        let (same, none) = small.split(|item| matches!(item, Item::Block(_)));
        assert_eq!((same.items.len(), none.is_empty()), (3, true));
    }

    fn tx(id: u64) -> Tx {
        let (from, to) = (sim_core::AccountId(0), sim_core::AccountId(1));
        Tx { id: sim_core::TxId(id), client: sim_core::NodeId(9), from, to, amount: 1, nonce: id + 1, size_bytes: 100 }
    }

    fn described(msg: &Msg) -> String {
        let mut out = String::new();
        msg.describe(&mut out);
        out
    }

    #[test]
    fn messages_describe_themselves_in_one_short_line() {
        let world = World::new(&AlgorandConfig::mainnet(), 100, &mut Streams::new(1).stream("algorand"));
        let seat = (0..100).find_map(|u| Seat::draw(&world, u, 9, 42, Role::binary(1), 1500)).expect("selected");
        let value = 0x77ab_0000_0000_0001;
        let proposer = (0..100).find_map(|u| Seat::draw(&world, u, 9, 42, Role::PROPOSE, 20)).expect("a proposer");
        let txs: Rc<[Tx]> = Rc::from((0..30).map(tx).collect::<Vec<_>>());
        let block = Rc::new(Block::new(9, 5, proposer.credential(), txs, 100, 0));
        let txs = Rc::new(TxBatch::new(2, (1..41).map(tx).collect(), 100));
        let items = vec![Item::vote(Vote::sign(&seat, 5, value)), Item::Block(Rc::clone(&block)), Item::Txs(txs)];
        let gossip = Msg::Gossip { batch: Rc::new(Batch::new(items, 80, 200)), cut: NO_CUT };
        let expected = format!(
            "votes 1 priorities 0 blocks 1 txs 40, first vote round 9 step 3 value 77ab, block round 9 id {:04x} txs 30",
            block.id >> 48
        );
        assert_eq!(described(&gossip), expected);
        assert_eq!(described(&Msg::Fetch { round: 9, block: value }), "round 9 block 77ab");
        assert_eq!(described(&Msg::SyncRequest { round: 7 }), "from round 7");
        let entries: Rc<[ChainEntry]> =
            (7..=9).map(|round| ChainEntry { round, prev: 0, id: empty_block_id(round, 0), block: None }).collect();
        let votes = vec![Vote::sign(&seat, 5, value); 12];
        let cert = Rc::new(Certificate::new(9, Role::binary(1), 5, value, votes, 200));
        assert_eq!(
            described(&Msg::SyncReply { entries, cert }),
            "rounds 7..=9 cert round 9 step 3 value 77ab votes 12"
        );
    }

    /// A relayed batch sent to one of its sources leaves that source's items out, in bytes,
    /// counts and what the receiver reads; the link to a source of every item carries nothing.
    #[test]
    fn a_batch_cut_for_a_source_leaves_out_what_it_relayed() {
        let world = World::new(&AlgorandConfig::mainnet(), 100, &mut Streams::new(1).stream("algorand"));
        let seat = (0..100).find_map(|u| Seat::draw(&world, u, 9, 42, Role::binary(1), 1500)).expect("selected");
        let vote = |value| Item::vote(Vote::sign(&seat, 5, value));
        let txs = Item::Txs(Rc::new(TxBatch::new(2, (1..4).map(tx).collect(), 100)));
        let own = 7;
        let outgoing = |pairs: Vec<(Item, u32)>| {
            let mut out = Outgoing::default();
            for (item, source) in pairs {
                out.push(item, source);
            }
            out
        };
        let out = outgoing(vec![(vote(1), 3), (vote(2), 3), (txs, 5), (vote(3), 3), (vote(4), own)]);
        let batch = Batch::relayed(out, 80, 200);
        let cuts = &batch.cuts;
        assert_eq!(cuts.iter().map(|c| c.source).collect::<Vec<_>>(), [3, 5, own], "one cut per source, in order");
        let tx_bytes = 8 + 3 * 100;
        assert_eq!(batch.bytes, 16 + 4 * 200 + tx_bytes);
        assert_eq!((cuts[0].bytes, cuts[0].tally[2].count, cuts[0].tally[3].count), (16 + 200 + tx_bytes, 1, 3));
        assert_eq!((cuts[1].bytes, cuts[1].tally[2].count, cuts[1].tally[3].count), (16 + 4 * 200, 4, 0));
        let values = |cut: Option<&Cut>| -> Vec<u64> {
            batch
                .items_for(cut)
                .filter_map(|i| match i {
                    Item::Vote { vote, .. } => Some(vote.value()),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(values(None), [1, 2, 3, 4]);
        assert_eq!(values(Some(&cuts[0])), [4], "source 3's three votes left out");
        assert_eq!(batch.items_for(Some(&cuts[1])).count(), 4, "source 5's transactions left out");
        assert!(!batch.is_emptied_by(&cuts[0]));
        let only = Batch::relayed(outgoing(vec![(vote(1), 3), (vote(2), 3)]), 80, 200);
        assert!(only.is_emptied_by(&only.cuts[0]), "every item from 3: nothing to send it");
        assert_eq!((batch.cut_for(5), batch.cut_for(4)), (Some(1), None));
    }
}
