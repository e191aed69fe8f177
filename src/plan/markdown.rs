//! The plan as a pull-request comment: summary table first, messages folded away.
//!
//! The comment starts with a hidden marker naming the campaign, so a bot can find and update
//! its own comment instead of adding one per push. Phones are masked (PR comments are widely
//! read) and the whole stays under GitHub's 65,536-character limit: rows beyond the budget
//! are counted, not shown.

use std::fmt::Write as _;

use super::Status;
use super::json::{MessageRecord, PlanHeader};
use super::summary::{Summary, human_duration};
use crate::diagnostic::Diagnostic;

/// GitHub refuses comments longer than 65,536 characters; this leaves room for the rest.
const ROWS_BUDGET: usize = 55_000;

/// The hidden marker a bot searches for: `<!-- campaign-plan: NAME -->`.
pub fn marker(campaign: &str) -> String {
    format!("<!-- campaign-plan: {campaign} -->")
}

/// Collects message rows up to the size budget as they stream past.
#[derive(Debug, Default)]
pub struct MarkdownPlan {
    rows: String,
    shown: u64,
    hidden: u64,
}

impl MarkdownPlan {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, record: &MessageRecord) {
        let row = table_row(record);
        if self.rows.len() + row.len() > ROWS_BUDGET {
            self.hidden += 1;
            return;
        }
        self.rows.push_str(&row);
        self.shown += 1;
    }

    /// The whole comment.
    pub fn render(
        &self,
        header: &PlanHeader,
        summary: &Summary,
        diagnostics: &[Diagnostic],
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", marker(&header.campaign));
        let _ = writeln!(out, "### Campaign plan: `{}`\n", header.campaign);
        out.push_str(&summary_table(header, summary));
        out.push_str(&problems(diagnostics));

        let _ = writeln!(
            out,
            "\n<details><summary>Messages ({} {})</summary>\n",
            summary.rows,
            if summary.rows == 1 { "row" } else { "rows" }
        );
        out.push_str("| Row | To | Status | Seg | Text or reason |\n|---:|---|---|---:|---|\n");
        out.push_str(&self.rows);
        if self.hidden > 0 {
            let _ = writeln!(
                out,
                "\n{} more rows are not shown here: run `campaign plan --json` for all of them.",
                self.hidden
            );
        }
        out.push_str("\n</details>\n");
        out
    }
}

/// The summary table alone: also what goes to `$GITHUB_STEP_SUMMARY`.
pub fn summary_table(header: &PlanHeader, summary: &Summary) -> String {
    let mut out = String::from("| | |\n|---|---|\n");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(out, "| {name} | {} |", escape(&value));
    };
    row("Mode", header.mode.clone());
    row("To send", summary.to_send.to_string());
    row("Skipped", with_reasons(summary.skipped, summary, true));
    row("Invalid", with_reasons(summary.invalid, summary, false));
    let segments = summary.segments.map_or_else(
        || "unknown (Heymarket template)".to_owned(),
        |n| n.to_string(),
    );
    row(
        "Segments",
        format!(
            "{segments} ({} GSM-7, {} UCS-2 messages)",
            summary.gsm7, summary.ucs2
        ),
    );
    if let Some(cost) = summary.estimated_cost {
        row("Estimated cost", format!("${cost:.2}"));
    }
    row(
        "Window",
        match summary.window.as_str() {
            "always" => "none (any hour)".to_owned(),
            window => format!("{window} recipient-local"),
        },
    );
    row(
        "Duration",
        format!(
            "about {} at {}",
            human_duration(summary.estimated_seconds),
            summary.rate
        ),
    );
    if summary.without_opt_out > 0 {
        row(
            "Opt-out",
            format!(
                "{} messages lack an opt-out instruction",
                summary.without_opt_out
            ),
        );
    }
    out
}

fn with_reasons(count: u64, summary: &Summary, skips: bool) -> String {
    let parts: Vec<String> = summary
        .by_reason
        .iter()
        .filter(|(reason, _)| {
            (reason.as_str() == "duplicate" || reason.as_str() == "suppressed") == skips
        })
        .map(|(reason, n)| format!("{reason} {n}"))
        .collect();
    match parts.is_empty() {
        true => count.to_string(),
        false => format!("{count} ({})", parts.join(", ")),
    }
}

fn problems(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics.iter().take(30) {
        let label = if diagnostic.is_error() {
            "Error"
        } else {
            "Warning"
        };
        let _ = write!(
            out,
            "\n> **{label}** `{}`: {}",
            diagnostic.location(),
            escape(&diagnostic.message)
        );
        if let Some(hint) = &diagnostic.hint {
            let _ = write!(out, " (hint: {})", escape(hint));
        }
        out.push('\n');
    }
    out
}

fn table_row(record: &MessageRecord) -> String {
    let segments = record.segments.map_or_else(String::new, |n| n.to_string());
    let (status, content) = match record.status {
        Status::Send => (
            "send",
            record
                .text
                .clone()
                .unwrap_or_else(|| "(Heymarket template)".to_owned()),
        ),
        Status::Skip | Status::Invalid => {
            let word = if record.status == Status::Skip {
                "skip"
            } else {
                "invalid"
            };
            let reason = record.reason.map_or("", |reason| reason.as_str());
            (
                word,
                record
                    .detail
                    .as_deref()
                    .map_or_else(|| reason.to_owned(), |d| format!("{reason}: {d}")),
            )
        }
    };
    format!(
        "| {} | {} | {status} | {segments} | {} |\n",
        record.row,
        escape(&record.masked_target()),
        escape(&content)
    )
}

/// Makes text safe inside a table cell: no pipes, no line breaks, no HTML.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(escape("a|b\nc<d>"), "a\\|b<br>c&lt;d&gt;");
    }
}
