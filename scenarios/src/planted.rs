//! Planted bugs, for measuring the checkers: a deliberately broken protocol that `explore`
//! must catch. Reachable from `byzsim explore --plant` (hidden) and from the bench, never from
//! a scenario file, and never on by default.

use protocols::algorand as ag;
use protocols::hotstuff as hs;
use protocols::leaderless as ll;

use crate::lower::Lowered;
use crate::model::ProtocolKind;

/// One planted bug of one protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Planted {
    HotStuff(hs::PlantedBug),
    Leaderless(ll::PlantedBug),
    Algorand(ag::PlantedBug),
}

impl Planted {
    /// Every planted bug of every protocol.
    pub fn all() -> Vec<Planted> {
        let hotstuff = hs::PlantedBug::ALL.iter().map(|&b| Planted::HotStuff(b));
        let leaderless = ll::PlantedBug::ALL.iter().map(|&b| Planted::Leaderless(b));
        hotstuff.chain(leaderless).chain(ag::PlantedBug::ALL.iter().map(|&b| Planted::Algorand(b))).collect()
    }

    pub fn protocol(self) -> ProtocolKind {
        match self {
            Planted::HotStuff(_) => ProtocolKind::HotStuff,
            Planted::Leaderless(_) => ProtocolKind::Leaderless,
            Planted::Algorand(_) => ProtocolKind::Algorand,
        }
    }

    /// `protocol/bug`, e.g. `leaderless/plain_union`.
    pub fn name(self) -> String {
        let bug = match self {
            Planted::HotStuff(b) => b.name(),
            Planted::Leaderless(b) => b.name(),
            Planted::Algorand(b) => b.name(),
        };
        format!("{}/{bug}", (self.protocol()).name())
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
    /// a bug no exploration catches yet (its test in `protocols/tests` crafts a case).
    pub fn explored_by(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            Planted::HotStuff(hs::PlantedBug::ReversedBlocks) => Some(("scenarios/examples/ledger-hotstuff.toml", &[])),
            // Two twins at n = 7 lead views 5, 6, 12 and 13 and make double votes common.
            Planted::HotStuff(hs::PlantedBug::SeveralVotesPerView) => {
                Some(("scenarios/examples/twins-hotstuff-n7.toml", &[]))
            }
            Planted::HotStuff(hs::PlantedBug::VoteIgnoringLock | hs::PlantedBug::QuorumMinusOne) => {
                Some(("scenarios/examples/twins-hotstuff.toml", &[]))
            }
            Planted::Algorand(ag::PlantedBug::TrustAnySync | ag::PlantedBug::LowThreshold) => {
                Some(("scenarios/examples/algorand-attacks.toml", &[]))
            }
            Planted::Leaderless(b) => {
                use ll::PlantedBug as B;
                const EPAXOS: &str = "scenarios/examples/leaderless-pbft-attacks.toml";
                const WINTERMUTE: &str = "scenarios/examples/leaderless-pbft-attacks-wintermute.toml";
                const FLOORS: &str = "scenarios/examples/leaderless-floors.toml";
                const FLOORS_SLOW: &str = "scenarios/examples/leaderless-floors-slow.toml";
                Some(match b {
                    // Bugs of the PBFT layer and of execution, where the EPaxos variant (n = 4)
                    // runs consensus on every command.
                    B::DdsQuorumMinusOne
                    | B::PbftQuorumMinusOne
                    | B::IgnorePreparedValues
                    | B::CommitWithoutProof
                    | B::NonCanonicalSccOrder
                    // The EPaxos variant's anchors (dependency pruning).
                    | B::StaleAnchor => (EPAXOS, &[]),
                    // Wintermute's own rules: the threshold union and the fast path.
                    B::ThresholdF
                    | B::FastPathNMinusOne
                    | B::PlainUnion
                    | B::OmitExecuted
                    | B::HeldNonces
                    | B::ExecutorNeverRuns => (WINTERMUTE, &[]),
                    // Wintermute's floors (dependency pruning): a Byzantine replica claims a
                    // floor above every command it has seen.
                    B::HighestFloor => (FLOORS, &["byzantine=[{behavior=\"invent_deps\", count=1}]"]),
                    // A slow correct replica (every message to it late, up to 600 ms) commits
                    // commands whose floor (every 8 ids) lies above its own executed prefix.
                    B::IgnoreFloors => (FLOORS_SLOW, &[]),
                })
            }
        }
    }

    /// Breaks the lowered protocol configuration every replica is built from.
    pub fn apply(self, lowered: &mut Lowered) {
        match self {
            Planted::HotStuff(b) => lowered.hotstuff.bug = Some(b),
            Planted::Leaderless(b) => lowered.leaderless.bug = Some(b),
            Planted::Algorand(b) => lowered.algorand.bug = Some(b),
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
