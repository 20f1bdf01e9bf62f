//! The keyspace's unit tests.

use super::*;

fn set(ks: &Keyspace, key: &[u8], v: &str, origin: u8, ts: u64) -> Op {
    let observed = ks
        .entry(key)
        .map(|e| e.string.observed_totals())
        .unwrap_or_default();
    ks.prepare(
        key,
        InstanceId(origin),
        ts,
        OpKind::Set {
            value: Value::from_str_bytes(v),
            observed,
        },
    )
}

/// A packed stamp orders like `(ts, Reverse(origin))`, and never equals "unwritten".
#[test]
fn packed_stamps_order_like_timestamp_then_smaller_instance() {
    let ts = [0, 1, 2, 999, 1 << 40, (1 << 55) - 2, (1 << 55) - 1];
    let mut all = Vec::new();
    for t in ts {
        for o in [0u8, 1, 2, 7, 254, 255] {
            all.push((t, Reverse(InstanceId(o))));
        }
    }
    for a in &all {
        assert_ne!(stamp(a.0, a.1.0), 0);
        for b in &all {
            assert_eq!(
                stamp(a.0, a.1.0).cmp(&stamp(b.0, b.1.0)),
                a.cmp(b),
                "{a:?} {b:?}"
            );
        }
    }
}

/// `INCR`'s integer shortcut reads what the string value says, and steps aside when a
/// register or a float increment is involved.
#[test]
fn a_counter_reads_the_same_through_the_integer_shortcut() {
    let mut ks = Keyspace::new(2);
    for (i, by) in [5, -3, i64::MAX, i64::MAX].into_iter().enumerate() {
        let op = ks.prepare(
            b"c",
            InstanceId(i as u8 % 2),
            1,
            OpKind::Incr {
                int: by,
                float: 0.0,
            },
        );
        ks.apply(&op);
        let e = ks.entry(b"c").expect("written");
        let shortcut = e.string_counter().expect("pure counter");
        assert_eq!(e.string_value().and_then(|v| v.as_i64()), Some(shortcut));
    }
    let op = ks.prepare(b"c", InstanceId(0), 2, OpKind::Incr { int: 0, float: 0.5 });
    ks.apply(&op);
    assert_eq!(ks.entry(b"c").expect("written").string_counter(), None);
    let op = set(&ks, b"s", "7", 0, 3);
    ks.apply(&op);
    assert_eq!(ks.entry(b"s").expect("written").string_counter(), None);
}

/// The byte count kept by deltas equals a full recount after every op: field and member
/// ops counted by parts (repeated names in one op included), removes and deletes of
/// whole keys, and ops a tombstone kills, from two instances that see each other late.
#[test]
fn byte_accounting_by_parts_matches_a_full_recount() {
    let full = |ks: &Keyspace| -> u64 { ks.iter().map(|(k, e)| entry_bytes(k, e)).sum() };
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut sites = [Keyspace::new(2), Keyspace::new(2)];
    let mut pending: Vec<(usize, Op)> = Vec::new();
    let name = |i: u64| format!("m{i}").into_bytes();
    for step in 0..4000u64 {
        let at = next(2) as usize;
        let key: &[u8] = [b"h".as_slice(), b"s", b"z"][next(3) as usize];
        let (a, b) = (name(next(6)), name(next(6)));
        let ks = &sites[at];
        let totals = |f: &[u8]| {
            ks.entry(key)
                .and_then(|e| e.hash_scalar(f).map(|s| s.observed_totals()))
                .unwrap_or_default()
        };
        let kind = match (key, next(5)) {
            (_, 0) if next(4) == 0 => OpKind::Del {
                observed: ks
                    .entry(key)
                    .map(|e| e.observed_for_del())
                    .unwrap_or_default(),
            },
            (b"h", 0 | 1) => OpKind::HSet(vec![
                (a.clone(), Value::from_i64(step as i64), totals(&a)),
                (a.clone(), Value::from_str_bytes("again"), totals(&a)),
                (b, Value::from_str_bytes("v"), Vec::new()),
            ]),
            (b"h", 2) => OpKind::HIncr {
                field: a,
                int: 2,
                float: 0.0,
            },
            (b"h", _) => OpKind::HDel(vec![(a.clone(), totals(&a)), (a, Vec::new())]),
            (b"s", 0..=2) => OpKind::SAdd(vec![a.clone(), b, a]),
            (b"s", _) => OpKind::SRem(vec![a]),
            (_, 0 | 1) => OpKind::ZAdd(vec![(a, step as f64, Vec::new())]),
            (_, 2) => OpKind::ZIncr { member: a, by: 1.5 },
            (_, _) => OpKind::ZRem(vec![(a, Vec::new())]),
        };
        let op = sites[at].prepare(key, InstanceId(at as u8), step, kind);
        sites[at].apply(&op);
        pending.push((1 - at, op));
        // Deliver late and in bursts, so that ops are often concurrent.
        if next(7) == 0 {
            for (to, op) in pending.drain(..) {
                sites[to].apply(&op);
            }
        }
        for ks in &sites {
            assert_eq!(ks.bytes(), full(ks), "after step {step}");
            for (k, e) in ks.iter() {
                assert_eq!(e.size, entry_bytes(k, e), "cached size of {k:?}");
            }
        }
    }
}

