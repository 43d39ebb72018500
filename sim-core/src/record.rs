//! What a run did, event by event: typed records, the running digest they fold into, the
//! always-on flight recorder of the last few thousand, and the observer interface through which
//! `scenarios` writes event logs and timelines (the core itself does no I/O).

use std::fmt::Debug;

use crate::digest::{Fold, hash_words};
use crate::engine::FaultAction;
use crate::ids::{NodeId, TxId};
use crate::protocol::Protocol;
use crate::time::{Span, Time};

/// What became of a message when it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It reaches the receiver at this time (the network's delay, jitter and bandwidth).
    Arrives(Time),
    /// The adversary held it: it arrives at `at`, `by` later than the network alone would.
    Delayed { at: Time, by: Span },
    /// Lost: a crashed sender or receiver, a partition, random loss or a full link.
    Lost,
    /// The adversary dropped it.
    Dropped,
}

/// The input a handler ran: what the engine handed the replica's CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerInput {
    /// A protocol message of kind `kind`, the copy numbered `msg` (its `Send` and `Deliver`).
    Message { kind: u32, msg: u64 },
    /// A client request, the copy numbered `msg`.
    Request { msg: u64 },
    /// A timer firing, numbered `generation` (its `TimerSet` and `TimerFire`).
    Timer { generation: u64 },
}

impl HandlerInput {
    /// Two words: a tag with the kind, and the message number or timer generation.
    fn words(&self) -> [u64; 2] {
        match *self {
            HandlerInput::Message { kind, msg } => [(kind as u64) << 2, msg],
            HandlerInput::Request { msg } => [1, msg],
            HandlerInput::Timer { generation } => [2, generation],
        }
    }
}

/// A protocol's notable decision, described in its own words through `Ctx::note`. Closed: a
/// new kind of decision is a new variant here, so every log reader and timeline knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// The replica moved to view (HotStuff) or round (Algorand) `view`: the rows of the view
    /// timeline.
    View { view: u64 },
    /// The replica's view timer expired in `view`.
    Timeout { view: u64 },
    /// HotStuff: the replica locked on `block`, certified in `view`.
    Lock { view: u64, block: u64 },
    /// Algorand BA*: the replica entered `step` of `round` (1 and 2 the reductions, 2 + s
    /// BinaryBA*'s step s).
    Step { round: u64, step: u32 },
    /// Algorand: the replica asked a neighbour for the rounds decided from `round` on.
    CatchUp { round: u64 },
    /// Leaderless: command `instance` committed on the fast path (`fast`) or the slow path.
    Path { instance: u64, fast: bool },
    /// Leaderless: the replica started a view change of `instance` to `view`.
    ViewChange { instance: u64, view: u64 },
    /// Leaderless: the replica asked the others to recover command `instance`; Algorand: fork
    /// recovery, replacing the decided rounds from `instance` on.
    Recovery { instance: u64 },
    /// A Byzantine replica did something its protocol forbids (`action` names it: the names
    /// are the behaviours' own), about `about` (a view, a block, a command).
    Byzantine { action: &'static str, about: u64 },
}

impl Note {
    /// A short snake_case name, for logs and timelines.
    pub fn name(&self) -> &'static str {
        match self {
            Note::View { .. } => "view",
            Note::Timeout { .. } => "timeout",
            Note::Lock { .. } => "lock",
            Note::Step { .. } => "step",
            Note::CatchUp { .. } => "catch_up",
            Note::Path { .. } => "path",
            Note::ViewChange { .. } => "view_change",
            Note::Recovery { .. } => "recovery",
            Note::Byzantine { .. } => "byzantine",
        }
    }

    fn words(&self) -> [u64; 3] {
        match *self {
            Note::View { view } => [0, view, 0],
            Note::Timeout { view } => [1, view, 0],
            Note::Lock { view, block } => [2, view, block],
            Note::Step { round, step } => [3, round, step as u64],
            Note::CatchUp { round } => [4, round, 0],
            Note::Path { instance, fast } => [5, instance, fast as u64],
            Note::ViewChange { instance, view } => [6, instance, view],
            Note::Recovery { instance } => [7, instance, 0],
            Note::Byzantine { action, about } => [8, crate::digest::stable_hash_str(action), about],
        }
    }
}

