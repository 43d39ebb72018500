//! Lowering: a validated `Scenario` becomes integers the engine understands (nanoseconds,
//! bits per second, parts per billion, region indices).

use sim_core::adversary::{Action, Mode, RandomAttack, Rule, TwinsPlan, kind_bit};
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement, PartitionSpec, SpikeSpec};
use sim_core::{
    ClientModel, ClosedLoop, CpuConfig, CryptoCosts, FaultAction, FaultAt, LivenessCheck, NodeId, Overload,
    RequestBound, SimConfig, Span, Streams, Time,
};
use traces::{SyntheticConfig, WorkloadConfig};

use crate::model::{self, Scenario};
pub use crate::model::{assign_byzantine, replay_config};
use crate::protocols::ProtocolConfig;

/// Everything needed to build a run.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub sim: SimConfig,
    pub workload: WorkloadConfig,
    /// The protocol's configuration, what each replica does included (`protocols`).
    pub protocol: ProtocolConfig,
    /// Region name of each node (replicas, then clients), for reports.
    pub node_regions: Vec<String>,
    /// What each replica does (`None`: it follows the protocol).
    pub byzantine: Vec<Option<model::Behavior>>,
}

fn bps(mbps: f64) -> u64 {
    (mbps * 1e6).round() as u64
}

fn region_of(list: &[String], i: usize) -> String {
    list[i % list.len()].clone()
}

pub fn lower(s: &Scenario) -> Lowered {
    let n = s.replicas.n;
    let node_regions: Vec<String> = (0..n as usize)
        .map(|i| region_of(&s.replicas.regions, i))
        .chain((0..s.clients.count as usize).map(|i| region_of(&s.clients.regions, i)))
        .collect();
    let assigned = assign_byzantine(s);
    let byzantine = roles(s, &assigned);
    let sim = SimConfig {
        seed: s.seed,
        n_replicas: n,
        f: s.section.client_f(s.replicas.f),
        net: net(s, &node_regions),
        send_to: s.clients.send_to,
        faults: faults(&s.faults.crashes, &s.byzantine, &assigned),
        end: Time::from_secs_f64(s.duration_s + s.drain_s),
        limits: limits(&s.limits),
        correct: byzantine.iter().map(Option::is_none).collect(),
        cpu: cpu(&s.cpu),
        crypto: s.cpu.crypto,
        liveness: s.checks.liveness_bound_s.map(|bound_s| LivenessCheck {
            from: Time::from_secs_f64(last_fault_end_s(s)),
            bound: Span::from_secs_f64(bound_s),
        }),
        client_retry: s.clients.retry_ms.map(Span::from_millis_f64),
        clients: clients(s),
        adversary: adversary(&s.adversary, s.protocol(), twins_plan(s, &byzantine), slow_replica(s, &byzantine)),
    };
    let workload = workload(s);
    let protocol = s.section.lower(s.genesis_balance, &byzantine, &sim);
    Lowered { sim, workload, protocol, node_regions, byzantine }
}

/// The network: each node's region and links, the delays, loss, partitions and spikes.
fn net(s: &Scenario, node_regions: &[String]) -> NetConfig {
    let n = s.replicas.n;
    let (delay, region_index) = delay_model(&s.network.delay);
    let nodes = node_regions
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (up, down) = if i < n as usize {
                (s.replicas.uplink_mbps, s.replicas.downlink_mbps)
            } else {
                (s.clients.uplink_mbps, s.clients.downlink_mbps)
            };
            NodePlacement { region: region_index(name), uplink_bps: bps(up), downlink_bps: bps(down) }
        })
        .collect();
    NetConfig {
        nodes,
        n_replicas: n,
        delay,
        jitter: jitter(s.network.jitter),
        loss_ppb: (s.network.loss * 1e9).round() as u32,
        fifo: s.network.fifo,
        partitions: s.faults.partitions.iter().map(|p| partition(p, n)).collect(),
        spikes: s.network.spikes.iter().map(spike).collect(),
    }
}

