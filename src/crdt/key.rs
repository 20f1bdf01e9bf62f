//! Keys: up to 22 bytes inline (the generated workload's 16-byte keys and most real ones), so
//! comparing a key in a hash-table probe reads no other cache line; longer keys on the heap.
//! A key hashes, compares and orders exactly as its bytes do.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

const INLINE: usize = 22;

#[derive(Clone)]
pub enum Key {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, buf } => &buf[..*len as usize],
            Key::Heap(b) => b,
        }
    }
}

impl From<&[u8]> for Key {
    fn from(b: &[u8]) -> Key {
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            Key::Inline {
                len: b.len() as u8,
                buf,
            }
        } else {
            Key::Heap(b.into())
        }
    }
}

impl From<Box<[u8]>> for Key {
    fn from(b: Box<[u8]>) -> Key {
        if b.len() <= INLINE {
            Key::from(&b[..])
        } else {
            Key::Heap(b)
        }
    }
}

impl From<Vec<u8>> for Key {
    fn from(v: Vec<u8>) -> Key {
        Key::from(v.into_boxed_slice())
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Key {
        Key::from(s.as_bytes())
    }
}

impl From<Key> for Box<[u8]> {
    fn from(k: Key) -> Box<[u8]> {
        match k {
            Key::Heap(b) => b,
            k => k.as_bytes().into(),
        }
    }
}

impl Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        match (self, other) {
            // The buffer past `len` is always zero (see `From<&[u8]>`), so comparing whole
            // fixed-size buffers is exact, and compiles to a few word compares instead of a
            // call to memcmp on every hash probe.
            (Key::Inline { len: a, buf: x }, Key::Inline { len: b, buf: y }) => a == b && x == y,
            _ => self.as_bytes() == other.as_bytes(),
        }
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn keys_behave_as_their_bytes() {
        let short = Key::from(&b"key:000000000001"[..]);
        let long = Key::from(&b"a key longer than twenty-two bytes"[..]);
        assert!(matches!(short, Key::Inline { .. }) && matches!(long, Key::Heap(_)));
        assert_eq!(&*short, b"key:000000000001");
        assert_eq!(&*long, b"a key longer than twenty-two bytes");
        let mut m: HashMap<Key, u32, crate::engine::fxhash::FxBuild> = HashMap::default();
        m.insert(short.clone(), 1);
        m.insert(long.clone(), 2);
        assert_eq!(m.get(&b"key:000000000001"[..]), Some(&1));
        assert_eq!(m.get(&b"a key longer than twenty-two bytes"[..]), Some(&2));
        assert!(long < short && Key::from("") < Key::from("\0"));
        assert_eq!(
            Box::<[u8]>::from(short),
            Box::from(&b"key:000000000001"[..])
        );
    }
}
