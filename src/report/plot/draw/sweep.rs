//! The sweep's charts: a line chart over the values of a swept parameter (categorical x axis)
//! and the heatmap of full-sync shares over two parameters.

use super::*;

/// Writes `dir/<name>.svg` and `dir/<name>.png`.
pub(in crate::report::plot) fn write_sweep_chart(
    dir: &Path,
    name: &str,
    c: &SweepChart,
) -> DrawResult {
    register_font()?;
    let size = (WIDTH, HEIGHT);
    let svg = dir.join(format!("{name}.svg"));
    sweep_chart(SVGBackend::new(&svg, size).into_drawing_area(), c)?;
    let png = dir.join(format!("{name}.png"));
    sweep_chart(BitMapBackend::new(&png, size).into_drawing_area(), c)
}

/// Writes `dir/<name>.svg` and `dir/<name>.png`.
pub(in crate::report::plot) fn write_heatmap(dir: &Path, name: &str, h: &Heatmap) -> DrawResult {
    register_font()?;
    let size = (WIDTH, HEIGHT);
    let svg = dir.join(format!("{name}.svg"));
    heatmap(SVGBackend::new(&svg, size).into_drawing_area(), h)?;
    let png = dir.join(format!("{name}.png"));
    heatmap(BitMapBackend::new(&png, size).into_drawing_area(), h)
}

/// The label of category `v` of a segmented axis.
fn category(labels: &[String], v: &SegmentValue<i32>) -> String {
    match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
            labels.get(*i as usize).cloned().unwrap_or_default()
        }
        SegmentValue::Last => String::new(),
    }
}

/// A chart over the values of a swept parameter: one line per group, with markers (circles,
/// then triangles and squares past twenty lines).
fn sweep_chart<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &SweepChart) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let entries: Vec<(String, Swatch)> = c
        .lines
        .iter()
        .enumerate()
        .map(|(k, (label, _))| {
            let (colour, dashed) = style_of(k);
            (label.clone(), Swatch::Line(colour, dashed))
        })
        .collect();
    let plot = with_legend(&root, &entries)?;
    let n = c.x_labels.len() as i32;
    let y_max = c
        .lines
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .fold(0.0f64, f64::max);
    let (y_div, y_unit) = axis_scale(c.unit, y_max);
    let y_top = if y_max > 0.0 { y_max * 1.1 } else { 1.0 } / y_div;
    // A segmented `0..m` has `m + 1` segments: `0..n - 1` has one per label.
    let mut chart = ChartBuilder::on(&plot)
        .caption(&c.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((0..(n - 1).max(1)).into_segmented(), 0f64..y_top)?;
    chart
        .configure_mesh()
        .x_desc(c.x_desc.as_str())
        .y_desc(axis_desc(&c.y_desc, y_unit))
        .x_labels(c.x_labels.len())
        .x_label_formatter(&|v| category(&c.x_labels, v))
        .y_label_formatter(&|y| tick(*y))
        .label_style(("sans-serif", 13))
        .draw()?;
    for (k, (_, v)) in c.lines.iter().enumerate() {
        let (colour, dashed) = style_of(k);
        let points: Vec<(SegmentValue<i32>, f64)> = v
            .iter()
            .enumerate()
            .filter_map(|(i, y)| y.map(|y| (SegmentValue::CenterOf(i as i32), y / y_div)))
            .collect();
        let style = colour.stroke_width(2);
        if dashed {
            chart.draw_series(DashedLineSeries::new(points.clone(), 6, 4, style))?;
        } else {
            chart.draw_series(LineSeries::new(points.clone(), style))?;
        }
        match k / (2 * HUES.len()) % 3 {
            0 => chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, colour.filled())),
            )?,
            1 => chart.draw_series(
                points
                    .into_iter()
                    .map(|p| TriangleMarker::new(p, 5, colour.filled())),
            )?,
            _ => chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Cross::new(p, 4, colour.stroke_width(2))),
            )?,
        };
    }
    root.present()?;
    Ok(())
}

/// The colour of a heatmap cell for a share in 0..=1: white (never) to red (always).
fn heat(p: f64) -> RGBColor {
    let p = p.clamp(0.0, 1.0);
    let fade = (255.0 * (1.0 - p)).round() as u8;
    RGBColor(255 - (25.0 * p).round() as u8, fade, fade)
}

