//! The timeline (`byzsim run --perfetto FILE`): a watcher that writes the run in the trace-event
//! JSON format (the object form: `{"traceEvents": [...], "displayTimeUnit", "otherData"}`),
//! which ui.perfetto.dev and chrome://tracing open from a local file (docs/timeline.md).
//!
//! Tracks: process 1 holds one track per replica (one per replica and core with several cores,
//! so that slices on a track never overlap), process 2 one track per client up to 16 clients,
//! else 16 tracks of client ranges, process 3 the network (partitions, run-wide counters).
//! Handlers are complete slices (`X`, duration = CPU cost) named by the input they ran; each
//! delivered message is a flow arrow from the slice that sent it to the slice that handled it:
//! both viewers bind a flow event to a slice on its track (Perfetto: the slice open at its
//! timestamp; DevTools: a slice with the same timestamp), so the arrow's ends sit at the two
//! handlers' starts, and the send and arrival times are in the receiving slice's args.
//!
//! Each `Handler` record names the input it ran (a message copy's number or a timer firing's
//! generation): the slice takes its name from it, and its arrow from the delivery of that copy.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use sim_core::{Entry, Fate, FaultAction, HandlerInput, Record};

use crate::eventlog::{self, json_str};
use crate::run::Report;
use crate::watch::{RunInfo, Watcher};

/// Events written before flows and slices stop (instants and counters go on to twice this).
pub const MAX_EVENTS_DEFAULT: u64 = 2_000_000;
/// Clients get one track each up to this many, else this many tracks of client ranges.
pub const CLIENT_TRACKS_MAX: u32 = 16;
/// Counters are sampled this many times over the planned run, at most once per millisecond.
const SAMPLES_PER_RUN: u64 = 500;

const PID_REPLICAS: u32 = 1;
const PID_CLIENTS: u32 = 2;
const PID_NETWORK: u32 = 3;
/// The network process's own track; partition `i` has track `TID_PARTITION + i`.
const TID_NETWORK: u32 = 1;
const TID_PARTITION: u32 = 100;
/// The category of slices and flows (DevTools pairs a flow with a slice of the same category).
const CAT: &str = "byzsim";

/// What the timeline keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Virtual time window, nanoseconds, `from <= t < to`: events outside are not written.
    pub from_ns: u64,
    pub to_ns: Option<u64>,
    /// Events written before flows and slices stop.
    pub max_events: u64,
    /// Message kinds drawn as flow arrows (`request`, `reply` and the protocol's); empty: all.
    pub flow_kinds: BTreeSet<String>,
    /// No flow arrows at all.
    pub no_flows: bool,
    /// CPU cores per replica (0: no CPU model, handlers take no time).
    pub cores: u32,
    /// The planned length of the run (sets the counters' period).
    pub run_ns: u64,
    /// Test-only: a bug planted in the writer, to show the structure checks catch it. Never set
    /// by the CLI.
    #[doc(hidden)]
    pub planted: Option<PlantedBug>,
}

/// Test-only bugs of the timeline writer (see `Options::planted`).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedBug {
    /// Every handler on core 0's track, whatever the cores: slices overlap.
    OneTrack,
    /// An arrow start for every message sent, delivered or not: starts without ends.
    EveryStart,
}

impl Options {
    pub fn new(cores: u32, run_ns: u64) -> Options {
        Options {
            from_ns: 0,
            to_ns: None,
            max_events: MAX_EVENTS_DEFAULT,
            flow_kinds: BTreeSet::new(),
            no_flows: false,
            cores,
            run_ns,
            planted: None,
        }
    }

    fn keeps(&self, t_ns: u64) -> bool {
        t_ns >= self.from_ns && self.to_ns.is_none_or(|to| t_ns < to)
    }
}

/// A message on its way: where its arrow starts.
#[derive(Clone, Copy, Debug)]
struct Flight {
    kind: u32,
    from: u32,
    sent_ns: u64,
    /// The sending slice: its track and start.
    tid: u32,
    slice_ns: u64,
}

