//! A sweep's `index.html`: `sweep.md` (the grid, the planner's smallest-backlog answer), its
//! charts inline, and one row per cell with the command that reruns that cell alone.

use super::shard::Manifest;
use super::table::Row;
use crate::report::html::{esc, figure, markdown, page};

/// The sweep charts a page shows, when the sweep drew them: file name and caption.
pub(crate) const CHARTS: [(&str, &str); 4] = [
    ("full_sync_rate", "Share of seeds that needed a full sync"),
    (
        "full_sync_heatmap",
        "Full-sync share over the two swept axes",
    ),
    ("wan_bytes", "Mean WAN bytes"),
    ("time_to_converge", "Mean time to converge"),
];

/// The page; `charts` holds each drawn chart's name, caption and SVG text.
pub(crate) fn sweep_page(
    m: &Manifest,
    md: &str,
    rows: &[Row],
    charts: &[(&str, &str, String)],
) -> String {
    let mut o = markdown(md);
    if !charts.is_empty() {
        o.push_str("<h2 id=\"charts\">Charts</h2>\n");
        for (name, caption, svg) in charts {
            figure(name, svg, caption, &mut o);
        }
    }
    o.push_str("<h2 id=\"cells\">Cells</h2>\n<table>\n<tr><th>cell</th>");
    for (path, _) in &m.axes {
        o.push_str(&format!("<th>{}</th>", esc(path)));
    }
    o.push_str(
        "<th>seed</th><th>verdict</th><th>full</th><th>partial</th><th>WAN bytes</th>\
         <th>visible p99 ms</th><th>rerun this cell</th></tr>\n",
    );
    for r in rows {
        let sets: String = m
            .axes
            .iter()
            .zip(&r.values)
            .map(|((p, _), v)| format!(" --set {p}={v}"))
            .collect();
        let cmd = format!(
            "geosim run {} --seed {}{sets} --report cell-{}",
            m.scenario, r.seed, r.cell
        );
        o.push_str(&format!("<tr><td class=\"num\">{}</td>", r.cell));
        for v in &r.values {
            o.push_str(&format!("<td>{}</td>", esc(v)));
        }
        o.push_str(&format!(
            "<td class=\"num\">{}</td><td class=\"{}\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td><code>{}</code></td></tr>\n",
            r.seed,
            if r.converged() { "pass" } else { "fail" },
            esc(&r.verdict),
            r.full_syncs,
            r.partial_syncs,
            r.wire_bytes,
            r.visible_ms_p99_worst
                .map(|x| format!("{x:.3}"))
                .unwrap_or_else(|| "–".into()),
            esc(&cmd)
        ));
    }
    o.push_str("</table>\n");
    page(&format!("geosim sweep: {}", m.scenario), &o)
}
