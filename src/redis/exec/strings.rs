//! String commands: `GET`, `STRLEN`, `SET` and its variants, `APPEND`, `SETRANGE`, the counters (`INCR`, `DECR`, `INCRBY`, `DECRBY`, `INCRBYFLOAT`).

// The executor's helpers and the crate's types, as the parent module sees them.
use super::*;

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    match cmd.cmd {
        Cmd::Get => match ex.view(k) {
            None => Ok(Reply::Nil),
            Some(e) => match e.key_type() {
                Some(KeyType::String) => Ok(Reply::Bulk(
                    e.string_value().expect("live string").to_bytes(),
                )),
                Some(KeyType::Hll) => Err(Reply::err(
                    "ERR geosim does not materialise HyperLogLog encodings; use PFCOUNT",
                )),
                _ => Err(Reply::wrongtype()),
            },
        },
        Cmd::Strlen => Ok(Reply::Int(
            ex.typed(k, KeyType::String)?
                .and_then(|e| e.string_value())
                .map(|v| v.len() as i64)
                .unwrap_or(0),
        )),
        Cmd::Set | Cmd::SetNx | Cmd::GetSet => set(ex, cmd),
        Cmd::Append | Cmd::SetRange => append(ex, cmd),
        Cmd::Incr | Cmd::Decr | Cmd::IncrBy | Cmd::DecrBy => incr(ex, cmd),
        Cmd::IncrByFloat => incr_by_float(ex, cmd),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// `SET `, `SETNX `, `GETSET`.
fn set(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let (mut nx, mut xx, mut get, mut keepttl) = (cmd.cmd == Cmd::SetNx, false, false, false);
    let mut ttl_ms: Option<i64> = None;
    if cmd.cmd == Cmd::GetSet {
        get = true;
    }
    let mut i = 2;
    while cmd.cmd == Cmd::Set && i < a.len() {
        match upper(&a[i]).as_str() {
            "NX" if !xx => nx = true,
            "XX" if !nx => xx = true,
            "GET" => get = true,
            "KEEPTTL" if ttl_ms.is_none() => keepttl = true,
            unit @ ("EX" | "PX") if ttl_ms.is_none() && !keepttl && i + 1 < a.len() => {
                let n = int_arg(&a[i + 1])?;
                let ms = if unit == "EX" {
                    n.checked_mul(1000)
                } else {
                    Some(n)
                };
                match ms {
                    Some(ms) if ms > 0 && ms <= TTL_MAX_MS => ttl_ms = Some(ms),
                    _ => {
                        return Err(Reply::err("ERR invalid expire time in 'set' command"));
                    }
                }
                i += 1;
            }
            _ => return Err(Reply::err(SYNTAX)),
        }
        i += 1;
    }
    let entry = ex.view(k);
    let exists = entry.is_some();
    let old = match entry {
        Some(e) if get => match e.key_type() {
            Some(KeyType::String) => Some(e.string_value().expect("live string")),
            _ => return Err(Reply::wrongtype()),
        },
        _ => None,
    };
    let had_ttl = matches!(entry.and_then(|e| e.expiry()), Some((Expiry::At(_), _)));
    let other_type = entry.is_some_and(|e| e.key_type() != Some(KeyType::String));
    let observed = entry
        .map(|e| e.string.observed_totals())
        .unwrap_or_default();
    let skip = (nx && exists) || (xx && !exists);
    if !skip {
        // As Redis 7 propagates it: an expiry as an absolute `PXAT`, `GETSET` as `SET`,
        // and without `GET`.
        let value = a[1].to_bytes();
        if let Some(ms) = ttl_ms {
            let at = ex.cx.now_ms.saturating_add(ms as u64).to_string();
            ex.propagate_as(&[b"SET", k, &value, b"PXAT", at.as_bytes()]);
        } else if cmd.cmd == Cmd::GetSet {
            ex.propagate_as(&[b"SET", k, &value]);
        } else if get {
            let words: Vec<Bytes> = std::iter::once(b"SET".to_vec())
                .chain(a.iter().filter(|w| upper(w) != "GET").map(|w| w.to_bytes()))
                .collect();
            let words: Vec<&[u8]> = words.iter().map(|w| &w[..]).collect();
            ex.propagate_as(&words);
        }
        if other_type {
            // SET replaces a value of any type: the old one is deleted first.
            ex.emit_del(k, Some(0));
        }
        ex.emit(
            k,
            OpKind::Set {
                value: a[1].clone(),
                observed,
            },
        );
        if let Some(ms) = ttl_ms {
            let at = ex.cx.now_ms.saturating_add(ms as u64);
            ex.emit(k, OpKind::Expire(Expiry::At(at)));
        } else if had_ttl && !keepttl {
            ex.emit(k, OpKind::Expire(Expiry::Persist));
        }
    }
    Ok(match (cmd.cmd, get) {
        (Cmd::SetNx, _) => Reply::Int(if skip { 0 } else { 1 }),
        (_, true) => old.map(|v| Reply::Bulk(v.to_bytes())).unwrap_or(Reply::Nil),
        _ if skip => Reply::Nil,
        _ => Reply::ok(),
    })
}

/// `APPEND `, `SETRANGE`.
fn append(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let e = ex.typed(k, KeyType::String)?;
    let mut cur = e
        .and_then(|e| e.string_value())
        .map(|v| v.to_bytes())
        .unwrap_or_default();
    let observed = e.map(|e| e.string.observed_totals()).unwrap_or_default();
    let exists = e.is_some();
    if cmd.cmd == Cmd::Append {
        cur.extend_from_slice(&a[1].to_bytes());
    } else {
        let off = int_arg(&a[1])?;
        if off < 0 {
            return Err(Reply::err("ERR offset is out of range"));
        }
        let v = a[2].to_bytes();
        if v.is_empty() {
            return Ok(Reply::Int(cur.len() as i64));
        }
        let end = off as usize + v.len();
        if end > MAX_STRING {
            return Err(Reply::err(
                "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
            ));
        }
        if cur.len() < end {
            cur.resize(end, 0);
        }
        cur[off as usize..end].copy_from_slice(&v);
    }
    if cur.len() > MAX_STRING {
        return Err(Reply::err(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    let len = cur.len() as i64;
    // APPEND creates the key even with nothing to append, and Redis always propagates it.
    if exists || len > 0 || cmd.cmd == Cmd::Append {
        ex.emit(
            k,
            OpKind::Set {
                value: Value::Bytes(cur.into_boxed_slice()),
                observed,
            },
        );
    }
    Ok(Reply::Int(len))
}

/// `INCR `, `DECR `, `INCRBY `, `DECRBY`.
fn incr(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let by = match cmd.cmd {
        Cmd::Incr => 1,
        Cmd::Decr => -1,
        Cmd::IncrBy => int_arg(&a[1])?,
        _ => int_arg(&a[1])?
            .checked_neg()
            .ok_or_else(|| Reply::err("ERR decrement would overflow"))?,
    };
    let current = match ex.typed(k, KeyType::String)? {
        None => 0,
        Some(e) => match e.string_counter() {
            Some(n) => n,
            None => match e.string_value() {
                None => 0,
                Some(v) => int_arg(&v)?,
            },
        },
    };
    let next = check_counter(current, by)?;
    ex.emit(
        k,
        OpKind::Incr {
            int: by,
            float: 0.0,
        },
    );
    Ok(Reply::Int(next))
}

/// `INCRBYFLOAT`.
fn incr_by_float(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    // Redis checks the key's type, then its value, then the increment.
    let current = match ex.typed(k, KeyType::String)?.and_then(|e| e.string_value()) {
        None => 0.0,
        Some(v) => float_arg(&v)?,
    };
    let by = float_arg(&a[1])?;
    let next = current + by;
    if !next.is_finite() || !by.is_finite() {
        return Err(Reply::err("ERR increment would produce NaN or Infinity"));
    }
    let text = format_float(next);
    ex.propagate_as(&[b"SET", k, text.as_bytes(), b"KEEPTTL"]);
    ex.emit(k, OpKind::Incr { int: 0, float: by });
    Ok(Reply::bulk(text))
}
