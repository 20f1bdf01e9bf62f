//! The rules on hand-made histories: each case is a documented outcome from
//! `docs/semantics.md` ("Conflict resolution").

use super::*;
use crate::crdt::Total;

/// An op by instance `origin` (0-based), its `seq`-th on the key, having observed `vc`.
fn rec(origin: u8, seq: u64, vc: &[u64], ts: u64, kind: OpKind) -> Rec {
    Rec {
        dot: Dot {
            origin: InstanceId(origin),
            seq,
        },
        vc: VClock::from_entries(vc),
        ts,
        kind,
    }
}

fn set(v: &str) -> OpKind {
    OpKind::Set {
        value: Value::from_str_bytes(v),
        observed: Vec::new(),
    }
}

fn incr(n: i64) -> OpKind {
    OpKind::Incr { int: n, float: 0.0 }
}

fn del() -> OpKind {
    OpKind::Del {
        observed: Vec::new(),
    }
}

fn state(recs: &[Rec]) -> State {
    expected(recs).expect("decided").state
}

fn s(v: &str) -> State {
    State::Str(v.as_bytes().to_vec())
}

fn b(v: &str) -> Bytes {
    v.as_bytes().to_vec()
}

#[test]
fn registers_go_by_observation_then_timestamp_then_the_smaller_instance() {
    // Concurrent: the later timestamp wins.
    let r = [
        rec(0, 1, &[1, 0], 10, set("a")),
        rec(1, 1, &[0, 1], 12, set("b")),
    ];
    assert_eq!(state(&r), s("b"));
    // Equal timestamps: the smaller instance id.
    let r = [
        rec(0, 1, &[1, 0], 12, set("a")),
        rec(1, 1, &[0, 1], 12, set("b")),
    ];
    assert_eq!(state(&r), s("a"));
    // A write that had observed another wins over it whatever the clocks say, and a write
    // overwritten through a chain stays overwritten.
    let r = [
        rec(0, 1, &[1, 0, 0], 50, set("a")),
        rec(1, 1, &[1, 1, 0], 10, set("b")),
        rec(2, 1, &[0, 1, 1], 5, set("c")),
    ];
    assert_eq!(state(&r), s("c"));
}

#[test]
fn counters_add_up_and_a_set_or_del_resets_what_its_writer_saw() {
    let r = [
        rec(0, 1, &[1, 0], 1, incr(7)),
        rec(1, 1, &[0, 1], 1, incr(3)),
    ];
    assert_eq!(state(&r), s("10"));
    // SET k 5 after seeing +7, concurrent with +3: 5 + 3.
    let r = [
        rec(0, 1, &[1, 0], 1, incr(7)),
        rec(1, 1, &[0, 1], 1, incr(3)),
        rec(0, 2, &[2, 0], 5, set("5")),
    ];
    assert_eq!(state(&r), s("8"));
    // DEL after +7, concurrent with +3: the key reads 3; a DEL that saw both: gone.
    let mut r = vec![
        rec(0, 1, &[1, 0], 1, incr(7)),
        rec(1, 1, &[0, 1], 1, incr(3)),
        rec(0, 2, &[2, 0], 5, del()),
    ];
    assert_eq!(state(&r), s("3"));
    r.push(rec(1, 2, &[2, 2], 6, del()));
    assert_eq!(state(&r), State::Absent);
    // Float increments and a non-integer base with increments are not decided here.
    assert!(expected(&[rec(0, 1, &[1], 1, OpKind::Incr { int: 0, float: 0.5 })]).is_none());
    let r = [
        rec(0, 1, &[1, 0], 1, set("x")),
        rec(1, 1, &[0, 1], 1, incr(1)),
    ];
    assert!(expected(&r).is_none());
}

#[test]
fn del_and_set_are_observed_removes_and_an_update_survives_a_concurrent_delete() {
    let r = [
        rec(0, 1, &[1, 0], 1, set("a")),
        rec(1, 1, &[0, 1], 2, set("b")),
        // I1's DEL had seen both writes.
        rec(0, 2, &[1, 1], 3, del()),
    ];
    assert_eq!(state(&r), State::Absent);
    let r = [
        rec(0, 1, &[1, 0], 1, set("a")),
        // I2's DEL had seen neither: the concurrent SET survives.
        rec(1, 1, &[0, 1], 2, del()),
    ];
    assert_eq!(state(&r), s("a"));
}

