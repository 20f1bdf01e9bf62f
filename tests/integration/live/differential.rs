//! Seeded random command sequences sent to geosim's command executor (one instance, no
//! concurrency) and to a live Redis primary with a replica attached: the replies must be
//! the same, and so must the bytes each command adds to the replication stream (the
//! primary's `master_repl_offset` delta), except where Active-Active differs from plain
//! Redis by design (`EXCLUDED`, documented in docs/semantics.md).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use geosim::crdt::keyspace::Expiry;
use geosim::crdt::stream::XaddIdMode;
use geosim::crdt::{InstanceId, Keyspace};
use geosim::redis::{Command, ExecContext, Reply, execute};

use super::server::{Conn, Pair, Resp};

/// Key pools by type: a command picks from its own type's pool, and now and then from any
/// pool (a wrong-type key).
const STRINGS: &[&str] = &["s0", "s1", "s2"];
const COUNTERS: &[&str] = &["n0", "n1"];
const HASHES: &[&str] = &["h0", "h1"];
const SETS: &[&str] = &["t0", "t1"];
const ZSETS: &[&str] = &["z0", "z1"];
const LISTS: &[&str] = &["l0", "l1"];
pub(super) const STREAMS: &[&str] = &["x0"];
/// In one hash slot (`{p}`): geosim, like a clustered database, refuses a multi-key command
/// across slots with `CROSSSLOT`, where a single plain Redis accepts it.
const HLLS: &[&str] = &["{p}0", "{p}1"];
/// Strings in one hash slot (`{m}`), for `MSET`, `MSETNX`, `MGET` and `TOUCH`.
const MSTRINGS: &[&str] = &["{m}0", "{m}1", "{m}2"];
const ALL: &[&[&str]] = &[
    STRINGS, COUNTERS, HASHES, SETS, ZSETS, LISTS, STREAMS, HLLS, MSTRINGS,
];
/// Whether `word` is one of the test's keys.
pub fn is_key(word: &str) -> bool {
    ALL.iter().any(|pool| pool.contains(&word))
}

/// 2100-01-01 in seconds and milliseconds: absolute expiry times in the future (a TTL under
/// Active-Active's 2^49 ms bound).
const EXAT_FUTURE: &str = "4102444800";
const PXAT_FUTURE: &str = "4102444800000";

const VALUES: &[&str] = &[
    "a",
    "b",
    "hello",
    "12",
    "-3",
    "0",
    "1.5",
    "9223372036854775807",
    "",
];
const FIELDS: &[&str] = &["f", "g", "h"];
const NUMBERS: &[&str] = &["1", "2", "-1", "10", "0", "100", "x", "1.5", "-2.5"];

pub(super) fn pick<'a>(r: &mut ChaCha8Rng, v: &[&'a str]) -> &'a str {
    v[r.random_range(0..v.len())]
}

