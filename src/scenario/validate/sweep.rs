//! `[sweep]`: checked for shape here; whether each path exists is checked when a sweep
//! applies it (`geosim sweep` validates every cell before running any).

use super::*;

pub(super) fn sweep_table(raw: &RawScenario, f: &mut Findings) -> crate::scenario::SweepSpec {
    let mut sweep = crate::scenario::SweepSpec::default();
    if let Some(sw) = &raw.sweep {
        for (i, spec) in sw.set.iter().enumerate() {
            match crate::scenario::axes::parse_axis(spec) {
                Ok(a) => sweep.axes.push(a),
                Err(e) => f.err(format!("sweep.set[{i}]"), quoted(spec), e),
            }
        }
        if let Some(s) = &sw.seeds {
            match crate::scenario::axes::parse_seeds(s) {
                Ok(v) => sweep.seeds = Some(v),
                Err(e) => f.err("sweep.seeds", quoted(s), e),
            }
        }
        if let Some(t) = &sw.full_sync_target {
            match crate::scenario::axes::parse_share(t) {
                Ok(v) => sweep.full_sync_target = Some(v),
                Err(e) => f.err("sweep.full_sync_target", quoted(t), e),
            }
        }
    }
    sweep
}
