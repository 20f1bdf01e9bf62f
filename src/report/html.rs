//! `index.html`: a report as one self-contained page (inline CSS and SVG charts, no scripts,
//! fonts or files from elsewhere), readable offline and attachable to a ticket. Every text
//! from a scenario or a command line is escaped.

use super::summary::Summary;
use super::tables::{Cell, Table, tables};

/// `s` escaped for HTML text and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(ch),
        }
    }
    o
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;\
max-width:1080px;padding:1em 1.5em;color:#1d1d1f;line-height:1.4}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}\
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}\
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;border:1px solid #e2e2e2}\
.verdict{display:inline-block;padding:.2em .7em;border-radius:.3em;font-weight:bold;color:#fff}\
.ok{background:#2c8a2c}.bad{background:#c62828}.pass{color:#2c8a2c}.fail{color:#c62828;font-weight:bold}\
.warn{color:#8a5a00}figure{margin:1em 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}\
figcaption{font-size:.85em;color:#555}nav a{margin-right:1em}";

/// A whole page around `body`.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        esc(title)
    )
}

fn looks_numeric(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, '.' | '-' | '–' | ' ' | '/' | '(' | ')' | '%')
        })
}

fn cell_html(c: &Cell) -> String {
    match c {
        Cell::Plain(s) if looks_numeric(s) => format!("<td class=\"num\">{}</td>", esc(s)),
        Cell::Plain(s) | Cell::Text(s) => format!("<td>{}</td>", esc(s)),
        Cell::Code(s) => format!("<td><code>{}</code></td>", esc(s)),
        Cell::TextCode(t, c) => format!("<td>{}<code>{}</code></td>", esc(t), esc(c)),
        Cell::Pass(true) => "<td class=\"pass\">✓</td>".into(),
        Cell::Pass(false) => "<td class=\"fail\">✗</td>".into(),
    }
}

/// A table with its title as a heading.
pub(crate) fn table_html(t: &Table, o: &mut String) {
    o.push_str(&format!("<h2>{}</h2>\n", esc(&t.title)));
    if let Some(intro) = &t.intro {
        o.push_str(&format!("<p>{}</p>\n", esc(intro)));
    }
    o.push_str("<table>\n<tr>");
    for h in &t.header {
        o.push_str(&format!("<th>{}</th>", esc(h)));
    }
    o.push_str("</tr>\n");
    for row in &t.rows {
        o.push_str("<tr>");
        for c in row {
            o.push_str(&cell_html(c));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

/// An SVG document (as a chart file holds it) made fit to sit inside a page: without its XML
/// declaration, with an accessible name.
pub(crate) fn inline_svg(svg: &str, label: &str) -> String {
    let body = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    };
    body.replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{}\"", esc(label)),
        1,
    )
}

/// A chart as a figure with its caption and a link to its file.
pub(crate) fn figure(name: &str, svg: &str, caption: &str, o: &mut String) {
    o.push_str(&format!(
        "<figure id=\"chart-{n}\" class=\"chart\">\n{}\n<figcaption>{} \
         (<a href=\"{n}.svg\">{n}.svg</a>, <a href=\"{n}.png\">{n}.png</a>)</figcaption>\n</figure>\n",
        inline_svg(svg, caption),
        esc(caption),
        n = esc(name)
    ));
}

/// What a run report's page shows beside the summary.
pub(crate) struct RunPage<'a> {
    pub summary: &'a Summary,
    /// Each chart: its file name (no extension), its caption, its SVG text.
    pub charts: &'a [(&'a str, &'a str, String)],
    /// For a traced scripted run: the narration (plain text) and the space-time diagram.
    pub explained: Option<(String, String)>,
    /// The scenario file as written, and the `--set` fields put in before validation.
    pub scenario_text: &'a str,
    pub sets: &'a [String],
}