pub(super) fn key(r: &mut ChaCha8Rng, pool: &[&'static str]) -> &'static str {
    if r.random_range(0..10) == 0 {
        let any = ALL[r.random_range(0..ALL.len())];
        pick(r, any)
    } else {
        pick(r, pool)
    }
}

/// String commands that read or change a string's bytes.
const STRING_COMMANDS: &[&str] = &[
    "GET",
    "STRLEN",
    "APPEND",
    "SETRANGE",
    "GETSET",
    "SETNX",
    "INCR",
    "DECR",
    "INCRBY",
    "DECRBY",
    "INCRBYFLOAT",
    "GETRANGE",
    "SUBSTR",
    "GETDEL",
    "GETEX",
    "MGET",
];

/// Why a command is not sent at all, if it is excluded by design.
fn not_sent(ks: &Keyspace, words: &[String]) -> Option<&'static str> {
    let name = words[0].to_ascii_uppercase();
    // `MGET` reads every key it names; the others, their first.
    let keys = if name == "MGET" {
        &words[1..]
    } else {
        &words[1..2]
    };
    let on_hll = keys.iter().any(|k| {
        ks.entry(k.as_bytes())
            .is_some_and(|e| e.key_type() == Some(geosim::crdt::KeyType::Hll))
    });
    let string_command = STRING_COMMANDS.contains(&name.as_str())
        || (name == "SET" && words.iter().any(|w| w.eq_ignore_ascii_case("GET")));
    (on_hll && string_command).then_some(
        "string commands on a HyperLogLog key: plain Redis keeps an HLL in a string and \
         allows them; Active-Active allows only GET and SET there [HLL], and geosim does not \
         materialise the encoding (its GET of an HLL is an error)",
    )
}

/// One random command as its words.
fn command(r: &mut ChaCha8Rng, next_id: &mut u64) -> Vec<String> {
    let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let n = |r: &mut ChaCha8Rng| pick(r, NUMBERS).to_string();
    let v = |r: &mut ChaCha8Rng| pick(r, VALUES).to_string();
    let f = |r: &mut ChaCha8Rng| pick(r, FIELDS).to_string();
    match r.random_range(0..78) {
        0 => w(&["SET", key(r, STRINGS)])
            .into_iter()
            .chain([v(r)])
            .collect(),
        1 => {
            let mut c = w(&["SET", key(r, STRINGS)]);
            c.push(v(r));
            let opts: &[&[&str]] = &[
                &["NX"],
                &["XX"],
                &["GET"],
                &["EX", "100"],
                &["PX", "5000"],
                &["KEEPTTL"],
            ];
            c.extend(w(opts[r.random_range(0..opts.len())]));
            c
        }
        2 => w(&["GET", key(r, STRINGS)]),
        3 => vec!["SETNX".into(), key(r, STRINGS).into(), v(r)],
        4 => vec!["GETSET".into(), key(r, STRINGS).into(), v(r)],
        5 => vec!["APPEND".into(), key(r, STRINGS).into(), v(r)],
        6 => vec![
            "SETRANGE".into(),
            key(r, STRINGS).into(),
            pick(r, &["0", "2", "5"]).into(),
            v(r),
        ],
        7 => w(&["STRLEN", key(r, STRINGS)]),
        8 => w(&[pick(r, &["INCR", "DECR"]), key(r, COUNTERS)]),
        9 => vec![
            pick(r, &["INCRBY", "DECRBY"]).into(),
            key(r, COUNTERS).into(),
            n(r),
        ],
        10 => vec!["INCRBYFLOAT".into(), key(r, COUNTERS).into(), n(r)],
        11 => w(&["GET", key(r, COUNTERS)]),
        12 => vec!["HSET".into(), key(r, HASHES).into(), f(r), v(r)],
        13 => vec!["HGET".into(), key(r, HASHES).into(), f(r)],
        14 => w(&["HGETALL", key(r, HASHES)]),
        15 => vec!["HDEL".into(), key(r, HASHES).into(), f(r)],
        16 => w(&["HLEN", key(r, HASHES)]),
        17 => vec!["HEXISTS".into(), key(r, HASHES).into(), f(r)],
        18 => vec!["HINCRBY".into(), key(r, HASHES).into(), f(r), n(r)],
        19 => vec!["HINCRBYFLOAT".into(), key(r, HASHES).into(), f(r), n(r)],
        20 => vec!["SADD".into(), key(r, SETS).into(), v(r), v(r)],
        21 => vec!["SREM".into(), key(r, SETS).into(), v(r)],
        22 => w(&["SMEMBERS", key(r, SETS)]),
        23 => vec!["SISMEMBER".into(), key(r, SETS).into(), v(r)],
        24 => w(&["SCARD", key(r, SETS)]),
        25 => vec!["ZADD".into(), key(r, ZSETS).into(), n(r), f(r)],
        26 => vec!["ZINCRBY".into(), key(r, ZSETS).into(), n(r), f(r)],
        27 => vec!["ZREM".into(), key(r, ZSETS).into(), f(r)],
        28 => vec!["ZSCORE".into(), key(r, ZSETS).into(), f(r)],
        29 => w(&["ZRANGE", key(r, ZSETS), "0", "-1"]),
        30 => w(&["ZCARD", key(r, ZSETS)]),
        31 => {
            let mut c = vec![
                pick(r, &["LPUSH", "RPUSH"]).into(),
                key(r, LISTS).into(),
                v(r),
            ];
            if r.random_range(0..3) == 0 {
                c.push(v(r));
            }
            c
        }
        32 => w(&[pick(r, &["LPOP", "RPOP"]), key(r, LISTS)]),
        33 => vec![
            "LINSERT".into(),
            key(r, LISTS).into(),
            pick(r, &["BEFORE", "AFTER"]).into(),
            v(r),
            v(r),
        ],
        34 => w(&["LRANGE", key(r, LISTS), "0", "-1"]),
        35 => vec![
            "LREM".into(),
            key(r, LISTS).into(),
            pick(r, &["0", "1", "-1"]).into(),
            v(r),
        ],
        36 => vec![
            "LSET".into(),
            key(r, LISTS).into(),
            pick(r, &["0", "-1", "3"]).into(),
            v(r),
        ],
        37 => {
            *next_id += 1;
            // A full ID, or a millisecond-only one (Redis makes it `ms-0` in liberal mode and
            // replicates the ID it made).
            let id = if r.random_bool(0.3) {
                format!("{next_id}")
            } else {
                format!("{next_id}-1")
            };
            vec!["XADD".into(), key(r, STREAMS).into(), id, f(r), v(r)]
        }
        38 => w(&["XLEN", key(r, STREAMS)]),
        48 => w(&["LLEN", key(r, LISTS)]),
        49 => {
            let all: Vec<&str> = ALL.iter().flat_map(|p| p.iter().copied()).collect();
            w(&["UNLINK", pick(r, &all)])
        }
        50 => {
            let name = pick(r, &["HSET", "HMSET"]);
            vec![name.into(), key(r, HASHES).into(), f(r), v(r), f(r), v(r)]
        }
        51 => {
            let flags: &[&[&str]] = &[&[], &["NX"], &["XX"], &["CH"], &["XX", "CH"]];
            let mut c = w(&["ZADD", key(r, ZSETS)]);
            c.extend(w(flags[r.random_range(0..flags.len())]));
            c.extend([n(r), f(r), n(r), f(r)]);
            c
        }
        52 => w(&["ZRANGE", key(r, ZSETS), "0", "-1", "WITHSCORES"]),
        53 => w(&[
            "XRANGE",
            key(r, STREAMS),
            "-",
            "+",
            "COUNT",
            pick(r, &["1", "2"]),
        ]),
        54 => vec![
            pick(r, &["GETRANGE", "SUBSTR"]).into(),
            key(r, STRINGS).into(),
            pick(r, &["0", "1", "-1", "-3", "5", "100", "-100", "x"]).into(),
            pick(r, &["0", "2", "-1", "-2", "100", "-100"]).into(),
        ],
        55 => w(&["GETDEL", key(r, STRINGS)]),
        56 => {
            let opts: &[&[&str]] = &[
                &[],
                &["EX", "100"],
                &["PX", "5000"],
                &["EXAT", EXAT_FUTURE],
                &["PXAT", PXAT_FUTURE],
                &["EXAT", "1"],
                &["PERSIST"],
                &["EX", "0"],
                &["EX", "100", "PERSIST"],
            ];
            let mut c = w(&["GETEX", key(r, STRINGS)]);
            c.extend(w(opts[r.random_range(0..opts.len())]));
            c
        }
        57 => {
            let mut c = w(&["SET", key(r, STRINGS)]);
            c.push(v(r));
            let opts: &[&[&str]] = &[
                &["EXAT", EXAT_FUTURE],
                &["PXAT", PXAT_FUTURE],
                &["PXAT", PXAT_FUTURE, "GET"],
                &["EX", "10", "EX", "100"],
                &["NX", "EXAT", EXAT_FUTURE],
                &["KEEPTTL", "EX", "5"],
            ];
            c.extend(w(opts[r.random_range(0..opts.len())]));
            c
        }
        58 => vec![
            pick(r, &["SETEX", "PSETEX"]).into(),
            key(r, STRINGS).into(),
            pick(r, &["100", "5000", "0", "-1", "x"]).into(),
            v(r),
        ],
        59 | 60 => {
            let mut c = vec![pick(r, &["MSET", "MSETNX"]).to_string()];
            for _ in 0..r.random_range(1..=3) {
                c.push(pick(r, MSTRINGS).into());
                c.push(v(r));
            }
            if r.random_range(0..10) == 0 {
                c.pop();
            }
            c
        }
        61 | 62 => {
            let mut c = vec![pick(r, &["MGET", "TOUCH"]).to_string()];
            for _ in 0..r.random_range(1..=3) {
                c.push(pick(r, MSTRINGS).into());
            }
            c
        }
        63 => w(&[pick(r, &["GET", "TTL", "STRLEN"]), pick(r, MSTRINGS)]),
        64 => {
            let bounds = ["-", "+", "1", "2-1", "(1-1", "(2", "(0-0", "3", "(+", "x"];
            let mut c = vec![
                pick(r, &["XRANGE", "XREVRANGE"]).to_string(),
                key(r, STREAMS).into(),
                pick(r, &bounds).into(),
                pick(r, &bounds).into(),
            ];
            if r.random_bool(0.4) {
                c.extend([
                    "COUNT".to_string(),
                    pick(r, &["0", "1", "2", "-1", "x"]).into(),
                ]);
            }
            c
        }
        65 | 66 => {
            let mut c = vec!["XREAD".to_string()];
            if r.random_bool(0.4) {
                c.extend(["COUNT".to_string(), pick(r, &["0", "1", "2", "-1"]).into()]);
            }
            if r.random_bool(0.2) {
                c.extend(["BLOCK".to_string(), "1".into()]);
            }
            c.push("STREAMS".into());
            let ids = ["0", "0-0", "1-1", "2", "$", "+", ">", "x"];
            if r.random_bool(0.2) {
                c.extend([
                    "x0".to_string(),
                    "x0".into(),
                    pick(r, &ids).into(),
                    pick(r, &ids).into(),
                ]);
            } else {
                c.extend([key(r, STREAMS).to_string(), pick(r, &ids).into()]);
            }
            c
        }
        67 => {
            // Keys of every type in one slot, for RENAME and COPY.
            let k = pick(r, MSTRINGS).to_string();
            match r.random_range(0..7) {
                0 => vec!["HSET".into(), k, f(r), v(r)],
                1 => vec!["SADD".into(), k, v(r), v(r)],
                2 => vec!["RPUSH".into(), k, v(r), v(r)],
                3 => vec!["ZADD".into(), k, n(r), f(r)],
                4 => vec!["PFADD".into(), k, v(r)],
                5 => vec!["HINCRBY".into(), k, f(r), n(r)],
                _ => vec!["PEXPIRE".into(), k, "100000".into()],
            }
        }
        71..=77 => super::stream_commands::group_command(r, *next_id),
        68 => vec![
            pick(r, &["RENAME", "RENAMENX"]).into(),
            pick(r, MSTRINGS).into(),
            pick(r, MSTRINGS).into(),
        ],
        69 => {
            let mut c = vec![
                "COPY".to_string(),
                pick(r, MSTRINGS).into(),
                pick(r, MSTRINGS).into(),
            ];
            let opts: &[&[&str]] = &[&[], &["REPLACE"], &["DB", "0"], &["FOO"]];
            c.extend(w(opts[r.random_range(0..opts.len())]));
            c
        }
        70 => {
            let k = pick(r, MSTRINGS);
            match r.random_range(0..8) {
                0 => w(&["TYPE", k]),
                1 => w(&["PTTL", k]),
                2 => w(&["HGETALL", k]),
                3 => w(&["SMEMBERS", k]),
                4 => w(&["LRANGE", k, "0", "-1"]),
                5 => w(&["ZRANGE", k, "0", "-1", "WITHSCORES"]),
                6 => w(&["PFCOUNT", k]),
                _ => w(&["GET", k]),
            }
        }
        44 => vec![
            "XDEL".into(),
            key(r, STREAMS).into(),
            format!("{}-1", r.random_range(1..=*next_id + 1)),
        ],
        45 => w(&["XRANGE", key(r, STREAMS), "-", "+"]),
        46 => w(&["PFMERGE", pick(r, HLLS), pick(r, HLLS)]),
        47 => {
            let all: Vec<&str> = ALL.iter().flat_map(|p| p.iter().copied()).collect();
            w(&["PTTL", pick(r, &all)])
        }
        39 => vec!["PFADD".into(), key(r, HLLS).into(), v(r), v(r)],
        40 => w(&["PFCOUNT", key(r, HLLS)]),
        41 => {
            let all: Vec<&str> = ALL.iter().flat_map(|p| p.iter().copied()).collect();
            w(&["DEL", pick(r, &all)])
        }
        42 => {
            let all: Vec<&str> = ALL.iter().flat_map(|p| p.iter().copied()).collect();
            w(&[
                pick(r, &["EXISTS", "TYPE", "TTL", "PERSIST"]),
                pick(r, &all),
            ])
        }
        _ => {
            let all: Vec<&str> = ALL.iter().flat_map(|p| p.iter().copied()).collect();
            vec![
                pick(r, &["EXPIRE", "PEXPIRE"]).into(),
                pick(r, &all).into(),
                pick(r, &["100", "100000", "0", "-5"]).into(),
            ]
        }
    }
}

/// geosim's reply in Redis's wire form.
fn wire(reply: &Reply) -> Resp {
    match reply {
        Reply::Status(s) => Resp::Status(s.to_string()),
        Reply::Nil => Resp::Bulk(None),
        Reply::NilArray => Resp::Array(None),
        Reply::Int(n) => Resp::Int(*n),
        Reply::Bulk(b) => Resp::Bulk(Some(b.clone())),
        Reply::Array(items) => Resp::Array(Some(items.iter().map(wire).collect())),
        Reply::Error(e) => Resp::Error(e.clone()),
    }
}

/// The primary's clock in milliseconds (`TIME`).
fn redis_ms(c: &mut Conn) -> u64 {
    match c.cmd("TIME") {
        Resp::Array(Some(parts)) => match (&parts[0], &parts[1]) {
            (Resp::Bulk(Some(s)), Resp::Bulk(Some(us))) => {
                let s: u64 = String::from_utf8_lossy(s).parse().unwrap();
                let us: u64 = String::from_utf8_lossy(us).parse().unwrap();
                s * 1000 + us / 1000
            }
            other => panic!("TIME: {other:?}"),
        },
        other => panic!("TIME: {other:?}"),
    }
}

/// What one command did on both sides.
#[derive(Debug)]
pub struct Compared {
    pub words: Vec<String>,
    /// Not sent to either side, and why.
    pub not_sent: Option<&'static str>,
    /// A key of the command expires (by geosim's clock) within `EXPIRY_RACE_MS` of it.
    pub near_expiry: bool,
    pub geosim: (Resp, u64),
    pub redis: (Resp, u64),
    /// The command left a key that plain Redis keeps and Active-Active does not, and why.
    pub gone_by_design: Option<&'static str>,
}

/// An empty stream whose last consumer group was destroyed: plain Redis keeps the empty
/// stream; in Active-Active a stream without entries exists through its groups (the docs'
/// `XGROUP DESTROY` example ends with `EXISTS x` → 0).
const EMPTY_STREAM_GONE: &str = "an empty stream whose last consumer group is destroyed: \
     plain Redis keeps the empty stream, Active-Active's docs show the key gone (EXISTS → 0) \
     [STREAM]";

/// The commands of seed `seed`.
pub fn seed_commands(seed: u64, count: usize) -> Vec<Vec<String>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut next_id = 0;
    (0..count)
        .map(|_| command(&mut rng, &mut next_id))
        .collect()
}

