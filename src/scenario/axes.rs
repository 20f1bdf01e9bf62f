//! Sweep axes and seed ranges as written on the command line (`--set`, `--seeds`) or in a
//! scenario's `[sweep]` table. Parsed here so that validation can check a `[sweep]` table;
//! the sweep layer runs them.

/// One swept field: its path and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// `replication.backlog_size`, `cluster[1].shards`, `fault.partition.duration` (every fault
    /// of kind `partition`), `fault[0].begin`.
    pub path: String,
    pub values: Vec<String>,
}

/// Parses `path=v1,v2,...`.
pub fn parse_axis(spec: &str) -> Result<Axis, String> {
    let (path, values) = spec
        .split_once('=')
        .ok_or_else(|| "expected path=value[,value...]".to_string())?;
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if path.trim().is_empty() || values.iter().any(|v| v.is_empty()) {
        return Err("expected path=value[,value...]".to_string());
    }
    Ok(Axis {
        path: path.trim().to_string(),
        values,
    })
}

/// The largest seed: a scenario file's `run.seed` is a TOML integer (a signed 64-bit one),
/// so every seed a run can take can also be written into its file.
pub const MAX_SEED: u64 = i64::MAX as u64;

/// Parses one seed, 0 to [`MAX_SEED`] (`--seed`).
pub fn parse_seed(spec: &str) -> Result<u64, String> {
    match spec.trim().parse::<u64>() {
        Ok(s) if s <= MAX_SEED => Ok(s),
        _ => Err(format!("expected a seed from 0 to {MAX_SEED} (2^63-1)")),
    }
}

/// Parses seeds: `1..20` (inclusive) or `3`, each 0 to [`MAX_SEED`].
pub fn parse_seeds(spec: &str) -> Result<Vec<u64>, String> {
    let bad = || {
        format!(
            "expected a seed (7) or an inclusive range (1..20) of at most a million seeds, each from 0 to {MAX_SEED}"
        )
    };
    let one = |s: &str| parse_seed(s).map_err(|_| bad());
    match spec.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (one(a)?, one(b)?);
            if b < a || b - a >= 1_000_000 {
                return Err(bad());
            }
            Ok((a..=b).collect())
        }
        None => Ok(vec![one(spec)?]),
    }
}

/// Parses a share of runs: `5%` or `0.05`, from 0 to 1 inclusive.
pub fn parse_share(spec: &str) -> Result<f64, String> {
    let bad = || "expected a share of runs from 0 to 1, as 0.05 or 5%".to_string();
    let t = spec.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => t.parse::<f64>().map_err(|_| bad())?,
    };
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(bad())
    }
}
