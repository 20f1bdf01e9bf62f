//! Commands: tokenising a `redis-cli` line, the supported command table, replies.

use std::borrow::Cow;
use std::fmt;

use super::families::Status;
use super::resp::command_bytes_of;
use crate::crdt::Value;

/// The supported commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cmd {
    Get,
    Set,
    SetNx,
    GetSet,
    Append,
    SetRange,
    Strlen,
    Incr,
    Decr,
    IncrBy,
    DecrBy,
    IncrByFloat,
    HSet,
    HGet,
    HGetAll,
    HDel,
    HLen,
    HExists,
    HIncrBy,
    HIncrByFloat,
    SAdd,
    SRem,
    SMembers,
    SIsMember,
    SCard,
    ZAdd,
    ZIncrBy,
    ZRem,
    ZScore,
    ZRange,
    ZCard,
    LPush,
    RPush,
    LPop,
    RPop,
    LInsert,
    LRange,
    LLen,
    LRem,
    LSet,
    XAdd,
    XRange,
    XLen,
    XDel,
    PfAdd,
    PfCount,
    PfMerge,
    Del,
    Exists,
    Type,
    Expire,
    PExpire,
    Persist,
    Ttl,
    PTtl,
    GetRange,
    GetDel,
    GetEx,
    SetEx,
    PSetEx,
    MSet,
    MSetNx,
    MGet,
    Touch,
    XRevRange,
    XRead,
    Rename,
    RenameNx,
    Copy,
    XGroup,
    XReadGroup,
    XAck,
    XPending,
    XClaim,
    XAutoClaim,
    XTrim,
    XSetId,
    XInfo,
    JsonSet,
    JsonGet,
    JsonMGet,
    JsonDel,
    JsonType,
    JsonNumIncrBy,
    JsonStrAppend,
    JsonStrLen,
    JsonToggle,
    JsonArrAppend,
    JsonArrInsert,
    JsonArrPop,
    JsonArrTrim,
    JsonArrLen,
    JsonObjKeys,
    JsonObjLen,
    JsonClear,
}

/// A command's kind in Redis's command table: whether it may write (`write`/`denyoom`)
/// or only reads (`readonly`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flags {
    Write,
    ReadOnly,
}

const WRITE: Flags = Flags::Write;
const READ: Flags = Flags::ReadOnly;

/// The data type a command works on: which file under `exec/` runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Group {
    String,
    Hash,
    Set,
    SortedSet,
    List,
    Stream,
    HyperLogLog,
    /// The RedisJSON module's commands.
    Json,
    /// Commands on keys of any type (`DEL`, `EXISTS`, `TYPE`, expiry).
    Keys,
}

/// One row of the command table, the way Redis's own `commands` table describes a command:
/// name, arity (`n` exactly n words with the name, `-n` at least n), flags, the positions of
/// its keys (first key, last key with negative counting from the end, step), and the data
/// type that runs it. Every command in the table is supported by Active-Active; the ones it
/// refuses, and the Redis commands geosim does not model, are in `families`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spec {
    pub name: &'static str,
    pub cmd: Cmd,
    pub arity: i32,
    pub flags: Flags,
    pub keys: (usize, i32, usize),
    pub group: Group,
}

const fn spec(
    name: &'static str,
    cmd: Cmd,
    arity: i32,
    flags: Flags,
    keys: (usize, i32, usize),
    group: Group,
) -> Spec {
    Spec {
        name,
        cmd,
        arity,
        flags,
        keys,
        group,
    }
}

const ONE: (usize, i32, usize) = (1, 1, 1);
const ALL: (usize, i32, usize) = (1, -1, 1);
/// Two keys, the first two arguments (`RENAME src dst`).
const TWO: (usize, i32, usize) = (1, 2, 1);
/// Key-value pairs (`MSET k1 v1 k2 v2`).
const PAIRS: (usize, i32, usize) = (1, -1, 2);
/// Every argument but the last (`JSON.MGET k1 k2 path`).
const ALL_BUT_LAST: (usize, i32, usize) = (1, -2, 1);
/// The key after a subcommand (`XGROUP CREATE key …`, `XINFO GROUPS key`).
const SUB: (usize, i32, usize) = (2, 2, 1);

