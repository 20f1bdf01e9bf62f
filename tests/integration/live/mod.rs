//! The live tier: geosim held against a real `redis-server` (Debian's package, installed by
//! `scripts/test.sh` when missing), started on loopback for each test and stopped by PID.

mod backlog;
mod differential;
mod hll;
mod memory;
mod results;
mod server;
mod stream_commands;

use std::collections::BTreeMap;

use differential::{run_commands, seed_commands, shrink, verdict};
use server::Pair;

const TAINTED: &str = "later commands on a key whose value differs by design after one of \
     the above (the rest of that seed)";

/// Seeds and commands per seed of the differential test: 9,000 commands, about 10 s
/// (`GEOSIM_LIVE_SEEDS=N` for a longer hunt).
const SEEDS: u64 = 20;
const COMMANDS_PER_SEED: usize = 450;

#[test]
fn random_commands_get_the_same_replies_and_stream_bytes_from_geosim_and_redis() {
    // No replication PINGs (every 10 s by default) and no active expiry (Redis's background
    // deletion of expired keys): either, landing between a command's two offset readings,
    // would count as that command's bytes. Expired keys are then deleted when a command
    // touches them, as geosim's owner does.
    let pair = Pair::start(&[
        "--repl-ping-replica-period",
        "3600",
        "--enable-debug-command",
        "local",
    ]);
    assert_eq!(
        pair.primary.conn().cmd("DEBUG SET-ACTIVE-EXPIRE 0"),
        server::Resp::Status("OK".into())
    );
    let (mut compared, mut excluded) = (0, BTreeMap::<&str, u32>::new());
    let mut rows = Vec::new();
    let mut per_command = BTreeMap::<String, u32>::new();
    let seeds: u64 = std::env::var("GEOSIM_LIVE_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SEEDS);
    for seed in 1..=seeds {
        let commands = seed_commands(seed, COMMANDS_PER_SEED);
        let results = run_commands(&pair, &commands);
        // Keys whose value differs by design after an excluded reply: not compared again.
        let mut tainted: Vec<&str> = Vec::new();
        for (i, c) in results.iter().enumerate() {
            if let Some(why) = c.not_sent {
                *excluded.entry(why).or_default() += 1;
                rows.push(results::row(seed, i, c, Some(why)));
                continue;
            }
            if c.words[1..]
                .iter()
                .any(|w| differential::is_key(w) && tainted.contains(&w.as_str()))
            {
                *excluded.entry(TAINTED).or_default() += 1;
                rows.push(results::row(seed, i, c, Some(TAINTED)));
                // What it wrote elsewhere may differ too (`COPY`, `RENAME`, `PFMERGE` from a
                // set-aside key): every key it names is set aside.
                tainted.extend(
                    c.words[1..]
                        .iter()
                        .filter(|w| differential::is_key(w))
                        .map(String::as_str),
                );
                continue;
            }
            let Ok(why) = verdict(c) else {
                let short = shrink(&pair, &commands, i);
                let lines: Vec<String> = short.iter().map(|w| w.join(" ")).collect();
                panic!(
                    "seed {seed}, command {i}: {:?}\n  geosim: {:?}\n  redis:  {:?}\n\
                     a sequence that disagrees at its last command:\n    {}",
                    c.words,
                    c.geosim,
                    c.redis,
                    lines.join("\n    ")
                );
            };
            compared += 1;
            rows.push(results::row(seed, i, c, why));
            *per_command
                .entry(c.words[0].to_ascii_uppercase())
                .or_default() += 1;
            if let Some(why) = c.gone_by_design {
                *excluded.entry(why).or_default() += 1;
                tainted.push(c.words[2].as_str());
            }
            if let Some(why) = why {
                *excluded.entry(why).or_default() += 1;
                // A race at a key's expiry may leave the key expired on one side only, even
                // when the replies agree (only the stream bytes showed it).
                if c.geosim.0 != c.redis.0 || differential::expiry_race(c).is_some() {
                    // Every key the command names (`RENAME src dst`, `MSET k v k v`).
                    tainted.extend(
                        c.words[1..]
                            .iter()
                            .filter(|w| differential::is_key(w))
                            .map(String::as_str),
                    );
                }
            }
        }
    }
    results::write_differential(&rows, compared, &excluded);
    println!(
        "differential: {compared} commands compared over {seeds} seeds, mismatches: 0, \
         excluded by design: {} (not sent, or stream bytes only)",
        excluded.values().sum::<u32>()
    );
    for (why, n) in &excluded {
        println!("  {n:>5}  {why}");
    }
    println!("  commands: {per_command:?}");
    let skipped: u32 = excluded
        .iter()
        .filter(|(why, _)| why.starts_with("string commands on a HyperLogLog") || **why == TAINTED)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        compared + skipped as usize,
        seeds as usize * COMMANDS_PER_SEED
    );
    assert!(compared >= 5_000, "{compared}");
    // Every command of the generator ran many times.
    assert!(per_command.len() >= 50, "{per_command:?}");
    assert!(per_command.values().all(|n| *n >= 20), "{per_command:?}");
}
