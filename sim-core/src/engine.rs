//! The engine: one event queue in (time, seq) order, the network, the replicas' state
//! machines, the clients, faults, limits, the safety checker and the run digest.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use crate::adversary::{Adversary, MessageMeta};
use crate::checker::Violation;
use crate::clients::{ClientModel, ClientStats, InFlight, Overload};
use crate::cpu::{CpuConfig, Pool, RecentBusy};
use crate::crypto::{CryptoMode, RealCrypto};
use crate::ids::{AccountId, NodeId, Tx, TxId, TxResult};
use crate::liveness::{Backlog, Progress, Waiting};
use crate::net::{KindName, KindStats, LinkStats, NetConfig, Network, Route, Wire};
use crate::observe::{Observer, TxRecord};
use crate::protocol::{Class, Ctx, Dest, ItemTally, Message, Monitor, NoMonitor, Outbox, Protocol, TimerOp};
use crate::queue::EventQueue;
use crate::record::{Detail, Entry, EventSink, Fate, HandlerInput, Record, Recorder};
use crate::rng::{SimRng, Streams};
use crate::time::{Span, Time};
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
    /// Each replica in turn: a client's k-th transaction goes to replica (client + k) mod n, so
    /// every replica receives the same share of each client's load; in a closed loop the
    /// transaction that replaces a confirmed one goes to its replica, so each replica keeps its
    /// share of the client's transactions in flight (Bamboo's client writing a distinct key to
    /// every replica).
    Spread,
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
    pub limits: Limits,
    /// Per replica: follows the protocol (checked) or not.
    pub correct: Vec<bool>,
    pub cpu: CpuConfig,
    pub crypto: CryptoMode,
    pub liveness: Option<LivenessCheck>,
    /// A client that holds no f+1 matching replies this long after sending resends to the
    /// next replica, and again after as long, up to once per replica. `None`: never.
    pub client_retry: Option<Span>,
    /// Delays, holds or drops chosen protocol messages between replicas (`Adversary::OFF`: none).
    pub adversary: Adversary,
    /// Open or closed loop, and the bound on requests a replica holds (`ClientModel::OPEN`:
    /// open loop, unbounded).
    pub clients: ClientModel,
}

/// Every transaction submitted at or after `from` (the end of the last fault) must, within
/// `bound`, be committed and executed by a correct replica and confirmed by its client (f+1
/// matching replies; Algorand runs with f = 0, so its one reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LivenessCheck {
    pub from: Time,
    pub bound: Span,
}

/// Caps on what one run may do or hold. Each is a count, never a measured size, so a run
/// stops at the same event on every machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events processed.
    pub max_events: u64,
    /// Events pending at once: in the engine's queue plus inputs waiting for a core at every
    /// replica (what a run holds in memory, whatever the number of replicas).
    pub max_queue: usize,
    /// Inputs waiting for a core, per replica.
    pub max_cpu_queue: usize,
    /// Transactions submitted (each keeps a record until the run ends).
    pub max_transactions: u64,
    /// Events processed at one virtual instant: more means time has stopped advancing.
    pub max_stalled_events: u64,
}

impl Limits {
    /// The defaults of a scenario's `[limits]`.
    pub const DEFAULT: Limits = Limits {
        max_events: 1_000_000_000,
        max_queue: 20_000_000,
        max_cpu_queue: 4_000_000,
        max_transactions: 20_000_000,
        max_stalled_events: 2_000_000,
    };
}

/// Which limit stopped a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Events,
    EventQueue,
    CpuQueue { node: NodeId },
    Transactions,
    Stalled,
}

impl Limit {
    /// The `[limits]` key that sets it.
    pub fn key(&self) -> &'static str {
        match self {
            Limit::Events => "max_events",
            Limit::EventQueue => "max_queue",
            Limit::CpuQueue { .. } => "max_cpu_queue",
            Limit::Transactions => "max_transactions",
            Limit::Stalled => "max_stalled_events",
        }
    }

    /// A short name for tables and file columns.
    pub fn name(&self) -> &'static str {
        match self {
            Limit::Events => "event_limit",
            Limit::EventQueue => "queue_limit",
            Limit::CpuQueue { .. } => "cpu_queue_limit",
            Limit::Transactions => "transaction_limit",
            Limit::Stalled => "time_stalled",
        }
    }
}

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Reached the configured end time.
    End,
    /// A limit of `[limits]` was reached; `detail` says where and when.
    Limit { limit: Limit, detail: String },
    /// A safety invariant broke.
    Violation(Violation),
}

impl Stop {
    /// A short name for tables and files: `end`, `violation`, or the limit's name.
    pub fn name(&self) -> &'static str {
        match self {
            Stop::End => "end",
            Stop::Limit { limit, .. } => limit.name(),
            Stop::Violation(_) => "violation",
        }
    }
}

#[derive(Debug)]
enum Payload<M> {
    Proto(M),
    Request(Tx),
    Reply(Rc<[(TxId, TxResult)]>),
    /// A replica's request queue was full: the client is to resend after a back-off.
    Busy(Tx),
}

/// The engine's own message kinds come first in the kind table; the protocol's `KINDS` follow,
/// then its `ITEM_KINDS`.
const REQUEST_KIND: usize = 0;
const REPLY_KIND: usize = 1;
const FIRST_PROTOCOL_KIND: usize = 2;

impl<M: Message> Payload<M> {
    /// The index of this payload's kind in the run's kind table.
    fn kind(&self) -> usize {
        match self {
            Payload::Request(_) => REQUEST_KIND,
            Payload::Reply(_) | Payload::Busy(_) => REPLY_KIND,
            Payload::Proto(msg) => FIRST_PROTOCOL_KIND + msg.kind(),
        }
    }

    /// How it queues on finite links: client requests, replies and push-backs are `Normal`.
    fn class(&self) -> Class {
        match self {
            Payload::Request(_) | Payload::Reply(_) | Payload::Busy(_) => Class::Normal,
            Payload::Proto(msg) => msg.class(),
        }
    }
}

/// The run's kinds, in table order: client requests and replies, the protocol's messages, then
/// the items its messages carry.
pub fn kind_names<M: Message>() -> Vec<KindName> {
    let message = |name| KindName { name, item: false };
    let mut kinds = vec![message("request"), message("reply")];
    kinds.extend(M::KINDS.iter().map(|&name| message(name)));
    kinds.extend(M::ITEM_KINDS.iter().map(|&name| KindName { name, item: true }));
    kinds
}

#[derive(Debug)]
enum Event<M, T> {
    /// Hand the payload to `to`.
    Deliver {
        to: NodeId,
        from: NodeId,
        size: u32,
        msg: u64,
        payload: Payload<M>,
    },
    /// The payload reached `to`'s finite downlink and queues there.
    Downlink {
        to: NodeId,
        from: NodeId,
        size: u32,
        msg: u64,
        payload: Payload<M>,
    },
    Timer {
        node: NodeId,
        timer: T,
        generation: u64,
    },
    /// A client checks whether its transaction confirmed, and resends it if not.
    Retry {
        tx: Tx,
        target: NodeId,
        attempt: u32,
    },
    Arrival(Arrival),
    /// A closed-loop client submits its next transaction (under `SendPolicy::Spread`, to the
    /// replica of the one it replaces).
    NextTx {
        client_idx: u32,
        to: Option<NodeId>,
    },
    /// A pushed-back client resends its transaction to the replica that pushed it back.
    Backoff {
        tx: Tx,
        target: NodeId,
    },
    Fault(FaultAt),
    /// Time to look for a transaction that missed the liveness bound.
    LivenessCheck,
    /// Partition `index` of the network configuration opens or heals (a record only: the
    /// network judges partitions by time when a message is sent).
    Partition {
        index: u32,
        open: bool,
    },
    /// A handler of `node` finished: its effects leave and its core in `pool` frees up.
    Release {
        node: NodeId,
        pool: Pool,
        epoch: u32,
        effects: Outbox<M, T>,
    },
    /// A core of `node` that ran a handler without effects is free again and inputs wait.
    Wake {
        node: NodeId,
        pool: Pool,
        epoch: u32,
    },
}

/// Work for a replica's CPU.
#[derive(Debug)]
enum Input<M, T> {
    /// `kind` and `msg_no` are the delivery's (its record's kind and message number).
    Message {
        from: NodeId,
        size: u32,
        msg: M,
        kind: u32,
        msg_no: u64,
    },
    Request {
        tx: Tx,
        size: u32,
        msg_no: u64,
    },
    Timer {
        timer: T,
        generation: u64,
    },
}

/// Per replica: cores in use, inputs waiting, work done, and a crash epoch that voids the
/// effects of handlers interrupted by a crash.
///
/// A handler with effects holds its core until its `Release` event sends them. A handler
/// without effects (most of what a non-relaying Algorand user does, for one) needs no event:
/// its core is busy until the time kept in `quiet_until`, and a `Wake` event is scheduled only
/// if inputs wait for it.
#[derive(Debug)]
struct CpuState<M, T> {
    /// Cores held by a handler whose `Release` is pending.
    busy_cores: u32,
    /// When each core running a handler without effects frees up (entries past are dropped).
    quiet_until: Vec<Time>,
    waiting: VecDeque<Input<M, T>>,
    /// How many of `waiting` are client requests (what `RequestBound` bounds).
    requests_waiting: u32,
    busy_ns: u64,
    /// The busy time of the last few seconds (for the overload diagnosis).
    recent: RecentBusy,
    epoch: u32,
    /// The time of the pending `Wake`, or `Time::MAX`.
    wake_at: Time,
}

impl<M, T> CpuState<M, T> {
    fn new() -> Self {
        CpuState {
            busy_cores: 0,
            quiet_until: Vec::new(),
            waiting: VecDeque::new(),
            requests_waiting: 0,
            busy_ns: 0,
            recent: RecentBusy::default(),
            epoch: 0,
            wake_at: Time::MAX,
        }
    }

