//! What every user knows before the first round: the stake of each user, the gossip graph
//! (who links to whom) and the users' VRF keys. Built once per run from one named stream and
//! shared by pointer, so a user's own state stays small. It also holds the run's shelf of
//! gossiped batches, which every user's pool marks its own on (`pool::Shelf`).

use std::cell::RefCell;
use std::rc::Rc;

use sim_core::SimRng;
use sim_core::digest::hash_words;

use super::config::{AlgorandConfig, StakeDistribution, Topology};
use super::pool::Shelf;
use super::sortition::{Role, Roster};

/// Committees the memo keeps while no tally uses them, at most (each is 4 bytes a user).
const ROSTERS_IDLE_MAX: usize = 16;

#[derive(Debug)]
pub struct World {
    stakes: Vec<u64>,
    total_stake: u64,
    /// Neighbours of user u: `links[offsets[u]..offsets[u + 1]]`, sorted.
    offsets: Vec<u32>,
    links: Vec<u32>,
    /// Users below this id are relays (all of them relay in the peers topology).
    relays: u32,
    relays_all: bool,
    /// Each user's VRF key (modeled: a secret word), drawn per run.
    keys: Vec<u64>,
    /// The batches in some user's pool: one list for the run, not one per user.
    shelf: Shelf,
    /// The committees drawn so far (a memo: each is a function of its round, seed and step),
    /// newest last; those no tally holds any more are dropped past `ROSTERS_IDLE_MAX`.
    rosters: RefCell<Vec<Rc<Roster>>>,
}

impl World {
    /// Draws the stakes, the graph and the key salt from `rng` (the scenario's `algorand`
    /// stream), in that order.
    pub fn new(cfg: &AlgorandConfig, n_users: u32, rng: &mut SimRng) -> World {
        assert!(n_users >= 1, "at least one user");
        let stakes = draw_stakes(cfg.stake, n_users, rng);
        let total_stake = stakes.iter().sum::<u64>();
        assert!(total_stake > 0, "some stake exists");
        let relays = cfg.relay_count(n_users);
        let adjacency = match cfg.topology {
            Topology::Relays { relay_degree, .. } => relay_graph(n_users, relays, relay_degree, cfg.fanout, rng),
            Topology::Peers => peer_graph(n_users, cfg.fanout, rng),
        };
        let mut offsets = Vec::with_capacity(n_users as usize + 1);
        let mut links = Vec::new();
        offsets.push(0);
        for mut nbrs in adjacency {
            nbrs.sort_unstable();
            nbrs.dedup();
            links.extend_from_slice(&nbrs);
            offsets.push(links.len() as u32);
        }
        let key_salt = rng.next_u64();
        let keys = (0..n_users as u64).map(|u| hash_words(&[key_salt, u])).collect();
        let relays_all = cfg.topology == Topology::Peers;
        let (shelf, rosters) = (Shelf::default(), RefCell::default());
        World { stakes, total_stake, offsets, links, relays, relays_all, keys, shelf, rosters }
    }

    pub fn n_users(&self) -> u32 {
        self.stakes.len() as u32
    }

    pub fn stake(&self, user: u32) -> u64 {
        self.stakes[user as usize]
    }

    pub fn total_stake(&self) -> u64 {
        self.total_stake
    }

    /// The run's shelf of pooled batches (each user reads and changes only its own marks).
    pub fn shelf(&self) -> &Shelf {
        &self.shelf
    }

    /// The committee of `role` in `round` under `seed` (`expected`: its expected weight), drawn
    /// once for every user that tallies it.
    pub fn roster(&self, round: u64, seed: u64, role: Role, expected: u64) -> Rc<Roster> {
        let mut memo = self.rosters.borrow_mut();
        if let Some(r) = memo.iter().rev().find(|r| r.is_of(round, seed, role, expected)) {
            return Rc::clone(r);
        }
        let roster = Rc::new(Roster::draw(self, round, seed, role, expected));
        if memo.len() >= ROSTERS_IDLE_MAX {
            memo.retain(|r| Rc::strong_count(r) > 1);
        }
        memo.push(Rc::clone(&roster));
        roster
    }

