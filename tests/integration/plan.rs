//! `geosim plan`: the closed-form backlog figures, their bounds, the memory answer, JSON, and
//! the cross-check against the simulator.

use super::cli::geosim;

/// A plan at 20k writes/s, a 10-minute outage, three regions and 250MB backlogs.
const PLAN_20K: [&str; 9] = [
    "plan",
    "--rate",
    "20k/s",
    "--outage",
    "10m",
    "--peers",
    "3",
    "--backlog",
    "250MB",
];

#[test]
fn plan_prints_the_closed_form_figures_and_refuses_bad_units() {
    let (code, out, _) = geosim(&PLAN_20K);
    assert_eq!(code, 0);
    assert!(out.contains("144 stream bytes per write"), "{out}");
    assert!(out.contains("use at least 7 shards per cluster"), "{out}");
    assert!(out.contains("rides out outages up to 90.0 s"), "{out}");
    let (code, _, err) = geosim(&["plan", "--rate", "20k/s", "--outage", "ten minutes"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--outage \"ten minutes\": expected a duration"),
        "{err}"
    );
    let (code, _, err) = geosim(&["plan", "--rate", "1k/s", "--outage", "1m", "--peers", "7"]);
    assert_eq!(code, 2);
    assert!(err.contains("2 to 5 participating clusters"), "{err}");
}

/// `plan` stays within the limits scenarios enforce, and says so instead of recommending
/// past them.
#[test]
fn plan_is_bounded_by_the_documented_limits() {
    let bad = |args: &[&str], want: &str| {
        let mut all = vec!["plan", "--rate", "20k/s", "--outage", "10m"];
        all.extend_from_slice(args);
        let (code, _, err) = geosim(&all);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
    };
    bad(
        &["--shards", "300"],
        "--shards \"300\": expected 1 to 256 shards",
    );
    bad(&["--shards", "0"], "expected 1 to 256 shards");
    bad(&["--backlog", "500MB"], "from 1MB to 250MB per shard");
    bad(&["--backlog", "100KB"], "from 1MB to 250MB per shard");
    let (code, _, err) = geosim(&["plan", "--rate", "20k/s", "--outage", "400d"]);
    assert_eq!(code, 2);
    assert!(err.contains("at most 365 days"), "{err}");
    let (code, _, err) = geosim(&["plan", "--rate", "5000000k/s", "--outage", "10m"]);
    assert_eq!(code, 2);
    assert!(err.contains("at most 1000000000 writes/s"), "{err}");
    // Past what even 256 shards can hold, the plan says no backlog will do.
    let (code, out, _) = geosim(&[
        "plan", "--rate", "200k/s", "--outage", "100d", "--shards", "256",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("even at the 256-shard maximum") && out.contains("expect a full sync"),
        "{out}"
    );
    assert!(!out.contains("use at least"), "{out}");
}

/// `plan --dataset-keys` answers "how much memory for N keys of size V in K regions", alone or
/// beside the backlog figures, in text and JSON; bad values exit 2.
#[test]
fn plan_answers_the_memory_question() {
    let memory = [
        "plan",
        "--dataset-keys",
        "10000000",
        "--value-bytes",
        "100",
        "--peers",
        "3",
        "--shards",
        "4",
        "--replication",
    ];
    let (code, out, _) = geosim(&memory);
    assert_eq!(code, 0);
    assert!(out.contains("184 B plain Redis (MEMORY USAGE)"), "{out}");
    assert!(
        out.contains("copies of the dataset and backlogs: 2"),
        "{out}"
    );
    assert!(!out.contains("stream per shard"), "{out}");
    let (code, out, _) = geosim(&[&memory[..], &["--json"]].concat());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let m = &v["memory"];
    assert_eq!(m["plain_dataset_bytes"], 1_840_000_000u64);
    let (aa, region) = (
        m["aa_dataset_bytes"].as_u64().unwrap(),
        m["per_region_bytes"].as_u64().unwrap(),
    );
    let backlogs = 4
        * (m["crdt_backlog_bytes_per_shard"].as_u64().unwrap()
            + m["repl_backlog_bytes_per_shard"].as_u64().unwrap());
    // A replica holds the dataset and both backlogs again.
    assert_eq!(region, 2 * (aa + backlogs));
    // Beside the backlog figures.
    let (code, out, _) = geosim(&[&PLAN_20K[..], &["--dataset-keys", "1000000"]].concat());
    assert_eq!(code, 0);
    assert!(out.contains("minimal backlog_size") && out.contains("memory: 1000000 keys"));
    // Only one of --rate and --outage, or a bad count.
    let (code, _, err) = geosim(&["plan", "--rate", "1k/s"]);
    assert_eq!(code, 2);
    assert!(err.contains("--rate and --outage are required"), "{err}");
    let (code, _, err) = geosim(&["plan", "--dataset-keys", "0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--dataset-keys \"0\": expected 1 to 10^12 keys"),
        "{err}"
    );
}

/// `plan --json` gives the same figures as the text, for scripts.
#[test]
fn plan_prints_json_for_scripts() {
    let args = PLAN_20K;
    let (code, out, _) = geosim(&[&args[..], &["--json"]].concat());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["inputs"]["op_bytes"], 144);
    assert_eq!(v["shards_for_limit"], 7);
    assert_eq!(v["min_backlog_within_limit"], false);
    assert_eq!(
        v["outage_ridden_s"]
            .as_f64()
            .map(|s| (s * 10.0).round() / 10.0),
        Some(90.0)
    );
    assert!(v["full_sync_s"].is_null());
    let (code, _, err) = geosim(&[&args[..], &["--json", "--simulate", "--out", "x"]].concat());
    assert_eq!(code, 2);
    assert!(err.contains("--json prints the closed form only"), "{err}");
}

