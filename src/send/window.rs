//! Send windows in each recipient's local time.
//!
//! A [`Window`] is a span of wall-clock time (`08:00`–`21:00`) that must hold in every time
//! zone a recipient may be in. A recipient whose zone is unknown may be anywhere in the US, so
//! the window must hold in all of the US zones at once. Local time is computed with jiff's
//! bundled time zone database, so DST changes are exact. This module answers "open now?" and
//! "open next when?"; it never sleeps and never decides what to do with a closed window.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;

use crate::campaign::Window;
use crate::recipients::timezone::US_ZONES;

/// Days searched ahead for an instant open in every zone. Windows repeat daily, so a common
/// opening, if there is one, shows up within two days; the rest is margin for DST shifts.
const SEARCH_DAYS: i64 = 8;

/// Whether `window` is open at `now` in every one of `zones` (IANA names). An empty list, or
/// a name the database does not know, stands for every US zone.
pub fn is_open(window: &Window, zones: &[&str], now: Timestamp) -> bool {
    resolve(zones)
        .iter()
        .all(|zone| is_open_in(window, zone, now))
}

/// The earliest instant at or after `now` when `window` is open in all of `zones`, or `None`
/// when it never is (an empty window, or windows that do not overlap across the zones).
pub fn next_open(window: &Window, zones: &[&str], now: Timestamp) -> Option<Timestamp> {
    let zones = resolve(zones);
    let limit = now
        .checked_add(jiff::SignedDuration::from_hours(24 * SEARCH_DAYS))
        .ok()?;

    // Move forward to the next opening of whichever zone is closed, until none is: every
    // instant skipped over was closed somewhere, so the first common one is the earliest.
    let mut candidate = now;
    while candidate <= limit {
        let closed = zones
            .iter()
            .find(|zone| !is_open_in(window, zone, candidate));
        match closed {
            None => return Some(candidate),
            Some(zone) => candidate = next_open_in(window, zone, candidate)?,
        }
    }
    None
}

/// The zones named; an empty list or an unknown name stands for every US zone.
fn resolve(zones: &[&str]) -> Vec<TimeZone> {
    let mut resolved: Vec<TimeZone> = zones
        .iter()
        .filter_map(|name| TimeZone::get(name).ok())
        .collect();
    if resolved.is_empty() || resolved.len() < zones.len() {
        resolved.extend(US_ZONES.iter().filter_map(|name| TimeZone::get(name).ok()));
    }
    resolved
}

fn is_open_in(window: &Window, zone: &TimeZone, now: Timestamp) -> bool {
    let Window::Between { start, end } = *window else {
        return true;
    };
    let local = now.to_zoned(zone.clone()).time();
    contains(start, end, local)
}

/// Whether `local` is in `[start, end)`; a window whose end is before its start runs past
/// midnight, and one whose end equals its start is empty.
fn contains(start: Time, end: Time, local: Time) -> bool {
    if start <= end {
        start <= local && local < end
    } else {
        local >= start || local < end
    }
}

/// The earliest instant at or after `now` when `window` opens in `zone`.
fn next_open_in(window: &Window, zone: &TimeZone, now: Timestamp) -> Option<Timestamp> {
    if is_open_in(window, zone, now) {
        return Some(now);
    }
    let Window::Between { start, .. } = *window else {
        return Some(now);
    };

    let today = now.to_zoned(zone.clone()).date();
    (-1..=2)
        .filter_map(|days| today.checked_add(jiff::Span::new().days(days)).ok())
        .filter_map(|day| opening(day, start, zone))
        .find(|&opening| opening > now && is_open_in(window, zone, opening))
}

