//! `geosim bench`'s sampled pipeline floor: the least a run of the reference hour must do
//! per write while keeping the process (every write drawn with its exact bytes and
//! timing; the sample's keys with CRDT state), measured against one ChaCha8 word in the
//! same run.
//!
//! It is not a simulator: it keeps only the work no sampled run can avoid, with none of the
//! event engine, and makes every simplification in its own favour:
//! - writes come from three Poisson streams merged by their next times (no event queue);
//! - each write draws its gap, its key (Zipf) and its kind, finds its shard (from its key's
//!   cell, or by hashing its name, as the variant says: [`Keys`]), adds its stream bytes to
//!   the shard's backlog offset and marks its key held;
//! - each of its two trips leaves the source link when the link is free (1 Gbit/s), takes
//!   the link direction's latency drawn once per 10 ms, arrives no earlier than the
//!   session's previous op, and records its lag; a shadow key is held at the destination
//!   at once (holds only ever grow, so their order does not matter to a count);
//! - a sampled key (the sample of a 1/64 run: the certain head and one key in 64 of the
//!   rest) keeps a last-writer-wins register with a vector clock per instance; its two
//!   deliveries wait in a heap and are applied in time order before any later write, the
//!   least a conflict count needs (a write must see the ops that reached its instance).
//!
//! No partitions, syncs, memory, samples or statistics beyond one lag histogram. Whatever a
//! sampled run does costs at least this; `docs/performance.md` compares it with the target.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant; // Benchmark timing only; never inside a simulation run.

use super::super::outln;
use super::{TARGET_WORDS_PER_WRITE, median};
use crate::engine::dist::{self, Zipf};
use crate::engine::{SimDuration, stream_for};
use crate::model::keysample::KeySample;
use crate::model::metrics::Histogram;
use crate::model::net::LatencyDist;
use crate::model::workload::{generated_name, key_digits, key_len};
use crate::redis::resp::command_bytes;

const CLUSTERS: usize = 3;
const SHARDS: usize = 16;
const KEYS: u64 = 1_000_000;
const RATE_PER_CLUSTER: f64 = 10_000.0 / CLUSTERS as f64;
const VALUE_BYTES: u64 = 256;
/// Nanoseconds a byte takes on a 1 Gbit/s link.
const NS_PER_BYTE: u64 = 8;
const LATENCY_INTERVAL_NS: u64 = 10_000_000;
const UNSEEN: u32 = 0xffff;
const NO_STATE: u32 = u32::MAX;

/// A sampled key's register at one instance: its vector clock and its winner's timestamp.
#[derive(Clone, Copy, Default)]
struct Register {
    vc: [u32; CLUSTERS],
    ts: u64,
}

/// A sampled op on its way: when it arrives, its order of sending, its key's state index,
/// its destination and its register as it left.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Trip {
    arrives: u64,
    seq: u64,
    state: u32,
    dst: u8,
    vc: [u32; CLUSTERS],
    ts: u64,
}

/// What one pass gives back, so the optimiser keeps every part of it.
struct Pass {
    writes: u64,
    sampled_writes: u64,
    conflicts: u64,
    lag_p50_ns: u64,
}

