//! The rate gate every API request passes through: one per credential, shared by all
//! workers.
//!
//! It owns two things: spacing requests evenly at the campaign's rate, and a gate-wide pause
//! after Heymarket answers 429, so concurrent workers back off together instead of
//! hammering. It does not decide whether a request is retried: that is `retry`'s job.
//!
//! The spacing is a fixed schedule of release slots `interval` apart (a GCRA with a burst of
//! one, kept as the slot times themselves). A governor limiter was tried first and dropped:
//! with a burst of one, every late timer wake-up pushed all later releases back, and on a
//! loaded machine 50/s came out as 46/s. Here a late wake-up delays one release, not the
//! schedule, and no two slots are ever closer than `interval`.

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// Slots are spaced this much wider than `60 / N` seconds, so that N + 1 requests never fit
/// in a closed 60 s window, and a late wake-up of up to 1 % of a minute cannot push N + 1
/// into one at the server either. It costs 1 % of throughput.
const SPACING_MARGIN: f64 = 1.01;

/// Holds every request to at most N a minute in any rolling 60 s window.
pub struct RateGate {
    interval: Option<Duration>,
    schedule: Mutex<Schedule>,
}

/// The next free release slot, and the end of any pause.
#[derive(Debug, Default)]
struct Schedule {
    next_slot: Option<Instant>,
    paused_until: Option<Instant>,
}

impl RateGate {
    /// A gate releasing at most `per_minute` requests in any 60 s, evenly spaced.
    ///
    /// A rate that is not a positive finite number gives an unlimited gate.
    pub fn new(per_minute: f64) -> RateGate {
        RateGate {
            interval: spacing(per_minute),
            schedule: Mutex::new(Schedule::default()),
        }
    }

    /// A gate that never holds a request back, except during a pause.
    pub fn unlimited() -> RateGate {
        RateGate::new(f64::INFINITY)
    }

    /// The time between two releases, or `None` when unlimited.
    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }

    /// Resolves when one more request may leave: after any pause, in its own slot.
    pub async fn wait(&self) {
        loop {
            self.wait_unpaused().await;
            let Some(slot) = self.take_slot() else {
                return;
            };
            tokio::time::sleep_until(slot).await;

            // A 429 answered while this request waited for its slot holds it back too.
            if self.paused_until().is_none() {
                return;
            }
        }
    }

    /// Resolves once no pause is in force, without taking a slot.
    pub async fn wait_unpaused(&self) {
        while let Some(until) = self.paused_until() {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Holds every request back for `pause` from now (a 429 was answered). A pause never
    /// shortens one already in force.
    pub fn pause_for(&self, pause: Duration) {
        let until = Instant::now() + pause;
        let mut schedule = self.lock();
        if schedule.paused_until.is_none_or(|current| current < until) {
            schedule.paused_until = Some(until);
        }
    }

    /// Books the next free slot, never in the past; `None` when unlimited.
    fn take_slot(&self) -> Option<Instant> {
        let interval = self.interval?;
        let mut schedule = self.lock();
        let now = Instant::now();
        let slot = schedule.next_slot.map_or(now, |next| next.max(now));
        schedule.next_slot = Some(slot + interval);
        Some(slot)
    }

    fn paused_until(&self) -> Option<Instant> {
        let mut schedule = self.lock();
        match schedule.paused_until {
            Some(until) if until > Instant::now() => Some(until),
            _ => {
                schedule.paused_until = None;
                None
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Schedule> {
        self.schedule
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

    #[test]
    fn no_minute_ever_holds_one_more_slot_than_the_rate() {
        let gate = RateGate::new(500.0);
        let slots: Vec<Instant> = (0..1_200).filter_map(|_| gate.take_slot()).collect();
        for pair in slots.windows(2) {
            assert!(pair[1] - pair[0] >= gate.interval().expect("limited"));
        }
        for minute in slots.windows(501) {
            assert!(minute[500] - minute[0] > Duration::from_secs(60));
        }
    }

    #[tokio::test]
    async fn releases_keep_pace_with_the_rate() {
        let gate = RateGate::new(60.0 * 100.0);
        let started = std::time::Instant::now();
        for _ in 0..51 {
            gate.wait().await;
        }

        // 50 intervals of 10.1 ms; a late wake-up does not push the schedule back.
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(505), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(650), "{elapsed:?}");
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