/// One thing that happened. `kind` indexes the run's kind table (`engine::kind_names`): client
/// requests, replies, then the protocol's message kinds; `msg` numbers each message copy sent
/// in the run, so a delivery pairs with its send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// A message copy left `from`.
    Send { from: NodeId, to: NodeId, kind: u32, size: u32, msg: u64, fate: Fate },
    /// A message copy was handed to `to`. `content` is what the digest folds: a protocol
    /// message's fingerprint, a request's transaction id, a reply batch's first id and length.
    Deliver { to: NodeId, from: NodeId, kind: u32, size: u32, msg: u64, content: u64 },
    /// A message copy reached `to` but was not taken: `to` had crashed, or its downlink was full.
    Refused { to: NodeId, from: NodeId, kind: u32, msg: u64 },
    /// `node` set a timer (`generation` numbers it) to fire at `at`.
    TimerSet { node: NodeId, generation: u64, at: Time },
    /// A timer fired and its input goes to the CPU.
    TimerFire { node: NodeId, generation: u64 },
    /// A handler of `node` ran `input` (what it decided is recorded just before) and holds a
    /// core for `cost` from now (its effects leave at the end, with a `Release`, if it has a CPU
    /// cost).
    Handler { node: NodeId, cost: Span, input: HandlerInput },
    /// A handler of `node` ended and its effects left (`epoch` counts the node's crashes).
    Release { node: NodeId, epoch: u32 },
    /// A client submitted a transaction.
    Submit { client: NodeId, tx: TxId },
    /// A client resent an unconfirmed transaction to `to`.
    Resend { client: NodeId, to: NodeId, tx: TxId },
    /// A client holds f+1 matching replies: the transaction is confirmed.
    Confirm { client: NodeId, tx: TxId },
    /// Replica `node`'s request queue was full (`[clients] queue_limit`): it dropped `client`'s
    /// transaction, or pushed it back with a busy reply (`pushed_back`).
    Overload { node: NodeId, client: NodeId, tx: TxId, pushed_back: bool },
    /// A replica committed log position `slot` as entry `entry` with `txs` transactions.
    Commit { node: NodeId, slot: u64, entry: u64, txs: u32 },
    /// A replica committed one transaction outside any log (leaderless protocols).
    CommitTx { node: NodeId, tx: TxId },
    /// A replica executed a transaction.
    Execute { node: NodeId, tx: TxId },
    /// A crash or a recovery.
    Fault { node: NodeId, action: FaultAction },
    /// Partition `index` of the network configuration opened (`open`) or healed.
    Partition { index: u32, open: bool },
    /// A protocol's notable decision.
    Note { node: NodeId, note: Note },
    /// An invariant broke at `node`: the run stops here.
    Violation { node: NodeId, invariant: &'static str },
}

/// The digest's word for an event: its code, receiver and sender.
fn site(code: u64, to: NodeId, from: NodeId) -> u64 {
    code | (to.0 as u64) << 8 | (from.0 as u64) << 36
}