/// What one pass keeps per key.
#[derive(Clone, Copy)]
enum Keys<'a> {
    /// Nothing: each write hashes its key's name for its slot, and no instance's holding of
    /// a key is known (what memory and snapshot figures need is then missing).
    Nothing,
    /// Each key's slot (hashed at first sight) and which instances hold it, in one 32-bit
    /// cell, as a sampled run keeps them; every key a shadow key.
    Cells,
    /// The cells, and the sample's keys with their registers.
    Sample(&'a KeySample),
    /// A different random process: each write draws its gap and then its class (shard and
    /// kind) from an alias table of their joint probabilities, one word,
    /// instead of a key and a kind; no key is named and nothing is kept per key.
    Classes(&'a Classes),
}

/// The classes of the reference workload's writes (source shard and kind), with
/// an alias table over their probabilities (Vose's method).
pub(crate) struct Classes {
    shard: Vec<u8>,
    bytes: Vec<u32>,
    /// Per class, the probability (scaled to 2^32) of keeping it, else its alias.
    keep: Vec<u64>,
    alias: Vec<u32>,
}

impl Classes {
    /// Each class's probability, shard and stream bytes.
    fn weights() -> (Vec<f64>, Vec<u8>, Vec<u32>) {
        // Every key of the reference has a 12-digit name, so its shard and kind are its
        // class (a workload of longer names would add the digits to it).
        let k = SHARDS * 2;
        let mut weight = vec![0.0f64; k];
        let mut bytes = vec![0u32; k];
        let mut shard = vec![0u8; k];
        for index in 0..KEYS {
            let p = ((index + 1) as f64).powf(-0.99);
            for (set, kind_p) in [(false, 0.2), (true, 0.8)] {
                let number = index * 2 + u64::from(set);
                let sh = slot_of(number) as usize * SHARDS / 16_384;
                let class = sh * 2 + usize::from(set);
                weight[class] += p * kind_p;
                shard[class] = sh as u8;
                bytes[class] = write_bytes(set, index) as u32;
            }
        }
        let total: f64 = weight.iter().sum();
        (weight.iter().map(|w| w / total).collect(), shard, bytes)
    }

    fn of_reference() -> Classes {
        let (probability, shard, bytes) = Classes::weights();
        let k = probability.len();
        let mut scaled: Vec<f64> = probability.iter().map(|p| p * k as f64).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..k).partition(|&i| scaled[i] < 1.0);
        let mut keep = vec![1u64 << 32; k];
        let mut alias: Vec<u32> = (0..k as u32).collect();
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            keep[s] = (scaled[s] * 4_294_967_296.0) as u64;
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        Classes {
            shard,
            bytes,
            keep,
            alias,
        }
    }

    /// A class from one random word.
    #[inline]
    fn draw(&self, word: u64) -> usize {
        let i = ((u128::from(word >> 32) * self.keep.len() as u128) >> 32) as usize;
        if word & 0xffff_ffff < self.keep[i] {
            i
        } else {
            self.alias[i] as usize
        }
    }
}

/// The stream bytes of a generated `SET` (256-byte value) or `INCR` on key index `index`.
fn write_bytes(set: bool, index: u64) -> u64 {
    let key_len = key_len(index);
    if set {
        command_bytes(&[3, key_len, VALUE_BYTES])
    } else {
        command_bytes(&[4, key_len])
    }
}

/// The hash slot of the generated key numbered `number`, its name written on the stack.
fn slot_of(number: u64) -> u32 {
    let (digits, start) = key_digits(number / 2);
    let mut name = [0u8; 24];
    name[..4].copy_from_slice(if number & 1 == 1 { b"key:" } else { b"ctr:" });
    let len = 4 + digits.len() - start;
    name[4..len].copy_from_slice(&digits[start..]);
    u32::from(crate::redis::slot::key_slot(&name[..len]))
}

/// Per link direction: free from, latency held until, the held latency.
type Links = [(u64, u64, u64); CLUSTERS * CLUSTERS];

/// A write's trip from shard `shard` of `src` to `dst` leaving at `now`: its arrival time.
#[inline]
fn trip(
    links: &mut Links,
    rngs: &mut [rand_chacha::ChaCha8Rng],
    last_arrival: &mut [u64],
    (src, shard, dst): (usize, usize, usize),
    now: u64,
    bytes: u64,
) -> u64 {
    let latency = LatencyDist::LogNormal {
        median: SimDuration::from_millis(80),
        sigma: 0.2,
    };
    let l = src * CLUSTERS + dst;
    let (free, held_until, held) = &mut links[l];
    let leaves = now.max(*free);
    *free = leaves + bytes * NS_PER_BYTE;
    if leaves >= *held_until {
        *held = latency.sample(&mut rngs[l]).0;
        *held_until = leaves + LATENCY_INTERVAL_NS;
    }
    let session = (src * SHARDS + shard) * CLUSTERS + dst;
    let arrives = (*free + *held).max(last_arrival[session]);
    last_arrival[session] = arrives;
    arrives
}

