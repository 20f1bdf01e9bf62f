//! Executing commands against a keyspace: replies, and the CRDT ops a write replicates.

use std::borrow::Cow;

use super::command::{Cmd, Command, Reply};
use super::resp::command_bytes;
use super::slot::key_slot;
use crate::crdt::hll::{self, REGISTERS};
use crate::crdt::keyspace::{Bytes, Expiry, KeyType, OpKind};
use crate::crdt::list::{ElemId, Insert};
use crate::crdt::stream::{StreamId, XaddIdMode, region_number};
use crate::crdt::value::format_float;
use crate::crdt::{Entry, InstanceId, Keyspace, Op, Value};

/// The documented range of Active-Active counters: 59-bit signed integers \[STR\].
pub const COUNTER_MIN: i64 = -(1 << 58);
pub const COUNTER_MAX: i64 = (1 << 58) - 1;
/// The documented bound on Active-Active TTLs, taken as milliseconds (the unit is not
/// stated) \[DEV\].
pub const TTL_MAX_MS: i64 = 1 << 49;
/// Redis's string size limit.
pub const MAX_STRING: usize = 512 * 1024 * 1024;

/// Where and when a command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecContext {
    pub origin: InstanceId,
    /// The instance's clock, in milliseconds: the timestamp of its writes.
    pub now_ms: u64,
    pub xadd_mode: XaddIdMode,
    /// Stored in every op this command makes (see `Op::annotation`).
    pub annotation: u64,
}

/// The replicated effect of a write: the CRDT op and its size in the replication stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    pub op: Op,
    pub stream_bytes: u64,
}

/// A command's reply and the effects to replicate (already applied locally).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub reply: Reply,
    pub effects: Vec<Effect>,
}

const NOT_INT: &str = "ERR value is not an integer or out of range";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const OVERFLOW: &str = "ERR increment or decrement would overflow";
const SYNTAX: &str = "ERR syntax error";

/// Whether a command can write (Redis's `write`/`denyoom` commands).
pub fn is_write(cmd: Cmd) -> bool {
    !matches!(
        cmd,
        Cmd::Get
            | Cmd::Strlen
            | Cmd::HGet
            | Cmd::HGetAll
            | Cmd::HLen
            | Cmd::HExists
            | Cmd::SMembers
            | Cmd::SIsMember
            | Cmd::SCard
            | Cmd::ZScore
            | Cmd::ZRange
            | Cmd::ZCard
            | Cmd::LRange
            | Cmd::LLen
            | Cmd::XRange
            | Cmd::XLen
            | Cmd::PfCount
            | Cmd::Exists
            | Cmd::Type
            | Cmd::Ttl
            | Cmd::PTtl
    )
}

struct Exec<'a> {
    ks: &'a mut Keyspace,
    cx: ExecContext,
    effects: Vec<Effect>,
    /// Stream bytes of the command, charged to its first own effect.
    bytes: Option<u64>,
}

impl Exec<'_> {
    fn emit(&mut self, key: &[u8], kind: OpKind) {
        let op = self.ks.write_local(
            key,
            self.cx.origin,
            self.cx.now_ms,
            kind,
            self.cx.annotation,
        );
        let stream_bytes = self.bytes.take().unwrap_or(0);
        self.effects.push(Effect { op, stream_bytes });
    }

    /// A `DEL` of everything the origin observes of `key`; `bytes` is its own stream size.
    fn emit_del(&mut self, key: &[u8], bytes: Option<u64>) {
        let observed = self
            .ks
            .entry(key)
            .map(|e| e.observed_for_del())
            .unwrap_or_default();
        let op = self.ks.prepare(
            key,
            self.cx.origin,
            self.cx.now_ms,
            OpKind::Del { observed },
        );
        self.ks.apply(&op);
        let stream_bytes = match bytes {
            Some(b) => b,
            None => self.bytes.take().unwrap_or(0),
        };
        self.effects.push(Effect { op, stream_bytes });
    }

    fn view(&self, key: &[u8]) -> Option<&Entry> {
        self.ks.visible(key, self.cx.now_ms)
    }

    /// The live entry of `key` if it has type `t`; `Err(WRONGTYPE)` if it has another.
    fn typed(&self, key: &[u8], t: KeyType) -> Result<Option<&Entry>, Reply> {
        match self.view(key) {
            None => Ok(None),
            Some(e) if e.key_type() == Some(t) => Ok(Some(e)),
            Some(_) => Err(Reply::wrongtype()),
        }
    }
}

