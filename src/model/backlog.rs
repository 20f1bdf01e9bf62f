//! A shard's CRDT replication backlog: the most recent bytes of its replication stream,
//! bounded by a size, from which a reconnecting peer can continue (partial sync).
//!
//! Offsets count stream bytes from 0 (the stream's creation). The backlog holds the bytes
//! `[first, end)`; a peer whose next byte is `n` can continue iff `first <= n <= end`.
//!
//! Two models:
//! * `Ring`: exactly the configured size, like Redis ≤ 6.2's circular buffer: `first =
//!   end − size`.
//! * `Block`: Redis 7's list of replication-buffer blocks, trimmed only whole: the oldest
//!   block is dropped while the bytes held without it would still exceed the size. A write
//!   first fills the free space of the newest block; what is left goes into a new block sized
//!   to it (`feedReplicationBuffer` in Redis 7.0's `replication.c`): at least 16 KiB, at most
//!   the size / 16, plus a 40-byte header, rounded up to a jemalloc size class. Pieces of at
//!   most 20,440 bytes (every command argument that short) therefore always make 20,440-byte
//!   blocks, and the backlog holds `size + 1 … size + 20,440` bytes once full; a larger
//!   piece (a big value) makes a larger block and a larger allowance. Measured against Redis
//!   7.0.15 in `shared/validation/` (66 of 66 trials with 300-byte writes, and every
//!   checkpoint of 48 trials with 100 KB values).

use std::collections::VecDeque;

pub use crate::redis::resp::BLOCK_BYTES;

/// Redis's `PROTO_REPLY_CHUNK_BYTES`: the smallest block requested.
const MIN_BLOCK_REQUEST: u64 = 16 * 1024;

/// `sizeof(replBufBlock)`: the header allocated with each block.
const BLOCK_HEADER: u64 = 40;

/// The size jemalloc (5.x, 4 KiB pages, 16-byte quantum) allocates for a request of `n`
/// bytes: sizes up to 128 round up to a multiple of 16; above, each doubling `(2^k, 2^(k+1)]`
/// has four classes `2^(k−2)` apart.
pub fn jemalloc_size_class(n: u64) -> u64 {
    crate::crdt::memory::jemalloc_size(n)
}

/// Usable bytes of a new block made for a remainder of `len` bytes in a backlog of `size`.
pub fn block_bytes_for(len: u64, size: u64) -> u64 {
    let limit = (size / 16).max(MIN_BLOCK_REQUEST);
    let request = len.max(MIN_BLOCK_REQUEST).min(limit);
    jemalloc_size_class(request + BLOCK_HEADER) - BLOCK_HEADER
}

/// The largest block a backlog of `size` can get from pieces of at most `piece` bytes: the
/// most a full backlog can hold above its size.
pub fn largest_block(piece: u64, size: u64) -> u64 {
    block_bytes_for(piece, size).max(BLOCK_BYTES)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BacklogModel {
    Ring,
    Block,
}

/// One stream item as the backlog holds it: where it ends, and its payload (it starts where
/// the item before it ends: the stream has no gaps).
#[derive(Clone, Debug)]
struct Held<T> {
    end: u64,
    payload: T,
}

/// One stream item: its byte range and payload.
#[derive(Debug)]
pub(crate) struct Item<'a, T> {
    pub start: u64,
    pub end: u64,
    pub payload: &'a T,
}

#[derive(Clone, Debug)]
pub struct Backlog<T> {
    model: BacklogModel,
    size: u64,
    first: u64,
    end: u64,
    /// Where the oldest item held starts (`end` when none is).
    items_start: u64,
    items: VecDeque<Held<T>>,
    /// `Block`: the blocks held, oldest first, as (first offset, usable bytes); the newest
    /// is filled up to `end`.
    blocks: VecDeque<(u64, u64)>,
}

impl<T> Backlog<T> {
    pub fn new(model: BacklogModel, size: u64) -> Self {
        Backlog {
            model,
            size,
            first: 0,
            end: 0,
            items_start: 0,
            items: VecDeque::new(),
            blocks: VecDeque::new(),
        }
    }