/// The supported commands (aliases such as `HMSET` and `UNLINK` are rows of their own).
// One row per line, as a table reads.
#[rustfmt::skip]
pub(crate) const TABLE: &[Spec] = &[
    spec("GET", Cmd::Get, 2, READ, ONE, Group::String),
    spec("SET", Cmd::Set, -3, WRITE, ONE, Group::String),
    spec("SETNX", Cmd::SetNx, 3, WRITE, ONE, Group::String),
    spec("GETSET", Cmd::GetSet, 3, WRITE, ONE, Group::String),
    spec("APPEND", Cmd::Append, 3, WRITE, ONE, Group::String),
    spec("SETRANGE", Cmd::SetRange, 4, WRITE, ONE, Group::String),
    spec("STRLEN", Cmd::Strlen, 2, READ, ONE, Group::String),
    spec("GETRANGE", Cmd::GetRange, 4, READ, ONE, Group::String),
    spec("SUBSTR", Cmd::GetRange, 4, READ, ONE, Group::String),
    spec("GETDEL", Cmd::GetDel, 2, WRITE, ONE, Group::String),
    spec("GETEX", Cmd::GetEx, -2, WRITE, ONE, Group::String),
    spec("SETEX", Cmd::SetEx, 4, WRITE, ONE, Group::String),
    spec("PSETEX", Cmd::PSetEx, 4, WRITE, ONE, Group::String),
    spec("MSET", Cmd::MSet, -3, WRITE, PAIRS, Group::String),
    spec("MSETNX", Cmd::MSetNx, -3, WRITE, PAIRS, Group::String),
    spec("MGET", Cmd::MGet, -2, READ, ALL, Group::String),
    spec("INCR", Cmd::Incr, 2, WRITE, ONE, Group::String),
    spec("DECR", Cmd::Decr, 2, WRITE, ONE, Group::String),
    spec("INCRBY", Cmd::IncrBy, 3, WRITE, ONE, Group::String),
    spec("DECRBY", Cmd::DecrBy, 3, WRITE, ONE, Group::String),
    spec("INCRBYFLOAT", Cmd::IncrByFloat, 3, WRITE, ONE, Group::String),
    spec("HSET", Cmd::HSet, -4, WRITE, ONE, Group::Hash),
    spec("HMSET", Cmd::HSet, -4, WRITE, ONE, Group::Hash),
    spec("HGET", Cmd::HGet, 3, READ, ONE, Group::Hash),
    spec("HGETALL", Cmd::HGetAll, 2, READ, ONE, Group::Hash),
    spec("HDEL", Cmd::HDel, -3, WRITE, ONE, Group::Hash),
    spec("HLEN", Cmd::HLen, 2, READ, ONE, Group::Hash),
    spec("HEXISTS", Cmd::HExists, 3, READ, ONE, Group::Hash),
    spec("HINCRBY", Cmd::HIncrBy, 4, WRITE, ONE, Group::Hash),
    spec("HINCRBYFLOAT", Cmd::HIncrByFloat, 4, WRITE, ONE, Group::Hash),
    spec("SADD", Cmd::SAdd, -3, WRITE, ONE, Group::Set),
    spec("SREM", Cmd::SRem, -3, WRITE, ONE, Group::Set),
    spec("SMEMBERS", Cmd::SMembers, 2, READ, ONE, Group::Set),
    spec("SISMEMBER", Cmd::SIsMember, 3, READ, ONE, Group::Set),
    spec("SCARD", Cmd::SCard, 2, READ, ONE, Group::Set),
    spec("ZADD", Cmd::ZAdd, -4, WRITE, ONE, Group::SortedSet),
    spec("ZINCRBY", Cmd::ZIncrBy, 4, WRITE, ONE, Group::SortedSet),
    spec("ZREM", Cmd::ZRem, -3, WRITE, ONE, Group::SortedSet),
    spec("ZSCORE", Cmd::ZScore, 3, READ, ONE, Group::SortedSet),
    spec("ZRANGE", Cmd::ZRange, -4, READ, ONE, Group::SortedSet),
    spec("ZCARD", Cmd::ZCard, 2, READ, ONE, Group::SortedSet),
    spec("LPUSH", Cmd::LPush, -3, WRITE, ONE, Group::List),
    spec("RPUSH", Cmd::RPush, -3, WRITE, ONE, Group::List),
    spec("LPOP", Cmd::LPop, -2, WRITE, ONE, Group::List),
    spec("RPOP", Cmd::RPop, -2, WRITE, ONE, Group::List),
    spec("LINSERT", Cmd::LInsert, 5, WRITE, ONE, Group::List),
    spec("LRANGE", Cmd::LRange, 4, READ, ONE, Group::List),
    spec("LLEN", Cmd::LLen, 2, READ, ONE, Group::List),
    spec("LREM", Cmd::LRem, 4, WRITE, ONE, Group::List),
    spec("LSET", Cmd::LSet, 4, WRITE, ONE, Group::List),
    spec("XADD", Cmd::XAdd, -5, WRITE, ONE, Group::Stream),
    spec("XRANGE", Cmd::XRange, -4, READ, ONE, Group::Stream),
    spec("XREVRANGE", Cmd::XRevRange, -4, READ, ONE, Group::Stream),
    // Its keys follow `STREAMS` (`Command::key_args` finds them).
    spec("XREAD", Cmd::XRead, -4, READ, ONE, Group::Stream),
    spec("XLEN", Cmd::XLen, 2, READ, ONE, Group::Stream),
    spec("XDEL", Cmd::XDel, -3, WRITE, ONE, Group::Stream),
    spec("XGROUP", Cmd::XGroup, -2, WRITE, SUB, Group::Stream),
    // Its keys follow `STREAMS`, as `XREAD`'s.
    spec("XREADGROUP", Cmd::XReadGroup, -7, WRITE, ONE, Group::Stream),
    spec("XACK", Cmd::XAck, -4, WRITE, ONE, Group::Stream),
    spec("XPENDING", Cmd::XPending, -3, READ, ONE, Group::Stream),
    spec("XCLAIM", Cmd::XClaim, -6, WRITE, ONE, Group::Stream),
    spec("XAUTOCLAIM", Cmd::XAutoClaim, -6, WRITE, ONE, Group::Stream),
    spec("XINFO", Cmd::XInfo, -2, READ, SUB, Group::Stream),
    spec("XTRIM", Cmd::XTrim, -4, WRITE, ONE, Group::Stream),
    spec("XSETID", Cmd::XSetId, -3, WRITE, ONE, Group::Stream),
    spec("PFADD", Cmd::PfAdd, -2, WRITE, ONE, Group::HyperLogLog),
    spec("PFCOUNT", Cmd::PfCount, -2, READ, ALL, Group::HyperLogLog),
    spec("PFMERGE", Cmd::PfMerge, -2, WRITE, ALL, Group::HyperLogLog),
    spec("JSON.SET", Cmd::JsonSet, -4, WRITE, ONE, Group::Json),
    spec("JSON.GET", Cmd::JsonGet, -2, READ, ONE, Group::Json),
    spec("JSON.MGET", Cmd::JsonMGet, -3, READ, ALL_BUT_LAST, Group::Json),
    spec("JSON.DEL", Cmd::JsonDel, -2, WRITE, ONE, Group::Json),
    spec("JSON.FORGET", Cmd::JsonDel, -2, WRITE, ONE, Group::Json),
    spec("JSON.TYPE", Cmd::JsonType, -2, READ, ONE, Group::Json),
    spec("JSON.NUMINCRBY", Cmd::JsonNumIncrBy, 4, WRITE, ONE, Group::Json),
    spec("JSON.STRAPPEND", Cmd::JsonStrAppend, -3, WRITE, ONE, Group::Json),
    spec("JSON.STRLEN", Cmd::JsonStrLen, -2, READ, ONE, Group::Json),
    spec("JSON.TOGGLE", Cmd::JsonToggle, 3, WRITE, ONE, Group::Json),
    spec("JSON.ARRAPPEND", Cmd::JsonArrAppend, -4, WRITE, ONE, Group::Json),
    spec("JSON.ARRINSERT", Cmd::JsonArrInsert, -5, WRITE, ONE, Group::Json),
    spec("JSON.ARRPOP", Cmd::JsonArrPop, -2, WRITE, ONE, Group::Json),
    spec("JSON.ARRTRIM", Cmd::JsonArrTrim, 5, WRITE, ONE, Group::Json),
    spec("JSON.ARRLEN", Cmd::JsonArrLen, -2, READ, ONE, Group::Json),
    spec("JSON.OBJKEYS", Cmd::JsonObjKeys, -2, READ, ONE, Group::Json),
    spec("JSON.OBJLEN", Cmd::JsonObjLen, -2, READ, ONE, Group::Json),
    spec("JSON.CLEAR", Cmd::JsonClear, -2, WRITE, ONE, Group::Json),
    spec("DEL", Cmd::Del, -2, WRITE, ALL, Group::Keys),
    spec("UNLINK", Cmd::Del, -2, WRITE, ALL, Group::Keys),
    spec("EXISTS", Cmd::Exists, -2, READ, ALL, Group::Keys),
    spec("TYPE", Cmd::Type, 2, READ, ONE, Group::Keys),
    spec("EXPIRE", Cmd::Expire, 3, WRITE, ONE, Group::Keys),
    spec("PEXPIRE", Cmd::PExpire, 3, WRITE, ONE, Group::Keys),
    spec("PERSIST", Cmd::Persist, 2, WRITE, ONE, Group::Keys),
    spec("TTL", Cmd::Ttl, 2, READ, ONE, Group::Keys),
    spec("PTTL", Cmd::PTtl, 2, READ, ONE, Group::Keys),
    spec("TOUCH", Cmd::Touch, -2, READ, ALL, Group::Keys),
    spec("RENAME", Cmd::Rename, 3, WRITE, TWO, Group::Keys),
    spec("RENAMENX", Cmd::RenameNx, 3, WRITE, TWO, Group::Keys),
    spec("COPY", Cmd::Copy, -3, WRITE, TWO, Group::Keys),
];