#[test]
fn hashes_keep_every_field_and_hdel_removes_only_what_it_saw() {
    let hset = |f: &str, v: &str| OpKind::HSet(vec![(b(f), Value::from_str_bytes(v), vec![])]);
    let hdel = |f: &str| OpKind::HDel(vec![(b(f), Vec::<Total>::new())]);
    let r = [
        rec(0, 1, &[1, 0], 1, hset("f", "1")),
        rec(1, 1, &[0, 1], 2, hset("g", "2")),
        rec(1, 2, &[0, 2], 3, hdel("f")), // had not seen I1's f
        rec(
            0,
            2,
            &[2, 0],
            4,
            OpKind::HIncr {
                field: b("n"),
                int: 2,
                float: 0.0,
            },
        ),
        rec(
            1,
            3,
            &[0, 3],
            4,
            OpKind::HIncr {
                field: b("n"),
                int: 5,
                float: 0.0,
            },
        ),
    ];
    let want: BTreeMap<Bytes, Vec<u8>> = [(b("f"), b("1")), (b("g"), b("2")), (b("n"), b("7"))]
        .into_iter()
        .collect();
    assert_eq!(state(&r), State::Hash(want));
}

#[test]
fn sets_are_add_wins() {
    let sadd = |m: &str| OpKind::SAdd(vec![b(m)]);
    let srem = |m: &str| OpKind::SRem(vec![b(m)]);
    let r = [
        rec(0, 1, &[1, 0], 1, sadd("a")),
        rec(1, 1, &[1, 1], 2, srem("a")), // saw the add
        rec(0, 2, &[2, 0], 2, sadd("a")), // a concurrent re-add
        rec(0, 3, &[3, 0], 3, sadd("b")),
        rec(1, 2, &[3, 2], 4, srem("b")),
    ];
    assert_eq!(state(&r), State::Set([b("a")].into_iter().collect()));
}

#[test]
fn sorted_set_scores_follow_the_documented_examples() {
    let zadd = |m: &str, x: f64| OpKind::ZAdd(vec![(b(m), x, vec![])]);
    let zincr = |m: &str, x: f64| OpKind::ZIncr {
        member: b(m),
        by: x,
    };
    let zrem = |m: &str| OpKind::ZRem(vec![(b(m), Vec::<Total>::new())]);
    let z = |m: &str, x: f64| State::ZSet([(b(m), x)].into_iter().collect());
    // ZADD 1.1 ∥ ZADD 2.1: 2.1; at the same time: instance 1's.
    let r = [
        rec(0, 1, &[1, 0], 1, zadd("x", 1.1)),
        rec(1, 1, &[0, 1], 2, zadd("x", 2.1)),
    ];
    assert_eq!(state(&r), z("x", 2.1));
    let r = [
        rec(0, 1, &[1, 0], 2, zadd("x", 1.1)),
        rec(1, 1, &[0, 1], 2, zadd("x", 2.1)),
    ];
    assert_eq!(state(&r), z("x", 1.1));
    // ZINCRBY 1.0 ∥ ZINCRBY 1.0 on 1.1: 3.1.
    let r = [
        rec(0, 1, &[1, 0], 1, zadd("x", 1.1)),
        rec(0, 2, &[2, 0], 2, zincr("x", 1.0)),
        rec(1, 1, &[1, 1], 2, zincr("x", 1.0)),
    ];
    assert!(same(&state(&r), &z("x", 3.1)));
    // ZREM ∥ ZINCRBY 2.0 on 4.1: 2.0.
    let r = [
        rec(0, 1, &[1, 0], 1, zadd("x", 4.1)),
        rec(1, 1, &[1, 1], 2, zrem("x")),
        rec(0, 2, &[2, 0], 2, zincr("x", 2.0)),
    ];
    assert_eq!(state(&r), z("x", 2.0));
}

#[test]
fn lists_order_like_a_replicated_growable_array() {
    use crate::crdt::list::{ElemId, Insert};
    let id = |origin: u8, seq: u64, lamport: u64| ElemId {
        lamport,
        origin: InstanceId(origin),
        seq,
        index: 0,
    };
    let ins = |i: ElemId, anchor: Option<ElemId>, v: &str| {
        OpKind::LInsert(vec![Insert {
            id: i,
            anchor,
            value: Value::from_str_bytes(v),
        }])
    };
    let x = id(0, 1, 1);
    let r = [
        rec(0, 1, &[1, 0], 1, ins(x, None, "x")),
        // LINSERT AFTER x y1 (I1) ∥ LINSERT AFTER x y2 (I2), equal Lamport numbers: x y1 y2.
        rec(1, 1, &[1, 1], 2, ins(id(1, 1, 2), Some(x), "y2")),
        rec(0, 2, &[2, 0], 2, ins(id(0, 2, 2), Some(x), "y1")),
        // An LPUSH with a higher Lamport number goes first; a popped element keeps its place.
        rec(0, 3, &[3, 0], 3, ins(id(0, 3, 3), None, "h")),
        rec(1, 2, &[1, 2], 3, OpKind::LRem(vec![x])),
    ];
    let want: Vec<Vec<u8>> = ["h", "y1", "y2"].iter().map(|v| b(v)).collect();
    assert_eq!(state(&r), State::List(want));
}

