//! What a run reports as it goes, for a progress bar or for `--json` lines.
//!
//! Every [`Event`] serializes as one flat JSON object tagged by `event`
//! (`{"event":"sent","row":4,"local_id":"...",...}`). Events carry the masked label of a
//! recipient, never the number, and error text is scrubbed of digit runs before it gets
//! here. Rendering is the caller's business: this module only defines the events and the
//! [`EventSink`] they go to.

use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

use super::engine::{HaltReason, RunSummary};

/// One thing that happened during a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run began.
    Started { concurrency: usize },
    /// Heymarket accepted a message.
    Sent {
        row: u64,
        local_id: String,
        label: String,
        message_id: u64,
        request_id: Option<String>,
        attempts: u32,
    },
    /// A message was not sent, on purpose.
    Skipped {
        row: u64,
        local_id: String,
        label: String,
        reason: SkipReason,
    },
    /// A message was refused for good, or given up: it was not sent.
    Failed {
        row: u64,
        local_id: String,
        label: String,
        error: String,
        request_id: Option<String>,
    },
    /// A message may or may not have been sent; it will not be re-sent blindly.
    Unknown {
        row: u64,
        local_id: String,
        label: String,
        reason: String,
        request_id: Option<String>,
    },
    /// The run sleeps until a send window opens (RFC 3339) for `deferred` messages.
    Waiting { until: String, deferred: u64 },
    /// A message is tried again after a pause; this is not a failure.
    Retrying {
        row: u64,
        local_id: String,
        label: String,
        attempt: u32,
        after_ms: u64,
        reason: String,
    },
    /// The run stopped issuing sends.
    Halted { reason: HaltReason, detail: String },
    /// The run is over.
    Finished { summary: RunSummary },
}

/// Why a message was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The journal says an earlier run sent it.
    AlreadySent,
    /// The journal says an earlier attempt's fate is unknown, and re-sending is not allowed.
    UnknownOutcome,
    /// Heymarket says the contact opted out.
    OptedOut,
    /// Heymarket says the contact is blocked.
    Blocked,
    /// The send window is never open in all of the recipient's zones at once.
    WindowNeverOpens,
    /// The plan named this `local_id` before, in this run: it is sent once.
    Duplicate,
}

/// Where a run's events go. Called from the run's task; must be cheap.
pub trait EventSink: Send + Sync {
    /// Takes one event.
    fn emit(&self, event: &Event);
}

/// Drops every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: &Event) {}
}

/// Keeps every event in memory, in order: for tests and for summaries built afterwards.
#[derive(Debug, Default)]
pub struct EventLog {
    events: Mutex<Vec<Event>>,
}

impl EventLog {
    /// An empty log.
    pub fn new() -> EventLog {
        EventLog::default()
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Event>> {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl EventSink for EventLog {
    fn emit(&self, event: &Event) {
        self.lock().push(event.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_flat_json_tagged_by_name() {
        let event = Event::Skipped {
            row: 2,
            local_id: "spring-2".to_owned(),
            label: "+1******3344".to_owned(),
            reason: SkipReason::AlreadySent,
        };
        let json = serde_json::to_string(&event).expect("json");
        assert_eq!(
            json,
            r#"{"event":"skipped","row":2,"local_id":"spring-2","label":"+1******3344","reason":"already_sent"}"#
        );
    }
}
