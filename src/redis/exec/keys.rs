//! Key-space commands of every type (`DEL`, `EXISTS`, `TOUCH`, `TYPE`, `EXPIRE`, `PEXPIRE`,
//! `PERSIST`, `TTL`, `PTTL`, `RENAME`, `RENAMENX`, `COPY`).

// The executor's helpers and the crate's types, as the parent module sees them.
use super::*;
use crate::crdt::json::{Edit as JsonEdit, Place};

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    match cmd.cmd {
        Cmd::Del => del(ex, cmd),
        Cmd::Exists | Cmd::Touch => Ok(Reply::Int(
            cmd.keys().iter().filter(|k| ex.view(k).is_some()).count() as i64,
        )),
        Cmd::Type => Ok(Reply::Status(
            ex.view(k)
                .and_then(|e| e.key_type())
                .map(|t| t.name())
                .unwrap_or("none"),
        )),
        Cmd::Expire | Cmd::PExpire => expire(ex, cmd),
        Cmd::Rename | Cmd::RenameNx => rename(ex, cmd),
        Cmd::Copy => copy(ex, cmd),
        Cmd::Persist => match ex.view(k).and_then(|e| e.expiry()) {
            Some((Expiry::At(_), _)) => {
                ex.emit(k, OpKind::Expire(Expiry::Persist));
                Ok(Reply::Int(1))
            }
            _ => Ok(Reply::Int(0)),
        },
        Cmd::Ttl | Cmd::PTtl => Ok(Reply::Int(match ex.view(k) {
            None => -2,
            Some(e) => match e.expiry() {
                Some((Expiry::At(t), _)) => {
                    let left = t.saturating_sub(ex.cx.now_ms) as i64;
                    if cmd.cmd == Cmd::Ttl {
                        (left + 500) / 1000
                    } else {
                        left
                    }
                }
                _ => -1,
            },
        })),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// `DEL`.
fn del(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let mut n = 0;
    let mut seen: Vec<Cow<[u8]>> = Vec::new();
    for key in cmd.keys() {
        if seen.contains(&key) {
            continue;
        }
        if ex.view(&key).is_some() {
            ex.emit_del(&key, None);
            n += 1;
        }
        seen.push(key);
    }
    Ok(Reply::Int(n))
}

/// `EXPIRE `, `PEXPIRE`.
fn expire(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let n = int_arg(&a[1])?;
    let ms = if cmd.cmd == Cmd::Expire {
        n.checked_mul(1000)
    } else {
        Some(n)
    };
    let name = cmd.name.to_ascii_lowercase();
    let Some(ms) = ms.filter(|ms| *ms <= TTL_MAX_MS) else {
        return Err(Reply::err(format!(
            "ERR invalid expire time in '{name}' command"
        )));
    };
    if ex.view(k).is_none() {
        return Ok(Reply::Int(0));
    }
    // Redis propagates an expiry as `PEXPIREAT` at its absolute time, or `DEL` when past.
    if ms <= 0 {
        ex.propagate_as(&[b"DEL", k]);
        ex.emit_del(k, None);
    } else {
        let at = ex.cx.now_ms.saturating_add(ms as u64);
        ex.propagate_as(&[b"PEXPIREAT", k, at.to_string().as_bytes()]);
        ex.emit(k, OpKind::Expire(Expiry::At(at)));
    }
    Ok(Reply::Int(1))
}

/// The ops that write `value`'s visible content at a key of its own: what `RENAME` and `COPY`
/// replicate for the destination. A string (a counter too) is written as its value, a hash's
/// fields as `HSET`s, a set's members, a sorted set's members with their scores, a list's
/// elements in order, a stream's entries with their IDs, a HyperLogLog's registers.
fn content_ops(ex: &Exec, dst: &[u8], e: &Entry) -> Vec<OpKind> {
    match e.key_type() {
        Some(KeyType::String) => vec![OpKind::Set {
            value: e.string_value().expect("live string"),
            observed: Vec::new(),
        }],
        Some(KeyType::Hash) => vec![OpKind::HSet(
            e.hash_fields()
                .into_iter()
                .map(|(f, v)| (f, v, Vec::new()))
                .collect(),
        )],
        Some(KeyType::Set) => vec![OpKind::SAdd(e.set_members())],
        Some(KeyType::ZSet) => vec![OpKind::ZAdd(
            e.zset_members()
                .into_iter()
                .map(|(m, s)| (m, s, Vec::new()))
                .collect(),
        )],
        Some(KeyType::List) => {
            let (lamport, seq) = super::lists::next_element(ex, dst);
            let mut anchor = None;
            let inserts = e
                .list()
                .map(|l| l.live().map(|el| el.value.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, value)| {
                    let id = ElemId {
                        lamport: lamport + i as u64,
                        origin: ex.cx.origin,
                        seq,
                        index: i as u32,
                    };
                    let insert = Insert { id, anchor, value };
                    anchor = Some(id);
                    insert
                })
                .collect();
            vec![OpKind::LInsert(inserts)]
        }
        Some(KeyType::Stream) => e
            .stream()
            .map(|s| {
                s.live()
                    .map(|x| OpKind::XAdd {
                        id: x.id,
                        fields: x.fields.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Some(KeyType::Hll) => {
            let regs = e
                .hll()
                .map(|h| h.registers())
                .unwrap_or_else(|| Box::new([0; REGISTERS]));
            vec![OpKind::PfAdd(
                regs.iter()
                    .enumerate()
                    .filter(|(_, r)| **r > 0)
                    .map(|(i, r)| (i as u16, *r))
                    .collect(),
            )]
        }
        Some(KeyType::Json) => match e.json().and_then(|j| j.doc()) {
            Some(d) => vec![OpKind::Json(vec![JsonEdit::Assign {
                at: Place::Root,
                pos: (0, 0, 0),
                k: 0,
                value: d.to_lit(),
            }])],
            None => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// Writes `src`'s content and TTL at `dst` (deleting what `dst` held first, as observed).
fn write_copy(ex: &mut Exec, src: &[u8], dst: &[u8]) {
    let Some(e) = ex.view(src) else { return };
    let expiry = match e.expiry() {
        Some((Expiry::At(t), _)) => Some(t),
        _ => None,
    };
    let e = e.clone();
    if ex.view(dst).is_some() {
        ex.emit_del(dst, Some(0));
    }
    for kind in content_ops(ex, dst, &e) {
        ex.emit(dst, kind);
    }
    if let Some(t) = expiry {
        ex.emit(dst, OpKind::Expire(Expiry::At(t)));
    }
}

/// `RENAME src dst`, `RENAMENX src dst`: `dst` gets `src`'s content and TTL, then `src` is
/// deleted (both as observed at this instance).
fn rename(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let (src, dst) = (cmd.args[0].bytes(), cmd.args[1].bytes());
    let nx = cmd.cmd == Cmd::RenameNx;
    if ex.view(&src).is_none() {
        return Err(Reply::err("ERR no such key"));
    }
    if src == dst {
        return Ok(if nx { Reply::Int(0) } else { Reply::ok() });
    }
    if nx && ex.view(&dst).is_some() {
        return Ok(Reply::Int(0));
    }
    write_copy(ex, &src, &dst);
    ex.emit_del(&src, Some(0));
    Ok(if nx { Reply::Int(1) } else { Reply::ok() })
}

/// `COPY src dst [DB 0] [REPLACE]`: `dst` gets `src`'s content and TTL; without `REPLACE` an
/// existing `dst` stays and the reply is 0.
fn copy(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let (src, dst) = (a[0].bytes(), a[1].bytes());
    let mut replace = false;
    let mut i = 2;
    while i < a.len() {
        match upper(&a[i]).as_str() {
            "REPLACE" => replace = true,
            "DB" if i + 1 < a.len() => {
                if int_arg(&a[i + 1])? != 0 {
                    return Err(Reply::err(
                        "ERR Copying to another database is not allowed in cluster mode",
                    ));
                }
                i += 1;
            }
            _ => return Err(Reply::err(SYNTAX)),
        }
        i += 1;
    }
    if src == dst {
        return Err(Reply::err(
            "ERR source and destination objects are the same",
        ));
    }
    if ex.view(&src).is_none() {
        return Ok(Reply::Int(0));
    }
    if ex.view(&dst).is_some() && !replace {
        return Ok(Reply::Int(0));
    }
    write_copy(ex, &src, &dst);
    Ok(Reply::Int(1))
}
