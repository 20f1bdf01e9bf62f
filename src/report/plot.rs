//! Charts of a run (lag per peer, backlog bytes against capacity, link queues, sync states,
//! divergent keys and clock errors over time, each with the fault windows shaded) and of a
//! sweep: the series they draw, collected from a run's samples, and the units their axes are
//! labelled in. Drawing them as SVG and PNG (`draw`, the only `plotters` user) needs the
//! `charts` feature (on by default); without it, reports are written without charts.

use std::path::Path;

use crate::model::metrics::{Sample, SampleLayout, SessionState, StateChange};

#[cfg(feature = "charts")]
mod draw;

/// At most this many points per series are kept: past it, every other point is dropped and
/// only every second sample is recorded from then on (memory stays bounded however long the
/// run).
const MAX_POINTS: usize = 2048;

/// Downsampled series collected from the samples of a run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Series {
    pub layout: Option<SampleLayout>,
    stride: u64,
    seen: u64,
    pub time_s: Vec<f64>,
    /// Per directed peer (src, dst): the largest lag of its sessions, in ms.
    pub peer_lag_ms: Vec<((usize, usize), Vec<f64>)>,
    /// Per backlog: bytes held.
    pub backlog: Vec<Vec<f64>>,
    /// Per link: queued bytes.
    pub link_queue: Vec<Vec<f64>>,
    /// Per cluster: clock error in ms.
    pub clock_ms: Vec<Vec<f64>>,
    /// Keys whose instances have not all applied the same writes.
    pub divergent_keys: Vec<f64>,
}

impl Series {
    pub fn new() -> Self {
        Series {
            stride: 1,
            ..Series::default()
        }
    }

    pub(crate) fn push(&mut self, layout: &SampleLayout, s: &Sample) {
        if self.layout.is_none() {
            let mut peers: Vec<(usize, usize)> =
                layout.sessions.iter().map(|(a, _, b)| (*a, *b)).collect();
            peers.sort_unstable();
            peers.dedup();
            self.peer_lag_ms = peers.into_iter().map(|p| (p, Vec::new())).collect();
            self.backlog = vec![Vec::new(); layout.backlogs.len()];
            self.link_queue = vec![Vec::new(); layout.links.len()];
            self.clock_ms = vec![Vec::new(); layout.clusters.len()];
            self.layout = Some(layout.clone());
        }
        self.seen += 1;
        if !(self.seen - 1).is_multiple_of(self.stride) {
            return;
        }
        self.time_s.push(s.time_ns as f64 / 1e9);
        for ((peer, v), _) in self.peer_lag_ms.iter_mut().zip(0..) {
            let worst = layout
                .sessions
                .iter()
                .zip(&s.sessions)
                .filter(|((a, _, b), _)| (*a, *b) == *peer)
                .map(|(_, x)| x.lag_ns)
                .max()
                .unwrap_or(0);
            v.push(worst as f64 / 1e6);
        }
        for (v, b) in self.backlog.iter_mut().zip(&s.backlog_bytes) {
            v.push(*b as f64);
        }
        for (v, b) in self.link_queue.iter_mut().zip(&s.link_queue_bytes) {
            v.push(*b as f64);
        }
        for (v, x) in self.clock_ms.iter_mut().zip(&s.clock_offset_ns) {
            v.push(*x as f64 / 1e6);
        }
        self.divergent_keys.push(s.divergent_keys as f64);
        if self.time_s.len() >= MAX_POINTS {
            self.halve();
        }
    }

    fn halve(&mut self) {
        fn keep_even<T: Copy>(v: &mut Vec<T>) {
            let kept: Vec<T> = v.iter().step_by(2).copied().collect();
            *v = kept;
        }
        keep_even(&mut self.time_s);
        keep_even(&mut self.divergent_keys);
        for (_, v) in &mut self.peer_lag_ms {
            keep_even(v);
        }
        for v in self.backlog.iter_mut().chain(self.link_queue.iter_mut()) {
            keep_even(v);
        }
        for v in &mut self.clock_ms {
            keep_even(v);
        }
        self.stride *= 2;
    }
}

