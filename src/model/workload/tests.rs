//! Tests of the workload generator.

use super::*;

fn params(mix: OpMix) -> WorkloadParams {
    WorkloadParams::set_incr(1000.0, 100, KeyDist::Uniform, 256, mix, vec![0, 1])
}

#[test]
fn each_writer_gets_its_share_of_the_rate() {
    let names = vec!["a".to_string(), "b".to_string()];
    let mut w = Workload::new(params(OpMix::set_incr(1.0, 0.0)), 1, &names);
    let total: f64 = (0..10_000)
        .map(|_| w.next_gap(0, SimTime::ZERO).as_secs_f64())
        .sum();
    // 500 writes/s per cluster: 10,000 gaps take about 20 s.
    assert!((total - 20.0).abs() < 1.0, "{total}");
}

#[test]
fn key_names_are_the_zero_padded_index() {
    for i in [
        0,
        7,
        10,
        999_999,
        123_456_789_012,
        999_999_999_999,
        1_000_000_000_000,
        u64::MAX,
    ] {
        assert_eq!(key_name("key:", i), format!("key:{i:012}"));
    }
}

/// Commands built in a previous command's buffers are the commands built afresh, SETs and
/// INCRs alternating, and whatever key length the previous one had.
#[test]
fn reusing_buffers_builds_the_same_commands() {
    let names = vec!["a".to_string(), "b".to_string()];
    let mix = OpMix::set_incr(1.0, 1.0);
    let mut fresh = Workload::new(params(mix.clone()), 7, &names);
    let mut reusing = Workload::new(params(mix), 7, &names);
    let mut previous = None;
    for i in 0..2_000 {
        let want = fresh.next_command(i % 2);
        let got = reusing.next_command_reusing(i % 2, previous.take());
        assert_eq!(got, want, "command {i}");
        previous = Some(got);
    }
    // A key of another length is not rewritten in place.
    assert_eq!(
        key_value("key:", 5, Some(Value::from_str_bytes("short"))),
        Value::Bytes(key_bytes("key:", 5).into_boxed_slice())
    );
    assert_eq!(
        key_value("key:", 5, Some(Value::from_str_bytes("ctr:000000000009"))),
        Value::from_str_bytes("key:000000000005")
    );
}

/// A shadow write draws what its command would, and has the command's stream bytes,
/// large pieces and key: with drawn value sizes, some above a buffer block, and key
/// indices past the 12 padded digits.
#[test]
fn a_shadow_write_is_its_command_without_building_it() {
    let names = vec!["a".to_string(), "b".to_string()];
    let mut p = params(OpMix::set_incr(3.0, 1.0));
    p.keys = 2_000_000_000_000;
    p.value_size = SizeDist::Uniform {
        min: 1,
        max: 50_000,
    };
    let mut built = Workload::new(p.clone(), 11, &names);
    let mut shadow = Workload::new(p, 11, &names);
    let (mut large, mut long_keys) = (0, 0);
    for i in 0..5_000 {
        let c = i % 2;
        let d = built.draw_write(c);
        let cmd = built.build_command(c, d, None);
        let d = shadow.draw_write(c);
        assert_eq!(built.last_key(), shadow.last_key(), "write {i}");
        let w = shadow
            .shadow_write(c, d)
            .expect("SET and INCR have a shadow form");
        assert_eq!(w.stream_bytes, cmd.stream_bytes(), "write {i}: {cmd:?}");
        assert_eq!(w.large, cmd.large_pieces(), "write {i}");
        assert_eq!(w.key_len, cmd.key().len(), "write {i}");
        assert_eq!(generated_name(shadow.last_key()), cmd.key().to_vec());
        large += usize::from(!w.large.is_empty());
        long_keys += usize::from(w.key_len > 16);
    }
    assert!(large > 100 && long_keys > 100, "{large} {long_keys}");
    // The streams stayed together: the next gaps are equal too.
    let now = SimTime::ZERO;
    assert_eq!(built.next_gap(0, now), shadow.next_gap(0, now));
    // Other kinds have none, and draw nothing.
    let mut other = Workload::new(params(all_kinds()), 3, &names);
    let d = (0..100)
        .map(|_| other.draw_write(0))
        .find(|d| d.kind == OpKind::HSet)
        .expect("an HSET in 100 draws");
    assert!(other.shadow_write(0, d).is_none());
}

