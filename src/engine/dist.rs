//! Sampling functions, written here rather than taken from `rand_distr` so that the numbers a
//! seed produces are fixed by this crate's code alone and cannot change with a dependency
//! upgrade (rand_distr documents that its algorithms may change between minor versions).
//!
//! Every function consumes a fixed number of 64-bit words per call, except `Zipf::sample`,
//! whose rejection loop consumes a data-dependent (but seed-determined) number.

use rand::Rng;

mod size;
pub use size::SizeDist;

/// A uniform draw from [0, 1) with 53 bits of precision.
#[inline]
pub(crate) fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform draw from (0, 1]: safe as the argument of `ln`.
#[inline]
pub(crate) fn unit_open0<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    1.0 - unit(rng)
}

/// A uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift; the bias is below
/// 2^-64 · n, far under anything a run can observe.
#[inline]
pub(crate) fn below<R: Rng + ?Sized>(rng: &mut R, n: u64) -> u64 {
    debug_assert!(n > 0);
    ((rng.next_u64() as u128 * n as u128) >> 64) as u64
}

/// Exponential with the given mean.
#[inline]
pub(crate) fn exponential<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> f64 {
    -mean * unit_open0(rng).ln()
}

/// Standard normal by the Box–Muller transform (two words per draw; the second normal of the
/// pair is discarded so that every draw costs the same).
#[inline]
pub(crate) fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = unit_open0(rng);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Pareto (type I) with scale `x_m > 0` and shape `alpha > 0`, by inversion.
#[inline]
pub(crate) fn pareto<R: Rng + ?Sized>(rng: &mut R, scale: f64, shape: f64) -> f64 {
    scale / unit_open0(rng).powf(1.0 / shape)
}

/// Zipf over ranks `1..=n` with exponent `s > 0`, P(k) ∝ k^-s, sampled by Hörmann and
/// Derflinger's rejection-inversion ("Rejection-inversion to generate variates from monotone
/// discrete distributions", 1996). Constant memory, so `n` may be huge.
#[derive(Clone, Debug)]
pub(crate) struct Zipf {
    n: f64,
    s: f64,
    h_x1: f64,
    h_n: f64,
    threshold: f64,
}

impl Zipf {
    /// `n >= 1`, `s > 0` (checked by the caller's validation).
    pub fn new(n: u64, s: f64) -> Self {
        let n = n.max(1) as f64;
        let mut z = Zipf {
            n,
            s,
            h_x1: 0.0,
            h_n: 0.0,
            threshold: 0.0,
        };
        z.h_x1 = z.h_integral(1.5) - 1.0;
        z.h_n = z.h_integral(n + 0.5);
        z.threshold = 2.0 - z.h_integral_inv(z.h_integral(2.5) - z.h(2.0));
        z
    }

    /// A rank in `1..=n`.
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        // The loop accepts with probability above 0.5 for every (n, s); the bound only guards
        // against a floating-point pathology.
        for _ in 0..1000 {
            let u = self.h_n + unit(rng) * (self.h_x1 - self.h_n);
            let x = self.h_integral_inv(u);
            let k = (x + 0.5).floor().clamp(1.0, self.n);
            if k - x <= self.threshold || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
        1
    }

    /// How many ranks have a probability of at least `share` (the normalising sum taken as
    /// its first term plus the integral of the rest, as the sampler's own bounds are).
    pub fn ranks_above_share(&self, share: f64) -> u64 {
        if share <= 0.0 {
            return self.n as u64;
        }
        let norm = 1.0 + self.h_integral(self.n + 0.5) - self.h_integral(1.5);
        let k = (1.0 / (share * norm)).powf(1.0 / self.s).floor();
        k.clamp(0.0, self.n) as u64
    }

    /// Σ P(k)² over every rank: how concentrated the distribution is (the chance that two
    /// draws agree). The first 10,000 terms are summed, the rest integrated.
    pub fn collision(&self) -> f64 {
        let norm = 1.0 + self.h_integral(self.n + 0.5) - self.h_integral(1.5);
        let two = 2.0 * self.s;
        let head = self.n.min(10_000.0) as u64;
        let mut sum: f64 = (1..=head).map(|k| (k as f64).powf(-two)).sum();
        if (head as f64) < self.n {
            // ∫ x^-2s from head + 0.5 to n + 0.5.
            let a = head as f64 + 0.5;
            let b = self.n + 0.5;
            sum += if (two - 1.0).abs() < 1e-12 {
                (b / a).ln()
            } else {
                (a.powf(1.0 - two) - b.powf(1.0 - two)) / (two - 1.0)
            };
        }
        sum / (norm * norm)
    }

    fn h(&self, x: f64) -> f64 {
        (-self.s * x.ln()).exp()
    }

    /// H(x) = ((x^(1-s)) - 1) / (1 - s), continuous at s = 1 (ln x).
    fn h_integral(&self, x: f64) -> f64 {
        let log_x = x.ln();
        helper2((1.0 - self.s) * log_x) * log_x
    }

    fn h_integral_inv(&self, x: f64) -> f64 {
        let mut t = x * (1.0 - self.s);
        if t < -1.0 {
            t = -1.0;
        }
        (helper1(t) * x).exp()
    }
}

/// ln(1 + x) / x, accurate near zero.
fn helper1(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.ln_1p() / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// (e^x − 1) / x, accurate near zero.
fn helper2(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream_for;

    #[test]
    fn unit_draws_stay_in_range_and_average_a_half() {
        let mut r = stream_for(1, "t");
        let mut sum = 0.0;
        for _ in 0..100_000 {
            let u = unit(&mut r);
            assert!((0.0..1.0).contains(&u));
            sum += u;
        }
        assert!((sum / 100_000.0 - 0.5).abs() < 0.01);
    }

    #[test]
    fn exponential_and_normal_have_the_right_moments() {
        let mut r = stream_for(2, "t");
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| exponential(&mut r, 3.0)).sum::<f64>() / n as f64;
        assert!((mean - 3.0).abs() < 0.05, "{mean}");
        let xs: Vec<f64> = (0..n).map(|_| standard_normal(&mut r)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.01 && (var - 1.0).abs() < 0.02, "{m} {var}");
    }

    #[test]
    fn zipf_rank_one_has_the_expected_share() {
        // For n = 10 and s = 1, P(1) = 1 / H_10 = 0.3414.
        let z = Zipf::new(10, 1.0);
        let mut r = stream_for(3, "t");
        let n = 200_000;
        let mut ones = 0;
        for _ in 0..n {
            let k = z.sample(&mut r);
            assert!((1..=10).contains(&k));
            if k == 1 {
                ones += 1;
            }
        }
        let p = ones as f64 / n as f64;
        assert!((p - 0.3414).abs() < 0.01, "{p}");
    }

    #[test]
    fn zipf_handles_a_huge_key_space() {
        let z = Zipf::new(1_000_000_000_000, 0.99);
        let mut r = stream_for(4, "t");
        for _ in 0..1000 {
            let k = z.sample(&mut r);
            assert!((1..=1_000_000_000_000).contains(&k));
        }
    }

    #[test]
    fn below_is_uniform_enough() {
        let mut r = stream_for(5, "t");
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            counts[below(&mut r, 7) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }
}
