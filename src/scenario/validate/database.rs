//! `[database]`: causal consistency and the `XADD` ID mode.

use super::*;

pub(super) fn database_table(raw: &RawScenario, f: &mut Findings) -> (bool, XaddIdMode) {
    let db = raw.database.as_ref();
    let causal_consistency = db.and_then(|d| d.causal_consistency).unwrap_or(false);
    let xadd_mode = choice(
        f,
        "database.xadd_id_mode",
        db.and_then(|d| d.xadd_id_mode.as_ref()),
        XaddIdMode::Strict,
        spelling::XADD_ID_MODES,
    );
    (causal_consistency, xadd_mode)
}
