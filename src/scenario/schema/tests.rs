//! The generated schema against the loader: the same fields, the same choices, and every
//! bundled scenario conforms to it while a negative duration or an unknown choice does not.

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

fn at<'a>(s: &'a Value, path: &[&str]) -> &'a Value {
    let mut v = s;
    for k in path {
        v = if *k == "[]" {
            &v["items"]
        } else {
            &v["properties"][*k]
        };
    }
    v
}

#[test]
fn the_schema_names_exactly_the_fields_the_loader_accepts() {
    let s = schema();
    let cases: [(&[&str], &str); 15] = [
        (&[], "zz = 1\n"),
        (&["run"], "[run]\nzz = 1\n"),
        (&["whatif"], "[whatif]\nzz = 1\n"),
        (&["cluster", "[]"], "[[cluster]]\nzz = 1\n"),
        (&["network"], "[network]\nzz = 1\n"),
        (&["network", "link", "[]"], "[[network.link]]\nzz = 1\n"),
        (&["replication"], "[replication]\nzz = 1\n"),
        (&["workload"], "[workload]\nzz = 1\n"),
        (&["workload", "mix"], "[workload.mix]\nzz = 1\n"),
        (&["workload", "shape"], "[workload.shape]\nzz = 1\n"),
        (&["fault", "[]"], "[[fault]]\nzz = 1\n"),
        (&["database"], "[database]\nzz = 1\n"),
        (&["step", "[]"], "[[step]]\nzz = 1\n"),
        (&["expect"], "[expect]\nzz = 1\n"),
        (&["sweep"], "[sweep]\nzz = 1\n"),
    ];
    for (path, text) in cases {
        let v = at(&s, path);
        assert_eq!(properties(v), accepted(text), "{path:?}");
        assert_eq!(v["additionalProperties"], false, "{path:?}");
        for (name, field) in v["properties"].as_object().unwrap() {
            assert!(
                field["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{path:?}.{name} has no description"
            );
        }
    }
}

#[test]
fn the_schema_is_json_with_its_draft_named() {
    let v: Value = serde_json::from_str(&schema_json()).unwrap();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(v["title"], "geosim scenario");
    assert!(
        !schema_json().contains("null"),
        "TOML has no null: no field may allow it"
    );
}

#[test]
fn choices_are_the_names_validate_accepts() {
    let s = schema();
    let cases: [(&[&str], Vec<&str>, &str); 9] = [
        (
            &["cluster", "[]", "proxy_policy"],
            spelling::names(spelling::PROXY_POLICIES),
            "[[cluster]]\nname = \"a\"\nproxy_policy = \"V\"\nsyncer_mode = \"centralized\"\n[[cluster]]\nname = \"b\"\n",
        ),
        (
            &["cluster", "[]", "syncer_mode"],
            spelling::names(spelling::SYNCER_MODES),
            "[[cluster]]\nname = \"a\"\nproxy_policy = \"all-nodes\"\nsyncer_mode = \"V\"\n[[cluster]]\nname = \"b\"\n",
        ),
        (
            &["cluster", "[]", "eviction_policy"],
            spelling::eviction_policies(),
            "[[cluster]]\nname = \"a\"\neviction_policy = \"V\"\n[[cluster]]\nname = \"b\"\n",
        ),
        (
            &["cluster", "[]", "persistence"],
            spelling::PERSISTENCE.to_vec(),
            "[[cluster]]\nname = \"a\"\npersistence = \"V\"\n[[cluster]]\nname = \"b\"\n",
        ),
        (
            &["replication", "backlog_model"],
            spelling::names(spelling::BACKLOG_MODELS),
            "[replication]\nbacklog_model = \"V\"\n",
        ),
        (
            &["workload", "key_distribution"],
            spelling::names(spelling::KEY_DISTRIBUTIONS),
            "[workload]\nrate = \"10/s\"\nkey_distribution = \"V\"\n",
        ),
        (
            &["workload", "arrival"],
            spelling::names(spelling::ARRIVALS),
            "[workload]\nrate = \"10/s\"\narrival = \"V\"\n",
        ),
        (
            &["database", "xadd_id_mode"],
            spelling::names(spelling::XADD_ID_MODES),
            "[database]\nxadd_id_mode = \"V\"\n",
        ),
        (
            &["fault", "[]", "kind"],
            spelling::FAULT_KINDS.to_vec(),
            "[run]\nduration = \"10s\"\n[[fault]]\nkind = \"V\"\nbegin = \"1s\"\nduration = \"1s\"\nisolate = [\"a\"]\ncluster = \"a\"\n",
        ),
    ];
    let two = "[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n";
    for (path, names, template) in cases {
        let listed: Vec<String> = at(&s, path)["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{path:?} has no enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(listed, names, "{path:?}");
        let field = path.last().unwrap();
        let text = |v: &str| {
            let t = template.replace("\"V\"", &format!("{v:?}"));
            if t.contains("[[cluster]]") {
                t
            } else {
                format!("{two}{t}")
            }
        };
        let error_of = |v: &str| {
            crate::scenario::parse(&text(v), "c.toml", &Default::default())
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        for n in &names {
            let e = error_of(n);
            assert!(
                !e.contains(&format!(".{field}")),
                "{path:?} = {n:?} refused: {e}"
            );
        }
        let e = error_of("nope");
        assert!(
            e.contains(&format!(".{field}")) || e.contains(&format!("{field}:")),
            "{path:?} = \"nope\" accepted: {e}"
        );
    }
}

#[test]
fn required_fields_and_bounds_are_stated() {
    let s = schema();
    assert_eq!(
        at(&s, &["cluster", "[]"])["required"],
        serde_json::json!(["name"])
    );
    assert_eq!(
        at(&s, &["workload"])["required"],
        serde_json::json!(["rate"])
    );
    assert_eq!(
        at(&s, &["fault", "[]"])["required"],
        serde_json::json!(["kind", "begin"])
    );
    let shards = at(&s, &["cluster", "[]", "shards"]);
    assert_eq!(
        (shards["minimum"].as_u64(), shards["maximum"].as_u64()),
        (Some(1), Some(256))
    );
    let compression = at(&s, &["replication", "compression"]);
    assert_eq!(compression["maximum"].as_u64(), Some(6));
    assert_eq!(at(&s, &["run", "max_events"])["minimum"].as_u64(), Some(1));
    assert_eq!(at(&s, &["network", "loss"])["maximum"].as_f64(), Some(1.0));
}

/// A small checker for the keywords the schema uses: enough to show that the bundled
/// scenarios conform and that what `validate` refuses for its form is refused here too.
fn conforms(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let mut fail = |what: String| errors.push(format!("{path}: {what}"));
    if let Some(alts) = schema.get("oneOf").or_else(|| schema.get("anyOf")) {
        let ok = alts.as_array().unwrap().iter().any(|alt| {
            let mut e = Vec::new();
            conforms(alt, v, path, &mut e);
            e.is_empty()
        });
        if !ok {
            fail(format!("{v} matches no alternative"));
        }
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        fail(format!("{v} is not {c}"));
    }
    if let Some(e) = schema.get("enum")
        && !e.as_array().unwrap().contains(v)
    {
        fail(format!("{v} is not one of {e}"));
    }
    // `pattern` applies to any string, typed or not.
    if let (Some(p), Value::String(s)) = (schema.get("pattern").and_then(Value::as_str), v)
        && !regex::Regex::new(p).unwrap().is_match(s)
    {
        fail(format!("{s:?} does not match {p}"));
    }
    match (schema.get("type").and_then(Value::as_str), v) {
        (Some("string"), Value::String(_)) => {}
        (Some("integer"), Value::Number(n)) if n.is_u64() || n.is_i64() => {}
        (Some("number"), Value::Number(_)) | (Some("boolean"), Value::Bool(_)) => {}
        (Some("array"), Value::Array(items)) => {
            for (i, it) in items.iter().enumerate() {
                conforms(&schema["items"], it, &format!("{path}[{i}]"), errors);
            }
        }
        (Some("object"), Value::Object(o)) => {
            for (k, x) in o {
                match schema["properties"].get(k) {
                    Some(sub) => conforms(sub, x, &format!("{path}.{k}"), errors),
                    // A map (cluster name → value): every value by the same schema.
                    None if schema["additionalProperties"].is_object() => conforms(
                        &schema["additionalProperties"],
                        x,
                        &format!("{path}.{k}"),
                        errors,
                    ),
                    None => errors.push(format!("{path}: unknown field {k}")),
                }
            }
            for r in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !o.contains_key(r.as_str().unwrap()) {
                    errors.push(format!("{path}: {r} is required"));
                }
            }
        }
        (Some(t), _) => fail(format!("{v} is not a {t}")),
        (None, _) => {}
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            errors.push(format!("{path}: {n} < {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            errors.push(format!("{path}: {n} > {max}"));
        }
    }
}

fn toml_as_json(text: &str) -> Value {
    serde_json::to_value(toml::from_str::<toml::Value>(text).unwrap()).unwrap()
}

#[test]
fn every_bundled_scenario_conforms_and_bad_forms_do_not() {
    let s = schema();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "scenarios",
        "scenarios/teaching",
        "scenarios/regressions",
        "benches",
    ] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 25, "{}", files.len());
    for f in &files {
        let mut errors = Vec::new();
        conforms(
            &s,
            &toml_as_json(&std::fs::read_to_string(f).unwrap()),
            "",
            &mut errors,
        );
        assert!(errors.is_empty(), "{}: {errors:?}", f.display());
    }
    let base = "[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n";
    for bad in [
        "[run]\nduration = \"-5s\"\n",
        "[run]\nmax_events = 0\n",
        "[replication]\ncompression = 7\n",
        "[replication]\nbacklog_size = \"lots\"\n",
        "[network]\nlatency = { dist = \"gamma\" }\n",
        "[[fault]]\nkind = \"flood\"\nbegin = \"1s\"\n",
        "[[fault]]\nkind = \"crash\"\n",
        "[[cluster]]\nshards = 2\n",
        "[workload]\nkeys = 10\n",
    ] {
        let mut errors = Vec::new();
        conforms(&s, &toml_as_json(&format!("{base}{bad}")), "", &mut errors);
        assert!(!errors.is_empty(), "the schema accepts {bad:?}");
        // `validate` refuses each too.
        assert!(
            crate::scenario::parse(&format!("{base}{bad}"), "b.toml", &Default::default()).is_err(),
            "validate accepts {bad:?}"
        );
    }
    // A clock offset may be negative.
    let mut errors = Vec::new();
    conforms(
        &s,
        &toml_as_json(&format!(
            "{base}[[cluster]]\nname = \"c\"\nclock_offset = \"-300ms\"\n"
        )),
        "",
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:?}");
}
