//! Diagnostics: what a scenario error or warning says, and where in the file it points.
//!
//! Every message names the file, the field path (`network.link[1].latency`), the bad value
//! and what would be valid; a position (line:column) is added whenever the field can be
//! found in the source text.

use std::fmt;

use toml::de::{DeTable, DeValue};

/// One finding about a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The field path, e.g. `cluster[0].shards`; empty for the whole document.
    pub path: String,
    /// The offending value as written, if there is one.
    pub value: Option<String>,
    /// What is wrong and what would be valid.
    pub message: String,
    /// 1-based line and column.
    pub position: Option<(usize, usize)>,
}

impl Diagnostic {
    pub fn new(path: impl Into<String>, value: Option<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            value,
            message: message.into(),
            position: None,
        }
    }

    /// The field, its value and the message, without the file or a position (for a value
    /// that came from the command line).
    pub fn render_bare(&self) -> String {
        let mut s = String::new();
        if !self.path.is_empty() {
            s.push_str(&self.path);
            if let Some(v) = &self.value {
                s.push_str(&format!(" = {}", shorten(v)));
            }
            s.push_str(": ");
        }
        s.push_str(&self.message);
        s
    }

    /// Renders the diagnostic for `file`.
    pub fn render(&self, file: &str) -> String {
        let mut s = String::from(file);
        if let Some((l, c)) = self.position {
            s.push_str(&format!(":{l}:{c}"));
        }
        s.push_str(": ");
        s.push_str(&self.render_bare());
        s
    }
}

/// The longest value a message echoes whole.
const ECHO_CHARS: usize = 120;

/// A bad value as a message echoes it: whole when short, else its first characters and its
/// length (a 10 MB name must not print 10 MB).
fn shorten(v: &str) -> std::borrow::Cow<'_, str> {
    if v.chars().count() <= ECHO_CHARS {
        return std::borrow::Cow::Borrowed(v);
    }
    let head: String = v.chars().take(ECHO_CHARS - 20).collect();
    std::borrow::Cow::Owned(format!("{head}… ({} bytes in all)", v.len()))
}

/// Why a scenario could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// Not valid TOML.
    Syntax,
    /// Valid TOML that breaks the scenario format or a documented rule.
    Invalid,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub kind: ErrorKind,
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Io => "cannot read scenario",
            ErrorKind::Syntax => "scenario is not valid TOML",
            ErrorKind::Invalid => "invalid scenario",
        };
        let n = self.diagnostics.len();
        write!(f, "{what} ({n} error{})", if n == 1 { "" } else { "s" })?;
        for d in &self.diagnostics {
            write!(f, "\n  error: {}", d.render(&self.file))?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Converts a byte offset into a 1-based (line, column), counting columns in characters.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (name, rest) = match part.find('[') {
            Some(i) => part.split_at(i),
            None => (part, ""),
        };
        if !name.is_empty() {
            segs.push(Seg::Key(name.to_string()));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                segs.push(Seg::Index(i));
            }
        }
    }
    segs
}

fn render_path(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The span start of the value at `path` in the document, if present.
pub(crate) fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let doc = DeTable::parse(text).ok()?;
    let segs = parse_path(path);
    let mut cur: &DeValue = &DeValue::Table(doc.get_ref().clone());
    let mut span = doc.span();
    // The clone above is cheap relative to a file's size and keeps the walk simple.
    for seg in &segs {
        let next = match (seg, cur) {
            (Seg::Key(k), DeValue::Table(t)) => t
                .iter()
                .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                .map(|(_, v)| v),
            (Seg::Index(i), DeValue::Array(a)) => a.get(*i),
            _ => None,
        };
        match next {
            Some(v) => {
                span = v.span();
                cur = v.get_ref();
            }
            None => break,
        }
    }
    Some(line_col(text, span.start))
}

/// The deepest field path whose key or value contains byte `offset`.
pub(crate) fn path_at(text: &str, offset: usize) -> String {
    let Ok(doc) = DeTable::parse(text) else {
        return String::new();
    };
    let mut segs = Vec::new();
    walk_table(doc.get_ref(), offset, &mut segs);
    render_path(&segs)
}

// The spans of `[table]` and `[[array]]` values cover only their headers, so the walk visits
// every entry rather than pruning by a container's span.
fn walk_table(t: &DeTable, offset: usize, segs: &mut Vec<Seg>) -> bool {
    for (k, v) in t.iter() {
        segs.push(Seg::Key(k.get_ref().to_string()));
        if k.span().contains(&offset) || walk_value(v.get_ref(), offset, segs) {
            return true;
        }
        if v.span().contains(&offset) {
            return true;
        }
        segs.pop();
    }
    false
}

fn walk_value(v: &DeValue, offset: usize, segs: &mut Vec<Seg>) -> bool {
    match v {
        DeValue::Table(t) => walk_table(t, offset, segs),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                segs.push(Seg::Index(i));
                if walk_value(item.get_ref(), offset, segs) || item.span().contains(&offset) {
                    return true;
                }
                segs.pop();
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "[run]\nseed = 1\n\n[[cluster]]\nname = \"a\"\n\n[[cluster]]\nname = \"b\"\nshards = 4\n";

    /// A huge bad value is echoed by its head and its size, not whole.
    #[test]
    fn long_values_are_echoed_shortened() {
        let big = "x".repeat(10_000_000);
        let d = Diagnostic::new("cluster[0].name", Some(format!("\"{big}\"")), "too long");
        let r = d.render("f.toml");
        assert!(r.len() < 300, "{}", r.len());
        assert!(r.contains("(10000002 bytes in all)"), "{r}");
        let short = Diagnostic::new("run.seed", Some("\"x\"".into()), "expected a number");
        assert_eq!(
            short.render("f.toml"),
            "f.toml: run.seed = \"x\": expected a number"
        );
    }

    #[test]
    fn paths_are_located_in_the_text() {
        assert_eq!(locate(DOC, "run.seed"), Some((2, 8)));
        assert_eq!(locate(DOC, "cluster[1].shards"), Some((9, 10)));
    }

    #[test]
    fn offsets_map_back_to_paths() {
        let off = DOC.find("shards").unwrap();
        assert_eq!(path_at(DOC, off), "cluster[1].shards");
        let off = DOC.find("seed = 1").unwrap() + 7;
        assert_eq!(path_at(DOC, off), "run.seed");
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
    }
}
