//! Instance ids, dots and vector clocks.
//!
//! Causality is tracked **per key**: every instance numbers its own writes to a key 1, 2, 3…
//! (the dot), and a key's vector clock at an instance holds, for each origin, the highest
//! sequence number of that origin's ops on the key it has applied. An origin's ops on one key
//! all travel through the one shard that owns the key, in order, so this vector is always a
//! contiguous prefix per origin. An op whose dot is already covered is a duplicate.

use std::cmp::Ordering;
use std::fmt;

/// The id of a participating cluster's instance: 0-based internally, shown 1-based (`I1`)
/// as in the Redis documentation's examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub u8);

impl InstanceId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "I{}", self.0 as u32 + 1)
    }
}

/// One op's identity: its origin and its per-key sequence number there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dot {
    pub origin: InstanceId,
    pub seq: u64,
}

/// Clocks of up to this many instances are stored inline (no heap allocation, and no pointer
/// to chase: an entry's clocks sit in the entry itself). Three covers the common two- and
/// three-region databases and the reference benchmark; four would make every clock 8 bytes
/// bigger than a `Vec` and cost memory on the keys of smaller databases (measured: +2.5 %
/// peak on the reference workload with four, −3 % with three).
const INLINE: usize = 3;

/// A vector clock. Missing entries are zero; equality and [`VClock::entries`] ignore trailing
/// zeros, so a clock's representation never depends on how it was built.
#[derive(Clone)]
pub struct VClock(Repr);

#[derive(Clone)]
enum Repr {
    Inline([u64; INLINE]),
    Heap(Vec<u64>),
}

impl Default for VClock {
    fn default() -> Self {
        VClock(Repr::Inline([0; INLINE]))
    }
}

impl fmt::Debug for VClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VClock{:?}", self.entries())
    }
}

impl PartialEq for VClock {
    fn eq(&self, other: &Self) -> bool {
        // Equal on the common length, and zeros beyond it (trailing zeros do not count). An
        // element loop, not a slice comparison: clocks hold a handful of entries, too few
        // for a call to memcmp to pay.
        let (a, b) = (self.raw(), other.raw());
        let n = a.len().min(b.len());
        a.iter().zip(b).all(|(x, y)| x == y)
            && a[n..].iter().all(|x| *x == 0)
            && b[n..].iter().all(|x| *x == 0)
    }
}

impl Eq for VClock {}

impl std::hash::Hash for VClock {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.entries().hash(state);
    }
}

impl VClock {
    /// The zero clock (what [`VClock::default`] gives), usable in constants.
    pub const EMPTY: VClock = VClock(Repr::Inline([0; INLINE]));

    pub fn new(instances: usize) -> Self {
        if instances <= INLINE {
            VClock::default()
        } else {
            VClock(Repr::Heap(vec![0; instances]))
        }
    }

    /// Every stored entry, trailing zeros included.
    fn raw(&self) -> &[u64] {
        match &self.0 {
            Repr::Inline(a) => a,
            Repr::Heap(v) => v,
        }
    }

    /// Room for at least `n` entries, then every stored entry.
    fn raw_mut(&mut self, n: usize) -> &mut [u64] {
        if n > self.raw().len() {
            let mut v = self.raw().to_vec();
            v.resize(n, 0);
            self.0 = Repr::Heap(v);
        }
        match &mut self.0 {
            Repr::Inline(a) => a,
            Repr::Heap(v) => v,
        }
    }

    pub fn get(&self, i: InstanceId) -> u64 {
        self.raw().get(i.index()).copied().unwrap_or(0)
    }

    pub fn set(&mut self, i: InstanceId, seq: u64) {
        self.raw_mut(i.index() + 1)[i.index()] = seq;
    }

    /// Whether the op `dot` is already reflected in this clock.
    pub fn covers(&self, dot: Dot) -> bool {
        self.get(dot.origin) >= dot.seq
    }

