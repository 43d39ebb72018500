//! Separate CPU pools: a flood of client requests saturates the request pool of a replica with
//! one (`CpuConfig::request_cores`) and leaves its consensus messages exactly as fast as without
//! the flood, where with one shared pool the same flood delays them.

mod common;

use sim_core::workload::{Arrival, ListWorkload};
use sim_core::{AccountId, CpuConfig, Ctx, Message, NodeId, Protocol, SimConfig, Simulation, Span, Time, Tx};

const N_REPLICAS: u32 = 4;
const PING_EVERY_MS: u64 = 10;
/// What handling one request costs (client signature check, decoding): 2 ms.
const REQUEST_COST: Span = Span::from_millis(2);

#[derive(Clone, Debug)]
enum Msg {
    Ping,
    Pong,
}

impl Message for Msg {
    const KINDS: &'static [&'static str] = &["ping", "pong"];
    fn wire_size(&self) -> u32 {
        100
    }
    fn fingerprint(&self) -> u64 {
        self.kind() as u64
    }
    fn kind(&self) -> usize {
        match self {
            Msg::Ping => 0,
            Msg::Pong => 1,
        }
    }
}

/// Replica 0 pings the others every 10 ms and notes when each pong arrives; the others answer.
/// Requests cost `REQUEST_COST` and do nothing else.
#[derive(Default)]
struct Pinger {
    pongs_at: Vec<Time>,
    requests: u64,
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
            Msg::Ping => ctx.send(from, Msg::Pong),
            Msg::Pong => self.pongs_at.push(ctx.now()),
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: u8) {
        for r in 1..N_REPLICAS {
            ctx.send(NodeId(r), Msg::Ping);
        }
        ctx.set_timer(0, Span::from_millis(PING_EVERY_MS));
    }
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, _: Tx) {
        ctx.charge(REQUEST_COST);
        self.requests += 1;
    }
}

fn config(cpu: CpuConfig) -> SimConfig {
    common::one_client(N_REPLICAS, 1, Span::from_millis(5), cpu)
}

/// One request every `gap_us` for the whole second (none when `gap_us` is 0), all to replica 0.
fn flood(gap_us: u64) -> ListWorkload {
    let arrivals = (1..)
        .map(|k| k * gap_us * 1000)
        .take_while(|&at| gap_us > 0 && at < 1_000_000_000)
        .map(|at| Arrival {
            at: Time(at),
            client_idx: 0,
            from: AccountId(0),
            to: AccountId(1),
            amount: 1,
            size_bytes: 100,
        })
        .collect();
    ListWorkload::new(arrivals)
}

struct Outcome {
    pongs_at: Vec<Time>,
    requests_handled: u64,
    consensus_busy_ns: u64,
    request_busy_ns: u64,
}

fn run(cpu: CpuConfig, gap_us: u64) -> Outcome {
    let mut sim = Simulation::new(config(cpu), Box::new(flood(gap_us)), |_| Pinger::default());
    sim.run_until(Time::from_secs_f64(1.0));
    let (pongs_at, requests_handled) = {
        let p = sim.replica(NodeId(0));
        (p.pongs_at.clone(), p.requests)
    };
    let node = sim.finish().nodes[0].clone();
    Outcome { pongs_at, requests_handled, consensus_busy_ns: node.cpu_busy_ns, request_busy_ns: node.request_busy_ns }
}

fn cpu(cores: u32, request_cores: u32) -> CpuConfig {
    CpuConfig { cores, request_cores, base: Span::from_micros(100), ..CpuConfig::UNLIMITED }
}

/// When the last pong of the run arrived.
fn last_pong(o: &Outcome) -> Time {
    *o.pongs_at.last().expect("pongs arrived")
}

fn assert_pools_isolate(split: CpuConfig) {
    let quiet = run(cpu(1, 0), 0);
    let shared = run(cpu(1, 0), 1000);
    let separate = run(split, 1000);
    // The flood offers 2 ms of work per ms: with one shared core, pongs wait behind it.
    assert!(shared.pongs_at.len() < quiet.pongs_at.len() / 2, "shared: {} pongs", shared.pongs_at.len());
    // With a request pool, consensus sees exactly the quiet run's timing...
    assert_eq!(separate.pongs_at, quiet.pongs_at, "consensus delayed by requests on the consensus pool");
    assert_eq!(separate.consensus_busy_ns, quiet.consensus_busy_ns);
    // ...while the request pool is saturated: busy the whole time from the first request on.
    assert!(separate.request_busy_ns >= 990_000_000, "request pool busy {} ns", separate.request_busy_ns);
    // The first request arrives at 6 ms; each then takes 2.1 ms (base + charge): 474 start by 1 s.
    assert_eq!(separate.requests_handled, 474);
    assert!(last_pong(&quiet) > Time::from_secs_f64(0.99));
}

#[test]
fn a_request_flood_saturates_the_request_pool_and_leaves_consensus_on_time() {
    assert_pools_isolate(cpu(1, 1));
}

/// Planted mistake: requests go to the consensus pool although the replica has a request pool.
#[test]
#[should_panic(expected = "consensus delayed by requests on the consensus pool")]
fn requests_planted_on_the_consensus_pool_are_caught() {
    assert_pools_isolate(CpuConfig { planted_requests_on_consensus: true, ..cpu(1, 1) });
}

#[test]
fn without_a_request_pool_requests_share_the_consensus_cores() {
    let shared = run(cpu(1, 0), 1000);
    assert_eq!(shared.request_busy_ns, 0);
    assert!(shared.consensus_busy_ns >= 990_000_000, "{}", shared.consensus_busy_ns);
}
