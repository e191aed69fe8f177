//! Exit codes are an API: scripts and CI branch on them, so each has one meaning.

use std::process::ExitCode;

/// How `campaign` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked (for `apply`: every message accepted, already sent, or skipped by
    /// rule).
    Success = 0,
    /// An error: bad input, a refused plan, or at least one message failed for good or has
    /// an unknown outcome.
    Error = 1,
    /// `plan --detailed-exitcode` only: the plan would send at least one message.
    Changes = 2,
    /// `apply` halted safely and can be resumed: the send window closed with `--no-wait`,
    /// the error budget ran out, or it was interrupted.
    Halted = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// The exit codes as `--help` shows them.
pub const HELP: &str = "\
Exit codes:
  0  success (apply: every message accepted, already sent, or skipped by rule)
  1  error: bad input, a stale or refused plan, or a message that failed for good
     or whose outcome is unknown (see the report and `campaign status`)
  2  plan --detailed-exitcode: at least one message would be sent
  3  apply halted safely and can be resumed (send window, error budget, Ctrl-C)";
