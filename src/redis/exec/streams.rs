//! Stream commands (`XADD`, `XRANGE`, `XLEN`, `XDEL`).

// The executor's helpers and the crate's types, as the parent module sees them.
use super::*;

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    match cmd.cmd {
        Cmd::XAdd => x_add(ex, cmd),
        Cmd::XRange => x_range(ex, cmd),
        Cmd::XLen => Ok(Reply::Int(
            ex.typed(k, KeyType::Stream)?
                .and_then(|e| e.stream())
                .map(|s| s.len() as i64)
                .unwrap_or(0),
        )),
        Cmd::XDel => x_del(ex, cmd),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// `XADD`.
fn x_add(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    if !(a.len() - 2).is_multiple_of(2) {
        return Err(Reply::err(
            "ERR wrong number of arguments for 'xadd' command",
        ));
    }
    let stream = ex.typed(k, KeyType::Stream)?.and_then(|e| e.stream());
    let top = stream.map(|s| s.top()).unwrap_or_default();
    let spec = a[1].to_bytes();
    let mode = ex.cx.xadd_mode;
    let region = region_number(ex.cx.origin);
    let fresh = crate::crdt::stream::StreamCrdt::default();
    let s = stream.unwrap_or(&fresh);
    let id = if spec == b"*" {
        s.next_id(ex.cx.now_ms, None, region, mode)
    } else {
        let Some((ms, seq)) = StreamId::parse(&spec) else {
            return Err(Reply::err(
                "ERR Invalid stream ID specified as stream command argument",
            ));
        };
        match (seq, mode) {
            (None, _) => s.next_id(ex.cx.now_ms, Some(ms), region, mode),
            (Some(_), XaddIdMode::Strict) => {
                return Err(Reply::err(
                    "ERR full stream IDs (ms-seq) are not allowed in strict mode (crdt_xadd_id_uniqueness_mode): use * or a millisecond ID",
                ));
            }
            (Some(seq), _) => StreamId { ms, seq },
        }
    };
    if id == StreamId::default() {
        return Err(Reply::err(
            "ERR The ID specified in XADD must be greater than 0-0",
        ));
    }
    if id <= top {
        return Err(Reply::err(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item",
        ));
    }
    let fields = a[2..]
        .chunks(2)
        .map(|p| (p[0].to_bytes(), p[1].to_bytes()))
        .collect();
    ex.emit(k, OpKind::XAdd { id, fields });
    Ok(Reply::bulk(id.to_string()))
}

/// `XRANGE`.
fn x_range(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let bound = |v: &Value, low: bool| -> Result<StreamId, Reply> {
        let b = v.to_bytes();
        match &b[..] {
            b"-" => Ok(StreamId { ms: 0, seq: 0 }),
            b"+" => Ok(StreamId {
                ms: u64::MAX,
                seq: u64::MAX,
            }),
            _ => match StreamId::parse(&b) {
                Some((ms, Some(seq))) => Ok(StreamId { ms, seq }),
                Some((ms, None)) => Ok(StreamId {
                    ms,
                    seq: if low { 0 } else { u64::MAX },
                }),
                None => Err(Reply::err(
                    "ERR Invalid stream ID specified as stream command argument",
                )),
            },
        }
    };
    let lo = bound(&a[1], true)?;
    let hi = bound(&a[2], false)?;
    let count = match a.get(3) {
        None => usize::MAX,
        Some(v) if upper(v) == "COUNT" && a.len() == 5 => match a[4].as_i64() {
            Some(n) if n >= 0 => n as usize,
            _ => return Err(Reply::err(NOT_INT)),
        },
        Some(_) => return Err(Reply::err(SYNTAX)),
    };
    let out = ex
        .typed(k, KeyType::Stream)?
        .and_then(|e| e.stream())
        .map(|s| {
            s.live()
                .filter(|e| e.id >= lo && e.id <= hi)
                .take(count)
                .map(|e| {
                    Reply::Array(vec![
                        Reply::bulk(e.id.to_string()),
                        Reply::Array(
                            e.fields
                                .iter()
                                .flat_map(|(f, v)| [Reply::Bulk(f.clone()), Reply::Bulk(v.clone())])
                                .collect(),
                        ),
                    ])
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Reply::Array(out))
}

/// `XDEL`.
fn x_del(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let mut ids = Vec::new();
    for v in &a[1..] {
        match StreamId::parse(&v.to_bytes()) {
            Some((ms, seq)) => ids.push(StreamId {
                ms,
                seq: seq.unwrap_or(0),
            }),
            None => {
                return Err(Reply::err(
                    "ERR Invalid stream ID specified as stream command argument",
                ));
            }
        }
    }
    let Some(s) = ex.typed(k, KeyType::Stream)?.and_then(|e| e.stream()) else {
        return Ok(Reply::Int(0));
    };
    let dots: Vec<_> = s
        .live()
        .filter(|e| ids.contains(&e.id))
        .map(|e| e.dot)
        .collect();
    let n = dots.len() as i64;
    if n > 0 {
        ex.emit(k, OpKind::XDel(dots));
    }
    Ok(Reply::Int(n))
}
