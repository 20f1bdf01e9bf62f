//! `geosim schema`: a JSON Schema (draft 2020-12) of the scenario format, for editors (e.g.
//! the Even Better TOML extension's `$schema` support) and for checking files before a run.
//! It describes shapes, units (as patterns) and enumerations; rules across fields (a fault's
//! `end` or `duration`, cluster limits, backlog bounds) stay with `geosim validate`, whose
//! messages name the field. A test keeps its property names equal to what the loader accepts.

use serde_json::{Map, Value, json};

const DURATION: &str = r"^-?[0-9][0-9_]*(\.[0-9]+)?\s*(ns|us|µs|ms|s|m|h|d)$|^0$";
const SIZE: &str = r"^[0-9][0-9_]*(\.[0-9]+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)$";
const BANDWIDTH: &str =
    r"^[0-9][0-9_]*(\.[0-9]+)?\s*(bit/s|kbit/s|Mbit/s|Gbit/s|Tbit/s|B/s|KB/s|MB/s|GB/s|TB/s)$";
const RATE: &str = r"^[0-9][0-9_]*(\.[0-9]+)?\s*[kM]?/s$";

fn duration(d: &str) -> Value {
    json!({"type": "string", "pattern": DURATION, "description": d})
}
fn size(d: &str) -> Value {
    json!({"type": "string", "pattern": SIZE, "description": d})
}
fn bandwidth(d: &str) -> Value {
    json!({"type": "string", "pattern": BANDWIDTH, "description": d})
}
fn rate(d: &str) -> Value {
    json!({"type": "string", "pattern": RATE, "description": d})
}
fn one_of(values: &[&str], d: &str) -> Value {
    json!({"type": "string", "enum": values, "description": d})
}
fn int(min: u64, d: &str) -> Value {
    json!({"type": "integer", "minimum": min, "description": d})
}
fn number(d: &str) -> Value {
    json!({"type": "number", "description": d})
}
fn boolean(d: &str) -> Value {
    json!({"type": "boolean", "description": d})
}
fn string(d: &str) -> Value {
    json!({"type": "string", "description": d})
}
fn names(d: &str) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": d})
}
/// A count, or a `{ min, max }` range.
fn count_range(d: &str) -> Value {
    json!({"description": d, "oneOf": [
        {"type": "integer", "minimum": 0},
        {"type": "object", "additionalProperties": false,
         "properties": {"min": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 0}}}
    ]})
}
/// A latency: a duration, or a distribution table.
fn latency(d: &str) -> Value {
    json!({"description": d, "oneOf": [
        {"type": "string", "pattern": DURATION},
        {"type": "object", "required": ["dist"], "additionalProperties": false,
         "properties": {
            "dist": {"enum": ["constant", "uniform", "normal", "lognormal", "pareto"]},
            "value": {"type": "string", "pattern": DURATION},
            "min": {"type": "string", "pattern": DURATION},
            "max": {"type": "string", "pattern": DURATION},
            "mean": {"type": "string", "pattern": DURATION},
            "stddev": {"type": "string", "pattern": DURATION},
            "median": {"type": "string", "pattern": DURATION},
            "sigma": {"type": "number"},
            "scale": {"type": "string", "pattern": DURATION},
            "shape": {"type": "number"}
         }}
    ]})
}

fn table(d: &str, props: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in props {
        m.insert(k.to_string(), v);
    }
    json!({"type": "object", "description": d, "additionalProperties": false, "properties": m})
}

fn array_of(d: &str, item: Value) -> Value {
    json!({"type": "array", "description": d, "items": item})
}

