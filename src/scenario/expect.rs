//! Expectations a scripted scenario states about command replies.

use crate::redis::Reply;

/// An expected reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// `expect = 10`: an integer reply.
    Int(i64),
    /// `expect = "b"`: a bulk string or a status (`OK`, a type name).
    Str(String),
    /// `expect = ["a", "b"]`: an array (nested arrays allowed).
    Array(Vec<Expected>),
    /// `expect_nil = true`.
    Nil,
    /// `expect_error = "WRONGTYPE"`: an error starting with this text.
    Error(String),
}

/// An expectation on the reply of step `step`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub step: usize,
    pub expected: Expected,
    /// Compare a top-level array as a multiset.
    pub unordered: bool,
}

impl Expected {
    /// Converts the TOML value of `expect`; `Err` says what is valid.
    pub(crate) fn from_toml(v: &toml::Value) -> Result<Expected, String> {
        match v {
            toml::Value::Integer(i) => Ok(Expected::Int(*i)),
            toml::Value::String(s) => Ok(Expected::Str(s.clone())),
            toml::Value::Array(items) => items
                .iter()
                .map(Expected::from_toml)
                .collect::<Result<Vec<_>, _>>()
                .map(Expected::Array),
            // A null inside an array (TOML has no null): `{ nil = true }`.
            toml::Value::Table(t)
                if t.len() == 1 && t.get("nil") == Some(&toml::Value::Boolean(true)) =>
            {
                Ok(Expected::Nil)
            }
            other => Err(format!(
                "{other} is not a reply; expected an integer (integer reply), a string (bulk string or status), {{ nil = true }} (a null) or an array of those"
            )),
        }
    }

    /// Whether `reply` matches.
    pub(crate) fn matches(&self, reply: &Reply, unordered: bool) -> bool {
        match (self, reply) {
            (Expected::Int(a), Reply::Int(b)) => a == b,
            (Expected::Str(a), Reply::Bulk(b)) => a.as_bytes() == &b[..],
            (Expected::Str(a), Reply::Status(b)) => a == b,
            (Expected::Nil, Reply::Nil | Reply::NilArray) => true,
            (Expected::Error(p), Reply::Error(e)) => e.starts_with(p.as_str()),
            (Expected::Array(a), Reply::Array(b)) => {
                if a.len() != b.len() {
                    return false;
                }
                if !unordered {
                    return a.iter().zip(b).all(|(x, y)| x.matches(y, false));
                }
                let mut used = vec![false; b.len()];
                a.iter().all(|x| {
                    let hit = (0..b.len()).find(|i| !used[*i] && x.matches(&b[*i], false));
                    if let Some(i) = hit {
                        used[i] = true;
                    }
                    hit.is_some()
                })
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Expected {
    /// Formats like the reply it expects (`redis-cli` style).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = match self {
            Expected::Int(i) => Reply::Int(*i),
            Expected::Str(s) => Reply::Bulk(s.as_bytes().to_vec()),
            Expected::Nil => Reply::Nil,
            Expected::Error(p) => return write!(f, "(error) {p}…"),
            Expected::Array(_) => return write!(f, "{}", self.as_reply()),
        };
        write!(f, "{r}")
    }
}

impl Expected {
    fn as_reply(&self) -> Reply {
        match self {
            Expected::Int(i) => Reply::Int(*i),
            Expected::Str(s) => Reply::Bulk(s.as_bytes().to_vec()),
            Expected::Nil => Reply::Nil,
            Expected::Error(p) => Reply::Error(format!("{p}…")),
            Expected::Array(items) => Reply::Array(items.iter().map(|i| i.as_reply()).collect()),
        }
    }
}

/// A count that must be exact (`3`) or within bounds (`{ min = 1, max = 4 }`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountRange {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

impl CountRange {
    pub(crate) fn from_toml(v: &toml::Value) -> Result<CountRange, String> {
        let bad = || "expected a count (3) or a range ({ min = 1, max = 4 })".to_string();
        match v {
            toml::Value::Integer(i) if *i >= 0 => Ok(CountRange {
                min: Some(*i as u64),
                max: Some(*i as u64),
            }),
            toml::Value::Table(t) => {
                let mut r = CountRange::default();
                for (k, x) in t {
                    let n = x.as_integer().filter(|n| *n >= 0).ok_or_else(bad)? as u64;
                    match k.as_str() {
                        "min" => r.min = Some(n),
                        "max" => r.max = Some(n),
                        _ => return Err(bad()),
                    }
                }
                if r.min.is_none() && r.max.is_none() {
                    return Err(bad());
                }
                Ok(r)
            }
            _ => Err(bad()),
        }
    }

    pub(crate) fn contains(&self, n: u64) -> bool {
        self.min.is_none_or(|m| n >= m) && self.max.is_none_or(|m| n <= m)
    }
}

impl std::fmt::Display for CountRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => write!(f, "{a}"),
            (Some(a), Some(b)) => write!(f, "{a} to {b}"),
            (Some(a), None) => write!(f, "at least {a}"),
            (None, Some(b)) => write!(f, "at most {b}"),
            (None, None) => write!(f, "any"),
        }
    }
}

/// Expected outcomes of a whole run (`[expect]`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcomes {
    pub converges: Option<bool>,
    pub converge_within: Option<crate::engine::SimDuration>,
    pub full_syncs: Option<CountRange>,
    pub partial_syncs: Option<CountRange>,
    pub full_sync_loop: Option<bool>,
    pub clock_inverted_wins_min: Option<u64>,
    pub lag_ms_p99_max: Option<f64>,
    pub lag_ms_p99_min: Option<f64>,
    pub lost_writes: Option<CountRange>,
    pub lost_to_removal: Option<CountRange>,
    /// The trace digest pinned for the file's own seed: (16 hex digits, that seed).
    pub digest: Option<(String, u64)>,
}

impl Outcomes {
    pub fn is_empty(&self) -> bool {
        *self == Outcomes::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_match_by_kind_and_order() {
        let arr = Reply::Array(vec![Reply::bulk("a"), Reply::bulk("b")]);
        let ab = Expected::Array(vec![Expected::Str("a".into()), Expected::Str("b".into())]);
        let ba = Expected::Array(vec![Expected::Str("b".into()), Expected::Str("a".into())]);
        assert!(ab.matches(&arr, false));
        assert!(!ba.matches(&arr, false));
        assert!(ba.matches(&arr, true));
        assert!(Expected::Int(3).matches(&Reply::Int(3), false));
        assert!(!Expected::Int(3).matches(&Reply::bulk("3"), false));
        assert!(Expected::Str("OK".into()).matches(&Reply::ok(), false));
        assert!(Expected::Error("WRONGTYPE".into()).matches(&Reply::wrongtype(), false));
        assert!(Expected::Nil.matches(&Reply::Nil, false));
    }
}
