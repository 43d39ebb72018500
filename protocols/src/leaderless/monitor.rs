//! The leaderless protocol's invariant monitor: the design note's protocol invariants, checked
//! online over what correct replicas report (invariant 10, liveness, is the engine's check).
//!
//! Checked here: 1 agreement, 2 consistency, 3 validity, 4 fast-path value, 5 one decision per
//! command, 6 the same order per account, 7 execution once and only when stable, 9 the same
//! state for the same executed set, and per transaction the same result at every correct
//! replica (outcome, and the state it left in the accounts whose operations are ordered with
//! it). Invariant 9 alone compares only replicas that reach an identical executed set, which
//! under continuous load may never happen; the per-transaction check catches a divergence at
//! the first command settled differently. Invariant 8 (supply, nonces 1, 2, 3...) is the
//! ledger's own arithmetic: the ledger asserts it, no protocol bug can break it.
//!
//! Consistency is transitive where the direct check fails, for commits whose answers name
//! anchors (`LlRecord::Committed::anchored`, the EPaxos variant): an answer names an account's
//! anchor (its last executed command) rather than every command before it, so two conflicting
//! commands may be ordered only through a path. Wintermute keeps the direct check, which its
//! answers guarantee. A search of the committed graph (named
//! dependencies, floors, and the executor's chain edges from a transfer to its source's
//! previous nonce) runs only for the pairs not ordered directly, from the newly committed
//! command both ways, and stops once every such pair is found: at most O(V + E) of the
//! committed graph per commit, as the pairwise scan of the account's committed commands is
//! O(commands on the account).

use std::collections::BTreeMap;
use std::rc::Rc;

use sim_core::checker::Violation;
use sim_core::observe::Observer;
use sim_core::{AccountId, Monitor, NodeId, Time, Tx, TxId, TxSet};

use super::types::{CommitPath, LlRecord, floor_of, named, value_digest};
use crate::common::results::{ResultCheck, SAME_RESULT};
use crate::ledger::{ConflictRelation, Settlement, is_reconfiguration};

/// The first commit of a command by a correct replica.
#[derive(Debug)]
struct FirstCommit {
    tx: Tx,
    /// Sorted, for membership tests.
    deps: Rc<[TxId]>,
    /// Every id below it is ordered before the command (Wintermute's pruning; 0 if none).
    floor: u64,
    value: u64,
    fast: bool,
}

/// What the monitor tracks per correct replica.
#[derive(Debug, Default)]
struct ReplicaView {
    committed: TxSet,
    executed: TxSet,
    /// Every id below it executed here.
    prefix: u64,
    /// Executed since the last batch record: checked for stability when the batch closes.
    batch: Vec<TxId>,
    /// Per account touched: how far into the reference order this replica executed.
    position: BTreeMap<usize, u32>,
}

#[derive(Debug, Default)]
struct Tally {
    fast: u64,
    slow: u64,
    recoveries: u64,
    recovered_commands: u64,
    deps_total: u64,
    deps_max: u64,
    epoch: u32,
}

#[derive(Debug)]
pub struct LeaderlessMonitor {
    conflicts: ConflictRelation,
    first: BTreeMap<TxId, FirstCommit>,
    decided: BTreeMap<TxId, u64>,
    /// Per account, committed commands touching it (for the consistency check).
    by_account: BTreeMap<usize, Vec<TxId>>,
    /// Per account, the order of its ordered operations as the furthest replica executed them.
    reference: BTreeMap<usize, Vec<TxId>>,
    replicas: Vec<ReplicaView>,
    /// Executed set (as a hash) -> ledger state digest.
    states: BTreeMap<u64, u64>,
    /// Per settled command, the first correct replica's result: one entry per command,
    /// whatever the replicas.
    results: ResultCheck,
    recovering: TxSet,
    /// Committed reconfigurations: they conflict with every command.
    barriers: Vec<TxId>,
    /// The committed graph's edges the other way round: per id, the committed commands that
    /// name it (for the transitive consistency check).
    dependents: BTreeMap<TxId, Vec<TxId>>,
    /// (source, nonce) -> the committed transfer: the executor's chain edges (nonce k runs
    /// after nonce k-1) are part of the graph it orders.
    by_nonce: BTreeMap<(AccountId, u64), TxId>,
    tally: Tally,
    /// After the first violation the run stops; what follows in the same handler is not checked.
    violated: bool,
}

