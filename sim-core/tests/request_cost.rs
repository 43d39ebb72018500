//! The two base costs (`CpuConfig::base`, `CpuConfig::request_base`): a client request pays
//! `request_base`, a protocol message or timer pays `base`, and a protocol message the protocol
//! puts on the request pool (`Message::pool`) is still a message and pays `base`. Each replica
//! has a request pool here, so the busy time of each pool is what each kind of input cost.
//! Without `request_base` a request pays `base`, as before the field existed.

mod common;

use sim_core::workload::{Arrival, ListWorkload};
use sim_core::{AccountId, CpuConfig, Ctx, Message, NodeId, Pool, Protocol, SimConfig, Simulation, Span, Time, Tx};

const N_REPLICAS: u32 = 2;
const PING_EVERY_MS: u64 = 10;
/// Client requests, all to replica 0: one every 5 ms over the second.
const REQUEST_GAP_US: u64 = 5_000;
const MSG_BYTES: u32 = 2_048;
const REQUEST_BYTES: u32 = 1_024;

#[derive(Clone, Debug)]
enum Msg {
    Ping,
    Pong,
    /// A payload batch between replicas, handled on the request pool.
    Batch,
}

impl Message for Msg {
    const KINDS: &'static [&'static str] = &["ping", "pong", "batch"];
    fn wire_size(&self) -> u32 {
        MSG_BYTES
    }
    fn fingerprint(&self) -> u64 {
        self.kind() as u64
    }
    fn kind(&self) -> usize {
        match self {
            Msg::Ping => 0,
            Msg::Pong => 1,
            Msg::Batch => 2,
        }
    }
    fn pool(&self) -> Pool {
        match self {
            Msg::Batch => Pool::Request,
            Msg::Ping | Msg::Pong => Pool::Consensus,
        }
    }
}

/// Replica 0 sends replica 1 a ping and a batch every 10 ms and notes when each pong arrives;
/// replica 1 answers each ping. Handlers charge nothing themselves: each pool's busy time is the
/// base and per-KiB costs alone.
#[derive(Default)]
struct Pinger {
    pongs_at: Vec<Time>,
    requests: u64,
    batches: u64,
    timers: u64,
    pings: u64,
}

impl Protocol for Pinger {
    type Message = Msg;
    type Timer = u8;
    type Record = std::convert::Infallible;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.me() == NodeId(0) {
            ctx.set_timer(0, Span::from_millis(PING_EVERY_MS));
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Ping => {
                self.pings += 1;
                ctx.send(from, Msg::Pong);
            }
            Msg::Pong => self.pongs_at.push(ctx.now()),
            Msg::Batch => self.batches += 1,
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: u8) {
        self.timers += 1;
        ctx.send(NodeId(1), Msg::Ping);
        ctx.send(NodeId(1), Msg::Batch);
        ctx.set_timer(0, Span::from_millis(PING_EVERY_MS));
    }
    fn on_request(&mut self, _: &mut Ctx<'_, Self>, _: Tx) {
        self.requests += 1;
    }
}

fn config(cpu: CpuConfig) -> SimConfig {
    common::one_client(N_REPLICAS, 0, Span::from_millis(1), cpu)
}

fn requests() -> ListWorkload {
    let arrivals = (1..)
        .map(|k| k * REQUEST_GAP_US * 1000)
        .take_while(|&at| at < 900_000_000)
        .map(|at| Arrival {
            at: Time(at),
            client_idx: 0,
            from: AccountId(0),
            to: AccountId(1),
            amount: 1,
            size_bytes: REQUEST_BYTES,
        })
        .collect();
    ListWorkload::new(arrivals)
}

/// What each replica did and what each of its pools was busy for.
struct Outcome {
    pongs_at: Vec<Time>,
    /// Requests, timers (replica 0); pings, batches (replica 1).
    requests: u64,
    timers: u64,
    pings: u64,
    batches: u64,
    /// Per replica: (consensus pool, request pool) busy time.
    busy_ns: Vec<(u64, u64)>,
}

fn run(base_us: u64, request_base_us: Option<u64>) -> Outcome {
    let cpu = CpuConfig {
        cores: 1,
        request_cores: 1,
        base: Span::from_micros(base_us),
        request_base: request_base_us.map(Span::from_micros),
        per_kib: Span::from_micros(10),
        ..CpuConfig::UNLIMITED
    };
    let mut sim = Simulation::new(config(cpu), Box::new(requests()), |_| Pinger::default());
    sim.run_until(Time::from_secs_f64(1.0));
    let (pongs_at, requests, timers) = {
        let p = sim.replica(NodeId(0));
        (p.pongs_at.clone(), p.requests, p.timers)
    };
    let (pings, batches) = (sim.replica(NodeId(1)).pings, sim.replica(NodeId(1)).batches);
    let busy_ns = sim.finish().nodes.iter().take(2).map(|n| (n.cpu_busy_ns, n.request_busy_ns)).collect();
    Outcome { pongs_at, requests, timers, pings, batches, busy_ns }
}

fn us(x: u64) -> u64 {
    x * 1_000
}

/// Every input's cost, counted: replica 0's consensus pool handles its timers and pongs,
/// its request pool the requests; replica 1's consensus pool the pings, its request pool the
/// batches (messages, so `base`). Per KiB: 10 us, so a 2 KiB message pays 20 us, a 1 KiB
/// request 10 us.
fn assert_costs(o: &Outcome, base_us: u64, request_base_us: u64) {
    let pongs = o.pongs_at.len() as u64;
    assert!(o.requests > 150 && o.timers > 90 && o.batches > 90, "{} {} {}", o.requests, o.timers, o.batches);
    assert_eq!(o.busy_ns[0].0, o.timers * us(base_us) + pongs * us(base_us + 20), "replica 0, consensus");
    assert_eq!(o.busy_ns[0].1, o.requests * us(request_base_us + 10), "replica 0, requests");
    assert_eq!(o.busy_ns[1].0, o.pings * us(base_us + 20), "replica 1, consensus (pings)");
    assert_eq!(o.busy_ns[1].1, o.batches * us(base_us + 20), "replica 1, request pool (batches)");
}

#[test]
fn without_a_request_base_a_request_pays_the_base_as_before() {
    let old = run(40, None);
    assert_costs(&old, 40, 40);
    assert_eq!(old.busy_ns, run(40, Some(40)).busy_ns);
    assert_eq!(old.pongs_at, run(40, Some(40)).pongs_at);
}

#[test]
fn the_request_base_is_charged_to_client_requests_and_nothing_else() {
    let old = run(40, None);
    // A dearer request: only replica 0's request pool moves, by exactly the difference.
    let dear_requests = run(40, Some(900));
    assert_costs(&dear_requests, 40, 900);
    assert_eq!(dear_requests.busy_ns[0].1, old.busy_ns[0].1 + old.requests * us(860));
    assert_eq!(dear_requests.pongs_at, old.pongs_at, "consensus timing moved with the request cost");
    assert_eq!((dear_requests.busy_ns[0].0, &dear_requests.busy_ns[1]), (old.busy_ns[0].0, &old.busy_ns[1]));
    // A dearer message, requests held at the old price: everything moves but the requests.
    let dear_messages = run(400, Some(40));
    assert_costs(&dear_messages, 400, 40);
    assert_eq!(dear_messages.busy_ns[0].1, old.busy_ns[0].1, "request cost moved with the message cost");
    assert!(dear_messages.pongs_at[0] > old.pongs_at[0], "consensus timing did not move with its cost");
}
