//! Deterministic trouble: which send requests fail, how, and how late they answer.
//!
//! One number is drawn from a seeded RNG per send request, whatever happens to it, so the
//! same seed and the same sequence of requests always fail the same way. Its upper half
//! picks the outcome (cumulative shares, in the order of [`Outcome`]); its lower half picks
//! whether the request is slow. This module only decides; the server carries it out.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::config::FaultConfig;

/// What happens to one send request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Reset the connection before recording anything: the message was not sent.
    DropBefore,
    /// Record the message, then reset the connection: sent, but the client cannot know.
    DropAfter,
    /// Answer 500 without recording.
    Error500,
    /// Record the message, then answer 500: the ambiguous server fault.
    Error500AfterRecord,
    /// Answer 503 without recording.
    Error503,
    /// Answer 429 without recording.
    Error429,
    /// Handle the request normally.
    Normal,
}

/// The fate of one send request: its outcome and the delay before it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fate {
    pub outcome: Outcome,
    pub delay: Duration,
}

/// The seeded source of fates.
#[derive(Debug)]
pub struct Faults {
    config: FaultConfig,
    rng: StdRng,
}

impl Faults {
    /// Faults as configured, starting from the configured seed.
    pub fn new(config: FaultConfig) -> Self {
        let rng = StdRng::seed_from_u64(config.seed);
        Faults { config, rng }
    }

    /// Whether any fault or latency is configured at all (if not, no draw is needed).
    pub fn is_active(&self) -> bool {
        self.config
            != FaultConfig {
                seed: self.config.seed,
                ..FaultConfig::default()
            }
    }

    /// Draws the fate of the next send request.
    pub fn next(&mut self) -> Fate {
        let draw: u64 = self.rng.random();
        let outcome_roll = unit(draw >> 32);
        let slow_roll = unit(draw & u64::from(u32::MAX));
        Fate {
            outcome: self.outcome(outcome_roll),
            delay: if slow_roll < self.config.slow_share {
                self.config.slow_latency
            } else {
                self.config.latency
            },
        }
    }

    fn outcome(&self, roll: f64) -> Outcome {
        let c = &self.config;
        let shares = [
            (c.drop_before_share, Outcome::DropBefore),
            (c.drop_after_share, Outcome::DropAfter),
            (c.error_500, Outcome::Error500),
            (c.error_500_after_record, Outcome::Error500AfterRecord),
            (c.error_503, Outcome::Error503),
            (c.error_429, Outcome::Error429),
        ];
        let mut ceiling = 0.0;
        for (share, outcome) in shares {
            ceiling += share.clamp(0.0, 1.0);
            if roll < ceiling {
                return outcome;
            }
        }
        Outcome::Normal
    }
}

/// Maps 32 random bits to `0.0..1.0`.
fn unit(bits: u64) -> f64 {
    bits as f64 / (f64::from(u32::MAX) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fates(config: &FaultConfig, count: usize) -> Vec<Fate> {
        let mut faults = Faults::new(config.clone());
        (0..count).map(|_| faults.next()).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_fates() {
        let config = FaultConfig {
            seed: 7,
            error_500: 0.2,
            drop_after_share: 0.2,
            slow_share: 0.5,
            slow_latency: Duration::from_millis(5),
            ..FaultConfig::default()
        };
        assert_eq!(fates(&config, 50), fates(&config, 50));
    }

    #[test]
    fn shares_are_roughly_honoured() {
        let config = FaultConfig {
            seed: 1,
            error_503: 0.25,
            ..FaultConfig::default()
        };
        let count = fates(&config, 4_000)
            .iter()
            .filter(|fate| fate.outcome == Outcome::Error503)
            .count();
        assert!((800..1200).contains(&count), "{count}");
    }

    #[test]
    fn slow_requests_take_the_slow_latency_instead() {
        let config = FaultConfig {
            latency: Duration::from_millis(1),
            slow_share: 0.5,
            slow_latency: Duration::from_millis(9),
            ..FaultConfig::default()
        };
        let delays: Vec<Duration> = fates(&config, 200).iter().map(|f| f.delay).collect();
        let slow = delays.iter().filter(|d| d.as_millis() == 9).count();
        assert!((60..140).contains(&slow), "{slow}");
        assert!(delays.iter().all(|d| matches!(d.as_millis(), 1 | 9)));
    }

    #[test]
    fn no_faults_means_every_request_is_normal() {
        let config = FaultConfig::default();
        assert!(!Faults::new(config.clone()).is_active());
        assert!(
            fates(&config, 100)
                .iter()
                .all(|f| f.outcome == Outcome::Normal)
        );
    }
}
