//! Every Redis command family and where geosim stands on each command: supported (in the
//! command table), refused by Active-Active (with the documented reason), or not modelled by
//! geosim. A command line naming one of the last two gets an error that says which, and the
//! two never share a message; `docs/semantics.md` ("Command coverage") holds the table that
//! [`coverage_markdown`] writes (a test keeps them equal).

use super::command::TABLE;

/// The command families of Redis 7 (and of the modules Active-Active supports), with their
/// commands, as the Redis documentation groups them.
pub const FAMILIES: &[(&str, &[&str])] = &[
    (
        "string",
        &[
            "APPEND",
            "DECR",
            "DECRBY",
            "GET",
            "GETDEL",
            "GETEX",
            "GETRANGE",
            "GETSET",
            "INCR",
            "INCRBY",
            "INCRBYFLOAT",
            "LCS",
            "MGET",
            "MSET",
            "MSETNX",
            "PSETEX",
            "SET",
            "SETEX",
            "SETNX",
            "SETRANGE",
            "STRLEN",
            "SUBSTR",
        ],
    ),
    (
        "bitmap",
        &[
            "BITCOUNT",
            "BITFIELD",
            "BITFIELD_RO",
            "BITOP",
            "BITPOS",
            "GETBIT",
            "SETBIT",
        ],
    ),
    (
        "hash",
        &[
            "HDEL",
            "HEXISTS",
            "HEXPIRE",
            "HEXPIREAT",
            "HEXPIRETIME",
            "HGET",
            "HGETALL",
            "HGETDEL",
            "HGETEX",
            "HINCRBY",
            "HINCRBYFLOAT",
            "HKEYS",
            "HLEN",
            "HMGET",
            "HMSET",
            "HPERSIST",
            "HPEXPIRE",
            "HPEXPIREAT",
            "HPEXPIRETIME",
            "HPTTL",
            "HRANDFIELD",
            "HSCAN",
            "HSET",
            "HSETEX",
            "HSETNX",
            "HSTRLEN",
            "HTTL",
            "HVALS",
        ],
    ),
    (
        "list",
        &[
            "BLMOVE",
            "BLMPOP",
            "BLPOP",
            "BRPOP",
            "BRPOPLPUSH",
            "LINDEX",
            "LINSERT",
            "LLEN",
            "LMOVE",
            "LMPOP",
            "LPOP",
            "LPOS",
            "LPUSH",
            "LPUSHX",
            "LRANGE",
            "LREM",
            "LSET",
            "LTRIM",
            "RPOP",
            "RPOPLPUSH",
            "RPUSH",
            "RPUSHX",
        ],
    ),
    (
        "set",
        &[
            "SADD",
            "SCARD",
            "SDIFF",
            "SDIFFSTORE",
            "SINTER",
            "SINTERCARD",
            "SINTERSTORE",
            "SISMEMBER",
            "SMEMBERS",
            "SMISMEMBER",
            "SMOVE",
            "SPOP",
            "SRANDMEMBER",
            "SREM",
            "SSCAN",
            "SUNION",
            "SUNIONSTORE",
        ],
    ),
    (
        "sorted set",
        &[
            "BZMPOP",
            "BZPOPMAX",
            "BZPOPMIN",
            "ZADD",
            "ZCARD",
            "ZCOUNT",
            "ZDIFF",
            "ZDIFFSTORE",
            "ZINCRBY",
            "ZINTER",
            "ZINTERCARD",
            "ZINTERSTORE",
            "ZLEXCOUNT",
            "ZMPOP",
            "ZMSCORE",
            "ZPOPMAX",
            "ZPOPMIN",
            "ZRANDMEMBER",
            "ZRANGE",
            "ZRANGEBYLEX",
            "ZRANGEBYSCORE",
            "ZRANGESTORE",
            "ZRANK",
            "ZREM",
            "ZREMRANGEBYLEX",
            "ZREMRANGEBYRANK",
            "ZREMRANGEBYSCORE",
            "ZREVRANGE",
            "ZREVRANGEBYLEX",
            "ZREVRANGEBYSCORE",
            "ZREVRANK",
            "ZSCAN",
            "ZSCORE",
            "ZUNION",
            "ZUNIONSTORE",
        ],
    ),
    (
        "stream",
        &[
            "XACK",
            "XADD",
            "XAUTOCLAIM",
            "XCLAIM",
            "XDEL",
            "XGROUP",
            "XINFO",
            "XLEN",
            "XPENDING",
            "XRANGE",
            "XREAD",
            "XREADGROUP",
            "XREVRANGE",
            "XSETID",
            "XTRIM",
        ],
    ),
    (
        "hyperloglog",
        &["PFADD", "PFCOUNT", "PFDEBUG", "PFMERGE", "PFSELFTEST"],
    ),
    (
        "geospatial",
        &[
            "GEOADD",
            "GEODIST",
            "GEOHASH",
            "GEOPOS",
            "GEORADIUS",
            "GEORADIUSBYMEMBER",
            "GEORADIUSBYMEMBER_RO",
            "GEORADIUS_RO",
            "GEOSEARCH",
            "GEOSEARCHSTORE",
        ],
    ),
    (
        "generic (keys)",
        &[
            "COPY",
            "DEL",
            "DUMP",
            "EXISTS",
            "EXPIRE",
            "EXPIREAT",
            "EXPIRETIME",
            "KEYS",
            "MIGRATE",
            "MOVE",
            "OBJECT",
            "PERSIST",
            "PEXPIRE",
            "PEXPIREAT",
            "PEXPIRETIME",
            "PTTL",
            "RANDOMKEY",
            "RENAME",
            "RENAMENX",
            "RESTORE",
            "SCAN",
            "SORT",
            "SORT_RO",
            "TOUCH",
            "TTL",
            "TYPE",
            "UNLINK",
            "WAIT",
            "WAITAOF",
        ],
    ),
    (
        "pub/sub",
        &[
            "PSUBSCRIBE",
            "PUBLISH",
            "PUBSUB",
            "PUNSUBSCRIBE",
            "SPUBLISH",
            "SSUBSCRIBE",
            "SUBSCRIBE",
            "SUNSUBSCRIBE",
            "UNSUBSCRIBE",
        ],
    ),
    (
        "transactions",
        &["DISCARD", "EXEC", "MULTI", "UNWATCH", "WATCH"],
    ),
    (
        "scripting and functions",
        &[
            "EVAL",
            "EVALSHA",
            "EVALSHA_RO",
            "EVAL_RO",
            "FCALL",
            "FCALL_RO",
            "FUNCTION",
            "SCRIPT",
        ],
    ),
    (
        "connection",
        &[
            "AUTH", "CLIENT", "ECHO", "HELLO", "PING", "QUIT", "RESET", "SELECT",
        ],
    ),
    (
        "server",
        &[
            "ACL",
            "BGREWRITEAOF",
            "BGSAVE",
            "COMMAND",
            "CONFIG",
            "DBSIZE",
            "DEBUG",
            "FAILOVER",
            "FLUSHALL",
            "FLUSHDB",
            "INFO",
            "LASTSAVE",
            "LATENCY",
            "LOLWUT",
            "MEMORY",
            "MODULE",
            "MONITOR",
            "PSYNC",
            "REPLCONF",
            "REPLICAOF",
            "SAVE",
            "SHUTDOWN",
            "SLAVEOF",
            "SLOWLOG",
            "SWAPDB",
            "SYNC",
            "TIME",
        ],
    ),
    ("cluster", &["ASKING", "CLUSTER", "READONLY", "READWRITE"]),
    (
        "JSON (module)",
        &[
            "JSON.ARRAPPEND",
            "JSON.ARRINDEX",
            "JSON.ARRINSERT",
            "JSON.ARRLEN",
            "JSON.ARRPOP",
            "JSON.ARRTRIM",
            "JSON.CLEAR",
            "JSON.DEBUG",
            "JSON.DEL",
            "JSON.FORGET",
            "JSON.GET",
            "JSON.MERGE",
            "JSON.MGET",
            "JSON.MSET",
            "JSON.NUMINCRBY",
            "JSON.NUMMULTBY",
            "JSON.OBJKEYS",
            "JSON.OBJLEN",
            "JSON.RESP",
            "JSON.SET",
            "JSON.STRAPPEND",
            "JSON.STRLEN",
            "JSON.TOGGLE",
            "JSON.TYPE",
        ],
    ),
    (
        "search (module)",
        &[
            "FT.AGGREGATE",
            "FT.ALIASADD",
            "FT.ALIASDEL",
            "FT.ALIASUPDATE",
            "FT.ALTER",
            "FT.CREATE",
            "FT.DICTADD",
            "FT.DICTDEL",
            "FT.DICTDUMP",
            "FT.DROPINDEX",
            "FT.EXPLAIN",
            "FT.INFO",
            "FT.SEARCH",
            "FT.SPELLCHECK",
            "FT.SUGADD",
            "FT.SUGDEL",
            "FT.SUGGET",
            "FT.SUGLEN",
            "FT.SYNDUMP",
            "FT.SYNUPDATE",
            "FT.TAGVALS",
        ],
    ),
    (
        "vector set",
        &[
            "VADD",
            "VCARD",
            "VDIM",
            "VEMB",
            "VGETATTR",
            "VINFO",
            "VLINKS",
            "VRANDMEMBER",
            "VREM",
            "VSETATTR",
            "VSIM",
        ],
    ),
];

