//! Stream commands (`XADD`, `XRANGE`, `XREVRANGE`, `XREAD`, `XLEN`, `XDEL`); trimming
//! (`XTRIM`, and `XADD`'s options) is in `stream_trim`, the consumer-group commands in
//! `stream_groups`.

// The executor's helpers and the crate's types, as the parent module sees them.
use super::*;

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    match cmd.cmd {
        Cmd::XAdd => x_add(ex, cmd),
        Cmd::XRange => x_range(ex, cmd, false),
        Cmd::XRevRange => x_range(ex, cmd, true),
        Cmd::XRead => x_read(ex, cmd),
        Cmd::XLen => Ok(Reply::Int(
            ex.typed(k, KeyType::Stream)?
                .and_then(|e| e.stream())
                .map(|s| s.len() as i64)
                .unwrap_or(0),
        )),
        Cmd::XDel => x_del(ex, cmd),
        Cmd::XTrim => super::stream_trim::x_trim(ex, cmd),
        Cmd::XSetId => super::stream_trim::x_setid(ex, cmd),
        Cmd::XGroup
        | Cmd::XReadGroup
        | Cmd::XAck
        | Cmd::XPending
        | Cmd::XClaim
        | Cmd::XAutoClaim
        | Cmd::XInfo => super::stream_groups::run(ex, cmd),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT n]] *|id field value ...`.
fn x_add(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let opts = super::stream_trim::parse(a, true)?;
    let id_at = opts.id_at;
    if a.len() - id_at < 3 || (a.len() - id_at - 1) % 2 == 1 {
        return Err(Reply::err(
            "ERR wrong number of arguments for 'xadd' command",
        ));
    }
    let spec = a[id_at].to_bytes();
    let parsed = if spec[..] == *b"*" {
        None
    } else {
        // `parse` checked it.
        StreamId::parse(&spec)
    };
    if let Some((0, Some(0))) = parsed {
        return Err(Reply::err(
            "ERR The ID specified in XADD must be greater than 0-0",
        ));
    }
    let stream = ex.typed(k, KeyType::Stream)?.and_then(|e| e.stream());
    if stream.is_none() && opts.no_mkstream {
        return Ok(Reply::Nil);
    }
    let top = stream.map(|s| s.top()).unwrap_or_default();
    let mode = ex.cx.xadd_mode;
    let region = region_number(ex.cx.origin);
    let fresh = crate::crdt::stream::StreamCrdt::default();
    let s = stream.unwrap_or(&fresh);
    let id = match parsed {
        None => s.next_id(ex.cx.now_ms, None, region, mode),
        Some((ms, None)) => s.next_id(ex.cx.now_ms, Some(ms), region, mode),
        Some((_, Some(_))) if mode == XaddIdMode::Strict => {
            return Err(Reply::err(
                "ERR full stream IDs (ms-seq) are not allowed in strict mode (crdt_xadd_id_uniqueness_mode): use * or a millisecond ID",
            ));
        }
        Some((ms, Some(seq))) => StreamId { ms, seq },
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
    let fields = a[id_at + 1..]
        .chunks(2)
        .map(|p| (p[0].to_bytes(), p[1].to_bytes()))
        .collect();
    // Redis replicates the ID it made for `*` (a given ID, even millisecond-only, travels as
    // given: measured against Redis 7.0), and an approximate trim as the exact one it made.
    let mut words: Vec<Vec<u8>> = std::iter::once(b"XADD".to_vec())
        .chain(a.iter().map(|v| v.to_bytes().to_vec()))
        .collect();
    let generated = parsed.is_none();
    if generated {
        words[id_at + 1] = id.to_string().into_bytes();
    }
    let at = ex.effects.len();
    ex.emit(k, OpKind::XAdd { id, fields });
    let trimmed = super::stream_trim::trim(ex, k, &opts);
    if generated || (opts.approx && trimmed.is_some()) {
        if let Some(effective) = trimmed.filter(|_| opts.approx) {
            super::stream_trim::rewrite_approx(&mut words, &opts, effective);
        }
        // The XADD's effect took the bytes of the command as sent: recount them.
        let refs: Vec<&[u8]> = words.iter().map(|w| w.as_slice()).collect();
        ex.recharge(at, &refs);
    }
    Ok(Reply::bulk(id.to_string()))
}

pub(super) const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// An interval bound as Redis parses it: `-`, `+`, `ms` (its sequence `missing_seq`) or
/// `ms-seq`, or with a leading `(` an exclusive `ms[-seq]` (never `-` or `+`), returned as
/// the inclusive bound next to it. `start`: the bound is a start (exclusive: the next ID).
pub(super) fn interval_bound(v: &Value, start: bool) -> Result<StreamId, Reply> {
    let b = v.to_bytes();
    let max = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };
    let missing_seq = if start { 0 } else { u64::MAX };
    let parse = |b: &[u8]| match StreamId::parse(b) {
        Some((ms, seq)) => Ok(StreamId {
            ms,
            seq: seq.unwrap_or(missing_seq),
        }),
        None => Err(Reply::err(INVALID_ID)),
    };
    if b.len() > 1 && b[0] == b'(' {
        let id = parse(&b[1..])?;
        let next = if start { id.next() } else { id.prev() };
        return next.ok_or_else(|| {
            Reply::err(if start {
                "ERR invalid start ID for the interval"
            } else {
                "ERR invalid end ID for the interval"
            })
        });
    }
    match &b[..] {
        b"-" => Ok(StreamId::default()),
        b"+" => Ok(max),
        _ => parse(&b),
    }
}

/// An entry as `XRANGE` and `XREAD` reply it: its ID and its field-value pairs.
pub(super) fn entry_reply(e: &crate::crdt::stream::StreamEntry) -> Reply {
    Reply::Array(vec![
        Reply::bulk(e.id.to_string()),
        Reply::Array(
            e.fields
                .iter()
                .flat_map(|(f, v)| [Reply::Bulk(f.clone()), Reply::Bulk(v.clone())])
                .collect(),
        ),
    ])
}

/// `XRANGE key start end [COUNT n]`, `XREVRANGE key end start [COUNT n]`.
fn x_range(ex: &mut Exec, cmd: &Command, rev: bool) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].bytes();
    let k = &key[..];
    let (start_arg, end_arg) = if rev { (&a[2], &a[1]) } else { (&a[1], &a[2]) };
    let lo = interval_bound(start_arg, true)?;
    let hi = interval_bound(end_arg, false)?;
    // COUNT may repeat (the last counts); a negative count is 0, and 0 gives a null array.
    let mut count: Option<usize> = None;
    let mut i = 3;
    while i < a.len() {
        if upper(&a[i]) == "COUNT" && i + 1 < a.len() {
            count = Some(int_arg(&a[i + 1])?.max(0) as usize);
            i += 2;
        } else {
            return Err(Reply::err(SYNTAX));
        }
    }
    let Some(s) = ex.typed(k, KeyType::Stream)?.and_then(|e| e.stream()) else {
        return Ok(Reply::Array(Vec::new()));
    };
    if count == Some(0) {
        return Ok(Reply::NilArray);
    }
    let take = count.unwrap_or(usize::MAX);
    let in_range = |e: &&crate::crdt::stream::StreamEntry| e.id >= lo && e.id <= hi;
    let out: Vec<Reply> = if rev {
        let all: Vec<_> = s.live().filter(in_range).collect();
        all.into_iter().rev().take(take).map(entry_reply).collect()
    } else {
        s.live()
            .filter(in_range)
            .take(take)
            .map(entry_reply)
            .collect()
    };
    Ok(Reply::Array(out))
}

/// The options of `XREAD` and `XREADGROUP` before the keys, as Redis 7.0 parses them.
pub(super) struct ReadOptions {
    pub count: usize,
    pub noack: bool,
    /// `GROUP group consumer`.
    pub group: Option<(Bytes, Bytes)>,
    /// Where the keys start among the arguments.
    pub first: usize,
}

/// Parses `[COUNT n] [BLOCK ms] [GROUP g c] [NOACK] STREAMS` (`xreadgroup`: the last two are
/// allowed, and `GROUP` required).
pub(super) fn read_options(a: &[Value], xreadgroup: bool) -> Result<ReadOptions, Reply> {
    let mut o = ReadOptions {
        count: 0,
        noack: false,
        group: None,
        first: 0,
    };
    let only_group = |what: &str| {
        Reply::err(format!(
            "ERR The {what} option is only supported by XREADGROUP. You called XREAD instead."
        ))
    };
    let mut i = 0;
    while i < a.len() {
        let more = a.len() - i - 1;
        match upper(&a[i]).as_str() {
            "BLOCK" if more > 0 => {
                match a[i + 1].as_i64() {
                    Some(t) if t < 0 => return Err(Reply::err("ERR timeout is negative")),
                    Some(_) => {}
                    None => {
                        return Err(Reply::err("ERR timeout is not an integer or out of range"));
                    }
                }
                i += 2;
            }
            "COUNT" if more > 0 => {
                o.count = int_arg(&a[i + 1])?.max(0) as usize;
                i += 2;
            }
            "STREAMS" if more > 0 => {
                if !more.is_multiple_of(2) {
                    return Err(Reply::err(
                        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                    ));
                }
                o.first = i + 1;
                break;
            }
            "GROUP" if more >= 2 => {
                if !xreadgroup {
                    return Err(only_group("GROUP"));
                }
                o.group = Some((a[i + 1].to_bytes().to_vec(), a[i + 2].to_bytes().to_vec()));
                i += 3;
            }
            "NOACK" => {
                if !xreadgroup {
                    return Err(only_group("NOACK"));
                }
                o.noack = true;
                i += 1;
            }
            _ => return Err(Reply::err(SYNTAX)),
        }
    }
    if o.first == 0 {
        return Err(Reply::err(SYNTAX));
    }
    if xreadgroup && o.group.is_none() {
        return Err(Reply::err("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(o)
}

/// `XREAD [COUNT n] [BLOCK ms] STREAMS key ... id ...`: per stream with entries after its ID,
/// the stream's name and those entries. `$` is the stream's last ID (nothing yet written).
/// `BLOCK` is answered at once (a script step never waits): with nothing to read, the reply
/// is the null array Redis gives when the block times out.
fn x_read(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let ReadOptions { count, first, .. } = read_options(a, false)?;
    let n = (a.len() - first) / 2;
    // Every key's type and every ID are checked before anything is read.
    let mut after = Vec::with_capacity(n);
    for j in 0..n {
        let key = a[first + j].bytes();
        let s = ex.typed(&key, KeyType::Stream)?.and_then(|e| e.stream());
        let id = a[first + n + j].to_bytes();
        after.push(match &id[..] {
            b"$" => s.map(|s| s.top()).unwrap_or_default(),
            b">" => {
                return Err(Reply::err(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ));
            }
            b"-" | b"+" => return Err(Reply::err(INVALID_ID)),
            _ => match StreamId::parse(&id) {
                Some((ms, seq)) => StreamId {
                    ms,
                    seq: seq.unwrap_or(0),
                },
                None => return Err(Reply::err(INVALID_ID)),
            },
        });
    }
    let take = if count == 0 { usize::MAX } else { count };
    let mut out = Vec::new();
    for (j, gt) in after.iter().enumerate() {
        let key = a[first + j].bytes();
        let Some(s) = ex.view(&key).and_then(|e| e.stream()) else {
            continue;
        };
        let entries: Vec<Reply> = s
            .live()
            .filter(|e| e.id > *gt)
            .take(take)
            .map(entry_reply)
            .collect();
        if !entries.is_empty() {
            out.push((key.to_vec(), entries));
        }
    }
    Ok(read_reply(out))
}

/// The reply of `XREAD` and `XREADGROUP`: per stream served, its name and entries; the null
/// array when none was.
pub(super) fn read_reply(served: Vec<(Vec<u8>, Vec<Reply>)>) -> Reply {
    if served.is_empty() {
        return Reply::NilArray;
    }
    Reply::Array(
        served
            .into_iter()
            .map(|(key, entries)| Reply::Array(vec![Reply::Bulk(key), Reply::Array(entries)]))
            .collect(),
    )
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
