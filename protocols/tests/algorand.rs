//! The Algorand-style baseline on the engine, without scenario files: rounds and finality at
//! small scale, Byzantine users under 20% of the stake, catch-up and fork recovery, the planted
//! bugs (`PlantedBug`) that the checkers must catch, and determinism.

mod common;
mod kinds;

use std::rc::Rc;

use common::Steady;
use protocols::algorand::{Algorand, AlgorandConfig, Behavior, PlantedBug, Topology, World};
use sim_core::adversary::{Mode, RandomAttack};
use sim_core::engine::LivenessCheck;
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement, PartitionSpec};
use sim_core::workload::{Arrival, Workload};
use sim_core::{
    Adversary, CpuConfig, FaultAction, FaultAt, NodeId, RunResult, SendPolicy, SimConfig, Simulation, Span, Stop,
    Streams, Time,
};

struct Case {
    users: u32,
    delay_ms: u64,
    rate_tps: u64,
    secs: u64,
    /// Run on after the last submission, for it to commit.
    drain_s: u64,
    seed: u64,
    cfg: AlgorandConfig,
    /// Per user; missing ones are correct.
    behaviors: Vec<Behavior>,
    partitions: Vec<PartitionSpec>,
    faults: Vec<FaultAt>,
    adversary: Adversary,
    liveness: Option<LivenessCheck>,
    client_retry: Option<Span>,
    /// Every user's uplink and downlink (0: unlimited).
    link_bps: u64,
    /// Bytes of each transaction.
    tx_bytes: u32,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            users: 60,
            delay_ms: 20,
            rate_tps: 200,
            secs: 20,
            drain_s: 5,
            seed: 1,
            cfg: fast_mainnet(),
            behaviors: vec![],
            partitions: vec![],
            faults: vec![],
            adversary: Adversary::OFF,
            liveness: None,
            client_retry: None,
            link_bps: 0,
            tx_bytes: 0,
        }
    }
}

/// Today's parameters with timeouts scaled down, so that a test run holds many rounds.
fn fast_mainnet() -> AlgorandConfig {
    AlgorandConfig {
        priority_wait: Span::from_millis(500),
        block_wait: Span::from_millis(500),
        step_timeout: Span::from_millis(1000),
        topology: Topology::Relays { relays: 6, relay_degree: 3 },
        ..AlgorandConfig::mainnet()
    }
}

fn sim_cfg(case: &Case) -> SimConfig {
    let clients = 4;
    let user = NodePlacement { region: 0, uplink_bps: case.link_bps, downlink_bps: case.link_bps };
    let client = NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
    let mut nodes = vec![user; case.users as usize];
    nodes.resize((case.users + clients) as usize, client);
    let behavior = |i: u32| case.behaviors.get(i as usize).copied().unwrap_or(Behavior::Correct);
    SimConfig {
        seed: case.seed,
        n_replicas: case.users,
        f: 0,
        net: NetConfig {
            nodes,
            n_replicas: case.users,
            delay: DelayModel::Uniform(Span::from_millis(case.delay_ms)),
            jitter: Jitter::None,
            loss_ppb: 0,
            fifo: true,
            partitions: case.partitions.clone(),
            spikes: vec![],
        },
        send_to: SendPolicy::Nearest,
        faults: case.faults.clone(),
        end: Time::from_secs_f64((case.secs + case.drain_s) as f64),
        limits: sim_core::Limits { max_events: 100_000_000, max_queue: 10_000_000, ..sim_core::Limits::DEFAULT },
        correct: (0..case.users).map(|i| behavior(i) == Behavior::Correct).collect(),
        cpu: CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: case.liveness,
        client_retry: case.client_retry,
        clients: sim_core::ClientModel::OPEN,
        adversary: case.adversary.clone(),
    }
}

