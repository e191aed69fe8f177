//! Logs explain decisions on stderr; they default to warnings, `-v` adds detail, `-q` hides
//! all but errors. Nothing logged ever carries a secret: credentials are a redacting type.

use log::LevelFilter;

/// Sets up logging for this crate at the level `-v`/`-q` ask for.
pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::Error,
        (false, 0) => LevelFilter::Warn,
        (false, 1) => LevelFilter::Info,
        (false, 2) => LevelFilter::Debug,
        (false, _) => LevelFilter::Trace,
    };
    // Dependencies (hyper, reqwest) only speak up at the most verbose setting.
    let dependencies = if verbose >= 3 {
        LevelFilter::Debug
    } else {
        LevelFilter::Warn
    };
    env_logger::Builder::new()
        .filter_level(dependencies)
        .filter_module("campaign", level)
        .format_timestamp_millis()
        .target(env_logger::Target::Stderr)
        .init();
}
