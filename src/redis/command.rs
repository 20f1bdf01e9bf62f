//! Commands: parsing, execution into replies and replicated ops.

use std::fmt;

use super::resp::{command_bytes, digits};
use crate::crdt::{InstanceId, Keyspace, Op, Value};

/// A parsed command. Only the commands listed here are supported; anything else is a clear
/// error from [`parse_line`] / [`Command::from_args`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Get {
        key: Vec<u8>,
    },
    Set {
        key: Vec<u8>,
        value: Value,
    },
    /// `INCR`, `DECR`, `INCRBY`, `DECRBY`; `form` keeps the name for the stream byte size.
    IncrBy {
        key: Vec<u8>,
        by: i64,
        form: IncrForm,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncrForm {
    Incr,
    Decr,
    IncrBy,
    DecrBy,
}

/// A Redis-shaped reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Ok,
    Nil,
    Int(i64),
    Bulk(Vec<u8>),
    Array(Vec<Reply>),
    Error(String),
}

impl fmt::Display for Reply {
    /// Formats like `redis-cli` does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Ok => f.write_str("OK"),
            Reply::Nil => f.write_str("(nil)"),
            Reply::Int(n) => write!(f, "(integer) {n}"),
            Reply::Bulk(b) => write!(f, "\"{}\"", String::from_utf8_lossy(b)),
            Reply::Error(e) => write!(f, "(error) {e}"),
            Reply::Array(items) if items.is_empty() => f.write_str("(empty array)"),
            Reply::Array(items) => {
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{}) {it}", i + 1)?;
                }
                Ok(())
            }
        }
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

/// The replicated effect of a write: the CRDT op and its size in the replication stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    pub op: Op,
    pub stream_bytes: u64,
}

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

fn wrong_args(name: &str) -> ExecError {
    ExecError(format!(
        "ERR wrong number of arguments for '{}' command",
        name.to_ascii_lowercase()
    ))
}

fn parse_int_arg(b: &[u8]) -> Result<i64, ExecError> {
    crate::crdt::value::parse_redis_int(b)
        .ok_or_else(|| ExecError("ERR value is not an integer or out of range".into()))
}

