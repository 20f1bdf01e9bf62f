//! List commands (`LPUSH`, `RPUSH`, `LPOP`, `RPOP`, `LINSERT`, `LRANGE`, `LLEN`, `LREM`, `LSET`).

// The executor's helpers and the crate's types, as the parent module sees them.
use super::*;

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    match cmd.cmd {
        Cmd::LPush | Cmd::RPush => l_push(ex, cmd),
        Cmd::LPop | Cmd::RPop => l_pop(ex, cmd),
        Cmd::LInsert => l_insert(ex, cmd),
        Cmd::LRange => l_range(ex, cmd),
        Cmd::LLen => Ok(Reply::Int(
            ex.typed(k, KeyType::List)?
                .and_then(|e| e.list())
                .map(|l| l.len() as i64)
                .unwrap_or(0),
        )),
        Cmd::LRem => l_rem(ex, cmd),
        Cmd::LSet => l_set(ex, cmd),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// `LPUSH `, `RPUSH`.
fn l_push(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let e = ex.typed(k, KeyType::List)?;
    let len = e.and_then(|e| e.list()).map(|l| l.len()).unwrap_or(0);
    let last = e.and_then(|e| e.list()).and_then(|l| l.last_id());
    let (lamport, seq) = next_element(ex, k);
    let mut inserts = Vec::new();
    let mut anchor = if cmd.cmd == Cmd::LPush { None } else { last };
    for (i, v) in a[1..].iter().enumerate() {
        let id = ElemId {
            lamport: lamport + i as u64,
            origin: ex.cx.origin,
            seq,
            index: i as u32,
        };
        inserts.push(Insert {
            id,
            anchor,
            value: v.clone(),
        });
        if cmd.cmd == Cmd::RPush {
            anchor = Some(id);
        }
    }
    let n = inserts.len();
    ex.emit(k, OpKind::LInsert(inserts));
    Ok(Reply::Int((len + n) as i64))
}

/// `LPOP `, `RPOP`.
fn l_pop(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let count = match a.get(1) {
        None => None,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Err(Reply::err("ERR value is out of range, must be positive")),
        },
    };
    let Some(list) = ex.typed(k, KeyType::List)?.and_then(|e| e.list()) else {
        return Ok(Reply::Nil);
    };
    let live: Vec<(ElemId, Value)> = list.live().map(|e| (e.id, e.value.clone())).collect();
    let take = count.unwrap_or(1).min(live.len());
    let picked: Vec<(ElemId, Value)> = if cmd.cmd == Cmd::LPop {
        live[..take].to_vec()
    } else {
        live[live.len() - take..].iter().rev().cloned().collect()
    };
    if !picked.is_empty() {
        ex.emit(k, OpKind::LRem(picked.iter().map(|(id, _)| *id).collect()));
    }
    Ok(match count {
        None => picked
            .first()
            .map(|(_, v)| Reply::Bulk(v.to_bytes()))
            .unwrap_or(Reply::Nil),
        Some(_) => Reply::Array(
            picked
                .into_iter()
                .map(|(_, v)| Reply::Bulk(v.to_bytes()))
                .collect(),
        ),
    })
}

/// `LINSERT`.
fn l_insert(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let where_ = upper(&a[1]);
    if where_ != "BEFORE" && where_ != "AFTER" {
        return Err(Reply::err(SYNTAX));
    }
    let pivot = a[2].to_bytes();
    let Some(list) = ex.typed(k, KeyType::List)?.and_then(|e| e.list()) else {
        return Ok(Reply::Int(0));
    };
    let Some(p) = list
        .live()
        .find(|e| e.value.to_bytes() == pivot)
        .map(|e| e.id)
    else {
        return Ok(Reply::Int(-1));
    };
    let anchor = if where_ == "AFTER" {
        Some(p)
    } else {
        list.predecessor(p)
    };
    let len = list.len();
    let (lamport, seq) = next_element(ex, k);
    let id = ElemId {
        lamport,
        origin: ex.cx.origin,
        seq,
        index: 0,
    };
    ex.emit(
        k,
        OpKind::LInsert(vec![Insert {
            id,
            anchor,
            value: a[3].clone(),
        }]),
    );
    Ok(Reply::Int(len as i64 + 1))
}

/// `LRANGE`.
fn l_range(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let start = int_arg(&a[1])?;
    let stop = int_arg(&a[2])?;
    let values: Vec<Value> = ex
        .typed(k, KeyType::List)?
        .and_then(|e| e.list())
        .map(|l| l.live().map(|e| e.value.clone()).collect())
        .unwrap_or_default();
    Ok(Reply::Array(match range(start, stop, values.len()) {
        Some((s, e)) => values[s..=e]
            .iter()
            .map(|v| Reply::Bulk(v.to_bytes()))
            .collect(),
        None => vec![],
    }))
}

/// `LREM`.
fn l_rem(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let count = int_arg(&a[1])?;
    let target = a[2].to_bytes();
    let Some(list) = ex.typed(k, KeyType::List)?.and_then(|e| e.list()) else {
        return Ok(Reply::Int(0));
    };
    let mut matches: Vec<ElemId> = list
        .live()
        .filter(|e| e.value.to_bytes() == target)
        .map(|e| e.id)
        .collect();
    if count < 0 {
        matches.reverse();
    }
    if count != 0 {
        matches.truncate(count.unsigned_abs() as usize);
    }
    let n = matches.len() as i64;
    if n > 0 {
        ex.emit(k, OpKind::LRem(matches));
    }
    Ok(Reply::Int(n))
}

/// `LSET`.
fn l_set(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let index = int_arg(&a[1])?;
    let Some(list) = ex.typed(k, KeyType::List)?.and_then(|e| e.list()) else {
        return Err(Reply::err("ERR no such key"));
    };
    let live: Vec<ElemId> = list.live().map(|e| e.id).collect();
    let i = if index < 0 {
        live.len() as i64 + index
    } else {
        index
    };
    if i < 0 || i >= live.len() as i64 {
        return Err(Reply::err("ERR index out of range"));
    }
    ex.emit(
        k,
        OpKind::LSet {
            id: live[i as usize],
            value: a[2].clone(),
        },
    );
    Ok(Reply::ok())
}

/// The Lamport stamp and the origin's next sequence number for elements this instance
/// inserts into list `k` now (an element's id is made of them).
pub(super) fn next_element(ex: &Exec, k: &[u8]) -> (u64, u64) {
    let lamport = ex.ks.next_lamport(k);
    let seq = ex
        .ks
        .prepare(k, ex.cx.origin, 0, OpKind::LRem(vec![]))
        .dot
        .seq;
    (lamport, seq)
}