fn run(case: Case) -> RunResult {
    let cfg = sim_cfg(&case);
    let clients = 4;
    let behavior = |i: u32| case.behaviors.get(i as usize).copied().unwrap_or(Behavior::Correct);
    let until = case.secs * 1_000_000_000;
    let steady = Steady { gap_ns: 1_000_000_000 / case.rate_tps, next: 0, until, clients, count: 0 };
    let workload = Sized { steady, tx_bytes: case.tx_bytes };
    let world = Rc::new(World::new(&case.cfg, case.users, &mut Streams::new(case.seed).stream("algorand")));
    let acfg = Rc::new(case.cfg.clone());
    let make = |id: sim_core::NodeId| Algorand::new(world.clone(), acfg.clone(), behavior(id.0));
    Simulation::new(cfg, Box::new(workload), make).run()
}

/// The steady workload with transactions of `tx_bytes` bytes.
struct Sized {
    steady: Steady,
    tx_bytes: u32,
}

impl Workload for Sized {
    fn next_arrival(&mut self) -> Option<Arrival> {
        self.steady.next_arrival().map(|a| Arrival { size_bytes: self.tx_bytes, ..a })
    }
}

fn counter(r: &RunResult, user: usize, name: &str) -> u64 {
    r.nodes[user].counters.iter().find(|(k, _)| *k == name).map_or(0, |&(_, v)| v)
}

fn confirmed(r: &RunResult) -> usize {
    r.txs.iter().filter(|t| t.is_confirmed()).count()
}

#[test]
fn correct_users_reach_final_rounds_and_confirm_everything() {
    let r = run(Case::default());
    assert_eq!(r.stop, Stop::End, "{:?}", r.stop);
    assert_eq!(confirmed(&r), r.txs.len(), "every transaction confirmed");
    // A round: 500 ms of priorities, then four voting steps of a few hops each.
    let rounds = counter(&r, 10, "rounds");
    assert!((20..=50).contains(&rounds), "{rounds} rounds in 25 s");
    assert_eq!(counter(&r, 10, "final_rounds"), rounds, "every round final with all users correct");
    assert_eq!(counter(&r, 10, "empty_rounds"), 0);
    assert_eq!(counter(&r, 10, "step_timeouts"), 0);
}

#[test]
fn peers_topology_agrees_too() {
    let cfg = AlgorandConfig { topology: Topology::Peers, ..fast_mainnet() };
    let r = run(Case { cfg, ..Case::default() });
    assert_eq!(r.stop, Stop::End, "{:?}", r.stop);
    assert_eq!(confirmed(&r), r.txs.len());
}

/// `final_wait` (SOSP 2017, Algorithm 3): a round ends only once its FINAL votes reach their
/// threshold, so rounds are longer than when the next one starts at BinaryBA*'s return, every
/// one of them is final, and none waits out `FinalWait`.
#[test]
fn final_wait_ends_each_round_on_its_final_threshold() {
    let wait = run(Case { cfg: AlgorandConfig { final_wait: true, ..fast_mainnet() }, ..Case::default() });
    let overlap = run(Case::default());
    assert_eq!(wait.stop, Stop::End, "{:?}", wait.stop);
    let (rounds, finals) = (counter(&wait, 10, "rounds"), counter(&wait, 10, "final_rounds"));
    assert_eq!((counter(&wait, 10, "final_timeouts"), finals), (0, rounds), "{rounds} rounds, every one final");
    assert_eq!(confirmed(&wait), wait.txs.len(), "every transaction confirmed");
    // The FINAL count is a gossip round trip more per round.
    let overlapped = counter(&overlap, 10, "rounds");
    assert!(rounds < overlapped && rounds > 0, "{rounds} rounds waiting for FINAL, {overlapped} without");
}

