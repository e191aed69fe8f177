//! The running totals of one engine run, and the decisions made from them.
//!
//! [`Tally`] counts every message's end into the [`RunSummary`], spends the error budget,
//! holds the halt (and raises the signal that tells waiting workers to give up), and reads
//! the journal's verdict on a message before it is issued. It sends nothing and sleeps on
//! nothing: the engine drives it.

use std::collections::{BTreeMap, HashSet};

use tokio::sync::watch;

use super::attempt::Fate;
use super::budget::ErrorBudget;
use super::engine::{EngineOptions, HaltReason, Queued, RunSummary, SendItem};
use super::events::{Event, EventSink, SkipReason};
use crate::state::{Entry, EntryStatus, StateError};

/// The run's mutable state: totals, budget, halt, and what the journal knew at the start.
pub(crate) struct Tally {
    summary: RunSummary,
    budget: ErrorBudget,
    /// The journal's entries, each removed once its message is pulled from the plan.
    known: BTreeMap<String, Entry>,
    /// Every `local_id` pulled in this run: a repeat in the plan is never sent twice.
    seen: HashSet<String>,
    retry_unknown: bool,
    fatal: Option<StateError>,
    stop: watch::Receiver<bool>,
    /// Raised on any halt: workers waiting out a pause or a backoff give up at once.
    halting: watch::Sender<bool>,
}

impl Tally {
    pub fn new(
        options: &EngineOptions,
        known: BTreeMap<String, Entry>,
        stop: watch::Receiver<bool>,
    ) -> Tally {
        Tally {
            summary: RunSummary::default(),
            budget: ErrorBudget::new(options.max_consecutive_failures, options.max_failure_ratio),
            known,
            seen: HashSet::new(),
            retry_unknown: options.retry.retry_unknown,
            fatal: None,
            stop,
            halting: watch::Sender::new(false),
        }
    }

    /// The caller's stop signal.
    pub fn stop(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }

    /// The signal a worker watches to give up waiting once the run halts.
    pub fn halting(&self) -> watch::Receiver<bool> {
        self.halting.subscribe()
    }

    pub fn is_halted(&self) -> bool {
        self.summary.halted.is_some()
    }

    /// Whether another send may be issued; notices a raised stop signal.
    pub fn should_issue(&mut self, events: &dyn EventSink) -> bool {
        if *self.stop.borrow() {
            self.halt(events, HaltReason::Interrupted, "stop requested".to_owned());
        }
        self.summary.halted.is_none() && self.fatal.is_none()
    }

    /// Stops issuing sends for `reason`; the first halt wins.
    pub fn halt(&mut self, events: &dyn EventSink, reason: HaltReason, detail: String) {
        self.halting.send_replace(true);
        if self.summary.halted.is_some() {
            return;
        }
        self.summary.halted = Some(reason);
        events.emit(&Event::Halted { reason, detail });
    }

    /// Counts `count` messages left unsent because their window was closed.
    pub fn count_deferred(&mut self, count: usize) {
        self.summary.deferred += count as u64;
    }

    /// Counts `count` messages left unsent because the run halted before issuing them.
    pub fn count_pending(&mut self, count: usize) {
        self.summary.pending += count as u64;
    }

    /// The summary, or the journal failure that ended the run.
    pub fn finish(self, elapsed: std::time::Duration) -> Result<RunSummary, StateError> {
        if let Some(error) = self.fatal {
            return Err(error);
        }
        Ok(RunSummary {
            elapsed,
            ..self.summary
        })
    }

    /// The journal number of the message's next attempt, or `None` when the journal says it
    /// must not be sent (the skip is counted and reported here).
    pub fn first_attempt(&mut self, events: &dyn EventSink, item: &SendItem) -> Option<u32> {
        if !self.seen.insert(item.local_id.clone()) {
            log::warn!("`{}` appears twice in the plan; sent once", item.local_id);
            events.emit(&skipped(item, SkipReason::Duplicate));
            return None;
        }
        let Some(entry) = self.known.remove(&item.local_id) else {
            return Some(1);
        };
        let skip = match entry.status {
            EntryStatus::Failed => return Some(entry.attempts + 1),
            EntryStatus::Unknown | EntryStatus::InFlight if self.retry_unknown => {
                return Some(entry.attempts + 1);
            }
            EntryStatus::Sent => {
                self.summary.already_sent += 1;
                SkipReason::AlreadySent
            }
            EntryStatus::Unknown | EntryStatus::InFlight => {
                self.summary.unknown += 1;
                SkipReason::UnknownOutcome
            }
            EntryStatus::SkippedOptedOut => {
                self.summary.skipped_opted_out += 1;
                SkipReason::OptedOut
            }
            EntryStatus::SkippedBlocked => {
                self.summary.skipped_blocked += 1;
                SkipReason::Blocked
            }
        };
        events.emit(&skipped(item, skip));
        None
    }

    /// Counts and reports how a message ended; a deferred one goes back to `deferred`.
    pub fn settle(
        &mut self,
        events: &dyn EventSink,
        item: SendItem,
        fate: Fate,
        deferred: &mut Vec<Queued>,
    ) {
        match fate {
            Fate::Sent { accepted, attempts } => {
                self.summary.sent += 1;
                self.budget.record_success();
                events.emit(&Event::Sent {
                    row: item.row,
                    local_id: item.local_id,
                    label: item.label,
                    message_id: accepted.id,
                    request_id: accepted.request_id,
                    attempts,
                });
            }
            Fate::Failed {
                error,
                request_id,
                unauthorized,
            } => {
                self.summary.failed += 1;
                self.budget.record_failure();
                if unauthorized {
                    self.halt(events, HaltReason::Unauthorized, error.clone());
                }
                events.emit(&Event::Failed {
                    row: item.row,
                    local_id: item.local_id,
                    label: item.label,
                    error,
                    request_id,
                });
            }
            Fate::Unknown { reason, request_id } => {
                self.summary.unknown += 1;
                self.budget.record_failure();
                events.emit(&Event::Unknown {
                    row: item.row,
                    local_id: item.local_id,
                    label: item.label,
                    reason,
                    request_id,
                });
            }
            Fate::OptedOut => {
                self.summary.skipped_opted_out += 1;
                events.emit(&skipped(&item, SkipReason::OptedOut));
            }
            Fate::Blocked => {
                self.summary.skipped_blocked += 1;
                events.emit(&skipped(&item, SkipReason::Blocked));
            }
            Fate::Deferred { next_attempt } => deferred.push(Queued {
                item,
                attempt: Some(next_attempt),
            }),
            Fate::Interrupted => self.summary.pending += 1,
            Fate::Journal(error) => {
                self.summary.pending += 1;
                self.fatal.get_or_insert(error);
                self.halting.send_replace(true);
            }
        }

        if let Some(why) = self.budget.exhausted() {
            self.halt(events, HaltReason::ErrorBudget, why);
        }
    }
}

pub(crate) fn skipped(item: &SendItem, reason: SkipReason) -> Event {
    Event::Skipped {
        row: item.row,
        local_id: item.local_id.clone(),
        label: item.label.clone(),
        reason,
    }
}
