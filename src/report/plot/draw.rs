//! Drawing the charts with `plotters`, as SVG and PNG. Text is drawn with the DejaVu font
//! embedded in the binary, so charts render on a machine without fonts, and the bytes are the
//! same on every run.
//!
//! Every chart keeps its legend in a column to the right of the data, so no legend hides a
//! line or a band. Lines take ten hues, solid for the first ten series and dashed for the next
//! ten; a chart with more than [`MAX_LINES`] series becomes small multiples (one panel per
//! series, the same scales in every panel). Axes are labelled in human units (KiB/MiB, ms/s,
//! s/min), and the sync-state chart labels every session's row at its middle, growing taller
//! rather than skipping rows.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    CHARTS, DrawError, Heatmap, Series, SweepChart, Unit, Window, axis_desc, axis_scale,
    state_bands, tick, time_scale,
};
use crate::model::metrics::{SampleLayout, SessionState, StateChange};

mod sweep;
pub(super) use sweep::{write_heatmap, write_sweep_chart};

type DrawResult = Result<(), DrawError>;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 560;
/// Past this many series, a line chart is drawn as small multiples.
pub(crate) const MAX_LINES: usize = 20;
/// Columns of the small multiples, and the height of one of their rows in pixels.
const PANEL_COLUMNS: usize = 4;
const PANEL_HEIGHT: u32 = 150;
/// Height of one session's row in the sync-state chart.
const ROW_HEIGHT: u32 = 16;
/// Approximate width of one character of the 12-pixel label font.
const CHAR_WIDTH: u32 = 7;

/// Ten hues that stay apart on white (the Tableau 10 palette).
const HUES: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const CAPACITY: RGBColor = RGBColor(200, 0, 0);

/// Series `i`'s hue and whether it is dashed: ten hues solid, then the same ten dashed.
fn style_of(i: usize) -> (RGBColor, bool) {
    (HUES[i % HUES.len()], (i / HUES.len()) % 2 == 1)
}

fn fault_shade() -> RGBAColor {
    RGBColor(200, 200, 200).mix(0.35)
}

fn register_font() -> DrawResult {
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| "the embedded DejaVu font is invalid")?;
    Ok(())
}

/// What a legend entry shows before its label.
#[derive(Clone, Copy)]
enum Swatch {
    Line(RGBColor, bool),
    Box(RGBAColor),
    /// A heading: the label alone.
    Heading,
}

/// `s` cut to `max` characters, with an ellipsis when cut.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The width of the legend column for `entries`.
fn legend_width(entries: &[(String, Swatch)]) -> u32 {
    let chars = entries
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0) as u32;
    (40 + CHAR_WIDTH * chars).clamp(140, 300)
}

/// Draws the legend column: one entry per 18-pixel row, from below the chart's title.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Swatch)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max_chars = ((area.dim_in_pixel().0.saturating_sub(40)) / CHAR_WIDTH) as usize;
    let font = ("sans-serif", 12)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (label, swatch)) in entries.iter().enumerate() {
        let y = 52 + 18 * i as i32;
        let x_text = match swatch {
            Swatch::Line(c, false) => {
                area.draw(&PathElement::new(vec![(6, y), (30, y)], c.stroke_width(2)))?;
                36
            }
            Swatch::Line(c, true) => {
                for x in [6, 16, 26] {
                    area.draw(&PathElement::new(
                        vec![(x, y), (x + 5, y)],
                        c.stroke_width(2),
                    ))?;
                }
                36
            }
            Swatch::Box(c) => {
                area.draw(&Rectangle::new([(6, y - 6), (30, y + 6)], c.filled()))?;
                area.draw(&Rectangle::new([(6, y - 6), (30, y + 6)], BLACK.mix(0.4)))?;
                36
            }
            Swatch::Heading => 6,
        };
        area.draw(&Text::new(fit(label, max_chars), (x_text, y), font.clone()))?;
    }
    Ok(())
}

/// Splits `root` into the data area and the legend column, and draws the legend.
fn with_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    entries: &[(String, Swatch)],
) -> Result<DrawingArea<DB, Shift>, DrawError>
where
    DB::ErrorType: 'static,
{
    let width = root.dim_in_pixel().0;
    let (plot, side) = root.split_horizontally(width - legend_width(entries));
    legend(&side, entries)?;
    Ok(plot)
}

/// A line chart over time: the series, their unit, the fault windows and a capacity line.
struct Lines<'a> {
    title: &'a str,
    y_desc: &'a str,
    unit: Unit,
    t: &'a [f64],
    lines: Vec<(String, &'a [f64])>,
    windows: &'a [Window],
    capacity: Option<(String, f64)>,
}

