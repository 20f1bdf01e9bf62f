//! The conflict rules as the narration states them: for two concurrent ops on a key, which
//! rule of `docs/semantics.md` settles them, and why (with the clocks and true times).

use super::*;

/// The rule that settles two concurrent ops `a` (written first in true time) and `b`, or
/// `None` when their effects do not meet (different fields, members or elements).
pub fn rule(a: &Op, la: &str, b: &Op, lb: &str) -> Option<(&'static str, String)> {
    let who = |o: &Op, l: &str| format!("{}'s {}", o.dot.origin, l);
    use OpKind::*;
    match (&a.kind, &b.kind) {
        (Set { value: va, .. }, Set { value: vb, .. }) => {
            Some(lww("SETs", a, &quote(va), b, &quote(vb)))
        }
        (Incr { .. }, Incr { .. }) => Some((
            "counters add up",
            format!(
                "concurrent increments: {} and {} both count, on every instance (a counter adds every instance's increments)",
                who(a, la),
                who(b, lb)
            ),
        )),
        (Set { .. }, Incr { .. }) | (Incr { .. }, Set { .. }) => {
            let (s, sl, i, il) = if matches!(a.kind, Set { .. }) {
                (a, la, b, lb)
            } else {
                (b, lb, a, la)
            };
            Some((
                "SET plus unobserved increments",
                format!(
                    "{} is concurrent with {}: the value read is the SET's value plus every increment its writer had not observed, so the increment is kept on top (Redis docs are silent here; geosim's choice, see docs/semantics.md)",
                    who(s, sl),
                    who(i, il)
                ),
            ))
        }
        (Set { .. }, Expire(Expiry::At(at))) | (Expire(Expiry::At(at)), Set { .. }) => {
            let (s, sl, e) = if matches!(a.kind, Set { .. }) {
                (a, la, b)
            } else {
                (b, lb, a)
            };
            Some((
                "TTL kept beside the value",
                format!(
                    "{} had not observed {}'s expiry (at {at} ms), so it cannot clear it: the TTL is merged apart from the value (the longer TTL wins, PERSIST beats EXPIRE), and the key keeps that expiry whichever value wins (docs are silent on this pair; geosim's rule, see docs/semantics.md)",
                    who(s, sl),
                    e.dot.origin
                ),
            ))
        }
        (Del { .. }, Del { .. }) => None,
        (Del { .. }, other) | (other, Del { .. }) => {
            let (d, dl, w, wl) = if matches!(a.kind, Del { .. }) {
                (a, la, b, lb)
            } else {
                (b, lb, a, la)
            };
            if matches!(other, PfAdd(_)) {
                return Some((
                    "DEL wins (HyperLogLog)",
                    format!(
                        "{} is concurrent with {}: on a HyperLogLog a DEL wins over concurrent adds, so the key is deleted everywhere",
                        who(d, dl),
                        who(w, wl)
                    ),
                ));
            }
            if matches!(other, Expire(_)) {
                return None;
            }
            if let Json(edits) = other {
                return Some(json_vs_del(edits, &who(d, dl), &who(w, wl)));
            }
            if let XGroupCreate { group, .. } | XAck { group, .. } = other {
                return Some((
                    "delete wins (consumer groups)",
                    format!(
                        "{} had not observed {} on group {}: for consumer groups a delete wins over concurrent operations, so the DEL removes that group too",
                        who(d, dl),
                        who(w, wl),
                        bytes(group)
                    ),
                ));
            }
            Some((
                "observed remove",
                format!(
                    "{} had not observed {}, so that write stays: a DEL removes only what its instance had seen (update wins)",
                    who(d, dl),
                    who(w, wl)
                ),
            ))
        }
        _ => collection_rule(a, la, b, lb),
    }
}

