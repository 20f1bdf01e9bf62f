//! The determinism contract: same scenario and seed → same trace digest and same report
//! bytes, in debug and release; another seed → another history.

use geosim::report::Summary;
use geosim::sim::run_scenario;

fn summary_json(name: &str, seed: Option<u64>) -> (String, String) {
    let s = super::bundled(name, seed);
    let (r, c) = run_scenario(&s);
    let sum = Summary::new(&s, &r, &c);
    (sum.trace_digest.clone(), sum.to_json())
}

#[test]
fn same_scenario_and_seed_give_identical_digest_and_summary_bytes() {
    let (d1, j1) = summary_json("02-partition-and-heal.toml", None);
    let (d2, j2) = summary_json("02-partition-and-heal.toml", None);
    assert_eq!(d1, d2);
    assert_eq!(j1, j2);
}

#[test]
fn another_seed_gives_another_history() {
    let (d1, _) = summary_json("01-two-regions-steady.toml", Some(1));
    let (d2, _) = summary_json("01-two-regions-steady.toml", Some(2));
    assert_ne!(d1, d2);
}

/// The committed example report was written by the release build (the command in
/// `reports/README.md`); the test suite runs in the debug profile, so byte equality of every
/// report file shows that debug and release agree. After an intended behaviour change,
/// regenerate the reports with that command and say why in the commit.
#[test]
fn debug_and_release_agree_on_the_golden_report() {
    let s = super::bundled("01-two-regions-steady.toml", None);
    let dir = std::env::temp_dir().join(format!("geosim-golden-{}", std::process::id()));
    geosim::report::write_report(&s, &dir).expect("report written");
    for file in ["summary.json", "summary.md", "timeline.csv"] {
        let golden = std::fs::read_to_string(
            super::root()
                .join("reports/01-two-regions-steady")
                .join(file),
        )
        .expect("the example report exists");
        let fresh = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_eq!(
            fresh, golden,
            "{file} differs from reports/01-two-regions-steady/{file}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small well-formedness check: every element opened is closed, in order.
fn assert_well_formed_xml(text: &str, name: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest
            .find('>')
            .unwrap_or_else(|| panic!("{name}: unclosed tag"));
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        if let Some(close) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("{name}: stray </{close}>"));
            assert_eq!(open, close.trim(), "{name}: mismatched tags");
        } else {
            let tag_name = tag.split_whitespace().next().unwrap_or_default();
            stack.push(tag_name.to_string());
        }
    }
    assert!(stack.is_empty(), "{name}: unclosed {stack:?}");
    assert!(text.contains("<svg"), "{name}: not an SVG");
}