/// The entry of account `i`, created empty: maps by account stay as small as the accounts a
/// run touches (up to 2^32 exist).
fn grow<T: Default>(m: &mut BTreeMap<usize, T>, i: usize) -> &mut T {
    m.entry(i).or_default()
}

impl LeaderlessMonitor {
    pub fn new(n_replicas: u32, conflicts: ConflictRelation) -> LeaderlessMonitor {
        LeaderlessMonitor {
            conflicts,
            first: BTreeMap::new(),
            decided: BTreeMap::new(),
            by_account: BTreeMap::new(),
            reference: BTreeMap::new(),
            replicas: (0..n_replicas).map(|_| ReplicaView::default()).collect(),
            states: BTreeMap::new(),
            results: ResultCheck::new(conflicts),
            recovering: TxSet::default(),
            barriers: Vec::new(),
            dependents: BTreeMap::new(),
            by_nonce: BTreeMap::new(),
            tally: Tally::default(),
            violated: false,
        }
    }

    /// The accounts whose order of operations must agree everywhere: both under the shared-
    /// account relation; only the debited one when credits commute.
    fn ordered_accounts(&self, tx: &Tx) -> impl Iterator<Item = usize> + use<> {
        let barrier = is_reconfiguration(tx);
        let both = self.conflicts == ConflictRelation::SharedAccount && tx.to != tx.from;
        std::iter::once(tx.from.0 as usize).chain(both.then_some(tx.to.0 as usize)).filter(move |_| !barrier)
    }

    fn on_committed(&mut self, node: NodeId, commit: Commit<'_>, world: &Observer) -> Check {
        let Commit { tx, deps, path, anchored } = commit;
        if !self.replicas[node.idx()].committed.insert(tx.id) {
            return fail("exactly-once", format!("command {} committed twice", tx.id.0));
        }
        if let Some(d) = named(deps).find(|d| d.0 >= world.submitted()) {
            return fail("validity", format!("command {} depends on {}, which no client signed", tx.id.0, d.0));
        }
        let floor = floor_of(deps);
        if floor > tx.id.0 {
            let detail = format!("command {} has floor {floor}: it would wait for itself", tx.id.0);
            return fail("validity", detail);
        }
        let value = value_digest(tx.id, deps);
        let fast = path == CommitPath::Fast;
        if let Some(first) = self.first.get(&tx.id) {
            if first.value == value {
                return Ok(());
            }
            let invariant = if first.fast || fast { "fast-path value" } else { "agreement" };
            return fail(
                invariant,
                format!(
                    "command {}: dependencies {deps:?}, another correct replica committed {:?}",
                    tx.id.0, first.deps
                ),
            );
        }
        let mut sorted = deps.to_vec();
        sorted.sort_unstable();
        self.check_consistency(tx, &sorted, anchored)?;
        if is_reconfiguration(tx) {
            self.barriers.push(tx.id);
        }
        for a in [tx.from.0 as usize, tx.to.0 as usize].into_iter().filter(|_| !is_reconfiguration(tx)) {
            let list = grow(&mut self.by_account, a);
            if list.last() != Some(&tx.id) {
                list.push(tx.id);
            }
        }
        for d in named(&sorted) {
            self.dependents.entry(d).or_default().push(tx.id);
        }
        if !is_reconfiguration(tx) {
            self.by_nonce.insert((tx.from, tx.nonce), tx.id);
        }
        self.first.insert(tx.id, FirstCommit { tx: *tx, deps: sorted.into(), floor, value, fast });
        Ok(())
    }

