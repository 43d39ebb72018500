//! The network model: region delays, jitter, FIFO links, per-node uplink and downlink
//! bandwidth with serialization and queueing, loss, partitions and crashed nodes.
//!
//! A message leaves the sender's uplink after the messages queued before it (size/bandwidth
//! each), flies for the region delay plus jitter, then queues at the receiver's downlink.

use std::collections::BTreeMap;

use crate::NodeId;
use crate::cpu::RecentBusy;
use crate::protocol::Class;
use crate::rng::SimRng;
use crate::time::{Span, Time};

/// One-way base delay between nodes.
#[derive(Clone, Debug, PartialEq)]
pub enum DelayModel {
    /// The same delay between any two distinct nodes.
    Uniform(Span),
    /// `one_way[from_region * n_regions + to_region]`.
    Matrix { n_regions: usize, one_way: Vec<Span> },
}

/// Extra delay drawn per message. Parameters in nanoseconds (floats only to shape the draw).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    None,
    Uniform { max_ns: u64 },
    Normal { mean_ns: f64, sd_ns: f64 },
    LogNormal { median_ns: f64, sigma: f64 },
    Pareto { scale_ns: f64, shape: f64 },
}

impl Jitter {
    fn sample(&self, rng: &mut SimRng) -> Span {
        match *self {
            Jitter::None => Span::ZERO,
            Jitter::Uniform { max_ns } => Span(rng.below(max_ns.saturating_add(1))),
            Jitter::Normal { mean_ns, sd_ns } => Span::from_nanos_f64(mean_ns + sd_ns * rng.standard_normal()),
            Jitter::LogNormal { median_ns, sigma } => {
                Span::from_nanos_f64(median_ns * libm::exp(sigma * rng.standard_normal()))
            }
            Jitter::Pareto { scale_ns, shape } => {
                let u = rng.unit_open_f64();
                Span::from_nanos_f64(scale_ns * (libm::pow(u, -1.0 / shape) - 1.0))
            }
        }
    }
}

/// Where a node sits and how fast its links are (0 bits/s = unlimited).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodePlacement {
    pub region: u16,
    pub uplink_bps: u64,
    pub downlink_bps: u64,
}

/// Replicas grouped for a time window: while it is open, two replicas can talk only if some
/// group holds both. Groups may overlap (a replica in two groups bridges them, as an adversary
/// that controls the network would arrange).
#[derive(Clone, Debug, PartialEq)]
pub struct PartitionSpec {
    pub start: Time,
    pub heal: Time,
    /// Per replica, the groups it belongs to, as a bitmask (at most 64 groups).
    pub groups_of: Vec<u64>,
}

impl PartitionSpec {
    /// From disjoint-or-overlapping groups of replica ids; replicas in no group form one more
    /// group together.
    pub fn new(start: Time, heal: Time, n_replicas: u32, groups: &[Vec<u32>]) -> PartitionSpec {
        assert!(groups.len() < 64, "at most 63 groups");
        let mut groups_of = vec![0u64; n_replicas as usize];
        for (g, members) in groups.iter().enumerate() {
            for &r in members {
                groups_of[r as usize] |= 1 << g;
            }
        }
        for mask in groups_of.iter_mut().filter(|m| **m == 0) {
            *mask = 1 << groups.len();
        }
        PartitionSpec { start, heal, groups_of }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetConfig {
    /// Replicas first (0..n_replicas), then clients.
    pub nodes: Vec<NodePlacement>,
    pub n_replicas: u32,
    pub delay: DelayModel,
    pub jitter: Jitter,
    /// Loss probability of replica-to-replica messages, parts per billion.
    pub loss_ppb: u32,
    pub fifo: bool,
    pub partitions: Vec<PartitionSpec>,
    /// Windows of extra loss and extra delay between replicas (swarm exploration draws them).
    pub spikes: Vec<SpikeSpec>,
}

/// A window [start, end) during which replica-to-replica messages sent are lost with an extra
/// probability and fly longer by a fixed amount. Spikes may overlap: their losses are drawn one
/// after the other, their delays add up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpikeSpec {
    pub start: Time,
    pub end: Time,
    pub loss_ppb: u32,
    pub extra_delay: Span,
}

/// What the network needs to know of a message: its bytes, its kind (for the traffic
/// counters) and its queueing class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wire {
    pub size: u32,
    pub kind: usize,
    pub class: Class,
}

