//! The engine: one event queue in (time, seq) order, the network, the replicas' state
//! machines, the clients, faults, limits, the safety checker and the run digest.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::checker::Violation;
use crate::digest::Fold;
use crate::ids::{NodeId, Tx, TxId, TxResult};
use crate::net::{LinkStats, NetConfig, Network, Route};
use crate::observe::{Observer, TxRecord};
use crate::protocol::{Ctx, Dest, Message, Outbox, Protocol, TimerOp};
use crate::queue::EventQueue;
use crate::rng::{SimRng, Streams};
use crate::time::Time;
use crate::workload::{Arrival, Workload};

/// How a client picks the replicas it sends a transaction to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendPolicy {
    /// The replica with the smallest base delay (lowest id on ties).
    Nearest,
    /// One replica drawn per transaction from the `clients` stream.
    Random,
    /// Every replica.
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    Crash,
    Recover,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultAt {
    pub at: Time,
    pub replica: NodeId,
    pub action: FaultAction,
}

/// Everything the engine needs, already validated and lowered to integers.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    pub n_replicas: u32,
    pub f: u32,
    pub net: NetConfig,
    pub send_to: SendPolicy,
    pub faults: Vec<FaultAt>,
    /// The run stops at this virtual time.
    pub end: Time,
    pub max_events: u64,
    pub max_queue: usize,
    /// Per replica: follows the protocol (checked) or not.
    pub correct: Vec<bool>,
}

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Reached the configured end time.
    End,
    EventLimit,
    QueueLimit,
    /// A safety invariant broke.
    Violation(Violation),
}

#[derive(Debug)]
enum Payload<M> {
    Proto(M),
    Request(Tx),
    Reply(Rc<[(TxId, TxResult)]>),
}

#[derive(Debug)]
enum Event<M, T> {
    /// Hand the payload to `to`.
    Deliver {
        to: NodeId,
        from: NodeId,
        size: u32,
        payload: Payload<M>,
    },
    /// The payload reached `to`'s finite downlink and queues there.
    Downlink {
        to: NodeId,
        from: NodeId,
        size: u32,
        payload: Payload<M>,
    },
    Timer {
        node: NodeId,
        timer: T,
        generation: u64,
    },
    Arrival(Arrival),
    Fault(FaultAt),
}

/// Bytes of a reply message: a header plus (id, result) per transaction.
fn reply_size(n_txs: usize) -> u32 {
    32 + 12 * n_txs as u32
}

/// Per-node results of a run.
#[derive(Clone, Debug)]
pub struct NodeReport {
    pub id: NodeId,
    pub is_replica: bool,
    pub correct: bool,
    pub crashed_at_end: bool,
    pub link: LinkStats,
    pub counters: Vec<(&'static str, u64)>,
}

/// Everything a finished run leaves behind.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub digest: u64,
    pub events: u64,
    pub end_time: Time,
    pub stop: Stop,
    pub txs: Vec<TxRecord>,
    pub nodes: Vec<NodeReport>,
}

pub struct Simulation<P: Protocol> {
    cfg: SimConfig,
    now: Time,
    queue: EventQueue<Event<P::Message, P::Timer>>,
    replicas: Vec<P>,
    rngs: Vec<SimRng>,
    incarnations: Vec<u32>,
    timers: Vec<BTreeMap<P::Timer, u64>>,
    timer_generation: u64,
    net: Network,
    net_rng: SimRng,
    client_rng: SimRng,
    workload: Box<dyn Workload>,
    nearest: Vec<NodeId>,
    obs: Observer,
    outbox: Outbox<P::Message, P::Timer>,
    streams: Streams,
    digest: Fold,
    events: u64,
    stop: Option<Stop>,
}

