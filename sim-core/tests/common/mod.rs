//! What the CPU-model integration tests share: a run of `n_replicas` replicas and one client
//! nearest to replica 0, uniform delays, no faults, one simulated second.

use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement};
use sim_core::{Adversary, CpuConfig, Limits, SendPolicy, SimConfig, Span, Time};

pub fn one_client(n_replicas: u32, f: u32, delay: Span, cpu: CpuConfig) -> SimConfig {
    let place = NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
    SimConfig {
        seed: 7,
        n_replicas,
        f,
        net: NetConfig {
            nodes: vec![place; n_replicas as usize + 1],
            n_replicas,
            delay: DelayModel::Uniform(delay),
            jitter: Jitter::None,
            loss_ppb: 0,
            fifo: true,
            partitions: vec![],
            spikes: vec![],
        },
        send_to: SendPolicy::Nearest,
        faults: vec![],
        end: Time::from_secs_f64(1.0),
        limits: Limits::DEFAULT,
        correct: vec![true; n_replicas as usize],
        cpu,
        crypto: Default::default(),
        liveness: None,
        client_retry: None,
        clients: sim_core::ClientModel::OPEN,
        adversary: Adversary::OFF,
    }
}
