//! Sharding a sweep across machines: `--shard K/N`, the manifest (`sweep.json`) and
//! `geosim merge`.

use super::*;

/// Parses `--shard K/N` (1 ≤ K ≤ N).
pub(crate) fn parse_shard(spec: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard {spec:?}: expected K/N with 1 <= K <= N, e.g. 2/8");
    let (k, n) = spec.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// What a sweep (or one shard of it) was: written as `sweep.json` beside `sweep.csv`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Manifest {
    pub scenario: String,
    pub axes: Vec<(String, Vec<String>)>,
    pub seeds: Vec<u64>,
    pub cells: usize,
    pub shard: (usize, usize),
    /// The full-sync-rate target of `sweep.md`'s planner answer, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_sync_target: Option<f64>,
}

impl Manifest {
    /// The manifest of a sweep of `scenario` over `axes` × `seeds`, or of shard `shard` of it.
    pub fn new(
        scenario: &Path,
        axes: &[Axis],
        seeds: &[u64],
        shard: (usize, usize),
        full_sync_target: Option<f64>,
    ) -> Manifest {
        Manifest {
            scenario: scenario.display().to_string(),
            axes: axes
                .iter()
                .map(|a| (a.path.clone(), a.values.clone()))
                .collect(),
            seeds: seeds.to_vec(),
            cells: cells(axes, seeds).len(),
            shard,
            full_sync_target,
        }
    }

    pub(crate) fn axes(&self) -> Vec<Axis> {
        self.axes
            .iter()
            .map(|(path, values)| Axis {
                path: path.clone(),
                values: values.clone(),
            })
            .collect()
    }
}

/// Combines shard outputs (their `sweep.json` and `sweep.csv`) into the manifest and rows of
/// the whole sweep, checking that they belong together and cover every cell exactly once.
pub(crate) fn merge_shards(dirs: &[&Path]) -> Result<(Manifest, Vec<Row>), String> {
    let mut first: Option<Manifest> = None;
    let mut rows: Vec<Row> = Vec::new();
    for d in dirs {
        let m: Manifest = serde_json::from_str(
            &std::fs::read_to_string(d.join("sweep.json"))
                .map_err(|e| format!("{}: {e}", d.join("sweep.json").display()))?,
        )
        .map_err(|e| format!("{}: {e}", d.join("sweep.json").display()))?;
        if let Some(f) = &first
            && (f.scenario != m.scenario
                || f.axes != m.axes
                || f.seeds != m.seeds
                || f.full_sync_target != m.full_sync_target
                || f.shard.1 != m.shard.1)
        {
            return Err(format!("{}: a shard of a different sweep", d.display()));
        }
        let path = d.join("sweep.csv");
        let mut reader =
            csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (i, record) in reader.records().enumerate() {
            let row = record
                .map_err(|e| e.to_string())
                .and_then(|r| Row::from_record(&r, m.axes.len()))
                .map_err(|e| {
                    format!("{}: line {} is not a sweep row: {e}", path.display(), i + 2)
                })?;
            rows.push(row);
        }
        first.get_or_insert(m);
    }
    let mut m = first.ok_or("nothing to merge: give the shards' output directories")?;
    rows.sort_by_key(|r| r.cell);
    let complete = rows.len() == m.cells && rows.iter().enumerate().all(|(i, r)| r.cell == i);
    if !complete {
        return Err(format!(
            "the shards hold {} rows for {} cells: some shard is missing or given twice",
            rows.len(),
            m.cells
        ));
    }
    m.shard = (1, 1);
    Ok((m, rows))
}