/// Per session, its state intervals `(from_s, to_s, state)` from the recorded changes, the
/// last one reaching `end_s`.
pub(crate) fn state_bands(
    changes: &[StateChange],
    sessions: usize,
    end_s: f64,
) -> Vec<Vec<(f64, f64, SessionState)>> {
    let mut bands: Vec<Vec<(f64, f64, SessionState)>> = vec![Vec::new(); sessions];
    for c in changes {
        let Some(band) = bands.get_mut(c.session as usize) else {
            continue;
        };
        let t = c.time.as_secs_f64();
        if let Some(last) = band.last_mut() {
            last.1 = t;
        }
        band.push((t, end_s.max(t), c.state));
    }
    for band in &mut bands {
        band.retain(|(a, b, _)| b > a);
    }
    bands
}

/// A shaded window on the time axis: a fault, with its label.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Window {
    pub begin_s: f64,
    pub end_s: f64,
    pub label: String,
}

/// The chart files a report writes (without extension: each comes as `.svg` and `.png`).
pub const CHARTS: [&str; 6] = [
    "lag",
    "backlog",
    "link_queue",
    "sync_state",
    "divergent_keys",
    "clock_offset",
];

/// A chart's caption in the HTML report.
pub(crate) fn caption(name: &str) -> &'static str {
    match name {
        "lag" => "Replication lag per peer (worst shard)",
        "backlog" => "Backlog bytes per shard",
        "link_queue" => "Link queue per direction",
        "sync_state" => "Sync state per syncer session",
        "divergent_keys" => "Divergent keys",
        "clock_offset" => "Clock error per instance",
        _ => "",
    }
}

/// A chart over the values of a swept parameter (categorical x axis), one line per group.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SweepChart {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    /// What the values measure, which picks the unit the y axis is labelled in.
    pub unit: Unit,
    pub x_labels: Vec<String>,
    /// Each line: its label and one value per x label (`None`: nothing to plot there).
    pub lines: Vec<(String, Vec<Option<f64>>)>,
}

/// A grid of values in 0..=1 over two swept parameters, each cell printed as a percentage.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Heatmap {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    /// `cells[y][x]`.
    pub cells: Vec<Vec<f64>>,
}

/// What a chart's values measure; it picks the unit an axis is labelled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Bytes: B, KiB, MiB or GiB.
    Bytes,
    /// Milliseconds: ms, s or min.
    Millis,
    /// Microseconds: µs or ms.
    Micros,
    /// A count, with k and M on large ticks.
    Count,
    /// A share in 0..=1, labelled in percent.
    Share,
}

/// The scale an axis with values up to `max_abs` is drawn in: values are divided by the
/// first number and the axis is labelled in the unit named second (`""`: no unit).
pub(crate) fn axis_scale(unit: Unit, max_abs: f64) -> (f64, &'static str) {
    const KIB: f64 = 1024.0;
    match unit {
        Unit::Bytes if max_abs >= KIB * KIB * KIB => (KIB * KIB * KIB, "GiB"),
        Unit::Bytes if max_abs >= KIB * KIB => (KIB * KIB, "MiB"),
        Unit::Bytes if max_abs >= KIB => (KIB, "KiB"),
        Unit::Bytes => (1.0, "B"),
        Unit::Millis if max_abs >= 600_000.0 => (60_000.0, "min"),
        Unit::Millis if max_abs >= 2_000.0 => (1_000.0, "s"),
        Unit::Millis => (1.0, "ms"),
        Unit::Micros if max_abs >= 2_000.0 => (1_000.0, "ms"),
        Unit::Micros => (1.0, "µs"),
        Unit::Count => (1.0, ""),
        Unit::Share => (0.01, "%"),
    }
}

/// The scale of a time axis that reaches `t_max_s` seconds: s up to 10 minutes, then min up
/// to 3 hours, then h.
pub(crate) fn time_scale(t_max_s: f64) -> (f64, &'static str) {
    if t_max_s >= 3.0 * 3600.0 {
        (3600.0, "h")
    } else if t_max_s >= 600.0 {
        (60.0, "min")
    } else {
        (1.0, "s")
    }
}

