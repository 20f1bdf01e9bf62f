//! `geosim diff`: what moved between two runs (their `summary.json`) or two sweeps (their
//! `sweep.csv`): the verdict, expectations that flipped, sync counts that changed, histories
//! that differ (digests), and every other figure that moved, by how much in absolute and
//! relative terms. Rows of arrays are matched by what they are (a cluster by name, a peer by
//! its two ends, an expectation by its check, a sweep cell by its axis values and seed), never
//! by position, so a reordered or added row reads as such.

use serde::Serialize;
use serde_json::Value;

/// A figure or text that differs between A and B (`None`: absent on that side).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub a: Option<String>,
    pub b: Option<String>,
    /// `b - a` when both are numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    /// `(b - a) / |a|` when both are numbers and `a` is not 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative: Option<f64>,
}

/// What kind of difference a change is, in the order a reader wants them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Verdict,
    ExpectationFlipped,
    Syncs,
    History,
    Metric,
    Other,
}

impl Kind {
    pub fn title(self) -> &'static str {
        match self {
            Kind::Verdict => "verdict",
            Kind::ExpectationFlipped => "expectations flipped",
            Kind::Syncs => "sync counts changed",
            Kind::History => "histories differ (digests)",
            Kind::Metric => "figures moved",
            Kind::Other => "other differences",
        }
    }
}

/// The whole comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Diff {
    /// "run" or "sweep".
    pub kind: &'static str,
    pub a: String,
    pub b: String,
    /// Changes by kind, each list in the order of A's file (then B's additions); metrics by
    /// relative size, largest first.
    pub changes: Vec<(Kind, Vec<Change>)>,
    /// Figures compared and found equal (or within the tolerance).
    pub unchanged: usize,
    /// Relative changes at most this are counted as unchanged (0: any change counts).
    pub tolerance: f64,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.changes.iter().all(|(_, c)| c.is_empty())
    }
}

/// `(path, value)` for every leaf of a run summary, arrays of objects keyed by identity.
fn flatten(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(x, &p, out);
            }
        }
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            let mut seen: Vec<String> = Vec::new();
            for (i, x) in items.iter().enumerate() {
                let mut id = identity(x).unwrap_or_else(|| i.to_string());
                // Two rows with the same identity (the same check twice) keep their order.
                let n = seen.iter().filter(|s| **s == id).count();
                seen.push(id.clone());
                if n > 0 {
                    id = format!("{id}#{}", n + 1);
                }
                flatten(x, &format!("{path}[{id}]"), out);
            }
        }
        other => out.push((path.to_string(), other.clone())),
    }
}

/// What a summary row is: a cluster by name, a peer by its ends, an expectation or step by
/// its check, an inverted win by key.
fn identity(v: &Value) -> Option<String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    if let (Some(f), Some(t)) = (s("from"), s("to")) {
        return Some(format!("{f}->{t}"));
    }
    if let Some(cmd) = s("cmd") {
        return Some(match v.get("step").and_then(Value::as_u64) {
            Some(i) => format!("step {i}: {cmd}"),
            None => cmd.to_string(),
        });
    }
    s("name").or_else(|| s("key")).map(str::to_string)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        // Six decimals at most: 40.934135000000005 reads as 40.934135.
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or_default();
            format!("{}", (x * 1e6).round() / 1e6)
        }
        other => other.to_string(),
    }
}

fn classify(path: &str) -> Kind {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    if path == "verdict" || path == "converged" {
        Kind::Verdict
    } else if path.starts_with("expectations[") && leaf == "pass" || path == "expectations_failed" {
        Kind::ExpectationFlipped
    } else if matches!(
        leaf,
        "partial_syncs" | "full_syncs" | "full_sync_failures" | "full_sync_loop" | "oom_stops"
    ) {
        Kind::Syncs
    } else if leaf.ends_with("digest") {
        Kind::History
    } else if matches!(
        leaf,
        "seed" | "scenario" | "reproduce" | "warnings" | "membership"
    ) || path.starts_with("expectations[")
        || path.starts_with("steps[")
        || path.starts_with("clock_inverted_examples[")
    {
        Kind::Other
    } else {
        Kind::Metric
    }
}

