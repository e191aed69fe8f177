//! The one place that decides what a failed send attempt leads to.
//!
//! [`decide`] maps an [`ApiError`] and the attempt count to a [`Decision`], and the reason for
//! every case is written next to it. The rule that matters most: a request that may have been
//! accepted is never sent again, unless the campaign trusts Heymarket's `local_id`
//! deduplication (`trust_local_id_dedupe`, or `--retry-unknown`). This module sleeps on
//! nothing and sends nothing; the engine acts on its decisions.

use std::time::Duration;

use rand::Rng;

use crate::heymarket::client::ApiError;

/// How persistent the engine is with one message.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Re-send a message whose fate is unknown (same `local_id`), trusting Heymarket's dedupe.
    pub retry_unknown: bool,
    /// Attempts after which a message still answered 429 is given up as failed.
    pub max_rate_limited: u32,
    /// Attempts after which a message that never reached Heymarket is given up as failed.
    pub max_not_sent: u32,
    /// With `retry_unknown`, attempts after which an ambiguous message is left unknown.
    pub max_unknown: u32,
    /// The first backoff step; each further attempt doubles it.
    pub base_delay: Duration,
    /// No computed backoff is longer than this.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is shortened to it.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retry_unknown: false,
            max_rate_limited: 20,
            max_not_sent: 5,
            max_unknown: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// What to do after an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Try again after this long. Not a failure: the message was not accepted (or, with
    /// `retry_unknown`, Heymarket is trusted to drop a repeat).
    RetryAfter(Duration),
    /// Sign a fresh token and try again at once.
    Resign,
    /// Refused for good: recorded `failed`, not sent.
    Permanent(String),
    /// May or may not have been accepted: recorded `unknown`, never re-sent blindly.
    Ambiguous(String),
}

/// Decides what follows `error` on attempt `attempt` (1-based: every try of this message
/// in this run counts, whatever it was answered).
pub fn decide(error: &ApiError, attempt: u32, policy: &RetryPolicy) -> Decision {
    match error {
        // The request never left: sending again cannot duplicate it. Give up after a few
        // tries; the message stays `failed` and a later run will send it.
        ApiError::NotSent { .. } if attempt < policy.max_not_sent => {
            Decision::RetryAfter(backoff(attempt, policy))
        }
        ApiError::NotSent { reason } => {
            Decision::Permanent(format!("not sent after {attempt} attempts: {reason}"))
        }

        ApiError::Status {
            status,
            message,
            retry_after,
            ..
        } => decide_status(*status, message, *retry_after, attempt, policy),

        // Timeout, dropped connection, unreadable 2xx: the message may be out there.
        ApiError::Ambiguous { reason, .. } => retry_if_trusted(reason, attempt, policy),

        // The client already re-signed once and was refused again: the credentials are bad.
        ApiError::Unauthorized { .. } => {
            Decision::Permanent("credentials refused (401) after re-signing".to_owned())
        }

        // No token could be signed, so nothing left this machine, and nothing will.
        ApiError::Credentials => Decision::Permanent(error.to_string()),
    }
}

/// Whether the failed request may nonetheless have been accepted: a timeout, a dropped
/// connection, an unreadable 2xx, or any status but a 4xx refusal (a 5xx, or something
/// unexpected). Such an attempt is journalled `unknown` even when it is retried.
pub fn is_ambiguous(error: &ApiError) -> bool {
    match error {
        ApiError::Ambiguous { .. } => true,
        ApiError::Status { status, .. } => !(400..=499).contains(status),
        ApiError::NotSent { .. } | ApiError::Unauthorized { .. } | ApiError::Credentials => false,
    }
}

/// The decision for an HTTP status other than 2xx.
fn decide_status(
    status: u16,
    message: &str,
    retry_after: Option<Duration>,
    attempt: u32,
    policy: &RetryPolicy,
) -> Decision {
    match status {
        // Over the rate limit: NOT accepted, so waiting and retrying is safe and is not a
        // failure. Only after very many 429s is the message given up (as failed).
        429 if attempt < policy.max_rate_limited => {
            let wait = retry_after.unwrap_or_else(|| backoff(attempt, policy));
            Decision::RetryAfter(wait.min(policy.max_retry_after))
        }
        429 => Decision::Permanent(format!("rate limited {attempt} times")),

        // Bad or expired token: one fresh signature, then the credentials are wrong.
        401 if attempt <= 1 => Decision::Resign,
        401 => Decision::Permanent(format!("credentials refused (401): {message}")),

        // The server says it never got the whole request: not accepted, safe to repeat.
        408 if attempt < policy.max_not_sent => Decision::RetryAfter(backoff(attempt, policy)),

        // Invalid field, denied, unknown resource, unprocessable, or any other refusal:
        // sending the same request again gets the same answer.
        400..=499 => Decision::Permanent(format!("refused ({status}): {message}")),

        // A server fault (or an answer this tool cannot interpret): the message may or may
        // not have been accepted.
        _ => retry_if_trusted(&format!("answered {status}: {message}"), attempt, policy),
    }
}