/// Runs `commands` on both sides from empty; returns every comparison.
pub fn run_commands(pair: &Pair, commands: &[Vec<String>]) -> Vec<Compared> {
    let mut c = pair.primary.conn();
    assert_eq!(c.cmd("FLUSHALL"), Resp::Status("OK".into()));
    // A first write, so that no later command carries the SELECT a stream starts with.
    c.cmd("SET warmup 1");
    c.cmd("DEL warmup");
    let mut ks = Keyspace::new(1);
    let mut out = Vec::with_capacity(commands.len());
    for words in commands {
        if let Some(why) = not_sent(&ks, words) {
            out.push(Compared {
                words: words.clone(),
                not_sent: Some(why),
                near_expiry: false,
                geosim: (Resp::Bulk(None), 0),
                redis: (Resp::Bulk(None), 0),
                gone_by_design: None,
            });
            continue;
        }
        let now_ms = redis_ms(&mut c);
        let before = c.info_u64("replication", "master_repl_offset");
        let redis_reply = c.call(words);
        let redis_bytes = c.info_u64("replication", "master_repl_offset") - before;
        // Redis ran the command somewhere between these two readings of its clock (several
        // ms apart on a loaded machine): an expiry in that window is a race of the harness.
        let after_ms = redis_ms(&mut c);
        let near_expiry = words[1..].iter().any(|k| {
            ks.entry(k.as_bytes()).is_some_and(|e| {
                matches!(e.expiry(), Some((Expiry::At(t), _))
                    if t + EXPIRY_RACE_MS >= now_ms && t <= after_ms + EXPIRY_RACE_MS)
            })
        });
        let args: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        let geosim = match Command::from_args(&args) {
            Ok(cmd) => {
                let cx = ExecContext {
                    origin: InstanceId(0),
                    now_ms,
                    xadd_mode: XaddIdMode::Liberal,
                    annotation: 0,
                };
                let o = execute(&mut ks, &cmd, &cx);
                let bytes = o.effects.iter().map(|e| e.stream_bytes).sum();
                (wire(&o.reply), bytes)
            }
            Err(e) => (Resp::Error(e.0), 0),
        };
        let destroyed = words[0].eq_ignore_ascii_case("XGROUP")
            && words[1].eq_ignore_ascii_case("DESTROY")
            && geosim.0 == Resp::Int(1);
        let gone = destroyed && ks.visible(words[2].as_bytes(), now_ms).is_none();
        out.push(Compared {
            words: words.clone(),
            not_sent: None,
            near_expiry,
            geosim,
            redis: (redis_reply, redis_bytes),
            gone_by_design: gone.then_some(EMPTY_STREAM_GONE),
        });
    }
    out
}

