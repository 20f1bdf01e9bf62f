//! Memory held to a real Redis, for the part Active-Active shares with a plain Redis: a
//! string key's `MEMORY USAGE` (dictionary entry, name, value object, jemalloc's rounding)
//! must equal `crdt::memory::redis_string_bytes` byte for byte, over names and values from 1
//! byte to 100 KB and integer values; and the simulator's estimate of a key
//! (`keyspace::entry_bytes`) must be exactly that plain part plus its CRDT metadata: less the
//! metadata (`Entry::bytes` without the value), it is what Redis reports. For the other data
//! types, whose plain part geosim does not model by Redis's encodings, the ratio of its
//! estimate to Redis's figure is pinned, as docs/semantics.md gives it.

use geosim::crdt::keyspace::entry_bytes;
use geosim::crdt::memory::redis_string_bytes;
use geosim::crdt::{InstanceId, Keyspace, OpKind, Value};

use super::server::{Resp, Server};

#[test]
fn string_memory_is_what_redis_memory_usage_reports() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    for key in ["k", "key:000000000001", &"n".repeat(300)] {
        let mut values: Vec<Vec<u8>> = [
            1usize, 10, 20, 44, 45, 64, 100, 256, 1000, 4096, 10_000, 100_000,
        ]
        .iter()
        .map(|v| vec![b'x'; *v])
        .collect();
        values.extend([
            b"7".to_vec(),
            b"-12345".to_vec(),
            b"007".to_vec(),
            b"99999999999999999999".to_vec(),
        ]);
        for value in values {
            let set = [b"SET".to_vec(), key.as_bytes().to_vec(), value.clone()];
            assert_eq!(c.call(&set), Resp::Status("OK".into()));
            let Resp::Int(redis) = c.call(&["MEMORY", "USAGE", key]) else {
                panic!("MEMORY USAGE");
            };
            let what = format!(
                "key {} B, value {:?}…",
                key.len(),
                &value[..value.len().min(8)]
            );
            let exact = redis_string_bytes(key.len() as u64, &value);
            assert_eq!(exact, redis as u64, "{what}");

            // The simulator's estimate of the same SET, less its CRDT metadata.
            let mut ks = Keyspace::new(2);
            let op = ks.prepare(
                key.as_bytes(),
                InstanceId(0),
                1,
                OpKind::Set {
                    value: Value::Bytes(value.clone().into_boxed_slice()),
                    observed: Vec::new(),
                },
            );
            ks.apply(&op);
            let e = ks.entry(key.as_bytes()).expect("written");
            let metadata = e.bytes() - value.len() as u64;
            assert_eq!(
                entry_bytes(key.as_bytes(), e) - metadata,
                redis as u64,
                "{what}"
            );
        }
    }
}

/// geosim's estimate of a key of each data type against plain Redis's `MEMORY USAGE ...
/// SAMPLES 0`, as ratios pinned here and in docs/semantics.md ("Memory, eviction and OOM"):
/// a key written in turn at three regions (every region applies every op), against the same
/// commands on one plain Redis, with a small and a large collection (Redis's compact
/// encodings below 128 entries, its hash tables, skip lists and quicklists above). A change to
/// the memory model, or a Redis whose figures differ, fails here with the new table.
#[test]
fn every_data_type_estimate_keeps_its_documented_ratio_to_plain_redis() {
    use geosim::crdt::stream::XaddIdMode;
    use geosim::redis::{Command, ExecContext, execute};
    // (type, the i-th command, its ratio with 10 writes, with 1,000 writes).
    type Line = fn(usize) -> String;
    let cases: [(&str, Line, f64, f64); 8] = [
        ("string", |i| format!("SET k v{i:0100}"), 1.45, 1.45),
        ("counter", |i| format!("INCRBY k {}", i + 1), 3.00, 3.00),
        ("hash", |i| format!("HSET k f{i} value{i:010}"), 2.57, 0.93),
        ("set", |i| format!("SADD k member{i:08}"), 0.96, 1.28),
        ("zset", |i| format!("ZADD k {i} member{i:08}"), 2.78, 0.61),
        ("list", |i| format!("RPUSH k element{i:08}"), 2.19, 3.63),
        (
            "stream",
            |i| format!("XADD k {}-1 f value{i:010}", 1_000 + i),
            0.13,
            1.66,
        ),
        ("hll", |i| format!("PFADD k e{i}"), 1.82, 6.03),
    ];
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut table = String::new();
    let mut off = false;
    for (what, line, small, large) in cases {
        for (n, pinned) in [(10usize, small), (1000, large)] {
            c.call(&["FLUSHALL"]);
            let mut sites = [Keyspace::new(3), Keyspace::new(3), Keyspace::new(3)];
            for i in 0..n {
                let words: Vec<Vec<u8>> =
                    line(i).split(' ').map(|w| w.as_bytes().to_vec()).collect();
                assert!(!matches!(c.call(&words), Resp::Error(_)), "{what}");
                let at = i % 3;
                let cx = ExecContext {
                    origin: InstanceId(at as u8),
                    now_ms: 1_000 + i as u64,
                    xadd_mode: XaddIdMode::Liberal,
                    annotation: 0,
                };
                let cmd = Command::from_args(&words).expect("a valid command");
                for e in execute(&mut sites[at], &cmd, &cx).effects {
                    for (j, s) in sites.iter_mut().enumerate() {
                        if j != at {
                            s.apply(&e.op);
                        }
                    }
                }
            }
            let Resp::Int(redis) = c.call(&["MEMORY", "USAGE", "k", "SAMPLES", "0"]) else {
                panic!("MEMORY USAGE");
            };
            let geosim = entry_bytes(b"k", sites[0].entry(b"k").expect("written"));
            let ratio = geosim as f64 / redis as f64;
            table.push_str(&format!(
                "{what:8} {n:5} writes: Redis {redis:7} B, geosim {geosim:7} B, {ratio:.2}x (pinned {pinned:.2}x)\n"
            ));
            // Two decimals, and 2 % for the keys whose Redis size is random (a skip list's
            // levels, a stream's time-based IDs).
            off |= (ratio - pinned).abs() > 0.005 + 0.02 * pinned;
        }
    }
    assert!(!off, "the ratios moved:\n{table}");
}
