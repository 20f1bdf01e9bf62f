//! Stream consumer-group commands (`XGROUP`, `XREADGROUP`, `XACK`, `XPENDING`, `XCLAIM`,
//! `XAUTOCLAIM`, `XINFO`), with Redis 7.0's replies and errors, and Active-Active's split of
//! what replicates (`crdt::stream::groups`): a group's creation and destruction, and an ack
//! effect when an `XACK` completes a contiguous acknowledged prefix. Everything else changes
//! only this instance's consumers, pending entries and read positions.

// The executor's helpers and the crate's types, as the parent module sees them.
use super::streams::{INVALID_ID, entry_reply, interval_bound};
use super::*;
use crate::crdt::stream::groups::INVALID_ENTRIES_READ;
use crate::crdt::stream::{LocalGroup, Nack, StreamCrdt, StreamEntry};

mod info;
mod pending;
#[cfg(test)]
mod tests;

use info::x_info;
use pending::{x_autoclaim, x_claim, x_pending};

pub(super) fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    match cmd.cmd {
        Cmd::XGroup => x_group(ex, cmd),
        Cmd::XReadGroup => x_read_group(ex, cmd),
        Cmd::XAck => x_ack(ex, cmd),
        Cmd::XPending => x_pending(ex, cmd),
        Cmd::XClaim => x_claim(ex, cmd),
        Cmd::XAutoClaim => x_autoclaim(ex, cmd),
        Cmd::XInfo => x_info(ex, cmd),
        other => unreachable!("{other:?} is not in this group"),
    }
}

/// A stream ID where `-` and `+` are not allowed and a missing sequence is 0.
fn strict_id(v: &Value) -> Result<StreamId, Reply> {
    let b = v.to_bytes();
    match StreamId::parse(&b) {
        Some((ms, seq)) => Ok(StreamId {
            ms,
            seq: seq.unwrap_or(0),
        }),
        None => Err(Reply::err(INVALID_ID)),
    }
}

/// A stream ID where `-` is `0-0` and `+` the largest ID.
fn loose_id(v: &Value) -> Result<StreamId, Reply> {
    match &v.to_bytes()[..] {
        b"-" => Ok(StreamId::default()),
        b"+" => Ok(StreamId {
            ms: u64::MAX,
            seq: u64::MAX,
        }),
        _ => strict_id(v),
    }
}

fn text(v: &Value) -> String {
    String::from_utf8_lossy(&v.to_bytes()).into_owned()
}