fn change(path: &str, a: Option<&Value>, b: Option<&Value>) -> Change {
    let (delta, relative) = match (a.and_then(Value::as_f64), b.and_then(Value::as_f64)) {
        (Some(x), Some(y)) => (Some(y - x), (x != 0.0).then(|| (y - x) / x.abs())),
        _ => (None, None),
    };
    Change {
        path: path.to_string(),
        a: a.map(text),
        b: b.map(text),
        delta,
        relative,
    }
}

fn within(c: &Change, tolerance: f64) -> bool {
    match (c.delta, c.relative) {
        (Some(0.0), _) => true,
        (Some(_), Some(r)) => r.abs() <= tolerance,
        _ => false,
    }
}

/// Compares pairs of `(path, value)`; numeric changes within `tolerance` count as unchanged
/// (for metrics only: a sync count, a verdict or a digest that changes always counts).
fn compare(
    kind: &'static str,
    names: (&str, &str),
    a: &[(String, Value)],
    b: &[(String, Value)],
    tolerance: f64,
    classify: impl Fn(&str) -> Kind,
) -> Diff {
    use std::collections::BTreeMap;
    let index =
        |v: &'_ [(String, Value)]| -> BTreeMap<String, Value> { v.iter().cloned().collect() };
    let (ia, ib) = (index(a), index(b));
    let mut paths: Vec<&str> = a.iter().map(|(p, _)| p.as_str()).collect();
    paths.extend(
        b.iter()
            .map(|(p, _)| p.as_str())
            .filter(|p| !ia.contains_key(*p)),
    );
    let mut by_kind: Vec<(Kind, Vec<Change>)> = Vec::new();
    let mut unchanged = 0;
    for p in paths {
        let (x, y) = (ia.get(p), ib.get(p));
        if x == y {
            unchanged += 1;
            continue;
        }
        let c = change(p, x, y);
        let k = classify(p);
        if k == Kind::Metric && within(&c, tolerance) {
            unchanged += 1;
            continue;
        }
        match by_kind.iter_mut().find(|(kk, _)| *kk == k) {
            Some((_, v)) => v.push(c),
            None => by_kind.push((k, vec![c])),
        }
    }
    by_kind.sort_by_key(|(k, _)| *k);
    for (k, v) in &mut by_kind {
        if *k == Kind::Metric {
            // Largest relative move first; moves from zero (no relative figure) lead.
            v.sort_by(|x, y| {
                let r = |c: &Change| c.relative.map_or(f64::INFINITY, f64::abs);
                r(y).total_cmp(&r(x))
            });
        }
    }
    Diff {
        kind,
        a: names.0.to_string(),
        b: names.1.to_string(),
        changes: by_kind,
        unchanged,
        tolerance,
    }
}

/// Compares two run summaries (`summary.json`, or `geosim run --json`).
pub fn diff_runs(names: (&str, &str), a: &Value, b: &Value, tolerance: f64) -> Diff {
    let (mut fa, mut fb) = (Vec::new(), Vec::new());
    flatten(a, "", &mut fa);
    flatten(b, "", &mut fb);
    compare("run", names, &fa, &fb, tolerance, classify)
}

/// Compares two sweeps' `sweep.csv`: cells matched by their axis values and seed (the columns
/// between `cell` and `verdict`), then column by column.
pub fn diff_sweeps(names: (&str, &str), a: &str, b: &str, tolerance: f64) -> Result<Diff, String> {
    let (fa, fb) = (sweep_cells(a, names.0)?, sweep_cells(b, names.1)?);
    Ok(compare("sweep", names, &fa, &fb, tolerance, |p| {
        let col = p.rsplit('.').next().unwrap_or(p);
        match col {
            "verdict" => Kind::Verdict,
            "full_syncs" | "partial_syncs" | "full_sync_failures" => Kind::Syncs,
            "trace_digest" => Kind::History,
            _ => Kind::Metric,
        }
    }))
}

