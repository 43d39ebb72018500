//! Chained HotStuff's lock (issue 11, bug 1): a replica locks by view, not by height. The
//! issue's attack replayed exactly (one scripted Byzantine leader, a scripted network
//! adversary that only holds messages), and a planted "vote ignoring the lock" that the safety
//! checker catches under the random adversary.

mod common;

use std::collections::BTreeMap;
use std::rc::Rc;

use common::Steady;
use protocols::hotstuff::{
    Behavior, Block, BlockId, CommitRule, HotStuff, HotStuffConfig, HsMsg, Phase, PlantedBug, Qc, Script, Tc, View,
    Wire, complain_digest,
};
use sim_core::adversary::{Action, Mode, RandomAttack, Rule};
use sim_core::net::{DelayModel, Jitter, NetConfig, NodePlacement};
use sim_core::{
    Adversary, Ctx, Message, NodeId, RunResult, SendPolicy, Signature, SimConfig, Simulation, Span, Stop, Time,
};

const N: u32 = 4;
const WIRE: Wire = Wire { n: N, list_certificates: false };
const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);
const C: NodeId = NodeId(2);
const D: NodeId = NodeId(3);

fn kind(name: &str) -> usize {
    HsMsg::KINDS.iter().position(|k| *k == name).expect("a HotStuff kind")
}

struct Run {
    seed: u64,
    rule: CommitRule,
    adversary: Adversary,
    rate_tps: u64,
    secs: u64,
    /// Per replica; empty: all correct.
    behaviors: Vec<Behavior>,
    bug: Option<PlantedBug>,
    /// Replica 3 (D) is played by this script.
    script: Option<Script>,
}

fn run(r: Run) -> RunResult {
    let clients = 2;
    let place = NodePlacement { region: 0, uplink_bps: 0, downlink_bps: 0 };
    let mut behaviors = r.behaviors;
    behaviors.resize(N as usize, Behavior::Correct);
    let scripted = r.script.is_some();
    let cfg = SimConfig {
        seed: r.seed,
        n_replicas: N,
        f: 1,
        net: NetConfig {
            nodes: vec![place; (N + clients) as usize],
            n_replicas: N,
            delay: DelayModel::Uniform(Span::from_millis(10)),
            jitter: Jitter::None,
            loss_ppb: 0,
            fifo: true,
            partitions: vec![],
            spikes: vec![],
        },
        send_to: SendPolicy::All,
        faults: vec![],
        end: Time::from_secs_f64(r.secs as f64),
        limits: sim_core::Limits::DEFAULT,
        correct: (0..N as usize).map(|i| behaviors[i] == Behavior::Correct && !(scripted && i == D.idx())).collect(),
        cpu: sim_core::CpuConfig::UNLIMITED,
        crypto: Default::default(),
        liveness: None,
        client_retry: None,
        clients: sim_core::ClientModel::OPEN,
        adversary: r.adversary,
    };
    let until = if r.rate_tps == 0 { 0 } else { r.secs * 1_000_000_000 };
    let gap_ns = 1_000_000_000 / r.rate_tps.max(1);
    let workload = Steady { gap_ns, next: 0, until, clients, count: 0 };
    let hs = HotStuffConfig {
        batch_size: 100,
        view_timeout: Span::from_millis(500),
        backoff_permille: 1000,
        max_timeout: Span::from_millis(10_000),
        list_certificates: false,
        commit_rule: r.rule,
        leader: Default::default(),
        leader_order: Vec::new(),
        mempool: None,
        twins: None,
        bug: r.bug,
    };
    let mut script = r.script;
    Simulation::new(cfg, Box::new(workload), |id| {
        let mut replica = HotStuff::with_behavior(hs.clone(), behaviors[id.idx()], &behaviors);
        if id == D {
            replica.script = script.take();
        }
        replica
    })
    .run()
}

/// What the Byzantine leader D (of views 3 and 7) has seen: blocks, and the signatures of
/// votes and complaints (from votes sent to it and the last votes complaints carry).
#[derive(Default)]
struct Spy {
    blocks: BTreeMap<BlockId, Rc<Block>>,
    votes: BTreeMap<(View, BlockId), Vec<Signature>>,
    complaints: BTreeMap<View, Vec<Signature>>,
    step: u8,
}