fn no_group(key: &[u8], group: &[u8]) -> Reply {
    Reply::err(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

fn no_key_or_group(key: &[u8], group: &[u8], suffix: &str) -> Reply {
    Reply::err(format!(
        "NOGROUP No such key '{}' or consumer group '{}'{suffix}",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn region(e: &StreamEntry) -> u8 {
    e.dot.origin.0
}

/// Whether `group` exists on the stream at `key` as this instance sees it.
fn group_exists(ex: &Exec, key: &[u8], group: &[u8]) -> Result<bool, Reply> {
    Ok(ex
        .typed(key, KeyType::Stream)?
        .is_some_and(|e| e.stream().is_some_and(|s| s.groups.exists(group, e.tomb()))))
}

/// The figures Redis's lag and read-counter rules read off a stream.
struct Shape {
    added: i64,
    len: i64,
    last: StreamId,
    first: StreamId,
    max_deleted: StreamId,
}

impl Shape {
    fn of(s: &StreamCrdt) -> Shape {
        Shape {
            added: s.added() as i64,
            len: s.len() as i64,
            last: s.top(),
            first: s.first_id(),
            max_deleted: s.max_deleted(),
        }
    }

    /// Whether an `XDEL` left a gap at or after `start` (Redis's `streamRangeHasTombstones`).
    fn tombstones_after(&self, start: StreamId) -> bool {
        let zero = StreamId::default();
        if self.len == 0 || self.max_deleted == zero || self.first > self.max_deleted {
            return false;
        }
        start <= self.max_deleted
    }

    /// The logical read counter of `id`, when it can be known (Redis's
    /// `streamEstimateDistanceFromFirstEverEntry`).
    fn distance(&self, id: StreamId) -> i64 {
        if self.added == 0 {
            return 0;
        }
        if self.len == 0 && id <= self.last {
            return self.added;
        }
        if id == self.last {
            return self.added;
        }
        if id > self.last {
            return INVALID_ENTRIES_READ;
        }
        let zero = StreamId::default();
        if self.max_deleted == zero || self.max_deleted < self.first {
            if id < self.first {
                return self.added - self.len;
            }
            if id == self.first {
                return self.added - self.len + 1;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag, when it can be known.
    fn lag(&self, entries_read: i64, last_id: StreamId) -> Option<i64> {
        if self.added == 0 {
            return Some(0);
        }
        if entries_read != INVALID_ENTRIES_READ && !self.tombstones_after(last_id) {
            return Some(self.added - entries_read);
        }
        match self.distance(last_id) {
            INVALID_ENTRIES_READ => None,
            d => Some(self.added - d),
        }
    }
}

/// Finds `consumer` (refreshing its seen time) or creates it.
fn touch_consumer(l: &mut LocalGroup, consumer: &[u8], now_ms: u64) {
    l.consumers.insert(consumer.to_vec(), now_ms);
}

/// `XGROUP CREATE|DESTROY|SETID|CREATECONSUMER|DELCONSUMER|HELP`.
fn x_group(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let sub = upper(&a[0]);
    let words = a.len() + 1;
    let arity_ok = match sub.as_str() {
        "CREATE" | "SETID" => words >= 5,
        "DESTROY" => words == 4,
        "CREATECONSUMER" | "DELCONSUMER" => words == 5,
        "HELP" => words == 2,
        _ => {
            return Err(Reply::err(format!(
                "ERR unknown subcommand '{}'. Try XGROUP HELP.",
                text(&a[0])
            )));
        }
    };
    if !arity_ok {
        return Err(Reply::err(format!(
            "ERR wrong number of arguments for 'xgroup|{}' command",
            sub.to_ascii_lowercase()
        )));
    }
    let syntax = || {
        Reply::err(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP.",
            text(&a[0])
        ))
    };
    if sub == "HELP" {
        return Ok(Reply::Array(
            [
                "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CREATE <key> <groupname> <id|$> [MKSTREAM] [ENTRIESREAD entries_read]",
                "DESTROY <key> <groupname>",
                "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                "CREATECONSUMER <key> <groupname> <consumer>",
                "DELCONSUMER <key> <groupname> <consumer>",
                "HELP",
            ]
            .iter()
            .map(|l| Reply::Status(l))
            .collect(),
        ));
    }
    // Options of CREATE and SETID.
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 4;
    while i < a.len() {
        let o = upper(&a[i]);
        if sub == "CREATE" && o == "MKSTREAM" {
            mkstream = true;
            i += 1;
        } else if (sub == "CREATE" || sub == "SETID") && o == "ENTRIESREAD" && i + 1 < a.len() {
            entries_read = int_arg(&a[i + 1])?;
            if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                return Err(Reply::err(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(syntax());
        }
    }
    let key = a[1].to_bytes();
    let group = a[2].to_bytes();
    let stream = ex.typed(&key, KeyType::Stream)?;
    let exists = stream.is_some_and(|e| {
        e.stream()
            .is_some_and(|s| s.groups.exists(&group, e.tomb()))
    });
    let top = stream
        .and_then(|e| e.stream())
        .map(|s| s.top())
        .unwrap_or_default();
    if stream.is_none() && !mkstream {
        return Err(Reply::err(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may \
             want to use the MKSTREAM option to create an empty stream automatically.",
        ));
    }
    if !exists && matches!(sub.as_str(), "SETID" | "CREATECONSUMER" | "DELCONSUMER") {
        return Err(no_group(&key, &group));
    }
    match sub.as_str() {
        "CREATE" => {
            if a.len() + 1 > 8 {
                return Err(syntax());
            }
            let id = if a[3].to_bytes() == b"$" {
                top
            } else {
                strict_id(&a[3])?
            };
            if exists {
                return Err(Reply::err("BUSYGROUP Consumer Group name already exists"));
            }
            ex.emit(
                &key,
                OpKind::XGroupCreate {
                    group: group.clone(),
                    id,
                },
            );
            with_local(ex, &key, &group, |l, _| l.entries_read = entries_read);
            Ok(Reply::ok())
        }
        "SETID" => {
            if a.len() + 1 != 5 && a.len() + 1 != 7 {
                return Err(syntax());
            }
            let id = if a[3].to_bytes() == b"$" {
                top
            } else {
                loose_id(&a[3])?
            };
            with_local(ex, &key, &group, |l, _| {
                l.set_all(id);
                l.entries_read = entries_read;
            });
            Ok(Reply::ok())
        }
        "DESTROY" => {
            if exists {
                ex.emit(&key, OpKind::XGroupDestroy { group });
                Ok(Reply::Int(1))
            } else {
                Ok(Reply::Int(0))
            }
        }
        "CREATECONSUMER" => {
            let consumer = a[3].to_bytes();
            let now = ex.cx.now_ms;
            let created = with_local(ex, &key, &group, |l, _| {
                if l.consumers.contains_key(&consumer[..]) {
                    false
                } else {
                    l.consumers.insert(consumer.to_vec(), now);
                    true
                }
            });
            Ok(Reply::Int(created.unwrap_or(false) as i64))
        }
        _ => {
            let consumer = a[3].to_bytes();
            let pending = with_local(ex, &key, &group, |l, _| {
                if l.consumers.remove(&consumer[..]).is_none() {
                    return 0;
                }
                let before = l.pel.len();
                l.pel.retain(|_, n| n.consumer[..] != consumer[..]);
                (before - l.pel.len()) as i64
            });
            Ok(Reply::Int(pending.unwrap_or(0)))
        }
    }
}

/// Runs `f` on this instance's state of `group` at `key` with the stream's entries (every
/// one, dead ones included); `None` when the group does not exist here.
fn with_local<R>(
    ex: &mut Exec,
    key: &[u8],
    group: &[u8],
    f: impl FnOnce(&mut LocalGroup, &[StreamEntry]) -> R,
) -> Option<R> {
    ex.ks
        .stream_local(key, |s, _| {
            let (entries, groups) = s.split();
            groups.local_mut(group).map(|l| f(l, entries))
        })
        .flatten()
}

/// `XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS key ... id ...`. `>` reads, per
/// source region, the entries after the group's position for that region (so entries that
/// reached this instance late are not skipped: the docs' "XREADGROUP never skips"); another ID
/// reads the consumer's own pending entries after it. `BLOCK` is answered at once.
fn x_read_group(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let o = super::streams::read_options(a, true)?;
    let (count, noack, first) = (o.count, o.noack, o.first);
    let (group, consumer) = o.group.expect("read_options requires GROUP");
    let n = (a.len() - first) / 2;
    // Every key, group and ID is checked before anything is read; `None` is `>`.
    let mut after: Vec<Option<StreamId>> = Vec::with_capacity(n);
    for j in 0..n {
        let key = a[first + j].to_bytes();
        if !group_exists(ex, &key, &group)? {
            return Err(no_key_or_group(
                &key,
                &group,
                " in XREADGROUP with GROUP option",
            ));
        }
        after.push(match &a[first + n + j].to_bytes()[..] {
            b"$" => {
                return Err(Reply::err(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read \
                     the history of this consumer by specifying a proper ID, or use the > ID to \
                     get new messages. The $ ID would just return an empty result set.",
                ));
            }
            b">" => None,
            _ => Some(strict_id(&a[first + n + j])?),
        });
    }
    let now = ex.cx.now_ms;
    let take = if count == 0 { usize::MAX } else { count };
    let mut out = Vec::new();
    for (j, gt) in after.into_iter().enumerate() {
        let key = a[first + j].to_bytes();
        let served = ex
            .ks
            .stream_local(&key, |s, _| {
                let shape = Shape::of(s);
                let (entries, groups) = s.split();
                let l = groups.local_mut(&group)?;
                Some(match gt {
                    Some(gt) => Some(read_history(l, entries, &consumer, gt, take, now)),
                    None => read_new(l, entries, &consumer, take, noack, now, &shape),
                })
            })
            .flatten()
            .flatten();
        if let Some(entries) = served {
            out.push((key.to_vec(), entries));
        }
    }
    Ok(super::streams::read_reply(out))
}

/// `>`: the live entries after each region's position, in stream order, up to `take`; `None`
/// (the stream is not served, and no consumer is created) when there are none.
fn read_new(
    l: &mut LocalGroup,
    entries: &[StreamEntry],
    consumer: &[u8],
    take: usize,
    noack: bool,
    now: u64,
    shape: &Shape,
) -> Option<Vec<Reply>> {
    let new: Vec<&StreamEntry> = entries
        .iter()
        .filter(|e| !e.dead && e.id > l.pos(region(e)))
        .take(take)
        .collect();
    if new.is_empty() {
        return None;
    }
    touch_consumer(l, consumer, now);
    let mut out = Vec::with_capacity(new.len());
    for e in new {
        if e.id > l.last_id() {
            if l.entries_read != INVALID_ENTRIES_READ && !shape.tombstones_after(e.id) {
                l.entries_read += 1;
            } else if shape.added > 0 {
                l.entries_read = shape.distance(e.id);
            }
        }
        l.raise(region(e), e.id);
        out.push(entry_reply(e));
        if !noack {
            l.pel.insert(
                (e.id, region(e)),
                Nack {
                    consumer: consumer.to_vec(),
                    delivered_ms: now,
                    count: 1,
                },
            );
        }
    }
    Some(out)
}

/// An explicit ID: the consumer's pending entries after `gt`, each as its entry (or its ID
/// and a null when the entry was deleted), delivered again.
fn read_history(
    l: &mut LocalGroup,
    entries: &[StreamEntry],
    consumer: &[u8],
    gt: StreamId,
    take: usize,
    now: u64,
) -> Vec<Reply> {
    touch_consumer(l, consumer, now);
    let mut out = Vec::new();
    for ((id, r), nack) in l.pel.iter_mut() {
        if out.len() == take {
            break;
        }
        if *id <= gt || nack.consumer != consumer {
            continue;
        }
        match entries
            .iter()
            .find(|e| !e.dead && e.id == *id && region(e) == *r)
        {
            Some(e) => {
                nack.delivered_ms = now;
                nack.count += 1;
                out.push(entry_reply(e));
            }
            None => out.push(Reply::Array(vec![
                Reply::bulk(id.to_string()),
                Reply::NilArray,
            ])),
        }
    }
    out
}

/// Per source region, the highest ID of the acknowledged prefix: the highest entry of that
/// region at or below its read position and below its first pending entry.
fn acked_prefix(l: &LocalGroup, entries: &[StreamEntry]) -> Vec<(u8, StreamId)> {
    let mut regions: Vec<u8> = entries.iter().map(region).collect();
    regions.sort_unstable();
    regions.dedup();
    regions
        .into_iter()
        .filter_map(|r| {
            let pending = l
                .pel
                .keys()
                .filter(|(_, o)| *o == r)
                .map(|(id, _)| *id)
                .min();
            entries
                .iter()
                .filter(|e| region(e) == r && e.id <= l.pos(r))
                .filter(|e| pending.is_none_or(|p| e.id < p))
                .map(|e| e.id)
                .max()
                .map(|id| (r, id))
        })
        .collect()
}

/// `XACK key group id ...`: removes the IDs from the pending entries list. The ack replicates
/// (as this command) only when it moves some region's acknowledged prefix beyond what the
/// group's replicated state already holds \[STREAM\].
fn x_ack(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    let a = &cmd.args;
    let key = a[0].to_bytes();
    let group = a[1].to_bytes();
    if !group_exists(ex, &key, &group)? {
        return Ok(Reply::Int(0));
    }
    let ids = a[2..]
        .iter()
        .map(strict_id)
        .collect::<Result<Vec<_>, _>>()?;
    let acked = ex
        .ks
        .stream_local(&key, |s, tomb| {
            let (entries, groups) = s.split();
            let floor: Vec<(u8, StreamId)> = (0..=u8::MAX)
                .filter(|r| entries.iter().any(|e| region(e) == *r))
                .map(|r| (r, groups.floor(&group, r, tomb)))
                .collect();
            let l = groups.local_mut(&group).expect("the group exists here");
            let before = l.pel.len();
            for id in &ids {
                l.pel.retain(|(x, _), _| x != id);
            }
            let n = (before - l.pel.len()) as i64;
            let prefix = acked_prefix(l, entries);
            let moved = prefix.iter().any(|(r, id)| {
                floor
                    .iter()
                    .find(|(x, _)| x == r)
                    .is_none_or(|(_, f)| id > f)
            });
            (n, moved.then_some(prefix))
        })
        .expect("the stream exists");
    let (n, prefix) = acked;
    if let Some(prefix) = prefix {
        ex.emit(&key, OpKind::XAck { group, prefix });
    }
    Ok(Reply::Int(n))
}