fn int_arg(v: &Value) -> Result<i64, Reply> {
    v.as_i64().ok_or_else(|| Reply::err(NOT_INT))
}

fn float_arg(v: &Value) -> Result<f64, Reply> {
    v.as_f64().ok_or_else(|| Reply::err(NOT_FLOAT))
}

fn upper(v: &Value) -> String {
    String::from_utf8_lossy(&v.to_bytes()).to_ascii_uppercase()
}

/// Resolves a Redis range `[start, stop]` (negative from the end) over `len` items.
fn range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if stop < 0 { len + stop } else { stop };
    s = s.max(0);
    e = e.min(len - 1);
    if s > e || s >= len {
        None
    } else {
        Some((s as usize, e as usize))
    }
}

/// Executes `cmd` at `cx.origin` against `ks`. Writes are applied locally and returned as
/// effects to replicate; reads and refused writes return none.
pub fn execute(ks: &mut Keyspace, cmd: &Command, cx: &ExecContext) -> Outcome {
    execute_with(ks, cmd, cx, Vec::new())
}

/// [`execute`], collecting the effects in `effects` (empty; a caller that executes many
/// commands passes the same buffer back each time, so that a write allocates no list).
pub fn execute_with(
    ks: &mut Keyspace,
    cmd: &Command,
    cx: &ExecContext,
    effects: Vec<Effect>,
) -> Outcome {
    debug_assert!(effects.is_empty());
    // A single key cannot cross slots: no CRC16 for it here.
    let mut keys = cmd.key_args();
    let cross_slot = match (keys.next(), keys.next()) {
        (Some(first), Some(second)) => {
            let slot = key_slot(&first.bytes());
            key_slot(&second.bytes()) != slot || keys.any(|k| key_slot(&k.bytes()) != slot)
        }
        _ => false,
    };
    if cross_slot {
        return Outcome {
            reply: Reply::err("CROSSSLOT Keys in request don't hash to the same slot"),
            effects,
        };
    }
    let mut ex = Exec {
        ks,
        cx: *cx,
        effects,
        bytes: Some(cmd.stream_bytes()),
    };
    // Expiry: the owner deletes an expired key it touches (and replicates the DEL); another
    // instance hides it on reads, and deletes it before a write [DEV].
    for k in cmd.key_args() {
        let k = &k.bytes()[..];
        if let Some(e) = ex.ks.entry(k)
            && e.key_type().is_some()
            && e.expired(cx.now_ms)
        {
            let owner = e.expiry().map(|(_, o)| o);
            if owner == Some(cx.origin) || is_write(cmd.cmd) {
                let del_bytes = command_bytes(&[3, k.len() as u64]);
                ex.emit_del(k, Some(del_bytes));
            }
        }
    }
    let reply = match run(&mut ex, cmd) {
        Ok(r) => r,
        Err(r) => r,
    };
    Outcome {
        reply,
        effects: ex.effects,
    }
}

