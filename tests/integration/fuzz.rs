//! Fuzzing without panics: the scenario loader over arbitrary and mutated scenario text, the
//! command parser and executor over arbitrary and mutated command lines, and a short run of
//! every mutated scenario the loader accepts. Each property runs `GEOSIM_FUZZ_CASES` cases
//! (default 200, a bounded share for CI; set it to 100000 for a long hunt).

use geosim::crdt::stream::XaddIdMode;
use geosim::crdt::{InstanceId, Keyspace};
use geosim::redis::{ExecContext, execute, parse_line};
use geosim::scenario::{LoadOptions, parse};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("GEOSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Every bundled scenario's text: the seeds the mutations start from.
fn corpus() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["scenarios", "scenarios/teaching", "tests/data/check"] {
        for e in std::fs::read_dir(super::root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Tokens that stress a field: odd numbers, units, types and TOML syntax.
const TOKENS: [&str; 24] = [
    "0",
    "-1",
    "1e308",
    "18446744073709551615",
    "99999999999999999999",
    "\"\"",
    "\"0s\"",
    "\"-5ms\"",
    "\"1e9h\"",
    "\"NaN\"",
    "\"0B\"",
    "\"1bit/s\"",
    "\"0/s\"",
    "[]",
    "{}",
    "true",
    "[[cluster]]",
    "[run]",
    "\"I9\"",
    "\"\\u0000\"",
    "=",
    "\n",
    "nan",
    "inf",
];

/// Applies `edits` to `text`: each edit replaces, deletes or inserts at a position.
fn mutate(text: &str, edits: &[(u8, u16, u8)]) -> String {
    let mut t: Vec<char> = text.chars().collect();
    for (kind, pos, tok) in edits {
        if t.is_empty() {
            break;
        }
        let at = *pos as usize % t.len();
        let token: Vec<char> = TOKENS[*tok as usize % TOKENS.len()].chars().collect();
        match kind % 3 {
            0 => {
                // Replace a value: from the position to the end of its line.
                let end = t[at..]
                    .iter()
                    .position(|c| *c == '\n')
                    .map_or(t.len(), |i| at + i);
                t.splice(at..end, token);
            }
            1 => {
                let end = (at + 1 + *tok as usize % 8).min(t.len());
                t.drain(at..end);
            }
            _ => {
                t.splice(at..at, token);
            }
        }
    }
    t.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_loader_never_panics_on_arbitrary_text(text in "(?s).{0,400}") {
        let _ = parse(&text, "fuzz.toml", &LoadOptions::default());
    }

    #[test]
    fn mutated_scenarios_load_or_are_refused_and_accepted_ones_run(
        which in 0usize..64,
        edits in proptest::collection::vec((0u8..3, any::<u16>(), any::<u8>()), 1..6),
    ) {
        let corpus = corpus();
        let text = mutate(&corpus[which % corpus.len()], &edits);
        if let Ok(mut s) = parse(&text, "fuzz.toml", &LoadOptions::default()) {
            // A short run: the point is that nothing the loader accepts makes the model panic.
            s.config.max_events = 20_000;
            let _ = geosim::report::run_and_judge(&s);
        }
    }

    #[test]
    fn command_lines_parse_or_are_refused_and_execute_without_panics(
        line in "[A-Za-z]{1,8}( [-0-9a-z.\"\\\\x+*()]{0,6}){0,5}",
        known in 0usize..40,
        args in proptest::collection::vec("[-0-9a-z.+]{0,6}", 0..5),
    ) {
        const CMDS: [&str; 40] = [
            "SET", "GET", "INCR", "INCRBY", "INCRBYFLOAT", "DECR", "APPEND", "SETRANGE", "GETSET",
            "SETNX", "HSET", "HGET", "HDEL", "HINCRBY", "HINCRBYFLOAT", "SADD", "SREM", "SMEMBERS",
            "ZADD", "ZINCRBY", "ZREM", "ZRANGE", "LPUSH", "RPUSH", "LPOP", "RPOP", "LINSERT",
            "LRANGE", "LSET", "LREM", "XADD", "XRANGE", "XDEL", "PFADD", "PFCOUNT", "PFMERGE",
            "DEL", "EXPIRE", "PEXPIRE", "PERSIST",
        ];
        let structured = format!("{} k {}", CMDS[known], args.join(" "));
        let mut ks = Keyspace::new(2);
        let cx = ExecContext {
            origin: InstanceId(0),
            now_ms: 1_000,
            xadd_mode: XaddIdMode::Strict,
            annotation: 0,
        };
        for l in [line.as_str(), structured.as_str()] {
            if let Ok(cmd) = parse_line(l) {
                let out = execute(&mut ks, &cmd, &cx);
                // Whatever was applied must replicate: apply it to a peer too.
                let mut peer = Keyspace::new(2);
                for e in &out.effects {
                    peer.apply(&e.op);
                }
            }
        }
    }
}
