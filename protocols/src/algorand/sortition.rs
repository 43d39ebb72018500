//! Cryptographic sortition: a user's VRF output on (round seed, role) selects it with a weight
//! drawn as Binomial(stake, tau / total stake). In the modeled crypto the VRF is a keyed hash,
//! and a `Credential` is a token only `Seat::draw` creates: a Byzantine user can choose not
//! to reveal one, but cannot claim a weight it was not drawn. The `Seat` it comes in is the
//! drawer's alone (neither `Clone` nor built anywhere else): it signs the drawer's votes, while
//! the `Credential` it shows can be copied by anyone and signs nothing.

use sim_core::digest::{hash_words, splitmix64};

use super::world::World;

/// The role a credential is drawn for: proposing, or voting in one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Role(pub u32);

impl Role {
    pub const PROPOSE: Role = Role(0);
    pub const REDUCTION_ONE: Role = Role(1);
    pub const REDUCTION_TWO: Role = Role(2);
    /// The FINAL step.
    pub const FINAL: Role = Role(u32::MAX);

    /// BinaryBA* step `s` (from 1).
    pub fn binary(s: u32) -> Role {
        assert!((1..u32::MAX - 3).contains(&s), "binary steps count from 1");
        Role(2 + s)
    }

    /// The BinaryBA* step this role votes in, if it is one.
    pub fn binary_step(self) -> Option<u32> {
        (self.0 >= 3 && self != Role::FINAL).then(|| self.0 - 2)
    }
}

/// A role as logs and notes number BA*'s steps: 1 and 2 the reductions, 2 + s BinaryBA*'s
/// step s, "final" the FINAL step (0 is the proposal).
impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Role::FINAL => write!(f, "final"),
            Role(step) => write!(f, "{step}"),
        }
    }
}

/// A user's selection for one (round, role), as only that user holds it: what `draw` returns,
/// and the only way to sign a vote (`Vote::sign`). Not `Clone`: a user that learns another's
/// credential from gossip holds a `Credential`, never a `Seat`.
#[derive(Debug)]
pub struct Seat(Credential);

impl Seat {
    /// `user`'s sortition for `role` in `round` under `seed`; `None` if not selected. Users
    /// draw only for themselves (`ctx.me()`): that is the one rule the type cannot enforce.
    pub fn draw(world: &World, user: u32, round: u64, seed: u64, role: Role, expected: u64) -> Option<Seat> {
        let vrf = vrf_output(world, user, round, seed, role);
        let weight = binomial_inverse(unit(vrf), world.stake(user), expected as f64 / world.total_stake() as f64);
        (weight > 0).then_some(Seat(Credential { user, round, role, vrf, weight }))
    }

