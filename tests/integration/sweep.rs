//! Sweeps: deterministic for any thread count, common random numbers, the planner's answer.

use geosim::sweep::plan::{PlanInput, plan};
use geosim::sweep::{Axis, Row, parse_axis, parse_seeds, run_sweep, sweep_csv, sweep_md};

fn rows(r: &[geosim::sweep::CellResult]) -> Vec<Row> {
    r.iter().map(Row::from_result).collect()
}

fn scenario() -> std::path::PathBuf {
    super::root().join("scenarios/03-backlog-overflow-full-sync.toml")
}

#[test]
fn a_sweep_gives_the_same_files_on_one_thread_and_on_two() {
    let axes = vec![
        parse_axis("replication.backlog_size=1MB,4MB").unwrap(),
        parse_axis("fault.partition.duration=10s,40s").unwrap(),
    ];
    let seeds = parse_seeds("1").unwrap();
    let one = run_sweep(&scenario(), &axes, &seeds, 1).unwrap();
    let two = run_sweep(&scenario(), &axes, &seeds, 2).unwrap();
    assert_eq!(one.len(), 4);
    let (one, two) = (rows(&one), rows(&two));
    assert_eq!(sweep_csv(&axes, &one), sweep_csv(&axes, &two));
    let name = "scenarios/03-backlog-overflow-full-sync.toml";
    assert_eq!(
        sweep_md(name, &axes, &seeds, &one, None),
        sweep_md(name, &axes, &seeds, &two, None)
    );
    // A row survives the trip through sweep.csv unchanged (what `geosim merge` relies on).
    let csv = sweep_csv(&axes, &one);
    let parsed: Vec<Row> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| Row::from_record(&r.unwrap(), 2).unwrap())
        .collect();
    assert_eq!(parsed, one);
    assert_eq!(sweep_csv(&axes, &parsed), csv);
    // A value with a comma is quoted, and read back whole.
    let mut odd = one[0].clone();
    odd.values[0] = "1MB,2".into();
    let text = sweep_csv(&axes, std::slice::from_ref(&odd));
    assert!(text.contains("\"1MB,2\""), "{text}");
    let back = csv::Reader::from_reader(text.as_bytes())
        .records()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(Row::from_record(&back, 2).unwrap(), odd);
    // `geosim plan` agrees with every cell: scenario 03 writes 1k SET/s per cluster over 2
    // shards, 16-byte keys and 128-byte values (172 stream bytes each), reconnect delay 1 s.
    for r in &one {
        let outage_s = if r.values[1] == "10s" { 10.0 } else { 40.0 };
        let p = plan(&PlanInput {
            rate: 1000.0,
            op_bytes: PlanInput::set_op_bytes(16, 128),
            largest_piece: 128,
            shards: 2,
            peers: 2,
            outage_s,
            reconnect_s: 1.0,
            backlog: geosim::scenario::units::parse_size(&r.values[0]),
            dataset: None,
            bandwidth_bps: None,
        });
        let rides_out = p.outage_ridden_s.unwrap() >= outage_s;
        assert_eq!(rides_out, r.full_syncs == 0, "{:?}: plan {p:?}", r.values);
    }
    // Paired with the 1MB run of the same seed: 4MB saves scenario 03's 4 full syncs at 40 s
    // and changes nothing at 10 s.
    let md = sweep_md(name, &axes, &seeds, &one, None);
    let row = |others: &str| {
        md.lines()
            .find(|l| {
                l.starts_with(&format!(
                    "| 4MB | fault.partition.duration = {others} | 1 |"
                ))
            })
            .unwrap_or_else(|| panic!("no paired row for {others}: {md}"))
            .to_string()
    };
    assert!(row("40s").contains("| -4.00 |"), "{}", row("40s"));
    assert!(
        row("10s").ends_with("| +0 | +0.00 | +0.0 |"),
        "{}",
        row("10s")
    );
    // The planner's answer: a 10 s outage fits in 1 MB, a 40 s one needs 4 MB.
    let md = sweep_md(name, &axes, &seeds, &one, None);
    assert!(
        md.contains("* fault.partition.duration = 10s: **1MB**"),
        "{md}"
    );
    assert!(
        md.contains("* fault.partition.duration = 40s: **4MB**"),
        "{md}"
    );
}

