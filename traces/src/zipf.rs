//! Zipf-distributed account choice: a precomputed table (integer search at draw time) up to
//! `TABLE_MAX_ACCOUNTS`, rejection-inversion sampling in constant memory above it.

use sim_core::SimRng;

/// Most accounts tabulated (8 bytes each: 32 MiB at most). Above this the sampler draws by
/// rejection-inversion (Hörmann and Derflinger, 1996), which needs no table; the table is kept
/// below it so that the draws, and so the digests, of existing scenarios do not change.
pub const TABLE_MAX_ACCOUNTS: u32 = 1 << 22;

/// P(rank k) proportional to 1/k^s for k = 1..=n; rank 1 is account 0, the hottest.
#[derive(Clone, Debug)]
pub struct Zipf {
    n: u32,
    method: Method,
}

#[derive(Clone, Debug)]
enum Method {
    /// s = 0: every account equally likely.
    Uniform,
    /// Cumulative thresholds scaled to 2^53.
    Table(Vec<u64>),
    Rejection(RejectionInversion),
}

const SCALE: f64 = (1u64 << 53) as f64;

impl Zipf {
    pub fn new(n: u32, s: f64) -> Zipf {
        assert!(n >= 1 && s >= 0.0 && s.is_finite());
        let method = if s == 0.0 {
            Method::Uniform
        } else if n <= TABLE_MAX_ACCOUNTS {
            Method::Table(cdf_table(n, s))
        } else {
            Method::Rejection(RejectionInversion::new(n, s))
        };
        Zipf { n, method }
    }

    /// An account index in 0..n.
    pub fn sample(&self, rng: &mut SimRng) -> u32 {
        match &self.method {
            Method::Uniform => rng.below(self.n as u64) as u32,
            Method::Table(cdf) => {
                let u = rng.next_u64() >> 11;
                cdf.partition_point(|&c| c <= u) as u32
            }
            Method::Rejection(r) => r.sample(rng),
        }
    }
}

/// Cumulative weights of ranks 1..=n scaled to 2^53. Two passes over the weights (the same
/// floats in the same order as one stored list) so that only the table is held in memory.
fn cdf_table(n: u32, s: f64) -> Vec<u64> {
    let weight = |k: u32| libm::pow(k as f64, -s);
    let total: f64 = (1..=n).map(weight).sum();
    let mut acc = 0.0;
    let mut cdf: Vec<u64> = (1..=n)
        .map(|k| {
            acc += weight(k);
            (acc / total * SCALE) as u64
        })
        .collect();
    *cdf.last_mut().expect("n >= 1") = 1u64 << 53;
    cdf
}

/// Rejection-inversion for a Zipf law on 1..=n with exponent s > 0, after the sampler of
/// Apache Commons Math: invert the integral of a continuous hat function h(x) = x^-s, round to
/// the nearest rank, accept when the point falls under the rank's bar. O(1) memory; the
/// expected number of tries is close to 1 for every n and s.
#[derive(Clone, Debug)]
struct RejectionInversion {
    n: u32,
    s: f64,
    h_integral_x1: f64,
    h_integral_n: f64,
    /// Ranks whose distance to the inverted point is at most this are accepted at once.
    shortcut: f64,
}

impl RejectionInversion {
    fn new(n: u32, s: f64) -> RejectionInversion {
        let mut r = RejectionInversion { n, s, h_integral_x1: 0.0, h_integral_n: 0.0, shortcut: 0.0 };
        r.h_integral_x1 = r.h_integral(1.5) - 1.0;
        r.h_integral_n = r.h_integral(f64::from(n) + 0.5);
        r.shortcut = 2.0 - r.h_integral_inverse(r.h_integral(2.5) - r.h(2.0));
        r
    }

    /// An account index in 0..n (rank - 1).
    fn sample(&self, rng: &mut SimRng) -> u32 {
        loop {
            let u = self.h_integral_n + rng.unit_f64() * (self.h_integral_x1 - self.h_integral_n);
            let x = self.h_integral_inverse(u);
            let k = libm::floor(x + 0.5).clamp(1.0, f64::from(self.n));
            if k - x <= self.shortcut || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u32 - 1;
            }
        }
    }

    fn h(&self, x: f64) -> f64 {
        libm::exp(-self.s * libm::log(x))
    }

    /// The integral of h from 1 to x (shifted by a constant), stable near s = 1.
    fn h_integral(&self, x: f64) -> f64 {
        let log_x = libm::log(x);
        expm1_over_x((1.0 - self.s) * log_x) * log_x
    }

    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.s)).max(-1.0);
        libm::exp(log1p_over_x(t) * x)
    }
}

/// log(1 + x) / x, with its series near 0.
fn log1p_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 { libm::log1p(x) / x } else { 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x)) }
}

/// (e^x - 1) / x, with its series near 0.
fn expm1_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 { libm::expm1(x) / x } else { 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x)) }
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

    /// The rejection sampler against exact probabilities 1/(k^s H(n, s)) for a small n.
    fn rejection_matches_the_law(n: u32, s: f64) {
        let r = RejectionInversion::new(n, s);
        let mut rng = Streams::new(7).stream("w");
        let draws = 200_000;
        let mut counts = vec![0u32; n as usize];
        for _ in 0..draws {
            counts[r.sample(&mut rng) as usize] += 1;
        }
        let h: f64 = (1..=n).map(|k| libm::pow(k as f64, -s)).sum();
        for k in [1u32, 2, 5, n] {
            let expected = draws as f64 * libm::pow(k as f64, -s) / h;
            let got = counts[k as usize - 1] as f64;
            // Five standard deviations of a binomial count.
            assert!((got - expected).abs() < 5.0 * expected.sqrt() + 1.0, "n {n} s {s} rank {k}: {got} vs {expected}");
        }
    }

    #[test]
    fn rejection_inversion_draws_the_zipf_law() {
        for s in [0.5, 0.8, 1.0, 1.2, 2.0] {
            rejection_matches_the_law(50, s);
        }
    }

    #[test]
    fn the_largest_account_count_needs_no_table() {
        let z = Zipf::new(u32::MAX, 0.8);
        assert!(matches!(z.method, Method::Rejection(_)), "4 billion accounts are not tabulated");
        let mut rng = Streams::new(5).stream("w");
        let draws: Vec<u32> = (0..10_000).map(|_| z.sample(&mut rng)).collect();
        // P(rank 1) = 1/H(2^32, 0.8), about 0.24%: account 0 is drawn, and so are far ones.
        let hot = draws.iter().filter(|&&a| a == 0).count();
        assert!((10..45).contains(&hot), "{hot}");
        assert!(draws.iter().any(|&a| a > 1_000_000_000));
    }
}
