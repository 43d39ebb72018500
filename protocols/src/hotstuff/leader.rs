//! Leader election: who leads a view, from the view number and the committed log alone, so
//! that correct replicas that know the same committed prefix name the same leader.
//!
//! Policies (`LeaderPolicy`), each over the rotation order (`HotStuffConfig::leader_order`):
//! - round robin: view v is led by `order[v mod n]` (the default, as before);
//! - hash (Bamboo's `election/rotation.go`): views 1-3 by the last replica of the order, then
//!   `order[u64_be(SHA-1(decimal(v + 1))[0..8]) mod n]`;
//! - stable: the proposer of the last committed block keeps leading while the log is fresh
//!   (it shows a block of the last `ELECTION_LAG_VIEWS` views read); while it is stalled (or
//!   empty), each replica of the order in turn leads `ELECTION_LAG_VIEWS` consecutive views
//!   (views 1-5 the first, 6-10 the second, ...), enough for its first block to commit and
//!   show in the log, which then names it;
//! - reputation (DiemBFT v4's leader reputation, its `elect_reputation_leader`): a certificate
//!   of view w whose block directly extends a block of view w - 1 elects the leader of view
//!   w + 2: among the replicas that signed the certificates of the last n blocks of the chain
//!   it ends, minus the proposers of the last f of those blocks, the one at position
//!   `mix(w) mod size` (in rotation order). A view no such certificate elects (after a failed
//!   view) falls back to round robin, each replica of the order leading as many consecutive
//!   views as its blocks need to commit on their own (three-chain 3, two-chain 2, basic 1), as
//!   DiemBFT v4 gives each two rounds under its two-chain rule.
//!
//! Agreement. Round robin and hash are functions of the view. Reputation is a function of one
//! certificate and the chain it certifies, which hash links fix: every replica that holds the
//! certificate of view w elects the same leader for w + 2 (at most one certificate per view
//! exists, by quorum intersection). In the happy path the proposal of w + 1 carries it, so the
//! replicas that voted in w + 1 agree on w + 2; a replica that missed it (and its block) names
//! the round-robin leader instead, and before refusing a proposal on that ground fetches the
//! proposal's parent, whose certificate may elect the proposer. Blocks fetched for a certified
//! chain are not checked against this replica's idea of their leaders (the certificate above
//! them shows that a quorum accepted them). Stable reads the committed log
//! `ELECTION_LAG_VIEWS` behind: in chained HotStuff's happy path a replica voting in view v - 1
//! has committed the block of view v - 5, so the replicas read the same prefix; when the log
//! stalls, it falls back to a function of the view alone, and the commit rule runs on every QC
//! a replica adopts, so that a lagging log catches up. A disagreement on a leader costs a view
//! (a view change), never safety: no safety argument uses who leads. A Byzantine replica can
//! hand the certificate that elects a leader to some correct replicas only; the round-robin
//! runs are what then restores progress: with one view per round-robin leader, the failures
//! kept the fallback on the Byzantine replicas, seven views a cycle, and 3 of 200 seeds of
//! `scenarios/examples/byzantine.toml` committed nothing for 5 s (seed 114 is kept in
//! `scenarios/tests/regressions.rs`); with runs of three, none of 600 (a first reputation that
//! read each replica's committed log broke liveness on 22 of 200).

use sim_core::{NodeId, NodeSet};

use std::collections::BTreeMap;

use super::types::{Block, BlockId, Qc, View};

/// How many views behind the view it elects for the committed log is read.
pub const ELECTION_LAG_VIEWS: u64 = 5;

/// How the leader of a view is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LeaderPolicy {
    #[default]
    RoundRobin,
    /// Bamboo's hash-random leader per view.
    Hash,
    /// One leader until a view of it leaves no committed block.
    Stable,
    /// DiemBFT v4's leader reputation, elected by certificates.
    Reputation,
}

/// What the election keeps of a committed block (stable only).
#[derive(Clone, Copy, Debug)]
struct Entry {
    view: View,
    proposer: NodeId,
}

/// A replica's leader election: the policy, the rotation order and, for the policies that
/// read it, the committed log (one entry per committed block, oldest first).
#[derive(Clone, Debug)]
pub(super) struct Election {
    policy: LeaderPolicy,
    /// The rotation; empty: 0..n-1.
    order: Vec<NodeId>,
    log: Vec<Entry>,
    /// Reputation: the leaders that certificates elected, by view (views not yet left).
    elected: BTreeMap<View, NodeId>,
    /// Reputation: how many consecutive views each round-robin leader leads when no
    /// certificate elected one: the views its blocks need to commit on their own.
    fallback_views: u64,
}

