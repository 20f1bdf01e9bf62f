//! The CRDT laws, over every data type (stream consumer groups and JSON included), through the Redis
//! front end: random commands on 2–5
//! instances, delivered in random orders (each origin's ops in order, as its stream carries
//! them) with duplicates, always converge; state merge is commutative, associative and
//! idempotent; and merging states gives what delivering ops gives.

use geosim::crdt::stream::XaddIdMode;
use geosim::crdt::{InstanceId, Keyspace, Op};
use geosim::engine::Digest;
use geosim::redis::{ExecContext, execute, parse_line};
use proptest::prelude::*;

/// A pool of commands over every data type, on a few keys (one key per type plus shared
/// ones, so that type conflicts and key-level deletes happen too).
fn command(choice: u32, arg: u32) -> String {
    let v = arg % 4;
    let n = (arg % 7) as i64 - 3;
    let templates = [
        format!("SET s v{v}"),
        format!("INCRBY s {n}"),
        format!("INCRBYFLOAT f {n}.5"),
        format!("APPEND s x{v}"),
        "GETSET s z".to_string(),
        format!("SETNX s n{v}"),
        format!("HSET h f{v} v{arg}"),
        format!("HINCRBY h c{v} {n}"),
        format!("HDEL h f{v} c{v}"),
        format!("SADD t m{v} m{}", (v + 1) % 4),
        format!("SREM t m{v}"),
        format!("ZADD z {n} m{v}"),
        format!("ZINCRBY z {n}.25 m{v}"),
        format!("ZREM z m{v}"),
        format!("LPUSH l e{v}"),
        format!("RPUSH l e{v} e{arg}"),
        "LPOP l".to_string(),
        "RPOP l".to_string(),
        format!("LINSERT l AFTER e{v} i{arg}"),
        format!("LINSERT l BEFORE e{v} j{arg}"),
        format!("LREM l 0 e{v}"),
        format!("LSET l 0 w{v}"),
        "XADD x * k v".to_string(),
        "XDEL x 0-1 1-2".to_string(),
        format!(
            "XGROUP CREATE x g{} {} MKSTREAM",
            v % 2,
            ["0", "$"][(arg % 2) as usize]
        ),
        format!("XGROUP DESTROY x g{}", v % 2),
        format!("XREADGROUP GROUP g{} c{v} COUNT 2 STREAMS x >", v % 2),
        format!("XACK x g{} {PENDING}", v % 2),
        format!("PFADD p e{v} e{arg}"),
        r#"JSON.SET j $ '{"a":{"b":1},"l":[1,2],"n":0,"s":"x","t":true}'"#.to_string(),
        format!("JSON.SET j $.a.c{v} {n}"),
        "JSON.SET j $.a '{}'".to_string(),
        format!("JSON.SET j $.l[0] {n}"),
        format!("JSON.DEL j $.a.c{v}"),
        "JSON.CLEAR j $.a".to_string(),
        format!("JSON.ARRAPPEND j $.l {v} {n}"),
        format!("JSON.ARRINSERT j $.l {} {v}", arg % 3),
        format!("JSON.ARRPOP j $.l {}", n),
        "JSON.ARRTRIM j $.l 0 1".to_string(),
        format!("JSON.NUMINCRBY j $.n {n}"),
        format!("JSON.NUMINCRBY j $.a.c{v} 0.5"),
        format!(r#"JSON.STRAPPEND j $.s '"{v}"'"#),
        "JSON.TOGGLE j $.t".to_string(),
        "JSON.DEL j".to_string(),
        format!(
            "DEL {}",
            ["s", "h", "t", "z", "l", "x", "p", "shared", "j"][(arg % 9) as usize]
        ),
        format!("SET shared {v}"),
        format!("SADD shared {v}"),
        format!("JSON.SET shared $ {v}"),
        format!(
            "EXPIRE {} {}",
            ["s", "h", "t"][(arg % 3) as usize],
            5 + arg % 100
        ),
        format!("PERSIST {}", ["s", "h", "t"][(arg % 3) as usize]),
    ];
    templates[(choice as usize) % templates.len()].clone()
}

/// In a pool command, the first entry pending in the group at the instance that runs it
/// (`0-1` when none), so that acknowledgements meet real pending entries.
const PENDING: &str = "@pending";

/// `line` with `PENDING` resolved against the keyspace `ks` that will run it.
fn resolve(ks: &Keyspace, line: String) -> String {
    if !line.contains(PENDING) {
        return line;
    }
    let group = line
        .split(' ')
        .nth(2)
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    let first = ks
        .entry(b"x")
        .and_then(|e| e.stream())
        .and_then(|s| s.groups.local(&group))
        .and_then(|l| l.pel.keys().next().map(|(id, _)| id.to_string()))
        .unwrap_or_else(|| "0-1".into());
    line.replace(PENDING, &first)
}

#[derive(Clone, Debug)]
enum Action {
    /// Instance runs a command.
    Write { inst: usize, choice: u32, arg: u32 },
    /// `to` receives the next undelivered op of `from`.
    Deliver { to: usize, from: usize },
    /// `to` receives again an op it already has.
    Duplicate { to: usize, pick: usize },
}

fn actions(n: usize) -> impl Strategy<Value = Vec<Action>> {
    let act = prop_oneof![
        3 => (0..n, any::<u32>(), any::<u32>()).prop_map(|(inst, choice, arg)| Action::Write { inst, choice, arg }),
        3 => (0..n, 0..n).prop_map(|(to, from)| Action::Deliver { to, from }),
        1 => (0..n, any::<usize>()).prop_map(|(to, pick)| Action::Duplicate { to, pick }),
    ];
    proptest::collection::vec(act, 1..120)
}

struct Net {
    ks: Vec<Keyspace>,
    /// Ops written by each origin, in order.
    log: Vec<Vec<Op>>,
    /// `next[to][from]`: how many of `from`'s ops `to` has received.
    next: Vec<Vec<usize>>,
    clock: u64,
}

impl Net {
    fn new(n: usize) -> Self {
        Net {
            ks: (0..n).map(|_| Keyspace::new(n)).collect(),
            log: vec![Vec::new(); n],
            next: (0..n)
                .map(|i| {
                    (0..n)
                        .map(|j| if i == j { usize::MAX } else { 0 })
                        .collect()
                })
                .collect(),
            clock: 1_000,
        }
    }

    fn run(&mut self, a: &Action) {
        let n = self.ks.len();
        match *a {
            Action::Write { inst, choice, arg } => {
                self.clock += 1 + (arg % 3) as u64;
                let line = resolve(&self.ks[inst], command(choice, arg));
                let cmd = parse_line(&line).expect("pool commands parse");
                let cx = ExecContext {
                    origin: InstanceId(inst as u8),
                    now_ms: self.clock,
                    xadd_mode: XaddIdMode::Strict,
                    annotation: 0,
                };
                let out = execute(&mut self.ks[inst], &cmd, &cx);
                for e in out.effects {
                    self.log[inst].push(e.op);
                }
            }
            Action::Deliver { to, from } if to != from => {
                let i = self.next[to][from];
                if let Some(op) = self.log[from].get(i) {
                    self.ks[to].apply(op);
                    self.next[to][from] += 1;
                }
            }
            Action::Duplicate { to, pick } => {
                let from = pick % n;
                let had = if from == to {
                    self.log[from].len()
                } else {
                    self.next[to][from]
                };
                if had > 0 {
                    let op = self.log[from][(pick / n) % had].clone();
                    self.ks[to].apply(&op);
                }
            }
            _ => {}
        }
    }

    fn deliver_all(&mut self) {
        let n = self.ks.len();
        for to in 0..n {
            for from in 0..n {
                if to != from {
                    while self.next[to][from] < self.log[from].len() {
                        let op = &self.log[from][self.next[to][from]];
                        self.ks[to].apply(op);
                        self.next[to][from] += 1;
                    }
                }
            }
        }
    }
}

fn visible(k: &Keyspace) -> u64 {
    let mut d = Digest::new();
    k.digest_visible(&mut d);
    d.value()
}

fn state(k: &Keyspace) -> u64 {
    let mut d = Digest::new();
    k.digest_state(&mut d);
    d.value()
}

fn merged(a: &Keyspace, b: &Keyspace) -> Keyspace {
    let mut m = a.clone();
    m.merge(b);
    m
}

proptest! {
    // 96 cases in CI; GEOSIM_PROPTEST_CASES=5000 for a deeper local search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("GEOSIM_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(96),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_delivery_order_with_duplicates_converges(
        (n, acts) in (2usize..=5).prop_flat_map(|n| (Just(n), actions(n)))
    ) {
        let mut net = Net::new(n);
        for a in &acts {
            net.run(&Action::clone(a));
        }
        net.deliver_all();
        let v0 = visible(&net.ks[0]);
        let s0 = state(&net.ks[0]);
        for k in &net.ks[1..] {
            prop_assert_eq!(visible(k), v0);
            prop_assert_eq!(state(k), s0);
        }
    }

    #[test]
    fn state_merge_is_commutative_associative_idempotent_and_matches_ops(acts in actions(3)) {
        let mut net = Net::new(3);
        for a in &acts {
            net.run(a);
        }
        let [a, b, c] = [&net.ks[0], &net.ks[1], &net.ks[2]];
        let ab = merged(a, b);
        let ba = merged(b, a);
        prop_assert_eq!(visible(&ab), visible(&ba));
        prop_assert_eq!(state(&ab), state(&ba));
        prop_assert_eq!(state(&merged(&ab, c)), state(&merged(a, &merged(b, c))));
        prop_assert_eq!(state(&merged(a, a)), state(a));
        // Merging every state equals delivering every op.
        let all = merged(&ab, c);
        net.deliver_all();
        prop_assert_eq!(visible(&all), visible(&net.ks[0]));
    }
}

