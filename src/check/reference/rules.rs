//! The documented conflict rules, computed from a key's acknowledged ops alone (no merge code):
//! what the key must end as once every op has reached every member.
//!
//! Every rule is the one `docs/semantics.md` states ("Conflict resolution"); the vocabulary:
//! * an op is **removed** when a remove that applies to it (a `DEL` of the key, or an
//!   `HDEL`/`SREM`/`ZREM`/`LPOP`/`XDEL` naming its part) had observed it: the remover's vector
//!   clock covers its dot;
//! * a register write is **live** when it is not removed and no other write of the same
//!   register had observed it (a write overwritten through a chain stays overwritten);
//! * the **winner** of a register is the live write with the greatest timestamp, then the
//!   smaller instance id;
//! * an increment counts when it is not removed and the winning write's writer had not
//!   observed it (a `SET` resets what its writer saw).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use crate::crdt::keyspace::Bytes;
use crate::crdt::list::{ElemId, Insert};
use crate::crdt::stream::StreamId;
use crate::crdt::{Dot, Entry, Expiry, InstanceId, KeyType, OpKind, VClock, Value};

/// One acknowledged op on a key (a client's write, or a `DEL` the database made).
#[derive(Clone, Debug)]
pub(super) struct Rec {
    pub dot: Dot,
    pub vc: VClock,
    pub ts: u64,
    pub kind: OpKind,
}

/// A stream entry as the oracle compares it: ID, the `XADD`'s dot, the fields.
pub(super) type StreamItem = (StreamId, Dot, Vec<(Bytes, Bytes)>);

/// A key's state as a client reads it, in a form both the rules and an instance give.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum State {
    Absent,
    Str(Vec<u8>),
    Hash(BTreeMap<Bytes, Vec<u8>>),
    Set(BTreeSet<Bytes>),
    ZSet(BTreeMap<Bytes, f64>),
    /// Live values in list order.
    List(Vec<Vec<u8>>),
    /// Live entries in stream order (ID, the `XADD`'s dot, the fields) and the names of the
    /// consumer groups that exist.
    Stream(Vec<StreamItem>, Vec<Bytes>),
    /// The non-zero registers.
    Hll(Vec<(u16, u8)>),
    /// A JSON document as `JSON.GET` shows it.
    Json(String),
}

/// What the rules say a key ends as.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Expected {
    /// The type of every write (`None`: only `DEL`s and `EXPIRE`s).
    pub key_type: Option<KeyType>,
    pub state: State,
    /// The winning expiry and its owner, when the key exists.
    pub expiry: Option<(Expiry, InstanceId)>,
}

fn removed(dot: Dot, removers: &[&VClock]) -> bool {
    removers.iter().any(|r| r.covers(dot))
}

/// The winning write of a register among `writes` (each with its value), or `None`.
fn winner<'a, V>(writes: &'a [(&'a Rec, V)], removers: &[&VClock]) -> Option<&'a (&'a Rec, V)> {
    writes
        .iter()
        .filter(|(w, _)| !removed(w.dot, removers))
        .filter(|(w, _)| {
            !writes
                .iter()
                .any(|(o, _)| o.dot != w.dot && o.vc.covers(w.dot))
        })
        .max_by_key(|(w, _)| (w.ts, Reverse(w.dot.origin)))
}

/// The increments that count, given the winning write.
fn counted<'a, N: Copy>(
    incs: &'a [(&'a Rec, N)],
    win: Option<&'a Rec>,
    removers: &'a [&'a VClock],
) -> impl Iterator<Item = N> + 'a {
    incs.iter()
        .filter(move |(i, _)| !removed(i.dot, removers) && !win.is_some_and(|w| w.vc.covers(i.dot)))
        .map(|(_, n)| *n)
}

