//! WAN links: latency distributions, bandwidth as a FIFO byte queue, loss as retransmission
//! delay. A link is directed (`from → to`); each direction has its own queue and random stream.
//!
//! A path's delay changes slowly compared with the gap between a busy link's packets, so a
//! link draws its latency (and jitter) once per `latency_interval` and every transmission
//! whose last byte leaves within that interval travels with the same draw (docs/semantics.md,
//! "Links"). With an interval of zero every transmission draws its own.

use rand::Rng;

use crate::engine::dist;
use crate::engine::{RngStream, SimDuration, SimTime};

/// The one-way latency of a link, drawn per transmission.
#[derive(Clone, Debug, PartialEq)]
pub enum LatencyDist {
    Constant(SimDuration),
    Uniform {
        min: SimDuration,
        max: SimDuration,
    },
    /// Truncated at zero.
    Normal {
        mean: SimDuration,
        stddev: SimDuration,
    },
    /// `median · exp(sigma · N(0,1))`.
    LogNormal {
        median: SimDuration,
        sigma: f64,
    },
    /// Pareto type I: `scale / U^(1/shape)`, heavy-tailed, never below `scale`.
    Pareto {
        scale: SimDuration,
        shape: f64,
    },
}

impl LatencyDist {
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let secs = match self {
            LatencyDist::Constant(d) => return *d,
            LatencyDist::Uniform { min, max } => {
                let span = max.0.saturating_sub(min.0);
                return SimDuration(
                    min.0
                        + if span == 0 {
                            0
                        } else {
                            dist::below(rng, span + 1)
                        },
                );
            }
            LatencyDist::Normal { mean, stddev } => {
                mean.as_secs_f64() + stddev.as_secs_f64() * dist::standard_normal(rng)
            }
            LatencyDist::LogNormal { median, sigma } => {
                median.as_secs_f64() * (sigma * dist::standard_normal(rng)).exp()
            }
            LatencyDist::Pareto { scale, shape } => dist::pareto(rng, scale.as_secs_f64(), *shape),
        };
        SimDuration::from_secs_f64(secs)
    }

    /// The longest one-way latency a draw can give, in seconds: the standard normal of
    /// `dist::standard_normal` reaches at most √(−2·ln 2⁻⁵³) ≈ 8.57 and a Pareto draw divides
    /// by a uniform of at least 2⁻⁵³ (both draw 53-bit uniforms).
    pub(crate) fn largest_draw_secs(&self) -> f64 {
        let z_max = (-2.0 * (2f64.powi(-53)).ln()).sqrt();
        match self {
            LatencyDist::Constant(d) => d.as_secs_f64(),
            LatencyDist::Uniform { max, .. } => max.as_secs_f64(),
            LatencyDist::Normal { mean, stddev } => {
                mean.as_secs_f64() + z_max * stddev.as_secs_f64()
            }
            LatencyDist::LogNormal { median, sigma } => {
                median.as_secs_f64() * (sigma * z_max).exp()
            }
            LatencyDist::Pareto { scale, shape } => scale.as_secs_f64() * 2f64.powf(53.0 / shape),
        }
    }

    /// The typical one-way latency (mean or median), used to size retransmission timeouts.
    pub(crate) fn typical(&self) -> SimDuration {
        match self {
            LatencyDist::Constant(d) => *d,
            LatencyDist::Uniform { min, max } => SimDuration((min.0 + max.0) / 2),
            LatencyDist::Normal { mean, .. } => *mean,
            LatencyDist::LogNormal { median, .. } => *median,
            LatencyDist::Pareto { scale, .. } => *scale,
        }
    }
}

/// A directed link's static parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkParams {
    pub latency: LatencyDist,
    /// Extra delay drawn uniformly from `[0, jitter]` and added to each latency draw.
    pub jitter: SimDuration,
    /// Bits per second.
    pub bandwidth_bps: u64,
    /// Probability that a transmission loses a segment and waits one retransmission timeout.
    pub loss: f64,
    /// How long one latency draw holds: transmissions leaving within this much of the
    /// transmission that made the draw reuse it. Zero: one draw per transmission.
    pub latency_interval: SimDuration,
}

/// The default `network.latency_interval`.
pub const DEFAULT_LATENCY_INTERVAL: SimDuration = SimDuration::from_millis(10);

/// The minimum TCP retransmission timeout on Linux (`TCP_RTO_MIN`).
pub(crate) const RTO_MIN: SimDuration = SimDuration::from_millis(200);

/// A directed link at run time.
#[derive(Debug)]
pub(crate) struct Link {
    pub params: LinkParams,
    rng: RngStream,
    /// When the sender side finishes serialising everything queued so far.
    busy_until: SimTime,
    /// How many active partitions cut this link.
    cuts: u32,
    /// How many holds (a script between sync steps, stall partitions) keep what is sent on
    /// the link waiting, without dropping connections.
    held: u32,
    /// Active degradations: (fault index, extra latency, bandwidth cap).
    degradations: Vec<(usize, SimDuration, Option<u64>)>,
    /// The latency draw in effect (latency + jitter) and when it stops holding.
    draw: Option<(SimDuration, SimTime)>,
    /// How many latency draws the link has made (a figure for benchmarks and tests).
    pub draws: u64,
    pub bytes_sent: u64,
}

