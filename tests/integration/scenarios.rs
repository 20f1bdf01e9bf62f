//! Every bundled scenario meets its own `[expect]` table and step expectations.

use geosim::report::run_and_judge;
use geosim::scenario::{LoadOptions, load};

fn check(name: &str) {
    let path = super::root().join("scenarios").join(name);
    let s = load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !s.outcomes.is_empty() || !s.expectations.is_empty(),
        "{name} states no expectation"
    );
    let j = run_and_judge(&s);
    let failed: Vec<String> = j
        .expectations
        .iter()
        .filter(|e| !e.pass)
        .map(|e| e.render())
        .collect();
    assert!(failed.is_empty(), "{name}:\n{}", failed.join("\n"));
}

#[test]
fn scenario_01_two_regions_steady() {
    check("01-two-regions-steady.toml");
}

#[test]
fn scenario_02_partition_and_heal() {
    check("02-partition-and-heal.toml");
}

#[test]
fn scenario_03_backlog_overflow_full_sync() {
    check("03-backlog-overflow-full-sync.toml");
}

#[test]
fn scenario_04_clock_drift_lww() {
    check("04-clock-drift-lww.toml");
}

#[test]
fn scenario_05_five_region_mesh() {
    check("05-five-region-mesh.toml");
}

#[test]
fn scenario_06_crash_and_recover() {
    check("06-crash-and-recover.toml");
}

#[test]
fn scenario_07_full_sync_loop() {
    check("07-full-sync-loop.toml");
}

#[test]
fn scenario_08_add_a_region() {
    check("08-add-a-region.toml");
}

#[test]
fn scenario_09_thin_link_lag() {
    check("09-thin-link-lag.toml");
}

#[test]
fn scenario_10_production_mix() {
    check("10-production-mix.toml");
}

/// A generated workload that deletes (keys, and elements popped from queues) leaves removal
/// history that a partition keeps from being collected: it piles up while the regions
/// cannot see each other and is collected after the heal. Shares split the writes.
#[test]
fn a_generated_delete_heavy_workload_piles_up_tombstones_during_a_partition() {
    let text = |partition: bool| {
        format!(
            "[run]\nseed = 3\nduration = \"40s\"\n\
             [[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n\
             [workload]\nrate = \"400/s\"\nkeys = 300\nmembers = 8\n\
             shares = {{ a = 3, b = 1 }}\n\
             [workload.mix]\nset = 1\nhset = 2\nsadd = 1\nrpush = 1\nlpop = 1\ndel = 2\n{}",
            if partition {
                "[[fault]]\nkind = \"partition\"\nbegin = \"10s\"\nduration = \"20s\"\nisolate = [\"b\"]\n"
            } else {
                ""
            }
        )
    };
    let run = |partition: bool| {
        let s = super::inline(&text(partition));
        geosim::sim::run_scenario(&s)
    };
    let (calm, c1) = run(false);
    let (cut, c2) = run(true);
    for (r, c) in [(&calm, &c1), (&cut, &c2)] {
        assert_eq!(c.verdict, geosim::check::Verdict::Converged);
        assert!(r.tombstones_collected > 1_000, "{}", r.tombstones_collected);
        assert_eq!(
            r.tombstones.iter().map(|t| t.0).sum::<u64>(),
            0,
            "all collected"
        );
        // a takes three quarters of the writes.
        let (a, b) = (r.clusters[0].writes as f64, r.clusters[1].writes as f64);
        assert!((a / (a + b) - 0.75).abs() < 0.02, "{a} {b}");
    }
    let (calm_max, cut_max) = (calm.peaks.tombstones_max, cut.peaks.tombstones_max);
    assert!(
        cut_max > 5 * calm_max.max(1),
        "held at most {calm_max} without the partition, {cut_max} with it"
    );
}

#[test]
fn every_numbered_scenario_has_a_test() {
    let src =
        std::fs::read_to_string(super::root().join("tests/integration/scenarios.rs")).unwrap();
    for e in std::fs::read_dir(super::root().join("scenarios")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".toml") {
            assert!(
                src.contains(&format!("check(\"{name}\")")),
                "{name} has no test"
            );
        }
    }
}