/// A string-valued register with integer increments (a string key, a hash field): its value,
/// or `None` when it does not exist; `Err(())` when the rules here do not decide it (a
/// non-integer base with increments, an overflow).
fn scalar(
    writes: &[(&Rec, &Value)],
    incs: &[(&Rec, i64)],
    removers: &[&VClock],
) -> Result<Option<Vec<u8>>, ()> {
    let win = winner(writes, removers);
    let inc: Vec<i64> = counted(incs, win.map(|w| w.0), removers).collect();
    let sum: i128 = inc.iter().map(|n| *n as i128).sum();
    let number = |base: i128| {
        i64::try_from(base + sum)
            .map(|n| Some(n.to_string().into_bytes()))
            .map_err(|_| ())
    };
    match (win, inc.is_empty()) {
        (None, true) => Ok(None),
        (None, false) => number(0),
        (Some((_, v)), true) => Ok(Some(v.to_bytes())),
        (Some((_, v)), false) => match v.as_i64() {
            Some(base) => number(base as i128),
            None => Err(()),
        },
    }
}

/// The key-level removers: every `DEL` (a client's, an expiry's, an eviction's).
fn key_removers(recs: &[Rec]) -> Vec<&VClock> {
    recs.iter()
        .filter(|r| matches!(r.kind, OpKind::Del { .. }))
        .map(|r| &r.vc)
        .collect()
}

/// What the rules make of a key's acknowledged ops, or `None` when they do not decide it
/// (writes of two types, `LSET`, float increments of strings and hash fields).
pub(super) fn expected(recs: &[Rec]) -> Option<Expected> {
    let types: BTreeSet<KeyType> = recs.iter().filter_map(|r| r.kind.key_type()).collect();
    if types.len() > 1 {
        return None;
    }
    let key_type = types.first().copied();
    let keys = key_removers(recs);
    let state = match key_type {
        None => State::Absent,
        Some(KeyType::String) => string(recs, &keys)?,
        Some(KeyType::Hash) => hash(recs, &keys)?,
        Some(KeyType::Set) => set(recs, &keys),
        Some(KeyType::ZSet) => zset(recs, &keys),
        Some(KeyType::List) => list(recs, &keys)?,
        Some(KeyType::Stream) => stream(recs, &keys),
        Some(KeyType::Hll) => hll(recs, &keys),
        // The rules do not decide JSON documents: the hunt checks them by convergence and
        // the property tests by the merge laws (docs/semantics.md).
        Some(KeyType::Json) => return None,
    };
    let expiry = if state == State::Absent {
        None
    } else {
        expiry(recs, &keys)
    };
    Some(Expected {
        key_type,
        state,
        expiry,
    })
}

fn string(recs: &[Rec], keys: &[&VClock]) -> Option<State> {
    let mut writes = Vec::new();
    let mut incs = Vec::new();
    for r in recs {
        match &r.kind {
            OpKind::Set { value, .. } => writes.push((r, value)),
            OpKind::Incr { int, float } if *float == 0.0 => incs.push((r, *int)),
            OpKind::Incr { .. } => return None,
            _ => {}
        }
    }
    Some(
        scalar(&writes, &incs, keys)
            .ok()?
            .map_or(State::Absent, State::Str),
    )
}