fn limits(l: &model::Limits) -> sim_core::Limits {
    sim_core::Limits {
        max_events: l.max_events,
        max_queue: usize::try_from(l.max_queue).unwrap_or(usize::MAX),
        max_cpu_queue: usize::try_from(l.max_cpu_queue).unwrap_or(usize::MAX),
        max_transactions: l.max_transactions,
        max_stalled_events: l.max_stalled_events,
    }
}

/// The synthetic generator's rate for a closed loop, whose arrival times are ignored: high
/// enough that the generator runs out of transactions only past `limits.max_transactions`.
const CLOSED_LOOP_GENERATOR_TPS: f64 = 1e7;

/// Open or closed loop, and the replicas' request bound.
fn clients(s: &Scenario) -> ClientModel {
    let closed = match s.clients.pacing {
        model::Pacing::Open => None,
        model::Pacing::Closed { outstanding, think_ms } => Some(ClosedLoop {
            outstanding,
            think: Span::from_millis_f64(think_ms),
            until: Time::from_secs_f64(s.duration_s),
            planted_double_submit: false,
        }),
    };
    let queue = s.clients.queue.map(|q| RequestBound {
        limit: q.limit,
        overload: match q.overload {
            model::Overload::Drop => Overload::Drop,
            model::Overload::PushBack { backoff_ms, backoff_max_ms } => Overload::PushBack {
                backoff: Span::from_millis_f64(backoff_ms),
                backoff_max: Span::from_millis_f64(backoff_max_ms),
            },
        },
    });
    ClientModel { closed, queue }
}

/// The synthetic generator's configuration, or the trace replay's.
fn workload(s: &Scenario) -> WorkloadConfig {
    let closed = matches!(s.clients.pacing, model::Pacing::Closed { .. });
    match &s.workload.trace {
        None => WorkloadConfig::Synthetic(SyntheticConfig {
            process: s.workload.arrivals,
            rate_tps: if closed { CLOSED_LOOP_GENERATOR_TPS } else { s.workload.rate_tps },
            until: Time::from_secs_f64(s.duration_s),
            n_clients: s.clients.count,
            accounts: s.workload.accounts,
            zipf_s: s.workload.zipf_s,
            tx_size_bytes: s.workload.tx_size_bytes,
        }),
        Some(trace) => WorkloadConfig::Replay(replay_config(&s.workload, trace, s.duration_s, s.clients.count)),
    }
}

/// The bitmask of kind names (validated: each is one of the protocol's).
fn kinds_mask(names: &[String], protocol: model::ProtocolKind) -> u64 {
    let kinds = protocol.message_kinds();
    let index = |name: &String| kinds.iter().position(|k| k == name).expect("validated: a kind of the protocol");
    names.iter().map(|name| kind_bit(index(name))).fold(0, |mask, bit| mask | bit)
}

/// The Twins adversary's partitions, if the scenario has one: the network and the twin
/// replicas each get a copy of the same plan, drawn from the seed.
fn twins_plan(s: &Scenario, byzantine: &[Option<model::Behavior>]) -> Option<TwinsPlan> {
    let model::AdversaryMode::Twins { partitioned_views, groups, partition_until_s } = s.adversary.mode else {
        return None;
    };
    let twin = s.protocol().twin();
    let twins = byzantine.iter().map(|b| b.is_some() && *b == twin).collect();
    let plan = TwinsPlan::for_seed(s.seed, partitioned_views, groups, s.replicas.f, twins);
    Some(plan.until(Time::from_secs_f64(partition_until_s)))
}

/// The random adversary's slow replica, if the scenario asks for one: a correct replica drawn
/// from the seed's `adversary/slow` stream (a stream of its own: the engine's `adversary`
/// stream draws the same whether or not a replica is slow). None if every replica is Byzantine.
fn slow_replica(s: &Scenario, byzantine: &[Option<model::Behavior>]) -> Option<NodeId> {
    let model::AdversaryMode::Random { slow_replica: true, .. } = s.adversary.mode else { return None };
    let correct: Vec<u32> = (0..byzantine.len() as u32).filter(|&i| byzantine[i as usize].is_none()).collect();
    let mut rng = Streams::new(s.seed).stream("adversary/slow");
    let pick = rng.below(correct.len().max(1) as u64) as usize;
    correct.get(pick).map(|&i| NodeId(i))
}

