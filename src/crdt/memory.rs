//! What Redis 7.0 reports as a key's memory (`MEMORY USAGE`), for the part Active-Active
//! shares with a plain Redis: the dictionary entry, the key's name and the value object, each
//! allocation rounded up to jemalloc's size class. The live test `live::memory` holds
//! [`redis_string_bytes`] to a real Redis byte for byte.
//!
//! The simulator's memory estimate (`keyspace::entry_bytes`) does not use it yet: it counts a
//! fixed [`super::keyspace::KEY_OVERHEAD`] plus name and value, within 20 % of these figures
//! for plain strings (docs/semantics.md, "Memory, eviction and OOM").

/// The size jemalloc hands out for a request of `n` bytes: 8, 16, then four classes per
/// doubling (32, 48, 64, 80, 96, 112, 128, 160, …, 4096, 5120, …).
pub fn jemalloc_size(n: u64) -> u64 {
    match n {
        0..=8 => 8,
        9..=16 => 16,
        _ => {
            // 2^k < n <= 2^(k+1): classes are 2^(k-2) apart, and at least 16.
            let k = 63 - (n - 1).leading_zeros() as u64;
            let spacing = (1u64 << k.saturating_sub(2)).max(16);
            n.div_ceil(spacing) * spacing
        }
    }
}

/// The bytes an sds string of `len` bytes takes: its header (3, 5, 9 or 17 bytes by length),
/// the bytes and a terminating zero, rounded to jemalloc's size class.
pub fn sds_bytes(len: u64) -> u64 {
    let header = match len {
        0..=255 => 3,
        256..=65_535 => 5,
        65_536..=0xffff_ffff => 9,
        _ => 17,
    };
    jemalloc_size(header + len + 1)
}

/// `sizeof(dictEntry)` and `sizeof(robj)` on a 64-bit build.
const DICT_ENTRY: u64 = 24;
const ROBJ: u64 = 16;
/// Strings up to this length are stored as one allocation with their object (`embstr`).
const EMBSTR_MAX: u64 = 44;

/// `MEMORY USAGE` of a string key with a `key_len`-byte name and `value` as its value: the
/// dictionary entry, the name's sds, and the value object (an integer that fits a long is
/// kept in the object itself; up to 44 bytes one `embstr` allocation; else object plus sds).
pub fn redis_string_bytes(key_len: u64, value: &[u8]) -> u64 {
    let len = value.len() as u64;
    let is_int = len <= 20
        && std::str::from_utf8(value)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .is_some_and(|n| n.to_string().as_bytes() == value);
    string_bytes(key_len, len, is_int)
}

/// [`redis_string_bytes`] of a `len`-byte value that is not an integer (what a planner
/// knows: a size, not the bytes).
pub fn redis_text_bytes(key_len: u64, len: u64) -> u64 {
    string_bytes(key_len, len, false)
}

fn string_bytes(key_len: u64, len: u64, is_int: bool) -> u64 {
    let object = if is_int {
        ROBJ
    } else if len <= EMBSTR_MAX {
        jemalloc_size(ROBJ + 3 + len + 1)
    } else {
        ROBJ + sds_bytes(len)
    };
    DICT_ENTRY + sds_bytes(key_len) + object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jemalloc_classes_are_four_per_doubling() {
        let classes: Vec<u64> = [1, 9, 17, 33, 49, 65, 129, 257, 4097, 100_010]
            .map(jemalloc_size)
            .to_vec();
        assert_eq!(classes, [8, 16, 32, 48, 64, 80, 160, 320, 5120, 114_688]);
    }

    /// Figures measured with `MEMORY USAGE` on Redis 7.0.15 (the live test measures them
    /// again on every run).
    #[test]
    fn string_keys_take_what_redis_reports() {
        let key = 16;
        for (v, redis) in [
            (1, 88),
            (44, 120),
            (45, 136),
            (256, 392),
            (4096, 5192),
            (100_000, 114_760),
        ] {
            assert_eq!(redis_string_bytes(key, &vec![b'x'; v]), redis, "{v}");
        }
        assert_eq!(redis_string_bytes(key, b"1"), 72);
    }
}
