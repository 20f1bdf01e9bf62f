//! What Redis 7.0 reports as a key's memory (`MEMORY USAGE`), for the part Active-Active
//! shares with a plain Redis: the dictionary entry, the key's name and the value object, each
//! allocation rounded up to jemalloc's size class. The live test `live::memory` holds
//! [`redis_string_bytes`] to a real Redis byte for byte.
//!
//! The simulator's memory estimate (`keyspace::entry_bytes`) counts a key as this plain part
//! ([`plain_overhead`] plus the value's bytes) and the CRDT metadata on top
//! (docs/semantics.md, "Memory, eviction and OOM").

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
            // Rounded up to a multiple of the spacing, a power of two (a mask, not a
            // division: every write's memory figure passes here).
            (n + spacing - 1) & !(spacing - 1)
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

/// What the plain part of a key's memory adds to the raw bytes of the string value a read
/// shows (`shown`: its length and whether Redis would keep it as an integer), or, for a key
/// that shows no string value (a counter, a collection), the dictionary entry, the name and
/// an object header: [`redis_string_bytes`] less the value's length.
pub fn plain_overhead(key_len: u64, shown: Option<(u64, bool)>) -> u64 {
    match shown {
        Some((len, is_int)) => string_bytes(key_len, len, is_int) - len,
        None => string_bytes(key_len, 0, true),
    }
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
        // The mask rounds as a division would, at and around every class boundary.
        for n in 17..100_000u64 {
            let k = 63 - (n - 1).leading_zeros() as u64;
            let spacing = (1u64 << k.saturating_sub(2)).max(16);
            assert_eq!(jemalloc_size(n), n.div_ceil(spacing) * spacing, "{n}");
        }
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

    #[test]
    fn the_plain_overhead_is_what_the_value_adds_to_its_bytes() {
        for len in [0, 1, 44, 45, 300, 70_000] {
            let v = vec![b'x'; len];
            assert_eq!(
                plain_overhead(16, Some((len as u64, false))) + len as u64,
                redis_string_bytes(16, &v)
            );
        }
        assert_eq!(
            plain_overhead(16, Some((2, true))) + 2,
            redis_string_bytes(16, b"42")
        );
        // A key with no string value: entry, name, object header.
        assert_eq!(plain_overhead(16, None), 24 + 32 + 16);
    }
}