/// The scaled ranges of a line chart: the time axis and the value axis in their units.
struct Frame {
    t_div: f64,
    t_max: f64,
    x_desc: String,
    y_div: f64,
    y_min: f64,
    y_top: f64,
    y_desc: String,
}

impl Lines<'_> {
    fn small_multiples(&self) -> bool {
        self.lines.len() > MAX_LINES
    }

    fn panel_rows(&self) -> usize {
        self.lines.len().div_ceil(PANEL_COLUMNS)
    }

    fn size(&self) -> (u32, u32) {
        if self.small_multiples() {
            let h = 90 + PANEL_HEIGHT * self.panel_rows() as u32;
            (WIDTH, h.max(HEIGHT))
        } else {
            (WIDTH, HEIGHT)
        }
    }

    fn frame(&self) -> Frame {
        let t_max = self.t.last().copied().unwrap_or(1.0).max(1e-3);
        let (t_div, t_unit) = time_scale(t_max);
        let values = self.lines.iter().flat_map(|(_, v)| v.iter().copied());
        let mut y_max = values.clone().fold(0.0f64, f64::max);
        let y_min = values.fold(0.0f64, f64::min);
        if let Some((_, c)) = &self.capacity {
            y_max = y_max.max(*c);
        }
        if y_max <= y_min {
            y_max = y_min + 1.0;
        }
        let (y_div, y_unit) = axis_scale(self.unit, y_max.abs().max(y_min.abs()));
        let pad = (y_max - y_min) * 0.05;
        let y_min = if y_min < 0.0 { y_min - pad } else { 0.0 };
        Frame {
            t_div,
            t_max: t_max / t_div,
            x_desc: axis_desc("simulated time", t_unit),
            y_div,
            y_min: y_min / y_div,
            y_top: (y_max + pad) / y_div,
            y_desc: axis_desc(self.y_desc, y_unit),
        }
    }

    fn legend_entries(&self) -> Vec<(String, Swatch)> {
        let mut entries = Vec::new();
        if !self.windows.is_empty() {
            entries.push(("fault windows".to_string(), Swatch::Box(fault_shade())));
        }
        if let Some((label, _)) = &self.capacity {
            entries.push((label.clone(), Swatch::Line(CAPACITY, false)));
        }
        if self.small_multiples() {
            entries.push((format!("{} series,", self.lines.len()), Swatch::Heading));
            entries.push(("one panel each".to_string(), Swatch::Heading));
        } else {
            for (i, (label, _)) in self.lines.iter().enumerate() {
                let (c, dashed) = style_of(i);
                entries.push((label.clone(), Swatch::Line(c, dashed)));
            }
        }
        entries
    }
}

/// One chart panel of a line chart: `big` for a whole chart (axis descriptions, larger
/// labels), otherwise a small multiple captioned with its series.
#[allow(clippy::too_many_arguments)]
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    f: &Frame,
    caption: (&str, u32),
    big: bool,
    spec: &Lines<'_>,
    lines: &[(usize, &[f64])],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (margin, x_area, y_area, font) = if big {
        (12, 40, 70, 13)
    } else {
        (4, 18, 46, 10)
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption.0, ("sans-serif", caption.1))
        .margin(margin)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(0f64..f.t_max, f.y_min..f.y_top)?;
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&|x| tick(*x))
        .y_label_formatter(&|y| tick(*y))
        .label_style(("sans-serif", font));
    if big {
        mesh.x_desc(f.x_desc.as_str()).y_desc(f.y_desc.as_str());
    } else {
        mesh.x_labels(4).y_labels(3).max_light_lines(1);
    }
    mesh.draw()?;
    for w in spec.windows {
        chart.draw_series(std::iter::once(Rectangle::new(
            [
                (w.begin_s / f.t_div, f.y_min),
                (w.end_s / f.t_div, f.y_top).min_x(f.t_max),
            ],
            fault_shade().filled(),
        )))?;
    }
    let width = if big && lines.len() <= HUES.len() {
        2
    } else {
        1
    };
    if let Some((_, c)) = &spec.capacity {
        let c = c / f.y_div;
        chart.draw_series(LineSeries::new(
            vec![(0.0, c), (f.t_max, c)],
            CAPACITY.stroke_width(width),
        ))?;
    }
    for (i, v) in lines {
        let (colour, dashed) = style_of(*i);
        let points: Vec<(f64, f64)> = spec
            .t
            .iter()
            .zip(v.iter())
            .map(|(t, y)| (t / f.t_div, y / f.y_div))
            .collect();
        if dashed {
            chart.draw_series(DashedLineSeries::new(
                points,
                6,
                4,
                colour.stroke_width(width),
            ))?;
        } else {
            chart.draw_series(LineSeries::new(points, colour.stroke_width(width)))?;
        }
    }
    Ok(())
}

