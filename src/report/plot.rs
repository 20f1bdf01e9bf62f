//! Charts of a run (the only `plotters` user): lag per peer, backlog bytes against capacity,
//! link queues, sync states, divergent keys and clock errors over time, each with the fault windows shaded,
//! as SVG and PNG. Text is drawn with the DejaVu font embedded in the binary, so charts render
//! on a machine without fonts, and the bytes are the same on every run.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::model::metrics::{Sample, SampleLayout, SessionState, StateChange};

/// At most this many points per series are kept: past it, every other point is dropped and
/// only every second sample is recorded from then on (memory stays bounded however long the
/// run).
const MAX_POINTS: usize = 2048;

/// Downsampled series collected from the samples of a run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Series {
    layout: Option<SampleLayout>,
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

fn code(s: SessionState) -> u8 {
    match s {
        SessionState::Streaming => 0,
        SessionState::Partial => 1,
        SessionState::Full => 2,
        SessionState::Disconnected => 3,
    }
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

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn register_font() -> DrawResult {
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| "the embedded DejaVu font is invalid")?;
    Ok(())
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draws the series labels in a framed box at `pos`.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

/// A line chart over time with shaded fault windows.
fn line_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    t: &[f64],
    lines: &[(String, &[f64])],
    windows: &[Window],
    capacity: Option<(String, f64)>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let t_max = t.last().copied().unwrap_or(1.0).max(1e-3);
    let mut y_max = lines
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0f64, f64::max);
    let mut y_min = lines
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0f64, f64::min);
    if let Some((_, c)) = &capacity {
        y_max = y_max.max(*c);
    }
    if y_max <= y_min {
        y_max = y_min + 1.0;
    }
    let pad = (y_max - y_min) * 0.05;
    y_min = if y_min < 0.0 { y_min - pad } else { 0.0 };
    let y_top = y_max + pad;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..t_max, y_min..y_top)?;
    chart
        .configure_mesh()
        .x_desc("simulated time [s]")
        .y_desc(y_desc)
        .y_label_formatter(&|y| compact(*y))
        .label_style(("sans-serif", 13))
        .draw()?;
    for (i, w) in windows.iter().enumerate() {
        let shade = RGBColor(200, 200, 200).mix(0.35);
        let rect = chart.draw_series(std::iter::once(Rectangle::new(
            [(w.begin_s, y_min), (w.end_s.min(t_max), y_top)],
            shade.filled(),
        )))?;
        if i == 0 {
            rect.label("fault windows").legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 15, y + 5)], shade.filled())
            });
        }
    }
    if let Some((label, c)) = capacity {
        let red = RGBColor(200, 0, 0);
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, c), (t_max, c)],
                ShapeStyle::from(&red).stroke_width(2),
            ))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], red));
    }
    for (i, (label, v)) in lines.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                t.iter().copied().zip(v.iter().copied()),
                &color,
            ))?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], color));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present()?;
    Ok(())
}

/// The sync-state timeline: one band per session, coloured by state, from the recorded state
/// changes (so a full sync shorter than the sample interval still shows).
fn state_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    (changes, end_s): (&[StateChange], f64),
    layout: &SampleLayout,
    windows: &[Window],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let t_max = end_s.max(1e-3);
    let sessions = layout.sessions.len();
    let n = sessions.max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption("Sync state per syncer session", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(170)
        .build_cartesian_2d(0f64..t_max, 0f64..n)?;
    let labels: Vec<String> = layout
        .sessions
        .iter()
        .map(|(a, sh, b)| format!("{}/{sh}->{}", layout.clusters[*a], layout.clusters[*b]))
        .collect();
    chart
        .configure_mesh()
        .x_desc("simulated time [s]")
        .y_desc("session")
        .y_labels(labels.len().min(40))
        .y_label_formatter(&|y| {
            let i = y.floor() as usize;
            labels.get(i).cloned().unwrap_or_default()
        })
        .label_style(("sans-serif", 11))
        .draw()?;
    let colours = [
        ("streaming", RGBColor(44, 160, 44)),
        ("partial", RGBColor(255, 187, 0)),
        ("full", RGBColor(214, 39, 40)),
        ("disconnected", RGBColor(90, 90, 90)),
    ];
    for w in windows {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(w.begin_s, 0.0), (w.end_s.min(t_max), n)],
            RGBColor(200, 200, 200).mix(0.3).filled(),
        )))?;
    }
    for (row, band) in state_bands(changes, sessions, t_max)
        .into_iter()
        .enumerate()
    {
        for (x0, x1, state) in band {
            let colour = colours[code(state) as usize].1;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, row as f64 + 0.1), (x1, row as f64 + 0.9)],
                colour.filled(),
            )))?;
        }
    }
    for (name, colour) in colours {
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], colour.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    root.present()?;
    Ok(())
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

