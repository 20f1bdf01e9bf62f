//! One named test for each documented conflict rule in `shared/redis-aa-facts.md` (section 4
//! and the clock rules), run through the Redis front end on instances that sync only when the
//! test says so.

use geosim::crdt::stream::XaddIdMode;
use geosim::crdt::{InstanceId, Keyspace, Op};
use geosim::redis::{ExecContext, Reply, execute, parse_line};

/// Instances with their own keyspaces and clocks; ops travel only at `sync`.
struct Lab {
    ks: Vec<Keyspace>,
    log: Vec<Vec<Op>>,
    seen: Vec<Vec<usize>>,
    clock_ms: u64,
    mode: XaddIdMode,
}

impl Lab {
    fn new(n: usize) -> Lab {
        Lab {
            ks: (0..n).map(|_| Keyspace::new(n)).collect(),
            log: vec![Vec::new(); n],
            seen: vec![vec![0; n]; n],
            clock_ms: 1_000,
            mode: XaddIdMode::Strict,
        }
    }

    /// Runs `line` on instance `i` (1-based, as the docs number them), one millisecond after
    /// the previous command.
    fn run(&mut self, i: usize, line: &str) -> Reply {
        self.clock_ms += 1;
        self.run_at(i, line, self.clock_ms)
    }

    fn run_at(&mut self, i: usize, line: &str, ms: u64) -> Reply {
        let cmd = parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let cx = ExecContext {
            origin: InstanceId(i as u8 - 1),
            now_ms: ms,
            xadd_mode: self.mode,
            annotation: 0,
        };
        let out = execute(&mut self.ks[i - 1], &cmd, &cx);
        self.log[i - 1].extend(out.effects.into_iter().map(|e| e.op));
        out.reply
    }

    fn sync(&mut self) {
        let n = self.ks.len();
        for to in 0..n {
            for from in 0..n {
                if to != from {
                    for op in &self.log[from][self.seen[to][from]..] {
                        self.ks[to].apply(op);
                    }
                    self.seen[to][from] = self.log[from].len();
                }
            }
        }
    }

    /// The reply of `line` on every instance, asserting they agree.
    fn everywhere(&mut self, line: &str) -> Reply {
        let first = self.run(1, line);
        for i in 2..=self.ks.len() {
            assert_eq!(self.run(i, line), first, "{line} differs on instance {i}");
        }
        first
    }
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(s)
}

fn arr(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(Reply::bulk).collect())
}

#[test]
fn strings_concurrent_sets_the_later_timestamp_wins() {
    let mut l = Lab::new(2);
    l.run(1, "SET text a");
    l.run(2, "SET text b");
    l.sync();
    assert_eq!(l.everywhere("GET text"), bulk("b"));
    l.run(1, "SET text c");
    l.sync();
    l.run(2, "SET text d");
    l.sync();
    assert_eq!(l.everywhere("GET text"), bulk("d"));
}

#[test]
fn strings_identical_timestamps_give_instance_1_precedence() {
    let mut l = Lab::new(2);
    l.run_at(1, "SET k one", 5_000);
    l.run_at(2, "SET k two", 5_000);
    l.sync();
    assert_eq!(l.everywhere("GET k"), bulk("one"));
}

#[test]
fn strings_are_dynamically_typed_set_then_incr_works() {
    let mut l = Lab::new(2);
    l.run(1, "SET k 7");
    assert_eq!(l.run(1, "INCR k"), Reply::Int(8));
    l.sync();
    assert_eq!(l.everywhere("GET k"), bulk("8"));
}

#[test]
fn counters_accumulate_7_plus_3_is_10_then_minus_3_plus_6_is_13() {
    let mut l = Lab::new(2);
    l.run(1, "INCRBY counter 7");
    l.run(2, "INCRBY counter 3");
    l.sync();
    assert_eq!(l.everywhere("GET counter"), bulk("10"));
    l.run(1, "DECRBY counter 3");
    l.run(2, "INCRBY counter 6");
    l.sync();
    assert_eq!(l.everywhere("GET counter"), bulk("13"));
}