impl Election {
    /// `chain_views`: how many consecutive views of one leader commit a block (three-chain 3,
    /// two-chain 2, basic 1).
    pub(super) fn new(policy: LeaderPolicy, order: &[u32], chain_views: u64) -> Election {
        assert!((1..=3).contains(&chain_views));
        let order = order.iter().map(|&i| NodeId(i)).collect();
        Election { policy, order, log: Vec::new(), elected: BTreeMap::new(), fallback_views: chain_views }
    }

    /// Whether the policy reads the committed log (stable).
    pub(super) fn reads_log(&self) -> bool {
        self.policy == LeaderPolicy::Stable
    }

    /// Whether replicas may name different leaders for a view (stable, reputation): then
    /// blocks fetched for a certified chain are not checked against this replica's leaders,
    /// and a proposal from an unexpected leader first waits for its parent.
    pub(super) fn is_local(&self) -> bool {
        matches!(self.policy, LeaderPolicy::Stable | LeaderPolicy::Reputation)
    }

    /// A block this replica committed, in log order.
    pub(super) fn committed(&mut self, block: &Block) {
        if self.policy != LeaderPolicy::Stable {
            return;
        }
        assert!(self.log.last().is_none_or(|e| e.view < block.view), "committed views increase");
        self.log.push(Entry { view: block.view, proposer: block.proposer });
    }

    /// Reputation: a valid certificate this replica holds, with its block, elects the leader
    /// of the view two after its own if that block directly extends the previous view's
    /// (DiemBFT v4's `update_leaders`). `block_of` finds a block of the chain; `now` is the
    /// replica's view, below which elections are forgotten.
    pub(super) fn certified<'b>(
        &mut self,
        qc: &Qc,
        block_of: impl Fn(BlockId) -> Option<&'b Block>,
        now: View,
        (n, f): (u32, u32),
    ) {
        if self.policy != LeaderPolicy::Reputation || qc.view.0 + 2 < now.0 {
            return;
        }
        let target = View(qc.view.0 + 2);
        let Some(certified) = block_of(qc.block) else { return };
        if self.elected.contains_key(&target) || certified.justify.view.0 + 1 != certified.view.0 {
            return;
        }
        let leader = self.elect(qc, block_of, n, f);
        self.elected.insert(target, leader);
        self.elected = self.elected.split_off(&now);
    }

    /// `elect_reputation_leader`: signers of the last `n` certificates down the chain from
    /// `qc`, minus the proposers of the last `f` blocks, picked by `qc`'s view; the genesis
    /// block ends the walk.
    fn elect<'b>(&self, qc: &Qc, block_of: impl Fn(BlockId) -> Option<&'b Block>, n: u32, f: u32) -> NodeId {
        let (mut active, mut last_authors) = (NodeSet::new(), NodeSet::new());
        let mut current = qc;
        let mut walked = 0u32;
        while walked < n || last_authors.len() < f as usize {
            let Some(block) = block_of(current.block).filter(|b| b.height.0 > 0) else { break };
            if walked < n {
                active.union_with(current.sig.signers());
            }
            if last_authors.len() < f as usize {
                last_authors.insert(block.proposer);
            }
            current = &block.justify;
            walked += 1;
        }
        let candidates: Vec<NodeId> = (0..u64::from(n))
            .map(|slot| self.at(slot, n))
            .filter(|&r| active.contains(r) && !last_authors.contains(r))
            .collect();
        if candidates.is_empty() {
            return self.at(qc.view.next().next().0 % u64::from(n), n);
        }
        candidates[(mix(qc.view.0) % candidates.len() as u64) as usize]
    }

    /// The leader of `view` among `n` replicas tolerating `f`.
    pub(super) fn leader(&self, view: View, n: u32) -> NodeId {
        let slot = match self.policy {
            LeaderPolicy::RoundRobin => view.0 % u64::from(n),
            LeaderPolicy::Hash => bamboo_slot(view.0, n),
            LeaderPolicy::Stable => self.stable_slot(view, n),
            LeaderPolicy::Reputation => return self.reputation(view, n),
        };
        self.at(slot, n)
    }

    /// The replica at `slot` of the rotation.
    fn at(&self, slot: u64, n: u32) -> NodeId {
        assert!(slot < u64::from(n));
        self.order.get(slot as usize).copied().unwrap_or(NodeId(slot as u32))
    }

    /// The last committed block's proposer while the log is fresh (`fresh`); otherwise each
    /// replica of the order for `ELECTION_LAG_VIEWS` views in turn, by the view alone, so that
    /// replicas whose logs differ still agree during a stall. A successor's first block
    /// commits within its turn, and then the log names it.
    fn stable_slot(&self, view: View, n: u32) -> u64 {
        match self.fresh(view) {
            Some(last) => self.slot_of(last.proposer, n),
            None => (view.0.saturating_sub(1) / ELECTION_LAG_VIEWS) % u64::from(n),
        }
    }

    /// The last committed block read for `view` (views up to `view - ELECTION_LAG_VIEWS`), if
    /// it is within `ELECTION_LAG_VIEWS` views of that limit: the log is not stalled.
    fn fresh(&self, view: View) -> Option<&Entry> {
        let read_to = view.0.saturating_sub(ELECTION_LAG_VIEWS);
        self.known(read_to).last().filter(|e| read_to - e.view.0 < ELECTION_LAG_VIEWS)
    }

    /// Where `node` stands in the rotation.
    fn slot_of(&self, node: NodeId, n: u32) -> u64 {
        let slot = self.order.iter().position(|&r| r == node).unwrap_or(node.idx());
        assert!(slot < n as usize);
        slot as u64
    }

    /// The committed blocks of views up to `read_to`.
    fn known(&self, read_to: u64) -> &[Entry] {
        &self.log[..self.log.partition_point(|e| e.view.0 <= read_to)]
    }

    /// The leader a certificate elected for `view`, or round robin by runs of
    /// `fallback_views` views.
    fn reputation(&self, view: View, n: u32) -> NodeId {
        match self.elected.get(&view) {
            Some(&leader) => leader,
            None => self.at(view.0 / self.fallback_views % u64::from(n), n),
        }
    }
}

