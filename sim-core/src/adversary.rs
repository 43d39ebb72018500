//! The network adversary: per protocol message (kind, sender, receiver, view) it delays, holds
//! or drops, by a script of rules, at random from the seed's `adversary` stream, or by the
//! per-view partitions of the Twins generator (`TwinsPlan`), which end by view and by time; the
//! random mode may also single out one slow replica, every targeted message to which it delays.
//!
//! It acts where the network has computed a message's arrival, on messages between replicas
//! only (client requests and replies, and a replica's messages to itself, never meet it). Every
//! extra delay is capped by `delay_max`, the scenario's partial-synchrony bound, so the
//! adversary can reorder messages (also on FIFO links) but never stall a link for ever; drops
//! are the one exception, like loss. Matching costs O(rules) per message and allocates nothing.

use crate::NodeId;
use crate::digest::hash_words;
use crate::rng::{SimRng, Streams};
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
    /// When it leaves its sender (the Twins partitions decide its fate by it).
    pub sent: Time,
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
    /// The random attack, and a slow replica besides: every targeted message to `slow` that
    /// is not dropped is delayed (a uniform amount in [0, delay_max]), so its view of the
    /// run lags and reorders against the others' (a replica executing behind the rest).
    RandomSlow {
        attack: RandomAttack,
        slow: NodeId,
    },
    /// Twins (Bano et al.): a message of a partitioned view between two replicas in different
    /// groups of that view is dropped. Messages to or from a twin pass: the twin replica sorts
    /// them among its copies itself, with the same plan.
    Twins(TwinsPlan),
}

/// Most views a Twins plan partitions (its table holds a group per view and node copy).
pub const TWINS_VIEWS_MAX: u64 = 1_000;
/// Most groups per view.
pub const TWINS_GROUPS_MAX: u8 = 8;

/// The Twins generator: for each view 1..=`partitioned_views`, every node copy (copy 0 of
/// each replica, and copy 1 of each twin) is placed in one of `groups` groups; messages of that
/// view cross no group boundary. Later views (and messages without a view) are not partitioned,
/// and neither is any message sent at or after `partition_until` (virtual time), so the network
/// heals and liveness can be checked. The time bound matters: complaints and timeout
/// certificates carry a view too, so a placement in which no group holds a quorum stalls view
/// changes, and the view number alone would never pass `partitioned_views` (the Twins paper
/// bounds its scenarios in rounds, then runs synchronously). A message's fate is decided when
/// it is sent: one dropped before the heal stays lost, one in flight keeps its arrival.
///
/// A view's placement, all drawn from `key` (a pure function of (key, view, node, copy)): each
/// replica's copy goes to a random group, and a twin's other copy to another group (a twin
/// whose copies sit together is just a correct replica in that view). A placement lasts a
/// random run of views (a new one with probability 1/3 per view): the Twins paper's scenarios
/// keep a partition for several rounds, and a chained commit needs three certified views in a
/// row. No group need hold a quorum: such views stall until `partition_until`. Built once per
/// run: a comparison and a lookup per message, nothing allocated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwinsPlan {
    pub partitioned_views: u64,
    pub groups: u8,
    /// Messages sent from this time on are not partitioned (`Time::MAX`: partitions end only
    /// by view).
    pub partition_until: Time,
    /// Which replicas run two copies, by id.
    twins: Vec<bool>,
    /// The group of each node copy per partitioned view, at `(view - 1) * 2n + 2 * node + copy`.
    table: Vec<u8>,
}

impl TwinsPlan {
    pub fn new(key: u64, partitioned_views: u64, groups: u8, f: u32, twins: Vec<bool>) -> TwinsPlan {
        let n = twins.len() as u32;
        assert!(n > 3 * f, "n = {n} cannot tolerate f = {f}");
        assert!((2..=TWINS_GROUPS_MAX).contains(&groups) && partitioned_views <= TWINS_VIEWS_MAX);
        assert!(twins.iter().filter(|&&t| t).count() as u32 <= f, "at most f twins");
        let mut table = Vec::with_capacity(partitioned_views as usize * 2 * n as usize);
        let mut drawn = 1;
        for view in 1..=partitioned_views {
            // A placement lasts a few views (a new one with probability 1/3), so a group can
            // certify a chain before the partition moves: independent views rarely can.
            if hash_words(&[key, view, u64::MAX]).is_multiple_of(3) {
                drawn = view;
            }
            table.extend(Self::place_view(key, drawn, groups, &twins));
        }
        TwinsPlan { partitioned_views, groups, partition_until: Time::MAX, twins, table }
    }

