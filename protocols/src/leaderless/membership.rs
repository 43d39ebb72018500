//! The membership service: who the replicas are in an epoch, what they tolerate, and the quorum
//! system each variant uses. Static for a run, except for the epoch a barrier moves forward.

use sim_core::digest::splitmix64;
use sim_core::{NodeId, TxId};

/// Which dependency discovery the protocol runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// BLSMR-W: big DDS quorums, threshold union, a fast path when all n agree; n >= 5f+1.
    Wintermute,
    /// BLSMR-E: quorums of 2f+1, plain union of signed dependencies, consensus every time;
    /// n >= 3f+1.
    Epaxos,
}

impl Variant {
    /// The fewest replicas that tolerate `f` Byzantine ones.
    pub fn min_replicas(self, f: u32) -> u32 {
        match self {
            Variant::Wintermute => 5 * f + 1,
            Variant::Epaxos => 3 * f + 1,
        }
    }

    /// Why `n` replicas cannot run this variant with `f` faults, if they cannot.
    pub fn refuse(self, n: u32, f: u32) -> Option<String> {
        let min = self.min_replicas(f);
        (n < min).then(|| match self {
            Variant::Wintermute => format!(
                "wintermute needs n >= 5f+1 = {min} for f = {f}: two DDS quorums of ceil((n+3f+1)/2) must share \
                 3f+1 replicas so that f+1 correct ones report every conflict"
            ),
            Variant::Epaxos => format!("epaxos needs n >= 3f+1 = {min} for f = {f}"),
        })
    }
}

/// One epoch's membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Membership {
    pub epoch: u32,
    pub n: u32,
    pub f: u32,
    pub variant: Variant,
}

impl Membership {
    pub fn new(n: u32, f: u32, variant: Variant) -> Membership {
        assert!(variant.refuse(n, f).is_none(), "{}", variant.refuse(n, f).unwrap_or_default());
        Membership { epoch: 0, n, f, variant }
    }

    /// Replies a coordinator needs from the dependency discovery service: any two quorums
    /// share 3f+1 replicas (Wintermute, so that f+1 correct ones report every conflict) or
    /// f+1 (EPaxos: one correct replica saw both commands). For EPaxos that is 2f+1 when
    /// n = 3f+1, and more beyond: with n = 6 and f = 1, two quorums of 2f+1 = 3 can be disjoint.
    pub fn dds_quorum(&self) -> usize {
        match self.variant {
            Variant::Wintermute => (self.n + 3 * self.f + 1).div_ceil(2) as usize,
            Variant::Epaxos => (self.n + self.f + 1).div_ceil(2) as usize,
        }
    }

    /// Reporters a dependency needs to enter the union: f+1 (one of them correct) for
    /// Wintermute; one for EPaxos, whose replies prove each dependency with its client's
    /// signature.
    pub fn dep_threshold(&self) -> usize {
        match self.variant {
            Variant::Wintermute => self.f as usize + 1,
            Variant::Epaxos => 1,
        }
    }

    /// True if all n identical replies commit without consensus.
    pub fn has_fast_path(&self) -> bool {
        self.variant == Variant::Wintermute
    }

    /// PBFT's quorum: any two share f+1 replicas, so one correct replica.
    pub fn pbft_quorum(&self) -> usize {
        (self.n + self.f + 1).div_ceil(2) as usize
    }

    /// View changes a new leader waits for: enough for PBFT and, since it may have to propose
    /// a fresh value, a DDS quorum of the replies they carry.
    pub fn view_change_quorum(&self) -> usize {
        self.pbft_quorum().max(self.dds_quorum())
    }

    /// The leader of a command's consensus in `view` >= 1: a member drawn from a hash of the
    /// command's client-signed id, then round robin. Every replica computes it from the
    /// command alone, so no message (and no Byzantine replica) can make two correct replicas
    /// follow different leaders. View 0 has no single leader: whoever ran the discovery may
    /// propose, with the replies as proof.
    pub fn leader(&self, cmd: TxId, view: u32) -> NodeId {
        let n = self.n as u64;
        NodeId(((splitmix64(cmd.0) % n + view as u64 % n) % n) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorums_intersect_as_the_proofs_need() {
        for f in 1..5 {
            let w = Membership::new(5 * f + 1, f, Variant::Wintermute);
            let q = w.dds_quorum() as u32;
            assert!(2 * q - w.n > 3 * f, "two DDS quorums share 3f+1");
            assert!(q <= w.n - f, "a DDS quorum is reachable with f silent");
            assert!(w.view_change_quorum() as u32 <= w.n - f);
            let e = Membership::new(3 * f + 1, f, Variant::Epaxos);
            let p = e.pbft_quorum() as u32;
            assert!(2 * p - e.n > f, "two PBFT quorums share a correct replica");
            assert_eq!(e.dds_quorum() as u32, 2 * f + 1);
            for n in 3 * f + 1..=6 * f + 2 {
                for variant in [Variant::Wintermute, Variant::Epaxos] {
                    if variant.refuse(n, f).is_some() {
                        continue;
                    }
                    let m = Membership::new(n, f, variant);
                    let q = m.dds_quorum() as u32;
                    let overlap = if variant == Variant::Wintermute { 3 * f + 1 } else { f + 1 };
                    assert!(2 * q >= n + overlap, "{variant:?} n = {n}: two DDS quorums share {overlap}");
                    assert!(q <= n - f, "{variant:?} n = {n}: a DDS quorum is reachable with f silent");
                }
            }
        }
        assert_eq!(Membership::new(6, 1, Variant::Wintermute).dds_quorum(), 5);
        assert_eq!(Membership::new(6, 1, Variant::Wintermute).pbft_quorum(), 4);
    }

    #[test]
    fn too_few_replicas_are_refused_with_the_reason() {
        assert!(Variant::Wintermute.refuse(5, 1).unwrap().contains("5f+1 = 6"));
        assert_eq!(Variant::Wintermute.refuse(6, 1), None);
        assert!(Variant::Epaxos.refuse(3, 1).is_some());
        assert_eq!(Variant::Epaxos.refuse(4, 1), None);
    }

    #[test]
    fn leaders_follow_from_the_command_and_rotate() {
        let m = Membership::new(4, 1, Variant::Epaxos);
        let first = m.leader(TxId(7), 1);
        assert_eq!(first, NodeId(((splitmix64(7) % 4 + 1) % 4) as u32));
        assert_eq!(m.leader(TxId(7), 4), NodeId((first.0 + 3) % 4));
        assert_eq!(m.leader(TxId(7), 5), first, "round robin over n");
        // Commands spread their leaders over the members.
        let mut per_member = [0; 4];
        for id in 0..400 {
            per_member[m.leader(TxId(id), 1).idx()] += 1;
        }
        assert!(per_member.iter().all(|&k| k > 70), "{per_member:?}");
    }
}
