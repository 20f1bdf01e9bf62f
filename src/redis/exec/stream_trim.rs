//! Stream trimming: `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT n]`, and the same options
//! of `XADD`, parsed and answered as Redis 7.0 does; and `XSETID`, the other command that
//! moves a stream's bookkeeping. A trim is an observed remove, as `XDEL`:
//! it removes the oldest entries this instance sees, and an entry added concurrently
//! elsewhere survives it. Approximate trimming (`~`) removes only whole radix-tree nodes in
//! Redis; geosim takes the nodes to be runs of 100 live entries from the oldest (the default
//! `stream-node-max-entries`; Redis's nodes also close at 4,096 bytes and keep deleted
//! entries' places), a simplification stated in `docs/semantics.md`.

// The executor's helpers and the crate's types, as the parent module sees them.
use super::streams::INVALID_ID;
use super::*;
use crate::crdt::Dot;

/// Entries per radix-tree node in an approximate trim (Redis's default
/// `stream-node-max-entries`).
const NODE_ENTRIES: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Strategy {
    None,
    MaxLen(i64),
    MinId(StreamId),
}

/// What `XADD`'s or `XTRIM`'s options say.
pub(super) struct Options {
    strategy: Strategy,
    pub approx: bool,
    /// Entries an approximate trim may remove at most (0: no bound).
    limit: i64,
    /// Where the `~` and the threshold are among the arguments.
    approx_at: Option<usize>,
    threshold_at: usize,
    pub no_mkstream: bool,
    /// `XADD`: where the ID is among the arguments.
    pub id_at: usize,
}

fn id_arg(v: &Value) -> Result<StreamId, Reply> {
    match StreamId::parse(&v.to_bytes()) {
        Some((ms, seq)) => Ok(StreamId {
            ms,
            seq: seq.unwrap_or(0),
        }),
        None => Err(Reply::err(INVALID_ID)),
    }
}

