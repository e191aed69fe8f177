//! `campaign validate FILE...`: every rule, offline, every problem at once.
//!
//! Validation is the plan without its output: the same loading, CSV reading and rendering,
//! so a file that validates plans, and a rule cannot be checked in one and missed in the
//! other.

use crate::cli::ValidateArgs;
use crate::exit::Exit;
use crate::plan;

pub fn run(args: &ValidateArgs) -> anyhow::Result<Exit> {
    let mut failed = 0;
    for file in &args.files {
        if !validate_one(file)? {
            failed += 1;
        }
    }
    match failed {
        0 => Ok(Exit::Success),
        _ => {
            eprintln!(
                "error: {failed} of {} campaign files have errors",
                args.files.len()
            );
            Ok(Exit::Error)
        }
    }
}

fn validate_one(file: &std::path::Path) -> anyhow::Result<bool> {
    let Some(campaign) = super::load_campaign(file) else {
        return Ok(false);
    };
    let outcome = plan::build(&campaign, &plan::Options::default(), &mut |_| Ok(()))?;
    super::report(&outcome.diagnostics);
    if outcome.has_errors() {
        return Ok(false);
    }
    let summary = &outcome.summary;
    println!(
        "ok: {} is valid ({} to send, {} skipped, {} invalid)",
        file.display(),
        summary.to_send,
        summary.skipped,
        summary.invalid
    );
    Ok(true)
}
