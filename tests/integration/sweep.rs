//! Sweeps: deterministic for any thread count, common random numbers, the planner's answer.

use geosim::sweep::{Axis, parse_axis, parse_seeds, run_sweep, sweep_csv, sweep_md};

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
    assert_eq!(sweep_csv(&axes, &one), sweep_csv(&axes, &two));
    let name = "scenarios/03-backlog-overflow-full-sync.toml";
    assert_eq!(
        sweep_md(name, &axes, &seeds, &one),
        sweep_md(name, &axes, &seeds, &two)
    );
    // The planner's answer: a 10 s outage fits in 1 MB, a 40 s one needs 4 MB.
    let md = sweep_md(name, &axes, &seeds, &one);
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
    assert!(e.contains("no such field in the scenario to sweep"), "{e}");
}
