//! `geosim check`: runs every scenario that carries expectations, in parallel, and prints one
//! line per scenario and a closing count; `--bless` rewrites pinned digests, `--junit` and
//! `--json` write what CI systems and scripts read. Wall time is measured here, outside any
//! simulated run, only to report how long each scenario took.

use super::outln;

use std::path::{Path, PathBuf};
use std::time::Instant; // Reporting only; never inside a simulation run.

use rayon::prelude::*;

use super::{EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_OK};
use crate::check::ExpectationResult;
use crate::report::run_and_judge;
use crate::scenario::{self, LoadOptions, Scenario};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Scenario files or folders (searched recursively for *.toml); default: scenarios/.
    pub paths: Vec<PathBuf>,
    /// Rewrite each pinned `[expect] digest` that no longer matches, and say which changed.
    #[arg(long)]
    pub bless: bool,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print the results as JSON instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Threads (default: all cores).
    #[arg(short = 'j', long, default_value_t = 0)]
    pub jobs: usize,
    /// Write each checked scenario's run summary into this folder (as
    /// `<scenario path with / as _>.summary.json`), to serve later as a --baseline.
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
    /// Compare each scenario's run with its summary in this folder (written by --reports):
    /// for a scenario that fails, print what moved (as `geosim diff` does).
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Also write the results as one self-contained HTML page: a row per scenario, and
    /// for each failure what failed and, with --baseline, what moved.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// The file name a scenario's summary has under --reports and --baseline.
fn report_name(file: &str) -> String {
    let stem = file.strip_suffix(".toml").unwrap_or(file);
    let flat: String = stem
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    format!("{}.summary.json", flat.trim_start_matches(['.', '_']))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Pass,
    Fail,
    /// The file does not load: its errors are the failure.
    Invalid,
}

/// What checking one file gave.
#[derive(Clone, Debug, serde::Serialize)]
struct Checked {
    file: String,
    status: Status,
    seconds: f64,
    /// The run's trace digest (empty for an invalid file).
    digest: String,
    failures: Vec<Failure>,
    /// Why the file does not load (status `invalid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The pinned digest this run rewrote (`--bless`), as (old, new).
    #[serde(skip_serializing_if = "Option::is_none")]
    blessed: Option<(String, String)>,
    /// The run's summary (for --reports and --baseline).
    #[serde(skip)]
    summary: Option<String>,
    /// What moved since the --baseline's summary, for a failed scenario.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "diff_json")]
    diff: Option<crate::report::diff::Diff>,
}

fn diff_json<S: serde::Serializer>(
    d: &Option<crate::report::diff::Diff>,
    ser: S,
) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    let v: Option<serde_json::Value> = d
        .as_ref()
        .and_then(|d| serde_json::from_str(&d.json()).ok());
    v.serialize(ser)
}

#[derive(Clone, Debug, serde::Serialize)]
struct Failure {
    expectation: String,
    expected: String,
    actual: String,
}

impl Failure {
    fn of(e: &ExpectationResult) -> Failure {
        let expectation = if e.step == usize::MAX {
            e.cmd.clone()
        } else {
            format!("step {} on {}: {}", e.step, e.on, e.cmd)
        };
        Failure {
            expectation,
            expected: e.expected.clone(),
            actual: e.actual.clone(),
        }
    }

    fn line(&self) -> String {
        format!(
            "{}: expected {}, got {}",
            self.expectation,
            self.expected.replace('\n', " "),
            self.actual.replace('\n', " ")
        )
    }
}

/// The `*.toml` files under `paths` (a file stands for itself), sorted, without repeats.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let p = entry
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
                .path();
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!(
                "{}: no such file or folder (give scenario files or folders of them)",
                p.display()
            ));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn has_expectations(s: &Scenario) -> bool {
    !s.expectations.is_empty() || !s.outcomes.is_empty()
}

