//! The protocol registry: each protocol is one module here saying what the boundary needs to
//! know about it, and `registry!` below lists them once.
//!
//! A module implements [`Boundary`]: its scenario section (its struct, its fields declared with
//! `reader::table!`, its reader and checks, how it is written back and fitted to a shrunk run),
//! its checks of the rest of the scenario (node cap, whether f counts, what it refuses, why a
//! seed may not run it), its name and the word for its nodes, its Byzantine
//! behaviours (the protocol's own closed enum, `Correct` aside), the n and f it tolerates, its messages, its planted
//! bugs, how a scenario lowers to its configuration, how a run of it is built and what the
//! run's summary shows of it (its rows, execution latency apart, why it has no view timeline).
//! The macro
//! generates [`ProtocolKind`], the scenario-level [`Behavior`], [`ProtocolSection`] (the one a scenario carries), [`ProtocolConfig`]
//! and [`Planted`], and one dispatching `match` per operation: generic code (lowering, running,
//! shrinking, swarm, watchers, the CLI) asks the kind and never matches on it. Adding a protocol
//! is one module and one line of `registry!`; a behaviour it forgets to lower or name does not
//! compile, since every match over a protocol's behaviours is exhaustive. A module sees its
//! section, n, f, the seed and the run's `RunInfo`, never the `Scenario`: `model` builds on the
//! registry, not the other way round.

pub mod algorand;
pub mod hotstuff;
pub mod leaderless;
#[cfg(test)]
pub mod toy;

use std::fmt::Debug;

use sim_core::net::KindName;
use sim_core::workload::Workload;
use sim_core::{Message, NodeId, Protocol, RunResult, SimConfig, Simulation, Span, Time};

use crate::reader::{self, Ctx, FieldTable};
use crate::watch::{self, RunInfo, Shared};

