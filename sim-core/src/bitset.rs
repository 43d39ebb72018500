//! A growable bitset over dense indices, and the typed sets built on it: `NodeSet` (signers,
//! repliers) and `TxSet` (transactions committed).

use crate::ids::{NodeId, TxId};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BitSet {
    words: Vec<u64>,
    len: usize,
}

impl BitSet {
    /// Adds `i`; returns false if it was already there.
    pub fn insert(&mut self, i: usize) -> bool {
        let (w, mask) = (i / 64, 1u64 << (i % 64));
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        if self.words[w] & mask != 0 {
            return false;
        }
        self.words[w] |= mask;
        self.len += 1;
        true
    }

    pub fn contains(&self, i: usize) -> bool {
        self.words.get(i / 64).is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds every member of `other`, a word at a time.
    pub fn union_with(&mut self, other: &BitSet) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (mine, theirs) in self.words.iter_mut().zip(&other.words) {
            *mine |= theirs;
        }
        self.len = self.words.iter().map(|w| w.count_ones() as usize).sum();
    }

    /// Members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words
            .iter()
            .enumerate()
            .flat_map(|(w, &word)| (0..64).filter(move |b| word & (1u64 << b) != 0).map(move |b| w * 64 + b))
    }
}

/// A set of nodes: the signers of a certificate, the repliers of a transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeSet(BitSet);

impl NodeSet {
    pub fn new() -> NodeSet {
        NodeSet::default()
    }
    /// Adds `node`; returns false if it was already there.
    pub fn insert(&mut self, node: NodeId) -> bool {
        self.0.insert(node.idx())
    }
    pub fn contains(&self, node: NodeId) -> bool {
        self.0.contains(node.idx())
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Adds every member of `other`.
    pub fn union_with(&mut self, other: &NodeSet) {
        self.0.union_with(&other.0);
    }
    /// Members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.0.iter().map(|i| NodeId(i as u32))
    }
    /// Bytes of a signer bitmap for `n` nodes on the wire.
    pub fn wire_bytes(n: u32) -> u32 {
        n.div_ceil(8)
    }
}

/// A set of transactions (ids are dense, so a bitset is the compact choice).
#[derive(Clone, Debug, Default)]
pub struct TxSet(BitSet);

impl TxSet {
    /// Adds `id`; false if already present.
    pub fn insert(&mut self, id: TxId) -> bool {
        self.0.insert(id.idx())
    }
    pub fn contains(&self, id: TxId) -> bool {
        self.0.contains(id.idx())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_counts_distinct_members() {
        let mut s = NodeSet::new();
        assert!(s.insert(NodeId(3)));
        assert!(s.insert(NodeId(130)));
        assert!(!s.insert(NodeId(3)));
        assert_eq!(s.len(), 2);
        assert!(s.contains(NodeId(130)) && !s.contains(NodeId(4)) && !s.contains(NodeId(9999)));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![NodeId(3), NodeId(130)]);
        let mut t = TxSet::default();
        assert!(t.insert(TxId(64)) && !t.insert(TxId(64)) && t.contains(TxId(64)) && !t.contains(TxId(63)));
    }

    #[test]
    fn union_adds_members_and_counts_them_once() {
        let (mut a, mut b) = (NodeSet::new(), NodeSet::new());
        a.insert(NodeId(3));
        b.insert(NodeId(3));
        b.insert(NodeId(200));
        a.union_with(&b);
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![NodeId(3), NodeId(200)]);
        assert_eq!(a.len(), 2);
        b.union_with(&NodeSet::new());
        assert_eq!(b.len(), 2, "a shorter set leaves the longer one whole");
    }
}
