//! Algorand at the boundary: its `[algorand]` section (declared, read and checked here), its
//! behaviours, its lowered configuration (a preset with the
//! scenario's `[algorand]` values), the world every user shares, and its run: one `Algorand`
//! per user over one shared ledger memo, checked by the `ResultMonitor`.

use std::rc::Rc;

use protocols::algorand::{self as ag, AlgorandConfig, StakeDistribution, Topology, World};
use protocols::common::log_ledger::{LogLedger, SharedLedger};
use protocols::common::results::ResultMonitor;
use sim_core::workload::Workload;
use sim_core::{SimConfig, Simulation, Span, Streams};

use super::{Boundary, Ran, Reading, Run, SeedProblem, SummaryRows, drive};
use crate::reader::{self, Bounds, Ctx, Field, FieldTable, Origin, Section, TIME_MS, TIMEOUT_S, Val, table};

pub struct Module;

/// Algorand's Byzantine behaviours: the protocol's own (`Correct` is no scenario's: a user no
/// `[[byzantine]]` entry names follows the protocol).
pub use protocols::algorand::Behavior;

/// An Algorand run: the preset with the scenario's values, what each user does, and every
/// account's opening balance.
#[derive(Clone, Debug)]
pub struct Config {
    pub algorand: AlgorandConfig,
    pub roster: Vec<ag::Behavior>,
    /// Every account's opening balance (`Scenario::genesis_balance`).
    pub genesis_balance: u64,
}

/// The Algorand baseline's settings (`[algorand]`): a preset's values, with the file's
/// overrides applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Algorand {
    pub preset: AlgorandPreset,
    pub topology: AlgorandTopology,
    /// Relays topology: users 0..relays are relays; 0 = n/100 of them, at least 20 (at most n).
    pub relays: u32,
    /// Relays topology: each relay links to this many other relays (at most all of them).
    pub relay_degree: u32,
    /// Links per user: random peers, or (relays topology) random relays for a non-relay user.
    pub fanout: u32,
    pub gossip_batch_ms: f64,
    pub block_max_bytes: u32,
    pub priority_wait_s: f64,
    pub block_wait_s: f64,
    pub step_timeout_s: f64,
    /// A round ends once its FINAL votes reach their threshold (or `step_timeout_s` passes).
    pub final_wait: bool,
    pub vrf_verify_us: f64,
    pub stake: Stake,
}

/// Which preset the section starts from. The boundary's own: the protocol has a constructor per
/// preset (`AlgorandConfig::mainnet`, `sosp2017`), no enum of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgorandPreset {
    /// Today's network (go-algorand's consensus parameters, relays).
    Mainnet,
    /// Gilad et al., SOSP 2017 (random peers, the paper's committees and timeouts).
    Sosp2017,
}

/// The kind of gossip graph. The boundary's own: the protocol's `Topology::Relays` carries the
/// relay counts, which the section keeps as fields of their own (each read, defaulted and
/// checked apart, and refused under peers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgorandTopology {
    Relays,
    Peers,
}

/// How stake is spread over Algorand users. The boundary's own: the protocol's
/// `StakeDistribution` carries the stake per user, which is the preset's and no scenario's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stake {
    Equal,
    /// Pareto-distributed holdings with this shape (> 1).
    Pareto {
        shape: f64,
    },
}

/// The values of `preset` and `topology`, in the order of their declared names.
pub(crate) const PRESETS: &[AlgorandPreset] = &[AlgorandPreset::Mainnet, AlgorandPreset::Sosp2017];
pub(crate) const TOPOLOGIES: &[AlgorandTopology] = &[AlgorandTopology::Relays, AlgorandTopology::Peers];

