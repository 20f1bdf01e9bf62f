//! String commands: `GET`, `MGET`, `GETRANGE`, `STRLEN`, `SET` and its variants (`SETNX`,
//! `GETSET`, `SETEX`, `PSETEX`, `MSET`, `MSETNX`), `GETDEL`, `GETEX`, `APPEND`, `SETRANGE`, the
//! counters (`INCR`, `DECR`, `INCRBY`, `DECRBY`, `INCRBYFLOAT`).

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
        Cmd::Set | Cmd::SetNx | Cmd::GetSet | Cmd::SetEx | Cmd::PSetEx => set(ex, cmd),
        Cmd::MSet | Cmd::MSetNx => mset(ex, cmd),
        Cmd::GetRange => getrange(ex, cmd),
        Cmd::GetDel => getdel(ex, cmd),
        Cmd::GetEx => getex(ex, cmd),
        Cmd::MGet => mget(ex, cmd),
        Cmd::Append | Cmd::SetRange => append(ex, cmd),
        Cmd::Incr | Cmd::Decr | Cmd::IncrBy | Cmd::DecrBy => incr(ex, cmd),
        Cmd::IncrByFloat => incr_by_float(ex, cmd),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// How a string write treats the key's TTL.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ttl {
    /// Clear the TTL this instance observed (a TTL set concurrently elsewhere stays).
    Clear,
    /// `KEEPTTL`.
    Keep,
    /// Expire at this time (ms by the instance's clock).
    At(u64),
}

/// Writes `value` at `k` as `SET` does: a value of another type is deleted first, then the
/// value is written, then the TTL is set, kept, or cleared.
fn write_string(ex: &mut Exec, k: &[u8], value: &Value, ttl: Ttl) {
    let entry = ex.view(k);
    let had_ttl = matches!(entry.and_then(|e| e.expiry()), Some((Expiry::At(_), _)));
    let other_type = entry.is_some_and(|e| e.key_type() != Some(KeyType::String));
    let observed = entry
        .map(|e| e.string.observed_totals())
        .unwrap_or_default();
    if other_type {
        // SET replaces a value of any type: the old one is deleted first.
        ex.emit_del(k, Some(0));
    }
    ex.emit(
        k,
        OpKind::Set {
            value: value.clone(),
            observed,
        },
    );
    match ttl {
        Ttl::At(at) => ex.emit(k, OpKind::Expire(Expiry::At(at))),
        Ttl::Clear if had_ttl => ex.emit(k, OpKind::Expire(Expiry::Persist)),
        _ => {}
    }
}

/// Writes an HLL-encoded value at `k` as `SET` does on Active-Active [HLL]: the key is (or
/// stays) a HyperLogLog holding exactly `regs` (what it held is deleted first, as observed),
/// and the TTL set, kept or cleared.
fn write_hll(ex: &mut Exec, k: &[u8], regs: &[u8; REGISTERS], ttl: Ttl) {
    let old_ttl = match ex.view(k).and_then(|e| e.expiry()) {
        Some((Expiry::At(t), _)) => Some(t),
        _ => None,
    };
    if ex.view(k).is_some() {
        ex.emit_del(k, Some(0));
    }
    let set: Vec<(u16, u8)> = regs
        .iter()
        .enumerate()
        .filter(|(_, r)| **r > 0)
        .map(|(i, r)| (i as u16, *r))
        .collect();
    ex.emit(k, OpKind::PfAdd(set));
    match (ttl, old_ttl) {
        (Ttl::At(at), _) | (Ttl::Keep, Some(at)) => ex.emit(k, OpKind::Expire(Expiry::At(at))),
        _ => {}
    }
}

/// The options `SET` and `GETEX` take, as Redis parses them: `NX`, `XX`, `GET`, `KEEPTTL`
/// (`SET` only), `PERSIST` (`GETEX` only), and one of `EX`/`PX`/`EXAT`/`PXAT` with its
/// argument (the same one repeated: the last counts).
#[derive(Default)]
struct Options<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(&'static str, &'a Value)>,
}