/// Hashes, sets and sorted sets.
fn collection_rule(a: &Op, la: &str, b: &Op, lb: &str) -> Option<(&'static str, String)> {
    let (ia, ib) = (a.dot.origin, b.dot.origin);
    let who = |o: &Op, l: &str| format!("{}'s {}", o.dot.origin, l);
    use OpKind::*;
    match (&a.kind, &b.kind) {
        (SAdd(x), SRem(y)) | (SRem(y), SAdd(x)) => {
            let (r, rl, ad) = if matches!(a.kind, SRem(_)) {
                (a, la, b)
            } else {
                (b, lb, a)
            };
            let common: Vec<String> = x
                .iter()
                .filter(|m| y.contains(m))
                .map(|m| bytes(m))
                .collect();
            (!common.is_empty()).then(|| {
                (
                    "add wins",
                    format!(
                        "{} on {} had not observed {}'s add of {}, so {} stays (observed remove: add wins)",
                        rl.split_whitespace().next().unwrap_or("SREM"),
                        r.dot.origin,
                        ad.dot.origin,
                        common.join(", "),
                        if common.len() == 1 { "it" } else { "they" }
                    ),
                )
            })
        }
        (SAdd(_), SAdd(_)) => Some((
            "union",
            format!(
                "concurrent adds are unioned: {} and {} both take effect",
                who(a, la),
                who(b, lb)
            ),
        )),
        (HSet(x), HSet(y)) => {
            let f = x
                .iter()
                .find(|(f, _, _)| y.iter().any(|(g, _, _)| g == f))?;
            let vb = &y.iter().find(|(g, _, _)| *g == f.0)?.1;
            Some(lww(
                &format!("HSETs of field {}", bytes(&f.0)),
                a,
                &quote(&f.1),
                b,
                &quote(vb),
            ))
        }
        (HIncr { field: f, .. }, HIncr { field: g, .. }) if f == g => Some((
            "counters add up",
            format!(
                "concurrent HINCRBYs of field {}: both increments count",
                bytes(f)
            ),
        )),
        (HSet(x), HDel(y)) | (HDel(y), HSet(x)) => {
            let f = x.iter().find(|(f, _, _)| y.iter().any(|(g, _)| g == f))?;
            let (d, w) = if matches!(a.kind, HDel(_)) {
                (ia, ib)
            } else {
                (ib, ia)
            };
            Some((
                "observed remove",
                format!(
                    "HDEL on {d} had not observed {w}'s write of field {}, so the field stays (update wins)",
                    bytes(&f.0)
                ),
            ))
        }
        (ZAdd(x), ZAdd(y)) => {
            let m = x
                .iter()
                .find(|(m, _, _)| y.iter().any(|(n, _, _)| n == m))?;
            let sb = y.iter().find(|(n, _, _)| *n == m.0)?.1;
            Some(lww(
                &format!("ZADDs of member {}", bytes(&m.0)),
                a,
                &format_float(m.1),
                b,
                &format_float(sb),
            ))
        }
        (ZIncr { member: m, by: x }, ZIncr { member: n, by: y }) if m == n => Some((
            "counters add up",
            format!(
                "concurrent ZINCRBYs of {}: a score is a counter, so {} and {} both count",
                bytes(m),
                format_float(*x),
                format_float(*y)
            ),
        )),
        (ZAdd(x), ZIncr { member, .. }) | (ZIncr { member, .. }, ZAdd(x))
            if x.iter().any(|(m, _, _)| m == member) =>
        {
            Some((
                "SET plus unobserved increments",
                format!(
                    "ZADD and a concurrent ZINCRBY of {}: the score read is the ZADD's score plus the increments its writer had not observed",
                    bytes(member)
                ),
            ))
        }
        (ZRem(r), ZAdd(x)) | (ZAdd(x), ZRem(r)) => {
            let m = x.iter().find(|(m, _, _)| r.iter().any(|(n, _)| n == m))?;
            Some((
                "observed remove",
                format!(
                    "ZREM had not observed the concurrent ZADD of {}, so the member stays (add wins)",
                    bytes(&m.0)
                ),
            ))
        }
        (ZRem(r), ZIncr { member, .. }) | (ZIncr { member, .. }, ZRem(r))
            if r.iter().any(|(n, _)| n == member) =>
        {
            Some((
                "observed remove",
                format!(
                    "ZREM removes only the score contributions it had observed: the concurrent ZINCRBY of {} survives, and the member stays with that increment alone",
                    bytes(member)
                ),
            ))
        }
        _ => sequence_rule(a, la, b, lb),
    }
}