/// `(x, y)` with x at most `max`.
trait MinX {
    fn min_x(self, max: f64) -> Self;
}

impl MinX for (f64, f64) {
    fn min_x(self, max: f64) -> Self {
        (self.0.min(max), self.1)
    }
}

fn line_chart<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, spec: &Lines<'_>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let plot = with_legend(&root, &spec.legend_entries())?;
    let f = spec.frame();
    if !spec.small_multiples() {
        let lines: Vec<(usize, &[f64])> = spec
            .lines
            .iter()
            .enumerate()
            .map(|(i, (_, v))| (i, *v))
            .collect();
        panel(&plot, &f, (spec.title, 22), true, spec, &lines)?;
    } else {
        let body = plot.titled(spec.title, ("sans-serif", 22))?;
        let note = format!(
            "{} against {}, the same scales in every panel",
            f.y_desc, f.x_desc
        );
        let body = body.titled(&note, ("sans-serif", 13))?;
        let panels = body.split_evenly((spec.panel_rows(), PANEL_COLUMNS));
        // One hue for every panel: the panel's caption names its series.
        for ((label, v), area) in spec.lines.iter().zip(&panels) {
            panel(area, &f, (label, 11), false, spec, &[(0, v)])?;
        }
    }
    root.present()?;
    Ok(())
}

const STATES: [(&str, RGBColor); 4] = [
    ("streaming", RGBColor(44, 160, 44)),
    ("partial", RGBColor(255, 187, 0)),
    ("full", RGBColor(214, 39, 40)),
    ("disconnected", RGBColor(90, 90, 90)),
];

fn state_colour(s: SessionState) -> RGBColor {
    let i = match s {
        SessionState::Streaming => 0,
        SessionState::Partial => 1,
        SessionState::Full => 2,
        SessionState::Disconnected => 3,
    };
    STATES[i].1
}

fn session_labels(layout: &SampleLayout) -> Vec<String> {
    layout
        .sessions
        .iter()
        .map(|(a, sh, b)| format!("{}/{sh} -> {}", layout.clusters[*a], layout.clusters[*b]))
        .collect()
}

fn state_size(sessions: usize) -> (u32, u32) {
    (WIDTH, (110 + ROW_HEIGHT * sessions as u32).max(HEIGHT))
}

/// The sync-state timeline: one labelled row per session, first session at the top, coloured
/// by state from the recorded state changes (so a full sync shorter than the sample interval
/// still shows).
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
    let mut entries: Vec<(String, Swatch)> = STATES
        .iter()
        .map(|(name, c)| (name.to_string(), Swatch::Box(c.to_rgba())))
        .collect();
    if !windows.is_empty() {
        entries.push(("fault windows".to_string(), Swatch::Box(fault_shade())));
    }
    let plot = with_legend(&root, &entries)?;
    let labels = session_labels(layout);
    let n = labels.len();
    let label_chars = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
    let label_area = (16 + CHAR_WIDTH * label_chars).clamp(80, 300);
    let t_end = end_s.max(1e-3);
    let (t_div, t_unit) = time_scale(t_end);
    let rows = n.max(1) as f64;
    let mut chart = ChartBuilder::on(&plot)
        .caption("Sync state per syncer session", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_area)
        .build_cartesian_2d(0f64..t_end / t_div, 0f64..rows)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc(axis_desc("simulated time", t_unit))
        .x_label_formatter(&|x| tick(*x))
        .label_style(("sans-serif", 13))
        .draw()?;
    // Row `r` (session `r`) sits at y in `rows - r - 1 .. rows - r`: the first at the top.
    let y_of = |r: usize| rows - r as f64 - 1.0;
    for w in windows {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(w.begin_s / t_div, 0.0), (w.end_s.min(t_end) / t_div, rows)],
            RGBColor(200, 200, 200).mix(0.3).filled(),
        )))?;
    }
    for (r, band) in state_bands(changes, n, t_end).into_iter().enumerate() {
        let y = y_of(r);
        for (x0, x1, state) in band {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0 / t_div, y + 0.12), (x1 / t_div, y + 0.88)],
                state_colour(state).filled(),
            )))?;
        }
    }
    let font = ("sans-serif", 12)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (r, label) in labels.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0.0, y_of(r) + 0.5));
        plot.draw(&Text::new(label.as_str(), (x - 6, y), font.clone()))?;
    }
    root.present()?;
    Ok(())
}