#[test]
fn counters_are_59_bit() {
    let mut l = Lab::new(2);
    assert_eq!(
        l.run(1, "INCRBY c 288230376151711743"),
        Reply::Int((1 << 58) - 1)
    );
    assert_eq!(
        l.run(1, "INCR c"),
        Reply::err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        l.run(1, "DECRBY d 288230376151711744"),
        Reply::Int(-(1 << 58))
    );
    assert!(l.run(1, "DECR d").is_error());
}

#[test]
fn float_counters_add_up() {
    let mut l = Lab::new(2);
    l.run(1, "INCRBYFLOAT f 1.5");
    l.run(2, "INCRBYFLOAT f 2.25");
    l.sync();
    assert_eq!(l.everywhere("GET f"), bulk("3.75"));
}

#[test]
fn hashes_concurrent_fields_are_unioned() {
    let mut l = Lab::new(2);
    l.run(1, "HSET h a 1");
    l.run(2, "HSET h b 2");
    l.sync();
    assert_eq!(l.everywhere("HGETALL h"), arr(&["a", "1", "b", "2"]));
}

#[test]
fn hashes_update_wins_over_a_concurrent_field_delete() {
    let mut l = Lab::new(2);
    l.run(1, "HSET h f old");
    l.sync();
    l.run(1, "HDEL h f");
    l.run(2, "HSET h f new");
    l.sync();
    assert_eq!(l.everywhere("HGET h f"), bulk("new"));
}

#[test]
fn hashes_counter_fields_accumulate() {
    let mut l = Lab::new(2);
    l.run(1, "HINCRBY h n 4");
    l.run(2, "HINCRBY h n 5");
    l.sync();
    assert_eq!(l.everywhere("HGET h n"), bulk("9"));
}

#[test]
fn sets_concurrent_adds_are_unioned() {
    let mut l = Lab::new(2);
    l.run(1, "SADD key1 a");
    l.run(2, "SADD key1 b");
    l.sync();
    assert_eq!(l.everywhere("SMEMBERS key1"), arr(&["a", "b"]));
}

#[test]
fn sets_remove_only_what_was_observed() {
    // The documented "observed remove" example: {a, b}; I1 SREM a; I2 SADD c; I1 SREM c.
    let mut l = Lab::new(2);
    l.run(1, "SADD key1 a b");
    l.sync();
    l.run(1, "SREM key1 a");
    l.run(2, "SADD key1 c");
    assert_eq!(l.run(1, "SREM key1 c"), Reply::Int(0));
    l.sync();
    assert_eq!(l.everywhere("SMEMBERS key1"), arr(&["b", "c"]));
}

#[test]
fn del_of_a_set_keeps_a_concurrently_added_member() {
    let mut l = Lab::new(2);
    l.run(1, "SADD s x");
    l.sync();
    l.run(1, "DEL s");
    l.run(2, "SADD s y");
    l.sync();
    assert_eq!(l.everywhere("SMEMBERS s"), arr(&["y"]));
    assert_eq!(l.everywhere("EXISTS s"), Reply::Int(1));
}

#[test]
fn sorted_sets_concurrent_zadd_last_write_wins() {
    let mut l = Lab::new(2);
    l.run(1, "ZADD Z 1.1 x");
    l.run(2, "ZADD Z 2.1 x");
    l.sync();
    assert_eq!(l.everywhere("ZSCORE Z x"), bulk("2.1"));
}

#[test]
fn sorted_sets_zadd_at_the_same_time_instance_1_wins() {
    let mut l = Lab::new(2);
    l.run_at(1, "ZADD Z 1.1 x", 9_000);
    l.run_at(2, "ZADD Z 2.1 x", 9_000);
    l.sync();
    assert_eq!(l.everywhere("ZSCORE Z x"), bulk("1.1"));
}

#[test]
fn sorted_sets_concurrent_zincrby_add_up_to_3_1() {
    let mut l = Lab::new(2);
    l.run(1, "ZADD Z 1.1 x");
    l.sync();
    l.run(1, "ZINCRBY Z 1.0 x");
    l.run(2, "ZINCRBY Z 1.0 x");
    l.sync();
    assert_eq!(l.everywhere("ZSCORE Z x"), bulk("3.1"));
}

