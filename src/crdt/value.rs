//! String values.

use std::fmt;

use crate::engine::Digest;

/// A string value. Generated workloads use `Synthetic` values so that a 1 KB value costs a
/// few bytes of memory: its content is defined as the 16 hex digits of `tag` repeated to
/// `len` bytes, and it is never an integer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    Bytes(Box<[u8]>),
    Synthetic { len: u32, tag: u64 },
}

impl Value {
    pub fn from_str_bytes(s: &str) -> Self {
        Value::Bytes(s.as_bytes().into())
    }

    pub fn from_i64(n: i64) -> Self {
        Value::Bytes(n.to_string().into_bytes().into_boxed_slice())
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Value::Bytes(b) => b.len(),
            Value::Synthetic { len, .. } => *len as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as a Redis integer, if it is one (decimal, optional `-`, no leading `+`,
    /// no leading zeros, no spaces), as `INCR` requires.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Bytes(b) => parse_redis_int(b),
            Value::Synthetic { .. } => None,
        }
    }

    /// The value as a Redis float (`INCRBYFLOAT` accepts integers and decimals, with an
    /// optional exponent; no spaces, no NaN).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Bytes(b) => parse_redis_float(b),
            Value::Synthetic { .. } => None,
        }
    }

    /// The bytes, borrowed when they are stored as such (keys always are).
    pub fn bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Value::Bytes(b) => std::borrow::Cow::Borrowed(b),
            Value::Synthetic { .. } => std::borrow::Cow::Owned(self.to_bytes()),
        }
    }

    /// The materialised bytes (for replies and display).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => b.to_vec(),
            Value::Synthetic { len, tag } => {
                let pattern = format!("{tag:016x}");
                pattern.bytes().cycle().take(*len as usize).collect()
            }
        }
    }

    /// Folds a canonical encoding: a synthetic value hashes like its materialised bytes
    /// would not (it is cheaper), so the two forms never compare equal by digest; a value is
    /// only ever compared with values produced the same way.
    pub fn digest(&self, d: &mut Digest) {
        match self {
            Value::Bytes(b) => {
                d.word(0).bytes(b);
            }
            Value::Synthetic { len, tag } => {
                d.word(1).word(*len as u64).word(*tag);
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bytes(b) => write!(f, "{}", String::from_utf8_lossy(b)),
            Value::Synthetic { len, tag } => write!(f, "<{len} bytes #{tag:016x}>"),
        }
    }
}

/// Parses a Redis integer the way `string2ll` does: optional `-`, digits, no leading zeros
/// (except "0" itself), fits in i64.
pub fn parse_redis_int(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return None;
    }
    if neg && digits == b"0" {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    s.parse::<i64>().ok()
}

/// Parses a float the way Redis's `string2ld` accepts one: the whole string, no spaces,
/// finite or `inf`, never NaN.
pub fn parse_redis_float(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.len() > 5000 || s.trim() != s {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let x = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            if !s
                .bytes()
                .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'))
            {
                return None;
            }
            s.parse::<f64>().ok()?
        }
    };
    (!x.is_nan()).then_some(x)
}

/// Formats a float for a reply: integral values below 10^17 without a decimal point (as Redis
/// prints `INCRBYFLOAT` results and scores), others in the shortest form that reads back to
/// the same double. Redis computes `INCRBYFLOAT` in long double, so a last digit can differ
/// (documented in `docs/semantics.md`).
pub fn format_float(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == x.trunc() && x.abs() < 1e17 {
        return format!("{}", x as i64);
    }
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_integers_parse_strictly() {
        assert_eq!(parse_redis_int(b"7"), Some(7));
        assert_eq!(parse_redis_int(b"-12"), Some(-12));
        assert_eq!(parse_redis_int(b"0"), Some(0));
        assert_eq!(parse_redis_int(b"007"), None);
        assert_eq!(parse_redis_int(b"+7"), None);
        assert_eq!(parse_redis_int(b" 7"), None);
        assert_eq!(parse_redis_int(b"-0"), None);
        assert_eq!(parse_redis_int(b"9223372036854775808"), None);
        assert_eq!(parse_redis_int(b"abc"), None);
    }

    #[test]
    fn floats_parse_and_format_like_redis() {
        assert_eq!(parse_redis_float(b"10.5"), Some(10.5));
        assert_eq!(parse_redis_float(b"5.0e3"), Some(5000.0));
        assert_eq!(parse_redis_float(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_redis_float(b"nan"), None);
        assert_eq!(parse_redis_float(b" 1"), None);
        assert_eq!(parse_redis_float(b"abc"), None);
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(3.1), "3.1");
        assert_eq!(format_float(-0.5), "-0.5");
        assert_eq!(format_float(f64::INFINITY), "inf");
    }

    #[test]
    fn synthetic_values_materialise_to_their_length() {
        let v = Value::Synthetic { len: 20, tag: 0xab };
        assert_eq!(v.to_bytes().len(), 20);
        assert_eq!(v.as_i64(), None);
    }
}
