//! Random partition trials on a real primary/replica pair, replayed through geosim's block
//! backlog model from the primary's creation: at every checkpoint the model's first byte
//! held and `repl_backlog_histlen` must equal the primary's, and after the heal the replica
//! must resync the way the model predicts (partial or full).

use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use geosim::model::backlog::{Backlog, BacklogModel};
use geosim::redis::{Command, select_bytes};

use super::server::{Conn, Pair, Proxy};

/// One checkpoint's figures, as the primary reports them.
#[derive(Debug, PartialEq, Eq)]
struct Checkpoint {
    offset: u64,
    first_byte: u64,
    histlen: u64,
}

fn checkpoint(c: &mut Conn) -> Checkpoint {
    Checkpoint {
        offset: c.info_u64("replication", "master_repl_offset"),
        first_byte: c.info_u64("replication", "repl_backlog_first_byte_offset"),
        histlen: c.info_u64("replication", "repl_backlog_histlen"),
    }
}

fn model_checkpoint(b: &Backlog<()>) -> Checkpoint {
    Checkpoint {
        offset: b.end(),
        first_byte: b.first() + 1,
        histlen: b.histlen(),
    }
}

/// The primary and geosim's model of its backlog, written to together.
struct Primary {
    conn: Conn,
    model: Backlog<()>,
    /// The next write carries a `SELECT` (the first after the primary served a full sync).
    select_due: bool,
    next_key: u64,
}

impl Primary {
    /// Writes `n` SETs of `value` bytes (16-byte keys) on the primary, pipelined, and
    /// appends them to the model with the pieces geosim's command model gives them.
    fn write(&mut self, n: u64, value: u64) {
        let v = "v".repeat(value as usize);
        let mut wire = Vec::new();
        for _ in 0..n {
            let key = format!("key:{:012}", self.next_key % 64);
            self.next_key += 1;
            let cmd = Command::from_args(&[
                b"SET".to_vec(),
                key.clone().into_bytes(),
                v.clone().into_bytes(),
            ])
            .expect("a SET");
            let (bytes, large) = (cmd.stream_bytes(), cmd.large_pieces());
            if self.select_due {
                self.model.advance(select_bytes(0));
                self.select_due = false;
            }
            self.model.append_laid_out(bytes, &large, ());
            wire.extend_from_slice(
                format!("*3\r\n$3\r\nSET\r\n$16\r\n{key}\r\n${value}\r\n").as_bytes(),
            );
            wire.extend_from_slice(v.as_bytes());
            wire.extend_from_slice(b"\r\n");
        }
        self.conn.send_raw(&wire, n as usize);
    }
}

