//! A test-only toy protocol, to show what adding a protocol takes: this module and one line of
//! `registry!`, its scenario section `[toy]` included. A replica commits every request alone,
//! `[toy] commit_delay_ms` after it arrives, and answers it; its monitor checks that no replica
//! commits a transaction twice.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::checker::Violation;
use sim_core::observe::Observer;
use sim_core::protocol::{Ctx, Monitor};
use sim_core::workload::Workload;
use sim_core::{NodeId, Protocol, SimConfig, Simulation, Span, Time, Tx, TxId};

use super::{Boundary, Ran, Reading, Run, drive};
use crate::reader::{self, Ctx as Reader, FieldTable, TIME_MS, table};

pub struct Module;

/// The toy has no Byzantine behaviour and no planted bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {}

/// The toy sends nothing to other replicas.
pub type ToyMsg = sim_core::NoMessage;

/// A replica of the toy: the requests it holds, by the timer that commits each.
#[derive(Debug, Default)]
pub struct Toy {
    commit_delay: Span,
    held: BTreeMap<u64, Tx>,
    next_timer: u64,
}

/// What a toy replica tells its monitor: it committed this transaction.
#[derive(Debug)]
pub struct Committed(pub TxId);

impl Protocol for Toy {
    type Message = ToyMsg;
    type Timer = u64;
    type Record = Committed;

    fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}

    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, msg: ToyMsg) {
        match msg {}
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: u64) {
        let tx = self.held.remove(&timer).expect("one timer per held request");
        commit(ctx, &tx);
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        if self.commit_delay == Span::ZERO {
            return commit(ctx, &tx);
        }
        self.next_timer += 1;
        self.held.insert(self.next_timer, tx);
        ctx.set_timer(self.next_timer, self.commit_delay);
    }
}

fn commit(ctx: &mut Ctx<'_, Toy>, tx: &Tx) {
    {
        ctx.committed(tx);
        ctx.record(Committed(tx.id));
        ctx.executed(tx);
        ctx.reply(tx, 0);
    }
}

/// Each (replica, transaction) committed once.
#[derive(Debug, Default)]
pub struct ToyMonitor {
    seen: BTreeSet<(NodeId, TxId)>,
    /// Test-only: report every commit as a second one (a planted mistake the test catches).
    #[doc(hidden)]
    pub flag_every_commit: bool,
}

impl Monitor<Committed> for ToyMonitor {
    fn observe(&mut self, at: Time, node: NodeId, record: &Committed, _: &Observer) -> Result<(), Violation> {
        let fresh = self.seen.insert((node, record.0)) && !self.flag_every_commit;
        let detail = format!("{:?} committed twice", record.0);
        fresh.then_some(()).ok_or(Violation { at_ns: at.0, replica: node, invariant: "toy: commit once", detail })
    }
}

/// A toy run: how long a request waits, and whether its monitor is planted with a mistake.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub commit_delay: Span,
    pub flag_every_commit: bool,
}

/// `[toy]`, as validated.
#[derive(Clone, Debug, PartialEq)]
pub struct ToySection {
    pub commit_delay_ms: f64,
}

table!(fields, "toy", "toy", list = false, {
    commit_delay_ms: Number(TIME_MS), Num(0.0), "", "how long a replica holds a request before it commits it";
});

impl Boundary for Module {
    type Behavior = Behavior;
    type Bug = Bug;
    type Config = Config;
    type Message = ToyMsg;
    type Section = ToySection;
    const FIELDS: FieldTable = fields::TABLE;
    const NAME: &'static str = "toy";
    const NODE: &'static str = "replica";
    const VIEW: &'static str = "view";
    const VIEWS_MONOTONE: bool = false;
    const BEHAVIORS: &'static [Behavior] = &[];
    const BUGS: &'static [Bug] = &[];