impl Record {
    /// A short snake_case name, for logs and timelines.
    pub fn name(&self) -> &'static str {
        match self {
            Record::Send { .. } => "send",
            Record::Deliver { .. } => "deliver",
            Record::Refused { .. } => "refused",
            Record::TimerSet { .. } => "timer_set",
            Record::TimerFire { .. } => "timer_fire",
            Record::Handler { .. } => "handler",
            Record::Release { .. } => "release",
            Record::Submit { .. } => "submit",
            Record::Resend { .. } => "resend",
            Record::Confirm { .. } => "confirm",
            Record::Overload { .. } => "overload",
            Record::Commit { .. } => "commit",
            Record::CommitTx { .. } => "commit_tx",
            Record::Execute { .. } => "execute",
            Record::Fault { .. } => "fault",
            Record::Partition { .. } => "partition",
            Record::Note { .. } => "note",
            Record::Violation { .. } => "violation",
        }
    }

    /// Every record name, in declaration order (for filters and docs).
    pub const NAMES: &'static [&'static str] = &[
        "send",
        "deliver",
        "refused",
        "timer_set",
        "timer_fire",
        "handler",
        "release",
        "submit",
        "resend",
        "confirm",
        "overload",
        "commit",
        "commit_tx",
        "execute",
        "fault",
        "partition",
        "note",
        "violation",
    ];

    /// The node the record happened at (a partition happens at none).
    pub fn node(&self) -> Option<NodeId> {
        match *self {
            Record::Send { from: node, .. }
            | Record::Deliver { to: node, .. }
            | Record::Refused { to: node, .. }
            | Record::TimerSet { node, .. }
            | Record::TimerFire { node, .. }
            | Record::Handler { node, .. }
            | Record::Release { node, .. }
            | Record::Submit { client: node, .. }
            | Record::Resend { client: node, .. }
            | Record::Confirm { client: node, .. }
            | Record::Overload { node, .. }
            | Record::Commit { node, .. }
            | Record::CommitTx { node, .. }
            | Record::Execute { node, .. }
            | Record::Fault { node, .. }
            | Record::Note { node, .. }
            | Record::Violation { node, .. } => Some(node),
            Record::Partition { .. } => None,
        }
    }

    /// Whether the flight recorder keeps it: what replicas received and decided, faults and
    /// violations; not the bookkeeping that follows from them (sends, whose delivery or refusal
    /// is kept; handlers; releases; timers set, whose firing is kept), nor clients' submissions,
    /// confirmations and replicas' executions, which a violation report leaves out anyway.
    #[inline]
    pub fn is_telling(&self) -> bool {
        match self {
            Record::Deliver { kind, .. } | Record::Refused { kind, .. } => *kind >= 2,
            Record::Send { .. }
            | Record::Handler { .. }
            | Record::Release { .. }
            | Record::TimerSet { .. }
            | Record::Submit { .. }
            | Record::Resend { .. }
            | Record::Confirm { .. }
            | Record::Overload { .. }
            | Record::Execute { .. } => false,
            Record::TimerFire { .. }
            | Record::Commit { .. }
            | Record::CommitTx { .. }
            | Record::Fault { .. }
            | Record::Partition { .. }
            | Record::Note { .. }
            | Record::Violation { .. } => true,
        }
    }

    /// The two words this record folds into the run digest after its time, or `None` for the
    /// records the digest leaves out (they follow from the folded ones). The digest of a run
    /// is `Fold::new(seed)` with, for each folded record in order, `add(time_ns).add(w0).add(w1)`.
    pub fn folded(&self) -> Option<[u64; 2]> {
        match *self {
            Record::Deliver { to, from, kind, content, .. } => {
                let code = match kind {
                    0 => 2, // a client request
                    1 => 3, // a reply
                    _ => 1, // a protocol message
                };
                Some([site(code, to, from), content])
            }
            Record::TimerFire { node, generation } => Some([site(4, node, node), generation]),
            Record::Submit { client, tx } => Some([site(5, client, client), tx.0]),
            Record::Fault { node, action } => Some([site(6, node, node), action as u64]),
            Record::Release { node, epoch } => Some([site(7, node, node), epoch as u64]),
            Record::Resend { client, to, tx } => Some([site(7, client, to), tx.0]),
            _ => None,
        }
    }

    /// Every field as words, for the whole-log hash `diff` compares (the run digest leaves out
    /// records that follow from others; two builds of byzsim may differ exactly there).
    pub fn words(&self) -> [u64; 6] {
        let n = |id: NodeId| id.0 as u64;
        let fate = |f: Fate| match f {
            Fate::Arrives(at) => [0, at.0],
            Fate::Delayed { at, by } => [1 | by.0 << 2, at.0],
            Fate::Lost => [2, 0],
            Fate::Dropped => [3, 0],
        };
        match *self {
            Record::Send { from, to, kind, size, msg, fate: f } => {
                let [a, b] = fate(f);
                [0, n(from) | n(to) << 32, kind as u64 | (size as u64) << 32, msg, a, b]
            }
            Record::Deliver { to, from, kind, size, msg, content } => {
                [1, n(to) | n(from) << 32, kind as u64 | (size as u64) << 32, msg, content, 0]
            }
            Record::Refused { to, from, kind, msg } => [2, n(to) | n(from) << 32, kind as u64, msg, 0, 0],
            Record::TimerSet { node, generation, at } => [3, n(node), generation, at.0, 0, 0],
            Record::TimerFire { node, generation } => [4, n(node), generation, 0, 0, 0],
            Record::Handler { node, cost, input } => {
                let [a, b] = input.words();
                [5, n(node), cost.0, a, b, 0]
            }
            Record::Release { node, epoch } => [6, n(node), epoch as u64, 0, 0, 0],
            Record::Submit { client, tx } => [7, n(client), tx.0, 0, 0, 0],
            Record::Resend { client, to, tx } => [8, n(client) | n(to) << 32, tx.0, 0, 0, 0],
            Record::Confirm { client, tx } => [9, n(client), tx.0, 0, 0, 0],
            Record::Overload { node, client, tx, pushed_back } => {
                [17, n(node) | n(client) << 32, tx.0, pushed_back as u64, 0, 0]
            }
            Record::Commit { node, slot, entry, txs } => [10, n(node), slot, entry, txs as u64, 0],
            Record::CommitTx { node, tx } => [11, n(node), tx.0, 0, 0, 0],
            Record::Execute { node, tx } => [12, n(node), tx.0, 0, 0, 0],
            Record::Fault { node, action } => [13, n(node), action as u64, 0, 0, 0],
            Record::Partition { index, open } => [14, index as u64, open as u64, 0, 0, 0],
            Record::Note { node, note } => {
                let [a, b, c] = note.words();
                [15, n(node), a, b, c, 0]
            }
            Record::Violation { node, invariant } => [16, n(node), crate::digest::stable_hash_str(invariant), 0, 0, 0],
        }
    }
}

