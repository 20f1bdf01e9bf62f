//! `geosim diff` of runs and sweeps, and `geosim check --reports/--baseline/--html`.

use std::path::{Path, PathBuf};

use super::cli::geosim;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("geosim-diff-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const S03: &str = "scenarios/03-backlog-overflow-full-sync.toml";

#[test]
fn two_runs_differ_by_their_syncs_and_figures_and_a_run_equals_itself() {
    let d = scratch("runs");
    let (a, b) = (d.join("a"), d.join("b"));
    assert_eq!(geosim(&["run", S03, "--report", s(&a)]).0, 0);
    let set = "replication.backlog_size=8MB";
    // The bigger backlog fails the scenario's pinned expectations (exit 1) but writes its report.
    assert_eq!(geosim(&["run", S03, "--set", set, "--report", s(&b)]).0, 1);
    let html = d.join("diff.html");
    let (code, out, err) = geosim(&["diff", s(&a), s(&b), "--html", s(&html)]);
    assert_eq!(code, 1, "{err}");
    for want in [
        "expectations flipped (4):",
        "expectations[expect.full_syncs].pass",
        "sync counts changed (6):",
        "totals.full_syncs                      4 -> 0  -4 (-100.00%)",
        "histories differ (digests) (1):",
        "totals.snapshot_bytes",
        "reproduce",
    ] {
        assert!(out.contains(want), "{want:?} missing from:\n{out}");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>sync counts changed (6)</h2>"), "{page}");
    // JSON, and a report folder against its own summary.json: nothing differs.
    let (code, json, _) = geosim(&["diff", s(&a), s(&b), "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let syncs = v["changes"]["syncs"].as_array().unwrap();
    assert!(
        syncs
            .iter()
            .any(|c| c["path"] == "totals.full_syncs" && c["delta"] == -4.0),
        "{json}"
    );
    let (code, out, _) = geosim(&["diff", s(&a), s(&a.join("summary.json"))]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no differences: "), "{out}");
    // A tolerance hides small moves of figures, never the sync counts.
    let (_, loose, _) = geosim(&["diff", s(&a), s(&b), "--tolerance", "100%"]);
    assert!(loose.contains("sync counts changed (6):"), "{loose}");
    assert!(!loose.contains("totals.wire_bytes"), "{loose}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn two_sweeps_are_compared_cell_by_cell() {
    let d = scratch("sweeps");
    let longer = d.join("03-longer.toml");
    let text = std::fs::read_to_string(super::root().join(S03)).unwrap();
    std::fs::write(
        &longer,
        text.replacen("duration = \"40s\"", "duration = \"50s\"", 1),
    )
    .unwrap();
    let axis = "replication.backlog_size=1MB,8MB";
    let (a, b) = (d.join("a"), d.join("b"));
    for (file, out) in [(S03, &a), (s(&longer), &b)] {
        let (code, _, err) = geosim(&[
            "sweep",
            file,
            "--set",
            axis,
            "--seeds",
            "1..2",
            "--out",
            s(out),
        ]);
        assert_eq!(code, 0, "{err}");
    }
    let (code, out, err) = geosim(&["diff", s(&a), s(&b.join("sweep.csv"))]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("[replication.backlog_size=1MB seed=1].wire_bytes"),
        "{out}"
    );
    assert!(out.contains("diff of two sweeps"), "{out}");
    assert_eq!(geosim(&["diff", s(&a), s(&a)]).0, 0);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_inputs_to_diff_exit_2_with_the_reason() {
    let d = scratch("bad");
    let run = d.join("run");
    assert_eq!(
        geosim(&[
            "run",
            "scenarios/01-two-regions-steady.toml",
            "--report",
            s(&run)
        ])
        .0,
        0
    );
    let (code, _, err) = geosim(&["diff", s(&run), "no/such/dir"]);
    assert_eq!(code, 2);
    assert!(err.contains("no/such/dir"), "{err}");
    let (code, _, err) = geosim(&["diff", s(&run), s(&run.join("timeline.csv"))]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not of one kind") || err.contains("not a sweep.csv"),
        "{err}"
    );
    let (code, _, err) = geosim(&["diff", s(&run), s(&d), "--tolerance", "lots"]);
    assert_eq!(code, 2);
    assert!(err.contains("--tolerance"), "{err}");
    let not_summary = d.join("x.json");
    std::fs::write(&not_summary, "{\"a\": 1}").unwrap();
    let (code, _, err) = geosim(&["diff", s(&run), s(&not_summary)]);
    assert_eq!(code, 2);
    assert!(err.contains("not a run summary"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn check_prints_what_moved_since_its_baseline_for_a_failing_scenario() {
    let d = scratch("check");
    let scen = d.join("s03.toml");
    let text = std::fs::read_to_string(super::root().join(S03)).unwrap();
    std::fs::write(&scen, &text).unwrap();
    let base = d.join("base");
    let (code, out, err) = geosim(&["check", s(&scen), "--reports", s(&base)]);
    assert_eq!(code, 0, "{out}{err}");
    // The same file, now with a backlog that no longer overflows: it fails its pinned bands.
    std::fs::write(
        &scen,
        text.replacen("backlog_size = \"1MB\"", "backlog_size = \"8MB\"", 1),
    )
    .unwrap();
    let html = d.join("check.html");
    let (code, out, _) = geosim(&[
        "check",
        s(&scen),
        "--baseline",
        s(&base),
        "--html",
        s(&html),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("expect.full_syncs: expected 4, got 0"),
        "{out}"
    );
    assert!(out.contains("what moved since the baseline:"), "{out}");
    assert!(out.contains("totals.full_syncs"), "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("0 passed, 1 failed, 0 invalid"), "{page}");
    assert!(page.contains("what moved since the baseline"), "{page}");
    std::fs::remove_dir_all(&d).unwrap();
}
