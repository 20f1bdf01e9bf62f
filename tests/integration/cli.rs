//! The binary: exit codes, output shapes, files written.

use std::process::Command;

pub(super) fn geosim(args: &[&str]) -> (i32, String, String) {
    geosim_env(&[], args)
}

/// Runs the binary with extra environment variables.
fn geosim_env(env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_geosim"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(super::root())
        .output()
        .expect("the binary runs");
    (
        out.status.code().expect("exited normally"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn run_prints_the_seed_first_and_the_reproduce_command_last() {
    let (code, out, _) = geosim(&["run", "scenarios/01-two-regions-steady.toml", "--seed", "5"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("seed 5  scenario scenarios/01-two-regions-steady.toml\n"),
        "{out}"
    );
    assert!(out.contains("verdict: converged"));
    assert!(
        out.trim_end()
            .ends_with("reproduce: geosim run scenarios/01-two-regions-steady.toml --seed 5"),
        "{out}"
    );
}

#[test]
fn json_output_and_the_out_directory_hold_the_same_summary() {
    let dir = std::env::temp_dir().join(format!("geosim-cli-test-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let (code, out, _) = geosim(&[
        "run",
        "scenarios/01-two-regions-steady.toml",
        "--json",
        "--out",
        d,
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("stdout is JSON");
    assert_eq!(v["seed"], 42);
    assert_eq!(v["converged"], true);
    assert_eq!(
        v["reproduce"],
        "geosim run scenarios/01-two-regions-steady.toml --seed 42"
    );
    let file = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert_eq!(file, out);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_exits_2_with_the_file_and_field() {
    let (code, _, err) = geosim(&["run", "no/such/file.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("no/such/file.toml"), "{err}");
    let dir = std::env::temp_dir().join(format!("geosim-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.toml");
    std::fs::write(&f, "[run]\nduration = \"forever\"\n").unwrap();
    let (code, _, err) = geosim(&["validate", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.toml:2:12: run.duration = \"forever\": expected a duration"),
        "{err}"
    );
    let (code, _, _) = geosim(&["run"]);
    assert_eq!(code, 2, "a missing argument is bad usage");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn validate_describes_a_valid_scenario() {
    let (code, out, _) = geosim(&["validate", "scenarios/02-partition-and-heal.toml"]);
    assert_eq!(code, 0);
    assert!(out.contains("scenarios/02-partition-and-heal.toml: valid"));
    assert!(
        out.contains("partition (drop) us-east cut: t=60s to t=180s, 2 cluster pair(s)"),
        "{out}"
    );
}

#[test]
fn no_convergence_by_the_deadline_exits_3() {
    let dir = std::env::temp_dir().join(format!("geosim-cli-slow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("slow.toml");
    // 2 Mbit/s cannot carry 500 writes/s of 1 KB: a backlog of minutes, 1 s to drain it.
    std::fs::write(
        &f,
        "[run]\nduration = \"20s\"\nconverge_deadline = \"1s\"\n[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n[network]\nbandwidth = \"2Mbit/s\"\n[replication]\ncompression = 0\n[workload]\nrate = \"500/s\"\nvalue_size = \"1KB\"\n",
    )
    .unwrap();
    let (code, out, err) = geosim(&["run", f.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        out.contains("verdict: not converged by the deadline"),
        "{out}"
    );
    assert!(
        err.contains("no convergence within run.converge_deadline"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A minimal well-formedness check of XML: every tag closes in order.
fn xml_well_formed(x: &str) -> bool {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = x;
    while let Some(i) = rest.find('<') {
        let Some(j) = rest[i..].find('>') else {
            return false;
        };
        let tag = &rest[i + 1..i + j];
        rest = &rest[i + j + 1..];
        if tag.starts_with('?') || tag.ends_with('/') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            if stack.pop().as_deref() != Some(name) {
                return false;
            }
        } else {
            stack.push(tag.split_whitespace().next().unwrap_or("").to_string());
        }
    }
    stack.is_empty()
}

#[test]
fn check_runs_what_has_expectations_and_reports_for_people_ci_and_scripts() {
    let base = std::env::temp_dir().join(format!("geosim-check-{}", std::process::id()));
    std::fs::create_dir_all(&base).unwrap();
    let junit = base.join("junit.xml").display().to_string();
    let (code, out, err) = geosim(&[
        "check",
        "tests/data/check/pass.toml",
        "tests/data/check/fail.toml",
        "tests/data/check/none.toml",
        "--junit",
        &junit,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("PASS"), "{out}");
    assert!(
        out.contains("tests/data/check/fail.toml\n      step 3 on I1: GET k: expected \"a\", got \"b\"\n      expect.full_syncs: expected 3, got 0\n"),
        "{out}"
    );
    assert!(
        out.ends_with("1 passed, 1 failed (1 without expectations not run)\n"),
        "{out}"
    );
    let x = std::fs::read_to_string(&junit).unwrap();
    assert!(xml_well_formed(&x), "{x}");
    assert!(x.contains("tests=\"2\" failures=\"1\" errors=\"0\""), "{x}");
    assert_eq!(x.matches("<testcase ").count(), 2);
    // All passing: exit 0. JSON for scripts.
    let (code, out, _) = geosim(&["check", "tests/data/check/pass.toml", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["passed"], 1);
    assert_eq!(v["scenarios"][0]["status"], "pass");
    // An invalid file is reported with its error, and makes the exit code 2.
    let (code, out, _) = geosim(&["check", "tests/data/check/invalid"]);
    assert_eq!(code, 2);
    assert!(
        out.contains("run.duration = \"ten seconds\": expected a duration"),
        "{out}"
    );
    // A stale pinned digest fails; --bless rewrites it (and says so), then it passes.
    let pinned = base.join("pinned.toml");
    std::fs::copy("tests/data/check/pinned/pinned.toml", &pinned).unwrap();
    let p = pinned.display().to_string();
    let (code, out, _) = geosim(&["check", &p]);
    assert_eq!(code, 1);
    assert!(
        out.contains("expect.digest: expected 0000000000000000, got "),
        "{out}"
    );
    let (code, out, _) = geosim(&["check", &p, "--bless"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("blessed: digest 0000000000000000 -> "),
        "{out}"
    );
    let text = std::fs::read_to_string(&pinned).unwrap();
    assert!(
        !text.contains("0000000000000000") && text.contains("# stale on purpose"),
        "{text}"
    );
    let (code, _, _) = geosim(&["check", &p]);
    assert_eq!(code, 0);
    // Another seed is another history: the pin does not apply to it.
    let (code, _, _) = geosim(&["run", "tests/data/check/pinned/pinned.toml", "--seed", "2"]);
    assert_eq!(code, 0);
    let (code, _, err) = geosim(&["check", "no/such/folder"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no/such/folder: no such file or folder"),
        "{err}"
    );
    std::fs::remove_dir_all(&base).ok();
}

#[test]
fn schema_and_completions_are_printed() {
    let (code, out, _) = geosim(&["schema"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["title"], "geosim scenario");
    assert!(v["properties"]["replication"]["properties"]["backlog_size"].is_object());
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, _) = geosim(&["completions", shell]);
        assert_eq!(code, 0);
        for sub in ["run", "sweep", "check", "plan", "merge"] {
            assert!(out.contains(sub), "{shell} completions lack {sub}");
        }
    }
    let (code, _, err) = geosim(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
}

#[test]
fn seeds_beyond_the_documented_range_are_refused() {
    // 0 to 2^63-1, the range a scenario file's run.seed can hold.
    let (code, _, err) = geosim(&[
        "run",
        "scenarios/01-two-regions-steady.toml",
        "--seed",
        "9223372036854775808",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("expected a seed from 0 to 9223372036854775807"),
        "{err}"
    );
    let (code, _, err) = geosim(&[
        "hunt",
        "--seeds",
        "9223372036854775807..9223372036854775808",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("each from 0 to 9223372036854775807"), "{err}");
}

/// Runs the binary with a planted merge bug (a build with the `planted-bugs` feature).
#[cfg(feature = "planted-bugs")]
fn geosim_planted(bug: &str, args: &[&str]) -> (i32, String, String) {
    geosim_env(&[("GEOSIM_PLANTED_BUG", bug)], args)
}

#[test]
#[cfg(feature = "planted-bugs")]
fn hunt_finds_and_shrinks_every_planted_bug() {
    let base = std::env::temp_dir().join(format!("geosim-hunt-{}", std::process::id()));
    // (bug, seeds to hunt, the first failing seed, how): the stated number of seeds within
    // which each is found. Dropping a concurrent increment and last-arrival-wins show up at
    // once (the first through the reference oracle, at seed 1, before seed 2 diverges);
    // remove-wins only when a concurrent re-add is not re-added again later, so it is rarer.
    // An increment off by one everywhere leaves the instances agreeing: only the reference
    // oracle (what the acknowledged writes make) sees it; so do a ZINCRBY applied twice
    // everywhere and a list order that breaks ties the wrong way everywhere.
    // The replication-path bugs lose ops on the way to a peer: a backlog overflowed by a
    // partition, a full sync with writes during the transfer, a failover. Seed ranges end at
    // the first failing seed (a hunt runs 64 seeds at a time: a longer range costs more).
    let cases = [
        ("lww-arrival", "1..2", 2, "diverged"),
        ("drop-concurrent-incr", "1..1", 1, "wrong value"),
        ("remove-wins", "1..513", 513, "diverged"),
        ("incr-off-by-one", "1..1", 1, "wrong value"),
        ("zincrby-twice", "1..17", 17, "wrong value"),
        ("list-tie-order", "1..3", 3, "wrong value"),
        ("partial-after-overflow", "1..7", 7, "diverged"),
        ("snapshot-without-tail", "1..8", 8, "diverged"),
        ("offset-reuse-after-failover", "1..1", 1, "diverged"),
    ];
    for (bug, seeds, first, how) in cases {
        let out_dir = base.join(bug);
        let dir = out_dir.display().to_string();
        let (code, out, err) = geosim_planted(
            bug,
            &[
                "hunt",
                "--seeds",
                seeds,
                "--max-failures",
                "1",
                "--shrink",
                "--budget",
                "150",
                "--out",
                &dir,
            ],
        );
        assert_eq!(code, 1, "{bug}: {out}{err}");
        assert!(
            out.starts_with(&format!("seed {first}: {how}")),
            "{bug}: {out}"
        );
        assert!(
            out.contains(&format!("reproduce: geosim hunt --seeds {first}")),
            "{out}"
        );
        // The shrunk scenario is small and reproduces with geosim run (with the bug planted).
        let min = out_dir.join(format!("seed-{first}-min.toml"));
        let text = std::fs::read_to_string(&min).unwrap();
        let steps = text.matches("cmd = ").count();
        let faults = text.matches("[[fault]]").count();
        let clusters = text.matches("[[cluster]]").count();
        if bug.contains("over") || bug.contains("snapshot") || bug.contains("failover") {
            // A replication-path bug needs the fault that takes its path.
            assert!(
                faults <= 1 && clusters == 2 && steps <= 8,
                "{bug}: not small:\n{text}"
            );
        } else {
            assert!(faults == 0 && steps <= 8, "{bug}: not small:\n{text}");
        }
        let m = min.display().to_string();
        if how == "diverged" {
            let (code, out, _) = geosim_planted(bug, &["run", &m]);
            assert_eq!(code, 1, "{bug}: {out}");
            assert!(out.contains("verdict: diverged"), "{out}");
        }
        // Without the planted bug the same scenario converges.
        let (code, _, _) = geosim(&["run", &m]);
        assert_eq!(code, 0, "{bug}: the shrunk scenario fails without the bug");
    }
    // Without planted bugs a hunt over the same seeds finds nothing.
    let (code, out, _) = geosim(&["hunt", "--seeds", "1..64"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("64 seed(s) checked, 0 failed\n"), "{out}");
    std::fs::remove_dir_all(&base).ok();
}

#[test]
#[cfg(feature = "planted-bugs")]
fn a_reader_that_closes_the_pipe_early_stops_geosim_quietly() {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_geosim"))
        .args([
            "hunt",
            "--seeds",
            "1..40",
            "--max-failures",
            "40",
            "--shrink",
            "--budget",
            "3",
        ])
        .env("GEOSIM_PLANTED_BUG", "lww-arrival")
        .current_dir(super::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone (stdout dropped); geosim's further output has nowhere to go.
    let out = child.wait_with_output().unwrap();
    assert!(first.starts_with("seed "), "{first}");
    assert_eq!(out.status.code(), Some(141));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_peer_comparison_says_why_it_cannot_run() {
    // A folder without the SimPy model: the comparison is skipped, with the reason, and the
    // bench does not fail (CI machines need not have Python).
    let empty = std::env::temp_dir().join(format!("geosim-no-simpy-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let (code, out, err) = geosim(&["bench", "--peer", "--simpy", &empty.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("side by side with the SimPy model"), "{out}");
    assert!(
        out.contains("skipped:") && out.contains("has no geo_simpy.py"),
        "{out}"
    );
    std::fs::remove_dir_all(&empty).ok();
}

#[test]
fn the_scaling_bench_is_one_comparison_at_a_time() {
    // `--scaling` and `--peer` are different measurements: asking for both is refused with
    // the usage error's exit code, before anything runs.
    let (code, _, err) = geosim(&["bench", "--scaling", "--peer"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--scaling") && err.contains("--peer"), "{err}");
    // So is `--floor` with any other.
    for other in ["--peer", "--scaling", "--fidelity"] {
        let (code, _, err) = geosim(&["bench", "--floor", other]);
        assert_eq!(code, 2, "{other}: {err}");
        assert!(err.contains("--floor") && err.contains(other), "{err}");
    }
}

#[test]
fn run_set_changes_fields_and_the_reproduce_command_carries_them() {
    let args = [
        "run",
        "benches/peer.toml",
        "--set",
        "run.duration=2s",
        "--set",
        "replication.batch_window=5ms",
    ];
    let (code, out, err) = geosim(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(2.000 s of writes)"), "{out}");
    let last = out.trim_end().lines().last().unwrap();
    assert_eq!(
        last,
        "reproduce: geosim run benches/peer.toml --seed 1 --set run.duration=2s --set replication.batch_window=5ms"
    );
    // The reproduce command gives the same run.
    let again: Vec<&str> = last["reproduce: geosim ".len()..].split(' ').collect();
    let (code, out2, _) = geosim(&again);
    assert_eq!(code, 0);
    assert_eq!(out, out2);
}

#[test]
fn run_set_refuses_what_is_not_a_field_or_not_valid() {
    let (code, _, err) = geosim(&[
        "run",
        "scenarios/01-two-regions-steady.toml",
        "--set",
        "seed",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--set \"seed\": expected PATH=VALUE"), "{err}");
    let (code, _, err) = geosim(&[
        "run",
        "scenarios/01-two-regions-steady.toml",
        "--set",
        "replication.batch_window=2s",
    ]);
    assert_eq!(code, 2);
    // No line number: the value was not written in the file.
    assert!(
        err.contains(
            "scenarios/01-two-regions-steady.toml: replication.batch_window = \"2s\": expected a duration from \"0s\""
        ),
        "{err}"
    );
    let (code, _, err) = geosim(&[
        "run",
        "scenarios/01-two-regions-steady.toml",
        "--set",
        "cluster[7].shards=2",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("cluster[7].shards"), "{err}");
}

#[test]
fn hunt_reports_which_paths_its_seeds_went_through_and_reaches_each() {
    let (code, out, err) = geosim(&["hunt", "--seeds", "1..300"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("300 seed(s) checked, 0 failed\n"), "{out}");
    let table: Vec<(&str, u64)> = out
        .lines()
        .skip_while(|l| !l.starts_with("coverage: seeds (of 300)"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let n = words[words.len() - 2].parse().expect("a count");
            (l.trim_start(), n)
        })
        .collect();
    assert_eq!(table.len(), 33, "{out}");
    // Every path is reached, the capacity-planning ones included.
    for (line, n) in &table {
        assert!(*n >= 1, "no seed reached: {line}");
    }
    // A healthy share (3 % or more) for the capacity-planning, membership and
    // consistency paths (measured 2026-12-01 over seeds 1..300: overflow 5 %, OOM stops
    // 4 %, joins 15 %, forced removals 9 %, causal buffering 8 %). Failed full syncs are
    // rarer (1.3 %: a thin link, a small backlog and a heal while writes go on).
    for path in [
        "full sync after a backlog overflow",
        "eviction",
        "replication stopped by OOM",
        "partial resync",
        "crash",
        "script: lists",
        "cluster added (join)",
        "cluster removed after draining",
        "cluster removed by force",
        "writes lost to a removal",
        "causal buffering (an op waited)",
        "centralized sync",
        "script: streams, non-strict IDs",
        "script: stream consumer groups",
        "script: JSON",
    ] {
        let n = table.iter().find(|(l, _)| l.starts_with(path)).unwrap().1;
        assert!(n >= 9, "{path}: {n} of 300 seeds");
    }
}

/// A sweep checks what it can before running anything: a bad axis value is reported as the
/// `--set` that gave it; seeds alone make a sweep; a reused `--out` keeps nothing of an
/// earlier sweep.
#[test]
fn sweep_checks_first_sweeps_seeds_alone_and_leaves_no_stale_files() {
    let base = std::env::temp_dir().join(format!("geosim-sweep-checks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let out = base.join("out");
    let out_s = out.display().to_string();
    let scenario = "scenarios/01-two-regions-steady.toml";
    let (code, _, err) = geosim(&[
        "sweep",
        scenario,
        "--set",
        "replication.backlog_size=2MB,12XB",
        "--out",
        &out_s,
    ]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: --set replication.backlog_size=12XB: "),
        "{err}"
    );
    assert!(!out.join("sweep.csv").exists(), "nothing ran");
    // Seeds alone: one cell per seed.
    let (code, out_text, err) = geosim(&["sweep", scenario, "--seeds", "1..3", "--out", &out_s]);
    assert_eq!(code, 0, "{err}");
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(out.join("sweep.md").exists(), "{out_text}");
    // A shard into the same directory: the whole sweep's sweep.md does not stay.
    let (code, _, err) = geosim(&[
        "sweep", scenario, "--seeds", "1..3", "--shard", "1/2", "--out", &out_s,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.join("sweep.md").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("sweep.csv"))
            .unwrap()
            .lines()
            .count(),
        3
    );
    let _ = std::fs::remove_dir_all(&base);
}

/// A warning of a scenario run with `--set` points into the file as written, as errors do.
#[test]
fn warnings_point_into_the_file_as_written_under_set() {
    // A shorter run misses one of the scenario's expectations (exit 1): the warning is the
    // point here. The text summary lists warnings.
    let (code, out, err) = geosim(&[
        "run",
        "scenarios/04-clock-drift-lww.toml",
        "--set",
        "run.duration=20s",
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let line = out
        .lines()
        .find(|l| l.contains("cluster[1].ntp"))
        .unwrap_or_else(|| panic!("{out}"));
    let text = std::fs::read_to_string("scenarios/04-clock-drift-lww.toml").unwrap();
    let want = 1 + text
        .lines()
        .position(|l| l.trim_start().starts_with("ntp = false"))
        .unwrap();
    assert!(
        line.contains(&format!("04-clock-drift-lww.toml:{want}:")),
        "{line} (ntp is on line {want})"
    );
}

/// Inputs that cannot be right are refused at once: a scenario file that is not one (too
/// large: /dev/zero would grow without bound), a folder with no scenarios for `check`, and
/// an output that is a file.
#[test]
fn impossible_inputs_are_refused_before_anything_runs() {
    let (code, _, err) = geosim(&["validate", "/dev/zero"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("/dev/zero") && err.contains("larger than 4194304 bytes"),
        "{err}"
    );
    let base = std::env::temp_dir().join(format!("geosim-refusals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(base.join("empty")).unwrap();
    let empty = base.join("empty").display().to_string();
    let (code, _, err) = geosim(&["check", &empty]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no scenario files") && err.contains(&empty),
        "{err}"
    );
    let file = base.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let file = file.display().to_string();
    for flag in ["--out", "--report"] {
        let (code, out, err) =
            geosim(&["run", "scenarios/01-two-regions-steady.toml", flag, &file]);
        assert_eq!(code, 2, "{flag}");
        assert!(out.is_empty(), "nothing ran: {out}");
        assert!(err.contains("a file, not a directory"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// The packages `cargo tree` lists for the library's normal dependencies with `features`.
fn library_dependencies(features: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none"])
        .args(features)
        .current_dir(super::root())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The `cli` feature (default on) carries the command line's dependencies; another crate that
/// turns it off gets the simulator without them.
#[test]
fn the_library_without_the_cli_feature_leaves_out_the_command_lines_dependencies() {
    let cli_only = [
        "clap",
        "clap_complete",
        "clap_mangen",
        "indicatif",
        "plotters",
        "dejavu",
        "rayon",
    ];
    let full = library_dependencies(&[]);
    let bare = library_dependencies(&["--no-default-features"]);
    for name in cli_only {
        assert!(
            full.contains(&name.to_string()),
            "{name} is in the default build"
        );
        assert!(
            !bare.contains(&name.to_string()),
            "{name} without `cli`: {bare:?}"
        );
    }
    for name in ["geosim", "rand_chacha", "serde", "toml", "petgraph"] {
        assert!(bare.contains(&name.to_string()), "{name} stays: {bare:?}");
    }
}
