//! `workload.value_size`: a size, or a distribution of sizes (fixed, uniform, lognormal, or
//! an empirical histogram given inline or in a CSV file beside the scenario).

use super::super::{Findings, MAX_VALUE, dist_table, quoted};
use crate::engine::dist::SizeDist;
use crate::scenario::units::{SIZE_HELP, parse_size};
use std::path::Path;

const DISTS: &str = "\"fixed\", \"uniform\", \"lognormal\", \"histogram\"";

/// The sizes at `path` (`v` a size string or a table with `dist`); `None` after an error.
pub(crate) fn size_dist(
    f: &mut Findings,
    path: &str,
    v: &toml::Value,
    base: &Path,
) -> Option<SizeDist> {
    if let Some(s) = v.as_str() {
        return one_size(f, path, s).map(SizeDist::Fixed);
    }
    let (t, dist, ok) = dist_table(
        f,
        path,
        v,
        &format!("{SIZE_HELP}, or a table with dist = {DISTS}"),
        &[
            ("fixed", &["value"]),
            ("uniform", &["min", "max"]),
            ("lognormal", &["median", "sigma", "max"]),
            ("histogram", &["sizes", "weights", "file"]),
        ],
    )?;
    let mut size = |name: &str, required: bool| -> Option<u32> {
        let p = format!("{path}.{name}");
        match t.get(name) {
            Some(toml::Value::String(s)) => one_size(f, &p, s),
            Some(other) => {
                f.err(p, Some(other.to_string()), format!("expected {SIZE_HELP}"));
                None
            }
            None if required => {
                f.err(p, None, format!("missing; expected {SIZE_HELP}"));
                None
            }
            None => None,
        }
    };
    let d = match dist {
        "fixed" => SizeDist::Fixed(size("value", true)?),
        "uniform" => {
            let (min, max) = (size("min", true), size("max", true));
            let (min, max) = (min?, max?);
            if min > max {
                f.err(
                    format!("{path}.max"),
                    t.get("max").map(|v| v.to_string()),
                    format!("must be at least min ({min} B)"),
                );
                return None;
            }
            SizeDist::Uniform { min, max }
        }
        "lognormal" => {
            let median = size("median", true);
            let cap = size("max", false).unwrap_or(MAX_VALUE as u32);
            let sigma = match t.get("sigma") {
                Some(x) => match x.as_float().or(x.as_integer().map(|i| i as f64)) {
                    Some(s) if (0.0..=5.0).contains(&s) => Some(s),
                    _ => {
                        f.err(
                            format!("{path}.sigma"),
                            Some(x.to_string()),
                            "expected a number from 0 to 5",
                        );
                        None
                    }
                },
                None => {
                    f.err(
                        format!("{path}.sigma"),
                        None,
                        "missing; expected a number from 0 to 5",
                    );
                    None
                }
            };
            let median = median?;
            if median == 0 {
                f.err(
                    format!("{path}.median"),
                    Some("0".into()),
                    "expected above 0 B",
                );
                return None;
            }
            SizeDist::Lognormal {
                median: f64::from(median),
                sigma: sigma?,
                cap: cap.max(1),
            }
        }
        _ => histogram(f, path, t, base)?,
    };
    ok.then_some(d)
}

/// One size, at most the Redis string limit.
fn one_size(f: &mut Findings, path: &str, s: &str) -> Option<u32> {
    match parse_size(s) {
        Some(v) if v <= MAX_VALUE => Some(v as u32),
        Some(_) => {
            f.err(
                path,
                quoted(s),
                "expected at most 512MB (the Redis string limit)",
            );
            None
        }
        None => {
            f.err(path, quoted(s), format!("expected {SIZE_HELP}"));
            None
        }
    }
}

/// `dist = "histogram"`: `sizes` and `weights` side by side, or `file`.
fn histogram(f: &mut Findings, path: &str, t: &toml::Table, base: &Path) -> Option<SizeDist> {
    let points = match (t.get("file"), t.get("sizes"), t.get("weights")) {
        (Some(file), None, None) => {
            let Some(name) = file.as_str() else {
                f.err(
                    format!("{path}.file"),
                    Some(file.to_string()),
                    "expected a file name (a CSV of size,weight lines)",
                );
                return None;
            };
            histogram_file(f, &format!("{path}.file"), name, base)?
        }
        (None, Some(sizes), Some(weights)) => {
            let (Some(sizes), Some(weights)) = (sizes.as_array(), weights.as_array()) else {
                f.err(
                    path,
                    None,
                    "sizes must be an array of sizes and weights an array of numbers",
                );
                return None;
            };
            if sizes.len() != weights.len() || sizes.is_empty() {
                f.err(
                    format!("{path}.weights"),
                    t.get("weights").map(|v| v.to_string()),
                    format!("expected one weight per size ({} sizes)", sizes.len()),
                );
                return None;
            }
            let mut points = Vec::new();
            for (i, (s, w)) in sizes.iter().zip(weights).enumerate() {
                let size = match s.as_str() {
                    Some(s) => one_size(f, &format!("{path}.sizes[{i}]"), s),
                    None => {
                        f.err(
                            format!("{path}.sizes[{i}]"),
                            Some(s.to_string()),
                            format!("expected {SIZE_HELP}"),
                        );
                        None
                    }
                };
                let weight = w.as_float().or(w.as_integer().map(|i| i as f64));
                let weight = match weight {
                    Some(x) if x.is_finite() && x >= 0.0 => Some(x),
                    _ => {
                        f.err(
                            format!("{path}.weights[{i}]"),
                            Some(w.to_string()),
                            "expected a weight of zero or more",
                        );
                        None
                    }
                };
                points.push((size?, weight?));
            }
            points
        }
        _ => {
            f.err(
                path,
                None,
                "a histogram takes sizes and weights (arrays of the same length), or file",
            );
            return None;
        }
    };
    if points.iter().all(|p| p.1 == 0.0) {
        f.err(path, None, "the histogram's weights must not all be zero");
        return None;
    }
    Some(SizeDist::histogram(&points))
}

/// A CSV of `size,weight` lines (a size in bytes or with a unit; `#` comments, blank lines
/// and a header line are skipped), found relative to the scenario's folder.
fn histogram_file(
    f: &mut Findings,
    path: &str,
    name: &str,
    base: &Path,
) -> Option<Vec<(u32, f64)>> {
    let file = base.join(name);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            f.err(
                path,
                quoted(name),
                format!("cannot read {}: {e}", file.display()),
            );
            return None;
        }
    };
    let mut points = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cells = line.split(',').map(str::trim);
        let (size, weight) = (cells.next().unwrap_or(""), cells.next());
        let parsed = (
            size.parse::<u64>().ok().or_else(|| parse_size(size)),
            weight.and_then(|w| w.parse::<f64>().ok()),
        );
        match parsed {
            (Some(s), Some(w))
                if s <= MAX_VALUE && w.is_finite() && w >= 0.0 && cells.next().is_none() =>
            {
                points.push((s as u32, w))
            }
            (None, None) if points.is_empty() => {} // a header
            _ => {
                f.err(
                    path,
                    quoted(name),
                    format!(
                        "{}:{}: {line:?}: expected `size,weight` (a size up to 512MB, a weight of zero or more)",
                        file.display(),
                        n + 1
                    ),
                );
                return None;
            }
        }
    }
    if points.is_empty() {
        f.err(
            path,
            quoted(name),
            format!("{} holds no size,weight line", file.display()),
        );
        return None;
    }
    Some(points)
}
