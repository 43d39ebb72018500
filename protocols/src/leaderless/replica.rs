//! A leaderless BFT replica: any replica coordinates the commands its clients send. The
//! dependency discovery service answers with signed dependency sets; n identical answers commit
//! at once (Wintermute's fast path), otherwise a single-shot PBFT instance per command agrees on
//! the (threshold) union. Committed commands execute dependencies-first on the ledger.
//!
//! Who leads a command's consensus is never a replica's belief: view 0 is open to every
//! coordinator (its proposal carries a DDS quorum of replies), and view v >= 1 is led by
//! `Membership::leader(command, v)`, derived from the command's id alone (see the module docs
//! of `leaderless` for why several view-0 proposals are safe).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use sim_core::digest::splitmix64;
use sim_core::{AccountId, AggregateSignature, Ctx, NodeId, Note, Protocol, Signature, Span, Time, Tx, TxId};

mod attacks;

use super::exec::Executor;
use super::membership::{Membership, Variant};
use super::types::*;
use crate::common::quorum::Votes;
use crate::ledger::{ConflictRelation, Ledger, Settlement, is_reconfiguration};

/// How many checkpoint intervals of ids the conflict index keeps below a replica's own floor.
const PRUNE_MARGIN_INTERVALS: u64 = 4;

/// Recoveries one replica starts per scan of its overdue commands.
const MAX_RECOVERIES_PER_SCAN: usize = 16;

/// Per account, the commands a replica has seen that debit it and that credit it, in the
/// order it saw them: the conflict index dependency sets are read from. With the EPaxos
/// variant's anchors, the lists hold only commands not executed here yet.
#[derive(Clone, Debug, Default)]
struct AccountLog {
    debits: Vec<TxId>,
    credits: Vec<TxId>,
    /// EPaxos: the last command executed here that conflicts with every command on the account
    /// (any command on it under `SharedAccount`, a debit of it when credits commute).
    anchor: Option<TxId>,
    /// The anchor before `anchor` (read only by the planted bug `StaleAnchor`).
    stale_anchor: Option<TxId>,
    /// EPaxos, credits commuting: credits executed since the anchor (debits conflict with them).
    credits_since_anchor: Vec<TxId>,
}

impl AccountLog {
    fn is_empty(&self) -> bool {
        self.debits.is_empty() && self.credits.is_empty() && self.anchor.is_none()
    }

    /// A new anchor: every command executed on the account so far ran at or before it.
    fn anchor_on(&mut self, id: TxId) {
        self.stale_anchor = self.anchor.replace(id);
        self.credits_since_anchor.clear();
    }
}

/// Removes `id` from an unordered index list (answers are sorted later).
fn remove_id(list: &mut Vec<TxId>, id: TxId) {
    if let Some(i) = list.iter().position(|&d| d == id) {
        list.swap_remove(i);
    }
}

/// The coordinator's collection of DDS replies for one of its commands.
#[derive(Debug, Default)]
struct Collect {
    acks: Vec<Rc<Ack>>,
    /// The fast-path wait is armed / has run out.
    waiting: bool,
    wait_over: bool,
    done: bool,
    /// When it sent its PBFT proposal (the slow path's pre-prepare), for the proposal-to-commit
    /// latency; None on the fast path.
    proposed_at: Option<Time>,
}

/// One command's single-shot PBFT instance, as this replica sees it.
#[derive(Debug, Default)]
struct Cons {
    view: u32,
    /// The value accepted in `view` from its leader.
    accepted: Option<Rc<[TxId]>>,
    /// The highest view in which this replica saw a prepare quorum, with its certificate.
    prepared: Option<Rc<Prepared>>,
    votes: Votes<(Phase, u32, u64)>,
    /// The last view this replica sent its commit vote in (+1; 0 = never).
    commit_voted: u32,
    /// As a leader: view changes per view, and the views it already proposed in.
    view_changes: BTreeMap<u32, Vec<ViewChange>>,
    proposed: BTreeSet<u32>,
}

/// Everything a replica knows about one command.
#[derive(Debug, Default)]
struct Cmd {
    /// The client-signed payload, once verified.
    tx: Option<Tx>,
    first_seen: Time,
    /// This replica's DDS answer, fixed at first sight.
    deps: Option<Rc<[TxId]>>,
    ack: Option<Rc<Ack>>,
    collect: Option<Box<Collect>>,
    cons: Option<Box<Cons>>,
    committed: Option<Rc<(Rc<[TxId]>, CommitProof)>>,
    /// When this replica last asked the others to recover it.
    recovery_asked: Option<Time>,
}

/// Per-replica counters.
#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    fast_commits: u64,
    slow_commits: u64,
    recoveries: u64,
    view_changes: u64,
    rejected_proofs: u64,
}

pub struct Leaderless {
    cfg: LeaderlessConfig,
    members: Membership,
    wire: Wire,
    behavior: Behavior,
    me: NodeId,
    cmds: BTreeMap<TxId, Cmd>,
    /// Per account touched (sparse: up to 2^32 accounts exist).
    accounts: BTreeMap<AccountId, AccountLog>,
    /// Every command seen, in order (a reconfiguration depends on all of them), and the
    /// reconfigurations seen (every command depends on them).
    seen: Vec<TxId>,
    barriers: Vec<TxId>,
    /// EPaxos anchors: the last reconfiguration executed here (it conflicts with every command,
    /// so it covers every command executed before it).
    last_barrier: Option<TxId>,
    /// Commands known (payload verified) and not committed yet: what recovery watches.
    uncommitted: BTreeSet<TxId>,
    fetch_asked: BTreeMap<TxId, Time>,
    scan_armed: bool,
    exec: Executor,
    ledger: Ledger,
    /// XOR of a hash of every executed id: the executed set, independent of order.
    executed_set: u64,
    /// The highest command id seen, for Byzantine replicas that invent ids (`invented_id`).
    max_seen: u64,
    /// The conflict index holds no id below this floor (pruned as the floor moves on).
    pruned_below: u64,
    /// While an announced payload is accepted: the floor its coordinator suggested (else MAX).
    suggestion: u64,
    counters: Counters,
    /// The PBFT attacks' memory (empty at correct replicas).
    attack: attacks::Attack,
}

impl std::fmt::Debug for Leaderless {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leaderless").field("me", &self.me).field("behavior", &self.behavior).finish_non_exhaustive()
    }
}

impl Leaderless {
    pub fn new(cfg: LeaderlessConfig, n: u32, f: u32, behavior: Behavior) -> Leaderless {
        let members = Membership::new(n, f, cfg.variant);
        let mut exec = if cfg.bug == Some(PlantedBug::HeldNonces) { Executor::unchained() } else { Executor::new() };
        if cfg.bug == Some(PlantedBug::NonCanonicalSccOrder) {
            exec.order_components_by_discovery();
        }
        let exec = if cfg.bug == Some(PlantedBug::IgnoreFloors) { exec.ignoring_floors() } else { exec };
        Leaderless {
            wire: Wire { variant: cfg.variant, n },
            ledger: Ledger::new(cfg.genesis_balance),
            cfg,
            members,
            behavior,
            me: NodeId(u32::MAX),
            cmds: BTreeMap::new(),
            accounts: BTreeMap::new(),
            seen: Vec::new(),
            barriers: Vec::new(),
            last_barrier: None,
            uncommitted: BTreeSet::new(),
            fetch_asked: BTreeMap::new(),
            scan_armed: false,
            exec,
            executed_set: 0,
            max_seen: 0,
            pruned_below: 0,
            suggestion: u64::MAX,
            counters: Counters::default(),
            attack: attacks::Attack::default(),
        }
    }

