//! Planted bugs, for measuring the checkers: a deliberately broken protocol that `explore`
//! must catch. Reachable from `byzsim explore --plant` (hidden) and from the bench, never from
//! a scenario file, and never on by default.

pub use crate::protocols::Planted;
use crate::protocols::ProtocolKind;

/// `Planted` itself, with its protocol, its exploration (`explored_by`: the scenario file, from
/// the repository's root, and overrides that catch it within 200 seeds; each pins one detecting
/// seed in `scenarios/tests/planted.rs` and `cargo xtask bench` measures seeds-to-detection;
/// None for a bug no exploration catches yet, whose test in `protocols/tests` crafts a case)
/// and `apply`, comes from the protocol registry.
impl Planted {
    /// Every planted bug of every protocol.
    pub fn all() -> Vec<Planted> {
        ProtocolKind::ALL.iter().flat_map(|p| p.bugs()).collect()
    }

    /// `protocol/bug`, e.g. `leaderless/plain_union`.
    pub fn name(self) -> String {
        format!("{}/{}", self.protocol().name(), self.bug_name())
    }

    /// Reads `protocol/bug`; the error lists every name.
    pub fn parse(text: &str) -> Result<Planted, String> {
        Planted::all().into_iter().find(|p| p.name() == text).ok_or_else(|| {
            let names: Vec<String> = Planted::all().iter().map(|p| p.name()).collect();
            format!("no planted bug {text:?}; one of: {}", names.join(", "))
        })
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