/// The scenario's adversary as the engine runs it.
fn adversary(
    a: &model::Adversary,
    protocol: model::ProtocolKind,
    twins: Option<TwinsPlan>,
    slow: Option<NodeId>,
) -> sim_core::Adversary {
    let ppb = |p: f64| (p * 1e9).round() as u32;
    let mode = match &a.mode {
        model::AdversaryMode::Off => return sim_core::Adversary::OFF,
        model::AdversaryMode::Twins { .. } => Mode::Twins(twins.expect("a plan for a Twins adversary")),
        model::AdversaryMode::Random { targets, delay, drop, .. } => {
            let targets_mask = match targets {
                model::AdversaryTargets::Critical => {
                    protocol.critical_kinds().iter().fold(0, |mask, &k| mask | kind_bit(k))
                }
                model::AdversaryTargets::All => {
                    (0..protocol.message_kinds().len()).fold(0, |mask, k| mask | kind_bit(k))
                }
                model::AdversaryTargets::Kinds(names) => kinds_mask(names, protocol),
            };
            let attack = RandomAttack { targets_mask, delay_ppb: ppb(*delay), drop_ppb: ppb(*drop) };
            match slow {
                Some(slow) => Mode::RandomSlow { attack, slow },
                None => Mode::Random(attack),
            }
        }
        model::AdversaryMode::Scripted(rules) => Mode::Scripted(rules.iter().map(|r| rule(r, protocol)).collect()),
    };
    sim_core::Adversary { mode, delay_max: Span::from_millis_f64(a.delay_max_ms) }
}

fn rule(r: &model::AdversaryRule, protocol: model::ProtocolKind) -> Rule {
    let action = match r.action {
        model::AdversaryAction::Delay { delay_ms } => Action::Delay(Span::from_millis_f64(delay_ms)),
        model::AdversaryAction::Hold { until_s } => Action::HoldUntil(Time::from_secs_f64(until_s)),
        model::AdversaryAction::Drop => Action::Drop,
    };
    Rule {
        kinds_mask: kinds_mask(&r.kinds, protocol),
        from: r.from.map(NodeId),
        to: r.to.map(NodeId),
        views: r.views,
        action,
    }
}

/// What each replica does (`None`: it follows the protocol), from the ids of each entry.
fn roles(s: &Scenario, assigned: &[Vec<u32>]) -> Vec<Option<model::Behavior>> {
    let mut byzantine: Vec<Option<model::Behavior>> = vec![None; s.replicas.n as usize];
    for (entry, ids) in s.byzantine.iter().zip(assigned) {
        ids.iter().for_each(|&id| byzantine[id as usize] = Some(entry.behavior));
    }
    byzantine
}

fn spike(s: &model::Spike) -> SpikeSpec {
    SpikeSpec {
        start: Time::from_secs_f64(s.start_s),
        end: Time::from_secs_f64(s.end_s),
        loss_ppb: (s.loss * 1e9).round() as u32,
        extra_delay: Span::from_millis_f64(s.extra_delay_ms),
    }
}

/// When the last fault ends: a crash, a recovery, a partition heal, the end of a spike, or the
/// end of the Twins adversary's partitions (`partition_until_s`) (0 if none). Healing times past the end of the
/// run count as the end of the run.
fn last_fault_end_s(s: &Scenario) -> f64 {
    let end = s.duration_s + s.drain_s;
    let crashes = s.faults.crashes.iter().flat_map(|c| [Some(c.at_s), c.recover_s]);
    let byzantine = s.byzantine.iter().flat_map(|b| [b.at_s, b.recover_s]);
    let heals = s.faults.partitions.iter().map(|p| Some(p.heal_s));
    let heals = heals.chain(s.network.spikes.iter().map(|p| Some(p.end_s)));
    let twins_heal = match s.adversary.mode {
        model::AdversaryMode::Twins { partition_until_s, .. } => Some(partition_until_s),
        _ => None,
    };
    crashes.chain(byzantine).chain(heals).chain([twins_heal]).flatten().map(|t| t.min(end)).fold(0.0, f64::max)
}