/// How close (ms) to a key's expiry, beyond the span between the two readings of Redis's
/// clock around the command, a command must be for the two sides to disagree about it by the
/// test's own timing: geosim runs at the time the first `TIME` returned, before Redis runs
/// the command, and Redis set the expiry from its own (slightly later) clock.
const EXPIRY_RACE_MS: u64 = 2;

/// A disagreement at a key's expiry instant (`EXPIRY_RACE_MS`): the harness's clocks, not
/// the model.
pub fn expiry_race(c: &Compared) -> Option<&'static str> {
    c.near_expiry.then_some(
        "a key expiring while Redis ran the command (between two readings of its clock, 2 ms \
         either side): geosim runs at the first reading, so one side may see the key expired \
         and the other not",
    )
}

/// Whether one comparison agrees: `Ok(None)` replies and stream bytes alike, `Ok(Some(why))`
/// a difference excluded by design, `Err(())` a mismatch.
pub fn verdict(c: &Compared) -> Result<Option<&'static str>, ()> {
    if !replies_agree(c) {
        return float_precision(c)
            .or_else(|| counter_width(c))
            .or_else(|| setid_backwards(c))
            .or_else(|| expiry_race(c))
            .map(Some)
            .ok_or(());
    }
    if c.geosim.1 == c.redis.1 {
        Ok(None)
    } else {
        bytes_excluded(c)
            .or_else(|| expiry_race(c))
            .map(Some)
            .ok_or(())
    }
}

