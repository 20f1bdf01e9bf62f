//! Generated client workloads: arrivals per writing cluster, key choice, op mix.

use crate::crdt::Value;
use crate::engine::dist::{self, SizeDist, Zipf};
use crate::engine::{Digest, RngStream, SimDuration, SimTime, stream_for};
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

/// A generated command kind (a `workload.mix` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `SET key:<n> <value>`
    Set,
    /// `INCR ctr:<n>`
    Incr,
    /// `SET tmp:<n> <value> PX <ttl>`: expiring keys.
    SetEx,
    /// `HSET hsh:<n> f:<j> <value>`
    HSet,
    /// `SADD set:<n> m:<j>`
    SAdd,
    /// `ZINCRBY zst:<n> 1 m:<j>`
    ZIncrBy,
    /// `RPUSH lst:<n> <value>`
    RPush,
    /// `LPOP lst:<n>` (the lists `rpush` fills: a queue)
    LPop,
    /// `XADD stm:<n> * v <value>`
    XAdd,
    /// `PFADD hll:<n> m:<j>`
    PfAdd,
    /// `DEL` of a key of the other kinds, the kind drawn by their weights.
    Del,
}

impl OpKind {
    pub const ALL: [OpKind; 11] = [
        OpKind::Set,
        OpKind::Incr,
        OpKind::SetEx,
        OpKind::HSet,
        OpKind::SAdd,
        OpKind::ZIncrBy,
        OpKind::RPush,
        OpKind::LPop,
        OpKind::XAdd,
        OpKind::PfAdd,
        OpKind::Del,
    ];

    /// Its field in `[workload.mix]`.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Set => "set",
            OpKind::Incr => "incr",
            OpKind::SetEx => "set_ex",
            OpKind::HSet => "hset",
            OpKind::SAdd => "sadd",
            OpKind::ZIncrBy => "zincrby",
            OpKind::RPush => "rpush",
            OpKind::LPop => "lpop",
            OpKind::XAdd => "xadd",
            OpKind::PfAdd => "pfadd",
            OpKind::Del => "del",
        }
    }

    /// The key family it writes: its prefix and its place in the key numbering (see
    /// [`Workload::last_key`]); `None` for `Del` (the family of the kind it targets).
    fn family(self) -> Option<(&'static str, u64)> {
        Some(match self {
            OpKind::Incr => ("ctr:", 0),
            OpKind::Set => ("key:", 1),
            OpKind::SetEx => ("tmp:", 2),
            OpKind::HSet => ("hsh:", 3),
            OpKind::SAdd => ("set:", 4),
            OpKind::ZIncrBy => ("zst:", 5),
            OpKind::RPush | OpKind::LPop => ("lst:", 6),
            OpKind::XAdd => ("stm:", 7),
            OpKind::PfAdd => ("hll:", 8),
            OpKind::Del => return None,
        })
    }
}

/// Relative weights of the generated commands, by [`OpKind::ALL`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct OpMix {
    pub weights: [f64; OpKind::ALL.len()],
}

impl OpMix {
    /// `SET` and `INCR` only.
    pub fn set_incr(set: f64, incr: f64) -> OpMix {
        let mut weights = [0.0; OpKind::ALL.len()];
        weights[0] = set;
        weights[1] = incr;
        OpMix { weights }
    }

    pub fn weight(&self, kind: OpKind) -> f64 {
        self.weights[kind as usize]
    }

    /// Whether only `SET` and `INCR` have weight (what sampled fidelity models).
    pub fn is_set_incr(&self) -> bool {
        self.weights[2..].iter().all(|&w| w == 0.0)
    }

    /// The key families written (counted once each), for size estimates.
    pub fn families(&self) -> u64 {
        let mut seen = Vec::new();
        for k in OpKind::ALL {
            if self.weight(k) > 0.0
                && let Some((_, f)) = k.family()
                && !seen.contains(&f)
            {
                seen.push(f);
            }
        }
        seen.len() as u64
    }
}

