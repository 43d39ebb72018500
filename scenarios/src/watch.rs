//! Watching a run from outside the core: the engine hands each record to one observer, which
//! describes the message or timer it is about (only if a watcher wants it) and passes it on to
//! the run's watchers (the event log, the timeline, diff checkpoints).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use sim_core::net::KindName;
use sim_core::{Detail, Entry, EventSink, Message, NodeId, Protocol};

/// What a watcher knows of the run before its first record.
#[derive(Clone, Debug)]
pub struct RunInfo {
    pub scenario: String,
    /// The protocol's name, the word for its nodes and for its views (`ProtocolKind`'s), and
    /// whether a correct node's view never goes back.
    pub protocol: &'static str,
    pub node_word: &'static str,
    pub view_word: &'static str,
    pub views_monotone: bool,
    pub seed: u64,
    pub n_replicas: u32,
    /// Replicas, then clients.
    pub n_nodes: u32,
    /// The run's message kinds (`Record` kinds index it).
    pub kinds: Vec<KindName>,
}

impl RunInfo {
    /// `replica 3`, `user 3` (Algorand) or `client 7`.
    pub fn node_label(&self, node: NodeId) -> String {
        let who = if node.0 < self.n_replicas { self.node_word } else { "client" };
        format!("{who} {}", node.0)
    }

    /// A kind's name, or `kind N` past the table (never, in a run's own records).
    pub fn kind_name(&self, kind: u32) -> &'static str {
        self.kinds.get(kind as usize).map_or("unknown", |k| k.name)
    }
}

/// A consumer of a run's records, in order.
pub trait Watcher {
    /// Called once, before the first record.
    fn begin(&mut self, info: &RunInfo);
    /// Whether `record` should come with the description of what it is about (a message's
    /// summary, a timer's name): building it costs a little, so only when someone reads it.
    fn wants_about(&self, entry: &Entry) -> bool;
    /// One record; `about` is empty unless some watcher wanted it.
    fn record(&mut self, entry: &Entry, about: &str);
}

/// A watcher the caller keeps a handle on, to read or finish it after the run.
pub type Shared = Rc<RefCell<dyn Watcher>>;

/// Wraps a watcher for `run::run_watched`, keeping a typed handle for the caller.
pub fn share<W: Watcher + 'static>(watcher: W) -> (Rc<RefCell<W>>, Shared) {
    let typed = Rc::new(RefCell::new(watcher));
    let shared: Shared = typed.clone();
    (typed, shared)
}

/// The engine's observer: describes what a record is about, once, for every watcher.
struct Fanout {
    watchers: Vec<Shared>,
    about: String,
}

impl<P: Protocol> EventSink<P> for Fanout {
    fn record(&mut self, entry: &Entry, detail: Detail<'_, P>) {
        self.about.clear();
        if self.watchers.iter().any(|w| w.borrow().wants_about(entry)) {
            match detail {
                Detail::Message(msg) => msg.describe(&mut self.about),
                Detail::Timer(timer) => {
                    let _ = write!(self.about, "{timer:?}");
                }
                Detail::None => {}
            }
        }
        for w in &self.watchers {
            w.borrow_mut().record(entry, &self.about);
        }
    }
}

/// The observer to give the engine for these watchers (none without watchers), after telling
/// each what the run is.
pub fn sink<P: Protocol>(watchers: &[Shared], info: &RunInfo) -> Option<Box<dyn EventSink<P>>> {
    if watchers.is_empty() {
        return None;
    }
    for w in watchers {
        w.borrow_mut().begin(info);
    }
    Some(Box::new(Fanout { watchers: watchers.to_vec(), about: String::new() }))
}
