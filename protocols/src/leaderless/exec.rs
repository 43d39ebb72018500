//! The executor of leaderless SMR: committed (command, dependency set) pairs become one
//! execution order, the same for conflicting commands at every correct replica.
//!
//! A command is stable when it and all its transitive dependencies are committed. Stable
//! commands run dependencies first, one strongly connected component (SCC) at a time (Tarjan),
//! and inside a component by the canonical key `(tx.from, tx.nonce, tx.id)`: the source account
//! and its sequence number are what the client signed, so every correct replica sorts the same
//! way, and a component holding several transfers of one account runs them in nonce order (the
//! order the ledger accepts). Never by arrival or commit order, which differ between replicas.
//!
//! Same-source transfers form a chain: a transfer of nonce k also depends on its source's
//! transfer of nonce k-1 (an edge the executor adds, found by `(source, nonce)`; until that
//! transfer commits, the later one waits as on a missing dependency). The discovery service
//! already orders the two (they conflict), but possibly against their nonces: nonce 2 may be
//! seen first, and nonce 1 then depends on it. The ledger must not hold nonce 2 until nonce 1
//! arrives (its effect would then land between commands that do not conflict with nonce 1, in
//! an order that differs between replicas: issue 11, bug 2), and rejecting it would refuse a
//! correct client's pipelined transfers whenever the network reorders them. With the chain
//! edge, the two are in one component when the discovery service ordered them backwards, and
//! the canonical key runs nonce 1 first; otherwise nonce 1's component runs first. Either way
//! the ledger sees each source's nonces in order, and the graph the executor orders (committed
//! dependencies plus chain edges) is a function of the committed commands alone, since the
//! engine numbers each source's transfers 1, 2, 3... (clients are correct: a second committed
//! command with a taken `(source, nonce)` is asserted impossible). A reconfiguration has no
//! chain. `Executor::unchained` leaves the edges out (for the held-nonce planted bug and for
//! tests of the graph machinery with arbitrary nonces).
//!
//! The price, as with a nonce gap on Ethereum: a transfer that no correct replica ever sees
//! (sent only to a silent or crashed replica, with clients that never resend) stalls its
//! source's later transfers, and the commands that depend on them. Such a run already breaks
//! liveness for the lost transfer; `clients.retry_ms` avoids it. Rejecting a nonce ahead
//! (the other deterministic choice) would stay live but refuse a correct client's pipelined
//! transfers whenever the network delivers them out of order (common with clients in several
//! regions sharing hot accounts).
//!
//! Floors (Wintermute's pruning, module docs of `leaderless`): a committed set may carry a floor
//! L (`types::floor_of`), a dependency on every id below L. The command waits, as on one
//! missing dependency, until the executed prefix (every id below it executed; ids are dense)
//! reaches L; `execute_stable` releases such commands after each round of searches. A floor
//! never closes a cycle, so it needs no place in the component search. `blocked_on` reports
//! the first uncommitted ids below the lowest floor waited for, so that recovery fetches them.
//!
//! Incremental: `execute_stable` only searches from commands that may have become stable since
//! the last call, and remembers why a command could not run, so that a long queue of commands
//! behind one uncommitted dependency is not searched again on every call:
//! - `Waiting`: some direct dependency is uncommitted (counted; reverse edges kept per missing
//!   id, which is also what `blocked_on` reports for recovery).
//! - `Blocked { behind }`: all dependencies committed, but the command reaches `behind`, which
//!   was `Waiting` when recorded. `behind` keeps a list of such waiters and wakes them when it
//!   executes. The pointers form a forest; a search that meets a blocked command follows its
//!   pointers to the end (with path compression) and trusts it only if the end is still
//!   `Waiting`: an end that is itself being re-examined proves nothing, so the search goes on
//!   through the command's real edges instead (this is what keeps cycles from blocking each
//!   other forever).
//!
//! Cost: a commit is O(d log d) for d dependencies; each search visits a command once and each
//! edge once; a command is searched again only when it was woken (its blocker's dependencies
//! committed, or its blocker executed) or when a search meets it behind a command being
//! re-examined. A reverse-order chain of n commits costs O(n) in total.

use std::collections::{BTreeMap, VecDeque};

use sim_core::{AccountId, Tx, TxId};

use super::types::{floor_of, is_floor};
use crate::ledger::is_reconfiguration;

/// The order inside a strongly connected component: source account, its nonce, then the id
/// (a tie only a misbehaving client could create).
pub fn canonical_key(tx: &Tx) -> (AccountId, u64, TxId) {
    (tx.from, tx.nonce, tx.id)
}

/// Ids below a floor that `blocked_on` reports at once (recovery fetches them a batch at a time).
const MAX_FLOOR_GAPS: usize = 256;

/// Where a committed, not yet executed command stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// A direct dependency is not committed.
    Waiting,
    /// All dependencies committed; to be examined by the next search.
    Pending,
    /// Reaches `behind`, which was `Waiting` (or being examined) when this was recorded.
    Blocked { behind: TxId },
    /// On the stack of the search in progress.
    Visiting,
}

#[derive(Debug)]
struct Node {
    tx: Tx,
    /// Distinct, without the command itself and without commands executed when it committed.
    deps: Box<[TxId]>,
    /// Dependencies not committed yet (the chain predecessor included).
    n_missing: u32,
    state: State,
    /// Commands whose `behind` was set to this one (entries go stale when they change).
    waiters: Vec<TxId>,
    /// Tarjan's numbering, valid while `Visiting`.
    index: u32,
    lowlink: u32,
    /// During a search: a `Waiting` command this one reaches through an edge out of its SCC.
    blocker: Option<TxId>,
}

#[derive(Debug)]
enum Slot {
    Absent,
    /// Boxed so that the table, indexed by every id, stays two words per command.
    Committed(Box<Node>),
    Executed,
}