fn options<'a>(words: &'a [Value], for_set: bool) -> Result<Options<'a>, Reply> {
    let mut o = Options::default();
    let mut i = 0;
    while i < words.len() {
        let next = words.get(i + 1);
        let unit = o.expire.map(|(u, _)| u);
        let word = upper(&words[i]);
        match word.as_str() {
            "NX" if for_set && !o.xx => o.nx = true,
            "XX" if for_set && !o.nx => o.xx = true,
            "GET" if for_set => o.get = true,
            "KEEPTTL" if for_set && unit.is_none() => o.keepttl = true,
            "PERSIST" if !for_set && unit.is_none() => o.persist = true,
            u @ ("EX" | "PX" | "EXAT" | "PXAT")
                if !o.keepttl && !o.persist && unit.is_none_or(|x| x == u) && next.is_some() =>
            {
                let u = match u {
                    "EX" => "EX",
                    "PX" => "PX",
                    "EXAT" => "EXAT",
                    _ => "PXAT",
                };
                o.expire = Some((u, &words[i + 1]));
                i += 1;
            }
            _ => return Err(Reply::err(SYNTAX)),
        }
        i += 1;
    }
    Ok(o)
}

/// The absolute expiry time of `EX`/`PX`/`EXAT`/`PXAT n` (ms by the instance's clock), checked
/// as Redis checks it (a positive integer, no overflow) and against Active-Active's bound on a
/// TTL (at most 2^49 ms from now); `name` is the command in the error.
fn expire_at(ex: &Exec, unit: &str, arg: &Value, name: &str) -> Result<u64, Reply> {
    let n = int_arg(arg)?;
    let invalid = || Reply::err(format!("ERR invalid expire time in '{name}' command"));
    if n <= 0 {
        return Err(invalid());
    }
    let ms = if unit == "EX" || unit == "EXAT" {
        n.checked_mul(1000).ok_or_else(invalid)?
    } else {
        n
    };
    let now = ex.cx.now_ms as i64;
    let (at, ttl) = if unit == "EX" || unit == "PX" {
        (now.checked_add(ms).ok_or_else(invalid)?, ms)
    } else {
        (ms, ms - now)
    };
    if ttl > TTL_MAX_MS {
        return Err(invalid());
    }
    Ok(at as u64)
}

/// The string value of `k` for a command that reads it (`GET`-like): `None` when missing,
/// `WRONGTYPE` for another type.
fn string_of(ex: &Exec, k: &[u8]) -> Result<Option<Value>, Reply> {
    Ok(ex
        .typed(k, KeyType::String)?
        .map(|e| e.string_value().expect("live string")))
}

/// `SET `, `SETNX `, `GETSET`, `SETEX`, `PSETEX`.
fn set(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let name = cmd.name.to_ascii_lowercase();
    let (value, o) = match cmd.cmd {
        Cmd::Set => (&a[1], options(&a[2..], true)?),
        Cmd::SetNx => (
            &a[1],
            Options {
                nx: true,
                ..Options::default()
            },
        ),
        Cmd::GetSet => (
            &a[1],
            Options {
                get: true,
                ..Options::default()
            },
        ),
        // SETEX key seconds value, PSETEX key milliseconds value.
        _ => (
            &a[2],
            Options {
                expire: Some((if cmd.cmd == Cmd::SetEx { "EX" } else { "PX" }, &a[1])),
                ..Options::default()
            },
        ),
    };
    // Redis checks the expiry first, then the old value's type (GET), then NX/XX.
    let at = match o.expire {
        Some((unit, arg)) => Some((unit, expire_at(ex, unit, arg, &name)?)),
        None => None,
    };
    let old = if o.get { string_of(ex, k)? } else { None };
    let exists = ex.view(k).is_some();
    let skip = (o.nx && exists) || (o.xx && !exists);
    if !skip {
        // As Redis 7 propagates it (measured against 7.0): any expiry as `SET k v PXAT ms`
        // (absolute, without `NX`, `XX` or `GET`), `GETSET` as `SET`, and without `GET`.
        let v = value.to_bytes();
        match at {
            Some((_, at)) => {
                let at = at.to_string();
                ex.propagate_as(&[b"SET", k, &v, b"PXAT", at.as_bytes()]);
            }
            None if cmd.cmd == Cmd::GetSet => ex.propagate_as(&[b"SET", k, &v]),
            None if o.get => {
                let words: Vec<Bytes> = std::iter::once(b"SET".to_vec())
                    .chain(a.iter().filter(|w| upper(w) != "GET").map(|w| w.to_bytes()))
                    .collect();
                let words: Vec<&[u8]> = words.iter().map(|w| &w[..]).collect();
                ex.propagate_as(&words);
            }
            None => {}
        }
        let ttl = match at {
            Some((_, at)) => Ttl::At(at),
            None if o.keepttl => Ttl::Keep,
            None => Ttl::Clear,
        };
        // Active-Active keeps a key an HLL when SET writes an HLL-encoded value [HLL].
        match hll::decode(&v) {
            Some(regs) if cmd.cmd == Cmd::Set => write_hll(ex, k, &regs, ttl),
            _ => write_string(ex, k, value, ttl),
        }
    }
    Ok(match (cmd.cmd, o.get) {
        (Cmd::SetNx, _) => Reply::Int(if skip { 0 } else { 1 }),
        (_, true) => old.map(|v| Reply::Bulk(v.to_bytes())).unwrap_or(Reply::Nil),
        _ if skip => Reply::Nil,
        _ => Reply::ok(),
    })
}