    /// Whether a core is free at `now` (forgetting quiet handlers that ended).
    fn has_free_core(&mut self, now: Time, cores: u32) -> bool {
        self.quiet_until.retain(|&t| t > now);
        self.busy_cores + (self.quiet_until.len() as u32) < cores
    }
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
    /// The same traffic per kind, indexed like `RunResult::kinds`.
    pub traffic: Vec<KindStats>,
    pub counters: Vec<(&'static str, u64)>,
    /// Time the CPU spent on handlers (summed over cores), and the cores: the consensus pool's
    /// (every input's when the replica has no request pool).
    pub cpu_busy_ns: u64,
    pub cores: u32,
    /// The same for the request pool (0 and 0 without one).
    pub request_busy_ns: u64,
    pub request_cores: u32,
    /// Busy time charged lately to the CPU, the uplink and the downlink (by the second it was
    /// charged in), and the inputs waiting for a core when the run stopped.
    pub cpu_recent: RecentBusy,
    pub uplink_recent: RecentBusy,
    pub downlink_recent: RecentBusy,
    pub cpu_waiting: usize,
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
    /// The message kinds each node's `traffic` counts.
    pub kinds: Vec<KindName>,
    /// The monitor's run-level counters.
    pub counters: Vec<(&'static str, u64)>,
    /// Records the run made (see `record`), and the last of them, oldest first: the flight
    /// recorder.
    pub records: u64,
    pub recent: Vec<Entry>,
    /// Requests dropped and pushed back, and the longest request queue.
    pub clients: ClientStats,
    /// The liveness check found late transactions that the backlog explains: overload, not a
    /// stall (see `liveness`). None without a check, or when none was late.
    pub backlog: Option<Backlog>,
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
    /// The random adversary's own stream: its draws perturb no other component.
    adversary_rng: SimRng,
    workload: Box<dyn Workload>,
    /// Closed loop: transactions in flight per client.
    in_flight: Option<InFlight>,
    client_stats: ClientStats,
    nearest: Vec<NodeId>,
    /// Per client: the replica its next transaction goes to under `SendPolicy::Spread`.
    spread_next: Vec<u32>,
    /// Under `SendPolicy::Spread` with a closed loop: the replica of each transaction in flight,
    /// where the one that replaces it goes (each replica keeps its share of a client's slots).
    spread_sent: BTreeMap<TxId, NodeId>,
    /// Per source account: the last nonce given out, and the transaction that carries it.
    nonces: BTreeMap<AccountId, (u64, TxId)>,
    obs: Observer,
    monitor: Box<dyn Monitor<P::Record>>,
    outbox: Outbox<P::Message, P::Timer>,
    /// Emptied outboxes kept for reuse by handlers that take time.
    outbox_pool: Vec<Outbox<P::Message, P::Timer>>,
    /// Per replica, per pool (`Pool::idx`): the request pool's state stays idle when requests
    /// share the consensus pool.
    cpu: Vec<[CpuState<P::Message, P::Timer>; 2]>,
    /// Inputs waiting for a core, summed over replicas.
    cpu_waiting_total: usize,
    real: Option<RealCrypto>,
    streams: Streams,
    /// Numbers the records, folds the digest, keeps the flight recorder, feeds the observer.
    rec: Recorder<P>,
    /// The next message copy's number.
    next_msg: u64,
    /// The first transaction the liveness check has not cleared yet.
    liveness_cursor: usize,
    /// Transactions the check passed that are late by their submission but not by when they
    /// could execute (their account's previous one executed late or not yet).
    waiting: Waiting,
    /// Confirmations over the last liveness bound (with a liveness check).
    progress: Option<Progress>,
    backlog: Option<Backlog>,
    events: u64,
    /// The latest instant events happened at, and how many happened at it.
    instant: Time,
    events_at_instant: u64,
    /// A limit reached inside a handler (CPU queue, transactions), reported after the event.
    limit_hit: Option<Stop>,
    stop: Option<Stop>,
    /// Whether the replicas' `on_start` ran (on the first `run_until`).
    started: bool,
}

impl<P: Protocol> Simulation<P> {
    /// Builds the run: replicas from `make`, clients after them in the network's node list.
    pub fn new(cfg: SimConfig, workload: Box<dyn Workload>, mut make: impl FnMut(NodeId) -> P) -> Self {
        let n = cfg.n_replicas as usize;
        assert!(n >= 1 && n <= cfg.net.nodes.len(), "clients come after the replicas");
        assert_eq!(cfg.correct.len(), n);
        assert_eq!(cfg.net.n_replicas, cfg.n_replicas);
        let streams = Streams::new(cfg.seed);
        let net = Network::new(cfg.net.clone(), kind_names::<P::Message>().len());
        let nearest = (n..net.n_nodes())
            .map(|c| {
                (0..n as u32)
                    .map(NodeId)
                    .min_by_key(|&r| (net.base_delay(NodeId(c as u32), r), r))
                    .expect("at least one replica")
            })
            .collect();
        let spread_next = (0..net.n_nodes() - n).map(|c| (c % n) as u32).collect();
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
            adversary_rng: streams.stream("adversary"),
            workload,
            in_flight: None,
            client_stats: ClientStats::default(),
            nearest,
            spread_next,
            spread_sent: BTreeMap::new(),
            nonces: BTreeMap::new(),
            obs: Observer::new(cfg.correct.clone(), cfg.f),
            monitor: Box::new(NoMonitor),
            outbox: Outbox::default(),
            outbox_pool: Vec::new(),
            real: (cfg.crypto == CryptoMode::Real).then(|| RealCrypto::new(&streams, cfg.n_replicas)),
            cpu: (0..n).map(|_| [CpuState::new(), CpuState::new()]).collect(),
            cpu_waiting_total: 0,
            rec: Recorder::new(cfg.seed),
            next_msg: 0,
            liveness_cursor: 0,
            waiting: Waiting::default(),
            progress: cfg.liveness.map(|c| Progress::new(c.bound)),
            backlog: None,
            streams,
            events: 0,
            instant: Time::ZERO,
            events_at_instant: 0,
            limit_hit: None,
            stop: None,
            started: false,
            cfg,
        };
        for fault in sim.cfg.faults.clone() {
            sim.queue.push(fault.at, Event::Fault(fault));
        }
        for (index, p) in sim.cfg.net.partitions.iter().enumerate() {
            let index = index as u32;
            sim.queue.push(p.start, Event::Partition { index, open: true });
            sim.queue.push(p.heal, Event::Partition { index, open: false });
        }
        if let Some(check) = sim.cfg.liveness {
            sim.queue.push(check.from + check.bound, Event::LivenessCheck);
        }
        sim.start_clients();
        sim
    }

    /// Queues the first arrival (open loop), or each closed-loop client's first transactions,
    /// round by round, at time 0.
    fn start_clients(&mut self) {
        let Some(closed) = self.cfg.clients.closed else {
            if let Some(first) = self.workload.next_arrival() {
                self.queue.push(first.at, Event::Arrival(first));
            }
            return;
        };
        let n_clients = self.net.n_nodes() - self.cfg.n_replicas as usize;
        self.in_flight = Some(InFlight::new(n_clients, closed.outstanding));
        for _ in 0..closed.outstanding {
            for client_idx in 0..n_clients as u32 {
                self.queue.push(Time::ZERO, Event::NextTx { client_idx, to: None });
            }
        }
    }

    /// Starts the replicas, at time 0, when the run first runs (so that a monitor, an observer
    /// and the flight recorder set up after `new` see the start).
    fn start_replicas(&mut self) {
        self.started = true;
        for i in 0..self.cfg.n_replicas {
            self.with_replica(NodeId(i), |p, ctx| p.on_start(ctx));
        }
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
        self.rec.digest()
    }

    /// Why the run stopped, once it has.
    pub fn stopped(&self) -> Option<&Stop> {
        self.stop.as_ref()
    }

    pub fn n_replicas(&self) -> u32 {
        self.cfg.n_replicas
    }

    /// The flight recorder's records, oldest first.
    pub fn recent(&self) -> Vec<Entry> {
        self.rec.ring().entries()
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
        if !self.started {
            self.start_replicas();
        }
        let limit = limit.min(self.cfg.end);
        while let Some((at, _seq, event)) = self.queue.pop_until(limit) {
            debug_assert!(at >= self.now, "the queue went back in time");
            self.now = at;
            self.events += 1;
            if at > self.instant {
                self.instant = at;
                self.events_at_instant = 0;
            }
            self.events_at_instant += 1;
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

    /// Checks the protocol's invariants with `monitor` from the first event on.
    pub fn with_monitor(mut self, monitor: Box<dyn Monitor<P::Record>>) -> Self {
        assert!(!self.started, "a monitor watches a run from its start");
        self.monitor = monitor;
        self
    }

    /// Hands every record of the run, from the first, to `sink`.
    pub fn with_sink(mut self, sink: Box<dyn EventSink<P>>) -> Self {
        assert!(!self.started, "an observer watches a run from its start");
        self.rec.set_sink(sink);
        self
    }

    /// Keeps the last `capacity` records in the flight recorder (0: none; the default is
    /// `FlightRecorder::DEFAULT_CAPACITY`).
    pub fn with_flight_recorder(mut self, capacity: usize) -> Self {
        assert!(!self.started, "the flight recorder is sized before the run");
        self.rec.set_capacity(capacity);
        self
    }

    /// Runs to the end.
    pub fn run(mut self) -> RunResult {
        self.run_until(Time::MAX);
        self.finish()
    }

    fn limit_reached(&mut self) -> Option<Stop> {
        if let Some(v) = self.obs.violation.take() {
            self.rec.push(self.now, Record::Violation { node: v.replica, invariant: v.invariant }, Detail::None);
            return Some(Stop::Violation(v));
        }
        if let Some(stop) = self.limit_hit.take() {
            return Some(stop);
        }
        let limits = self.cfg.limits;
        if self.events >= limits.max_events {
            return Some(self.limit(Limit::Events, format!("{} events processed", self.events)));
        }
        if self.queue.len() + self.cpu_waiting_total > limits.max_queue {
            let detail = format!(
                "{} events pending in the engine's queue and {} inputs waiting for a core",
                self.queue.len(),
                self.cpu_waiting_total
            );
            return Some(self.limit(Limit::EventQueue, detail));
        }
        if self.events_at_instant > limits.max_stalled_events {
            let detail = format!(
                "virtual time stalled at t = {:.6} s for {} events: zero delay and zero CPU cost let the \
                 protocol loop without time passing; give the network a delay or the CPU a cost",
                self.now.as_secs_f64(),
                self.events_at_instant
            );
            return Some(self.limit(Limit::Stalled, detail));
        }
        None
    }

    /// A limit stop; `detail` gets the virtual time appended (the stall says it itself).
    fn limit(&self, limit: Limit, detail: String) -> Stop {
        let detail =
            if limit == Limit::Stalled { detail } else { format!("{detail} at t = {:.6} s", self.now.as_secs_f64()) };
        Stop::Limit { limit, detail }
    }

    pub fn finish(self) -> RunResult {
        let n = self.cfg.n_replicas as usize;
        debug_assert_eq!(self.cpu_waiting_total, self.cpu.iter().flatten().map(|c| c.waiting.len()).sum::<usize>());
        let nodes = (0..self.net.n_nodes())
            .map(|i| NodeReport {
                id: NodeId(i as u32),
                is_replica: i < n,
                correct: i >= n || self.cfg.correct[i],
                crashed_at_end: self.net.is_crashed(NodeId(i as u32)),
                link: self.net.stats[i],
                traffic: self.net.traffic.of(NodeId(i as u32)).to_vec(),
                counters: if i < n { self.replicas[i].counters() } else { Vec::new() },
                cpu_busy_ns: self.cpu.get(i).map_or(0, |c| c[0].busy_ns),
                cores: if i < n { self.cfg.cpu.cores } else { 0 },
                request_busy_ns: self.cpu.get(i).map_or(0, |c| c[1].busy_ns),
                request_cores: if i < n { self.cfg.cpu.request_cores } else { 0 },
                cpu_recent: self.cpu.get(i).map_or_else(RecentBusy::default, |c| c[0].recent),
                uplink_recent: self.net.uplink_recent[i],
                downlink_recent: self.net.downlink_recent[i],
                cpu_waiting: self.cpu.get(i).map_or(0, |c| c[0].waiting.len() + c[1].waiting.len()),
            })
            .collect();
        RunResult {
            digest: self.rec.digest(),
            events: self.events,
            end_time: self.now,
            stop: self.stop.unwrap_or(Stop::End),
            txs: self.obs.txs,
            nodes,
            kinds: kind_names::<P::Message>(),
            counters: self.monitor.counters(),
            records: self.rec.records(),
            recent: self.rec.ring().entries(),
            clients: self.client_stats,
            backlog: self.backlog,
        }
    }

    fn dispatch(&mut self, event: Event<P::Message, P::Timer>) {
        match event {
            Event::Deliver { to, from, size, msg, payload } => self.deliver(to, from, size, msg, payload),
            Event::Downlink { to, from, size, msg, payload } => {
                let at = self.net.through_downlink(self.now, to, size, payload.class());
                self.queue.push(at, Event::Deliver { to, from, size, msg, payload });
            }
            Event::Timer { node, timer, generation } => self.fire_timer(node, timer, generation),
            Event::Arrival(arrival) => self.submit(arrival),
            Event::NextTx { client_idx, to } => self.next_tx(client_idx, to),
            Event::Backoff { tx, target } => self.resend_after_backoff(tx, target),
            Event::Fault(fault) => self.apply_fault(fault),
            Event::Release { node, pool, epoch, effects } => self.release(node, pool, epoch, effects),
            Event::Wake { node, pool, epoch } => self.wake(node, pool, epoch),
            Event::LivenessCheck => self.check_liveness(),
            Event::Retry { tx, target, attempt } => self.retry(tx, target, attempt),
            Event::Partition { index, open } => {
                self.rec.push(self.now, Record::Partition { index, open }, Detail::None)
            }
        }
    }

    /// Looks for a late transaction: one still unconfirmed a bound after its bound starts
    /// (`Observer::bound_starts`: its submission; once committed, its account's previous
    /// transaction's execution if later, as the ledger holds it until then). The first found is
    /// a liveness violation, named by the stage it is missing (commit, execution, or the
    /// client's f+1 matching replies), unless the backlog explains it (`Backlog::explains`):
    /// then the run is overloaded, and the check looks at it again next time. Runs again an
    /// eighth of the bound later.
    fn check_liveness(&mut self) {
        let check = self.cfg.liveness.expect("scheduled only with a liveness check");
        let late = [self.late_waiting(check), self.late_in_order(check)].into_iter().flatten().min();
        if let Some(idx) = late
            && !self.backlogged(check)
        {
            let detail = self.liveness_detail(idx, check);
            let client = self.obs.txs[idx].client;
            let v = Violation { at_ns: self.now.0, replica: client, invariant: "liveness", detail };
            self.obs.violation.get_or_insert(v);
            return;
        }
        let period = Span((check.bound.0 / 8).max(1_000_000));
        self.queue.push(self.now + period, Event::LivenessCheck);
    }

    /// Clears transactions in submission order: confirmed ones, and those late by their
    /// submission whose bound starts later, which wait (`Waiting`). Stops at the first one late
    /// (returned, left in place) or not late by its submission: every later one was submitted
    /// no earlier, so is not late either.
    fn late_in_order(&mut self, check: LivenessCheck) -> Option<usize> {
        while let Some(rec) = self.obs.txs.get(self.liveness_cursor) {
            if rec.submitted >= check.from && !rec.is_confirmed() {
                if rec.submitted + check.bound > self.now {
                    return None;
                }
                let start = self.obs.bound_starts(rec.tx.id);
                if start + check.bound <= self.now {
                    return Some(self.liveness_cursor);
                }
                self.waiting.file(rec.tx.id, start, self.now, check.bound);
            }
            self.liveness_cursor += 1;
        }
        None
    }

    /// The first waiting transaction now late (left in place); files again the others that
    /// came due, and drops the confirmed ones.
    fn late_waiting(&mut self, check: LivenessCheck) -> Option<usize> {
        while let Some(id) = self.waiting.due_at(self.now) {
            let start = self.obs.bound_starts(id);
            if !self.obs.txs[id.idx()].is_confirmed() && start + check.bound <= self.now {
                return Some(id.idx());
            }
            self.waiting.take(id);
            if !self.obs.txs[id.idx()].is_confirmed() {
                self.waiting.file(id, start, self.now, check.bound);
            }
        }
        None
    }

    /// Whether the transactions pending since the last fault take more than half the bound to
    /// drain at the last bound's rate (`Backlog::explains`); records the backlog if so.
    fn backlogged(&mut self, check: LivenessCheck) -> bool {
        let pending = self.pending_since(check.from);
        let confirmed_in_bound = self.progress.as_ref().map_or(0, |p| p.over_bound(self.now));
        if !Backlog::explains(pending, confirmed_in_bound) {
            return false;
        }
        let first = Backlog { at: self.now, pending, confirmed_in_bound, max_pending: pending };
        let backlog = self.backlog.get_or_insert(first);
        backlog.max_pending = backlog.max_pending.max(pending);
        true
    }

    /// Transactions submitted at or after `from` and not confirmed (from the check's cursor on,
    /// and those waiting).
    fn pending_since(&self, from: Time) -> u64 {
        let rest = &self.obs.txs[self.liveness_cursor..];
        let waiting = self.waiting.ids().filter(|id| !self.obs.txs[id.idx()].is_confirmed()).count();
        rest.iter().filter(|r| r.submitted >= from && !r.is_confirmed()).count() as u64 + waiting as u64
    }

    /// What a late transaction is missing: the first stage it did not reach.
    fn liveness_detail(&self, idx: usize, check: LivenessCheck) -> String {
        let rec = &self.obs.txs[idx];
        let mut late =
            format!("transaction {idx} submitted at {} (after the last fault ended at {})", rec.submitted, check.from);
        let ready = self.obs.bound_starts(rec.tx.id);
        if let Some(earlier) = rec.follows
            && ready > rec.submitted
        {
            late +=
                &format!(", which could execute from {ready} (its account's transaction {} executed then),", earlier.0);
        }
        let confirmed = self.progress.as_ref().map_or(0, |p| p.over_bound(self.now));
        let progress =
            format!("; {} pending, {confirmed} confirmed over the last bound", self.pending_since(check.from));
        self.stage_missed(rec, late, check) + &progress
    }

    /// The late transaction's first missing stage, in words.
    fn stage_missed(&self, rec: &TxRecord, late: String, check: LivenessCheck) -> String {
        let since = if self.obs.bound_starts(rec.tx.id) > rec.submitted { "it could execute" } else { "submission" };
        if !rec.is_committed() {
            format!("{late} is not committed {} later", check.bound)
        } else if rec.executed == Time::MAX {
            format!("{late} was committed at {} but never executed {} after {since}", rec.committed, check.bound)
        } else {
            let (held, needed) = self.obs.replies_held(rec.tx.id);
            format!(
                "{late} was executed at {} but the client holds {held} of {needed} matching replies {} after {since}",
                rec.executed, check.bound
            )
        }
    }

    fn deliver(&mut self, to: NodeId, from: NodeId, size: u32, msg_no: u64, payload: Payload<P::Message>) {
        let on_wire = to != from;
        let kind = payload.kind();
        let accepted = if on_wire { self.net.accept(self.now, from, to, size, kind) } else { !self.net.is_crashed(to) };
        if !accepted {
            let record = Record::Refused { to, from, kind: kind as u32, msg: msg_no };
            self.rec.push(self.now, record, Detail::None);
            return;
        }
        let delivered = |content| Record::Deliver { to, from, kind: kind as u32, size, msg: msg_no, content };
        match payload {
            Payload::Proto(msg) => {
                if on_wire {
                    self.count_items(to, msg.items(), false);
                }
                self.rec.push(self.now, delivered(msg.fingerprint()), Detail::Message(&msg));
                self.input(to, Input::Message { from, size, msg, kind: kind as u32, msg_no });
            }
            Payload::Request(tx) => {
                self.rec.push(self.now, delivered(tx.id.0), Detail::None);
                if self.request_queue_full(to) {
                    self.overloaded(to, tx);
                    return;
                }
                self.obs.on_arrival(self.now, tx.id);
                self.input(to, Input::Request { tx, size, msg_no });
            }
            Payload::Reply(batch) => {
                let content = batch.first().map_or(0, |(id, _)| id.0) ^ (batch.len() as u64) << 48;
                self.rec.push(self.now, delivered(content), Detail::None);
                for &(tx, result) in batch.iter() {
                    if self.obs.on_reply(self.now, from, tx, result) {
                        if let Some(progress) = &mut self.progress {
                            progress.confirmed(self.now);
                        }
                        self.rec.push(self.now, Record::Confirm { client: to, tx }, Detail::None);
                        self.confirmed(to, tx);
                    }
                }
            }
            Payload::Busy(tx) => {
                self.rec.push(self.now, delivered(tx.id.0 | 1 << 63), Detail::None);
                self.pushed_back(tx, from);
            }
        }
    }

    fn fire_timer(&mut self, node: NodeId, timer: P::Timer, generation: u64) {
        if self.timers[node.idx()].get(&timer) != Some(&generation) {
            return; // re-armed or cancelled since
        }
        self.rec.push(self.now, Record::TimerFire { node, generation }, Detail::Timer(&timer));
        self.input(node, Input::Timer { timer, generation });
    }

    /// The pool an input runs on: requests on the request pool, messages where they ask to
    /// be, timers on the consensus pool; everything on the consensus pool without a request pool.
    fn pool_of(&self, input: &Input<P::Message, P::Timer>) -> Pool {
        let wanted = match input {
            Input::Request { .. } if self.cfg.cpu.planted_requests_on_consensus => Pool::Consensus,
            Input::Request { .. } => Pool::Request,
            Input::Message { msg, .. } => msg.pool(),
            Input::Timer { .. } => Pool::Consensus,
        };
        self.cfg.cpu.pool_for(wanted)
    }

    /// Hands an input to its pool of `node`'s CPU: it runs now if a core is free, else it waits.
    fn input(&mut self, node: NodeId, input: Input<P::Message, P::Timer>) {
        let pool = self.pool_of(&input);
        let cores = self.cfg.cpu.cores_of(pool);
        let now = self.now;
        let cpu = &mut self.cpu[node.idx()][pool.idx()];
        if cores == 0 || (cpu.waiting.is_empty() && cpu.has_free_core(now, cores)) {
            self.start(node, pool, input);
        } else {
            if matches!(input, Input::Request { .. }) {
                cpu.requests_waiting += 1;
                let stats = &mut self.client_stats;
                stats.max_requests_waiting = stats.max_requests_waiting.max(cpu.requests_waiting as u64);
            }
            cpu.waiting.push_back(input);
            let waiting = cpu.waiting.len();
            self.cpu_waiting_total += 1;
            self.schedule_wake(node, pool);
            if waiting > self.cfg.limits.max_cpu_queue && self.limit_hit.is_none() {
                let detail = format!(
                    "replica {}'s CPU has {waiting} inputs waiting for a core ({} cores): the offered load exceeds what it can process",
                    node.0, cores
                );
                self.limit_hit = Some(self.limit(Limit::CpuQueue { node }, detail));
            }
        }
    }

    /// Makes sure waiting inputs get a core when the first quiet handler ends (a core held
    /// until a `Release` is handed on by the release itself).
    fn schedule_wake(&mut self, node: NodeId, pool: Pool) {
        let cpu = &mut self.cpu[node.idx()][pool.idx()];
        let Some(&first) = cpu.quiet_until.iter().min() else { return };
        if first < cpu.wake_at {
            cpu.wake_at = first;
            let epoch = cpu.epoch;
            self.queue.push(first, Event::Wake { node, pool, epoch });
        }
    }

    fn wake(&mut self, node: NodeId, pool: Pool, epoch: u32) {
        let cpu = &mut self.cpu[node.idx()][pool.idx()];
        if epoch != cpu.epoch || self.now < cpu.wake_at {
            return; // a crash voided it, or an earlier wake superseded it
        }
        cpu.wake_at = Time::MAX;
        self.next_input(node, pool);
    }

    /// Runs the handler for `input`. With a CPU model its effects leave when it finishes.
    fn start(&mut self, node: NodeId, pool: Pool, input: Input<P::Message, P::Timer>) {
        let upfront = match &input {
            Input::Message { size, .. } => self.cfg.cpu.input_cost(*size),
            Input::Request { size, .. } => self.cfg.cpu.request_cost(*size),
            Input::Timer { .. } => self.cfg.cpu.base,
        };
        let (cost, ran) = match input {
            Input::Message { from, msg, kind, msg_no, .. } => (
                self.run_handler(node, upfront, |p, ctx| p.on_message(ctx, from, msg)),
                HandlerInput::Message { kind, msg: msg_no },
            ),
            Input::Request { tx, msg_no, .. } => {
                (self.run_handler(node, upfront, |p, ctx| p.on_request(ctx, tx)), HandlerInput::Request { msg: msg_no })
            }
            Input::Timer { timer, generation } => {
                // It may have been re-armed while this firing waited for a core.
                if self.timers[node.idx()].get(&timer) != Some(&generation) {
                    return;
                }
                self.timers[node.idx()].remove(&timer);
                (self.run_handler(node, upfront, |p, ctx| p.on_timer(ctx, timer)), HandlerInput::Timer { generation })
            }
        };
        self.rec.push(self.now, Record::Handler { node, cost, input: ran }, Detail::None);
        if self.cfg.cpu.cores_of(pool) == 0 || cost == Span::ZERO {
            let mut effects = std::mem::take(&mut self.outbox);
            self.apply_effects(node, &mut effects);
            self.outbox = effects;
            return;
        }
        // The effects leave when the handler ends, but the timers it set or cancelled are
        // superseded now, as its state changes are: a firing of the old one that got another
        // core meanwhile would time out the state the handler just moved to.
        let timers = &mut self.timers[node.idx()];
        for op in &self.outbox.timers {
            let (TimerOp::Set(timer, _) | TimerOp::Cancel(timer)) = op;
            timers.remove(timer);
        }
        let cpu = &mut self.cpu[node.idx()][pool.idx()];
        cpu.busy_ns += cost.0;
        cpu.recent.add(self.now, cost);
        if self.outbox.is_empty() {
            cpu.quiet_until.push(self.now + cost);
            return;
        }
        cpu.busy_cores += 1;
        let fresh = self.outbox_pool.pop().unwrap_or_default();
        let effects = std::mem::replace(&mut self.outbox, fresh);
        let epoch = cpu.epoch;
        self.queue.push(self.now + cost, Event::Release { node, pool, epoch, effects });
    }

    /// A handler finished: its effects leave now, and its core takes the next waiting input.
    fn release(&mut self, node: NodeId, pool: Pool, epoch: u32, mut effects: Outbox<P::Message, P::Timer>) {
        if epoch == self.cpu[node.idx()][pool.idx()].epoch {
            self.rec.push(self.now, Record::Release { node, epoch }, Detail::None);
            self.apply_effects(node, &mut effects);
            let cpu = &mut self.cpu[node.idx()][pool.idx()];
            assert!(cpu.busy_cores > 0, "a release frees a busy core");
            cpu.busy_cores -= 1;
            self.next_input(node, pool);
        }
        effects.clear();
        self.outbox_pool.push(effects);
    }

    /// Starts waiting inputs of `pool`, in order, while a core of it is free.
    fn next_input(&mut self, node: NodeId, pool: Pool) {
        let (now, cores) = (self.now, self.cfg.cpu.cores_of(pool).max(1));
        loop {
            let cpu = &mut self.cpu[node.idx()][pool.idx()];
            if cpu.waiting.is_empty() || !cpu.has_free_core(now, cores) {
                break;
            }
            let next = cpu.waiting.pop_front().expect("checked");
            if matches!(next, Input::Request { .. }) {
                cpu.requests_waiting -= 1;
            }
            self.cpu_waiting_total -= 1;
            self.start(node, pool, next);
        }
        if !self.cpu[node.idx()][pool.idx()].waiting.is_empty() {
            self.schedule_wake(node, pool);
        }
    }

    fn submit(&mut self, arrival: Arrival) {
        if self.obs.txs.len() as u64 >= self.cfg.limits.max_transactions {
            let detail = format!("{} transactions submitted, one more arriving", self.obs.txs.len());
            self.limit_hit.get_or_insert(self.limit(Limit::Transactions, detail));
            return;
        }
        let client = NodeId(self.cfg.n_replicas + arrival.client_idx);
        let id = TxId(self.obs.txs.len() as u64);
        let last = self.nonces.entry(arrival.from).or_insert((0, id));
        let follows = (last.0 > 0).then_some(last.1);
        *last = (last.0 + 1, id);
        let nonce = last.0;
        let tx = Tx {
            id,
            client,
            from: arrival.from,
            to: arrival.to,
            amount: arrival.amount,
            nonce,
            size_bytes: arrival.size_bytes,
        };
        let id = self.obs.on_submit(self.now, tx, follows);
        self.rec.push(self.now, Record::Submit { client, tx: id }, Detail::None);
        match self.cfg.send_to {
            SendPolicy::Nearest => {
                let target = self.nearest[arrival.client_idx as usize];
                self.transmit(client, target, tx.size_bytes, Payload::Request(tx));
                self.schedule_retry(tx, target, 1);
            }
            SendPolicy::Random => {
                let target = NodeId(self.client_rng.below(self.cfg.n_replicas as u64) as u32);
                self.transmit(client, target, tx.size_bytes, Payload::Request(tx));
                self.schedule_retry(tx, target, 1);
            }
            SendPolicy::Spread => {
                let next = &mut self.spread_next[arrival.client_idx as usize];
                let target = NodeId(*next);
                *next = (*next + 1) % self.cfg.n_replicas;
                if self.in_flight.is_some() {
                    self.spread_sent.insert(tx.id, target);
                }
                self.transmit(client, target, tx.size_bytes, Payload::Request(tx));
                self.schedule_retry(tx, target, 1);
            }
            SendPolicy::All => {
                for r in 0..self.cfg.n_replicas {
                    self.transmit(client, NodeId(r), tx.size_bytes, Payload::Request(tx));
                }
            }
        }
        if let Some(in_flight) = &mut self.in_flight {
            in_flight.submitted(arrival.client_idx);
        } else if let Some(next) = self.workload.next_arrival() {
            assert!(next.at >= self.now, "the workload went back in time");
            self.queue.push(next.at, Event::Arrival(next));
        }
    }

    fn schedule_retry(&mut self, tx: Tx, target: NodeId, attempt: u32) {
        if let Some(after) = self.cfg.client_retry
            && attempt < self.cfg.n_replicas
        {
            self.queue.push(self.now + after, Event::Retry { tx, target, attempt });
        }
    }

    /// Resends an unconfirmed transaction to the replica after the last one tried.
    fn retry(&mut self, tx: Tx, first: NodeId, attempt: u32) {
        if self.obs.txs[tx.id.idx()].is_confirmed() {
            return;
        }
        let target = NodeId((first.0 + attempt) % self.cfg.n_replicas);
        self.rec.push(self.now, Record::Resend { client: tx.client, to: target, tx: tx.id }, Detail::None);
        self.transmit(tx.client, target, tx.size_bytes, Payload::Request(tx));
        self.schedule_retry(tx, first, attempt + 1);
    }

    /// A closed-loop client submits the workload's next transaction as its own, now, unless
    /// submissions are over or the workload is exhausted.
    fn next_tx(&mut self, client_idx: u32, to: Option<NodeId>) {
        let closed = self.cfg.clients.closed.expect("only closed loops queue NextTx");
        if self.now >= closed.until {
            return;
        }
        let Some(mut arrival) = self.workload.next_arrival() else { return };
        arrival.at = self.now;
        arrival.client_idx = client_idx;
        if let Some(replica) = to {
            self.spread_next[client_idx as usize] = replica.0;
        }
        self.submit(arrival);
    }

    /// `client` confirmed `tx`: a closed-loop client submits the next one after its think
    /// time, under `SendPolicy::Spread` to the replica `tx` went to.
    fn confirmed(&mut self, client: NodeId, tx: TxId) {
        let (Some(in_flight), Some(closed)) = (&mut self.in_flight, self.cfg.clients.closed) else { return };
        let client_idx = client.0 - self.cfg.n_replicas;
        in_flight.confirmed(client_idx);
        let to = self.spread_sent.remove(&tx);
        let at = self.now + closed.think;
        self.queue.push(at, Event::NextTx { client_idx, to });
        if closed.planted_double_submit {
            self.queue.push(at, Event::NextTx { client_idx, to });
        }
    }

    /// Whether `node` holds as many requests waiting for a core as its bound allows (in
    /// whichever pool requests run on).
    fn request_queue_full(&self, node: NodeId) -> bool {
        let waiting: u32 = self.cpu[node.idx()].iter().map(|cpu| cpu.requests_waiting).sum();
        self.cfg.clients.queue.is_some_and(|bound| waiting >= bound.limit)
    }

    /// `node`'s request queue is full: it drops `tx`, or answers its client that it is busy.
    fn overloaded(&mut self, node: NodeId, tx: Tx) {
        let bound = self.cfg.clients.queue.expect("only a bounded queue is full");
        let pushed_back = matches!(bound.overload, Overload::PushBack { .. });
        let record = Record::Overload { node, client: tx.client, tx: tx.id, pushed_back };
        self.rec.push(self.now, record, Detail::None);
        match bound.overload {
            Overload::Drop => self.client_stats.dropped += 1,
            Overload::PushBack { .. } => {
                self.client_stats.pushed_back += 1;
                self.transmit(node, tx.client, reply_size(1), Payload::Busy(tx));
            }
        }
    }

    /// A busy reply from `replica`: the client resends there after its back-off, unless the
    /// transaction confirmed meanwhile.
    fn pushed_back(&mut self, tx: Tx, replica: NodeId) {
        let rec = &mut self.obs.txs[tx.id.idx()];
        if rec.is_confirmed() {
            return;
        }
        rec.pushed_back += 1;
        let bound = self.cfg.clients.queue.expect("only a bounded queue pushes back");
        let at = self.now + bound.overload.backoff(rec.pushed_back);
        self.queue.push(at, Event::Backoff { tx, target: replica });
    }

    fn resend_after_backoff(&mut self, tx: Tx, target: NodeId) {
        if self.obs.txs[tx.id.idx()].is_confirmed() {
            return;
        }
        self.rec.push(self.now, Record::Resend { client: tx.client, to: target, tx: tx.id }, Detail::None);
        self.transmit(tx.client, target, tx.size_bytes, Payload::Request(tx));
    }

    fn apply_fault(&mut self, fault: FaultAt) {
        let node = fault.replica;
        self.rec.push(self.now, Record::Fault { node, action: fault.action }, Detail::None);
        match fault.action {
            FaultAction::Crash => {
                self.net.set_crashed(node, true);
                self.timers[node.idx()].clear();
                for cpu in &mut self.cpu[node.idx()] {
                    cpu.epoch += 1;
                    cpu.busy_cores = 0;
                    cpu.quiet_until.clear();
                    self.cpu_waiting_total -= cpu.waiting.len();
                    cpu.waiting.clear();
                    cpu.requests_waiting = 0;
                    cpu.wake_at = Time::MAX;
                }
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

    /// Calls one handler of replica `node` outside the CPU model (start, recovery), then
    /// applies what it asked for.
    fn with_replica(&mut self, node: NodeId, handler: impl FnOnce(&mut P, &mut Ctx<'_, P>)) {
        self.run_handler(node, Span::ZERO, handler);
        let mut effects = std::mem::take(&mut self.outbox);
        self.apply_effects(node, &mut effects);
        self.outbox = effects;
    }

    /// Runs a handler into `self.outbox`; returns what it cost (`upfront` plus what it charged).
    fn run_handler(&mut self, node: NodeId, upfront: Span, handler: impl FnOnce(&mut P, &mut Ctx<'_, P>)) -> Span {
        debug_assert!(!self.net.is_crashed(node), "a crashed replica runs no handler");
        debug_assert!(self.outbox.is_empty(), "effects of the previous handler were applied");
        let mut ctx = Ctx {
            now: self.now,
            me: node,
            n_replicas: self.cfg.n_replicas,
            f: self.cfg.f,
            rng: &mut self.rngs[node.idx()],
            out: &mut self.outbox,
            obs: &mut self.obs,
            monitor: self.monitor.as_mut(),
            rec: &mut self.rec,
            crypto: &self.cfg.cpu.crypto,
            per_tx: self.cfg.cpu.per_tx,
            real: self.real.as_mut(),
            cost: upfront,
        };
        handler(&mut self.replicas[node.idx()], &mut ctx);
        ctx.cost
    }

    fn apply_effects(&mut self, node: NodeId, effects: &mut Outbox<P::Message, P::Timer>) {
        for (dest, msg) in effects.sends.drain(..) {
            let size = msg.wire_size();
            match dest {
                Dest::To(to) => self.transmit(node, to, size, Payload::Proto(msg)),
                Dest::AllReplicas => {
                    let last = self.cfg.n_replicas - 1;
                    for to in 0..last {
                        self.transmit(node, NodeId(to), size, Payload::Proto(msg.clone()));
                    }
                    self.transmit(node, NodeId(last), size, Payload::Proto(msg));
                }
            }
        }
        for op in effects.timers.drain(..) {
            match op {
                TimerOp::Set(timer, after) => {
                    self.timer_generation += 1;
                    let generation = self.timer_generation;
                    self.timers[node.idx()].insert(timer, generation);
                    let at = self.now + after;
                    self.rec.push(self.now, Record::TimerSet { node, generation, at }, Detail::Timer(&timer));
                    self.queue.push(at, Event::Timer { node, timer, generation });
                }
                TimerOp::Cancel(timer) => {
                    self.timers[node.idx()].remove(&timer);
                }
            }
        }
        if !effects.replies.is_empty() {
            self.send_replies(node, &mut effects.replies);
        }
    }

    /// One reply message per client for all the results a handler produced.
    fn send_replies(&mut self, node: NodeId, replies: &mut Vec<(NodeId, TxId, TxResult)>) {
        replies.sort_by_key(|&(client, _, _)| client);
        for group in replies.chunk_by(|a, b| a.0 == b.0) {
            let client = group[0].0;
            let batch: Rc<[(TxId, TxResult)]> = group.iter().map(|&(_, tx, r)| (tx, r)).collect();
            self.transmit(node, client, reply_size(batch.len()), Payload::Reply(batch));
        }
        replies.clear();
    }

    /// Counts the items a message carries on the wire, by the node that sent or received it.
    fn count_items(&mut self, node: NodeId, items: &[ItemTally], sent: bool) {
        let first = FIRST_PROTOCOL_KIND + P::Message::KINDS.len();
        for (i, t) in items.iter().enumerate().filter(|(_, t)| t.count > 0) {
            let traffic = &mut self.net.traffic;
            if sent {
                traffic.sent(node, first + i, t.count as u64, t.bytes as u64);
            } else {
                traffic.received(node, first + i, t.count as u64, t.bytes as u64);
            }
        }
    }

    fn transmit(&mut self, from: NodeId, to: NodeId, size: u32, payload: Payload<P::Message>) {
        let msg = self.next_msg;
        self.next_msg += 1;
        if from == to {
            self.sent(from, to, size, msg, &payload, Fate::Arrives(self.now));
            self.queue.push(self.now, Event::Deliver { to, from, size, msg, payload });
            return;
        }
        if let Payload::Proto(m) = &payload {
            self.count_items(from, m.items(), true);
        }
        let Route::Arrives { at: on_time, downlink } = self.net.send(
            self.now,
            from,
            to,
            Wire { size, kind: payload.kind(), class: payload.class() },
            &mut self.net_rng,
        ) else {
            self.sent(from, to, size, msg, &payload, Fate::Lost);
            return;
        };
        let Some(at) = self.adversarial_arrival(from, to, &payload, on_time) else {
            self.net.dropped_by_adversary(from);
            self.sent(from, to, size, msg, &payload, Fate::Dropped);
            return;
        };
        let fate = if at > on_time { Fate::Delayed { at, by: at - on_time } } else { Fate::Arrives(at) };
        self.sent(from, to, size, msg, &payload, fate);
        let ev = if downlink {
            Event::Downlink { to, from, size, msg, payload }
        } else {
            Event::Deliver { to, from, size, msg, payload }
        };
        self.queue.push(at, ev);
    }

    /// Records a message copy leaving `from`.
    fn sent(&mut self, from: NodeId, to: NodeId, size: u32, msg: u64, payload: &Payload<P::Message>, fate: Fate) {
        let record = Record::Send { from, to, kind: payload.kind() as u32, size, msg, fate };
        let detail = match payload {
            Payload::Proto(m) => Detail::Message(m),
            _ => Detail::None,
        };
        self.rec.push(self.now, record, detail);
    }

    /// The arrival of a message after the adversary (if any) has acted on it: protocol messages
    /// between replicas only.
    fn adversarial_arrival(
        &mut self,
        from: NodeId,
        to: NodeId,
        payload: &Payload<P::Message>,
        at: Time,
    ) -> Option<Time> {
        let Payload::Proto(msg) = payload else { return Some(at) };
        if self.cfg.adversary.is_off() {
            return Some(at);
        }
        let meta = MessageMeta { kind: msg.kind(), from, to, view: msg.view(), sent: self.now };
        self.cfg.adversary.arrival(&meta, at, &mut self.adversary_rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::CpuConfig;
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
        const KINDS: &'static [&'static str] = &["nothing"];
        fn kind(&self) -> usize {
            0
        }
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
        type Record = std::convert::Infallible;
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
                spikes: vec![],
            },
            send_to: SendPolicy::Nearest,
            faults: vec![],
            end: Time::from_secs_f64(10.0),
            limits: Limits { max_events: 1000, max_queue: 1000, ..Limits::DEFAULT },
            correct,
            cpu: crate::cpu::CpuConfig::UNLIMITED,
            crypto: Default::default(),
            liveness: None,
            client_retry: None,
            clients: crate::clients::ClientModel::OPEN,
            adversary: crate::Adversary::OFF,
        }
    }

    #[test]
    fn a_violation_stops_the_run_where_it_happened() {
        let sim = Simulation::new(config(vec![true; 3]), Box::new(ListWorkload::default()), |_| Liar { next_slot: 1 });
        let r = sim.run();
        let Stop::Violation(v) = r.stop else { panic!("no violation reported: {:?}", r.stop) };
        assert_eq!((v.invariant, v.replica, v.at_ns), ("agreement", NodeId(1), 2_000_000));
        assert_eq!(r.end_time, Time(2_000_000), "the run stopped at the violating event");
        // The flight recorder ends with the two conflicting commits and the violation.
        let decisive = |e: &&Entry| matches!(e.record, Record::Commit { .. } | Record::Violation { .. });
        let tail: Vec<Record> = r.recent.iter().rev().filter(decisive).take(3).map(|e| e.record).collect();
        let commit = |node, entry| Record::Commit { node: NodeId(node), slot: 1, entry, txs: 0 };
        let violation = Record::Violation { node: NodeId(1), invariant: "agreement" };
        assert_eq!(tail, vec![violation, commit(1, 101), commit(0, 100)]);
    }

    /// Keeps every record of a run.
    struct Collect(Rc<std::cell::RefCell<Vec<Entry>>>);

    impl<P: Protocol> EventSink<P> for Collect {
        fn record(&mut self, entry: &Entry, _: Detail<'_, P>) {
            self.0.borrow_mut().push(*entry);
        }
    }

    /// The digest as a reader of the event log computes it from the folded records.
    fn refold(seed: u64, entries: &[Entry]) -> u64 {
        let mut digest = crate::digest::Fold::new(seed);
        for e in entries {
            if let Some([site, content]) = e.record.folded() {
                digest.add(e.at.0).add(site).add(content);
            }
        }
        digest.value()
    }

    #[test]
    fn the_records_of_a_run_fold_into_its_digest_and_pair_sends_with_deliveries() {
        let run = |observed: bool| {
            let mut cfg = config(vec![true; 3]);
            cfg.net.nodes.push(cfg.net.nodes[0]);
            cfg.faults = vec![FaultAt { at: Time(500_000), replica: NodeId(2), action: FaultAction::Crash }];
            cfg.cpu = CpuConfig { cores: 1, base: Span::from_micros(50), ..CpuConfig::UNLIMITED };
            let arrival = crate::workload::Arrival {
                at: Time(5_000_000),
                client_idx: 0,
                from: crate::AccountId(0),
                to: crate::AccountId(1),
                amount: 1,
                size_bytes: 100,
            };
            let log = Rc::new(std::cell::RefCell::new(Vec::new()));
            let sim = Simulation::new(cfg, Box::new(ListWorkload::new(vec![arrival])), |_| Pinger);
            let sim = if observed { sim.with_sink(Box::new(Collect(log.clone()))) } else { sim };
            let r = sim.with_flight_recorder(5).run();
            let entries = log.borrow().clone();
            (r, entries)
        };
        let (r, entries) = run(true);
        assert_eq!(entries.len() as u64, r.records);
        assert!(entries.iter().enumerate().all(|(i, e)| e.seq == i as u64));
        assert_eq!(refold(1, &entries), r.digest);
        assert_eq!(entries.last().expect("records").digest, r.digest);
        let telling: Vec<Entry> = entries.iter().filter(|e| e.record.is_telling()).copied().collect();
        assert_eq!(r.recent, telling[telling.len() - 5..]);
        let (quiet, _) = run(false);
        assert_eq!((quiet.digest, quiet.records, quiet.recent), (r.digest, r.records, r.recent));
        let names: std::collections::BTreeSet<&str> = entries.iter().map(|e| e.record.name()).collect();
        for name in ["send", "deliver", "refused", "handler", "release", "submit", "confirm", "fault"] {
            assert!(names.contains(name), "no {name} record in {names:?}");
        }
        // Every delivery or refusal pairs with the one send of its number, from and to the same nodes.
        for e in &entries {
            let (Record::Deliver { to, from, msg, .. } | Record::Refused { to, from, msg, .. }) = e.record else {
                continue;
            };
            let sends: Vec<&Entry> =
                entries.iter().filter(|s| matches!(s.record, Record::Send { msg: m, .. } if m == msg)).collect();
            assert_eq!(sends.len(), 1, "message {msg}");
            let Record::Send { from: f, to: t, .. } = sends[0].record else { unreachable!() };
            assert_eq!((f, t), (from, to));
            assert!(sends[0].seq < e.seq);
        }
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
        cfg.limits.max_events = 5;
        let r = Simulation::new(cfg, Box::new(ListWorkload::default()), |_| Liar { next_slot: 1 }).run();
        assert!(matches!(r.stop, Stop::Limit { limit: Limit::Events, .. }), "{:?}", r.stop);
        assert_eq!(r.events, 5);
    }

    /// Replica 0 sends three messages at once; replica 1 spends 1 ms on each and echoes it.
    struct Worker {
        echoes_at: Vec<Time>,
    }

    impl Protocol for Worker {
        type Message = Nothing;
        type Timer = u8;
        type Record = std::convert::Infallible;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            if ctx.me() == NodeId(0) {
                for _ in 0..3 {
                    ctx.send(NodeId(1), Nothing);
                }
            }
        }
        fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, _: Nothing) {
            if ctx.me() == NodeId(1) {
                ctx.charge(Span::from_millis(1));
                ctx.send(from, Nothing);
            } else {
                self.echoes_at.push(ctx.now());
            }
        }
        fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: u8) {}
        fn on_request(&mut self, _: &mut Ctx<'_, Self>, _: Tx) {}
    }

    fn echo_times(cores: u32) -> (Vec<Time>, u64) {
        let mut cfg = config(vec![true; 3]);
        cfg.cpu = CpuConfig { cores, ..CpuConfig::UNLIMITED };
        let mut sim = Simulation::new(cfg, Box::new(ListWorkload::default()), |_| Worker { echoes_at: vec![] });
        sim.run_until(Time::from_secs_f64(1.0));
        let busy = sim.cpu[1][0].busy_ns;
        (sim.replica(NodeId(0)).echoes_at.clone(), busy)
    }

    #[test]
    fn a_busy_cpu_queues_inputs_and_sends_when_the_handler_ends() {
        let ms = |x: u64| Time(x * 1_000_000);
        // One core: handled 1-2, 2-3, 3-4 ms; each echo flies 1 ms after its handler ends.
        assert_eq!(echo_times(1), (vec![ms(3), ms(4), ms(5)], 3_000_000));
        // Two cores: two at once, the third when a core frees.
        assert_eq!(echo_times(2), (vec![ms(3), ms(3), ms(4)], 3_000_000));
        // No CPU model: handlers take no time.
        assert_eq!(echo_times(0), (vec![ms(2), ms(2), ms(2)], 0));
    }

    /// Replica 1 spends 1 ms on each message and sends nothing back: handlers without effects.
    struct Quiet {
        started_at: Vec<Time>,
    }

    impl Protocol for Quiet {
        type Message = Nothing;
        type Timer = u8;
        type Record = std::convert::Infallible;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            if ctx.me() == NodeId(0) {
                for _ in 0..3 {
                    ctx.send(NodeId(1), Nothing);
                }
                ctx.set_timer(0, Span::from_micros(2500));
            }
        }
        fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, _: Nothing) {
            self.started_at.push(ctx.now());
            ctx.charge(Span::from_millis(1));
        }
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: u8) {
            ctx.send(NodeId(1), Nothing); // arrives at 3.5 ms, while the third is handled
        }
        fn on_request(&mut self, _: &mut Ctx<'_, Self>, _: Tx) {}
    }

    #[test]
    fn quiet_handlers_hold_their_core_without_a_release() {
        let ms = |x: f64| Time((x * 1e6) as u64);
        let mut cfg = config(vec![true; 3]);
        cfg.cpu = CpuConfig { cores: 1, ..CpuConfig::UNLIMITED };
        let mut sim = Simulation::new(cfg, Box::new(ListWorkload::default()), |_| Quiet { started_at: vec![] });
        sim.run_until(Time::from_secs_f64(1.0));
        // Arrive at 1 ms; handled 1-2, 2-3, 3-4; the fourth arrives at 3.5 and waits until 4.
        assert_eq!(sim.replica(NodeId(1)).started_at, vec![ms(1.0), ms(2.0), ms(3.0), ms(4.0)]);
        assert_eq!(sim.cpu[1][0].busy_ns, 4_000_000);
        // Four deliveries, one timer and a wake at 2, 3 and 4 ms for the input waiting then;
        // no release event (with releases it was 4 + 1 + 4).
        assert_eq!(sim.events(), 8);
    }

    /// Replica 1 arms a timer for 2 ms; a message at 1 ms takes 3 ms to handle and re-arms it
    /// for 10 ms after (while the other core is free when the old one falls due).
    struct Rearm {
        fired_at: Vec<Time>,
    }

    impl Protocol for Rearm {
        type Message = Nothing;
        type Timer = u8;
        type Record = std::convert::Infallible;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            match ctx.me().0 {
                0 => ctx.send(NodeId(1), Nothing),
                1 => ctx.set_timer(0, Span::from_millis(2)),
                _ => {}
            }
        }
        fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, _: Nothing) {
            if ctx.me() == NodeId(1) {
                ctx.charge(Span::from_millis(3));
                ctx.set_timer(0, Span::from_millis(10));
                ctx.send(from, Nothing);
            }
        }
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: u8) {
            self.fired_at.push(ctx.now());
        }
        fn on_request(&mut self, _: &mut Ctx<'_, Self>, _: Tx) {}
    }