impl Command {
    pub fn from_args(args: &[Vec<u8>]) -> Result<Command, ExecError> {
        let Some((name, rest)) = args.split_first() else {
            return Err(ExecError("ERR empty command".into()));
        };
        let upper = String::from_utf8_lossy(name).to_ascii_uppercase();
        let need = |n: usize| {
            if rest.len() == n {
                Ok(())
            } else {
                Err(wrong_args(&upper))
            }
        };
        match upper.as_str() {
            "GET" => {
                need(1)?;
                Ok(Command::Get {
                    key: rest[0].clone(),
                })
            }
            "SET" => {
                if rest.len() < 2 {
                    return Err(wrong_args(&upper));
                }
                if rest.len() > 2 {
                    return Err(ExecError(
                        "ERR syntax error (geosim supports SET key value; options arrive with the CRDT command set)"
                            .into(),
                    ));
                }
                Ok(Command::Set {
                    key: rest[0].clone(),
                    value: Value::Bytes(rest[1].clone().into_boxed_slice()),
                })
            }
            "INCR" | "DECR" => {
                need(1)?;
                let (by, form) = if upper == "INCR" {
                    (1, IncrForm::Incr)
                } else {
                    (-1, IncrForm::Decr)
                };
                Ok(Command::IncrBy {
                    key: rest[0].clone(),
                    by,
                    form,
                })
            }
            "INCRBY" | "DECRBY" => {
                need(2)?;
                let n = parse_int_arg(&rest[1])?;
                let (by, form) = if upper == "INCRBY" {
                    (n, IncrForm::IncrBy)
                } else {
                    let neg = n
                        .checked_neg()
                        .ok_or_else(|| ExecError("ERR decrement would overflow".into()))?;
                    (neg, IncrForm::DecrBy)
                };
                Ok(Command::IncrBy {
                    key: rest[0].clone(),
                    by,
                    form,
                })
            }
            _ => Err(ExecError(format!(
                "ERR unknown command '{}', with args beginning with: {} (supported: GET, SET, INCR, INCRBY, DECR, DECRBY)",
                String::from_utf8_lossy(name),
                rest.iter()
                    .map(|a| format!("'{}'", String::from_utf8_lossy(a)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ))),
        }
    }

    /// The RESP size of this command as it is propagated in the replication stream.
    pub fn stream_bytes(&self) -> u64 {
        match self {
            Command::Get { key } => command_bytes(&[3, key.len() as u64]),
            Command::Set { key, value } => {
                command_bytes(&[3, key.len() as u64, value.len() as u64])
            }
            Command::IncrBy { key, by, form } => match form {
                IncrForm::Incr | IncrForm::Decr => command_bytes(&[4, key.len() as u64]),
                IncrForm::IncrBy | IncrForm::DecrBy => {
                    // The argument as the client wrote it: DECRBY n was stored as by = -n.
                    let arg = if *form == IncrForm::DecrBy { -by } else { *by };
                    let len = digits(arg.unsigned_abs()) + u64::from(arg < 0);
                    command_bytes(&[6, key.len() as u64, len])
                }
            },
        }
    }
}

/// Executes `cmd` at instance `origin`, whose clock reads `wall_ms`, against `ks`. A write
/// is applied locally and returned as an [`Effect`] to replicate; a read or a rejected write
/// returns no effect.
pub fn execute(
    ks: &mut Keyspace,
    cmd: &Command,
    origin: InstanceId,
    wall_ms: u64,
) -> (Reply, Option<Effect>) {
    match cmd {
        Command::Get { key } => match ks.get(key) {
            Some(v) => (Reply::Bulk(v.to_bytes()), None),
            None => (Reply::Nil, None),
        },
        Command::Set { key, value } => {
            let op = ks.prepare_set(key, value.clone(), origin, wall_ms);
            ks.apply(&op);
            let stream_bytes = cmd.stream_bytes();
            (Reply::Ok, Some(Effect { op, stream_bytes }))
        }
        Command::IncrBy { key, by, .. } => {
            let current = match ks.get(key) {
                None => 0,
                Some(v) => match v.as_i64() {
                    Some(n) => n,
                    None => {
                        return (
                            Reply::Error("ERR value is not an integer or out of range".into()),
                            None,
                        );
                    }
                },
            };
            let Some(next) = current.checked_add(*by) else {
                return (
                    Reply::Error("ERR increment or decrement would overflow".into()),
                    None,
                );
            };
            let op = ks.prepare_incr(key, *by, origin);
            ks.apply(&op);
            let stream_bytes = cmd.stream_bytes();
            (Reply::Int(next), Some(Effect { op, stream_bytes }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn tokenizer_handles_quotes_like_redis_cli() {
        assert_eq!(
            tokenize(r#"SET "a b" 'c d'"#).unwrap(),
            args(&["SET", "a b", "c d"])
        );
        assert_eq!(tokenize(r#"SET k "x\ny""#).unwrap()[2], b"x\ny".to_vec());
        assert_eq!(tokenize(r#"SET k "\x41""#).unwrap()[2], b"A".to_vec());
        assert!(tokenize(r#"SET "k"#).is_err());
        assert!(tokenize(r#"SET "k"x"#).is_err());
    }

    #[test]
    fn replies_and_errors_are_redis_shaped() {
        let mut ks = Keyspace::new(2);
        let i1 = InstanceId(0);
        let run = |ks: &mut Keyspace, line: &str| execute(ks, &parse_line(line).unwrap(), i1, 1).0;
        assert_eq!(run(&mut ks, "SET k 7"), Reply::Ok);
        assert_eq!(run(&mut ks, "INCR k"), Reply::Int(8));
        assert_eq!(run(&mut ks, "DECRBY k 10"), Reply::Int(-2));
        assert_eq!(run(&mut ks, "GET k").to_string(), "\"-2\"");
        assert_eq!(run(&mut ks, "GET nope"), Reply::Nil);
        run(&mut ks, "SET s abc");
        assert_eq!(
            run(&mut ks, "INCR s"),
            Reply::Error("ERR value is not an integer or out of range".into())
        );
        assert_eq!(
            parse_line("GET").unwrap_err().0,
            "ERR wrong number of arguments for 'get' command"
        );
        assert!(
            parse_line("FLUSHALL")
                .unwrap_err()
                .0
                .starts_with("ERR unknown command 'FLUSHALL'")
        );
    }

    #[test]
    fn stream_bytes_follow_resp() {
        let set = parse_line("SET kkkkkkkkkkkkkkkk vvv").unwrap();
        assert_eq!(set.stream_bytes(), 23 + 16 + 3 + 2 + 1);
        // *2\r\n$4\r\nINCR\r\n$1\r\nk\r\n = 4 + 10 + 7
        assert_eq!(parse_line("INCR k").unwrap().stream_bytes(), 21);
        // *3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$2\r\n-5\r\n = 4 + 12 + 7 + 8
        assert_eq!(parse_line("INCRBY k -5").unwrap().stream_bytes(), 31);
        assert_eq!(parse_line("DECRBY k -5").unwrap().stream_bytes(), 31);
        assert_eq!(parse_line("DECRBY k 5").unwrap().stream_bytes(), 30);
    }
}