    fn behavior_name(b: Behavior) -> &'static str {
        match b {}
    }

    fn twin() -> Option<Behavior> {
        None
    }

    fn read(c: &mut Reader<'_>, top: &reader::Section<'_>, _: &Reading) -> Option<ToySection> {
        let sec = c.section(top, "toy");
        c.leaf_keys(&sec, &fields::TABLE);
        Some(ToySection { commit_delay_ms: c.num(&sec, &fields::commit_delay_ms)?.v })
    }

    fn write(sec: &ToySection) -> Result<Vec<(&'static str, toml::Value)>, String> {
        Ok(vec![("commit_delay_ms", sec.commit_delay_ms.into())])
    }

    fn tolerates(_: &ToySection, n: u32, f: u32) -> bool {
        f < n
    }

    /// One reply confirms: the replica that got the request committed it.
    fn client_f(_: &ToySection, _: u32) -> u32 {
        0
    }

    fn bug_name(b: Bug) -> &'static str {
        match b {}
    }

    fn explored_by(b: Bug) -> Option<(&'static str, &'static [&'static str])> {
        match b {}
    }

    fn lower(sec: &ToySection, _: u64, _: &[Option<Behavior>], _: &SimConfig) -> Config {
        Config { commit_delay: Span::from_millis_f64(sec.commit_delay_ms), flag_every_commit: false }
    }

    fn plant(_: &mut Config, bug: Bug) {
        match bug {}
    }

    fn run(run: Run<'_>, workload: Box<dyn Workload>, cfg: &Config) -> Ran {
        let monitor = ToyMonitor { flag_every_commit: cfg.flag_every_commit, ..ToyMonitor::default() };
        let make = |_| Toy { commit_delay: cfg.commit_delay, ..Toy::default() };
        let sim = Simulation::new(run.sim.clone(), workload, make).with_monitor(Box::new(monitor));
        let (result, states) = drive(sim, run);
        Ran { result, states, byzantine_stake_ppm: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scenario;
    use crate::protocols::{ProtocolConfig, ProtocolKind};

    const SCENARIO: &str =
        "duration_s = 2\ndrain_s = 1\nprotocol = \"toy\"\n[replicas]\nn = 4\n[workload]\nrate_tps = 200\n";

    fn toy_scenario() -> Scenario {
        load(&[]).unwrap_or_else(|d| panic!("{d}"))
    }

    fn load(sets: &[&str]) -> Result<Scenario, crate::parse::Diagnostics> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        crate::parse::load_str(std::path::Path::new("toy.toml"), SCENARIO, &sets, None)
    }

    /// Its section is read from the scenario and checked like any other: `[toy] commit_delay_ms`
    /// delays every commit, and a bad value or an unknown key is reported where it is written.
    #[test]
    fn the_toy_section_is_read_checked_and_run() {
        let s = load(&["toy.commit_delay_ms=40"]).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(s.section.toy(), Some(&ToySection { commit_delay_ms: 40.0 }));
        let slow = crate::run::run(&s, &mut |_, _| {});
        let fast = crate::run::run(&toy_scenario(), &mut |_, _| {});
        assert_eq!(slow.summary.unconfirmed_tx, 0);
        assert!(slow.summary.consensus.p50_ms >= 40.0, "{:?}", slow.summary);
        assert!(fast.summary.consensus.p50_ms < 40.0, "{:?}", fast.summary);
        let bad = load(&["toy.commit_delay_ms=-1", "toy.commit_delay=2"]).expect_err("two mistakes").to_string();
        assert!(bad.contains("toy.commit_delay_ms: must be >= 0"), "{bad}");
        assert!(bad.contains("unknown field `commit_delay`; did you mean `commit_delay_ms`?"), "{bad}");
    }

    /// The toy is one module and one registry line, yet a scenario file names it and it runs
    /// end to end: parsed, lowered, run with its monitor, measured.
    #[test]
    fn the_toy_protocol_runs_end_to_end() {
        let s = toy_scenario();
        assert_eq!(s.protocol(), ProtocolKind::Toy);
        assert_eq!(ProtocolKind::from_name("toy"), Some(ProtocolKind::Toy));
        let report = crate::run::run(&s, &mut |_, _| {});
        assert_eq!(report.result.stop, sim_core::Stop::End);
        assert!(report.summary.submitted_tx > 300, "{:?}", report.summary);
        assert_eq!(report.summary.unconfirmed_tx, 0, "every request commits alone, at once");
        let again = crate::run::run(&s, &mut |_, _| {});
        assert_eq!(again.result.digest, report.result.digest);
    }

    /// The toy's monitor can fail: planted to see every commit as a second one, it stops the
    /// run at the first commit.
    #[test]
    fn the_toy_monitor_catches_a_planted_mistake() {
        let s = toy_scenario();
        let lowered = crate::lower::lower(&s);
        let planted = ProtocolConfig::Toy(Config { flag_every_commit: true, ..Config::default() });
        let workload = lowered.workload.build(sim_core::Streams::new(s.seed).stream("workload"));
        let info = crate::run::run_info(&s, lowered.sim.net.nodes.len() as u32, s.protocol().kind_table());
        let run =
            Run { info, seed: s.seed, flight_records: 0, sim: &lowered.sim, watchers: &[], progress: &mut |_, _| {} };
        let ran = s.protocol().run(run, workload, &planted);
        match ran.result.stop {
            sim_core::Stop::Violation(v) => assert_eq!(v.invariant, "toy: commit once"),
            other => panic!("the planted mistake went unseen: {other:?}"),
        }
    }
}
