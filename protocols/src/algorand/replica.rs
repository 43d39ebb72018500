//! One Algorand user: the proposal step, BA* (reduction, BinaryBA*, FINAL) as an event-driven
//! state machine, the gossip relay with batching, block fetching, certified catch-up with fork
//! recovery, and the commit of final rounds. Every handler is small; `step_done` holds the BA* rules of the paper's Algorithm 8.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use sim_core::bitset::BitSet;
use sim_core::digest::hash_words;
use sim_core::{Ctx, NodeId, Note, Protocol, Span, Time, Tx, TxId};

use super::config::{AlgorandConfig, Behavior, Committee, PlantedBug};
use super::pool::{Pool, TxWindow};
use super::sortition::{Credential, Role, Roster, Seat};
use super::types::{
    Batch, Block, Certificate, ChainEntry, Item, Msg, NO_CUT, Outgoing, Priority, Timer, TxBatch, Vote, VoteHead,
    empty_block_id, next_seed,
};
use super::world::World;
use crate::common::log_ledger::LogLedger;
use crate::common::results::Settled;
use crate::ledger::GENESIS_BALANCE;

/// Items buffered for the next round, at most (enough for a step's committee; a bound on what
/// a user ahead, or an adversary, can make another one hold).
const FUTURE_ITEMS_MAX: usize = 16_384;
/// The source of a replayed item: relayed to every link.
const NO_SOURCE: u32 = u32::MAX;
/// Decided rounds kept to answer fetches and catch-up requests after the round moved on.
const HISTORY_ROUNDS: usize = 64;

/// Where the current round is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Collecting priorities until `PriorityWait`.
    Proposal,
    /// Waiting for the best block (or `BlockWait`).
    WaitBlock,
    ReductionOne,
    ReductionTwo,
    Binary {
        step: u32,
        block_hash: u64,
    },
    /// Decided a block it does not hold yet: fetching it.
    AwaitBlock {
        id: u64,
    },
    /// BinaryBA* returned `id`; with `final_wait`, counting the round's FINAL votes until
    /// their threshold or `FinalWait` (SOSP 2017, Algorithm 3) before the round ends.
    AwaitFinal {
        id: u64,
    },
    /// BinaryBA* ran out of steps: the paper's HangForever.
    Hung,
}

/// Weighted votes of one (round, step).
#[derive(Debug)]
struct Tally {
    /// The step's committee: who may vote, each with its number.
    roster: Rc<Roster>,
    /// Bit r: the member numbered r was counted. Sized to the committee once, not grown.
    voters: Box<[u64]>,
    /// How many were counted.
    counted: u32,
    /// (value, weight), few entries.
    weights: Vec<(u64, u64)>,
    /// Least credential hash seen: the common coin's input.
    coin: u64,
    /// The votes that may certify the round (see `Algorand::keep_for_cert`), shared with the
    /// gossip that brought them.
    votes: Vec<Rc<Vote>>,
}

impl Tally {
    fn new(roster: Rc<Roster>) -> Tally {
        let voters = vec![0; roster.members().div_ceil(64) as usize].into_boxed_slice();
        Tally { roster, voters, counted: 0, weights: Vec::new(), coin: 0, votes: Vec::new() }
    }

    /// Whether `user` was counted.
    fn has(&self, user: u32) -> bool {
        self.roster.rank(user).is_some_and(|r| self.voters[r as usize / 64] & (1 << (r % 64)) != 0)
    }

    /// Counts `user` in; false if it was already. Only a member's vote is counted (its
    /// credential verified under the round's seed, or it is this user's own).
    fn insert(&mut self, user: u32) -> bool {
        let r = self.roster.rank(user).expect("a counted voter was drawn into the committee");
        let (word, mask) = (&mut self.voters[r as usize / 64], 1u64 << (r % 64));
        if *word & mask != 0 {
            return false;
        }
        *word |= mask;
        self.counted += 1;
        true
    }

    /// Adds `cred`'s weight to `value`; `coin` steps also keep the least credential hash.
    fn add(&mut self, value: u64, cred: &Credential, coin: bool) -> u64 {
        let slot = match self.weights.iter().position(|&(v, _)| v == value) {
            Some(i) => i,
            None => {
                self.weights.push((value, 0));
                self.weights.len() - 1
            }
        };
        self.weights[slot].1 += cred.weight() as u64;
        if coin {
            let hash = cred.priority();
            if self.counted == 1 || hash < self.coin {
                self.coin = hash;
            }
        }
        self.weights[slot].1
    }

    fn reached(&self, threshold: u64) -> Option<u64> {
        self.weights.iter().find(|&&(_, w)| w >= threshold).map(|&(v, _)| v)
    }
}

/// A round decided and not yet committed (committed once it, or a later round, is final).
#[derive(Debug)]
struct Decided {
    round: u64,
    id: u64,
    /// The parent and seed the round was agreed under (to check late FINAL votes).
    prev: u64,
    seed: u64,
    txs: Rc<[Tx]>,
    /// When its block was proposed (`Time::MAX`: unknown here, or the empty block).
    proposed_at: Time,
}

#[derive(Debug, Default)]
struct Stats {
    rounds: u64,
    empty_rounds: u64,
    final_rounds: u64,
    binary_steps: u64,
    step_timeouts: u64,
    /// Rounds whose FINAL count (`final_wait`) ended on `FinalWait`: tentative.
    final_timeouts: u64,
    hung: u64,
    proposed: u64,
    votes_counted: u64,
    fetches: u64,
    caught_up: u64,
    syncs: u64,
    rounds_synced: u64,
    /// Catch-up replies refused: not asked for, not from the user asked, or not certified.
    syncs_refused: u64,
    /// Catch-up replies that replaced decided rounds of this user's chain.
    forks_recovered: u64,
    txs_committed: u64,
    /// When this user began its current round (ns of virtual time).
    round_started_ns: u64,
}

impl Stats {
    /// The mean time from round 1's start to the current round's start per round between them
    /// (ms; 0 before a second round).
    fn round_mean_ms(&self, round: u64) -> u64 {
        self.round_started_ns.checked_div(round.saturating_sub(1)).map_or(0, |ns| ns / 1_000_000)
    }
}