/// Rewrites the pinned digest `old` to `new` in a scenario's text: the `digest = "old"` line
/// of its `[expect]` table, leaving every other byte (comments too) as it was.
pub(crate) fn rewrite_digest(text: &str, old: &str, new: &str) -> Option<String> {
    let mut in_expect = false;
    let mut out = String::with_capacity(text.len());
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            in_expect = t.starts_with("[expect]");
        }
        let quoted = format!("\"{old}\"");
        if in_expect && !done && t.starts_with("digest") && line.contains(&quoted) {
            out.push_str(&line.replacen(&quoted, &format!("\"{new}\""), 1));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    done.then_some(out)
}

fn check_one(path: &Path, s: &Scenario, bless: bool) -> Checked {
    let start = Instant::now(); // Reporting only.
    let judged = run_and_judge(s);
    let seconds = start.elapsed().as_secs_f64();
    let digest = judged.summary.trace_digest.clone();
    let mut blessed = None;
    let mut failures = Vec::new();
    for e in judged.expectations.iter().filter(|e| !e.pass) {
        if bless && e.cmd == "expect.digest" {
            blessed = Some((e.expected.clone(), e.actual.clone()));
            continue;
        }
        failures.push(Failure::of(e));
    }
    if let Some((old, new)) = &blessed {
        let written = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| rewrite_digest(&t, old, new))
            .map(|t| super::outdir::write_atomic(path, t.as_bytes()));
        if !matches!(written, Some(Ok(()))) {
            failures.push(Failure {
                expectation: "expect.digest".into(),
                expected: old.clone(),
                actual: format!("{new} (and --bless could not rewrite the file)"),
            });
            blessed = None;
        }
    }
    Checked {
        file: path.display().to_string(),
        status: if failures.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        },
        seconds,
        digest,
        failures,
        error: None,
        blessed,
        summary: Some(judged.summary.to_json()),
        diff: None,
    }
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one test case per scenario.
fn junit(results: &[Checked]) -> String {
    let failed = results.iter().filter(|r| r.status == Status::Fail).count();
    let errors = results
        .iter()
        .filter(|r| r.status == Status::Invalid)
        .count();
    let time: f64 = results.iter().map(|r| r.seconds).sum();
    let mut o = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"geosim check\" tests=\"{n}\" failures=\"{failed}\" errors=\"{errors}\" time=\"{time:.3}\">\n\
         <testsuite name=\"geosim check\" tests=\"{n}\" failures=\"{failed}\" errors=\"{errors}\" time=\"{time:.3}\">\n",
        n = results.len()
    );
    for r in results {
        o.push_str(&format!(
            "  <testcase classname=\"geosim\" name=\"{}\" time=\"{:.3}\"",
            xml_escape(&r.file),
            r.seconds
        ));
        let body: Vec<String> = r
            .failures
            .iter()
            .map(Failure::line)
            .chain(r.error.clone())
            .collect();
        match r.status {
            Status::Pass => o.push_str("/>\n"),
            Status::Fail | Status::Invalid => {
                let tag = if r.status == Status::Fail {
                    "failure"
                } else {
                    "error"
                };
                o.push_str(&format!(
                    ">\n    <{tag} message=\"{}\">{}</{tag}>\n  </testcase>\n",
                    xml_escape(body.first().map(String::as_str).unwrap_or("")),
                    xml_escape(&body.join("\n"))
                ));
            }
        }
    }
    o.push_str("</testsuite>\n</testsuites>\n");
    o
}

