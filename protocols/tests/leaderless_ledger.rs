//! The leaderless ledger on the engine: transfers of one account ordered against their nonces
//! by the dependency discovery service must settle the same way at every correct replica
//! (issue 11, bug 2), and the monitor's per-transaction check must see when they do not.

use protocols::leaderless::{Behavior, Leaderless, LeaderlessConfig, LeaderlessMonitor, PlantedBug, Variant};
use protocols::ledger::{ConflictRelation, Outcome};
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement};
use sim_core::workload::{Arrival, ListWorkload};
use sim_core::{AccountId, RunResult, SendPolicy, SimConfig, Simulation, Span, Stop, Time};

/// Regions of the reproducer: replicas in W and E (1 ms inside a site, 50 ms between), clients
/// in F (100 ms from W, 150 ms from E), W and E.
const W: u16 = 0;
const E: u16 = 1;
const F: u16 = 2;
const CLIENT_REGIONS: [u16; 3] = [F, W, E];
const A: u32 = 0;
const B: u32 = 1;
const C: u32 = 2;
const D: u32 = 3;

fn matrix() -> DelayModel {
    let ms = Span::from_millis;
    DelayModel::Matrix {
        n_regions: 3,
        one_way: vec![ms(1), ms(50), ms(100), ms(50), ms(1), ms(150), ms(100), ms(150), ms(1)],
    }
}

/// Wintermute, n = 6, f = 1, three replicas per site, genesis balance 100, no jitter.
fn run(arrivals: Vec<Arrival>, bug: Option<PlantedBug>) -> RunResult {
    let (n, f) = (6u32, 1u32);
    let mut nodes: Vec<NodePlacement> =
        (0..n).map(|i| NodePlacement { region: if i < 3 { W } else { E }, uplink_bps: 0, downlink_bps: 0 }).collect();
    nodes.extend(CLIENT_REGIONS.iter().map(|&region| NodePlacement { region, uplink_bps: 0, downlink_bps: 0 }));
    let cfg = SimConfig {
        seed: 1,
        n_replicas: n,
        f,
        net: NetConfig {
            nodes,
            n_replicas: n,
            delay: matrix(),
            jitter: Jitter::None,
            loss_ppb: 0,
            fifo: true,
            partitions: vec![],
            spikes: vec![],
        },
        send_to: SendPolicy::Nearest,
        faults: vec![],
        end: Time::from_secs_f64(3.0),
        limits: sim_core::Limits::DEFAULT,
        correct: vec![true; n as usize],
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: None,
        clients: sim_core::ClientModel::OPEN,
        adversary: sim_core::Adversary::OFF,
    };
    let mut ll = LeaderlessConfig::new(Variant::Wintermute);
    ll.genesis_balance = 100;
    ll.bug = bug;
    let monitor = LeaderlessMonitor::new(n, ConflictRelation::SharedAccount);
    Simulation::new(cfg, Box::new(ListWorkload::new(arrivals)), |_| {
        Leaderless::new(ll.clone(), n, f, Behavior::Correct)
    })
    .with_monitor(Box::new(monitor))
    .run()
}

fn transfer(at_us: u64, client: u32, from: u32, to: u32, amount: u64) -> Arrival {
    Arrival {
        at: Time(at_us * 1_000),
        client_idx: client,
        from: AccountId(from),
        to: AccountId(to),
        amount,
        size_bytes: 100,
    }
}

/// The reproducer: A pays C 1 (nonce 1) from F, A pays B 99 (nonce 2) from E a
/// millisecond later, and B pays D 150 from E at 100 ms. Nonce 2 reaches every replica before
/// nonce 1, so the discovery service orders A's nonce 2 before its nonce 1; B -> D depends on
/// nonce 2 and not on nonce 1 (it does not conflict with A -> C).
fn reproducer() -> Vec<Arrival> {
    vec![transfer(0, 0, A, C, 1), transfer(1_000, 2, A, B, 99), transfer(100_000, 2, B, D, 150)]
}

#[test]
fn out_of_order_nonces_settle_the_same_everywhere() {
    let r = run(reproducer(), None);
    assert_eq!(r.stop, Stop::End, "{:?}", r.stop);
    let result = |i: usize| Outcome::from_code(r.txs[i].result);
    for (i, t) in r.txs.iter().enumerate() {
        assert!(t.is_confirmed(), "transaction {i} confirmed by f+1 matching replies: {t:?}");
    }
    // The chain runs A's nonce 1 first, then nonce 2 (B now holds 199), then B -> D.
    assert_eq!([result(0), result(1), result(2)], [Outcome::Applied; 3]);
    // The discovery service did order nonce 2 first: with the chain edge, A's two transfers
    // form one component at every replica.
    for node in r.nodes.iter().filter(|n| n.is_replica) {
        let largest = node.counters.iter().find(|c| c.0 == "component_max").expect("counted").1;
        assert_eq!(largest, 2, "replica {}", node.id);
    }
}

/// The planted bug restores the ledger that held nonces and the executor without chains: the
/// per-transaction check catches the divergence (this was today's code before the fix).
#[test]
fn held_nonces_are_caught_by_the_per_transaction_check() {
    let r = run(reproducer(), Some(PlantedBug::HeldNonces));
    let Stop::Violation(v) = r.stop else { panic!("no violation: {:?}", r.stop) };
    assert_eq!(v.invariant, "same result per transaction", "{v:?}");
    // An E replica settles A -> B after B -> D ran there with too little money.
    assert!(v.replica.0 >= 3, "{v:?}");
}

/// 200 transfers among 5 accounts from the three client sites, one every 3 ms, amounts up to
/// 49 against a genesis balance of 100: sources' nonces often reach the replicas out of order.
fn contended(seed: u64) -> Vec<Arrival> {
    let mut rng = sim_core::Streams::new(seed).stream("test-workload");
    (0..200u64)
        .map(|i| {
            let from = rng.below(5) as u32;
            let to = (from + 1 + rng.below(4) as u32) % 5;
            transfer(i * 3_000, rng.below(3) as u32, from, to, rng.below(50))
        })
        .collect()
}

/// Under continuous load: the fix keeps every correct replica's results equal, and the old
/// design's divergence is found by the per-transaction check within a few seeds.
#[test]
fn contended_sources_settle_the_same_everywhere_and_held_nonces_do_not() {
    let mut caught = Vec::new();
    for seed in 1..=8 {
        let r = run(contended(seed), None);
        assert_eq!(r.stop, Stop::End, "seed {seed}");
        assert!(r.txs.iter().all(|t| t.is_confirmed()), "seed {seed}");
        if let Stop::Violation(v) = run(contended(seed), Some(PlantedBug::HeldNonces)).stop {
            assert_eq!(v.invariant, "same result per transaction", "seed {seed}: {v:?}");
            caught.push(seed);
        }
    }
    assert!(caught.len() >= 2, "held nonces caught at seeds {caught:?}");
}
