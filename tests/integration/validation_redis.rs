//! Agreement with real Redis (measurements in `tests/data/validation/`, from
//! `shared/validation/`): the backlog model's partial/full prediction for every measured
//! trial, and the replication-stream byte model for every measured command.

use geosim::model::backlog::{Backlog, BacklogModel};
use geosim::redis::{parse_line, select_bytes};

/// Splits a CSV line, honouring double quotes (the data has commas inside quoted notes).
fn cells(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().expect("one cell").push(c),
        }
    }
    out
}

/// Rows of a CSV file with a header, as maps from column name to value.
fn rows(name: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(super::root().join("tests/data/validation").join(name))
        .expect("validation data is in the repository");
    let mut lines = text.lines();
    let header = cells(lines.next().expect("header"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let row = cells(l);
            assert_eq!(row.len(), header.len(), "{l}");
            header.iter().cloned().zip(row).collect()
        })
        .collect()
}

fn num(row: &std::collections::BTreeMap<String, String>, col: &str) -> u64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {}", row[col]))
}

/// Replays a trial: the primary's stream reaches the replica's offset, the link drops, the
/// primary writes the measured bytes in 300-byte SETs, and the replica asks to continue.
fn predict(model: BacklogModel, backlog: u64, replica_offset: u64, during: u64) -> &'static str {
    let mut b: Backlog<()> = Backlog::new(model, backlog);
    b.advance(replica_offset);
    let mut left = during;
    while left > 0 {
        let step = left.min(300);
        b.advance(step);
        left -= step;
    }
    if b.can_continue_from(replica_offset) {
        "partial"
    } else {
        "full"
    }
}

#[test]
fn the_block_backlog_model_predicts_every_measured_trial() {
    let trials = rows("backlog_trials.csv");
    assert_eq!(trials.len(), 66);
    let mut partial = 0;
    for t in &trials {
        let got = predict(
            BacklogModel::Block,
            num(t, "backlog_bytes"),
            num(t, "replica_offset_at_partition"),
            num(t, "stream_bytes_during_partition"),
        );
        assert_eq!(
            got, t["outcome"],
            "{} {} {}: predicted {got}, Redis did {}",
            t["backlog_config"], t["kind"], t["target_ratio"], t["outcome"]
        );
        partial += (got == "partial") as u32;
    }
    // The grid has both outcomes, including partials above the nominal size.
    assert!(partial > 20 && partial < 50, "{partial}");
}

#[test]
fn the_ring_model_is_the_conservative_rule() {
    // "partial iff stream bytes <= backlog size": never wrong when it says partial, and it
    // calls the nine gray-zone partials full (57 of 66 agree with Redis).
    let trials = rows("backlog_trials.csv");
    let mut agree = 0;
    for t in &trials {
        let got = predict(
            BacklogModel::Ring,
            num(t, "backlog_bytes"),
            num(t, "replica_offset_at_partition"),
            num(t, "stream_bytes_during_partition"),
        );
        assert_eq!(got, t["simple_rule_predicts"]);
        if got == "partial" {
            assert_eq!(t["outcome"], "partial");
        }
        agree += (got == t["outcome"]) as u32;
    }
    assert_eq!(agree, 57);
}

