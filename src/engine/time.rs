//! Virtual time: integer nanoseconds since the start of a run.
//!
//! `SimTime` is a point, `SimDuration` a span. Both are `u64` nanoseconds, so a run can last
//! about 584 years before overflow; arithmetic saturates instead of wrapping so that a bad
//! input can never make time run backwards.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in virtual time, in nanoseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of virtual time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

pub const NANOS_PER_MICRO: u64 = 1_000;
pub const NANOS_PER_MILLI: u64 = 1_000_000;
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_MILLI as f64
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// Whole milliseconds, rounded down.
    pub fn as_millis(self) -> u64 {
        self.0 / NANOS_PER_MILLI
    }
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(n: u64) -> Self {
        SimDuration(n)
    }
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us.saturating_mul(NANOS_PER_MICRO))
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms.saturating_mul(NANOS_PER_MILLI))
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s.saturating_mul(NANOS_PER_SEC))
    }
    /// Converts seconds given as a float, rounding to the nearest nanosecond. Negative and
    /// non-finite inputs give zero; huge inputs saturate.
    pub fn from_secs_f64(s: f64) -> Self {
        if !s.is_finite() || s <= 0.0 {
            return SimDuration::ZERO;
        }
        let ns = (s * NANOS_PER_SEC as f64).round();
        if ns >= u64::MAX as f64 {
            SimDuration(u64::MAX)
        } else {
            SimDuration(ns as u64)
        }
    }
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_MILLI as f64
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.since(earlier)
    }
}

/// Formats a duration compactly with the largest unit that keeps it exact to three
/// decimals: `1.5s`, `40ms`, `250us`, `7ns`.
pub fn format_duration(d: SimDuration) -> String {
    let ns = d.0;
    if ns >= NANOS_PER_SEC {
        trim_float(ns as f64 / NANOS_PER_SEC as f64, "s")
    } else if ns >= NANOS_PER_MILLI {
        trim_float(ns as f64 / NANOS_PER_MILLI as f64, "ms")
    } else if ns >= NANOS_PER_MICRO {
        trim_float(ns as f64 / NANOS_PER_MICRO as f64, "us")
    } else {
        format!("{ns}ns")
    }
}

fn trim_float(x: f64, unit: &str) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{unit}")
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(*self))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", format_duration(SimDuration(self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
        assert_eq!(SimTime(5) - SimTime(9), SimDuration::ZERO);
    }

    #[test]
    fn durations_format_with_the_largest_exact_unit() {
        assert_eq!(format_duration(SimDuration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(SimDuration::from_millis(40)), "40ms");
        assert_eq!(format_duration(SimDuration::from_micros(250)), "250us");
        assert_eq!(format_duration(SimDuration(7)), "7ns");
    }

    #[test]
    fn float_seconds_round_to_nanoseconds() {
        assert_eq!(
            SimDuration::from_secs_f64(0.001),
            SimDuration::from_millis(1)
        );
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
    }
}
