//! The leaderless protocol at the boundary: its `[leaderless]` section (declared, read and checked
//! here), its behaviours, the n and f each variant
//! tolerates, its lowered configuration, and its run: one `Leaderless` per replica, the
//! `LeaderlessMonitor`, and the workload with the reconfiguration barriers merged in.

use std::collections::VecDeque;

use protocols::leaderless::{self as ll, LeaderlessConfig, LeaderlessMonitor};
use protocols::ledger::RECONFIGURE;
use sim_core::workload::{Arrival, Workload};
use sim_core::{SimConfig, Simulation, Span, Time};

use super::{Boundary, Ran, Reading, Run, SummaryRows, drive};
use crate::reader::{self, Bounds, Ctx, FieldTable, MAX_TIME_MS, Section, TIME_MS, TIMEOUT_MS, Value, found, table};

pub struct Module;

/// The leaderless protocol's Byzantine behaviours: the protocol's own, named by it (`Correct` is
/// no scenario's: a replica no `[[byzantine]]` entry names follows the protocol).
pub use protocols::leaderless::Behavior;

/// A leaderless run: the protocol's configuration, what each replica does, and when client 0
/// submits a reconfiguration barrier.
#[derive(Clone, Debug)]
pub struct Config {
    pub leaderless: LeaderlessConfig,
    pub roster: Vec<ll::Behavior>,
    pub reconfigure_at_s: Vec<f64>,
}

/// The leaderless protocol's settings (`[leaderless]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Leaderless {
    pub variant: LeaderlessVariant,
    pub conflicts: Conflicts,
    pub fast_path_wait_ms: f64,
    pub view_timeout_ms: f64,
    pub recovery_timeout_ms: f64,
    /// When a reconfiguration command (a barrier that moves every replica to the next epoch)
    /// is submitted, by client 0.
    pub reconfigure_at_s: Vec<f64>,
    /// Wintermute prunes dependency sets below executed prefixes rounded down to a multiple
    /// of this many commands; 0 keeps every dependency (EPaxos never prunes).
    pub checkpoint_interval: u64,
}

/// The leaderless protocol's variant and conflict relation: the protocol's own.
pub use protocols::leaderless::Variant as LeaderlessVariant;
pub use protocols::ledger::ConflictRelation as Conflicts;

/// The values of `variant` and `conflicts`, in the order of their declared names.
pub(crate) const VARIANTS: &[LeaderlessVariant] = &[LeaderlessVariant::Wintermute, LeaderlessVariant::Epaxos];
pub(crate) const CONFLICTS: &[Conflicts] = &[Conflicts::SharedAccount, Conflicts::CreditsCommute];

table!(fields, "leaderless", "leaderless", list = false, {
    variant: OneOf(&["wintermute", "epaxos"]), Str("wintermute"), "{bounds}; wintermute needs n >= 5f+1, epaxos n >= 3f+1",
        "BLSMR-W: dependency quorums of ceil((n+3f+1)/2), threshold union (a dependency counts when f+1 report it), and a fast path when all n reply identically (2 message delays); BLSMR-E: quorums of 2f+1, plain union of dependencies proven by their client signatures, consensus every time (5 delays)";
    conflicts: OneOf(&["shared_account", "credits_commute"]), Str("shared_account"), "",
        "which transfers must be ordered: those that share an account; or only those where one debits an account the other touches (credits to one account commute), which gives more fast paths";
    fast_path_wait_ms: Number(TIME_MS), Num(50.0), "",
        "Wintermute: once a dependency quorum replied, how long the coordinator waits for all n before it takes the slow path";
    view_timeout_ms: Number(TIMEOUT_MS), Num(500.0), "",
        "a command's consensus view that has not decided by then moves to the next view (doubling each view); view v's leader is `(hash(command id) + v) mod n`, the same at every replica";
    recovery_timeout_ms: Number(TIMEOUT_MS), Num(1000.0), "",
        "a replica that knows a command not committed this long after it first saw it (or that waits on a dependency it never saw) asks every replica to recover it";
    genesis_balance: Integer(0, (u64::MAX / 2) as i128), Int(1_000_000), "",
        "every account's balance at genesis, under every protocol (HotStuff and Algorand read it here too, so that `compare` runs one ledger); a transfer the source cannot pay is rejected (result 2)";
    reconfigure_at_s: Numbers, Computed("`[]`"), "increasing, in [0, `duration_s`]",
        "client 0 submits a reconfiguration command at each of these times: a barrier that conflicts with every command (its dependencies are every command its replicas saw; every later command depends on it) and, when it executes, moves the membership to the next epoch (same members and keys: membership is static per run). The `epoch` counter shows how far replicas got";
    checkpoint_interval: Integer(0, 1 << 40), Int(32), "",
        "Wintermute: a replica's dependency answer names only conflicting commands at or above its executed prefix rounded down to a multiple of this (its floor, which travels in the answer and implies every command below it); a command's floor is the (f+1)-th highest among its answers, and it executes only after every command below it. Sets stay flat in run length; replicas that round alike answer alike, so fast paths survive. 0 keeps every dependency (sets grow with the run). EPaxos ignores it";
});