/// Algorand users (replicas) a scenario may have: its messages travel over a gossip graph of
/// bounded degree, not all-to-all, so it scales past the BFT protocols' cap.
const MAX_ALGORAND_USERS: i128 = 100_000;
/// Algorand is safe while the Byzantine users hold less than this share of the stake (ppm).
const BYZANTINE_STAKE_PPM: u64 = 200_000;
/// Links per Algorand user, and per relay to other relays: the gossip graph's memory grows with
/// them.
const MAX_FANOUT: i128 = 64;
const MAX_RELAY_DEGREE: i128 = 256;
/// 1 GiB: far beyond any real block, and its bytes fit a u32.
const MAX_BLOCK_KIB: f64 = 1_048_576.0;
/// Pareto stake with this shape puts 80% of the stake with 20% of the users.
const DEFAULT_PARETO_SHAPE: f64 = 1.16;

table!(fields, "algorand", "algorand", list = false, {
    preset: OneOf(&["mainnet", "sosp2017"]), Str("mainnet"), "",
        "the committees, thresholds and defaults below: today's network (go-algorand: 20 proposers, soft committee 2,990 with threshold 2,267, cert committee 1,500 with 1,112; relays) or the paper's (26 proposers, step committee 2,000 with T = 0.685, final 10,000 with T = 0.74; random peers)";
    topology: OneOf(&["relays", "peers"]), Computed("mainnet: `\"relays\"`; sosp2017: `\"peers\"`"), "",
        "relays: users 0 to `relays`-1 relay everything, each linked to `relay_degree` random relays, and every other user links to `fanout` random relays; peers: every user links to `fanout` random users and relays everything once. Links go both ways";
    relays: Integer(0, MAX_ALGORAND_USERS), Computed("`0`"), "{bounds}; at most n; relays topology only",
        "number of relays; 0 = n/100, at least 20 (at most n)";
    relay_degree: Integer(1, MAX_RELAY_DEGREE), Computed("`8`"),
        "{bounds}, and stated: below the number of relays; relays topology only",
        "links from each relay to other relays (a preset's value is capped at the relays there are)";
    fanout: Integer(1, MAX_FANOUT), Computed("`4`"), "{bounds}, and stated: at most the relays (relays) or n-1 (peers)",
        "links per user (a preset's value is capped at what there is to link to)";
    gossip_batch_ms: Number(TIME_MS), Computed("`10`"), "",
        "a user gathers what it relays for this long and sends it as one message per link; 0: after every handler";
    block_max_kib: Number(Bounds::at_least(1.0).at_most(MAX_BLOCK_KIB)),
        Computed("mainnet: `5120`; sosp2017: `976.5625` (1 MB)"), "{bounds}; holds one `workload.tx_size_bytes` transaction",
        "most transaction bytes in a block";
    priority_wait_s: Number(TIMEOUT_S), Computed("mainnet: `2.5`; sosp2017: `10`"), "",
        "from the start of a round, how long users collect proposals' priorities before voting for the best block (the paper's λ_priority + λ_stepvar, today's filter timeout)";
    block_wait_s: Number(TIMEOUT_S), Computed("mainnet: `1.5`; sosp2017: `60`"), "",
        "after that, how long a user waits for the best block before voting for the empty one (λ_block)";
    step_timeout_s: Number(TIMEOUT_S), Computed("mainnet: `4`; sosp2017: `20`"), "",
        "how long a voting step waits for its threshold (λ_step)";
    final_wait: Boolean, Computed("mainnet: `false`; sosp2017: `true`"), "",
        "whether a round ends only once its FINAL votes reach their threshold, or `step_timeout_s` after BinaryBA* returned (the paper's BA*, which counts FINAL before it returns final or tentative); false: the next round starts when BinaryBA* returns and FINAL is counted beside it";
    vrf_verify_us: Number(TIME_MS), Computed("`150`"), "", "CPU to verify a VRF proof (of a vote's or a proposal's sortition)";
    stake: OneOf(&["equal", "pareto"]), Computed("`\"equal\"`"), "",
        "every user holds as much; or Pareto-distributed holdings with the same mean, drawn from the seed's `algorand` stream";
    pareto_shape: Number(Bounds::above(1.0)), Num(DEFAULT_PARETO_SHAPE), "{bounds}; `\"pareto\"` only",
        "the Pareto shape: 1.16 puts 80% of the stake with 20% of the users; larger is more equal";
});

