//! Small statistics for comparisons over seeds: means, and paired differences with 95%
//! confidence intervals from Student's t distribution (a table of quantiles, no dependency).
//!
//! Paired differences: protocols compared on the same seed share the workload, the faults and
//! the Byzantine roster (common random numbers), so the difference d_s = b_s - a_s per seed has
//! far less variance than b and a apart. The interval is mean(d) +- t(0.975, k-1) * sd(d) / sqrt(k)
//! over the k seeds where both values exist (sd with k-1 in the denominator).

/// Two-sided 95% quantiles t(0.975, df) of Student's t distribution, for df = 1..=30, then 40,
/// 50, 60, 80, 100 and 120 degrees of freedom (standard tables, 3 decimals).
const T_975: &[(u32, f64)] = &[
    (1, 12.706),
    (2, 4.303),
    (3, 3.182),
    (4, 2.776),
    (5, 2.571),
    (6, 2.447),
    (7, 2.365),
    (8, 2.306),
    (9, 2.262),
    (10, 2.228),
    (11, 2.201),
    (12, 2.179),
    (13, 2.160),
    (14, 2.145),
    (15, 2.131),
    (16, 2.120),
    (17, 2.110),
    (18, 2.101),
    (19, 2.093),
    (20, 2.086),
    (21, 2.080),
    (22, 2.074),
    (23, 2.069),
    (24, 2.064),
    (25, 2.060),
    (26, 2.056),
    (27, 2.052),
    (28, 2.048),
    (29, 2.045),
    (30, 2.042),
    (40, 2.021),
    (50, 2.009),
    (60, 2.000),
    (80, 1.990),
    (100, 1.984),
    (120, 1.980),
];

/// The normal quantile, the limit of t(0.975, df) as df grows.
const Z_975: f64 = 1.960;

/// t(0.975, df): exact (to 3 decimals) up to 30 degrees of freedom; between table rows the
/// row below is used, which widens the interval slightly (conservative); above 120, 1.960.
pub fn t_975(df: u32) -> f64 {
    assert!(df >= 1, "a t quantile needs at least one degree of freedom");
    if df > 120 {
        return Z_975;
    }
    T_975.iter().rev().find(|&&(d, _)| d <= df).map(|&(_, t)| t).expect("df >= 1 is in the table")
}

/// The mean of the values that are not NaN (a missing value, as a latency of no transaction);
/// NaN when there is none, infinite when one is (a p99 of a saturated run).
pub fn mean(values: &[f64]) -> f64 {
    let present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if present.is_empty() { f64::NAN } else { present.iter().sum::<f64>() / present.len() as f64 }
}

/// A paired difference b - a over seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairedDiff {
    /// Seeds where both values are finite.
    pub n: usize,
    pub mean: f64,
    /// The 95% interval of the mean difference; None with fewer than two pairs.
    pub ci95: Option<(f64, f64)>,
}

impl PairedDiff {
    /// True when the interval excludes zero.
    pub fn significant(&self) -> bool {
        self.ci95.is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0)
    }
}

/// The paired difference `b[s] - a[s]` over the seeds where both are finite.
pub fn paired_diff(a: &[f64], b: &[f64]) -> PairedDiff {
    assert_eq!(a.len(), b.len(), "paired values come one per seed");
    let d: Vec<f64> = a.iter().zip(b).filter(|(x, y)| x.is_finite() && y.is_finite()).map(|(x, y)| y - x).collect();
    let n = d.len();
    if n == 0 {
        return PairedDiff { n, mean: f64::NAN, ci95: None };
    }
    let m = d.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return PairedDiff { n, mean: m, ci95: None };
    }
    let var = d.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
    let half = t_975((n - 1) as u32) * (var / n as f64).sqrt();
    PairedDiff { n, mean: m, ci95: Some((m - half, m + half)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables_and_shrink_towards_the_normal() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(9), 2.262);
        assert_eq!(t_975(30), 2.042);
        assert_eq!(t_975(45), 2.021, "between rows: the row below (wider)");
        assert_eq!(t_975(120), 1.980);
        assert_eq!(t_975(10_000), 1.960);
        let mut last = f64::INFINITY;
        for df in 1..200 {
            assert!(t_975(df) <= last && t_975(df) >= Z_975, "df {df}");
            last = t_975(df);
        }
    }

    #[test]
    fn paired_differences() {
        // d = 1, 2, 3: mean 2, sd 1, half-width t(2) / sqrt(3).
        let d = paired_diff(&[10.0, 10.0, 10.0], &[11.0, 12.0, 13.0]);
        assert_eq!(d.n, 3);
        assert!((d.mean - 2.0).abs() < 1e-12);
        let (lo, hi) = d.ci95.unwrap();
        let half = 4.303 / 3f64.sqrt();
        assert!((lo - (2.0 - half)).abs() < 1e-9 && (hi - (2.0 + half)).abs() < 1e-9);
        assert!(!d.significant(), "[-0.48, 4.48] holds zero");
        assert!(paired_diff(&[1.0, 2.0, 3.0], &[2.0, 3.1, 4.0]).significant());
        // A constant difference: a zero-width interval.
        assert_eq!(paired_diff(&[1.0, 2.0], &[2.0, 3.0]).ci95, Some((1.0, 1.0)));
        // Pairs with a missing value are left out; one pair has no interval.
        let one = paired_diff(&[1.0, f64::NAN], &[3.0, 4.0]);
        assert_eq!((one.n, one.mean, one.ci95), (1, 2.0, None));
        assert_eq!(paired_diff(&[], &[]).n, 0);
        assert!(mean(&[]).is_nan());
        assert_eq!(mean(&[1.0, f64::NAN, 3.0]), 2.0);
        assert_eq!(mean(&[1.0, f64::INFINITY]), f64::INFINITY);
    }
}