    fn send(&self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: LlMsg) {
        let size = self.wire.size(&msg);
        ctx.send(to, Envelope { msg, size });
    }

    fn broadcast(&self, ctx: &mut Ctx<'_, Self>, msg: LlMsg) {
        let size = self.wire.size(&msg);
        ctx.broadcast(Envelope { msg, size });
    }

    fn account(&mut self, a: AccountId) -> &mut AccountLog {
        self.accounts.entry(a).or_default()
    }

    /// Wintermute's floor for an answer given now: the executed prefix rounded down to the
    /// checkpoint interval (0: no pruning). Every id below it executed here before this
    /// replica saw the command it answers for, so the answer implies all of them.
    fn my_floor(&self) -> u64 {
        if !self.prunes() {
            return 0;
        }
        let k = self.cfg.checkpoint_interval;
        self.exec.executed_prefix() / k * k
    }

    /// Drops ids below `floor` from the conflict index: answers imply them from now on.
    fn prune_below(&mut self, floor: u64) {
        if floor <= self.pruned_below {
            return;
        }
        self.pruned_below = floor;
        let keep = |d: &TxId| d.0 >= floor;
        self.seen.retain(keep);
        self.barriers.retain(keep);
        for log in self.accounts.values_mut() {
            log.debits.retain(keep);
            log.credits.retain(keep);
        }
        self.accounts.retain(|_, log| !log.debits.is_empty() || !log.credits.is_empty());
    }

    /// This replica's answer for `tx`: the conflicting commands it saw before, at or above its
    /// floor, and the floor itself if there is one.
    fn answer(&mut self, tx: &Tx) -> Vec<TxId> {
        if self.anchors() {
            return self.anchored_answer(tx);
        }
        // The index keeps a margin below the own floor, for coordinators that suggest a lower
        // one; below what it pruned, it answers with the lowest floor it can still back.
        let own = self.my_floor();
        self.prune_below(own.saturating_sub(PRUNE_MARGIN_INTERVALS * self.cfg.checkpoint_interval));
        let floor = own.min(self.suggestion).max(self.pruned_below);
        let mut deps = self.conflicting_before(tx);
        deps.retain(|d| d.0 >= floor);
        if floor > 0 {
            deps.push(floor_marker(floor));
        }
        deps
    }

    /// The EPaxos variant's answer (module docs: per-account anchors): the unexecuted
    /// conflicting commands seen, and per account `tx` touches its anchor and, for the account
    /// it debits, the credits executed since; the last executed reconfiguration. A
    /// reconfiguration names every account's anchor instead (every command executed since the
    /// last reconfiguration ran at or before its source account's anchor).
    fn anchored_answer(&self, tx: &Tx) -> Vec<TxId> {
        let stale = self.cfg.bug == Some(PlantedBug::StaleAnchor);
        let mut deps = if stale { Vec::new() } else { self.conflicting_before(tx) };
        if self.cfg.bug == Some(PlantedBug::OmitExecuted) {
            // The index holds only unexecuted commands: leave out the executed ones it names.
            return deps;
        }
        deps.extend(self.last_barrier);
        if is_reconfiguration(tx) {
            deps.extend(self.accounts.values().filter_map(|log| log.anchor));
        } else {
            for (account, debited) in [(tx.from, true), (tx.to, false)] {
                let Some(log) = self.accounts.get(&account) else { continue };
                deps.extend(if stale { log.stale_anchor } else { log.anchor });
                if debited && !stale {
                    deps.extend_from_slice(&log.credits_since_anchor);
                }
            }
        }
        deps.sort_unstable();
        deps.dedup();
        deps
    }

    /// EPaxos anchors: takes a command executed here out of the conflict index; it becomes
    /// the anchor of the accounts whose every command it conflicts with.
    fn unindex_executed(&mut self, tx: &Tx) {
        remove_id(&mut self.seen, tx.id);
        if is_reconfiguration(tx) {
            remove_id(&mut self.barriers, tx.id);
            self.last_barrier = Some(tx.id);
            // Every command executed so far ran before it and conflicts with it.
            for log in self.accounts.values_mut() {
                log.anchor = None;
                log.stale_anchor = None;
                log.credits_since_anchor.clear();
            }
            self.accounts.retain(|_, log| !log.is_empty());
            return;
        }
        let shared = self.cfg.conflicts == ConflictRelation::SharedAccount;
        let src = self.account(tx.from);
        remove_id(&mut src.debits, tx.id);
        remove_id(&mut src.credits, tx.id);
        src.anchor_on(tx.id);
        if tx.to != tx.from {
            let dst = self.account(tx.to);
            remove_id(&mut dst.credits, tx.id);
            if shared {
                dst.anchor_on(tx.id);
            } else {
                dst.credits_since_anchor.push(tx.id);
            }
        }
    }

    /// The commands this replica saw before `tx` that conflict with it. A reconfiguration
    /// conflicts with every command; every command conflicts with the reconfigurations.
    fn conflicting_before(&self, tx: &Tx) -> Vec<TxId> {
        if is_reconfiguration(tx) {
            return self.seen.clone();
        }
        let mut deps = self.barriers.clone();
        if let Some(src) = self.accounts.get(&tx.from) {
            deps.extend_from_slice(&src.debits);
            deps.extend_from_slice(&src.credits);
        }
        if let Some(dst) = self.accounts.get(&tx.to) {
            deps.extend_from_slice(&dst.debits);
            // Credits to one account commute under the finer relation.
            if self.cfg.conflicts == ConflictRelation::SharedAccount {
                deps.extend_from_slice(&dst.credits);
            }
        }
        if self.cfg.bug == Some(PlantedBug::OmitExecuted) {
            deps.retain(|&d| !self.exec.is_executed(d));
        }
        deps.sort_unstable();
        deps.dedup();
        deps
    }

    /// Records a verified payload at first sight: fixes this replica's dependency answer and
    /// puts the command in the conflict index.
    fn learn(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        if self.cmds.get(&tx.id).is_some_and(|c| c.tx.is_some()) {
            return;
        }
        let deps: Rc<[TxId]> = self.answer(&tx).into();
        self.seen.push(tx.id);
        if is_reconfiguration(&tx) {
            self.barriers.push(tx.id);
        } else {
            self.account(tx.from).debits.push(tx.id);
            self.account(tx.to).credits.push(tx.id);
        }
        self.max_seen = self.max_seen.max(tx.id.0);
        let now = ctx.now();
        let cmd = self.cmds.entry(tx.id).or_default();
        cmd.tx = Some(tx);
        cmd.first_seen = now;
        cmd.deps = Some(deps);
        if cmd.committed.is_none() {
            self.uncommitted.insert(tx.id);
            self.arm_scan(ctx);
        }
    }

    /// `accept_payload` for an announced command: a first answer takes the coordinator's
    /// floor if this replica's own (rounded) prefix reached it, and its own floor otherwise.
    fn accept_suggesting(&mut self, ctx: &mut Ctx<'_, Self>, tx: &Tx, floor: u64) -> bool {
        self.suggestion = floor;
        let accepted = self.accept_payload(ctx, tx);
        self.suggestion = u64::MAX;
        accepted
    }

