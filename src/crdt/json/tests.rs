//! The JSON CRDT on its own: ops applied in any order, or states merged, give one state.

use super::*;

fn vc(e: &[u64]) -> VClock {
    VClock::from_entries(e)
}

fn dot(origin: u8, seq: u64) -> Dot {
    Dot {
        origin: InstanceId(origin),
        seq,
    }
}

fn json(j: &JsonCrdt) -> String {
    j.doc().map(|d| d.to_lit().to_json()).unwrap_or_default()
}

/// A document written at instance 0, then concurrent edits from 0 and 1 inside it.
fn ops() -> Vec<(Dot, VClock, Vec<Edit>)> {
    let root = NodeId {
        dot: dot(0, 1),
        k: 0,
    };
    let list = NodeId {
        dot: dot(0, 1),
        k: 2,
    };
    let doc = Lit::parse(r#"{"n": 1, "l": ["a", "b"]}"#).unwrap();
    let first = NodeId {
        dot: dot(0, 1),
        k: 3,
    };
    vec![
        (
            dot(0, 1),
            vc(&[1, 0]),
            vec![Edit::Assign {
                at: Place::Root,
                pos: (1, 0, 0),
                k: 0,
                value: doc,
            }],
        ),
        (
            dot(0, 2),
            vc(&[2, 0]),
            vec![
                Edit::Incr {
                    node: NodeId {
                        dot: dot(0, 1),
                        k: 1,
                    },
                    int: 2,
                    float: None,
                },
                Edit::Remove(Place::Elem(first)),
            ],
        ),
        (
            dot(1, 1),
            vc(&[1, 1]),
            vec![
                Edit::Insert {
                    array: list,
                    anchor: Some(first),
                    lamport: 3,
                    k: 0,
                    value: Lit::Str("x".into()),
                },
                Edit::Assign {
                    at: Place::Member(root, "m".into()),
                    pos: (2, 1, 1),
                    k: 1,
                    value: Lit::Bool(true),
                },
            ],
        ),
        (dot(1, 2), vc(&[1, 2]), vec![Edit::Clear(list)]),
    ]
}

#[test]
fn any_delivery_order_gives_one_state() {
    let ops = ops();
    let orders: [[usize; 4]; 4] = [[0, 1, 2, 3], [0, 2, 3, 1], [2, 3, 0, 1], [3, 1, 2, 0]];
    let mut states = Vec::new();
    for order in orders {
        let mut j = JsonCrdt::default();
        for i in order {
            let (d, v, e) = &ops[i];
            j.apply(*d, v, e);
        }
        states.push(j);
    }
    for s in &states[1..] {
        assert_eq!(s, &states[0]);
    }
    // The clear removed what instance 1 had seen ("a", "b", "x"), not what it had not.
    assert_eq!(json(&states[0]), r#"{"n":3,"l":[],"m":true}"#);
}

#[test]
fn merging_states_is_commutative_and_idempotent() {
    let ops = ops();
    let mut a = JsonCrdt::default();
    let mut b = JsonCrdt::default();
    for (i, (d, v, e)) in ops.iter().enumerate() {
        if i % 2 == 0 {
            a.apply(*d, v, e);
        } else {
            b.apply(*d, v, e);
        }
    }
    let mut ab = a.clone();
    ab.merge(&b);
    let mut ba = b.clone();
    ba.merge(&a);
    assert_eq!(ab, ba);
    let mut again = ab.clone();
    again.merge(&b);
    again.merge(&ab);
    assert_eq!(again, ab);
    let mut all = JsonCrdt::default();
    for (d, v, e) in &ops {
        all.apply(*d, v, e);
    }
    assert_eq!(json(&ab), json(&all));
}

#[test]
fn garbage_collection_keeps_what_a_client_sees() {
    let mut j = JsonCrdt::default();
    for (d, v, e) in ops() {
        j.apply(d, &v, &e);
    }
    let before = json(&j);
    let bytes = j.bytes();
    j.collect_garbage();
    assert_eq!(json(&j), before);
    assert!(j.bytes() < bytes);
}
