//! `geosim sweep`.

use std::path::Path;

use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::scenario::{self, LoadOptions};
use crate::sweep::{parse_axis, parse_seeds, run_sweep, sweep_csv, sweep_md};

pub fn sweep(path: &Path, set: &[String], seeds: Option<&str>, jobs: usize, out: &Path) -> i32 {
    let axes = match set
        .iter()
        .map(|s| parse_axis(s))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let seeds = match seeds {
        Some(spec) => match parse_seeds(spec) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        },
        None => match scenario::load(path, &LoadOptions::default()) {
            Ok(s) => vec![s.config.seed],
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        },
    };
    let results = match run_sweep(path, &axes, &seeds, jobs) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let md = sweep_md(&path.display().to_string(), &axes, &seeds, &results);
    let written = std::fs::create_dir_all(out)
        .and_then(|_| std::fs::write(out.join("sweep.csv"), sweep_csv(&axes, &results)))
        .and_then(|_| std::fs::write(out.join("sweep.md"), &md));
    if let Err(e) = written {
        eprintln!("error: cannot write into {}: {e}", out.display());
        return EXIT_BAD_INPUT;
    }
    print!("{md}");
    EXIT_OK
}