/// `[algorand]`: a preset, and any of its values overridden. With `n` (when the scenario runs
/// Algorand), checks the gossip graph against the number of users, and with `tx_size_bytes`
/// that a transaction fits a block.
fn read_section(c: &mut Ctx<'_>, top: &reader::Section<'_>, at: &Reading) -> Option<Algorand> {
    use fields as F;
    let n = at.n.filter(|_| at.runs);
    let tx_size_bytes = at.tx_size_bytes.filter(|_| at.runs);
    let sec = c.section(top, "algorand");
    c.leaf_keys(&sec, &F::TABLE);
    let preset = c.pick(&sec, &F::preset, PRESETS);
    // With a bad preset (reported), the other fields are still checked, against mainnet's.
    let base = self::preset(preset.as_ref().map_or(AlgorandPreset::Mainnet, |p| p.v));
    let (default_topology, relay_defaults) = match base.topology {
        Topology::Relays { relays, relay_degree } => (AlgorandTopology::Relays, (relays, relay_degree)),
        Topology::Peers => match AlgorandConfig::mainnet().topology {
            Topology::Relays { relays, relay_degree } => (AlgorandTopology::Peers, (relays, relay_degree)),
            Topology::Peers => unreachable!("mainnet uses relays"),
        },
    };
    let topology = c.pick_or(&sec, &F::topology, default_topology, TOPOLOGIES);
    let relays = c.whole_or::<u32>(&sec, &F::relays, relay_defaults.0);
    let degree = c.whole_or::<u32>(&sec, &F::relay_degree, relay_defaults.1);
    let fanout = c.whole_or::<u32>(&sec, &F::fanout, base.fanout);
    // The gossip graph: relays and relay_degree belong to the relays topology; the rest is
    // checked against the users only when the scenario runs Algorand.
    let topology_is = |t| topology.as_ref().is_some_and(|v| v.v == t);
    let peers = topology_is(AlgorandTopology::Peers);
    let implicit = topology.as_ref().is_some_and(|t| t.at == Origin::Implicit);
    let relays =
        relays.filter(|r| if peers { only_relays(c, &sec, "relays", implicit) } else { check_relays(c, r, n) });
    let relay_count = |r: &Val<u32>, n| {
        let topology = Topology::Relays { relays: r.v, relay_degree: 1 };
        AlgorandConfig { topology, ..base.clone() }.relay_count(n)
    };
    let count =
        n.zip(relays.as_ref()).filter(|_| topology_is(AlgorandTopology::Relays)).map(|(n, r)| relay_count(r, n));
    let degree = degree.filter(|d| match count {
        _ if peers => only_relays(c, &sec, "relay_degree", implicit),
        Some(count) => check_links(c, d, count.saturating_sub(1), "a relay links to relay_degree other relays"),
        None => true,
    });
    let fanout = fanout.filter(|f| match (peers, count, n) {
        (true, _, Some(n)) => check_links(c, f, n - 1, "a user links to fanout other users"),
        (false, Some(count), _) => check_links(c, f, count, "a non-relay user links to fanout distinct relays"),
        _ => true,
    });
    let batch = c.num_or(&sec, &F::gossip_batch_ms, base.gossip_batch.as_millis_f64());
    let block_kib = c.num_or(&sec, &F::block_max_kib, f64::from(base.block_max_bytes) / 1024.0);
    let block_kib = block_kib.filter(|kib| check_block_fits(c, kib, tx_size_bytes));
    let secs = |c: &mut Ctx<'_>, f: &Field, default: sim_core::Span| c.num_or(&sec, f, default.as_secs_f64());
    let priority_wait = secs(c, &F::priority_wait_s, base.priority_wait);
    let block_wait = secs(c, &F::block_wait_s, base.block_wait);
    let step_timeout = secs(c, &F::step_timeout_s, base.step_timeout);
    let final_wait = c.boolean(&sec, F::final_wait.key, base.final_wait);
    let vrf = c.num_or(&sec, &F::vrf_verify_us, base.vrf_verify.as_nanos() as f64 / 1e3);
    let stake = read_stake(c, &sec, &base);
    Some(Algorand {
        preset: preset?.v,
        topology: topology?.v,
        relays: relays?.v,
        relay_degree: degree?.v,
        fanout: fanout?.v,
        gossip_batch_ms: batch?.v,
        block_max_bytes: (block_kib?.v * 1024.0).round() as u32,
        priority_wait_s: priority_wait?.v,
        block_wait_s: block_wait?.v,
        step_timeout_s: step_timeout?.v,
        final_wait: final_wait?.v,
        vrf_verify_us: vrf?.v,
        stake: stake?,
    })
}

