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
//! - reputation (DiemBFT v4's leader reputation): among the replicas that signed the
//!   certificates carried by the last `n` committed blocks, minus the authors of the last `f`
//!   committed blocks, the one at position `mix(v) mod size` (in rotation order); round robin
//!   while that set is empty or the log is stalled (as DiemBFT v4 falls back to round robin
//!   off the happy path).
//!
//! Agreement. Stable and reputation read the committed log only as far as the blocks of views
//! up to v - `ELECTION_LAG_VIEWS`. In chained HotStuff's happy path a replica voting in view
//! v - 1 has committed the block of view v - 5 (the vote leaves before the three-chain of the
//! new proposal commits), so every correct replica reads the same prefix. A replica whose
//! committed log stops short of v - `ELECTION_LAG_VIEWS` (after timeouts) counts the views it
//! has not seen committed as empty; two such replicas can disagree on a leader, which costs
//! that view (a view change), never safety: no safety argument uses who leads. When the log
//! stalls, both policies fall back to a function of the view alone, so the replicas agree
//! again whatever their logs, and the commit rule runs on every QC a replica adopts, not only
//! on proposals, so that a lagging log catches up (without these, 18 and 11 of 200 seeds of
//! `scenarios/examples/byzantine.toml` stalled for good; with them stable stalls on none,
//! reputation on 22: its leader sets still differ while logs differ). DiemBFT v4 accepts the
//! same (reputation leaders elected from the QC a replica happens to hold, round robin
//! otherwise).

use sim_core::{NodeId, NodeSet};

use super::types::{Block, View};

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
    /// DiemBFT v4's leader reputation over the committed log.
    Reputation,
}

/// What the election keeps of a committed block.
#[derive(Clone, Debug)]
struct Entry {
    view: View,
    proposer: NodeId,
    /// Who signed the certificate the block carries (reputation only).
    voters: NodeSet,
}

/// A replica's leader election: the policy, the rotation order and, for the policies that
/// read it, the committed log (one entry per committed block, oldest first).
#[derive(Clone, Debug)]
pub(super) struct Election {
    policy: LeaderPolicy,
    /// The rotation; empty: 0..n-1.
    order: Vec<NodeId>,
    log: Vec<Entry>,
}

impl Election {
    pub(super) fn new(policy: LeaderPolicy, order: &[u32]) -> Election {
        Election { policy, order: order.iter().map(|&i| NodeId(i)).collect(), log: Vec::new() }
    }

    /// Whether the policy reads the committed log (stable, reputation).
    pub(super) fn reads_log(&self) -> bool {
        matches!(self.policy, LeaderPolicy::Stable | LeaderPolicy::Reputation)
    }

    /// A block this replica committed, in log order.
    pub(super) fn committed(&mut self, block: &Block) {
        let voters = match self.policy {
            LeaderPolicy::RoundRobin | LeaderPolicy::Hash => return,
            LeaderPolicy::Stable => NodeSet::new(),
            LeaderPolicy::Reputation => block.justify.sig.signers().clone(),
        };
        assert!(self.log.last().is_none_or(|e| e.view < block.view), "committed views increase");
        self.log.push(Entry { view: block.view, proposer: block.proposer, voters });
    }

    /// The leader of `view` among `n` replicas tolerating `f`.
    pub(super) fn leader(&self, view: View, n: u32, f: u32) -> NodeId {
        let slot = match self.policy {
            LeaderPolicy::RoundRobin => view.0 % u64::from(n),
            LeaderPolicy::Hash => bamboo_slot(view.0, n),
            LeaderPolicy::Stable => self.stable_slot(view, n),
            LeaderPolicy::Reputation => return self.reputation(view, n, f),
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

    fn reputation(&self, view: View, n: u32, f: u32) -> NodeId {
        if self.fresh(view).is_none() {
            return self.at(view.0 % u64::from(n), n);
        }
        let known = self.known(view.0.saturating_sub(ELECTION_LAG_VIEWS));
        let mut active = NodeSet::new();
        for e in &known[known.len().saturating_sub(n as usize)..] {
            for voter in e.voters.iter() {
                active.insert(voter);
            }
        }
        let mut last_authors = NodeSet::new();
        for e in known.iter().rev() {
            if last_authors.len() >= f as usize {
                break;
            }
            last_authors.insert(e.proposer);
        }
        let candidates: Vec<NodeId> = (0..u64::from(n))
            .map(|slot| self.at(slot, n))
            .filter(|&r| active.contains(r) && !last_authors.contains(r))
            .collect();
        if candidates.is_empty() {
            return self.at(view.0 % u64::from(n), n);
        }
        candidates[(mix(view.0) % candidates.len() as u64) as usize]
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
        let e = Election::new(LeaderPolicy::RoundRobin, &[2, 0, 3, 1]);
        let leaders: Vec<u32> = (0..5).map(|v| e.leader(View(v), 4, 1).0).collect();
        assert_eq!(leaders, [2, 0, 3, 1, 2]);
        let plain = Election::new(LeaderPolicy::RoundRobin, &[]);
        assert_eq!(plain.leader(View(7), 4, 1), View(7).leader(4));
    }
}
