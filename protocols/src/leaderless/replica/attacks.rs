//! The Byzantine behaviours on a command's PBFT instance: equivocating proposals (each with a
//! proof that verifies where one can be built) and forged decisions, double votes, and view
//! changes that hide the prepared value or report a stale one. Correct replicas never run
//! this code; it lives apart from the protocol so the protocol reads as the protocol.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use sim_core::{Ctx, NodeId, Tx, TxId};

use super::{Leaderless, union};
use crate::leaderless::membership::Variant;
use crate::leaderless::types::*;

/// What a Byzantine replica remembers for its attacks.
#[derive(Debug, Default)]
pub(super) struct Attack {
    /// The votes it cast beyond its honest one: (command, phase, view, value).
    voted: BTreeSet<(TxId, Phase, u32, u64)>,
    /// Per command, the first prepared certificate it formed: what a stale view change shows.
    oldest_prepared: BTreeMap<TxId, Rc<Prepared>>,
}

/// A value with the proof that justifies it.
type Justified = (Rc<[TxId]>, Justification);

impl Leaderless {
    /// Remembers the first prepared certificate of `cmd` (view-change liars only).
    pub(super) fn note_prepared(&mut self, cmd: TxId, prepared: &Rc<Prepared>) {
        if self.behavior.lies_in_view_changes() {
            self.attack.oldest_prepared.entry(cmd).or_insert_with(|| prepared.clone());
        }
    }

    /// The dependency answer a liar shows in a view change: every conflicting command it
    /// knows now, signed afresh (a correct replica shows the answer it gave at first sight).
    fn late_answer(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId) -> Option<Rc<Ack>> {
        let tx = self.cmds.get(&cmd)?.tx?;
        let mut deps = self.conflicting_before(&tx);
        deps.retain(|&d| d != cmd);
        let deps: Rc<[TxId]> = deps.into();
        let sig = ctx.sign(ack_digest(cmd, &deps));
        Some(Rc::new(Ack { cmd, deps, sig }))
    }

    /// `ack` with a command no client signed added, signed afresh: it must never reach a value
    /// (a dependency needs f+1 reporters, or a client's signature).
    fn with_invented(&mut self, ctx: &mut Ctx<'_, Self>, ack: &Ack) -> Rc<Ack> {
        let deps = super::with_extra(&ack.deps, invented(ack.cmd));
        let sig = ctx.sign(ack_digest(ack.cmd, &deps));
        Rc::new(Ack { cmd: ack.cmd, deps, sig })
    }

    /// The answer and prepared certificate a liar puts in its view change instead of `ack`
    /// and `prepared`: the late answer, and no certificate (`HidePrepared`), the oldest one
    /// (`StalePrepared`), or the oldest one only where it holds a different value.
    pub(super) fn view_change_lie(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        cmd: TxId,
        ack: Rc<Ack>,
        prepared: Option<Rc<Prepared>>,
    ) -> (Rc<Ack>, Option<Rc<Prepared>>) {
        let action = if self.behavior == Behavior::HidePrepared { "hide_prepared" } else { "stale_prepared" };
        self.note_byzantine(ctx, action, cmd);
        let ack = self.late_answer(ctx, cmd).unwrap_or(ack);
        // Wintermute answers name dependencies without their clients' signatures.
        let wintermute = self.members.variant == Variant::Wintermute;
        let ack = if self.behavior == Behavior::PbftAttack && wintermute { self.with_invented(ctx, &ack) } else { ack };
        let oldest = self.attack.oldest_prepared.get(&cmd).cloned();
        let prepared = match self.behavior {
            Behavior::HidePrepared => None,
            Behavior::StalePrepared => oldest.or(prepared),
            _ => oldest.filter(|o| prepared.as_ref().is_some_and(|p| p.deps != o.deps)),
        };
        (ack, prepared)
    }

    /// A double voter votes prepare and commit for `value` in `view`, once each.
    pub(super) fn vote_for_anything(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId, view: u32, value: u64) {
        for phase in [Phase::Prepare, Phase::Commit] {
            if self.attack.voted.insert((cmd, phase, view, value)) {
                self.note_byzantine(ctx, "double_vote", cmd);
                let sig = ctx.sign(vote_digest(phase, cmd, view, value));
                self.broadcast(ctx, LlMsg::Vote { phase, cmd, view, value, sig });
            }
        }
    }