/// A block holds at least one transaction (`tx_size_bytes`, when the scenario runs Algorand).
fn check_block_fits(c: &mut Ctx<'_>, kib: &Val<f64>, tx_size_bytes: Option<u32>) -> bool {
    let Some(tx) = tx_size_bytes else { return true };
    let ok = (kib.v * 1024.0).round() >= f64::from(tx);
    if !ok {
        let message = format!("a block of {} KiB cannot hold one transaction of {tx} bytes", kib.v);
        let help = format!("raise block_max_kib to {} or lower workload.tx_size_bytes", f64::from(tx) / 1024.0);
        c.fail(kib, message, Some(help));
    }
    ok
}

/// `relays` fits the users (0: n/100 of them, at least 20).
fn check_relays(c: &mut Ctx<'_>, relays: &Val<u32>, n: Option<u32>) -> bool {
    let Some(n) = n else { return true };
    let ok = relays.v <= n;
    if !ok {
        let message = format!("relays = {} but there are only {n} users (replicas.n)", relays.v);
        c.fail(relays, message, Some(format!("make relays at most {n}, or 0 for n/100 of them (at least 20)")));
    }
    ok
}

/// A stated `fanout` or `relay_degree` has that many distinct users to link to (`available`);
/// a preset's value is capped instead, as the protocol does.
fn check_links(c: &mut Ctx<'_>, links: &Val<u32>, available: u32, why: &str) -> bool {
    let ok = links.at == Origin::Implicit || links.v <= available;
    if !ok {
        let key = links.field.rsplit('.').next().unwrap_or(&links.field);
        let message = format!("{key} = {} but only {available} can be linked to: {why}", links.v);
        let help = match available {
            0 => "add users or relays, or remove it".to_string(),
            _ => format!("lower {key} to at most {available}, or add users or relays"),
        };
        c.fail(links, message, Some(help));
    }
    ok
}

/// Reports `key` given with the peers topology (`implicit`: the preset's).
fn only_relays(c: &mut Ctx<'_>, sec: &Section<'_>, key: &str, implicit: bool) -> bool {
    let Some(node) = sec.get(key) else { return true };
    let whose = if implicit { ", the preset's" } else { "" };
    let message = format!("only topology = \"relays\" has {key}; this one is \"peers\"{whose}");
    let help = "remove it, or write topology = \"relays\"".to_string();
    c.report(&node.at, Some(&sec.field(key)), message, Some(help));
    false
}

/// `stake` and `pareto_shape` (Pareto only); the mean per user is the preset's.
fn read_stake(c: &mut Ctx<'_>, sec: &Section<'_>, base: &AlgorandConfig) -> Option<Stake> {
    use fields as F;
    let default = match base.stake {
        StakeDistribution::Equal { .. } => "equal",
        StakeDistribution::Pareto { .. } => "pareto",
    };
    let default_shape = match base.stake {
        StakeDistribution::Pareto { shape, .. } => shape,
        StakeDistribution::Equal { .. } => DEFAULT_PARETO_SHAPE,
    };
    let kind = c.pick_or(sec, &F::stake, default, F::stake.names())?;
    if kind.v == "equal" {
        let Some(node) = sec.get("pareto_shape") else { return Some(Stake::Equal) };
        let help = "remove it, or write stake = \"pareto\"".to_string();
        return c.bad(node, &sec.field("pareto_shape"), "only stake = \"pareto\" has pareto_shape", help.into());
    }
    let shape = c.num_or(sec, &F::pareto_shape, default_shape)?;
    Some(Stake::Pareto { shape: shape.v })
}