/// One user.
#[derive(Debug)]
pub struct Algorand {
    world: Rc<World>,
    cfg: Rc<AlgorandConfig>,
    behavior: Behavior,
    me: u32,
    // The chain.
    round: u64,
    prev: u64,
    seed: u64,
    decided: VecDeque<Decided>,
    committed: TxWindow,
    /// The ledger committed rounds run on (its own, or the run's memo: `with_ledger`).
    ledger: LogLedger,
    // The current round.
    phase: Phase,
    /// Best priority seen: (priority, block id).
    best: Option<(u64, u64)>,
    priorities: BTreeSet<(u32, u64)>,
    blocks: BTreeMap<u64, Rc<Block>>,
    tallies: BTreeMap<(u64, u32), Tally>,
    /// Items of the next round, heard before this user got there.
    future: Vec<Item>,
    /// (role, voter) of the votes in `future`: each is kept once.
    future_votes: BTreeSet<(u32, u32)>,
    /// The last decided rounds, for neighbours that fetch a block or fell behind.
    history: VecDeque<ChainEntry>,
    /// The catch-up request out, if any: (asked user, first round asked); cleared by its
    /// answer or `SyncRetry`.
    sync_ask: Option<(u32, u64)>,
    /// The neighbour that relayed a vote of the next round while this user is still in this
    /// one, and whether a step timed out since: a second timeout asks it to catch up.
    ahead: Option<(u32, bool)>,
    /// Neighbours whose answer to a catch-up request did not verify, or never came: not asked
    /// again while another neighbour can be (forgotten once every neighbour is in it).
    sync_avoid: BTreeSet<u32>,
    /// Whether this user keeps certificates (it relays, so others may ask it to catch up).
    keeps_certs: bool,
    /// The certificate of the current round's decision, until the round finishes.
    round_cert: Option<Rc<Certificate>>,
    /// The certificate of the last round in `history`, sent with catch-up replies.
    last_cert: Option<Rc<Certificate>>,
    // Gossip.
    out: Outgoing,
    flush_armed: bool,
    own_txs: Vec<Tx>,
    awaiting: BTreeSet<TxId>,
    pool: Pool,
    fetch_asked: BTreeSet<u64>,
    fetchers: BTreeMap<u64, Vec<u32>>,
    stats: Stats,
}

impl Algorand {
    pub fn new(world: Rc<World>, cfg: Rc<AlgorandConfig>, behavior: Behavior) -> Algorand {
        // The planted bug weakens this user's copy (only in the runs that plant it).
        let cfg = match cfg.bug {
            Some(PlantedBug::LowThreshold) => Rc::new(cfg.with_low_thresholds()),
            _ => cfg,
        };
        Algorand {
            world,
            cfg,
            behavior,
            me: 0,
            round: 0,
            prev: 0,
            seed: 0,
            decided: VecDeque::new(),
            committed: TxWindow::default(),
            ledger: LogLedger::own(GENESIS_BALANCE),
            phase: Phase::Proposal,
            best: None,
            priorities: BTreeSet::new(),
            blocks: BTreeMap::new(),
            tallies: BTreeMap::new(),
            future: Vec::new(),
            future_votes: BTreeSet::new(),
            history: VecDeque::new(),
            sync_ask: None,
            ahead: None,
            sync_avoid: BTreeSet::new(),
            keeps_certs: false,
            round_cert: None,
            last_cert: None,
            out: Outgoing::default(),
            flush_armed: false,
            own_txs: Vec::new(),
            awaiting: BTreeSet::new(),
            pool: Pool::default(),
            fetch_asked: BTreeSet::new(),
            fetchers: BTreeMap::new(),
            stats: Stats::default(),
        }
    }

    /// This user executes committed rounds on `ledger` (at scale, `LogLedger::shared` by every
    /// user of the run: one ledger, not one per user).
    pub fn with_ledger(mut self, ledger: LogLedger) -> Algorand {
        self.ledger = ledger;
        self
    }

    fn silent(&self) -> bool {
        self.behavior == Behavior::Silent
    }

    fn empty(&self) -> u64 {
        empty_block_id(self.round, self.prev)
    }