/// `MSET`, `MSETNX`: every key written as a plain `SET` (its TTL cleared), or with `MSETNX`
/// none when any exists.
fn mset(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    if a.len() % 2 == 1 {
        return Err(Reply::err(format!(
            "ERR wrong number of arguments for '{}' command",
            cmd.name.to_ascii_lowercase()
        )));
    }
    let nx = cmd.cmd == Cmd::MSetNx;
    if nx && a.chunks(2).any(|kv| ex.view(&kv[0].bytes()).is_some()) {
        return Ok(Reply::Int(0));
    }
    for kv in a.chunks(2) {
        write_string(ex, &kv[0].bytes(), &kv[1], Ttl::Clear);
    }
    Ok(if nx { Reply::Int(1) } else { Reply::ok() })
}

/// `GETRANGE key start end` (and its old name `SUBSTR`).
fn getrange(ex: &Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let (mut start, mut end) = (int_arg(&a[1])?, int_arg(&a[2])?);
    let v = string_of(ex, &a[0].bytes())?
        .map(|v| v.to_bytes())
        .unwrap_or_default();
    let len = v.len() as i64;
    // Redis's own index rules, in its order.
    if start < 0 && end < 0 && start > end {
        return Ok(Reply::bulk(""));
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0).min(len - 1);
    if start > end || len == 0 {
        return Ok(Reply::bulk(""));
    }
    Ok(Reply::bulk(&v[start as usize..=end as usize]))
}

/// `GETDEL`: the value, and the key deleted (replicated as `DEL`).
fn getdel(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let key = cmd.args[0].bytes();
    let k = &key[..];
    let Some(v) = string_of(ex, k)? else {
        return Ok(Reply::Nil);
    };
    ex.propagate_as(&[b"DEL", k]);
    ex.emit_del(k, None);
    Ok(Reply::Bulk(v.to_bytes()))
}

/// `GETEX key [EX|PX|EXAT|PXAT n | PERSIST]`: the value, and its TTL changed as asked
/// (replicated as `PEXPIREAT`, `PERSIST`, or `DEL` for a time already past).
fn getex(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let o = options(&a[1..], false)?;
    let Some(v) = string_of(ex, k)? else {
        return Ok(Reply::Nil);
    };
    let at = match o.expire {
        Some((unit, arg)) => Some((unit, expire_at(ex, unit, arg, "getex")?)),
        None => None,
    };
    match at {
        Some((unit, at)) if (unit == "EXAT" || unit == "PXAT") && at <= ex.cx.now_ms => {
            ex.propagate_as(&[b"DEL", k]);
            ex.emit_del(k, None);
        }
        Some((_, at)) => {
            let at = at.to_string();
            ex.propagate_as(&[b"PEXPIREAT", k, at.as_bytes()]);
            ex.emit(k, OpKind::Expire(Expiry::At(at.parse().expect("a number"))));
        }
        None if o.persist => {
            if matches!(
                ex.view(k).and_then(|e| e.expiry()),
                Some((Expiry::At(_), _))
            ) {
                ex.propagate_as(&[b"PERSIST", k]);
                ex.emit(k, OpKind::Expire(Expiry::Persist));
            }
        }
        None => {}
    }
    Ok(Reply::Bulk(v.to_bytes()))
}

/// `MGET`: each key's string value, nil for a missing key or one of another type.
fn mget(ex: &Exec, cmd: &Command) -> Result<Reply, Reply> {
    let mut out = Vec::with_capacity(cmd.args.len());
    for key in cmd.keys() {
        out.push(match ex.view(&key) {
            Some(e) if e.key_type() == Some(KeyType::String) => {
                Reply::Bulk(e.string_value().expect("live string").to_bytes())
            }
            Some(e) if e.key_type() == Some(KeyType::Hll) => {
                return Err(Reply::err(
                    "ERR geosim does not materialise HyperLogLog encodings; use PFCOUNT",
                ));
            }
            _ => Reply::Nil,
        });
    }
    Ok(Reply::Array(out))
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
