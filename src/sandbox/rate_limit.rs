//! The per-credential request budget: N requests in any rolling 60 seconds, exactly.
//!
//! Each caller has a queue of the instants its recent requests arrived; a request is allowed
//! when fewer than N of them are younger than 60 s. Refused (429) requests are recorded in
//! the window too: the strict reading, so a client that keeps hammering while limited stays
//! limited. Heymarket documents no `Retry-After`; the sandbox sends one anyway (whole
//! seconds until the oldest request in the window ages out) and clients must not rely on it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::auth::Caller;

/// The length of the rolling window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Rolling windows for every caller seen.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: HashMap<Caller, VecDeque<Instant>>,
}

/// Whether a request may proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// Over the budget: seconds (rounded up, at least 1) until a retry can succeed.
    Limited {
        retry_after_secs: u64,
    },
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per caller in any 60 s.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            windows: HashMap::new(),
        }
    }

    /// Counts a request from `caller` at `now` and says whether it is within budget.
    pub fn admit(&mut self, caller: &Caller, now: Instant) -> Admission {
        let window = self.windows.entry(caller.clone()).or_default();
        while window
            .front()
            .is_some_and(|&oldest| now.duration_since(oldest) >= WINDOW)
        {
            window.pop_front();
        }

        let is_over = window.len() >= self.per_minute as usize;
        window.push_back(now);
        if !is_over {
            return Admission::Allowed;
        }

        // Refused requests stay in the window. Only the newest N decide when the next request
        // may pass (the oldest of them must age out first), so older ones are dropped.
        while window.len() > self.per_minute as usize {
            window.pop_front();
        }
        let oldest = window.front().copied().unwrap_or(now);
        let wait = WINDOW.saturating_sub(now.duration_since(oldest));
        Admission::Limited {
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_n_plus_first_request_in_a_minute_is_limited() {
        let mut limiter = RateLimiter::new(3);
        let caller = Caller::ApiKey;
        let start = Instant::now();
        for second in 0..3 {
            let at = start + Duration::from_secs(second);
            assert_eq!(limiter.admit(&caller, at), Admission::Allowed);
        }
        let fourth = limiter.admit(&caller, start + Duration::from_secs(10));
        assert_eq!(
            fourth,
            Admission::Limited {
                retry_after_secs: 51
            }
        );
    }

    #[test]
    fn the_window_rolls_rather_than_resetting() {
        let mut limiter = RateLimiter::new(2);
        let caller = Caller::ApiKey;
        let start = Instant::now();
        assert_eq!(limiter.admit(&caller, start), Admission::Allowed);
        let later = start + Duration::from_secs(30);
        assert_eq!(limiter.admit(&caller, later), Admission::Allowed);
        let minute = start + WINDOW;
        assert_eq!(limiter.admit(&caller, minute), Admission::Allowed);
        let limited = limiter.admit(&caller, minute + Duration::from_secs(1));
        assert_eq!(
            limited,
            Admission::Limited {
                retry_after_secs: 59
            }
        );
    }

    #[test]
    fn callers_have_separate_windows() {
        let mut limiter = RateLimiter::new(1);
        let now = Instant::now();
        assert_eq!(limiter.admit(&Caller::ApiKey, now), Admission::Allowed);
        let other = Caller::Secret { id: "sid".into() };
        assert_eq!(limiter.admit(&other, now), Admission::Allowed);
    }
}