/// An ambiguous outcome is retried only when Heymarket's `local_id` dedupe is trusted.
fn retry_if_trusted(reason: &str, attempt: u32, policy: &RetryPolicy) -> Decision {
    if policy.retry_unknown && attempt < policy.max_unknown {
        return Decision::RetryAfter(backoff(attempt, policy));
    }
    Decision::Ambiguous(reason.to_owned())
}

/// Exponential backoff with full jitter: a random wait up to `base * 2^(attempt - 1)`,
/// capped at `max_delay`.
pub fn backoff(attempt: u32, policy: &RetryPolicy) -> Duration {
    let doublings = attempt.saturating_sub(1).min(20);
    let ceiling = policy
        .base_delay
        .saturating_mul(1 << doublings)
        .min(policy.max_delay);
    let fraction: f64 = rand::rng().random_range(0.0..=1.0);
    ceiling.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<Duration>) -> ApiError {
        ApiError::Status {
            status,
            message: "nope".to_owned(),
            request_id: Some("req-1".to_owned()),
            retry_after,
        }
    }

    fn ambiguous() -> ApiError {
        ApiError::Ambiguous {
            reason: "no answer within the timeout".to_owned(),
            request_id: None,
        }
    }

    fn trusting() -> RetryPolicy {
        RetryPolicy {
            retry_unknown: true,
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn rate_limits_wait_as_told_and_give_up_only_after_the_cap() {
        let policy = RetryPolicy::default();
        let told = status(429, Some(Duration::from_secs(3)));
        assert_eq!(
            decide(&told, 1, &policy),
            Decision::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            decide(&told, 19, &policy),
            Decision::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            decide(&told, 20, &policy),
            Decision::Permanent("rate limited 20 times".to_owned())
        );
    }

    #[test]
    fn rate_limits_without_retry_after_back_off_within_the_cap() {
        let policy = RetryPolicy::default();
        for attempt in 1..20 {
            match decide(&status(429, None), attempt, &policy) {
                Decision::RetryAfter(wait) => assert!(wait <= policy.max_delay),
                other => panic!("attempt {attempt}: {other:?}"),
            }
        }
        let huge = status(429, Some(Duration::from_secs(86_400)));
        assert_eq!(
            decide(&huge, 1, &policy),
            Decision::RetryAfter(policy.max_retry_after)
        );
    }

    #[test]
    fn unreachable_servers_are_retried_then_failed() {
        let policy = RetryPolicy::default();
        let refused = ApiError::NotSent {
            reason: "connection refused".to_owned(),
        };
        assert!(matches!(
            decide(&refused, 1, &policy),
            Decision::RetryAfter(_)
        ));
        assert!(matches!(
            decide(&refused, 5, &policy),
            Decision::Permanent(reason) if reason.contains("connection refused")
        ));
    }

    #[test]
    fn client_errors_are_permanent() {
        let policy = trusting();
        for code in [400, 403, 404, 422] {
            assert!(
                matches!(
                    decide(&status(code, None), 1, &policy),
                    Decision::Permanent(_)
                ),
                "{code}"
            );
        }
    }

    #[test]
    fn unauthorized_resigns_once_then_stops() {
        let policy = RetryPolicy::default();
        assert_eq!(decide(&status(401, None), 1, &policy), Decision::Resign);
        assert!(matches!(
            decide(&status(401, None), 2, &policy),
            Decision::Permanent(_)
        ));
        let refused = ApiError::Unauthorized { request_id: None };
        assert!(matches!(
            decide(&refused, 1, &policy),
            Decision::Permanent(_)
        ));
    }

    #[test]
    fn server_faults_and_timeouts_are_unknown_unless_dedupe_is_trusted() {
        let strict = RetryPolicy::default();
        for error in [status(500, None), status(503, None), ambiguous()] {
            assert!(matches!(decide(&error, 1, &strict), Decision::Ambiguous(_)));
            assert!(matches!(
                decide(&error, 1, &trusting()),
                Decision::RetryAfter(_)
            ));
            assert!(matches!(
                decide(&error, 3, &trusting()),
                Decision::Ambiguous(_)
            ));
        }
    }

    #[test]
    fn request_timeouts_from_the_server_are_retried() {
        assert!(matches!(
            decide(&status(408, None), 1, &RetryPolicy::default()),
            Decision::RetryAfter(_)
        ));
    }

    #[test]
    fn only_answers_that_may_hide_an_acceptance_are_ambiguous() {
        let refused = ApiError::NotSent {
            reason: "refused".to_owned(),
        };
        assert!(!is_ambiguous(&refused));
        assert!(!is_ambiguous(&status(429, None)));
        assert!(!is_ambiguous(&status(400, None)));
        assert!(is_ambiguous(&status(500, None)));
        assert!(is_ambiguous(&ambiguous()));
        for error in [status(500, None), status(302, None), ambiguous()] {
            let strict = decide(&error, 1, &RetryPolicy::default());
            assert!(matches!(strict, Decision::Ambiguous(_)), "{error:?}");
        }
    }

    #[test]
    fn backoff_is_capped() {
        let policy = RetryPolicy::default();
        assert!(backoff(1, &policy) <= policy.base_delay);
        assert!(backoff(40, &policy) <= policy.max_delay);
    }
}