#[test]
fn every_frozen_regression_converges() {
    let mut n = 0;
    for e in std::fs::read_dir(super::root().join("scenarios/regressions")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".toml") {
            let path = format!("regressions/{name}");
            let text =
                std::fs::read_to_string(super::root().join("scenarios").join(&path)).unwrap();
            assert!(
                text.starts_with("# Regression: found by `geosim hunt"),
                "{name}"
            );
            assert!(
                text.contains("# What broke:"),
                "{name} does not say what broke"
            );
            check(&path);
            n += 1;
        }
    }
    assert!(n >= 5, "{n} regressions");
}

/// With perfect clocks no last-write-wins decision is a clock error: scenario 01's
/// same-millisecond pairs are ties settled by instance id, counted apart.
#[test]
fn perfect_clocks_give_ties_but_no_clock_inverted_wins() {
    let s = super::bundled("01-two-regions-steady.toml", None);
    let (r, _) = geosim::sim::run_scenario(&s);
    assert!(r.lww.conflicts > 0);
    assert_eq!(r.lww.clock_inverted, 0, "{:?}", r.lww.examples.first());
    assert!(
        r.lww.ties > 0 && r.lww.ties < r.lww.conflicts,
        "{:?}",
        r.lww
    );
    // A drifting clock does invert wins, and its ties stay apart from them.
    let s = super::bundled("04-clock-drift-lww.toml", None);
    let (r, _) = geosim::sim::run_scenario(&s);
    assert!(r.lww.clock_inverted >= 100);
    assert!(
        r.lww
            .examples
            .iter()
            .all(|x| x.winner.clock_ms > x.loser.clock_ms)
    );
}

/// A command Active-Active refuses is an error reply a script can expect, with the reason;
/// a command geosim does not model is never an expected outcome (the scenario is invalid),
/// and the two errors say different things.
#[test]
fn refusals_are_expected_errors_and_unmodelled_commands_are_invalid() {
    let script = |cmd: &str, expect: &str| {
        format!(
            "[run]\nseed = 1\n[[cluster]]\nname = \"I1\"\n[[cluster]]\nname = \"I2\"\n\
             [[step]]\non = \"I1\"\ncmd = \"SET k v\"\n\
             [[step]]\non = \"I1\"\ncmd = \"{cmd}\"\nexpect_error = \"{expect}\"\n"
        )
    };
    for (cmd, expect) in [
        (
            "FLUSHALL",
            "ERR FLUSHALL is not supported in an Active-Active database: it is not allowed from clients",
        ),
        (
            "OBJECT ENCODING k",
            "ERR OBJECT ENCODING is not supported in an Active-Active database: the CRDT types have their own encodings",
        ),
        (
            "WAIT 1 0",
            "ERR WAIT is not supported in an Active-Active database: it cannot wait for other instances",
        ),
        (
            "VADD v VALUES 1 0.5 e",
            "ERR VADD is not supported in an Active-Active database: vector sets",
        ),
        ("GET", "ERR wrong number of arguments for 'get' command"),
    ] {
        let s = super::inline(&script(cmd, expect));
        let judged = geosim::report::run_and_judge(&s);
        assert_eq!(
            judged.summary.expectations_failed, 0,
            "{cmd}: {:?}",
            judged.expectations
        );
    }
    // The expectation is checked: a wrong one fails.
    let s = super::inline(&script("FLUSHALL", "OK"));
    assert_eq!(
        geosim::report::run_and_judge(&s)
            .summary
            .expectations_failed,
        1
    );
    // Not modelled: invalid even with expect_error, and never worded as a refusal.
    let e = super::inline_error(&script("LCS a b", "ERR"));
    assert!(
        e.contains("LCS is a Redis command that geosim does not model"),
        "{e}"
    );
    assert!(!e.contains("Active-Active"), "{e}");
}

/// A `[[fault_process]]` of scenario text `process` on a 3-region scenario of `duration`.
fn with_process(duration: &str, rate: &str, process: &str) -> String {
    format!(
        "[run]\nseed = 7\nduration = \"{duration}\"\n\
         [[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n[[cluster]]\nname = \"c\"\n\
         [workload]\nrate = \"{rate}\"\n{process}"
    )
}

const WAN_CUT: &str = "[[fault_process]]\nname = \"wan-cut\"\nisolate = [\"c\"]\nevery = \"10m\"\n\
     duration = { dist = \"lognormal\", median = \"1m\", sigma = 1.0 }\n";