/// The run report's `index.html`.
pub(crate) fn run_page(p: &RunPage) -> String {
    let s = p.summary;
    let mut o = String::new();
    o.push_str(&format!(
        "<h1>Run of <code>{}</code></h1>\n",
        esc(&s.scenario)
    ));
    let failed = s.expectations_failed > 0;
    o.push_str(&format!(
        "<p><span class=\"verdict {}\" id=\"verdict\">{}</span>{}{}</p>\n",
        if s.converged && !failed { "ok" } else { "bad" },
        esc(&s.verdict),
        s.time_to_converge_ms
            .map(|ms| format!(", {ms:.3} ms after the end of writes"))
            .unwrap_or_default(),
        if failed {
            format!(
                "; <span class=\"fail\">{} of {} expectations failed</span>",
                s.expectations_failed,
                s.expectations.len()
            )
        } else {
            String::new()
        }
    ));
    o.push_str("<nav>");
    for (id, what) in [
        ("figures", "figures"),
        ("charts", "charts"),
        ("scenario", "scenario"),
    ] {
        o.push_str(&format!("<a href=\"#{id}\">{what}</a>"));
    }
    if p.explained.is_some() {
        o.push_str("<a href=\"#explain\">what happened</a>");
    }
    o.push_str("</nav>\n<ul>\n");
    o.push_str(&format!("<li>seed: {}</li>\n", s.seed));
    o.push_str(&format!(
        "<li>reproduce: <code id=\"reproduce\">{}</code></li>\n",
        esc(&s.reproduce)
    ));
    o.push_str(&format!(
        "<li>simulated: {:.3} s ({:.3} s of writes), {} events, trace digest <code>{}</code></li>\n",
        s.simulated_s,
        s.duration_s,
        s.events,
        esc(&s.trace_digest)
    ));
    for w in &s.warnings {
        o.push_str(&format!("<li class=\"warn\">warning: {}</li>\n", esc(w)));
    }
    o.push_str("</ul>\n<div id=\"figures\"></div>\n");
    for t in tables(s) {
        table_html(&t, &mut o);
    }
    if let Some(sm) = &s.sampling {
        sampling_html(sm, s, &mut o);
    }
    if !p.charts.is_empty() {
        o.push_str("<h2 id=\"charts\">Charts</h2>\n");
        for (name, caption, svg) in p.charts {
            figure(name, svg, caption, &mut o);
        }
    }
    if let Some((narration, diagram)) = &p.explained {
        o.push_str("<h2 id=\"explain\">What happened, step by step</h2>\n");
        figure("spacetime", diagram, "Space-time diagram", &mut o);
        o.push_str(&format!("<pre>{}</pre>\n", esc(narration)));
    }
    o.push_str("<h2 id=\"scenario\">Scenario</h2>\n");
    if !p.sets.is_empty() {
        o.push_str(&format!(
            "<p>with <code>{}</code> set from the command line</p>\n",
            esc(&p.sets.join(" ")),
        ));
    }
    o.push_str(&format!("<pre>{}</pre>\n", esc(p.scenario_text)));
    page(&format!("geosim: {}", s.scenario), &o)
}

fn sampling_html(sm: &super::summary::SamplingSummary, s: &Summary, o: &mut String) {
    let est = |e: &super::summary::EstimateSummary| {
        vec![
            Cell::Plain(format!("{:.1}", e.estimate)),
            Cell::Plain(format!("{:.1} – {:.1}", e.low, e.high)),
        ]
    };
    let mut rows = vec![
        ("LWW conflicts", &sm.lww_conflicts),
        ("clock-inverted wins", &sm.clock_inverted_wins),
        ("same-ms ties", &sm.lww_ties),
        ("divergent keys at the end", &sm.divergent_keys_end),
    ]
    .into_iter()
    .map(|(k, e)| {
        let mut r = vec![Cell::Plain(k.into())];
        r.extend(est(e));
        r
    })
    .collect::<Vec<_>>();
    for (c, e) in s.clusters.iter().zip(&sm.memory_bytes) {
        let mut r = vec![Cell::Plain(format!("memory of {} (bytes)", c.name))];
        r.extend(est(e));
        rows.push(r);
    }
    table_html(
        &Table {
            title: format!("Estimates from the key sample ({})", sm.sample),
            intro: Some(format!(
                "A sampled run keeps every write's bytes and timing exact; these figures come \
                 from {} sampled keys ({} of them certain) and are estimates with 95 % intervals.",
                sm.sampled_keys, sm.certain_keys
            )),
            header: vec!["figure", "estimate", "95 % interval"],
            rows,
        },
        o,
    );
}

