//! Streaming metrics: fixed-size histograms and counters, never a sample per event.

/// A log-linear histogram of non-negative integers (nanoseconds here) with 128 sub-buckets per
/// power of two: relative error below 0.8 %, 7,424 buckets, allocated on first use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;

fn bucket_of(v: u64) -> usize {
    if v < SUB {
        v as usize
    } else {
        let exp = 63 - v.leading_zeros(); // >= SUB_BITS
        let mant = (v >> (exp - SUB_BITS)) & (SUB - 1);
        ((exp - SUB_BITS + 1) as u64 * SUB + mant) as usize
    }
}

/// The largest value that falls in bucket `i`.
fn bucket_high(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        i
    } else {
        let exp = (i / SUB) as u32 + SUB_BITS - 1;
        let mant = i % SUB;
        let low = (SUB + mant) << (exp - SUB_BITS);
        low + ((1u64 << (exp - SUB_BITS)) - 1)
    }
}

const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize;

impl Histogram {
    pub(crate) fn record(&mut self, v: u64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        self.counts[bucket_of(v)] += 1;
        self.total += 1;
        self.max = self.max.max(v);
    }

    /// Records `v` `n` times.
    pub(crate) fn record_n(&mut self, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        self.counts[bucket_of(v)] += n;
        self.total += n;
        self.max = self.max.max(v);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` in [0, 1]: the upper edge of the bucket holding the
    /// `ceil(q · n)`-th smallest sample, capped at the true maximum. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(bucket_high(i).min(self.max));
            }
        }
        Some(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_tight() {
        let mut prev_high = None;
        for i in 0..BUCKETS {
            let h = bucket_high(i);
            if let Some(p) = prev_high {
                assert!(h > p, "bucket {i}");
                assert_eq!(bucket_of(p + 1), i);
            }
            assert_eq!(bucket_of(h), i);
            prev_high = Some(h);
            if h == u64::MAX {
                break;
            }
        }
    }

    #[test]
    fn quantiles_are_within_one_percent() {
        let mut h = Histogram::default();
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5).unwrap() as f64;
        let p99 = h.quantile(0.99).unwrap() as f64;
        assert!((p50 / 50_000_000.0 - 1.0).abs() < 0.01, "{p50}");
        assert!((p99 / 99_000_000.0 - 1.0).abs() < 0.01, "{p99}");
        assert_eq!(h.quantile(1.0), Some(100_000_000));
        assert_eq!(Histogram::default().quantile(0.5), None);
    }
}

/// What a syncer session is doing at a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Connected and caught up (or streaming new writes).
    Streaming,
    /// Replaying the backlog after a partial sync.
    Partial,
    /// A snapshot is being shipped.
    Full,
    /// No connection.
    Disconnected,
}

impl SessionState {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SessionState::Streaming => "streaming",
            SessionState::Partial => "partial",
            SessionState::Full => "full",
            SessionState::Disconnected => "disconnected",
        }
    }
}

/// A syncer session entering a state (the sync-state timeline is drawn from these, so a
/// full sync shorter than the sample interval still shows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    pub time: crate::engine::SimTime,
    /// Index into `SampleLayout::sessions`.
    pub session: u32,
    pub state: SessionState,
}

/// One session's state at a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionSample {
    pub state: SessionState,
    /// True time since the oldest write the destination has not applied yet (0: caught up).
    pub lag_ns: u64,
}

/// What the columns of a [`Sample`] refer to (fixed for a run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleLayout {
    pub clusters: Vec<String>,
    /// Per session: (source cluster, source shard, destination cluster).
    pub sessions: Vec<(usize, usize, usize)>,
    /// Per backlog: (cluster, shard) and its capacity in bytes.
    pub backlogs: Vec<(usize, usize, u64)>,
    /// Per directed link: (from, to).
    pub links: Vec<(usize, usize)>,
}

/// The world's state at one sampling instant. Samples are handed to a sink as they are
/// taken, never accumulated, so a run's memory does not grow with its duration.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub time_ns: u64,
    pub sessions: Vec<SessionSample>,
    pub backlog_bytes: Vec<u64>,
    pub link_queue_bytes: Vec<u64>,
    /// Per cluster: its clock's error (local − true), in ns.
    pub clock_offset_ns: Vec<i64>,
    /// Per cluster: tombstones held.
    pub tombstones: Vec<u64>,
    /// Keys whose member instances have not all applied the same writes (exact; see
    /// `docs/semantics.md`).
    pub divergent_keys: u64,
    /// Per cluster: used memory (keyspace estimate plus backlogs), all shards.
    pub memory_bytes: Vec<u64>,
    /// Cumulative counters since the start.
    pub writes: u64,
    pub rejected_writes: u64,
    pub oom_rejections: u64,
    /// Acknowledged writes crashes lost for good.
    pub writes_lost: u64,
    pub partial_syncs: u64,
    pub full_syncs: u64,
    pub stream_bytes: u64,
    pub snapshot_bytes: u64,
    pub wire_bytes: u64,
}

/// Receives samples as they are taken.
pub(crate) type SampleSink = Box<dyn FnMut(&SampleLayout, &Sample)>;

/// Peaks over all samples of a run: the headline figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Peaks {
    pub samples: u64,
    pub backlog_bytes_max: u64,
    /// The highest backlog fill, as bytes held over capacity (the block model can exceed 1).
    pub backlog_fill_max: f64,
    pub link_queue_bytes_max: u64,
    /// The largest current lag seen at a sample.
    pub lag_ns_max: u64,
    pub tombstones_max: u64,
    /// The most divergent keys seen at a sample.
    pub divergent_keys_max: u64,
    /// The largest absolute clock error seen at a sample.
    pub clock_offset_ns_max: u64,
}

impl Peaks {
    /// Folds one sample into the peaks.
    pub(crate) fn record(&mut self, sample: &Sample, layout: &SampleLayout) {
        self.samples += 1;
        self.backlog_bytes_max = self
            .backlog_bytes_max
            .max(sample.backlog_bytes.iter().copied().max().unwrap_or(0));
        for (b, (_, _, cap)) in sample.backlog_bytes.iter().zip(&layout.backlogs) {
            self.backlog_fill_max = self.backlog_fill_max.max(*b as f64 / (*cap).max(1) as f64);
        }
        self.link_queue_bytes_max = self
            .link_queue_bytes_max
            .max(sample.link_queue_bytes.iter().copied().max().unwrap_or(0));
        self.lag_ns_max = self
            .lag_ns_max
            .max(sample.sessions.iter().map(|s| s.lag_ns).max().unwrap_or(0));
        self.tombstones_max = self.tombstones_max.max(sample.tombstones.iter().sum());
        self.divergent_keys_max = self.divergent_keys_max.max(sample.divergent_keys);
        self.clock_offset_ns_max = self.clock_offset_ns_max.max(
            sample
                .clock_offset_ns
                .iter()
                .map(|x| x.unsigned_abs())
                .max()
                .unwrap_or(0),
        );
    }
}

/// A shard's stream writes counted by write time in buckets of [`WriteTimes::BUCKET`], kept
/// from the oldest write some peer has not seen yet: what a full sync's snapshot makes
/// visible at once, and since when each of those writes was waiting.
#[derive(Clone, Debug, Default)]
pub(crate) struct WriteTimes {
    /// Index (write time / BUCKET) of `counts[0]`.
    base: u64,
    counts: std::collections::VecDeque<u32>,
}

impl WriteTimes {
    /// Bucket width: a snapshot-delivered write's wait is known to ±5 ms.
    pub(crate) const BUCKET: u64 = 10_000_000;

    /// A write at `t` (ns).
    pub(crate) fn record(&mut self, t: u64) {
        let b = t / Self::BUCKET;
        if self.counts.is_empty() {
            self.base = b;
        }
        if b < self.base {
            // Older than what is kept: every peer has seen it already.
            return;
        }
        let i = (b - self.base) as usize;
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] = self.counts[i].saturating_add(1);
    }

    /// Forgets the buckets that end at or before `t` (ns): every peer has seen them.
    pub(crate) fn forget_until(&mut self, t: u64) {
        while !self.counts.is_empty() && (self.base + 1) * Self::BUCKET <= t {
            self.counts.pop_front();
            self.base += 1;
        }
        if self.counts.is_empty() {
            self.base = self.base.max(t / Self::BUCKET);
        }
    }

    /// Each bucket whose midpoint lies in `(after, until]` (ns): (midpoint, writes).
    pub(crate) fn between(&self, after: u64, until: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.counts.iter().enumerate().filter_map(move |(i, &n)| {
            let mid = (self.base + i as u64) * Self::BUCKET + Self::BUCKET / 2;
            (mid > after && mid <= until && n > 0).then_some((mid, n as u64))
        })
    }
}