/// Parses the options after the key (`xadd`: up to and including the ID).
pub(super) fn parse(a: &[Value], xadd: bool) -> Result<Options, Reply> {
    let mut o = Options {
        strategy: Strategy::None,
        approx: false,
        limit: 0,
        approx_at: None,
        threshold_at: 0,
        no_mkstream: false,
        id_at: a.len(),
    };
    let mut limit_given = false;
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let word = a[i].to_bytes();
        let opt = upper(&a[i]);
        if xadd && word[..] == *b"*" {
            o.id_at = i;
            break;
        } else if (opt == "MAXLEN" || opt == "MINID") && more > 0 {
            if o.strategy != Strategy::None {
                return Err(Reply::err(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            o.approx = false;
            let next = a[i + 1].to_bytes();
            if more >= 2 && next[..] == *b"~" {
                o.approx = true;
                o.approx_at = Some(i + 1);
                i += 1;
            } else if more >= 2 && next[..] == *b"=" {
                i += 1;
            }
            o.strategy = if opt == "MAXLEN" {
                let n = int_arg(&a[i + 1])?;
                if n < 0 {
                    return Err(Reply::err("ERR The MAXLEN argument must be >= 0."));
                }
                Strategy::MaxLen(n)
            } else {
                Strategy::MinId(id_arg(&a[i + 1])?)
            };
            i += 1;
            o.threshold_at = i;
        } else if opt == "LIMIT" && more > 0 {
            o.limit = int_arg(&a[i + 1])?;
            if o.limit < 0 {
                return Err(Reply::err("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && opt == "NOMKSTREAM" {
            o.no_mkstream = true;
        } else if xadd {
            id_arg(&a[i])?;
            o.id_at = i;
            break;
        } else {
            return Err(Reply::err(SYNTAX));
        }
        i += 1;
    }
    if o.limit != 0 && o.strategy == Strategy::None {
        return Err(Reply::err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && o.strategy == Strategy::None {
        return Err(Reply::err(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given && !o.approx {
        return Err(Reply::err(
            "ERR syntax error, LIMIT cannot be used without the special ~ option",
        ));
    }
    if !limit_given && o.approx {
        o.limit = (100 * NODE_ENTRIES) as i64;
    }
    Ok(o)
}

/// Trims `key` as `o` says: an `XTRIM` op removing the entries, when there are any. Returns
/// the effective threshold (the length left, or the first ID left) when a strategy was given.
pub(super) fn trim(ex: &mut Exec, key: &[u8], o: &Options) -> Option<(usize, StreamId)> {
    if o.strategy == Strategy::None {
        return None;
    }
    let s = ex.view(key).and_then(|e| e.stream())?;
    let live: Vec<(StreamId, Dot)> = s.live().map(|e| (e.id, e.dot)).collect();
    let n = if o.approx {
        // Whole nodes from the oldest, while the node can go entirely (and within LIMIT).
        let mut n = 0;
        for node in live.chunks(NODE_ENTRIES) {
            let fits = match o.strategy {
                Strategy::MaxLen(max) => live.len() - n - node.len() >= max as usize,
                Strategy::MinId(min) => node.last().is_some_and(|(id, _)| *id < min),
                Strategy::None => false,
            };
            if !fits || (o.limit > 0 && (n + node.len()) as i64 > o.limit) {
                break;
            }
            n += node.len();
        }
        n
    } else {
        match o.strategy {
            Strategy::MaxLen(max) => live.len().saturating_sub(max as usize),
            Strategy::MinId(min) => live.iter().take_while(|(id, _)| *id < min).count(),
            Strategy::None => 0,
        }
    };
    if n > 0 {
        let dots = live[..n].iter().map(|(_, d)| *d).collect();
        ex.emit(key, OpKind::XTrim(dots));
    }
    // With nothing left, Redis's first edge ID is the largest ID.
    let first = live.get(n).map(|(id, _)| *id).unwrap_or(StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    });
    Some((live.len() - n, first))
}

/// Rewrites an approximate trim as the exact one it made (`~` → `=`, the threshold → the
/// length left or the first ID left), as Redis propagates it. `words` starts with the name.
pub(super) fn rewrite_approx(words: &mut [Vec<u8>], o: &Options, (len, first): (usize, StreamId)) {
    if let Some(at) = o.approx_at {
        words[at + 1] = b"=".to_vec();
    }
    words[o.threshold_at + 1] = match o.strategy {
        Strategy::MinId(_) => first.to_string().into_bytes(),
        _ => len.to_string().into_bytes(),
    };
}

/// `XTRIM`: the number of entries removed. Replicated (as the command, an approximate trim as
/// the exact one it made) only when it removed some.
pub(super) fn x_trim(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let o = parse(a, false)?;
    let key = a[0].to_bytes();
    if ex.typed(&key, KeyType::Stream)?.is_none() {
        return Ok(Reply::Int(0));
    }
    let before = ex.effects.len();
    let left = trim(ex, &key, &o);
    let removed = match &ex.effects.get(before).map(|e| &e.op.kind) {
        Some(OpKind::XTrim(dots)) => dots.len(),
        _ => 0,
    };
    if removed > 0
        && o.approx
        && let Some(left) = left
    {
        let mut words: Vec<Vec<u8>> = std::iter::once(b"XTRIM".to_vec())
            .chain(a.iter().map(|v| v.to_bytes().to_vec()))
            .collect();
        rewrite_approx(&mut words, &o, left);
        let refs: Vec<&[u8]> = words.iter().map(|w| w.as_slice()).collect();
        ex.recharge(before, &refs);
    }
    Ok(Reply::Int(removed as i64))
}

/// `XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]`, with Redis 7.0's checks, and
/// Active-Active's: the new ID may not be below the stream's current last ID \[STREAM\].
pub(super) fn x_setid(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let id = id_arg(&a[1])?;
    let mut entries_added = None;
    let mut max_deleted = None;
    let mut i = 2;
    while i < a.len() {
        let more = a.len() - 1 - i;
        match upper(&a[i]).as_str() {
            "ENTRIESADDED" if more > 0 => {
                let n = int_arg(&a[i + 1])?;
                if n < 0 {
                    return Err(Reply::err("ERR entries_added must be positive"));
                }
                entries_added = Some(n as u64);
            }
            "MAXDELETEDID" if more > 0 => {
                let m = id_arg(&a[i + 1])?;
                if id < m {
                    return Err(Reply::err(
                        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                    ));
                }
                max_deleted = Some(m);
            }
            _ => return Err(Reply::err(SYNTAX)),
        }
        i += 2;
    }
    let key = a[0].to_bytes();
    let Some(s) = ex.typed(&key, KeyType::Stream)?.and_then(|e| e.stream()) else {
        return Err(Reply::err("ERR no such key"));
    };
    let len = s.len() as u64;
    if len > 0 {
        let last_valid = s.live().last().map(|e| e.id).unwrap_or_default();
        if id < last_valid {
            return Err(Reply::err(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added.is_some_and(|n| len > n) {
            return Err(Reply::err(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    if id < s.top() {
        return Err(Reply::err(
            "ERR The ID specified in XSETID is smaller than the current last ID: in an \
             Active-Active database XSETID cannot move a stream's last ID back",
        ));
    }
    ex.emit(
        &key,
        OpKind::XSetId {
            id,
            entries_added,
            max_deleted,
        },
    );
    Ok(Reply::ok())
}