/// A FINAL threshold no committee reaches: with `final_wait` each round ends `step_timeout`
/// after BinaryBA* returned (tentative, `final_timeouts`), and rounds go on; nothing commits,
/// since a round commits only once it, or a later one, is final.
#[test]
fn final_wait_gives_up_after_the_step_timeout_when_final_cannot_be_reached() {
    let mut cfg = AlgorandConfig { final_wait: true, ..fast_mainnet() };
    cfg.final_step.threshold = cfg.final_step.expected * 2;
    let r = run(Case { cfg, secs: 10, drain_s: 0, ..Case::default() });
    assert_eq!(r.stop, Stop::End, "{:?}", r.stop);
    let (rounds, timeouts) = (counter(&r, 10, "rounds"), counter(&r, 10, "final_timeouts"));
    // A round: 500 ms of priorities, a few voting steps, then the 1 s FinalWait.
    assert!((4..=7).contains(&rounds), "{rounds} rounds in 10 s");
    assert!(timeouts == rounds || timeouts == rounds + 1, "{timeouts} FINAL timeouts in {rounds} rounds");
    assert_eq!((counter(&r, 10, "final_rounds"), confirmed(&r)), (0, 0), "no round final, nothing confirmed");
    // The mean round: the current round began within one round of the run's 10 s end, and
    // every round holds 500 ms of priorities and the 1 s FinalWait.
    let mean_ms = counter(&r, 10, "round_mean_ms");
    assert!(mean_ms * rounds <= 10_000 && mean_ms * (rounds + 2) > 10_000, "mean {mean_ms} ms over {rounds} rounds");
    assert!(mean_ms > 1_500, "mean round {mean_ms} ms");
}

/// The SOSP 2017 parameters (1 MB blocks, random peers, the paper's timeouts) with every user
/// on 20 Mbit/s up and down, 200 users 80 ms apart, 100 tx/s of 1 kB transactions (blocks full
/// at 1 MB). Issue 14, item 5: with every item of a flush in one batch on one FIFO queue per
/// link (`one_lane`, the gossip before the fix), votes and priorities waited behind the blocks
/// queued ahead of them, users relayed blocks that were not the best because the better
/// priority had not arrived yet, and BA* fell back to empty rounds.
fn capped(one_lane: bool) -> RunResult {
    let cfg = AlgorandConfig { topology: Topology::Peers, one_lane, ..AlgorandConfig::sosp2017() };
    let (secs, drain_s, link_bps) = (60, 40, 20_000_000);
    run(Case {
        users: 200,
        delay_ms: 80,
        rate_tps: 100,
        tx_bytes: 1000,
        secs,
        drain_s,
        cfg,
        link_bps,
        ..Case::default()
    })
}

#[test]
fn sosp_blocks_on_capped_links_commit_every_round_when_votes_go_ahead_of_blocks() {
    let r = capped(false);
    assert_eq!(r.stop, Stop::End, "{:?}", r.stop);
    let (rounds, finals) = (counter(&r, 10, "rounds"), counter(&r, 10, "final_rounds"));
    let (empty, timeouts) = (counter(&r, 10, "empty_rounds"), counter(&r, 10, "step_timeouts"));
    assert!(rounds >= 7 && finals == rounds && empty == 0, "{rounds} rounds, {finals} final, {empty} empty in 100 s");
    assert_eq!(timeouts, 0, "no step waits out its 20 s timeout");
    assert_eq!(confirmed(&r), r.txs.len(), "every transaction confirmed");
}

/// The same run with the old gossip (measured: 4 rounds, 2 of them empty, 999 of 6,000
/// transactions confirmed), so the test above is known to fail without the fix.
#[test]
fn sosp_blocks_on_capped_links_fall_back_to_empty_rounds_with_the_old_one_lane_gossip() {
    let r = capped(true);
    let (rounds, empty, done) = (counter(&r, 10, "rounds"), counter(&r, 10, "empty_rounds"), confirmed(&r));
    assert!(rounds <= 5 && empty >= 1, "{rounds} rounds, {empty} empty");
    assert!(done * 2 < r.txs.len(), "{done} of {} confirmed", r.txs.len());
}

#[test]
fn same_seed_same_digest_other_seed_other_digest() {
    let a = run(Case { secs: 5, ..Case::default() });
    let b = run(Case { secs: 5, ..Case::default() });
    let c = run(Case { secs: 5, seed: 2, ..Case::default() });
    assert_eq!((a.digest, a.events), (b.digest, b.events));
    assert_ne!(a.digest, c.digest);
}

/// Users 0..k misbehave in `behavior` (k under 20% of the users, so of the stake).
fn byzantine(behavior: Behavior, k: usize, users: usize) -> Vec<Behavior> {
    (0..users).map(|i| if i >= 6 && i < 6 + k { behavior } else { Behavior::Correct }).collect()
}

