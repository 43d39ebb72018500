//! A set of nodes as a bitset: signer sets of certificates, reply tallies.

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeSet {
    words: Vec<u64>,
    len: u32,
}

impl NodeSet {
    pub fn new() -> NodeSet {
        NodeSet::default()
    }

    /// Adds `node`; returns false if it was already there.
    pub fn insert(&mut self, node: crate::NodeId) -> bool {
        let (w, bit) = (node.idx() / 64, node.0 % 64);
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        let mask = 1u64 << bit;
        if self.words[w] & mask != 0 {
            return false;
        }
        self.words[w] |= mask;
        self.len += 1;
        true
    }

    pub fn contains(&self, node: crate::NodeId) -> bool {
        let w = node.idx() / 64;
        w < self.words.len() && self.words[w] & (1u64 << (node.0 % 64)) != 0
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = crate::NodeId> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            (0..64u32).filter(move |b| word & (1u64 << b) != 0).map(move |b| crate::NodeId(w as u32 * 64 + b))
        })
    }

    /// Bytes of a signer bitmap for `n` nodes on the wire.
    pub fn wire_bytes(n: u32) -> u32 {
        n.div_ceil(8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeId;

    #[test]
    fn insert_counts_distinct_members() {
        let mut s = NodeSet::new();
        assert!(s.insert(NodeId(3)));
        assert!(s.insert(NodeId(130)));
        assert!(!s.insert(NodeId(3)));
        assert_eq!(s.len(), 2);
        assert!(s.contains(NodeId(130)) && !s.contains(NodeId(4)) && !s.contains(NodeId(9999)));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![NodeId(3), NodeId(130)]);
    }
}