impl Wire {
    /// A message of the `Normal` class.
    pub fn normal(size: u32, kind: usize) -> Wire {
        Wire { size, kind, class: Class::Normal }
    }
}

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drop {
    Partitioned,
    Lost,
    Crashed,
    /// The network adversary (`adversary.rs`) chose to.
    Adversary,
}

/// The outcome of handing a message to the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Dropped(Drop),
    /// Reaches the receiver at `at`; `downlink` says whether it still has to queue there.
    Arrives {
        at: Time,
        downlink: bool,
    },
}

/// Per-node traffic counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub msgs_sent: u64,
    pub bytes_sent: u64,
    pub msgs_recv: u64,
    pub bytes_recv: u64,
    pub msgs_dropped: u64,
}

/// One node's messages and bytes of one kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindStats {
    pub msgs_sent: u64,
    pub bytes_sent: u64,
    pub msgs_recv: u64,
    pub bytes_recv: u64,
}

/// A kind as the reports name it. `item` kinds count items carried inside messages (a
/// gossip batch's votes, say), which the message kinds already count once as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindName {
    pub name: &'static str,
    pub item: bool,
}

/// Per node and kind, what crossed the network, in one table allocated once (node-major):
/// O(kinds) per node, O(1) per message, no names on the way.
#[derive(Clone, Debug)]
pub struct Traffic {
    n_kinds: usize,
    cells: Vec<KindStats>,
}

impl Traffic {
    pub fn new(n_nodes: usize, n_kinds: usize) -> Traffic {
        Traffic { n_kinds, cells: vec![KindStats::default(); n_nodes * n_kinds] }
    }

    fn cell(&mut self, node: NodeId, kind: usize) -> &mut KindStats {
        assert!(kind < self.n_kinds, "message kind {kind} is not declared (of {})", self.n_kinds);
        &mut self.cells[node.idx() * self.n_kinds + kind]
    }

    pub fn sent(&mut self, node: NodeId, kind: usize, count: u64, size_bytes: u64) {
        let cell = self.cell(node, kind);
        cell.msgs_sent += count;
        cell.bytes_sent += size_bytes;
    }

    pub fn received(&mut self, node: NodeId, kind: usize, count: u64, size_bytes: u64) {
        let cell = self.cell(node, kind);
        cell.msgs_recv += count;
        cell.bytes_recv += size_bytes;
    }

    /// One node's counters, indexed by kind.
    pub fn of(&self, node: NodeId) -> &[KindStats] {
        &self.cells[node.idx() * self.n_kinds..(node.idx() + 1) * self.n_kinds]
    }
}

#[derive(Debug)]
pub struct Network {
    cfg: NetConfig,
    uplink_free: Vec<Time>,
    downlink_free: Vec<Time>,
    /// When each link's urgent messages (`Class::Urgent`) are all out; never later than the
    /// `_free` time of the same link, which counts both classes.
    uplink_urgent_free: Vec<Time>,
    downlink_urgent_free: Vec<Time>,
    /// Last arrival per directed link; kept only when jitter or a spike could reorder a FIFO link.
    last_arrival: BTreeMap<(u32, u32), Time>,
    crashed: Vec<bool>,
    pub stats: Vec<LinkStats>,
    /// Per node, the transmission time charged to its finite uplink and downlink lately.
    pub uplink_recent: Vec<RecentBusy>,
    pub downlink_recent: Vec<RecentBusy>,
    /// The same traffic by message kind: the kinds of a node sum to its `stats`.
    pub traffic: Traffic,
}

impl Network {
    /// A network whose messages fall into `n_kinds` kinds.
    pub fn new(cfg: NetConfig, n_kinds: usize) -> Network {
        let n_nodes = cfg.nodes.len();
        assert!(cfg.n_replicas as usize <= n_nodes);
        if let DelayModel::Matrix { n_regions, one_way } = &cfg.delay {
            assert_eq!(one_way.len(), n_regions * n_regions);
            assert!(cfg.nodes.iter().all(|p| (p.region as usize) < *n_regions));
        }
        Network {
            uplink_free: vec![Time::ZERO; n_nodes],
            downlink_free: vec![Time::ZERO; n_nodes],
            uplink_urgent_free: vec![Time::ZERO; n_nodes],
            downlink_urgent_free: vec![Time::ZERO; n_nodes],
            last_arrival: BTreeMap::new(),
            crashed: vec![false; n_nodes],
            stats: vec![LinkStats::default(); n_nodes],
            uplink_recent: vec![RecentBusy::default(); n_nodes],
            downlink_recent: vec![RecentBusy::default(); n_nodes],
            traffic: Traffic::new(n_nodes, n_kinds),
            cfg,
        }
    }