impl Boundary for Module {
    type Behavior = Behavior;
    type Bug = ag::PlantedBug;
    type Config = Config;
    type Message = ag::Msg;
    type Section = Algorand;
    const FIELDS: FieldTable = fields::TABLE;
    const NAME: &'static str = "algorand";
    const NODE: &'static str = "user";
    const VIEW: &'static str = "round";
    const VIEWS_MONOTONE: bool = false;
    /// Its counters as it names them.
    const SUMMARY_ROWS: SummaryRows = SummaryRows::Counters;
    const MAX_NODES: i128 = MAX_ALGORAND_USERS;
    /// Safety rests on the Byzantine users' share of the stake, not on a count: f is 0.
    const COUNTS_F: bool = false;
    const NO_SEND_TO_ALL: Option<(&'static str, &'static str)> = Some((
        "send_to = \"all\" does not fit protocol = \"algorand\": an Algorand client trusts the user it submits to \
         (its reply, once the block holding the transaction is certified there, confirms), and every user gossips \
         what it receives, so sending to all n users only multiplies the load",
        "use send_to = \"nearest\" (the default) or \"random\"",
    ));
    const NO_VIEWS: Option<(&'static str, &'static str)> = Some((
        "Algorand has no views (its messages carry none), so a rule with `views` would never match",
        "remove `views`; match Algorand messages by kinds, from and to",
    ));
    const BEHAVIORS: &'static [Behavior] =
        &[Behavior::Silent, Behavior::Equivocate, Behavior::DoubleVote, Behavior::FakeSync];
    const BUGS: &'static [ag::PlantedBug] = ag::PlantedBug::ALL;

    fn behavior_name(b: Behavior) -> &'static str {
        match b {
            Behavior::Correct => "correct",
            Behavior::Silent => "silent",
            Behavior::Equivocate => "equivocate",
            Behavior::DoubleVote => "double_vote",
            Behavior::FakeSync => "fake_sync",
        }
    }

    fn twin() -> Option<Behavior> {
        None
    }

    /// Safety rests on the Byzantine users' share of the stake, not on a count: f is 0.
    fn read(c: &mut Ctx<'_>, top: &reader::Section<'_>, at: &Reading) -> Option<Algorand> {
        read_section(c, top, at)
    }

    fn write(a: &Algorand) -> Result<Vec<(&'static str, toml::Value)>, String> {
        write_section(a)
    }

    /// A relay count above the users shrinks to them.
    fn fit(a: &mut Algorand, n: u32, _: f64) {
        a.relays = a.relays.min(n);
    }

    fn seed_problem(a: &Algorand, n: u32, seed: u64, byzantine: &[Vec<u32>]) -> Option<SeedProblem> {
        stake_problem(a, n, seed, byzantine)
    }

    fn tolerates(_: &Algorand, _: u32, f: u32) -> bool {
        f == 0
    }

    /// A client trusts the user it submits to: one reply confirms (the block that holds the
    /// transaction is certified at that user).
    fn client_f(_: &Algorand, _: u32) -> u32 {
        0
    }

    fn bug_name(b: ag::PlantedBug) -> &'static str {
        b.name()
    }

    fn explored_by(b: ag::PlantedBug) -> Option<(&'static str, &'static [&'static str])> {
        match b {
            ag::PlantedBug::TrustAnySync | ag::PlantedBug::LowThreshold => {
                Some(("scenarios/examples/algorand-attacks.toml", &[]))
            }
        }
    }

    fn lower(a: &Algorand, genesis_balance: u64, roles: &[Option<Behavior>], _: &SimConfig) -> Config {
        let roster = roles.iter().map(|r| r.unwrap_or(Behavior::Correct)).collect();
        Config { algorand: config(a), roster, genesis_balance }
    }

    fn plant(cfg: &mut Config, bug: ag::PlantedBug) {
        cfg.algorand.bug = Some(bug);
    }

    fn run(run: Run<'_>, workload: Box<dyn Workload>, cfg: &Config) -> Ran {
        let config = Rc::new(cfg.algorand.clone());
        let world = Rc::new(world(&config, run.sim.n_replicas, run.seed));
        // Crashing users count as Byzantine too.
        let byzantine_stake_ppm = Some(world.stake_ppm(|u| !run.sim.correct[u as usize]));
        let ledger = SharedLedger::new(cfg.genesis_balance);
        let make = |id: sim_core::NodeId| {
            ag::Algorand::new(world.clone(), config.clone(), cfg.roster[id.idx()])
                .with_ledger(LogLedger::shared(&ledger))
        };
        let monitor = Box::new(ResultMonitor::default());
        let sim = Simulation::new(run.sim.clone(), workload, make).with_monitor(monitor);
        let (result, states) = drive(sim, run);
        Ran { result, states, byzantine_stake_ppm }
    }
}