/// How many `Cmd` variants there are (the last one's index + 1).
const CMD_COUNT: usize = Cmd::JsonClear as usize + 1;

/// Per `Cmd`, its first row in the table (aliases share their command's row), so that a
/// generated command and `is_write` find their row without a search.
const ROW_OF_CMD: [usize; CMD_COUNT] = {
    let mut rows = [usize::MAX; CMD_COUNT];
    let mut i = 0;
    while i < TABLE.len() {
        let c = TABLE[i].cmd as usize;
        if rows[c] == usize::MAX {
            rows[c] = i;
        }
        i += 1;
    }
    let mut c = 0;
    while c < CMD_COUNT {
        assert!(rows[c] != usize::MAX, "every Cmd has a row in the table");
        c += 1;
    }
    rows
};

impl Cmd {
    /// This command's row in the table.
    pub(crate) fn spec(self) -> &'static Spec {
        &TABLE[ROW_OF_CMD[self as usize]]
    }

    /// Whether the command can write (Redis's `write`/`denyoom` flags).
    pub(crate) fn is_write(self) -> bool {
        self.spec().flags == Flags::Write
    }
}

/// A parsed command: which one, and its arguments (the name excluded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub cmd: Cmd,
    pub name: &'static str,
    pub args: Vec<Value>,
    /// Key positions from the command table (first, last, step).
    key_spec: (usize, i32, usize),
    group: Group,
}

