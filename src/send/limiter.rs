//! The rate gate every API request passes through: one per credential, shared by all
//! workers.
//!
//! It owns two things: spacing requests evenly at the campaign's rate (a GCRA limiter with
//! a burst of one), and a gate-wide pause after Heymarket answers 429, so concurrent workers
//! back off together instead of hammering. It does not decide whether a request is retried:
//! that is `retry`'s job.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// Requests are spaced this much wider than `60 / N` seconds, so that N + 1 requests never
/// fit in a closed 60 s window and a little network jitter cannot push N + 1 into one at the
/// server either. It costs 1 % of throughput.
const SPACING_MARGIN: f64 = 1.01;

/// Holds every request to at most N a minute in any rolling 60 s window.
pub struct RateGate {
    limiter: Option<DefaultDirectRateLimiter>,
    interval: Option<Duration>,
    paused_until: Mutex<Option<Instant>>,
}

impl RateGate {
    /// A gate releasing at most `per_minute` requests in any 60 s, evenly spaced.
    ///
    /// A rate that is not a positive finite number gives an unlimited gate.
    pub fn new(per_minute: f64) -> RateGate {
        let Some(interval) = spacing(per_minute) else {
            return RateGate::unlimited();
        };
        let quota = Quota::with_period(interval).map(|quota| quota.allow_burst(NonZeroU32::MIN));
        RateGate {
            limiter: quota.map(RateLimiter::direct),
            interval: Some(interval),
            paused_until: Mutex::new(None),
        }
    }

    /// A gate that never holds a request back, except during a pause.
    pub fn unlimited() -> RateGate {
        RateGate {
            limiter: None,
            interval: None,
            paused_until: Mutex::new(None),
        }
    }

    /// The time between two releases, or `None` when unlimited.
    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }

    /// Resolves when one more request may leave: after any pause, at the gate's pace.
    pub async fn wait(&self) {
        self.wait_unpaused().await;

        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
    }

    /// Resolves once no pause is in force, without taking a place in the pace.
    pub async fn wait_unpaused(&self) {
        while let Some(until) = self.paused_until() {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Holds every request back for `pause` from now (a 429 was answered). A pause never
    /// shortens one already in force.
    pub fn pause_for(&self, pause: Duration) {
        let until = Instant::now() + pause;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    fn paused_until(&self) -> Option<Instant> {
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match *paused {
            Some(until) if until > Instant::now() => Some(until),
            _ => {
                *paused = None;
                None
            }
        }
    }
}

impl fmt::Debug for RateGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateGate")
            .field("interval", &self.interval)
            .field("paused_until", &self.paused_until())
            .finish()
    }
}

/// The spacing for `per_minute`, margin included; `None` for no limit.
fn spacing(per_minute: f64) -> Option<Duration> {
    if !per_minute.is_finite() || per_minute <= 0.0 {
        return None;
    }
    let seconds = 60.0 / per_minute * SPACING_MARGIN;
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|interval| !interval.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_leaves_no_room_for_one_more_in_a_closed_window() {
        let interval = spacing(500.0).expect("limited");
        assert!(interval * 500 > Duration::from_secs(60));
        assert!(interval < Duration::from_millis(125));
    }

    #[test]
    fn nonsense_rates_mean_unlimited() {
        assert!(spacing(0.0).is_none());
        assert!(spacing(-3.0).is_none());
        assert!(spacing(f64::NAN).is_none());
        assert!(RateGate::new(f64::INFINITY).interval().is_none());
    }

    #[tokio::test]
    async fn releases_never_crowd_a_window() {
        let gate = RateGate::new(60.0 * 100.0);
        let started = std::time::Instant::now();
        let mut releases = Vec::new();
        for _ in 0..60 {
            gate.wait().await;
            releases.push(std::time::Instant::now());
        }

        // 100 a second: any 51 consecutive releases span more than half a second.
        for pair in releases.windows(51) {
            assert!(pair[50] - pair[0] > Duration::from_millis(500));
        }
        assert!(started.elapsed() < Duration::from_millis(900));
    }

    #[tokio::test]
    async fn a_pause_holds_everyone_back() {
        let gate = RateGate::unlimited();
        gate.pause_for(Duration::from_millis(120));
        gate.pause_for(Duration::from_millis(10));
        let started = std::time::Instant::now();
        gate.wait().await;
        assert!(started.elapsed() >= Duration::from_millis(110));
    }
}