pub(crate) fn check(a: &CheckArgs) -> i32 {
    let paths = if a.paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        a.paths.clone()
    };
    let files = match collect(&paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // A CI job pointed at the wrong folder must not stay green.
    if files.is_empty() {
        let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "error: no scenario files (*.toml) in {}: nothing to check",
            named.join(", ")
        );
        return EXIT_BAD_INPUT;
    }
    // Load every file first: invalid ones are results too; those without expectations are
    // skipped (counted in the closing line).
    let mut invalid = Vec::new();
    let mut to_run = Vec::new();
    let mut skipped = 0;
    for f in files {
        match scenario::load(&f, &LoadOptions::default()) {
            Ok(s) if has_expectations(&s) => to_run.push((f, s)),
            Ok(_) => skipped += 1,
            Err(e) => invalid.push(Checked {
                file: f.display().to_string(),
                status: Status::Invalid,
                seconds: 0.0,
                digest: String::new(),
                failures: Vec::new(),
                error: Some(e.to_string()),
                blessed: None,
                summary: None,
                diff: None,
            }),
        }
    }
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(a.jobs).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start {} threads: {e}", a.jobs);
            return EXIT_BAD_INPUT;
        }
    };
    let ran: Vec<Checked> = pool.install(|| {
        to_run
            .par_iter()
            .map(|(f, s)| check_one(f, s, a.bless))
            .collect()
    });
    let mut results: Vec<Checked> = ran.into_iter().chain(invalid).collect();
    results.sort_by(|x, y| x.file.cmp(&y.file));
    if let Some(dir) = &a.baseline {
        for r in results.iter_mut().filter(|r| r.status == Status::Fail) {
            // Exact: any move counts.
            r.diff = against_baseline(dir, r, 0.0);
        }
    }
    if let Some(dir) = &a.reports
        && let Err(e) = write_reports(dir, &results)
    {
        eprintln!(
            "error: cannot write the summaries into {}: {e}",
            dir.display()
        );
        return super::EXIT_OUTPUT_FAILED;
    }
    let passed = results.iter().filter(|r| r.status == Status::Pass).count();
    let failed = results.iter().filter(|r| r.status == Status::Fail).count();
    let bad = results
        .iter()
        .filter(|r| r.status == Status::Invalid)
        .count();
    if a.json {
        let doc = serde_json::json!({
            "passed": passed,
            "failed": failed,
            "invalid": bad,
            "skipped_without_expectations": skipped,
            "scenarios": results,
        });
        outln!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("results serialise")
        );
    } else {
        for r in &results {
            let tag = match r.status {
                Status::Pass => "PASS",
                Status::Fail => "FAIL",
                Status::Invalid => "BAD ",
            };
            outln!("{tag} {:>7.2}s  {}", r.seconds, r.file);
            for f in r.failures.iter().map(Failure::line).chain(r.error.clone()) {
                outln!("      {}", f.trim_end().replace('\n', "\n      "));
            }
            if let Some((old, new)) = &r.blessed {
                outln!("      blessed: digest {old} -> {new}");
            }
            if let Some(d) = &r.diff {
                outln!("      what moved since the baseline:");
                for l in d.text().lines().skip(3) {
                    outln!("        {l}");
                }
            }
        }
        let mut closing = format!("{passed} passed, {failed} failed");
        if bad > 0 {
            closing.push_str(&format!(", {bad} invalid"));
        }
        if skipped > 0 {
            closing.push_str(&format!(" ({skipped} without expectations not run)"));
        }
        outln!("{closing}");
    }
    if let Some(path) = &a.junit
        && let Err(e) = super::outdir::write_atomic(path, junit(&results).as_bytes())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return super::EXIT_OUTPUT_FAILED;
    }
    if let Some(path) = &a.html
        && let Err(e) = super::outdir::write_atomic(path, html(&results, skipped).as_bytes())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return super::EXIT_OUTPUT_FAILED;
    }
    if bad > 0 {
        EXIT_BAD_INPUT
    } else if failed > 0 {
        EXIT_DIVERGED
    } else {
        EXIT_OK
    }
}

/// What moved between the baseline's summary of `r` and this run's (None when the baseline
/// holds none for it).
fn against_baseline(dir: &Path, r: &Checked, tolerance: f64) -> Option<crate::report::diff::Diff> {
    let before = dir.join(report_name(&r.file));
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&before).ok()?).ok()?;
    let b: serde_json::Value = serde_json::from_str(r.summary.as_ref()?).ok()?;
    let names = (
        before.display().to_string(),
        format!("{} (this run)", r.file),
    );
    Some(crate::report::diff::diff_runs(
        (&names.0, &names.1),
        &a,
        &b,
        tolerance,
    ))
}