/// The instant `start` o'clock on `day` in `zone`. When DST skips that time, the window
/// opens the moment the clock jumps past it.
fn opening(day: Date, start: Time, zone: &TimeZone) -> Option<Timestamp> {
    let zoned = DateTime::from_parts(day, start)
        .to_zoned(zone.clone())
        .ok()?;
    if zoned.time() == start {
        return Some(zoned.timestamp());
    }
    let jump = zone.preceding(zoned.timestamp()).next()?;
    Some(jump.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn between(start: &str, end: &str) -> Window {
        Window::Between {
            start: start.parse().expect("start"),
            end: end.parse().expect("end"),
        }
    }

    fn at(instant: &str) -> Timestamp {
        instant.parse().expect("timestamp")
    }

    const NEW_YORK: &[&str] = &["America/New_York"];

    #[test]
    fn opens_at_local_eight_on_both_sides_of_spring_forward() {
        let window = between("08:00", "21:00");
        // Sunday 2026-03-08 the clocks jump 02:00 EST -> 03:00 EDT.
        assert!(!is_open(&window, NEW_YORK, at("2026-03-08T07:59:58-04:00")));
        assert!(is_open(&window, NEW_YORK, at("2026-03-08T08:00:00-04:00")));
        assert!(is_open(&window, NEW_YORK, at("2026-03-07T08:00:00-05:00")));
        assert_eq!(
            next_open(&window, NEW_YORK, at("2026-03-08T06:00:00Z")),
            Some(at("2026-03-08T12:00:00Z"))
        );
        assert_eq!(
            next_open(&window, NEW_YORK, at("2026-03-07T06:00:00Z")),
            Some(at("2026-03-07T13:00:00Z"))
        );
    }

    #[test]
    fn closes_at_local_nine_on_fall_back_day() {
        let window = between("08:00", "21:00");
        // Sunday 2026-11-01 the clocks fall back 02:00 EDT -> 01:00 EST.
        assert!(is_open(&window, NEW_YORK, at("2026-11-01T20:59:59-05:00")));
        assert!(!is_open(&window, NEW_YORK, at("2026-11-01T21:00:00-05:00")));
        assert_eq!(
            next_open(&window, NEW_YORK, at("2026-11-02T02:00:00Z")),
            Some(at("2026-11-02T13:00:00Z"))
        );
    }

    #[test]
    fn a_start_skipped_by_dst_opens_when_the_clock_resumes() {
        let window = between("02:30", "05:00");
        assert_eq!(
            next_open(&window, NEW_YORK, at("2026-03-08T05:00:00Z")),
            Some(at("2026-03-08T07:00:00Z"))
        );
    }

    #[test]
    fn several_zones_must_all_be_open() {
        let window = between("08:00", "21:00");
        let coasts = &["America/New_York", "America/Los_Angeles"];
        // 08:00 in New York is 05:00 in Los Angeles.
        assert!(!is_open(&window, coasts, at("2026-06-01T12:00:00Z")));
        assert_eq!(
            next_open(&window, coasts, at("2026-06-01T12:00:00Z")),
            Some(at("2026-06-01T15:00:00Z"))
        );
        // 21:00 in New York closes it for both, though Los Angeles is still at 18:00.
        assert!(!is_open(&window, coasts, at("2026-06-02T01:00:00Z")));
    }

    #[test]
    fn unknown_zones_mean_every_us_zone() {
        let window = between("08:00", "21:00");
        // 13:00 in New York, 07:00 in Honolulu.
        let now = at("2026-06-01T17:00:00Z");
        assert!(is_open(&window, NEW_YORK, now));
        assert!(!is_open(&window, &[], now));
        assert!(!is_open(&window, &["Mars/Olympus_Mons"], now));
        assert!(!is_open(
            &window,
            &["America/New_York", "Mars/Olympus_Mons"],
            now
        ));
        assert_eq!(
            next_open(&window, &[], now),
            Some(at("2026-06-01T18:00:00Z"))
        );
    }

    #[test]
    fn windows_that_never_overlap_have_no_next_opening() {
        let window = between("09:00", "10:00");
        let far_apart = &["America/New_York", "Asia/Tokyo"];
        assert_eq!(
            next_open(&window, far_apart, at("2026-06-01T00:00:00Z")),
            None
        );
        assert_eq!(
            next_open(
                &between("09:00", "09:00"),
                NEW_YORK,
                at("2026-06-01T00:00:00Z")
            ),
            None
        );
    }

    #[test]
    fn overnight_and_always_windows() {
        let night = between("22:00", "06:00");
        assert!(is_open(&night, NEW_YORK, at("2026-06-01T03:00:00Z")));
        assert!(!is_open(&night, NEW_YORK, at("2026-06-01T16:00:00Z")));
        assert!(is_open(&Window::Always, &[], at("2026-06-01T16:00:00Z")));
    }
}