    #[test]
    fn a_timer_rearmed_by_a_running_handler_does_not_fire_on_another_core() {
        let mut cfg = config(vec![true; 3]);
        cfg.cpu = CpuConfig { cores: 2, ..CpuConfig::UNLIMITED };
        let mut sim = Simulation::new(cfg, Box::new(ListWorkload::default()), |_| Rearm { fired_at: vec![] });
        sim.run_until(Time::from_secs_f64(1.0));
        // Handled 1-4 ms; the re-armed timer runs from 4 ms. The old one, due at 2 ms while the
        // handler ran, is superseded (it used to fire on the second core: a stale timeout).
        assert_eq!(sim.replica(NodeId(1)).fired_at, vec![Time(14_000_000)]);
    }

    #[test]
    fn a_crash_voids_the_handlers_in_progress() {
        let mut cfg = config(vec![true; 3]);
        cfg.cpu = CpuConfig { cores: 1, ..CpuConfig::UNLIMITED };
        let crash_at = Time(2_500_000); // while the second message is being handled
        cfg.faults = vec![FaultAt { at: crash_at, replica: NodeId(1), action: FaultAction::Crash }];
        let mut sim = Simulation::new(cfg, Box::new(ListWorkload::default()), |_| Worker { echoes_at: vec![] });
        sim.run_until(Time::from_secs_f64(1.0));
        assert_eq!(sim.replica(NodeId(0)).echoes_at, vec![Time(3_000_000)], "only the first echo left");
    }

