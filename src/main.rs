//! The `campaign` binary: parse the command line, run one subcommand, map the result to an
//! exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

use campaign::cli::Cli;
use campaign::exit::Exit;
use campaign::render::memory::MemoryBudget;

/// Bounds what one message's rendering may hold: see `campaign::render::memory`.
#[global_allocator]
static ALLOCATOR: MemoryBudget = MemoryBudget::stopping();

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // Help and version are not errors; every argument error is exit 1, not clap's 2.
            return match error.use_stderr() {
                true => Exit::Error.into(),
                false => Exit::Success.into(),
            };
        }
    };
    campaign::logging::init(cli.verbose, cli.quiet);
    // Bounds what one message's rendering may take in time: see `campaign::render::watchdog`.
    campaign::render::watchdog::enable();

    match campaign::commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            Exit::Error.into()
        }
    }
}