/// With causal consistency on, ops may arrive in any order at all (even out of their origin's
/// order): each waits until what its origin had observed on the key has been applied.
#[derive(Clone, Debug)]
struct AnyOrder {
    writes: Vec<(usize, u32, u32)>,
    picks: Vec<(usize, usize)>,
}

fn any_order() -> impl Strategy<Value = AnyOrder> {
    (
        proptest::collection::vec((0usize..3, any::<u32>(), any::<u32>()), 1..40),
        proptest::collection::vec((0usize..3, any::<usize>()), 0..80),
    )
        .prop_map(|(writes, picks)| AnyOrder { writes, picks })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("GEOSIM_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(96),
        ..ProptestConfig::default()
    })]

    #[test]
    fn causal_consistency_converges_under_any_arrival_order(case in any_order()) {
        let n = 3;
        let mut ks: Vec<Keyspace> = (0..n).map(|_| Keyspace::new(n).with_causal_consistency(true)).collect();
        let mut ops: Vec<(usize, Op)> = Vec::new();
        // Writers see each other's ops in order here, so clocks carry real causality.
        for (clock, (inst, choice, arg)) in (1_001u64..).zip(case.writes.iter()) {
            let cmd = parse_line(&resolve(&ks[*inst], command(*choice, *arg))).expect("parses");
            let cx = ExecContext { origin: InstanceId(*inst as u8), now_ms: clock, xadd_mode: XaddIdMode::Strict, annotation: 0 };
            let out = execute(&mut ks[*inst], &cmd, &cx);
            for e in out.effects {
                for (j, k) in ks.iter_mut().enumerate() {
                    if j != *inst && j != (*inst + 1) % n {
                        k.apply(&e.op);
                    }
                }
                ops.push((*inst, e.op));
            }
        }
        // The instance after each writer missed its ops: deliver them in a scrambled order.
        let mut pending: Vec<Vec<Op>> = vec![Vec::new(); n];
        for (inst, op) in &ops {
            pending[(*inst + 1) % n].push(op.clone());
        }
        for (to, pick) in &case.picks {
            if !pending[*to].is_empty() {
                let i = pick % pending[*to].len();
                let op = pending[*to].remove(i);
                ks[*to].apply(&op);
            }
        }
        for (to, rest) in pending.iter().enumerate() {
            for op in rest.iter().rev() {
                ks[to].apply(op);
            }
        }
        for k in &ks {
            prop_assert_eq!(k.waiting(), 0);
        }
        let v0 = visible(&ks[0]);
        for k in &ks[1..] {
            prop_assert_eq!(visible(k), v0);
        }
    }
}