impl Link {
    pub fn new(params: LinkParams, rng: RngStream) -> Self {
        Link {
            params,
            rng,
            busy_until: SimTime::ZERO,
            cuts: 0,
            held: 0,
            degradations: Vec::new(),
            draw: None,
            draws: 0,
            bytes_sent: 0,
        }
    }

    pub(crate) fn is_up(&self) -> bool {
        self.cuts == 0
    }

    pub(crate) fn is_held(&self) -> bool {
        self.held > 0
    }

    /// Adds (`true`) or removes a hold; returns whether the link is still held.
    pub(crate) fn hold(&mut self, on: bool) -> bool {
        if on {
            self.held += 1;
        } else {
            self.held = self.held.saturating_sub(1);
        }
        self.held > 0
    }

    pub(crate) fn degrade(&mut self, fault: usize, extra: SimDuration, bandwidth_bps: Option<u64>) {
        self.degradations.push((fault, extra, bandwidth_bps));
    }

    pub(crate) fn restore(&mut self, fault: usize) {
        self.degradations.retain(|d| d.0 != fault);
    }

    /// The bandwidth in effect: the link's own, or the lowest active cap.
    pub(crate) fn bandwidth_bps(&self) -> u64 {
        self.degradations
            .iter()
            .filter_map(|d| d.2)
            .fold(self.params.bandwidth_bps, u64::min)
            .max(1)
    }

    pub(crate) fn cut(&mut self) {
        self.cuts += 1;
    }

    /// Removes one cut; returns whether the link is up again.
    pub(crate) fn heal(&mut self) -> bool {
        self.cuts = self.cuts.saturating_sub(1);
        self.cuts == 0
    }

    /// Forgets everything queued (a dropped connection's send buffer is discarded); the next
    /// transmission draws a new latency.
    pub(crate) fn flush(&mut self, now: SimTime) {
        self.busy_until = now;
        self.draw = None;
    }

    /// Bytes still waiting to be serialised at `now`.
    pub(crate) fn queued_bytes(&self, now: SimTime) -> u64 {
        let secs = self.busy_until.since(now).as_secs_f64();
        (secs * self.bandwidth_bps() as f64 / 8.0) as u64
    }

    /// Serialises `bytes` after everything already queued and returns when they arrive at the
    /// far end: queueing + transmission + the latency in effect when the last byte leaves
    /// (+ a retransmission timeout with probability `loss`).
    pub(crate) fn transmit(&mut self, now: SimTime, bytes: u64) -> SimTime {
        let done = self.serialise(now, bytes);
        done + self.delay(done)
    }

    /// Queues `bytes` after everything already queued; returns when the last bit leaves.
    pub(crate) fn serialise(&mut self, now: SimTime, bytes: u64) -> SimTime {
        let start = self.busy_until.max(now);
        let tx = SimDuration::from_secs_f64(bytes as f64 * 8.0 / self.bandwidth_bps() as f64);
        let done = start + tx;
        self.busy_until = done;
        self.bytes_sent += bytes;
        done
    }