/// The schema as a JSON value.
pub fn schema() -> Value {
    let run = table(
        "[run]: seed, length and limits of the run",
        vec![
            ("seed", int(0, "the master seed")),
            ("duration", duration("simulated time of client writes")),
            (
                "converge_deadline",
                duration("how long after `duration` the instances have to converge"),
            ),
            ("max_events", int(1, "stop after this many events")),
            (
                "sample_interval",
                duration("how often metrics are sampled (0: never)"),
            ),
        ],
    );
    let whatif = table(
        "[whatif]: switches past documented Redis limits",
        vec![
            (
                "allow_more_clusters",
                boolean("allow 6 to 32 participating clusters"),
            ),
            (
                "allow_any_backlog_size",
                boolean("allow a backlog outside 1MB to 250MB"),
            ),
            (
                "allow_huge_runs",
                boolean("skip the memory and event guards"),
            ),
        ],
    );
    let cluster = table(
        "[[cluster]]: one participating cluster",
        vec![
            (
                "name",
                string("unique name, letters, digits, '-', '_' or '.'"),
            ),
            ("shards", int(1, "primary shards")),
            ("nodes", int(1, "nodes the shards are placed on")),
            ("replication", boolean("replica shards")),
            (
                "proxy_policy",
                one_of(
                    &["single", "all-master-shards", "all-nodes"],
                    "proxy endpoints",
                ),
            ),
            (
                "syncer_mode",
                one_of(&["centralized", "distributed"], "syncer layout"),
            ),
            ("memory_limit", size("the instance's memory limit")),
            (
                "eviction_policy",
                one_of(
                    &[
                        "noeviction",
                        "allkeys-random",
                        "volatile-random",
                        "volatile-ttl",
                    ],
                    "what happens when a shard fills",
                ),
            ),
            (
                "persistence",
                one_of(
                    &["aof-everysec", "aof-always", "snapshot", "none"],
                    "what a shard without a replica recovers after a crash",
                ),
            ),
            (
                "snapshot_interval",
                duration("with persistence = \"snapshot\""),
            ),
            ("failover_delay", duration("time to promote a replica")),
            ("join_at", duration("the cluster is added at this time")),
            ("leave_at", duration("the cluster is removed at this time")),
            ("leave_force", boolean("force the removal")),
            ("ntp", boolean("clock corrected by NTP (default true)")),
            (
                "clock_offset",
                duration("initial clock error, may start with '-'"),
            ),
            (
                "clock_drift_ppm",
                number("clock drift in parts per million"),
            ),
            ("ntp_interval", duration("time between NTP corrections")),
            (
                "ntp_residual",
                duration("clock error left after a correction"),
            ),
        ],
    );
    let link = table(
        "[[network.link]]: one link's overrides",
        vec![
            ("between", names("both directions between two clusters")),
            ("from", string("one direction: from this cluster")),
            ("to", string("one direction: to this cluster")),
            ("latency", latency("one-way latency")),
            ("jitter", duration("uniform extra latency")),
            ("bandwidth", bandwidth("per direction")),
            (
                "loss",
                number("share of transmissions that wait a retransmission timeout"),
            ),
        ],
    );
    let network = table(
        "[network]: defaults for every link",
        vec![
            ("latency", latency("one-way latency")),
            ("jitter", duration("uniform extra latency")),
            ("bandwidth", bandwidth("per direction")),
            (
                "loss",
                number("share of transmissions that wait a retransmission timeout"),
            ),
            ("link", array_of("per-link overrides", link)),
        ],
    );
    let replication = table(
        "[replication]: backlog and syncers",
        vec![
            (
                "backlog_size",
                json!({"type": "string", "description": "per shard, or \"auto\"",
                       "anyOf": [{"pattern": SIZE}, {"const": "auto"}]}),
            ),
            (
                "timeout",
                duration("a silent syncer connection is dropped after this"),
            ),
            (
                "compression",
                json!({"type": "integer", "minimum": 0, "maximum": 6,
                                   "description": "inter-cluster compression level"}),
            ),
            (
                "syncer_throughput",
                json!({"type": "string", "description": "ops/s a syncer applies, or \"unlimited\"",
                       "anyOf": [{"pattern": RATE}, {"const": "unlimited"}]}),
            ),
            (
                "backlog_model",
                one_of(&["block", "ring"], "backlog trimming model"),
            ),
            (
                "reconnect_delay",
                duration("a dropped syncer retries after up to this"),
            ),
        ],
    );
    let mix = table(
        "[workload.mix]: weights of the generated commands",
        vec![
            ("set", number("weight of SET")),
            ("incr", number("weight of INCR")),
        ],
    );
    let workload = table(
        "[workload]: generated client writes",
        vec![
            ("rate", rate("writes per second over all writing clusters")),
            ("keys", int(1, "keys per kind")),
            (
                "key_distribution",
                one_of(&["uniform", "zipf"], "how keys are chosen"),
            ),
            ("zipf_exponent", number("with key_distribution = \"zipf\"")),
            ("value_size", size("SET value length")),
            (
                "arrival",
                one_of(&["poisson", "constant"], "gaps between writes"),
            ),
            ("clusters", names("the clusters that receive writes")),
            ("mix", mix),
        ],
    );
    let fault = table(
        "[[fault]]: a partition, degradation, clock step or crash",
        vec![
            (
                "kind",
                one_of(
                    &["partition", "degrade", "clock_step", "crash"],
                    "what happens",
                ),
            ),
            ("name", string("a label for reports")),
            ("begin", duration("when it starts")),
            ("end", duration("when it ends")),
            ("duration", duration("how long it lasts (instead of end)")),
            ("isolate", names("cut these clusters from the others")),
            (
                "links",
                json!({"type": "array", "description": "cut these links",
                       "items": {"type": "array", "items": {"type": "string"}}}),
            ),
            (
                "mode",
                one_of(&["drop", "stall"], "partitions: close or hold connections"),
            ),
            ("latency_add", duration("degradations: added latency")),
            ("bandwidth", bandwidth("degradations: bandwidth meanwhile")),
            ("cluster", string("clock steps and crashes: which cluster")),
            ("step", duration("clock steps: how far the clock jumps")),
            ("shard", int(0, "crashes: which shard's primary")),
            ("node", int(0, "crashes: which node")),
        ],
    );
    let database = table(
        "[database]: database-wide switches",
        vec![
            ("causal_consistency", boolean("deliver ops in causal order")),
            (
                "xadd_id_mode",
                one_of(&["strict", "semi-strict", "liberal"], "XADD ID uniqueness"),
            ),
        ],
    );
    let step = table(
        "[[step]]: one step of a scripted scenario",
        vec![
            ("on", string("the instance that runs cmd")),
            ("cmd", string("a redis-cli command line")),
            ("at", duration("run at this time")),
            ("after", duration("run this long after the previous step")),
            (
                "sync",
                json!({"description": "\"all\" or a list of instances that exchange what is pending",
                       "anyOf": [{"const": "all"}, {"type": "array", "items": {"type": "string"}}]}),
            ),
            ("partition", names("cut these clusters from the others")),
            ("heal", boolean("end every step partition")),
            (
                "expect",
                json!({"description": "the expected reply: a string, integer or list"}),
            ),
            ("expect_nil", boolean("the reply is nil")),
            (
                "expect_error",
                string("the reply is an error starting with this"),
            ),
            ("unordered", boolean("compare a list reply in any order")),
            ("note", string("printed in the transcript")),
        ],
    );
    let expect = table(
        "[expect]: what the run must show",
        vec![
            ("converges", boolean("the verdict is converged")),
            (
                "converge_within",
                duration("converged at most this long after writes end"),
            ),
            ("full_syncs", count_range("total full syncs")),
            ("partial_syncs", count_range("total partial syncs")),
            (
                "full_sync_loop",
                boolean("some syncer failed two full syncs in a row"),
            ),
            (
                "clock_inverted_wins_min",
                int(0, "at least this many clock-inverted wins"),
            ),
            (
                "lag_ms_p99_max",
                number("worst per-peer p99 lag at most, ms"),
            ),
            (
                "lag_ms_p99_min",
                number("worst per-peer p99 lag at least, ms"),
            ),
            (
                "lost_writes",
                count_range("acknowledged writes lost for good"),
            ),
            ("lost_writes_max", int(0, "at most this many lost writes")),
            (
                "digest",
                json!({"type": "string", "pattern": "^[0-9a-f]{16}$",
                       "description": "the pinned trace digest for the file's seed"}),
            ),
        ],
    );
    let sweep = table(
        "[sweep]: what geosim sweep varies",
        vec![
            ("set", names("axes: path=v1,v2,...")),
            ("seeds", string("\"7\" or \"1..20\"")),
            (
                "full_sync_target",
                string("a share of runs: \"0.05\" or \"5%\""),
            ),
        ],
    );
    let mut top = table(
        "A geosim scenario (TOML). See scenarios/README.md for every field.",
        vec![
            ("run", run),
            ("whatif", whatif),
            ("cluster", array_of("participating clusters", cluster)),
            ("network", network),
            ("replication", replication),
            ("workload", workload),
            ("fault", array_of("faults", fault)),
            ("database", database),
            ("step", array_of("scripted steps", step)),
            ("expect", expect),
            ("sweep", sweep),
        ],
    );
    let o = top.as_object_mut().expect("an object");
    o.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    o.insert("title".into(), json!("geosim scenario"));
    top
}

