//! Generated client workloads: arrivals per writing cluster, key choice, op mix.

use crate::crdt::Value;
use crate::engine::dist::{self, Zipf};
use crate::engine::{Digest, RngStream, SimDuration, stream_for};
use crate::redis::{Cmd, Command};

#[derive(Clone, Debug, PartialEq)]
pub enum KeyDist {
    Uniform,
    Zipf { exponent: f64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Exponential gaps (a Poisson process).
    Poisson,
    /// Evenly spaced writes.
    Constant,
}

/// Relative weights of the generated commands.
#[derive(Clone, Debug, PartialEq)]
pub struct OpMix {
    pub set: f64,
    pub incr: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadParams {
    /// Writes per second over all writing clusters together.
    pub rate_per_sec: f64,
    /// Keys per kind: `SET`s go to `key:<n>`, `INCR`s to `ctr:<n>`, `n` in `0..keys`.
    pub keys: u64,
    pub key_dist: KeyDist,
    pub value_bytes: u32,
    pub mix: OpMix,
    pub arrival: Arrival,
    /// Indices of the clusters that receive writes (each gets `rate / len` writes/s).
    pub clusters: Vec<usize>,
}

/// Key names are the prefix and the index zero-padded to 12 digits: 16 bytes, the key size
/// used in `shared/validation/`.
pub const KEY_DIGITS: usize = 12;

/// The name of the `index`-th key of a kind (`key:` for `SET`s, `ctr:` for `INCR`s).
pub fn key_name(prefix: &str, index: u64) -> String {
    String::from_utf8(key_bytes(prefix, index)).expect("ASCII digits")
}

/// [`key_name`] as bytes, written digit by digit: the workload makes one per write, and
/// `format!` cost 7 % of a saturated run's instructions.
fn key_bytes(prefix: &str, index: u64) -> Vec<u8> {
    let mut digits = [b'0'; 20];
    let mut n = index;
    let mut start = digits.len();
    while n > 0 {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let start = start.min(digits.len() - KEY_DIGITS);
    let mut out = Vec::with_capacity(prefix.len() + digits.len() - start);
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(&digits[start..]);
    out
}

/// The workload generator of one cluster, with its own random stream.
#[derive(Debug)]
pub struct ClusterWorkload {
    rng: RngStream,
    mean_gap_secs: f64,
    issued: u64,
    cluster_tag: u64,
}

#[derive(Debug)]
pub struct Workload {
    pub params: WorkloadParams,
    zipf: Option<Zipf>,
    per_cluster: Vec<Option<ClusterWorkload>>,
}

impl Workload {
    pub fn new(params: WorkloadParams, seed: u64, cluster_names: &[String]) -> Self {
        let writers = params.clusters.len().max(1) as f64;
        let mean_gap_secs = writers / params.rate_per_sec;
        let per_cluster = cluster_names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                params.clusters.contains(&i).then(|| ClusterWorkload {
                    rng: stream_for(seed, &format!("workload/{name}")),
                    mean_gap_secs,
                    issued: 0,
                    cluster_tag: Digest::new().str(name).value(),
                })
            })
            .collect();
        let zipf = match params.key_dist {
            KeyDist::Zipf { exponent } => Some(Zipf::new(params.keys, exponent)),
            KeyDist::Uniform => None,
        };
        Workload {
            params,
            zipf,
            per_cluster,
        }
    }

    pub fn writes_at(&self, cluster: usize) -> bool {
        self.per_cluster.get(cluster).is_some_and(|c| c.is_some())
    }

    /// The gap before cluster `c`'s next write.
    pub fn next_gap(&mut self, c: usize) -> SimDuration {
        let arrival = self.params.arrival;
        let w = self.per_cluster[c].as_mut().expect("writing cluster");
        let secs = match arrival {
            Arrival::Poisson => dist::exponential(&mut w.rng, w.mean_gap_secs),
            Arrival::Constant => w.mean_gap_secs,
        };
        // A zero gap would let a cluster issue unboundedly many writes at one instant.
        SimDuration::from_secs_f64(secs).max(SimDuration(1))
    }

    /// Cluster `c`'s next command.
    pub fn next_command(&mut self, c: usize) -> Command {
        let p = &self.params;
        let w = self.per_cluster[c].as_mut().expect("writing cluster");
        w.issued += 1;
        let index = match &self.zipf {
            Some(z) => z.sample(&mut w.rng) - 1,
            None => dist::below(&mut w.rng, p.keys),
        };
        let total = p.mix.set + p.mix.incr;
        let is_set = dist::unit(&mut w.rng) * total < p.mix.set;
        let prefix = if is_set { "key:" } else { "ctr:" };
        let key = Value::Bytes(key_bytes(prefix, index).into_boxed_slice());
        if is_set {
            let tag = Digest::new().word(w.cluster_tag).word(w.issued).value();
            let value = Value::Synthetic {
                len: p.value_bytes,
                tag,
            };
            Command::new(Cmd::Set, vec![key, value])
        } else {
            Command::new(Cmd::Incr, vec![key])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(mix: OpMix) -> WorkloadParams {
        WorkloadParams {
            rate_per_sec: 1000.0,
            keys: 100,
            key_dist: KeyDist::Uniform,
            value_bytes: 256,
            mix,
            arrival: Arrival::Poisson,
            clusters: vec![0, 1],
        }
    }

    #[test]
    fn each_writer_gets_its_share_of_the_rate() {
        let names = vec!["a".to_string(), "b".to_string()];
        let mut w = Workload::new(
            params(OpMix {
                set: 1.0,
                incr: 0.0,
            }),
            1,
            &names,
        );
        let total: f64 = (0..10_000).map(|_| w.next_gap(0).as_secs_f64()).sum();
        // 500 writes/s per cluster: 10,000 gaps take about 20 s.
        assert!((total - 20.0).abs() < 1.0, "{total}");
    }

    #[test]
    fn key_names_are_the_zero_padded_index() {
        for i in [
            0,
            7,
            10,
            999_999,
            123_456_789_012,
            999_999_999_999,
            1_000_000_000_000,
            u64::MAX,
        ] {
            assert_eq!(key_name("key:", i), format!("key:{i:012}"));
        }
    }

    #[test]
    fn the_mix_and_key_names_are_respected() {
        let names = vec!["a".to_string(), "b".to_string()];
        let mut w = Workload::new(
            params(OpMix {
                set: 3.0,
                incr: 1.0,
            }),
            1,
            &names,
        );
        let mut sets = 0;
        for _ in 0..4000 {
            let c = w.next_command(1);
            let key = c.key();
            assert_eq!(key.len(), 16);
            match c.cmd {
                Cmd::Set => {
                    sets += 1;
                    assert!(key.starts_with(b"key:"));
                    assert_eq!(c.args[1].len(), 256);
                }
                Cmd::Incr => assert!(key.starts_with(b"ctr:")),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!((2800..3200).contains(&sets), "{sets}");
    }
}
