//! The `geosim` binary: everything happens in `geosim::cli`.

fn main() {
    std::process::exit(geosim::cli::main_with_args(std::env::args_os()));
}