#[test]
fn sorted_sets_zrem_removes_only_the_observed_score_6_1_minus_4_1_is_2() {
    let mut l = Lab::new(2);
    l.run(1, "ZADD Z 4.1 x");
    l.sync();
    l.run(1, "ZREM Z x");
    assert_eq!(l.run(2, "ZINCRBY Z 2.0 x"), bulk("6.1"));
    assert_eq!(l.run(1, "ZSCORE Z x"), Reply::Nil);
    l.sync();
    assert_eq!(l.everywhere("ZSCORE Z x"), bulk("2"));
}

#[test]
fn lists_keep_every_element_in_causal_order() {
    let mut l = Lab::new(2);
    l.run(1, "LPUSH mylist hello");
    l.sync();
    l.run(2, "LPUSH mylist world");
    l.sync();
    assert_eq!(l.everywhere("LRANGE mylist 0 -1"), arr(&["world", "hello"]));
}

#[test]
fn lists_concurrent_linsert_after_the_same_pivot_gives_x_y1_y2() {
    let mut l = Lab::new(2);
    l.run(1, "LPUSH L x");
    l.sync();
    l.run(1, "LINSERT L AFTER x y1");
    l.run(2, "LINSERT L AFTER x y2");
    l.sync();
    assert_eq!(l.everywhere("LRANGE L 0 -1"), arr(&["x", "y1", "y2"]));
}

#[test]
fn lists_concurrent_pops_can_return_the_same_element() {
    let mut l = Lab::new(2);
    l.run(1, "RPUSH q a b");
    l.sync();
    assert_eq!(l.run(1, "LPOP q"), bulk("a"));
    assert_eq!(l.run(2, "LPOP q"), bulk("a"));
    l.sync();
    assert_eq!(l.everywhere("LRANGE q 0 -1"), arr(&["b"]));
}

#[test]
fn del_of_a_list_keeps_a_concurrent_push() {
    let mut l = Lab::new(2);
    l.run(1, "RPUSH L a");
    l.sync();
    l.run(1, "DEL L");
    l.run(2, "RPUSH L b");
    l.sync();
    assert_eq!(l.everywhere("LRANGE L 0 -1"), arr(&["b"]));
}

#[test]
fn streams_strict_mode_derives_the_sequence_from_the_region() {
    let mut l = Lab::new(2);
    assert_eq!(l.run(1, "XADD s 110 f v"), bulk("110-1"));
    assert_eq!(l.run(2, "XADD s 115 f v"), bulk("115-2"));
    assert!(l.run(1, "XADD s 200-7 f v").is_error());
    l.sync();
    assert_eq!(l.everywhere("XLEN s"), Reply::Int(2));
}

#[test]
fn streams_semi_strict_and_liberal_accept_full_ids() {
    let mut l = Lab::new(2);
    l.mode = XaddIdMode::SemiStrict;
    assert_eq!(l.run(1, "XADD s 200-7 f v"), bulk("200-7"));
    assert_eq!(l.run(1, "XADD s 210 f v"), bulk("210-1"));
    l.mode = XaddIdMode::Liberal;
    assert_eq!(l.run(2, "XADD t 300 f v"), bulk("300-0"));
    // Duplicate IDs from two regions are both kept.
    assert_eq!(l.run(1, "XADD t 300 f w"), bulk("300-0"));
    l.sync();
    assert_eq!(l.everywhere("XLEN t"), Reply::Int(2));
}

#[test]
fn del_of_a_stream_keeps_a_concurrent_xadd() {
    let mut l = Lab::new(2);
    l.run(1, "XADD s 100 f v");
    l.sync();
    l.run(1, "DEL s");
    l.run(2, "XADD s 200 f w");
    l.sync();
    assert_eq!(l.everywhere("XLEN s"), Reply::Int(1));
}

#[test]
fn hyperloglog_adds_merge_like_a_union() {
    let mut l = Lab::new(2);
    l.run(1, "PFADD h x");
    l.run(2, "PFADD h y");
    l.sync();
    assert_eq!(l.everywhere("PFCOUNT h"), Reply::Int(2));
}