/// Lists, expiry, streams, HyperLogLogs, and ops of different types.
fn sequence_rule(a: &Op, la: &str, b: &Op, lb: &str) -> Option<(&'static str, String)> {
    let (ia, ib) = (a.dot.origin, b.dot.origin);
    let who = |o: &Op, l: &str| format!("{}'s {}", o.dot.origin, l);
    use OpKind::*;
    match (&a.kind, &b.kind) {
        (LInsert(_), LInsert(_)) => Some((
            "both inserts kept",
            format!(
                "concurrent pushes: {} and {} both stay; elements inserted at the same place are ordered by their ids (Lamport number, then instance), the same on every instance",
                who(a, la),
                who(b, lb)
            ),
        )),
        (LRem(x), LRem(y)) => {
            x.iter().find(|e| y.contains(e))?;
            Some((
                "concurrent pops",
                format!(
                    "{} and {} removed the same element: both clients got it, and it is removed once (a pop is at-least-once across instances)",
                    who(a, la),
                    who(b, lb)
                ),
            ))
        }
        (LSet { id: x, value: va }, LSet { id: y, value: vb }) if x == y => {
            Some(lww("LSETs", a, &quote(va), b, &quote(vb)))
        }
        (Expire(x), Expire(y)) => Some(match (x, y) {
            (Expiry::Persist, Expiry::Persist) => return None,
            (Expiry::Persist, _) | (_, Expiry::Persist) => (
                "PERSIST wins",
                "a PERSIST (no expiry) beats any concurrent EXPIRE".to_string(),
            ),
            (Expiry::At(p), Expiry::At(q)) => {
                let (w, at) = if p >= q { (ia, p) } else { (ib, q) };
                (
                    "longer TTL wins",
                    format!(
                        "concurrent TTL changes: the longer TTL wins, so {w}'s expiry (at {at} ms by the owner's clock) holds everywhere"
                    ),
                )
            }
        }),
        (XAdd { id: x, .. }, XAdd { id: y, .. }) => Some((
            "both entries kept",
            format!("concurrent XADDs: entries {x} and {y} are both kept, ordered by ID"),
        )),
        (XGroupCreate { group: x, .. }, XGroupCreate { group: y, .. }) => Some(if x == y {
            (
                "one group",
                format!(
                    "concurrent creates of group {}: one group exists everywhere, each region reading from the higher of the two start IDs",
                    bytes(x)
                ),
            )
        } else {
            (
                "groups union",
                format!(
                    "concurrent creates of groups {} and {}: both groups exist everywhere",
                    bytes(x),
                    bytes(y)
                ),
            )
        }),
        (XGroupDestroy { group: x }, XGroupCreate { group: y, .. } | XAck { group: y, .. })
        | (XGroupCreate { group: y, .. } | XAck { group: y, .. }, XGroupDestroy { group: x })
            if x == y =>
        {
            Some((
                "delete wins (consumer groups)",
                format!(
                    "XGROUP DESTROY of {} is concurrent with a create or an acknowledgement of it: for consumer groups a delete wins over concurrent operations, so the group is gone everywhere",
                    bytes(x)
                ),
            ))
        }
        (XAck { group: x, .. }, XAck { group: y, .. }) if x == y => Some((
            "highest acknowledged prefix",
            format!(
                "concurrent ack effects on group {}: each region's read position moves to the highest acknowledged ID either carries",
                bytes(x)
            ),
        )),
        (Json(x), Json(y)) => json_rule(a, x, b, y),
        (PfAdd(_), PfAdd(_)) => Some((
            "union",
            "concurrent PFADDs merge like a union: each register keeps its maximum".to_string(),
        )),
        (ka, kb) => {
            let (ta, tb) = (ka.key_type()?, kb.key_type()?);
            (ta != tb).then(|| {
                (
                    "type conflict",
                    format!(
                        "{} wrote a {} and {} a {} concurrently: a client sees the type written last by timestamp, and the other value stays hidden, to come back if the shown one is emptied or removed without it (Redis docs are silent; geosim's choice)",
                        ia,
                        ta.name(),
                        ib,
                        tb.name()
                    ),
                )
            })
        }
    }
}