/// Turns commits into executions; one per replica.
#[derive(Debug, Default)]
pub struct Executor {
    /// Whether a transfer depends on its source's previous nonce (module docs).
    chained: bool,
    /// Planted bug (tests only): components run in the order the search met them.
    by_discovery: bool,
    /// Whether floors are dropped (a planted bug): commands run before what lies below them.
    ignore_floors: bool,
    /// Every id below it has executed: the executed prefix (ids are dense from 0).
    prefix: u64,
    /// Floor -> committed commands waiting for the executed prefix to reach it.
    floor_waiting: BTreeMap<u64, Vec<TxId>>,
    /// Indexed by `TxId::idx`: ids are dense from 0.
    slots: Vec<Slot>,
    /// Missing (uncommitted) id -> committed commands that depend on it directly. A BTreeMap
    /// rather than the table: a Byzantine dependency can name any id.
    missing: BTreeMap<TxId, Vec<TxId>>,
    /// (source, nonce) -> the committed command with that nonce, until the next nonce commits
    /// and takes its edge: about one entry per source account.
    by_nonce: BTreeMap<(AccountId, u64), TxId>,
    /// (source, nonce) not committed yet -> the committed command of the next nonce, waiting.
    missing_nonce: BTreeMap<(AccountId, u64), TxId>,
    /// Commands to search from: they became `Pending` since they were last examined.
    worklist: VecDeque<TxId>,
    // The search's stacks, kept to reuse their allocations.
    calls: Vec<(TxId, usize)>,
    tarjan_stack: Vec<TxId>,
    component: Vec<TxId>,
    next_index: u32,
    n_committed: u64,
    n_executed: u64,
    n_components: u64,
    component_size_max: u64,
    n_visits: u64,
}

/// The chain key of the transfer before `tx` from the same source, if it has one.
fn predecessor(tx: &Tx) -> Option<(AccountId, u64)> {
    (tx.nonce > 1 && !is_reconfiguration(tx)).then(|| (tx.from, tx.nonce - 1))
}

impl Executor {
    /// An executor that chains each source's transfers in nonce order (the protocol's).
    pub fn new() -> Executor {
        Executor { chained: true, ..Executor::default() }
    }

    /// An executor that orders by the committed dependencies alone.
    pub fn unchained() -> Executor {
        Executor::default()
    }

    /// Planted bug `NonCanonicalSccOrder` (tests only): a component runs in the order the
    /// search met its commands, which follows commit arrival, instead of `canonical_key`.
    pub fn order_components_by_discovery(&mut self) {
        self.by_discovery = true;
    }

    /// The same executor, but blind to floors (the `IgnoreFloors` planted bug).
    pub fn ignoring_floors(self) -> Executor {
        Executor { ignore_floors: true, ..self }
    }

    /// Every id below this one has executed here.
    pub fn executed_prefix(&self) -> u64 {
        self.prefix
    }

    /// Records that `cmd` committed with dependencies `deps` (ids of other commands, possibly
    /// not committed yet, possibly never). A command commits once.
    pub fn commit(&mut self, cmd: Tx, deps: &[TxId]) {
        let id = cmd.id;
        assert!(!self.is_committed(id), "command {} committed twice", id.0);
        // Executed dependencies are satisfied for good; a self-dependency means nothing. A
        // floor is a dependency on every id below it: waited for as one missing dependency.
        let mut own: Vec<TxId> =
            deps.iter().copied().filter(|&d| d != id && !is_floor(d) && !self.is_executed(d)).collect();
        let floor = if self.ignore_floors { 0 } else { floor_of(deps) };
        let mut n_missing = 0u32;
        if floor > self.prefix {
            n_missing += 1;
            self.floor_waiting.entry(floor).or_default().push(id);
        }
        if let Some(key) = predecessor(&cmd).filter(|_| self.chained) {
            match self.by_nonce.remove(&key) {
                Some(before) if !self.is_executed(before) => own.push(before),
                Some(_) => {}
                None => {
                    n_missing += 1;
                    let other = self.missing_nonce.insert(key, id);
                    assert!(other.is_none(), "account {} nonce {} signed twice", cmd.from.0, cmd.nonce);
                }
            }
        }
        own.sort_unstable();
        own.dedup();
        for &d in &own {
            if !self.is_committed(d) {
                n_missing += 1;
                self.missing.entry(d).or_default().push(id);
            }
        }
        if self.slots.len() <= id.idx() {
            self.slots.resize_with(id.idx() + 1, || Slot::Absent);
        }
        let state = if n_missing == 0 { State::Pending } else { State::Waiting };
        self.slots[id.idx()] = Slot::Committed(Box::new(Node {
            tx: cmd,
            deps: own.into_boxed_slice(),
            n_missing,
            state,
            waiters: Vec::new(),
            index: 0,
            lowlink: 0,
            blocker: None,
        }));
        self.n_committed += 1;
        if state == State::Pending {
            self.worklist.push_back(id);
        }
        for dependent in self.missing.remove(&id).unwrap_or_default() {
            self.satisfy(dependent, id);
        }
        if self.chained && !is_reconfiguration(&cmd) {
            self.link_successor(&cmd);
        }
    }

    /// The chain edge out of `cmd`'s successor: given to it if it committed already (it was
    /// waiting), else kept until it commits.
    fn link_successor(&mut self, cmd: &Tx) {
        let key = (cmd.from, cmd.nonce);
        match self.missing_nonce.remove(&key) {
            Some(successor) => {
                let node = self.node_mut(successor);
                let mut deps = node.deps.to_vec();
                if let Err(at) = deps.binary_search(&cmd.id) {
                    deps.insert(at, cmd.id);
                }
                node.deps = deps.into_boxed_slice();
                self.satisfy(successor, cmd.id);
            }
            None => {
                let other = self.by_nonce.insert(key, cmd.id);
                assert!(other.is_none(), "account {} nonce {} signed twice", cmd.from.0, cmd.nonce);
            }
        }
    }

    /// `dependent` was waiting on `id`, which just committed.
    fn satisfy(&mut self, dependent: TxId, id: TxId) {
        let node = self.node_mut(dependent);
        assert!(node.state == State::Waiting && node.n_missing > 0, "{node:?} was waiting on {}", id.0);
        node.n_missing -= 1;
        if node.n_missing == 0 {
            node.state = State::Pending;
            self.worklist.push_back(dependent);
        }
    }

    /// Executes, in order, every command that became stable, calling `exec` once for each;
    /// returns how many ran. Dependencies run first; a component runs by `canonical_key`.
    pub fn execute_stable(&mut self, mut exec: impl FnMut(&Tx)) -> usize {
        let before = self.n_executed;
        loop {
            while let Some(id) = self.worklist.pop_front() {
                if matches!(self.slots.get(id.idx()), Some(Slot::Committed(n)) if n.state == State::Pending) {
                    self.search(id, &mut exec);
                }
            }
            if !self.release_floors() {
                break;
            }
        }
        usize::try_from(self.n_executed - before).expect("fits")
    }