/// Draws every chart into `dir` as SVG and PNG, and returns each chart's name and SVG text.
pub(super) fn write_charts(
    dir: &Path,
    s: &Series,
    windows: &[Window],
    states: (&[StateChange], f64),
) -> Result<Vec<(&'static str, String)>, DrawError> {
    register_font()?;
    let Some(layout) = s.layout.clone() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in CHARTS {
        let chart = Chart::of(name, s, &layout, windows, states);
        let size = chart.size();
        let mut svg = String::new();
        chart.draw(SVGBackend::with_string(&mut svg, size).into_drawing_area())?;
        std::fs::write(dir.join(format!("{name}.svg")), &svg)?;
        out.push((name, svg));
        let png = dir.join(format!("{name}.png"));
        chart.draw(BitMapBackend::new(&png, size).into_drawing_area())?;
    }
    Ok(out)
}

/// One of a run's charts, ready to draw on any backend.
enum Chart<'a> {
    Lines(Lines<'a>),
    States {
        states: (&'a [StateChange], f64),
        layout: &'a SampleLayout,
        windows: &'a [Window],
    },
}

impl<'a> Chart<'a> {
    fn of(
        name: &str,
        s: &'a Series,
        l: &'a SampleLayout,
        windows: &'a [Window],
        states: (&'a [StateChange], f64),
    ) -> Self {
        let peer = |(a, b): (usize, usize)| format!("{} -> {}", l.clusters[a], l.clusters[b]);
        let lines = |title, y_desc, unit, lines| {
            Chart::Lines(Lines {
                title,
                y_desc,
                unit,
                t: &s.time_s,
                lines,
                windows,
                capacity: None,
            })
        };
        match name {
            "lag" => lines(
                "Replication lag per peer (worst shard)",
                "lag",
                Unit::Millis,
                s.peer_lag_ms
                    .iter()
                    .map(|(p, v)| (peer(*p), &v[..]))
                    .collect(),
            ),
            "backlog" => Chart::Lines(Lines {
                title: "Backlog bytes per shard",
                y_desc: "bytes held",
                unit: Unit::Bytes,
                t: &s.time_s,
                lines: s
                    .backlog
                    .iter()
                    .zip(&l.backlogs)
                    .map(|(v, (c, sh, _))| (format!("{}/{sh}", l.clusters[*c]), &v[..]))
                    .collect(),
                windows,
                capacity: Some((
                    "backlog capacity".into(),
                    l.backlogs.iter().map(|b| b.2).max().unwrap_or(0) as f64,
                )),
            }),
            "link_queue" => lines(
                "Link queue per direction",
                "queued bytes",
                Unit::Bytes,
                s.link_queue
                    .iter()
                    .zip(&l.links)
                    .map(|(v, p)| (peer(*p), &v[..]))
                    .collect(),
            ),
            "sync_state" => Chart::States {
                states,
                layout: l,
                windows,
            },
            "divergent_keys" => lines(
                "Divergent keys (instances that have not applied the same writes)",
                "keys",
                Unit::Count,
                vec![("all instances".to_string(), &s.divergent_keys[..])],
            ),
            _ => lines(
                "Clock error per instance",
                "local - true",
                Unit::Millis,
                s.clock_ms
                    .iter()
                    .zip(&l.clusters)
                    .map(|(v, c)| (c.clone(), &v[..]))
                    .collect(),
            ),
        }
    }

    fn size(&self) -> (u32, u32) {
        match self {
            Chart::Lines(l) => l.size(),
            Chart::States { layout, .. } => state_size(layout.sessions.len()),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        match self {
            Chart::Lines(l) => line_chart(root, l),
            Chart::States {
                states,
                layout,
                windows,
            } => state_chart(root, *states, layout, windows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;

    /// Every `<text>` of an SVG: its anchor point and its content (unescaped).
    pub(super) fn texts(svg: &str) -> Vec<(f64, f64, String)> {
        let re = regex::Regex::new(
            r#"(?s)<text x="([-\d.]+)" y="([-\d.]+)"[^>]*>\s*([^<]*?)\s*</text>"#,
        )
        .unwrap();
        re.captures_iter(svg)
            .map(|c| {
                let text = c[3]
                    .replace("&gt;", ">")
                    .replace("&lt;", "<")
                    .replace("&amp;", "&");
                (c[1].parse().unwrap(), c[2].parse().unwrap(), text)
            })
            .collect()
    }

    pub(super) fn svg_of(
        size: (u32, u32),
        draw: impl FnOnce(DrawingArea<SVGBackend, Shift>) -> DrawResult,
    ) -> String {
        register_font().unwrap();
        let mut svg = String::new();
        draw(SVGBackend::with_string(&mut svg, size).into_drawing_area()).unwrap();
        svg
    }

    #[test]
    fn every_session_row_is_labelled_at_its_middle_first_at_the_top() {
        let clusters: Vec<String> = (0..8).map(|i| format!("region-{i}")).collect();
        let sessions: Vec<(usize, usize, usize)> =
            (0..40).map(|i| (i % 8, i / 8, (i + 1) % 8)).collect();
        let layout = SampleLayout {
            clusters,
            sessions,
            backlogs: Vec::new(),
            links: Vec::new(),
        };
        let changes: Vec<StateChange> = (0..40)
            .map(|i| StateChange {
                time: SimTime(i * 1_000_000_000),
                session: i as u32,
                state: SessionState::Full,
            })
            .collect();
        let size = state_size(40);
        let svg = svg_of(size, |root| {
            state_chart(root, (&changes, 60.0), &layout, &[])
        });
        let texts = texts(&svg);
        let mut ys = Vec::new();
        for label in session_labels(&layout) {
            let found: Vec<_> = texts.iter().filter(|t| t.2 == label).collect();
            assert_eq!(found.len(), 1, "{label} is labelled once");
            ys.push(found[0].1);
        }
        assert!(
            ys.windows(2)
                .all(|w| w[1] - w[0] >= (ROW_HEIGHT - 2) as f64),
            "{ys:?}"
        );
        assert!(ys[0] < ys[39]);
    }

    #[test]
    fn legends_sit_right_of_the_data() {
        let t: Vec<f64> = (0..100).map(f64::from).collect();
        let v: Vec<f64> = t.iter().map(|x| x * 1000.0).collect();
        let spec = Lines {
            title: "t",
            y_desc: "bytes held",
            unit: Unit::Bytes,
            t: &t,
            lines: (0..3).map(|i| (format!("series-{i}"), &v[..])).collect(),
            windows: &[],
            capacity: Some(("capacity".to_string(), 50_000.0)),
        };
        let svg = svg_of(spec.size(), |root| line_chart(root, &spec));
        let edge = f64::from(WIDTH - legend_width(&spec.legend_entries()));
        let texts = texts(&svg);
        for label in ["series-0", "series-1", "series-2", "capacity"] {
            let t = texts.iter().find(|t| t.2 == label).expect(label);
            assert!(t.0 > edge, "{label} at x {} is left of {edge}", t.0);
        }
        // Every data line (the polylines of more than a swatch's two points) stays left of the
        // legend column, and the axis is in KiB.
        let re = regex::Regex::new(r#"<polyline[^>]*points="([^"]*)""#).unwrap();
        let lines: Vec<_> = re
            .captures_iter(&svg)
            .filter(|c| c[1].split_whitespace().count() > 2)
            .collect();
        assert_eq!(lines.len(), 3);
        for c in lines {
            for point in c[1].split_whitespace() {
                let x: f64 = point.split(',').next().unwrap().parse().unwrap();
                assert!(x < edge, "a line point at x {x}");
            }
        }
        assert!(texts.iter().any(|t| t.2 == "bytes held [KiB]"));
    }

    #[test]
    fn twenty_series_get_twenty_different_styles() {
        let styles: Vec<(RGBColor, bool)> = (0..MAX_LINES).map(style_of).collect();
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert!(a != b, "two series share {a:?}");
            }
        }
    }

    #[test]
    fn labels_are_cut_with_an_ellipsis() {
        assert_eq!(fit("us-east -> eu-west", 40), "us-east -> eu-west");
        assert_eq!(fit("us-east -> eu-west", 8), "us-east…");
    }

    #[test]
    fn more_than_twenty_series_become_small_multiples_that_grow_the_chart() {
        let t = [0.0, 1.0];
        let v = [1.0, 2.0];
        let spec = |n: usize| Lines {
            title: "t",
            y_desc: "bytes held",
            unit: Unit::Bytes,
            t: &t,
            lines: (0..n).map(|i| (format!("s{i}"), &v[..])).collect(),
            windows: &[],
            capacity: None,
        };
        assert!(!spec(20).small_multiples());
        assert_eq!(spec(20).size(), (WIDTH, HEIGHT));
        let big = spec(96);
        assert!(big.small_multiples());
        assert_eq!(big.size(), (WIDTH, 90 + PANEL_HEIGHT * 24));
        assert_eq!(state_size(12), (WIDTH, HEIGHT));
        assert_eq!(state_size(192), (WIDTH, 110 + ROW_HEIGHT * 192));
    }
}
