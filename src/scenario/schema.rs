//! `geosim schema`: a JSON Schema (draft 2020-12) of the scenario format, for editors (e.g.
//! the Even Better TOML extension's `$schema` support) and for checking files before a run.
//!
//! It is generated (with `schemars`) from the very types the loader deserializes
//! ([`super::raw`]), so it names exactly the fields the loader accepts; their doc comments
//! are the descriptions, and their attributes give units as patterns (durations may not be
//! negative except a clock offset or step), counts their bounds, choices their names (from
//! [`super::spelling`], which `validate` reads too) and required fields. Rules across fields (a
//! fault's `end` or `duration`, cluster limits, backlog bounds) stay with `geosim validate`,
//! whose messages name the field.

use schemars::{Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde_json::Value;

use super::raw::RawScenario;
use super::spelling;

/// A non-negative duration with its unit (`0` alone is allowed).
pub(crate) const DURATION: &str = r"^[0-9][0-9_]*(\.[0-9]+)?\s*(ns|us|µs|ms|s|m|h|d)$|^0$";
/// A duration that may be negative (a clock offset or step).
pub(crate) const SIGNED_DURATION: &str =
    r"^-?[0-9][0-9_]*(\.[0-9]+)?\s*(ns|us|µs|ms|s|m|h|d)$|^-?0$";
pub(crate) const SIZE: &str = r"^[0-9][0-9_]*(\.[0-9]+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)$";
pub(crate) const BANDWIDTH: &str =
    r"^[0-9][0-9_]*(\.[0-9]+)?\s*(bit/s|kbit/s|Mbit/s|Gbit/s|Tbit/s|B/s|KB/s|MB/s|GB/s|TB/s)$";
pub(crate) const RATE: &str = r"^[0-9][0-9_]*(\.[0-9]+)?\s*[kM]?/s$";

/// A count, or a `{ min, max }` range.
pub(crate) fn count_range(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"oneOf": [
        {"type": "integer", "minimum": 0},
        {"type": "object", "additionalProperties": false,
         "properties": {"min": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 0}}}
    ]})
}

/// A latency: a duration, or a distribution table with the fields its `dist` takes.
pub(crate) fn latency(_: &mut SchemaGenerator) -> Schema {
    let d = json_schema!({"type": "string", "pattern": DURATION});
    json_schema!({"oneOf": [
        d.clone(),
        {"type": "object", "required": ["dist"], "additionalProperties": false,
         "properties": {
            "dist": {"enum": spelling::LATENCY_DISTS},
            "value": d.clone(), "min": d.clone(), "max": d.clone(), "mean": d.clone(),
            "stddev": d.clone(), "median": d.clone(), "scale": d.clone(),
            "sigma": {"type": "number", "minimum": 0},
            "shape": {"type": "number", "exclusiveMinimum": 0}
         }}
    ]})
}

/// A size, or a size distribution table.
pub(crate) fn size_dist(_: &mut SchemaGenerator) -> Schema {
    let d = json_schema!({"type": "string", "pattern": SIZE});
    json_schema!({"oneOf": [
        d.clone(),
        {"type": "object", "required": ["dist"], "additionalProperties": false,
         "properties": {
            "dist": {"enum": ["fixed", "uniform", "lognormal", "histogram"]},
            "value": d.clone(), "min": d.clone(), "max": d.clone(), "median": d.clone(),
            "sigma": {"type": "number", "minimum": 0},
            "sizes": {"type": "array", "items": d.clone(), "minItems": 1},
            "weights": {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1},
            "file": {"type": "string"}
         }}
    ]})
}

/// A backlog size, or `"auto"`.
pub(crate) fn size_or_auto(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "anyOf": [{"pattern": SIZE}, {"const": "auto"}]})
}

/// A rate, or `"unlimited"`.
pub(crate) fn throughput(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "anyOf": [{"pattern": RATE}, {"const": "unlimited"}]})
}

/// `"all"`, or two or more cluster names.
pub(crate) fn sync_group(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"anyOf": [{"const": "all"},
        {"type": "array", "items": {"type": "string"}, "minItems": 2}]})
}

/// An expected reply: a string, an integer, or a list of them (nested lists, and
/// `{ nil = true }` for a null inside a list).
pub(crate) fn expected_reply(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"anyOf": [{"type": "string"}, {"type": "integer"},
        {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"},
            {"type": "array"},
            {"type": "object", "properties": {"nil": {"const": true}},
             "required": ["nil"], "additionalProperties": false}]}}]})
}

/// The schema of the scenario format.
pub(crate) fn schema() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    // One self-contained document: editors show each table's fields in place.
    settings.inline_subschemas = true;
    let schema = settings
        .into_generator()
        .into_root_schema_for::<RawScenario>();
    let mut v = schema.to_value();
    without_null(&mut v);
    v
}

/// TOML has no null: an absent field is how a value is left out, so the `null` that
/// `Option` adds to a field's type is removed.
fn without_null(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.get("default") == Some(&Value::Null) {
                o.remove("default");
            }
            if let Some(Value::Array(types)) = o.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    o.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any)) = o.get("anyOf") {
                let rest: Vec<Value> = any
                    .iter()
                    .filter(|s| s.get("type") != Some(&Value::from("null")))
                    .cloned()
                    .collect();
                if rest.len() == 1 && rest.len() < any.len() {
                    o.remove("anyOf");
                    if let Value::Object(inner) = &rest[0] {
                        for (k, x) in inner {
                            o.entry(k.clone()).or_insert_with(|| x.clone());
                        }
                    }
                }
            }
            o.values_mut().for_each(without_null);
        }
        Value::Array(a) => a.iter_mut().for_each(without_null),
        _ => {}
    }
}

pub(crate) fn schema_json() -> String {
    serde_json::to_string_pretty(&schema()).expect("the schema serialises")
}

#[cfg(test)]
mod tests;
