//! The teaching curriculum: every lesson's expectations hold and its instances converge.

use geosim::check::Verdict;
use geosim::report::run_and_judge;
use geosim::scenario::{LoadOptions, load};

#[test]
fn every_lesson_meets_its_expectations_and_converges() {
    let dir = super::root().join("scenarios/teaching");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 12,
        "expected the whole curriculum, found {}",
        files.len()
    );
    for f in files {
        let s = load(&f, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !s.expectations.is_empty(),
            "{} states no expectation",
            f.display()
        );
        let j = run_and_judge(&s);
        let failed: Vec<String> = j
            .expectations
            .iter()
            .filter(|e| !e.pass)
            .map(|e| e.render())
            .collect();
        assert!(failed.is_empty(), "{}:\n{}", f.display(), failed.join("\n"));
        assert_eq!(j.convergence.verdict, Verdict::Converged, "{}", f.display());
    }
}

#[test]
fn a_failed_expectation_exits_1_with_a_readable_diff() {
    let dir = std::env::temp_dir().join(format!("geosim-expect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("wrong.toml");
    std::fs::write(
        &f,
        "[[cluster]]\nname = \"I1\"\n[[cluster]]\nname = \"I2\"\n[[step]]\non = \"I1\"\ncmd = \"SET k a\"\n[[step]]\non = \"I2\"\ncmd = \"SET k b\"\n[[step]]\nsync = \"all\"\n[[step]]\non = \"I1\"\ncmd = \"GET k\"\nexpect = \"a\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_geosim"))
        .args(["run", f.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("expectations: 0 of 1 passed"), "{stdout}");
    assert!(
        stdout.contains("FAIL step 3 on I1: GET k\n    expected: \"a\"\n    actual:   \"b\""),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