    /// The floor a coordinator suggests in its announce: its executed prefix rounded down to
    /// the checkpoint interval, one interval back. Replicas whose own prefix lags by less all
    /// answer with this floor, so all n answers can be identical at any rate; rounding alone
    /// split answers whenever replicas' prefixes straddled a multiple of the interval (at 500
    /// tx/s, most commands: the fast path fell from 99.8% to 9%).
    fn suggested_floor(&self) -> u64 {
        let k = self.cfg.checkpoint_interval;
        self.my_floor().saturating_sub(k)
    }

    /// Verifies a payload unless already known.
    fn accept_payload(&mut self, ctx: &mut Ctx<'_, Self>, tx: &Tx) -> bool {
        match self.cmds.get(&tx.id).and_then(|c| c.tx) {
            Some(known) => known == *tx,
            None if ctx.verify_client(tx) => {
                self.learn(ctx, *tx);
                true
            }
            None => false,
        }
    }

    fn arm_scan(&mut self, ctx: &mut Ctx<'_, Self>) {
        if !self.scan_armed {
            self.scan_armed = true;
            ctx.set_timer(LlTimer::RecoveryScan, Span::from_nanos(self.cfg.recovery_timeout.as_nanos() / 2));
        }
    }

    /// This replica's signed DDS answer for `cmd`, as its behaviour shapes it for `asker`. A
    /// correct answer is signed once and sent the same to everyone.
    fn my_ack(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId, asker: NodeId) -> Option<Rc<Ack>> {
        let c = self.cmds.get(&cmd)?;
        let honest = c.deps.clone()?;
        let deps: Rc<[TxId]> = match self.behavior {
            Behavior::SpoilSilent => {
                self.note_byzantine(ctx, "spoil_silent", cmd);
                return None;
            }
            Behavior::OmitDeps => Rc::from([]),
            Behavior::InventDeps => self.invented_answer(&honest, cmd),
            Behavior::IrrelevantDeps => match self.irrelevant_to(cmd) {
                Some(extra) => with_extra(&honest, extra),
                None => honest,
            },
            // Anything different will do; with nothing else to add, a made-up id.
            Behavior::SpoilDifferent => {
                with_extra(&honest, self.irrelevant_to(cmd).unwrap_or(invented_id(self.max_seen)))
            }
            Behavior::Equivocate if asker.0 % 2 == 1 => Rc::from(&honest[..honest.len().saturating_sub(1)]),
            _ => {
                if let Some(ack) = &c.ack {
                    return Some(ack.clone());
                }
                let sig = ctx.sign(ack_digest(cmd, &honest));
                let ack = Rc::new(Ack { cmd, deps: honest, sig });
                self.cmds.get_mut(&cmd).expect("known").ack = Some(ack.clone());
                return Some(ack);
            }
        };
        self.note_byzantine(ctx, self.behavior.name(), cmd);
        let sig = ctx.sign(ack_digest(cmd, &deps));
        Some(Rc::new(Ack { cmd, deps, sig }))
    }

    /// Notes a Byzantine action (`action` names the behaviour that does it) about `cmd`.
    pub(super) fn note_byzantine(&self, ctx: &mut Ctx<'_, Self>, action: &'static str, cmd: TxId) {
        ctx.note(Note::Byzantine { action, about: cmd.0 });
    }

    /// An inventing replica's answer: an id no client signed and, when answers carry floors, a
    /// floor above every command it has seen (it claims to have executed what it has not).
    fn invented_answer(&self, honest: &[TxId], cmd: TxId) -> Rc<[TxId]> {
        let mut deps: Vec<TxId> = named(honest).collect();
        if self.prunes() {
            deps.push(floor_marker(self.max_seen + 1));
        }
        deps.push(invented_id(self.max_seen + cmd.0 % 7));
        deps.sort_unstable();
        deps.into()
    }

    /// A real command this replica knows that does not conflict with `cmd` (Byzantine use).
    fn irrelevant_to(&self, cmd: TxId) -> Option<TxId> {
        let tx = self.cmds.get(&cmd)?.tx?;
        self.cmds
            .iter()
            .rev()
            .filter_map(|(id, c)| c.tx.map(|t| (*id, t)))
            .find(|(id, t)| *id != cmd && !self.cfg.conflicts.conflicts(&tx, t))
            .map(|(id, _)| id)
    }

    // ---- coordinator: dependency discovery ----

    fn coordinate(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        let floor = self.suggested_floor();
        if self.cmds.get(&tx.id).is_some_and(|c| c.tx.is_some()) || !self.accept_suggesting(ctx, &tx, floor) {
            return;
        }
        if self.behavior != Behavior::NeverCommit {
            self.cmds.get_mut(&tx.id).expect("learned").collect = Some(Box::default());
        } else {
            self.note_byzantine(ctx, "never_commit", tx.id);
        }
        self.broadcast(ctx, LlMsg::Announce { tx, floor });
    }

    /// A Byzantine replica's claim on a command someone else coordinates: it pushes the
    /// payload to all and starts a discovery of its own (once per command).
    fn claim(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        let c = self.cmds.get_mut(&tx.id).expect("learned");
        if c.collect.is_some() || c.committed.is_some() {
            return;
        }
        c.collect = Some(Box::default());
        self.note_byzantine(ctx, "claim_coordinator", tx.id);
        self.broadcast(ctx, LlMsg::Payload { tx });
        let floor = self.suggested_floor();
        self.broadcast(ctx, LlMsg::Announce { tx, floor });
    }

    fn on_announce(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, tx: Tx, floor: u64) {
        if !self.accept_suggesting(ctx, &tx, floor) {
            return;
        }
        if matches!(self.behavior, Behavior::ClaimCoordinator | Behavior::PbftAttack) && from != self.me {
            self.claim(ctx, tx);
        }
        let Some(ack) = self.my_ack(ctx, tx.id, from) else { return };
        if from == self.me {
            self.on_reply(ctx, from, ack);
        } else {
            self.send(ctx, from, LlMsg::Reply { ack });
        }
    }

    /// Verifies a DDS answer: the signer's signature and, for EPaxos, each dependency's client
    /// signature (one the replica does not already hold).
    fn valid_ack(&mut self, ctx: &mut Ctx<'_, Self>, ack: &Ack, cmd: TxId) -> bool {
        self.well_formed_ack(ctx, ack, cmd) && ctx.verify(&ack.sig, ack.signer(), ack.sig.digest())
    }

    /// Everything about an answer but its signature: for this command, from a member, signing
    /// what it says, and (EPaxos) each dependency proven by its client's signature.
    fn well_formed_ack(&mut self, ctx: &mut Ctx<'_, Self>, ack: &Ack, cmd: TxId) -> bool {
        if ack.cmd != cmd || ack.signer().0 >= self.members.n || ack.sig.digest() != ack_digest(cmd, &ack.deps) {
            return false;
        }
        self.members.variant != Variant::Epaxos || ack.deps.iter().all(|&d| self.client_signed(ctx, d))
    }

    /// The EPaxos variant's proof of one dependency: it names a command some client really
    /// signed. A payload this replica verified proves it; otherwise the signature that travels
    /// with the id is checked (`verify_client_id`, O(1): the id was submitted). An invented id
    /// (`INVENTED_ID_FLAG`) never passes, however many commands are submitted later.
    fn client_signed(&self, ctx: &mut Ctx<'_, Self>, d: TxId) -> bool {
        let known = self.cmds.get(&d).is_some_and(|c| c.tx.is_some());
        known || (d.0 & INVENTED_ID_FLAG == 0 && ctx.verify_client_id(d))
    }

