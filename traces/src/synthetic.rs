//! The synthetic open-loop workload: constant or Poisson arrivals at a given rate, spread
//! round-robin over the clients, transfers between Zipf-popular accounts.

use sim_core::workload::{Arrival, Workload};
use sim_core::{AccountId, SimRng, Time};

use crate::zipf::Zipf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrivalProcess {
    /// Exactly one transaction every 1/rate seconds.
    Constant,
    /// Exponential gaps of mean 1/rate seconds.
    Poisson,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticConfig {
    pub process: ArrivalProcess,
    pub rate_tps: f64,
    /// Arrivals happen in [0, until).
    pub until: Time,
    pub n_clients: u32,
    pub accounts: u32,
    pub zipf_s: f64,
    pub tx_size_bytes: u32,
}

#[derive(Debug)]
pub struct Synthetic {
    cfg: SyntheticConfig,
    rng: SimRng,
    zipf: Zipf,
    gap_ns: f64,
    /// Time of the next arrival in nanoseconds (a float accumulator, rounded per arrival).
    next_ns: f64,
    count: u64,
}

impl Synthetic {
    /// `rng` is the run's `workload` stream.
    pub fn new(cfg: SyntheticConfig, rng: SimRng) -> Synthetic {
        assert!(cfg.rate_tps > 0.0 && cfg.rate_tps.is_finite());
        assert!(cfg.n_clients >= 1 && cfg.accounts >= 2);
        let mut w = Synthetic {
            zipf: Zipf::new(cfg.accounts, cfg.zipf_s),
            gap_ns: 1e9 / cfg.rate_tps,
            next_ns: 0.0,
            count: 0,
            rng,
            cfg,
        };
        w.next_ns = w.gap();
        w
    }

    fn gap(&mut self) -> f64 {
        match self.cfg.process {
            ArrivalProcess::Constant => self.gap_ns,
            ArrivalProcess::Poisson => self.rng.exponential(self.gap_ns),
        }
    }

    fn transfer(&mut self) -> (AccountId, AccountId, u64) {
        draw_transfer(&self.zipf, &mut self.rng, self.cfg.accounts)
    }
}

/// A transfer between two distinct Zipf-popular accounts of `accounts` (>= 2), of 1 to 100.
pub(crate) fn draw_transfer(zipf: &Zipf, rng: &mut SimRng, accounts: u32) -> (AccountId, AccountId, u64) {
    let from = zipf.sample(rng);
    let mut to = zipf.sample(rng);
    if to == from {
        // Any other account, uniformly: keeps transfers between two distinct accounts.
        let other = u64::from(from) + 1 + rng.below(u64::from(accounts) - 1);
        to = (other % u64::from(accounts)) as u32;
    }
    let amount = 1 + rng.below(100);
    (AccountId(from), AccountId(to), amount)
}

impl Workload for Synthetic {
    fn next_arrival(&mut self) -> Option<Arrival> {
        let at = Time(self.next_ns.round() as u64);
        if at >= self.cfg.until {
            return None;
        }
        let (from, to, amount) = self.transfer();
        let client_idx = (self.count % self.cfg.n_clients as u64) as u32;
        self.count += 1;
        self.next_ns += self.gap();
        Some(Arrival { at, client_idx, from, to, amount, size_bytes: self.cfg.tx_size_bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::Streams;

    fn config(process: ArrivalProcess) -> SyntheticConfig {
        SyntheticConfig {
            process,
            rate_tps: 1000.0,
            until: Time::from_secs_f64(10.0),
            n_clients: 3,
            accounts: 100,
            zipf_s: 0.0,
            tx_size_bytes: 200,
        }
    }

    fn drain(cfg: SyntheticConfig) -> Vec<Arrival> {
        let mut w = Synthetic::new(cfg, Streams::new(9).stream("workload"));
        std::iter::from_fn(|| w.next_arrival()).collect()
    }

    #[test]
    fn constant_rate_offers_exactly_its_integral() {
        let a = drain(config(ArrivalProcess::Constant));
        assert_eq!(a.len(), 9_999); // arrivals at 1 ms, 2 ms, ... 9.999 s
        assert_eq!(a[0].at, Time(1_000_000));
        assert!(a.iter().all(|x| x.from != x.to && x.size_bytes == 200));
        assert_eq!(a.iter().filter(|x| x.client_idx == 2).count(), 3_333);
    }

    #[test]
    fn poisson_rate_is_right_within_noise() {
        let a = drain(config(ArrivalProcess::Poisson));
        assert!((9_700..10_300).contains(&a.len()), "{}", a.len());
        assert!(a.windows(2).all(|w| w[0].at <= w[1].at));
    }
}
