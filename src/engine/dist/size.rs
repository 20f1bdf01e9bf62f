//! Sizes drawn per write (`workload.value_size`): fixed, uniform, lognormal or an empirical
//! histogram. A fixed size draws nothing, so a scenario that gives one consumes its random
//! stream exactly as before sizes could vary.

use super::{standard_normal, unit};
use rand::Rng;

/// A distribution of byte sizes, each draw in `1..=max` (a cap the validator sets).
#[derive(Clone, Debug, PartialEq)]
pub enum SizeDist {
    Fixed(u32),
    /// Uniform over `min..=max`.
    Uniform {
        min: u32,
        max: u32,
    },
    /// `median · e^(sigma · Z)`, rounded, clamped to `1..=cap`.
    Lognormal {
        median: f64,
        sigma: f64,
        cap: u32,
    },
    /// An empirical histogram: `(size, cumulative weight)` in increasing cumulative order,
    /// the last weight the total. A draw picks a size with probability proportional to its
    /// weight.
    Histogram(Vec<(u32, f64)>),
}

impl SizeDist {
    /// One size. `Fixed` consumes no random word, `Uniform` and `Histogram` one,
    /// `Lognormal` two.
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        match self {
            SizeDist::Fixed(n) => *n,
            SizeDist::Uniform { min, max } => {
                min + super::below(rng, u64::from(max - min) + 1) as u32
            }
            SizeDist::Lognormal { median, sigma, cap } => {
                let x = median * (sigma * standard_normal(rng)).exp();
                x.round().clamp(1.0, f64::from(*cap)) as u32
            }
            SizeDist::Histogram(cum) => {
                let total = cum.last().map_or(0.0, |c| c.1);
                let u = unit(rng) * total;
                let i = cum.partition_point(|&(_, c)| c <= u).min(cum.len() - 1);
                cum[i].0
            }
        }
    }

    /// The mean size (for a lognormal, of the uncapped distribution; the cap moves it by
    /// less than its tail beyond the cap).
    pub fn mean(&self) -> f64 {
        match self {
            SizeDist::Fixed(n) => f64::from(*n),
            SizeDist::Uniform { min, max } => (f64::from(*min) + f64::from(*max)) / 2.0,
            SizeDist::Lognormal { median, sigma, .. } => median * (sigma * sigma / 2.0).exp(),
            SizeDist::Histogram(cum) => {
                let total = cum.last().map_or(0.0, |c| c.1);
                let mut prev = 0.0;
                let mut sum = 0.0;
                for &(size, c) in cum {
                    sum += f64::from(size) * (c - prev);
                    prev = c;
                }
                if total > 0.0 { sum / total } else { 0.0 }
            }
        }
    }

    /// The largest size a draw can give.
    pub fn max(&self) -> u32 {
        match self {
            SizeDist::Fixed(n) => *n,
            SizeDist::Uniform { max, .. } => *max,
            SizeDist::Lognormal { cap, .. } => *cap,
            SizeDist::Histogram(cum) => cum.iter().map(|c| c.0).max().unwrap_or(0),
        }
    }

    /// A histogram from `(size, weight)` pairs (weights ≥ 0, not all zero).
    pub fn histogram(points: &[(u32, f64)]) -> SizeDist {
        let mut total = 0.0;
        SizeDist::Histogram(
            points
                .iter()
                .filter(|p| p.1 > 0.0)
                .map(|&(s, w)| {
                    total += w;
                    (s, total)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream_for;

    fn mean_of(d: &SizeDist, n: usize) -> f64 {
        let mut rng = stream_for(5, "size");
        (0..n).map(|_| f64::from(d.sample(&mut rng))).sum::<f64>() / n as f64
    }

    #[test]
    fn draws_have_the_stated_means_and_bounds() {
        let cases = [
            SizeDist::Fixed(256),
            SizeDist::Uniform { min: 10, max: 30 },
            SizeDist::Lognormal {
                median: 200.0,
                sigma: 0.5,
                cap: 1 << 20,
            },
            SizeDist::histogram(&[(64, 0.5), (1024, 0.25), (4096, 0.25)]),
        ];
        for d in &cases {
            let m = mean_of(d, 200_000);
            assert!(
                (m - d.mean()).abs() < 0.02 * d.mean(),
                "{d:?}: {m} vs {}",
                d.mean()
            );
            let mut rng = stream_for(9, "size");
            for _ in 0..10_000 {
                let x = d.sample(&mut rng);
                assert!((1..=d.max()).contains(&x), "{d:?} drew {x}");
            }
        }
        assert_eq!(cases[3].mean(), 0.5 * 64.0 + 0.25 * 1024.0 + 0.25 * 4096.0);
    }

    #[test]
    fn a_histogram_draws_each_size_by_its_weight_and_never_a_zero_weight() {
        let d = SizeDist::histogram(&[(1, 3.0), (2, 0.0), (3, 1.0)]);
        let mut rng = stream_for(1, "h");
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[d.sample(&mut rng) as usize] += 1;
        }
        assert_eq!(counts[2], 0);
        assert!((29_000..31_000).contains(&counts[1]), "{counts:?}");
    }

    #[test]
    fn a_fixed_size_consumes_no_randomness() {
        let mut a = stream_for(3, "x");
        let mut b = stream_for(3, "x");
        assert_eq!(SizeDist::Fixed(7).sample(&mut a), 7);
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