#[test]
fn redelivered_ops_are_filtered() {
    let mut a = Keyspace::new(2);
    let op = a.prepare(b"k", InstanceId(0), 1, OpKind::Incr { int: 3, float: 0.0 });
    assert_eq!(a.apply(&op), Applied::Applied);
    let mut b = Keyspace::new(2);
    assert_eq!(b.apply(&op), Applied::Applied);
    assert_eq!(b.apply(&op), Applied::Duplicate);
    assert_eq!(b.get(b"k"), Some(Value::from_i64(3)));
}

#[test]
fn concurrent_sets_converge_in_either_order() {
    let a = Keyspace::new(2);
    let b = Keyspace::new(2);
    let x = set(&a, b"k", "x", 0, 100);
    let y = set(&b, b"k", "y", 1, 101);
    let (mut a, mut b) = (a, b);
    a.apply(&x);
    a.apply(&y);
    b.apply(&y);
    b.apply(&x);
    assert_eq!(a, b);
    assert_eq!(a.get(b"k"), Some(Value::from_str_bytes("y")));
}

#[test]
fn memory_accounting_matches_a_recount() {
    let mut a = Keyspace::new(2);
    for i in 0..50u64 {
        let key = format!("k{}", i % 7);
        let op = set(&a, key.as_bytes(), &"v".repeat(i as usize), 0, i);
        a.apply(&op);
    }
    let mut b = Keyspace::new(2);
    let op = b.prepare(b"k1", InstanceId(1), 5, OpKind::Incr { int: 3, float: 0.0 });
    b.apply(&op);
    a.merge(&b);
    let recount: u64 = a.iter().map(|(k, e)| entry_bytes(k, e)).sum();
    assert_eq!(a.bytes(), recount);
    assert!(a.bytes() > 7 * 64);
}

#[test]
fn causal_consistency_buffers_an_op_until_what_it_observed_arrives() {
    let mut origin = Keyspace::new(3);
    let a = set(&origin, b"k", "a", 0, 1);
    origin.apply(&a);
    let mut relay = origin.clone();
    let b = set(&relay, b"k", "b", 1, 2);
    relay.apply(&b);
    let mut far = Keyspace::new(3).with_causal_consistency(true);
    assert_eq!(far.apply(&b), Applied::Buffered);
    assert_eq!(far.get(b"k"), None);
    assert_eq!(far.apply(&a), Applied::Applied);
    assert_eq!(far.get(b"k"), Some(Value::from_str_bytes("b")));
    assert_eq!(far.waiting(), 0);
}

