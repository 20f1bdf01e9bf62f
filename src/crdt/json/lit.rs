//! JSON values as written and read: a literal tree that keeps object members in the order
//! they were written (RedisJSON keeps insertion order), parsed by `serde_json` and written
//! out the way RedisJSON writes them (compact, `serde_json`'s escapes and number forms).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    /// An integer that fits 64 signed bits (RedisJSON's `integer`).
    Int(i64),
    /// Any other number (RedisJSON's `number`), always finite.
    Float(f64),
    Str(String),
    Array(Vec<Lit>),
    /// Members in the order they were written.
    Object(Vec<(String, Lit)>),
}

impl Lit {
    /// Parses a JSON text; the error is `serde_json`'s message, as RedisJSON replies it.
    pub fn parse(text: &str) -> Result<Lit, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// The compact JSON text RedisJSON replies.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    pub fn write_json(&self, out: &mut String) {
        match self {
            Lit::Null => out.push_str("null"),
            Lit::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Lit::Int(n) => out.push_str(&n.to_string()),
            Lit::Float(x) => out.push_str(&float_json(*x)),
            Lit::Str(s) => out.push_str(&string_json(s)),
            Lit::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out);
                }
                out.push(']');
            }
            Lit::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&string_json(k));
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }

    /// The number of nodes in the tree (each value, container or not, is one).
    pub fn nodes(&self) -> u32 {
        1 + match self {
            Lit::Array(items) => items.iter().map(Lit::nodes).sum(),
            Lit::Object(members) => members.iter().map(|(_, v)| v.nodes()).sum(),
            _ => 0,
        }
    }

    /// What `JSON.TYPE` replies.
    pub fn type_name(&self) -> &'static str {
        match self {
            Lit::Null => "null",
            Lit::Bool(_) => "boolean",
            Lit::Int(_) => "integer",
            Lit::Float(_) => "number",
            Lit::Str(_) => "string",
            Lit::Array(_) => "array",
            Lit::Object(_) => "object",
        }
    }

    /// Estimated bytes of the value's content.
    pub fn content_bytes(&self) -> u64 {
        match self {
            Lit::Str(s) => s.len() as u64,
            Lit::Array(items) => items.iter().map(Lit::content_bytes).sum(),
            Lit::Object(members) => members
                .iter()
                .map(|(k, v)| k.len() as u64 + v.content_bytes())
                .sum(),
            _ => 8,
        }
    }
}

impl fmt::Display for Lit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

/// A float as `serde_json` writes it (`3.0`, `1e20`).
pub fn float_json(x: f64) -> String {
    serde_json::to_string(&x).unwrap_or_else(|_| "null".into())
}

/// A string with `serde_json`'s quoting and escapes.
pub fn string_json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

impl<'de> Deserialize<'de> for Lit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Lit, D::Error> {
        d.deserialize_any(LitVisitor)
    }
}

struct LitVisitor;

impl<'de> Visitor<'de> for LitVisitor {
    type Value = Lit;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Lit, E> {
        Ok(Lit::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Lit, E> {
        Ok(Lit::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Lit, E> {
        Ok(Lit::Int(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Lit, E> {
        // Above i64::MAX RedisJSON keeps an unsigned integer; geosim keeps a float \[DEV\].
        Ok(i64::try_from(n).map_or(Lit::Float(n as f64), Lit::Int))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Lit, E> {
        Ok(Lit::Float(x))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Lit, E> {
        Ok(Lit::Str(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Lit, E> {
        Ok(Lit::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lit, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Lit::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lit, A::Error> {
        let mut members: Vec<(String, Lit)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Lit>()? {
            // A repeated name keeps its first place and takes the last value.
            match members.iter_mut().find(|(name, _)| *name == k) {
                Some(m) => m.1 = v,
                None => members.push((k, v)),
            }
        }
        Ok(Lit::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_their_written_order_and_numbers_their_kind() {
        let v = Lit::parse(r#" {"b": 1, "a": [2.0, -3, "x\"y", null, true], "c": {}} "#).unwrap();
        assert_eq!(
            v.to_json(),
            r#"{"b":1,"a":[2.0,-3,"x\"y",null,true],"c":{}}"#
        );
        assert_eq!(v.nodes(), 9);
        assert_eq!(Lit::parse("1e20").unwrap().to_json(), "1e+20");
        assert_eq!(
            Lit::parse("18446744073709551615").unwrap().type_name(),
            "number"
        );
    }

    #[test]
    fn bad_json_gets_serde_jsons_message() {
        assert_eq!(
            Lit::parse("{'a':1}").unwrap_err(),
            "key must be a string at line 1 column 2"
        );
        assert_eq!(
            Lit::parse("abc").unwrap_err(),
            "expected value at line 1 column 1"
        );
    }
}