/// Draws every chart into `dir` as SVG and PNG, and returns each chart's name and SVG text.
/// The sync-state chart is drawn from `changes` (every session state change, to `end_s`).
pub(crate) fn write_charts(
    dir: &Path,
    s: &Series,
    windows: &[Window],
    (changes, end_s): (&[StateChange], f64),
) -> Result<Vec<(&'static str, String)>, Box<dyn std::error::Error>> {
    register_font()?;
    let Some(layout) = s.layout.clone() else {
        return Ok(Vec::new());
    };
    let size = (1000, 560);
    let mut out = Vec::new();
    for name in CHARTS {
        let png = dir.join(format!("{name}.png"));
        let mut svg = String::new();
        draw_one(
            name,
            SVGBackend::with_string(&mut svg, size).into_drawing_area(),
            s,
            &layout,
            windows,
            (changes, end_s),
        )?;
        std::fs::write(dir.join(format!("{name}.svg")), &svg)?;
        out.push((name, svg));
        draw_one(
            name,
            BitMapBackend::new(&png, size).into_drawing_area(),
            s,
            &layout,
            windows,
            (changes, end_s),
        )?;
    }
    Ok(out)
}

fn draw_one<DB: DrawingBackend>(
    name: &str,
    root: DrawingArea<DB, Shift>,
    s: &Series,
    l: &SampleLayout,
    windows: &[Window],
    states: (&[StateChange], f64),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let t = &s.time_s;
    match name {
        "lag" => {
            let lines: Vec<(String, &[f64])> = s
                .peer_lag_ms
                .iter()
                .map(|((a, b), v)| (format!("{} -> {}", l.clusters[*a], l.clusters[*b]), &v[..]))
                .collect();
            line_chart(
                root,
                "Replication lag per peer (worst shard)",
                "lag [ms]",
                t,
                &lines,
                windows,
                None,
            )
        }
        "backlog" => {
            let lines: Vec<(String, &[f64])> = s
                .backlog
                .iter()
                .zip(&l.backlogs)
                .map(|(v, (c, sh, _))| (format!("{}/{sh}", l.clusters[*c]), &v[..]))
                .collect();
            let cap = l.backlogs.iter().map(|b| b.2).max().unwrap_or(0) as f64;
            line_chart(
                root,
                "Backlog bytes per shard",
                "bytes held",
                t,
                &lines,
                windows,
                Some(("backlog capacity".into(), cap)),
            )
        }
        "link_queue" => {
            let lines: Vec<(String, &[f64])> = s
                .link_queue
                .iter()
                .zip(&l.links)
                .map(|(v, (a, b))| (format!("{} -> {}", l.clusters[*a], l.clusters[*b]), &v[..]))
                .collect();
            line_chart(
                root,
                "Link queue per direction",
                "queued bytes",
                t,
                &lines,
                windows,
                None,
            )
        }
        "sync_state" => state_chart(root, states, l, windows),
        "divergent_keys" => line_chart(
            root,
            "Divergent keys (instances that have not applied the same writes)",
            "keys",
            t,
            &[("all instances".to_string(), &s.divergent_keys[..])],
            windows,
            None,
        ),
        _ => {
            let lines: Vec<(String, &[f64])> = s
                .clock_ms
                .iter()
                .zip(&l.clusters)
                .map(|(v, c)| (c.clone(), &v[..]))
                .collect();
            line_chart(
                root,
                "Clock error per instance",
                "local - true [ms]",
                t,
                &lines,
                windows,
                None,
            )
        }
    }
}