    pub fn n_nodes(&self) -> usize {
        self.cfg.nodes.len()
    }

    pub fn is_replica(&self, node: NodeId) -> bool {
        node.0 < self.cfg.n_replicas
    }

    pub fn is_crashed(&self, node: NodeId) -> bool {
        self.crashed[node.idx()]
    }

    pub fn set_crashed(&mut self, node: NodeId, crashed: bool) {
        self.crashed[node.idx()] = crashed;
    }

    /// The base one-way delay between two nodes (no jitter, no queueing).
    pub fn base_delay(&self, from: NodeId, to: NodeId) -> Span {
        if from == to {
            return Span::ZERO;
        }
        match &self.cfg.delay {
            DelayModel::Uniform(d) => *d,
            DelayModel::Matrix { n_regions, one_way } => {
                let (a, b) = (self.cfg.nodes[from.idx()].region, self.cfg.nodes[to.idx()].region);
                one_way[a as usize * n_regions + b as usize]
            }
        }
    }

    /// Whether a partition separates two nodes at `now`. Clients are never partitioned.
    pub fn connected(&self, a: NodeId, b: NodeId, now: Time) -> bool {
        if !self.is_replica(a) || !self.is_replica(b) {
            return true;
        }
        self.cfg
            .partitions
            .iter()
            .all(|p| !(p.start <= now && now < p.heal) || p.groups_of[a.idx()] & p.groups_of[b.idx()] != 0)
    }

    /// Hands a message (`wire`: its size, kind and queueing class) from `from` to `to` at `now`.
    pub fn send(&mut self, now: Time, from: NodeId, to: NodeId, wire: Wire, rng: &mut SimRng) -> Route {
        let Wire { size, kind, class } = wire;
        assert_ne!(from, to, "self-messages bypass the network");
        let stats = &mut self.stats[from.idx()];
        stats.msgs_sent += 1;
        stats.bytes_sent += size as u64;
        self.traffic.sent(from, kind, 1, size as u64);
        if !self.connected(from, to, now) {
            return self.drop(from, Drop::Partitioned);
        }
        let between_replicas = self.is_replica(from) && self.is_replica(to);
        if between_replicas && self.cfg.loss_ppb > 0 && rng.chance_ppb(self.cfg.loss_ppb) {
            return self.drop(from, Drop::Lost);
        }
        let extra = if between_replicas { self.spike(now, rng) } else { Some(Span::ZERO) };
        let Some(extra) = extra else { return self.drop(from, Drop::Lost) };
        let depart = self.leave_uplink(now, from, size, class);
        let mut at = depart + self.base_delay(from, to) + self.cfg.jitter.sample(rng) + extra;
        if self.cfg.fifo && (self.cfg.jitter != Jitter::None || !self.cfg.spikes.is_empty()) {
            let last = self.last_arrival.entry((from.0, to.0)).or_insert(Time::ZERO);
            at = at.max(*last);
            *last = at;
        }
        Route::Arrives { at, downlink: self.cfg.nodes[to.idx()].downlink_bps > 0 }
    }

    /// The spikes open at `now`: None if one of them loses the message, else their extra
    /// delay. No spike, no draw: runs without spikes keep their random sequence.
    fn spike(&self, now: Time, rng: &mut SimRng) -> Option<Span> {
        let mut extra = Span::ZERO;
        for s in self.cfg.spikes.iter().filter(|s| s.start <= now && now < s.end) {
            if s.loss_ppb > 0 && rng.chance_ppb(s.loss_ppb) {
                return None;
            }
            extra = extra + s.extra_delay;
        }
        Some(extra)
    }

    fn leave_uplink(&mut self, now: Time, from: NodeId, size: u32, class: Class) -> Time {
        let bps = self.cfg.nodes[from.idx()].uplink_bps;
        if bps == 0 {
            return now;
        }
        let busy = Span::transmission(size as u64, bps);
        self.uplink_recent[from.idx()].add(now, busy);
        let i = from.idx();
        queue_on(&mut self.uplink_free[i], &mut self.uplink_urgent_free[i], now, busy, class)
    }