    /// The same plan, with no partition from `at` on, whatever the view.
    pub fn until(self, at: Time) -> TwinsPlan {
        TwinsPlan { partition_until: at, ..self }
    }

    /// The plan of a run of `seed`: its key is the first draw of the seed's `adversary` stream
    /// (the engine's copy of that stream draws nothing in Twins mode).
    pub fn for_seed(seed: u64, partitioned_views: u64, groups: u8, f: u32, twins: Vec<bool>) -> TwinsPlan {
        let key = Streams::new(seed).stream("adversary").next_u64();
        TwinsPlan::new(key, partitioned_views, groups, f, twins)
    }

    /// One view's groups, per node copy (`2 * node + copy`).
    fn place_view(key: u64, view: u64, groups: u8, twins: &[bool]) -> Vec<u8> {
        let draw = |node: usize, what: u64| hash_words(&[key, view, node as u64, what]);
        let mut placed = vec![0u8; 2 * twins.len()];
        for node in 0..twins.len() {
            let first = (draw(node, 1) % groups as u64) as u8;
            let shift = 1 + (draw(node, 2) % (groups as u64 - 1)) as u8;
            let other = (first + shift) % groups;
            let copy = usize::from(twins[node] && draw(node, 3) & 1 == 1);
            placed[2 * node + copy] = first;
            placed[2 * node + (1 - copy)] = other;
        }
        placed
    }

    pub fn n(&self) -> u32 {
        self.twins.len() as u32
    }

    pub fn is_twin(&self, node: NodeId) -> bool {
        self.twins[node.idx()]
    }

    /// The group of a node copy for a message of `view` sent at `sent`; `None` when nothing
    /// partitions it (a later view, or the partitions have ended).
    pub fn group(&self, sent: Time, view: Option<u64>, node: NodeId, copy: u8) -> Option<u8> {
        if sent >= self.partition_until {
            return None;
        }
        let view = view.filter(|&v| v >= 1 && v <= self.partitioned_views)?;
        assert!(copy <= 1 && node.0 < self.n());
        Some(self.table[(view - 1) as usize * 2 * self.twins.len() + 2 * node.idx() + copy as usize])
    }