/// A chart over the values of a swept parameter (categorical x axis), one line per group.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SweepChart {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
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

/// Writes `dir/<name>.svg` and `dir/<name>.png`.
pub(crate) fn write_sweep_chart(dir: &Path, name: &str, c: &SweepChart) -> DrawResult {
    register_font()?;
    let size = (1000, 560);
    let svg = dir.join(format!("{name}.svg"));
    sweep_chart(SVGBackend::new(&svg, size).into_drawing_area(), c)?;
    let png = dir.join(format!("{name}.png"));
    sweep_chart(BitMapBackend::new(&png, size).into_drawing_area(), c)
}

/// Writes `dir/<name>.svg` and `dir/<name>.png`.
pub(crate) fn write_heatmap(dir: &Path, name: &str, h: &Heatmap) -> DrawResult {
    register_font()?;
    let size = (1000, 560);
    let svg = dir.join(format!("{name}.svg"));
    heatmap(SVGBackend::new(&svg, size).into_drawing_area(), h)?;
    let png = dir.join(format!("{name}.png"));
    heatmap(BitMapBackend::new(&png, size).into_drawing_area(), h)
}

/// The coordinate range whose segments are `0..n` (a segmented `0..m` has `m + 1` segments).
fn segments(n: i32) -> std::ops::Range<i32> {
    0..(n - 1).max(1)
}

/// An axis value in few characters: 20.6M rather than 20580106.0.
fn compact(y: f64) -> String {
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
    format!("{s}{unit}")
}

fn sweep_chart<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &SweepChart) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let n = c.x_labels.len() as i32;
    let y_max = c
        .lines
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .fold(0.0f64, f64::max);
    let y_top = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
    let mut chart = ChartBuilder::on(&root)
        .caption(&c.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(segments(n).into_segmented(), 0f64..y_top)?;
    let labels = c.x_labels.clone();
    chart
        .configure_mesh()
        .x_desc(c.x_desc.as_str())
        .y_desc(c.y_desc.as_str())
        .x_labels(c.x_labels.len())
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                labels.get(*i as usize).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .y_label_formatter(&|y| compact(*y))
        .label_style(("sans-serif", 13))
        .draw()?;
    for (k, (label, v)) in c.lines.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let points: Vec<(SegmentValue<i32>, f64)> = v
            .iter()
            .enumerate()
            .filter_map(|(i, y)| y.map(|y| (SegmentValue::CenterOf(i as i32), y)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), &color))?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], color));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 4, color.filled())),
        )?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    root.present()?;
    Ok(())
}

fn heatmap<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, h: &Heatmap) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (nx, ny) = (h.x_labels.len() as i32, h.y_labels.len() as i32);
    let mut chart = ChartBuilder::on(&root)
        .caption(&h.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(segments(nx).into_segmented(), segments(ny).into_segmented())?;
    let label = |labels: &[String], v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
            labels.get(*i as usize).cloned().unwrap_or_default()
        }
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(h.x_desc.as_str())
        .y_desc(h.y_desc.as_str())
        .x_labels(h.x_labels.len())
        .y_labels(h.y_labels.len())
        .x_label_formatter(&|v| label(&h.x_labels, v))
        .y_label_formatter(&|v| label(&h.y_labels, v))
        .label_style(("sans-serif", 13))
        .draw()?;
    for (y, row) in h.cells.iter().enumerate() {
        for (x, p) in row.iter().enumerate() {
            let (x, y) = (x as i32, y as i32);
            // White (never) to red (always).
            let fade = (255.0 * (1.0 - p.clamp(0.0, 1.0))).round() as u8;
            let fill = RGBColor(230, fade, fade);
            chart.draw_series(std::iter::once(Rectangle::new(
                [
                    (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                ],
                fill.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{:.0}%", p * 100.0),
                (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                ("sans-serif", 16).into_font().color(&BLACK),
            )))?;
        }
    }
    root.present()?;
    Ok(())
}