/// How the write rate moves over simulated time: a multiplier of `workload.rate`.
#[derive(Clone, Debug, PartialEq)]
pub enum RateShape {
    Flat,
    /// A day's curve: the multiplier is `trough + (1 − trough)·(1 + cos 2π(t − peak)/period)/2`,
    /// 1 at each writing cluster's peak (`peaks`, one per cluster index; clusters in other
    /// time zones peak at other times) and `trough` half a period later.
    Diurnal {
        period: SimDuration,
        trough: f64,
        peaks: Vec<SimDuration>,
    },
    /// 1 before `at`, `factor` from `at` on.
    Step {
        at: SimDuration,
        factor: f64,
    },
}

impl RateShape {
    /// The multiplier at cluster `c` at `t`.
    pub fn multiplier(&self, c: usize, t: SimTime) -> f64 {
        match self {
            RateShape::Flat => 1.0,
            RateShape::Diurnal {
                period,
                trough,
                peaks,
            } => {
                let phase = (t.as_secs_f64() - peaks[c].as_secs_f64()) / period.as_secs_f64();
                trough + (1.0 - trough) * 0.5 * (1.0 + (std::f64::consts::TAU * phase).cos())
            }
            RateShape::Step { at, factor } => {
                if t >= SimTime::ZERO + *at {
                    *factor
                } else {
                    1.0
                }
            }
        }
    }