#[test]
fn byzantine_users_under_a_fifth_of_the_stake_keep_safety_and_liveness() {
    for behavior in [Behavior::Silent, Behavior::Equivocate, Behavior::DoubleVote] {
        for seed in 1..=3 {
            let r = run(Case { behaviors: byzantine(behavior, 11, 60), seed, secs: 15, ..Case::default() });
            assert_eq!(r.stop, Stop::End, "{behavior:?} seed {seed}: {:?}", r.stop);
            let done = confirmed(&r);
            assert!(done * 100 >= r.txs.len() * 95, "{behavior:?} seed {seed}: {done} of {}", r.txs.len());
        }
    }
}

/// Even users on one side, odd ones on the other, from 0 to `heal_s`.
fn halves(users: u32, heal_s: u64) -> Vec<PartitionSpec> {
    let evens: Vec<u32> = (0..users).filter(|u| u % 2 == 0).collect();
    vec![PartitionSpec::new(Time::ZERO, Time::from_secs_f64(heal_s as f64), users, &[evens])]
}

/// Like `scenarios/examples/algorand-attacks.toml` (without its WAN matrix): 50 users on random
/// peers, 9 of them Byzantine (18% of the stake: 3 `FakeSync`, 3 `Equivocate`, 3 `DoubleVote`),
/// split in two halves (ids below 25, the rest) from 2 s to 5 s, a random adversary that holds
/// half of all messages up to 300 ms, and every transaction submitted after the heal confirmed
/// within 8 s.
fn attacks(seed: u64, bug: Option<PlantedBug>) -> Case {
    let mut behaviors = vec![Behavior::Correct; 50];
    for (i, b) in [Behavior::FakeSync, Behavior::Equivocate, Behavior::DoubleVote].into_iter().enumerate() {
        for k in 0..3 {
            behaviors[7 + 13 * k + i] = b;
        }
    }
    let (start, heal) = (Time::from_secs_f64(2.0), Time::from_secs_f64(5.0));
    let first_half: Vec<u32> = (0..25).collect();
    let attack = RandomAttack { targets_mask: 0b1111, delay_ppb: 500_000_000, drop_ppb: 0 };
    Case {
        users: 50,
        delay_ms: 50,
        rate_tps: 50,
        secs: 12,
        drain_s: 6,
        seed,
        cfg: AlgorandConfig { topology: Topology::Peers, bug, ..fast_mainnet() },
        behaviors,
        partitions: vec![PartitionSpec::new(start, heal, 50, &[first_half])],
        adversary: Adversary { mode: Mode::Random(attack), delay_max: Span::from_millis(300) },
        liveness: Some(LivenessCheck { from: heal, bound: Span::from_millis(8_000) }),
        // Transfers a user loses across the partition would hold every later transfer of
        // their source for ever (nonce order): clients resend, as the example's do.
        client_retry: Some(Span::from_millis(2_000)),
        ..Case::default()
    }
}

fn violation(r: &RunResult) -> Option<&'static str> {
    match &r.stop {
        Stop::Violation(v) => Some(v.invariant),
        _ => None,
    }
}

#[test]
fn the_attacks_example_keeps_safety_and_liveness_without_a_planted_bug() {
    for seed in 1..=3 {
        let r = run(attacks(seed, None));
        assert_eq!(r.stop, Stop::End, "seed {seed}: {:?}", r.stop);
        assert_eq!(confirmed(&r), r.txs.len(), "seed {seed}");
    }
}

/// One detecting seed per planted bug (the example detects them in most seeds).
#[test]
fn every_planted_bug_is_caught_in_the_attacks_example() {
    let pinned = [(PlantedBug::TrustAnySync, 1, "liveness"), (PlantedBug::LowThreshold, 1, "agreement")];
    assert_eq!(pinned.len(), PlantedBug::ALL.len(), "a pinned seed per planted bug");
    for (bug, seed, invariant) in pinned {
        let r = run(attacks(seed, Some(bug)));
        assert_eq!(violation(&r), Some(invariant), "{} seed {seed}: {:?}", bug.name(), r.stop);
    }
}

