//! Planted bugs, for measuring the checkers: a deliberately broken protocol that `explore`
//! must catch. Reachable from `byzsim explore --plant` (hidden) and from the bench, never from
//! a scenario file, and never on by default.

use protocols::hotstuff as hs;
use protocols::leaderless as ll;

use crate::lower::Lowered;
use crate::model::ProtocolKind;
use crate::output::protocol_name;

/// One planted bug of one protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Planted {
    HotStuff(hs::PlantedBug),
    Leaderless(ll::PlantedBug),
}

impl Planted {
    /// Every planted bug of every protocol.
    pub fn all() -> Vec<Planted> {
        let hotstuff = hs::PlantedBug::ALL.iter().map(|&b| Planted::HotStuff(b));
        hotstuff.chain(ll::PlantedBug::ALL.iter().map(|&b| Planted::Leaderless(b))).collect()
    }

    pub fn protocol(self) -> ProtocolKind {
        match self {
            Planted::HotStuff(_) => ProtocolKind::HotStuff,
            Planted::Leaderless(_) => ProtocolKind::Leaderless,
        }
    }

    /// `protocol/bug`, e.g. `leaderless/plain_union`.
    pub fn name(self) -> String {
        let bug = match self {
            Planted::HotStuff(b) => b.name(),
            Planted::Leaderless(b) => b.name(),
        };
        format!("{}/{bug}", protocol_name(self.protocol()))
    }

    /// Reads `protocol/bug`; the error lists every name.
    pub fn parse(text: &str) -> Result<Planted, String> {
        Planted::all().into_iter().find(|p| p.name() == text).ok_or_else(|| {
            let names: Vec<String> = Planted::all().iter().map(|p| p.name()).collect();
            format!("no planted bug {text:?}; one of: {}", names.join(", "))
        })
    }

    /// The exploration that must catch it within 200 seeds: a scenario file (from the
    /// repository's root) and its overrides. Each pins one detecting seed in
    /// `scenarios/tests/planted.rs`; `cargo xtask bench` measures seeds-to-detection. None for
    /// a bug only a crafted workload reaches (its test in `protocols/tests` crafts it).
    pub fn explored_by(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            // Two twins at n = 7 lead views 5, 6, 12 and 13 and make double votes common.
            Planted::HotStuff(hs::PlantedBug::SeveralVotesPerView) => {
                Some(("scenarios/examples/twins-hotstuff-n7.toml", &[]))
            }
            Planted::HotStuff(_) => Some(("scenarios/examples/twins-hotstuff.toml", &[])),
            Planted::Leaderless(b) => match b {
                ll::PlantedBug::PlainUnion => Some((
                    "scenarios/examples/leaderless-byzantine.toml",
                    &["byzantine=[{behavior=\"invent_deps\", count=1}]"],
                )),
                // Scenario workloads send a source's transfers in nonce order from one client:
                // no gap ever opens. protocols/tests/leaderless_ledger.rs crafts the reordering.
                ll::PlantedBug::HeldNonces => None,
                ll::PlantedBug::OmitExecuted | ll::PlantedBug::ExecutorNeverRuns => {
                    Some(("scenarios/examples/leaderless-byzantine.toml", &[]))
                }
            },
        }
    }

    /// Breaks the lowered protocol configuration every replica is built from.
    pub fn apply(self, lowered: &mut Lowered) {
        match self {
            Planted::HotStuff(b) => lowered.hotstuff.bug = Some(b),
            Planted::Leaderless(b) => lowered.leaderless.bug = Some(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_read_back() {
        let all = Planted::all();
        assert!(!all.is_empty());
        for p in &all {
            assert_eq!(Planted::parse(&p.name()), Ok(*p));
            assert_eq!(all.iter().filter(|q| q.name() == p.name()).count(), 1);
        }
        assert!(Planted::parse("hotstuff/none").unwrap_err().contains("one of:"));
    }
}