#[test]
fn report_files_are_well_formed_and_identical_on_a_rerun() {
    let s = super::bundled("03-backlog-overflow-full-sync.toml", None);
    let base = std::env::temp_dir().join(format!("geosim-report-{}", std::process::id()));
    let (a, b) = (base.join("a"), base.join("b"));
    geosim::report::write_report(&s, &a).unwrap();
    geosim::report::write_report(&s, &b).unwrap();
    for file in ["summary.json", "summary.md", "timeline.csv"] {
        let x = std::fs::read(a.join(file)).unwrap();
        assert_eq!(
            x,
            std::fs::read(b.join(file)).unwrap(),
            "{file} differs on a rerun"
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["seed"], 3);
    let csv = std::fs::read_to_string(a.join("timeline.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "time_s");
    assert!(header.iter().any(|h| h.starts_with("lag_ms@")));
    assert!(header.iter().any(|h| h.starts_with("backlog_bytes@")));
    let mut rows = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{line}");
        assert!(cells[0].parse::<f64>().is_ok());
        rows += 1;
    }
    // One sample a second over the 2-minute run.
    assert!((120..125).contains(&rows), "{rows}");
    assert!(
        csv.contains(",disconnected,"),
        "the partition is visible in the sync states"
    );
    let last: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
    let full_col = header
        .iter()
        .position(|h| *h == "full_syncs_total")
        .unwrap();
    assert_eq!(last[full_col], "4", "the four full syncs are counted");
    let md = std::fs::read_to_string(a.join("summary.md")).unwrap();
    assert!(md.starts_with("# Run of `scenarios/03-backlog-overflow-full-sync.toml`"));
    for chart in geosim::report::plot::CHARTS {
        let svg = std::fs::read_to_string(a.join(format!("{chart}.svg"))).unwrap();
        assert_well_formed_xml(&svg, chart);
        assert!(
            svg.contains("simulated time [s]") || chart == "sync_state",
            "{chart}: axis label"
        );
        assert!(svg.contains("<text"), "{chart}: text is drawn");
        let png = image::open(a.join(format!("{chart}.png"))).expect("the PNG decodes");
        assert_eq!((png.width(), png.height()), (1000, 560));
    }
    std::fs::remove_dir_all(&base).unwrap();
}

/// Rule 2 of DESIGN.md: each component draws from its own stream, so a new cluster does not
/// shift the draws of an existing link. The workload writes only at `a` in both runs; the
/// `a -> b` link then sees the same transmissions and must produce the same latencies.
#[test]
fn adding_a_cluster_leaves_another_links_latency_draws_unchanged() {
    let base = r#"
[run]
seed = 11
duration = "20s"
[[cluster]]
name = "a"
[[cluster]]
name = "b"
CLUSTER_C
[network]
latency = { dist = "lognormal", median = "30ms", sigma = 0.5 }
jitter = "3ms"
[workload]
rate = "200/s"
clusters = ["a"]
"#;
    let two = super::inline(&base.replace("CLUSTER_C", ""));
    let three = super::inline(&base.replace("CLUSTER_C", "[[cluster]]\nname = \"c\""));
    let (r2, _) = run_scenario(&two);
    let (r3, _) = run_scenario(&three);
    let ab = |r: &geosim::check::RunResult| {
        r.peers
            .iter()
            .find(|p| p.src == 0 && p.dst == 1)
            .expect("a -> b")
            .clone()
    };
    let (p2, p3) = (ab(&r2), ab(&r3));
    assert!(p2.ops_applied > 3000);
    assert_eq!(p2.ops_applied, p3.ops_applied);
    // The whole lag distribution (every bucket) and its maximum are identical.
    assert_eq!(p2.lag, p3.lag);
    assert_ne!(
        r2.trace_digest, r3.trace_digest,
        "the runs themselves differ"
    );
}

/// Compact keys are a representation, not a model: with them off, every scenario has the
/// same history (trace digest) and the same summary bytes. Covered: a steady workload, LWW
/// conflicts under clock drift (concurrent registers), a full-sync loop (snapshots merged into
/// compact keys), a region added by a full sync, and every frozen regression (crashes,
/// restarts, garbage collection, lists). The compact runs must hold keys compact, or this
/// would compare the general path with itself.
#[test]
fn compact_keys_change_nothing_but_speed() {
    let mut names: Vec<String> = [
        "01-two-regions-steady.toml",
        "04-clock-drift-lww.toml",
        "07-full-sync-loop.toml",
        "08-add-a-region.toml",
    ]
    .iter()
    .map(|n| n.to_string())
    .collect();
    let regressions = super::root().join("scenarios").join("regressions");
    let mut frozen: Vec<String> = std::fs::read_dir(&regressions)
        .expect("regressions folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("regressions/{n}"))
        .collect();
    frozen.sort();
    names.extend(frozen);
    for name in &names {
        let compact = super::bundled(name, None);
        let mut general = compact.clone();
        general.config.compact_keys = false;
        let (a, b) = (summary_of(&compact), summary_of(&general));
        assert_eq!(a.0, b.0, "{name}: the same history");
        assert_eq!(a.1, b.1, "{name}: the same summary");
    }
    // The first ten simulated seconds of scenario 04 hold keys compact, and none when off.
    let s = super::bundled("04-clock-drift-lww.toml", None);
    let ten = geosim::engine::SimTime::ZERO + geosim::engine::SimDuration::from_secs(10);
    for (on, want_some) in [(true, true), (false, false)] {
        let mut config = s.config.clone();
        config.compact_keys = on;
        let mut sim = geosim::sim::Simulation::new(config);
        sim.run_until(ten);
        let held = sim.world().compact_cells();
        assert_eq!(
            held >= 100,
            want_some,
            "compact cells held: {held} (on: {on})"
        );
    }
}

fn summary_of(s: &geosim::scenario::Scenario) -> (String, String) {
    let (r, c) = run_scenario(s);
    let sum = Summary::new(s, &r, &c);
    (sum.trace_digest.clone(), sum.to_json())
}

#[test]
fn every_bundled_scenario_ends_where_its_acknowledged_writes_say() {
    // The reference oracle (check::reference) on the scenarios whose writes can be judged
    // that way: every plain string and counter key ends as the documented rules make it.
    use geosim::check::Reference;
    use geosim::sim::Simulation;
    let mut checked = 0;
    for name in [
        "01-two-regions-steady.toml",
        "02-partition-and-heal.toml",
        "04-clock-drift-lww.toml",
        "teaching/02-counters-add-up.toml",
        "teaching/01-concurrent-sets-lww.toml",
    ] {
        let s = super::bundled(name, None);
        let (_, mut observers) = Simulation::builder(s.config.clone())
            .observer(Box::new(Reference::default()))
            .build()
            .run_observed();
        let any: Box<dyn std::any::Any> = observers.pop().unwrap();
        let r = any.downcast::<Reference>().unwrap();
        assert!(r.mismatches.is_empty(), "{name}: {:?}", &r.mismatches[..1]);
        assert!(r.checked > 0, "{name}: nothing checked");
        checked += r.checked;
    }
    assert!(checked > 10_000, "{checked}");
}

/// Showing progress slices a run into a hundred steps per phase: the run is the same (its
/// summary bytes and trace digest), and the reporter hears of every step. (Nextest runs
/// each test in its own process, so the reporter stays with this test.)
#[test]
fn reporting_progress_changes_nothing_in_a_run() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    static LAST_EVENTS: AtomicU64 = AtomicU64::new(0);
    fn count(_now: geosim::engine::SimTime, _to: geosim::engine::SimTime, events: u64) {
        CALLS.fetch_add(1, Ordering::Relaxed);
        assert!(events >= LAST_EVENTS.swap(events, Ordering::Relaxed));
    }
    let s = super::bundled("02-partition-and-heal.toml", None);
    let quiet = geosim::report::run_and_judge(&s).summary.to_json();
    geosim::model::driver::report_progress(count);
    let shown = geosim::report::run_and_judge(&s).summary.to_json();
    assert_eq!(quiet, shown);
    assert!(
        CALLS.load(Ordering::Relaxed) >= 100,
        "{}",
        CALLS.load(Ordering::Relaxed)
    );
}

/// The committed sweep (`reports/sweep-03-backlog-overflow-full-sync/`, written by the release
/// build with the command in `reports/README.md`): two of its cells, rerun here in the debug
/// profile as a sweep of their own, give their rows byte for byte (a cell depends only on the
/// scenario, its values and its seed). `GEOSIM_FULL_REPORTS=1` reruns the whole sweep and
/// compares every file.
#[test]
fn debug_and_release_agree_on_the_committed_sweep() {
    let committed = super::root().join("reports/sweep-03-backlog-overflow-full-sync");
    let dir = std::env::temp_dir().join(format!("geosim-sweep-golden-{}", std::process::id()));
    let full = std::env::var("GEOSIM_FULL_REPORTS").is_ok();
    let mut args = vec![
        "sweep".to_string(),
        "scenarios/03-backlog-overflow-full-sync.toml".to_string(),
        "--out".to_string(),
        dir.display().to_string(),
    ];
    if !full {
        args.extend(
            [
                "--set",
                "replication.backlog_size=1MB,4MB",
                "--set",
                "fault.partition.duration=40s",
                "--seeds",
                "2..2",
            ]
            .map(String::from),
        );
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = super::cli::geosim(&args);
    assert_eq!(code, 0, "{out}{err}");
    // Rows without the cell number, which depends on the grid.
    let rows = |path: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect()
    };
    let all = rows(&committed.join("sweep.csv"));
    let fresh = rows(&dir.join("sweep.csv"));
    assert_eq!(fresh.len(), if full { 24 } else { 2 });
    for row in &fresh {
        assert!(all.contains(row), "{row} is not in the committed sweep.csv");
    }
    // 1MB rides out no 40 s outage (full syncs), 4MB does (none).
    let full_syncs = |row: &str| row.split(',').nth(5).unwrap().parse::<u64>().unwrap();
    if !full {
        assert!(fresh[0].starts_with("1MB,40s,2,converged,") && full_syncs(&fresh[0]) > 0);
        assert!(fresh[1].starts_with("4MB,40s,2,converged,") && full_syncs(&fresh[1]) == 0);
    }
    if full {
        for file in ["sweep.csv", "sweep.md", "sweep.json", "index.html"] {
            assert_eq!(
                std::fs::read_to_string(dir.join(file)).unwrap(),
                std::fs::read_to_string(committed.join(file)).unwrap(),
                "{file}"
            );
        }
    }
    let md = std::fs::read_to_string(committed.join("sweep.md")).unwrap();
    assert!(
        md.contains("* fault.partition.duration = 40s: **4MB**"),
        "{md}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
