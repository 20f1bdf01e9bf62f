//! `summary.md`: the run summary for people, in Markdown.

use super::summary::Summary;
use super::tables::{Cell, Table, tables};

/// Text from a scenario (a fault's name, a warning, an expected reply) as Markdown text
/// inside a table cell: every character Markdown or a table would read is escaped, and line
/// breaks become spaces.
pub(crate) fn md_text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' => {
                o.push('\\');
                o.push(ch);
            }
            '\n' | '\r' => o.push(' '),
            _ => o.push(ch),
        }
    }
    o
}

/// Text from a scenario shown as code (a command, a file name): a code span fenced with more
/// backticks than any run inside it, pipes escaped for tables.
pub(crate) fn md_code(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let body = s.replace(['\n', '\r'], " ").replace('|', "\\|");
    let pad = if body.starts_with('`') || body.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

pub(crate) fn summary_md(s: &Summary) -> String {
    let mut o = String::new();
    o.push_str(&format!("# Run of {}\n\n", md_code(&s.scenario)));
    o.push_str(&format!(
        "**Verdict: {}**{}\n\n",
        s.verdict,
        s.time_to_converge_ms
            .map(|ms| format!(", {ms:.3} ms after the end of writes"))
            .unwrap_or_default()
    ));
    o.push_str(&format!("* seed: {}\n", s.seed));
    o.push_str(&format!("* reproduce: {}\n", md_code(&s.reproduce)));
    o.push_str(&format!(
        "* simulated: {:.3} s ({:.3} s of writes), {} events, trace digest `{}`\n",
        s.simulated_s, s.duration_s, s.events, s.trace_digest
    ));
    for w in &s.warnings {
        o.push_str(&format!("* warning: {}\n", md_text(w)));
    }
    for t in tables(s) {
        table_md(&t, &mut o);
    }
    o
}

fn cell_md(c: &Cell) -> String {
    match c {
        Cell::Plain(s) => s.clone(),
        Cell::Text(s) => md_text(s),
        Cell::Code(s) => md_code(s),
        Cell::TextCode(t, c) => format!("{}{}", md_text(t), md_code(c)),
        Cell::Pass(true) => "✓".into(),
        Cell::Pass(false) => "✗".into(),
    }
}

fn table_md(t: &Table, o: &mut String) {
    o.push_str(&format!("\n## {}\n\n", t.title));
    if let Some(intro) = &t.intro {
        o.push_str(&format!("{intro}\n\n"));
    }
    row_md(t.header.iter().map(|h| h.to_string()), o);
    o.push('|');
    o.push_str(&"---|".repeat(t.header.len()));
    o.push('\n');
    for row in &t.rows {
        row_md(row.iter().map(cell_md), o);
    }
}

/// `| a | b |`, an empty cell as `| |`.
fn row_md(cells: impl Iterator<Item = String>, o: &mut String) {
    o.push('|');
    for c in cells {
        if !c.is_empty() {
            o.push(' ');
            o.push_str(&c);
        }
        o.push_str(" |");
    }
    o.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names and replies from a scenario cannot break a table or start markup.
    #[test]
    fn scenario_text_is_escaped_in_markdown() {
        let t = md_text("a|b *c* <x>\n[l](u) `q`");
        assert_eq!(t, "a\\|b \\*c\\* \\<x\\> \\[l\\](u) \\`q\\`");
        // Every pipe in a row of three cells is escaped but the row's own.
        let row = format!("| {} | {} |", t, md_code("SET k a|b"));
        assert_eq!(row.matches('|').count() - row.matches("\\|").count(), 3);
        assert_eq!(md_code("GET k"), "`GET k`");
        assert_eq!(md_code("SET k `x`"), "`` SET k `x` ``");
        assert_eq!(md_code("a``b"), "```a``b```");
    }
}
