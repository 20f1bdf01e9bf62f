//! Hash commands (`HSET`, `HGET`, `HGETALL`, `HLEN`, `HEXISTS`, `HDEL`, `HINCRBY`, `HINCRBYFLOAT`).

// The executor's helpers and the crate's types, as the parent module sees them.
use super::*;

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    match cmd.cmd {
        Cmd::HSet => h_set(ex, cmd),
        Cmd::HGet => Ok(ex
            .typed(k, KeyType::Hash)?
            .and_then(|e| e.hash_field(&a[1].to_bytes()))
            .map(|v| Reply::Bulk(v.to_bytes()))
            .unwrap_or(Reply::Nil)),
        Cmd::HGetAll => Ok(Reply::Array(
            ex.typed(k, KeyType::Hash)?
                .map(|e| e.hash_fields())
                .unwrap_or_default()
                .into_iter()
                .flat_map(|(f, v)| [Reply::Bulk(f), Reply::Bulk(v.to_bytes())])
                .collect(),
        )),
        Cmd::HLen => Ok(Reply::Int(
            ex.typed(k, KeyType::Hash)?
                .map(|e| e.hash_fields().len() as i64)
                .unwrap_or(0),
        )),
        Cmd::HExists => Ok(Reply::Int(
            ex.typed(k, KeyType::Hash)?
                .and_then(|e| e.hash_field(&a[1].to_bytes()))
                .is_some() as i64,
        )),
        Cmd::HDel => h_del(ex, cmd),
        Cmd::HIncrBy | Cmd::HIncrByFloat => h_incr_by(ex, cmd),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// `HSET`.
fn h_set(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    if a.len().is_multiple_of(2) {
        return Err(Reply::err(format!(
            "ERR wrong number of arguments for '{}' command",
            cmd.name.to_ascii_lowercase()
        )));
    }
    let e = ex.typed(k, KeyType::Hash)?;
    let mut fields = Vec::new();
    let mut new = 0;
    for pair in a[1..].chunks(2) {
        let f = pair[0].to_bytes();
        if fields.iter().any(|(g, _, _): &(Bytes, Value, _)| *g == f) {
            fields.retain(|(g, _, _)| *g != f);
        } else if e.and_then(|e| e.hash_field(&f)).is_none() {
            new += 1;
        }
        let observed = e
            .and_then(|e| e.hash_scalar(&f))
            .map(|s| s.observed_totals())
            .unwrap_or_default();
        fields.push((f, pair[1].clone(), observed));
    }
    ex.emit(k, OpKind::HSet(fields));
    Ok(if cmd.name == "HMSET" {
        Reply::ok()
    } else {
        Reply::Int(new)
    })
}

/// `HDEL`.
fn h_del(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let Some(e) = ex.typed(k, KeyType::Hash)? else {
        return Ok(Reply::Int(0));
    };
    let mut fields: Vec<(Bytes, _)> = Vec::new();
    for f in &a[1..] {
        let f = f.to_bytes();
        if e.hash_field(&f).is_some() && !fields.iter().any(|(g, _)| *g == f) {
            let observed = e
                .hash_scalar(&f)
                .map(|s| s.observed_totals())
                .unwrap_or_default();
            fields.push((f, observed));
        }
    }
    let n = fields.len() as i64;
    if n > 0 {
        ex.emit(k, OpKind::HDel(fields));
    }
    Ok(Reply::Int(n))
}

/// `HINCRBY `, `HINCRBYFLOAT`.
fn h_incr_by(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let f = a[1].to_bytes();
    // The increment is read before the key (Redis answers a bad increment first).
    if cmd.cmd == Cmd::HIncrBy {
        int_arg(&a[2])?;
    } else {
        float_arg(&a[2])?;
    }
    let current = ex.typed(k, KeyType::Hash)?.and_then(|e| e.hash_field(&f));
    if cmd.cmd == Cmd::HIncrBy {
        let by = int_arg(&a[2])?;
        let cur = match current {
            None => 0,
            Some(v) => v
                .as_i64()
                .ok_or_else(|| Reply::err("ERR hash value is not an integer"))?,
        };
        let next = check_counter(cur, by)?;
        ex.emit(
            k,
            OpKind::HIncr {
                field: f,
                int: by,
                float: 0.0,
            },
        );
        Ok(Reply::Int(next))
    } else {
        let by = float_arg(&a[2])?;
        let cur = match current {
            None => 0.0,
            Some(v) => v
                .as_f64()
                .ok_or_else(|| Reply::err("ERR hash value is not a float"))?,
        };
        let next = cur + by;
        if !next.is_finite() {
            return Err(Reply::err("ERR increment would produce NaN or Infinity"));
        }
        let text = format_float(next);
        ex.propagate_as(&[b"HSET", k, &f, text.as_bytes()]);
        ex.emit(
            k,
            OpKind::HIncr {
                field: f,
                int: 0,
                float: by,
            },
        );
        Ok(Reply::bulk(text))
    }
}