fn hash(recs: &[Rec], keys: &[&VClock]) -> Option<State> {
    let mut fields: BTreeSet<&[u8]> = BTreeSet::new();
    for r in recs {
        match &r.kind {
            OpKind::HSet(fv) => fields.extend(fv.iter().map(|(f, _, _)| f.as_slice())),
            OpKind::HIncr { field, float, .. } if *float == 0.0 => {
                fields.insert(field);
            }
            OpKind::HIncr { .. } => return None,
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    for f in fields {
        let mut writes = Vec::new();
        let mut incs = Vec::new();
        let mut removers = keys.to_vec();
        for r in recs {
            match &r.kind {
                OpKind::HSet(fv) => {
                    writes.extend(fv.iter().filter(|x| x.0 == f).map(|(_, v, _)| (r, v)))
                }
                OpKind::HIncr { field, int, .. } if field == f => incs.push((r, *int)),
                OpKind::HDel(fs) if fs.iter().any(|(x, _)| x == f) => removers.push(&r.vc),
                _ => {}
            }
        }
        if let Some(v) = scalar(&writes, &incs, &removers).ok()? {
            out.insert(f.to_vec(), v);
        }
    }
    Some(if out.is_empty() {
        State::Absent
    } else {
        State::Hash(out)
    })
}

fn set(recs: &[Rec], keys: &[&VClock]) -> State {
    let mut members: BTreeSet<&[u8]> = BTreeSet::new();
    for r in recs {
        if let OpKind::SAdd(ms) = &r.kind {
            members.extend(ms.iter().map(|m| m.as_slice()));
        }
    }
    let live: BTreeSet<Bytes> = members
        .into_iter()
        .filter(|m| {
            let mut removers = keys.to_vec();
            removers.extend(recs.iter().filter_map(|r| match &r.kind {
                OpKind::SRem(ms) if ms.iter().any(|x| x == m) => Some(&r.vc),
                _ => None,
            }));
            // Add wins: present while some add of it is not removed.
            recs.iter().any(|r| match &r.kind {
                OpKind::SAdd(ms) => ms.iter().any(|x| x == m) && !removed(r.dot, &removers),
                _ => false,
            })
        })
        .map(<[u8]>::to_vec)
        .collect();
    if live.is_empty() {
        State::Absent
    } else {
        State::Set(live)
    }
}

fn zset(recs: &[Rec], keys: &[&VClock]) -> State {
    let mut members: BTreeSet<&[u8]> = BTreeSet::new();
    for r in recs {
        match &r.kind {
            OpKind::ZAdd(ms) => members.extend(ms.iter().map(|(m, _, _)| m.as_slice())),
            OpKind::ZIncr { member, .. } => {
                members.insert(member);
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    for m in members {
        let mut writes = Vec::new();
        let mut incs = Vec::new();
        let mut removers = keys.to_vec();
        for r in recs {
            match &r.kind {
                OpKind::ZAdd(ms) => {
                    writes.extend(ms.iter().filter(|x| x.0 == m).map(|(_, s, _)| (r, *s)))
                }
                OpKind::ZIncr { member, by } if member == m => incs.push((r, *by)),
                OpKind::ZRem(ms) if ms.iter().any(|(x, _)| x == m) => removers.push(&r.vc),
                _ => {}
            }
        }
        // Membership: add wins; the score: the winning ZADD's plus the increments its
        // writer had not seen, as a counter.
        let win = winner(&writes, &removers);
        let inc: Vec<f64> = counted(&incs, win.map(|w| w.0), &removers).collect();
        if win.is_none() && inc.is_empty() {
            continue;
        }
        let score = win.map_or(0.0, |w| w.1) + inc.iter().sum::<f64>();
        out.insert(m.to_vec(), score);
    }
    if out.is_empty() {
        State::Absent
    } else {
        State::ZSet(out)
    }
}

/// The list order of a replicated growable array: each element follows the element it was
/// inserted after; elements inserted after the same one order by descending Lamport number,
/// then ascending instance id (then the origin's own order); removed elements keep their
/// place as anchors.
fn list(recs: &[Rec], keys: &[&VClock]) -> Option<State> {
    let mut inserts: Vec<&Insert> = Vec::new();
    let mut popped: BTreeSet<ElemId> = BTreeSet::new();
    for r in recs {
        match &r.kind {
            OpKind::LInsert(ins) => inserts.extend(ins),
            OpKind::LRem(ids) => popped.extend(ids.iter().copied()),
            OpKind::LSet { .. } => return None,
            _ => {}
        }
    }
    let rank = |id: &ElemId| Reverse((id.lamport, Reverse(id.origin), id.seq, id.index));
    let mut children: BTreeMap<Option<ElemId>, Vec<&Insert>> = BTreeMap::new();
    for i in &inserts {
        children.entry(i.anchor).or_default().push(i);
    }
    for c in children.values_mut() {
        c.sort_by_key(|i| rank(&i.id));
    }
    let mut out = Vec::new();
    let mut stack: Vec<&Insert> = children
        .get(&None)
        .into_iter()
        .flatten()
        .rev()
        .copied()
        .collect();
    while let Some(i) = stack.pop() {
        if !popped.contains(&i.id) && !removed(i.id.dot(), keys) {
            out.push(i.value.to_bytes());
        }
        if let Some(c) = children.get(&Some(i.id)) {
            stack.extend(c.iter().rev().copied());
        }
    }
    Some(if out.is_empty() {
        State::Absent
    } else {
        State::List(out)
    })
}

fn stream(recs: &[Rec], keys: &[&VClock]) -> State {
    let deleted: BTreeSet<Dot> = recs
        .iter()
        .filter_map(|r| match &r.kind {
            OpKind::XDel(dots) | OpKind::XTrim(dots) => Some(dots.iter().copied()),
            _ => None,
        })
        .flatten()
        .collect();
    let mut live: Vec<_> = recs
        .iter()
        .filter_map(|r| match &r.kind {
            OpKind::XAdd { id, fields } if !deleted.contains(&r.dot) && !removed(r.dot, keys) => {
                Some((*id, r.dot, fields.clone()))
            }
            _ => None,
        })
        .collect();
    // Ordered by ID, then region.
    live.sort_by_key(|(id, dot, _)| (*id, dot.origin));
    let groups = groups(recs, keys);
    if live.is_empty() && groups.is_empty() {
        State::Absent
    } else {
        State::Stream(live, groups)
    }
}

/// Consumer groups: delete wins. A group exists when some `XGROUP CREATE` of it was written
/// by an instance that had seen every `XGROUP DESTROY` of it and every `DEL` of the key, and
/// everything those had seen.
fn groups(recs: &[Rec], keys: &[&VClock]) -> Vec<Bytes> {
    let mut tomb = VClock::default();
    for k in keys {
        tomb.join(k);
    }
    let names: BTreeSet<&Bytes> = recs
        .iter()
        .filter_map(|r| match &r.kind {
            OpKind::XGroupCreate { group, .. } => Some(group),
            _ => None,
        })
        .collect();
    names
        .into_iter()
        .filter(|g| {
            let mut destroyed = tomb.clone();
            for r in recs {
                if matches!(&r.kind, OpKind::XGroupDestroy { group } if group == *g) {
                    destroyed.join(&r.vc);
                }
            }
            recs.iter().any(|r| {
                matches!(&r.kind, OpKind::XGroupCreate { group, .. } if group == *g)
                    && r.vc.dominates(&destroyed)
            })
        })
        .cloned()
        .collect()
}

/// `DEL` wins: an add counts only if its writer had seen every `DEL` and what they had seen.
fn hll(recs: &[Rec], keys: &[&VClock]) -> State {
    let mut tomb = VClock::default();
    for k in keys {
        tomb.join(k);
    }
    let mut regs: BTreeMap<u16, u8> = BTreeMap::new();
    for r in recs {
        if let OpKind::PfAdd(adds) = &r.kind {
            let saw_every_del = tomb
                .entries()
                .iter()
                .enumerate()
                .all(|(i, t)| r.vc.get(InstanceId(i as u8)) >= *t);
            if saw_every_del {
                for (i, c) in adds {
                    let x = regs.entry(*i).or_default();
                    *x = (*x).max(*c);
                }
            }
        }
    }
    if regs.is_empty() {
        State::Absent
    } else {
        State::Hll(regs.into_iter().collect())
    }
}

/// The expiry: among the `EXPIRE`/`PERSIST` writes no `DEL` and no later one had observed,
/// `PERSIST` wins, then the longer TTL (the later deadline), then the smaller instance id.
fn expiry(recs: &[Rec], keys: &[&VClock]) -> Option<(Expiry, InstanceId)> {
    let writes: Vec<(&Rec, Expiry)> = recs
        .iter()
        .filter_map(|r| match r.kind {
            OpKind::Expire(e) => Some((r, e)),
            _ => None,
        })
        .collect();
    writes
        .iter()
        .filter(|(w, _)| !removed(w.dot, keys))
        .filter(|(w, _)| {
            !writes
                .iter()
                .any(|(o, _)| o.dot != w.dot && o.vc.covers(w.dot))
        })
        .max_by_key(|(w, e)| {
            let at = match e {
                Expiry::Persist => u64::MAX,
                Expiry::At(t) => *t,
            };
            (at, Reverse(w.dot.origin))
        })
        .map(|(w, e)| (*e, w.dot.origin))
}

/// What an instance holds for a key, read as `key_type` (or as whatever type it shows when
/// the rules expect no type).
pub(super) fn found(entry: Option<&Entry>, key_type: Option<KeyType>) -> State {
    let Some(e) = entry else {
        return State::Absent;
    };
    let Some(t) = key_type.or_else(|| e.key_type()) else {
        return State::Absent;
    };
    let state = match t {
        KeyType::String => match e.string_value() {
            Some(v) => State::Str(v.to_bytes()),
            None => State::Absent,
        },
        KeyType::Hash => State::Hash(
            e.hash_fields()
                .into_iter()
                .map(|(f, v)| (f, v.to_bytes()))
                .collect(),
        ),
        KeyType::Set => State::Set(e.set_members().into_iter().collect()),
        KeyType::ZSet => State::ZSet(e.zset_members().into_iter().collect()),
        KeyType::List => State::List(
            e.list()
                .into_iter()
                .flat_map(|l| l.live())
                .map(|x| x.value.to_bytes())
                .collect(),
        ),
        KeyType::Stream => State::Stream(
            e.stream()
                .into_iter()
                .flat_map(|s| s.live())
                .map(|x| (x.id, x.dot, x.fields.clone()))
                .collect(),
            e.stream()
                .into_iter()
                .flat_map(|s| s.groups.live_names(e.tomb()))
                .map(<[u8]>::to_vec)
                .collect(),
        ),
        KeyType::Hll => State::Hll(
            e.hll()
                .map(|h| {
                    h.registers()
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| **c != 0)
                        .map(|(i, c)| (i as u16, *c))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        KeyType::Json => match e.json().and_then(|j| j.doc()) {
            Some(d) => State::Json(d.to_lit().to_json()),
            None => State::Absent,
        },
    };
    let empty = match &state {
        State::Hash(m) => m.is_empty(),
        State::Set(m) => m.is_empty(),
        State::ZSet(m) => m.is_empty(),
        State::List(v) => v.is_empty(),
        State::Stream(v, g) => v.is_empty() && g.is_empty(),
        State::Hll(v) => v.is_empty(),
        State::Absent | State::Str(_) | State::Json(_) => false,
    };
    if empty { State::Absent } else { state }
}

/// Whether two states agree; scores may differ in the last bits (a sum of float increments
/// in another order).
pub(super) fn same(a: &State, b: &State) -> bool {
    match (a, b) {
        (State::ZSet(x), State::ZSet(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((m, s), (n, t))| {
                    m == n && (s - t).abs() <= 1e-9 * s.abs().max(t.abs()).max(1.0)
                })
        }
        _ => a == b,
    }
}

/// A short rendering for messages (at most ~200 characters).
pub(super) fn show(s: &State) -> String {
    let b = |x: &[u8]| String::from_utf8_lossy(x).into_owned();
    let text = match s {
        State::Absent => "no key".to_string(),
        State::Str(v) => format!("{:?}", b(v)),
        State::Hash(m) => format!(
            "hash {{{}}}",
            m.iter()
                .map(|(f, v)| format!("{}: {}", b(f), b(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        State::Set(m) => format!(
            "set {{{}}}",
            m.iter().map(|x| b(x)).collect::<Vec<_>>().join(", ")
        ),
        State::ZSet(m) => format!(
            "zset {{{}}}",
            m.iter()
                .map(|(x, s)| format!("{}: {s}", b(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        State::List(v) => format!(
            "list [{}]",
            v.iter().map(|x| b(x)).collect::<Vec<_>>().join(", ")
        ),
        State::Stream(v, g) => format!(
            "stream [{}]{}",
            v.iter()
                .map(|(id, d, _)| format!("{id} from {}", d.origin))
                .collect::<Vec<_>>()
                .join(", "),
            if g.is_empty() {
                String::new()
            } else {
                format!(
                    " groups {{{}}}",
                    g.iter().map(|x| b(x)).collect::<Vec<_>>().join(", ")
                )
            }
        ),
        State::Hll(v) => format!("hll with {} registers set", v.len()),
        State::Json(d) => format!("JSON {d}"),
    };
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
