//! The send engine behind `apply`: every planned message sent at most once, none dropped.
//!
//! [`run`] pulls messages lazily from the plan, skips what the journal says is settled,
//! defers recipients outside their send window, and keeps up to `concurrency` messages in
//! flight through the client's rate gate. It halts (stops issuing, lets what is in flight
//! finish and be journalled) on the stop signal, on a spent error budget, on refused
//! credentials, or, with `no_wait`, when only closed windows remain. It renders nothing:
//! progress goes to an [`EventSink`], the totals come back as a [`RunSummary`].

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::watch;

use super::attempt::{Context, deliver, stopped};
use super::clock::Clock;
use super::events::{Event, EventSink, SkipReason};
use super::retry::RetryPolicy;
use super::tally::{Tally, skipped};
use super::window;
use crate::campaign::Window;
use crate::heymarket::client::Client;
use crate::heymarket::types::SendRequest;
use crate::state::{Ledger, StateError};

/// Messages in flight at once when the caller names no number.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// One planned message, ready to send.
#[derive(Debug, Clone)]
pub struct SendItem {
    /// The plan row (1-based CSV data row, or 1 for a list or group send).
    pub row: u64,
    /// The journal key; also sent as the request's `local_id`.
    pub local_id: String,
    /// The request exactly as it is sent, `local_id` included.
    pub request: SendRequest,
    /// The recipient's IANA zones for the send window; empty means "any US zone".
    pub zones: Vec<String>,
    /// How events name the recipient: a masked phone number, never the number itself.
    pub label: String,
}

/// How a run sends.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Messages in flight at once (at least 1).
    pub concurrency: usize,
    /// When, in each recipient's local time, a message may leave.
    pub window: Window,
    /// Halt instead of sleeping until a closed window opens.
    pub no_wait: bool,
    /// How persistent to be with one message, and whether unknown fates may be re-sent.
    pub retry: RetryPolicy,
    /// Halt after this many failed or unknown sends in a row (0: no limit).
    pub max_consecutive_failures: u32,
    /// Halt when more than this share of finished sends failed, once 20 have finished.
    pub max_failure_ratio: f64,
    /// "Now" for windows and journal times: the system clock, or `CAMPAIGN_NOW`.
    pub clock: Clock,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            concurrency: DEFAULT_CONCURRENCY,
            window: Window::Always,
            no_wait: false,
            retry: RetryPolicy::default(),
            max_consecutive_failures: 10,
            max_failure_ratio: 0.2,
            clock: Clock::System,
        }
    }
}

/// Why a run stopped issuing sends before the plan was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HaltReason {
    /// `no_wait`, and the remaining recipients are outside their send window.
    Window,
    /// Too many failures in a row, or too large a share.
    ErrorBudget,
    /// The stop signal (Ctrl-C).
    Interrupted,
    /// Heymarket refused the credentials even after re-signing.
    Unauthorized,
}

/// What a run did, message by message, in totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunSummary {
    /// Accepted by Heymarket in this run.
    pub sent: u64,
    /// Skipped because the journal says an earlier run sent them.
    pub already_sent: u64,
    /// Not sent: the contact opted out (learned now, or in an earlier run).
    pub skipped_opted_out: u64,
    /// Not sent: the contact is blocked (learned now, or in an earlier run).
    pub skipped_blocked: u64,
    /// Refused for good, or given up: not sent, and sent again by a later run.
    pub failed: u64,
    /// Fate unknown (this run, or an earlier one and not retried): never re-sent blindly.
    pub unknown: u64,
    /// Left unsent because their send window was closed (or never opens).
    pub deferred: u64,
    /// Pulled from the plan but not sent because the run halted first. Messages the run never
    /// pulled from the plan are not counted anywhere: the plan knows how many there are.
    pub pending: u64,
    /// Why the run stopped early, if it did.
    pub halted: Option<HaltReason>,
    /// Wall-clock time of the run (serialized as seconds).
    #[serde(serialize_with = "as_seconds")]
    pub elapsed: Duration,
}

/// Why a run could not go on at all.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Without a durable journal no send may leave: the run stopped at the first failure to
    /// write one, after letting what was in flight finish.
    #[error("the journal could not be read or written; sending stopped")]
    Journal {
        #[source]
        source: StateError,
    },
}

/// Sends every item not yet settled in `ledger`, and reports how it went.
///
/// `stop` is the interrupt: once it reads `true`, no further request is issued, and the run
/// returns after the requests on the wire are answered and journalled.
pub async fn run<L: Ledger>(
    client: &Client,
    ledger: &L,
    items: impl Iterator<Item = SendItem>,
    options: &EngineOptions,
    events: &dyn EventSink,
    stop: watch::Receiver<bool>,
) -> Result<RunSummary, EngineError> {
    let started = Instant::now();
    let known = ledger
        .entries()
        .map_err(|source| EngineError::Journal { source })?;
    let context = Context {
        client,
        ledger,
        options,
        events,
    };
    let mut tally = Tally::new(options, known, stop);
    events.emit(&Event::Started {
        concurrency: options.concurrency.max(1),
    });

    let mut deferred = Vec::new();
    let fresh = items.map(|item| Queued {
        item,
        attempt: None,
    });
    drain(&context, &mut tally, fresh, &mut deferred).await;
    wait_for_windows(&context, &mut tally, deferred).await;

    let summary = tally
        .finish(started.elapsed())
        .map_err(|source| EngineError::Journal { source })?;
    events.emit(&Event::Finished {
        summary: summary.clone(),
    });
    Ok(summary)
}

