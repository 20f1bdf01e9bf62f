//! `geosim hunt`: draws a scenario per seed, runs them in parallel, and reports each seed that
//! breaks an invariant with the command that reproduces it; `--shrink` minimises each.

use super::{out, outln};

use std::path::PathBuf;

use rayon::prelude::*;

use super::outdir::OutDir;
use super::{EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_OK, EXIT_OUTPUT_FAILED};
use crate::sweep::coverage::Coverage;
use crate::sweep::hunt::{
    Broken, check_covering, generate, rerun_for_determinism, shrink, size, to_toml,
};
use crate::sweep::parse_seeds;

#[derive(clap::Args, Debug)]
pub struct HuntArgs {
    /// Seeds to draw scenarios from: one (7) or an inclusive range (1..10000).
    #[arg(long)]
    pub seeds: String,
    /// Threads (default: all cores). The output is the same for any value.
    #[arg(short = 'j', long, default_value_t = 0)]
    pub jobs: usize,
    /// Minimise each failing scenario while it fails the same way.
    #[arg(long)]
    pub shrink: bool,
    /// Runs a shrink may spend per failure.
    #[arg(long, default_value_t = 300)]
    pub budget: usize,
    /// Stop once this many seeds have failed (the first ones in seed order).
    #[arg(long, default_value_t = 10)]
    pub max_failures: usize,
    /// Write each failing scenario (and its shrunk form) here as TOML for `geosim run`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// With --out: write into a non-empty directory that geosim did not write.
    #[arg(long)]
    pub force: bool,
}

pub(crate) fn hunt(a: &HuntArgs) -> i32 {
    let seeds = match parse_seeds(&a.seeds) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --seeds {:?}: {e}", a.seeds);
            return EXIT_BAD_INPUT;
        }
    };
    let dir = match a
        .out
        .as_deref()
        .map(|o| OutDir::prepare(o, "--out", a.force))
    {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(a.jobs).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start {} threads: {e}", a.jobs);
            return EXIT_BAD_INPUT;
        }
    };
    let bar = indicatif::ProgressBar::new(seeds.len() as u64);
    // Chunks in seed order, each checked in parallel: the failures reported are the first
    // ones in seed order whatever the thread count.
    let mut failures: Vec<(u64, Broken)> = Vec::new();
    let mut checked = 0;
    let mut coverage = Coverage::default();
    for chunk in seeds.chunks(64) {
        let results: Vec<(u64, Option<Broken>, u64)> = pool.install(|| {
            chunk
                .par_iter()
                .map(|&seed| {
                    let (r, bits) = check_covering(&generate(seed), rerun_for_determinism(seed));
                    bar.inc(1);
                    (seed, r, bits)
                })
                .collect()
        });
        checked += chunk.len();
        for (seed, r, bits) in results {
            coverage.add(bits);
            if let Some(b) = r {
                failures.push((seed, b));
            }
        }
        if failures.len() >= a.max_failures {
            failures.truncate(a.max_failures);
            break;
        }
    }
    bar.finish_and_clear();
    for (seed, broken) in &failures {
        let spec = generate(*seed);
        outln!(
            "seed {seed}: {}{} ({})",
            broken.kind(),
            match broken.detail() {
                d if d.is_empty() => String::new(),
                d => format!(": {d}"),
            },
            size(&spec)
        );
        outln!("  reproduce: geosim hunt --seeds {seed}");
        if let Some(dir) = &dir {
            let name = format!("seed-{seed}.toml");
            match std::fs::write(dir.staging().join(&name), to_toml(&spec)) {
                Ok(()) => outln!("  scenario:  geosim run {}", dir.dir().join(name).display()),
                Err(e) => eprintln!(
                    "error: cannot write {name} into {}: {e}",
                    dir.dir().display()
                ),
            }
        }
        if a.shrink {
            let (small, runs) = shrink(&spec, broken, a.budget);
            outln!("  shrunk in {runs} runs to {}", size(&small));
            let text = format!(
                "# Shrunk by `geosim hunt --shrink` from seed {seed}: still {}.\n{}",
                broken.kind(),
                to_toml(&small)
            );
            match &dir {
                Some(dir) => {
                    let name = format!("seed-{seed}-min.toml");
                    match std::fs::write(dir.staging().join(&name), text) {
                        Ok(()) => {
                            outln!("  smallest:  geosim run {}", dir.dir().join(name).display())
                        }
                        Err(e) => {
                            eprintln!(
                                "error: cannot write {name} into {}: {e}",
                                dir.dir().display()
                            )
                        }
                    }
                }
                None => out!("{text}"),
            }
        }
    }
    // The scenarios move in together (the files the lines above name).
    if let Some(dir) = dir {
        let shown = dir.dir().display().to_string();
        if let Err(e) = dir.commit() {
            eprintln!("error: cannot move the scenarios into {shown}: {e}");
            return EXIT_OUTPUT_FAILED;
        }
    }
    out!("{}", coverage.text());
    outln!(
        "{checked} seed(s) checked, {} failed{}",
        failures.len(),
        if checked < seeds.len() {
            format!(" (stopped at --max-failures {})", a.max_failures)
        } else {
            String::new()
        }
    );
    if failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_DIVERGED
    }
}