/// An input given to a replica's CPU, waiting for its handler.
#[derive(Clone, Debug)]
struct Input {
    /// What the handler that runs it will record.
    ran: HandlerInput,
    arrived_ns: u64,
    /// Where the message's arrow starts, if it is drawn.
    flight: Option<Flight>,
    /// A timer's name.
    timer: String,
}

/// A handler holding a core.
#[derive(Clone, Copy, Debug)]
struct Running {
    start_ns: u64,
    end_ns: u64,
    lane: u32,
}

/// What the timeline follows of one node.
#[derive(Clone, Debug, Default)]
struct NodeState {
    /// Inputs not yet run, oldest first (the CPU runs them in this order).
    waiting: VecDeque<Input>,
    running: Vec<Running>,
    /// The slice whose effects leave now: sends recorded next start their arrows there.
    sender: Option<(u32, u64)>,
}

/// The timeline writer: streams events to a temporary file, renamed into place by `finish`.
pub struct Timeline {
    file: eventlog::PartialFile,
    opts: Options,
    info: Option<RunInfo>,
    line: String,
    /// Events written (metadata included).
    pub events: u64,
    /// Flow arrows written.
    pub flows: u64,
    /// The time at which the cap stopped flows and slices, if it did.
    pub capped_at_ns: Option<u64>,
    nodes: Vec<NodeState>,
    in_flight: BTreeMap<u64, Flight>,
    client_groups: u32,
    partitions: BTreeMap<u32, u64>,
    named_partitions: BTreeSet<u32>,
    period_ns: u64,
    next_sample_ns: u64,
    messages_in_flight: u64,
    txs_in_flight: u64,
    commits_in_period: u64,
    confirms_in_period: u64,
    last_ns: u64,
}

impl Timeline {
    /// Refuses a `path` that exists or whose folder does not; creates the temporary file.
    pub fn create(path: &Path, opts: Options) -> Result<Timeline, String> {
        let file = eventlog::PartialFile::create(path)?;
        let period_ns = (opts.run_ns / SAMPLES_PER_RUN).max(1_000_000);
        Ok(Timeline {
            file,
            next_sample_ns: opts.from_ns.div_ceil(period_ns) * period_ns,
            opts,
            info: None,
            line: String::with_capacity(512),
            events: 0,
            flows: 0,
            capped_at_ns: None,
            nodes: Vec::new(),
            in_flight: BTreeMap::new(),
            client_groups: 0,
            partitions: BTreeMap::new(),
            named_partitions: BTreeSet::new(),
            period_ns,
            messages_in_flight: 0,
            txs_in_flight: 0,
            commits_in_period: 0,
            confirms_in_period: 0,
            last_ns: 0,
        })
    }

    fn info(&self) -> &RunInfo {
        self.info.as_ref().expect("begun")
    }

    /// Writes the event in `self.line` (one JSON object, no separator).
    fn emit(&mut self) {
        let sep = if self.events == 0 { "\n" } else { ",\n" };
        self.file.write(sep.as_bytes());
        self.file.write(self.line.as_bytes());
        self.line.clear();
        self.events += 1;
    }

    /// Whether a slice or flow at `t_ns` is written: in the window and under the cap.
    fn slices_on(&mut self, t_ns: u64) -> bool {
        if self.capped_at_ns.is_none() && self.events >= self.opts.max_events {
            self.capped_at_ns = Some(t_ns);
        }
        self.capped_at_ns.is_none() && self.opts.keeps(t_ns)
    }

    /// Whether an instant or counter at `t_ns` is written.
    fn instants_on(&self, t_ns: u64) -> bool {
        self.events < self.opts.max_events.saturating_mul(2) && self.opts.keeps(t_ns)
    }

    fn lanes(&self) -> u32 {
        self.opts.cores.max(1)
    }

    /// The track of `node`: a replica's core `lane`, or its client group.
    fn track(&self, node: u32, lane: u32) -> (u32, u32) {
        let info = self.info();
        if node < info.n_replicas {
            (PID_REPLICAS, 1 + node * self.lanes() + lane)
        } else {
            (PID_CLIENTS, 1 + self.client_group(node))
        }
    }

