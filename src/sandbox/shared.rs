//! The state every request of one sandbox shares, and the steps that touch it.
//!
//! Admission (who is calling and whether they are within budget), the fault draw and the
//! accept-or-refuse decision for a send live here, behind short-held locks, so the route
//! handlers stay thin. This module knows nothing about HTTP beyond headers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::http::HeaderMap;

use super::auth::Verifier;
use super::config::SandboxConfig;
use super::faults::{Fate, Faults, Outcome};
use super::fixtures::Fixtures;
use super::rate_limit::{Admission, RateLimiter};
use super::reply::ApiError;
use super::store::{RecordedMessage, Store};
use super::validate::{check_send, parse_send};
use crate::heymarket::types::SendResponse;

/// One sandbox's fixtures, credentials, limits, faults and messages.
#[derive(Debug)]
pub struct Shared {
    pub fixtures: Fixtures,
    verifier: Verifier,
    limiter: Option<Mutex<RateLimiter>>,
    faults: Option<Mutex<Faults>>,
    store: Mutex<Store>,
    dedupe_local_id: bool,
    requests: AtomicU64,
    request_id_prefix: String,
    clock_offset: jiff::SignedDuration,
}

impl Shared {
    /// State for `config`, with its store (and log) already opened.
    pub fn new(config: SandboxConfig, store: Store) -> Self {
        let faults = Faults::new(config.faults);
        let prefix: [u8; 4] = rand::random();
        Shared {
            fixtures: config.fixtures,
            verifier: Verifier {
                secret_id: config.secret_id,
                secret_key: config.secret_key,
                api_key: config.api_key,
                future_skew_secs: config.future_skew_secs,
            },
            limiter: config
                .rate_limit_per_minute
                .map(|n| Mutex::new(RateLimiter::new(n))),
            faults: faults.is_active().then(|| Mutex::new(faults)),
            store: Mutex::new(store),
            dedupe_local_id: config.dedupe_local_id,
            requests: AtomicU64::new(0),
            request_id_prefix: format!("sbx-{}", hex::encode(prefix)),
            clock_offset: jiff::SignedDuration::from_secs(config.clock_offset_secs),
        }
    }

    /// Counts a request and names it: the value of its `X-Request-Id`.
    pub fn next_request_id(&self) -> String {
        let number = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}-{number:08}", self.request_id_prefix)
    }

    /// The sandbox's time: this machine's, moved by the configured clock offset.
    pub fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
            .checked_add(self.clock_offset)
            .unwrap_or_else(|_| jiff::Timestamp::now())
    }

    /// The `Date` header value for a response sent now, on the sandbox's clock.
    pub fn http_date(&self) -> Option<String> {
        jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&self.now())
            .ok()
    }

    /// How many HTTP requests arrived, refused ones included.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Authenticates a request and charges it to its caller's rate-limit window.
    pub fn admit(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let caller = self.verifier.identify(headers, self.now().as_second())?;
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        match lock(limiter).admit(&caller, Instant::now()) {
            Admission::Allowed => Ok(()),
            Admission::Limited { retry_after_secs } => {
                Err(ApiError::RateLimited { retry_after_secs })
            }
        }
    }

    /// The fate of the next send request: one draw each, or none when no faults are set.
    pub fn draw_fate(&self) -> Fate {
        match &self.faults {
            Some(faults) => lock(faults).next(),
            None => Fate {
                outcome: Outcome::Normal,
                delay: std::time::Duration::ZERO,
            },
        }
    }

    /// Parses, checks and records a send (or finds the original of a repeated `local_id`).
    pub fn accept_send(&self, body: &[u8], request_id: &str) -> Result<SendResponse, ApiError> {
        let request = parse_send(body)?;
        check_send(&request, &self.fixtures)?;

        let mut store = lock(&self.store);
        if self.dedupe_local_id
            && let Some(local_id) = &request.local_id
            && let Some(original) = store.find_by_local_id(request.inbox_id, local_id)
        {
            return Ok(original.clone());
        }
        store
            .record(request, request_id, &format!("{:.3}", self.now()))
            .map_err(|error| ApiError::ServerError {
                message: format!("could not write the message log: {error}"),
            })
    }

    /// Every accepted message, in order.
    pub fn messages(&self) -> Vec<RecordedMessage> {
        lock(&self.store).messages().to_vec()
    }

    /// Runs `read` over the accepted messages without copying them.
    pub fn with_messages<T>(&self, read: impl FnOnce(&[RecordedMessage]) -> T) -> T {
        read(lock(&self.store).messages())
    }
}

/// A poisoned lock only means another request panicked mid-way; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
