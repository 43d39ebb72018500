//! Zipf-distributed account choice from a precomputed table (integer search at draw time).

use sim_core::SimRng;

/// P(rank k) proportional to 1/k^s for k = 1..=n; rank 1 is account 0, the hottest.
#[derive(Clone, Debug)]
pub struct Zipf {
    n: u32,
    /// Cumulative thresholds scaled to 2^53; empty when s = 0 (uniform).
    cdf: Vec<u64>,
}

const SCALE: f64 = (1u64 << 53) as f64;

impl Zipf {
    pub fn new(n: u32, s: f64) -> Zipf {
        assert!(n >= 1 && s >= 0.0 && s.is_finite());
        if s == 0.0 {
            return Zipf { n, cdf: Vec::new() };
        }
        let weights: Vec<f64> = (1..=n).map(|k| libm::pow(k as f64, -s)).collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let mut cdf: Vec<u64> = weights
            .iter()
            .map(|w| {
                acc += w;
                (acc / total * SCALE) as u64
            })
            .collect();
        *cdf.last_mut().expect("n >= 1") = 1u64 << 53;
        Zipf { n, cdf }
    }

    /// An account index in 0..n.
    pub fn sample(&self, rng: &mut SimRng) -> u32 {
        if self.cdf.is_empty() {
            return rng.below(self.n as u64) as u32;
        }
        let u = rng.next_u64() >> 11;
        self.cdf.partition_point(|&c| c <= u) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::Streams;

    #[test]
    fn hot_accounts_are_hot() {
        let z = Zipf::new(1000, 1.2);
        let mut rng = Streams::new(5).stream("w");
        let mut counts = vec![0u32; 1000];
        for _ in 0..100_000 {
            counts[z.sample(&mut rng) as usize] += 1;
        }
        // P(rank 1) = 1/H(1000, 1.2), about 0.23 (H ~ 4.3).
        assert!((20_000..26_000).contains(&counts[0]), "{}", counts[0]);
        assert!(counts[0] > counts[1] && counts[1] > counts[10] && counts[10] > counts[500]);
    }

    #[test]
    fn uniform_when_s_is_zero() {
        let z = Zipf::new(4, 0.0);
        let mut rng = Streams::new(5).stream("w");
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[z.sample(&mut rng) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_500..10_500).contains(&c)), "{counts:?}");
    }
}
