//! The `geosim` binary: everything happens in `geosim::cli`.

fn main() {
    // A reader that closes the pipe early (`geosim hunt ... | head`) is not an error of ours:
    // stop quietly, as a shell tool does on SIGPIPE, instead of printing a panic.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
    std::process::exit(geosim::cli::main_with_args(std::env::args_os()));
}