/// One pass over `secs` simulated seconds of the reference workload, keeping `keys`.
fn pass(secs: u64, keys: Keys) -> Pass {
    let sample = match keys {
        Keys::Sample(s) => Some(s),
        _ => None,
    };
    let needs_cells = matches!(keys, Keys::Cells | Keys::Sample(_));
    let end = secs * 1_000_000_000;
    let zipf = Zipf::new(KEYS, 0.99);
    let mut rngs: Vec<_> = (0..CLUSTERS)
        .map(|c| stream_for(1, &format!("bench/floor/workload/{c}")))
        .collect();
    let mut link_rngs: Vec<_> = (0..CLUSTERS * CLUSTERS)
        .map(|l| stream_for(1, &format!("bench/floor/link/{l}")))
        .collect();
    let gap = |r: &mut _| (dist::exponential(r, 1e9 / RATE_PER_CLUSTER) as u64).max(1);
    let mut next: Vec<u64> = rngs.iter_mut().map(gap).collect();
    let mut cells = vec![UNSEEN; if needs_cells { 2 * KEYS as usize } else { 0 }];
    let mut state_of = vec![
        NO_STATE;
        if sample.is_some() {
            2 * KEYS as usize
        } else {
            0
        }
    ];
    let mut registers: Vec<[Register; CLUSTERS]> = Vec::new();
    let mut backlog = [0u64; CLUSTERS * SHARDS];
    // Per link direction: free from, latency held until, the held latency.
    let mut links: Links = [(0, 0, 0); CLUSTERS * CLUSTERS];
    let mut last_arrival = [0u64; CLUSTERS * SHARDS * CLUSTERS];
    let mut lag = Histogram::default();
    let mut trips: BinaryHeap<Reverse<Trip>> = BinaryHeap::new();
    let (mut seq, mut writes, mut sampled_writes, mut conflicts) = (0u64, 0u64, 0u64, 0u64);
    let mut apply = |t: &Trip, registers: &mut Vec<[Register; CLUSTERS]>| {
        let reg = &mut registers[t.state as usize][t.dst as usize];
        let seen = reg.vc.iter().zip(&t.vc).all(|(a, b)| a >= b);
        let newer = t.vc.iter().zip(&reg.vc).all(|(a, b)| a >= b);
        if !seen && !newer {
            conflicts += 1;
        }
        for (a, b) in reg.vc.iter_mut().zip(&t.vc) {
            *a = (*a).max(*b);
        }
        reg.ts = reg.ts.max(t.ts);
    };
    loop {
        let c = (0..CLUSTERS).min_by_key(|&c| next[c]).expect("clusters");
        let now = next[c];
        if now >= end {
            break;
        }
        while let Some(Reverse(t)) = trips.peek()
            && t.arrives <= now
        {
            let Reverse(t) = trips.pop().expect("peeked");
            apply(&t, &mut registers);
        }
        let r = &mut rngs[c];
        // The write's shard and stream bytes, and its key's number when the process names
        // keys (the draws in the order each process makes them).
        let (shard, bytes, number) = if let Keys::Classes(classes) = keys {
            let class = classes.draw(rand::Rng::next_u64(r));
            next[c] = now + gap(r);
            let shard = classes.shard[class] as usize;
            (shard, u64::from(classes.bytes[class]), None)
        } else {
            let index = zipf.sample(r);
            let set = dist::unit(r) < 0.8;
            next[c] = now + gap(r);
            let number = index * 2 + u64::from(set);
            let slot = if !needs_cells {
                slot_of(number)
            } else {
                let cell = &mut cells[number as usize];
                if *cell & 0xffff == UNSEEN {
                    let slot = u32::from(crate::redis::slot::key_slot(&generated_name(number)));
                    *cell = (*cell & !0xffff) | slot;
                }
                *cell |= 1 << (16 + c);
                *cell & 0xffff
            };
            let shard = slot as usize * SHARDS / 16_384;
            (shard, write_bytes(set, index), Some(number))
        };
        writes += 1;
        backlog[c * SHARDS + shard] += bytes;
        let state = match (sample, number) {
            (Some(s), Some(number)) if s.keeps(number) => {
                let i = &mut state_of[number as usize];
                if *i == NO_STATE {
                    *i = registers.len() as u32;
                    registers.push(Default::default());
                }
                let reg = &mut registers[*i as usize][c];
                reg.vc[c] += 1;
                reg.ts = now;
                sampled_writes += 1;
                Some((*i, *reg))
            }
            _ => None,
        };
        for dst in (0..CLUSTERS).filter(|&d| d != c) {
            let arrives = trip(
                &mut links,
                &mut link_rngs,
                &mut last_arrival,
                (c, shard, dst),
                now,
                bytes,
            );
            lag.record(arrives - now);
            match state {
                Some((state, reg)) => {
                    seq += 1;
                    trips.push(Reverse(Trip {
                        arrives,
                        seq,
                        state,
                        dst: dst as u8,
                        vc: reg.vc,
                        ts: reg.ts,
                    }));
                }
                None => {
                    if let (true, Some(number)) = (needs_cells, number) {
                        cells[number as usize] |= 1 << (16 + dst);
                    }
                }
            }
        }
    }
    while let Some(Reverse(t)) = trips.pop() {
        apply(&t, &mut registers);
    }
    std::hint::black_box(&backlog);
    Pass {
        writes,
        sampled_writes,
        conflicts,
        lag_p50_ns: lag.quantile(0.5).unwrap_or(0),
    }
}

