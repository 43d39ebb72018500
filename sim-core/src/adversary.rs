//! The network adversary: per protocol message (kind, sender, receiver, view) it delays, holds
//! or drops, by a script of rules or at random from the seed's `adversary` stream.
//!
//! It acts where the network has computed a message's arrival, on messages between replicas
//! only (client requests and replies, and a replica's messages to itself, never meet it). Every
//! extra delay is capped by `delay_max`, the scenario's partial-synchrony bound, so the
//! adversary can reorder messages (also on FIFO links) but never stall a link for ever; drops
//! are the one exception, like loss. Matching costs O(rules) per message and allocates nothing.

use crate::NodeId;
use crate::rng::SimRng;
use crate::time::{Span, Time};

/// What the adversary sees of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageMeta {
    /// The index of the message's kind in its protocol's `Message::KINDS`.
    pub kind: usize,
    pub from: NodeId,
    pub to: NodeId,
    /// The view (or round) the protocol reports for it, if any (`Message::view`).
    pub view: Option<u64>,
}

/// What a scripted rule does to the messages it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Arrives this much later.
    Delay(Span),
    /// Arrives no earlier than this virtual time.
    HoldUntil(Time),
    Drop,
}

/// One scripted rule: every set field must match; `kinds` is a bitmask of kind indices (0:
/// any kind); `views` is an inclusive range, and a message without a view matches only rules
/// without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub kinds_mask: u64,
    pub from: Option<NodeId>,
    pub to: Option<NodeId>,
    pub views: Option<(u64, u64)>,
    pub action: Action,
}

impl Rule {
    /// A rule matching every message, doing `action`; narrow it with the builders below.
    pub fn any(action: Action) -> Rule {
        Rule { kinds_mask: 0, from: None, to: None, views: None, action }
    }
    pub fn kind(mut self, kind_idx: usize) -> Rule {
        self.kinds_mask |= kind_bit(kind_idx);
        self
    }
    pub fn from(mut self, node: NodeId) -> Rule {
        self.from = Some(node);
        self
    }
    pub fn to(mut self, node: NodeId) -> Rule {
        self.to = Some(node);
        self
    }
    pub fn views(mut self, first: u64, last: u64) -> Rule {
        assert!(first <= last, "an empty view range");
        self.views = Some((first, last));
        self
    }

    fn matches(&self, m: &MessageMeta) -> bool {
        let kind = self.kinds_mask == 0 || self.kinds_mask & kind_bit(m.kind) != 0;
        let view = match (self.views, m.view) {
            (None, _) => true,
            (Some((lo, hi)), Some(v)) => lo <= v && v <= hi,
            (Some(_), None) => false,
        };
        kind && view && self.from.is_none_or(|f| f == m.from) && self.to.is_none_or(|t| t == m.to)
    }
}

/// The bit of a kind index in a kinds mask (protocols have at most 64 kinds).
pub fn kind_bit(kind_idx: usize) -> u64 {
    assert!(kind_idx < 64, "the adversary handles at most 64 message kinds");
    1 << kind_idx
}

/// The random adversary: each targeted message is dropped with probability `drop_ppb`,
/// otherwise delayed with probability `delay_ppb` by a uniform amount in [0, delay_max].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomAttack {
    /// Kinds it targets (bitmask of kind indices; never 0).
    pub targets_mask: u64,
    pub delay_ppb: u32,
    pub drop_ppb: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Off,
    /// The first matching rule acts; a message no rule matches passes untouched.
    Scripted(Vec<Rule>),
    Random(RandomAttack),
}

/// The adversary of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Adversary {
    pub mode: Mode,
    /// The partial-synchrony bound: no message is delayed by more than this.
    pub delay_max: Span,
}

impl Adversary {
    pub const OFF: Adversary = Adversary { mode: Mode::Off, delay_max: Span::ZERO };

