//! HyperLogLog: Redis's dense algorithm (16,384 six-bit registers, MurmurHash64A with seed
//! 0xadc83b19, and the improved estimator of Ertl used since Redis 5), so `PFCOUNT` gives the
//! numbers Redis gives. As a CRDT, adds and merges are a union (register maximum) \[HLL\]; a
//! `DEL` wins over every concurrent add or merge: an add survives only if its writer had seen
//! every `DEL` applied to the key.

use super::clock::{Dot, VClock};

use crate::engine::Digest;

pub const P: u32 = 14;
pub const REGISTERS: usize = 1 << P;
const Q: u32 = 64 - P;

/// The registers of a string in Redis's HyperLogLog encoding (`HYLL`, dense or sparse), as
/// `GET` of an HLL key returns it; `None` for any other string. Redis's checks: the magic,
/// a known encoding, a dense string of exactly its size, and sparse opcodes that cover every
/// register once (a value over 32 cannot occur in sparse form).
pub fn decode(s: &[u8]) -> Option<Box<[u8; REGISTERS]>> {
    const HEADER: usize = 16;
    const DENSE_BYTES: usize = (REGISTERS * 6).div_ceil(8);
    if s.len() < HEADER || &s[..4] != b"HYLL" {
        return None;
    }
    let data = &s[HEADER..];
    let mut regs = Box::new([0u8; REGISTERS]);
    match s[4] {
        0 => {
            if data.len() != DENSE_BYTES {
                return None;
            }
            for (i, r) in regs.iter_mut().enumerate() {
                let bit = i * 6;
                let (b, shift) = (bit / 8, bit % 8);
                let lo = u16::from(data[b]);
                let hi = u16::from(data.get(b + 1).copied().unwrap_or(0));
                *r = (((lo | (hi << 8)) >> shift) & 63) as u8;
            }
        }
        1 => {
            let mut i = 0usize;
            let mut p = 0usize;
            while p < data.len() {
                let op = data[p];
                let (len, value) = if op & 0x80 != 0 {
                    // VAL: 1vvvvvxx, value v + 1, run x + 1.
                    p += 1;
                    (usize::from(op & 3) + 1, ((op >> 2) & 0x1f) + 1)
                } else if op & 0x40 != 0 {
                    // XZERO: 01xxxxxx yyyyyyyy, a run of 14 bits + 1.
                    let next = *data.get(p + 1)?;
                    p += 2;
                    ((usize::from(op & 0x3f) << 8 | usize::from(next)) + 1, 0)
                } else {
                    // ZERO: 00xxxxxx, a run of x + 1.
                    p += 1;
                    (usize::from(op & 0x3f) + 1, 0)
                };
                if i + len > REGISTERS {
                    return None;
                }
                regs[i..i + len].fill(value);
                i += len;
            }
            if i != REGISTERS {
                return None;
            }
        }
        _ => return None,
    }
    Some(regs)
}

/// MurmurHash64A as Redis uses it for HyperLogLog.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4a7935bd1e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, b) in rest.iter().enumerate() {
            h ^= (*b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register index and run length (`count`) an element sets.
pub fn position(element: &[u8]) -> (u16, u8) {
    let hash = murmur64a(element, 0xadc8_3b19);
    let index = (hash & (REGISTERS as u64 - 1)) as u16;
    let mut h = hash >> P;
    h |= 1u64 << Q;
    let mut count = 1u8;
    let mut bit = 1u64;
    while h & bit == 0 {
        count += 1;
        bit <<= 1;
    }
    (index, count)
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate of a register array.
pub fn count(registers: &[u8; REGISTERS]) -> u64 {
    let m = REGISTERS as f64;
    let mut histo = [0u32; 64];
    for r in registers {
        histo[*r as usize] += 1;
    }
    let mut z = m * tau((m - histo[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
    (ALPHA_INF * m * m / z).round() as u64
}

/// One add or merge: the registers it raises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HllAdd {
    pub dot: Dot,
    pub vc: VClock,
    pub registers: Vec<(u16, u8)>,
}

/// The adds of a HyperLogLog key. An add survives only while its clock covers the key's
/// tombstone (the join of every `DEL`'s clock): it must have seen every `DEL`, and what those
/// had seen. The tombstone only grows, so the surviving adds do not depend on arrival order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HllCrdt {
    adds: Vec<HllAdd>,
}

fn survives(add: &HllAdd, tomb: &VClock) -> bool {
    tomb.partial_cmp_causal(&add.vc)
        .is_some_and(|o| o != std::cmp::Ordering::Greater)
}

impl HllCrdt {
    pub fn add(&mut self, add: HllAdd, tomb: &VClock) {
        if !survives(&add, tomb) || self.adds.iter().any(|a| a.dot == add.dot) {
            return;
        }
        let p = self.adds.partition_point(|a| a.dot < add.dot);
        self.adds.insert(p, add);
    }

    /// After a `DEL` grew the key's tombstone: it wins over every add that had not seen it.
    pub fn prune(&mut self, tomb: &VClock) {
        self.adds.retain(|a| survives(a, tomb));
    }

    pub fn registers(&self) -> Box<[u8; REGISTERS]> {
        let mut regs = Box::new([0u8; REGISTERS]);
        for a in &self.adds {
            for (i, c) in &a.registers {
                let r = &mut regs[*i as usize];
                *r = (*r).max(*c);
            }
        }
        regs
    }

    pub fn is_empty(&self) -> bool {
        self.adds.is_empty()
    }

    /// State merge under the joined key tombstone.
    pub fn merge(&mut self, other: &HllCrdt, tomb: &VClock) {
        for a in &other.adds {
            self.add(a.clone(), tomb);
        }
        self.prune(tomb);
    }

    pub fn digest_state(&self, d: &mut Digest) {
        d.word(self.adds.len() as u64);
        for a in &self.adds {
            d.word(a.dot.origin.0 as u64).word(a.dot.seq);
        }
    }

    pub fn bytes(&self) -> u64 {
        self.adds
            .iter()
            .map(|a| 16 + 3 * a.registers.len() as u64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_small_sets_like_redis() {
        let mut regs = Box::new([0u8; REGISTERS]);
        assert_eq!(count(&regs), 0);
        for e in ["a", "b", "c", "d", "e", "f", "g"] {
            let (i, c) = position(e.as_bytes());
            regs[i as usize] = regs[i as usize].max(c);
        }
        assert_eq!(count(&regs), 7);
    }

    #[test]
    fn large_counts_are_within_two_percent() {
        let mut regs = Box::new([0u8; REGISTERS]);
        for n in 0..100_000u32 {
            let (i, c) = position(format!("element:{n}").as_bytes());
            regs[i as usize] = regs[i as usize].max(c);
        }
        let est = count(&regs) as f64;
        assert!((est / 100_000.0 - 1.0).abs() < 0.02, "{est}");
    }
}