/// `[leaderless]`; when the scenario runs it, checks that the variant tolerates f. Its
/// `genesis_balance` is every protocol's (`Scenario::genesis_balance`): the generic reader reads it.
fn read_section(c: &mut Ctx<'_>, top: &reader::Section<'_>, at: &Reading) -> Option<Leaderless> {
    use fields as F;
    let (n_f, duration_s) = (at.n_f.filter(|_| at.runs), at.duration_s);
    let sec = c.section(top, "leaderless");
    c.leaf_keys(&sec, &F::TABLE);
    let variant = c.pick(&sec, &F::variant, VARIANTS);
    let variant = variant.filter(|v| {
        let Some((n, f)) = n_f else { return true };
        let Some(reason) = v.v.refuse(n, f) else { return true };
        let min_f = (0..=f).rev().find(|&g| v.v.refuse(n, g).is_none()).unwrap_or(0);
        let other = if v.v == LeaderlessVariant::Wintermute { ", or variant = \"epaxos\" (n >= 3f+1)" } else { "" };
        let help = format!("raise replicas.n to {}, or set replicas.f = {min_f}{other}", v.v.min_replicas(f));
        c.fail(v, format!("n = {n} and f = {f}: {reason}"), Some(help));
        false
    });
    let conflicts = c.pick(&sec, &F::conflicts, CONFLICTS);
    let wait = c.num(&sec, &F::fast_path_wait_ms);
    let view_timeout = c.num(&sec, &F::view_timeout_ms);
    let recovery = c.num(&sec, &F::recovery_timeout_ms);
    let reconfigure = read_times(c, &sec, F::reconfigure_at_s.key, duration_s);
    let checkpoint = c.whole::<u64>(&sec, &F::checkpoint_interval);
    Some(Leaderless {
        variant: variant?.v,
        conflicts: conflicts?.v,
        fast_path_wait_ms: wait?.v,
        view_timeout_ms: view_timeout?.v,
        recovery_timeout_ms: recovery?.v,
        reconfigure_at_s: reconfigure?,
        checkpoint_interval: checkpoint?.v,
    })
}

/// A list of times in [0, `duration_s`), in increasing order (empty when absent).
pub(crate) fn read_times(c: &mut Ctx<'_>, sec: &Section<'_>, key: &str, duration_s: Option<f64>) -> Option<Vec<f64>> {
    let field = sec.field(key);
    let Some(node) = sec.get(key) else { return Some(Vec::new()) };
    let Value::Array(items) = &node.value else {
        let message = format!("expected a list of times in seconds, like [5, 12.5], found {}", found(&node.value));
        return c.bad(node, &field, message, None);
    };
    let bounds = Bounds::at_least(0.0).at_most(duration_s.unwrap_or(MAX_TIME_MS / 1e3));
    let mut times = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_field = format!("{field}[{i}]");
        let Some(t) = c.node_f64(item, &item_field, "a time in seconds", bounds) else { continue };
        if times.last().is_some_and(|&last| t <= last) {
            let help = Some("list the times in increasing order".to_string());
            return c.bad(item, &item_field, format!("{t} does not come after the time before it"), help);
        }
        times.push(t);
    }
    (times.len() == items.len()).then_some(times)
}