    /// Moves the executed prefix on and releases the commands whose floor it reached; true
    /// if some became ready to run. A floor never closes a cycle (a correct replica executed
    /// everything below it before it saw the command, dependencies included), so releasing
    /// floors between searches loses nothing.
    fn release_floors(&mut self) -> bool {
        while matches!(self.slots.get(self.prefix as usize), Some(Slot::Executed)) {
            self.prefix += 1;
        }
        let mut released = false;
        while let Some(entry) = self.floor_waiting.first_entry().filter(|e| *e.key() <= self.prefix) {
            for id in entry.remove() {
                self.satisfy(id, TxId(self.prefix));
                released = true;
            }
        }
        released && !self.worklist.is_empty()
    }

    /// Ids recovery must get committed for every committed command to run, ascending and
    /// deduplicated: the missing (uncommitted) ids committed commands depend on directly, and
    /// the first uncommitted ids below the lowest floor still waited for.
    pub fn blocked_on(&self) -> Vec<TxId> {
        let mut ids: Vec<TxId> = self.missing.keys().copied().collect();
        if let Some(&floor) = self.floor_waiting.keys().next() {
            let gaps = (self.prefix..floor).map(TxId).filter(|&d| !self.is_committed(d));
            ids.extend(gaps.take(MAX_FLOOR_GAPS));
            ids.sort_unstable();
            ids.dedup();
        }
        ids
    }

    /// The committed commands that depend directly on the uncommitted `missing`.
    pub fn dependents_of_missing(&self, missing: TxId) -> &[TxId] {
        self.missing.get(&missing).map_or(&[], Vec::as_slice)
    }

    pub fn is_executed(&self, id: TxId) -> bool {
        matches!(self.slots.get(id.idx()), Some(Slot::Executed))
    }

    pub fn is_committed(&self, id: TxId) -> bool {
        matches!(self.slots.get(id.idx()), Some(Slot::Committed(_) | Slot::Executed))
    }

    pub fn committed_count(&self) -> u64 {
        self.n_committed
    }

    pub fn executed_count(&self) -> u64 {
        self.n_executed
    }

    /// Committed and not executed yet.
    pub fn pending_count(&self) -> u64 {
        self.n_committed - self.n_executed
    }

    /// Over the components executed so far: (components, commands, largest component size).
    pub fn component_stats(&self) -> (u64, u64, u64) {
        (self.n_components, self.n_executed, self.component_size_max)
    }

    /// Commands visited by searches so far: the executor's work, for counters and for tests
    /// that pin its complexity.
    pub fn visit_count(&self) -> u64 {
        self.n_visits
    }

    fn node(&self, id: TxId) -> &Node {
        match &self.slots[id.idx()] {
            Slot::Committed(node) => node,
            _ => panic!("command {} is not committed-and-unexecuted", id.0),
        }
    }

    fn node_mut(&mut self, id: TxId) -> &mut Node {
        match &mut self.slots[id.idx()] {
            Slot::Committed(node) => node,
            _ => panic!("command {} is not committed-and-unexecuted", id.0),
        }
    }

    /// Tarjan's algorithm from `root`, iterative (components and chains can be thousands
    /// long), over committed commands not executed and not known to be blocked. Each
    /// component is executed or marked blocked as soon as it is complete: components complete
    /// dependencies first.
    fn search<F: FnMut(&Tx)>(&mut self, root: TxId, exec: &mut F) {
        assert!(self.calls.is_empty() && self.tarjan_stack.is_empty());
        self.next_index = 0;
        self.enter(root);
        while let Some(&(v, pos)) = self.calls.last() {
            let next_dep = self.node(v).deps.get(pos).copied();
            if let Some(u) = next_dep {
                self.calls.last_mut().expect("non-empty").1 += 1;
                self.explore_edge(v, u);
                continue;
            }
            self.calls.pop();
            let node = self.node(v);
            if node.lowlink == node.index {
                self.complete_component(v, exec);
            }
            if let Some(&(parent, _)) = self.calls.last() {
                self.return_to_parent(parent, v);
            }
        }
        assert!(self.tarjan_stack.is_empty());
    }

    fn enter(&mut self, id: TxId) {
        let index = self.next_index;
        self.next_index += 1;
        self.n_visits += 1;
        let node = self.node_mut(id);
        assert!(matches!(node.state, State::Pending | State::Blocked { .. }), "{node:?} entered");
        assert_eq!(node.n_missing, 0);
        node.state = State::Visiting;
        node.index = index;
        node.lowlink = index;
        node.blocker = None;
        self.tarjan_stack.push(id);
        self.calls.push((id, 0));
    }

    /// The edge "v depends on u".
    fn explore_edge(&mut self, v: TxId, u: TxId) {
        let u_state = match self.slots.get(u.idx()) {
            Some(Slot::Executed) => return,
            Some(Slot::Committed(node)) => node.state,
            _ => panic!("command {} searched with uncommitted dependency {}", v.0, u.0),
        };
        match u_state {
            State::Visiting => {
                let u_index = self.node(u).index;
                let node = self.node_mut(v);
                node.lowlink = node.lowlink.min(u_index);
            }
            State::Pending => self.enter(u),
            State::Waiting => self.node_mut(v).blocker = Some(u),
            State::Blocked { .. } => {
                let end = self.find_end(u);
                if self.node(end).state == State::Waiting {
                    self.node_mut(v).blocker = Some(end);
                } else {
                    // Behind a command being re-examined: u's record proves nothing now.
                    self.enter(u);
                }
            }
        }
    }

    /// After `child` is done: same component (still on the stack), or a finished one that
    /// either ran or is blocked (then so is the parent).
    fn return_to_parent(&mut self, parent: TxId, child: TxId) {
        match &self.slots[child.idx()] {
            Slot::Executed => {}
            Slot::Committed(node) => match node.state {
                State::Visiting => {
                    let child_lowlink = node.lowlink;
                    let p = self.node_mut(parent);
                    p.lowlink = p.lowlink.min(child_lowlink);
                }
                State::Blocked { behind } => self.node_mut(parent).blocker = Some(behind),
                state => panic!("command {} finished a search as {state:?}", child.0),
            },
            Slot::Absent => panic!("command {} searched but absent", child.0),
        }
    }

