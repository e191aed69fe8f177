//! The rate gate every API request passes through: one per credential, shared by all
//! workers.
//!
//! It owns two things: spacing requests evenly at the campaign's rate, and a gate-wide pause
//! after Heymarket answers 429, so concurrent workers back off together instead of
//! hammering. It does not decide whether a request is retried: that is `retry`'s job.
//!
//! The spacing is governor's GCRA. A burst of one would let every late timer wake-up push
//! all later releases back (a configured 50/s came out as 46/s on a loaded machine), so the
//! gate allows a burst `B` of up to three cells and spaces cells at `60 / (N - B)` s: any
//! closed 60 s window then holds at most `(N - B) + B = N` releases, and a late wake-up of
//! up to two cells is absorbed instead of lost.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// Cell spacing is widened by this factor so rounding can never fit N + 1 into a minute.
const SPACING_MARGIN: f64 = 1.001;

/// Holds every request to at most N a minute in any rolling 60 s window.
pub struct RateGate {
    limiter: Option<DefaultDirectRateLimiter>,
    interval: Option<Duration>,
    paused_until: Mutex<Option<Instant>>,
}

impl RateGate {
    /// A gate releasing at most `per_minute` requests in any 60 s.
    ///
    /// A rate that is not a positive finite number gives an unlimited gate.
    pub fn new(per_minute: f64) -> RateGate {
        let quota = quota(per_minute);
        RateGate {
            interval: quota.map(|(_, interval)| interval),
            limiter: quota.map(|(quota, _)| RateLimiter::direct(quota)),
            paused_until: Mutex::new(None),
        }
    }

    /// A gate that never holds a request back, except during a pause.
    pub fn unlimited() -> RateGate {
        RateGate::new(f64::INFINITY)
    }

    /// The time between two releases at the sustained rate, or `None` when unlimited.
    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }

    /// Resolves when one more request may leave: after any pause, within the quota.
    pub async fn wait(&self) {
        loop {
            self.wait_unpaused().await;
            let Some(limiter) = &self.limiter else {
                return;
            };
            limiter.until_ready().await;

            // A 429 answered while this request waited for the quota holds it back too.
            if self.paused_until().is_none() {
                return;
            }
        }
    }

    /// Resolves once no pause is in force, without taking from the quota.
    pub async fn wait_unpaused(&self) {
        while let Some(until) = self.paused_until() {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Holds every request back for `pause` from now (a 429 was answered). A pause never
    /// shortens one already in force.
    pub fn pause_for(&self, pause: Duration) {
        let until = Instant::now() + pause;
        let mut paused = self.lock();
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    fn paused_until(&self) -> Option<Instant> {
        let mut paused = self.lock();
        match *paused {
            Some(until) if until > Instant::now() => Some(until),
            _ => {
                *paused = None;
                None
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Instant>> {
        self.paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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

/// The burst a gate of `per_minute` allows: three cells, fewer below 300 a minute (where a
/// burst would cost a large share of the sustained rate and lateness matters little).
fn burst(per_minute: f64) -> u32 {
    ((per_minute / 100.0).floor() as u32).clamp(1, 3)
}

/// The governor quota for `per_minute`, and its cell spacing; `None` for no limit.
fn quota(per_minute: f64) -> Option<(Quota, Duration)> {
    if !per_minute.is_finite() || per_minute < 1.0 {
        return None;
    }
    let burst = burst(per_minute);
    let sustained = (per_minute - f64::from(burst)).max(1.0);
    let interval = Duration::try_from_secs_f64(60.0 / sustained * SPACING_MARGIN).ok()?;
    let quota = Quota::with_period(interval)?.allow_burst(NonZeroU32::new(burst)?);
    Some((quota, interval))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most releases a GCRA of this quota allows in a closed window of `window`.
    fn most_in(per_minute: f64, window: Duration) -> u128 {
        let (_, interval) = quota(per_minute).expect("limited");
        window.as_nanos() / interval.as_nanos() + u128::from(burst(per_minute))
    }

    #[test]
    fn no_minute_can_hold_one_more_than_the_rate() {
        for per_minute in [1.0, 60.0, 400.0, 500.0, 3_000.0] {
            assert!(
                most_in(per_minute, Duration::from_secs(60)) <= per_minute as u128,
                "{per_minute}"
            );
        }
    }

    #[test]
    fn nonsense_rates_mean_unlimited() {
        assert!(quota(0.0).is_none());
        assert!(quota(-3.0).is_none());
        assert!(quota(f64::NAN).is_none());
        assert!(RateGate::new(f64::INFINITY).interval().is_none());
    }

    #[tokio::test]
    async fn releases_keep_pace_with_the_rate() {
        let gate = RateGate::new(60.0 * 100.0);
        let started = std::time::Instant::now();
        for _ in 0..101 {
            gate.wait().await;
        }

        // A burst of 3, then 98 cells at 60/5997 s: about 981 ms.
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(970), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(1_200), "{elapsed:?}");
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