/// What Active-Active refuses, with the reason its documentation gives: `(command,
/// subcommand if only one is refused, why, source)`.
const REFUSED: &[(&str, Option<&str>, &str, &str)] = &[
    (
        "FLUSHALL",
        None,
        "it is not allowed from clients; flush with crdb-cli or the REST API",
        "COMPAT server",
    ),
    (
        "FLUSHDB",
        None,
        "it is not allowed from clients; flush with crdb-cli or the REST API",
        "COMPAT server",
    ),
    (
        "OBJECT",
        Some("ENCODING"),
        "the CRDT types have their own encodings; use CRDT.DEBUG ENCODING",
        "COMPAT",
    ),
    (
        "RESTORE",
        None,
        "it restores only module keys (a DUMP of a CRDT type cannot be restored)",
        "COMPAT",
    ),
    (
        "WAIT",
        None,
        "it cannot wait for other instances: writes reach them asynchronously through the syncers, and WAIT counts only replicas in the local cluster",
        "COMPAT",
    ),
    (
        "FT.DROPINDEX",
        None,
        "it is not supported for Active-Active databases",
        "SEARCH",
    ),
    (
        "FT.SUGADD",
        None,
        "suggestion dictionaries are not supported for Active-Active databases",
        "SEARCH",
    ),
    (
        "FT.SUGDEL",
        None,
        "suggestion dictionaries are not supported for Active-Active databases",
        "SEARCH",
    ),
    (
        "FT.SUGGET",
        None,
        "suggestion dictionaries are not supported for Active-Active databases",
        "SEARCH",
    ),
    (
        "FT.SUGLEN",
        None,
        "suggestion dictionaries are not supported for Active-Active databases",
        "SEARCH",
    ),
];

