//! The binary: exit codes, output shapes, files written.

use std::process::Command;

fn geosim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_geosim"))
        .args(args)
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

#[test]
fn plan_prints_the_closed_form_figures_and_refuses_bad_units() {
    let (code, out, _) = geosim(&[
        "plan",
        "--rate",
        "20k/s",
        "--outage",
        "10m",
        "--peers",
        "3",
        "--backlog",
        "250MB",
    ]);
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