impl<P: Protocol> Simulation<P> {
    /// Builds the run: replicas from `make`, clients after them in the network's node list.
    pub fn new(cfg: SimConfig, workload: Box<dyn Workload>, mut make: impl FnMut(NodeId) -> P) -> Self {
        let n = cfg.n_replicas as usize;
        assert!(n >= 1 && n <= cfg.net.nodes.len(), "clients come after the replicas");
        assert_eq!(cfg.correct.len(), n);
        assert_eq!(cfg.net.n_replicas, cfg.n_replicas);
        let streams = Streams::new(cfg.seed);
        let net = Network::new(cfg.net.clone());
        let nearest = (n..net.n_nodes())
            .map(|c| {
                (0..n as u32)
                    .map(NodeId)
                    .min_by_key(|&r| (net.base_delay(NodeId(c as u32), r), r))
                    .expect("at least one replica")
            })
            .collect();
        let mut sim = Simulation {
            now: Time::ZERO,
            queue: EventQueue::default(),
            replicas: (0..n as u32).map(|i| make(NodeId(i))).collect(),
            rngs: (0..n as u32).map(|i| streams.node(i, 0)).collect(),
            incarnations: vec![0; n],
            timers: vec![BTreeMap::new(); n],
            timer_generation: 0,
            net,
            net_rng: streams.stream("network"),
            client_rng: streams.stream("clients"),
            workload,
            nearest,
            obs: Observer::new(cfg.correct.clone(), cfg.f),
            outbox: Outbox::default(),
            digest: Fold::new(cfg.seed),
            streams,
            events: 0,
            stop: None,
            cfg,
        };
        for fault in sim.cfg.faults.clone() {
            sim.queue.push(fault.at, Event::Fault(fault));
        }
        if let Some(first) = sim.workload.next_arrival() {
            sim.queue.push(first.at, Event::Arrival(first));
        }
        for i in 0..n as u32 {
            sim.with_replica(NodeId(i), |p, ctx| p.on_start(ctx));
        }
        sim
    }

    pub fn now(&self) -> Time {
        self.now
    }