    /// A message of class `class` reached `to`'s downlink at `now`: when it has been fully
    /// received.
    pub fn through_downlink(&mut self, now: Time, to: NodeId, size: u32, class: Class) -> Time {
        let bps = self.cfg.nodes[to.idx()].downlink_bps;
        assert!(bps > 0, "only finite downlinks queue");
        let busy = Span::transmission(size as u64, bps);
        self.downlink_recent[to.idx()].add(now, busy);
        let i = to.idx();
        queue_on(&mut self.downlink_free[i], &mut self.downlink_urgent_free[i], now, busy, class)
    }

    /// A message is about to be handed to `to` at `now`: false if it must be dropped.
    pub fn accept(&mut self, now: Time, from: NodeId, to: NodeId, size: u32, kind: usize) -> bool {
        if self.crashed[to.idx()] {
            self.drop(from, Drop::Crashed);
            return false;
        }
        if !self.connected(from, to, now) {
            self.drop(from, Drop::Partitioned);
            return false;
        }
        let stats = &mut self.stats[to.idx()];
        stats.msgs_recv += 1;
        stats.bytes_recv += size as u64;
        self.traffic.received(to, kind, 1, size as u64);
        true
    }

    /// The adversary dropped a message `from` sent (counted like any other drop).
    pub fn dropped_by_adversary(&mut self, from: NodeId) {
        self.drop(from, Drop::Adversary);
    }

    fn drop(&mut self, from: NodeId, why: Drop) -> Route {
        self.stats[from.idx()].msgs_dropped += 1;
        Route::Dropped(why)
    }
}

