//! Virtual time: integer nanoseconds since the run began. No floats on the simulation path.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant of virtual time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub u64);

/// A span of virtual time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(pub u64);

impl Time {
    pub const ZERO: Time = Time(0);
    pub const MAX: Time = Time(u64::MAX);

    pub fn from_secs_f64(secs: f64) -> Time {
        Time(Span::from_secs_f64(secs).0)
    }
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// For reports only: never feed this back into the simulation.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    pub fn saturating_sub(self, earlier: Time) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }
}

impl Span {
    pub const ZERO: Span = Span(0);

    pub const fn from_nanos(ns: u64) -> Span {
        Span(ns)
    }
    pub const fn from_micros(us: u64) -> Span {
        Span(us * 1_000)
    }
    pub const fn from_millis(ms: u64) -> Span {
        Span(ms * 1_000_000)
    }
    /// Converts a user-facing float (from a scenario file) once, at the boundary; rounds to the
    /// nearest nanosecond and clamps negatives and NaN to zero.
    pub fn from_secs_f64(secs: f64) -> Span {
        Span::from_nanos_f64(secs * 1e9)
    }
    pub fn from_millis_f64(ms: f64) -> Span {
        Span::from_nanos_f64(ms * 1e6)
    }
    pub fn from_nanos_f64(ns: f64) -> Span {
        if ns.is_nan() || ns <= 0.0 {
            Span(0)
        } else if ns >= u64::MAX as f64 {
            Span(u64::MAX)
        } else {
            Span(ns.round() as u64)
        }
    }
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// For reports only.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Time to push `bytes` through a link of `bits_per_s` (rounded up to whole nanoseconds).
    pub fn transmission(bytes: u64, bits_per_s: u64) -> Span {
        assert!(bits_per_s > 0, "an unlimited link has no transmission time");
        let ns = (bytes as u128 * 8 * 1_000_000_000).div_ceil(bits_per_s as u128);
        Span(u64::try_from(ns).unwrap_or(u64::MAX))
    }
    pub fn saturating_mul(self, k: u64) -> Span {
        Span(self.0.saturating_mul(k))
    }
}

impl Add<Span> for Time {
    type Output = Time;
    fn add(self, rhs: Span) -> Time {
        Time(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<Span> for Time {
    fn add_assign(&mut self, rhs: Span) {
        *self = *self + rhs;
    }
}

impl Add for Span {
    type Output = Span;
    fn add(self, rhs: Span) -> Span {
        Span(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Time {
    type Output = Span;
    fn sub(self, rhs: Time) -> Span {
        assert!(self >= rhs, "time went backwards: {self} - {rhs}");
        Span(self.0 - rhs.0)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.as_secs_f64())
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}ms", self.as_millis_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmission_rounds_up() {
        // 1250 bytes = 10_000 bits at 10 Gbit/s = 1000 ns exactly; one more byte rounds up.
        assert_eq!(Span::transmission(1250, 10_000_000_000), Span(1000));
        assert_eq!(Span::transmission(1251, 10_000_000_000), Span(1001));
    }

    #[test]
    fn float_conversions_clamp() {
        assert_eq!(Span::from_millis_f64(-3.0), Span(0));
        assert_eq!(Span::from_millis_f64(f64::NAN), Span(0));
        assert_eq!(Span::from_millis_f64(1.5), Span(1_500_000));
        assert_eq!(Time::from_secs_f64(2.0), Time(2_000_000_000));
    }
}