impl Boundary for Module {
    type Behavior = Behavior;
    type Bug = ll::PlantedBug;
    type Config = Config;
    type Message = ll::types::Envelope;
    type Section = Leaderless;
    const FIELDS: FieldTable = fields::TABLE;
    const NAME: &'static str = "leaderless";
    const NODE: &'static str = "replica";
    const VIEW: &'static str = "view";
    const VIEWS_MONOTONE: bool = false;
    const NO_TIMELINE: Option<&'static str> =
        Some("None: the leaderless protocol has a view per command, no view of the whole replica.");
    /// A command executes once its dependencies have: later than it commits.
    const EXECUTES_APART: bool = true;
    const SUMMARY_ROWS: SummaryRows = SummaryRows::Metrics(&[
        ("fast / slow path", "{fast_path} / {slow_path} ({fast_path_pct}% fast)"),
        ("recoveries", "{recovered_commands} commands ({recoveries} requests)"),
        ("dependencies per command", "mean {deps_mean}  max {deps_max}"),
        ("largest component", "{component_max} commands"),
    ]);
    const BEHAVIORS: &'static [Behavior] = &[
        Behavior::Silent,
        Behavior::OmitDeps,
        Behavior::InventDeps,
        Behavior::IrrelevantDeps,
        Behavior::Equivocate,
        Behavior::SpoilDifferent,
        Behavior::SpoilSilent,
        Behavior::NeverCommit,
        Behavior::ProposeWithoutProof,
        Behavior::ForgeCommit,
        Behavior::ClaimCoordinator,
        Behavior::EquivocateProposal,
        Behavior::DoubleVote,
        Behavior::HidePrepared,
        Behavior::StalePrepared,
        Behavior::PbftAttack,
    ];
    const BUGS: &'static [ll::PlantedBug] = ll::PlantedBug::ALL;

    fn behavior_name(b: Behavior) -> &'static str {
        b.name()
    }

    fn twin() -> Option<Behavior> {
        None
    }

    fn read(c: &mut Ctx<'_>, top: &reader::Section<'_>, at: &Reading) -> Option<Leaderless> {
        read_section(c, top, at)
    }

    /// Without `genesis_balance`, every protocol's, which `write_tables` adds.
    fn write(l: &Leaderless) -> Result<Vec<(&'static str, toml::Value)>, String> {
        let mut keys = vec![
            ("variant", fields::variant.name_of(VARIANTS, l.variant).into()),
            ("conflicts", fields::conflicts.name_of(CONFLICTS, l.conflicts).into()),
            ("fast_path_wait_ms", l.fast_path_wait_ms.into()),
            ("view_timeout_ms", l.view_timeout_ms.into()),
            ("recovery_timeout_ms", l.recovery_timeout_ms.into()),
        ];
        if !l.reconfigure_at_s.is_empty() {
            let times = l.reconfigure_at_s.iter().map(|&t| toml::Value::Float(t)).collect();
            keys.push(("reconfigure_at_s", toml::Value::Array(times)));
        }
        keys.push(("checkpoint_interval", super::toml_int("checkpoint_interval", l.checkpoint_interval)?));
        Ok(keys)
    }

    /// Reconfigurations after the shorter run are dropped.
    fn fit(l: &mut Leaderless, _: u32, duration_s: f64) {
        l.reconfigure_at_s.retain(|&t| t <= duration_s);
    }

    fn tolerates(l: &Leaderless, n: u32, f: u32) -> bool {
        u64::from(n) > 3 * u64::from(f) && l.variant.refuse(n, f).is_none()
    }

    fn client_f(_: &Leaderless, f: u32) -> u32 {
        f
    }

    fn bug_name(b: ll::PlantedBug) -> &'static str {
        b.name()
    }

    fn explored_by(b: ll::PlantedBug) -> Option<(&'static str, &'static [&'static str])> {
        use ll::PlantedBug as B;
        const EPAXOS: &str = "scenarios/examples/leaderless-pbft-attacks.toml";
        const WINTERMUTE: &str = "scenarios/examples/leaderless-pbft-attacks-wintermute.toml";
        const FLOORS: &str = "scenarios/examples/leaderless-floors.toml";
        const FLOORS_SLOW: &str = "scenarios/examples/leaderless-floors-slow.toml";
        Some(match b {
            // Bugs of the PBFT layer and of execution, where the EPaxos variant (n = 4) runs
            // consensus on every command.
            B::DdsQuorumMinusOne
            | B::PbftQuorumMinusOne
            | B::IgnorePreparedValues
            | B::CommitWithoutProof
            | B::NonCanonicalSccOrder
            // The EPaxos variant's anchors (dependency pruning).
            | B::StaleAnchor => (EPAXOS, &[]),
            // Wintermute's own rules: the threshold union and the fast path.
            B::ThresholdF | B::FastPathNMinusOne | B::PlainUnion | B::OmitExecuted | B::HeldNonces | B::ExecutorNeverRuns => {
                (WINTERMUTE, &[])
            }
            // Wintermute's floors (dependency pruning): a Byzantine replica claims a floor
            // above every command it has seen.
            B::HighestFloor => (FLOORS, &["byzantine=[{behavior=\"invent_deps\", count=1}]"]),
            // A slow correct replica (every message to it late, up to 600 ms) commits commands
            // whose floor (every 8 ids) lies above its own executed prefix.
            B::IgnoreFloors => (FLOORS_SLOW, &[]),
        })
    }

    fn lower(l: &Leaderless, genesis_balance: u64, roles: &[Option<Behavior>], _: &SimConfig) -> Config {
        let leaderless = LeaderlessConfig {
            conflicts: l.conflicts,
            fast_path_wait: Span::from_millis_f64(l.fast_path_wait_ms),
            view_timeout: Span::from_millis_f64(l.view_timeout_ms),
            recovery_timeout: Span::from_millis_f64(l.recovery_timeout_ms),
            genesis_balance,
            checkpoint_interval: match l.variant {
                ll::Variant::Wintermute => l.checkpoint_interval,
                ll::Variant::Epaxos => 0,
            },
            ..LeaderlessConfig::new(l.variant)
        };
        let roster = roles.iter().map(|r| r.unwrap_or(Behavior::Correct)).collect();
        Config { leaderless, roster, reconfigure_at_s: l.reconfigure_at_s.clone() }
    }

    fn plant(cfg: &mut Config, bug: ll::PlantedBug) {
        cfg.leaderless.bug = Some(bug);
    }

    fn run(run: Run<'_>, workload: Box<dyn Workload>, cfg: &Config) -> Ran {
        let (n, f) = (run.sim.n_replicas, run.sim.f);
        let make = |id: sim_core::NodeId| ll::Leaderless::new(cfg.leaderless.clone(), n, f, cfg.roster[id.idx()]);
        let monitor = LeaderlessMonitor::new(n, cfg.leaderless.conflicts);
        let workload = Box::new(Reconfigurations::new(workload, &cfg.reconfigure_at_s));
        let sim = Simulation::new(run.sim.clone(), workload, make).with_monitor(Box::new(monitor));
        let (result, states) = drive(sim, run);
        Ran { result, states, byzantine_stake_ppm: None }
    }
}

/// A workload with reconfiguration commands (barriers that move every replica to the next
/// epoch) merged in at given times, sent by client 0.
struct Reconfigurations {
    inner: Box<dyn Workload>,
    next_inner: Option<Arrival>,
    at: VecDeque<Time>,
}

impl Reconfigurations {
    fn new(mut inner: Box<dyn Workload>, at_s: &[f64]) -> Reconfigurations {
        let next_inner = inner.next_arrival();
        Reconfigurations { inner, next_inner, at: at_s.iter().map(|&s| Time::from_secs_f64(s)).collect() }
    }
}

impl Workload for Reconfigurations {
    fn next_arrival(&mut self) -> Option<Arrival> {
        let barrier_first = match (self.at.front(), &self.next_inner) {
            (Some(&t), Some(a)) => t <= a.at,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if barrier_first {
            let at = self.at.pop_front().expect("checked");
            let (from, to) = (RECONFIGURE, RECONFIGURE);
            return Some(Arrival { at, client_idx: 0, from, to, amount: 0, size_bytes: 64 });
        }
        let next = self.next_inner.take();
        self.next_inner = self.inner.next_arrival();
        next
    }
}
