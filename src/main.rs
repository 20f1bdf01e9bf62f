//! The `geosim` binary: everything happens in `geosim::cli` (which also stops quietly when
//! the reader of its output goes away: see `cli::write_stdout`).

fn main() {
    std::process::exit(geosim::cli::main_with_args(std::env::args_os()));
}