/// The reference scenario, sampled 1/64, for `secs` simulated seconds and without its
/// partition: the same workload as the passes, through the whole simulator.
fn reference_sampled(secs: u64) -> Result<crate::scenario::Scenario, String> {
    let text = super::REFERENCE_TOML;
    let text = text[..text.find("[[fault]]").unwrap_or(text.len())].replace(
        "duration = \"1h\"",
        &format!("duration = \"{secs}s\"\nfidelity = \"sampled\"\nsample = \"1/64\""),
    );
    crate::scenario::parse(
        &text,
        "benches/reference.toml",
        &crate::scenario::LoadOptions::default(),
    )
    .map_err(|e| e.to_string())
}

/// Prints the pipeline floor per write, with and without the sample's keys, in nanoseconds
/// and in ChaCha8 words measured in the same run (`reps` interleaved repetitions).
pub(crate) fn pipeline_floor(quick: bool, reps: usize) {
    let secs = if quick { 120 } else { 600 };
    let scenario = match reference_sampled(secs / 2) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return;
        }
    };
    let Some(sample) =
        (scenario.config.workload.as_ref()).map(|w| KeySample::new(64, w, scenario.config.seed))
    else {
        return;
    };
    let words = 20_000_000u64;
    let mut headless = sample.clone();
    headless.certain_below = 0;
    let classes = Classes::of_reference();
    let variants = [
        ("class draws, nothing per key", Keys::Classes(&classes)),
        ("key draws, nothing per key", Keys::Nothing),
        ("every key a shadow key (cells)", Keys::Cells),
        ("a 1/64 hash sample, no head", Keys::Sample(&headless)),
        ("the 1/64 sample with its head", Keys::Sample(&sample)),
    ];
    let mut word_ns = Vec::new();
    let mut geosim_ns = Vec::new();
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut last = None;
    for _ in 0..reps {
        let start = Instant::now(); // Benchmark timing, outside any simulated run.
        let mut r = stream_for(1, "bench/floor");
        std::hint::black_box((0..words).fold(0u64, |a, _| a ^ rand::Rng::next_u64(&mut r)));
        word_ns.push(start.elapsed().as_secs_f64() * 1e9 / words as f64);
        for (i, (_, keys)) in variants.iter().enumerate() {
            let start = Instant::now(); // Benchmark timing, outside any simulated run.
            let p = std::hint::black_box(pass(secs, *keys));
            ns[i].push(start.elapsed().as_secs_f64() * 1e9 / p.writes as f64);
            last = Some(p);
        }
        let start = Instant::now(); // Benchmark timing, outside any simulated run.
        let (r, _) = crate::sim::run_scenario(&scenario);
        let writes: u64 = r.clusters.iter().map(|c| c.writes).sum();
        geosim_ns.push(start.elapsed().as_secs_f64() * 1e9 / writes.max(1) as f64);
    }
    let Some(p) = last else {
        return;
    };
    let word = median(word_ns);
    outln!(
        "sampled pipeline floor (the reference workload without an event engine, {secs} s simulated, median of {reps}; src/cli/bench/floor.rs):"
    );
    for ((name, _), ns) in variants.iter().zip(ns) {
        let t = median(ns);
        outln!(
            "  {name:<32} {t:>6.1} ns a write = {:>5.1} words, {:>5.0}x real time here, {:.2}x the target's {TARGET_WORDS_PER_WRITE:.0} words",
            t / word,
            1e9 / (t * 10_000.0),
            t / word / TARGET_WORDS_PER_WRITE
        );
    }
    let t = median(geosim_ns);
    outln!(
        "  {:<32} {t:>6.1} ns a write = {:>5.1} words, {:>5.0}x real time here, {:.2}x the target's {TARGET_WORDS_PER_WRITE:.0} words",
        format!("geosim, sampled 1/64, {} s", secs / 2),
        t / word,
        1e9 / (t * 10_000.0),
        t / word / TARGET_WORDS_PER_WRITE
    );
    outln!(
        "  (the target, 1.8 s for the reference hour's 36 M writes, is {TARGET_WORDS_PER_WRITE:.0} words a write: 50 ns where a word takes 2.0 ns, {:.0} ns here)",
        TARGET_WORDS_PER_WRITE * word
    );
    outln!(
        "  ({:.1} % of writes to sampled keys, {} of them conflicting)",
        100.0 * p.sampled_writes as f64 / p.writes as f64,
        p.conflicts
    );
    outln!(
        "  (one ChaCha8 word {word:.1} ns; lag p50 {:.1} ms over {} writes)",
        p.lag_p50_ns as f64 / 1e6,
        p.writes
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_counts_what_it_models() {
        use crate::model::workload::{KeyDist, OpMix, WorkloadParams};
        let w = WorkloadParams::set_incr(
            10_000.0,
            KEYS,
            KeyDist::Zipf { exponent: 0.99 },
            256,
            OpMix::set_incr(0.8, 0.2),
            vec![0, 1, 2],
        );
        let sample = KeySample::new(64, &w, 1);
        let bare = pass(2, Keys::Nothing);
        let all_shadow = pass(2, Keys::Cells);
        let sampled = pass(2, Keys::Sample(&sample));
        // The same draws either way: the same writes and lags, and the same slots.
        assert_eq!(all_shadow.writes, sampled.writes);
        assert_eq!(bare.writes, sampled.writes);
        assert_eq!(bare.lag_p50_ns, sampled.lag_p50_ns);
        for number in [0, 1, 2, 19, 20, 1_999_999] {
            assert_eq!(
                slot_of(number),
                u32::from(crate::redis::slot::key_slot(&generated_name(number)))
            );
        }
        assert!(
            (19_000..21_000).contains(&sampled.writes),
            "{}",
            sampled.writes
        );
        assert_eq!(all_shadow.lag_p50_ns, sampled.lag_p50_ns);
        // An 80 ms median latency, a little more for queueing behind the session's ops.
        assert!((78_000_000..95_000_000).contains(&sampled.lag_p50_ns));
        // The Zipf head is certain: about half the writes are to sampled keys; writes meet
        // on hot keys within a latency, so some conflict; a shadow-only pass keeps none.
        let share = sampled.sampled_writes as f64 / sampled.writes as f64;
        assert!((0.35..0.7).contains(&share), "{share}");
        assert!(sampled.conflicts > 0);
        assert_eq!(all_shadow.sampled_writes + all_shadow.conflicts, 0);
        assert_eq!(
            write_bytes(false, 7),
            4 + 10 + 23,
            "*2, INCR, ctr:000000000007"
        );
        assert_eq!(
            write_bytes(true, 7),
            4 + 9 + 23 + 264,
            "*3, SET, key, 256 bytes"
        );
    }

    #[test]
    fn the_class_table_draws_each_class_with_its_probability() {
        let c = Classes::of_reference();
        let (probability, ..) = Classes::weights();
        let k = c.keep.len();
        // What the alias table gives each class: its own kept share plus the shares other
        // classes pass to it, over all classes' equal chances.
        let mut given = vec![0.0f64; k];
        for i in 0..k {
            given[i] += c.keep[i] as f64;
            given[c.alias[i] as usize] += (1u64 << 32) as f64 - c.keep[i] as f64;
        }
        let scale = k as f64 * 4_294_967_296.0;
        for (i, p) in probability.iter().enumerate() {
            assert!(
                (given[i] / scale - p).abs() < 1e-8,
                "class {i}: {} vs {p}",
                given[i] / scale
            );
        }
        assert!((probability.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        // SETs are 0.8 of the writes, whatever their shard.
        let sets: f64 = (0..k).filter(|i| i % 2 == 1).map(|i| probability[i]).sum();
        assert!((sets - 0.8).abs() < 1e-9, "{sets}");
        // The extremes of a word draw the first and the last classes' territory.
        assert!(c.draw(0) < k && c.draw(u64::MAX) < k);
    }
}