    /// Verifies the signatures of `acks`: answers that sign the same set are checked together
    /// as one aggregate (one pairing check per distinct answer, not per replica).
    fn verify_acks(&mut self, ctx: &mut Ctx<'_, Self>, acks: &[&Ack]) -> bool {
        let mut groups: BTreeMap<u64, Vec<Signature>> = BTreeMap::new();
        for ack in acks {
            groups.entry(ack.sig.digest()).or_default().push(ack.sig);
        }
        groups.into_iter().all(|(digest, sigs)| match &sigs[..] {
            [one] => ctx.verify(one, one.signer(), digest),
            _ => ctx.aggregate(&sigs).is_some_and(|agg| ctx.verify_aggregate(&agg, digest, sigs.len())),
        })
    }

    /// The coordinator's collected answers, verified; bad ones (a Byzantine replica's) are
    /// found one by one and dropped. True if all were good.
    fn verify_collected(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId) -> bool {
        let acks = self.cmds[&cmd].collect.as_ref().expect("collecting").acks.clone();
        let refs: Vec<&Ack> = acks.iter().map(|a| &**a).collect();
        if self.verify_acks(ctx, &refs) {
            return true;
        }
        let good: Vec<Rc<Ack>> = acks.into_iter().filter(|a| ctx.verify(&a.sig, a.signer(), a.sig.digest())).collect();
        self.cmds.get_mut(&cmd).and_then(|c| c.collect.as_mut()).expect("collecting").acks = good;
        false
    }

    fn on_reply(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ack: Rc<Ack>) {
        let cmd = ack.cmd;
        let collecting = self.cmds.get(&cmd).and_then(|c| c.collect.as_ref()).is_some_and(|c| !c.done);
        // Signatures are checked when the answers are used, together.
        if !collecting || ack.signer() != from || !self.well_formed_ack(ctx, &ack, cmd) {
            return;
        }
        let collect = self.cmds.get_mut(&cmd).and_then(|c| c.collect.as_mut()).expect("collecting");
        if collect.acks.iter().any(|a| a.signer() == from) {
            return;
        }
        collect.acks.push(ack);
        self.try_finish_discovery(ctx, cmd);
    }

    fn try_finish_discovery(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId) {
        let members = self.members;
        let dds_quorum = self.dds_quorum();
        if self.behavior.equivocates_proposals() && self.echo_for_fast_path(ctx, cmd) {
            return;
        }
        if self.cfg.bug == Some(PlantedBug::FastPathNMinusOne) && self.fast_on_n_minus_one(ctx, cmd) {
            return;
        }
        let collect = self.cmds.get_mut(&cmd).and_then(|c| c.collect.as_mut()).expect("collecting");
        let count = collect.acks.len();
        if collect.done || count < dds_quorum {
            return;
        }
        let identical = collect.acks.windows(2).all(|w| w[0].deps == w[1].deps);
        if members.has_fast_path() && count == members.n as usize && identical {
            if !self.verify_collected(ctx, cmd) {
                return self.try_finish_discovery(ctx, cmd);
            }
            let deps = self.cmds[&cmd].collect.as_ref().expect("collecting").acks[0].deps.clone();
            return self.fast_commit(ctx, cmd, deps);
        }
        let all_in = count == members.n as usize;
        if members.has_fast_path() && !all_in && !collect.wait_over {
            if !collect.waiting {
                collect.waiting = true;
                ctx.set_timer(LlTimer::FastPath(cmd), self.cfg.fast_path_wait);
            }
            return;
        }
        if !self.verify_collected(ctx, cmd) {
            return self.try_finish_discovery(ctx, cmd);
        }
        self.slow_path(ctx, cmd);
    }

    /// Commits the value of the collected replies that carry `deps` (all of them, unless a
    /// planted bug settles for fewer).
    fn fast_commit(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId, deps: Rc<[TxId]>) {
        let c = self.cmds.get_mut(&cmd).expect("known");
        let collect = c.collect.as_mut().expect("collecting");
        collect.done = true;
        let sigs: Vec<Signature> = collect.acks.iter().filter(|a| a.deps == deps).map(|a| a.sig).collect();
        let tx = c.tx.expect("coordinator has the payload");
        ctx.cancel_timer(LlTimer::FastPath(cmd));
        ctx.record(LlRecord::Coordinated { cmd, fast: true, deps_len: named(&deps).count() as u32 });
        ctx.note(Note::Path { instance: cmd.0, fast: true });
        if self.behavior == Behavior::ForgeCommit {
            return self.forge_commit(ctx, tx, &deps);
        }
        let proof = CommitProof::Fast(ctx.aggregate(&sigs).expect("n identical replies"));
        if self.behavior.equivocates_proposals() {
            return self.withhold_fast_decision(ctx, tx, deps, proof);
        }
        self.counters.fast_commits += 1;
        self.commit(ctx, tx, deps.clone(), proof.clone(), CommitPath::Fast);
        self.broadcast(ctx, LlMsg::Commit { tx, deps, proof });
    }

    fn forge_commit(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx, deps: &[TxId]) {
        self.note_byzantine(ctx, "forge_commit", tx.id);
        let forged: Rc<[TxId]> = Rc::from(&deps[..deps.len().saturating_sub(1)]);
        let sig = ctx.sign(ack_digest(tx.id, &forged));
        let proof = CommitProof::Fast(ctx.aggregate(&[sig]).expect("one signature"));
        self.broadcast(ctx, LlMsg::Commit { tx, deps: forged, proof });
    }

    fn slow_path(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId) {
        let c = self.cmds.get_mut(&cmd).expect("known");
        let collect = c.collect.as_mut().expect("collecting");
        collect.done = true;
        collect.proposed_at = Some(ctx.now());
        let acks: Rc<[Rc<Ack>]> = collect.acks.iter().cloned().collect();
        let tx = c.tx.expect("coordinator has the payload");
        let deps = self.dds_union(acks.iter().map(|a| &a.deps[..]));
        ctx.record(LlRecord::Coordinated { cmd, fast: false, deps_len: named(&deps).count() as u32 });
        ctx.note(Note::Path { instance: cmd.0, fast: false });
        match self.behavior {
            Behavior::ForgeCommit => return self.forge_commit(ctx, tx, &deps),
            Behavior::ProposeWithoutProof => {
                self.note_byzantine(ctx, "propose_without_proof", cmd);
                let own = self.cmds[&cmd].deps.clone().expect("own answer");
                let why = Justification::Replies(Rc::from([]));
                let msg = LlMsg::Propose { tx, view: 0, deps: own, why };
                return self.broadcast(ctx, msg);
            }
            _ if self.behavior.equivocates_proposals() => return self.equivocate_first_view(ctx, tx, deps, acks),
            _ => {}
        }
        // View 0 is open to every replica that ran the discovery (see `may_propose`).
        self.cons(cmd).proposed.insert(0);
        let msg = LlMsg::Propose { tx, view: 0, deps, why: Justification::Replies(acks) };
        self.broadcast(ctx, msg);
    }

    fn union_threshold(&self) -> usize {
        match self.cfg.bug {
            Some(PlantedBug::PlainUnion) => 1,
            // f instead of f+1 where the threshold is f+1 (EPaxos keeps its 1).
            Some(PlantedBug::ThresholdF) => self.members.dep_threshold().saturating_sub(1).max(1),
            _ => self.members.dep_threshold(),
        }
    }

    /// The membership's quorums, as the planted bugs (tests only) weaken them.
    fn dds_quorum(&self) -> usize {
        self.members.dds_quorum() - usize::from(self.cfg.bug == Some(PlantedBug::DdsQuorumMinusOne))
    }

