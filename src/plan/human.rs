//! The plan for people, in the spirit of `terraform plan`.
//!
//! Small audiences get one line per message; large ones a sample of what will be sent and
//! of every kind of problem, then counts. Phones are always masked: this output ends up in
//! terminals, CI logs and screenshots. Memory is bounded by the sample, not the audience.

use std::io::{self, Write};

use super::Status;
use super::json::{MessageRecord, PlanHeader};
use super::summary::{Summary, human_duration};
use crate::style::Style;

/// Audiences up to this size are listed row by row.
const LIST_ALL_UP_TO: usize = 25;

/// In a large audience, how many messages to send and how many problems are shown.
const SAMPLE_SENDS: usize = 10;
const SAMPLE_PROBLEMS: usize = 15;

/// Text previews are cut to this many characters.
const PREVIEW_CHARS: usize = 72;

/// Collects what to show as messages stream past, then prints it with the summary.
#[derive(Debug, Default)]
pub struct HumanPlan {
    rows: Vec<MessageRecord>,
    sends: Vec<MessageRecord>,
    problems: Vec<MessageRecord>,
    total: usize,
}

impl HumanPlan {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `record` if it may be shown.
    pub fn add(&mut self, record: &MessageRecord) {
        self.total += 1;
        if self.rows.len() < LIST_ALL_UP_TO {
            self.rows.push(record.clone());
        }
        let (bucket, cap) = match record.status {
            Status::Send => (&mut self.sends, SAMPLE_SENDS),
            Status::Skip | Status::Invalid => (&mut self.problems, SAMPLE_PROBLEMS),
        };
        if bucket.len() < cap {
            bucket.push(record.clone());
        }
    }

    /// Prints the header, the rows (all or a sample), the first message in full, the summary.
    pub fn print(
        &self,
        out: &mut dyn Write,
        header: &PlanHeader,
        summary: &Summary,
        style: Style,
    ) -> io::Result<()> {
        writeln!(
            out,
            "{} `{}` ({}), {}",
            style.bold("Plan for campaign"),
            header.campaign,
            header.campaign_file,
            header.mode
        )?;
        for check in &header.checks {
            writeln!(out, "  {}", style.dim(check))?;
        }
        writeln!(out)?;

        if self.total <= LIST_ALL_UP_TO {
            self.rows
                .iter()
                .try_for_each(|record| row_line(out, record, style))?;
        } else {
            writeln!(
                out,
                "{} of {} messages to send:",
                self.sends.len(),
                summary.to_send
            )?;
            self.sends
                .iter()
                .try_for_each(|record| row_line(out, record, style))?;
            if !self.problems.is_empty() {
                let problems = summary.skipped + summary.invalid;
                writeln!(
                    out,
                    "\n{} of {problems} skipped or invalid rows:",
                    self.problems.len()
                )?;
                self.problems
                    .iter()
                    .try_for_each(|record| row_line(out, record, style))?;
            }
        }

        if let Some(first) = self.sends.first() {
            first_message(out, first)?;
        }
        print_summary(out, summary, style)
    }
}

fn row_line(out: &mut dyn Write, record: &MessageRecord, style: Style) -> io::Result<()> {
    let target = record.masked_target();
    let row = format!("row {}", record.row);
    match record.status {
        Status::Send => {
            let encoding = record.encoding.map_or_else(String::new, |e| e.to_string());
            let segments = record
                .segments
                .map_or_else(|| "?".to_owned(), |n| n.to_string());
            let text = record
                .text
                .as_deref()
                .map_or_else(|| "(Heymarket template)".to_owned(), preview);
            writeln!(
                out,
                "  {} {row:<9} {target:<18} {segments:>2} seg {encoding:<4}  {text}",
                style.green("+")
            )
        }
        Status::Skip | Status::Invalid => {
            let (mark, word) = match record.status {
                Status::Skip => (style.yellow("~"), "skip"),
                _ => (style.red("!"), "invalid"),
            };
            let reason = record.reason.map_or("", |reason| reason.as_str());
            let detail = record
                .detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {mark} {row:<9} {target:<18} {word} {reason}{detail}"
            )
        }
    }
}