/// A Redis-shaped reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// A status reply such as `OK` or a type name.
    Status(&'static str),
    Nil,
    /// A null array (`*-1` in RESP2): `XREAD` with nothing to read, `XRANGE … COUNT 0`.
    NilArray,
    Int(i64),
    Bulk(Vec<u8>),
    Array(Vec<Reply>),
    Error(String),
}

impl Reply {
    pub(crate) fn ok() -> Reply {
        Reply::Status("OK")
    }
    pub fn bulk(v: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(v.as_ref().to_vec())
    }
    pub(crate) fn wrongtype() -> Reply {
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value".into())
    }
    pub fn err(msg: impl Into<String>) -> Reply {
        Reply::Error(msg.into())
    }
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    fn fmt_indented(&self, f: &mut fmt::Formatter<'_>, indent: usize) -> fmt::Result {
        match self {
            Reply::Status(s) => f.write_str(s),
            Reply::Nil | Reply::NilArray => f.write_str("(nil)"),
            Reply::Int(n) => write!(f, "(integer) {n}"),
            Reply::Bulk(b) => write!(f, "\"{}\"", escape(b)),
            Reply::Error(e) => write!(f, "(error) {e}"),
            Reply::Array(items) if items.is_empty() => f.write_str("(empty array)"),
            Reply::Array(items) => {
                let width = items.len().to_string().len();
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, "\n{}", " ".repeat(indent))?;
                    }
                    write!(f, "{:>width$}) ", i + 1)?;
                    it.fmt_indented(f, indent + width + 2)?;
                }
                Ok(())
            }
        }
    }
}

/// Escapes bytes the way `redis-cli` prints them inside quotes.
pub(crate) fn escape(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

impl fmt::Display for Reply {
    /// Formats like `redis-cli` does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_indented(f, 0)
    }
}