    /// The time from leaving the sender at `leaves` to arriving: the latency draw in effect
    /// (latency + jitter, drawn anew once `latency_interval` has passed since the transmission
    /// that drew it), + degradations, + a retransmission timeout with probability `loss`
    /// (drawn per transmission). Transmissions on a link leave in time order, except after
    /// [`Link::flush`], which forgets the draw.
    pub(crate) fn delay(&mut self, leaves: SimTime) -> SimDuration {
        let mut delay = match self.draw {
            Some((d, until)) if leaves < until => d,
            _ => {
                let mut d = self.params.latency.sample(&mut self.rng);
                if !self.params.jitter.is_zero() {
                    d = d + SimDuration(dist::below(&mut self.rng, self.params.jitter.0 + 1));
                }
                self.draws += 1;
                if !self.params.latency_interval.is_zero() {
                    self.draw = Some((d, leaves + self.params.latency_interval));
                }
                d
            }
        };
        for d in &self.degradations {
            delay = delay + d.1;
        }
        if self.params.loss > 0.0 && dist::unit(&mut self.rng) < self.params.loss {
            let rto = RTO_MIN.max(SimDuration(
                self.params.latency.typical().0.saturating_mul(2),
            ));
            delay = delay + rto;
        }
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream_for;

    fn link(bps: u64) -> Link {
        Link::new(
            LinkParams {
                latency: LatencyDist::Constant(SimDuration::from_millis(40)),
                jitter: SimDuration::ZERO,
                bandwidth_bps: bps,
                loss: 0.0,
                latency_interval: SimDuration::ZERO,
            },
            stream_for(1, "l"),
        )
    }

    #[test]
    fn bandwidth_queues_bytes_in_order() {
        let mut l = link(8_000); // 1000 bytes/s
        let a = l.transmit(SimTime::ZERO, 500);
        let b = l.transmit(SimTime::ZERO, 500);
        assert_eq!(a, SimTime::ZERO + SimDuration::from_millis(540));
        assert_eq!(b, SimTime::ZERO + SimDuration::from_millis(1040));
        assert_eq!(l.queued_bytes(SimTime::ZERO), 1000);
    }

    #[test]
    fn latency_draws_respect_their_distribution() {
        let mut r = stream_for(9, "d");
        let d = LatencyDist::Uniform {
            min: SimDuration::from_millis(10),
            max: SimDuration::from_millis(20),
        };
        for _ in 0..1000 {
            let x = d.sample(&mut r);
            assert!(x >= SimDuration::from_millis(10) && x <= SimDuration::from_millis(20));
        }
        let p = LatencyDist::Pareto {
            scale: SimDuration::from_millis(30),
            shape: 2.0,
        };
        for _ in 0..1000 {
            assert!(p.sample(&mut r) >= SimDuration::from_millis(30));
        }
        let n = LatencyDist::Normal {
            mean: SimDuration::from_millis(1),
            stddev: SimDuration::from_millis(5),
        };
        // Truncated at zero: with mean 1 ms and sd 5 ms about 42% of draws would be negative.
        let zeros = (0..1000).filter(|_| n.sample(&mut r).is_zero()).count();
        assert!((350..500).contains(&zeros), "{zeros}");
    }

    fn lognormal_link(interval_ms: u64, loss: f64) -> Link {
        Link::new(
            LinkParams {
                latency: LatencyDist::LogNormal {
                    median: SimDuration::from_millis(80),
                    sigma: 0.3,
                },
                jitter: SimDuration::from_millis(2),
                bandwidth_bps: 8_000_000_000,
                loss,
                latency_interval: SimDuration::from_millis(interval_ms),
            },
            stream_for(4, "held"),
        )
    }

    fn at_ms(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn a_latency_draw_holds_for_its_interval() {
        let mut l = lognormal_link(10, 0.0);
        let first = l.delay(at_ms(0));
        // Everything leaving within 10 ms of the draw travels with it.
        for ms in 1..10 {
            assert_eq!(l.delay(at_ms(ms)), first, "at {ms} ms");
        }
        assert_eq!(l.draws, 1);
        let second = l.delay(at_ms(10));
        assert_eq!(l.draws, 2);
        assert_ne!(second, first, "a new draw");
        assert_eq!(l.delay(at_ms(19)), second);
        // A dropped connection's next transmission draws anew, even within the interval.
        l.flush(at_ms(19));
        let third = l.delay(at_ms(19));
        assert_eq!(l.draws, 3);
        assert_ne!(third, second);
        // Degradations are added to the held draw, not drawn.
        l.degrade(0, SimDuration::from_millis(5), None);
        assert_eq!(l.delay(at_ms(20)), third + SimDuration::from_millis(5));
        assert_eq!(l.draws, 3);
    }

    #[test]
    fn sparse_transmissions_draw_as_without_an_interval() {
        // Transmissions further apart than the interval each make the draw they make with no
        // interval at all: a quiet link's history does not depend on it.
        let (mut held, mut each) = (lognormal_link(10, 0.1), lognormal_link(0, 0.1));
        for i in 0..200 {
            let t = at_ms(15 * i);
            assert_eq!(
                held.transmit(t, 300),
                each.transmit(t, 300),
                "transmission {i}"
            );
        }
        assert_eq!((held.draws, each.draws), (200, 200));
        // Dense ones share draws only with an interval.
        for i in 0..200 {
            let t = at_ms(3_000) + SimDuration::from_micros(100 * i);
            held.transmit(t, 300);
            each.transmit(t, 300);
        }
        assert_eq!(each.draws, 400);
        assert_eq!(held.draws, 202, "20 ms of transmissions, two 10 ms draws");
    }

    #[test]
    fn loss_is_drawn_per_transmission_within_a_held_draw() {
        let mut l = lognormal_link(1_000, 0.5);
        let delays: Vec<SimDuration> = (0..100).map(|i| l.delay(at_ms(i))).collect();
        assert_eq!(l.draws, 1);
        let base = *delays.iter().min().expect("100 delays");
        let lost = delays.iter().filter(|d| **d != base).count();
        assert!((30..70).contains(&lost), "{lost} of 100 lost");
        // max(RTO_MIN, 2 × the 80 ms median) = 200 ms.
        let rto = SimDuration::from_millis(200);
        assert!(delays.iter().all(|d| *d == base || *d == base + rto));
    }
}
