//! Sorted-set commands (`ZADD`, `ZINCRBY`, `ZREM`, `ZSCORE`, `ZRANGE`, `ZCARD`).

// The executor's helpers and the crate's types, as the parent module sees them.
use super::*;

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    match cmd.cmd {
        Cmd::ZAdd => z_add(ex, cmd),
        Cmd::ZIncrBy => z_incr_by(ex, cmd),
        Cmd::ZRem => z_rem(ex, cmd),
        Cmd::ZScore => Ok(ex
            .typed(k, KeyType::ZSet)?
            .and_then(|e| e.zscore(&a[1].to_bytes()))
            .map(|s| Reply::bulk(format_float(s)))
            .unwrap_or(Reply::Nil)),
        Cmd::ZRange => z_range(ex, cmd),
        Cmd::ZCard => Ok(Reply::Int(
            ex.typed(k, KeyType::ZSet)?
                .map(|e| e.zset_members().len() as i64)
                .unwrap_or(0),
        )),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// `ZADD`.
fn z_add(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut i = 1;
    while i < a.len() {
        match upper(&a[i]).as_str() {
            "NX" => nx = true,
            "XX" => xx = true,
            "CH" => ch = true,
            _ => break,
        }
        i += 1;
    }
    let pairs = &a[i..];
    if nx && xx {
        return Err(Reply::err(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(Reply::err(SYNTAX));
    }
    // Every score is read before the key (Redis answers a bad score first).
    for p in pairs.chunks(2) {
        float_arg(&p[0])?;
    }
    let e = ex.typed(k, KeyType::ZSet)?;
    let mut members: Vec<(Bytes, f64, _)> = Vec::new();
    let (mut added, mut changed) = (0, 0);
    for p in pairs.chunks(2) {
        let score = float_arg(&p[0])?;
        let m = p[1].to_bytes();
        // A member named twice is added once: the pairs apply one after another.
        let cur = match members.iter().find(|(x, _, _)| *x == m) {
            Some((_, s, _)) => Some(*s),
            None => e.and_then(|e| e.zscore(&m)),
        };
        if (nx && cur.is_some()) || (xx && cur.is_none()) {
            continue;
        }
        match cur {
            None => added += 1,
            Some(s) if s != score => changed += 1,
            Some(_) => continue,
        }
        let observed = e
            .and_then(|e| e.zset_scalar(&m))
            .map(|s| s.observed_totals())
            .unwrap_or_default();
        members.retain(|(x, _, _)| *x != m);
        members.push((m, score, observed));
    }
    if !members.is_empty() {
        ex.emit(k, OpKind::ZAdd(members));
    }
    Ok(Reply::Int(if ch { added + changed } else { added }))
}

/// `ZINCRBY`.
fn z_incr_by(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let by = float_arg(&a[1])?;
    let m = a[2].to_bytes();
    let cur = ex.typed(k, KeyType::ZSet)?.and_then(|e| e.zscore(&m));
    let next = cur.unwrap_or(0.0) + by;
    if next.is_nan() {
        return Err(Reply::err("ERR resulting score is not a number (NaN)"));
    }
    ex.emit(k, OpKind::ZIncr { member: m, by });
    Ok(Reply::bulk(format_float(next)))
}

/// `ZREM`.
fn z_rem(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let Some(e) = ex.typed(k, KeyType::ZSet)? else {
        return Ok(Reply::Int(0));
    };
    let mut gone: Vec<(Bytes, _)> = Vec::new();
    for m in &a[1..] {
        let m = m.to_bytes();
        if e.zscore(&m).is_some() && !gone.iter().any(|(x, _)| *x == m) {
            let observed = e
                .zset_scalar(&m)
                .map(|s| s.observed_totals())
                .unwrap_or_default();
            gone.push((m, observed));
        }
    }
    let n = gone.len() as i64;
    if n > 0 {
        ex.emit(k, OpKind::ZRem(gone));
    }
    Ok(Reply::Int(n))
}

/// `ZRANGE`.
fn z_range(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let start = int_arg(&a[1])?;
    let stop = int_arg(&a[2])?;
    let with = match a.get(3) {
        None => false,
        Some(v) if upper(v) == "WITHSCORES" && a.len() == 4 => true,
        Some(_) => return Err(Reply::err(SYNTAX)),
    };
    let members = ex
        .typed(k, KeyType::ZSet)?
        .map(|e| e.zset_members())
        .unwrap_or_default();
    let mut out = Vec::new();
    if let Some((s, e)) = range(start, stop, members.len()) {
        for (m, score) in &members[s..=e] {
            out.push(Reply::Bulk(m.clone()));
            if with {
                out.push(Reply::bulk(format_float(*score)));
            }
        }
    }
    Ok(Reply::Array(out))
}