    fn pbft_quorum(&self) -> usize {
        self.members.pbft_quorum() - usize::from(self.cfg.bug == Some(PlantedBug::PbftQuorumMinusOne))
    }

    fn view_change_quorum(&self) -> usize {
        self.pbft_quorum().max(self.dds_quorum())
    }

    /// Identical replies a fast path needs: all n.
    fn fast_quorum(&self) -> usize {
        self.members.n as usize - usize::from(self.cfg.bug == Some(PlantedBug::FastPathNMinusOne))
    }

    /// Planted bug `FastPathNMinusOne`: commits at once when n-1 collected replies agree.
    fn fast_on_n_minus_one(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId) -> bool {
        let quorum = self.fast_quorum();
        let Some(collect) = self.cmds.get_mut(&cmd).and_then(|c| c.collect.as_mut()) else { return false };
        if collect.done || !self.members.has_fast_path() || collect.acks.len() < quorum {
            return false;
        }
        let same = |a: &Rc<Ack>| collect.acks.iter().filter(|b| b.deps == a.deps).count();
        let Some(value) = collect.acks.iter().find(|a| same(a) >= quorum).map(|a| a.deps.clone()) else {
            return false;
        };
        if !self.verify_collected(ctx, cmd) {
            return false;
        }
        self.fast_commit(ctx, cmd, value);
        true
    }