impl Spy {
    fn note(&mut self, msg: &HsMsg) {
        let mut vote = |view, block, sig: Signature| {
            let sigs = self.votes.entry((view, block)).or_default();
            if sigs.iter().all(|s| s.signer() != sig.signer()) {
                sigs.push(sig);
            }
        };
        match msg {
            HsMsg::Propose { block, .. } => {
                self.blocks.insert(block.id, Rc::clone(block));
            }
            HsMsg::Vote { phase: Phase::Prepare, view, block, sig } => vote(*view, *block, *sig),
            HsMsg::Complain { view, sig, last_vote, .. } => {
                if let Some((v, b, s)) = last_vote {
                    vote(*v, *b, *s);
                }
                self.complaints.entry(*view).or_default().push(*sig);
            }
            _ => {}
        }
    }

    /// A QC for the block that has n-f votes in `view`, if any.
    fn qc_of_view(&self, ctx: &mut Ctx<'_, HotStuff>, view: View) -> Option<(Rc<Block>, Qc)> {
        let (&(_, id), sigs) =
            self.votes.iter().find(|((v, id), s)| *v == view && s.len() >= 3 && self.blocks.contains_key(id))?;
        let sig = ctx.aggregate(&sigs[..3]).expect("votes on one digest");
        Some((Rc::clone(&self.blocks[&id]), Qc { view, block: id, sig: Rc::new(sig) }))
    }

    fn block_of_view(&self, view: View) -> Rc<Block> {
        Rc::clone(self.blocks.values().find(|b| b.view == view).expect("a block of that view"))
    }
}

fn propose(ctx: &mut Ctx<'_, HotStuff>, block: &Rc<Block>, to: &[NodeId]) {
    for &node in to {
        ctx.send(node, HsMsg::Propose { block: Rc::clone(block), wire: WIRE });
    }
}

fn vote(ctx: &mut Ctx<'_, HotStuff>, block: &Block, leader_of_next: NodeId) {
    let sig = ctx.sign(Phase::Prepare.vote_digest(block.view, block.id));
    ctx.send(leader_of_next, HsMsg::Vote { phase: Phase::Prepare, view: block.view, block: block.id, sig });
}

/// The Byzantine leader. View 3: y0 (a child of genesis) to A and B, and z (a child
/// of C's x' under QC(x')) to A and C; it votes y0. View 7, once A and B gave up on view 6: a
/// timeout certificate for view 6 to everyone, y3 (on y2, under the QC(y2) it assembled from
/// the last votes the complaints carry) to B, and xa (a child of x under QC(x)) to A and C;
/// it votes xa.
fn lock_breaker() -> Script {
    let mut spy = Spy::default();
    Box::new(move |ctx: &mut Ctx<'_, HotStuff>, _from: NodeId, msg: HsMsg| {
        spy.note(&msg);
        if spy.step == 0 {
            let Some((x_prime, qc_x_prime)) = spy.qc_of_view(ctx, View(2)) else { return };
            let genesis = Block::genesis();
            let y0 = Rc::new(Block::new(&genesis, View(3), Qc::genesis(), D, vec![], 0));
            let z = Rc::new(Block::new(&x_prime, View(3), qc_x_prime, D, vec![], 1));
            propose(ctx, &y0, &[A, B]);
            propose(ctx, &z, &[A, C]);
            vote(ctx, &y0, A);
            spy.step = 1;
        } else if spy.step == 1 && spy.complaints.get(&View(6)).is_some_and(|c| c.len() >= 2) {
            let Some((y2, qc_y2)) = spy.qc_of_view(ctx, View(5)) else { return };
            let mut sigs = spy.complaints[&View(6)].clone();
            sigs.push(ctx.sign(complain_digest(View(6))));
            let tc = Tc { view: View(6), sig: Rc::new(ctx.aggregate(&sigs).expect("complaints on one digest")) };
            for node in [A, B, C] {
                ctx.send(node, HsMsg::NextView { tc: tc.clone(), qc_high: Qc::genesis(), wire: WIRE });
            }
            let x = spy.block_of_view(View(1));
            let qc_x = spy.block_of_view(View(2)).justify.clone();
            let y3 = Rc::new(Block::new(&y2, View(7), qc_y2, D, vec![], 0));
            let xa = Rc::new(Block::new(&x, View(7), qc_x, D, vec![], 1));
            propose(ctx, &y3, &[B]);
            propose(ctx, &xa, &[A, C]);
            vote(ctx, &xa, A);
            spy.step = 2;
        }
    })
}

