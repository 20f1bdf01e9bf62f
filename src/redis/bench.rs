//! Benchmark kernels for the merge core: ops of one data type made by the command front end
//! at one instance, then applied at another (what a syncer does). Used by `geosim bench` and
//! `benches/crdt.rs`. Wall time is read here only, never inside a simulated run.

use std::time::{Duration, Instant};

use super::command::Command;
use super::exec::{ExecContext, execute};
use crate::crdt::stream::XaddIdMode;
use crate::crdt::{InstanceId, Keyspace, Op};

/// The data types measured, with the command template each uses (`{k}` a key out of 1,000,
/// `{i}` the op number).
pub const KINDS: &[(&str, &str)] = &[
    ("string SET", "SET key:{k} value-{i}"),
    ("counter INCR", "INCR ctr:{k}"),
    ("hash HSET", "HSET hash:{k} f{i} v"),
    ("set SADD", "SADD set:{k} m{i}"),
    ("zset ZINCRBY", "ZINCRBY zset:{k} 1.5 m{i}"),
    ("list RPUSH", "RPUSH list:{k} e{i}"),
    ("stream XADD", "XADD stream:{k} * f v{i}"),
    ("hll PFADD", "PFADD hll:{k} e{i}"),
];

/// `n` ops of `template` written at instance 1.
pub fn ops_for(template: &str, n: usize) -> Vec<Op> {
    let mut origin = Keyspace::new(2);
    let mut ops = Vec::with_capacity(n);
    for i in 0..n {
        let line = template
            .replace("{k}", &(i % 1000).to_string())
            .replace("{i}", &i.to_string());
        let cmd = Command::from_args(&super::command::tokenize(&line).expect("template tokenises"))
            .expect("template parses");
        let cx = ExecContext {
            origin: InstanceId(0),
            now_ms: 1_000 + i as u64,
            xadd_mode: XaddIdMode::Strict,
            annotation: 0,
        };
        ops.extend(
            execute(&mut origin, &cmd, &cx)
                .effects
                .into_iter()
                .map(|e| e.op),
        );
    }
    ops
}

/// Applies `ops` at a fresh instance 2 and returns the wall time taken.
pub fn apply_all(ops: &[Op]) -> Duration {
    let mut ks = Keyspace::new(2);
    let start = Instant::now(); // Benchmark timing, outside any simulated run.
    for op in ops {
        ks.apply(op);
    }
    let t = start.elapsed();
    std::hint::black_box(ks.len());
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_makes_one_op_per_command() {
        for (name, template) in KINDS {
            let ops = ops_for(template, 50);
            assert_eq!(ops.len(), 50, "{name}");
        }
    }
}