/// splitmix64's finaliser: the deterministic pick among reputation candidates.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Bamboo's slot for `view`: the last for views up to 3, then the first 8 bytes of
/// SHA-1 of the decimal text of view + 1, big-endian, mod n.
pub fn bamboo_slot(view: u64, n: u32) -> u64 {
    if view <= 3 {
        return u64::from(n) - 1;
    }
    let digest = sha1((view + 1).to_string().as_bytes());
    let head: [u8; 8] = digest[..8].try_into().expect("8 bytes");
    u64::from_be_bytes(head) % u64::from(n)
}

/// SHA-1 (FIPS 180-4), for Bamboo's leader mapping only: no security rests on it.
pub fn sha1(message: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0];
    let mut data = message.to_vec();
    data.push(0x80);
    while data.len() % 64 != 56 {
        data.push(0);
    }
    data.extend_from_slice(&(message.len() as u64 * 8).to_be_bytes());
    for chunk in data.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes(word.try_into().expect("4 bytes"));
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &wi) in w.iter().enumerate() {
            let (f, k) = match i / 20 {
                0 => ((b & c) | (!b & d), 0x5a82_7999),
                1 => (b ^ c ^ d, 0x6ed9_eba1),
                2 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6),
            };
            let t = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(wi);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
        }
        for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hi = hi.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_matches_the_standard_vectors() {
        assert_eq!(hex(&sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(hex(&sha1(long)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    }

    #[test]
    fn hash_slots_match_bamboo() {
        // Python's hashlib: SHA-1("5") = ac3478d69a3c81fa..., 0xac3478d69a3c81fa mod 4 = 2; then
        // "6" c1dfd96e.. 2, "7" 902ba3cd.. 1, "8" fe5dbbce.. 1, "9" 0ade7c2c.. 0; "101" mod 7 = 4.
        assert_eq!((4..=8).map(|v| bamboo_slot(v, 4)).collect::<Vec<_>>(), [2, 2, 1, 1, 0]);
        assert_eq!(bamboo_slot(100, 7), 4);
        assert_eq!((1..=3).map(|v| bamboo_slot(v, 4)).collect::<Vec<_>>(), [3, 3, 3]);
    }

    #[test]
    fn round_robin_follows_the_order() {
        let e = Election::new(LeaderPolicy::RoundRobin, &[2, 0, 3, 1], 3);
        let leaders: Vec<u32> = (0..5).map(|v| e.leader(View(v), 4).0).collect();
        assert_eq!(leaders, [2, 0, 3, 1, 2]);
        let plain = Election::new(LeaderPolicy::RoundRobin, &[], 3);
        assert_eq!(plain.leader(View(7), 4), View(7).leader(4));
    }
}