/// Waits (wall-clock, for the real servers; nothing simulated) until `ok`, at most 30 s.
fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `trials` partition trials on one pair whose backlog is `size` bytes; returns how many
/// resynced partially.
fn trials_on_one_pair(
    rng: &mut ChaCha8Rng,
    size: u64,
    trials: usize,
    rows: &mut Vec<TrialRow>,
) -> usize {
    let size_arg = size.to_string();
    let (pair, proxy): (Pair, Proxy) = Pair::through_proxy(&[
        "--repl-backlog-size",
        &size_arg,
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        // No replication PINGs during the test: every stream byte is a write of ours.
        "--repl-ping-replica-period",
        "3600",
    ]);
    let mut p = Primary {
        conn: pair.primary.conn(),
        model: Backlog::new(BacklogModel::Block, size),
        select_due: true,
        next_key: 0,
    };
    let mut replica = pair.replica.conn();
    let mut partial = 0;
    for t in 0..trials {
        let value = [16u64, 300, 20_000, 30_000, 100_000, 1_000_000][rng.random_range(0..6)];
        let per =
            Command::from_args(&[b"SET".to_vec(), vec![b'k'; 16], vec![b'v'; value as usize]])
                .expect("a SET")
                .stream_bytes();
        // One write to settle any SELECT before the cut, then the cut.
        p.write(1, value);
        pair.wait_synced();
        let at_cut = checkpoint(&mut p.conn);
        assert_eq!(
            model_checkpoint(&p.model),
            at_cut,
            "trial {t}: before the partition"
        );
        let replica_offset = replica.info_u64("replication", "slave_repl_offset");
        assert_eq!(replica_offset, at_cut.offset);
        let before = (
            p.conn.info_u64("stats", "sync_partial_ok"),
            p.conn.info_u64("stats", "sync_full"),
        );
        proxy.partition();
        wait_until("the primary to see its replica gone", || {
            p.conn.info_u64("replication", "connected_slaves") == 0
        });
        // Writes around the threshold: from 2 blocks below the size to past the largest
        // allowance the values can make.
        let block = geosim::model::backlog::largest_block(value, size);
        let target = (size + rng.random_range(0..block + 60_000)).saturating_sub(60_000);
        let n = target.div_ceil(per).max(1);
        p.write(n, value);
        let before_heal = checkpoint(&mut p.conn);
        assert_eq!(
            model_checkpoint(&p.model),
            before_heal,
            "trial {t}: before the heal ({n} SETs of {value} B)"
        );
        let predicted = p.model.can_continue_from(replica_offset);
        proxy.heal();
        let mut outcome = None;
        wait_until("the replica to resync", || {
            let ok = p.conn.info_u64("stats", "sync_partial_ok");
            let full = p.conn.info_u64("stats", "sync_full");
            outcome = match (ok > before.0, full > before.1) {
                (true, false) => Some(true),
                (false, true) => Some(false),
                _ => None,
            };
            outcome.is_some()
        });
        let was_partial = outcome.expect("resynced");
        assert_eq!(
            was_partial,
            predicted,
            "trial {t}: backlog {size}, {n} SETs of {value} B ({} stream bytes) after offset {replica_offset}: \
             Redis resynced {}, the model predicted {}",
            before_heal.offset - replica_offset,
            if was_partial { "partially" } else { "fully" },
            if predicted { "partial" } else { "full" }
        );
        if !was_partial {
            p.select_due = true;
        }
        partial += usize::from(was_partial);
        rows.push(TrialRow {
            backlog_bytes: size,
            value_bytes: value,
            sets: n,
            stream_bytes_during_partition: before_heal.offset - replica_offset,
            replica_offset,
            first_byte_offset_before_heal: before_heal.first_byte,
            histlen_before_heal: before_heal.histlen,
            model_predicts: if predicted { "partial" } else { "full" },
            outcome: if was_partial { "partial" } else { "full" },
        });
        pair.wait_synced();
    }
    partial
}

/// One trial, as `docs/live/backlog_trials.csv` lists it.
#[derive(serde::Serialize)]
struct TrialRow {
    backlog_bytes: u64,
    value_bytes: u64,
    sets: u64,
    stream_bytes_during_partition: u64,
    replica_offset: u64,
    first_byte_offset_before_heal: u64,
    histlen_before_heal: u64,
    model_predicts: &'static str,
    outcome: &'static str,
}

#[test]
fn random_partitions_resync_as_the_block_backlog_model_predicts() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let (mut rows, mut partial) = (Vec::new(), 0);
    for size in [1_048_576u64, 4 * 1_048_576, 16 * 1_048_576, 64 * 1_048_576] {
        // A size near each power of two, so that blocks fall differently.
        let size = size + rng.random_range(0..100_000);
        partial += trials_on_one_pair(&mut rng, size, 4, &mut rows);
    }
    let trials = rows.len();
    println!("backlog trials against Redis: {trials}, agreeing: {trials} ({partial} partial)");
    assert_eq!(trials, 16);
    assert!(
        (3..=13).contains(&partial),
        "both outcomes: {partial} partial"
    );
    if let Some(dir) = std::env::var_os("GEOSIM_LIVE_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("the results directory");
        let mut w = csv::Writer::from_path(dir.join("backlog_trials.csv")).expect("the CSV");
        for r in &rows {
            w.serialize(r).expect("a row");
        }
        w.flush().expect("written");
        let md = format!(
            "# geosim against a live Redis: partition trials\n\n\
             Written by `scripts/live-results.sh` (the test \
             `live::backlog::random_partitions_resync_as_the_block_backlog_model_predicts`): \
             {trials} random trials on real primary/replica pairs (backlogs of 1–64 MB, values \
             of 16 B to 1 MB, outages around the threshold), each replayed through geosim's \
             block backlog model from the primary's creation. The model's first byte held and \
             `repl_backlog_histlen` equalled the primary's at both checkpoints of every trial, \
             and its partial/full prediction agreed with Redis in **{trials} of {trials}** \
             ({partial} partial, {} full). `backlog_trials.csv` has every trial.\n",
            trials - partial
        );
        std::fs::write(dir.join("backlog_trials.md"), md).expect("written");
    }
}