pub fn schema_json() -> String {
    serde_json::to_string_pretty(&schema()).expect("the schema serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields the loader accepts in a table, read from its "unknown field" message.
    fn accepted(toml_with_unknown: &str) -> Vec<String> {
        let e = crate::scenario::parse(toml_with_unknown, "t.toml", &Default::default())
            .expect_err("an unknown field is refused")
            .to_string();
        let list = e
            .split("expected one of ")
            .nth(1)
            .or_else(|| e.split("expected ").nth(1))
            .unwrap_or_else(|| panic!("no field list in: {e}"));
        // serde lists `a`, `b`, `c`; `a` or `b`; or `a`.
        let list = list.lines().next().unwrap_or("");
        let mut v: Vec<String> = list
            .split(", ")
            .flat_map(|s| s.split(" or "))
            .map(|s| s.trim().trim_matches('`').to_string())
            .collect();
        v.sort();
        v
    }

    fn properties(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    }

    #[test]
    fn the_schema_names_exactly_the_fields_the_loader_accepts() {
        let s = schema();
        let p = |path: &[&str]| {
            let mut v = &s;
            for k in path {
                v = if *k == "[]" {
                    &v["items"]
                } else {
                    &v["properties"][*k]
                };
            }
            properties(v)
        };
        let cases: [(&[&str], &str); 13] = [
            (&[], "zz = 1\n"),
            (&["run"], "[run]\nzz = 1\n"),
            (&["whatif"], "[whatif]\nzz = 1\n"),
            (&["cluster", "[]"], "[[cluster]]\nzz = 1\n"),
            (&["network"], "[network]\nzz = 1\n"),
            (&["network", "link", "[]"], "[[network.link]]\nzz = 1\n"),
            (&["replication"], "[replication]\nzz = 1\n"),
            (&["workload"], "[workload]\nzz = 1\n"),
            (&["workload", "mix"], "[workload.mix]\nzz = 1\n"),
            (&["fault", "[]"], "[[fault]]\nzz = 1\n"),
            (&["database"], "[database]\nzz = 1\n"),
            (&["step", "[]"], "[[step]]\nzz = 1\n"),
            (&["expect"], "[expect]\nzz = 1\n"),
        ];
        for (path, text) in cases {
            assert_eq!(p(path), accepted(text), "{path:?}");
        }
        assert_eq!(p(&["sweep"]), accepted("[sweep]\nzz = 1\n"));
    }

    #[test]
    fn the_schema_is_json_with_its_draft_named() {
        // The schema is valid JSON with the draft named.
        let text = schema_json();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    }
}
