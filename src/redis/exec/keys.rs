//! Key-space commands of every type (`DEL`, `EXISTS`, `TOUCH`, `TYPE`, `EXPIRE`, `PEXPIRE`, `PERSIST`, `TTL`, `PTTL`).

// The executor's helpers and the crate's types, as the parent module sees them.
use super::*;

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