/// The network's part: C never hears the votes for y2 (view 5, C leads view 6) nor A's and
/// B's complaints about views 5 and 6 before the attack is over (their answers to C's
/// complaints about view 5 carry QC(y2)), so C neither certifies y2 nor sees a block or a
/// complaint carrying QC(y2). Both are holds within the 2 s synchrony bound.
fn hold_from_c() -> Adversary {
    let until = Action::HoldUntil(Time::from_secs_f64(2.0));
    let rules = vec![
        Rule::any(until).kind(kind("vote")).to(C).views(5, 5),
        Rule::any(until).kind(kind("complaint")).to(C).views(5, 6),
    ];
    Adversary::scripted(rules, Span::from_millis(2_000))
}

fn lock_attack(rule: CommitRule) -> RunResult {
    run(Run {
        seed: 1,
        rule,
        adversary: hold_from_c(),
        rate_tps: 0,
        secs: 4,
        behaviors: vec![],
        bug: None,
        script: Some(lock_breaker()),
    })
}

/// Issue 11, bug 1. With locks by height, A and C stay locked on x (height 1, view 1) after
/// voting for y2, whose grandparent y0 has the same height and a higher view; they then vote
/// for xa, which extends x, and commit x at slot 1 where B committed y0. With locks by view
/// they move to y0 and refuse xa.
#[test]
fn a_higher_view_branch_of_equal_height_moves_the_lock() {
    let r = lock_attack(CommitRule::ThreeChain);
    assert_eq!(r.stop, Stop::End, "the lock attack broke safety");
    let committed_slots = |node: usize| r.nodes[node].counters.iter().find(|c| c.0 == "blocks_committed").unwrap().1;
    assert!(committed_slots(A.idx()) > 3, "the correct replicas recover and commit after the attack");
}

/// The random adversary on the messages that matter: half of them delayed by up to 1 s (twice
/// the view timeout), 5% dropped.
fn random_adversary() -> Adversary {
    let mask = HsMsg::CRITICAL_KINDS.iter().fold(0u64, |m, &k| m | sim_core::adversary::kind_bit(k));
    let attack = RandomAttack { targets_mask: mask, delay_ppb: 500_000_000, drop_ppb: 50_000_000 };
    Adversary { mode: Mode::Random(attack), delay_max: Span::from_millis(1_000) }
}

/// The planted bug reopens the scripted attack even with locks by view.
#[test]
fn planted_vote_ignoring_the_lock_is_caught_by_the_scripted_attack() {
    let planted = |rule| Run {
        seed: 1,
        rule,
        adversary: hold_from_c(),
        rate_tps: 0,
        secs: 4,
        behaviors: vec![],
        bug: Some(PlantedBug::VoteIgnoringLock),
        script: Some(lock_breaker()),
    };
    let Stop::Violation(v) = run(planted(CommitRule::ThreeChain)).stop else { panic!("planted bug not caught") };
    assert_eq!(v.invariant, "agreement");
}

/// Without a script: a forking Byzantine replica and the random adversary find the planted
/// bug (pinned seed; two-chain commits sooner, so a broken lock shows sooner), and the same
/// runs without the bug are safe.
#[test]
fn planted_vote_ignoring_the_lock_is_caught_by_the_random_adversary() {
    let case = |seed, vote_ignoring_lock: bool| Run {
        seed,
        rule: CommitRule::TwoChain,
        adversary: random_adversary(),
        rate_tps: 200,
        secs: 5,
        behaviors: vec![Behavior::Correct, Behavior::Correct, Behavior::Correct, Behavior::Fork],
        bug: vote_ignoring_lock.then_some(PlantedBug::VoteIgnoringLock),
        script: None,
    };
    let Stop::Violation(v) = run(case(408, true)).stop else { panic!("seed 408 no longer catches the planted bug") };
    assert_eq!(v.invariant, "agreement");
    assert_eq!(run(case(408, false)).stop, Stop::End);
}