/// The type stamps box their six collection stamps only when one is raised, and compare and
/// join by value, boxed or not.
#[test]
fn type_stamps_box_only_what_collections_need() {
    let mut a = Stamps::default();
    a.raise(KeyType::String, 5);
    a.raise(KeyType::String, 3);
    assert!(a.others.is_none(), "a string stamp stays inline");
    assert_eq!(a.all(), [5, 0, 0, 0, 0, 0, 0, 0]);
    let mut b = Stamps::default();
    b.raise(KeyType::Hll, 9);
    b.raise(KeyType::Hash, 2);
    assert_eq!(b.all(), [0, 2, 0, 0, 0, 0, 9, 0]);
    a.join(&b);
    assert_eq!(a.all(), [5, 2, 0, 0, 0, 0, 9, 0]);
    // Joining only zeros boxes nothing.
    let mut c = Stamps::default();
    c.join(&Stamps {
        string: 0,
        others: Some(Box::default()),
    });
    assert!(c.others.is_none() && c.all() == [0; 8]);
}

/// The keys garbage collection looks at, kept up to date as entries change, are exactly the
/// keys a full scan finds holding removal history: after every op of two instances that see
/// each other's ops late, after merges, after collections, in a cloned and a filtered copy.
#[test]
fn the_history_index_agrees_with_a_full_scan() {
    use crate::engine::dist;
    use crate::engine::stream_for;
    fn scan(ks: &Keyspace) -> Vec<Key> {
        ks.iter()
            .filter(|(_, e)| history::holds(e))
            .map(|(k, _)| k.clone())
            .collect()
    }
    fn check(ks: &mut Keyspace, at: usize) {
        let want = scan(ks);
        assert_eq!(ks.keys_with_tombstones(), want, "step {at}");
    }
    let mut rng = stream_for(11, "history-index");
    let mut ks = [Keyspace::new(2), Keyspace::new(2)];
    let mut inbox: [Vec<Op>; 2] = [Vec::new(), Vec::new()];
    let mut held = 0;
    for step in 0..6_000 {
        let c = dist::below(&mut rng, 2) as usize;
        let key = format!("k{}", dist::below(&mut rng, 12)).into_bytes();
        let member = format!("m{}", dist::below(&mut rng, 4)).into_bytes();
        let kind = match dist::below(&mut rng, 9) {
            0 => OpKind::SAdd(vec![member]),
            1 => OpKind::SRem(vec![member]),
            2 => OpKind::HSet(vec![(member, Value::from_str_bytes("v"), Vec::new())]),
            3 => OpKind::HDel(vec![(member, Vec::new())]),
            4 => OpKind::Del {
                observed: Vec::new(),
            },
            5 => OpKind::Set {
                value: Value::from_str_bytes("s"),
                observed: Vec::new(),
            },
            6 | 7 => {
                // Deliver some of the other instance's ops.
                let n = dist::below(&mut rng, inbox[c].len() as u64 + 1) as usize;
                for op in inbox[c].drain(..n).collect::<Vec<_>>() {
                    ks[c].apply(&op);
                }
                check(&mut ks[c], step);
                continue;
            }
            _ => {
                // Collect what both have fully applied.
                let keys = ks[c].keys_with_tombstones();
                for k in keys {
                    let same = ks[0].entry(&k).map(|e| e.ctx.clone())
                        == ks[1].entry(&k).map(|e| e.ctx.clone());
                    if same {
                        ks[0].collect_garbage(&k);
                        ks[1].collect_garbage(&k);
                    }
                }
                check(&mut ks[0], step);
                check(&mut ks[1], step);
                continue;
            }
        };
        let op = ks[c].prepare(&key, InstanceId(c as u8), step as u64, kind);
        ks[c].apply(&op);
        inbox[1 - c].push(op);
        check(&mut ks[c], step);
        held = held.max(ks[c].keys_with_tombstones().len());
    }
    assert!(held >= 6, "the test made little removal history: {held}");
    // Copies keep a consistent index; a merge updates it.
    let mut copy = ks[0].clone();
    check(&mut copy, 0);
    let mut part = ks[1].filtered(|k| k.ends_with(b"1"));
    check(&mut part, 0);
    part.merge(&ks[0]);
    check(&mut part, 0);
}
