//! Replication-stream byte sizes.
//!
//! A command travels in the replication stream as a RESP array of bulk strings:
//! `*<argc>\r\n` then, per argument, `$<len>\r\n<bytes>\r\n`. Measured against Redis 7.0.15
//! in `shared/validation/results/set_bytes.csv` (109 of 109 cases): `SET` with key length k
//! and value length v takes `23 + k + v + digits(k) + digits(v)` bytes, and `SELECT <db>`
//! takes `22 + digits(db)` bytes.

/// Decimal digits of `n`.
pub(crate) fn digits(n: u64) -> u64 {
    let mut d = 1;
    let mut x = n;
    while x >= 10 {
        x /= 10;
        d += 1;
    }
    d
}

/// The RESP size of one bulk-string argument of `len` bytes.
pub(crate) fn bulk_bytes(len: u64) -> u64 {
    1 + digits(len) + 2 + len + 2
}

/// The RESP size of a command whose arguments (name included) have the given lengths.
pub fn command_bytes(arg_lens: &[u64]) -> u64 {
    command_bytes_of(arg_lens.len(), arg_lens.iter().copied())
}

/// [`command_bytes`] of `argc` arguments given as an iterator (no list to build).
pub(crate) fn command_bytes_of(argc: usize, arg_lens: impl Iterator<Item = u64>) -> u64 {
    let header = 1 + digits(argc as u64) + 2;
    header + arg_lens.map(bulk_bytes).sum::<u64>()
}

/// Usable bytes in one Redis 7 replication-buffer block made for pieces of at most this many
/// bytes (jemalloc build): the 16 KiB request plus its header in jemalloc's 20,480 class. A
/// longer argument gets a block of its own size (`model::backlog`).
pub const BLOCK_BYTES: u64 = 20_440;

/// Where the arguments longer than `threshold` bytes lie in a command's RESP encoding, as
/// (offset from the command's first byte, length): Redis feeds each argument to its
/// replication buffer in one piece, and a piece longer than a buffer block gets a block of
/// its own size (see `model::backlog`). Empty, with nothing allocated, for most commands.
pub(crate) fn large_pieces_of(
    argc: usize,
    arg_lens: impl Iterator<Item = u64>,
    threshold: u64,
) -> Vec<(u64, u64)> {
    let mut at = 1 + digits(argc as u64) + 2;
    let mut out = Vec::new();
    for len in arg_lens {
        at += 1 + digits(len) + 2;
        if len > threshold {
            out.push((at, len));
        }
        at += len + 2;
    }
    out
}

/// `SET key value`.
pub fn set_bytes(key_len: u64, value_len: u64) -> u64 {
    command_bytes(&[3, key_len, value_len])
}

/// `SELECT <db>`, which precedes a write whose database differs from the previous write in
/// the stream, and the first write after a full sync.
pub fn select_bytes(db: u64) -> u64 {
    command_bytes(&[6, digits(db)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_matches_the_measured_formula() {
        for k in [1u64, 9, 10, 16, 99, 100, 1000, 10000] {
            for v in [
                0u64, 1, 9, 10, 99, 100, 256, 1000, 9999, 10000, 100000, 1000000,
            ] {
                assert_eq!(set_bytes(k, v), 23 + k + v + digits(k) + digits(v));
            }
        }
        assert_eq!(set_bytes(16, 256), 300);
        // The value of a 100,047-byte SET starts after 45 bytes (measured trials' writes).
        assert_eq!(
            large_pieces_of(3, [3u64, 16, 100_000].into_iter(), 20_440),
            [(45, 100_000)]
        );
        assert!(large_pieces_of(3, [3u64, 16, 20_440].into_iter(), 20_440).is_empty());
        // Every large argument, at its place.
        let lens = [4u64, 1, 30_000, 1, 25_000];
        let pieces = large_pieces_of(5, lens.into_iter(), 20_440);
        assert_eq!(
            pieces,
            [
                (4 + 10 + 7 + 8, 30_000),
                (4 + 10 + 7 + 8 + 30_002 + 7 + 8, 25_000)
            ]
        );
        let total = command_bytes(&lens);
        assert_eq!(pieces[1].0 + pieces[1].1 + 2, total);
    }

    #[test]
    fn select_matches_the_measurement() {
        assert_eq!(select_bytes(0), 23);
        assert_eq!(select_bytes(12), 24);
    }
}
