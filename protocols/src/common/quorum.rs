//! Quorum arithmetic and a vote collector that only counts distinct signers.

use std::collections::BTreeMap;

use sim_core::{NodeId, Signature};

/// n - f: the size of a Byzantine quorum when n >= 3f+1.
pub fn byzantine_quorum(n: u32, f: u32) -> usize {
    assert!(n > 3 * f, "n = {n} cannot tolerate f = {f}");
    (n - f) as usize
}

/// Signatures gathered per key (a view and a block, a view alone...), one per signer.
#[derive(Clone, Debug)]
pub struct Votes<K: Ord> {
    by_key: BTreeMap<K, Vec<Signature>>,
}

impl<K: Ord + Copy> Default for Votes<K> {
    fn default() -> Self {
        Votes { by_key: BTreeMap::new() }
    }
}

impl<K: Ord + Copy> Votes<K> {
    /// Adds a signature already verified against `key`'s digest; returns the number of
    /// distinct signers for `key` afterwards, or `None` if this signer had already voted.
    pub fn add(&mut self, key: K, sig: Signature) -> Option<usize> {
        let sigs = self.by_key.entry(key).or_default();
        if sigs.iter().any(|s| s.signer() == sig.signer()) {
            return None;
        }
        sigs.push(sig);
        Some(sigs.len())
    }

    pub fn get(&self, key: &K) -> &[Signature] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }

    pub fn count(&self, key: &K) -> usize {
        self.get(key).len()
    }

    pub fn has_signed(&self, key: &K, node: NodeId) -> bool {
        self.get(key).iter().any(|s| s.signer() == node)
    }

    /// Keeps only the signatures of `key` that `keep` accepts.
    pub fn retain(&mut self, key: &K, keep: impl FnMut(&Signature) -> bool) {
        if let Some(sigs) = self.by_key.get_mut(key) {
            sigs.retain(keep);
        }
    }

    /// Forgets every key below `floor`.
    pub fn prune_below(&mut self, floor: K) {
        self.by_key = self.by_key.split_off(&floor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_sizes() {
        assert_eq!(byzantine_quorum(4, 1), 3);
        assert_eq!(byzantine_quorum(7, 2), 5);
        assert_eq!(byzantine_quorum(1, 0), 1);
    }

    #[test]
    #[should_panic(expected = "cannot tolerate")]
    fn too_few_replicas_is_refused() {
        byzantine_quorum(3, 1);
    }
}