/// Vector-set commands: all refused [COMPAT].
const VECTOR_SETS: &str = "vector sets are not supported in Active-Active databases";

/// Where geosim stands on a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// In the command table: geosim runs it.
    Supported,
    /// Active-Active refuses it: the reason and the documentation it comes from.
    Refused(&'static str, &'static str),
    /// A Redis command geosim does not model.
    NotModelled,
    /// Not a Redis command at all.
    Unknown,
}

/// Where geosim stands on command `name` (any case), with its first argument `sub` if any
/// (a refusal can concern one subcommand, as `OBJECT ENCODING`).
pub fn status(name: &str, sub: Option<&str>) -> Status {
    let upper = name.to_ascii_uppercase();
    if let Some((_, _, why, source)) = REFUSED.iter().find(|(n, s, _, _)| {
        *n == upper && s.is_none_or(|s| sub.is_some_and(|x| x.eq_ignore_ascii_case(s)))
    }) {
        return Status::Refused(why, source);
    }
    if TABLE.iter().any(|s| s.name == upper) {
        return Status::Supported;
    }
    match FAMILIES
        .iter()
        .find(|(_, cmds)| cmds.contains(&upper.as_str()))
    {
        Some(("vector set", _)) => Status::Refused(VECTOR_SETS, "COMPAT"),
        Some(_) => Status::NotModelled,
        None => Status::Unknown,
    }
}

/// How an error names command `name` with first argument `sub`: with the subcommand when
/// the refusal concerns only it (`OBJECT ENCODING`).
pub fn display_name(name: &str, sub: Option<&str>) -> String {
    let upper = name.to_ascii_uppercase();
    match (
        REFUSED
            .iter()
            .find(|(n, s, _, _)| *n == upper && s.is_some()),
        sub,
    ) {
        (Some((_, Some(s), _, _)), Some(x)) if x.eq_ignore_ascii_case(s) => format!("{upper} {s}"),
        _ => upper,
    }
}

