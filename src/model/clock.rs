//! Physical node clocks: an initial offset and a drift in parts per million, optionally
//! disciplined by NTP, which at every interval resets the error to a small residual.
//!
//! The clock is a closed-form function of true time (no events), so reading it is cheap and
//! does not perturb the event order. Last-write-wins uses the writing node's clock.

use crate::engine::{Digest, SimDuration, SimTime};

#[derive(Clone, Debug, PartialEq)]
pub struct ClockParams {
    /// Error at time zero, in nanoseconds (positive: the clock runs ahead).
    pub offset_ns: i64,
    /// Rate error in parts per million (positive: the clock runs fast).
    pub drift_ppm: f64,
    /// Whether a time service corrects the clock.
    pub ntp: bool,
    /// How often NTP corrects it.
    pub ntp_interval: SimDuration,
    /// After a correction the error is uniform in `[-residual, +residual]`.
    pub ntp_residual: SimDuration,
    /// Clock steps (faults): at true time `t` the clock jumps by `delta` ns. With NTP on, a
    /// step lasts until the next correction.
    pub steps: Vec<(SimTime, i64)>,
}

impl Default for ClockParams {
    fn default() -> Self {
        ClockParams {
            offset_ns: 0,
            drift_ppm: 0.0,
            ntp: true,
            ntp_interval: SimDuration::from_secs(64),
            ntp_residual: SimDuration::from_millis(1),
            steps: Vec::new(),
        }
    }
}

/// A node's clock.
#[derive(Clone, Debug)]
pub struct NodeClock {
    params: ClockParams,
    /// Seeds the residual draws: geosim-digest-v1 of (master seed, component name).
    seed_word: u64,
}

impl NodeClock {
    pub fn new(params: ClockParams, master_seed: u64, name: &str) -> Self {
        let seed_word = Digest::new().word(master_seed).str(name).value();
        NodeClock { params, seed_word }
    }

    /// The residual error right after the `k`-th NTP correction (k ≥ 1), a pure function of
    /// the seed so that the clock needs no state.
    fn residual_ns(&self, k: u64) -> i64 {
        let r = self.params.ntp_residual.0 as i64;
        if r == 0 {
            return 0;
        }
        let w = Digest::new().word(self.seed_word).word(k).value();
        let span = 2 * r as u64 + 1;
        ((w % span) as i64) - r
    }

    /// The clock error (local − true) at true time `t`, in nanoseconds.
    pub(crate) fn error_ns(&self, t: SimTime) -> i64 {
        let drift = |since: u64| (since as f64 * self.params.drift_ppm * 1e-6) as i64;
        let p = &self.params;
        let disciplined = p.ntp && p.ntp_interval.0 > 0;
        let base = if disciplined && t.0 >= p.ntp_interval.0 {
            let k = t.0 / p.ntp_interval.0;
            let last = k * p.ntp_interval.0;
            self.residual_ns(k) + drift(t.0 - last)
        } else {
            p.offset_ns + drift(t.0)
        };
        // A step stands until the next NTP correction after it (forever without NTP).
        let steps: i64 = p
            .steps
            .iter()
            .filter(|(at, _)| {
                *at <= t && (!disciplined || at.0 / p.ntp_interval.0 == t.0 / p.ntp_interval.0)
            })
            .map(|(_, d)| *d)
            .sum();
        base + steps
    }

    /// What the clock reads at true time `t`, in nanoseconds (never below zero).
    pub(crate) fn read_ns(&self, t: SimTime) -> u64 {
        (t.0 as i128 + self.error_ns(t) as i128).max(0) as u64
    }

    /// What the clock reads at true time `t`, in whole milliseconds: the resolution of the
    /// timestamps that last-write-wins compares.
    pub(crate) fn read_ms(&self, t: SimTime) -> u64 {
        self.read_ns(t) / 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_running_clock_drifts() {
        let c = NodeClock::new(
            ClockParams {
                offset_ns: 5_000_000,
                drift_ppm: 100.0,
                ntp: false,
                ..ClockParams::default()
            },
            1,
            "c",
        );
        // After 1000 s, +100 ppm adds 100 ms to the 5 ms offset.
        let t = SimTime(1000 * 1_000_000_000);
        assert_eq!(c.error_ns(t), 105_000_000);
        assert_eq!(c.read_ms(t), 1_000_105);
    }

    #[test]
    fn a_step_lasts_until_the_next_ntp_correction() {
        let mut p = ClockParams {
            ntp_residual: SimDuration::ZERO,
            steps: vec![(SimTime(100 * 1_000_000_000), 500_000_000)],
            ..ClockParams::default()
        };
        let c = NodeClock::new(p.clone(), 1, "c");
        assert_eq!(c.error_ns(SimTime(99 * 1_000_000_000)), 0);
        assert_eq!(c.error_ns(SimTime(100 * 1_000_000_000)), 500_000_000);
        assert_eq!(c.error_ns(SimTime(127 * 1_000_000_000)), 500_000_000);
        // NTP corrects at 128 s.
        assert_eq!(c.error_ns(SimTime(128 * 1_000_000_000)), 0);
        p.ntp = false;
        let free = NodeClock::new(p, 1, "c");
        assert_eq!(free.error_ns(SimTime(1_000 * 1_000_000_000)), 500_000_000);
    }

    #[test]
    fn ntp_bounds_the_error() {
        let c = NodeClock::new(
            ClockParams {
                offset_ns: 300_000_000,
                drift_ppm: 50.0,
                ntp: true,
                ntp_interval: SimDuration::from_secs(64),
                ntp_residual: SimDuration::from_millis(1),
                steps: Vec::new(),
            },
            1,
            "c",
        );
        // Before the first correction the offset stands.
        assert!(c.error_ns(SimTime(1_000_000_000)) >= 300_000_000);
        // After it the error stays within residual + 64 s of drift (3.2 ms).
        for s in (64..10_000).step_by(7) {
            let e = c.error_ns(SimTime(s * 1_000_000_000));
            assert!(e.abs() <= 1_000_000 + 3_200_000, "{s}: {e}");
        }
    }
}