    pub fn end(&self) -> Time {
        self.cfg.end
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn digest(&self) -> u64 {
        self.digest.value()
    }

    pub fn replica(&self, id: NodeId) -> &P {
        &self.replicas[id.idx()]
    }

    /// Runs every event due up to `limit` (capped at the end time). Returns why the run
    /// stopped, or `None` if it can go on.
    pub fn run_until(&mut self, limit: Time) -> Option<&Stop> {
        if self.stop.is_some() {
            return self.stop.as_ref();
        }
        let limit = limit.min(self.cfg.end);
        while let Some((at, _seq, event)) = self.queue.pop_until(limit) {
            debug_assert!(at >= self.now, "the queue went back in time");
            self.now = at;
            self.events += 1;
            self.dispatch(event);
            if let Some(stop) = self.limit_reached() {
                self.stop = Some(stop);
                return self.stop.as_ref();
            }
        }
        self.now = self.now.max(limit);
        if limit >= self.cfg.end {
            self.stop = Some(Stop::End);
        }
        self.stop.as_ref()
    }

    /// Runs to the end.
    pub fn run(mut self) -> RunResult {
        self.run_until(Time::MAX);
        self.finish()
    }

    fn limit_reached(&mut self) -> Option<Stop> {
        if let Some(v) = self.obs.violation.take() {
            return Some(Stop::Violation(v));
        }
        if self.events >= self.cfg.max_events {
            return Some(Stop::EventLimit);
        }
        if self.queue.len() > self.cfg.max_queue {
            return Some(Stop::QueueLimit);
        }
        None
    }

    pub fn finish(self) -> RunResult {
        let n = self.cfg.n_replicas as usize;
        let nodes = (0..self.net.n_nodes())
            .map(|i| NodeReport {
                id: NodeId(i as u32),
                is_replica: i < n,
                correct: i >= n || self.cfg.correct[i],
                crashed_at_end: self.net.is_crashed(NodeId(i as u32)),
                link: self.net.stats[i],
                counters: if i < n { self.replicas[i].counters() } else { Vec::new() },
            })
            .collect();
        RunResult {
            digest: self.digest.value(),
            events: self.events,
            end_time: self.now,
            stop: self.stop.unwrap_or(Stop::End),
            txs: self.obs.txs,
            nodes,
        }
    }

    fn dispatch(&mut self, event: Event<P::Message, P::Timer>) {
        match event {
            Event::Deliver { to, from, size, payload } => self.deliver(to, from, size, payload),
            Event::Downlink { to, from, size, payload } => {
                let at = self.net.through_downlink(self.now, to, size);
                self.queue.push(at, Event::Deliver { to, from, size, payload });
            }
            Event::Timer { node, timer, generation } => self.fire_timer(node, timer, generation),
            Event::Arrival(arrival) => self.submit(arrival),
            Event::Fault(fault) => self.apply_fault(fault),
        }
    }

    fn fold(&mut self, kind: u64, to: NodeId, from: NodeId, content: u64) {
        self.digest.add(self.now.0).add(kind | (to.0 as u64) << 8 | (from.0 as u64) << 36).add(content);
    }

    fn deliver(&mut self, to: NodeId, from: NodeId, size: u32, payload: Payload<P::Message>) {
        let accepted = if to == from { !self.net.is_crashed(to) } else { self.net.accept(self.now, from, to, size) };
        if !accepted {
            return;
        }
        match payload {
            Payload::Proto(msg) => {
                self.fold(1, to, from, msg.fingerprint());
                self.with_replica(to, |p, ctx| p.on_message(ctx, from, msg));
            }
            Payload::Request(tx) => {
                self.fold(2, to, from, tx.id.0);
                self.obs.on_arrival(self.now, tx.id);
                self.with_replica(to, |p, ctx| p.on_request(ctx, tx));
            }
            Payload::Reply(batch) => {
                self.fold(3, to, from, batch.first().map_or(0, |(id, _)| id.0) ^ (batch.len() as u64) << 48);
                for &(tx, result) in batch.iter() {
                    self.obs.on_reply(self.now, from, tx, result);
                }
            }
        }
    }

    fn fire_timer(&mut self, node: NodeId, timer: P::Timer, generation: u64) {
        let slots = &mut self.timers[node.idx()];
        if slots.get(&timer) != Some(&generation) {
            return; // re-armed or cancelled since
        }
        slots.remove(&timer);
        self.fold(4, node, node, generation);
        self.with_replica(node, |p, ctx| p.on_timer(ctx, timer));
    }

    fn submit(&mut self, arrival: Arrival) {
        let client = NodeId(self.cfg.n_replicas + arrival.client_idx);
        let id = self.obs.on_submit(self.now, client);
        let tx = Tx {
            id,
            client,
            from: arrival.from,
            to: arrival.to,
            amount: arrival.amount,
            size_bytes: arrival.size_bytes,
        };
        self.fold(5, client, client, id.0);
        match self.cfg.send_to {
            SendPolicy::Nearest => {
                let target = self.nearest[arrival.client_idx as usize];
                self.transmit(client, target, tx.size_bytes, Payload::Request(tx));
            }
            SendPolicy::Random => {
                let target = NodeId(self.client_rng.below(self.cfg.n_replicas as u64) as u32);
                self.transmit(client, target, tx.size_bytes, Payload::Request(tx));
            }
            SendPolicy::All => {
                for r in 0..self.cfg.n_replicas {
                    self.transmit(client, NodeId(r), tx.size_bytes, Payload::Request(tx));
                }
            }
        }
        if let Some(next) = self.workload.next_arrival() {
            assert!(next.at >= self.now, "the workload went back in time");
            self.queue.push(next.at, Event::Arrival(next));
        }
    }

    fn apply_fault(&mut self, fault: FaultAt) {
        let node = fault.replica;
        self.fold(6, node, node, fault.action as u64);
        match fault.action {
            FaultAction::Crash => {
                self.net.set_crashed(node, true);
                self.timers[node.idx()].clear();
            }
            FaultAction::Recover => {
                if !self.net.is_crashed(node) {
                    return;
                }
                self.net.set_crashed(node, false);
                self.incarnations[node.idx()] += 1;
                self.rngs[node.idx()] = self.streams.node(node.0, self.incarnations[node.idx()]);
                self.with_replica(node, |p, ctx| p.on_recover(ctx));
            }
        }
    }

    /// Calls one handler of replica `node`, then applies what it asked for.
    fn with_replica(&mut self, node: NodeId, handler: impl FnOnce(&mut P, &mut Ctx<'_, P>)) {
        debug_assert!(!self.net.is_crashed(node), "a crashed replica runs no handler");
        let mut ctx = Ctx {
            now: self.now,
            me: node,
            n_replicas: self.cfg.n_replicas,
            f: self.cfg.f,
            rng: &mut self.rngs[node.idx()],
            out: &mut self.outbox,
            obs: &mut self.obs,
        };
        handler(&mut self.replicas[node.idx()], &mut ctx);
        self.apply_outbox(node);
    }

    fn apply_outbox(&mut self, node: NodeId) {
        let mut sends = std::mem::take(&mut self.outbox.sends);
        for (dest, msg) in sends.drain(..) {
            let size = msg.wire_size();
            match dest {
                Dest::To(to) => self.transmit(node, to, size, Payload::Proto(msg)),
                Dest::AllReplicas => {
                    for to in 0..self.cfg.n_replicas {
                        self.transmit(node, NodeId(to), size, Payload::Proto(msg.clone()));
                    }
                }
            }
        }
        self.outbox.sends = sends;
        let mut timers = std::mem::take(&mut self.outbox.timers);
        for op in timers.drain(..) {
            match op {
                TimerOp::Set(timer, after) => {
                    self.timer_generation += 1;
                    self.timers[node.idx()].insert(timer, self.timer_generation);
                    let ev = Event::Timer { node, timer, generation: self.timer_generation };
                    self.queue.push(self.now + after, ev);
                }
                TimerOp::Cancel(timer) => {
                    self.timers[node.idx()].remove(&timer);
                }
            }
        }
        self.outbox.timers = timers;
        if !self.outbox.replies.is_empty() {
            self.send_replies(node);
        }
    }

    /// One reply message per client for all the results this handler produced.
    fn send_replies(&mut self, node: NodeId) {
        let mut replies = std::mem::take(&mut self.outbox.replies);
        replies.sort_by_key(|&(client, _, _)| client);
        for group in replies.chunk_by(|a, b| a.0 == b.0) {
            let client = group[0].0;
            let batch: Rc<[(TxId, TxResult)]> = group.iter().map(|&(_, tx, r)| (tx, r)).collect();
            self.transmit(node, client, reply_size(batch.len()), Payload::Reply(batch));
        }
        replies.clear();
        self.outbox.replies = replies;
    }

    fn transmit(&mut self, from: NodeId, to: NodeId, size: u32, payload: Payload<P::Message>) {
        if from == to {
            self.queue.push(self.now, Event::Deliver { to, from, size, payload });
            return;
        }
        match self.net.send(self.now, from, to, size, &mut self.net_rng) {
            Route::Dropped(_) => {}
            Route::Arrives { at, downlink: false } => self.queue.push(at, Event::Deliver { to, from, size, payload }),
            Route::Arrives { at, downlink: true } => self.queue.push(at, Event::Downlink { to, from, size, payload }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{DelayModel, Jitter, NodePlacement};
    use crate::workload::ListWorkload;
    use crate::{Message, Span};

    /// Each replica commits its own entry at slots 1, 2, 3...: a planted agreement violation.
    struct Liar {
        next_slot: u64,
    }

    #[derive(Clone, Debug)]
    struct Nothing;

    impl Message for Nothing {
        fn wire_size(&self) -> u32 {
            1
        }
        fn fingerprint(&self) -> u64 {
            0
        }
    }

    impl Protocol for Liar {
        type Message = Nothing;
        type Timer = u8;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            ctx.set_timer(0, Span::from_millis(1 + ctx.me().0 as u64));
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: Nothing) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: u8) {
            let me = ctx.me().0 as u64;
            ctx.commit(self.next_slot, 100 + me, &[]);
            self.next_slot += 1;
            ctx.set_timer(0, Span::from_millis(1000));
        }
        fn on_request(&mut self, _: &mut Ctx<'_, Self>, _: Tx) {}
    }

    fn config(correct: Vec<bool>) -> SimConfig {
        let place = NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
        SimConfig {
            seed: 1,
            n_replicas: 3,
            f: 0,
            net: NetConfig {
                nodes: vec![place; 3],
                n_replicas: 3,
                delay: DelayModel::Uniform(Span::from_millis(1)),
                jitter: Jitter::None,
                loss_ppb: 0,
                fifo: true,
                partitions: vec![],
            },
            send_to: SendPolicy::Nearest,
            faults: vec![],
            end: Time::from_secs_f64(10.0),
            max_events: 1000,
            max_queue: 1000,
            correct,
        }
    }

    #[test]
    fn a_violation_stops_the_run_where_it_happened() {
        let sim = Simulation::new(config(vec![true; 3]), Box::new(ListWorkload::default()), |_| Liar { next_slot: 1 });
        let r = sim.run();
        let Stop::Violation(v) = r.stop else { panic!("no violation reported: {:?}", r.stop) };
        assert_eq!((v.invariant, v.replica, v.at_ns), ("agreement", NodeId(1), 2_000_000));
        assert_eq!(r.end_time, Time(2_000_000), "the run stopped at the violating event");
    }

    #[test]
    fn byzantine_liars_are_not_reported() {
        let sim = Simulation::new(config(vec![true, false, false]), Box::new(ListWorkload::default()), |_| Liar {
            next_slot: 1,
        });
        let r = sim.run();
        assert_eq!(r.stop, Stop::End);
        assert_eq!(r.end_time, Time::from_secs_f64(10.0));
    }

    #[test]
    fn event_limit_stops_the_run() {
        let mut cfg = config(vec![true, false, false]);
        cfg.max_events = 5;
        let r = Simulation::new(cfg, Box::new(ListWorkload::default()), |_| Liar { next_slot: 1 }).run();
        assert_eq!((r.stop, r.events), (Stop::EventLimit, 5));
    }
}
