//! One message's way through the API: attempts until Heymarket's answer settles its fate.
//!
//! Each attempt is journalled as an intent, durably, before its request leaves, and its
//! answer as an outcome right after, so a crash at any point leaves a journal that never
//! allows a second send of an accepted message. What a failed attempt leads to is
//! `retry::decide`'s call; this module carries it out (waiting, re-signing, asking Heymarket
//! why a 403 happened) and reports how the message ended as a [`Fate`]. It never counts
//! failures against the budget or decides to halt the run.

use tokio::sync::watch;

use super::engine::{EngineOptions, SendItem};
use super::events::{Event, EventSink};
use super::retry::{Decision, decide, is_ambiguous};
use super::window;
use crate::heymarket::client::{Accepted, ApiError, Client};
use crate::state::{EntryStatus, Ledger, Record, StateError};

/// What the engine's workers share.
pub(crate) struct Context<'a, L> {
    pub client: &'a Client,
    pub ledger: &'a L,
    pub options: &'a EngineOptions,
    pub events: &'a dyn EventSink,
}

/// How one message ended in this run.
#[derive(Debug)]
pub(crate) enum Fate {
    Sent {
        accepted: Accepted,
        attempts: u32,
    },
    Failed {
        error: String,
        request_id: Option<String>,
        /// The credentials were refused: nothing else will get through either.
        unauthorized: bool,
    },
    Unknown {
        reason: String,
        request_id: Option<String>,
    },
    OptedOut,
    Blocked,
    /// The window closed before it could be sent (again): nothing was sent, and the next
    /// try is journalled as `next_attempt`.
    Deferred {
        next_attempt: u32,
    },
    /// The run halted before (another) request for it left.
    Interrupted,
    /// The journal could not be written: nothing more may be sent.
    Journal(StateError),
}

/// Sends `item` until its fate is settled; `attempt` is the journal number of the first try.
/// Once `halting` is raised, no further request for it leaves: waits end as
/// [`Fate::Interrupted`], and a request already on the wire is answered and journalled.
pub(crate) async fn deliver<L: Ledger>(
    context: &Context<'_, L>,
    item: &SendItem,
    mut attempt: u32,
    mut halting: watch::Receiver<bool>,
) -> Fate {
    let options = context.options;
    let zones: Vec<&str> = item.zones.iter().map(String::as_str).collect();
    let mut tries = 0;
    loop {
        if !window::is_open(&options.window, &zones, options.clock.now()) {
            return Fate::Deferred {
                next_attempt: attempt,
            };
        }
        tokio::select! {
            biased;
            () = stopped(&mut halting) => return Fate::Interrupted,
            () = context.client.gate().wait_unpaused() => {}
        }

        let intent = Record::Intent {
            local_id: item.local_id.clone(),
            row: item.row,
            attempt,
        };
        if let Err(error) = context.ledger.append(vec![intent]).await {
            return Fate::Journal(error);
        }
        let answer = context.client.send(&item.request).await;
        tries += 1;

        let error = match answer {
            Ok(accepted) => return settle_sent(context, item, accepted, attempt).await,
            Err(error) => error,
        };
        let decision = decide(&error, tries, &options.retry);
        log::debug!(
            "`{}` attempt {attempt}: {error}: {decision:?}",
            item.local_id
        );
        let next = match decision {
            Decision::RetryAfter(wait) => retry_after(context, item, &error, attempt, wait),
            Decision::Resign => {
                context.client.invalidate_token();
                Retry::Now
            }
            Decision::Permanent(reason) => {
                return settle_refused(context, item, &error, reason).await;
            }
            Decision::Ambiguous(reason) => {
                let fate = Fate::Unknown {
                    reason,
                    request_id: error.request_id().map(str::to_owned),
                };
                return record(context, item, fate).await;
            }
        };

        // Journal this attempt before the next: a crash while waiting must leave a refused
        // message re-sendable, and one that may have been accepted `unknown`.
        let reason = error.to_string();
        let request_id = error.request_id().map(str::to_owned);
        let interim = if is_ambiguous(&error) {
            Fate::Unknown { reason, request_id }
        } else {
            Fate::Failed {
                error: reason,
                request_id,
                unauthorized: false,
            }
        };
        if let Fate::Journal(error) = record(context, item, interim).await {
            return Fate::Journal(error);
        }
        if let Retry::After(wait) = next {
            tokio::select! {
                biased;
                () = stopped(&mut halting) => return Fate::Interrupted,
                () = tokio::time::sleep(wait) => {}
            }
        }
        attempt += 1;
    }
}

