//! How a sandbox is set up: fixtures, credentials, rate limit, dedupe, faults and log.
//!
//! This module only describes a sandbox; [`super::Sandbox::start`] brings one up. It never
//! reads the environment or the command line: `campaign sandbox` does that.

use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;

use super::fixtures::Fixtures;
use crate::heymarket::secret::Secret;

/// Heymarket's documented budget: 500 requests per minute per credential.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = crate::campaign::HEYMARKET_MAX_PER_MINUTE;

/// How far ahead of the sandbox's clock a token's `iat` may be before it is refused.
pub const DEFAULT_FUTURE_SKEW_SECS: i64 = 30;

/// Everything a sandbox needs to start.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The pretend team, inboxes, contacts, lists, templates and conversations.
    pub fixtures: Fixtures,
    /// The API Secret ID clients sign their tokens with.
    pub secret_id: String,
    /// The API Secret Key clients sign their tokens with.
    pub secret_key: Secret,
    /// A legacy team API key also accepted as a bearer token, if any.
    pub api_key: Option<Secret>,
    /// Requests allowed per rolling 60 s per credential; `None` turns limiting off.
    pub rate_limit_per_minute: Option<u32>,
    /// Whether a repeated `local_id` in the same inbox answers with the original message.
    pub dedupe_local_id: bool,
    /// Injected failures and latency for send requests.
    pub faults: FaultConfig,
    /// Where every accepted message is appended as one JSON line, if anywhere.
    pub log_path: Option<PathBuf>,
    /// How far in the future a token's `iat` may be, in seconds.
    pub future_skew_secs: i64,
    /// Seconds the sandbox's clock runs ahead of this machine's (negative: behind). Tokens
    /// are judged, and `Date` headers and message dates written, on the sandbox's clock, so
    /// a client with a skewed clock can be rehearsed.
    pub clock_offset_secs: i64,
}

/// Injected failures for `POST /v1/message/send`, drawn from a seeded RNG (one draw per
/// send request), so a run with the same seed and the same requests fails the same way.
///
/// The shares are probabilities in `0.0..=1.0`; together they should not exceed 1 (any
/// excess is simply never reached).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Seed of the RNG that decides each request's fate.
    pub seed: u64,
    /// Share answered 500 without recording anything.
    pub error_500: f64,
    /// Share recorded (and logged) and then answered 500: the ambiguous server fault.
    pub error_500_after_record: f64,
    /// Share answered 503 without recording anything.
    pub error_503: f64,
    /// Share answered 429 (with `Retry-After: 1`) without recording anything.
    pub error_429: f64,
    /// Delay added to every send request.
    pub latency: Duration,
    /// Share of send requests delayed by `slow_latency` instead of `latency`.
    pub slow_share: f64,
    /// The delay of a slow request.
    pub slow_latency: Duration,
    /// Share whose connection is reset with no response and nothing recorded.
    pub drop_before_share: f64,
    /// Share recorded (and logged), then the connection reset with no response.
    pub drop_after_share: f64,
}

impl SandboxConfig {
    /// Built-in fixtures, freshly generated credentials, 500 requests a minute, dedupe on,
    /// no faults, no log.
    pub fn new() -> Self {
        let (secret_id, secret_key) = generate_secret();
        SandboxConfig {
            fixtures: Fixtures::default(),
            secret_id,
            secret_key,
            api_key: None,
            rate_limit_per_minute: Some(DEFAULT_RATE_LIMIT_PER_MINUTE),
            dedupe_local_id: true,
            faults: FaultConfig::default(),
            log_path: None,
            future_skew_secs: DEFAULT_FUTURE_SKEW_SECS,
            clock_offset_secs: 0,
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig::new()
    }
}

impl Default for FaultConfig {
    /// No faults and no latency.
    fn default() -> Self {
        FaultConfig {
            seed: 0,
            error_500: 0.0,
            error_500_after_record: 0.0,
            error_503: 0.0,
            error_429: 0.0,
            latency: Duration::ZERO,
            slow_share: 0.0,
            slow_latency: Duration::ZERO,
            drop_before_share: 0.0,
            drop_after_share: 0.0,
        }
    }
}

/// A random API Secret pair in the shape Heymarket hands out: an id and a longer key.
pub fn generate_secret() -> (String, Secret) {
    let mut rng = rand::rng();
    let id: [u8; 8] = rng.random();
    let key: [u8; 24] = rng.random();
    (
        format!("sbx_{}", hex::encode(id)),
        Secret::new(hex::encode(key)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_differ() {
        let (first_id, first_key) = generate_secret();
        let (second_id, second_key) = generate_secret();
        assert_ne!(first_id, second_id);
        assert_ne!(first_key, second_key);
    }
}