    /// The largest multiplier anywhere.
    pub fn max(&self) -> f64 {
        match self {
            RateShape::Flat | RateShape::Diurnal { .. } => 1.0,
            RateShape::Step { factor, .. } => factor.max(1.0),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadParams {
    /// Writes per second over all writing clusters together (at a multiplier of 1 of
    /// `shape`).
    pub rate_per_sec: f64,
    /// Keys per family: `SET`s go to `key:<n>`, `INCR`s to `ctr:<n>`, ... `n` in `0..keys`.
    pub keys: u64,
    pub key_dist: KeyDist,
    /// Sizes of the values written (`SET`, `HSET`, `RPUSH`, `XADD`).
    pub value_size: SizeDist,
    pub mix: OpMix,
    pub arrival: Arrival,
    /// Indices of the clusters that receive writes.
    pub clusters: Vec<usize>,
    /// Each writing cluster's share of the rate, in `clusters` order; `None`: equal shares.
    pub shares: Option<Vec<f64>>,
    pub shape: RateShape,
    /// Distinct fields or members per collection key (`HSET`, `SADD`, `ZINCRBY`, `PFADD`
    /// pick one uniformly).
    pub members: u64,
    /// Time to live of a `set_ex` key.
    pub ttl: crate::model::net::LatencyDist,
}

impl WorkloadParams {
    /// A flat-rate workload of `SET`s and `INCR`s with `value_bytes`-byte values, equal
    /// shares (what scenarios gave before the other kinds existed).
    pub fn set_incr(
        rate_per_sec: f64,
        keys: u64,
        key_dist: KeyDist,
        value_bytes: u32,
        mix: OpMix,
        clusters: Vec<usize>,
    ) -> WorkloadParams {
        WorkloadParams {
            rate_per_sec,
            keys,
            key_dist,
            value_size: SizeDist::Fixed(value_bytes),
            mix,
            arrival: Arrival::Poisson,
            clusters,
            shares: None,
            shape: RateShape::Flat,
            members: DEFAULT_MEMBERS,
            ttl: crate::model::net::LatencyDist::Constant(SimDuration::from_secs(60)),
        }
    }
}

/// Value sizes in words: `256 B`, `uniform 10–30 B`, `lognormal median 200 B, sigma 1`,
/// `histogram of 3 sizes, mean 1,312 B`.
pub fn describe_sizes(d: &SizeDist) -> String {
    match d {
        SizeDist::Fixed(n) => format!("{n} B"),
        SizeDist::Uniform { min, max } => format!("uniform {min}–{max} B"),
        SizeDist::Lognormal { median, sigma, .. } => {
            format!("lognormal median {median} B, sigma {sigma}")
        }
        SizeDist::Histogram(cum) => {
            format!("histogram of {} sizes, mean {:.0} B", cum.len(), d.mean())
        }
    }
}

/// `workload.members` when not given.
pub const DEFAULT_MEMBERS: u64 = 16;

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

/// The name of the `SET` or `INCR` key numbered `number` (see `Workload::last_key`): the
/// inverse of [`generated_number`].
pub(crate) fn generated_name(number: u64) -> Vec<u8> {
    let prefix = if number & 1 == 1 { "key:" } else { "ctr:" };
    key_bytes(prefix, number / 2)
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
pub(crate) fn key_digits(index: u64) -> ([u8; 20], usize) {
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

/// The index of the first cumulative weight above `u`; `u` is below the total but for
/// rounding: then the last kind with weight.
fn pick(cum: &[f64], u: f64) -> usize {
    cum.iter().position(|&x| u < x).unwrap_or_else(|| {
        cum.iter()
            .position(|&x| x == cum[cum.len() - 1])
            .unwrap_or(0)
    })
}

/// The length of a generated key's name (every prefix is 4 bytes).
pub(crate) fn key_len(index: u64) -> u64 {
    let (digits, start) = key_digits(index);
    (4 + digits.len() - start) as u64
}

/// A generated write's first draws (see [`Workload::draw_write`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Drawn {
    index: u64,
    kind: OpKind,
    is_del: bool,
}

/// What the stream needs of a write whose command is not built (see
/// [`Workload::shadow_write`]): the command's stream bytes, its large pieces, its key's length.
#[derive(Debug)]
pub(crate) struct ShadowWrite {
    pub stream_bytes: u64,
    pub large: Vec<(u64, u64)>,
    pub key_len: usize,
}

/// The workload generator of one cluster, with its own random stream.
#[derive(Debug)]
pub(crate) struct ClusterWorkload {
    rng: RngStream,
    /// The mean gap at a multiplier of 1 of the rate's shape.
    mean_gap_secs: f64,
    issued: u64,
    cluster_tag: u64,
}

#[derive(Debug)]
pub(crate) struct Workload {
    pub params: WorkloadParams,
    zipf: Option<Zipf>,
    per_cluster: Vec<Option<ClusterWorkload>>,
    /// The key of the last command made, as a number (see [`Workload::last_key`]).
    last_key: u64,
    /// Cumulative mix weights, by [`OpKind::ALL`] order, and the same without `Del` (what a
    /// `DEL` draws its target's kind from).
    cumulative: [f64; OpKind::ALL.len()],
    cumulative_targets: [f64; OpKind::ALL.len()],
}

impl Workload {
    pub fn new(params: WorkloadParams, seed: u64, cluster_names: &[String]) -> Self {
        let writers = params.clusters.len().max(1) as f64;
        let total_share: f64 = params.shares.as_ref().map_or(0.0, |s| s.iter().sum());
        let per_cluster = cluster_names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let at = params.clusters.iter().position(|&c| c == i)?;
                let mean_gap_secs = match &params.shares {
                    None => writers / params.rate_per_sec,
                    Some(s) => total_share / (params.rate_per_sec * s[at]),
                };
                Some(ClusterWorkload {
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
        let mut cumulative = [0.0; OpKind::ALL.len()];
        let mut cumulative_targets = [0.0; OpKind::ALL.len()];
        let (mut sum, mut targets) = (0.0, 0.0);
        for (i, k) in OpKind::ALL.into_iter().enumerate() {
            sum += params.mix.weight(k);
            cumulative[i] = sum;
            if k != OpKind::Del {
                targets += params.mix.weight(k);
            }
            cumulative_targets[i] = targets;
        }
        Workload {
            params,
            zipf,
            per_cluster,
            last_key: 0,
            cumulative,
            cumulative_targets,
        }
    }

    pub(crate) fn writes_at(&self, cluster: usize) -> bool {
        self.per_cluster.get(cluster).is_some_and(|c| c.is_some())
    }

    /// The gap from `now` before cluster `c`'s next write. With a rate that varies (a
    /// shape), Poisson arrivals are thinned: candidates come at the peak rate and each is
    /// kept with the multiplier's share of the peak at its time (Lewis and Shedler); evenly
    /// spaced arrivals take the gap of the rate at `now`.
    pub(crate) fn next_gap(&mut self, c: usize, now: SimTime) -> SimDuration {
        let arrival = self.params.arrival;
        let shape = &self.params.shape;
        let w = self.per_cluster[c].as_mut().expect("writing cluster");
        let secs = match (arrival, shape) {
            (Arrival::Poisson, RateShape::Flat) => dist::exponential(&mut w.rng, w.mean_gap_secs),
            (Arrival::Constant, RateShape::Flat) => w.mean_gap_secs,
            (Arrival::Poisson, shape) => {
                let peak = shape.max();
                let mut t = 0.0;
                loop {
                    t += dist::exponential(&mut w.rng, w.mean_gap_secs / peak);
                    let at = now + SimDuration::from_secs_f64(t);
                    if dist::unit(&mut w.rng) * peak < shape.multiplier(c, at) {
                        break t;
                    }
                }
            }
            (Arrival::Constant, shape) => w.mean_gap_secs / shape.multiplier(c, now),
        };
        // A zero gap would let a cluster issue unboundedly many writes at one instant.
        SimDuration::from_secs_f64(secs).max(SimDuration(1))
    }

    /// The key of the last command made, as a number: distinct keys, distinct numbers.
    /// `INCR`'s `ctr:<i>` is `2i`, `SET`'s `key:<i>` is `2i + 1` (so a `SET`/`INCR` workload's
    /// numbers are below `2 × keys`); the other families follow, `keys` numbers each
    /// (`tmp:` from `2 × keys`, then `hsh:`, `set:`, `zst:`, `lst:`, `stm:`, `hll:`).
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
    #[cfg(test)]
    pub(crate) fn next_command_reusing(&mut self, c: usize, previous: Option<Command>) -> Command {
        let drawn = self.draw_write(c);
        self.build_command(c, drawn, previous)
    }

    /// The first draws of cluster `c`'s next write: the key's index, then the kind (one
    /// uniform against the cumulative mix; a `DEL` draws its target's kind too). What the
    /// kind needs next (a value size, a member, a time to live) is drawn by
    /// [`Workload::build_command`] or [`Workload::shadow_write`], whichever the write takes:
    /// the two draw the same, so the random stream is the same either way.
    pub(crate) fn draw_write(&mut self, c: usize) -> Drawn {
        let p = &self.params;
        let w = self.per_cluster[c].as_mut().expect("writing cluster");
        w.issued += 1;
        let index = match &self.zipf {
            Some(z) => z.sample(&mut w.rng) - 1,
            None => dist::below(&mut w.rng, p.keys),
        };
        let total = self.cumulative[OpKind::ALL.len() - 1];
        let u = dist::unit(&mut w.rng) * total;
        let mut kind = OpKind::ALL[pick(&self.cumulative, u)];
        let is_del = kind == OpKind::Del;
        if is_del {
            let targets = self.cumulative_targets[OpKind::ALL.len() - 1];
            let v = dist::unit(&mut w.rng) * targets;
            kind = OpKind::ALL[pick(&self.cumulative_targets, v)];
        }
        let (_, family) = kind.family().expect("a written kind");
        self.last_key = if family < 2 {
            index * 2 + family
        } else {
            p.keys * family + index
        };
        Drawn {
            index,
            kind,
            is_del,
        }
    }

    /// A drawn `SET` or `INCR` as a write without its command (a sampled run's shadow key):
    /// draws what [`Workload::build_command`] would (a `SET`'s value size) and returns
    /// the stream bytes and large pieces that command would have. `None` for any other
    /// kind (draws nothing then: the caller builds the command).
    pub(crate) fn shadow_write(&mut self, c: usize, drawn: Drawn) -> Option<ShadowWrite> {
        let key_len = key_len(drawn.index);
        // The arguments' lengths, the command's name first.
        let (lens, argc) = match (drawn.kind, drawn.is_del) {
            (OpKind::Set, false) => {
                let w = self.per_cluster[c].as_mut().expect("writing cluster");
                let len = self.params.value_size.sample(&mut w.rng);
                ([3, key_len, u64::from(len)], 3)
            }
            (OpKind::Incr, false) => ([4, key_len, 0], 2),
            _ => return None,
        };
        let lens = &lens[..argc];
        Some(ShadowWrite {
            stream_bytes: crate::redis::resp::command_bytes(lens),
            large: crate::redis::resp::large_pieces_of(
                argc,
                lens.iter().copied(),
                crate::redis::resp::BLOCK_BYTES,
            ),
            key_len: key_len as usize,
        })
    }

    /// The command of a write drawn by [`Workload::draw_write`], built in the buffers of
    /// `previous`; draws, in order, what the kind needs: a value size (none when sizes are
    /// fixed), a member, or a time to live.
    pub(crate) fn build_command(
        &mut self,
        c: usize,
        Drawn {
            index,
            kind,
            is_del,
        }: Drawn,
        previous: Option<Command>,
    ) -> Command {
        let p = &self.params;
        let w = self.per_cluster[c].as_mut().expect("writing cluster");
        let mut args = previous.map(|p| p.args).unwrap_or_default();
        let mut old = args.drain(..);
        let first = old.next();
        drop(old);
        let (prefix, _) = kind.family().expect("a written kind");
        args.push(key_value(prefix, index, first));
        if is_del {
            return Command::new(Cmd::Del, args);
        }
        let value = |w: &mut ClusterWorkload| Value::Synthetic {
            len: p.value_size.sample(&mut w.rng),
            tag: Digest::new().word(w.cluster_tag).word(w.issued).value(),
        };
        let member = |w: &mut ClusterWorkload, prefix: &str| {
            Value::Bytes(
                format!("{prefix}{}", dist::below(&mut w.rng, p.members))
                    .into_bytes()
                    .into_boxed_slice(),
            )
        };
        let cmd = match kind {
            OpKind::Set => {
                args.push(value(w));
                Cmd::Set
            }
            OpKind::Incr => Cmd::Incr,
            OpKind::SetEx => {
                args.push(value(w));
                let ttl = p.ttl.sample(&mut w.rng).0.div_ceil(1_000_000).max(1);
                args.push(Value::from_str_bytes("PX"));
                args.push(Value::from_i64(i64::try_from(ttl).unwrap_or(i64::MAX)));
                Cmd::Set
            }
            OpKind::HSet => {
                args.push(member(w, "f:"));
                args.push(value(w));
                Cmd::HSet
            }
            OpKind::SAdd => {
                args.push(member(w, "m:"));
                Cmd::SAdd
            }
            OpKind::ZIncrBy => {
                args.push(Value::from_str_bytes("1"));
                args.push(member(w, "m:"));
                Cmd::ZIncrBy
            }
            OpKind::RPush => {
                args.push(value(w));
                Cmd::RPush
            }
            OpKind::LPop => Cmd::LPop,
            OpKind::XAdd => {
                args.push(Value::from_str_bytes("*"));
                args.push(Value::from_str_bytes("v"));
                args.push(value(w));
                Cmd::XAdd
            }
            OpKind::PfAdd => {
                args.push(member(w, "m:"));
                Cmd::PfAdd
            }
            OpKind::Del => unreachable!("a DEL took its target's kind"),
        };
        Command::new(cmd, args)
    }
}

#[cfg(test)]
mod tests;
