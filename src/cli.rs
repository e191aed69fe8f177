//! The command line: every subcommand, flag and default in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Plan and send version-controlled SMS/MMS campaigns through Heymarket.
#[derive(Debug, Parser)]
#[command(name = "campaign", version, about, after_help = crate::exit::HELP)]
pub struct Cli {
    /// More detail on stderr: -v decisions, -vv requests, -vvv everything.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check campaign files offline: every rule, every problem at once.
    Validate(ValidateArgs),
    /// Show exactly what `apply` would send, without sending anything.
    Plan(PlanArgs),
    /// Print a saved plan.
    Show(ShowArgs),
    /// Send a campaign (or a saved plan): rate-limited, journaled, resumable.
    Apply(ApplyArgs),
    /// Show where a campaign's sends stand, and settle `unknown` ones.
    Status(StatusArgs),
    /// Serve a local imitation of Heymarket's API for rehearsals and tests.
    Sandbox(crate::commands::sandbox::SandboxArgs),
    /// Print the JSON Schema of the campaign file.
    Schema,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Campaign files to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The campaign file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Print the plan as one JSON document (streamed) instead of text.
    #[arg(long)]
    pub json: bool,

    /// Also write a pull-request comment in Markdown to FILE (`-` for stdout, instead of text).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Save the plan to PLAN, for `campaign apply PLAN` and `campaign show PLAN`.
    #[arg(long, value_name = "PLAN")]
    pub out: Option<PathBuf>,

    /// Skip the online checks even when credentials are set.
    #[arg(long)]
    pub offline: bool,

    /// Exit 2 when at least one message would be sent (0 when none would be).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved with `campaign plan --out`.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,

    /// Print it as the `plan --json` document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A campaign file (planned now, then confirmed) or a saved plan (sent as saved).
    #[arg(value_name = "FILE|PLAN")]
    pub file: PathBuf,

    /// Send to an in-process sandbox instead of Heymarket: no credentials, no network.
    #[arg(long)]
    pub sandbox: bool,

    /// Do not ask for confirmation (required without a terminal).
    #[arg(long)]
    pub auto_approve: bool,

    /// Stream one JSON event per line on stdout instead of a progress bar.
    #[arg(long)]
    pub json: bool,

    /// Where the results report goes (default `reports/<campaign>/<timestamp>/`).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub state: StateDir,

    /// Re-send messages whose outcome is unknown (only safe if Heymarket dedupes `local_id`).
    #[arg(long)]
    pub retry_unknown: bool,

    /// Stop (exit 3, resumable) instead of waiting for recipients outside their send window.
    #[arg(long)]
    pub no_wait: bool,

    /// Override the campaign's rate: `N/min`, `N/s`, or `unlimited`. Above Heymarket's 500 a
    /// minute only against a loopback base URL (the sandbox, tests, benchmarks).
    #[arg(long, value_name = "RATE")]
    pub rate: Option<String>,

    /// Requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Seconds to wait for Heymarket's answer to one request; a send still unanswered then
    /// is recorded `unknown`.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The campaign file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    #[command(flatten)]
    pub state: StateDir,

    /// Look up `unknown` messages in Heymarket's conversation history and settle them.
    #[arg(long)]
    pub settle: bool,

    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Where a campaign's send journal lives; shared by `apply` and `status`.
#[derive(Debug, Args)]
pub struct StateDir {
    /// Where the send journal lives.
    #[arg(
        long = "state-dir",
        value_name = "DIR",
        default_value = ".campaign/state",
        env = "CAMPAIGN_STATE_DIR"
    )]
    pub path: PathBuf,
}
