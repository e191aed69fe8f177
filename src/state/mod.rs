//! What `apply` has done, durably: the per-campaign journal that makes sends exactly-once.
//!
//! Before a send request leaves, its intent is on disk; after the answer, its outcome is.
//! A send whose intent is recorded but whose outcome is not was in flight when the process
//! died: its fate is `unknown`, and it is never re-sent blindly. This module stores and
//! reports; it never decides whether to send.
//!
//! [`Journal`] is the durable [`Ledger`] on disk; [`Journal::read_only`] is the view that
//! `campaign status` takes, even while a run holds the campaign.

mod files;
mod gate;
mod journal;
mod lock;
mod snapshot;
mod writer;

pub mod memory;

use serde::{Deserialize, Serialize};

pub use gate::GATE_FILE;
pub use journal::{IN_FLIGHT_AT_STOP, JOURNAL_FILE, Journal};
pub use lock::LOCK_FILE;

/// The durable fate of one message, keyed by its `local_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub local_id: String,
    /// The plan row (1-based CSV data row, or 1 for a list/group request).
    pub row: u64,
    pub status: EntryStatus,
    /// Send requests issued for this message so far.
    pub attempts: u32,
    pub message_id: Option<u64>,
    /// The `X-Request-Id` of the last answer, for Heymarket support.
    pub request_id: Option<String>,
    /// RFC 3339 time of the accepted send.
    pub sent_at: Option<String>,
    /// The last error, as a message string (never containing credentials).
    pub error: Option<String>,
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// An intent is recorded and no outcome: a request may be on the wire.
    InFlight,
    /// Heymarket accepted it (2xx with an `id`).
    Sent,
    /// Refused for good (400, 403, ...): it was not sent.
    Failed,
    /// The request may or may not have been accepted (5xx, timeout, dropped connection,
    /// or a crash while in flight). Never re-sent without `--retry-unknown` or trusted dedupe.
    Unknown,
    /// Skipped at send time by a rule learned online (opted out, blocked).
    SkippedOptedOut,
    SkippedBlocked,
}

/// A record appended to the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Record {
    /// About to send attempt `attempt` of `local_id`. Must be durable before the request.
    Intent {
        local_id: String,
        row: u64,
        attempt: u32,
    },
    /// What that attempt came to.
    Outcome {
        local_id: String,
        status: EntryStatus,
        message_id: Option<u64>,
        request_id: Option<String>,
        sent_at: Option<String>,
        error: Option<String>,
    },
}

/// Why the journal could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "campaign `{campaign}` is already being applied by {} (lock `{lock}`)",
        holder(*.pid)
    )]
    Locked {
        campaign: String,
        lock: String,
        /// The holder's pid, when it could be read from the lock file.
        pid: Option<u32>,
    },
    #[error("could not read or write the journal state `{path}`")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the journal `{path}` is unreadable: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("the journal was closed")]
    Closed,
}

impl Record {
    /// The message this record is about.
    pub fn local_id(&self) -> &str {
        match self {
            Record::Intent { local_id, .. } | Record::Outcome { local_id, .. } => local_id,
        }
    }
}

/// Who holds a lock, in words, for [`StateError::Locked`].
fn holder(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("another process (pid {pid})"),
        None => "another process".to_string(),
    }
}

/// A durable record of sends. `apply` is generic over it so tests can use memory.
pub trait Ledger: Send + Sync + 'static {
    /// Appends `records` and resolves once they are durable (flushed to disk). Concurrent
    /// calls may share one flush: that batching is the implementation's job.
    fn append(
        &self,
        records: Vec<Record>,
    ) -> impl std::future::Future<Output = Result<(), StateError>> + Send;

    /// Every message's current entry, by `local_id`. An intent with no outcome reads as
    /// [`EntryStatus::InFlight`] while this process runs it, and as `Unknown` after a reopen.
    fn entries(&self) -> Result<std::collections::BTreeMap<String, Entry>, StateError>;
}
