//! The layer rule of DESIGN.md: a module may import only from its own layer and the layers
//! above it in the table. This test reads every source file and fails on a reference that
//! points down the table.

use std::path::Path;

/// DESIGN.md's layers, top (most basic) first.
const LAYERS: &[&str] = &[
    "engine", "crdt", "redis", "model", "scenario", "check", "sim", "report", "sweep", "cli",
];

fn layer_index(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == name)
}

/// The layer a source file belongs to, from its path under `src/`.
fn layer_of(rel: &Path) -> Option<usize> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    layer_index(first.strip_suffix(".rs").unwrap_or(first))
}

/// Every `crate::<module>` the text refers to, with its line number (comments skipped).
fn crate_refs(text: &str) -> Vec<(usize, String)> {
    let mut refs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                refs.push((n + 1, name));
            }
            rest = after;
        }
        // `use crate::{a, b}` names several modules at once.
        if let Some(i) = code.find("crate::{") {
            let inner = &code[i + "crate::{".len()..];
            for part in inner.split([',', '}']) {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    refs.push((n + 1, name));
                }
            }
        }
    }
    refs
}

/// Violations in one file's text, given its layer.
fn violations(layer: usize, text: &str) -> Vec<String> {
    crate_refs(text)
        .into_iter()
        .filter_map(|(line, name)| {
            let target = layer_index(&name)?;
            (target > layer).then(|| {
                format!(
                    "line {line}: the {} layer uses crate::{name}, which is below it",
                    LAYERS[layer]
                )
            })
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_imports_from_a_layer_below_it() {
    let src = super::root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let Some(layer) = layer_of(rel) else {
            continue; // lib.rs and main.rs wire the layers together.
        };
        checked += 1;
        let text = std::fs::read_to_string(f).expect("readable");
        for v in violations(layer, &text) {
            problems.push(format!("src/{}: {v}", rel.display()));
        }
    }
    assert!(
        checked > 20,
        "expected to check the whole tree, checked {checked} files"
    );
    assert!(
        problems.is_empty(),
        "layer violations:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_catches_a_downward_import() {
    let crdt = layer_index("crdt").unwrap();
    assert_eq!(violations(crdt, "use crate::model::World;").len(), 1);
    assert_eq!(
        violations(crdt, "use crate::{engine::Digest, report::Summary};").len(),
        1
    );
    assert!(
        violations(
            crdt,
            "use crate::engine::Digest; // crate::cli in a comment"
        )
        .is_empty()
    );
    let cli = layer_index("cli").unwrap();
    assert!(violations(cli, "use crate::model::World;").is_empty());
}

/// Source files under `src/`, with their path relative to it and their text.
fn sources() -> Vec<(String, String)> {
    let src = super::root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(&src).expect("under src");
            let text = std::fs::read_to_string(f).expect("readable");
            (rel.display().to_string(), text)
        })
        .collect()
}

/// Observers are checkers: they live in `check/` (the model only declares the trait and
/// its no-op `()`), so the model cannot grow checks of its own again.
#[test]
fn observers_live_in_check() {
    let mut found = 0;
    for (rel, text) in sources() {
        for (n, line) in text.lines().enumerate() {
            if !line.trim_start().starts_with("impl Observer for") {
                continue;
            }
            found += 1;
            let allowed =
                rel.starts_with("check/") || (rel == "model/observe.rs" && line.contains("for ()"));
            assert!(allowed, "src/{rel}:{}: an observer outside check/", n + 1);
        }
    }
    assert!(found >= 4, "expected the built-in observers, found {found}");
}

/// Running a scenario does not need the report layer: only `report` itself, the CLI and
/// `sweep` (which renders sweep reports from run summaries) import it.
#[test]
fn only_renderers_import_report() {
    for (rel, text) in sources() {
        let top = rel.split(['/', '.']).next().unwrap_or("");
        if matches!(top, "report" | "cli" | "sweep" | "lib" | "main") {
            continue;
        }
        let refs = crate_refs(&text);
        let bad: Vec<_> = refs.iter().filter(|(_, m)| m == "report").collect();
        assert!(
            bad.is_empty(),
            "src/{rel} imports the report layer: {bad:?}"
        );
    }
    // The hunt runs scenarios through `sim`, not `report`.
    let hunt = std::fs::read_to_string(super::root().join("src/sweep/hunt.rs")).unwrap();
    assert!(!crate_refs(&hunt).iter().any(|(_, m)| m == "report"));
}

/// Planted bugs exist only under the `planted-bugs` feature: the switch is read in one
/// file, and only in an item compiled with the feature.
#[test]
fn planted_bugs_only_under_the_feature() {
    let mut readers = Vec::new();
    for (rel, text) in sources() {
        if text.contains("GEOSIM_PLANTED_BUG\")") {
            readers.push(rel.clone());
            let at = text.find("std::env::var(\"GEOSIM_PLANTED_BUG\")").unwrap();
            let before = &text[..at];
            let gate = before.rfind("#[cfg(feature = \"planted-bugs\")]");
            let fn_start = before.rfind("pub fn planted");
            assert!(
                gate.is_some_and(|g| fn_start.is_some_and(|f| g < f)),
                "src/{rel} reads GEOSIM_PLANTED_BUG outside the feature"
            );
        }
    }
    assert_eq!(readers, vec!["crdt/planted.rs".to_string()]);
}
