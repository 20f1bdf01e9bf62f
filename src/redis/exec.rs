//! Executing commands against a keyspace: replies, and the CRDT ops a write replicates.

use std::borrow::Cow;

use super::command::{Cmd, Command, Group, Reply};

mod hashes;
mod hyperloglog;
mod json;
mod keys;
mod lists;
#[cfg(test)]
pub(crate) mod pair;
mod sets;
mod sorted_sets;
mod stream_groups;
mod stream_trim;
mod streams;
mod strings;
use super::resp::command_bytes;
use super::slot::key_slot;
use crate::crdt::hll::{self, REGISTERS};
use crate::crdt::keyspace::{Bytes, Expiry, KeyType, OpKind};
use crate::crdt::list::{ElemId, Insert};
use crate::crdt::stream::{StreamId, XaddIdMode, region_number};
use crate::crdt::value::format_float;
use crate::crdt::{Entry, InstanceId, Keyspace, Op, Value};

/// The documented range of Active-Active counters: 59-bit signed integers \[STR\].
pub(crate) const COUNTER_MIN: i64 = -(1 << 58);
pub(crate) const COUNTER_MAX: i64 = (1 << 58) - 1;
/// The documented bound on Active-Active TTLs, taken as milliseconds (the unit is not
/// stated) \[DEV\].
pub(crate) const TTL_MAX_MS: i64 = 1 << 49;
/// Redis's string size limit.
pub(crate) const MAX_STRING: usize = 512 * 1024 * 1024;

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
    /// Arguments longer than a replication-buffer block, as (offset, length) within
    /// `stream_bytes` (empty for nearly every command).
    pub large: Vec<(u64, u64)>,
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

struct Exec<'a> {
    ks: &'a mut Keyspace,
    cx: ExecContext,
    effects: Vec<Effect>,
    /// Stream bytes of the command and its large pieces, charged to its first own effect.
    bytes: Option<(u64, Vec<(u64, u64)>)>,
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
        let (stream_bytes, large) = self.bytes.take().unwrap_or_default();
        self.effects.push(Effect {
            op,
            stream_bytes,
            large,
        });
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
        let (stream_bytes, large) = match bytes {
            // A `DEL key` of its own (an expired key), or nothing replicated (0 bytes).
            Some(0) => (0, Vec::new()),
            Some(b) => (
                b,
                crate::redis::resp::large_pieces_of(
                    2,
                    [3, key.len() as u64].into_iter(),
                    crate::redis::resp::BLOCK_BYTES,
                ),
            ),
            None => self.bytes.take().unwrap_or_default(),
        };
        self.effects.push(Effect {
            op,
            stream_bytes,
            large,
        });
    }

    fn view(&self, key: &[u8]) -> Option<&Entry> {
        self.ks.visible(key, self.cx.now_ms)
    }

    /// The live entry of `key` if it has type `t`; `Err(WRONGTYPE)` if it has another.
    fn typed(&self, key: &[u8], t: KeyType) -> Result<Option<&Entry>, Reply> {
        match self.view(key) {
            None => Ok(None),
            Some(e) if e.key_type() == Some(t) => Ok(Some(e)),
            // Redis keeps a HyperLogLog in a string, and says so when a string is not one.
            Some(e) if t == KeyType::Hll && e.key_type() == Some(KeyType::String) => Err(
                Reply::err("WRONGTYPE Key is not a valid HyperLogLog string value."),
            ),
            Some(_) => Err(Reply::wrongtype()),
        }
    }

    /// The effect at `at` (which took the command's bytes) travels as `words` instead: its
    /// stream bytes and large pieces are recounted (for a rewrite known only after the op was
    /// made, such as the ID `XADD` generated).
    fn recharge(&mut self, at: usize, words: &[&[u8]]) {
        let lens = words.iter().map(|w| w.len() as u64);
        let e = &mut self.effects[at];
        e.stream_bytes = crate::redis::resp::command_bytes_of(words.len(), lens.clone());
        e.large =
            crate::redis::resp::large_pieces_of(words.len(), lens, crate::redis::resp::BLOCK_BYTES);
    }

    /// The command travels in the replication stream as `words` instead of as it was sent
    /// (Redis rewrites some commands before propagating them: relative expiry times become
    /// absolute, float increments become the value they set). Applies to the effect that
    /// has not yet taken the command's bytes.
    fn propagate_as(&mut self, words: &[&[u8]]) {
        if self.bytes.is_some() {
            let lens = words.iter().map(|w| w.len() as u64);
            self.bytes = Some((
                crate::redis::resp::command_bytes_of(words.len(), lens.clone()),
                crate::redis::resp::large_pieces_of(
                    words.len(),
                    lens,
                    crate::redis::resp::BLOCK_BYTES,
                ),
            ));
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
pub(crate) fn execute_with(
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
        bytes: Some((cmd.stream_bytes(), cmd.large_pieces())),
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
            if owner == Some(cx.origin) || cmd.cmd.is_write() {
                let del_bytes = command_bytes(&[3, k.len() as u64]);
                ex.emit_del(k, Some(del_bytes));
            }
        }
    }
    let expired_dels = ex.effects.len();
    let reply = match run(&mut ex, cmd) {
        Ok(r) => r,
        Err(r) => r,
    };
    // Redis 7.0 propagates the commands one command caused together, wrapped in `MULTI` ...
    // `EXEC` when there are several: an expired key's `DEL` followed by the write that found
    // it (measured against 7.0.15 by the live differential test).
    let propagated = expired_dels
        + ex.effects[expired_dels..]
            .iter()
            .filter(|e| e.stream_bytes > 0)
            .count();
    if expired_dels > 0 && propagated > 1 {
        wrap_in_multi_exec(&mut ex.effects);
    }
    // A collection whose last member a write removed is gone, as in Redis, and its TTL with it:
    // the key is deleted (a `DEL` of what this instance observed, with no stream bytes of its
    // own: Redis replicates only the command), so a later write creates it without the old
    // TTL. Only a key that kept a TTL needs it; an emptied key without one reads as absent.
    if cmd.cmd.is_write() && !ex.effects.is_empty() {
        for k in cmd.key_args() {
            let k = &k.bytes()[..];
            let stale_ttl = ex.view(k).is_none()
                && matches!(
                    ex.ks.entry(k).and_then(|e| e.expiry()),
                    Some((Expiry::At(_), _))
                );
            if stale_ttl {
                ex.emit_del(k, Some(0));
            }
        }
    }
    Outcome {
        reply,
        effects: ex.effects,
    }
}