fn sweep_cells(text: &str, name: &str) -> Result<Vec<(String, Value)>, String> {
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| format!("{name}: not a sweep.csv: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let verdict = header
        .iter()
        .position(|h| h == "verdict")
        .filter(|_| header.first().is_some_and(|h| h == "cell"))
        .ok_or_else(|| {
            format!(
                "{name}: not a sweep.csv (its header must start with `cell` and hold `verdict`)"
            )
        })?;
    let mut out = Vec::new();
    for row in r.records() {
        let row = row.map_err(|e| format!("{name}: {e}"))?;
        let id: Vec<String> = (1..verdict)
            .map(|i| format!("{}={}", header[i], row.get(i).unwrap_or("")))
            .collect();
        let id = id.join(" ");
        for (i, h) in header.iter().enumerate().skip(verdict) {
            let cell = row.get(i).unwrap_or("");
            let v = match cell.parse::<f64>() {
                Ok(x) if h != "trace_digest" => serde_json::json!(x),
                _ => Value::String(cell.to_string()),
            };
            out.push((format!("[{id}].{h}"), v));
        }
    }
    Ok(out)
}

fn show(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(absent)")
}

/// `+1.2%`, `-40%`, or `new` for a move from zero.
fn rel(c: &Change) -> String {
    match (c.relative, c.delta) {
        (Some(r), _) => format!("{:+.2}%", r * 100.0),
        (None, Some(_)) => "from 0".into(),
        _ => String::new(),
    }
}

fn delta(c: &Change) -> String {
    c.delta
        .map(|d| {
            if d.fract() == 0.0 && d.abs() < 1e15 {
                format!("{:+}", d as i64)
            } else {
                format!("{d:+.3}")
            }
        })
        .unwrap_or_default()
}

impl Diff {
    /// The comparison for people.
    pub fn text(&self) -> String {
        let mut o = format!(
            "diff of two {}s\n  A: {}\n  B: {}\n",
            self.kind, self.a, self.b
        );
        if self.is_empty() {
            o.push_str(&format!(
                "no differences: {} figures compared{}\n",
                self.unchanged,
                self.tolerance_note()
            ));
            return o;
        }
        for (k, changes) in &self.changes {
            o.push_str(&format!("{} ({}):\n", k.title(), changes.len()));
            let w = changes
                .iter()
                .map(|c| c.path.len())
                .max()
                .unwrap_or(0)
                .min(60);
            for c in changes {
                let moved = match c.delta {
                    Some(_) => format!("  {} ({})", delta(c), rel(c)),
                    None => String::new(),
                };
                o.push_str(&format!(
                    "  {:w$}  {} -> {}{moved}\n",
                    c.path,
                    show(&c.a),
                    show(&c.b)
                ));
            }
        }
        o.push_str(&format!(
            "{} figures unchanged{}\n",
            self.unchanged,
            self.tolerance_note()
        ));
        o
    }

    fn tolerance_note(&self) -> String {
        if self.tolerance > 0.0 {
            format!(
                " (moves of at most {}% counted as unchanged)",
                self.tolerance * 100.0
            )
        } else {
            String::new()
        }
    }

    /// The comparison as the body of an HTML page (no `<html>` around it).
    pub(crate) fn html_body(&self) -> String {
        use super::html::esc;
        let mut o = format!(
            "<h1>Diff of two {}s</h1>\n<ul><li>A: <code>{}</code></li><li>B: <code>{}</code></li></ul>\n",
            self.kind,
            esc(&self.a),
            esc(&self.b)
        );
        for (k, changes) in &self.changes {
            o.push_str(&format!(
                "<h2>{} ({})</h2>\n<table class=\"diff\">\n<tr><th>figure</th><th>A</th><th>B</th><th>change</th><th>relative</th></tr>\n",
                k.title(),
                changes.len()
            ));
            for c in changes {
                o.push_str(&format!(
                    "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                    esc(&c.path),
                    esc(show(&c.a)),
                    esc(show(&c.b)),
                    esc(&delta(c)),
                    esc(&rel(c))
                ));
            }
            o.push_str("</table>\n");
        }
        o.push_str(&format!(
            "<p>{} figures unchanged{}.</p>\n",
            self.unchanged,
            esc(&self.tolerance_note())
        ));
        o
    }

    /// The comparison for scripts: `changes` maps each kind (`verdict`,
    /// `expectation_flipped`, `syncs`, `history`, `metric`, `other`) to its list.
    pub fn json(&self) -> String {
        let mut changes = serde_json::Map::new();
        for (k, v) in &self.changes {
            let key = serde_json::to_value(k).expect("a kind serialises");
            changes.insert(
                key.as_str().unwrap_or_default().to_string(),
                serde_json::to_value(v).expect("changes serialise"),
            );
        }
        let doc = serde_json::json!({
            "kind": self.kind,
            "a": self.a,
            "b": self.b,
            "differences": self.changes.iter().map(|(_, c)| c.len()).sum::<usize>(),
            "unchanged": self.unchanged,
            "tolerance": self.tolerance,
            "changes": changes,
        });
        serde_json::to_string_pretty(&doc).expect("a diff serialises") + "\n"
    }

    /// A whole self-contained page.
    pub fn html(&self) -> String {
        super::html::page(
            &format!("geosim diff: {} vs {}", self.a, self.b),
            &self.html_body(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(full: u64, wire: u64, pass: bool, order: bool) -> Value {
        let peers = vec![
            json!({"from": "a", "to": "b", "full_syncs": full}),
            json!({"from": "b", "to": "a", "full_syncs": 0}),
        ];
        let peers = if order {
            peers
        } else {
            peers.into_iter().rev().collect()
        };
        json!({
            "verdict": "converged",
            "trace_digest": if pass { "aa" } else { "bb" },
            "totals": {"wire_bytes": wire, "full_syncs": full},
            "peers": peers,
            "expectations": [{"step": null, "cmd": "expect.full_syncs", "pass": pass}],
        })
    }

    #[test]
    fn rows_are_matched_by_identity_and_changes_are_sorted_by_kind() {
        let d = diff_runs(
            ("A", "B"),
            &run(0, 1000, true, true),
            &run(2, 1500, false, false),
            0.0,
        );
        let kinds: Vec<Kind> = d.changes.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            [
                Kind::ExpectationFlipped,
                Kind::Syncs,
                Kind::History,
                Kind::Metric
            ]
        );
        let syncs = &d.changes[1].1;
        assert_eq!(
            syncs.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
            ["peers[a->b].full_syncs", "totals.full_syncs"]
        );
        let wire = &d.changes[3].1[0];
        assert_eq!((wire.delta, wire.relative), (Some(500.0), Some(0.5)));
        assert!(d.text().contains("+500 (+50.00%)"), "{}", d.text());
        // The reversed peer order alone is no difference.
        let same = diff_runs(
            ("A", "B"),
            &run(0, 1000, true, true),
            &run(0, 1000, true, false),
            0.0,
        );
        assert!(same.is_empty(), "{}", same.text());
    }

    #[test]
    fn a_tolerance_hides_small_moves_of_figures_but_never_of_sync_counts() {
        let d = diff_runs(
            ("A", "B"),
            &run(0, 1000, true, true),
            &run(0, 1040, true, true),
            0.05,
        );
        assert!(d.is_empty(), "{}", d.text());
        let d = diff_runs(
            ("A", "B"),
            &run(0, 1000, true, true),
            &run(1, 1000, true, true),
            0.5,
        );
        assert_eq!(d.changes[0].0, Kind::Syncs);
    }

    #[test]
    fn sweep_cells_are_matched_by_axis_values_and_seed() {
        let a = "cell,backlog,seed,verdict,full_syncs,wire_bytes,trace_digest\n\
                 0,1MB,1,converged,1,100,aa\n1,2MB,1,converged,0,90,bb\n";
        let b = "cell,backlog,seed,verdict,full_syncs,wire_bytes,trace_digest\n\
                 0,2MB,1,converged,0,90,bb\n1,1MB,1,converged,0,80,cc\n";
        let d = diff_sweeps(("A", "B"), a, b, 0.0).unwrap();
        let paths: Vec<&str> = d
            .changes
            .iter()
            .flat_map(|(_, c)| c.iter().map(|c| c.path.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                "[backlog=1MB seed=1].full_syncs",
                "[backlog=1MB seed=1].trace_digest",
                "[backlog=1MB seed=1].wire_bytes"
            ]
        );
        assert!(diff_sweeps(("A", "B"), "x,y\n1,2\n", b, 0.0).is_err());
    }
}