#[test]
fn a_partition_halts_rounds_without_forking_and_they_resume_after_it_heals() {
    let cfg = AlgorandConfig { topology: Topology::Peers, fanout: 6, ..fast_mainnet() };
    let r = run(Case { cfg, partitions: halves(60, 8), secs: 20, ..Case::default() });
    assert_eq!(r.stop, Stop::End, "{:?}", r.stop);
    let during = r.txs.iter().filter(|t| t.committed < Time::from_secs_f64(8.0)).count();
    assert_eq!(during, 0, "neither half holds the thresholds: nothing commits during the partition");
    let late = r.txs.iter().filter(|t| t.submitted > Time::from_secs_f64(10.0));
    assert!(late.clone().all(|t| t.is_confirmed()), "rounds resume after the heal");
}

#[test]
fn thresholds_below_a_majority_fork_under_a_partition_and_the_checker_says_so() {
    // The planted bug: each half of the stake alone reaches every threshold.
    let cfg =
        AlgorandConfig { topology: Topology::Peers, fanout: 6, bug: Some(PlantedBug::LowThreshold), ..fast_mainnet() };
    let r = run(Case { cfg, partitions: halves(60, 8), secs: 10, ..Case::default() });
    let Stop::Violation(v) = &r.stop else { panic!("a planted fork went unnoticed: {:?}", r.stop) };
    assert_eq!(v.invariant, "agreement", "{v:?}");
}

#[test]
fn users_down_for_rounds_catch_up_and_commit_the_same_chain() {
    // A relay and an ordinary user are down from 4 s to 12 s (about three rounds).
    let down = |user: u32| {
        [
            FaultAt { at: Time::from_secs_f64(4.0), replica: NodeId(user), action: FaultAction::Crash },
            FaultAt { at: Time::from_secs_f64(12.0), replica: NodeId(user), action: FaultAction::Recover },
        ]
    };
    let faults = [down(3), down(30)].concat();
    let r = run(Case { faults, secs: 25, ..Case::default() });
    assert_eq!(r.stop, Stop::End, "{:?}", r.stop);
    let (reference, rounds) = (counter(&r, 10, "txs_committed"), counter(&r, 10, "rounds"));
    for user in [3, 30] {
        assert!(counter(&r, user, "syncs") >= 1, "user {user} never asked to catch up");
        assert!(counter(&r, user, "rounds_synced") >= 2, "user {user} learned too few rounds");
        // It commits the whole chain (the log checker saw every commit agree).
        assert_eq!(counter(&r, user, "txs_committed"), reference, "user {user} behind at the end");
        let decided = counter(&r, user, "rounds") + counter(&r, user, "rounds_synced");
        assert!(decided + 1 >= rounds, "user {user}: {decided} rounds against {rounds}");
    }
    assert_eq!(confirmed(&r), r.txs.len(), "every transaction confirmed");
}

/// Gossip batches carry priorities, blocks, votes and transactions, counted as items besides
/// the batches: a batch's bytes are its 16-byte header plus its items', so on the wire
/// (sent, and received) gossip bytes = 16 x batches + the items' bytes, exactly.
#[test]
fn message_counts_per_kind() {
    let r = run(Case { secs: 5, ..Case::default() });
    kinds::assert_kinds_add_up(&r);
    let totals = kinds::totals(&r);
    let gossip = kinds::of(&totals, "gossip");
    let items: Vec<_> = ["priority", "block", "vote", "tx"].iter().map(|name| kinds::of(&totals, name)).collect();
    assert!(items.iter().all(|i| i.msgs_sent > 0 && i.msgs_recv > 0), "{items:?}");
    let item_bytes_sent: u64 = items.iter().map(|i| i.bytes_sent).sum();
    let item_bytes_recv: u64 = items.iter().map(|i| i.bytes_recv).sum();
    assert_eq!(gossip.bytes_sent, 16 * gossip.msgs_sent + item_bytes_sent);
    assert_eq!(gossip.bytes_recv, 16 * gossip.msgs_recv + item_bytes_recv);
}