/// `*1\r\n$5\r\nMULTI\r\n` and `*1\r\n$4\r\nEXEC\r\n`.
const MULTI_BYTES: u64 = 15;
const EXEC_BYTES: u64 = 14;

/// Adds `MULTI` before the first effect's bytes and `EXEC` after the last one that has any.
fn wrap_in_multi_exec(effects: &mut [Effect]) {
    if let Some(first) = effects.first_mut() {
        first.stream_bytes += MULTI_BYTES;
        for piece in &mut first.large {
            piece.0 += MULTI_BYTES;
        }
    }
    if let Some(last) = effects.iter_mut().rev().find(|e| e.stream_bytes > 0) {
        last.stream_bytes += EXEC_BYTES;
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

/// `current + by`, if the result is in the counters' documented range.
pub(crate) fn check_counter(current: i64, by: i64) -> Result<i64, Reply> {
    match current.checked_add(by) {
        Some(n) if (COUNTER_MIN..=COUNTER_MAX).contains(&n) => Ok(n),
        _ => Err(Reply::err(OVERFLOW)),
    }
}

/// Runs a command by its group in the command table: each data type's commands are in their
/// own file under `exec/`.
fn run(ex: &mut Exec, cmd: &Command) -> Result<Reply, Reply> {
    match cmd.group() {
        Group::String => strings::run(ex, cmd),
        Group::Hash => hashes::run(ex, cmd),
        Group::Set => sets::run(ex, cmd),
        Group::SortedSet => sorted_sets::run(ex, cmd),
        Group::List => lists::run(ex, cmd),
        Group::Stream => streams::run(ex, cmd),
        Group::HyperLogLog => hyperloglog::run(ex, cmd),
        Group::Json => json::run(ex, cmd),
        Group::Keys => keys::run(ex, cmd),
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
        let e = parse_line("NOSUCH k").unwrap_err().0;
        assert!(
            e.starts_with("ERR unknown command 'NOSUCH', with args beginning with: 'k'"),
            "{e}"
        );
        assert!(e.contains("geosim supports:"), "{e}");
        let e = parse_line("SORT k").unwrap_err().0;
        assert!(
            e.contains("SORT is a Redis command that geosim does not model"),
            "{e}"
        );
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

    /// Redis propagates `XADD *` with the ID it made, and an approximate trim as the exact
    /// one it made; a given ID travels as given.
    #[test]
    fn xadd_replicates_the_id_it_made_and_trims_replicate_exactly() {
        let mut ks = Keyspace::new(2);
        let cx = ExecContext {
            origin: InstanceId(0),
            now_ms: 1_589_929_244_828,
            xadd_mode: XaddIdMode::Strict,
            annotation: 0,
        };
        let bytes = |ks: &mut Keyspace, line: &str| -> (String, u64) {
            let o = execute(ks, &parse_line(line).unwrap(), &cx);
            (
                o.reply.to_string(),
                o.effects.iter().map(|e| e.stream_bytes).sum(),
            )
        };
        let (id, b) = bytes(&mut ks, "XADD s * f v");
        assert_eq!(id, "\"1589929244828-1\"");
        assert_eq!(
            b,
            parse_line("XADD s 1589929244828-1 f v")
                .unwrap()
                .stream_bytes()
        );
        let (_, b) = bytes(&mut ks, "XADD s 1589929244829 f v");
        assert_eq!(
            b,
            parse_line("XADD s 1589929244829 f v")
                .unwrap()
                .stream_bytes()
        );
        for ms in 1_589_929_244_830u64..1_589_929_244_833 {
            bytes(&mut ks, &format!("XADD s {ms} f v"));
        }
        let exact = parse_line("XTRIM s MAXLEN 2").unwrap().stream_bytes();
        assert_eq!(
            bytes(&mut ks, "XTRIM s MAXLEN 2"),
            ("(integer) 3".into(), exact)
        );
        // Fewer than a node's 100 entries: an approximate trim removes nothing, replicates
        // nothing.
        assert_eq!(
            bytes(&mut ks, "XTRIM s MAXLEN ~ 1"),
            ("(integer) 0".into(), 0)
        );
        let (_, b) = bytes(&mut ks, "XTRIM s MINID ~ 1589929244840");
        assert_eq!(
            b,
            parse_line("XTRIM s MINID = 18446744073709551615-18446744073709551615")
                .unwrap()
                .stream_bytes(),
            "the whole node went: the first ID left is Redis's edge of an empty stream"
        );
        assert_eq!(run_text(&mut ks, "XLEN s"), "(integer) 0");
    }

    fn run_text(ks: &mut Keyspace, line: &str) -> String {
        run(ks, line).to_string()
    }

    /// Found by the live differential test: in Redis a collection that loses its last member
    /// is deleted with its TTL, so the next write creates a key without one.
    #[test]
    fn an_emptied_collection_loses_its_ttl_as_in_redis() {
        let mut ks = Keyspace::new(1);
        for (empty, refill, key) in [
            ("HDEL h f", "HSET h g v", "h"),
            ("SREM s a", "SADD s b", "s"),
            ("LPOP l", "RPUSH l b", "l"),
            ("ZREM z a", "ZADD z 1 b", "z"),
        ] {
            let create = match key {
                "h" => "HSET h f v",
                "s" => "SADD s a",
                "l" => "RPUSH l a",
                _ => "ZADD z 1 a",
            };
            run_text(&mut ks, create);
            assert_eq!(
                run_text(&mut ks, &format!("PEXPIRE {key} 100000")),
                "(integer) 1"
            );
            run_text(&mut ks, empty);
            assert_eq!(run_text(&mut ks, &format!("EXISTS {key}")), "(integer) 0");
            run_text(&mut ks, refill);
            assert_eq!(
                run_text(&mut ks, &format!("PTTL {key}")),
                "(integer) -1",
                "{key}"
            );
        }
        // A DEL clears the TTL too (it always did).
        run_text(&mut ks, "SET k v EX 100");
        run_text(&mut ks, "DEL k");
        run_text(&mut ks, "SET k w");
        assert_eq!(run_text(&mut ks, "PTTL k"), "(integer) -1");
    }
}