/// One link direction of finite bandwidth: when a message taking `busy` to transmit, handed
/// over at `now`, is out. `free` is when everything queued is out, `urgent_free` when the
/// urgent messages are. A normal message queues behind everything; an urgent one only behind
/// urgent ones, and pushes the normal backlog back by `busy` (the link's bytes are conserved:
/// normal messages queued later start that much later; those already queued keep their times,
/// as a packet-level priority queue would delay them, the simplification this model makes).
/// With normal messages only, this is one FIFO queue, as before classes existed.
fn queue_on(free: &mut Time, urgent_free: &mut Time, now: Time, busy: Span, class: Class) -> Time {
    match class {
        Class::Normal => {
            let done = now.max(*free) + busy;
            *free = done;
            done
        }
        Class::Urgent => {
            let start = now.max(*urgent_free);
            let done = start + busy;
            *urgent_free = done;
            *free = if *free > start { *free + busy } else { done };
            done
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Streams;

    fn net(up_bps: u64, jitter: Jitter) -> Network {
        let p = NodePlacement { region: 0, uplink_bps: up_bps, downlink_bps: 0 };
        Network::new(
            NetConfig {
                nodes: vec![p; 3],
                n_replicas: 3,
                delay: DelayModel::Uniform(Span::from_millis(10)),
                jitter,
                loss_ppb: 0,
                fifo: true,
                partitions: vec![PartitionSpec::new(
                    Time::from_secs_f64(1.0),
                    Time::from_secs_f64(2.0),
                    3,
                    &[vec![0, 1], vec![2]],
                )],
                spikes: vec![],
            },
            1,
        )
    }

    #[test]
    fn uplink_serializes_back_to_back_messages() {
        let mut n = net(8_000_000, Jitter::None); // 1 byte per microsecond
        let mut rng = Streams::new(1).stream("t");
        let a = n.send(Time::ZERO, NodeId(0), NodeId(1), Wire::normal(1000, 0), &mut rng);
        let b = n.send(Time::ZERO, NodeId(0), NodeId(2), Wire::normal(1000, 0), &mut rng);
        assert_eq!(a, Route::Arrives { at: Time(1_000_000 + 10_000_000), downlink: false });
        assert_eq!(b, Route::Arrives { at: Time(2_000_000 + 10_000_000), downlink: false });
    }

    #[test]
    fn an_urgent_message_overtakes_the_normal_backlog_and_pushes_it_back() {
        let mut n = net(8_000_000, Jitter::None); // 1 byte per microsecond
        let mut rng = Streams::new(1).stream("t");
        let at = |r: Route| match r {
            Route::Arrives { at, .. } => at,
            Route::Dropped(d) => panic!("dropped: {d:?}"),
        };
        let ms = |x: u64| Time(x * 1_000_000);
        // A 1 MB block, then a 250-byte vote: the vote leaves after 250 us, not after the block.
        let block = at(n.send(Time::ZERO, NodeId(0), NodeId(1), Wire::normal(1_000_000, 0), &mut rng));
        let vote =
            at(n.send(Time::ZERO, NodeId(0), NodeId(2), Wire { size: 250, kind: 0, class: Class::Urgent }, &mut rng));
        assert_eq!(block, ms(1000 + 10));
        assert_eq!(vote, Time(250_000) + Span::from_millis(10));
        // The next normal message queues behind the block and the vote's 250 us.
        let next = at(n.send(Time::ZERO, NodeId(0), NodeId(1), Wire::normal(1000, 0), &mut rng));
        assert_eq!(next, Time(1_000_000_000 + 250_000 + 1_000_000) + Span::from_millis(10));
        // Urgent messages queue behind urgent ones only.
        let vote2 =
            at(n.send(Time::ZERO, NodeId(0), NodeId(2), Wire { size: 250, kind: 0, class: Class::Urgent }, &mut rng));
        assert_eq!(vote2, Time(500_000) + Span::from_millis(10));
        // On an idle link an urgent message is followed, not overtaken, by a normal one.
        let later = ms(5000);
        let v = at(n.send(later, NodeId(0), NodeId(1), Wire { size: 1000, kind: 0, class: Class::Urgent }, &mut rng));
        let b = at(n.send(later, NodeId(0), NodeId(1), Wire::normal(1000, 0), &mut rng));
        assert_eq!((v, b), (later + Span::from_millis(11), later + Span::from_millis(12)));
    }

    #[test]
    fn partition_drops_across_groups_only_while_open() {
        let mut n = net(0, Jitter::None);
        let mut rng = Streams::new(1).stream("t");
        let t = Time::from_secs_f64(1.5);
        assert_eq!(n.send(t, NodeId(0), NodeId(2), Wire::normal(10, 0), &mut rng), Route::Dropped(Drop::Partitioned));
        assert!(matches!(n.send(t, NodeId(0), NodeId(1), Wire::normal(10, 0), &mut rng), Route::Arrives { .. }));
        let healed = Time::from_secs_f64(2.0);
        assert!(matches!(n.send(healed, NodeId(0), NodeId(2), Wire::normal(10, 0), &mut rng), Route::Arrives { .. }));
    }

    #[test]
    fn overlapping_groups_bridge_and_the_rest_is_one_group() {
        let p = PartitionSpec::new(Time(0), Time(10), 5, &[vec![0, 2], vec![1, 2]]);
        assert_eq!(p.groups_of, vec![0b01, 0b10, 0b11, 0b100, 0b100]);
    }

    #[test]
    fn a_spike_delays_and_loses_only_while_open_and_keeps_links_fifo() {
        let mut n = net(0, Jitter::None);
        let (start, end) = (Time::from_secs_f64(3.0), Time::from_secs_f64(4.0));
        n.cfg.spikes = vec![SpikeSpec { start, end, loss_ppb: 0, extra_delay: Span::from_millis(50) }];
        let mut rng = Streams::new(1).stream("t");
        let before = Time::from_secs_f64(2.9);
        let at = |r: Route| match r {
            Route::Arrives { at, .. } => at,
            Route::Dropped(d) => panic!("dropped: {d:?}"),
        };
        assert_eq!(
            at(n.send(before, NodeId(0), NodeId(1), Wire::normal(1, 0), &mut rng)),
            before + Span::from_millis(10)
        );
        let during = Time::from_secs_f64(3.99);
        let late = at(n.send(during, NodeId(0), NodeId(1), Wire::normal(1, 0), &mut rng));
        assert_eq!(late, during + Span::from_millis(60));
        // Sent after the spike ends, it would overtake the last message: FIFO holds it back.
        assert_eq!(at(n.send(end, NodeId(0), NodeId(1), Wire::normal(1, 0), &mut rng)), late);
        n.cfg.spikes[0].loss_ppb = 1_000_000_000;
        assert_eq!(n.send(during, NodeId(0), NodeId(2), Wire::normal(1, 0), &mut rng), Route::Dropped(Drop::Lost));
        assert!(matches!(n.send(end, NodeId(0), NodeId(2), Wire::normal(1, 0), &mut rng), Route::Arrives { .. }));
    }

    #[test]
    fn fifo_holds_under_heavy_jitter() {
        let mut n = net(0, Jitter::Pareto { scale_ns: 1e6, shape: 1.1 });
        let mut rng = Streams::new(3).stream("t");
        let mut last = Time::ZERO;
        for i in 0..1000 {
            let Route::Arrives { at, .. } = n.send(Time(i * 1000), NodeId(0), NodeId(1), Wire::normal(1, 0), &mut rng)
            else {
                panic!("no loss configured")
            };
            assert!(at >= last);
            last = at;
        }
    }
}