    /// How many committees the memo holds.
    #[cfg(test)]
    pub fn rosters_held(&self) -> usize {
        self.rosters.borrow().len()
    }

    pub fn neighbors(&self, user: u32) -> &[u32] {
        let (a, b) = (self.offsets[user as usize], self.offsets[user as usize + 1]);
        &self.links[a as usize..b as usize]
    }

    /// Whether `user` relays what it hears (relays, or everyone among peers).
    pub fn relays_gossip(&self, user: u32) -> bool {
        self.relays_all || user < self.relays
    }

    /// The secret part of `user`'s VRF key (modeled: a keyed hash stands for the VRF).
    pub(super) fn vrf_key(&self, user: u32) -> u64 {
        self.keys[user as usize]
    }

    /// The share of the stake the users with `flags[u]` true hold, in parts per million.
    pub fn stake_ppm(&self, flags: impl Fn(u32) -> bool) -> u64 {
        let held: u128 = (0..self.n_users()).filter(|&u| flags(u)).map(|u| self.stake(u) as u128).sum();
        (held * 1_000_000 / self.total_stake as u128) as u64
    }
}

/// Stakes per user: equal, or Pareto scaled to the mean (at least 1 unit each).
pub fn draw_stakes(dist: StakeDistribution, n_users: u32, rng: &mut SimRng) -> Vec<u64> {
    match dist {
        StakeDistribution::Equal { per_user } => vec![per_user; n_users as usize],
        StakeDistribution::Pareto { shape, mean_per_user } => {
            assert!(shape > 1.0, "a Pareto mean exists only for shape > 1");
            // Pareto(x_m, shape) has mean x_m * shape / (shape - 1).
            let x_m = mean_per_user as f64 * (shape - 1.0) / shape;
            (0..n_users)
                .map(|_| {
                    let u = rng.unit_open_f64();
                    (x_m * libm::pow(u, -1.0 / shape)).round().max(1.0) as u64
                })
                .collect()
        }
    }
}

