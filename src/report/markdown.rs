//! `summary.md`: the run summary for people, in Markdown.

use super::summary::Summary;

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

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "–".into())
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
    headline_md(s, &mut o);
    o.push_str("\n## Replication per peer\n\nVisible after: time until a write is visible at the peer, streamed or by a full sync's snapshot.\n\n| from → to | visible p50 ms | visible p99 ms | visible max ms | streamed lag p99 ms | streamed | by snapshot | partial | full | full-sync loop |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for p in &s.peers {
        o.push_str(&format!(
            "| {} → {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            p.from,
            p.to,
            opt(p.visible_ms_p50),
            opt(p.visible_ms_p99),
            opt(p.visible_ms_max),
            opt(p.lag_ms_p99),
            p.ops_applied,
            p.writes_by_snapshot,
            p.partial_syncs,
            p.full_syncs,
            if p.full_sync_loop { "yes" } else { "no" }
        ));
    }
    if !s.heals.is_empty() {
        o.push_str("\n## Heals\n\n| fault | began (s) | healed (s) | caught up after (ms) |\n|---|---|---|---|\n");
        for h in &s.heals {
            o.push_str(&format!(
                "| {} | {:.3} | {:.3} | {} |\n",
                md_text(&h.name),
                h.begin_s,
                h.healed_at_s,
                opt(h.caught_up_after_ms)
            ));
        }
    }
    o.push_str("\n## Instances\n\n| cluster | membership | keys | memory bytes | keyspace digest |\n|---|---|---|---|---|\n");
    for c in &s.clusters {
        o.push_str(&format!(
            "| {} | {} | {} | {} | `{}` |\n",
            c.name, c.membership, c.keys, c.memory_bytes, c.keyspace_digest
        ));
    }
    if !s.expectations.is_empty() {
        o.push_str(&format!(
            "\n## Expectations: {} of {} passed\n\n| check | expected | actual | |\n|---|---|---|---|\n",
            s.expectations.len() - s.expectations_failed,
            s.expectations.len()
        ));
        for e in &s.expectations {
            let what = match e.step {
                Some(i) => format!("step {i} on {}: {}", md_text(&e.on), md_code(&e.cmd)),
                None => md_code(&e.cmd),
            };
            o.push_str(&format!(
                "| {what} | {} | {} | {} |\n",
                md_text(&e.expected),
                md_text(&e.actual),
                if e.pass { "✓" } else { "✗" }
            ));
        }
    }
    o
}

/// The headline figures table.
fn headline_md(s: &Summary, o: &mut String) {
    let t = &s.totals;
    o.push_str("\n## Headline figures\n\n| figure | value |\n|---|---|\n");
    let rows: Vec<(&str, String)> = vec![
        (
            "writes accepted / refused",
            format!("{} / {}", t.writes, t.rejected_writes),
        ),
        ("ops applied at peers", t.ops_applied.to_string()),
        (
            "stream bytes / snapshot bytes / on the wire",
            format!(
                "{} / {} / {}",
                t.stream_bytes, t.snapshot_bytes, t.wire_bytes
            ),
        ),
        (
            "partial syncs / full syncs (failed)",
            format!(
                "{} / {} ({})",
                t.partial_syncs, t.full_syncs, t.full_sync_failures
            ),
        ),
        (
            "fullest backlog (bytes, share of capacity)",
            format!(
                "{} ({:.0}%)",
                s.peaks.backlog_bytes_max,
                s.peaks.backlog_fill_max * 100.0
            ),
        ),
        (
            "longest link queue (bytes)",
            s.peaks.link_queue_bytes_max.to_string(),
        ),
        (
            "furthest behind at a sample (ms)",
            format!("{:.3}", s.peaks.lag_ms_max_sampled),
        ),
        (
            "most divergent keys at a sample",
            s.peaks.divergent_keys_max.to_string(),
        ),
        (
            "LWW conflicts / clock-inverted wins / same-ms ties",
            format!(
                "{} / {} / {}",
                t.lww_conflicts, t.clock_inverted_wins, t.lww_ties
            ),
        ),
        (
            "tombstones held / collected",
            format!("{} / {}", t.tombstones, t.tombstones_collected),
        ),
        (
            "OOM refusals / evictions / replication OOM stops",
            format!(
                "{} / {} / {}",
                t.oom_rejections, t.evictions, t.replication_oom_stops
            ),
        ),
        (
            "writes lost for good / recovered from peers",
            format!("{} / {}", t.writes_lost, t.writes_recovered_from_peers),
        ),
        (
            "writes lost to removals",
            t.writes_lost_to_removal.to_string(),
        ),
    ];
    for (k, v) in rows {
        o.push_str(&format!("| {k} | {v} |\n"));
    }
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