/// The error a refused command gets: it names Active-Active and the reason.
pub fn refused_message(name: &str, why: &str) -> String {
    format!("ERR {name} is not supported in an Active-Active database: {why}")
}

/// The error a Redis command geosim does not model gets: it names geosim, never
/// Active-Active.
pub fn not_modelled_message(name: &str) -> String {
    format!(
        "ERR {name} is a Redis command that geosim does not model (docs/semantics.md, \"Command coverage\", lists what it runs)"
    )
}

/// The table of every family in `docs/semantics.md`: per family, the commands geosim runs,
/// those Active-Active refuses, and those geosim does not model.
pub fn coverage_markdown() -> String {
    let mut out = String::from(
        "| family | supported by geosim | refused by Active-Active | not modelled by geosim |\n|---|---|---|---|\n",
    );
    let (mut n_sup, mut n_ref, mut n_not) = (0, 0, 0);
    for (family, cmds) in FAMILIES {
        let (mut sup, mut refused, mut not) = (Vec::new(), Vec::new(), Vec::new());
        for c in *cmds {
            match status(c, None) {
                Status::Supported => sup.push(format!("`{c}`")),
                Status::Refused(_, source) => refused.push(format!("`{c}` [{source}]")),
                _ => {
                    // A command refused only for one subcommand is otherwise not modelled.
                    if let Some((_, Some(s), _, source)) =
                        REFUSED.iter().find(|(n, s, _, _)| n == c && s.is_some())
                    {
                        refused.push(format!("`{c} {s}` [{source}]"));
                    }
                    not.push(format!("`{c}`"));
                }
            }
        }
        n_sup += sup.len();
        n_ref += refused.len();
        n_not += not.len();
        let cell = |v: &[String]| {
            if v.is_empty() {
                "—".to_string()
            } else {
                v.join(" ")
            }
        };
        out.push_str(&format!(
            "| {family} | {} | {} | {} |\n",
            cell(&sup),
            cell(&refused),
            cell(&not)
        ));
    }
    out.push_str(&format!(
        "\n{n_sup} commands supported, {n_ref} refused by Active-Active, {n_not} not modelled.\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/semantics.md` holds the table between these markers; `GEOSIM_BLESS=1` rewrites
    /// it after a change of the command table.
    #[test]
    fn the_coverage_table_in_the_docs_is_current() {
        const BEGIN: &str =
            "<!-- command coverage: generated by redis::families, do not edit -->\n";
        const END: &str = "<!-- end of command coverage -->";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/semantics.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
            panic!("docs/semantics.md lacks the command coverage markers");
        };
        let current = &doc[b + BEGIN.len()..e];
        let table = coverage_markdown();
        if current != table {
            if std::env::var("GEOSIM_BLESS").is_ok() {
                let new = format!("{}{BEGIN}{table}{}", &doc[..b], &doc[e..]);
                std::fs::write(&path, new).unwrap();
            } else {
                panic!(
                    "docs/semantics.md's command coverage is stale (GEOSIM_BLESS=1 rewrites it):\n{table}"
                );
            }
        }
    }

    #[test]
    fn every_supported_command_is_in_a_family() {
        for s in TABLE {
            assert!(
                FAMILIES.iter().any(|(_, c)| c.contains(&s.name)),
                "{} is in no family",
                s.name
            );
        }
    }

    #[test]
    fn refused_and_not_modelled_never_share_a_message() {
        for (_, cmds) in FAMILIES {
            for c in *cmds {
                let (refused, not) = (refused_message(c, "why"), not_modelled_message(c));
                assert!(refused.contains("Active-Active") && !refused.contains("geosim"));
                assert!(not.contains("geosim") && !not.contains("Active-Active"));
                assert_ne!(refused, not);
            }
        }
        assert_eq!(
            status("object", Some("encoding")),
            Status::Refused(
                "the CRDT types have their own encodings; use CRDT.DEBUG ENCODING",
                "COMPAT"
            )
        );
        assert_eq!(status("OBJECT", Some("FREQ")), Status::NotModelled);
        assert_eq!(status("xreadgroup", None), Status::Supported);
        assert_eq!(status("XSETID", None), Status::Supported);
        assert_eq!(status("LCS", None), Status::NotModelled);
        assert_eq!(status("VADD", None), Status::Refused(VECTOR_SETS, "COMPAT"));
        assert_eq!(status("get", None), Status::Supported);
        assert_eq!(status("NOPE", None), Status::Unknown);
    }
}