/// Last write wins between two concurrent register writes, with the clock-inversion note.
pub(super) fn lww(what: &str, a: &Op, va: &str, b: &Op, vb: &str) -> (&'static str, String) {
    let a_wins = (a.ts, std::cmp::Reverse(a.dot.origin)) > (b.ts, std::cmp::Reverse(b.dot.origin));
    let (w, vw, l) = if a_wins { (a, va, b) } else { (b, vb, a) };
    let (iw, il) = (w.dot.origin, l.dot.origin);
    if w.ts == l.ts {
        return (
            "last write wins",
            format!(
                "concurrent {what} with the same timestamp ({} ms): the smaller instance id wins a tie, so {iw}'s {vw} wins",
                w.ts
            ),
        );
    }
    // The annotation is the true time of the write in nanoseconds.
    if w.annotation < l.annotation {
        let offset = |o: &Op| o.ts as i128 - (o.annotation / 1_000_000) as i128;
        let ahead = offset(w) - offset(l);
        let earlier = (l.annotation - w.annotation) as f64 / 1e6;
        return (
            "clock-inverted win",
            format!(
                "concurrent {what}: {iw}'s clock runs {ahead} ms ahead of {il}'s, so its earlier write ({} ms before in true time) carries the later timestamp ({} vs {} ms) and {vw} wins: a clock-inverted win",
                trim_ms(earlier),
                w.ts,
                l.ts
            ),
        );
    }
    (
        "last write wins",
        format!(
            "concurrent {what}: {iw}'s timestamp is later ({} vs {} ms by the writers' clocks), so {vw} wins",
            w.ts, l.ts
        ),
    )
}

/// A key-level `DEL` (or `JSON.DEL` of the document) against a concurrent JSON write.
fn json_vs_del(edits: &[JsonEdit], del: &str, write: &str) -> (&'static str, String) {
    let creates = edits.iter().any(|e| {
        matches!(
            e,
            JsonEdit::Assign {
                at: Place::Root,
                ..
            }
        )
    });
    if creates {
        (
            "create wins over delete (JSON)",
            format!(
                "{del} had not observed {write}, which wrote a new document: creating a document wins over a concurrent delete, so the new document stays"
            ),
        )
    } else {
        (
            "delete wins over update (JSON)",
            format!(
                "{write} changed a value inside the document that {del} deleted: it names that document, which is gone, so the delete wins"
            ),
        )
    }
}

/// The value an edit writes into or removes from (the container or the number it names).
fn json_target(e: &JsonEdit) -> Option<NodeId> {
    match e {
        JsonEdit::Assign {
            at: Place::Member(n, _),
            ..
        }
        | JsonEdit::Remove(Place::Member(n, _))
        | JsonEdit::Insert { array: n, .. }
        | JsonEdit::Clear(n)
        | JsonEdit::Incr { node: n, .. } => Some(*n),
        JsonEdit::Assign {
            at: Place::Elem(n), ..
        } => Some(*n),
        _ => None,
    }
}

