//! A test-only toy protocol, to show what adding a protocol takes: this module and one line of
//! `registry!`. A replica commits every request alone, at once, and answers it; its monitor
//! checks that no replica commits a transaction twice.

use std::collections::BTreeSet;

use sim_core::checker::Violation;
use sim_core::observe::Observer;
use sim_core::protocol::{Ctx, Monitor};
use sim_core::workload::Workload;
use sim_core::{Message, NodeId, Protocol, SimConfig, Simulation, Time, Tx, TxId};

use super::{Boundary, Ran, Run, drive};
use crate::model::Scenario;

pub struct Module;

/// The toy has no Byzantine behaviour and no planted bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {}

/// The toy sends nothing to other replicas.
#[derive(Clone, Debug)]
pub enum ToyMsg {}

impl Message for ToyMsg {
    const KINDS: &'static [&'static str] = &[];

    fn wire_size(&self) -> u32 {
        match *self {}
    }

    fn fingerprint(&self) -> u64 {
        match *self {}
    }

    fn kind(&self) -> usize {
        match *self {}
    }
}

/// A replica of the toy.
#[derive(Debug, Default)]
pub struct Toy;

/// What a toy replica tells its monitor: it committed this transaction.
#[derive(Debug)]
pub struct Committed(pub TxId);

impl Protocol for Toy {
    type Message = ToyMsg;
    type Timer = ();
    type Record = Committed;

    fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}

    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, msg: ToyMsg) {
        match msg {}
    }

    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        ctx.committed(&tx);
        ctx.record(Committed(tx.id));
        ctx.executed(&tx);
        ctx.reply(&tx, 0);
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

/// A toy run: whether its monitor is planted with a mistake.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub flag_every_commit: bool,
}

impl Boundary for Module {
    type Behavior = Behavior;
    type Bug = Bug;
    type Config = Config;
    type Message = ToyMsg;
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

    fn tolerates(_: &Scenario, n: u32, f: u32) -> bool {
        f < n
    }

    /// One reply confirms: the replica that got the request committed it.
    fn client_f(_: &Scenario) -> u32 {
        0
    }

    fn bug_name(b: Bug) -> &'static str {
        match b {}
    }

    fn explored_by(b: Bug) -> Option<(&'static str, &'static [&'static str])> {
        match b {}
    }

    fn lower(_: &Scenario, _: &[Option<Behavior>], _: &SimConfig) -> Config {
        Config::default()
    }

    fn plant(_: &mut Config, bug: Bug) {
        match bug {}
    }

    fn run(run: Run<'_>, workload: Box<dyn Workload>, cfg: &Config) -> Ran {
        let monitor = ToyMonitor { flag_every_commit: cfg.flag_every_commit, ..ToyMonitor::default() };
        let sim = Simulation::new(run.sim.clone(), workload, |_| Toy).with_monitor(Box::new(monitor));
        let (result, states) = drive(sim, run);
        Ran { result, states, byzantine_stake_ppm: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::{ProtocolConfig, ProtocolKind};

    const SCENARIO: &str =
        "duration_s = 2\ndrain_s = 1\nprotocol = \"toy\"\n[replicas]\nn = 4\n[workload]\nrate_tps = 200\n";

    fn toy_scenario() -> Scenario {
        let path = std::path::Path::new("toy.toml");
        crate::parse::load_str(path, SCENARIO, &[], None).unwrap_or_else(|d| panic!("{d}"))
    }

    /// The toy is one module and one registry line, yet a scenario file names it and it runs
    /// end to end: parsed, lowered, run with its monitor, measured.
    #[test]
    fn the_toy_protocol_runs_end_to_end() {
        let s = toy_scenario();
        assert_eq!(s.protocol, ProtocolKind::Toy);
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
        let planted = ProtocolConfig::Toy(Config { flag_every_commit: true });
        let workload = lowered.workload.build(sim_core::Streams::new(s.seed).stream("workload"));
        let run = Run { scenario: &s, sim: &lowered.sim, watchers: &[], progress: &mut |_, _| {} };
        let ran = s.protocol.run(run, workload, &planted);
        match ran.result.stop {
            sim_core::Stop::Violation(v) => assert_eq!(v.invariant, "toy: commit once"),
            other => panic!("the planted mistake went unseen: {other:?}"),
        }
    }
}