#[test]
fn hyperloglog_del_wins_over_a_concurrent_add() {
    let mut l = Lab::new(2);
    l.run(1, "PFADD h x");
    l.sync();
    l.run(1, "DEL h");
    l.run(2, "PFADD h y");
    l.sync();
    assert_eq!(l.everywhere("EXISTS h"), Reply::Int(0));
}

#[test]
fn expire_the_longer_ttl_wins() {
    let mut l = Lab::new(2);
    l.run(1, "SET k v");
    l.sync();
    l.run(1, "EXPIRE k 10");
    l.run(2, "EXPIRE k 100");
    l.sync();
    assert_eq!(l.everywhere("TTL k"), Reply::Int(100));
}

#[test]
fn persist_beats_any_concurrent_expire() {
    let mut l = Lab::new(2);
    l.run(1, "SET k v");
    l.run(1, "EXPIRE k 10");
    l.sync();
    l.run(1, "PERSIST k");
    l.run(2, "EXPIRE k 1000");
    l.sync();
    assert_eq!(l.everywhere("TTL k"), Reply::Int(-1));
}

#[test]
fn expired_keys_are_hidden_by_non_owners_and_deleted_by_the_owner() {
    let mut l = Lab::new(2);
    l.run(1, "SET k v");
    l.run(1, "EXPIRE k 1");
    l.sync();
    l.clock_ms += 2_000;
    // I2 does not own the expiry: it hides the key on reads and replicates nothing.
    assert_eq!(l.run(2, "GET k"), Reply::Nil);
    assert!(l.log[1].is_empty());
    // I1 owns it: touching the key deletes it and replicates the DEL.
    assert_eq!(l.run(1, "EXISTS k"), Reply::Int(0));
    assert_eq!(l.log[0].len(), 3);
    l.sync();
    assert!(l.ks[1].visible(b"k", 0).is_none(), "the DEL reached I2");
}

#[test]
fn ttl_is_limited_to_2_pow_49() {
    let mut l = Lab::new(2);
    l.run(1, "SET k v");
    assert_eq!(
        l.run(1, "PEXPIRE k 562949953421313"),
        Reply::err("ERR invalid expire time in 'pexpire' command")
    );
    assert_eq!(l.run(1, "PEXPIRE k 562949953421312"), Reply::Int(1));
}

#[test]
fn flushall_is_refused_from_clients() {
    let e = parse_line("FLUSHALL").unwrap_err();
    assert!(
        e.0.contains("not supported in an Active-Active database: it is not allowed from clients"),
        "{e}"
    );
}

#[test]
fn multi_key_writes_must_stay_in_one_slot() {
    let mut l = Lab::new(2);
    assert_eq!(
        l.run(1, "DEL a b"),
        Reply::err("CROSSSLOT Keys in request don't hash to the same slot")
    );
    l.run(1, "SET {t}a 1");
    l.run(1, "SET {t}b 2");
    assert_eq!(l.run(1, "DEL {t}a {t}b"), Reply::Int(2));
}

/// [STREAM]: "XREAD may skip entries when several regions write the same stream". A reader
/// at I1 that has read up to I1's own entry misses I2's concurrent entry with a smaller ID,
/// which arrives later; XRANGE still shows both, ordered by ID.
#[test]
fn xread_may_skip_an_entry_another_region_wrote() {
    let mut l = Lab::new(2);
    l.run_at(2, "XADD s * f from-i2", 5_000);
    l.run_at(1, "XADD s * f from-i1", 6_000);
    let read = l.run_at(1, "XREAD STREAMS s 0", 6_001);
    assert_eq!(
        read.to_string(),
        "1) 1) \"s\"\n   2) 1) 1) \"6000-1\"\n         2) 1) \"f\"\n            2) \"from-i1\""
    );
    l.sync();
    // The reader continues after the last ID it saw: I2's 5000-2 is before it, so skipped.
    assert_eq!(
        l.run_at(1, "XREAD STREAMS s 6000-1", 6_002),
        Reply::NilArray
    );
    assert_eq!(
        l.run_at(1, "XRANGE s - +", 6_003).to_string(),
        "1) 1) \"5000-2\"\n   2) 1) \"f\"\n      2) \"from-i2\"\n2) 1) \"6000-1\"\n   2) 1) \"f\"\n      2) \"from-i1\""
    );
    // XREVRANGE, exclusive bounds, and a BLOCK answered at once.
    assert_eq!(
        l.run_at(1, "XREVRANGE s + (5000-2", 6_004).to_string(),
        "1) 1) \"6000-1\"\n   2) 1) \"f\"\n      2) \"from-i1\""
    );
    assert_eq!(
        l.run_at(1, "XREAD BLOCK 5000 STREAMS s $", 6_005),
        Reply::NilArray
    );
}