#[test]
fn plan_simulate_sets_the_closed_form_beside_the_simulation() {
    let base = std::env::temp_dir().join(format!("geosim-plan-sim-{}", std::process::id()));
    let dir = |n: &str| base.join(n).display().to_string();
    let args = |out: &str| {
        vec![
            "plan",
            "--rate",
            "1k/s",
            "--outage",
            "20s",
            "--shards",
            "2",
            "--value-bytes",
            "128",
            "--seeds",
            "1..2",
            "--simulate",
            "--out",
        ]
        .into_iter()
        .map(String::from)
        .chain([out.to_string()])
        .collect::<Vec<_>>()
    };
    let run = |a: &[String]| geosim(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    // A healthy link: 86,000 B/s per shard, 1,806,000 B written during the outage and the
    // reconnect; the sweep runs 0.5 … 2 × the minimum, and the simulation agrees.
    let (code, out, err) = run(&args(&dir("ok")));
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(
        out.contains("| minimal backlog (bytes) | 1805999 | 1805999 | 1.000 | agrees |"),
        "{out}"
    );
    assert!(
        out.contains("| 0.86 MiB (903000 B) | always | 2 of 2 |"),
        "{out}"
    );
    assert!(
        out.contains("| 1.72 MiB (1805999 B) | never | 0 of 2 |"),
        "{out}"
    );
    assert!(
        out.contains("agrees with the closed form within a factor of 1.25"),
        "{out}"
    );
    for f in ["scenario.toml", "sweep.csv", "sweep.md", "plan.md"] {
        assert!(base.join("ok").join(f).exists(), "{f}");
    }
    // The written scenario reproduces the simulated half on its own.
    let (code, out, err) = geosim(&["sweep", &dir("ok/scenario.toml"), "--out", &dir("again")]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("needed no full sync\n\n* all runs: **1805999B**"),
        "{out}"
    );
    // A link slower than the stream: lag at the cut adds to the outage, so the closed-form
    // minimum is short; with a tight factor that is flagged, and the exit code says so.
    let mut thin = args(&dir("thin"));
    thin.extend(["--bandwidth", "1Mbit/s", "--factor", "1.05"].map(String::from));
    let (code, out, _) = run(&thin);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("| minimal backlog (bytes) | 1805999 | 1986599 | 1.100 | **DISAGREES** |"),
        "{out}"
    );
    assert!(
        out.contains("| 1.72 MiB (1805999 B) | never | 2 of 2 | contradicts the closed form |"),
        "{out}"
    );
    // What --simulate cannot match is refused before anything runs.
    let mut no_out = args("x");
    no_out.truncate(no_out.len() - 2);
    let (code, _, err) = run(&no_out);
    assert_eq!(code, 2);
    assert!(err.contains("give --out DIR"), "{err}");
    let mut key = args(&dir("key"));
    key.extend(["--key-bytes", "20"].map(String::from));
    let (code, _, err) = run(&key);
    assert_eq!(code, 2);
    assert!(err.contains("--simulate needs --key-bytes 16"), "{err}");
    std::fs::remove_dir_all(&base).ok();
}