/// The owner's active expiry: a `DEL` for every key whose winning `EXPIRE` is owned by
/// `cx.origin` and has passed.
pub fn expire_owned(ks: &mut Keyspace, cx: &ExecContext) -> Vec<Effect> {
    let due: Vec<Bytes> = ks
        .iter()
        .filter(|(_, e)| {
            e.key_type().is_some()
                && e.expired(cx.now_ms)
                && e.expiry().is_some_and(|(_, o)| o == cx.origin)
        })
        .map(|(k, _)| k.to_vec())
        .collect();
    let mut ex = Exec {
        ks,
        cx: *cx,
        effects: Vec::new(),
        bytes: None,
    };
    for k in due {
        let b = command_bytes(&[3, k.len() as u64]);
        ex.emit_del(&k, Some(b));
    }
    ex.effects
}

fn check_counter(current: i64, by: i64) -> Result<i64, Reply> {
    match current.checked_add(by) {
        Some(n) if (COUNTER_MIN..=COUNTER_MAX).contains(&n) => Ok(n),
        _ => Err(Reply::err(OVERFLOW)),
    }
}

fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
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
        Cmd::Set | Cmd::SetNx | Cmd::GetSet => {
            let (mut nx, mut xx, mut get, mut keepttl) =
                (cmd.cmd == Cmd::SetNx, false, false, false);
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
        Cmd::Append | Cmd::SetRange => {
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
            if exists || len > 0 {
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
        Cmd::Incr | Cmd::Decr | Cmd::IncrBy | Cmd::DecrBy => {
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
        Cmd::IncrByFloat => {
            let by = float_arg(&a[1])?;
            let current = match ex.typed(k, KeyType::String)?.and_then(|e| e.string_value()) {
                None => 0.0,
                Some(v) => float_arg(&v)?,
            };
            let next = current + by;
            if !next.is_finite() || !by.is_finite() {
                return Err(Reply::err("ERR increment would produce NaN or Infinity"));
            }
            ex.emit(k, OpKind::Incr { int: 0, float: by });
            Ok(Reply::bulk(format_float(next)))
        }
        Cmd::HSet => {
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
        Cmd::HDel => {
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
        Cmd::HIncrBy | Cmd::HIncrByFloat => {
            let f = a[1].to_bytes();
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
                ex.emit(
                    k,
                    OpKind::HIncr {
                        field: f,
                        int: 0,
                        float: by,
                    },
                );
                Ok(Reply::bulk(format_float(next)))
            }
        }
        Cmd::SAdd => {
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
        Cmd::SRem => {
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
        Cmd::ZAdd => {
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
            let e = ex.typed(k, KeyType::ZSet)?;
            let mut members: Vec<(Bytes, f64, _)> = Vec::new();
            let (mut added, mut changed) = (0, 0);
            for p in pairs.chunks(2) {
                let score = float_arg(&p[0])?;
                let m = p[1].to_bytes();
                let cur = e.and_then(|e| e.zscore(&m));
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
        Cmd::ZIncrBy => {
            let by = float_arg(&a[1])?;
            let m = a[2].to_bytes();
            let cur = ex
                .typed(k, KeyType::ZSet)?
                .and_then(|e| e.zscore(&m))
                .unwrap_or(0.0);
            let next = cur + by;
            if next.is_nan() {
                return Err(Reply::err("ERR resulting score is not a number (NaN)"));
            }
            ex.emit(k, OpKind::ZIncr { member: m, by });
            Ok(Reply::bulk(format_float(next)))
        }
        Cmd::ZRem => {
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
        Cmd::ZScore => Ok(ex
            .typed(k, KeyType::ZSet)?
            .and_then(|e| e.zscore(&a[1].to_bytes()))
            .map(|s| Reply::bulk(format_float(s)))
            .unwrap_or(Reply::Nil)),
        Cmd::ZRange => {
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
        Cmd::ZCard => Ok(Reply::Int(
            ex.typed(k, KeyType::ZSet)?
                .map(|e| e.zset_members().len() as i64)
                .unwrap_or(0),
        )),
        Cmd::LPush | Cmd::RPush => {
            let e = ex.typed(k, KeyType::List)?;
            let len = e.and_then(|e| e.list()).map(|l| l.len()).unwrap_or(0);
            let last = e.and_then(|e| e.list()).and_then(|l| l.last_id());
            let lamport = ex.ks.next_lamport(k);
            let seq = ex
                .ks
                .prepare(k, ex.cx.origin, 0, OpKind::LRem(vec![]))
                .dot
                .seq;
            let mut inserts = Vec::new();
            let mut anchor = if cmd.cmd == Cmd::LPush { None } else { last };
            for (i, v) in a[1..].iter().enumerate() {
                let id = ElemId {
                    lamport: lamport + i as u64,
                    origin: ex.cx.origin,
                    seq,
                    index: i as u32,
                };
                inserts.push(Insert {
                    id,
                    anchor,
                    value: v.clone(),
                });
                if cmd.cmd == Cmd::RPush {
                    anchor = Some(id);
                }
            }
            let n = inserts.len();
            ex.emit(k, OpKind::LInsert(inserts));
            Ok(Reply::Int((len + n) as i64))
        }
        Cmd::LPop | Cmd::RPop => {
            let count = match a.get(1) {
                None => None,
                Some(v) => match v.as_i64() {
                    Some(n) if n >= 0 => Some(n as usize),
                    _ => return Err(Reply::err("ERR value is out of range, must be positive")),
                },
            };
            let Some(list) = ex.typed(k, KeyType::List)?.and_then(|e| e.list()) else {
                return Ok(Reply::Nil);
            };
            let live: Vec<(ElemId, Value)> = list.live().map(|e| (e.id, e.value.clone())).collect();
            let take = count.unwrap_or(1).min(live.len());
            let picked: Vec<(ElemId, Value)> = if cmd.cmd == Cmd::LPop {
                live[..take].to_vec()
            } else {
                live[live.len() - take..].iter().rev().cloned().collect()
            };
            if !picked.is_empty() {
                ex.emit(k, OpKind::LRem(picked.iter().map(|(id, _)| *id).collect()));
            }
            Ok(match count {
                None => picked
                    .first()
                    .map(|(_, v)| Reply::Bulk(v.to_bytes()))
                    .unwrap_or(Reply::Nil),
                Some(_) => Reply::Array(
                    picked
                        .into_iter()
                        .map(|(_, v)| Reply::Bulk(v.to_bytes()))
                        .collect(),
                ),
            })
        }
        Cmd::LInsert => {
            let where_ = upper(&a[1]);
            if where_ != "BEFORE" && where_ != "AFTER" {
                return Err(Reply::err(SYNTAX));
            }
            let pivot = a[2].to_bytes();
            let Some(list) = ex.typed(k, KeyType::List)?.and_then(|e| e.list()) else {
                return Ok(Reply::Int(0));
            };
            let Some(p) = list
                .live()
                .find(|e| e.value.to_bytes() == pivot)
                .map(|e| e.id)
            else {
                return Ok(Reply::Int(-1));
            };
            let anchor = if where_ == "AFTER" {
                Some(p)
            } else {
                list.predecessor(p)
            };
            let len = list.len();
            let lamport = ex.ks.next_lamport(k);
            let seq = ex
                .ks
                .prepare(k, ex.cx.origin, 0, OpKind::LRem(vec![]))
                .dot
                .seq;
            let id = ElemId {
                lamport,
                origin: ex.cx.origin,
                seq,
                index: 0,
            };
            ex.emit(
                k,
                OpKind::LInsert(vec![Insert {
                    id,
                    anchor,
                    value: a[3].clone(),
                }]),
            );
            Ok(Reply::Int(len as i64 + 1))
        }
        Cmd::LRange => {
            let start = int_arg(&a[1])?;
            let stop = int_arg(&a[2])?;
            let values: Vec<Value> = ex
                .typed(k, KeyType::List)?
                .and_then(|e| e.list())
                .map(|l| l.live().map(|e| e.value.clone()).collect())
                .unwrap_or_default();
            Ok(Reply::Array(match range(start, stop, values.len()) {
                Some((s, e)) => values[s..=e]
                    .iter()
                    .map(|v| Reply::Bulk(v.to_bytes()))
                    .collect(),
                None => vec![],
            }))
        }
        Cmd::LLen => Ok(Reply::Int(
            ex.typed(k, KeyType::List)?
                .and_then(|e| e.list())
                .map(|l| l.len() as i64)
                .unwrap_or(0),
        )),
        Cmd::LRem => {
            let count = int_arg(&a[1])?;
            let target = a[2].to_bytes();
            let Some(list) = ex.typed(k, KeyType::List)?.and_then(|e| e.list()) else {
                return Ok(Reply::Int(0));
            };
            let mut matches: Vec<ElemId> = list
                .live()
                .filter(|e| e.value.to_bytes() == target)
                .map(|e| e.id)
                .collect();
            if count < 0 {
                matches.reverse();
            }
            if count != 0 {
                matches.truncate(count.unsigned_abs() as usize);
            }
            let n = matches.len() as i64;
            if n > 0 {
                ex.emit(k, OpKind::LRem(matches));
            }
            Ok(Reply::Int(n))
        }
        Cmd::LSet => {
            let index = int_arg(&a[1])?;
            let Some(list) = ex.typed(k, KeyType::List)?.and_then(|e| e.list()) else {
                return Err(Reply::err("ERR no such key"));
            };
            let live: Vec<ElemId> = list.live().map(|e| e.id).collect();
            let i = if index < 0 {
                live.len() as i64 + index
            } else {
                index
            };
            if i < 0 || i >= live.len() as i64 {
                return Err(Reply::err("ERR index out of range"));
            }
            ex.emit(
                k,
                OpKind::LSet {
                    id: live[i as usize],
                    value: a[2].clone(),
                },
            );
            Ok(Reply::ok())
        }
        Cmd::XAdd => {
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
        Cmd::XRange => {
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
                                        .flat_map(|(f, v)| {
                                            [Reply::Bulk(f.clone()), Reply::Bulk(v.clone())]
                                        })
                                        .collect(),
                                ),
                            ])
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(Reply::Array(out))
        }
        Cmd::XLen => Ok(Reply::Int(
            ex.typed(k, KeyType::Stream)?
                .and_then(|e| e.stream())
                .map(|s| s.len() as i64)
                .unwrap_or(0),
        )),
        Cmd::XDel => {
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
        Cmd::PfAdd => {
            let e = ex.typed(k, KeyType::Hll)?;
            let regs = e
                .and_then(|e| e.hll())
                .map(|h| h.registers())
                .unwrap_or_else(|| Box::new([0u8; REGISTERS]));
            let mut changes: Vec<(u16, u8)> = Vec::new();
            for el in &a[1..] {
                let (i, c) = hll::position(&el.to_bytes());
                let cur = changes
                    .iter()
                    .find(|(j, _)| *j == i)
                    .map(|(_, c)| *c)
                    .unwrap_or(regs[i as usize]);
                if c > cur {
                    changes.retain(|(j, _)| *j != i);
                    changes.push((i, c));
                }
            }
            changes.sort_unstable();
            let created = e.is_none();
            if created || !changes.is_empty() {
                ex.emit(k, OpKind::PfAdd(changes));
                Ok(Reply::Int(1))
            } else {
                Ok(Reply::Int(0))
            }
        }
        Cmd::PfCount | Cmd::PfMerge => {
            let keys = cmd.keys();
            let mut union = Box::new([0u8; REGISTERS]);
            for key in &keys {
                if let Some(h) = ex.typed(key, KeyType::Hll)?.and_then(|e| e.hll()) {
                    for (u, r) in union.iter_mut().zip(h.registers().iter()) {
                        *u = (*u).max(*r);
                    }
                }
            }
            if cmd.cmd == Cmd::PfCount {
                return Ok(Reply::Int(hll::count(&union) as i64));
            }
            let dest = ex.typed(k, KeyType::Hll)?;
            let cur = dest
                .and_then(|e| e.hll())
                .map(|h| h.registers())
                .unwrap_or_else(|| Box::new([0u8; REGISTERS]));
            let changes: Vec<(u16, u8)> = (0..REGISTERS)
                .filter(|i| union[*i] > cur[*i])
                .map(|i| (i as u16, union[i]))
                .collect();
            if dest.is_none() || !changes.is_empty() {
                ex.emit(k, OpKind::PfAdd(changes));
            }
            Ok(Reply::ok())
        }
        Cmd::Del => {
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
        Cmd::Exists => Ok(Reply::Int(
            cmd.keys().iter().filter(|k| ex.view(k).is_some()).count() as i64,
        )),
        Cmd::Type => Ok(Reply::Status(
            ex.view(k)
                .and_then(|e| e.key_type())
                .map(|t| t.name())
                .unwrap_or("none"),
        )),
        Cmd::Expire | Cmd::PExpire => {
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
            if ms <= 0 {
                ex.emit_del(k, None);
            } else {
                let at = ex.cx.now_ms.saturating_add(ms as u64);
                ex.emit(k, OpKind::Expire(Expiry::At(at)));
            }
            Ok(Reply::Int(1))
        }
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::parse_line;

    fn run(ks: &mut Keyspace, line: &str) -> Reply {
        let cx = ExecContext {
            origin: InstanceId(0),
            now_ms: 1_000,
            xadd_mode: XaddIdMode::Strict,
            annotation: 0,
        };
        execute(ks, &parse_line(line).unwrap(), &cx).reply
    }

    #[test]
    fn replies_are_redis_shaped() {
        let mut ks = Keyspace::new(2);
        assert_eq!(run(&mut ks, "SET k v").to_string(), "OK");
        assert_eq!(run(&mut ks, "GET k").to_string(), "\"v\"");
        assert_eq!(run(&mut ks, "GET nope").to_string(), "(nil)");
        assert_eq!(run(&mut ks, "APPEND k w").to_string(), "(integer) 2");
        assert_eq!(run(&mut ks, "TYPE k").to_string(), "string");
        assert_eq!(run(&mut ks, "TYPE nope").to_string(), "none");
        assert_eq!(run(&mut ks, "SMEMBERS nope").to_string(), "(empty array)");
        run(&mut ks, "RPUSH l a b");
        assert_eq!(
            run(&mut ks, "LRANGE l 0 -1").to_string(),
            "1) \"a\"\n2) \"b\""
        );
        run(&mut ks, "XADD s 5 f v");
        assert_eq!(
            run(&mut ks, "XRANGE s - +").to_string(),
            "1) 1) \"5-1\"\n   2) 1) \"f\"\n      2) \"v\""
        );
    }

    #[test]
    fn errors_carry_redis_messages() {
        let mut ks = Keyspace::new(2);
        run(&mut ks, "SADD s a");
        assert_eq!(
            run(&mut ks, "GET s").to_string(),
            "(error) WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        assert_eq!(
            run(&mut ks, "INCRBY k x"),
            Reply::err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            run(&mut ks, "INCRBYFLOAT k x"),
            Reply::err("ERR value is not a valid float")
        );
        assert_eq!(
            run(&mut ks, "SET k v XX NX"),
            Reply::err("ERR syntax error")
        );
        assert_eq!(run(&mut ks, "LSET nope 0 x"), Reply::err("ERR no such key"));
        run(&mut ks, "RPUSH l a");
        assert_eq!(
            run(&mut ks, "LSET l 5 x"),
            Reply::err("ERR index out of range")
        );
        assert_eq!(
            run(&mut ks, "HSET h f v g"),
            Reply::err("ERR wrong number of arguments for 'hset' command")
        );
        run(&mut ks, "XADD x 10 f v");
        assert_eq!(
            run(&mut ks, "XADD x 5 f v"),
            Reply::err(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item"
            )
        );
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        assert_eq!(
            parse_line("GET").unwrap_err().0,
            "ERR wrong number of arguments for 'get' command"
        );
        let e = parse_line("SORT k").unwrap_err().0;
        assert!(
            e.starts_with("ERR unknown command 'SORT', with args beginning with: 'k'"),
            "{e}"
        );
        assert!(e.contains("geosim supports:"), "{e}");
        assert_eq!(
            parse_line("SET \"k").unwrap_err().0,
            "ERR Invalid argument(s): unbalanced quotes"
        );
        assert_eq!(parse_line("").unwrap_err().0, "ERR empty command");
    }

    #[test]
    fn set_options_work() {
        let mut ks = Keyspace::new(2);
        assert_eq!(run(&mut ks, "SET k a NX"), Reply::ok());
        assert_eq!(run(&mut ks, "SET k b NX"), Reply::Nil);
        assert_eq!(run(&mut ks, "SET k c XX GET"), Reply::bulk("a"));
        assert_eq!(run(&mut ks, "SETNX k d"), Reply::Int(0));
        assert_eq!(run(&mut ks, "GETSET k e"), Reply::bulk("c"));
        assert_eq!(run(&mut ks, "SET t v EX 10"), Reply::ok());
        assert_eq!(run(&mut ks, "TTL t"), Reply::Int(10));
        assert_eq!(run(&mut ks, "SET t w"), Reply::ok());
        assert_eq!(run(&mut ks, "TTL t"), Reply::Int(-1), "SET clears the TTL");
        assert_eq!(run(&mut ks, "SETRANGE r 2 ab"), Reply::Int(4));
        assert_eq!(run(&mut ks, "GET r"), Reply::Bulk(vec![0, 0, b'a', b'b']));
        run(&mut ks, "HSET h f v");
        assert_eq!(
            run(&mut ks, "SET h s"),
            Reply::ok(),
            "SET replaces any type"
        );
        assert_eq!(run(&mut ks, "TYPE h").to_string(), "string");
    }

    #[test]
    fn stream_bytes_follow_resp_for_every_command() {
        let set = parse_line("SET kkkkkkkkkkkkkkkk vvv").unwrap();
        assert_eq!(set.stream_bytes(), 23 + 16 + 3 + 2 + 1);
        // *2\r\n$4\r\nINCR\r\n$1\r\nk\r\n
        assert_eq!(parse_line("INCR k").unwrap().stream_bytes(), 21);
        // *4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$2\r\nvv\r\n
        assert_eq!(
            parse_line("HSET h f vv").unwrap().stream_bytes(),
            4 + 10 + 7 + 7 + 8
        );
    }

    #[test]
    fn writes_replicate_and_reads_do_not() {
        let mut ks = Keyspace::new(2);
        let cx = ExecContext {
            origin: InstanceId(0),
            now_ms: 1,
            xadd_mode: XaddIdMode::Strict,
            annotation: 0,
        };
        let w = execute(&mut ks, &parse_line("SADD s a b").unwrap(), &cx);
        assert_eq!(w.effects.len(), 1);
        assert_eq!(
            w.effects[0].stream_bytes,
            parse_line("SADD s a b").unwrap().stream_bytes()
        );
        let r = execute(&mut ks, &parse_line("SMEMBERS s").unwrap(), &cx);
        assert!(r.effects.is_empty());
        // Adding a present member replies 0 but replicates a re-add, which a concurrent
        // SREM has not observed (add wins).
        let readd = execute(&mut ks, &parse_line("SADD s a").unwrap(), &cx);
        assert_eq!(readd.reply, Reply::Int(0));
        assert_eq!(readd.effects.len(), 1);
        let refused = execute(&mut ks, &parse_line("INCR s").unwrap(), &cx);
        assert!(refused.reply.is_error() && refused.effects.is_empty());
    }
}