/// `k` distinct values below `bound`, none equal to `except`.
fn distinct_below(rng: &mut SimRng, bound: u32, k: u32, except: Option<u32>) -> Vec<u32> {
    let available = bound - u32::from(except.is_some_and(|e| e < bound));
    let k = k.min(available);
    let mut out = Vec::with_capacity(k as usize);
    while (out.len() as u32) < k {
        let v = rng.below(bound as u64) as u32;
        if Some(v) != except && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Relays 0..relays meshed with `degree` random relays each; every other user linked to
/// `fanout` random relays. Links go both ways.
fn relay_graph(n: u32, relays: u32, degree: u32, fanout: u32, rng: &mut SimRng) -> Vec<Vec<u32>> {
    assert!(relays >= 1 && relays <= n, "1..=n relays");
    let mut adj = vec![Vec::new(); n as usize];
    for r in 0..relays {
        for peer in distinct_below(rng, relays, degree, Some(r)) {
            adj[r as usize].push(peer);
            adj[peer as usize].push(r);
        }
    }
    for u in relays..n {
        for relay in distinct_below(rng, relays, fanout, None) {
            adj[u as usize].push(relay);
            adj[relay as usize].push(u);
        }
    }
    adj
}

/// Every user linked to `fanout` random other users; links go both ways.
fn peer_graph(n: u32, fanout: u32, rng: &mut SimRng) -> Vec<Vec<u32>> {
    let mut adj = vec![Vec::new(); n as usize];
    for u in 0..n {
        for peer in distinct_below(rng, n, fanout, Some(u)) {
            adj[u as usize].push(peer);
            adj[peer as usize].push(u);
        }
    }
    adj
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorand::sortition::Seat;
    use sim_core::Streams;

    fn world(cfg: &AlgorandConfig, n: u32) -> World {
        World::new(cfg, n, &mut Streams::new(7).stream("algorand"))
    }

    #[test]
    fn relays_link_users_only_to_relays_and_links_go_both_ways() {
        let cfg = AlgorandConfig::mainnet();
        let w = world(&cfg, 1000);
        assert_eq!(cfg.relay_count(1000), 20);
        for u in 0..1000 {
            for &v in w.neighbors(u) {
                assert!(w.neighbors(v).contains(&u), "{u} -> {v} has no way back");
                assert!(u < 20 || v < 20, "two non-relays {u} and {v} linked");
            }
            if u >= 20 {
                assert_eq!(w.neighbors(u).len(), 4, "a user keeps fanout relays");
            }
        }
        assert!(w.relays_gossip(3) && !w.relays_gossip(500));
    }

    #[test]
    fn peers_have_at_least_fanout_links_and_everyone_relays() {
        let w = world(&AlgorandConfig::sosp2017(), 300);
        assert!((0..300).all(|u| w.neighbors(u).len() >= 4 && w.relays_gossip(u)));
        assert!((0..300).all(|u| !w.neighbors(u).contains(&u)), "no self-links");
    }

    /// A committee numbers exactly the users `Seat::draw` selects, in user order, so that a
    /// tally's bitset over members is about tau bits, not n: at 20,000 users a step of 2,000
    /// expected has about 1,900 members (a bitset over users: 20,000 bits).
    #[test]
    fn a_roster_numbers_the_drawn_users_and_is_drawn_once_while_in_use() {
        let cfg = AlgorandConfig::sosp2017();
        let w = world(&cfg, 20_000);
        let (round, seed, role) = (4, 77, Role::binary(2));
        let roster = w.roster(round, seed, role, 2000);
        let drawn: Vec<u32> = (0..20_000).filter(|&u| Seat::draw(&w, u, round, seed, role, 2000).is_some()).collect();
        assert_eq!(roster.members() as usize, drawn.len());
        assert!((1_700..2_000).contains(&drawn.len()), "{} members", drawn.len());
        for (rank, &u) in drawn.iter().enumerate() {
            assert_eq!(roster.rank(u), Some(rank as u32));
        }
        assert_eq!((0..20_000).filter(|&u| roster.rank(u).is_some()).count(), drawn.len());
        assert_eq!(roster.rank(20_000), None, "no such user");
        assert!(Rc::ptr_eq(&roster, &w.roster(round, seed, role, 2000)), "drawn once, shared");
        assert!(!Rc::ptr_eq(&roster, &w.roster(round, seed + 1, role, 2000)), "another seed, another committee");
        // Committees no tally holds go once the memo is full; one in use stays.
        for r in 0..(2 * ROSTERS_IDLE_MAX as u64) {
            drop(w.roster(100 + r, seed, role, 2000));
        }
        assert!(w.rosters_held() <= ROSTERS_IDLE_MAX + 1, "{} held", w.rosters_held());
        assert!(Rc::ptr_eq(&roster, &w.roster(round, seed, role, 2000)), "the one in use was kept");
    }

    #[test]
    fn pareto_stake_has_its_mean_and_a_heavy_tail() {
        let mut cfg = AlgorandConfig::mainnet();
        cfg.stake = StakeDistribution::Pareto { shape: 1.16, mean_per_user: 1000 };
        let w = world(&cfg, 20_000);
        let mut s: Vec<u64> = (0..20_000).map(|u| w.stake(u)).collect();
        s.sort_unstable();
        let top_fifth: u64 = s[16_000..].iter().sum();
        let share = top_fifth as f64 / w.total_stake() as f64;
        assert!((0.6..0.95).contains(&share), "top 20% hold {share}");
        assert_eq!(w.stake_ppm(|u| u < 20_000), 1_000_000);
    }
}