    /// The dependency set a quorum of answers determines: the threshold union, or, when
    /// Wintermute prunes, `floor_union` (the floor of rank f+1 and the implied counts).
    fn dds_union<'a>(&self, sets: impl Iterator<Item = &'a [TxId]>) -> Rc<[TxId]> {
        let threshold = self.union_threshold();
        if !self.prunes() {
            return union(sets, threshold);
        }
        let rank = if self.cfg.bug == Some(PlantedBug::HighestFloor) { 1 } else { threshold };
        floor_union(sets, threshold, rank)
    }

    /// True when answers name per-account anchors (the EPaxos variant, unless told to keep
    /// every dependency).
    fn anchors(&self) -> bool {
        self.members.variant == Variant::Epaxos && !self.cfg.keep_all_deps
    }

    /// True when answers carry floors (Wintermute with a checkpoint interval).
    fn prunes(&self) -> bool {
        self.cfg.checkpoint_interval > 0 && self.members.variant == Variant::Wintermute
    }

    // ---- single-shot PBFT per command ----

    fn cons(&mut self, cmd: TxId) -> &mut Cons {
        self.cmds.entry(cmd).or_default().cons.get_or_insert_with(Box::default)
    }

    fn is_committed(&self, cmd: TxId) -> bool {
        self.cmds.get(&cmd).is_some_and(|c| c.committed.is_some())
    }

    fn on_propose(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, p: Proposal) {
        let cmd = p.tx.id;
        if self.is_committed(cmd) || !self.accept_payload(ctx, &p.tx) {
            return;
        }
        if self.behavior.double_votes() {
            self.vote_for_anything(ctx, cmd, p.view, value_digest(cmd, &p.deps));
        }
        let cons = self.cons(cmd);
        if p.view < cons.view || (p.view == cons.view && cons.accepted.is_some()) {
            return;
        }
        if !self.may_propose(cmd, p.view, from) || !self.justified(ctx, cmd, p.view, &p.deps, &p.why) {
            self.counters.rejected_proofs += 1;
            return;
        }
        let cons = self.cons(cmd);
        if p.view > cons.view {
            cons.view = p.view;
        }
        cons.accepted = Some(p.deps.clone());
        let value = value_digest(cmd, &p.deps);
        ctx.set_timer(LlTimer::View(cmd), self.view_timeout(p.view));
        let sig = ctx.sign(vote_digest(Phase::Prepare, cmd, p.view, value));
        self.broadcast(ctx, LlMsg::Vote { phase: Phase::Prepare, cmd, view: p.view, value, sig });
        self.check_votes(ctx, cmd, p.view, value);
    }

    /// Who may propose in `view`: anyone in view 0, whose proposal must carry a DDS quorum of
    /// signed replies (several coordinators of one command are safe: a correct replica
    /// accepts one proposal per view, so at most one value gathers a prepare quorum in it);
    /// in later views only the leader every replica derives from the command alone.
    fn may_propose(&self, cmd: TxId, view: u32, from: NodeId) -> bool {
        view == 0 || from == self.members.leader(cmd, view)
    }

    fn view_timeout(&self, view: u32) -> Span {
        self.cfg.view_timeout.saturating_mul(1 << view.min(10))
    }

    /// Checks a proposal's proof: the value must follow from the replies (view 0) or from the
    /// view changes (later views).
    fn justified(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId, view: u32, deps: &[TxId], why: &Justification) -> bool {
        let expected = match (view, why) {
            (0, Justification::Replies(acks)) => {
                if !self.valid_ack_set(ctx, cmd, acks.iter().map(|a| &**a), self.dds_quorum()) {
                    return false;
                }
                self.dds_union(acks.iter().map(|a| &a.deps[..]))
            }
            (v, Justification::ViewChanges(vcs)) if v > 0 => match self.value_from_view_changes(ctx, cmd, v, vcs) {
                Some(value) => value,
                None => return false,
            },
            _ => return false,
        };
        *expected == *deps
    }

    fn valid_ack_set<'a>(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        cmd: TxId,
        acks: impl Iterator<Item = &'a Ack>,
        quorum: usize,
    ) -> bool {
        let mut signers = sim_core::NodeSet::new();
        let acks: Vec<&Ack> = acks.collect();
        for ack in &acks {
            if !signers.insert(ack.signer()) || !self.well_formed_ack(ctx, ack, cmd) {
                return false;
            }
        }
        signers.len() >= quorum && self.verify_acks(ctx, &acks)
    }

    /// The value a leader of `view` must propose given these view changes: the highest
    /// prepared value, or else the union of the replies they carry. `None` if they are not a
    /// valid quorum.
    fn value_from_view_changes(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        cmd: TxId,
        view: u32,
        vcs: &[ViewChange],
    ) -> Option<Rc<[TxId]>> {
        let mut signers = sim_core::NodeSet::new();
        for vc in vcs {
            if vc.cmd != cmd || vc.view != view || !signers.insert(vc.sig.signer()) || !self.valid_view_change(ctx, vc)
            {
                return None;
            }
        }
        if signers.len() < self.view_change_quorum() {
            return None;
        }
        Some(self.new_view_value(vcs))
    }

    /// What a quorum of view changes fixes: the highest prepared value, or else the union of
    /// the replies they carry.
    fn new_view_value(&self, vcs: &[ViewChange]) -> Rc<[TxId]> {
        let highest = vcs.iter().filter_map(|vc| vc.prepared.as_ref()).max_by_key(|p| p.view);
        match highest.filter(|_| self.cfg.bug != Some(PlantedBug::IgnorePreparedValues)) {
            Some(p) => p.deps.clone(),
            None => self.dds_union(vcs.iter().map(|vc| &vc.ack.deps[..])),
        }
    }

    fn valid_view_change(&mut self, ctx: &mut Ctx<'_, Self>, vc: &ViewChange) -> bool {
        let signer = vc.sig.signer();
        let digest = ViewChange::digest(vc.cmd, vc.view, &vc.ack, vc.prepared.as_deref());
        if signer.0 >= self.members.n || vc.ack.signer() != signer || !ctx.verify(&vc.sig, signer, digest) {
            return false;
        }
        if !self.valid_ack(ctx, &vc.ack, vc.cmd) {
            return false;
        }
        match &vc.prepared {
            None => true,
            Some(p) => {
                let value = value_digest(vc.cmd, &p.deps);
                let digest = vote_digest(Phase::Prepare, vc.cmd, p.view, value);
                p.view < vc.view && ctx.verify_aggregate(&p.cert, digest, self.pbft_quorum())
            }
        }
    }

    fn on_vote(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, vote: Vote) {
        let Vote { phase, cmd, view, value, sig } = vote;
        // Votes are checked together, as one aggregate, once a quorum is in (`certificate`):
        // one pairing check per quorum instead of one per vote, as BLS deployments do.
        if self.is_committed(cmd) || sig.signer() != from || sig.digest() != vote_digest(phase, cmd, view, value) {
            return;
        }
        if self.behavior.double_votes() && from != self.me {
            self.vote_for_anything(ctx, cmd, view, value);
        }
        if self.cons(cmd).votes.add((phase, view, value), sig).is_some() {
            self.check_votes(ctx, cmd, view, value);
        }
    }

    /// Moves the instance on when a quorum of prepares or commits for the accepted value is in.
    fn check_votes(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId, view: u32, value: u64) {
        let quorum = self.pbft_quorum();
        let cons = self.cons(cmd);
        let Some(deps) = cons.accepted.clone().filter(|d| cons.view == view && value_digest(cmd, d) == value) else {
            return;
        };
        if cons.votes.count(&(Phase::Prepare, view, value)) >= quorum
            && cons.commit_voted != view + 1
            && let Some(cert) = self.certificate(ctx, cmd, (Phase::Prepare, view, value))
        {
            let prepared = Rc::new(Prepared { view, deps: deps.clone(), cert });
            self.note_prepared(cmd, &prepared);
            let cons = self.cons(cmd);
            cons.prepared = Some(prepared);
            cons.commit_voted = view + 1;
            let sig = ctx.sign(vote_digest(Phase::Commit, cmd, view, value));
            self.broadcast(ctx, LlMsg::Vote { phase: Phase::Commit, cmd, view, value, sig });
        }
        let cons = self.cons(cmd);
        if cons.commit_voted == view + 1
            && cons.votes.count(&(Phase::Commit, view, value)) >= quorum
            && let Some(cert) = self.certificate(ctx, cmd, (Phase::Commit, view, value))
        {
            ctx.record(LlRecord::Decided { cmd, view, value });
            let proposer = self.cons(cmd).proposed.contains(&view);
            let tx = self.cmds[&cmd].tx.expect("accepted with its payload");
            let proof = CommitProof::Decided { view, cert };
            self.counters.slow_commits += 1;
            self.commit(ctx, tx, deps.clone(), proof.clone(), CommitPath::Decided(view));
            if proposer {
                self.broadcast(ctx, LlMsg::Commit { tx, deps, proof });
            }
        }
    }

    /// Aggregates a quorum of votes and verifies the aggregate once; if that fails (some vote
    /// is bad), checks them one by one and drops the bad ones. `None` if no quorum is left.
    fn certificate(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        cmd: TxId,
        key: (Phase, u32, u64),
    ) -> Option<AggregateSignature> {
        let quorum = self.pbft_quorum();
        let digest = vote_digest(key.0, cmd, key.1, key.2);
        let sigs = self.cons(cmd).votes.get(&key).to_vec();
        if let Some(agg) = ctx.aggregate(&sigs)
            && ctx.verify_aggregate(&agg, digest, quorum)
        {
            return Some(agg);
        }
        let good: Vec<Signature> = sigs.into_iter().filter(|s| ctx.verify(s, s.signer(), digest)).collect();
        self.cons(cmd).votes.retain(&key, |s| good.contains(s));
        if good.len() >= quorum { ctx.aggregate(&good) } else { None }
    }

    // ---- view change and recovery ----

    fn start_view_change(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId, view: u32) {
        let leader = self.members.leader(cmd, view);
        let Some(ack) = self.my_ack(ctx, cmd, leader) else { return };
        let cons = self.cons(cmd);
        cons.view = view;
        cons.accepted = None;
        let prepared = cons.prepared.clone();
        let (ack, prepared) = if self.behavior.lies_in_view_changes() {
            self.view_change_lie(ctx, cmd, ack, prepared)
        } else {
            (ack, prepared)
        };
        let sig = ctx.sign(ViewChange::digest(cmd, view, &ack, prepared.as_deref()));
        let vc = ViewChange { cmd, view, ack, prepared, sig };
        self.counters.view_changes += 1;
        ctx.note(Note::ViewChange { instance: cmd.0, view: u64::from(view) });
        ctx.set_timer(LlTimer::View(cmd), self.view_timeout(view));
        if leader == self.me {
            self.on_view_change(ctx, self.me, vc);
        } else {
            self.send(ctx, leader, LlMsg::ViewChange { vc });
        }
    }

    fn on_view_change(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, vc: ViewChange) {
        let (cmd, view) = (vc.cmd, vc.view);
        if self.cmds.get(&cmd).is_none_or(|c| c.tx.is_none()) {
            return;
        }
        if self.is_committed(cmd) {
            return self.send_commit(ctx, from, cmd);
        }
        if view == 0 || vc.sig.signer() != from || self.members.leader(cmd, view) != self.me {
            return;
        }
        let cons = self.cons(cmd);
        if cons.proposed.contains(&view)
            || cons.view_changes.get(&view).is_some_and(|v| v.iter().any(|x| x.sig.signer() == from))
        {
            return;
        }
        if !self.valid_view_change(ctx, &vc) {
            return;
        }
        let quorum = self.view_change_quorum();
        let cons = self.cons(cmd);
        let vcs = cons.view_changes.entry(view).or_default();
        vcs.push(vc);
        if vcs.len() < quorum {
            return;
        }
        let vcs: Rc<[ViewChange]> = cons.view_changes.remove(&view).expect("collected").into();
        cons.proposed.insert(view);
        let tx = self.cmds[&cmd].tx.expect("a view change needs the payload");
        if self.behavior.equivocates_proposals() {
            return self.equivocate_new_view(ctx, tx, view, vcs);
        }
        let deps = if self.behavior == Behavior::ProposeWithoutProof {
            self.note_byzantine(ctx, "propose_without_proof", cmd);
            self.cmds[&cmd].deps.clone().expect("own answer")
        } else {
            self.new_view_value(&vcs)
        };
        let msg = LlMsg::Propose { tx, view, deps, why: Justification::ViewChanges(vcs) };
        self.broadcast(ctx, msg);
    }

    fn send_commit(&self, ctx: &mut Ctx<'_, Self>, to: NodeId, cmd: TxId) {
        let c = &self.cmds[&cmd];
        let (Some(tx), Some(done)) = (c.tx, c.committed.as_ref()) else { return };
        if to != self.me {
            let (deps, proof) = (done.0.clone(), done.1.clone());
            self.send(ctx, to, LlMsg::Commit { tx, deps, proof });
        }
    }

    fn on_view_timer(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId) {
        if self.is_committed(cmd) {
            return;
        }
        let next = self.cons(cmd).view + 1;
        self.start_view_change(ctx, cmd, next);
    }

    fn on_recover_request(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, tx: Tx) {
        if !self.accept_payload(ctx, &tx) {
            return;
        }
        if self.is_committed(tx.id) {
            return self.send_commit(ctx, from, tx.id);
        }
        // Join the recovery unless a view change is already under way here.
        if self.cons(tx.id).view == 0 {
            self.start_view_change(ctx, tx.id, 1);
        }
    }

    fn on_fetch(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, cmd: TxId) {
        let Some(c) = self.cmds.get(&cmd) else { return };
        let Some(tx) = c.tx else { return };
        if c.committed.is_some() {
            self.send_commit(ctx, from, cmd);
        } else {
            self.send(ctx, from, LlMsg::Payload { tx });
        }
    }

    /// Asks the others to finish commands that are overdue, and fetches the payloads of
    /// dependencies this replica never saw.
    fn on_scan(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.scan_armed = false;
        let now = ctx.now();
        let timeout = self.cfg.recovery_timeout;
        let overdue: Vec<TxId> = self
            .uncommitted
            .iter()
            .copied()
            .filter(|id| {
                let c = &self.cmds[id];
                let since = c.recovery_asked.unwrap_or(c.first_seen);
                since + timeout <= now
            })
            // Oldest first (ids follow submission), and a bounded number per scan: under
            // overload every command is late, and recovering all of them at once only adds
            // work to saturated replicas (a congestion collapse).
            .take(MAX_RECOVERIES_PER_SCAN)
            .collect();
        for id in overdue {
            let c = self.cmds.get_mut(&id).expect("known");
            c.recovery_asked = Some(now);
            let tx = c.tx.expect("known");
            self.counters.recoveries += 1;
            ctx.record(LlRecord::Recovering { cmd: id });
            ctx.note(Note::Recovery { instance: id.0 });
            self.broadcast(ctx, LlMsg::Recover { tx });
        }
        for id in self.exec.blocked_on() {
            if self.cmds.get(&id).is_some_and(|c| c.tx.is_some()) {
                continue;
            }
            let asked = self.fetch_asked.get(&id).copied();
            if asked.is_none_or(|t| t + timeout <= now) {
                self.fetch_asked.insert(id, now);
                self.broadcast(ctx, LlMsg::Fetch { cmd: id });
            }
        }
        if !self.uncommitted.is_empty() || !self.fetch_asked.is_empty() {
            self.arm_scan(ctx);
        }
    }

    // ---- commit and execution ----

    fn on_commit(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx, deps: Rc<[TxId]>, proof: CommitProof) {
        if self.is_committed(tx.id) {
            return;
        }
        let valid = self.cfg.bug == Some(PlantedBug::CommitWithoutProof)
            || match &proof {
                CommitProof::Fast(agg) => {
                    self.members.has_fast_path()
                        && ctx.verify_aggregate(agg, ack_digest(tx.id, &deps), self.fast_quorum())
                }
                CommitProof::Decided { view, cert } => {
                    let digest = vote_digest(Phase::Commit, tx.id, *view, value_digest(tx.id, &deps));
                    ctx.verify_aggregate(cert, digest, self.pbft_quorum())
                }
            };
        if !valid || !self.accept_payload(ctx, &tx) {
            self.counters.rejected_proofs += 1;
            return;
        }
        self.commit(ctx, tx, deps, proof, CommitPath::Learned);
    }

    fn commit(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx, deps: Rc<[TxId]>, proof: CommitProof, path: CommitPath) {
        let c = self.cmds.get_mut(&tx.id).expect("committed commands are known");
        assert!(c.committed.is_none(), "a command commits once");
        c.committed = Some(Rc::new((deps.clone(), proof)));
        // What is left to answer laggards is the payload and the decision with its proof.
        let coordinated = c.collect.take().map(|k| (k.proposed_at, c.first_seen));
        c.cons = None;
        c.ack = None;
        c.deps = None;
        self.uncommitted.remove(&tx.id);
        self.fetch_asked.remove(&tx.id);
        ctx.cancel_timer(LlTimer::FastPath(tx.id));
        ctx.cancel_timer(LlTimer::View(tx.id));
        ctx.committed(&tx);
        if let Some((proposed_at, arrived)) = coordinated {
            report_coordinated(ctx, tx, proposed_at, arrived);
        }
        let anchored = self.anchors();
        ctx.record(LlRecord::Committed { tx, deps: deps.clone(), path, anchored });
        self.exec.commit(tx, &deps);
        self.execute(ctx);
    }

    fn execute(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.cfg.bug == Some(PlantedBug::ExecutorNeverRuns) {
            return;
        }
        let anchors = self.anchors();
        let (ledger, executed_set, members) = (&mut self.ledger, &mut self.executed_set, &mut self.members);
        let held = self.cfg.bug == Some(PlantedBug::HeldNonces);
        let mut ran_txs: Vec<Tx> = Vec::new();
        let ran = self.exec.execute_stable(|tx| {
            if anchors {
                ran_txs.push(*tx);
            }
            *executed_set ^= splitmix64(tx.id.0);
            if is_reconfiguration(tx) {
                // Same members and keys (membership is static per run): a new epoch begins.
                members.epoch += 1;
                ctx.record(LlRecord::Epoch { epoch: members.epoch, barrier: tx.id });
            }
            ctx.record(LlRecord::Executed { tx: *tx });
            let mut settle = |settled: &Tx, settlement: Settlement| {
                ctx.executed(settled);
                ctx.record(LlRecord::Settled { tx: *settled, settlement });
                ctx.reply(settled, settlement.outcome.code());
            };
            if held {
                ledger.execute(tx, settle);
            } else {
                settle(tx, ledger.settle(tx));
            }
        });
        for tx in &ran_txs {
            self.unindex_executed(tx);
        }
        if ran > 0 {
            let record = LlRecord::ExecutedBatch { executed_set: self.executed_set, state: self.ledger.state_digest() };
            ctx.record(record);
        }
    }
}