fn first_message(out: &mut dyn Write, record: &MessageRecord) -> io::Result<()> {
    let Some(text) = &record.text else {
        return Ok(());
    };
    writeln!(
        out,
        "\nFirst message in full (row {}, {}):",
        record.row,
        record.masked_target()
    )?;
    for line in text.lines() {
        writeln!(out, "  │ {line}")?;
    }
    Ok(())
}

/// A one-line preview of a message.
fn preview(text: &str) -> String {
    let flat = text.replace(['\n', '\r'], " ");
    match flat.chars().count() > PREVIEW_CHARS {
        true => format!(
            "{}…",
            flat.chars().take(PREVIEW_CHARS - 1).collect::<String>()
        ),
        false => flat,
    }
}

fn print_summary(out: &mut dyn Write, summary: &Summary, style: Style) -> io::Result<()> {
    writeln!(out, "\n{}", style.bold("Summary"))?;
    let encodings = format!("{} GSM-7, {} UCS-2", summary.gsm7, summary.ucs2);
    let segments = summary.segments.map_or_else(
        || "segments unknown (Heymarket template)".to_owned(),
        |n| plural(n, "segment"),
    );
    writeln!(
        out,
        "  to send    {} ({encodings}), {segments}",
        summary.to_send
    )?;
    writeln!(
        out,
        "  skipped    {}{}",
        summary.skipped,
        reasons(summary, &["duplicate", "suppressed"])
    )?;
    writeln!(
        out,
        "  invalid    {}{}",
        summary.invalid,
        reasons(summary, &[])
    )?;
    match (summary.estimated_cost, summary.cost_per_segment) {
        (Some(cost), Some(price)) => {
            writeln!(out, "  cost       about ${cost:.2} at ${price} a segment")?
        }
        _ => writeln!(
            out,
            "  cost       not estimated (set `send.cost_per_segment`)"
        )?,
    }
    if summary.audience == "list" {
        writeln!(
            out,
            "             a list broadcast is one request; Heymarket sends one message to each member"
        )?;
    }

    if summary.window == "always" {
        writeln!(
            out,
            "  window     {}",
            style.yellow("none: messages may arrive at any hour")
        )?;
    } else {
        writeln!(
            out,
            "  window     {} in each recipient's time zone",
            summary.window
        )?;
    }
    for (zones, count) in &summary.zones {
        writeln!(out, "               {zones:<34} {count}")?;
    }
    writeln!(
        out,
        "  duration   about {} at {}",
        human_duration(summary.estimated_seconds),
        summary.rate
    )?;

    for found in &summary.ucs2_characters {
        let fix = found
            .suggestion
            .as_deref()
            .map(|s| format!(": use `{s}` instead"))
            .unwrap_or_default();
        let messages = plural(found.messages, "message");
        writeln!(
            out,
            "  UCS-2      `{}` {} in {messages}{fix}",
            found.character, found.code_point
        )?;
    }
    if summary.without_opt_out > 0 {
        let messages = plural(summary.without_opt_out, "message");
        writeln!(
            out,
            "  opt-out    {}",
            style.yellow(&format!(
                "{messages} without an opt-out instruction (\"Reply STOP to opt out\")"
            ))
        )?;
    }

    writeln!(
        out,
        "\n{} {} to send, {} skipped, {} invalid.",
        style.bold("Plan:"),
        summary.to_send,
        summary.skipped,
        summary.invalid
    )
}

/// ` (1 duplicate, 2 suppressed)`: the reasons among `only` (all when empty) that occurred.
fn reasons(summary: &Summary, only: &[&str]) -> String {
    let skip_reasons = ["duplicate", "suppressed"];
    let parts: Vec<String> = summary
        .by_reason
        .iter()
        .filter(|(reason, _)| match only.is_empty() {
            true => !skip_reasons.contains(&reason.as_str()),
            false => only.contains(&reason.as_str()),
        })
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    match parts.is_empty() {
        true => String::new(),
        false => format!(" ({})", parts.join(", ")),
    }
}

fn plural(count: u64, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_one_short_line() {
        assert_eq!(preview("a\nb"), "a b");
        assert_eq!(preview(&"x".repeat(100)).chars().count(), PREVIEW_CHARS);
    }
}
