//! A fast, deterministic hasher (the "Fx" multiply-rotate hash used by rustc, with a final
//! SplitMix64 avalanche) for maps that
//! are looked up but never iterated in an order that matters. The standard library's default
//! hasher is randomly seeded; this one is fixed, and code that needs an order sorts first.

use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x517c_c1b7_2722_0a95;

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    /// The multiply leaves the low bits blind to high input bits (keys that differ only in
    /// their last bytes would share buckets), so the result is avalanched once.
    #[inline]
    fn finish(&self) -> u64 {
        super::digest::mix64(self.hash)
    }
}

/// Build hasher for `HashMap<K, V, FxBuild>`.
pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn hashes_are_fixed_and_spread() {
        let h = |s: &[u8]| FxBuild::default().hash_one(s);
        // Pinned values: the hash is part of no output, but a change would be silent.
        assert_eq!(h(b"key:000000000001"), 16907396573461873986);
        assert_eq!(h(b"key:000000000002"), 8233984954888857512);
        assert_ne!(h(b"key:000000000001"), h(b"key:000000000002"));
        // Keys that differ only in their last bytes spread over the low bits (the bucket index).
        let low: std::collections::BTreeSet<u64> = (0..1000)
            .map(|i| h(format!("key:{i:012}").as_bytes()) & 1023)
            .collect();
        assert!(low.len() > 550, "{}", low.len());
    }
}
