//! `timeline.csv`: one row per metric sample, streamed to the file as the run goes (a run's
//! memory never grows with its duration). Column names carry their unit and their subject:
//! `lag_ms@us-east/0->eu-west` is the lag of the syncer pulling us-east's shard 0 into
//! eu-west. `reports/README.md` explains every column.

use std::io::Write;

use crate::model::metrics::{Sample, SampleLayout};

/// The header line for a run's layout.
pub(crate) fn header(l: &SampleLayout) -> String {
    let mut cols: Vec<String> = vec![
        "time_s".into(),
        "writes_total".into(),
        "rejected_writes_total".into(),
        "oom_rejections_total".into(),
        "writes_lost_total".into(),
        "partial_syncs_total".into(),
        "full_syncs_total".into(),
        "stream_bytes_total".into(),
        "snapshot_bytes_total".into(),
        "wire_bytes_total".into(),
        "divergent_keys".into(),
    ];
    for (src, shard, dst) in &l.sessions {
        let s = format!("{}/{shard}->{}", l.clusters[*src], l.clusters[*dst]);
        cols.push(format!("lag_ms@{s}"));
        cols.push(format!("sync_state@{s}"));
    }
    for (c, shard, _) in &l.backlogs {
        cols.push(format!("backlog_bytes@{}/{shard}", l.clusters[*c]));
    }
    for (a, b) in &l.links {
        cols.push(format!(
            "link_queue_bytes@{}->{}",
            l.clusters[*a], l.clusters[*b]
        ));
    }
    for c in &l.clusters {
        cols.push(format!("clock_offset_ms@{c}"));
        cols.push(format!("tombstones@{c}"));
        cols.push(format!("memory_bytes@{c}"));
    }
    cols.join(",")
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

/// One row.
pub(crate) fn row(s: &Sample) -> String {
    let mut v: Vec<String> = vec![
        format!("{:.3}", s.time_ns as f64 / 1e9),
        s.writes.to_string(),
        s.rejected_writes.to_string(),
        s.oom_rejections.to_string(),
        s.writes_lost.to_string(),
        s.partial_syncs.to_string(),
        s.full_syncs.to_string(),
        s.stream_bytes.to_string(),
        s.snapshot_bytes.to_string(),
        s.wire_bytes.to_string(),
        s.divergent_keys.to_string(),
    ];
    for x in &s.sessions {
        v.push(ms(x.lag_ns));
        v.push(x.state.name().to_string());
    }
    v.extend(s.backlog_bytes.iter().map(|b| b.to_string()));
    v.extend(s.link_queue_bytes.iter().map(|b| b.to_string()));
    for i in 0..s.clock_offset_ns.len() {
        v.push(format!("{:.3}", s.clock_offset_ns[i] as f64 / 1e6));
        v.push(s.tombstones[i].to_string());
        v.push(s.memory_bytes[i].to_string());
    }
    v.join(",")
}

/// A sample sink that writes `timeline.csv` rows to `out`; the first write error is kept in
/// `error` (the run goes on; the caller reports it).
pub(crate) fn csv_sink<W: Write + 'static>(
    out: std::rc::Rc<std::cell::RefCell<W>>,
    error: std::rc::Rc<std::cell::RefCell<Option<std::io::Error>>>,
) -> crate::model::metrics::SampleSink {
    let mut wrote_header = false;
    Box::new(move |layout, sample| {
        if error.borrow().is_some() {
            return;
        }
        let mut text = String::new();
        if !wrote_header {
            text.push_str(&header(layout));
            text.push('\n');
            wrote_header = true;
        }
        text.push_str(&row(sample));
        text.push('\n');
        if let Err(e) = out.borrow_mut().write_all(text.as_bytes()) {
            *error.borrow_mut() = Some(e);
        }
    })
}