/// Writes each run's summary into `dir` (created if missing; each file replaced atomically).
fn write_reports(dir: &Path, results: &[Checked]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for r in results {
        if let Some(s) = &r.summary {
            super::outdir::write_atomic(&dir.join(report_name(&r.file)), s.as_bytes())?;
        }
    }
    Ok(())
}

/// The results as one HTML page.
fn html(results: &[Checked], skipped: usize) -> String {
    use crate::report::html::esc;
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let mut o = format!(
        "<h1>geosim check</h1>\n<p><span class=\"verdict {}\">{} passed, {} failed, {} invalid</span>{}</p>\n",
        if count(Status::Pass) == results.len() {
            "ok"
        } else {
            "bad"
        },
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Invalid),
        if skipped > 0 {
            format!(" ({skipped} without expectations not run)")
        } else {
            String::new()
        }
    );
    o.push_str("<table>\n<tr><th>scenario</th><th>status</th><th>seconds</th><th>trace digest</th><th>what failed</th></tr>\n");
    for r in results {
        let (class, tag) = match r.status {
            Status::Pass => ("pass", "pass"),
            Status::Fail => ("fail", "FAIL"),
            Status::Invalid => ("fail", "invalid"),
        };
        let mut what = String::new();
        for f in &r.failures {
            what.push_str(&format!(
                "<div><code>{}</code>: expected {}, got {}</div>",
                esc(&f.expectation),
                esc(&f.expected),
                esc(&f.actual)
            ));
        }
        if let Some(e) = &r.error {
            what.push_str(&format!("<pre>{}</pre>", esc(e)));
        }
        if let Some((old, new)) = &r.blessed {
            what.push_str(&format!(
                "<div>blessed: digest {} → {}</div>",
                esc(old),
                esc(new)
            ));
        }
        if let Some(d) = &r.diff {
            what.push_str(&format!(
                "<details><summary>what moved since the baseline</summary>{}</details>",
                d.html_body()
            ));
        }
        o.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=\"{class}\">{tag}</td><td class=\"num\">{:.2}</td><td><code>{}</code></td><td>{what}</td></tr>\n",
            esc(&r.file),
            r.seconds,
            esc(&r.digest)
        ));
    }
    o.push_str("</table>\n");
    crate::report::html::page("geosim check", &o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bless_rewrites_only_the_expect_digest_line() {
        let text = "# digest = \"aaaaaaaaaaaaaaaa\" in a comment stays\n[run]\nseed = 1\n\
                    [expect]\nconverges = true\ndigest = \"aaaaaaaaaaaaaaaa\"  # pinned\n";
        let out = rewrite_digest(text, "aaaaaaaaaaaaaaaa", "0123456789abcdef").unwrap();
        assert_eq!(
            out,
            "# digest = \"aaaaaaaaaaaaaaaa\" in a comment stays\n[run]\nseed = 1\n\
             [expect]\nconverges = true\ndigest = \"0123456789abcdef\"  # pinned\n"
        );
        assert_eq!(
            rewrite_digest(text, "bbbbbbbbbbbbbbbb", "0123456789abcdef"),
            None
        );
    }

    #[test]
    fn junit_escapes_and_counts() {
        let r = vec![
            Checked {
                file: "a.toml".into(),
                status: Status::Pass,
                seconds: 0.5,
                digest: "d".into(),
                failures: vec![],
                error: None,
                blessed: None,
                summary: None,
                diff: None,
            },
            Checked {
                file: "b<&>.toml".into(),
                status: Status::Fail,
                seconds: 1.0,
                digest: "d".into(),
                failures: vec![Failure {
                    expectation: "expect.full_syncs".into(),
                    expected: "0".into(),
                    actual: "4".into(),
                }],
                error: None,
                blessed: None,
                summary: None,
                diff: None,
            },
        ];
        let x = junit(&r);
        assert!(
            x.contains("tests=\"2\" failures=\"1\" errors=\"0\" time=\"1.500\""),
            "{x}"
        );
        assert!(x.contains("name=\"b&lt;&amp;&gt;.toml\""), "{x}");
        assert!(
            x.contains("<failure message=\"expect.full_syncs: expected 0, got 4\">"),
            "{x}"
        );
    }
}