/// Outages at random times: an alternating renewal process with exponential gaps of the
/// given mean, outages that never overlap, the same for a seed whatever else changes, and
/// other outages for another seed.
#[test]
fn a_fault_process_makes_random_outages_with_common_random_numbers() {
    let faults = |text: &str| super::inline(text).config.faults;
    let a = faults(&with_process("3d", "1/s", WAN_CUT));
    assert!(a.len() > 300, "{}", a.len());
    assert!(
        a.iter()
            .all(|x| x.name.starts_with("wan-cut#") && x.pairs == vec![(0, 2), (1, 2)])
    );
    for w in a.windows(2) {
        assert!(w[0].end < w[1].begin, "outages overlap: {w:?}");
    }
    // The mean gap is `every` (10 minutes), within a few percent over hundreds of outages.
    let gaps: Vec<f64> = a
        .windows(2)
        .map(|w| (w[1].begin.0 - w[0].end.0) as f64 / 1e9)
        .collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!((mean - 600.0).abs() < 60.0, "mean gap {mean} s");
    // Lognormal lengths with a median of a minute.
    let mut lengths: Vec<f64> = a
        .iter()
        .map(|x| (x.end.0 - x.begin.0) as f64 / 1e9)
        .collect();
    lengths.sort_by(f64::total_cmp);
    let median = lengths[lengths.len() / 2];
    assert!((45.0..80.0).contains(&median), "median length {median} s");
    // Common random numbers: another write rate or another process leaves these outages alone.
    let other = "[[fault_process]]\nname = \"slow\"\nkind = \"degrade\"\nlinks = [[\"a\", \"b\"]]\n\
                 latency_add = \"200ms\"\nevery = \"1h\"\nduration = \"5m\"\n";
    let b = faults(&with_process("3d", "50/s", &format!("{WAN_CUT}{other}")));
    let b_cuts: Vec<_> = b
        .iter()
        .filter(|x| x.name.starts_with("wan-cut#"))
        .cloned()
        .collect();
    assert_eq!(a, b_cuts);
    assert!(b.iter().any(|x| x.name == "slow#1"));
    // Another seed, other outages.
    let c = faults(&with_process("3d", "1/s", WAN_CUT).replace("seed = 7", "seed = 8"));
    assert_ne!(a[0].begin, c[0].begin);
}

#[test]
fn a_fault_process_runs_and_its_outages_resync() {
    let s = super::inline(&with_process("2h", "20/s", WAN_CUT));
    let n = s.config.faults.len();
    assert!(n >= 3, "{n}");
    let judged = geosim::report::run_and_judge(&s);
    assert!(judged.summary.converged, "{:?}", judged.convergence);
    assert_eq!(judged.summary.heals.len(), n, "every outage heals");
    let partial: u64 = judged.result.peers.iter().map(|p| p.partial_syncs).sum();
    assert!(
        partial >= 4 * n as u64 / 2,
        "{partial} partial syncs for {n} outages"
    );
}

#[test]
fn bad_fault_processes_are_refused_with_the_field() {
    for (process, field, says) in [
        (
            WAN_CUT.replace("every = \"10m\"", "every = \"0s\""),
            "fault_process[0].every",
            "must be above zero",
        ),
        (
            WAN_CUT.replace("isolate", "kind = \"crash\"\nisolate"),
            "fault_process[0].kind",
            "expected \"partition\" or \"degrade\"",
        ),
        (
            WAN_CUT.replace(
                "duration = { dist = \"lognormal\", median = \"1m\", sigma = 1.0 }\n",
                "",
            ),
            "fault_process[0].duration",
            "missing",
        ),
        (
            WAN_CUT
                .replace("every = \"10m\"", "every = \"1s\"")
                .replace(
                    "{ dist = \"lognormal\", median = \"1m\", sigma = 1.0 }",
                    "\"10ms\"",
                ),
            "fault_process[0].every",
            "more than 10000 outages",
        ),
        (
            WAN_CUT.replace("isolate = [\"c\"]", "isolate = [\"z\"]"),
            "fault_process[0].isolate[0]",
            "no such cluster",
        ),
    ] {
        let e = super::inline_error(&with_process("3d", "1/s", &process));
        assert!(e.contains(field) && e.contains(says), "{field}: {e}");
    }
}