pub fn agrees(c: &Compared) -> bool {
    verdict(c).is_ok()
}

/// An integer increment whose result lies beyond Active-Active's 59-bit counters: geosim
/// refuses it as Active-Active does (docs/semantics.md, counters), plain Redis goes to 64 bits.
fn counter_width(c: &Compared) -> Option<&'static str> {
    let overflow = Resp::Error("ERR increment or decrement would overflow".into());
    match (&c.geosim.0, &c.redis.0) {
        (g, Resp::Int(r)) if *g == overflow && !(-(1i64 << 58)..(1i64 << 58)).contains(r) => Some(
            "counter results beyond 59 bits: Active-Active's counters are 59-bit signed [STR], \
             geosim refuses them with Redis's overflow error, plain Redis goes to 64 bits",
        ),
        _ => None,
    }
}

/// `XSETID` below the stream's last ID (above its last entry): plain Redis accepts it,
/// Active-Active refuses it (the docs: "XSETID fails when the new ID is less than current ID").
fn setid_backwards(c: &Compared) -> Option<&'static str> {
    let refused = matches!(&c.geosim.0, Resp::Error(e)
        if e.starts_with("ERR The ID specified in XSETID is smaller than the current last ID"));
    (refused && c.redis.0 == Resp::Status("OK".into())).then_some(
        "XSETID below the stream's last ID: plain Redis accepts it, Active-Active refuses it \
         (XSETID fails when the new ID is less than the current one [STREAM])",
    )
}

