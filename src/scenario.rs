//! The TOML scenario format: parsing, units, validation with clear errors, and building the
//! model's configuration. `scenarios/README.md` documents every field.

pub mod axes;
pub mod diag;
pub mod expect;
pub mod raw;
pub mod schema;
pub mod spelling;
pub mod units;
pub mod validate;

use std::path::Path;

pub use diag::{Diagnostic, ErrorKind, ScenarioError};

use crate::model::WorldConfig;

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file it came from, as given.
    pub file: String,
    /// The file's text as written (before any `--set`), shown in the HTML report.
    pub text: String,
    pub config: WorldConfig,
    /// Expected replies of scripted steps.
    pub expectations: Vec<expect::Expectation>,
    /// Expected outcomes of the whole run (`[expect]`).
    pub outcomes: expect::Outcomes,
    /// Notes attached to steps (`note = "..."`), by step index, for narration.
    pub notes: Vec<(usize, String)>,
    /// Findings that do not stop a run (what-if switches, NTP off).
    pub warnings: Vec<Diagnostic>,
    /// The `[sweep]` table: axes and seeds `geosim sweep` uses when given none.
    pub sweep: SweepSpec,
    /// The fields set from the command line before validation (`PATH=VALUE`, in order):
    /// part of how to reproduce the run.
    pub sets: Vec<String>,
    /// The resource guard's estimate of the run's peak memory in bytes (`geosim validate`
    /// prints it): the generated keys' copies and the scripted values' copies.
    pub estimated_memory: u64,
}

/// A scenario's own sweep (`[sweep]`); `geosim run` ignores it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepSpec {
    pub axes: Vec<axes::Axis>,
    pub seeds: Option<Vec<u64>>,
    /// The full-sync rate `sweep.md`'s planner answer may accept (0 to 1).
    pub full_sync_target: Option<f64>,
}

/// Options applied while loading.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Replaces `run.seed`.
    pub seed: Option<u64>,
}

/// Reads and validates the scenario at `path`.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Scenario, ScenarioError> {
    let text = read_text(path)?;
    parse(&text, &path.display().to_string(), opts)
}

/// The largest scenario file geosim reads (bundled ones are a few kilobytes).
pub const MAX_SCENARIO_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a scenario file, refusing one larger than [`MAX_SCENARIO_BYTES`] without reading
/// past it (`geosim validate /dev/zero` stops there).
pub fn read_text(path: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let file = path.display().to_string();
    let io = |msg: String| ScenarioError {
        file: file.clone(),
        kind: ErrorKind::Io,
        diagnostics: vec![Diagnostic::new("", None, msg)],
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SCENARIO_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| io(e.to_string()))?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(io(format!(
            "larger than {MAX_SCENARIO_BYTES} bytes: not a scenario file (they are a few kilobytes)"
        )));
    }
    String::from_utf8(bytes).map_err(|e| io(format!("not UTF-8 text: {e}")))
}

/// The raw tables of `text`, or every field of the wrong type: serde stops at the first, so
/// each one found is blanked out (its `key = value` line replaced by spaces, which keeps
/// every byte offset and so every later position) and the text deserialized again, up to
/// [`MAX_TYPE_ERRORS`] times. An error that is not on one `key = value` line (a missing
/// field, a multi-line value) ends the search: blanking more could only invent errors.
fn deserialize(text: &str) -> Result<raw::RawScenario, Vec<Diagnostic>> {
    let mut work = text.to_string();
    let mut found: Vec<Diagnostic> = Vec::new();
    loop {
        let e = match toml::from_str::<raw::RawScenario>(&work) {
            Ok(raw) if found.is_empty() => return Ok(raw),
            Ok(_) => return Err(in_file_order(found)),
            Err(e) => e,
        };
        let (path, position) = match e.span() {
            Some(s) => (
                diag::path_at(&work, s.start),
                Some(diag::line_col(&work, s.start)),
            ),
            None => (String::new(), None),
        };
        let mut d = Diagnostic::new(path, None, e.message().trim().to_string());
        d.position = position;
        found.push(d);
        let blanked = e.span().and_then(|s| blank_key_value(&work, s));
        match blanked {
            Some(next) if found.len() < MAX_TYPE_ERRORS => work = next,
            _ => return Err(in_file_order(found)),
        }
    }
}

fn in_file_order(mut found: Vec<Diagnostic>) -> Vec<Diagnostic> {
    found.sort_by_key(|d| d.position);
    found
}

/// How many type errors one load reports at most.
const MAX_TYPE_ERRORS: usize = 50;

/// `text` with the `key = value` line holding `span` replaced by spaces, if the span lies
/// within one such line and the result is still valid TOML.
fn blank_key_value(text: &str, span: std::ops::Range<usize>) -> Option<String> {
    let start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[span.start..]
        .find('\n')
        .map_or(text.len(), |i| span.start + i);
    let line = &text[start..end];
    // (An unknown field's span is its key, a wrong type's its value: both on the line.)
    if span.end > end + 1 || !line.contains('=') || line.trim_start().starts_with('[') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    out.extend(std::iter::repeat_n(' ', line.len()));
    out.push_str(&text[end..]);
    toml::de::DeTable::parse(&out).ok()?;
    Some(out)
}

/// Validates scenario text; `file` names it in messages.
pub fn parse(text: &str, file: &str, opts: &LoadOptions) -> Result<Scenario, ScenarioError> {
    // Syntax first, so that a syntax error is reported as such with its position.
    if let Err(e) = toml::de::DeTable::parse(text) {
        let mut d = Diagnostic::new("", None, e.message().trim().to_string());
        d.position = e.span().map(|s| diag::line_col(text, s.start));
        return Err(ScenarioError {
            file: file.to_string(),
            kind: ErrorKind::Syntax,
            diagnostics: vec![d],
        });
    }
    let raw = deserialize(text).map_err(|diagnostics| ScenarioError {
        file: file.to_string(),
        kind: ErrorKind::Invalid,
        diagnostics,
    })?;
    let mut findings = validate::Findings::default();
    // Files a scenario names (a size histogram) are found beside it.
    let base = Path::new(file).parent().unwrap_or(Path::new(""));
    let validated = validate::validate(&raw, opts.seed, &mut findings, base);
    let locate = |mut d: Diagnostic| {
        if !d.path.is_empty() {
            d.position = diag::locate(text, &d.path);
        }
        d
    };
    match validated {
        Some(v) if findings.errors.is_empty() => Ok(Scenario {
            file: file.to_string(),
            text: text.to_string(),
            config: v.config,
            expectations: v.expectations,
            outcomes: v.outcomes,
            notes: v.notes,
            sweep: v.sweep,
            warnings: findings.warnings.into_iter().map(locate).collect(),
            sets: Vec::new(),
            estimated_memory: v.estimated_memory,
        }),
        _ => Err(ScenarioError {
            file: file.to_string(),
            kind: ErrorKind::Invalid,
            diagnostics: findings.errors.into_iter().map(locate).collect(),
        }),
    }
}