    fn client_group(&self, node: u32) -> u32 {
        let info = self.info();
        let n_clients = (info.n_nodes - info.n_replicas).max(1);
        ((node - info.n_replicas) as u64 * self.client_groups as u64 / n_clients as u64) as u32
    }

    fn metadata(&mut self, pid: u32, tid: Option<u32>, name: &str, sort: u32) {
        let (what, tid) = match tid {
            Some(t) => ("thread", t),
            None => ("process", 0),
        };
        let _ = write!(
            self.line,
            r#"{{"ph":"M","name":"{what}_name","pid":{pid},"tid":{tid},"args":{{"name":{}}}}}"#,
            json_str(name)
        );
        self.emit();
        let _ = write!(
            self.line,
            r#"{{"ph":"M","name":"{what}_sort_index","pid":{pid},"tid":{tid},"args":{{"sort_index":{sort}}}}}"#
        );
        self.emit();
    }

    fn name_tracks(&mut self) {
        let info = self.info().clone();
        self.metadata(PID_REPLICAS, None, &format!("{}s", info.node_word), 1);
        self.metadata(PID_CLIENTS, None, "clients", 2);
        self.metadata(PID_NETWORK, None, "network", 3);
        for node in 0..info.n_replicas {
            for lane in 0..self.lanes() {
                let label = info.node_label(sim_core::NodeId(node));
                let name = if self.lanes() == 1 { label } else { format!("{label} core {lane}") };
                let (pid, tid) = self.track(node, lane);
                self.metadata(pid, Some(tid), &name, tid);
            }
        }
        let mut ranges: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
        for node in info.n_replicas..info.n_nodes {
            let range = ranges.entry(self.client_group(node)).or_insert((node, node));
            range.1 = node;
        }
        for (group, (first, last)) in ranges {
            let name = if first == last { format!("client {first}") } else { format!("clients {first}..{last}") };
            self.metadata(PID_CLIENTS, Some(1 + group), &name, 1 + group);
        }
        self.metadata(PID_NETWORK, Some(TID_NETWORK), "network", 0);
    }

    /// Appends the common fields of an event.
    fn head(&mut self, ph: &str, name: &str, pid: u32, tid: u32, t_ns: u64) {
        let _ = write!(
            self.line,
            r#"{{"ph":"{ph}","name":{},"cat":"{CAT}","pid":{pid},"tid":{tid},"ts":{}"#,
            json_str(name),
            micros(t_ns)
        );
    }