#[test]
fn cells_with_the_same_seed_share_the_workload() {
    // Common random numbers: the backlog size does not change what is written, so with a
    // short partition (no full sync either way) the WAN bytes are identical.
    let axes = vec![
        parse_axis("replication.backlog_size=2MB,8MB").unwrap(),
        Axis {
            path: "fault.partition.duration".into(),
            values: vec!["10s".into()],
        },
    ];
    let r = run_sweep(&scenario(), &axes, &[5], 1).unwrap();
    assert_eq!(r[0].summary.totals.writes, r[1].summary.totals.writes);
    assert_eq!(
        r[0].summary.totals.stream_bytes,
        r[1].summary.totals.stream_bytes
    );
}

#[test]
fn bad_axes_and_seeds_are_refused_with_the_reason() {
    assert!(
        parse_axis("replication.backlog_size")
            .unwrap_err()
            .contains("expected path=value")
    );
    assert!(parse_seeds("9..3").unwrap_err().contains("inclusive range"));
    let axes = vec![parse_axis("replication.backlog_sise=1MB").unwrap()];
    let e = run_sweep(&scenario(), &axes, &[1], 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `backlog_sise`"), "{e}");
    let axes = vec![parse_axis("fault.meteor.duration=1s").unwrap()];
    let e = run_sweep(&scenario(), &axes, &[1], 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no such field in the scenario to set"), "{e}");
}

fn geosim(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_geosim"))
        .args(args)
        .current_dir(super::root())
        .output()
        .expect("the binary runs");
    let err = String::from_utf8(out.stderr).unwrap();
    (out.status.code().expect("exited normally"), err)
}

#[test]
fn shards_merged_give_the_files_of_the_whole_sweep() {
    let base = std::env::temp_dir().join(format!("geosim-shard-{}", std::process::id()));
    let dir = |n: &str| base.join(n).display().to_string();
    let sweep = |out: &str, shard: Option<&str>| {
        let mut args = vec![
            "sweep",
            "scenarios/03-backlog-overflow-full-sync.toml",
            "--set",
            "replication.backlog_size=1MB,4MB",
            "--set",
            "fault.partition.duration=10s",
            "--seeds",
            "1..2",
            "--full-sync-target",
            "50%",
            "--out",
            out,
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let (code, err) = geosim(&args);
        assert_eq!(code, 0, "{err}");
        // The progress bar is for terminals: with stderr captured, nothing is drawn.
        assert!(err.is_empty(), "{err}");
    };
    sweep(&dir("whole"), None);
    sweep(&dir("s1"), Some("1/3"));
    sweep(&dir("s2"), Some("2/3"));
    sweep(&dir("s3"), Some("3/3"));
    // Merging is order-independent; leaving a shard out or giving one twice is refused.
    let (code, err) = geosim(&[
        "merge",
        &dir("s3"),
        &dir("s1"),
        &dir("s2"),
        "--out",
        &dir("m"),
    ]);
    assert_eq!(code, 0, "{err}");
    let mut files: Vec<String> = ["sweep.csv", "sweep.md", "sweep.json"]
        .map(String::from)
        .to_vec();
    for c in geosim::sweep::SWEEP_CHARTS {
        files.push(format!("{c}.svg"));
        files.push(format!("{c}.png"));
    }
    for f in &files {
        let whole = std::fs::read(base.join("whole").join(f)).unwrap();
        let merged = std::fs::read(base.join("m").join(f)).unwrap();
        assert!(whole == merged, "{f} differs after merging");
        if f.ends_with(".png") {
            let img = image::load_from_memory(&whole).expect("the PNG decodes");
            assert_eq!((img.width(), img.height()), (1000, 560));
        }
        if f.ends_with(".svg") {
            let svg = String::from_utf8(whole).unwrap();
            assert!(
                svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
                "{f}"
            );
            assert!(
                svg.contains("replication.backlog_size"),
                "{f} lacks its axis label"
            );
        }
    }
    // The full-sync target travels in sweep.json, so the merged sweep.md answers with it too.
    let md = std::fs::read_to_string(base.join("m").join("sweep.md")).unwrap();
    assert!(md.contains("full-sync rate of at most 50%"), "{md}");
    // A shard writes no sweep.md and no charts: they need every cell.
    assert!(!base.join("s1").join("sweep.md").exists());
    assert!(!base.join("s1").join("wan_bytes.svg").exists());
    let (code, err) = geosim(&["merge", &dir("s1"), &dir("s2"), "--out", &dir("bad")]);
    assert_eq!(code, 2);
    assert!(
        err.contains("some shard is missing or given twice"),
        "{err}"
    );
    let (code, err) = geosim(&[
        "merge",
        &dir("s1"),
        &dir("s1"),
        &dir("s2"),
        &dir("s3"),
        "--out",
        &dir("bad"),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("some shard is missing or given twice"),
        "{err}"
    );
    let (code, err) = geosim(&[
        "sweep",
        "scenarios/03-backlog-overflow-full-sync.toml",
        "--set",
        "replication.backlog_size=1MB",
        "--shard",
        "4/3",
        "--out",
        &dir("bad"),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("1 <= K <= N"), "{err}");
    std::fs::remove_dir_all(&base).ok();
}

#[test]
fn a_scenario_carries_its_own_sweep() {
    use geosim::scenario::{LoadOptions, load, parse};
    let s = load(&scenario(), &LoadOptions::default()).unwrap();
    assert_eq!(
        s.sweep.axes,
        vec![
            parse_axis("replication.backlog_size=1MB,2MB,4MB,8MB").unwrap(),
            parse_axis("fault.partition.duration=10s,40s").unwrap(),
        ]
    );
    assert_eq!(s.sweep.seeds, Some(vec![1, 2, 3]));
    let text = "[run]\nduration = \"1m\"\n[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n\
                [workload]\nrate = \"1k/s\"\n[sweep]\nset = [\"replication.backlog_size\"]\n\
                seeds = \"9..3\"\nfull_sync_target = \"5\"\n";
    let e = parse(text, "bad.toml", &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "bad.toml:10:8: sweep.set[0] = \"replication.backlog_size\": expected path=value"
        ),
        "{e}"
    );
    assert!(e.contains("sweep.seeds = \"9..3\": expected a seed"), "{e}");
    assert!(
        e.contains("sweep.full_sync_target = \"5\": expected a share of runs from 0 to 1"),
        "{e}"
    );
}

/// A sweep over fidelity marks each row: `exact`, or `sampled 1/N`, whose
/// `clock_inverted_wins` is an estimate; the byte-level figures agree between the two.
#[test]
fn sampled_rows_of_a_sweep_are_marked() {
    let axes = vec![parse_axis("run.fidelity=exact,sampled").unwrap()];
    let seeds = parse_seeds("1").unwrap();
    let path = super::root().join("scenarios/02-partition-and-heal.toml");
    let r = rows(&run_sweep(&path, &axes, &seeds, 2).unwrap());
    assert_eq!(r[0].fidelity, "exact");
    assert_eq!(r[1].fidelity, "sampled 1/64");
    assert_eq!(
        (r[0].stream_bytes, r[0].partial_syncs, r[0].full_syncs),
        (r[1].stream_bytes, r[1].partial_syncs, r[1].full_syncs)
    );
    let csv = sweep_csv(&axes, &r);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",trace_digest,fidelity"),
        "{csv}"
    );
    assert!(
        csv.lines().nth(2).unwrap().ends_with(",sampled 1/64"),
        "{csv}"
    );
}
