//! The plan's totals: counts by status and reason, segments, encodings, cost and timing.
//!
//! Built incrementally as messages stream past, so no output format needs the messages
//! again. Serialized as the `summary` object of `plan --json` and of a saved plan.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{PlannedMessage, Status};
use crate::campaign::{Audience, Campaign, Content, Window};
use crate::diagnostic::Diagnostic;
use crate::render::optout::has_opt_out_instruction;
use crate::render::segments::{self, Encoding};

/// Totals over every planned message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub campaign: String,
    /// `recipients`, `list` or `group`.
    pub audience: String,
    pub rows: u64,
    pub to_send: u64,
    pub skipped: u64,
    pub invalid: u64,
    /// Skipped and invalid rows by reason (`duplicate`, `suppressed`, `invalid_phone`, ...).
    pub by_reason: BTreeMap<String, u64>,
    /// Segments of the messages to send; unknown for Heymarket templates planned offline.
    pub segments: Option<u64>,
    pub gsm7: u64,
    pub ucs2: u64,
    /// Characters that forced UCS-2, with how many messages had them and a GSM replacement.
    pub ucs2_characters: Vec<Ucs2Character>,
    /// Messages to send that carry no opt-out instruction.
    pub without_opt_out: u64,
    pub estimated_cost: Option<f64>,
    pub cost_per_segment: Option<f64>,
    /// `08:00-21:00`, or `always`.
    pub window: String,
    /// Messages to send by the zone set their window is judged in.
    pub zones: BTreeMap<String, u64>,
    /// `400/min`.
    pub rate: String,
    /// Seconds the sends take at the configured rate, windows aside.
    pub estimated_seconds: f64,
    pub errors: u64,
    pub warnings: u64,
    #[serde(skip)]
    zone_tally: HashMap<usize, (Arc<[String]>, u64)>,
    #[serde(skip)]
    per_minute: f64,
    #[serde(skip)]
    counting_segments: bool,
}

/// A character that forced a message into UCS-2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ucs2Character {
    pub character: String,
    /// `U+2019`.
    pub code_point: String,
    pub messages: u64,
    pub suggestion: Option<String>,
}

/// The label of a message's zones: one zone by name, all of the US as `all US zones`.
pub fn zones_label(zones: &[String]) -> String {
    match zones {
        [] => "none".to_owned(),
        [one] => one.clone(),
        many if many.len() == crate::recipients::timezone::US_ZONES.len() => {
            "all US zones (zone unknown)".to_owned()
        }
        many => many.join(" + "),
    }
}

impl Summary {
    pub fn new(campaign: &Campaign) -> Self {
        let audience = match campaign.audience {
            Audience::Recipients(_) => "recipients",
            Audience::List { .. } => "list",
            Audience::Group { .. } => "group",
        };
        let window = match campaign.send.window {
            Window::Always => "always".to_owned(),
            Window::Between { start, end } => {
                format!("{}-{}", start.strftime("%H:%M"), end.strftime("%H:%M"))
            }
        };
        Self {
            campaign: campaign.name.clone(),
            audience: audience.to_owned(),
            segments: Some(0),
            cost_per_segment: campaign.send.cost_per_segment,
            window,
            rate: campaign.send.rate.to_string(),
            per_minute: campaign.send.rate.per_minute(),
            counting_segments: !matches!(campaign.message.content, Content::TemplateId(_)),
            ..Self::default()
        }
    }

    /// Counts one message.
    pub fn add(&mut self, message: &PlannedMessage) {
        self.rows += 1;
        match message.status {
            Status::Send => self.add_send(message),
            Status::Skip => self.skipped += 1,
            Status::Invalid => self.invalid += 1,
        }
        if let Some(reason) = message.reason {
            *self
                .by_reason
                .entry(reason.as_str().to_owned())
                .or_default() += 1;
        }
    }

    fn add_send(&mut self, message: &PlannedMessage) {
        self.to_send += 1;
        let key = message.zones.as_ptr() as usize;
        let tally = self
            .zone_tally
            .entry(key)
            .or_insert_with(|| (Arc::clone(&message.zones), 0));
        tally.1 += 1;
        match (message.segments, &mut self.segments) {
            (Some(count), Some(total)) => *total += u64::from(count),
            _ if !self.counting_segments => self.segments = None,
            _ => {}
        }
        match message.encoding {
            Some(Encoding::Gsm7) => self.gsm7 += 1,
            Some(Encoding::Ucs2) => self.ucs2 += 1,
            None => {}
        }
        if let Some(text) = &message.text {
            if !has_opt_out_instruction(text) {
                self.without_opt_out += 1;
            }
            if message.encoding == Some(Encoding::Ucs2) {
                self.count_ucs2_characters(text);
            }
        }
    }

    fn count_ucs2_characters(&mut self, text: &str) {
        for found in segments::count(text).non_gsm {
            let character = found.ch.to_string();
            match self
                .ucs2_characters
                .iter_mut()
                .find(|known| known.character == character)
            {
                Some(known) => known.messages += 1,
                None => self.ucs2_characters.push(Ucs2Character {
                    code_point: format!("U+{:04X}", u32::from(found.ch)),
                    character,
                    messages: 1,
                    suggestion: found.suggestion.map(str::to_owned),
                }),
            }
        }
    }

    /// Closes the totals once every message was added.
    pub fn finish(&mut self, diagnostics: &[Diagnostic]) {
        for (zones, count) in std::mem::take(&mut self.zone_tally).into_values() {
            *self.zones.entry(zones_label(&zones)).or_default() += count;
        }
        self.errors = diagnostics.iter().filter(|d| d.is_error()).count() as u64;
        self.warnings = diagnostics.len() as u64 - self.errors;
        self.estimated_cost = match (self.segments, self.cost_per_segment) {
            (Some(segments), Some(price)) => {
                Some((segments as f64 * price * 100.0).round() / 100.0)
            }
            _ => None,
        };
        self.estimated_seconds = if self.per_minute > 0.0 {
            self.to_send as f64 * 60.0 / self.per_minute
        } else {
            0.0
        };
    }
}

/// `2h 13m`, `4m 10s`, `12s`: how long a send takes, for people.
pub fn human_duration(seconds: f64) -> String {
    let total = seconds.ceil() as u64;
    match total {
        0..60 => format!("{total}s"),
        60..3600 => format!("{}m {:02}s", total / 60, total % 60),
        _ => format!("{}h {:02}m", total / 3600, (total % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(0.2), "1s");
        assert_eq!(human_duration(150.0), "2m 30s");
        assert_eq!(human_duration(7500.0), "2h 05m");
    }
}