/// A float increment whose result differs in its last digits (relative difference at most
/// 1e-15): Redis computes `INCRBYFLOAT` and `HINCRBYFLOAT` in long double, geosim in double
/// (docs/semantics.md, counters). Beyond 2^53 the digits differ often; below it now and then
/// (`-8.512 + 10` is `1.488` in long double, `1.4879999999999995` in double).
fn float_precision(c: &Compared) -> Option<&'static str> {
    let name = c.words[0].to_ascii_uppercase();
    if name != "INCRBYFLOAT" && name != "HINCRBYFLOAT" {
        return None;
    }
    let num = |r: &Resp| match r {
        Resp::Bulk(Some(b)) => String::from_utf8_lossy(b).parse::<f64>().ok(),
        _ => None,
    };
    let (g, r) = (num(&c.geosim.0)?, num(&c.redis.0)?);
    (r != 0.0 && ((g - r) / r).abs() <= 1e-15).then_some(
        "float increments whose last digits differ: Redis computes in long double, geosim in \
         double",
    )
}

/// Redis's `XINFO STREAM` reply without `radix-tree-keys` and `radix-tree-nodes`, the sizes
/// of its own radix tree, which geosim leaves out (docs/semantics.md).
fn without_radix_tree(r: &Resp) -> Resp {
    match r {
        Resp::Array(Some(items)) if items.len() % 2 == 0 => {
            let is =
                |x: &Resp, name: &str| matches!(x, Resp::Bulk(Some(b)) if b == name.as_bytes());
            if !items.iter().any(|x| is(x, "radix-tree-keys")) {
                return r.clone();
            }
            let kept = items
                .chunks(2)
                .filter(|p| !is(&p[0], "radix-tree-keys") && !is(&p[0], "radix-tree-nodes"))
                .flatten()
                .cloned()
                .collect();
            Resp::Array(Some(kept))
        }
        _ => r.clone(),
    }
}

