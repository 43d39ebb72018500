//! What the notes tests share: an observer that keeps every record of a run and describes
//! every protocol message the engine hands it, checking each summary is short and non-empty.

use std::cell::RefCell;
use std::rc::Rc;

use sim_core::{Detail, Entry, EventSink, Message, NodeId, Note, Protocol, Record, Time};

/// A message summary is one short line.
pub const DESCRIBE_LEN_MAX: usize = 160;

/// Everything the observer kept.
#[derive(Default)]
pub struct Log {
    pub entries: Vec<Entry>,
    /// Messages described, and the longest summary.
    pub described: u64,
    pub longest: String,
}

impl Log {
    /// The notes of the run, in order: (time, replica, note).
    pub fn notes(&self) -> Vec<(Time, NodeId, Note)> {
        notes(&self.entries)
    }
}

/// The notes among `entries`.
pub fn notes(entries: &[Entry]) -> Vec<(Time, NodeId, Note)> {
    entries
        .iter()
        .filter_map(|e| match e.record {
            Record::Note { node, note } => Some((e.at, node, note)),
            _ => None,
        })
        .collect()
}

/// The observer: hand `Collect(log.clone())` to `Simulation::with_sink`.
pub struct Collect(pub Rc<RefCell<Log>>);

impl<P: Protocol> EventSink<P> for Collect {
    fn record(&mut self, entry: &Entry, detail: Detail<'_, P>) {
        let mut log = self.0.borrow_mut();
        log.entries.push(*entry);
        if let Detail::Message(msg) = detail {
            let mut line = String::new();
            msg.describe(&mut line);
            assert!(!line.is_empty(), "no summary of a {}", P::Message::KINDS[msg.kind()]);
            assert!(line.len() <= DESCRIBE_LEN_MAX && !line.contains('\n'), "summary too long: {line}");
            log.described += 1;
            if line.len() > log.longest.len() {
                log.longest = line;
            }
        }
    }
}

/// A new shared log and the observer that fills it.
pub fn collector() -> (Rc<RefCell<Log>>, Box<Collect>) {
    let log = Rc::new(RefCell::new(Log::default()));
    (log.clone(), Box::new(Collect(log)))
}

/// The flight recorder's records before its last one, which must be the violation of
/// `invariant` by `node` that stopped the run.
pub fn before_violation(recent: &[Entry], node: NodeId, invariant: &'static str) -> Vec<Record> {
    let (last, before) = recent.split_last().expect("the flight recorder holds records");
    assert_eq!(last.record, Record::Violation { node, invariant }, "the run ends with its violation");
    before.iter().map(|e| e.record).collect()
}

/// Two log commits of one slot with different entries at different replicas: the conflict an
/// agreement violation of a totally ordered log is about (not used by leaderless tests:
/// leaderless commits are per transaction).
#[allow(dead_code)]
pub fn conflicting_commits(commits: &[Record]) -> Option<(Record, Record)> {
    for (i, a) in commits.iter().enumerate() {
        for b in &commits[i + 1..] {
            if let (
                Record::Commit { node: na, slot: sa, entry: ea, .. },
                Record::Commit { node: nb, slot: sb, entry: eb, .. },
            ) = (a, b)
                && sa == sb
                && ea != eb
                && na != nb
            {
                return Some((*a, *b));
            }
        }
    }
    None
}