/// A command line that could not be turned into a command. The text is Redis's own where
/// Redis has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecError(pub String);

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExecError {}

/// Splits a command line into arguments like `redis-cli`: blanks separate arguments;
/// `"..."` supports `\n \r \t \b \a \\ \" \xHH`; `'...'` supports only `\'`; a closing
/// quote must be followed by a blank or the end.
pub fn tokenize(line: &str) -> Result<Vec<Vec<u8>>, ExecError> {
    let b = line.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    let unbalanced = || ExecError("ERR Invalid argument(s): unbalanced quotes".into());
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= b.len() {
                    return Err(unbalanced());
                }
                if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).ok();
                    if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        cur.push(v);
                        i += 4;
                        continue;
                    }
                }
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    cur.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if b[i] == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err(unbalanced());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
                i += 1;
            } else if in_sq {
                if i >= b.len() {
                    return Err(unbalanced());
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                    continue;
                }
                if b[i] == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err(unbalanced());
                    }
                    i += 1;
                    break;
                }
                cur.push(b[i]);
                i += 1;
            } else {
                if i >= b.len() || b[i].is_ascii_whitespace() {
                    break;
                }
                match b[i] {
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
                i += 1;
            }
        }
        args.push(cur);
    }
    Ok(args)
}

/// Parses one command line.
pub fn parse_line(line: &str) -> Result<Command, ExecError> {
    let args = tokenize(line)?;
    Command::from_args(&args)
}

fn supported_list() -> String {
    let mut names: Vec<&str> = TABLE.iter().map(|s| s.name).collect();
    names.sort_unstable();
    names.join(" ")
}

impl Command {
    /// A command from its words (name first), as a client sends them.
    pub fn from_args(args: &[Vec<u8>]) -> Result<Command, ExecError> {
        let Some((name, rest)) = args.split_first() else {
            return Err(ExecError("ERR empty command".into()));
        };
        let upper = String::from_utf8_lossy(name).to_ascii_uppercase();
        let sub = rest
            .first()
            .map(|a| String::from_utf8_lossy(a).into_owned());
        match super::families::status(&upper, sub.as_deref()) {
            Status::Refused(why, _) => {
                let name = super::families::display_name(&upper, sub.as_deref());
                return Err(ExecError(super::families::refused_message(&name, why)));
            }
            Status::NotModelled => {
                return Err(ExecError(super::families::not_modelled_message(&upper)));
            }
            Status::Supported | Status::Unknown => {}
        }
        let Some(spec) = TABLE.iter().find(|s| s.name == upper) else {
            let shown: Vec<String> = rest
                .iter()
                .take(3)
                .map(|a| format!("'{}'", String::from_utf8_lossy(a)))
                .collect();
            return Err(ExecError(format!(
                "ERR unknown command '{}', with args beginning with: {} (geosim supports: {})",
                String::from_utf8_lossy(name),
                shown.join(" "),
                supported_list()
            )));
        };
        let words = args.len() as i32;
        let ok = if spec.arity >= 0 {
            words == spec.arity
        } else {
            words >= -spec.arity
        };
        if !ok {
            return Err(ExecError(format!(
                "ERR wrong number of arguments for '{}' command",
                upper.to_ascii_lowercase()
            )));
        }
        Ok(Command {
            cmd: spec.cmd,
            name: spec.name,
            key_spec: spec.keys,
            group: spec.group,
            args: rest
                .iter()
                .map(|a| Value::Bytes(a.clone().into_boxed_slice()))
                .collect(),
        })
    }

    /// Builds a command without parsing (generated workloads).
    pub fn new(cmd: Cmd, args: Vec<Value>) -> Command {
        let spec = cmd.spec();
        Command {
            cmd,
            name: spec.name,
            key_spec: spec.keys,
            group: spec.group,
            args,
        }
    }