/// A vote's fields, passed to its handler in one piece.
struct Vote {
    phase: Phase,
    cmd: TxId,
    view: u32,
    value: u64,
    sig: Signature,
}

/// A proposal's fields, passed to its handler in one piece.
struct Proposal {
    tx: Tx,
    view: u32,
    deps: Rc<[TxId]>,
    why: Justification,
}

fn with_extra(deps: &[TxId], extra: TxId) -> Rc<[TxId]> {
    let mut v = deps.to_vec();
    if let Err(i) = v.binary_search(&extra) {
        v.insert(i, extra);
    }
    v.into()
}

/// Wintermute's union of answers that carry floors. The command's floor is the `rank`-th
/// highest floor among the answers (rank f+1: some correct replica executed every id below it
/// before it saw the command). A named id at or above that floor enters if at least
/// `threshold` answers report it, each either by naming it or by a floor above it (a correct
/// replica that executed it before seeing the command prunes it from its answer: counting only
/// names would lose it when correct replicas prune at different points). Ids below the floor
/// are not named: the floor orders them. The result is sorted, the floor last among real ids.
pub fn floor_union<'a>(sets: impl Iterator<Item = &'a [TxId]>, threshold: usize, rank: usize) -> Rc<[TxId]> {
    // Per answer, its names at or above its own floor (below, the floor reports them already:
    // an answer counts once per id), counted per id; and the floors, ascending.
    let mut names: BTreeMap<TxId, usize> = BTreeMap::new();
    let mut floors: Vec<u64> = Vec::new();
    for set in sets {
        let own = floor_of(set);
        floors.push(own);
        let mut ids: Vec<TxId> = named(set).filter(|d| d.0 >= own).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            *names.entry(id).or_default() += 1;
        }
    }
    floors.sort_unstable();
    let floor = floors.len().checked_sub(rank.max(1)).map_or(0, |i| floors[i]);
    // Answers whose floor lies above `y` report it too.
    let implied = |y: TxId| floors.len() - floors.partition_point(|&l| l <= y.0);
    let mut deps: Vec<TxId> =
        names.range(TxId(floor)..).filter(|&(&y, &count)| count + implied(y) >= threshold).map(|(&y, _)| y).collect();
    if floor > 0 {
        deps.push(floor_marker(floor));
    }
    deps.sort_unstable();
    deps.into()
}

