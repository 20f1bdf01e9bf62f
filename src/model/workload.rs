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
pub(crate) const KEY_DIGITS: usize = 12;

/// The name of the `index`-th key of a kind (`key:` for `SET`s, `ctr:` for `INCR`s).
pub(crate) fn key_name(prefix: &str, index: u64) -> String {
    String::from_utf8(key_bytes(prefix, index)).expect("ASCII digits")
}

/// [`key_name`] as bytes, written digit by digit: the workload makes one per write, and
/// `format!` cost 7 % of a saturated run's instructions.
fn key_bytes(prefix: &str, index: u64) -> Vec<u8> {
    let (digits, start) = key_digits(index);
    let mut out = Vec::with_capacity(prefix.len() + digits.len() - start);
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(&digits[start..]);
    out
}

/// The number (see `Workload::last_key`) of the generated key named `name`, for a workload
/// of `keys` keys per kind; `None` for any other name.
pub(crate) fn generated_number(name: &[u8], keys: u64) -> Option<u64> {
    let (is_set, digits) = match name.split_at_checked(4)? {
        (b"key:", d) => (true, d),
        (b"ctr:", d) => (false, d),
        _ => return None,
    };
    if digits.len() < KEY_DIGITS || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let index: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let prefix = if is_set { "key:" } else { "ctr:" };
    // The name must be exactly the one the workload writes for that index.
    (index < keys && key_bytes(prefix, index) == name).then(|| index * 2 + is_set as u64)
}

/// The zero-padded decimal digits of `index`: `digits[start..]`.
fn key_digits(index: u64) -> ([u8; 20], usize) {
    let mut digits = [b'0'; 20];
    let mut n = index;
    let mut start = digits.len();
    while n > 0 {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    (digits, start.min(digits.len() - KEY_DIGITS))
}

/// The key argument of a generated command: the previous command's key buffer rewritten in
/// place when it has the right length (key names nearly always do), else a new one.
fn key_value(prefix: &str, index: u64, previous: Option<Value>) -> Value {
    let (digits, start) = key_digits(index);
    let len = prefix.len() + digits.len() - start;
    match previous {
        Some(Value::Bytes(mut b)) if b.len() == len => {
            b[..prefix.len()].copy_from_slice(prefix.as_bytes());
            b[prefix.len()..].copy_from_slice(&digits[start..]);
            Value::Bytes(b)
        }
        _ => Value::Bytes(key_bytes(prefix, index).into_boxed_slice()),
    }
}

/// The workload generator of one cluster, with its own random stream.
#[derive(Debug)]
pub(crate) struct ClusterWorkload {
    rng: RngStream,
    mean_gap_secs: f64,
    issued: u64,
    cluster_tag: u64,
}

#[derive(Debug)]
pub(crate) struct Workload {
    pub params: WorkloadParams,
    zipf: Option<Zipf>,
    per_cluster: Vec<Option<ClusterWorkload>>,
    /// The key of the last command made, as a number: its index × 2, plus 1 for a string
    /// key (`key:`), 0 for a counter (`ctr:`).
    last_key: u64,
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
            last_key: 0,
        }
    }

    pub(crate) fn writes_at(&self, cluster: usize) -> bool {
        self.per_cluster.get(cluster).is_some_and(|c| c.is_some())
    }

    /// The gap before cluster `c`'s next write.
    pub(crate) fn next_gap(&mut self, c: usize) -> SimDuration {
        let arrival = self.params.arrival;
        let w = self.per_cluster[c].as_mut().expect("writing cluster");
        let secs = match arrival {
            Arrival::Poisson => dist::exponential(&mut w.rng, w.mean_gap_secs),
            Arrival::Constant => w.mean_gap_secs,
        };
        // A zero gap would let a cluster issue unboundedly many writes at one instant.
        SimDuration::from_secs_f64(secs).max(SimDuration(1))
    }

    /// The key of the last command made, as a number (distinct keys, distinct numbers:
    /// below `2 × keys`).
    pub(crate) fn last_key(&self) -> u64 {
        self.last_key
    }

    /// Cluster `c`'s next command.
    #[cfg(test)]
    pub(crate) fn next_command(&mut self, c: usize) -> Command {
        self.next_command_reusing(c, None)
    }

    /// [`Workload::next_command`], built in the buffers of `previous` (a command this
    /// workload made before and that is no longer needed), so that a write allocates nothing
    /// here. The command is the same either way.
    pub(crate) fn next_command_reusing(&mut self, c: usize, previous: Option<Command>) -> Command {
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
        self.last_key = index * 2 + is_set as u64;
        let mut args = previous.map(|p| p.args).unwrap_or_default();
        let key = key_value(prefix, index, args.drain(..).next());
        args.push(key);
        if is_set {
            let tag = Digest::new().word(w.cluster_tag).word(w.issued).value();
            args.push(Value::Synthetic {
                len: p.value_bytes,
                tag,
            });
            Command::new(Cmd::Set, args)
        } else {
            Command::new(Cmd::Incr, args)
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

    /// Commands built in a previous command's buffers are the commands built afresh, SETs and
    /// INCRs alternating, and whatever key length the previous one had.
    #[test]
    fn reusing_buffers_builds_the_same_commands() {
        let names = vec!["a".to_string(), "b".to_string()];
        let mix = OpMix {
            set: 1.0,
            incr: 1.0,
        };
        let mut fresh = Workload::new(params(mix.clone()), 7, &names);
        let mut reusing = Workload::new(params(mix), 7, &names);
        let mut previous = None;
        for i in 0..2_000 {
            let want = fresh.next_command(i % 2);
            let got = reusing.next_command_reusing(i % 2, previous.take());
            assert_eq!(got, want, "command {i}");
            previous = Some(got);
        }
        // A key of another length is not rewritten in place.
        assert_eq!(
            key_value("key:", 5, Some(Value::from_str_bytes("short"))),
            Value::Bytes(key_bytes("key:", 5).into_boxed_slice())
        );
        assert_eq!(
            key_value("key:", 5, Some(Value::from_str_bytes("ctr:000000000009"))),
            Value::from_str_bytes("key:000000000005")
        );
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
