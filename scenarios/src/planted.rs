//! Planted bugs, for measuring the checkers: a deliberately broken protocol that `explore`
//! must catch. Reachable from `byzsim explore --plant` (hidden) and from the bench, never from
//! a scenario file, and never on by default.

use protocols::leaderless as ll;

use crate::lower::Lowered;
use crate::model::ProtocolKind;
use crate::output::protocol_name;

/// One planted bug of one protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Planted {
    Leaderless(ll::PlantedBug),
}

impl Planted {
    /// Every planted bug of every protocol.
    pub fn all() -> Vec<Planted> {
        ll::PlantedBug::ALL.iter().map(|&b| Planted::Leaderless(b)).collect()
    }

    pub fn protocol(self) -> ProtocolKind {
        match self {
            Planted::Leaderless(_) => ProtocolKind::Leaderless,
        }
    }

    /// `protocol/bug`, e.g. `leaderless/plain_union`.
    pub fn name(self) -> String {
        let bug = match self {
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

    /// Breaks the lowered protocol configuration every replica is built from.
    pub fn apply(self, lowered: &mut Lowered) {
        match self {
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
