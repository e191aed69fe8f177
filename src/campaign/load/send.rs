//! The `send` section: rate, window and the limits apply keeps to.
//!
//! Refuses a rate above Heymarket's 500 requests a minute (a loopback sandbox may go faster,
//! but that is decided at apply time, not here) and a window that crosses midnight.

use jiff::civil::Time;

use super::problems::{At, Problems};
use crate::campaign::raw::{RawErrorBudget, RawSend};
use crate::campaign::{
    DEFAULT_PER_MINUTE, HEYMARKET_MAX_PER_MINUTE, Rate, RatePeriod, SendPolicy, Window,
};

/// Halt after this many failures in a row unless the file says otherwise.
const DEFAULT_CONSECUTIVE_FAILURES: u32 = 10;

/// Halt above this share of failed sends unless the file says otherwise.
const DEFAULT_FAILURE_RATIO: f64 = 0.2;

/// Validates the `send` section; `None` when it holds an error (already noted).
pub(super) fn build(raw: RawSend, problems: &mut Problems) -> Option<SendPolicy> {
    let rate = match raw.rate {
        Some(text) => rate(&text, problems),
        None => Some(Rate {
            count: DEFAULT_PER_MINUTE,
            per: RatePeriod::Minute,
        }),
    };
    let window = match raw.window {
        Some(text) => window(&text, problems),
        None => Some(default_window()),
    };
    let cost_per_segment = raw.cost_per_segment.filter(|cost| is_cost(*cost, problems));
    let budget = raw.error_budget.unwrap_or_default();
    let max_failure_ratio = failure_ratio(&budget, problems);

    Some(SendPolicy {
        rate: rate?,
        window: window?,
        max_recipients: raw.max_recipients.map(|max| max.get()),
        cost_per_segment,
        trust_local_id_dedupe: raw.trust_local_id_dedupe.unwrap_or(false),
        max_consecutive_failures: budget
            .consecutive_failures
            .map_or(DEFAULT_CONSECUTIVE_FAILURES, |count| count.get()),
        max_failure_ratio: max_failure_ratio?,
    })
}

/// 08:00 to 21:00, the hours US rules allow marketing texts in.
pub(super) fn default_window() -> Window {
    Window::Between {
        start: Time::constant(8, 0, 0, 0),
        end: Time::constant(21, 0, 0, 0),
    }
}

fn rate(text: &str, problems: &mut Problems) -> Option<Rate> {
    let path = ["send", "rate"];
    let Some(rate) = parse_rate(text) else {
        problems
            .error(
                &path,
                At::Value,
                format!("`send.rate` must look like `400/min` or `5/s`, found `{text}`"),
            )
            .hint("write a whole number of requests, a slash, and `min` or `s`");
        return None;
    };

    if rate.count == 0 {
        problems
            .error(&path, At::Value, "`send.rate` must be at least 1 request")
            .hint(format!("the default is `{DEFAULT_PER_MINUTE}/min`"));
        return None;
    }
    if rate.per_minute() > f64::from(HEYMARKET_MAX_PER_MINUTE) {
        let message = format!("`send.rate` of `{rate}` is faster than Heymarket allows");
        let hint = format!(
            "Heymarket accepts at most {HEYMARKET_MAX_PER_MINUTE} requests a minute \
             per API credential: use `{HEYMARKET_MAX_PER_MINUTE}/min` or less"
        );
        problems.error(&path, At::Value, message).hint(hint);
        return None;
    }
    Some(rate)
}

/// `400/min` or `5/s`, exactly as the schema's pattern has it.
fn parse_rate(text: &str) -> Option<Rate> {
    let (count, unit) = text.split_once('/')?;
    let per = match unit {
        "min" => RatePeriod::Minute,
        "s" => RatePeriod::Second,
        _ => return None,
    };
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Rate {
        count: count.parse().ok()?,
        per,
    })
}

fn window(text: &str, problems: &mut Problems) -> Option<Window> {
    let path = ["send", "window"];
    if text == "always" {
        problems
            .warning(
                &path,
                At::Value,
                "send window turned off: messages may reach people at night",
            )
            .hint("US rules allow marketing texts only from 08:00 to 21:00 recipient-local time");
        return Some(Window::Always);
    }

    let Some((start, end)) = parse_window(text) else {
        problems
            .error(
                &path,
                At::Value,
                format!("`send.window` must look like `08:00-21:00`, found `{text}`"),
            )
            .hint("write two 24-hour times `HH:MM-HH:MM`, or `always` to turn the window off");
        return None;
    };
    if start >= end {
        problems
            .error(
                &path,
                At::Value,
                format!("`send.window` `{text}` ends before it starts"),
            )
            .hint("a window lies within one day: the start must be earlier than the end");
        return None;
    }
    Some(Window::Between { start, end })
}

fn parse_window(text: &str) -> Option<(Time, Time)> {
    let (start, end) = text.split_once('-')?;
    Some((parse_time(start)?, parse_time(end)?))
}

/// `HH:MM`, 24-hour.
fn parse_time(text: &str) -> Option<Time> {
    let (hour, minute) = text.split_once(':')?;
    let digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(hour) || !digits(minute) {
        return None;
    }
    Time::new(hour.parse().ok()?, minute.parse().ok()?, 0, 0).ok()
}

fn is_cost(cost: f64, problems: &mut Problems) -> bool {
    let fine = cost.is_finite() && cost >= 0.0;
    if !fine {
        problems
            .error(
                &["send", "cost_per_segment"],
                At::Value,
                format!("`send.cost_per_segment` must be 0 or more, found `{cost}`"),
            )
            .hint("write the price of one SMS segment, such as `0.0079`");
    }
    fine
}

fn failure_ratio(budget: &RawErrorBudget, problems: &mut Problems) -> Option<f64> {
    let Some(ratio) = budget.failure_ratio else {
        return Some(DEFAULT_FAILURE_RATIO);
    };
    if ratio > 0.0 && ratio <= 1.0 {
        return Some(ratio);
    }
    problems
        .error(
            &["send", "error_budget", "failure_ratio"],
            At::Value,
            format!(
                "`send.error_budget.failure_ratio` must be above 0 and at most 1, found `{ratio}`"
            ),
        )
        .hint("it is a share of finished sends: `0.2` halts when more than one in five failed");
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    #[test]
    fn reads_rates() {
        let rate = parse_rate("5/s").unwrap();
        assert_eq!((rate.count, rate.per), (5, RatePeriod::Second));
        assert!(parse_rate("5 / s").is_none());
        assert!(parse_rate("/s").is_none());
        assert!(parse_rate("5/hour").is_none());
        assert!(parse_rate("-5/s").is_none());
        assert!(parse_rate("fast").is_none());
    }

    #[test]
    fn reads_windows() {
        let (start, end) = parse_window("08:30-21:00").unwrap();
        assert_eq!(start, Time::constant(8, 30, 0, 0));
        assert_eq!(end, Time::constant(21, 0, 0, 0));
        assert!(parse_window("8:30-21:00").is_none());
        assert!(parse_window("08:30-25:00").is_none());
    }
}