    /// The credential this seat shows to others.
    pub fn credential(&self) -> Credential {
        self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credential {
    user: u32,
    round: u64,
    role: Role,
    vrf: u64,
    weight: u32,
}

impl Credential {
    /// The check a verifier makes: the output is `user`'s VRF on this seed and role (the weight
    /// follows from it; only `Seat::draw` builds credentials).
    pub fn verify(&self, world: &World, seed: u64) -> bool {
        self.user < world.n_users() && self.vrf == vrf_output(world, self.user, self.round, seed, self.role)
    }

    pub fn user(&self) -> u32 {
        self.user
    }
    pub fn round(&self) -> u64 {
        self.round
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn weight(&self) -> u32 {
        self.weight
    }
    pub fn vrf(&self) -> u64 {
        self.vrf
    }

    /// The proposer priority (and the common coin's input): the least hash of the VRF output
    /// with each selected sub-user 1..=weight. Lower is better.
    pub fn priority(&self) -> u64 {
        (1..=self.weight as u64).map(|i| hash_words(&[self.vrf, i])).min().expect("selected: weight >= 1")
    }
}

/// One step's committee under one round seed: the users whose draw selects them, numbered in
/// user order. A tally's voters are a bitset over members, not over users: at 50,000 users a
/// step has about 2,000 members (FINAL 9,000), so a user's tallies of a round are a few
/// hundred bytes each, not 6 KiB (n bits each, for every user: quadratic in users). Drawn
/// once per (round, seed, step) for the run (`World::roster`) and shared by pointer.
#[derive(Debug)]
pub struct Roster {
    round: u64,
    seed: u64,
    role: Role,
    expected: u64,
    /// Per user, its number among the members (`NOT_MEMBER`: not selected).
    ranks: Box<[u32]>,
    members: u32,
}

const NOT_MEMBER: u32 = u32::MAX;

impl Roster {
    /// Every user's draw for `role` in `round` under `seed`: the members are exactly the users
    /// `Seat::draw` selects, so a credential that verifies under `seed` is a member's.
    pub(super) fn draw(world: &World, round: u64, seed: u64, role: Role, expected: u64) -> Roster {
        let mut members = 0;
        let ranks = (0..world.n_users())
            .map(|u| match Seat::draw(world, u, round, seed, role, expected) {
                Some(_) => {
                    members += 1;
                    members - 1
                }
                None => NOT_MEMBER,
            })
            .collect();
        Roster { round, seed, role, expected, ranks, members }
    }

    /// Whether this is the committee of `role` in `round` under `seed`, of `expected` weight.
    pub(super) fn is_of(&self, round: u64, seed: u64, role: Role, expected: u64) -> bool {
        (self.round, self.seed, self.role, self.expected) == (round, seed, role, expected)
    }

    /// `user`'s number among the members, if it is one.
    pub fn rank(&self, user: u32) -> Option<u32> {
        self.ranks.get(user as usize).copied().filter(|&r| r != NOT_MEMBER)
    }

    pub fn members(&self) -> u32 {
        self.members
    }
}

fn vrf_output(world: &World, user: u32, round: u64, seed: u64, role: Role) -> u64 {
    hash_words(&[world.vrf_key(user), seed, round, role.0 as u64])
}

/// A 64-bit hash as a uniform draw in [0, 1) (53 bits).
fn unit(h: u64) -> f64 {
    (splitmix64(h) >> 11) as f64 / (1u64 << 53) as f64
}

/// The least j with P(Binomial(n, p) <= j) > u: inversion term by term while the mean is small,
/// a normal approximation (continuity-corrected, clamped to [0, n]) when it is large (a few
/// users with most of the stake each).
pub fn binomial_inverse(u: f64, n: u64, p: f64) -> u32 {
    assert!((0.0..1.0).contains(&u), "a uniform draw");
    if n == 0 || p <= 0.0 {
        return 0;
    }
    let p = p.min(1.0);
    let mean = n as f64 * p;
    if mean > 30.0 {
        let sd = libm::sqrt(mean * (1.0 - p));
        let j = libm::floor(mean + sd * normal_quantile(u) + 0.5);
        return j.clamp(0.0, n.min(u32::MAX as u64) as f64) as u32;
    }
    let ratio = p / (1.0 - p);
    let mut prob = libm::exp(n as f64 * libm::log1p(-p));
    let mut cdf = prob;
    let mut j: u64 = 0;
    while u >= cdf && j < n && prob > 0.0 {
        prob *= (n - j) as f64 / (j + 1) as f64 * ratio;
        j += 1;
        cdf += prob;
    }
    j as u32
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
fn normal_quantile(u: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let u = u.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if u < 0.02425 {
        tail(libm::sqrt(-2.0 * libm::log(u)))
    } else if u > 1.0 - 0.02425 {
        -tail(libm::sqrt(-2.0 * libm::log(1.0 - u)))
    } else {
        let q = u - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorand::AlgorandConfig;
    use sim_core::Streams;

    #[test]
    fn binomial_inverse_has_the_right_mean_small_and_large() {
        for (n, p) in [(1_000_000u64, 2e-7), (1_000_000, 2e-5), (1_000_000, 5e-4)] {
            let k = 20_000;
            let sum: u64 = (0..k).map(|i| binomial_inverse((i as f64 + 0.5) / k as f64, n, p) as u64).sum();
            let mean = sum as f64 / k as f64;
            let expect = n as f64 * p;
            assert!((mean - expect).abs() <= 0.02 * expect + 0.01, "n {n} p {p}: mean {mean} vs {expect}");
        }
        assert_eq!(binomial_inverse(0.0, 10, 0.5), 0);
        assert_eq!(binomial_inverse(0.999_999, 10, 0.5), 10);
    }

    #[test]
    fn committees_weigh_tau_and_credentials_verify_only_for_their_seed() {
        let cfg = AlgorandConfig::mainnet();
        let world = World::new(&cfg, 2000, &mut Streams::new(3).stream("algorand"));
        let total: u64 = (0..2000)
            .filter_map(|u| Seat::draw(&world, u, 5, 99, Role::REDUCTION_ONE, 2990))
            .map(|s| s.credential().weight() as u64)
            .sum();
        assert!((2800..3180).contains(&total), "committee weight {total}, tau 2990");
        let c = (0..2000)
            .find_map(|u| Seat::draw(&world, u, 5, 99, Role::PROPOSE, 20))
            .expect("someone proposes")
            .credential();
        assert!(c.verify(&world, 99));
        assert!(!c.verify(&world, 100), "another round seed gives another output");
    }
}
