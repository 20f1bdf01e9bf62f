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
