//! Heymarket's clock as seen from here, for signing tokens when this machine's clock is wrong.
//!
//! A token's `iat` is judged on Heymarket's clock: a machine running minutes slow signs
//! tokens that look expired, one running fast signs tokens from the future, and every request
//! is refused with 401. After a 401 the client reads the answer's `Date` header; when it is
//! further from this machine's clock than [`TOLERANCE_SECS`], tokens are signed on
//! Heymarket's time from then on, and the user is warned once to fix the clock. Nothing else
//! reads the `Date` header, and a 401 means nothing was sent, so trusting it cannot cost a
//! message.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// Differences up to this many seconds are left alone: HTTP dates have whole seconds, and a
/// token lives 300 s.
pub const TOLERANCE_SECS: i64 = 30;

/// The offset of Heymarket's clock from this machine's, learned from `Date` headers.
#[derive(Debug, Default)]
pub struct ServerClock {
    offset_secs: AtomicI64,
    warned: AtomicBool,
}

impl ServerClock {
    /// Unix seconds on Heymarket's clock, as far as it is known.
    pub fn now(&self) -> i64 {
        jiff::Timestamp::now().as_second() + self.offset_secs.load(Ordering::Relaxed)
    }

    /// The current offset in seconds (positive: Heymarket is ahead of this machine).
    pub fn offset_secs(&self) -> i64 {
        self.offset_secs.load(Ordering::Relaxed)
    }

    /// Learns the offset from a refused answer's `Date` header. Returns whether the offset
    /// changed, that is whether signing again on the corrected clock is worth a try.
    pub fn observe(&self, date_header: Option<&str>) -> bool {
        let Some(server) = date_header.and_then(parse_http_date) else {
            return false;
        };
        let offset = server - jiff::Timestamp::now().as_second();
        let known = self.offset_secs.load(Ordering::Relaxed);
        if (offset - known).abs() <= TOLERANCE_SECS {
            return false;
        }
        self.offset_secs.store(offset, Ordering::Relaxed);
        if !self.warned.swap(true, Ordering::Relaxed) {
            log::warn!(
                "this machine's clock is {} Heymarket's (by its Date header), so tokens looked \
                 {}; signing on Heymarket's time from now on. Fix the clock (NTP) to avoid this",
                describe(offset),
                if offset > 0 {
                    "expired"
                } else {
                    "issued in the future"
                },
            );
        }
        true
    }
}

/// "412 s behind" or "95 s ahead of".
fn describe(offset: i64) -> String {
    if offset > 0 {
        format!("{offset} s behind")
    } else {
        format!("{} s ahead of", -offset)
    }
}

/// Unix seconds of an HTTP date such as `Thu, 03 Dec 2026 19:16:25 GMT`.
fn parse_http_date(value: &str) -> Option<i64> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()
        .map(|timestamp| timestamp.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_date(unix: i64) -> String {
        let timestamp = jiff::Timestamp::from_second(unix).expect("timestamp");
        jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&timestamp)
            .expect("format")
    }

    #[test]
    fn a_server_ten_minutes_ahead_moves_the_signing_clock() {
        let clock = ServerClock::default();
        let ahead = jiff::Timestamp::now().as_second() + 600;
        assert!(clock.observe(Some(&http_date(ahead))));
        assert!((clock.offset_secs() - 600).abs() <= 2);
        assert!((clock.now() - ahead).abs() <= 2);
        // Learning the same offset twice is not news: no second re-sign.
        assert!(!clock.observe(Some(&http_date(ahead))));
    }

    #[test]
    fn small_differences_and_unreadable_dates_are_ignored() {
        let clock = ServerClock::default();
        let now = jiff::Timestamp::now().as_second();
        assert!(!clock.observe(Some(&http_date(now + 5))));
        assert!(!clock.observe(Some("yesterday-ish")));
        assert!(!clock.observe(None));
        assert_eq!(clock.offset_secs(), 0);
    }

    #[test]
    fn a_server_behind_gives_a_negative_offset() {
        let clock = ServerClock::default();
        let behind = jiff::Timestamp::now().as_second() - 3_600;
        assert!(clock.observe(Some(&http_date(behind))));
        assert!((clock.offset_secs() + 3_600).abs() <= 2);
    }
}