    /// Whether every entry is at least `other`'s: this clock has seen everything `other` had.
    pub fn dominates(&self, other: &VClock) -> bool {
        other
            .entries()
            .iter()
            .enumerate()
            .all(|(i, b)| self.raw().get(i).copied().unwrap_or(0) >= *b)
    }

    /// Pointwise maximum.
    pub fn join(&mut self, other: &VClock) {
        let theirs = other.entries();
        for (a, b) in self.raw_mut(theirs.len()).iter_mut().zip(theirs) {
            *a = (*a).max(*b);
        }
    }

    /// `Some(Less)` if `self` happened before `other`, `Some(Equal)` if equal, `None` if
    /// concurrent.
    pub fn partial_cmp_causal(&self, other: &VClock) -> Option<Ordering> {
        let (x, y) = (self.raw(), other.raw());
        let n = x.len().max(y.len());
        let (mut le, mut ge) = (true, true);
        for i in 0..n {
            let a = x.get(i).copied().unwrap_or(0);
            let b = y.get(i).copied().unwrap_or(0);
            le &= a <= b;
            ge &= a >= b;
        }
        match (le, ge) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            (false, false) => None,
        }
    }

    /// The entries up to the last non-zero one.
    pub fn entries(&self) -> &[u64] {
        let raw = self.raw();
        let end = raw.iter().rposition(|x| *x != 0).map_or(0, |i| i + 1);
        &raw[..end]
    }

    /// A clock with these entries (tests and tools).
    pub fn from_entries(v: &[u64]) -> VClock {
        let mut c = VClock::new(v.len());
        c.raw_mut(v.len())[..v.len()].copy_from_slice(v);
        c
    }
}

impl fmt::Display for VClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, v) in self.entries().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{v}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vc(v: &[u64]) -> VClock {
        VClock::from_entries(v)
    }

    #[test]
    fn causal_comparison_detects_concurrency() {
        assert_eq!(
            vc(&[1, 0]).partial_cmp_causal(&vc(&[1, 1])),
            Some(Ordering::Less)
        );
        assert_eq!(vc(&[2, 0]).partial_cmp_causal(&vc(&[1, 1])), None);
        assert_eq!(
            vc(&[1, 1]).partial_cmp_causal(&vc(&[1, 1])),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn inline_and_heap_clocks_behave_alike() {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = |c: &VClock| BuildHasherDefault::<DefaultHasher>::default().hash_one(c);
        // Built inline and grown past the inline size, or made on the heap from the start.
        let mut grown = VClock::new(2);
        grown.set(InstanceId(0), 1);
        grown.set(InstanceId(6), 2);
        let mut heap = VClock::new(9);
        heap.set(InstanceId(6), 2);
        heap.set(InstanceId(0), 1);
        assert_eq!(grown, heap);
        assert_eq!(hash(&grown), hash(&heap));
        assert_eq!(grown.entries(), &[1, 0, 0, 0, 0, 0, 2]);
        // Trailing zeros never count, whatever the storage.
        let mut a = VClock::new(8);
        a.set(InstanceId(1), 5);
        assert_eq!(a, vc(&[0, 5]));
        assert_eq!(hash(&a), hash(&vc(&[0, 5])));
        assert_ne!(a, vc(&[0, 5, 1]));
        // Joining a longer clock into an inline one grows it.
        let mut small = vc(&[4, 1]);
        small.join(&vc(&[0, 2, 0, 0, 7]));
        assert_eq!(small, vc(&[4, 2, 0, 0, 7]));
        assert_eq!(
            small.partial_cmp_causal(&vc(&[4, 2, 0, 0, 7, 0])),
            Some(Ordering::Equal)
        );
        assert_eq!(VClock::default(), VClock::new(12));
    }

    #[test]
    fn covers_and_join() {
        let mut a = vc(&[3, 0, 1]);
        assert!(a.covers(Dot {
            origin: InstanceId(0),
            seq: 3
        }));
        assert!(!a.covers(Dot {
            origin: InstanceId(1),
            seq: 1
        }));
        a.join(&vc(&[1, 4, 1]));
        assert_eq!(a, vc(&[3, 4, 1]));
    }
}
