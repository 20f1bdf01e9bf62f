//! Integration tests: one binary, one module per area.

mod architecture;
mod batching;
mod browser;
mod cli;
mod determinism;
mod diff;
mod divergence;
mod documented;
mod explain;
mod fuzz;
mod live;
mod memory;
mod outputs;
mod plan;
mod properties;
mod replication;
mod sampled;
mod scenarios;
mod sweep;
mod teaching;
mod validation;
mod validation_redis;

use geosim::scenario::{self, LoadOptions, Scenario};

/// The project root (tests run with the package root as the working directory, but say so).
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Loads a bundled scenario by file name, as the CLI would name it.
pub fn bundled(name: &str, seed: Option<u64>) -> Scenario {
    let path = root().join("scenarios").join(name);
    let mut s = scenario::load(&path, &LoadOptions { seed }).expect("bundled scenario is valid");
    s.file = format!("scenarios/{name}");
    s
}

/// Parses an inline scenario, panicking with the rendered error if it is invalid.
pub fn inline(text: &str) -> Scenario {
    scenario::parse(text, "inline.toml", &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The rendered error of an invalid inline scenario.
pub fn inline_error(text: &str) -> String {
    match scenario::parse(text, "inline.toml", &LoadOptions::default()) {
        Ok(_) => panic!("scenario unexpectedly valid:\n{text}"),
        Err(e) => e.to_string(),
    }
}