/// Maps a region name to its index in the delay model.
type RegionIndex<'a> = Box<dyn Fn(&str) -> u16 + 'a>;

/// The delay model and the region index for it.
fn delay_model(delay: &model::Delay) -> (DelayModel, RegionIndex<'_>) {
    match delay {
        model::Delay::Uniform { one_way_ms } => {
            (DelayModel::Uniform(Span::from_millis_f64(*one_way_ms)), Box::new(|_| 0))
        }
        model::Delay::Matrix { regions, one_way_ms, .. } => {
            let one_way = one_way_ms.iter().flatten().map(|&ms| Span::from_millis_f64(ms)).collect();
            let index = move |name: &str| {
                regions.iter().position(|r| r == name).expect("validated: region is in the matrix") as u16
            };
            (DelayModel::Matrix { n_regions: regions.len(), one_way }, Box::new(index))
        }
    }
}

fn cpu(c: &model::Cpu) -> CpuConfig {
    let us = |x: f64| Span::from_nanos_f64(x * 1e3);
    let p = &c.profile;
    CpuConfig {
        cores: c.cores,
        request_cores: c.request_cores,
        base: us(c.base_us),
        request_base: c.request_base_us.map(us),
        per_kib: us(c.per_kib_us),
        per_tx: us(c.per_tx_us),
        crypto: CryptoCosts {
            sign: us(p.sign_us),
            verify: us(p.verify_us),
            aggregate_per_sig: us(p.aggregate_per_sig_us),
            verify_aggregate: us(p.verify_aggregate_us),
            verify_client: us(c.client_verify_us),
        },
        planted_requests_on_consensus: false,
    }
}

fn jitter(j: model::Jitter) -> Jitter {
    match j {
        model::Jitter::None => Jitter::None,
        model::Jitter::Uniform { max_ms } => Jitter::Uniform { max_ns: Span::from_millis_f64(max_ms).0 },
        model::Jitter::Normal { mean_ms, sd_ms } => Jitter::Normal { mean_ns: mean_ms * 1e6, sd_ns: sd_ms * 1e6 },
        model::Jitter::LogNormal { median_ms, sigma } => Jitter::LogNormal { median_ns: median_ms * 1e6, sigma },
        model::Jitter::Pareto { scale_ms, shape } => Jitter::Pareto { scale_ns: scale_ms * 1e6, shape },
    }
}

fn partition(p: &model::Partition, n: u32) -> PartitionSpec {
    PartitionSpec::new(Time::from_secs_f64(p.start_s), Time::from_secs_f64(p.heal_s), n, &p.groups)
}

/// Crash faults of correct replicas, and of Byzantine replicas whose behaviour is to crash.
fn faults(crashes: &[model::Crash], byzantine: &[model::Byzantine], ids: &[Vec<u32>]) -> Vec<FaultAt> {
    let mut out = Vec::new();
    let mut crash = |replica: u32, at_s: f64, recover_s: Option<f64>| {
        let replica = NodeId(replica);
        out.push(FaultAt { at: Time::from_secs_f64(at_s), replica, action: FaultAction::Crash });
        if let Some(r) = recover_s {
            out.push(FaultAt { at: Time::from_secs_f64(r), replica, action: FaultAction::Recover });
        }
    };
    for c in crashes {
        crash(c.replica, c.at_s, c.recover_s);
    }
    for (entry, ids) in byzantine.iter().zip(ids) {
        if entry.behavior == model::Behavior::Crash {
            let at_s = entry.at_s.expect("validated: a crash has at_s");
            ids.iter().for_each(|&id| crash(id, at_s, entry.recover_s));
        }
    }
    out.sort_by_key(|f| (f.at, f.replica));
    out
}