    /// An equivocating coordinator whose own answer is all that keeps it from a fast path
    /// signs a second answer of its own equal to the others', and takes the fast path with it
    /// (`withhold_fast_decision`). True if it did.
    pub(super) fn echo_for_fast_path(&mut self, ctx: &mut Ctx<'_, Self>, cmd: TxId) -> bool {
        let (me, need) = (self.me, self.fast_quorum() - 1);
        let Some(collect) = self.cmds.get(&cmd).and_then(|c| c.collect.as_ref()) else { return false };
        let Some(own) = collect.acks.iter().position(|a| a.signer() == me) else { return false };
        let others: Vec<&Rc<Ack>> = collect.acks.iter().filter(|a| a.signer() != me).collect();
        if collect.done || !self.members.has_fast_path() || others.len() < need {
            return false;
        }
        let same = |a: &Rc<Ack>| others.iter().filter(|b| b.deps == a.deps).count();
        let Some(deps) = others.iter().find(|a| same(a) >= need).map(|a| a.deps.clone()) else { return false };
        if collect.acks[own].deps == deps {
            return false;
        }
        let sig = ctx.sign(ack_digest(cmd, &deps));
        let collect = self.cmds.get_mut(&cmd).and_then(|c| c.collect.as_mut()).expect("collecting");
        collect.acks[own] = Rc::new(Ack { cmd, deps: deps.clone(), sig });
        if !self.verify_collected(ctx, cmd) {
            return false;
        }
        self.fast_commit(ctx, cmd, deps);
        true
    }

    /// An equivocating coordinator with a fast-path proof: tells one replica of the decision
    /// (without committing itself: it joins the others' recovery with lies), then runs view 0
    /// as if it had none, with two proposals.
    pub(super) fn withhold_fast_decision(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        tx: Tx,
        deps: Rc<[TxId]>,
        proof: CommitProof,
    ) {
        let to = NodeId((self.me.0 + 1) % self.members.n);
        self.note_byzantine(ctx, "equivocate_proposal", tx.id);
        self.send(ctx, to, LlMsg::Commit { tx, deps, proof });
        self.slow_path(ctx, tx.id);
    }

    /// An equivocating coordinator's view 0: the value of all the replies it collected to
    /// one half, another justified value (if it can build one) to the other half.
    pub(super) fn equivocate_first_view(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        tx: Tx,
        first: Rc<[TxId]>,
        acks: Rc<[Rc<Ack>]>,
    ) {
        self.cons(tx.id).proposed.insert(0);
        let second = self.second_reply_proof(ctx, tx.id, &acks, &first);
        self.propose_two(ctx, tx, 0, (first, Justification::Replies(acks)), second);
    }

    /// Another quorum of replies with a different value: without one of the others' replies,
    /// or with a second answer of its own (its late answer, its answer without its last
    /// dependency, or with a real command that does not conflict).
    fn second_reply_proof(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        cmd: TxId,
        acks: &[Rc<Ack>],
        first: &[TxId],
    ) -> Option<Justified> {
        let (quorum, threshold) = (self.dds_quorum(), self.union_threshold());
        let value = |set: &[Rc<Ack>]| union(set.iter().map(|a| &a.deps[..]), threshold);
        if acks.len() > quorum {
            for skip in (0..acks.len()).filter(|&i| acks[i].signer() != self.me) {
                let mut set = acks.to_vec();
                set.remove(skip);
                let v = value(&set);
                if *v != *first {
                    return Some((v, Justification::Replies(set.into())));
                }
            }
        }
        let own = acks.iter().position(|a| a.signer() == self.me)?;
        for deps in self.other_answers(cmd) {
            let sig = ctx.sign(ack_digest(cmd, &deps));
            let mut set = acks.to_vec();
            set[own] = Rc::new(Ack { cmd, deps, sig });
            let v = value(&set);
            if *v != *first {
                return Some((v, Justification::Replies(set.into())));
            }
        }
        None
    }