    /// A fresh backlog whose stream continues at `offset` (a restarted shard: its history is
    /// gone, its offsets keep counting); its first block starts there.
    pub(crate) fn starting_at(model: BacklogModel, size: u64, offset: u64) -> Self {
        Backlog {
            model,
            size,
            first: offset,
            end: offset,
            items_start: offset,
            items: VecDeque::new(),
            blocks: VecDeque::new(),
        }
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn model(&self) -> BacklogModel {
        self.model
    }

    /// The stream offset after the last byte written.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The offset of the oldest byte still held.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// Bytes held (Redis's `repl_backlog_histlen`).
    pub fn histlen(&self) -> u64 {
        self.end - self.first
    }

    /// Appends an item of `bytes` bytes whose pieces are all at most [`BLOCK_BYTES`] long;
    /// returns its `(start, end)` offsets.
    pub(crate) fn append(&mut self, bytes: u64, payload: T) -> (u64, u64) {
        self.append_laid_out(bytes, &[], payload)
    }

    /// Appends an item of `bytes` bytes in which each `(offset, len)` of `large` (offsets
    /// within the item, in order, not overlapping) is one piece longer than [`BLOCK_BYTES`]
    /// (a big argument, which Redis feeds to the buffer in one call); returns its `(start,
    /// end)` offsets.
    pub fn append_laid_out(&mut self, bytes: u64, large: &[(u64, u64)], payload: T) -> (u64, u64) {
        let start = self.end;
        if self.model == BacklogModel::Block {
            let mut at = 0;
            for &(offset, len) in large {
                debug_assert!(
                    offset >= at && offset + len <= bytes,
                    "pieces within the item"
                );
                self.feed(start + at, offset - at, false);
                self.feed(start + offset, len, true);
                at = offset + len;
            }
            self.feed(start + at, bytes - at, false);
        }
        self.end = start + bytes;
        if self.items.is_empty() {
            self.items_start = start;
        }
        self.items.push_back(Held {
            end: self.end,
            payload,
        });
        self.trim();
        (start, self.end)
    }

    /// Places `len` stream bytes from offset `from` (the end so far) in the blocks: they fill
    /// the newest block's free space, and what is left goes into new blocks, made for what is
    /// left of one piece (`one_piece`: a piece longer than [`BLOCK_BYTES`]) or for pieces of
    /// at most [`BLOCK_BYTES`] (which always get [`BLOCK_BYTES`]).
    fn feed(&mut self, from: u64, len: u64, one_piece: bool) {
        let free_from = self.blocks.back().map_or(from, |&(s, n)| s + n);
        let mut at = free_from.max(from);
        let mut left = len.saturating_sub(at - from);
        while left > 0 {
            let size = if one_piece {
                block_bytes_for(left, self.size)
            } else {
                BLOCK_BYTES
            };
            self.blocks.push_back((at, size));
            at += size;
            left -= size.min(left);
        }
    }

    /// Appends bytes with no payload worth keeping (used to model stream history in tests).
    pub fn advance(&mut self, bytes: u64)
    where
        T: Default,
    {
        self.append(bytes, T::default());
    }

    fn trim(&mut self) {
        let first = match self.model {
            BacklogModel::Ring => self.end.saturating_sub(self.size),
            BacklogModel::Block => {
                // `incrementalTrimReplicationBacklog`: drop the oldest block while more than
                // one is held and the bytes held without it would still exceed the size.
                while self.blocks.len() > 1
                    && self.end - self.blocks[0].0 - self.blocks[0].1 > self.size
                {
                    self.blocks.pop_front();
                }
                self.blocks.front().map_or(self.end, |b| b.0)
            }
        };
        if first > self.first {
            self.first = first;
        }
        while let Some(front) = self.items.front() {
            if self.items_start < self.first {
                self.items_start = front.end;
                self.items.pop_front();
            } else {
                break;
            }
        }
        assert!(self.first <= self.end, "backlog first offset past its end");
    }

    /// Whether a peer whose next byte is `next` can continue from the backlog (partial sync).
    pub fn can_continue_from(&self, next: u64) -> bool {
        next >= self.first && next <= self.end
    }

    /// Items starting at or after `next`, in stream order.
    pub(crate) fn items_from(&self, next: u64) -> impl Iterator<Item = Item<'_, T>> {
        // Item i starts where item i − 1 ends (the first where `items_start` says): the items
        // starting before `next` are the first one, if it does, and then those after an item
        // ending before `next`.
        let skip = if self.items.is_empty() || self.items_start >= next {
            0
        } else {
            let ending_before = self.items.partition_point(|it| it.end < next);
            1 + ending_before.min(self.items.len() - 1)
        };
        let mut start = match skip {
            0 => self.items_start,
            i => self.items[i - 1].end,
        };
        self.items.range(skip..).map(move |it| {
            let item = Item {
                start,
                end: it.end,
                payload: &it.payload,
            };
            start = it.end;
            item
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_holds_exactly_its_size() {
        let mut b: Backlog<()> = Backlog::new(BacklogModel::Ring, 1000);
        for _ in 0..10 {
            b.advance(300);
        }
        assert_eq!(b.histlen(), 1000);
        assert!(b.can_continue_from(2000));
        assert!(!b.can_continue_from(1999));
        // Items whose start fell out are gone; resend starts at an item boundary.
        assert_eq!(b.items_from(2100).next().unwrap().start, 2100);
    }

    /// `items_from` gives the items starting at or after an offset, with their ranges, as a
    /// list of every item's (start, end) would.
    #[test]
    fn items_from_agrees_with_a_list_of_ranges() {
        let mut b: Backlog<u64> = Backlog::new(BacklogModel::Ring, 1000);
        let mut all: Vec<(u64, u64, u64)> = Vec::new();
        for i in 0..400u64 {
            // Zero-byte items too (an effect Redis does not replicate).
            let bytes = [0, 1, 7, 120, 0, 333][(i % 6) as usize];
            let (start, end) = b.append(bytes, i);
            all.push((start, end, i));
            let held: Vec<_> = all.iter().filter(|(s, _, _)| *s >= b.first()).collect();
            for next in [
                0,
                b.first(),
                b.first() + 1,
                b.end().saturating_sub(5),
                b.end(),
                b.end() + 1,
            ] {
                let got: Vec<(u64, u64, u64)> = b
                    .items_from(next)
                    .map(|it| (it.start, it.end, *it.payload))
                    .collect();
                let want: Vec<(u64, u64, u64)> = held
                    .iter()
                    .filter(|(s, _, _)| *s >= next)
                    .map(|x| **x)
                    .collect();
                assert_eq!(got, want, "after item {i}, from {next}");
            }
        }
    }

    #[test]
    fn block_model_holds_up_to_one_block_more() {
        let size = 1_048_576;
        let mut b: Backlog<()> = Backlog::new(BacklogModel::Block, size);
        for _ in 0..20_000 {
            b.advance(300);
            if b.end() > size + BLOCK_BYTES {
                assert!(b.histlen() > size && b.histlen() <= size + BLOCK_BYTES);
                assert_eq!(b.first() % BLOCK_BYTES, 0);
            }
        }
    }

    #[test]
    fn a_caught_up_peer_continues_iff_the_closed_form_says_so() {
        // partial iff need <= size + BLOCK − (n mod BLOCK), from shared/validation.
        let size = 4 * 1_048_576;
        for n in [0u64, 1_258_823, 7_000_001, 12_345_678] {
            for need in [
                size - 1,
                size,
                size + 100,
                size + 10_000,
                size + 20_439,
                size + 20_441,
            ] {
                let mut b: Backlog<()> = Backlog::new(BacklogModel::Block, size);
                b.advance(n);
                b.advance(need);
                let expect = need <= size + BLOCK_BYTES - (n % BLOCK_BYTES);
                assert_eq!(b.can_continue_from(n), expect, "n={n} need={need}");
            }
        }
    }

    #[test]
    fn jemalloc_classes_and_block_sizes_are_redis_7s() {
        for (n, class) in [
            (1, 8),
            (9, 16),
            (100, 112),
            (16_424, 20_480),
            (20_480, 20_480),
            (20_481, 24_576),
            (98_304, 98_304),
            (98_305, 114_688),
            (100_040, 114_688),
            (1_000_040, 1_048_576),
            (4_194_344, 5_242_880),
        ] {
            assert_eq!(jemalloc_size_class(n), class, "{n}");
        }
        let mb = 1_048_576;
        // Small remainders: the 16 KiB request, 20,440 usable bytes.
        assert_eq!(block_bytes_for(1, 16 * mb), BLOCK_BYTES);
        assert_eq!(block_bytes_for(BLOCK_BYTES, 16 * mb), BLOCK_BYTES);
        // validation §6: a 100,000-byte remainder gets 114,648 B; 98,264 B fits 98,304's class.
        assert_eq!(block_bytes_for(100_000, 16 * mb), 114_648);
        assert_eq!(block_bytes_for(98_264, 16 * mb), 98_264);
        // ... and a 1 MB backlog caps the request at 64 KiB: 81,880 B.
        assert_eq!(block_bytes_for(100_000, mb), 81_880);
        assert_eq!(largest_block(100, 16 * mb), BLOCK_BYTES);
    }

    #[test]
    fn a_large_piece_fills_the_free_space_then_gets_blocks_of_its_own_size() {
        let mb = 1_048_576;
        let mut b: Backlog<()> = Backlog::new(BacklogModel::Block, mb);
        b.advance(100); // block 1: 20,440 B from 0
        // 50 bytes of header, a 300,000-byte value, 2 bytes: the value fills block 1's free
        // 20,290 bytes after the header, then blocks sized to what is left (capped at 64 KiB
        // by the 1 MB backlog: 81,880 B each), and the last one to its remainder.
        b.append_laid_out(300_052, &[(50, 300_000)], ());
        let sizes: Vec<u64> = b.blocks.iter().map(|x| x.1).collect();
        let left = 300_000 - (BLOCK_BYTES - 150);
        assert_eq!(sizes[0], BLOCK_BYTES);
        assert_eq!(&sizes[1..4], &[81_880, 81_880, 81_880]);
        let last = left - 3 * 81_880;
        assert_eq!(sizes[4], block_bytes_for(last, mb));
        assert_eq!(
            sizes.len(),
            5,
            "the 2-byte tail fits the last block: {sizes:?}"
        );
        let starts: Vec<u64> = b.blocks.iter().map(|x| x.0).collect();
        assert_eq!(starts[1], BLOCK_BYTES);
        assert_eq!(b.end(), 300_152);
    }
}
