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
    let raw: raw::RawScenario = toml::from_str(text).map_err(|e| {
        let (path, position) = match e.span() {
            Some(s) => (
                diag::path_at(text, s.start),
                Some(diag::line_col(text, s.start)),
            ),
            None => (String::new(), None),
        };
        let mut d = Diagnostic::new(path, None, e.message().trim().to_string());
        d.position = position;
        ScenarioError {
            file: file.to_string(),
            kind: ErrorKind::Invalid,
            diagnostics: vec![d],
        }
    })?;
    let mut findings = validate::Findings::default();
    let validated = validate::validate(&raw, opts.seed, &mut findings);
    let locate = |mut d: Diagnostic| {
        if !d.path.is_empty() {
            d.position = diag::locate(text, &d.path);
        }
        d
    };
    match validated {
        Some(v) if findings.errors.is_empty() => Ok(Scenario {
            file: file.to_string(),
            config: v.config,
            expectations: v.expectations,
            outcomes: v.outcomes,
            notes: v.notes,
            sweep: v.sweep,
            warnings: findings.warnings.into_iter().map(locate).collect(),
            sets: Vec::new(),
        }),
        _ => Err(ScenarioError {
            file: file.to_string(),
            kind: ErrorKind::Invalid,
            diagnostics: findings.errors.into_iter().map(locate).collect(),
        }),
    }
}
