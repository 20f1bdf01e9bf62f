//! `[replication]`: backlog model, replication timeout, syncer throughput, compression,
//! reconnect delay (the backlog size is read with the clusters).

use super::*;

pub(super) struct ReplicationTable {
    pub backlog_model: BacklogModel,
    pub timeout: Option<SimDuration>,
    pub syncer_ops_per_sec: f64,
    pub compression: u64,
    pub reconnect_delay: Option<SimDuration>,
    pub batch_window: Option<SimDuration>,
}

pub(super) fn replication_table(raw: &RawScenario, f: &mut Findings) -> ReplicationTable {
    let repl = raw.replication.as_ref();
    let backlog_model = choice(
        f,
        "replication.backlog_model",
        repl.and_then(|r| r.backlog_model.as_ref()),
        BacklogModel::Block,
        spelling::BACKLOG_MODELS,
    );
    let timeout = duration_field(
        f,
        "replication.timeout",
        repl.and_then(|r| r.timeout.as_ref()),
        Some(SimDuration::from_secs(60)),
    );
    let syncer_ops_per_sec = match repl.and_then(|r| r.syncer_throughput.as_ref()) {
        None => 100_000.0,
        Some(s) if s == "unlimited" => 0.0,
        Some(s) => match parse_rate(s) {
            Some(r) if r > 0.0 => r,
            _ => {
                f.err(
                    "replication.syncer_throughput",
                    quoted(s),
                    format!("expected {RATE_HELP} above zero, or \"unlimited\""),
                );
                0.0
            }
        },
    };
    let compression = repl.and_then(|r| r.compression).unwrap_or(3);
    if compression > 6 {
        f.err(
            "replication.compression",
            Some(compression.to_string()),
            "expected a compression level from 0 (off) to 6 (maximum); the default is 3",
        );
    }
    let reconnect_delay = duration_field(
        f,
        "replication.reconnect_delay",
        repl.and_then(|r| r.reconnect_delay.as_ref()),
        Some(SimDuration::from_secs(1)),
    );
    let batch_window = match duration_field(
        f,
        "replication.batch_window",
        repl.and_then(|r| r.batch_window.as_ref()),
        Some(SimDuration::ZERO),
    ) {
        Some(w) if w > MAX_BATCH_WINDOW => {
            f.err(
                "replication.batch_window",
                repl.and_then(|r| r.batch_window.as_deref())
                    .and_then(quoted),
                "expected a duration from \"0s\" (no batches, the default) to \"1s\"",
            );
            None
        }
        w => w,
    };
    ReplicationTable {
        backlog_model,
        timeout,
        syncer_ops_per_sec,
        compression,
        reconnect_delay,
        batch_window,
    }
}

/// The longest batch window accepted: longer is not a model of any syncer's sending.
const MAX_BATCH_WINDOW: SimDuration = SimDuration::from_secs(1);