    pub fn scripted(rules: Vec<Rule>, delay_max: Span) -> Adversary {
        Adversary { mode: Mode::Scripted(rules), delay_max }
    }

    pub fn is_off(&self) -> bool {
        self.mode == Mode::Off
    }

    /// When a message the network would deliver at `at` arrives instead; `None`: dropped.
    /// Draws from `rng` only in random mode and only for targeted messages.
    pub fn arrival(&self, m: &MessageMeta, at: Time, rng: &mut SimRng) -> Option<Time> {
        let extra = match &self.mode {
            Mode::Off => Span::ZERO,
            Mode::Scripted(rules) => match rules.iter().find(|r| r.matches(m)).map(|r| r.action) {
                None => Span::ZERO,
                Some(Action::Drop) => return None,
                Some(Action::Delay(d)) => d,
                Some(Action::HoldUntil(t)) => t.saturating_sub(at),
            },
            Mode::Random(attack) => {
                if attack.targets_mask & kind_bit(m.kind) == 0 {
                    return Some(at);
                }
                if attack.drop_ppb > 0 && rng.chance_ppb(attack.drop_ppb) {
                    return None;
                }
                let delayed = attack.delay_ppb > 0 && rng.chance_ppb(attack.delay_ppb);
                if delayed { Span(rng.below(self.delay_max.0.saturating_add(1))) } else { Span::ZERO }
            }
        };
        Some(at + extra.min(self.delay_max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Streams;

    fn meta(kind: usize, from: u32, to: u32, view: Option<u64>) -> MessageMeta {
        MessageMeta { kind, from: NodeId(from), to: NodeId(to), view }
    }

    #[test]
    fn first_matching_rule_wins_and_delays_are_capped() {
        let rules = vec![
            Rule::any(Action::Drop).kind(1).to(NodeId(2)).views(5, 5),
            Rule::any(Action::Delay(Span(7))).kind(1),
            Rule::any(Action::HoldUntil(Time(1_000))).from(NodeId(3)),
        ];
        let adv = Adversary::scripted(rules, Span(500));
        let mut rng = Streams::new(1).stream("adversary");
        assert_eq!(adv.arrival(&meta(1, 0, 2, Some(5)), Time(10), &mut rng), None);
        assert_eq!(adv.arrival(&meta(1, 0, 2, Some(6)), Time(10), &mut rng), Some(Time(17)));
        assert_eq!(adv.arrival(&meta(1, 0, 2, None), Time(10), &mut rng), Some(Time(17)));
        assert_eq!(adv.arrival(&meta(0, 3, 2, None), Time(10), &mut rng), Some(Time(510)), "capped");
        assert_eq!(adv.arrival(&meta(0, 3, 2, None), Time(900), &mut rng), Some(Time(1_000)));
        assert_eq!(adv.arrival(&meta(0, 1, 2, Some(5)), Time(10), &mut rng), Some(Time(10)));
    }

    #[test]
    fn random_attack_touches_only_targets_and_stays_in_bounds() {
        let attack = RandomAttack { targets_mask: kind_bit(0), delay_ppb: 500_000_000, drop_ppb: 100_000_000 };
        let adv = Adversary { mode: Mode::Random(attack), delay_max: Span(1_000) };
        let mut rng = Streams::new(9).stream("adversary");
        let (mut dropped, mut delayed) = (0, 0);
        for i in 0..10_000 {
            match adv.arrival(&meta(0, 0, 1, Some(i)), Time(100), &mut rng) {
                None => dropped += 1,
                Some(at) => {
                    assert!(at >= Time(100) && at <= Time(1_100));
                    delayed += u32::from(at > Time(100));
                }
            }
            assert_eq!(adv.arrival(&meta(1, 0, 1, None), Time(100), &mut rng), Some(Time(100)));
        }
        assert!((800..1_200).contains(&dropped), "{dropped}");
        assert!((4_000..4_900).contains(&delayed), "{delayed}");
    }
}
