//! Set commands (`SADD`, `SREM`, `SMEMBERS`, `SISMEMBER`, `SCARD`).

// The executor's helpers and the crate's types, as the parent module sees them.
use super::*;

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    match cmd.cmd {
        Cmd::SAdd => s_add(ex, cmd),
        Cmd::SRem => s_rem(ex, cmd),
        Cmd::SMembers => Ok(Reply::Array(
            ex.typed(k, KeyType::Set)?
                .map(|e| e.set_members())
                .unwrap_or_default()
                .into_iter()
                .map(Reply::Bulk)
                .collect(),
        )),
        Cmd::SIsMember => Ok(Reply::Int(
            ex.typed(k, KeyType::Set)?
                .is_some_and(|e| e.set_members().contains(&a[1].to_bytes())) as i64,
        )),
        Cmd::SCard => Ok(Reply::Int(
            ex.typed(k, KeyType::Set)?
                .map(|e| e.set_members().len() as i64)
                .unwrap_or(0),
        )),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// `SADD`.
fn s_add(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let e = ex.typed(k, KeyType::Set)?;
    let current = e.map(|e| e.set_members()).unwrap_or_default();
    // Every member is added again, present or not: a re-add is a new add that a
    // concurrent SREM has not observed, so it survives it (add wins [SET]). The reply
    // counts the members that were not there.
    let mut all: Vec<Bytes> = Vec::new();
    for m in &a[1..] {
        let m = m.to_bytes();
        if !all.contains(&m) {
            all.push(m);
        }
    }
    let n = all.iter().filter(|m| !current.contains(m)).count() as i64;
    ex.emit(k, OpKind::SAdd(all));
    Ok(Reply::Int(n))
}

/// `SREM`.
fn s_rem(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let current = ex
        .typed(k, KeyType::Set)?
        .map(|e| e.set_members())
        .unwrap_or_default();
    let mut gone: Vec<Bytes> = Vec::new();
    for m in &a[1..] {
        let m = m.to_bytes();
        if current.contains(&m) && !gone.contains(&m) {
            gone.push(m);
        }
    }
    let n = gone.len() as i64;
    if n > 0 {
        ex.emit(k, OpKind::SRem(gone));
    }
    Ok(Reply::Int(n))
}