    fn instant(&mut self, name: &str, node: u32, t_ns: u64, args: &str) {
        if !self.instants_on(t_ns) {
            return;
        }
        let (pid, tid) = self.track(node, 0);
        self.head("i", name, pid, tid, t_ns);
        let _ = write!(self.line, r#","s":"t","args":{{{args}}}}}"#);
        self.emit();
    }

    fn global(&mut self, name: &str, t_ns: u64, args: &str) {
        if !self.instants_on(t_ns) {
            return;
        }
        self.head("i", name, PID_NETWORK, TID_NETWORK, t_ns);
        let _ = write!(self.line, r#","s":"g","args":{{{args}}}}}"#);
        self.emit();
    }

    fn slice(&mut self, name: &str, (pid, tid): (u32, u32), t_ns: u64, dur_ns: u64, args: &str) {
        self.head("X", name, pid, tid, t_ns);
        let _ = write!(self.line, r#","dur":{},"args":{{{args}}}}}"#, micros(dur_ns));
        self.emit();
    }

    /// The arrow of `msg` from its sending slice to the slice at `(pid, tid, t_ns)`.
    fn flow(&mut self, msg: u64, f: &Flight, (pid, tid): (u32, u32), t_ns: u64) {
        if !self.opts.keeps(f.slice_ns) {
            return;
        }
        self.flow_start(msg, f);
        let name = self.info().kind_name(f.kind);
        self.head("f", name, pid, tid, t_ns);
        let _ = write!(self.line, r#","id":{msg},"bp":"e"}}"#);
        self.emit();
        self.flows += 1;
    }

    fn flow_start(&mut self, msg: u64, f: &Flight) {
        let name = self.info().kind_name(f.kind);
        let from_pid = if f.from < self.info().n_replicas { PID_REPLICAS } else { PID_CLIENTS };
        self.head("s", name, from_pid, f.tid, f.slice_ns);
        let _ = write!(self.line, r#","id":{msg}}}"#);
        self.emit();
    }

    fn wants_flow(&self, kind: u32) -> bool {
        !self.opts.no_flows
            && (self.opts.flow_kinds.is_empty() || self.opts.flow_kinds.contains(self.info().kind_name(kind)))
    }

    /// Writes the counters for every period boundary passed before `t_ns`.
    fn sample_until(&mut self, t_ns: u64) {
        while self.next_sample_ns < t_ns && self.opts.keeps(self.next_sample_ns) {
            let at = self.next_sample_ns;
            self.sample(at);
            let idle_until = t_ns - 1;
            let skipped = (idle_until - at) / self.period_ns;
            if skipped > 1 {
                // Nothing happened between: one sample at the last boundary says so.
                self.sample(at + (skipped - 1) * self.period_ns);
                self.next_sample_ns = at + skipped * self.period_ns;
            } else {
                self.next_sample_ns = at + self.period_ns;
            }
        }
    }

    fn sample(&mut self, at: u64) {
        if !self.instants_on(at) {
            return;
        }
        for node in 0..self.info().n_replicas {
            let state = &mut self.nodes[node as usize];
            state.running.retain(|r| r.end_ns >= at);
            let busy = state.running.iter().filter(|r| r.start_ns <= at).count();
            let waiting = state.waiting.len();
            let label = self.info().node_label(sim_core::NodeId(node));
            let (pid, tid) = self.track(node, 0);
            self.head("C", &format!("cpu {label}"), pid, tid, at);
            let _ = write!(self.line, r#","args":{{"busy_cores":{busy},"waiting":{waiting}}}}}"#);
            self.emit();
        }
        self.head("C", "in flight", PID_NETWORK, TID_NETWORK, at);
        let _ = write!(
            self.line,
            r#","args":{{"messages":{},"transactions":{}}}}}"#,
            self.messages_in_flight, self.txs_in_flight
        );
        self.emit();
        self.head("C", "per period", PID_NETWORK, TID_NETWORK, at);
        let _ = write!(
            self.line,
            r#","args":{{"commits":{},"confirmed":{}}}}}"#,
            self.commits_in_period, self.confirms_in_period
        );
        self.emit();
        self.commits_in_period = 0;
        self.confirms_in_period = 0;
    }

    /// A handler ran `ran` at `node` for `cost_ns`: its slice, and the arrow that brought its
    /// input.
    fn handler(&mut self, node: u32, t_ns: u64, cost_ns: u64, ran: HandlerInput) {
        let lanes = self.lanes();
        let held = self.opts.cores > 0 && cost_ns > 0;
        let state = &mut self.nodes[node as usize];
        // The CPU runs inputs in arrival order: those before this one ran already or were timer
        // firings superseded while they waited, which run no handler.
        let mut input = None;
        while let Some(next) = state.waiting.pop_front() {
            if next.ran == ran {
                input = Some(next);
                break;
            }
            debug_assert!(matches!(next.ran, HandlerInput::Timer { .. }), "only a timer firing is skipped: {next:?}");
        }
        // A handler ending now keeps its entry until its `Release` (maybe recorded after this).
        state.running.retain(|r| r.end_ns >= t_ns);
        let busy = |l: u32| state.running.iter().any(|r| r.lane == l && r.end_ns > t_ns);
        let mut lane = (0..lanes).find(|&l| !busy(l)).unwrap_or(0);
        if self.opts.planted == Some(PlantedBug::OneTrack) {
            lane = 0;
        }
        if held {
            state.running.push(Running { start_ns: t_ns, end_ns: t_ns + cost_ns, lane });
        }
        let track = self.track(node, lane);
        state_sender(&mut self.nodes[node as usize], held, track.1, t_ns);
        if !self.slices_on(t_ns) {
            return;
        }
        let info = self.info();
        let mut args = String::new();
        let (name, msg) = match ran {
            HandlerInput::Message { kind, msg } => (info.kind_name(kind), Some(msg)),
            HandlerInput::Request { msg } => (info.kind_name(0), Some(msg)),
            HandlerInput::Timer { generation } => {
                let timer = input.as_ref().map_or("", |i| i.timer.as_str());
                let _ = write!(args, r#""timer":{},"gen":{generation},"#, json_str(timer));
                ("timer", None)
            }
        };
        let _ = write!(args, r#""cost_us":{}"#, micros(cost_ns));
        if let Some(msg) = msg {
            let _ = write!(args, r#","msg":{msg}"#);
        }
        let flight = input.as_ref().and_then(|i| i.flight);
        if let Some(input) = &input {
            let _ = write!(args, r#","waited_us":{}"#, micros(t_ns - input.arrived_ns));
        }
        if let Some(f) = &flight {
            let _ = write!(args, r#","from":{},"sent_us":{}"#, f.from, micros(f.sent_ns));
        }
        let dur_ns = if self.opts.cores == 0 { 0 } else { cost_ns };
        self.slice(name, track, t_ns, dur_ns, &args);
        if let (Some(msg), Some(f)) = (msg, flight) {
            self.flow(msg, &f, track, t_ns);
        }
    }

    /// A message left `from`: remembered until it is delivered, if its arrow is drawn.
    fn send(&mut self, from: u32, kind: u32, msg: u64, fate: Fate, t_ns: u64) {
        if matches!(fate, Fate::Lost | Fate::Dropped) {
            if let (Some(PlantedBug::EveryStart), Some((tid, slice_ns))) =
                (self.opts.planted, self.nodes[from as usize].sender)
            {
                self.flow_start(msg, &Flight { kind, from, sent_ns: t_ns, tid, slice_ns });
            }
            return;
        }
        self.messages_in_flight += 1;
        if !self.wants_flow(kind) || !self.opts.keeps(t_ns) {
            return;
        }
        if let Some((tid, slice_ns)) = self.nodes[from as usize].sender {
            self.in_flight.insert(msg, Flight { kind, from, sent_ns: t_ns, tid, slice_ns });
        }
    }

    fn deliver(&mut self, to: u32, kind: u32, msg: u64, t_ns: u64) {
        self.messages_in_flight = self.messages_in_flight.saturating_sub(1);
        let flight = self.in_flight.remove(&msg);
        if to < self.info().n_replicas {
            let ran = if kind == 0 { HandlerInput::Request { msg } } else { HandlerInput::Message { kind, msg } };
            let input = Input { ran, arrived_ns: t_ns, flight, timer: String::new() };
            self.nodes[to as usize].waiting.push_back(input);
            return;
        }
        // A client takes replies at once: a zero-length slice the arrow can end on.
        let track = self.track(to, 0);
        if self.slices_on(t_ns) {
            let from = flight.map_or(String::new(), |f| format!(r#","from":{}"#, f.from));
            self.slice(self.info().kind_name(kind), track, t_ns, 0, &format!(r#""msg":{msg}{from}"#));
            if let Some(f) = flight {
                self.flow(msg, &f, track, t_ns);
            }
        }
    }

    /// A client submitted or resent a transaction: a zero-length slice its requests start from.
    fn client_sends(&mut self, client: u32, what: &str, tx: u64, t_ns: u64) {
        let track = self.track(client, 0);
        self.nodes[client as usize].sender = Some((track.1, t_ns));
        if self.slices_on(t_ns) {
            self.slice(what, track, t_ns, 0, &format!(r#""client":{client},"tx":{tx}"#));
        }
    }

    fn partition(&mut self, index: u32, open: bool, t_ns: u64) {
        let name = format!("partition {index}");
        self.global(&format!("{name} {}", if open { "opens" } else { "heals" }), t_ns, &format!(r#""index":{index}"#));
        if open {
            self.partitions.insert(index, t_ns);
        } else if let Some(from) = self.partitions.remove(&index) {
            self.partition_slice(index, from, t_ns);
        }
    }

    fn partition_slice(&mut self, index: u32, from_ns: u64, to_ns: u64) {
        let from_ns = from_ns.max(self.opts.from_ns);
        let to_ns = self.opts.to_ns.map_or(to_ns, |t| t.min(to_ns));
        if from_ns > to_ns || self.events >= self.opts.max_events.saturating_mul(2) {
            return;
        }
        let tid = TID_PARTITION + index;
        if self.named_partitions.insert(index) {
            self.metadata(PID_NETWORK, Some(tid), &format!("partition {index}"), tid);
        }
        self.slice("partitioned", (PID_NETWORK, tid), from_ns, to_ns - from_ns, &format!(r#""index":{index}"#));
    }

    /// Writes the last counters and the open partitions, closes the event array with the run's
    /// description, and puts the file in place; removes the temporary file if anything failed.
    pub fn finish(&mut self, report: &Report) -> io::Result<PathBuf> {
        let r = &report.result;
        let end_ns = r.end_time.0.max(self.last_ns);
        self.sample_until(end_ns.saturating_add(1));
        for (index, from) in std::mem::take(&mut self.partitions) {
            self.partition_slice(index, from, end_ns);
        }
        let info = self.info().clone();
        let to = self.opts.to_ns.map_or("null".to_string(), |t| t.to_string());
        let capped = self.capped_at_ns.map_or("null".to_string(), |t| t.to_string());
        let kinds: Vec<String> = self.opts.flow_kinds.iter().map(|k| json_str(k)).collect();
        let _ = write!(
            self.line,
            // One literal per line (concat!), so that braces never span lines.
            concat!(
                "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{{\"byzsim\":{},\"scenario\":{},\"protocol\":\"{}\",",
                "\"seed\":{},\"digest\":\"{:016x}\",\"stop\":\"{}\",\"end_ns\":{},\"events\":{},\"flows\":{},",
                "\"max_events\":{},\"capped_at_ns\":{capped},\"from_ns\":{},\"to_ns\":{to},\"flow_kinds\":[{}],",
                "\"flows_off\":{},\"cores\":{}}}}}\n"
            ),
            json_str(&crate::version::long()),
            json_str(&info.scenario),
            info.protocol,
            info.seed,
            r.digest,
            r.stop.name(),
            r.end_time.0,
            self.events,
            self.flows,
            self.opts.max_events,
            self.opts.from_ns,
            kinds.join(","),
            self.opts.no_flows,
            self.opts.cores,
            capped = capped,
            to = to,
        );
        let tail = std::mem::take(&mut self.line);
        self.file.write(tail.as_bytes());
        self.file.finish()
    }

    /// Removes the temporary file of a timeline that will not be finished.
    pub fn abandon(&mut self) {
        self.file.abandon();
    }
}

/// Where the sends that follow start their arrows: a handler without a held core lets its
/// effects leave at once; one with a core lets them leave at its `Release`.
fn state_sender(state: &mut NodeState, held: bool, tid: u32, t_ns: u64) {
    state.sender = if held { None } else { Some((tid, t_ns)) };
}

impl Watcher for Timeline {
    fn begin(&mut self, info: &RunInfo) {
        self.info = Some(info.clone());
        self.nodes = vec![NodeState::default(); info.n_nodes as usize];
        self.client_groups = (info.n_nodes - info.n_replicas).clamp(1, CLIENT_TRACKS_MAX);
        self.file.write(b"{\"traceEvents\":[");
        self.name_tracks();
    }

    fn wants_about(&self, entry: &Entry) -> bool {
        matches!(entry.record, Record::TimerFire { .. }) && self.opts.keeps(entry.at.0)
    }

    fn record(&mut self, entry: &Entry, about: &str) {
        let t = entry.at.0;
        self.sample_until(t);
        self.last_ns = t;
        match entry.record {
            Record::Send { from, kind, msg, fate, .. } => self.send(from.0, kind, msg, fate, t),
            Record::Deliver { to, kind, msg, .. } => self.deliver(to.0, kind, msg, t),
            Record::Refused { msg, .. } => self.refused(msg),
            Record::TimerFire { node, generation } => {
                let ran = HandlerInput::Timer { generation };
                let input = Input { ran, arrived_ns: t, flight: None, timer: about.to_string() };
                self.nodes[node.0 as usize].waiting.push_back(input);
            }
            Record::Handler { node, cost, input } => self.handler(node.0, t, cost.0, input),
            Record::Release { node, .. } => self.release(node.0, t),
            Record::Submit { client, tx } => {
                self.txs_in_flight += 1;
                self.client_sends(client.0, "submit", tx.0, t);
            }
            Record::Resend { client, tx, .. } => self.client_sends(client.0, "resend", tx.0, t),
            Record::Overload { node, tx, pushed_back, .. } => {
                let name = if pushed_back { "push_back" } else { "drop" };
                self.instant(name, node.0, t, &format!(r#""tx":{}"#, tx.0));
            }
            Record::Confirm { client, tx } => {
                self.txs_in_flight = self.txs_in_flight.saturating_sub(1);
                self.confirms_in_period += 1;
                self.instant("confirm", client.0, t, &format!(r#""tx":{}"#, tx.0));
            }
            Record::Commit { node, slot, entry: id, txs } => {
                self.commits_in_period += 1;
                self.instant("commit", node.0, t, &format!(r#""slot":{slot},"entry":"{id:016x}","txs":{txs}"#));
            }
            Record::CommitTx { node, tx } => {
                self.commits_in_period += 1;
                self.instant("commit", node.0, t, &format!(r#""tx":{}"#, tx.0));
            }
            Record::Fault { node, action } => self.fault(node.0, action, t),
            Record::Partition { index, open } => self.partition(index, open, t),
            Record::Note { node, note } => {
                let mut args = String::new();
                eventlog::note_members(&mut args, &note);
                self.instant(note.name(), node.0, t, &args);
            }
            Record::Violation { node, invariant } => {
                let args = format!(r#""node":{},"invariant":{}"#, node.0, json_str(invariant));
                self.instant("VIOLATION", node.0, t, &args);
                self.global(&format!("VIOLATION of {invariant}"), t, &args);
            }
            Record::TimerSet { .. } | Record::Execute { .. } => {}
        }
    }
}

/// The record handlers that are more than a line.
impl Timeline {
    /// A message refused at its receiver: no longer in flight.
    fn refused(&mut self, msg: u64) {
        self.messages_in_flight = self.messages_in_flight.saturating_sub(1);
        let flight = self.in_flight.remove(&msg);
        if let (Some(PlantedBug::EveryStart), Some(f)) = (self.opts.planted, flight) {
            self.flow_start(msg, &f);
        }
    }

    /// A handler's effects left at `t`: its lane sends what follows.
    fn release(&mut self, node: u32, t: u64) {
        let lanes = self.lanes();
        let state = &mut self.nodes[node as usize];
        let done = state.running.iter().position(|r| r.end_ns == t);
        state.sender = done.map(|i| {
            let r = state.running.remove(i);
            (1 + node * lanes + r.lane, r.start_ns)
        });
    }

    fn fault(&mut self, node: u32, action: FaultAction, t: u64) {
        let name = match action {
            FaultAction::Crash => {
                // The crash voids its queue and the handlers in progress.
                self.nodes[node as usize] = NodeState::default();
                "crash"
            }
            FaultAction::Recover => "recover",
        };
        self.instant(name, node, t, "");
    }
}

/// Nanoseconds as the format's microseconds, exact: `1234.567`.
pub fn micros(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_keep_nanoseconds() {
        assert_eq!(micros(0), "0.000");
        assert_eq!(micros(1_234_567), "1234.567");
        assert_eq!(micros(999), "0.999");
    }
}