/// A record with its place in the run: virtual time, its number among the run's records (from
/// 0), and the run digest after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub at: Time,
    pub seq: u64,
    pub digest: u64,
    pub record: Record,
}

impl Entry {
    /// A hash of the record's time and content, for comparing runs record by record: not its
    /// number (equal in two runs up to where they differ) nor the run digest (which differs from
    /// the first record between two seeds).
    pub fn hash(&self) -> u64 {
        let w = self.record.words();
        hash_words(&[self.at.0, w[0], w[1], w[2], w[3], w[4], w[5]])
    }
}

/// What the engine hands an observer with a record, when there is more to say than the record
/// (borrowed for the call only).
pub enum Detail<'a, P: Protocol> {
    None,
    Message(&'a P::Message),
    Timer(&'a P::Timer),
}

/// An observer of every record of a run, in order. `scenarios` implements it to write event
/// logs and timelines; the engine only calls it.
pub trait EventSink<P: Protocol> {
    fn record(&mut self, entry: &Entry, detail: Detail<'_, P>);
}

/// The last `capacity` telling entries of a run (`Record::is_telling`), kept at the cost of
/// one copy each.
#[derive(Clone, Debug)]
pub struct FlightRecorder {
    entries: Vec<Entry>,
    capacity: usize,
    /// Where the next entry goes once the buffer is full.
    next: usize,
}

impl FlightRecorder {
    /// The number of records kept unless a run asks otherwise.
    pub const DEFAULT_CAPACITY: usize = 4096;

    pub fn new(capacity: usize) -> FlightRecorder {
        FlightRecorder { entries: Vec::with_capacity(capacity.min(1 << 16)), capacity, next: 0 }
    }

    #[inline(always)]
    fn push(&mut self, entry: Entry) {
        if self.entries.len() < self.capacity {
            self.entries.push(entry);
        } else if self.capacity > 0 {
            self.entries[self.next] = entry;
            self.next += 1;
            if self.next == self.capacity {
                self.next = 0;
            }
        }
    }

    /// The kept entries, oldest first.
    pub fn entries(&self) -> Vec<Entry> {
        let (newer, older) = self.entries.split_at(self.next);
        let out: Vec<Entry> = older.iter().chain(newer).copied().collect();
        debug_assert!(out.windows(2).all(|w| w[0].seq < w[1].seq), "the ring keeps records in order");
        out
    }
}

/// The engine's record keeper: numbers records, folds the digest, fills the flight recorder
/// and hands each record to the observer, if any.
pub(crate) struct Recorder<P: Protocol> {
    digest: Fold,
    seq: u64,
    ring: FlightRecorder,
    sink: Option<Box<dyn EventSink<P>>>,
}

impl<P: Protocol> Recorder<P> {
    pub(crate) fn new(seed: u64) -> Self {
        Recorder {
            digest: Fold::new(seed),
            seq: 0,
            ring: FlightRecorder::new(FlightRecorder::DEFAULT_CAPACITY),
            sink: None,
        }
    }

    pub(crate) fn set_sink(&mut self, sink: Box<dyn EventSink<P>>) {
        assert_eq!(self.seq, 0, "an observer sees a run from its first record");
        self.sink = Some(sink);
    }

    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        assert_eq!(self.seq, 0, "the flight recorder is sized before the run");
        self.ring = FlightRecorder::new(capacity);
    }

    pub(crate) fn digest(&self) -> u64 {
        self.digest.value()
    }

    pub(crate) fn records(&self) -> u64 {
        self.seq
    }

    pub(crate) fn ring(&self) -> &FlightRecorder {
        &self.ring
    }

    /// Records `record` at `at`, folding it into the digest if it is one the digest covers.
    /// Inlined at each call site, where the record's kind is known, so that a record neither
    /// folded, kept nor observed costs one increment.
    #[inline(always)]
    pub(crate) fn push(&mut self, at: Time, record: Record, detail: Detail<'_, P>) {
        if let Some([site, content]) = record.folded() {
            self.digest.add(at.0).add(site).add(content);
        }
        let seq = self.seq;
        self.seq += 1;
        let telling = record.is_telling();
        if telling || self.sink.is_some() {
            let entry = Entry { at, seq, digest: self.digest.value(), record };
            if telling {
                self.ring.push(entry);
            }
            if self.sink.is_some() {
                self.observe(&entry, detail);
            }
        }
    }

    #[inline(never)]
    fn observe(&mut self, entry: &Entry, detail: Detail<'_, P>) {
        if let Some(sink) = &mut self.sink {
            sink.record(entry, detail);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> Entry {
        Entry { at: Time(seq), seq, digest: 0, record: Record::Submit { client: NodeId(1), tx: TxId(seq) } }
    }

    #[test]
    fn entries_stay_small() {
        // The flight recorder copies one per telling record (4096 of them: 288 KiB, within a
        // core's L2 cache): a bigger record is a slower run.
        assert!(std::mem::size_of::<Entry>() <= 72, "{}", std::mem::size_of::<Entry>());
    }

    #[test]
    fn the_flight_recorder_keeps_the_last_entries_in_order() {
        let mut ring = FlightRecorder::new(3);
        for seq in 0..7 {
            ring.push(entry(seq));
        }
        let seqs: Vec<u64> = ring.entries().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![4, 5, 6]);
        let mut short = FlightRecorder::new(8);
        short.push(entry(0));
        assert_eq!(short.entries().len(), 1);
        let mut off = FlightRecorder::new(0);
        off.push(entry(0));
        assert!(off.entries().is_empty());
    }

    #[test]
    fn names_are_listed_in_order() {
        let all = [
            Record::Send { from: NodeId(0), to: NodeId(1), kind: 2, size: 1, msg: 0, fate: Fate::Lost },
            Record::Violation { node: NodeId(0), invariant: "x" },
        ];
        assert_eq!(all[0].name(), Record::NAMES[0]);
        assert_eq!(all[1].name(), *Record::NAMES.last().expect("names"));
        assert_ne!(all[0].words(), all[1].words());
    }
}