/// Equal replies, except idle times (ms since a delivery or since a consumer was seen), which
/// may differ by the harness's timing: the third item of an `XPENDING` entry, the value after
/// `idle` in `XINFO CONSUMERS`. `idle`: `g` and `r` are such a time.
fn same_within_idle(g: &Resp, r: &Resp, idle: bool) -> bool {
    match (g, r) {
        (Resp::Int(a), Resp::Int(b)) if idle => (a - b).abs() <= 10,
        (Resp::Array(Some(x)), Resp::Array(Some(y))) if x.len() == y.len() => {
            let pending_entry = x.len() == 4
                && matches!(x[0], Resp::Bulk(Some(_)))
                && matches!(x[1], Resp::Bulk(Some(_)))
                && matches!(x[2], Resp::Int(_));
            (0..x.len()).all(|i| {
                let idle = (pending_entry && i == 2)
                    || (i > 0 && matches!(&x[i - 1], Resp::Bulk(Some(b)) if b == b"idle"));
                same_within_idle(&x[i], &y[i], idle)
            })
        }
        _ => g == r,
    }
}

/// A shorter sequence that still disagrees at its end: the commands before `at` that name
/// a key of the disagreeing command, then it (checked by running it again).
pub fn shrink(pair: &Pair, commands: &[Vec<String>], at: usize) -> Vec<Vec<String>> {
    let keys: Vec<&String> = commands[at].iter().skip(1).collect();
    let mut short: Vec<Vec<String>> = commands[..at]
        .iter()
        .filter(|c| c.iter().skip(1).any(|w| keys.contains(&w)))
        .cloned()
        .collect();
    short.push(commands[at].clone());
    let again = run_commands(pair, &short);
    if again.last().is_some_and(|c| !agrees(c)) {
        short
    } else {
        commands[..=at].to_vec()
    }
}