/// Two concurrent JSON writes to one key.
fn json_rule(a: &Op, x: &[JsonEdit], b: &Op, y: &[JsonEdit]) -> Option<(&'static str, String)> {
    let (ia, ib) = (a.dot.origin, b.dot.origin);
    let assigned = |es: &[JsonEdit]| -> Vec<Place> {
        es.iter()
            .filter_map(|e| match e {
                JsonEdit::Assign { at, .. } => Some(at.clone()),
                _ => None,
            })
            .collect()
    };
    let (pa, pb) = (assigned(x), assigned(y));
    if let Some(p) = pa.iter().find(|p| pb.contains(p)) {
        let what = match p {
            Place::Root => "the document".to_string(),
            Place::Member(_, name) => format!("member {name}"),
            Place::Elem(_) => "an array element".to_string(),
        };
        let winner = ia.min(ib);
        return Some((
            "smaller instance id wins (JSON)",
            format!(
                "{ia} and {ib} wrote {what} concurrently: for JSON the smaller instance id wins, not the later write, so {winner}'s value stays"
            ),
        ));
    }
    let popped = |es: &[JsonEdit]| -> Vec<NodeId> {
        es.iter()
            .filter_map(|e| match e {
                JsonEdit::Remove(Place::Elem(n)) => Some(*n),
                _ => None,
            })
            .collect()
    };
    for (removes, other, r, w) in [(popped(x), y, ia, ib), (popped(y), x, ib, ia)] {
        if other
            .iter()
            .filter_map(json_target)
            .any(|t| removes.contains(&t))
        {
            return Some((
                "delete wins over update (JSON)",
                format!(
                    "{w} changed an array element that {r} removed concurrently: the change names the removed element, so the removal wins"
                ),
            ));
        }
    }
    let cleared = |es: &[JsonEdit]| -> Vec<NodeId> {
        es.iter()
            .filter_map(|e| match e {
                JsonEdit::Clear(n) => Some(*n),
                _ => None,
            })
            .collect()
    };
    for (clears, other, c, w) in [(cleared(x), y, ia, ib), (cleared(y), x, ib, ia)] {
        if other
            .iter()
            .filter_map(json_target)
            .any(|t| clears.contains(&t))
        {
            return Some((
                "clear merges (JSON)",
                format!(
                    "JSON.CLEAR on {c} removed only what {c} had seen: {w}'s concurrent addition to the same value survives (merge)"
                ),
            ));
        }
    }
    let inserts = |es: &[JsonEdit]| -> Vec<NodeId> {
        es.iter()
            .filter_map(|e| match e {
                JsonEdit::Insert { array, .. } => Some(*array),
                _ => None,
            })
            .collect()
    };
    let (sa, sb) = (inserts(x), inserts(y));
    if sa.iter().any(|n| sb.contains(n)) {
        return Some((
            "arrays merge (JSON)",
            format!(
                "{ia} and {ib} inserted into the same array concurrently: both inserts stay, each instance's order kept; inserts at the same place go the smaller instance id first"
            ),
        ));
    }
    let incs = |es: &[JsonEdit]| -> Vec<NodeId> {
        es.iter()
            .filter_map(|e| match e {
                JsonEdit::Incr { node, .. } => Some(*node),
                _ => None,
            })
            .collect()
    };
    let (na, nb) = (incs(x), incs(y));
    if na.iter().any(|n| nb.contains(n)) {
        return Some((
            "counters add up",
            format!(
                "concurrent JSON.NUMINCRBYs of one number: {ia}'s and {ib}'s increments both count"
            ),
        ));
    }
    // A write inside a value that the other op, which had seen that value, may have
    // replaced (or a value holding it): the write names the old value.
    // (An assignment beside the write, in the same container, is no such replacement.)
    let meets = |es: &[JsonEdit], o: &Op, places: &[Place]| {
        es.iter().filter_map(json_target).any(|t| {
            o.vc.covers(t.dot)
                && places.iter().any(|p| match p {
                    Place::Member(parent, _) => *parent != t,
                    Place::Elem(e) => *e != t,
                    Place::Root => true,
                })
        })
    };
    if meets(x, b, &pb) || meets(y, a, &pa) {
        return Some((
            "values have identity (JSON)",
            format!(
                "{ia} and {ib} wrote the document concurrently: a write names the value it changes, so if the other op replaced that value (or one holding it) the write lands nowhere, and otherwise both apply"
            ),
        ));
    }
    None
}