/// What the boundary knows of one protocol.
pub trait Boundary {
    /// The protocol's own enum of what a replica does; scenario files name every variant but
    /// `Correct` (a replica no `[[byzantine]]` entry names: None in a roster of roles). A crash,
    /// which the engine plays, is every protocol's and not listed.
    type Behavior: Copy + Debug + PartialEq + Eq + 'static;
    /// The protocol's test-only planted bugs.
    type Bug: Copy + Debug + PartialEq + Eq + 'static;
    /// The lowered configuration every replica is built from.
    type Config: Clone + Debug;
    /// Its messages (kind names for `[adversary]`, the run's kind table).
    type Message: Message;
    /// Its scenario section (`[hotstuff]`, ...), as validated.
    type Section: Clone + Debug + PartialEq;
    /// The section's fields (the reader's known keys, docs/scenarios.md's table, the schema).
    const FIELDS: FieldTable;
    /// `protocol = "..."` in scenario files; tables and files use it too.
    const NAME: &'static str;
    /// A node that runs it: "replica" or "user".
    const NODE: &'static str;
    /// What its view timeline counts: "view" or "round".
    const VIEW: &'static str;
    /// Whether a correct node's view never goes back (the timeline checks it).
    const VIEWS_MONOTONE: bool;
    /// Why a run of it has no view timeline (no view of the whole node), if so.
    const NO_TIMELINE: Option<&'static str> = None;
    /// Whether execution trails commit, so that the summary shows execution latency apart.
    const EXECUTES_APART: bool = false;
    /// The rows it adds to a run's summary table.
    const SUMMARY_ROWS: SummaryRows = SummaryRows::Metrics(&[]);
    /// Every behaviour a scenario may name: each variant but `Correct`.
    const BEHAVIORS: &'static [Self::Behavior];
    const BUGS: &'static [Self::Bug];
    /// Its name in scenario files and tables: the protocol's own `name()` where it has one.
    fn behavior_name(b: Self::Behavior) -> &'static str;
    /// The behaviour that pairs with the Twins adversary, if the protocol plays it.
    fn twin() -> Option<Self::Behavior>;
    /// Reads and checks its section under `top` (every problem reported to `c`); checks
    /// against the rest of the scenario only when `at.runs`.
    fn read(c: &mut Ctx<'_>, top: &reader::Section<'_>, at: &Reading) -> Option<Self::Section>;
    /// The most nodes a scenario of it may have (`replicas.n`).
    const MAX_NODES: i128 = MAX_REPLICAS;
    /// Whether `replicas.f` counts the faults it tolerates; if not, `f` is read (a file shared
    /// with `compare` may give it) but not checked, and becomes 0.
    const COUNTS_F: bool = true;
    /// Why its clients may not send each transaction to every node (`clients.send_to =
    /// "all"`), if so: (message, help).
    const NO_SEND_TO_ALL: Option<(&'static str, &'static str)> = None;
    /// Why an `[adversary]` rule may not match its messages by view, if so: (message, help).
    const NO_VIEWS: Option<(&'static str, &'static str)> = None;
    /// Whether `n` nodes tolerate `f` faults under its settings.
    fn tolerates(sec: &Self::Section, n: u32, f: u32) -> bool;
    /// How many matching replies confirm a transaction to its client, minus one (`f`: the
    /// scenario's).
    fn client_f(sec: &Self::Section, f: u32) -> u32;
    /// Fits its section to a smaller scenario of `n` nodes running `duration_s` (`byzsim
    /// shrink`): what would no longer be valid is cut.
    fn fit(_sec: &mut Self::Section, _n: u32, _duration_s: f64) {}
    /// Draws its own settings for a swarm seed (`[explore] settings = true`) from `rng`, each
    /// valid with the rest of the section and the scenario (`send_to_all`: clients send each
    /// transaction to every replica); one phrase per setting drawn (none by default).
    fn swarm(_sec: &mut Self::Section, _rng: &mut sim_core::SimRng, _send_to_all: bool) -> Vec<String> {
        Vec::new()
    }
    /// Its section's keys as TOML, so that the text reads back into `sec` (`write`).
    fn write(sec: &Self::Section) -> Result<Vec<(&'static str, toml::Value)>, String>;
    /// Why a valid scenario of it cannot run at `seed`, if so: validation checks a file at one
    /// seed, `compare` and `sweep` run it at others. `byzantine`: each `[[byzantine]]` entry's
    /// nodes as the run assigns them.
    fn seed_problem(_sec: &Self::Section, _n: u32, _seed: u64, _byzantine: &[Vec<u32>]) -> Option<SeedProblem> {
        None
    }
    fn bug_name(b: Self::Bug) -> &'static str;
    /// The exploration that must catch a planted bug (see `planted::Planted::explored_by`).
    fn explored_by(b: Self::Bug) -> Option<(&'static str, &'static [&'static str])>;
    /// The configuration of a run with its section (the roster of behaviours included);
    /// `roles[i]`: what replica i does (None: it follows the protocol, crash included: the engine
    /// plays it); every ledger opens with `genesis_balance` per account.
    fn lower(
        sec: &Self::Section,
        genesis_balance: u64,
        roles: &[Option<Self::Behavior>],
        sim: &SimConfig,
    ) -> Self::Config;
    fn plant(cfg: &mut Self::Config, bug: Self::Bug);
    /// Builds the run (replicas, monitor, workload) and drives it to its end.
    fn run(run: Run<'_>, workload: Box<dyn Workload>, cfg: &Self::Config) -> Ran;
}

/// Every behaviour of every protocol, each name once, for the field declarations (the reader
/// narrows it to the protocol's; a test in `parse/fields.rs` checks it against the registry).
pub(crate) const BEHAVIOR_NAMES: &[&str] = &[
    "crash",
    "silent",
    "fork",
    "equivocate",
    "withhold_votes",
    "slow_leader",
    "twins",
    "withhold_batches",
    "omit_deps",
    "invent_deps",
    "irrelevant_deps",
    "spoil_different",
    "spoil_silent",
    "never_commit",
    "propose_without_proof",
    "forge_commit",
    "claim_coordinator",
    "equivocate_proposal",
    "double_vote",
    "hide_prepared",
    "stale_prepared",
    "pbft_attack",
    "fake_sync",
];

/// The most replicas a scenario may have, unless its protocol says otherwise (`MAX_NODES`).
pub(crate) const MAX_REPLICAS: i128 = 1024;

/// Why a valid scenario cannot run at its seed.
pub struct SeedProblem {
    /// The `[[byzantine]]` entry at fault.
    pub entry: usize,
    pub message: String,
    pub help: String,
}

/// Called between steps of a run with (virtual time reached, end time).
pub type Progress<'a> = &'a mut dyn FnMut(Time, Time);

/// The rows a protocol adds to a run's summary table (stdout and report.html).
#[derive(Clone, Copy, Debug)]
pub enum SummaryRows {
    /// Each row: its label, and a template whose `{name}` placeholders name metrics of the
    /// registry (`results::metric`), filled by `results::metric::fill`.
    Metrics(&'static [(&'static str, &'static str)]),
    /// Every counter it keeps, as it names them (the maximum over correct nodes).
    Counters,
}

/// What a protocol's section is checked against: the rest of the scenario, where it is valid.
/// Every section is read whatever the protocol (`compare` runs one file under several), but
/// checked against the rest only when the scenario runs its protocol (`runs`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Reading {
    pub runs: bool,
    /// `replicas.n`, when valid.
    pub n: Option<u32>,
    /// `replicas.n` and `replicas.f`, when both are valid.
    pub n_f: Option<(u32, u32)>,
    pub duration_s: Option<f64>,
    pub tx_size_bytes: Option<u32>,
    /// Whether clients send each transaction to every replica (`clients.send_to = "all"`),
    /// when `[clients]` is valid.
    pub send_to_all: Option<bool>,
}

/// What every protocol's run gets from the generic runner.
pub struct Run<'a> {
    /// What the watchers know of the run (built by `run`).
    pub info: RunInfo,
    pub seed: u64,
    /// Records the flight recorder keeps.
    pub flight_records: usize,
    pub sim: &'a SimConfig,
    pub watchers: &'a [Shared],
    pub progress: Progress<'a>,
}

/// A finished run as a protocol module hands it back.
pub struct Ran {
    pub result: RunResult,
    /// After a violation, the protocol state of the replicas involved.
    pub states: Vec<(NodeId, String)>,
    /// Algorand: the share of the stake the Byzantine users hold, in parts per million.
    pub byzantine_stake_ppm: Option<u64>,
}

/// The kinds a protocol's messages call critical as a mask-ready list, or every kind.
fn critical_or_all<M: Message>() -> Vec<usize> {
    match M::CRITICAL_KINDS {
        [] => (0..M::KINDS.len()).collect(),
        some => some.to_vec(),
    }
}

macro_rules! registry {
    ($($(#[$attr:meta])* $kind:ident => $module:ident),+ $(,)?) => {
        /// Every protocol byzsim runs (`protocol = "..."`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ProtocolKind {
            $($(#[$attr])* $kind,)+
        }

        /// What a Byzantine replica does: crash (the engine plays it) or one of its protocol's
        /// behaviours. None of them can sign as another replica.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Behavior {
            /// Stops at `at_s` (and restarts at `recover_s`, state intact).
            Crash,
            $($(#[$attr])* $kind($module::Behavior),)+
        }

        /// The scenario's protocol with its section (`[hotstuff]`, `[leaderless]`, ...). The reader
        /// reads and checks every section a file has, whatever its protocol, but a scenario keeps
        /// its own protocol's only: `compare` loads the file once per protocol it runs.
        #[derive(Clone, Debug, PartialEq)]
        pub enum ProtocolSection {
            $($(#[$attr])* $kind(<$module::Module as Boundary>::Section),)+
        }

        impl ProtocolSection {
            /// Reads every section under `top` (each problem reported), and keeps the one of
            /// the scenario's `protocol`, checked against the rest of the scenario (`at`).
            pub(crate) fn read(c: &mut Ctx<'_>, top: &reader::Section<'_>, protocol: Option<ProtocolKind>, at: Reading) -> Option<ProtocolSection> {
                let mut own = None;
                $($(#[$attr])* {
                    let runs = protocol == Some(ProtocolKind::$kind);
                    let section = <$module::Module as Boundary>::read(c, top, &Reading { runs, ..at });
                    if runs {
                        own = section.map(ProtocolSection::$kind);
                    }
                })+
                own
            }

            /// Its protocol.
            pub fn kind(&self) -> ProtocolKind {
                match self { $($(#[$attr])* ProtocolSection::$kind(_) => ProtocolKind::$kind,)+ }
            }

            $($(#[$attr])*
            /// The section, if the scenario runs this protocol.
            pub fn $module(&self) -> Option<&<$module::Module as Boundary>::Section> {
                if let ProtocolSection::$kind(sec) = self { Some(sec) } else { None }
            })+

            /// Whether `n` nodes tolerate `f` faults under its settings.
            pub fn tolerates(&self, n: u32, f: u32) -> bool {
                match self { $($(#[$attr])* ProtocolSection::$kind(s) => <$module::Module as Boundary>::tolerates(s, n, f),)+ }
            }

            /// The f clients count replies against (f + 1 matching confirm); `f`: the scenario's.
            pub fn client_f(&self, f: u32) -> u32 {
                match self { $($(#[$attr])* ProtocolSection::$kind(s) => <$module::Module as Boundary>::client_f(s, f),)+ }
            }

            /// Its settings fitted to a smaller scenario of `n` nodes running `duration_s`
            /// (`byzsim shrink`).
            pub fn fit(&mut self, n: u32, duration_s: f64) {
                match self { $($(#[$attr])* ProtocolSection::$kind(s) => <$module::Module as Boundary>::fit(s, n, duration_s),)+ }
            }

            /// Its own settings drawn for a swarm seed, one phrase each (`Boundary::swarm`).
            pub fn swarm(&mut self, rng: &mut sim_core::SimRng, send_to_all: bool) -> Vec<String> {
                match self { $($(#[$attr])* ProtocolSection::$kind(s) => <$module::Module as Boundary>::swarm(s, rng, send_to_all),)+ }
            }

            /// Its keys as TOML, in the order files give them (`write`).
            pub(crate) fn write(&self) -> Result<Vec<(&'static str, toml::Value)>, String> {
                match self { $($(#[$attr])* ProtocolSection::$kind(s) => <$module::Module as Boundary>::write(s),)+ }
            }

            /// Why a valid scenario of it cannot run at `seed` (`byzantine`: each
            /// `[[byzantine]]` entry's replicas as the run assigns them), if so.
            pub(crate) fn seed_problem(&self, n: u32, seed: u64, byzantine: &[Vec<u32>]) -> Option<SeedProblem> {
                match self { $($(#[$attr])* ProtocolSection::$kind(s) => <$module::Module as Boundary>::seed_problem(s, n, seed, byzantine),)+ }
            }

            /// The configuration of a run with its section, given each replica's role.
            pub fn lower(&self, genesis_balance: u64, roles: &[Option<Behavior>], sim: &SimConfig) -> ProtocolConfig {
                match self { $($(#[$attr])* ProtocolSection::$kind(s) => {
                    let own = own_roles(roles, |b| if let Behavior::$kind(b) = b { Some(b) } else { None });
                    ProtocolConfig::$kind(<$module::Module as Boundary>::lower(s, genesis_balance, &own, sim))
                })+ }
            }
        }

        /// A protocol's lowered configuration.
        #[derive(Clone, Debug)]
        pub enum ProtocolConfig {
            $($(#[$attr])* $kind(<$module::Module as Boundary>::Config),)+
        }

        /// One planted bug of one protocol (test-only: see `planted`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Planted {
            $($(#[$attr])* $kind(<$module::Module as Boundary>::Bug),)+
        }

        impl ProtocolKind {
            pub const ALL: &'static [ProtocolKind] = &[$($(#[$attr])* ProtocolKind::$kind,)+];
            /// Their sections' fields, in the order of [`ProtocolKind::ALL`].
            pub const SECTIONS: &'static [FieldTable] = &[$($(#[$attr])* <$module::Module as Boundary>::FIELDS,)+];
            /// The most nodes any of them takes (`replicas.n`'s bound before the protocol is known).
            pub const MAX_NODES: i128 = max_of(&[$($(#[$attr])* <$module::Module as Boundary>::MAX_NODES,)+]);
            /// Their names, in the order of [`ProtocolKind::ALL`].
            pub const NAMES: &'static [&'static str] = &[$($(#[$attr])* <$module::Module as Boundary>::NAME,)+];

            /// The name scenario files, tables and files use.
            pub fn name(self) -> &'static str {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::NAME,)+ }
            }

            pub fn from_name(name: &str) -> Option<ProtocolKind> {
                ProtocolKind::ALL.iter().copied().find(|p| p.name() == name)
            }

            /// A node that runs it: "replica" or "user".
            pub fn node_word(self) -> &'static str {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::NODE,)+ }
            }

            /// What its view timeline counts: "view" or "round".
            pub fn view_word(self) -> &'static str {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::VIEW,)+ }
            }

            /// Whether a correct node's view never goes back.
            pub fn views_monotone(self) -> bool {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::VIEWS_MONOTONE,)+ }
            }

            /// Why a run of it has no view timeline, if so.
            pub fn no_timeline(self) -> Option<&'static str> {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::NO_TIMELINE,)+ }
            }

            /// Whether execution trails commit (the summary shows execution latency apart).
            pub fn executes_apart(self) -> bool {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::EXECUTES_APART,)+ }
            }

            /// The rows it adds to a run's summary table.
            pub fn summary_rows(self) -> SummaryRows {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::SUMMARY_ROWS,)+ }
            }

            /// The most nodes a scenario of it may have.
            pub fn max_nodes(self) -> i128 {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::MAX_NODES,)+ }
            }

            /// Whether `replicas.f` counts the faults it tolerates (else f is 0).
            pub fn counts_f(self) -> bool {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::COUNTS_F,)+ }
            }

            /// Why its clients may not send to every node, if so: (message, help).
            pub fn no_send_to_all(self) -> Option<(&'static str, &'static str)> {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::NO_SEND_TO_ALL,)+ }
            }

            /// Why adversary rules may not match its messages by view, if so: (message, help).
            pub fn no_views(self) -> Option<(&'static str, &'static str)> {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::NO_VIEWS,)+ }
            }

            /// Its behaviours, crash first.
            pub fn behaviors(self) -> Vec<Behavior> {
                let own: Vec<Behavior> = match self {
                    $($(#[$attr])* ProtocolKind::$kind => {
                        <$module::Module as Boundary>::BEHAVIORS.iter().map(|&b| Behavior::$kind(b)).collect()
                    })+
                };
                std::iter::once(Behavior::Crash).chain(own).collect()
            }

            /// The behaviour that pairs with the Twins adversary, if it plays it.
            pub fn twin(self) -> Option<Behavior> {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::twin().map(Behavior::$kind),)+ }
            }

            /// The names of its message kinds (`Message::KINDS`), which `[adversary]` uses.
            pub fn message_kinds(self) -> &'static [&'static str] {
                match self { $($(#[$attr])* ProtocolKind::$kind => <<$module::Module as Boundary>::Message as Message>::KINDS,)+ }
            }

            /// The kinds the random adversary targets as `critical` (every kind if it names none).
            pub fn critical_kinds(self) -> Vec<usize> {
                match self { $($(#[$attr])* ProtocolKind::$kind => critical_or_all::<<$module::Module as Boundary>::Message>(),)+ }
            }

            /// The run's kind table (`engine::kind_names`): requests, replies, its messages,
            /// the items they carry.
            pub fn kind_table(self) -> Vec<KindName> {
                match self { $($(#[$attr])* ProtocolKind::$kind => sim_core::engine::kind_names::<<$module::Module as Boundary>::Message>(),)+ }
            }

            /// Its planted bugs.
            pub fn bugs(self) -> Vec<Planted> {
                match self { $($(#[$attr])* ProtocolKind::$kind => <$module::Module as Boundary>::BUGS.iter().map(|&b| Planted::$kind(b)).collect(),)+ }
            }

            /// Builds and drives a run of it.
            pub fn run(self, run: Run<'_>, workload: Box<dyn Workload>, cfg: &ProtocolConfig) -> Ran {
                match (self, cfg) {
                    $($(#[$attr])* (ProtocolKind::$kind, ProtocolConfig::$kind(cfg)) => {
                        <$module::Module as Boundary>::run(run, workload, cfg)
                    })+
                    (kind, cfg) => panic!("a {} run with the configuration {cfg:?}", kind.name()),
                }
            }
        }

        impl Behavior {
            /// The name scenario files and tables use.
            pub fn name(self) -> &'static str {
                match self {
                    Behavior::Crash => "crash",
                    $($(#[$attr])* Behavior::$kind(b) => <$module::Module as Boundary>::behavior_name(b),)+
                }
            }
        }

        impl Planted {
            pub fn protocol(self) -> ProtocolKind {
                match self { $($(#[$attr])* Planted::$kind(_) => ProtocolKind::$kind,)+ }
            }

            /// The bug's own name (`Planted::name` adds the protocol's).
            pub fn bug_name(self) -> &'static str {
                match self { $($(#[$attr])* Planted::$kind(b) => <$module::Module as Boundary>::bug_name(b),)+ }
            }

            pub fn explored_by(self) -> Option<(&'static str, &'static [&'static str])> {
                match self { $($(#[$attr])* Planted::$kind(b) => <$module::Module as Boundary>::explored_by(b),)+ }
            }

            /// Breaks the lowered configuration every replica is built from.
            pub fn apply(self, cfg: &mut ProtocolConfig) {
                match (self, cfg) {
                    $($(#[$attr])* (Planted::$kind(b), ProtocolConfig::$kind(cfg)) => <$module::Module as Boundary>::plant(cfg, b),)+
                    (bug, cfg) => panic!("planted bug {bug:?} in the configuration {cfg:?}"),
                }
            }
        }
    };
}

registry! {
    HotStuff => hotstuff,
    Leaderless => leaderless,
    Algorand => algorand,
    #[cfg(test)]
    Toy => toy,
}

impl Behavior {
    /// A replica's role as tables show it: its behaviour, or `correct`.
    pub fn name_of(role: Option<Behavior>) -> &'static str {
        role.map_or("correct", Behavior::name)
    }
}

/// The largest of `values` (0 if none), at compile time.
const fn max_of(values: &[i128]) -> i128 {
    let (mut i, mut max) = (0, 0);
    while i < values.len() {
        if values[i] > max {
            max = values[i];
        }
        i += 1;
    }
    max
}

/// Each replica's role as one protocol sees it: its own behaviour, or None for a correct or
/// crashing replica (validation refuses other protocols' behaviours; `own` says which are its).
fn own_roles<B: Copy>(roles: &[Option<Behavior>], own: impl Fn(Behavior) -> Option<B>) -> Vec<Option<B>> {
    roles
        .iter()
        .map(|role| match role {
            None | Some(Behavior::Crash) => None,
            Some(b) => Some(own(*b).unwrap_or_else(|| panic!("validated: {b:?} is a behaviour of the protocol"))),
        })
        .collect()
}

/// Steps of 1/200 of the run, so a progress bar moves smoothly without touching the core;
/// the watchers see every record. Every protocol's `run` ends here.
fn drive<P: Protocol>(sim: Simulation<P>, run: Run<'_>) -> (RunResult, Vec<(NodeId, String)>) {
    let sim = sim.with_flight_recorder(run.flight_records);
    let mut sim = match watch::sink::<P>(run.watchers, &run.info) {
        Some(sink) => sim.with_sink(sink),
        None => sim,
    };
    let progress = run.progress;
    let end = sim.end();
    let step = Span((end.as_nanos() / 200).max(1));
    loop {
        let next = sim.now() + step;
        let stopped = sim.run_until(next).is_some();
        progress(sim.now(), end);
        if stopped {
            let states = violation_states(&sim);
            return (sim.finish(), states);
        }
    }
}

/// After a violation, the state of the replica that broke the invariant, then of the replicas
/// of the last two commits the flight recorder holds (the conflicting ones, for agreement).
fn violation_states<P: Protocol>(sim: &Simulation<P>) -> Vec<(NodeId, String)> {
    let Some(sim_core::Stop::Violation(v)) = sim.stopped() else { return Vec::new() };
    let mut nodes = vec![v.replica];
    let recent = sim.recent();
    let committers = recent.iter().rev().filter_map(|e| match e.record {
        sim_core::Record::Commit { node, .. } | sim_core::Record::CommitTx { node, .. } => Some(node),
        _ => None,
    });
    for node in committers.take(2) {
        if !nodes.contains(&node) {
            nodes.push(node);
        }
    }
    let n = sim.n_replicas();
    nodes.into_iter().filter(|id| id.0 < n).map(|id| (id, sim.replica(id).debug_state())).collect()
}

/// Every protocol's opening balances (`Scenario::genesis_balance`): files give them in
/// `[leaderless]`, where they are declared, whatever the protocol, so that `compare` runs one
/// ledger.
pub(crate) fn read_genesis_balance(c: &mut Ctx<'_>, top: &reader::Section<'_>) -> Option<reader::Val<u64>> {
    let sec = c.section(top, leaderless::Module::NAME);
    c.whole::<u64>(&sec, &leaderless::fields::genesis_balance)
}

/// A TOML table as `write` renders it: its name and its keys in order.
pub(crate) type TomlTable = (&'static str, Vec<(&'static str, toml::Value)>);

/// The tables of a scenario's protocol section and of its opening balances (in `[leaderless]`,
/// after that section's own keys when the scenario runs it).
pub(crate) fn write_tables(sec: &ProtocolSection, genesis_balance: u64) -> Result<Vec<TomlTable>, String> {
    let mut tables = vec![(sec.kind().name(), sec.write()?)];
    let balance = ("genesis_balance", toml_int("genesis_balance", genesis_balance)?);
    match tables.iter_mut().find(|(name, _)| *name == leaderless::Module::NAME) {
        Some((_, keys)) => keys.push(balance),
        None => tables.push((leaderless::Module::NAME, vec![balance])),
    }
    Ok(tables)
}

/// `v` as a TOML integer, or why it cannot be one.
pub(crate) fn toml_int(key: &str, v: u64) -> Result<toml::Value, String> {
    let v = i64::try_from(v).map_err(|_| format!("{key} = {v} is above the largest TOML integer"))?;
    Ok(toml::Value::Integer(v))
}

/// One `[[byzantine]]` entry as the Twins check sees it: its behaviour, how many replicas it
/// makes Byzantine, and where they are written (None: nowhere in the file).
pub(crate) struct Entry<'a, W> {
    pub behavior: Behavior,
    pub count: u64,
    pub at: Option<&'a reader::Val<W>>,
}

/// Twins: the partitioning adversary (`twins_mode`) plays HotStuff's views, the protocol whose
/// behaviours have a twin, and a twin is one of at most f Byzantine replicas (the Twins paper's
/// bound; two copies of more than f would be a partition of correct replicas, which the
/// network's `[[faults.partitions]]` already model).
pub(crate) fn check_twins<W>(
    c: &mut Ctx<'_>,
    protocol: ProtocolKind,
    twins_mode: bool,
    f: u32,
    entries: &[Entry<'_, W>],
) {
    if twins_mode && protocol.twin().is_none() {
        let message = format!("mode = \"twins\" partitions HotStuff's views; this scenario runs {}", protocol.name());
        let help = "use mode = \"random\" or \"scripted\" with this protocol, or protocol = \"hotstuff\"".to_string();
        c.report(&reader::Origin::Implicit, Some("adversary.mode"), &message, Some(help));
    }
    let mut twins = 0u64;
    for entry in entries.iter().filter(|e| Some(e.behavior) == protocol.twin()) {
        twins += entry.count;
        if twins > u64::from(f) {
            let message = format!("{twins} twins, but replicas.f = {f}: at most f replicas may be twins");
            let help = format!("make at most {f} replicas twins, or raise replicas.n and replicas.f");
            match entry.at {
                Some(who) => c.fail(who, message, Some(help)),
                None => c.report(&reader::Origin::Implicit, Some("byzantine"), &message, Some(help)),
            }
            return;
        }
    }
}
