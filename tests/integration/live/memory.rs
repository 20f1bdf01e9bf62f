//! Memory held to a real Redis, for the part Active-Active shares with a plain Redis: a
//! string key's `MEMORY USAGE` (dictionary entry, name, value object, jemalloc's rounding)
//! must equal `crdt::memory::redis_string_bytes` byte for byte, over names and values from 1
//! byte to 100 KB and integer values; and the simulator's simpler estimate (`KEY_OVERHEAD` +
//! name + value, which it still uses) must stay within 20 % of it.

use geosim::crdt::keyspace::KEY_OVERHEAD;
use geosim::crdt::memory::redis_string_bytes;

use super::server::{Resp, Server};

#[test]
fn string_memory_is_what_redis_memory_usage_reports() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut worst: f64 = 0.0;
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
            let exact = redis_string_bytes(key.len() as u64, &value);
            assert_eq!(
                exact,
                redis as u64,
                "key {} B, value {:?}…",
                key.len(),
                &value[..value.len().min(8)]
            );
            if key.len() == 16 && value[0] == b'x' {
                let simple = KEY_OVERHEAD + 16 + value.len() as u64;
                worst = worst.max((simple as f64 - redis as f64).abs() / redis as f64);
            }
        }
    }
    assert!(
        worst <= 0.20,
        "the simulator's estimate is off by {worst:.3}"
    );
}