/// Markdown inline text as HTML: backslash escapes, `code` spans (any fence length, `\|`
/// inside read as a pipe, as in a table) and **bold**; everything else escaped.
fn inline_md(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut o = String::new();
    let mut bold = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            o.push_str(&esc(&chars[i + 1].to_string()));
            i += 2;
        } else if c == '`' {
            let n = chars[i..].iter().take_while(|&&x| x == '`').count();
            let fence: String = "`".repeat(n);
            let rest: String = chars[i + n..].iter().collect();
            match rest.find(&fence) {
                Some(end) => {
                    let code = rest[..end].trim().replace("\\|", "|");
                    o.push_str(&format!("<code>{}</code>", esc(&code)));
                    i += n + rest[..end].chars().count() + n;
                }
                None => {
                    o.push_str(&fence);
                    i += n;
                }
            }
        } else if c == '*' && chars.get(i + 1) == Some(&'*') {
            o.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            i += 2;
        } else {
            o.push_str(&esc(&c.to_string()));
            i += 1;
        }
    }
    if bold {
        o.push_str("</strong>");
    }
    o
}

/// Splits a Markdown table row on its unescaped pipes.
fn md_cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut prev = ' ';
    for c in inner.chars() {
        if c == '|' && prev != '\\' {
            cells.push(String::new());
        } else {
            cells.last_mut().expect("one cell at least").push(c);
        }
        prev = c;
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}

/// The Markdown geosim writes (headings, paragraphs, bullet lists, tables) as HTML; any
/// other construct is shown as text, escaped.
pub(crate) fn markdown(md: &str) -> String {
    let mut o = String::new();
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let t = l.trim();
        if t.is_empty() {
            i += 1;
        } else if let Some(level) = (1..=4).find(|n| t.starts_with(&format!("{} ", "#".repeat(*n))))
        {
            o.push_str(&format!(
                "<h{level}>{}</h{level}>\n",
                inline_md(&t[level + 1..])
            ));
            i += 1;
        } else if t.starts_with('|') {
            o.push_str("<table>\n");
            let mut first = true;
            while i < lines.len() && lines[i].trim().starts_with('|') {
                let row = lines[i];
                i += 1;
                if row.contains("---") && row.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')) {
                    continue;
                }
                let tag = if first { "th" } else { "td" };
                first = false;
                o.push_str("<tr>");
                for c in md_cells(row) {
                    o.push_str(&format!("<{tag}>{}</{tag}>", inline_md(&c)));
                }
                o.push_str("</tr>\n");
            }
            o.push_str("</table>\n");
        } else if t.starts_with("* ") || t.starts_with("- ") {
            o.push_str("<ul>\n");
            while i < lines.len() {
                let x = lines[i].trim();
                if !(x.starts_with("* ") || x.starts_with("- ")) {
                    break;
                }
                o.push_str(&format!("<li>{}</li>\n", inline_md(&x[2..])));
                i += 1;
            }
            o.push_str("</ul>\n");
        } else {
            let mut para = Vec::new();
            while i < lines.len() {
                let x = lines[i].trim();
                if x.is_empty() || x.starts_with('#') || x.starts_with('|') || x.starts_with("* ") {
                    break;
                }
                para.push(inline_md(x));
                i += 1;
            }
            o.push_str(&format!("<p>{}</p>\n", para.join(" ")));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_text_cannot_start_markup() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let mut o = String::new();
        table_html(
            &Table {
                title: "<b>".into(),
                intro: None,
                header: vec!["a"],
                rows: vec![vec![Cell::Text("</td><img>".into())]],
            },
            &mut o,
        );
        assert!(!o.contains("<b>") && !o.contains("<img>"), "{o}");
        assert!(o.contains("&lt;/td&gt;&lt;img&gt;"));
    }

    #[test]
    fn geosims_markdown_becomes_html_with_everything_escaped() {
        let md = "# Sweep of `a<b>.toml`\n\n2 cells: **x** \\<y\\>.\n\n| a | b |\n|---|---|\n| `SET k a\\|b` | 1 |\n\n* one\n* <two>\n";
        assert_eq!(
            markdown(md),
            "<h1>Sweep of <code>a&lt;b&gt;.toml</code></h1>\n<p>2 cells: <strong>x</strong> &lt;y&gt;.</p>\n\
             <table>\n<tr><th>a</th><th>b</th></tr>\n<tr><td><code>SET k a|b</code></td><td>1</td></tr>\n</table>\n\
             <ul>\n<li>one</li>\n<li>&lt;two&gt;</li>\n</ul>\n"
        );
    }

    #[test]
    fn an_inline_chart_loses_its_xml_declaration_and_gains_a_name() {
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"10\"></svg>";
        assert_eq!(
            inline_svg(svg, "lag \"p99\""),
            "<svg role=\"img\" aria-label=\"lag &quot;p99&quot;\" width=\"10\" height=\"10\"></svg>"
        );
    }
}