/// The protocol's configuration of a preset (validation takes its defaults from it).
pub fn preset(preset: AlgorandPreset) -> AlgorandConfig {
    match preset {
        AlgorandPreset::Mainnet => AlgorandConfig::mainnet(),
        AlgorandPreset::Sosp2017 => AlgorandConfig::sosp2017(),
    }
}

/// The Algorand preset with the scenario's `[algorand]` values.
pub fn config(a: &Algorand) -> AlgorandConfig {
    let preset = preset(a.preset);
    let per_user = match preset.stake {
        StakeDistribution::Equal { per_user } => per_user,
        StakeDistribution::Pareto { mean_per_user, .. } => mean_per_user,
    };
    AlgorandConfig {
        fanout: a.fanout,
        topology: match a.topology {
            AlgorandTopology::Relays => Topology::Relays { relays: a.relays, relay_degree: a.relay_degree },
            AlgorandTopology::Peers => Topology::Peers,
        },
        gossip_batch: Span::from_millis_f64(a.gossip_batch_ms),
        block_max_bytes: a.block_max_bytes,
        priority_wait: Span::from_secs_f64(a.priority_wait_s),
        block_wait: Span::from_secs_f64(a.block_wait_s),
        step_timeout: Span::from_secs_f64(a.step_timeout_s),
        final_wait: a.final_wait,
        vrf_verify: Span::from_nanos_f64(a.vrf_verify_us * 1e3),
        stake: match a.stake {
            Stake::Equal => StakeDistribution::Equal { per_user },
            Stake::Pareto { shape } => StakeDistribution::Pareto { shape, mean_per_user: per_user },
        },
        ..preset
    }
}

/// What every user knows before the first round (stakes, gossip graph, keys), drawn from the
/// seed's `algorand` stream: the same for the run and for validation.
pub fn world(cfg: &AlgorandConfig, n_users: u32, seed: u64) -> World {
    World::new(cfg, n_users, &mut Streams::new(seed).stream("algorand"))
}

