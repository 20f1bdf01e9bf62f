//! Outputs that survive: report directories written through a staging folder and moved in
//! whole, directories geosim did not write refused without --force, and a standard output
//! that cannot be written reported with its own exit code.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::cli::geosim;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("geosim-outputs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_run_killed_while_writing_its_report_leaves_nothing_that_looks_complete() {
    let d = scratch("killed");
    let dir = d.display().to_string();
    // A complete report of scenario 01 first.
    let (code, _, err) = geosim(&[
        "run",
        "scenarios/01-two-regions-steady.toml",
        "--report",
        &dir,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(names(&d).contains(&"summary.json".to_string()));
    let list = std::fs::read_to_string(d.join(".geosim-outputs")).unwrap();
    assert!(
        list.contains("status = complete\n") && list.contains("\nsummary.json\n"),
        "{list}"
    );
    // Then a longer run into the same directory, killed once it has begun writing.
    let mut child = Command::new(env!("CARGO_BIN_EXE_geosim"))
        .args([
            "run",
            "scenarios/05-five-region-mesh.toml",
            "--report",
            &dir,
        ])
        .current_dir(super::root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let staged = d.join(".geosim-staging").join("timeline.csv");
    let began = std::time::Instant::now();
    while !staged.exists() {
        assert!(
            began.elapsed().as_secs() < 120,
            "the run never began writing"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed before it finished");
    // Nothing of the first report is left beside the second one's beginnings, and the list
    // says the directory is incomplete.
    let left: Vec<String> = names(&d)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "files left: {left:?}");
    let list = std::fs::read_to_string(d.join(".geosim-outputs")).unwrap();
    assert!(list.contains("status = incomplete\n"), "{list}");
    // The next run needs no --force and leaves a complete report with no staging folder.
    let (code, _, err) = geosim(&[
        "run",
        "scenarios/01-two-regions-steady.toml",
        "--report",
        &dir,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!d.join(".geosim-staging").exists());
    let list = std::fs::read_to_string(d.join(".geosim-outputs")).unwrap();
    assert!(list.contains("status = complete\n"), "{list}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_directory_geosim_did_not_write_is_refused_unless_forced() {
    let d = scratch("foreign");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("notes.txt"), "mine").unwrap();
    let dir = d.display().to_string();
    for args in [
        vec![
            "run",
            "scenarios/01-two-regions-steady.toml",
            "--report",
            &dir,
        ],
        vec!["run", "scenarios/01-two-regions-steady.toml", "--out", &dir],
        vec![
            "sweep",
            "scenarios/01-two-regions-steady.toml",
            "--seeds",
            "1..2",
            "--out",
            &dir,
        ],
        vec!["hunt", "--seeds", "1", "--out", &dir],
    ] {
        let (code, out, err) = geosim(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty(), "nothing ran: {out}");
        assert!(
            err.contains("holds files geosim did not write") && err.contains("--force"),
            "{err}"
        );
    }
    let (code, _, err) = geosim(&[
        "run",
        "scenarios/01-two-regions-steady.toml",
        "--report",
        &dir,
        "--force",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(d.join("summary.md").exists());
    // A sweep into the same directory afterwards replaces the run's files, keeps the user's.
    let (code, _, err) = geosim(&[
        "sweep",
        "scenarios/01-two-regions-steady.toml",
        "--seeds",
        "1..2",
        "--out",
        &dir,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !d.join("summary.md").exists(),
        "the run's report was removed"
    );
    assert!(d.join("sweep.csv").exists() && d.join("notes.txt").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_standard_output_that_cannot_be_written_exits_4_with_the_reason() {
    if !Path::new("/dev/full").exists() {
        return; // Linux has /dev/full; elsewhere there is nothing to fill.
    }
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_geosim"))
        .args(["validate", "scenarios/01-two-regions-steady.toml"])
        .current_dir(super::root())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("cannot write to standard output: No space left on device"),
        "{err}"
    );
}