/// A message waiting to be issued; `attempt` is known once the journal was consulted.
pub(crate) struct Queued {
    pub item: SendItem,
    pub attempt: Option<u32>,
}

/// Issues `queue` with bounded concurrency until it is empty or the run halts, and waits for
/// everything in flight. Messages whose window is closed go to `deferred`.
async fn drain<L: Ledger>(
    context: &Context<'_, L>,
    tally: &mut Tally,
    queue: impl Iterator<Item = Queued>,
    deferred: &mut Vec<Queued>,
) {
    let limit = context.options.concurrency.max(1);
    let mut queue = queue.fuse();
    let mut in_flight = FuturesUnordered::new();
    let mut stop = tally.stop();

    loop {
        while in_flight.len() < limit && tally.should_issue(context.events) {
            let Some(queued) = queue.next() else { break };
            let Some((item, attempt)) = triage(context, tally, queued, deferred) else {
                continue;
            };
            let halting = tally.halting();
            in_flight.push(async move {
                let fate = deliver(context, &item, attempt, halting).await;
                (item, fate)
            });
        }
        if in_flight.is_empty() {
            return;
        }

        let halted = tally.is_halted();
        tokio::select! {
            Some((item, fate)) = in_flight.next() => {
                tally.settle(context.events, item, fate, deferred);
            }
            () = stopped(&mut stop), if !halted => {
                tally.halt(context.events, HaltReason::Interrupted, "stop requested".to_owned());
            }
        }
    }
}

/// Decides whether a queued message is issued now: not if the journal settled it, and not
/// while its window is closed (then it is deferred).
fn triage<L>(
    context: &Context<'_, L>,
    tally: &mut Tally,
    queued: Queued,
    deferred: &mut Vec<Queued>,
) -> Option<(SendItem, u32)> {
    let attempt = match queued.attempt {
        Some(attempt) => attempt,
        None => tally.first_attempt(context.events, &queued.item)?,
    };
    let options = context.options;
    if !window::is_open(&options.window, &zones(&queued.item), options.clock.now()) {
        deferred.push(Queued {
            item: queued.item,
            attempt: Some(attempt),
        });
        return None;
    }
    Some((queued.item, attempt))
}

/// Sends the deferred messages as their windows open: sleeping until the earliest opening,
/// or halting at once with `no_wait`. Messages whose window never opens are reported.
async fn wait_for_windows<L: Ledger>(
    context: &Context<'_, L>,
    tally: &mut Tally,
    mut deferred: Vec<Queued>,
) {
    let options = context.options;
    let mut stop = tally.stop();
    while !deferred.is_empty() && tally.should_issue(context.events) {
        let now = options.clock.now();
        let (ready, waiting): (Vec<Queued>, Vec<Queued>) = deferred
            .into_iter()
            .partition(|queued| window::is_open(&options.window, &zones(&queued.item), now));
        deferred = waiting;
        if !ready.is_empty() {
            let mut ready = ready.into_iter();
            drain(context, tally, &mut ready, &mut deferred).await;
            tally.count_pending(ready.len());
            continue;
        }

        let Some(earliest) = earliest_opening(context, tally, &mut deferred, now) else {
            break;
        };
        if options.no_wait {
            let detail = format!("{} messages are outside their send window", deferred.len());
            tally.halt(context.events, HaltReason::Window, detail);
            break;
        }
        context.events.emit(&Event::Waiting {
            until: earliest.to_string(),
            deferred: deferred.len() as u64,
        });
        tokio::select! {
            () = tokio::time::sleep(options.clock.until(earliest)) => {}
            () = stopped(&mut stop) => {}
        }
    }
    tally.count_deferred(deferred.len());
}

/// The earliest instant a deferred message's window opens. Messages whose window never
/// opens are reported, counted as deferred and dropped from `deferred`.
fn earliest_opening<L>(
    context: &Context<'_, L>,
    tally: &mut Tally,
    deferred: &mut Vec<Queued>,
    now: Timestamp,
) -> Option<Timestamp> {
    let window = &context.options.window;
    let mut earliest: Option<Timestamp> = None;
    deferred.retain(
        |queued| match window::next_open(window, &zones(&queued.item), now) {
            Some(opening) => {
                earliest = Some(earliest.map_or(opening, |known| known.min(opening)));
                true
            }
            None => {
                tally.count_deferred(1);
                context
                    .events
                    .emit(&skipped(&queued.item, SkipReason::WindowNeverOpens));
                false
            }
        },
    );
    earliest
}

fn zones(item: &SendItem) -> Vec<&str> {
    item.zones.iter().map(String::as_str).collect()
}

fn as_seconds<S: serde::Serializer>(elapsed: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(elapsed.as_secs_f64())
}