#[test]
fn the_mix_and_key_names_are_respected() {
    let names = vec!["a".to_string(), "b".to_string()];
    let mut w = Workload::new(params(OpMix::set_incr(3.0, 1.0)), 1, &names);
    let mut sets = 0;
    for _ in 0..4000 {
        let c = w.next_command(1);
        let key = c.key();
        assert_eq!(key.len(), 16);
        match c.cmd {
            Cmd::Set => {
                sets += 1;
                assert!(key.starts_with(b"key:"));
                assert_eq!(c.args[1].len(), 256);
            }
            Cmd::Incr => assert!(key.starts_with(b"ctr:")),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!((2800..3200).contains(&sets), "{sets}");
}

fn all_kinds() -> OpMix {
    OpMix {
        weights: [1.0; OpKind::ALL.len()],
    }
}

/// Every kind of a full mix is drawn by its weight, on its own family of keys, with the
/// arguments its command takes; a `DEL` names a key of another kind; distinct keys get
/// distinct numbers.
#[test]
fn a_full_mix_draws_every_kind_on_its_own_keys() {
    let names = vec!["a".to_string()];
    let mut p = params(all_kinds());
    p.clusters = vec![0];
    p.members = 5;
    p.value_size = SizeDist::Uniform { min: 10, max: 20 };
    p.ttl = crate::model::net::LatencyDist::Uniform {
        min: SimDuration::from_secs(5),
        max: SimDuration::from_secs(9),
    };
    let mut w = Workload::new(p, 3, &names);
    let mut per_cmd = std::collections::BTreeMap::new();
    let mut numbers = std::collections::BTreeMap::new();
    let n = 22_000;
    for _ in 0..n {
        let c = w.next_command(0);
        let key = String::from_utf8(c.key().to_vec()).unwrap();
        let prefix = &key[..4];
        *per_cmd.entry(format!("{:?} {prefix}", c.cmd)).or_insert(0) += 1;
        // One number per key and one key per number.
        let number = w.last_key();
        if let Some(k) = numbers.insert(number, key.clone()) {
            assert_eq!(k, key, "number {number}");
        }
        let arg = |i: usize| String::from_utf8(c.args[i].bytes().to_vec()).unwrap();
        match (c.cmd, prefix) {
            (Cmd::Set, "key:") => assert_eq!(c.args.len(), 2),
            (Cmd::Set, "tmp:") => {
                assert_eq!(arg(2), "PX");
                let ms: u64 = arg(3).parse().unwrap();
                assert!((5_000..=9_000).contains(&ms), "{ms}");
            }
            (Cmd::Incr, "ctr:") | (Cmd::LPop, "lst:") => assert_eq!(c.args.len(), 1),
            (Cmd::HSet, "hsh:") => {
                assert!(arg(1).starts_with("f:"));
                assert!((10..=20).contains(&c.args[2].len()));
            }
            (Cmd::SAdd, "set:") | (Cmd::PfAdd, "hll:") => {
                let m: u64 = arg(1)[2..].parse().unwrap();
                assert!(m < 5);
            }
            (Cmd::ZIncrBy, "zst:") => assert_eq!(arg(1), "1"),
            (Cmd::RPush, "lst:") => assert_eq!(c.args.len(), 2),
            (Cmd::XAdd, "stm:") => assert_eq!((arg(1), c.args.len()), ("*".into(), 4)),
            (Cmd::Del, _) => assert_eq!(c.args.len(), 1),
            other => panic!("unexpected {other:?}"),
        }
    }
    // Each of the 11 kinds about n/11; DEL spread over the nine families by their
    // weights (lists weigh twice: RPUSH and LPOP).
    let expect = n as f64 / 11.0;
    for (what, &count) in &per_cmd {
        let want = if what.starts_with("Del") {
            expect * if what.ends_with("lst:") { 2.0 } else { 1.0 } / 10.0
        } else {
            expect
        };
        assert!(
            (count as f64 - want).abs() < 5.0 * want.sqrt() + 5.0,
            "{what}: {count} vs {want}"
        );
    }
    assert_eq!(per_cmd.keys().filter(|k| k.starts_with("Del")).count(), 9);
}

/// A SET/INCR workload draws exactly what it drew before other kinds existed: the
/// index, then one uniform against the SET weight (a value size only when sizes vary).
#[test]
fn a_set_incr_mix_draws_as_before() {
    let names = vec!["a".to_string(), "b".to_string()];
    let mut w = Workload::new(params(OpMix::set_incr(3.0, 1.0)), 9, &names);
    let mut rng = stream_for(9, "workload/a");
    for _ in 0..2_000 {
        let c = w.next_command(0);
        let index = dist::below(&mut rng, 100);
        let is_set = dist::unit(&mut rng) * 4.0 < 3.0;
        assert_eq!(c.cmd, if is_set { Cmd::Set } else { Cmd::Incr });
        assert_eq!(w.last_key(), index * 2 + is_set as u64);
    }
}

fn writes_between(w: &mut Workload, c: usize, end: f64) -> Vec<f64> {
    let mut t = SimTime::ZERO;
    let mut out = Vec::new();
    loop {
        t = t + w.next_gap(c, t);
        if t.as_secs_f64() >= end {
            return out;
        }
        out.push(t.as_secs_f64());
    }
}

/// A diurnal shape thins the arrivals to its curve (each cluster at its own peak); a
/// step multiplies the rate from its time on; shares split the rate.
#[test]
fn shapes_and_shares_set_the_rate_over_time() {
    let names = vec!["a".to_string(), "b".to_string()];
    let mut p = params(OpMix::set_incr(1.0, 0.0));
    p.rate_per_sec = 2_000.0;
    p.shape = RateShape::Diurnal {
        period: SimDuration::from_secs(100),
        trough: 0.2,
        peaks: vec![SimDuration::ZERO, SimDuration::from_secs(50)],
    };
    let mut w = Workload::new(p.clone(), 1, &names);
    let a = writes_between(&mut w, 0, 100.0);
    let b = writes_between(&mut w, 1, 100.0);
    let in_window =
        |v: &[f64], lo: f64, hi: f64| v.iter().filter(|&&t| t >= lo && t < hi).count() as f64;
    // Around a's peak (t in [0, 5) and [95, 100)) a writes at about 993/s (the curve
    // averaged over the window), b near its trough (207/s); around t = 50 the other way
    // round.
    let peak_a = in_window(&a, 0.0, 5.0) + in_window(&a, 95.0, 100.0);
    let trough_b = in_window(&b, 0.0, 5.0) + in_window(&b, 95.0, 100.0);
    assert!((9_600.0..10_300.0).contains(&peak_a), "{peak_a}");
    assert!((1_900.0..2_250.0).contains(&trough_b), "{trough_b}");
    assert!((9_600.0..10_300.0).contains(&in_window(&b, 45.0, 55.0)));
    // Over a whole period the mean multiplier is (1 + trough) / 2.
    let total = a.len() as f64;
    assert!((58_000.0..62_000.0).contains(&total), "{total}");

    p.shape = RateShape::Step {
        at: SimDuration::from_secs(10),
        factor: 3.0,
    };
    p.shares = Some(vec![3.0, 1.0]);
    let mut w = Workload::new(p, 1, &names);
    let a = writes_between(&mut w, 0, 20.0);
    let b = writes_between(&mut w, 1, 20.0);
    // a: 1,500/s then 4,500/s; b: 500/s then 1,500/s.
    for (v, before, after) in [(&a, 15_000.0, 45_000.0), (&b, 5_000.0, 15_000.0)] {
        let (x, y) = (in_window(v, 0.0, 10.0), in_window(v, 10.0, 20.0));
        assert!(
            (x - before).abs() < 4.0 * f64::sqrt(before),
            "{x} vs {before}"
        );
        assert!((y - after).abs() < 4.0 * f64::sqrt(after), "{y} vs {after}");
    }
}
