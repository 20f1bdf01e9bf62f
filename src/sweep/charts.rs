//! The sweep's charts: full-sync share, WAN bytes and time to converge against the backlog
//! size, and the full-sync heatmap.

use super::*;

/// The chart files `write_sweep_charts` writes, each as SVG and PNG.
pub const SWEEP_CHARTS: [&str; 4] = [
    "full_sync_rate",
    "wan_bytes",
    "time_to_converge",
    "full_sync_heatmap",
];

/// Charts of a whole sweep: against the backlog-size axis (or the first axis when none is
/// swept), one line per combination of the other axes: the share of seeds that needed a full
/// sync, mean WAN bytes and mean time to converge; and, with two or more axes, a heatmap of
/// the share of runs with a full sync over the x axis × the first other axis.
pub(crate) fn write_sweep_charts(dir: &Path, axes: &[Axis], rows: &[Row]) -> Result<(), String> {
    use crate::report::plot::{Heatmap, SweepChart, Unit, write_heatmap, write_sweep_chart};
    if axes.is_empty() || rows.is_empty() {
        return Ok(());
    }
    let xi = axes
        .iter()
        .position(|a| a.path.ends_with("backlog_size"))
        .unwrap_or(0);
    let others: Vec<usize> = (0..axes.len()).filter(|i| *i != xi).collect();
    let x_labels = axes[xi].values.clone();
    // Line groups: the other axes' value combinations, in the order the cells list them.
    let mut keys: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let k: Vec<String> = others.iter().map(|i| r.values[*i].clone()).collect();
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let label = |k: &[String]| {
        if k.is_empty() {
            "all seeds".to_string()
        } else {
            others
                .iter()
                .zip(k)
                .map(|(i, v)| format!("{} = {v}", axes[*i].path))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let at = |k: &[String], x: &str| -> Vec<&Row> {
        rows.iter()
            .filter(|r| r.values[xi] == x && others.iter().zip(k).all(|(i, v)| r.values[*i] == *v))
            .collect()
    };
    let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let series = |f: &dyn Fn(&[&Row]) -> Option<f64>| -> Vec<(String, Vec<Option<f64>>)> {
        keys.iter()
            .map(|k| {
                let v = x_labels
                    .iter()
                    .map(|x| {
                        let g = at(k, x);
                        if g.is_empty() { None } else { f(&g) }
                    })
                    .collect();
                (label(k), v)
            })
            .collect()
    };
    let full_rate =
        |g: &[&Row]| Some(g.iter().filter(|r| r.full_syncs > 0).count() as f64 / g.len() as f64);
    let x_desc = axes[xi].path.clone();
    let charts = [
        (
            "full_sync_rate",
            "Share of seeds that needed a full sync",
            "runs with a full sync",
            Unit::Share,
            series(&full_rate),
        ),
        (
            "wan_bytes",
            "WAN bytes (mean over seeds)",
            "bytes on the wire",
            Unit::Bytes,
            series(&|g| mean(g.iter().map(|r| r.wire_bytes as f64).collect())),
        ),
        (
            "time_to_converge",
            "Time to converge (mean over converged seeds)",
            "time to converge",
            Unit::Millis,
            series(&|g| mean(g.iter().filter_map(|r| r.time_to_converge_ms).collect())),
        ),
    ];
    let err = |name: &str, e: Box<dyn std::error::Error>| format!("chart {name}: {e}");
    for (name, title, y_desc, unit, lines) in charts {
        let c = SweepChart {
            title: title.into(),
            x_desc: x_desc.clone(),
            y_desc: y_desc.into(),
            unit,
            x_labels: x_labels.clone(),
            lines,
        };
        write_sweep_chart(dir, name, &c).map_err(|e| err(name, e))?;
    }
    if let Some(&yi) = others.first() {
        let y_labels = axes[yi].values.clone();
        let cells = y_labels
            .iter()
            .map(|y| {
                x_labels
                    .iter()
                    .map(|x| {
                        let g: Vec<&Row> = rows
                            .iter()
                            .filter(|r| r.values[xi] == *x && r.values[yi] == *y)
                            .collect();
                        if g.is_empty() {
                            0.0
                        } else {
                            full_rate(&g).unwrap_or(0.0)
                        }
                    })
                    .collect()
            })
            .collect();
        let h = Heatmap {
            title: "Probability of a full sync".into(),
            x_desc,
            y_desc: axes[yi].path.clone(),
            x_labels,
            y_labels,
            cells,
        };
        write_heatmap(dir, "full_sync_heatmap", &h).map_err(|e| err("full_sync_heatmap", e))?;
    }
    Ok(())
}