/// geosim's rule for `RENAME` (docs silent on its merge): the renaming instance copies what
/// it sees to the destination and deletes the source as a `DEL` does, so a concurrent add to
/// the source elsewhere stays at the source; the TTL moves with the value.
#[test]
fn rename_moves_what_it_saw_and_a_concurrent_add_stays_at_the_source() {
    let mut l = Lab::new(2);
    l.run(1, "SADD {t}src a b");
    l.run(1, "PEXPIRE {t}src 100000");
    l.sync();
    l.run(1, "RENAME {t}src {t}dst");
    l.run(2, "SADD {t}src c");
    l.sync();
    assert_eq!(l.everywhere("SCARD {t}dst"), Reply::Int(2));
    assert_eq!(l.everywhere("SMEMBERS {t}src").to_string(), "1) \"c\"");
    assert!(matches!(l.run(2, "PTTL {t}dst"), Reply::Int(t) if t > 99_000));
    assert_eq!(
        l.run(1, "RENAME {t}dst other"),
        Reply::err("CROSSSLOT Keys in request don't hash to the same slot")
    );
    assert_eq!(
        l.run(1, "COPY {t}dst {t}dst"),
        Reply::err("ERR source and destination objects are the same")
    );
    assert_eq!(l.run(1, "COPY {t}dst {t}copy"), Reply::Int(1));
    assert_eq!(l.run(1, "COPY {t}dst {t}copy"), Reply::Int(0));
    assert_eq!(l.run(1, "RENAMENX {t}dst {t}copy"), Reply::Int(0));
}

/// The documented XREAD example [STREAM], command for command: Region 1 reads two entries,
/// Region 2's `115-2` arrives after the reader passed it, and the next `XREAD` from `120-1`
/// skips it; a read from `0` shows all four on both regions.
#[test]
fn the_documented_xread_example_skips_115_2() {
    let ids = |r: &Reply| -> Vec<String> {
        let Reply::Array(streams) = r else {
            return Vec::new();
        };
        let Reply::Array(parts) = &streams[0] else {
            panic!("{r:?}")
        };
        let Reply::Array(entries) = &parts[1] else {
            panic!("{r:?}")
        };
        entries
            .iter()
            .map(|e| match e {
                Reply::Array(x) => match &x[0] {
                    Reply::Bulk(b) => String::from_utf8(b.clone()).unwrap(),
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let mut l = Lab::new(2);
    assert_eq!(l.run(1, "XADD x 110 f1 v1"), Reply::bulk("110-1"));
    assert_eq!(l.run(2, "XADD x 115 f1 v1"), Reply::bulk("115-2"));
    l.run(1, "XADD x 120 f1 v1");
    l.run(1, "XADD x 130 f1 v1");
    assert_eq!(
        ids(&l.run(1, "XREAD COUNT 2 STREAMS x 0")),
        ["110-1", "120-1"]
    );
    l.sync();
    assert_eq!(ids(&l.run(1, "XREAD COUNT 2 STREAMS x 120-1")), ["130-1"]);
    let all = ["110-1", "115-2", "120-1", "130-1"];
    assert_eq!(ids(&l.run(1, "XREAD STREAMS x 0")), all);
    assert_eq!(ids(&l.run(2, "XREAD STREAMS x 0")), all);
}