    /// How far a `Committer` takes each request.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Stage {
        /// Sits on it.
        Nothing,
        /// Reports a commit outside any log, never an execution.
        Commit,
        /// Commits it in a slot, never executes it (a ledger holding it).
        Log,
        /// Commits it in a slot, executes it and replies.
        Execute,
    }

    /// Takes every request it gets to `stage` at once.
    struct Committer {
        stage: Stage,
        next_slot: u64,
    }

    impl Protocol for Committer {
        type Message = Nothing;
        type Timer = u8;
        type Record = std::convert::Infallible;
        fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: Nothing) {}
        fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: u8) {}
        fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
            match self.stage {
                Stage::Nothing => {}
                Stage::Commit => ctx.committed(&tx),
                Stage::Log | Stage::Execute => {
                    ctx.commit(self.next_slot, tx.id.0, &[tx]);
                    self.next_slot += 1;
                    if self.stage == Stage::Execute {
                        ctx.executed(&tx);
                        ctx.reply(&tx, 0);
                    }
                }
            }
        }
    }

    /// A 10-byte transfer from client 0 at `ms`.
    fn arrival(ms: u64) -> crate::workload::Arrival {
        crate::workload::Arrival {
            at: Time(ms * 1_000_000),
            client_idx: 0,
            from: crate::AccountId(0),
            to: crate::AccountId(1),
            amount: 1,
            size_bytes: 10,
        }
    }

    /// Two transactions (5 and 50 ms) to the nearest of three replicas, each of which takes
    /// it to `stage`; the client needs f+1 matching replies.
    fn liveness_run(stage: Stage, f: u32, from_ms: u64) -> RunResult {
        let mut cfg = config(vec![true, true, true]);
        cfg.f = f;
        cfg.net.nodes.push(cfg.net.nodes[0]); // one client
        cfg.liveness = Some(LivenessCheck { from: Time(from_ms * 1_000_000), bound: Span::from_millis(100) });
        let workload = ListWorkload::new(vec![arrival(5), arrival(50)]);
        Simulation::new(cfg, Box::new(workload), |_| Committer { stage, next_slot: 1 }).run()
    }

    #[test]
    fn liveness_reports_a_transaction_that_never_commits() {
        let r = liveness_run(Stage::Nothing, 0, 20);
        let Stop::Violation(v) = r.stop else { panic!("no liveness violation: {:?}", r.stop) };
        assert_eq!((v.invariant, v.replica), ("liveness", NodeId(3)));
        // The one submitted at 50 ms (the one at 5 ms predates the last fault) is 100 ms late
        // at 150 ms; checks run every 12.5 ms from 120 ms.
        assert!(v.detail.starts_with("transaction 1 "), "{}", v.detail);
        assert!((150_000_000..=163_000_000).contains(&v.at_ns), "{}", v.at_ns);
        assert!(v.detail.contains("is not committed 100.000ms later; 1 pending, "), "{}", v.detail);
        assert_eq!(liveness_run(Stage::Execute, 0, 20).stop, Stop::End);
    }

    #[test]
    fn liveness_names_the_missing_stage_after_a_commit() {
        let detail = |stage, f| match liveness_run(stage, f, 0).stop {
            Stop::Violation(v) => v.detail,
            other => panic!("no liveness violation: {other:?}"),
        };
        // Commits at 6 ms (1 ms from client to replica) but never executes.
        let d = detail(Stage::Commit, 0);
        assert!(d.contains("was committed at 0.006000s but never executed"), "{d}");
        // Committed in a slot log is not executed: an observer that took it as executed at its
        // commit (as it did before) reported "executed at 0.006000s but the client holds 0 of 1".
        let d = detail(Stage::Log, 0);
        assert!(d.contains("was committed at 0.006000s but never executed 100.000ms after submission"), "{d}");
        // Executes and replies, but only the nearest replica has it: 1 of f+1 = 2 replies.
        let d = detail(Stage::Execute, 1);
        assert!(d.contains("was executed at 0.006000s but the client holds 1 of 2 matching replies"), "{d}");
    }

    /// Commits and replies to the oldest request it holds, one every `gap`, until `stop_at`;
    /// the transaction `starved` it takes off its queue without committing.
    struct Queued {
        queue: VecDeque<Tx>,
        gap: Span,
        stop_at: Time,
        starved: Option<TxId>,
        next_slot: u64,
    }

    impl Protocol for Queued {
        type Message = Nothing;
        type Timer = u8;
        type Record = std::convert::Infallible;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            ctx.set_timer(0, self.gap);
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: Nothing) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: u8) {
            if ctx.now() >= self.stop_at {
                return;
            }
            ctx.set_timer(0, self.gap);
            let Some(tx) = self.queue.pop_front() else { return };
            if Some(tx.id) == self.starved {
                return;
            }
            ctx.commit(self.next_slot, tx.id.0, std::slice::from_ref(&tx));
            self.next_slot += 1;
            ctx.executed(&tx);
            ctx.reply(&tx, 0);
        }
        fn on_request(&mut self, _: &mut Ctx<'_, Self>, tx: Tx) {
            self.queue.push_back(tx);
        }
    }

    /// One transaction every 5 ms for 1 s to the nearest replica, which confirms one every
    /// `gap_ms` until `stop_ms`; a liveness bound of 100 ms from time zero.
    fn queued_run(gap_ms: u64, stop_ms: u64, starved: Option<u64>) -> RunResult {
        let mut cfg = config(vec![true, true, true]);
        cfg.net.nodes.push(cfg.net.nodes[0]); // one client
        cfg.end = Time(1_200 * 1_000_000);
        cfg.limits = Limits { max_events: 100_000, max_queue: 10_000, ..Limits::DEFAULT };
        cfg.liveness = Some(LivenessCheck { from: Time::ZERO, bound: Span::from_millis(100) });
        let workload = ListWorkload::new((0..200).map(|i| arrival(5 * i)).collect());
        let (gap, stop_at) = (Span::from_millis(gap_ms), Time(stop_ms * 1_000_000));
        let starved = starved.map(TxId);
        Simulation::new(cfg, Box::new(workload), |_| Queued {
            queue: VecDeque::new(),
            gap,
            stop_at,
            starved,
            next_slot: 1,
        })
        .run()
    }

    #[test]
    fn a_backlog_that_keeps_draining_is_overload_not_a_liveness_violation() {
        // 200 tx/s offered, 100 confirmed a second: transactions wait longer and longer.
        let r = queued_run(10, u64::MAX / 2_000_000, None);
        assert_eq!(r.stop, Stop::End);
        let b = r.backlog.expect("late transactions, explained by the backlog");
        assert!(b.pending > b.confirmed_in_bound && b.confirmed_in_bound > 0, "{b:?}");
        assert!(b.max_pending >= 90 && b.max_pending <= 110, "about 100 pending at 1 s: {b:?}");
        // Within capacity, nothing is late.
        let fast = queued_run(4, u64::MAX / 2_000_000, None);
        assert_eq!((fast.stop, fast.backlog), (Stop::End, None));
    }

    #[test]
    fn a_stall_under_overload_and_a_starved_transaction_are_still_violations() {
        // The same overload, and the replica stops confirming at 600 ms: a bound later, nothing
        // was confirmed over it.
        let r = queued_run(10, 600, None);
        let Stop::Violation(v) = &r.stop else { panic!("no violation: {:?}", r.stop) };
        assert_eq!(v.invariant, "liveness");
        assert!((700_000_000..=720_000_000).contains(&v.at_ns), "{}", v.at_ns);
        assert!(v.detail.ends_with(", 0 confirmed over the last bound"), "{}", v.detail);
        assert!(r.backlog.is_some(), "overloaded before it stalled");
        // Within capacity, one transaction dropped: the others drain in time, so it is starved.
        let r = queued_run(4, u64::MAX / 2_000_000, Some(7));
        let Stop::Violation(v) = &r.stop else { panic!("no violation: {:?}", r.stop) };
        assert!(v.detail.starts_with("transaction 7 "), "{}", v.detail);
        assert_eq!(r.backlog, None);
    }

    /// Replicas 0 and 1 bounce a message forever: with zero delay and no CPU model, virtual
    /// time never advances.
    struct Spinner;

    impl Protocol for Spinner {
        type Message = Nothing;
        type Timer = u8;
        type Record = std::convert::Infallible;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            if ctx.me() == NodeId(0) {
                ctx.send(NodeId(1), Nothing);
            }
        }
        fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, _: Nothing) {
            ctx.send(from, Nothing);
        }
        fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: u8) {}
        fn on_request(&mut self, _: &mut Ctx<'_, Self>, _: Tx) {}
    }

    fn spin(delay: Span) -> RunResult {
        let mut cfg = config(vec![true; 3]);
        cfg.net.delay = DelayModel::Uniform(delay);
        cfg.limits = Limits { max_events: 100_000, max_stalled_events: 1000, ..Limits::DEFAULT };
        Simulation::new(cfg, Box::new(ListWorkload::default()), |_| Spinner).run()
    }

    #[test]
    fn a_run_whose_time_stands_still_stops_as_stalled() {
        let r = spin(Span::ZERO);
        let Stop::Limit { limit: Limit::Stalled, detail } = &r.stop else { panic!("not stalled: {:?}", r.stop) };
        assert_eq!((r.events, r.end_time), (1001, Time::ZERO));
        assert!(detail.starts_with("virtual time stalled at t = 0.000000 s for 1001 events"), "{detail}");
        // With 1 ms per hop the same loop is not stalled: ten times the stall limit in events,
        // spread over 10 s, and the run ends.
        let r = spin(Span::from_millis(1));
        assert_eq!((r.stop, r.events), (Stop::End, 10_000));
    }

    fn worker_run(max_cpu_queue: usize) -> Stop {
        let mut cfg = config(vec![true; 3]);
        cfg.cpu = CpuConfig { cores: 1, ..CpuConfig::UNLIMITED };
        cfg.limits.max_cpu_queue = max_cpu_queue;
        Simulation::new(cfg, Box::new(ListWorkload::default()), |_| Worker { echoes_at: vec![] }).run().stop
    }

    #[test]
    fn a_cpu_queue_past_its_limit_stops_the_run_naming_the_replica() {
        // Three messages reach replica 1's one core at once: two wait.
        let stop = worker_run(1);
        let Stop::Limit { limit, detail } = &stop else { panic!("no limit: {stop:?}") };
        assert_eq!(*limit, Limit::CpuQueue { node: NodeId(1) });
        assert!(detail.starts_with("replica 1's CPU has 2 inputs waiting"), "{detail}");
        assert_eq!(worker_run(2), Stop::End);
    }

    #[test]
    fn transactions_past_their_limit_stop_the_run() {
        let mut cfg = config(vec![true; 3]);
        cfg.net.nodes.push(cfg.net.nodes[0]); // one client
        cfg.limits.max_transactions = 2;
        let workload = ListWorkload::new(vec![arrival(5), arrival(6), arrival(7)]);
        let r = Simulation::new(cfg, Box::new(workload), |_| Committer { stage: Stage::Execute, next_slot: 1 }).run();
        assert!(matches!(r.stop, Stop::Limit { limit: Limit::Transactions, .. }), "{:?}", r.stop);
        assert_eq!((r.txs.len(), r.end_time), (2, Time(7_000_000)));
    }

    /// Two kinds of messages; a ping carries two 3-byte items of the one item kind.
    #[derive(Clone, Debug)]
    enum PingPong {
        Ping([ItemTally; 1]),
        Pong,
    }

    impl Message for PingPong {
        const KINDS: &'static [&'static str] = &["ping", "pong"];
        const ITEM_KINDS: &'static [&'static str] = &["dot"];
        fn wire_size(&self) -> u32 {
            match self {
                PingPong::Ping(_) => 10,
                PingPong::Pong => 20,
            }
        }
        fn fingerprint(&self) -> u64 {
            self.kind() as u64
        }
        fn kind(&self) -> usize {
            match self {
                PingPong::Ping(_) => 0,
                PingPong::Pong => 1,
            }
        }
        fn items(&self) -> &[ItemTally] {
            match self {
                PingPong::Ping(items) => items,
                PingPong::Pong => &[],
            }
        }
    }

    /// Replica 0 broadcasts a ping (its own copy stays off the wire); a replica answers a ping
    /// with a pong; every request gets a reply.
    struct Pinger;

    impl Protocol for Pinger {
        type Message = PingPong;
        type Timer = u8;
        type Record = std::convert::Infallible;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            if ctx.me() == NodeId(0) {
                ctx.broadcast(PingPong::Ping([ItemTally { count: 2, bytes: 6 }]));
            }
        }
        fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: PingPong) {
            if matches!(msg, PingPong::Ping(_)) && from != ctx.me() {
                ctx.send(from, PingPong::Pong);
            }
        }
        fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: u8) {}
        fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
            ctx.reply(&tx, 0);
        }
    }

    #[test]
    fn spread_sends_each_client_s_transactions_to_the_replicas_in_turn() {
        let mut cfg = config(vec![true; 3]);
        cfg.send_to = SendPolicy::Spread;
        cfg.net.nodes.extend([cfg.net.nodes[0]; 2]); // clients 0 and 1
        let arrival = |i: u64, client_idx: u32| crate::workload::Arrival {
            at: Time(1_000_000 * (i + 1)),
            client_idx,
            from: crate::AccountId(i as u32),
            to: crate::AccountId(100),
            amount: 1,
            size_bytes: 100,
        };
        // Client 0 sends four (to replicas 0, 1, 2, 0), client 1 three (1, 2, 0).
        let arrivals = [0, 1, 0, 1, 0, 1, 0].iter().enumerate().map(|(i, &c)| arrival(i as u64, c)).collect();
        let r = Simulation::new(cfg, Box::new(ListWorkload::new(arrivals)), |_| Pinger).run();
        let request = r.kinds.iter().position(|k| k.name == "request").expect("a request kind");
        let received: Vec<u64> = r.nodes[..3].iter().map(|n| n.traffic[request].msgs_recv).collect();
        assert_eq!(received, [3, 2, 2], "each client starts at its own index and goes round");
    }

    #[test]
    fn traffic_per_kind_adds_up_to_the_link_totals() {
        let mut cfg = config(vec![true; 3]);
        cfg.net.nodes.push(cfg.net.nodes[0]); // one client, nearest to replica 0
        // Replica 2 is down when the ping arrives: sent, dropped, never received.
        cfg.faults = vec![FaultAt { at: Time(500_000), replica: NodeId(2), action: FaultAction::Crash }];
        let arrival = crate::workload::Arrival {
            at: Time(5_000_000),
            client_idx: 0,
            from: crate::AccountId(0),
            to: crate::AccountId(1),
            amount: 1,
            size_bytes: 100,
        };
        let r = Simulation::new(cfg, Box::new(ListWorkload::new(vec![arrival])), |_| Pinger).run();
        let names: Vec<_> = r.kinds.iter().map(|k| (k.name, k.item)).collect();
        let expected_names = [("request", false), ("reply", false), ("ping", false), ("pong", false), ("dot", true)];
        assert_eq!(names, expected_names);
        for node in &r.nodes {
            let messages = node.traffic.iter().zip(&r.kinds).filter(|(_, k)| !k.item).map(|(t, _)| t);
            let dropped = LinkStats { msgs_dropped: node.link.msgs_dropped, ..LinkStats::default() };
            let sum = messages.fold(dropped, |mut acc, t| {
                acc.msgs_sent += t.msgs_sent;
                acc.bytes_sent += t.bytes_sent;
                acc.msgs_recv += t.msgs_recv;
                acc.bytes_recv += t.bytes_recv;
                acc
            });
            assert_eq!(sum, node.link, "node {:?}", node.id);
        }
        let stats = |sent: (u64, u64), recv: (u64, u64)| KindStats {
            msgs_sent: sent.0,
            bytes_sent: sent.1,
            msgs_recv: recv.0,
            bytes_recv: recv.1,
        };
        let none = KindStats::default();
        let reply = 32 + 12; // one result
        // request, reply, ping, pong, dot
        let r0 = [
            stats((0, 0), (1, 100)),
            stats((1, reply), (0, 0)),
            stats((2, 20), (0, 0)),
            stats((0, 0), (1, 20)),
            stats((4, 12), (0, 0)),
        ];
        let r1 = [none, none, stats((0, 0), (1, 10)), stats((1, 20), (0, 0)), stats((0, 0), (2, 6))];
        let client = [stats((1, 100), (0, 0)), stats((0, 0), (1, reply)), none, none, none];
        assert_eq!(r.nodes[0].traffic, r0);
        assert_eq!(r.nodes[1].traffic, r1);
        assert_eq!(r.nodes[2].traffic, [none; 5], "a crashed replica received nothing");
        assert_eq!(r.nodes[3].traffic, client);
        assert_eq!(r.nodes[0].link.msgs_dropped, 1);
    }

    /// Replica 0 answers each request at once; one client 1 ms away keeps `outstanding` in
    /// flight for 100 ms.
    fn closed_run(outstanding: u32, planted_double_submit: bool) -> RunResult {
        closed_run_to(outstanding, planted_double_submit, SendPolicy::Nearest)
    }

    fn closed_run_to(outstanding: u32, planted_double_submit: bool, send_to: SendPolicy) -> RunResult {
        let mut cfg = config(vec![true; 3]);
        cfg.send_to = send_to;
        cfg.limits.max_events = 1_000_000;
        cfg.limits.max_queue = 1_000_000;
        cfg.net.nodes.push(cfg.net.nodes[0]);
        let until = Time::from_secs_f64(0.1);
        cfg.clients.closed =
            Some(crate::clients::ClosedLoop { outstanding, think: Span::ZERO, until, planted_double_submit });
        let tx = |i: u64| crate::workload::Arrival {
            at: Time(i * 1_000_000_000), // ignored by a closed loop
            client_idx: 7,
            from: crate::AccountId(0),
            to: crate::AccountId(1),
            amount: 1,
            size_bytes: 100,
        };
        Simulation::new(cfg, Box::new(ListWorkload::new((0..10_000).map(tx).collect())), |_| Pinger).run()
    }

    #[test]
    fn a_closed_loop_keeps_its_outstanding_transactions_in_flight() {
        // A 2 ms round trip: K in flight give K transactions per 2 ms until 100 ms.
        for k in [1u32, 4] {
            let r = closed_run(k, false);
            assert_eq!(r.txs.len() as u32, 50 * k, "K = {k}");
            assert!(r.txs.iter().all(|t| t.is_confirmed() && t.client == NodeId(3)));
            assert!(r.txs.iter().all(|t| t.confirmed - t.submitted == Span::from_millis(2)));
        }
    }

    #[test]
    fn a_spread_closed_loop_keeps_each_slot_at_its_replica() {
        // Two slots start at replicas 0 and 1 and stay there: replica 2 is never sent one, where
        // taking turns would send it a third of them.
        let r = closed_run_to(2, false, SendPolicy::Spread);
        let request = r.kinds.iter().position(|k| k.name == "request").expect("a request kind");
        let received: Vec<u64> = r.nodes[..3].iter().map(|n| n.traffic[request].msgs_recv).collect();
        assert_eq!(received, [50, 50, 0]);
        assert!(r.txs.iter().all(|t| t.is_confirmed()));
    }

    #[test]
    #[should_panic(expected = "above its outstanding cap")]
    fn the_outstanding_cap_catches_a_client_that_submits_twice_per_confirmation() {
        closed_run(2, true);
    }
}
