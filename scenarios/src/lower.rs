//! Lowering: a validated `Scenario` becomes integers the engine understands (nanoseconds,
//! bits per second, parts per billion, region indices).

use protocols::hotstuff::HotStuffConfig;
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement, PartitionSpec};
use sim_core::{CpuConfig, CryptoCosts, FaultAction, FaultAt, NodeId, SendPolicy, SimConfig, Span, Time};
use traces::{ArrivalProcess, SyntheticConfig};

use crate::model::{self, Scenario};

/// Everything needed to build a run.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub sim: SimConfig,
    pub workload: SyntheticConfig,
    pub hotstuff: HotStuffConfig,
    /// Region name of each node (replicas, then clients), for reports.
    pub node_regions: Vec<String>,
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
    let net = NetConfig {
        nodes,
        n_replicas: n,
        delay,
        jitter: jitter(s.network.jitter),
        loss_ppb: (s.network.loss * 1e9).round() as u32,
        fifo: s.network.fifo,
        partitions: s.faults.partitions.iter().map(|p| partition(p, n)).collect(),
    };
    let sim = SimConfig {
        seed: s.seed,
        n_replicas: n,
        f: s.replicas.f,
        net,
        send_to: match s.clients.send_to {
            model::SendTo::Nearest => SendPolicy::Nearest,
            model::SendTo::Random => SendPolicy::Random,
            model::SendTo::All => SendPolicy::All,
        },
        faults: faults(&s.faults.crashes),
        end: Time::from_secs_f64(s.duration_s + s.drain_s),
        max_events: s.limits.max_events,
        max_queue: usize::try_from(s.limits.max_queue).unwrap_or(usize::MAX),
        correct: vec![true; n as usize],
        cpu: cpu(&s.cpu),
    };
    let workload = SyntheticConfig {
        process: match s.workload.arrivals {
            model::Arrivals::Constant => ArrivalProcess::Constant,
            model::Arrivals::Poisson => ArrivalProcess::Poisson,
        },
        rate_tps: s.workload.rate_tps,
        until: Time::from_secs_f64(s.duration_s),
        n_clients: s.clients.count,
        accounts: s.workload.accounts,
        zipf_s: s.workload.zipf_s,
        tx_size_bytes: s.workload.tx_size_bytes,
    };
    let hotstuff = HotStuffConfig {
        batch_size: s.hotstuff.batch_size as usize,
        view_timeout: Span::from_millis_f64(s.hotstuff.view_timeout_ms),
        backoff_permille: (s.hotstuff.timeout_backoff * 1000.0).round() as u64,
        max_timeout: Span::from_millis_f64(s.hotstuff.max_timeout_ms),
        list_certificates: s.hotstuff.certificate == model::Certificate::List,
    };
    Lowered { sim, workload, hotstuff, node_regions }
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
        base: us(c.base_us),
        per_kib: us(c.per_kib_us),
        crypto: CryptoCosts {
            sign: us(p.sign_us),
            verify: us(p.verify_us),
            aggregate_per_sig: us(p.aggregate_per_sig_us),
            verify_aggregate: us(p.verify_aggregate_us),
        },
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
    let mut group_of = vec![p.groups.len() as u16; n as usize];
    for (g, members) in p.groups.iter().enumerate() {
        for &r in members {
            group_of[r as usize] = g as u16;
        }
    }
    PartitionSpec { start: Time::from_secs_f64(p.start_s), heal: Time::from_secs_f64(p.heal_s), group_of }
}

fn faults(crashes: &[model::Crash]) -> Vec<FaultAt> {
    let mut out = Vec::new();
    for c in crashes {
        let replica = NodeId(c.replica);
        out.push(FaultAt { at: Time::from_secs_f64(c.at_s), replica, action: FaultAction::Crash });
        if let Some(r) = c.recover_s {
            out.push(FaultAt { at: Time::from_secs_f64(r), replica, action: FaultAction::Recover });
        }
    }
    out.sort_by_key(|f| (f.at, f.replica));
    out
}