    /// Follows `behind` pointers from the blocked `start` to the first command not blocked
    /// (`Waiting`, `Pending` or `Visiting`) and points every command on the way straight at it.
    fn find_end(&mut self, start: TxId) -> TxId {
        let mut end = start;
        let mut steps = 0usize;
        while let State::Blocked { behind } = self.node(end).state {
            end = behind;
            steps += 1;
            assert!(steps <= self.slots.len(), "a cycle of blocked pointers from {}", start.0);
        }
        let mut at = start;
        while at != end {
            let State::Blocked { behind } = self.node(at).state else { unreachable!() };
            if behind != end {
                self.node_mut(at).state = State::Blocked { behind: end };
                self.node_mut(end).waiters.push(at);
            }
            at = behind;
        }
        end
    }

    /// `v` is the root of a complete component: run it, or mark it blocked behind what one of
    /// its members reaches.
    fn complete_component<F: FnMut(&Tx)>(&mut self, v: TxId, exec: &mut F) {
        let mut component = std::mem::take(&mut self.component);
        component.clear();
        loop {
            let m = self.tarjan_stack.pop().expect("the root is on the stack");
            component.push(m);
            if m == v {
                break;
            }
        }
        match component.iter().find_map(|&m| self.node(m).blocker) {
            Some(behind) => self.block_component(&component, behind),
            None => self.run_component(&mut component, v, exec),
        }
        self.component = component;
    }

    fn block_component(&mut self, component: &[TxId], behind: TxId) {
        assert_eq!(self.node(behind).state, State::Waiting, "blocked behind a command that can run");
        for &m in component {
            self.node_mut(m).state = State::Blocked { behind };
        }
        self.node_mut(behind).waiters.extend_from_slice(component);
    }

