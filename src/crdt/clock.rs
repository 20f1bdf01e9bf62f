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

/// A vector clock. Missing entries are zero; equality and [`VClock::entries`] ignore trailing
/// zeros, so a clock's representation never depends on how it was built.
#[derive(Clone, Default)]
pub struct VClock(Vec<u64>);

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
        let (a, b) = (&self.0, &other.0);
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
    pub fn new(instances: usize) -> Self {
        VClock(vec![0; instances])
    }

    pub fn get(&self, i: InstanceId) -> u64 {
        self.0.get(i.index()).copied().unwrap_or(0)
    }

    pub fn set(&mut self, i: InstanceId, seq: u64) {
        if self.0.len() <= i.index() {
            self.0.resize(i.index() + 1, 0);
        }
        self.0[i.index()] = seq;
    }

    /// Whether the op `dot` is already reflected in this clock.
    pub fn covers(&self, dot: Dot) -> bool {
        self.get(dot.origin) >= dot.seq
    }

    /// Pointwise maximum.
    pub fn join(&mut self, other: &VClock) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a = (*a).max(*b);
        }
    }

    /// `Some(Less)` if `self` happened before `other`, `Some(Equal)` if equal, `None` if
    /// concurrent.
    pub fn partial_cmp_causal(&self, other: &VClock) -> Option<Ordering> {
        let n = self.0.len().max(other.0.len());
        let (mut le, mut ge) = (true, true);
        for i in 0..n {
            let a = self.0.get(i).copied().unwrap_or(0);
            let b = other.0.get(i).copied().unwrap_or(0);
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
        let end = self.0.iter().rposition(|x| *x != 0).map_or(0, |i| i + 1);
        &self.0[..end]
    }
}

impl fmt::Display for VClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, v) in self.0.iter().enumerate() {
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
        VClock(v.to_vec())
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