/// An axis description with its unit: `bytes held [MiB]`.
pub(crate) fn axis_desc(desc: &str, unit: &str) -> String {
    if unit.is_empty() {
        desc.to_string()
    } else {
        format!("{desc} [{unit}]")
    }
}

/// A tick label in few characters: 20.6M rather than 20580106.0, 2.5 rather than 2.50.
pub(crate) fn tick(y: f64) -> String {
    let a = y.abs();
    let (v, unit) = if a >= 1e9 {
        (y / 1e9, "G")
    } else if a >= 1e6 {
        (y / 1e6, "M")
    } else if a >= 1e4 {
        (y / 1e3, "k")
    } else {
        (y, "")
    };
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let s = if s == "-0" { "0" } else { s };
    format!("{s}{unit}")
}

type DrawError = Box<dyn std::error::Error>;

/// Draws every chart into `dir` as SVG and PNG, and returns each chart's name and SVG text.
/// The sync-state chart is drawn from `changes` (every session state change, to `end_s`).
/// Without the `charts` feature nothing is drawn and the list is empty.
pub(crate) fn write_charts(
    dir: &Path,
    s: &Series,
    windows: &[Window],
    states: (&[StateChange], f64),
) -> Result<Vec<(&'static str, String)>, DrawError> {
    #[cfg(feature = "charts")]
    return draw::write_charts(dir, s, windows, states);
    #[cfg(not(feature = "charts"))]
    {
        let _ = (dir, s, windows, states);
        Ok(Vec::new())
    }
}

/// Writes `dir/<name>.svg` and `dir/<name>.png` (nothing without the `charts` feature).
pub(crate) fn write_sweep_chart(dir: &Path, name: &str, c: &SweepChart) -> Result<(), DrawError> {
    #[cfg(feature = "charts")]
    return draw::write_sweep_chart(dir, name, c);
    #[cfg(not(feature = "charts"))]
    {
        let _ = (dir, name, c);
        Ok(())
    }
}

/// Writes `dir/<name>.svg` and `dir/<name>.png` (nothing without the `charts` feature).
pub(crate) fn write_heatmap(dir: &Path, name: &str, h: &Heatmap) -> Result<(), DrawError> {
    #[cfg(feature = "charts")]
    return draw::write_heatmap(dir, name, h);
    #[cfg(not(feature = "charts"))]
    {
        let _ = (dir, name, h);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_labelled_in_human_units() {
        assert_eq!(axis_scale(Unit::Bytes, 900.0), (1.0, "B"));
        assert_eq!(axis_scale(Unit::Bytes, 20_580_106.0), (1_048_576.0, "MiB"));
        assert_eq!(axis_scale(Unit::Bytes, 3.0 * 1_073_741_824.0).1, "GiB");
        assert_eq!(axis_scale(Unit::Bytes, 4096.0).1, "KiB");
        assert_eq!(axis_scale(Unit::Millis, 80.0), (1.0, "ms"));
        assert_eq!(axis_scale(Unit::Millis, 90_000.0), (1_000.0, "s"));
        assert_eq!(axis_scale(Unit::Millis, 900_000.0), (60_000.0, "min"));
        assert_eq!(axis_scale(Unit::Micros, 3.0), (1.0, "µs"));
        assert_eq!(axis_scale(Unit::Share, 1.0), (0.01, "%"));
        assert_eq!(time_scale(120.0), (1.0, "s"));
        assert_eq!(time_scale(1800.0), (60.0, "min"));
        assert_eq!(time_scale(86_400.0), (3600.0, "h"));
        assert_eq!(axis_desc("bytes held", "MiB"), "bytes held [MiB]");
        assert_eq!(axis_desc("keys", ""), "keys");
        assert_eq!(tick(20_580_106.0), "20.58M");
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(-0.0), "0");
        assert_eq!(tick(12_000.0), "12k");
    }
}
