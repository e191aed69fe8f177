//! The run's sense of "now", for send windows and journal times.
//!
//! Real runs read the system clock. Tests (and rehearsals) start from a fixed instant given
//! as `CAMPAIGN_NOW` and let real time elapse from there, so waiting for a window still takes
//! real seconds while the day and hour are chosen. JWT signing never uses this clock:
//! Heymarket checks tokens against real time.

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

/// The environment variable that fixes the starting instant (RFC 3339, with an offset).
pub const ENV_NOW: &str = "CAMPAIGN_NOW";

/// Why `CAMPAIGN_NOW` could not be read.
#[derive(Debug, thiserror::Error)]
#[error("`{ENV_NOW}` value `{value}` is not an RFC 3339 time with an offset: {reason}")]
pub struct ClockError {
    pub value: String,
    pub reason: String,
}

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// `start` when the run began, plus the real time elapsed since `origin`.
    Shifted { start: Timestamp, origin: Instant },
}

impl Clock {
    /// A clock that reads `start` now and moves on in real time.
    pub fn starting_at(start: Timestamp) -> Clock {
        Clock::Shifted {
            start,
            origin: Instant::now(),
        }
    }

    /// A shifted clock from a value like `2026-03-08T07:59:58-05:00`.
    pub fn parse(value: &str) -> Result<Clock, ClockError> {
        let start = value
            .trim()
            .parse::<Timestamp>()
            .map_err(|error| ClockError {
                value: value.to_owned(),
                reason: error.to_string(),
            })?;
        Ok(Clock::starting_at(start))
    }

    /// The clock `CAMPAIGN_NOW` asks for, or the system clock when it is unset or empty.
    pub fn from_env() -> Result<Clock, ClockError> {
        match std::env::var(ENV_NOW) {
            Ok(value) if !value.trim().is_empty() => Clock::parse(&value),
            _ => Ok(Clock::System),
        }
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Shifted { start, origin } => {
                let elapsed =
                    SignedDuration::try_from(origin.elapsed()).unwrap_or(SignedDuration::MAX);
                start.saturating_add(elapsed).unwrap_or(*start)
            }
        }
    }

    /// How long until `instant` by this clock; zero if it has passed.
    pub fn until(&self, instant: Timestamp) -> std::time::Duration {
        let wait = instant.duration_since(self.now());
        std::time::Duration::try_from(wait).unwrap_or(std::time::Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_starts_where_told_and_moves_on() {
        let clock = Clock::parse("2026-03-08T07:59:58-05:00").expect("clock");
        let now = clock.now();
        assert!(now >= "2026-03-08T12:59:58Z".parse::<Timestamp>().expect("ts"));
        assert!(now < "2026-03-08T13:00:58Z".parse::<Timestamp>().expect("ts"));
        assert!(clock.until(now) <= std::time::Duration::from_millis(1));
        assert!(Clock::parse("yesterday").is_err());
    }
}