    fn committee(&self, role: Role) -> Committee {
        match role {
            Role::REDUCTION_ONE | Role::REDUCTION_TWO => self.cfg.reduction,
            Role::FINAL => self.cfg.final_step,
            _ => self.cfg.binary,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Rounds and steps
    // -----------------------------------------------------------------------------------------

    fn start_round(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.note(Note::View { view: self.round });
        self.stats.round_started_ns = ctx.now().as_nanos();
        self.phase = Phase::Proposal;
        self.best = None;
        self.priorities.clear();
        self.blocks.clear();
        let oldest_kept = self.decided.front().map_or(self.round, |d| d.round);
        self.tallies.retain(|&(r, role), _| r >= self.round || (r >= oldest_kept && role == Role::FINAL.0));
        ctx.set_timer(Timer::PriorityWait, self.cfg.priority_wait);
        if self.behavior == Behavior::FakeSync {
            self.send_fake_sync(ctx);
        }
        self.propose(ctx);
        self.future_votes.clear();
        self.ahead = None;
        for item in std::mem::take(&mut self.future) {
            self.on_item(ctx, &item, NO_SOURCE);
        }
    }

    fn propose(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.charge(self.cfg.vrf_verify);
        let Some(seat) = Seat::draw(&self.world, self.me, self.round, self.seed, Role::PROPOSE, self.cfg.proposers)
        else {
            return;
        };
        let cred = seat.credential();
        let room = self.cfg.block_max_bytes.saturating_sub(self.cfg.block_header_bytes);
        let txs: Rc<[Tx]> = self.pool.take(self.world.shelf(), self.me, room).into();
        let block = Block::new(self.round, self.prev, cred, txs.clone(), self.cfg.block_header_bytes, 0);
        let block = Rc::new(block.stamped(ctx.now()));
        self.stats.proposed += 1;
        self.best = Some((cred.priority(), block.id));
        self.blocks.insert(block.id, Rc::clone(&block));
        if self.behavior == Behavior::Equivocate {
            ctx.note(Note::Byzantine { action: "equivocate", about: self.round });
            // A second block, same credential, other content: half the links get each.
            let other = Block::new(self.round, self.prev, cred, txs, self.cfg.block_header_bytes, 1);
            let other = Rc::new(other.stamped(ctx.now()));
            let a = vec![Item::priority(cred, self.prev, block.id), Item::Block(block)];
            let b = vec![Item::priority(cred, self.prev, other.id), Item::Block(other)];
            self.send_split(ctx, a, b);
            return;
        }
        self.push_own(ctx, Item::priority(cred, self.prev, block.id));
        self.push_own(ctx, Item::Block(block));
    }

    fn on_priority_wait(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.phase != Phase::Proposal {
            return;
        }
        match self.best {
            Some((_, id)) if self.blocks.contains_key(&id) => self.enter_reduction(ctx, id),
            _ => {
                self.phase = Phase::WaitBlock;
                ctx.set_timer(Timer::BlockWait, self.cfg.block_wait);
            }
        }
    }

    fn on_block_wait(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.phase == Phase::WaitBlock {
            let value = match self.best {
                Some((_, id)) if self.blocks.contains_key(&id) => id,
                _ => self.empty(),
            };
            self.enter_reduction(ctx, value);
        }
    }

    fn enter_reduction(&mut self, ctx: &mut Ctx<'_, Self>, value: u64) {
        self.phase = Phase::ReductionOne;
        self.enter_step(ctx, Role::REDUCTION_ONE, value);
    }

    /// Votes `value` in `role` (if selected), arms the step's timeout, and checks at once
    /// whether votes that came early already complete it.
    fn enter_step(&mut self, ctx: &mut Ctx<'_, Self>, role: Role, value: u64) {
        ctx.note(Note::Step { round: self.round, step: role.0 });
        self.vote(ctx, role, value);
        ctx.set_timer(Timer::StepTimeout, self.cfg.step_timeout);
        self.check_step(ctx);
    }

    fn current_role(&self) -> Option<Role> {
        match self.phase {
            Phase::ReductionOne => Some(Role::REDUCTION_ONE),
            Phase::ReductionTwo => Some(Role::REDUCTION_TWO),
            Phase::Binary { step, .. } => Some(Role::binary(step)),
            _ => None,
        }
    }

    fn check_step(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(role) = self.current_role() else { return };
        let threshold = self.committee(role).threshold;
        if let Some(value) = self.tallies.get(&(self.round, role.0)).and_then(|t| t.reached(threshold)) {
            self.step_done(ctx, Some(value));
        }
    }

    fn on_step_timeout(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.current_role().is_some() {
            self.stats.step_timeouts += 1;
            self.check_ahead(ctx);
            self.step_done(ctx, None);
        }
    }

    /// The rules of Reduction and BinaryBA* (SOSP 2017, Algorithms 7 and 8) for a step that
    /// reached `result` (`None`: it timed out).
    fn step_done(&mut self, ctx: &mut Ctx<'_, Self>, result: Option<u64>) {
        let empty = self.empty();
        match self.phase {
            Phase::ReductionOne => {
                self.phase = Phase::ReductionTwo;
                self.enter_step(ctx, Role::REDUCTION_TWO, result.unwrap_or(empty));
            }
            Phase::ReductionTwo => {
                let block_hash = result.unwrap_or(empty);
                self.phase = Phase::Binary { step: 1, block_hash };
                self.stats.binary_steps += 1;
                self.enter_step(ctx, Role::binary(1), block_hash);
            }
            Phase::Binary { step, block_hash } => {
                let next = match (step % 3, result) {
                    (1, None) => block_hash,
                    (1, Some(v)) if v != empty => return self.binary_returns(ctx, step, v),
                    (2, None) => empty,
                    (2, Some(v)) if v == empty => return self.binary_returns(ctx, step, v),
                    (0, None) => {
                        let coin = self.tallies.get(&(self.round, Role::binary(step).0)).map_or(0, |t| t.coin & 1);
                        if coin == 0 { block_hash } else { empty }
                    }
                    (_, Some(v)) => v,
                    _ => unreachable!("step % 3 is 0, 1 or 2"),
                };
                if step + 1 > self.cfg.max_steps {
                    self.phase = Phase::Hung;
                    self.stats.hung += 1;
                    ctx.cancel_timer(Timer::StepTimeout);
                    return;
                }
                self.phase = Phase::Binary { step: step + 1, block_hash };
                self.stats.binary_steps += 1;
                self.enter_step(ctx, Role::binary(step + 1), next);
            }
            phase => unreachable!("no step is being counted in {phase:?}"),
        }
    }

    /// BinaryBA* returns `value` at `step`: vote it in the next three steps for the users
    /// behind, and in FINAL if it was the first step.
    fn binary_returns(&mut self, ctx: &mut Ctx<'_, Self>, step: u32, value: u64) {
        // No step is counted any more: the votes below cannot decide the round twice.
        self.phase = Phase::AwaitBlock { id: value };
        for s in step + 1..=step + 3 {
            self.vote(ctx, Role::binary(s), value);
        }
        if step == 1 {
            self.vote(ctx, Role::FINAL, value);
        }
        ctx.cancel_timer(Timer::StepTimeout);
        self.round_cert = self.certificate(step, value);
        if self.cfg.final_wait {
            self.phase = Phase::AwaitFinal { id: value };
            ctx.set_timer(Timer::FinalWait, self.cfg.step_timeout);
            return self.check_final_wait(ctx);
        }
        self.decide(ctx, value);
    }

    /// With `final_wait`: the round's FINAL votes reached their threshold on the decided
    /// value, so BA* returns (final).
    fn check_final_wait(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Phase::AwaitFinal { id } = self.phase else { return };
        if self.final_reached(self.round) == Some(id) {
            self.end_final_wait(ctx);
        }
    }

    /// BA* returns: final if the FINAL threshold came, tentative on `FinalWait`; either way the
    /// round ends once its block is held.
    fn end_final_wait(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Phase::AwaitFinal { id } = self.phase else { return };
        ctx.cancel_timer(Timer::FinalWait);
        self.phase = Phase::AwaitBlock { id };
        self.decide(ctx, id);
    }

    fn on_final_wait(&mut self, ctx: &mut Ctx<'_, Self>) {
        if matches!(self.phase, Phase::AwaitFinal { .. }) {
            self.stats.final_timeouts += 1;
            self.end_final_wait(ctx);
        }
    }

    /// Whether BinaryBA* returned in the current round (the round is decided, not yet ended).
    fn decided_here(&self) -> bool {
        matches!(self.phase, Phase::AwaitBlock { .. } | Phase::AwaitFinal { .. })
    }

    /// The votes of binary step `step` of the current round for `value`, as far as they reach
    /// the step's threshold (`None` if this user keeps no certificates). They move out of the
    /// tally: the round is decided, it needs them no more.
    fn certificate(&mut self, step: u32, value: u64) -> Option<Rc<Certificate>> {
        if !self.keeps_certs {
            return None;
        }
        let role = Role::binary(step);
        let tally = self.tallies.get_mut(&(self.round, role.0))?;
        let (threshold, mut weight) = (self.cfg.binary.threshold, 0u64);
        let mut votes = Vec::new();
        for vote in std::mem::take(&mut tally.votes).into_iter().filter(|v| v.value() == value) {
            if weight >= threshold {
                break;
            }
            weight += vote.cred().weight() as u64;
            votes.push(vote);
        }
        assert!(weight >= threshold, "BinaryBA* returns only on a threshold of votes");
        Some(Rc::new(Certificate::new(self.round, role, self.prev, value, votes, self.cfg.vote_bytes)))
    }

    fn decide(&mut self, ctx: &mut Ctx<'_, Self>, value: u64) {
        if value == self.empty() {
            return self.finish_round(ctx, value, Rc::from(Vec::new()));
        }
        match self.blocks.get(&value) {
            Some(block) => {
                let txs = Rc::clone(&block.txs);
                self.finish_round(ctx, value, txs);
            }
            None => {
                self.phase = Phase::AwaitBlock { id: value };
                self.fetch(ctx, value);
            }
        }
    }

    fn finish_round(&mut self, ctx: &mut Ctx<'_, Self>, id: u64, txs: Rc<[Tx]>) {
        self.stats.rounds += 1;
        if txs.is_empty() && id == self.empty() {
            self.stats.empty_rounds += 1;
        }
        let (round, block) = (self.round, self.blocks.get(&id).cloned());
        self.remember(ChainEntry { round, prev: self.prev, id, block });
        self.last_cert = self.round_cert.take();
        self.adopt(id, txs);
        self.check_final(ctx, round);
        self.start_round(ctx);
    }

    fn remember(&mut self, entry: ChainEntry) {
        self.history.push_back(entry);
        if self.history.len() > HISTORY_ROUNDS {
            self.history.pop_front();
        }
    }

    /// Appends the decided block `id` of the current round to the chain (committed once it, or
    /// a later round, is final) and moves to the next round's parent and seed.
    fn adopt(&mut self, id: u64, txs: Rc<[Tx]>) {
        for tx in txs.iter() {
            self.pool.chained.insert(tx.id);
        }
        self.pool.prune(self.world.shelf(), self.me);
        let round = self.round;
        let proposed_at = self.blocks.get(&id).map_or(Time::MAX, |b| b.proposed_at);
        self.decided.push_back(Decided { round, id, prev: self.prev, seed: self.seed, txs, proposed_at });
        self.seed = next_seed(self.seed, round, id);
        self.prev = id;
        self.round += 1;
    }

    /// The value `round`'s FINAL votes reached their threshold on, if any.
    fn final_reached(&self, round: u64) -> Option<u64> {
        self.tallies.get(&(round, Role::FINAL.0)).and_then(|t| t.reached(self.cfg.final_step.threshold))
    }

    /// Commits every decided round up to `round` if `round` reached its FINAL threshold.
    fn check_final(&mut self, ctx: &mut Ctx<'_, Self>, round: u64) {
        let Some(d) = self.decided.iter().find(|d| d.round == round) else { return };
        if self.final_reached(round) != Some(d.id) {
            return;
        }
        self.stats.final_rounds += 1;
        while self.decided.front().is_some_and(|d| d.round <= round) {
            let d = self.decided.pop_front().expect("checked");
            self.commit(ctx, &d);
        }
    }

    fn commit(&mut self, ctx: &mut Ctx<'_, Self>, d: &Decided) {
        let fresh: Vec<Tx> = d.txs.iter().copied().filter(|tx| self.committed.insert(tx.id)).collect();
        ctx.commit(d.round, d.id, &fresh);
        if d.proposed_at != Time::MAX {
            ctx.proposal_committed(d.proposed_at, &fresh);
        }
        self.stats.txs_committed += fresh.len() as u64;
        let awaiting = &mut self.awaiting;
        self.ledger.execute(&fresh, |tx, settlement| {
            ctx.record(Settled { tx: *tx, settlement });
            ctx.executed(tx);
            if awaiting.remove(&tx.id) {
                ctx.reply(tx, settlement.outcome.code());
            }
        });
    }

    // -----------------------------------------------------------------------------------------
    // Votes
    // -----------------------------------------------------------------------------------------

    fn vote(&mut self, ctx: &mut Ctx<'_, Self>, role: Role, value: u64) {
        if self.silent() {
            return;
        }
        ctx.charge(self.cfg.vrf_verify);
        let expected = self.committee(role).expected;
        let Some(seat) = Seat::draw(&self.world, self.me, self.round, self.seed, role, expected) else {
            return;
        };
        let vote = Vote::sign(&seat, self.prev, value);
        match self.behavior {
            Behavior::Equivocate => {
                ctx.note(Note::Byzantine { action: "equivocate", about: self.round });
                let other_value = self.empty() ^ u64::from(value == self.empty());
                let other = Vote::sign(&seat, self.prev, other_value);
                self.count(ctx, Rc::clone(&vote));
                self.send_split(ctx, vec![Item::vote(vote)], vec![Item::vote(other)]);
            }
            Behavior::DoubleVote => {
                ctx.note(Note::Byzantine { action: "double_vote", about: self.round });
                let other_value = if value == self.empty() { value ^ 1 } else { self.empty() };
                let other = Vote::sign(&seat, self.prev, other_value);
                self.count(ctx, Rc::clone(&vote));
                self.push_own(ctx, Item::vote(vote));
                self.push_own(ctx, Item::vote(other));
            }
            Behavior::Correct | Behavior::Silent | Behavior::FakeSync => {
                self.count(ctx, Rc::clone(&vote));
                self.push_own(ctx, Item::vote(vote));
            }
        }
    }

    /// Adds a vote this user cast or verified to its tally; false if the voter was counted
    /// already in that step.
    fn count(&mut self, ctx: &mut Ctx<'_, Self>, vote: Rc<Vote>) -> bool {
        let (round, role, value) = (vote.cred().round(), vote.role(), vote.value());
        let keep = self.keep_for_cert(round, role, value);
        let key = (round, role.0);
        if !self.tallies.contains_key(&key) {
            let (_, seed) = self.context_of(round).expect("a vote counted is of a round with a known seed");
            let roster = self.world.roster(round, seed, role, self.committee(role).expected);
            self.tallies.insert(key, Tally::new(roster));
        }
        let tally = self.tallies.get_mut(&key).expect("a tally for every vote counted");
        if !tally.insert(vote.cred().user()) {
            return false;
        }
        let coin_step = role.binary_step().is_some_and(|s| s % 3 == 0);
        let weight = tally.add(value, vote.cred(), coin_step);
        // A certificate needs votes up to the threshold only: later ones for the value are not kept.
        if keep && weight - (vote.cred().weight() as u64) < self.cfg.binary.threshold {
            tally.votes.push(vote);
        }
        self.stats.votes_counted += 1;
        if role == Role::FINAL {
            self.check_final(ctx, round);
            if round == self.round {
                self.check_final_wait(ctx);
            }
        } else if round == self.round && self.is_return_certificate(role, value, weight) {
            // Enough of the committee saw BinaryBA* return here: a user behind follows them.
            self.stats.caught_up += u64::from(Some(role) != self.current_role());
            let step = role.binary_step().expect("a certificate is of a binary step");
            self.binary_returns(ctx, step, value);
        } else if round == self.round && Some(role) == self.current_role() {
            self.check_step(ctx);
        }
        true
    }

    /// Whether a vote for `value` in `role` of `round` may end up in a certificate of this
    /// user's: it keeps certificates, has not decided the current round yet, and BinaryBA*
    /// returns `value` if `role`'s step reaches its threshold on it (a non-empty value in a step
    /// 1 mod 3, the empty one in a step 2 mod 3). Everything else (reduction and FINAL votes,
    /// coin steps, votes after the decision, other rounds) is counted and dropped, so a user
    /// holds at most the current round's returning steps up to their thresholds, and one
    /// certificate per round it can still answer for (`round_cert`, `last_cert`).
    fn keep_for_cert(&self, round: u64, role: Role, value: u64) -> bool {
        let undecided = round == self.round && !self.decided_here();
        self.keeps_certs && undecided && self.returns_on(role, value)
    }

    /// Whether `weight` for `value` in `role` is a certificate that BinaryBA* returned there
    /// (a non-empty value in a step 1 mod 3, the empty one in a step 2 mod 3), while this
    /// user has not decided the round yet.
    fn is_return_certificate(&self, role: Role, value: u64, weight: u64) -> bool {
        !self.decided_here() && self.returns_on(role, value) && weight >= self.cfg.binary.threshold
    }

    /// Whether BinaryBA* returns `value` if `role`'s step reaches its threshold on it: a
    /// non-empty value in a binary step 1 mod 3, the empty one in a step 2 mod 3.
    fn returns_on(&self, role: Role, value: u64) -> bool {
        match role.binary_step().map(|step| step % 3) {
            Some(1) => value != self.empty(),
            Some(2) => value == self.empty(),
            _ => false,
        }
    }

    /// The (prev, seed) a vote of `round` must have been drawn under, if this user can check it.
    fn context_of(&self, round: u64) -> Option<(u64, u64)> {
        if round == self.round {
            return Some((self.prev, self.seed));
        }
        self.decided.iter().find(|d| d.round == round).map(|d| (d.prev, d.seed))
    }

    /// Checks the header first (`VoteHead`): a vote heard again is dropped without reading it.
    fn on_vote(&mut self, ctx: &mut Ctx<'_, Self>, head: VoteHead, vote: &Rc<Vote>, from: u32) {
        let (round, role) = (head.round(vote), head.role(vote));
        if round == self.round + 1 {
            self.ahead.get_or_insert((from, false));
            if self.phase == Phase::Hung {
                self.fell_behind(ctx, from);
            }
            return self.keep_for_next_round(Item::Vote { head, vote: Rc::clone(vote) });
        }
        if round > self.round + 1 {
            return self.fell_behind(ctx, from);
        }
        if round < self.round && role != Role::FINAL {
            return;
        }
        let Some((prev, seed)) = self.context_of(round) else { return };
        let seen = self.tallies.get(&(round, role.0)).is_some_and(|t| t.has(head.user()));
        if seen || vote.prev() != prev {
            return;
        }
        // A credential and a signature to check: the signature is charged, and holds by
        // construction (see `Vote`).
        ctx.charge(self.cfg.vrf_verify + ctx.crypto_costs().verify_client);
        if !vote.cred().verify(&self.world, seed) {
            return;
        }
        if self.count(ctx, Rc::clone(vote)) {
            self.relay(ctx, Item::Vote { head, vote: Rc::clone(vote) }, from);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Proposals and blocks
    // -----------------------------------------------------------------------------------------

    fn on_priority(&mut self, ctx: &mut Ctx<'_, Self>, item: &Rc<Priority>, from: u32) {
        let Priority { cred, prev, block } = **item;
        if cred.round() == self.round + 1 {
            return self.keep_for_next_round(Item::Priority(Rc::clone(item)));
        }
        if cred.round() != self.round || prev != self.prev || cred.role() != Role::PROPOSE {
            return;
        }
        if !self.priorities.insert((cred.user(), block)) {
            return;
        }
        ctx.charge(self.cfg.vrf_verify + ctx.crypto_costs().verify_client);
        if !cred.verify(&self.world, self.seed) {
            return;
        }
        let priority = cred.priority();
        if self.best.is_none_or(|(p, _)| priority < p) {
            self.best = Some((priority, block));
            self.relay(ctx, Item::Priority(Rc::clone(item)), from);
        }
    }

    fn on_block(&mut self, ctx: &mut Ctx<'_, Self>, block: Rc<Block>, from: u32) {
        if block.round == self.round + 1 {
            return self.keep_for_next_round(Item::Block(block));
        }
        let awaited = matches!(self.phase, Phase::AwaitBlock { id } if id == block.id);
        let current = block.round == self.round && block.prev == self.prev;
        if !current || self.blocks.contains_key(&block.id) || block.cred.role() != Role::PROPOSE {
            return;
        }
        ctx.charge(self.cfg.vrf_verify + ctx.crypto_costs().verify_client);
        if !block.cred.verify(&self.world, self.seed) {
            return;
        }
        self.blocks.insert(block.id, Rc::clone(&block));
        self.serve_fetchers(ctx, &block);
        let priority = block.cred.priority();
        if self.best.is_none_or(|(p, _)| priority <= p) {
            self.best = Some((priority, block.id));
            self.relay(ctx, Item::Block(Rc::clone(&block)), from);
        }
        if awaited {
            return self.finish_round(ctx, block.id, Rc::clone(&block.txs));
        }
        if self.phase == Phase::WaitBlock && self.best.is_some_and(|(_, id)| id == block.id) {
            self.enter_reduction(ctx, block.id);
        }
    }

    fn fetch(&mut self, ctx: &mut Ctx<'_, Self>, id: u64) {
        self.stats.fetches += 1;
        self.fetch_asked.insert(id);
        for &peer in self.world.neighbors(self.me) {
            ctx.send(NodeId(peer), Msg::Fetch { round: self.round, block: id });
        }
        ctx.set_timer(Timer::Refetch, self.cfg.step_timeout);
    }

    fn on_refetch(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Phase::AwaitBlock { id } = self.phase {
            self.fetch(ctx, id);
        }
    }

    fn find_block(&self, id: u64) -> Option<&Rc<Block>> {
        self.blocks.get(&id).or_else(|| self.history.iter().rev().find_map(|e| e.block.as_ref().filter(|b| b.id == id)))
    }

    fn on_fetch(&mut self, ctx: &mut Ctx<'_, Self>, from: u32, round: u64, id: u64) {
        if let Some(block) = self.find_block(id) {
            let batch = Batch::new(vec![Item::Block(Rc::clone(block))], self.cfg.priority_bytes, self.cfg.vote_bytes);
            ctx.send(NodeId(from), Msg::Gossip { batch: Rc::new(batch), cut: NO_CUT });
            return;
        }
        if round < self.round {
            return; // decided here without it: nothing to learn
        }
        let waiting = self.fetchers.entry(id).or_default();
        if !waiting.contains(&from) {
            waiting.push(from);
        }
        if self.world.relays_gossip(self.me) && self.fetch_asked.insert(id) {
            for &peer in self.world.neighbors(self.me).iter().filter(|&&p| p != from) {
                ctx.send(NodeId(peer), Msg::Fetch { round, block: id });
            }
        }
    }

    fn serve_fetchers(&mut self, ctx: &mut Ctx<'_, Self>, block: &Rc<Block>) {
        let Some(waiting) = self.fetchers.remove(&block.id) else { return };
        let batch =
            Rc::new(Batch::new(vec![Item::Block(Rc::clone(block))], self.cfg.priority_bytes, self.cfg.vote_bytes));
        for peer in waiting {
            ctx.send(NodeId(peer), Msg::Gossip { batch: Rc::clone(&batch), cut: NO_CUT });
        }
    }

    // -----------------------------------------------------------------------------------------
    // Catching up
    // -----------------------------------------------------------------------------------------

    /// Votes two or more rounds ahead: this user missed rounds (it was down, or cut off), or
    /// its chain left the one the committees certify. It asks the neighbour that relayed them,
    /// if that one relays (so keeps certificates), for the rounds decided from its oldest
    /// uncommitted round on.
    fn fell_behind(&mut self, ctx: &mut Ctx<'_, Self>, from: u32) {
        let asks = from != self.me && from != NO_SOURCE && self.world.relays_gossip(from);
        if self.sync_ask.is_some() || !asks || self.sync_avoid.contains(&from) {
            return;
        }
        let round = self.decided.front().map_or(self.round, |d| d.round);
        self.sync_ask = Some((from, round));
        self.stats.syncs += 1;
        ctx.note(Note::CatchUp { round });
        ctx.send(NodeId(from), Msg::SyncRequest { round });
        ctx.set_timer(Timer::SyncRetry, self.cfg.step_timeout);
    }

    /// Votes of the next round keep coming while this user's steps time out: the others
    /// decided this round, and the votes that would tell it so were lost to it (cut off by a
    /// partition while they were sent). BinaryBA* sends no vote again, so waiting can last
    /// for ever: after a second step timeout it asks the relay of those votes to catch up.
    /// Fault-free, the next round's votes arrive at most a few steps before this user
    /// decides, and it never asks.
    fn check_ahead(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self.ahead {
            Some((from, false)) => self.ahead = Some((from, true)),
            Some((from, true)) => self.fell_behind(ctx, from),
            None => {}
        }
    }

    /// Answers with the rounds decided from `round` on, up to the last one it holds a
    /// certificate for.
    fn on_sync_request(&mut self, ctx: &mut Ctx<'_, Self>, from: u32, round: u64) {
        if self.behavior == Behavior::FakeSync {
            if let Some(lie) = self.fake_reply(round) {
                ctx.note(Note::Byzantine { action: "fake_sync", about: round });
                ctx.send(NodeId(from), lie);
            }
            return;
        }
        let Some(cert) = self.last_cert.clone() else { return };
        let Some(start) = self.history.iter().position(|e| e.round == round) else { return };
        let entries: Rc<[ChainEntry]> =
            self.history.iter().skip(start).take_while(|e| e.round <= cert.round).cloned().collect();
        if entries.last().is_some_and(|e| e.round == cert.round && e.id == cert.value) {
            ctx.send(NodeId(from), Msg::SyncReply { entries, cert });
        }
    }

    /// Takes a catch-up reply only if this user asked `from` for exactly these rounds and the
    /// certificate of the last one verifies; then the certified branch replaces whatever this
    /// user decided differently since its last committed round (fork recovery), and extends
    /// its chain. Committed rounds never change: a FINAL threshold certified them.
    fn on_sync_reply(&mut self, ctx: &mut Ctx<'_, Self>, from: u32, entries: &[ChainEntry], cert: &Rc<Certificate>) {
        let first = entries.first().map(|e| e.round);
        let from_asked = self.sync_ask.is_some_and(|(peer, _)| peer == from);
        let asked = from_asked && self.sync_ask.is_some_and(|(_, round)| first == Some(round));
        let branch = self.diverge(entries);
        let verified = asked
            && branch.is_some_and(|(_, last_seed)| {
                let last = entries.last().expect("diverge found an entry");
                self.certified(ctx, last, last_seed, cert)
            });
        if from_asked {
            // The answer, good or bad: a bad one sends the next request elsewhere.
            self.sync_ask = None;
            ctx.cancel_timer(Timer::SyncRetry);
            if !verified {
                self.avoid(from);
            }
        }
        let Some((branch_idx, _)) = branch else {
            self.stats.syncs_refused += u64::from(!asked);
            return;
        };
        // The planted bug takes what extends the chain unchecked, as users did before.
        let planted = self.cfg.bug == Some(PlantedBug::TrustAnySync) && entries[branch_idx].round == self.round;
        if !(verified || planted) {
            self.stats.syncs_refused += 1;
            return;
        }
        self.take_branch(ctx, &entries[branch_idx..], verified.then(|| Rc::clone(cert)));
    }

    /// Asks `peer` no more to catch up, unless every neighbour is avoided: then starts over.
    fn avoid(&mut self, peer: u32) {
        self.sync_avoid.insert(peer);
        if self.sync_avoid.len() >= self.world.neighbors(self.me).len() {
            self.sync_avoid.clear();
        }
    }

    /// A catch-up request went unanswered: the next one goes to another neighbour.
    fn on_sync_retry(&mut self) {
        if let Some((peer, _)) = self.sync_ask.take() {
            self.avoid(peer);
        }
    }

    /// Where `entries` leave this user's chain: the index of the first one it did not decide,
    /// with the round seed of the last one. `None` if they are not consecutive rounds linked
    /// by parent from a round whose parent and seed this user knows (the current round or an
    /// uncommitted one), or hold nothing new.
    fn diverge(&self, entries: &[ChainEntry]) -> Option<(usize, u64)> {
        let first = entries.first()?;
        let (mut prev, mut seed) = self.context_of(first.round)?;
        let (mut branch_idx, mut last_seed) = (None, seed);
        for (i, e) in entries.iter().enumerate() {
            if !e.is_consistent() || e.round != first.round + i as u64 || e.prev != prev {
                return None;
            }
            let mine = e.round < self.round && self.decided.iter().any(|d| d.round == e.round && d.id == e.id);
            if !mine && branch_idx.is_none() {
                branch_idx = Some(i);
            }
            last_seed = seed;
            seed = next_seed(seed, e.round, e.id);
            prev = e.id;
        }
        Some((branch_idx?, last_seed))
    }

    /// Whether `cert` proves that BinaryBA* returned `last` in its round: a returning step,
    /// votes for `last` on its parent, distinct voters whose credentials (drawn with `seed`)
    /// and signatures verify, weighing the step's threshold. Each vote checked costs a VRF
    /// and a signature verification.
    fn certified(&self, ctx: &mut Ctx<'_, Self>, last: &ChainEntry, seed: u64, cert: &Certificate) -> bool {
        let Some(step) = cert.role.binary_step() else { return false };
        let empty = empty_block_id(last.round, last.prev);
        let returns = match step % 3 {
            1 => cert.value != empty,
            2 => cert.value == empty,
            _ => false,
        };
        let threshold = self.cfg.binary.threshold;
        let names_last = cert.round == last.round && cert.prev == last.prev && cert.value == last.id;
        // Every vote weighs at least 1: a certificate needs no more votes than the threshold.
        if !returns || !names_last || cert.votes.len() as u64 > threshold {
            return false;
        }
        let (mut voters, mut weight) = (BitSet::default(), 0u64);
        for v in &cert.votes {
            ctx.charge(self.cfg.vrf_verify + ctx.crypto_costs().verify_client);
            let names = v.cred().round() == cert.round
                && v.role() == cert.role
                && (v.prev(), v.value()) == (cert.prev, cert.value);
            if !names || !v.cred().verify(&self.world, seed) {
                return false;
            }
            if !voters.insert(v.cred().user() as usize) {
                return false;
            }
            weight += v.cred().weight() as u64;
            if weight >= threshold {
                return true;
            }
        }
        false
    }

    /// Adopts `branch` as this user's decisions: rounds it decided otherwise are dropped first
    /// (they commit only on a FINAL threshold, so none of them committed).
    fn take_branch(&mut self, ctx: &mut Ctx<'_, Self>, branch: &[ChainEntry], cert: Option<Rc<Certificate>>) {
        let from_round = branch[0].round;
        if from_round < self.round {
            ctx.note(Note::Recovery { instance: from_round });
            let d = self.decided.iter().find(|d| d.round == from_round).expect("diverge found its context");
            (self.prev, self.seed, self.round) = (d.prev, d.seed, from_round);
            self.decided.retain(|d| d.round < from_round);
            self.history.retain(|e| e.round < from_round);
            self.tallies.retain(|&(r, _), _| r < from_round);
            self.stats.forks_recovered += 1;
        }
        for e in branch {
            self.remember(e.clone());
            self.adopt(e.id, e.block.as_ref().map_or_else(|| Rc::from(Vec::new()), |b| Rc::clone(&b.txs)));
        }
        self.stats.rounds_synced += branch.len() as u64;
        self.round_cert = None;
        self.last_cert = cert.filter(|_| self.keeps_certs);
        ctx.cancel_timer(Timer::StepTimeout);
        ctx.cancel_timer(Timer::BlockWait);
        ctx.cancel_timer(Timer::Refetch);
        ctx.cancel_timer(Timer::FinalWait);
        self.start_round(ctx);
    }

    /// The `FakeSync` attack: every neighbour hears, unasked, that the current round decided
    /// the empty block.
    fn send_fake_sync(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(lie) = self.fake_reply(self.round) else { return };
        ctx.note(Note::Byzantine { action: "fake_sync", about: self.round });
        for &peer in self.world.neighbors(self.me) {
            ctx.send(NodeId(peer), lie.clone());
        }
    }

    /// "`round` decided the empty block", with the only votes a liar holds: its own (for the
    /// empty block in binary step 2, where that would return, if it knows the round's seed),
    /// far below the threshold.
    fn fake_reply(&self, round: u64) -> Option<Msg> {
        let known = self.context_of(round);
        let prev = match known {
            Some((prev, _)) => prev,
            None => self.history.iter().find(|e| e.round == round)?.prev,
        };
        let role = Role::binary(2);
        let id = empty_block_id(round, prev);
        let expected = self.cfg.binary.expected;
        let own = known.and_then(|(_, seed)| Seat::draw(&self.world, self.me, round, seed, role, expected));
        let votes = own.map(|seat| Vote::sign(&seat, prev, id)).into_iter().collect();
        let cert = Rc::new(Certificate::new(round, role, prev, id, votes, self.cfg.vote_bytes));
        let entries: Rc<[ChainEntry]> = Rc::from(vec![ChainEntry { round, prev, id, block: None }]);
        Some(Msg::SyncReply { entries, cert })
    }

    // -----------------------------------------------------------------------------------------
    // Gossip
    // -----------------------------------------------------------------------------------------

    fn on_txs(&mut self, ctx: &mut Ctx<'_, Self>, batch: Rc<TxBatch>, from: u32) {
        if !self.pool.offer(self.world.shelf(), self.me, &batch) {
            return;
        }
        let per_tx = ctx.crypto_costs().verify_client;
        ctx.charge(per_tx.saturating_mul(batch.txs.len() as u64));
        self.relay(ctx, Item::Txs(batch), from);
    }

    /// Queues an item heard from `from` for relaying, if this user relays.
    fn relay(&mut self, ctx: &mut Ctx<'_, Self>, item: Item, from: u32) {
        if from != self.me && !self.world.relays_gossip(self.me) {
            return;
        }
        self.out.push(item, from);
        self.arm_flush(ctx);
    }

    fn push_own(&mut self, ctx: &mut Ctx<'_, Self>, item: Item) {
        self.out.push(item, self.me);
        self.arm_flush(ctx);
    }

    fn arm_flush(&mut self, ctx: &mut Ctx<'_, Self>) {
        if !self.flush_armed {
            self.flush_armed = true;
            ctx.set_timer(Timer::Flush, self.cfg.gossip_batch);
        }
    }

    /// Sends what gathered since the last flush as one message per link, skipping a link whose
    /// peer is where every item came from.
    fn flush(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.flush_armed = false;
        if !self.own_txs.is_empty() {
            let txs = std::mem::take(&mut self.own_txs);
            let batch = Rc::new(TxBatch::new(self.me, txs, self.world.n_users()));
            self.pool.offer(self.world.shelf(), self.me, &batch);
            self.out.push(Item::Txs(batch), self.me);
        }
        let out = std::mem::take(&mut self.out);
        if self.cfg.one_lane {
            return self.send_batch(ctx, out, false);
        }
        // Votes, priorities and transactions first, on the urgent class; blocks after them.
        let (small, blocks) = out.split(|item| matches!(item, Item::Block(_)));
        self.send_batch(ctx, small, true);
        self.send_batch(ctx, blocks, false);
    }

    /// Sends `out` as one batch on every link; a link to a peer that relayed some of the items
    /// carries the batch without them (nothing at all when every item came from there).
    fn send_batch(&mut self, ctx: &mut Ctx<'_, Self>, out: Outgoing, urgent: bool) {
        if out.is_empty() {
            return;
        }
        let (pb, vb) = (self.cfg.priority_bytes, self.cfg.vote_bytes);
        let batch = Batch::relayed(out, pb, vb);
        let batch = Rc::new(if urgent { batch.urgent() } else { batch });
        for &peer in self.world.neighbors(self.me) {
            let cut = batch.cut_for(peer);
            if cut.is_some_and(|c| batch.is_emptied_by(&batch.cuts[c as usize])) {
                continue;
            }
            ctx.send(NodeId(peer), Msg::Gossip { batch: Rc::clone(&batch), cut: cut.unwrap_or(NO_CUT) });
        }
    }

    /// An equivocator's own items: `a` to the first half of its links, `b` to the rest.
    fn send_split(&mut self, ctx: &mut Ctx<'_, Self>, a: Vec<Item>, b: Vec<Item>) {
        let peers = self.world.neighbors(self.me);
        let half = peers.len().div_ceil(2);
        let (pb, vb) = (self.cfg.priority_bytes, self.cfg.vote_bytes);
        let (a, b) = (Rc::new(Batch::new(a, pb, vb)), Rc::new(Batch::new(b, pb, vb)));
        for (i, &peer) in peers.iter().enumerate() {
            let batch = if i < half { &a } else { &b };
            ctx.send(NodeId(peer), Msg::Gossip { batch: Rc::clone(batch), cut: NO_CUT });
        }
    }

    fn on_gossip(&mut self, ctx: &mut Ctx<'_, Self>, from: u32, batch: &Batch, cut: u32) {
        for item in batch.items_for(batch.cuts.get(cut as usize)) {
            self.on_item(ctx, item, from);
        }
    }

    fn on_item(&mut self, ctx: &mut Ctx<'_, Self>, item: &Item, from: u32) {
        match item {
            Item::Vote { head, vote } => self.on_vote(ctx, *head, vote, from),
            Item::Priority(p) => self.on_priority(ctx, p, from),
            Item::Block(b) => self.on_block(ctx, Rc::clone(b), from),
            Item::Txs(t) => self.on_txs(ctx, Rc::clone(t), from),
        }
    }

    fn keep_for_next_round(&mut self, item: Item) {
        if let Item::Vote { head, vote } = &item
            && !self.future_votes.insert((head.role(vote).0, head.user()))
        {
            return;
        }
        if self.future.len() < FUTURE_ITEMS_MAX {
            self.future.push(item);
        }
    }
}

impl Algorand {
    /// Where the current round is, in a few words.
    fn phase_words(&self) -> String {
        let short = |id: u64| id >> 48;
        match self.phase {
            Phase::Proposal => "proposal: collecting priorities".to_string(),
            Phase::WaitBlock => "proposal: waiting for the best block".to_string(),
            Phase::ReductionOne => format!("step {} (reduction one)", Role::REDUCTION_ONE),
            Phase::ReductionTwo => format!("step {} (reduction two)", Role::REDUCTION_TWO),
            Phase::Binary { step, block_hash } => {
                format!("step {} (binary step {step}) on block {:04x}", Role::binary(step), short(block_hash))
            }
            Phase::AwaitBlock { id } => format!("decided block {:04x}, fetching it", short(id)),
            Phase::AwaitFinal { id } => format!("decided block {:04x}, counting FINAL votes", short(id)),
            Phase::Hung => "hung: BinaryBA* ran out of steps".to_string(),
        }
    }
}

impl Protocol for Algorand {
    type Message = Msg;
    type Timer = Timer;
    type Record = Settled;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.me = ctx.me().0;
        self.keeps_certs = self.world.relays_gossip(self.me);
        assert_eq!(self.world.n_users(), ctx.n(), "the world has one entry per user");
        if self.silent() {
            ctx.note(Note::Byzantine { action: "silent", about: 0 });
            return;
        }
        self.round = 1;
        self.seed = hash_words(&[0x6E6E5E5, 0]);
        self.start_round(ctx);
    }

    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        // Timers died with the crash: re-arm the one the current phase waits on.
        self.flush_armed = false;
        self.sync_ask = None;
        if !self.out.is_empty() || !self.own_txs.is_empty() {
            self.arm_flush(ctx);
        }
        match self.phase {
            Phase::Proposal => ctx.set_timer(Timer::PriorityWait, Span::ZERO),
            Phase::WaitBlock => ctx.set_timer(Timer::BlockWait, Span::ZERO),
            Phase::AwaitBlock { .. } => ctx.set_timer(Timer::Refetch, Span::ZERO),
            Phase::AwaitFinal { .. } => ctx.set_timer(Timer::FinalWait, Span::ZERO),
            Phase::Hung => {}
            _ => ctx.set_timer(Timer::StepTimeout, Span::ZERO),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        if self.silent() {
            return;
        }
        match msg {
            Msg::Gossip { batch, cut } => self.on_gossip(ctx, from.0, &batch, cut),
            Msg::Fetch { round, block } => self.on_fetch(ctx, from.0, round, block),
            Msg::SyncRequest { round } => self.on_sync_request(ctx, from.0, round),
            Msg::SyncReply { entries, cert } => self.on_sync_reply(ctx, from.0, &entries, &cert),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Flush => self.flush(ctx),
            Timer::PriorityWait => self.on_priority_wait(ctx),
            Timer::BlockWait => self.on_block_wait(ctx),
            Timer::StepTimeout => self.on_step_timeout(ctx),
            Timer::Refetch => self.on_refetch(ctx),
            Timer::SyncRetry => self.on_sync_retry(),
            Timer::FinalWait => self.on_final_wait(ctx),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        if self.silent() || !ctx.verify_client(&tx) {
            return;
        }
        self.awaiting.insert(tx.id);
        self.own_txs.push(tx);
        self.arm_flush(ctx);
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        let s = &self.stats;
        vec![
            ("rounds", s.rounds),
            ("empty_rounds", s.empty_rounds),
            ("final_rounds", s.final_rounds),
            ("binary_steps", s.binary_steps),
            ("step_timeouts", s.step_timeouts),
            ("final_timeouts", s.final_timeouts),
            ("hung", s.hung),
            ("proposed", s.proposed),
            ("votes_counted", s.votes_counted),
            ("fetches", s.fetches),
            ("caught_up", s.caught_up),
            ("syncs", s.syncs),
            ("rounds_synced", s.rounds_synced),
            ("syncs_refused", s.syncs_refused),
            ("forks_recovered", s.forks_recovered),
            ("txs_committed", s.txs_committed),
            ("round_mean_ms", s.round_mean_ms(self.round)),
            ("pool_batches", self.pool.batches(self.world.shelf(), self.me) as u64),
        ]
    }

    /// The round and where BA* is in it (steps numbered as the notes number them), the parent, what is decided and committed, the last
    /// certificate this user holds, and a catch-up under way.
    fn debug_state(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let short = |id: u64| id >> 48;
        let _ = writeln!(out, "user {} ({:?}), round {}, {}", self.me, self.behavior, self.round, self.phase_words());
        let best = self.best.map_or("none".to_string(), |(_, id)| format!("{:04x}", short(id)));
        let _ = writeln!(out, "parent {:016x}, best proposal {best}, blocks held {}", self.prev, self.blocks.len());
        let committed_through = self.decided.front().map_or(self.round, |d| d.round).saturating_sub(1);
        let pending: Vec<u64> = self.decided.iter().map(|d| d.round).collect();
        let _ = writeln!(out, "committed through round {committed_through}, decided not final {pending:?}");
        match &self.last_cert {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "last certified round {} block {:016x} (step {}, {} votes)",
                    c.round,
                    c.value,
                    c.role,
                    c.votes.len()
                );
            }
            None => out.push_str("no certificate held\n"),
        }
        if let Some((peer, round)) = self.sync_ask {
            let _ = writeln!(out, "catch-up asked of user {peer} from round {round}");
        }
        let _ = writeln!(
            out,
            "step timeouts {}, forks recovered {}, hung {}",
            self.stats.step_timeouts, self.stats.forks_recovered, self.stats.hung
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::Streams;

    /// A tally's voter bits are the committee's, not one per user (the old `BitSet` over users
    /// grew to the highest voter: 10,000 bits here, with its doubling room), and a voter counts
    /// once.
    #[test]
    fn a_tally_holds_a_bit_per_member_and_counts_a_voter_once() {
        let world = World::new(&AlgorandConfig::sosp2017(), 10_000, &mut Streams::new(5).stream("algorand"));
        let roster = world.roster(2, 9, Role::binary(1), 2000);
        let members: Vec<u32> = (0..10_000).filter(|&u| roster.rank(u).is_some()).collect();
        let mut tally = Tally::new(Rc::clone(&roster));
        assert_eq!(tally.voters.len(), members.len().div_ceil(64), "{} members", members.len());
        assert!(tally.voters.len() * 64 < 2_000, "under tau bits, not n");
        let last = *members.last().expect("members");
        assert!(!tally.has(last) && tally.insert(last) && tally.has(last) && !tally.insert(last));
        assert!(!tally.has(members[0]) && tally.insert(members[0]));
        assert_eq!(tally.counted, 2);
        let outsider = (0..10_000).find(|&u| roster.rank(u).is_none()).expect("most users sit out");
        assert!(!tally.has(outsider), "a non-member was never counted");
    }
}