#[test]
fn streams_hll_and_expiry() {
    use crate::crdt::stream::StreamId;
    let xadd = |ms: u64, seq: u64| OpKind::XAdd {
        id: StreamId { ms, seq },
        fields: vec![(b("f"), b("v"))],
    };
    let r = [
        rec(1, 1, &[0, 1], 1, xadd(5, 2)),
        rec(0, 1, &[1, 0], 1, xadd(5, 1)),
        rec(0, 2, &[2, 0], 2, xadd(6, 1)),
        rec(
            0,
            3,
            &[3, 0],
            3,
            OpKind::XDel(vec![Dot {
                origin: InstanceId(0),
                seq: 2,
            }]),
        ),
    ];
    let State::Stream(v, _) = state(&r) else {
        panic!("a stream")
    };
    let ids: Vec<String> = v.iter().map(|(id, _, _)| id.to_string()).collect();
    assert_eq!(ids, ["5-1", "5-2"]);

    // DEL wins over a concurrent PFADD; an add that saw the DEL survives.
    let r = [
        rec(0, 1, &[1, 0], 1, OpKind::PfAdd(vec![(3, 2)])),
        rec(1, 1, &[1, 1], 2, del()),
        rec(0, 2, &[2, 0], 2, OpKind::PfAdd(vec![(4, 1)])),
    ];
    assert_eq!(state(&r), State::Absent);
    let r = [
        rec(0, 1, &[1, 0], 1, OpKind::PfAdd(vec![(3, 2)])),
        rec(1, 1, &[1, 1], 2, del()),
        rec(0, 2, &[2, 1], 3, OpKind::PfAdd(vec![(4, 1), (3, 1)])),
    ];
    assert_eq!(state(&r), State::Hll(vec![(3, 1), (4, 1)]));

    // EXPIRE ∥ EXPIRE: the longer TTL; PERSIST beats both; a later EXPIRE replaces.
    let r = [
        rec(0, 1, &[1, 0], 1, set("v")),
        rec(0, 2, &[2, 0], 1, OpKind::Expire(Expiry::At(500))),
        rec(1, 1, &[2, 1], 2, OpKind::Expire(Expiry::At(900))),
        rec(0, 3, &[3, 0], 2, OpKind::Expire(Expiry::At(700))),
    ];
    let e = expected(&r).unwrap();
    assert_eq!(e.expiry, Some((Expiry::At(900), InstanceId(1))));
    let mut r = r.to_vec();
    r.push(rec(0, 4, &[4, 0], 3, OpKind::Expire(Expiry::Persist)));
    assert_eq!(
        expected(&r).unwrap().expiry,
        Some((Expiry::Persist, InstanceId(0)))
    );
}

/// The docs' consumer-group examples, from the ops alone: concurrent creates of two groups
/// both exist; a DEL removes a concurrently created group; a destroy removes a concurrent
/// create of the same group; a create that had seen the destroy stands.
#[test]
fn consumer_groups_delete_wins() {
    use crate::crdt::stream::StreamId;
    let create = |g: &str| OpKind::XGroupCreate {
        group: b(g),
        id: StreamId::default(),
    };
    let destroy = |g: &str| OpKind::XGroupDestroy { group: b(g) };
    let groups = |r: &[Rec]| match state(r) {
        State::Stream(_, g) => g,
        State::Absent => Vec::new(),
        other => panic!("{other:?}"),
    };
    let r = [
        rec(0, 1, &[1, 0], 1, create("group1")),
        rec(1, 1, &[0, 1], 1, create("group2")),
    ];
    assert_eq!(groups(&r), [b("group1"), b("group2")]);
    let r = [
        rec(0, 1, &[1, 0], 1, create("group1")),
        rec(0, 2, &[2, 0], 2, del()),
        rec(1, 1, &[1, 1], 2, create("group2")),
    ];
    assert_eq!(
        state(&r),
        State::Absent,
        "the DEL removes the unobserved group2"
    );
    let r = [
        rec(0, 1, &[1, 0, 0], 1, create("group1")),
        rec(1, 1, &[1, 1, 0], 2, destroy("group1")),
        rec(2, 1, &[0, 0, 1], 2, create("group1")),
    ];
    assert_eq!(state(&r), State::Absent);
    let mut r = r.to_vec();
    r.push(rec(2, 2, &[1, 1, 2], 3, create("group1")));
    assert_eq!(groups(&r), [b("group1")]);
}

#[test]
fn two_types_or_lset_are_not_decided() {
    let r = [
        rec(0, 1, &[1, 0], 1, set("a")),
        rec(1, 1, &[0, 1], 1, OpKind::SAdd(vec![b("m")])),
    ];
    assert!(expected(&r).is_none());
    // Only DELs: nothing there.
    assert_eq!(state(&[rec(0, 1, &[1], 1, del())]), State::Absent);
}

#[test]
fn messages_are_short() {
    let long = State::Str(vec![b'x'; 10_000]);
    assert!(show(&long).chars().count() <= 201);
    assert_eq!(show(&State::Absent), "no key");
}