    /// The keys this command touches, by the table's key positions.
    pub(crate) fn keys(&self) -> Vec<Cow<'_, [u8]>> {
        self.key_args().map(Value::bytes).collect()
    }

    /// The arguments that are keys, by the table's key positions (no list is built).
    pub(crate) fn key_args(&self) -> impl Iterator<Item = &Value> {
        let n = self.args.len() + 1;
        let (first, last, step) = if matches!(self.cmd, Cmd::XRead | Cmd::XReadGroup) {
            // `XREAD … STREAMS k1 k2 id1 id2`: the first half of what follows `STREAMS`.
            match self
                .args
                .iter()
                .position(|a| a.to_bytes().eq_ignore_ascii_case(b"STREAMS"))
            {
                Some(p) => {
                    let keys = (self.args.len() - p - 1) / 2;
                    (p + 2, (p + 1 + keys) as i32, 1)
                }
                None => (n, 0, 1),
            }
        } else {
            self.key_spec
        };
        let last = if last < 0 {
            (n as i32 + last) as usize
        } else {
            last as usize
        };
        (first..=last.min(n - 1))
            .step_by(step)
            .map(|i| &self.args[i - 1])
    }

    /// The data type whose file runs this command.
    pub(crate) fn group(&self) -> Group {
        self.group
    }

    /// The first key (the first argument of a command whose keys cannot be found, as an
    /// `XREAD` without `STREAMS`, which then fails).
    pub(crate) fn key(&self) -> Cow<'_, [u8]> {
        self.key_args().next().unwrap_or(&self.args[0]).bytes()
    }

    /// The RESP size of this command as it travels in the replication stream.
    pub fn stream_bytes(&self) -> u64 {
        let lens = std::iter::once(self.name.len()).chain(self.args.iter().map(Value::len));
        command_bytes_of(self.args.len() + 1, lens.map(|l| l as u64))
    }

    /// Where this command's arguments longer than a replication-buffer block lie in its
    /// stream bytes (offset from its first byte, length; `redis::resp::large_pieces_of`).
    pub fn large_pieces(&self) -> Vec<(u64, u64)> {
        let lens = std::iter::once(self.name.len()).chain(self.args.iter().map(Value::len));
        crate::redis::resp::large_pieces_of(
            self.args.len() + 1,
            lens.map(|l| l as u64),
            crate::redis::resp::BLOCK_BYTES,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_flags_exactly_the_read_only_commands() {
        let mut reads: Vec<&str> = TABLE
            .iter()
            .filter(|s| s.flags == Flags::ReadOnly)
            .map(|s| s.name)
            .collect();
        reads.sort_unstable();
        assert_eq!(
            reads,
            [
                "EXISTS",
                "GET",
                "GETRANGE",
                "HEXISTS",
                "HGET",
                "HGETALL",
                "HLEN",
                // RedisJSON's `readonly` commands.
                "JSON.ARRLEN",
                "JSON.GET",
                "JSON.MGET",
                "JSON.OBJKEYS",
                "JSON.OBJLEN",
                "JSON.STRLEN",
                "JSON.TYPE",
                "LLEN",
                "LRANGE",
                "MGET",
                "PFCOUNT",
                "PTTL",
                "SCARD",
                "SISMEMBER",
                "SMEMBERS",
                "STRLEN",
                "SUBSTR",
                "TOUCH",
                "TTL",
                "TYPE",
                "XINFO",
                "XLEN",
                "XPENDING",
                "XRANGE",
                "XREAD",
                "XREVRANGE",
                "ZCARD",
                "ZRANGE",
                "ZSCORE"
            ]
        );
        assert!(Cmd::Set.is_write() && !Cmd::Get.is_write());
    }

    #[test]
    fn every_command_has_one_row_and_aliases_share_its_command() {
        for s in TABLE {
            assert_eq!(s.cmd.spec().cmd, s.cmd);
            assert_eq!(s.cmd.spec().group, s.group, "{}", s.name);
            assert_eq!(s.cmd.spec().flags, s.flags, "{}", s.name);
        }
        assert_eq!(parse_line("HMSET h f v").unwrap().cmd, Cmd::HSet);
        assert_eq!(parse_line("UNLINK a b").unwrap().cmd, Cmd::Del);
        assert_eq!(
            Command::new(Cmd::Del, vec![Value::Bytes(b"k".to_vec().into())]).name,
            "DEL"
        );
        // Names are unique.
        let mut names: Vec<&str> = TABLE.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
    }

    #[test]
    fn arity_and_refusals_come_from_the_table() {
        assert_eq!(
            parse_line("GET").unwrap_err().0,
            "ERR wrong number of arguments for 'get' command"
        );
        assert!(
            parse_line("FLUSHALL")
                .unwrap_err()
                .0
                .contains("not allowed")
        );
        let unknown = parse_line("NOPE a").unwrap_err().0;
        assert!(unknown.contains("unknown command 'NOPE'"), "{unknown}");
        assert_eq!(parse_line("PFCOUNT a b").unwrap().keys().len(), 2);
    }
}