    /// Answers other than its first one that it could sign for `cmd`, all naming real commands.
    fn other_answers(&self, cmd: TxId) -> Vec<Rc<[TxId]>> {
        let Some(c) = self.cmds.get(&cmd) else { return Vec::new() };
        let (Some(tx), Some(honest)) = (c.tx, c.deps.clone()) else { return Vec::new() };
        let mut late = self.conflicting_before(&tx);
        late.retain(|&d| d != cmd);
        let mut answers: Vec<Rc<[TxId]>> = vec![late.into(), Rc::from(&honest[..honest.len().saturating_sub(1)])];
        if let Some(extra) = self.irrelevant_to(cmd) {
            answers.push(super::with_extra(&honest, extra));
        }
        answers.push(super::with_extra(&honest, invented(cmd)));
        answers.retain(|a| *a != honest);
        answers
    }

    /// An equivocating leader of `view`: the value of the view changes it collected to one
    /// half, to the other the value they give with its own view change swapped for a lie.
    pub(super) fn equivocate_new_view(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx, view: u32, vcs: Rc<[ViewChange]>) {
        let first = self.new_view_value(&vcs);
        let second = self.second_view_change_proof(ctx, tx.id, view, &vcs, &first);
        self.propose_two(ctx, tx, view, (first, Justification::ViewChanges(vcs)), second);
    }

    fn second_view_change_proof(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        cmd: TxId,
        view: u32,
        vcs: &[ViewChange],
        first: &[TxId],
    ) -> Option<Justified> {
        let own = vcs.iter().position(|vc| vc.sig.signer() == self.me)?;
        let honest = vcs[own].ack.clone();
        let late = self.late_answer(ctx, cmd).unwrap_or_else(|| honest.clone());
        let oldest = self.attack.oldest_prepared.get(&cmd).cloned().filter(|p| p.view < view);
        let options = [(late.clone(), None), (honest.clone(), None), (late, oldest.clone()), (honest, oldest)];
        for (ack, prepared) in options {
            let sig = ctx.sign(ViewChange::digest(cmd, view, &ack, prepared.as_deref()));
            let mut set = vcs.to_vec();
            set[own] = ViewChange { cmd, view, ack, prepared, sig };
            let v = self.new_view_value(&set);
            if *v != *first {
                return Some((v, Justification::ViewChanges(set.into())));
            }
        }
        None
    }

    /// Sends `second` (or `first`, if there is none) to the PBFT quorum - 1 replicas after it
    /// (with its own votes, enough for a quorum) and `first` to the others and itself; the
    /// replicas that get `second` also get a decision of `first` without its last dependency,
    /// whose certificate is its own commit vote alone.
    fn propose_two(&mut self, ctx: &mut Ctx<'_, Self>, tx: Tx, view: u32, first: Justified, second: Option<Justified>) {
        self.note_byzantine(ctx, "equivocate_proposal", tx.id);
        let forged: Rc<[TxId]> = Rc::from(&first.0[..first.0.len().saturating_sub(1)]);
        let a = LlMsg::Propose { tx, view, deps: first.0, why: first.1 };
        let b = second.map(|(deps, why)| LlMsg::Propose { tx, view, deps, why });
        let sig = ctx.sign(vote_digest(Phase::Commit, tx.id, view, value_digest(tx.id, &forged)));
        let proof = CommitProof::Decided { view, cert: ctx.aggregate(&[sig]).expect("one signature") };
        let decision = LlMsg::Commit { tx, deps: forged, proof };
        let (n, second_count) = (self.members.n, self.pbft_quorum() as u32 - 1);
        for k in 0..n {
            let to = NodeId((self.me.0 + k) % n);
            let gets_second = (1..=second_count).contains(&k);
            let msg = match &b {
                Some(b) if gets_second => b.clone(),
                _ => a.clone(),
            };
            self.send(ctx, to, msg);
            if gets_second {
                self.send(ctx, to, decision.clone());
            }
        }
    }
}

/// A command id no client signed (far above any real one).
fn invented(cmd: TxId) -> TxId {
    TxId(u64::MAX - cmd.0 % 7)
}