/// When the next attempt may go.
enum Retry {
    Now,
    After(std::time::Duration),
}

/// Reports the retry, and holds the whole gate back when Heymarket said 429.
fn retry_after<L>(
    context: &Context<'_, L>,
    item: &SendItem,
    error: &ApiError,
    attempt: u32,
    wait: std::time::Duration,
) -> Retry {
    if error.status() == Some(429) {
        context.client.gate().pause_for(wait);
    }
    context.events.emit(&Event::Retrying {
        row: item.row,
        local_id: item.local_id.clone(),
        label: item.label.clone(),
        attempt: attempt + 1,
        after_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
        reason: error.to_string(),
    });
    Retry::After(wait)
}

async fn settle_sent<L: Ledger>(
    context: &Context<'_, L>,
    item: &SendItem,
    accepted: Accepted,
    attempts: u32,
) -> Fate {
    record(context, item, Fate::Sent { accepted, attempts }).await
}

/// A permanent refusal. A 403 on a send to one number is often an opted-out or blocked
/// contact: one status lookup tells which, and the message is recorded as skipped for it.
async fn settle_refused<L: Ledger>(
    context: &Context<'_, L>,
    item: &SendItem,
    error: &ApiError,
    reason: String,
) -> Fate {
    let refused = Fate::Failed {
        error: reason,
        request_id: error.request_id().map(str::to_owned),
        unauthorized: matches!(error, ApiError::Unauthorized { .. }),
    };
    let phone = item.request.phone_number.as_deref();
    let fate = match (error.status(), phone) {
        (Some(403), Some(phone)) => match context.client.contact_status(phone).await {
            Ok(status) if status.unsubscribed => Fate::OptedOut,
            Ok(status) if status.blocked => Fate::Blocked,
            _ => refused,
        },
        _ => refused,
    };
    record(context, item, fate).await
}

/// Journals `fate` as the outcome of the latest attempt, and hands it back.
async fn record<L: Ledger>(context: &Context<'_, L>, item: &SendItem, fate: Fate) -> Fate {
    let (status, message_id, request_id, sent_at, error) = match &fate {
        Fate::Sent { accepted, .. } => (
            EntryStatus::Sent,
            Some(accepted.id),
            accepted.request_id.clone(),
            Some(context.options.clock.now().to_string()),
            None,
        ),
        Fate::Failed {
            error, request_id, ..
        } => (
            EntryStatus::Failed,
            None,
            request_id.clone(),
            None,
            Some(error.clone()),
        ),
        Fate::Unknown { reason, request_id } => (
            EntryStatus::Unknown,
            None,
            request_id.clone(),
            None,
            Some(reason.clone()),
        ),
        Fate::OptedOut => (EntryStatus::SkippedOptedOut, None, None, None, None),
        Fate::Blocked => (EntryStatus::SkippedBlocked, None, None, None, None),
        Fate::Deferred { .. } | Fate::Interrupted | Fate::Journal(_) => return fate,
    };

    let outcome = Record::Outcome {
        local_id: item.local_id.clone(),
        status,
        message_id,
        request_id,
        sent_at,
        error,
    };
    match context.ledger.append(vec![outcome]).await {
        Ok(()) => fate,
        Err(error) => Fate::Journal(error),
    }
}

/// Resolves once a stop or halt signal is raised; never, if its sender is gone.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stopped| *stopped).await.is_err() {
        std::future::pending::<()>().await;
    }
}