/// Why a difference in stream bytes is by design, if it is: Active-Active differs from plain
/// Redis there (docs/semantics.md, "Against a live Redis").
pub fn bytes_excluded(c: &Compared) -> Option<&'static str> {
    let name = c.words[0].to_ascii_uppercase();
    match (name.as_str(), &c.redis) {
        ("PFCOUNT", _) => Some(
            "PFCOUNT: plain Redis writes the cached cardinality into the HLL string and \
             propagates the PFCOUNT; geosim's HLL is a CRDT type and PFCOUNT a read",
        ),
        ("SADD", (Resp::Int(0), 0)) => Some(
            "SADD of members already present: plain Redis propagates nothing; Active-Active \
             replicates the add, which must win over a concurrent SREM",
        ),
        ("XREADGROUP" | "XCLAIM" | "XAUTOCLAIM", _) => Some(
            "consumer-group reads and claims: plain Redis propagates the pending entries and \
             consumers they change (as XCLAIM and XGROUP commands) to its replicas; \
             Active-Active keeps consumers and pending entries local [STREAM]",
        ),
        ("XGROUP", _)
            if matches!(
                c.words[1].to_ascii_uppercase().as_str(),
                "SETID" | "CREATECONSUMER" | "DELCONSUMER"
            ) =>
        {
            Some(
                "XGROUP SETID, CREATECONSUMER and DELCONSUMER: plain Redis propagates them; \
                 Active-Active does not replicate them [STREAM]",
            )
        }
        ("XACK", _) => Some(
            "XACK: plain Redis propagates every XACK that acknowledged something; \
             Active-Active replicates an ack effect only when the acknowledged entries form \
             a contiguous prefix of what was read [STREAM]",
        ),
        ("ZINCRBY", (_, 0)) => Some(
            "ZINCRBY by 0 of a present member: plain Redis propagates nothing; geosim \
             replicates the counter increment, which keeps the member against a concurrent ZREM",
        ),
        _ => None,
    }
}

/// The replies as compared: members of an unordered reply (`SMEMBERS`, `HGETALL`) sorted,
/// and time left (`TTL`, `PTTL`) within the clocks' resolution, since geosim reads Redis's
/// clock just before Redis runs the command.
pub fn replies_agree(c: &Compared) -> bool {
    let name = c.words[0].to_ascii_uppercase();
    match (&c.geosim.0, &c.redis.0) {
        (Resp::Array(Some(g)), Resp::Array(Some(r))) if name == "SMEMBERS" => {
            let (mut g, mut r) = (g.clone(), r.clone());
            g.sort_by_key(|x| format!("{x:?}"));
            r.sort_by_key(|x| format!("{x:?}"));
            g == r
        }
        (Resp::Array(Some(g)), Resp::Array(Some(r))) if name == "HGETALL" => {
            let pairs = |v: &[Resp]| {
                let mut p: Vec<String> = v.chunks(2).map(|x| format!("{x:?}")).collect();
                p.sort();
                p
            };
            pairs(g) == pairs(r)
        }
        (g, r) if name == "XPENDING" || name == "XINFO" => {
            same_within_idle(g, &without_radix_tree(r), false)
        }
        (Resp::Int(g), Resp::Int(r)) if name == "TTL" => (g - r).abs() <= 1,
        (Resp::Int(g), Resp::Int(r)) if name == "PTTL" => (g - r).abs() <= 10,
        (g, r) => g == r,
    }
}