/// A grid of shares over two swept parameters: each cell filled by its share and printed as
/// a percentage, each column and row labelled at its middle.
fn heatmap<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, h: &Heatmap) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let entries = vec![
        ("share of seeds".to_string(), Swatch::Heading),
        ("0 %".to_string(), Swatch::Box(heat(0.0).to_rgba())),
        ("50 %".to_string(), Swatch::Box(heat(0.5).to_rgba())),
        ("100 %".to_string(), Swatch::Box(heat(1.0).to_rgba())),
    ];
    let plot = with_legend(&root, &entries)?;
    let (nx, ny) = (h.x_labels.len().max(1), h.y_labels.len().max(1));
    let label_chars = h
        .y_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0) as u32;
    let mut chart = ChartBuilder::on(&plot)
        .caption(&h.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size((40 + CHAR_WIDTH * label_chars).clamp(70, 260))
        .build_cartesian_2d(0f64..nx as f64, 0f64..ny as f64)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc(h.x_desc.as_str())
        .y_desc(h.y_desc.as_str())
        .label_style(("sans-serif", 13))
        .draw()?;
    let centre = Pos::new(HPos::Center, VPos::Center);
    for (y, row) in h.cells.iter().enumerate() {
        for (x, p) in row.iter().enumerate() {
            let (x, y) = (x as f64, y as f64);
            let cell = [(x, y), (x + 1.0, y + 1.0)];
            chart.draw_series([
                Rectangle::new(cell, heat(*p).filled()),
                Rectangle::new(cell, RGBColor(190, 190, 190).stroke_width(1)),
            ])?;
            let ink = if *p > 0.6 { WHITE } else { BLACK };
            chart.draw_series(std::iter::once(Text::new(
                format!("{:.0}%", p * 100.0),
                (x + 0.5, y + 0.5),
                ("sans-serif", 16).into_font().color(&ink).pos(centre),
            )))?;
        }
    }
    let font = ("sans-serif", 13).into_font().color(&BLACK);
    for (i, label) in h.x_labels.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        let style = font.clone().pos(Pos::new(HPos::Center, VPos::Top));
        plot.draw(&Text::new(label.as_str(), (px, py + 6), style))?;
    }
    for (j, label) in h.y_labels.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(0.0, j as f64 + 0.5));
        let style = font.clone().pos(Pos::new(HPos::Right, VPos::Center));
        plot.draw(&Text::new(label.as_str(), (px - 6, py), style))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{svg_of, texts};
    use super::*;

    #[test]
    fn heat_runs_from_white_to_red() {
        assert_eq!(heat(0.0), RGBColor(255, 255, 255));
        assert_eq!(heat(1.0), RGBColor(230, 0, 0));
        assert_eq!(heat(7.0), heat(1.0));
    }

    #[test]
    fn heatmap_labels_sit_under_their_columns_and_beside_their_rows() {
        let h = Heatmap {
            title: "p".into(),
            x_desc: "backlog".into(),
            y_desc: "outage".into(),
            x_labels: ["1MB", "2MB", "4MB", "8MB"].map(String::from).to_vec(),
            y_labels: ["10s", "40s"].map(String::from).to_vec(),
            cells: vec![vec![0.0, 0.0, 0.0, 0.0], vec![1.0, 1.0, 0.5, 0.0]],
        };
        let svg = svg_of((WIDTH, HEIGHT), |root| heatmap(root, &h));
        let texts = texts(&svg);
        let find = |s: &str| texts.iter().find(|t| t.2 == s).cloned().expect(s);
        // The cells' texts are centred in their cells, so a column's label shares its x with
        // the cells above it, and a row's label its y with the cells beside it.
        let xs: Vec<f64> = h.x_labels.iter().map(|l| find(l).0).collect();
        assert!(xs.windows(2).all(|w| w[1] > w[0]));
        let row = |y: usize| -> Vec<(f64, f64)> {
            texts
                .iter()
                .filter(|t| t.2.ends_with('%') && t.2.len() <= 4 && t.0 < xs[3] + 50.0)
                .filter(|t| (t.1 - find(&h.y_labels[y]).1).abs() < 1.0)
                .map(|t| (t.0, t.1))
                .collect()
        };
        for y in 0..2 {
            let cells = row(y);
            assert_eq!(cells.len(), 4, "row {y}: {cells:?}");
            for (cell, x) in cells.iter().zip(&xs) {
                assert!(
                    (cell.0 - x).abs() < 1.0,
                    "a cell at {} under a label at {x}",
                    cell.0
                );
            }
        }
    }
}