    fn run_component<F: FnMut(&Tx)>(&mut self, component: &mut [TxId], root: TxId, exec: &mut F) {
        // Stability (invariant 7): every dependency has run, or is in this component (the
        // commands still `Visiting` numbered from the root on).
        let root_index = self.node(root).index;
        for &m in component.iter() {
            for &d in self.node(m).deps.iter() {
                let ok = match &self.slots[d.idx()] {
                    Slot::Executed => true,
                    Slot::Committed(node) => node.state == State::Visiting && node.index >= root_index,
                    Slot::Absent => false,
                };
                assert!(ok, "command {} would run before its dependency {}", m.0, d.0);
            }
        }
        if !self.by_discovery {
            component.sort_unstable_by_key(|&m| canonical_key(&self.node(m).tx));
        }
        for &m in component.iter() {
            exec(&self.node(m).tx);
        }
        for &m in component.iter() {
            let Slot::Committed(node) = std::mem::replace(&mut self.slots[m.idx()], Slot::Executed) else {
                unreachable!()
            };
            for w in node.waiters {
                // Stale entries (the waiter moved on since) are skipped.
                if let Slot::Committed(waiter) = &mut self.slots[w.idx()]
                    && waiter.state == (State::Blocked { behind: m })
                {
                    waiter.state = State::Pending;
                    self.worklist.push_back(w);
                }
            }
        }
        let size = component.len() as u64;
        self.n_executed += size;
        self.n_components += 1;
        self.component_size_max = self.component_size_max.max(size);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use sim_core::NodeId;
    use sim_core::digest::splitmix64;

    use super::*;
    use crate::ledger::{ConflictRelation, Ledger, Outcome, Settlement};
    use sim_core::SimRng;

    /// A SplitMix64 sequence: enough randomness for shuffles and graphs, pinned by its seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            splitmix64(self.0)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn shuffle<T>(&mut self, items: &mut [T]) {
            for i in (1..items.len()).rev() {
                let j = self.below(i as u64 + 1) as usize;
                items.swap(i, j);
            }
        }
    }

    fn cmd(id: u64, from: u32, to: u32, nonce: u64) -> Tx {
        Tx {
            id: TxId(id),
            client: NodeId(10 + (id % 3) as u32),
            from: AccountId(from),
            to: AccountId(to),
            amount: 1,
            nonce,
            size_bytes: 100,
        }
    }

    fn deps(ids: &[u64]) -> Vec<TxId> {
        ids.iter().map(|&i| TxId(i)).collect()
    }

    /// Runs what is stable and returns the ids run, in order.
    fn run(ex: &mut Executor) -> Vec<u64> {
        let mut ran = Vec::new();
        let n = ex.execute_stable(|tx| ran.push(tx.id.0));
        assert_eq!(n, ran.len());
        ran
    }

    #[test]
    fn chain_runs_dependencies_first() {
        let txs = [cmd(0, 0, 1, 1), cmd(1, 1, 2, 1), cmd(2, 2, 0, 1)];
        let chain_deps = [deps(&[]), deps(&[0]), deps(&[1])];

        let mut ex = Executor::unchained();
        ex.commit(txs[2], &chain_deps[2]);
        assert_eq!(run(&mut ex), Vec::<u64>::new());
        assert_eq!(ex.blocked_on(), deps(&[1]));
        ex.commit(txs[1], &chain_deps[1]);
        assert_eq!(run(&mut ex), Vec::<u64>::new());
        assert_eq!(ex.blocked_on(), deps(&[0]));
        assert!(ex.is_committed(TxId(1)) && !ex.is_executed(TxId(1)));
        ex.commit(txs[0], &chain_deps[0]);
        assert_eq!(run(&mut ex), vec![0, 1, 2]);
        assert_eq!(ex.blocked_on(), Vec::<TxId>::new());
        assert!(ex.is_executed(TxId(1)));
        assert_eq!((ex.executed_count(), ex.pending_count()), (3, 0));

        // In commit order, each runs as it commits.
        let mut ex = Executor::unchained();
        for i in 0..3 {
            ex.commit(txs[i], &chain_deps[i]);
            assert_eq!(run(&mut ex), vec![i as u64]);
        }
        assert_eq!(run(&mut ex), Vec::<u64>::new());
    }

    #[test]
    fn cycle_of_two_runs_in_canonical_order() {
        // Canonical key (from, nonce, id): account 1 before account 3, whatever the ids.
        let a = cmd(5, 3, 1, 1);
        let b = cmd(2, 1, 3, 4);
        for first_a in [true, false] {
            let mut ex = Executor::unchained();
            let order = if first_a { [(a, 2), (b, 5)] } else { [(b, 5), (a, 2)] };
            ex.commit(order[0].0, &deps(&[order[0].1]));
            assert_eq!(run(&mut ex), Vec::<u64>::new());
            ex.commit(order[1].0, &deps(&[order[1].1]));
            assert_eq!(run(&mut ex), vec![2, 5]);
            assert_eq!(ex.component_stats(), (1, 2, 2));
        }
        // Two transfers of one account run in nonce order, not id order.
        let mut ex = Executor::unchained();
        ex.commit(cmd(0, 7, 1, 2), &deps(&[1]));
        ex.commit(cmd(1, 7, 2, 1), &deps(&[0]));
        assert_eq!(run(&mut ex), vec![1, 0]);
    }

    #[test]
    fn cycle_of_three_runs_in_canonical_order_whatever_the_commit_order() {
        // 0 -> 1 -> 2 -> 0; keys: 2 (account 0) < 0 (account 1, nonce 1) < 1 (account 1, nonce 2).
        let txs = [cmd(0, 1, 0, 1), cmd(1, 1, 2, 2), cmd(2, 0, 2, 1)];
        let cycle_deps = [deps(&[1]), deps(&[2]), deps(&[0])];
        let permutations = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        for order in permutations {
            let mut ex = Executor::unchained();
            for (k, &i) in order.iter().enumerate() {
                ex.commit(txs[i], &cycle_deps[i]);
                let ran = run(&mut ex);
                if k < 2 {
                    assert!(ran.is_empty(), "{order:?}: ran {ran:?} before the cycle committed");
                } else {
                    assert_eq!(ran, vec![2, 0, 1], "{order:?}");
                }
            }
            assert_eq!(ex.component_stats(), (1, 3, 3));
        }
    }

    #[test]
    fn large_cycle_runs_as_one_component_without_recursion() {
        let n = 10_000u64;
        let mut ex = Executor::unchained();
        let mut nonces = [0u64; 100];
        let mut txs = Vec::new();
        for i in 0..n {
            let from = (i * 7919 % 100) as u32;
            nonces[from as usize] += 1;
            txs.push(cmd(i, from, (from + 1) % 100, nonces[from as usize]));
        }
        for tx in &txs {
            ex.commit(*tx, &[TxId((tx.id.0 + 1) % n)]);
            if tx.id.0 + 1 < n {
                assert_eq!(ex.execute_stable(|_| {}), 0);
            }
        }
        let ran = run(&mut ex);
        let mut expected = txs.clone();
        expected.sort_by_key(canonical_key);
        assert_eq!(ran, expected.iter().map(|t| t.id.0).collect::<Vec<_>>());
        assert_eq!(ex.component_stats(), (1, n, n));
        assert!(ex.visit_count() <= 3 * n, "{} visits", ex.visit_count());
    }

    #[test]
    fn long_chain_committed_in_reverse_costs_linear_work() {
        let n = 20_000u64;
        let mut ex = Executor::unchained();
        for i in (0..n).rev() {
            let d = if i == 0 { vec![] } else { deps(&[i - 1]) };
            ex.commit(cmd(i, (i % 50) as u32, 0, 1 + i / 50), &d);
            let ran = run(&mut ex);
            if i > 0 {
                assert!(ran.is_empty());
                assert_eq!(ex.blocked_on(), deps(&[i - 1]));
            } else {
                assert_eq!(ran, (0..n).collect::<Vec<_>>());
            }
        }
        assert_eq!(ex.component_stats(), (n, n, 1));
        assert!(ex.visit_count() <= 3 * n, "{} visits", ex.visit_count());
    }

    #[test]
    fn chain_behind_a_missing_root_costs_linear_work() {
        let n = 20_000u64;
        let mut ex = Executor::unchained();
        for i in 1..=n {
            ex.commit(cmd(i, (i % 50) as u32, 0, 1 + i / 50), &deps(&[i - 1]));
            assert!(run(&mut ex).is_empty());
        }
        assert_eq!(ex.blocked_on(), deps(&[0]));
        assert_eq!(ex.pending_count(), n);
        ex.commit(cmd(0, 0, 1, 1), &[]);
        assert_eq!(run(&mut ex), (0..=n).collect::<Vec<_>>());
        assert!(ex.visit_count() <= 3 * n, "{} visits", ex.visit_count());
    }

    #[test]
    fn missing_dependency_blocks_only_its_dependents() {
        let far = 1u64 << 40; // an invented id: must not size any table
        let mut ex = Executor::unchained();
        ex.commit(cmd(0, 0, 1, 1), &deps(&[99])); // waits on 99
        ex.commit(cmd(1, 1, 2, 1), &deps(&[0])); // behind 0
        ex.commit(cmd(2, 3, 4, 1), &[]);
        ex.commit(cmd(3, 4, 5, 1), &deps(&[2]));
        ex.commit(cmd(4, 2, 5, 1), &deps(&[1, 3]));
        ex.commit(cmd(5, 6, 7, 1), &deps(&[far, 99]));
        assert_eq!(run(&mut ex), vec![2, 3]);
        assert_eq!(ex.blocked_on(), deps(&[99, far]));
        assert_eq!(ex.dependents_of_missing(TxId(99)), &deps(&[0, 5])[..]);
        assert_eq!(ex.dependents_of_missing(TxId(far)), &deps(&[5])[..]);
        assert_eq!(ex.dependents_of_missing(TxId(7)), &[][..]);
        assert_eq!(ex.pending_count(), 4);

        // Unrelated commands keep running.
        ex.commit(cmd(6, 8, 9, 1), &deps(&[2]));
        assert_eq!(run(&mut ex), vec![6]);

        // Recovery commits 99: its dependents run, except 5, still behind the invented id.
        ex.commit(cmd(99, 0, 6, 2), &[]);
        assert_eq!(run(&mut ex), vec![99, 0, 1, 4]);
        assert_eq!(ex.blocked_on(), deps(&[far]));
        assert!(!ex.is_executed(TxId(5)) && ex.is_committed(TxId(5)));
        assert!(!ex.is_committed(TxId(far)));
        assert_eq!(ex.executed_count(), 7);
    }

    #[test]
    fn dependencies_on_executed_commands_are_satisfied() {
        let mut ex = Executor::unchained();
        ex.commit(cmd(0, 0, 1, 1), &[]);
        assert_eq!(run(&mut ex), vec![0]);
        // Duplicates and a self-dependency are harmless.
        ex.commit(cmd(1, 0, 1, 2), &deps(&[0, 0, 1]));
        assert_eq!(run(&mut ex), vec![1]);
        assert_eq!(run(&mut ex), Vec::<u64>::new());
        assert_eq!(ex.component_stats(), (2, 2, 1));
    }

    #[test]
    #[should_panic(expected = "committed twice")]
    fn committing_twice_panics() {
        let mut ex = Executor::unchained();
        ex.commit(cmd(0, 0, 1, 1), &[]);
        run(&mut ex);
        ex.commit(cmd(0, 0, 1, 1), &[]);
    }

    #[test]
    fn blocked_on_is_sorted_and_deduplicated() {
        let mut ex = Executor::unchained();
        ex.commit(cmd(0, 0, 1, 1), &deps(&[7, 3, 7]));
        ex.commit(cmd(1, 1, 2, 1), &deps(&[5, 3]));
        ex.commit(cmd(2, 2, 3, 1), &deps(&[0]));
        assert_eq!(ex.blocked_on(), deps(&[3, 5, 7]));
        ex.commit(cmd(5, 5, 6, 1), &[]);
        assert_eq!(run(&mut ex), vec![5]);
        assert_eq!(ex.blocked_on(), deps(&[3, 7]));
    }

    #[test]
    fn component_stats_summarize_components() {
        let mut ex = Executor::unchained();
        assert_eq!(ex.component_stats(), (0, 0, 0));
        // {0}, {1, 2}, {3, 4, 5}: three components, six commands, the largest of three.
        ex.commit(cmd(0, 0, 1, 1), &[]);
        ex.commit(cmd(1, 1, 2, 1), &deps(&[0, 2]));
        ex.commit(cmd(2, 2, 3, 1), &deps(&[1]));
        ex.commit(cmd(3, 3, 4, 1), &deps(&[4, 2]));
        ex.commit(cmd(4, 4, 5, 1), &deps(&[5]));
        ex.commit(cmd(5, 5, 6, 1), &deps(&[3]));
        assert_eq!(run(&mut ex), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(ex.component_stats(), (3, 6, 3));
    }

    /// A random dependency graph as the protocol guarantees it: every conflicting pair has an
    /// edge in at least one direction (sometimes both, making components), and some pairs that
    /// do not conflict get an edge too (a Byzantine replica may add real, irrelevant ones).
    struct Graph {
        txs: Vec<Tx>,
        deps: Vec<Vec<TxId>>,
        /// reach[c][d]: c depends on d transitively (reflexive).
        reach: Vec<Vec<bool>>,
    }

    fn random_graph(rng: &mut Rng, relation: ConflictRelation) -> Graph {
        let n = 2 + rng.below(60) as usize;
        let n_accounts = 2 + rng.below(6) as u32;
        let mut nonces = vec![0u64; n_accounts as usize];
        let mut txs = Vec::new();
        for id in 0..n as u64 {
            let from = rng.below(n_accounts as u64) as u32;
            let to = if rng.below(10) == 0 { from } else { rng.below(n_accounts as u64) as u32 };
            nonces[from as usize] += 1;
            let tx = Tx {
                id: TxId(id),
                client: NodeId(100 + rng.below(4) as u32),
                from: AccountId(from),
                to: AccountId(to),
                amount: rng.below(300),
                nonce: nonces[from as usize],
                size_bytes: 100,
            };
            txs.push(tx);
        }
        let mut deps = vec![Vec::new(); n];
        for j in 0..n {
            for i in 0..j {
                if relation.conflicts(&txs[i], &txs[j]) {
                    match rng.below(10) {
                        0..=5 => deps[j].push(TxId(i as u64)),
                        6 | 7 => deps[i].push(TxId(j as u64)),
                        _ => {
                            deps[j].push(TxId(i as u64));
                            deps[i].push(TxId(j as u64));
                        }
                    }
                } else if rng.below(30) == 0 {
                    deps[j].push(TxId(i as u64));
                }
            }
        }
        let reach = (0..n)
            .map(|c| {
                let mut seen = vec![false; n];
                let mut todo = vec![c];
                seen[c] = true;
                while let Some(x) = todo.pop() {
                    for d in &deps[x] {
                        if !seen[d.idx()] {
                            seen[d.idx()] = true;
                            todo.push(d.idx());
                        }
                    }
                }
                seen
            })
            .collect();
        Graph { txs, deps, reach }
    }

    /// Commits `order` (indices, possibly leaving some out) into a fresh executor, running
    /// what is stable at random points, and checks invariant 7 at each run: a command runs
    /// once, after its transitive dependencies committed, and after its dependencies ran
    /// unless they share its component. Returns the execution order and the executor.
    fn feed(g: &Graph, order: &[usize], rng: &mut Rng) -> (Vec<usize>, Executor) {
        let n = g.txs.len();
        let mut ex = Executor::unchained();
        let mut committed = vec![false; n];
        let mut position = vec![usize::MAX; n];
        let mut out = Vec::new();
        for (k, &c) in order.iter().enumerate() {
            ex.commit(g.txs[c], &g.deps[c]);
            committed[c] = true;
            if rng.below(3) != 0 && k + 1 < order.len() {
                continue;
            }
            let mut ran = Vec::new();
            ex.execute_stable(|tx| ran.push(tx.id.idx()));
            for c in ran {
                assert_eq!(position[c], usize::MAX, "{c} ran twice");
                assert!((0..n).all(|d| !g.reach[c][d] || committed[d]), "{c} ran before it was stable");
                for d in &g.deps[c] {
                    let same_component = g.reach[d.idx()][c];
                    assert!(position[d.idx()] != usize::MAX || same_component, "{c} ran before {}", d.0);
                }
                position[c] = out.len();
                out.push(c);
            }
        }
        // Inside a component: canonical order.
        for &c in &out {
            for &d in &out {
                if g.reach[c][d] && g.reach[d][c] && canonical_key(&g.txs[c]) < canonical_key(&g.txs[d]) {
                    assert!(position[c] < position[d], "component order: {c} after {d}");
                }
            }
        }
        (out, ex)
    }

    fn shuffled(n: usize, rng: &mut Rng) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut order);
        order
    }

    fn ledger_after(g: &Graph, out: &[usize]) -> Ledger {
        let mut ledger = Ledger::new(500);
        for &c in out {
            ledger.apply(&g.txs[c]);
        }
        assert_eq!(ledger.check_conservation(), Ok(()));
        ledger
    }

    /// Invariants 6, 7 and 9 over 200 random graphs per relation: two executors fed the same
    /// commits in different orders run every command once, only when stable, conflicting
    /// commands in the same relative order (for the shared-account relation: the same order
    /// per account), and reach the same ledger state.
    #[test]
    fn random_graphs_agree_across_commit_orders() {
        let mut rng = Rng(2024);
        for relation in [ConflictRelation::SharedAccount, ConflictRelation::CreditsCommute] {
            let mut n_components_shared = 0;
            for graph_idx in 0..200 {
                let g = random_graph(&mut rng, relation);
                let n = g.txs.len();
                let (out_a, ex_a) = feed(&g, &shuffled(n, &mut rng), &mut rng);
                let (out_b, ex_b) = feed(&g, &shuffled(n, &mut rng), &mut rng);
                for (out, ex) in [(&out_a, &ex_a), (&out_b, &ex_b)] {
                    assert_eq!(out.len(), n, "graph {graph_idx}: every command runs");
                    assert_eq!(ex.executed_count(), n as u64);
                    assert!(ex.blocked_on().is_empty());
                }
                let mut pos_a = vec![0; n];
                let mut pos_b = vec![0; n];
                for k in 0..n {
                    pos_a[out_a[k]] = k;
                    pos_b[out_b[k]] = k;
                }
                for c in 0..n {
                    for d in 0..c {
                        if relation.conflicts(&g.txs[c], &g.txs[d]) {
                            assert_eq!(pos_a[c] < pos_a[d], pos_b[c] < pos_b[d], "graph {graph_idx}: {c} vs {d}");
                        }
                    }
                }
                if relation == ConflictRelation::SharedAccount {
                    let accounts: BTreeSet<AccountId> = g.txs.iter().flat_map(|t| [t.from, t.to]).collect();
                    for a in accounts {
                        let on = |out: &[usize]| -> Vec<usize> {
                            out.iter().copied().filter(|&c| g.txs[c].from == a || g.txs[c].to == a).collect()
                        };
                        assert_eq!(on(&out_a), on(&out_b), "graph {graph_idx}: account {a:?}");
                    }
                }
                assert_eq!(ledger_after(&g, &out_a).state_digest(), ledger_after(&g, &out_b).state_digest());
                n_components_shared += (ex_a.component_stats().2 > 1) as u32;
            }
            // The generator does make multi-command components.
            assert!(n_components_shared > 100, "{relation:?}: {n_components_shared}");
        }
    }

    /// Commands that are never committed block exactly the commands that reach them; every
    /// other command runs, and `blocked_on` names exactly the lost commands some committed
    /// command depends on. Committing the lost ones (recovery) then runs everything.
    #[test]
    fn random_graphs_with_lost_commands_block_exactly_their_dependents() {
        let mut rng = Rng(77);
        for graph_idx in 0..200 {
            let g = random_graph(&mut rng, ConflictRelation::SharedAccount);
            let n = g.txs.len();
            let lost: Vec<bool> = (0..n).map(|_| rng.below(8) == 0).collect();
            let order: Vec<usize> = shuffled(n, &mut rng).into_iter().filter(|&c| !lost[c]).collect();
            let (out, mut ex) = feed(&g, &order, &mut rng);
            let ran: BTreeSet<usize> = out.iter().copied().collect();
            let expected: BTreeSet<usize> =
                (0..n).filter(|&c| !lost[c] && (0..n).all(|d| !g.reach[c][d] || !lost[d])).collect();
            assert_eq!(ran, expected, "graph {graph_idx}");
            let blocking: BTreeSet<TxId> = (0..n)
                .filter(|&c| !lost[c])
                .flat_map(|c| g.deps[c].iter().copied())
                .filter(|d| lost[d.idx()])
                .collect();
            assert_eq!(ex.blocked_on(), blocking.into_iter().collect::<Vec<_>>(), "graph {graph_idx}");

            for c in (0..n).filter(|&c| lost[c]) {
                ex.commit(g.txs[c], &g.deps[c]);
            }
            ex.execute_stable(|_| {});
            assert_eq!(ex.executed_count(), n as u64, "graph {graph_idx}");
            assert!(ex.blocked_on().is_empty());
        }
    }

    // ---- chains of one source's transfers (issue 11, bug 2); the tests above use arbitrary
    // nonces and the unchained executor ----

    #[test]
    fn a_later_nonce_waits_for_the_earlier_one_and_runs_after_it() {
        let mut ex = Executor::new();
        // Nonce 2 first, with no dependency at all: it waits for nonce 1 anyway.
        ex.commit(cmd(0, 7, 1, 2), &[]);
        assert!(run(&mut ex).is_empty());
        assert!(ex.blocked_on().is_empty(), "nonce 1's id is unknown: nothing to fetch");
        ex.commit(cmd(1, 2, 3, 1), &[]);
        assert_eq!(run(&mut ex), vec![1]);
        ex.commit(cmd(5, 7, 2, 1), &[]);
        assert_eq!(run(&mut ex), vec![5, 0]);
        // Committed after its predecessor ran: no edge needed.
        ex.commit(cmd(6, 7, 2, 3), &[]);
        assert_eq!(run(&mut ex), vec![6]);
    }

    #[test]
    fn nonces_ordered_backwards_by_the_dependencies_run_in_nonce_order() {
        // Discovery ordered nonce 2 (id 0) first: nonce 1 (id 1) depends on it, and a third
        // command (id 2) depends on nonce 2 only. Unchained, nonce 2 runs first and the third
        // command may run before nonce 1; chained, nonce 1 and 2 form a component and both run
        // before the third, whatever the commit order.
        let txs = [cmd(0, 7, 1, 2), cmd(1, 7, 2, 1), cmd(2, 1, 3, 1)];
        let edges = [deps(&[]), deps(&[0]), deps(&[0])];
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        for order in orders {
            let mut ex = Executor::new();
            let mut ran = Vec::new();
            for i in order {
                ex.commit(txs[i], &edges[i]);
                ran.extend(run(&mut ex));
            }
            assert_eq!(ran, vec![1, 0, 2], "{order:?}");
        }
        let mut ex = Executor::unchained();
        for i in [0, 2, 1] {
            ex.commit(txs[i], &edges[i]);
        }
        assert_eq!(run(&mut ex), vec![0, 2, 1], "without chains the third runs between");
    }

    #[test]
    #[should_panic(expected = "signed twice")]
    fn two_commands_with_one_nonce_are_refused() {
        let mut ex = Executor::new();
        ex.commit(cmd(0, 7, 1, 1), &[]);
        ex.commit(cmd(1, 7, 2, 1), &[]);
    }

    /// Issue 11's property: the executor and ledger together are a function of the committed
    /// graph. Random graphs of transfers (few accounts, genesis 100, amounts up to 120, so funds
    /// run out; each source's nonces 1, 2, 3... by id; every conflicting pair ordered one way,
    /// the other or both, at random, so nonces are often ordered backwards; some irrelevant
    /// real edges) are delivered to several executors in random commit orders, running what is
    /// stable at random points. Every delivery must settle every transfer the same way (outcome,
    /// source state, destination nonce, and destination balance when credits are ordered) and
    /// end in the same state. The old design (unchained, ledger holding nonces) must fail the
    /// same property on some graphs, or the property proves nothing.
    #[test]
    fn every_delivery_order_settles_every_transfer_the_same_way() {
        let mut rng = sim_core::Streams::new(11).stream("exec-determinism");
        let mut diverged_held = 0;
        let mut rejected = 0u64;
        let mut backwards = 0u64;
        let mut cases = 0;
        for relation in [ConflictRelation::SharedAccount, ConflictRelation::CreditsCommute] {
            for case in 0..150 {
                let (txs, edges) = ledger_graph(&mut rng, relation);
                backwards += count_backwards(&txs, &edges);
                let reference = deliver(&txs, &edges, Design::Chained, relation, &mut rng);
                rejected += reference.0.iter().filter(|s| s.outcome != Outcome::Applied).count() as u64;
                for _ in 0..4 {
                    let other = deliver(&txs, &edges, Design::Chained, relation, &mut rng);
                    assert_eq!(other, reference, "{relation:?} case {case}");
                }
                let held = (0..4).map(|_| deliver(&txs, &edges, Design::Held, relation, &mut rng));
                diverged_held += held.into_iter().any(|r| r != reference) as u32;
                cases += 1;
            }
        }
        assert!(rejected > 100 && backwards > 100, "the generator exercises funds and reversed nonces");
        // 7 of 300 with this seed: a divergence needs a command that reads an account the
        // held transfer credits, run between the hold and its release at one delivery only.
        assert!(diverged_held >= 5, "the held-nonce design diverges on {diverged_held} of {cases} graphs");
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Design {
        /// Chained executor, `Ledger::settle` (the fix).
        Chained,
        /// Unchained executor, `Ledger::execute` holding nonces (before the fix).
        Held,
    }

    fn ledger_graph(rng: &mut SimRng, relation: ConflictRelation) -> (Vec<Tx>, Vec<Vec<TxId>>) {
        let n = 2 + rng.below(30) as usize;
        let n_accounts = 2 + rng.below(4);
        let mut nonces = vec![0u64; n_accounts as usize];
        let txs: Vec<Tx> = (0..n as u64)
            .map(|id| {
                let from = rng.below(n_accounts) as u32;
                let to = if rng.below(8) == 0 { from } else { rng.below(n_accounts) as u32 };
                nonces[from as usize] += 1;
                Tx { amount: rng.below(121), ..cmd(id, from, to, nonces[from as usize]) }
            })
            .collect();
        let mut edges = vec![Vec::new(); n];
        for j in 0..n {
            for i in 0..j {
                if relation.conflicts(&txs[i], &txs[j]) {
                    match rng.below(10) {
                        0..=4 => edges[j].push(TxId(i as u64)),
                        5..=7 => edges[i].push(TxId(j as u64)),
                        _ => {
                            edges[j].push(TxId(i as u64));
                            edges[i].push(TxId(j as u64));
                        }
                    }
                } else if rng.below(30) == 0 {
                    edges[j].push(TxId(i as u64));
                }
            }
        }
        (txs, edges)
    }

    /// Pairs of one source's transfers whose later nonce the dependencies order first only.
    fn count_backwards(txs: &[Tx], edges: &[Vec<TxId>]) -> u64 {
        let depends = |a: usize, b: usize| edges[a].contains(&TxId(b as u64));
        let mut count = 0;
        for (i, a) in txs.iter().enumerate() {
            for (j, b) in txs.iter().enumerate() {
                if a.from == b.from && a.nonce < b.nonce && depends(i, j) && !depends(j, i) {
                    count += 1;
                }
            }
        }
        count
    }

    /// Commits every command in a random order, running what is stable at random points; the
    /// settlement of each command (by id, the part replicas must agree on) and the final state.
    fn deliver(
        txs: &[Tx],
        edges: &[Vec<TxId>],
        design: Design,
        relation: ConflictRelation,
        rng: &mut SimRng,
    ) -> (Vec<Settlement>, u64) {
        let n = txs.len();
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let mut ex = if design == Design::Chained { Executor::new() } else { Executor::unchained() };
        let mut ledger = Ledger::new(100);
        let mut settled: Vec<Option<Settlement>> = vec![None; n];
        for (k, &c) in order.iter().enumerate() {
            ex.commit(txs[c], &edges[c]);
            if rng.below(3) != 0 && k + 1 < n {
                continue;
            }
            ex.execute_stable(|tx| {
                let mut record = |t: &Tx, s: Settlement| {
                    let mut s = s;
                    if relation == ConflictRelation::CreditsCommute && t.from != t.to {
                        s.dst.balance = 0; // other credits commute with this one
                    }
                    assert!(settled[t.id.idx()].replace(s).is_none(), "{} settled twice", t.id.0);
                };
                match design {
                    Design::Chained => record(tx, ledger.settle(tx)),
                    Design::Held => ledger.execute(tx, record),
                }
            });
        }
        assert_eq!(ex.executed_count(), n as u64, "every command runs");
        let settled = settled.into_iter().map(|s| s.expect("every command settles")).collect();
        (settled, ledger.state_digest())
    }
}