    /// Invariant 2: of two conflicting committed commands, one depends on the other: names it,
    /// or has a floor above it, or, for anchored commits only, reaches it in the committed
    /// graph (EPaxos answers name an account's anchor, not every command before it; `reach`).
    fn check_consistency(&self, tx: &Tx, deps: &[TxId], anchored: bool) -> Check {
        let mut unordered: Vec<TxId> = Vec::new();
        let floor = floor_of(deps);
        // A reconfiguration conflicts with every command; every command with the
        // reconfigurations.
        let everyone: Vec<TxId> =
            if is_reconfiguration(tx) { self.first.keys().copied().collect() } else { Vec::new() };
        let lists = [tx.from.0 as usize, tx.to.0 as usize]
            .into_iter()
            .filter(|_| !is_reconfiguration(tx))
            .map(|a| self.by_account.get(&a).map_or(&[][..], Vec::as_slice))
            .chain([&self.barriers[..], &everyone[..]]);
        for list in lists {
            for other in list {
                let o = &self.first[other];
                if !self.conflicts.conflicts(tx, &o.tx) {
                    continue;
                }
                let ordered = deps.binary_search(other).is_ok()
                    || other.0 < floor
                    || o.deps.binary_search(&tx.id).is_ok()
                    || tx.id.0 < o.floor;
                if !ordered {
                    unordered.push(*other);
                }
            }
        }
        if unordered.is_empty() {
            return Ok(());
        }
        // Wintermute's answers name every conflicting command above the floor: the direct
        // check is what it guarantees, and the stronger one for its planted bugs.
        if !anchored {
            let detail =
                format!("commands {} and {} conflict and neither depends on the other", tx.id.0, unordered[0].0);
            return fail("consistency", detail);
        }
        unordered.sort_unstable();
        unordered.dedup();
        self.reach(tx, deps, &mut unordered, Direction::Dependents);
        self.reach(tx, deps, &mut unordered, Direction::Dependencies);
        match unordered.first() {
            None => Ok(()),
            Some(other) => {
                let detail = format!("commands {} and {} conflict and neither reaches the other", tx.id.0, other.0);
                fail("consistency", detail)
            }
        }
    }

    /// Removes from `targets` the committed commands reachable from `tx` (committing now with
    /// `deps`, not in `first` yet) in the committed graph, in one direction: its dependencies
    /// (named, below a floor, or the chain predecessor the executor adds) or its dependents.
    /// Stops once `targets` is empty. Cost: one search over the committed commands it visits,
    /// at most the committed graph (O(V + E) per call), run only when some
    /// conflicting command is not named directly.
    fn reach(&self, tx: &Tx, deps: &[TxId], targets: &mut Vec<TxId>, direction: Direction) {
        let mut stack: Vec<TxId> = Vec::new();
        // Ids are dense and below the submitted count (validity is checked first): a bitset.
        let mut visited = TxSet::default();
        self.push_edges(tx, deps, direction, &mut stack);
        while let Some(id) = stack.pop() {
            if targets.is_empty() {
                return;
            }
            let Some(node) = self.first.get(&id) else { continue };
            if !visited.insert(id) {
                continue;
            }
            targets.retain(|&t| t != id);
            if direction == Direction::Dependencies {
                targets.retain(|t| t.0 >= node.floor);
            }
            self.push_edges(&node.tx, &node.deps, direction, &mut stack);
        }
    }

    fn push_edges(&self, tx: &Tx, deps: &[TxId], direction: Direction, stack: &mut Vec<TxId>) {
        let chained = !is_reconfiguration(tx);
        match direction {
            Direction::Dependencies => {
                stack.extend(named(deps));
                if chained && tx.nonce > 1 {
                    stack.extend(self.by_nonce.get(&(tx.from, tx.nonce - 1)));
                }
            }
            Direction::Dependents => {
                stack.extend(self.dependents.get(&tx.id).into_iter().flatten());
                if chained {
                    stack.extend(self.by_nonce.get(&(tx.from, tx.nonce + 1)));
                }
            }
        }
    }

    fn on_decided(&mut self, cmd: TxId, view: u32, value: u64) -> Check {
        match self.decided.insert(cmd, value) {
            Some(before) if before != value => {
                fail("one decision per command", format!("command {}: view {view} decided another value", cmd.0))
            }
            _ => Ok(()),
        }
    }

    /// Every correct replica that settles `tx` settles it the same way as the first one (the
    /// check shared with the other protocols).
    fn on_settled(&mut self, node: NodeId, tx: &Tx, settlement: Settlement) -> Check {
        self.results.check(node, tx, settlement).map_err(|detail| (SAME_RESULT, detail))
    }