/// The dependencies reported in at least `threshold` of the sets (each set counted once per
/// id), in ascending order.
pub fn union<'a>(sets: impl Iterator<Item = &'a [TxId]>, threshold: usize) -> Rc<[TxId]> {
    let mut counts: BTreeMap<TxId, usize> = BTreeMap::new();
    for set in sets {
        let mut ids = set.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            *counts.entry(id).or_default() += 1;
        }
    }
    counts.into_iter().filter(|&(_, c)| c >= threshold).map(|(id, _)| id).collect()
}

/// The references' latencies, reported by a command's coordinator when it commits it: its
/// PBFT proposal (slow path only: the fast path proposes nothing) and its arrival here.
fn report_coordinated(ctx: &mut Ctx<'_, Leaderless>, tx: Tx, proposed_at: Option<Time>, arrived: Time) {
    if let Some(at) = proposed_at {
        ctx.proposal_committed(at, &[tx]);
    }
    ctx.proposer_committed(tx.id, arrived);
}

impl Protocol for Leaderless {
    type Message = Envelope;
    type Timer = LlTimer;
    type Record = LlRecord;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.me = ctx.me();
        assert_eq!((ctx.n(), ctx.f()), (self.members.n, self.members.f), "membership matches the run");
        if self.behavior == Behavior::Silent {
            ctx.note(Note::Byzantine { action: "silent", about: 0 });
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Envelope) {
        if self.behavior == Behavior::Silent {
            return;
        }
        match msg.msg {
            LlMsg::Announce { tx, floor } => self.on_announce(ctx, from, tx, floor),
            LlMsg::Reply { ack } => self.on_reply(ctx, from, ack),
            LlMsg::Propose { tx, view, deps, why } => self.on_propose(ctx, from, Proposal { tx, view, deps, why }),
            LlMsg::Vote { phase, cmd, view, value, sig } => {
                self.on_vote(ctx, from, Vote { phase, cmd, view, value, sig })
            }
            LlMsg::ViewChange { vc } => self.on_view_change(ctx, from, vc),
            LlMsg::Commit { tx, deps, proof } => self.on_commit(ctx, tx, deps, proof),
            LlMsg::Recover { tx } => self.on_recover_request(ctx, from, tx),
            LlMsg::Fetch { cmd } => self.on_fetch(ctx, from, cmd),
            LlMsg::Payload { tx } => {
                self.accept_payload(ctx, &tx);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: LlTimer) {
        if self.behavior == Behavior::Silent {
            return;
        }
        match timer {
            LlTimer::FastPath(cmd) => {
                if let Some(collect) = self.cmds.get_mut(&cmd).and_then(|c| c.collect.as_mut()) {
                    collect.wait_over = true;
                    self.try_finish_discovery(ctx, cmd);
                }
            }
            LlTimer::View(cmd) => self.on_view_timer(ctx, cmd),
            LlTimer::RecoveryScan => self.on_scan(ctx),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx) {
        if self.behavior != Behavior::Silent {
            self.coordinate(ctx, tx);
        }
    }

    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        // State is durable; timers were lost.
        self.scan_armed = false;
        self.arm_scan(ctx);
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        let (components, in_components, largest) = self.exec.component_stats();
        vec![
            ("fast_commits", self.counters.fast_commits),
            ("slow_commits", self.counters.slow_commits),
            ("recoveries_started", self.counters.recoveries),
            ("view_changes", self.counters.view_changes),
            ("rejected_proofs", self.counters.rejected_proofs),
            ("executed", self.exec.executed_count()),
            ("components", components),
            ("component_commands", in_components),
            ("component_max", largest),
            ("ledger_rejected", self.ledger.rejected()),
            ("epoch", self.members.epoch as u64),
        ]
    }

    /// The epoch and executed prefix, what execution waits for, the commands not executed
    /// here (those not committed first), at most `DEBUG_COMMANDS_MAX`, and the last ones
    /// executed, one line each.
    fn debug_state(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let exec = &self.exec;
        let _ = writeln!(
            out,
            "replica {} ({}), epoch {}, executed prefix {}, executed {} of {} committed",
            self.me.0,
            self.behavior.name(),
            self.members.epoch,
            exec.executed_prefix(),
            exec.executed_count(),
            exec.committed_count()
        );
        let blocked = exec.blocked_on();
        if !blocked.is_empty() {
            let ids: Vec<u64> = blocked.iter().take(8).map(|d| d.0).collect();
            let _ = writeln!(out, "execution waits for {} commands: {ids:?}", blocked.len());
        }
        // Commands not committed first (what recovery waits on), then those committed and
        // waiting to execute; each group oldest first.
        let not_executed = self.cmds.iter().filter(|(id, _)| !exec.is_executed(**id));
        let (uncommitted, waiting): (Vec<_>, Vec<_>) = not_executed.partition(|(_, c)| c.committed.is_none());
        let open: Vec<TxId> = uncommitted.into_iter().chain(waiting).map(|(id, _)| *id).collect();
        let last: Vec<TxId> = self.cmds.keys().rev().take(3).copied().filter(|&id| exec.is_executed(id)).collect();
        for &id in open.iter().take(DEBUG_COMMANDS_MAX).chain(last.iter().rev()) {
            self.write_command(&mut out, id);
        }
        if open.len() > DEBUG_COMMANDS_MAX {
            let _ = writeln!(out, "... and {} more not executed", open.len() - DEBUG_COMMANDS_MAX);
        }
        out
    }
}

/// Commands not executed that `debug_state` lists, at most.
const DEBUG_COMMANDS_MAX: usize = 16;

impl Leaderless {
    /// One line on where command `id` stands here.
    fn write_command(&self, out: &mut String, id: TxId) {
        use std::fmt::Write;
        let c = &self.cmds[&id];
        let _ = write!(out, "cmd {}: ", id.0);
        if let Some(done) = &c.committed {
            let how = match &done.1 {
                CommitProof::Fast(_) => "fast".to_string(),
                CommitProof::Decided { view, .. } => format!("decided in view {view}"),
            };
            let state = if self.exec.is_executed(id) { "executed" } else { "not executed" };
            let _ = writeln!(out, "committed {how}, deps {}, {state}", named(&done.0).count());
            return;
        }
        match c.tx {
            Some(_) => {
                let _ = write!(out, "seen at {}", c.first_seen);
            }
            None => out.push_str("payload unknown"),
        }
        if let Some(collect) = &c.collect {
            let _ = write!(
                out,
                ", coordinating: {} answers{}",
                collect.acks.len(),
                if collect.done { ", done" } else { "" }
            );
        }
        if let Some(cons) = &c.cons {
            let accepted = if cons.accepted.is_some() { "accepted" } else { "no value accepted" };
            let _ = write!(out, ", view {} {accepted}", cons.view);
            if let Some(p) = &cons.prepared {
                let _ = write!(out, ", prepared in view {}", p.view);
            }
        }
        if let Some(at) = c.recovery_asked {
            let _ = write!(out, ", recovery asked at {at}");
        }
        out.push('\n');
    }
}