/// One user in 100 (1% of the stake) tells its neighbours, every round and unasked, that the
/// round decided the empty block. Issue 11, item 10: users took it as their own decision and
/// moved onto a chain nobody voted on (a relay as the liar: nothing commits; an ordinary user:
/// its relays stall).
#[test]
fn a_fake_catch_up_from_one_user_does_not_move_anyone_off_the_certified_chain() {
    for liar in [3, 50] {
        let mut behaviors = vec![Behavior::Correct; 100];
        behaviors[liar] = Behavior::FakeSync;
        let cfg = AlgorandConfig::mainnet();
        let r = run(Case { users: 100, cfg, rate_tps: 50, secs: 30, drain_s: 15, behaviors, ..Case::default() });
        assert_eq!(r.stop, Stop::End, "liar {liar}: {:?}", r.stop);
        assert_eq!(confirmed(&r), r.txs.len(), "liar {liar}: confirmed of {} transactions", r.txs.len());
        let behind: Vec<usize> =
            (0..100).filter(|&u| u != liar && counter(&r, u, "txs_committed") != r.txs.len() as u64).collect();
        assert!(behind.is_empty(), "liar {liar}: correct users {behind:?} did not commit everything");
        let refused: u64 = (0..100).map(|u| counter(&r, u, "syncs_refused")).sum();
        assert!(refused > 0, "liar {liar}: no fake catch-up reached a correct user");
    }
}

/// Fork recovery: with the planted bug that takes any catch-up reply extending the chain (what
/// users did before issue 11), the liar's relays adopt its empty rounds. Once it stops lying (it
/// crashes at 8 s) they learn the certified chain through catch-up, drop the rounds they decided
/// otherwise, and commit everything. (A liar that is a relay splits the users so that no chain
/// is certified at all; the minimal recovery cannot help there, see the module docs.)
#[test]
fn users_that_adopted_a_false_round_switch_back_to_the_certified_chain() {
    let liar = 50;
    let mut behaviors = vec![Behavior::Correct; 100];
    behaviors[liar as usize] = Behavior::FakeSync;
    let cfg = AlgorandConfig { bug: Some(PlantedBug::TrustAnySync), ..AlgorandConfig::mainnet() };
    let faults = vec![FaultAt { at: Time::from_secs_f64(8.0), replica: NodeId(liar), action: FaultAction::Crash }];
    let r = run(Case { users: 100, cfg, rate_tps: 50, secs: 30, drain_s: 15, behaviors, faults, ..Case::default() });
    assert_eq!(r.stop, Stop::End, "{:?}", r.stop);
    let behind: Vec<usize> =
        (0..100).filter(|&u| u != liar as usize && counter(&r, u, "txs_committed") != r.txs.len() as u64).collect();
    assert!(behind.is_empty(), "users {behind:?} stayed off the certified chain");
    let recovered = (0..100).filter(|&u| counter(&r, u, "forks_recovered") > 0).count();
    assert!(recovered > 0, "the planted bug let nobody adopt the liar's rounds");
    assert_eq!(confirmed(&r), r.txs.len());
}

/// Users down for rounds ask a relay to catch up; half the relays lie (they answer with an
/// empty round and only their own votes as its certificate). The certificate check refuses the
/// lies: nobody ever decides a round it must later drop, and everyone commits everything.
#[test]
fn catch_up_answers_without_a_certificate_are_refused() {
    // Relays 0, 1 and 2 of the six lie (5% of the stake).
    let behaviors: Vec<Behavior> =
        (0..60).map(|u| if u < 3 { Behavior::FakeSync } else { Behavior::Correct }).collect();
    let down = |user: u32| {
        [
            FaultAt { at: Time::from_secs_f64(4.0), replica: NodeId(user), action: FaultAction::Crash },
            FaultAt { at: Time::from_secs_f64(12.0), replica: NodeId(user), action: FaultAction::Recover },
        ]
    };
    let faults = (30..40).flat_map(down).collect();
    let r = run(Case { behaviors, faults, secs: 25, ..Case::default() });
    assert_eq!(r.stop, Stop::End, "{:?}", r.stop);
    let synced: u64 = (30..40).map(|u| counter(&r, u, "rounds_synced")).sum();
    assert!(synced >= 10 * 2, "the users down caught up only {synced} rounds in all");
    for u in 3..60 {
        assert_eq!(counter(&r, u, "forks_recovered"), 0, "user {u} adopted a round it had to drop");
        assert_eq!(counter(&r, u, "txs_committed"), r.txs.len() as u64, "user {u} behind");
    }
}