/// Only the values that differ from the preset's: a preset's link counts are capped to the
/// users there are, stated ones are checked against them.
fn write_section(a: &Algorand) -> Result<Vec<(&'static str, toml::Value)>, String> {
    let base = preset_values(a.preset);
    let mut keys = vec![("preset", fields::preset.name_of(PRESETS, a.preset).into())];
    if a.topology != base.topology {
        keys.push(("topology", fields::topology.name_of(TOPOLOGIES, a.topology).into()));
    }
    let relays = a.topology == AlgorandTopology::Relays;
    let counts = [
        ("relays", relays, a.relays, base.relays),
        ("relay_degree", relays, a.relay_degree, base.relay_degree),
        ("fanout", true, a.fanout, base.fanout),
    ];
    for (key, applies, v, default) in counts {
        if applies && v != default {
            keys.push((key, i64::from(v).into()));
        }
    }
    let floats = [
        ("gossip_batch_ms", a.gossip_batch_ms, base.gossip_batch_ms),
        ("block_max_kib", f64::from(a.block_max_bytes) / 1024.0, f64::from(base.block_max_bytes) / 1024.0),
        ("priority_wait_s", a.priority_wait_s, base.priority_wait_s),
        ("block_wait_s", a.block_wait_s, base.block_wait_s),
        ("step_timeout_s", a.step_timeout_s, base.step_timeout_s),
        ("vrf_verify_us", a.vrf_verify_us, base.vrf_verify_us),
    ];
    keys.extend(floats.into_iter().filter(|(_, v, default)| v != default).map(|(key, v, _)| (key, v.into())));
    if a.final_wait != base.final_wait {
        keys.push(("final_wait", a.final_wait.into()));
    }
    match a.stake {
        Stake::Equal => keys.push(("stake", "equal".into())),
        Stake::Pareto { shape } => keys.extend([("stake", "pareto".into()), ("pareto_shape", shape.into())]),
    }
    Ok(keys)
}

/// `[algorand]` as a preset alone gives it, read by the section's own reader (so the defaults
/// are its).
fn preset_values(preset: AlgorandPreset) -> Algorand {
    let name = if preset == AlgorandPreset::Mainnet { "mainnet" } else { "sosp2017" };
    let src = format!("[algorand]\npreset = \"{name}\"\n");
    let tree = toml::de::DeTable::parse(&src).expect("a preset alone is TOML");
    let root = reader::convert_table(tree.get_ref(), None);
    let mut c = Ctx::new(std::path::Path::new("preset.toml"), &src);
    read_section(&mut c, &Section::root(&root), &Reading::default()).expect("a preset alone is valid")
}

/// Why a valid Algorand scenario is not safe at its seed: its Byzantine users (`byzantine`,
/// exactly as a run gets them, and for Pareto stake the run's own `World`) hold 20% of the
/// stake or more. The problem names the `[[byzantine]]` entry that brings them to 20%.
fn stake_problem(a: &Algorand, n: u32, seed: u64, byzantine: &[Vec<u32>]) -> Option<SeedProblem> {
    if byzantine.is_empty() {
        return None;
    }
    let total = byzantine.iter().map(Vec::len).sum::<usize>() as u64;
    let safe = "Algorand is safe only while the Byzantine users hold less than 20% of the stake";
    match a.stake {
        Stake::Equal => {
            // Every user holds as much: the share is the count.
            let mut so_far = 0;
            let entry = byzantine.iter().position(|e| {
                so_far += e.len() as u64;
                5 * so_far >= u64::from(n)
            })?;
            let share = 100.0 * total as f64 / f64::from(n);
            let message =
                format!("{total} of the {n} users are Byzantine: {share:.1}% of the stake (equal stake); {safe}");
            let help = format!("make at most {} of the {n} users Byzantine (fewer than n/5)", (n - 1) / 5);
            Some(SeedProblem { entry, message, help })
        }
        Stake::Pareto { .. } => {
            let world = world(&config(a), n, seed);
            let mut is_byzantine = vec![false; n as usize];
            let mut reached = None;
            for (i, e) in byzantine.iter().enumerate() {
                e.iter().for_each(|&id| is_byzantine[id as usize] = true);
                if reached.is_none() && world.stake_ppm(|u| is_byzantine[u as usize]) >= BYZANTINE_STAKE_PPM {
                    reached = Some(i);
                }
            }
            let entry = reached?;
            let share = world.stake_ppm(|u| is_byzantine[u as usize]) as f64 / 1e4;
            let message = format!(
                "with seed {seed}, the {total} Byzantine users hold {share:.2}% of the stake (Pareto stake, drawn from the \
                 seed's `algorand` stream, and users drawn by `count` from its `byzantine` stream); {safe}"
            );
            let help = "make fewer users Byzantine, or use another seed (it draws the stakes and the users of \
                        `count`)"
                .to_string();
            Some(SeedProblem { entry, message, help })
        }
    }
}