#[test]
fn set_and_select_bytes_match_every_measurement() {
    let cases = rows("set_bytes.csv");
    assert_eq!(cases.len(), 109);
    let mut checked = 0;
    for c in &cases {
        let measured = num(c, "measured_stream_bytes");
        let case = c["case"].as_str();
        if case == "SET" || case == "SET int value" {
            let k = num(c, "key_len") as usize;
            let v = num(c, "value_len") as usize;
            let value = if v == 0 {
                "\"\"".to_string()
            } else {
                "7".repeat(v)
            };
            let cmd = parse_line(&format!("SET {} {value}", "k".repeat(k))).unwrap();
            assert_eq!(cmd.stream_bytes(), measured, "{c:?}");
            checked += 1;
        } else if case.starts_with("SET after client SELECT") || case == "first SET after full sync"
        {
            let db: u64 = c["db"].parse().unwrap();
            let set = parse_line(&format!("SET {} {}", "k".repeat(16), "v".repeat(256))).unwrap();
            let with_select = set.stream_bytes() + select_bytes(db);
            assert!(
                measured == set.stream_bytes() || measured == with_select,
                "{c:?}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 104, "{checked}");
}

/// A `SET` of a 16-byte key and a `value`-byte value as Redis feeds it to the replication
/// buffer: its stream bytes and its one large piece (the value) if longer than a block.
fn set_pieces(value: u64) -> (u64, Vec<(u64, u64)>) {
    // *3\r\n $3\r\n SET\r\n $16\r\n <key>\r\n $<value>\r\n: 45 bytes before a 100,000-byte value.
    let before = 4 + 4 + 3 + 2 + 5 + 16 + 2 + 1 + value.to_string().len() as u64 + 2;
    let bytes = before + value + 2;
    let large = if value > 20_440 {
        vec![(before, value)]
    } else {
        Vec::new()
    };
    (bytes, large)
}

/// Replays the measured trials of one file through the block model from each primary's
/// creation, as `shared/validation/redis_backlog.py` wrote them: `SELECT` and the filling
/// writes, then per trial the stream between trials (replication `PING`s of 14 bytes while
/// a replica was attached, a `SELECT` after a full sync: both inferred from the measured
/// offsets), one settling write, the partition, the measured writes, and the reconnect. At
/// both checkpoints of every trial the model's first byte held and `repl_backlog_histlen`
/// must equal the primary's, and its partial/full decision Redis's. Returns the number of
/// partial outcomes.
fn replay_trials(file: &str, value: u64) -> (usize, usize) {
    let (per, large) = set_pieces(value);
    let set = |b: &mut Backlog<()>| {
        b.append_laid_out(per, &large, ());
    };
    let trials = rows(file);
    let mut partial = 0;
    let mut configs: Vec<&str> = trials
        .iter()
        .map(|t| t["backlog_config"].as_str())
        .collect();
    configs.dedup();
    for config in configs {
        let group: Vec<_> = trials
            .iter()
            .filter(|t| t["backlog_config"] == config)
            .collect();
        let size = num(group[0], "backlog_bytes");
        assert_eq!(num(group[0], "bytes_per_set"), per);
        let mut b: Backlog<()> = Backlog::new(BacklogModel::Block, size);
        // The first write after the initial sync carries a SELECT; then the filling writes.
        b.advance(select_bytes(0));
        for _ in 0..(size * 12 / 10) / per + 1 {
            set(&mut b);
        }
        for t in group {
            let at_cut = num(t, "primary_offset_at_partition");
            let gap = at_cut - b.end() - per;
            let select = select_bytes(0);
            let (selects, pings) = if gap.is_multiple_of(14) {
                (0, gap / 14)
            } else {
                assert!(
                    (gap - select).is_multiple_of(14),
                    "{gap} bytes between trials: {t:?}"
                );
                (1, (gap - select) / 14)
            };
            for _ in 0..pings {
                b.advance(14);
            }
            if selects == 1 {
                b.advance(select);
            }
            set(&mut b);
            let what = format!("{config} {} {}", t["kind"], t["target_ratio"]);
            assert_eq!(b.end(), at_cut, "{what}");
            assert_eq!(
                b.first() + 1,
                num(t, "first_byte_offset_at_partition"),
                "{what}"
            );
            assert_eq!(b.histlen(), num(t, "histlen_at_partition"), "{what}");
            let replica = num(t, "replica_offset_at_partition");
            for _ in 0..num(t, "n_sets") {
                set(&mut b);
            }
            assert_eq!(b.end(), num(t, "primary_offset_before_heal"), "{what}");
            assert_eq!(
                b.first() + 1,
                num(t, "first_byte_offset_before_heal"),
                "{what}"
            );
            assert_eq!(b.histlen(), num(t, "histlen_before_heal"), "{what}");
            let got = if b.can_continue_from(replica) {
                "partial"
            } else {
                "full"
            };
            assert_eq!(got, t["outcome"], "{what}");
            partial += (got == "partial") as usize;
        }
    }
    (trials.len(), partial)
}

#[test]
fn every_checkpoint_of_the_300_byte_trials_replays_through_the_block_model() {
    let (trials, partial) = replay_trials("backlog_trials.csv", 256);
    assert_eq!(trials, 66);
    assert!(partial > 20 && partial < 50, "{partial}");
}

#[test]
fn every_checkpoint_of_the_100_kb_trials_replays_through_the_block_model() {
    // Values of 100,000 bytes get blocks of their own size: the allowance above the backlog
    // is the free space of the block the replica's next byte is in, not 20,440 − offset mod
    // 20,440 (which predicts 16 of these 48 outcomes).
    let (trials, partial) = replay_trials("grayzone_100k_trials.csv", 100_000);
    assert_eq!(trials, 48);
    assert_eq!(partial, 19);
}

#[test]
fn a_simulated_shard_writing_100_kb_values_holds_more_than_a_small_block_above_its_size() {
    // One writer of 102,400-byte SETs at 40/s into a 2 MB backlog: each value gets a
    // replication-buffer block of its own size (114,648 B), so a full backlog can hold up to
    // that much above its size, where 20,440-byte blocks would stop at 20,440.
    let s = super::inline(
        r#"
[run]
seed = 5
duration = "30s"
[whatif]
allow_any_backlog_size = true
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[network]
latency = "20ms"
bandwidth = "1Gbit/s"
[replication]
backlog_size = "2MB"
[workload]
rate = "40/s"
keys = 100
value_size = "100KB"
clusters = ["a"]
[workload.mix]
set = 1.0
"#,
    );
    let (r, c) = geosim::sim::run_scenario(&s);
    assert_eq!(c.verdict, geosim::check::Verdict::Converged);
    let size = 2 * 1_048_576;
    let held = r.peaks.backlog_bytes_max;
    assert!(
        held > size + 20_440 && held <= size + 114_648,
        "{held} bytes held by a {size}-byte backlog"
    );
}