    /// Whether a message of `view` sent at `sent` goes from node copy `a` to node copy `b`.
    pub fn connected(&self, sent: Time, view: Option<u64>, a: (NodeId, u8), b: (NodeId, u8)) -> bool {
        self.group(sent, view, a.0, a.1) == self.group(sent, view, b.0, b.1)
    }
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
            Mode::Random(attack) => self.random_delay(attack, m, rng, false)?,
            Mode::RandomSlow { attack, slow } => self.random_delay(attack, m, rng, m.to == *slow)?,
            Mode::Twins(plan) => {
                let twin = plan.is_twin(m.from) || plan.is_twin(m.to);
                if !twin && !plan.connected(m.sent, m.view, (m.from, 0), (m.to, 0)) {
                    return None;
                }
                Span::ZERO
            }
        };
        Some(at + extra.min(self.delay_max))
    }

    /// The random attack's extra delay for one message (`None`: dropped); `always` delays
    /// every targeted message that is not dropped.
    fn random_delay(&self, attack: &RandomAttack, m: &MessageMeta, rng: &mut SimRng, always: bool) -> Option<Span> {
        if attack.targets_mask & kind_bit(m.kind) == 0 {
            return Some(Span::ZERO);
        }
        if attack.drop_ppb > 0 && rng.chance_ppb(attack.drop_ppb) {
            return None;
        }
        let delayed = always || (attack.delay_ppb > 0 && rng.chance_ppb(attack.delay_ppb));
        Some(if delayed { Span(rng.below(self.delay_max.0.saturating_add(1))) } else { Span::ZERO })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kind: usize, from: u32, to: u32, view: Option<u64>) -> MessageMeta {
        MessageMeta { kind, from: NodeId(from), to: NodeId(to), view, sent: Time::ZERO }
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

    #[test]
    fn a_slow_replica_gets_every_targeted_message_late() {
        let attack = RandomAttack { targets_mask: kind_bit(0), delay_ppb: 0, drop_ppb: 1 };
        let adv = Adversary { mode: Mode::RandomSlow { attack, slow: NodeId(2) }, delay_max: Span(1_000) };
        let mut rng = Streams::new(9).stream("adversary");
        let mut late = 0;
        for _ in 0..1_000 {
            let at = adv.arrival(&meta(0, 0, 2, None), Time(100), &mut rng).expect("almost never dropped");
            assert!(at <= Time(1_100));
            late += u32::from(at > Time(100));
            assert_eq!(adv.arrival(&meta(0, 0, 1, None), Time(100), &mut rng), Some(Time(100)), "others: delay 0");
            assert_eq!(adv.arrival(&meta(1, 0, 2, None), Time(100), &mut rng), Some(Time(100)), "untargeted");
        }
        assert!(late > 990, "{late}");
    }

    /// A twin's copies are apart, later views and viewless messages pass, placements last
    /// several views, and the plan is a function of its key.
    #[test]
    fn twins_plan_splits_twins_and_heals() {
        let twins = vec![false, false, false, true, false, false, true];
        let plan = TwinsPlan::new(42, 12, 3, 2, twins.clone());
        assert_eq!(plan, TwinsPlan::new(42, 12, 3, 2, twins.clone()));
        assert_ne!(plan, TwinsPlan::new(43, 12, 3, 2, twins));
        for view in 1..=12 {
            for twin in [3, 6] {
                assert_ne!(
                    plan.group(Time::ZERO, Some(view), NodeId(twin), 0),
                    plan.group(Time::ZERO, Some(view), NodeId(twin), 1)
                );
            }
        }
        let same = (2..=12).filter(|&v| {
            (0..7).all(|i| {
                plan.group(Time::ZERO, Some(v), NodeId(i), 0) == plan.group(Time::ZERO, Some(v - 1), NodeId(i), 0)
            })
        });
        assert!(same.count() >= 3, "placements last several views");
        assert!(
            plan.connected(Time::ZERO, Some(13), (NodeId(0), 0), (NodeId(1), 0))
                && plan.connected(Time::ZERO, None, (NodeId(0), 0), (NodeId(3), 1))
        );
        let adv = Adversary { mode: Mode::Twins(plan.clone()), delay_max: Span::ZERO };
        let mut rng = Streams::new(1).stream("adversary");
        for view in 1..=12 {
            for (a, b) in [(0, 1), (1, 2), (2, 4)] {
                let apart = !plan.connected(Time::ZERO, Some(view), (NodeId(a), 0), (NodeId(b), 0));
                let at = adv.arrival(&meta(1, a, b, Some(view)), Time(5), &mut rng);
                assert_eq!(at.is_none(), apart);
            }
            assert_eq!(
                adv.arrival(&meta(1, 0, 3, Some(view)), Time(5), &mut rng),
                Some(Time(5)),
                "twins sort their own"
            );
        }
    }

    /// From `partition_until` on nothing is partitioned, whatever the view: the plan judges a
    /// message by when it was sent, so one sent just before the heal is still dropped.
    #[test]
    fn twins_partitions_end_in_virtual_time() {
        let twins = vec![false, false, false, true];
        let plan = TwinsPlan::new(7, 12, 2, 1, twins).until(Time(1_000));
        let apart: Vec<(u32, u32, u64)> = (1..=12)
            .flat_map(|v| [(0, 1, v), (0, 2, v), (1, 2, v)])
            .filter(|&(a, b, v)| !plan.connected(Time(999), Some(v), (NodeId(a), 0), (NodeId(b), 0)))
            .collect();
        assert!(!apart.is_empty(), "some view splits two correct replicas");
        let adv = Adversary { mode: Mode::Twins(plan.clone()), delay_max: Span::ZERO };
        let mut rng = Streams::new(1).stream("adversary");
        for &(a, b, v) in &apart {
            assert_eq!(plan.group(Time(1_000), Some(v), NodeId(a), 0), None);
            assert!(plan.connected(Time(1_000), Some(v), (NodeId(a), 0), (NodeId(b), 0)));
            let sent = |at| MessageMeta { sent: Time(at), ..meta(1, a, b, Some(v)) };
            assert_eq!(adv.arrival(&sent(999), Time(1_010), &mut rng), None, "sent before the heal");
            assert_eq!(adv.arrival(&sent(1_000), Time(1_010), &mut rng), Some(Time(1_010)));
        }
    }
}