    fn on_executed(&mut self, node: NodeId, tx: &Tx) -> Check {
        let accounts: Vec<usize> = self.ordered_accounts(tx).collect();
        let r = &mut self.replicas[node.idx()];
        if !r.committed.contains(tx.id) {
            return fail("execution when stable", format!("command {} executed before it committed", tx.id.0));
        }
        if !r.executed.insert(tx.id) {
            return fail("execution once", format!("command {} executed twice", tx.id.0));
        }
        // A floor orders every id below it first: they must all have run (checked here, not
        // at the end of the batch, where later executions may have filled the gap).
        let floor = self.first[&tx.id].floor;
        if floor > r.prefix {
            let detail = format!("command {} executed below its floor {floor}: id {} had not", tx.id.0, r.prefix);
            return fail("execution when stable", detail);
        }
        r.batch.push(tx.id);
        for a in accounts {
            let pos = grow(&mut r.position, a);
            let order = grow(&mut self.reference, a);
            match order.get(*pos as usize) {
                None => order.push(tx.id),
                Some(&expected) if expected != tx.id => {
                    let detail =
                        format!("account {a}: executed {} where another replica executed {}", tx.id.0, expected.0);
                    return fail("same order per account", detail);
                }
                Some(_) => {}
            }
            *pos += 1;
        }
        while r.executed.contains(TxId(r.prefix)) {
            r.prefix += 1;
        }
        Ok(())
    }

    fn on_batch(&mut self, node: NodeId, executed_set: u64, state: u64) -> Check {
        let r = &mut self.replicas[node.idx()];
        for id in std::mem::take(&mut r.batch) {
            if let Some(d) = named(&self.first[&id].deps).find(|d| !r.executed.contains(*d)) {
                let detail = format!("command {} executed while its dependency {} had not", id.0, d.0);
                return fail("execution when stable", detail);
            }
        }
        match self.states.insert(executed_set, state) {
            Some(before) if before != state => {
                fail("same state for the same commands", format!("state {state:#x}, another replica had {before:#x}"))
            }
            _ => Ok(()),
        }
    }
}

/// A `Committed` record's fields, passed to its handler in one piece.
struct Commit<'a> {
    tx: &'a Tx,
    deps: &'a [TxId],
    path: CommitPath,
    anchored: bool,
}

/// Which edges of the committed graph a search follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Dependencies,
    Dependents,
}

type Check = Result<(), (&'static str, String)>;

fn fail(invariant: &'static str, detail: String) -> Check {
    Err((invariant, detail))
}

impl Monitor<LlRecord> for LeaderlessMonitor {
    fn observe(&mut self, at: Time, node: NodeId, record: &LlRecord, world: &Observer) -> Result<(), Violation> {
        if self.violated || !world.is_correct(node) {
            return Ok(());
        }
        let check = match record {
            LlRecord::Committed { tx, deps, path, anchored } => {
                self.on_committed(node, Commit { tx, deps, path: *path, anchored: *anchored }, world)
            }
            LlRecord::Decided { cmd, view, value } => self.on_decided(*cmd, *view, *value),
            LlRecord::Coordinated { fast, deps_len, .. } => {
                let t = &mut self.tally;
                if *fast {
                    t.fast += 1
                } else {
                    t.slow += 1
                }
                t.deps_total += *deps_len as u64;
                t.deps_max = t.deps_max.max(*deps_len as u64);
                Ok(())
            }
            LlRecord::Epoch { epoch, .. } => {
                self.tally.epoch = self.tally.epoch.max(*epoch);
                Ok(())
            }
            LlRecord::Recovering { cmd } => {
                self.tally.recoveries += 1;
                self.tally.recovered_commands += self.recovering.insert(*cmd) as u64;
                Ok(())
            }
            LlRecord::Executed { tx } => self.on_executed(node, tx),
            LlRecord::Settled { tx, settlement } => self.on_settled(node, tx, *settlement),
            LlRecord::ExecutedBatch { executed_set, state } => self.on_batch(node, *executed_set, *state),
        };
        self.violated = check.is_err();
        check.map_err(|(invariant, detail)| Violation { at_ns: at.0, replica: node, invariant, detail })
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        let t = &self.tally;
        let coordinated = t.fast + t.slow;
        vec![
            ("fast_path", t.fast),
            ("slow_path", t.slow),
            ("fast_path_permille", (t.fast * 1000).checked_div(coordinated).unwrap_or(0)),
            ("consensus_instances", t.slow + t.recovered_commands),
            ("recoveries", t.recoveries),
            ("recovered_commands", t.recovered_commands),
            ("deps_mean_milli", (t.deps_total * 1000).checked_div(coordinated).unwrap_or(0)),
            ("deps_max", t.deps_max),
            ("epoch", t.epoch as u64),
        ]
    }
}
