//! The results report of an `apply` run: one row per recipient, in three files.
//!
//! `results.csv` (for spreadsheets), `results.json` (for programs) and `summary.md` (for CI
//! step summaries) are written into one folder per run. Rows are streamed, so a large
//! audience costs no memory. Every file holds personal data and is created readable by its
//! owner only; every CSV cell is defused against formula injection.
//!
//! The files are written under `.partial` names and renamed into place only once all three
//! are complete and on disk, so a write cut short (a full disk) never leaves a report that
//! looks finished; an abandoned writer removes its partial files.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::plan::json::MessageRecord;
use crate::plan::{Reason, Status};
use crate::state::{Entry, EntryStatus};

/// One recipient's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultRow {
    pub row: u64,
    pub phone_number: Option<String>,
    pub chat_id: Option<u64>,
    /// `sent`, `skipped_duplicate`, `skipped_suppressed`, `skipped_opted_out`,
    /// `skipped_blocked`, `invalid`, `failed`, `unknown`, or `pending` (not attempted yet:
    /// the run halted or the recipient's window was closed).
    pub status: String,
    pub message_id: Option<u64>,
    pub local_id: Option<String>,
    pub request_id: Option<String>,
    pub segments: Option<u32>,
    pub encoding: Option<String>,
    pub attempts: u32,
    pub sent_at: Option<String>,
    pub error: Option<String>,
}

impl ResultRow {
    /// Joins what the plan decided for a row with what the journal says happened to it.
    pub fn new(record: &MessageRecord, entry: Option<&Entry>) -> Self {
        // A skipped duplicate shares its local_id with the row that is sent: only a row that
        // is sent owns the journal entry.
        let entry = entry.filter(|_| record.status == Status::Send);
        let status = match (
            record.status,
            record.reason,
            entry.map(|entry| entry.status),
        ) {
            (Status::Skip, Some(Reason::Duplicate), _) => "skipped_duplicate",
            (Status::Skip, _, _) => "skipped_suppressed",
            (Status::Invalid, _, _) => "invalid",
            (Status::Send, _, None) => "pending",
            (Status::Send, _, Some(status)) => entry_status_word(status),
        };
        let error = match record.status {
            Status::Send => entry.and_then(|entry| entry.error.clone()),
            _ => record
                .detail
                .clone()
                .or_else(|| record.reason.map(|reason| reason.as_str().to_owned())),
        };
        Self {
            row: record.row,
            phone_number: record.phone_number.clone(),
            chat_id: record.chat_id,
            status: status.to_owned(),
            message_id: entry.and_then(|entry| entry.message_id),
            local_id: record.local_id.clone(),
            request_id: entry.and_then(|entry| entry.request_id.clone()),
            segments: record.segments,
            encoding: record.encoding.map(|encoding| encoding.to_string()),
            attempts: entry.map_or(0, |entry| entry.attempts),
            sent_at: entry.and_then(|entry| entry.sent_at.clone()),
            error,
        }
    }
}

/// The report word for a journal status.
pub fn entry_status_word(status: EntryStatus) -> &'static str {
    match status {
        EntryStatus::Sent => "sent",
        EntryStatus::Failed => "failed",
        EntryStatus::InFlight | EntryStatus::Unknown => "unknown",
        EntryStatus::SkippedOptedOut => "skipped_opted_out",
        EntryStatus::SkippedBlocked => "skipped_blocked",
    }
}

const CSV_HEADER: [&str; 13] = [
    "row",
    "phone_number",
    "chat_id",
    "status",
    "message_id",
    "local_id",
    "request_id",
    "segments",
    "encoding",
    "attempts",
    "sent_at",
    "error",
    "campaign",
];

/// The report's files, in the order they are renamed into place: `summary.md` last.
const FILES: [&str; 3] = ["results.csv", "results.json", "summary.md"];

/// Streams one run's report into its folder.
#[derive(Debug)]
pub struct ReportWriter {
    dir: PathBuf,
    campaign: String,
    csv: csv::Writer<File>,
    json: BufWriter<File>,
    rows: u64,
    by_status: BTreeMap<String, u64>,
}

impl ReportWriter {
    /// Creates `dir` (mode 0700) and its partial files (mode 0600).
    pub fn create(dir: &Path, campaign: &str) -> io::Result<Self> {
        crate::private::create_dir_all(dir)?;
        let csv = crate::private::create_file(&partial(dir, "results.csv"))?;
        let json = crate::private::create_file(&partial(dir, "results.json"))
            .inspect_err(|_| remove_partials(dir))?;
        let mut writer = Self {
            dir: dir.to_path_buf(),
            campaign: campaign.to_owned(),
            csv: csv::Writer::from_writer(csv),
            json: BufWriter::new(json),
            rows: 0,
            by_status: BTreeMap::new(),
        };

        writer.csv.write_record(CSV_HEADER).map_err(csv_error)?;
        writer.json.write_all(b"[")?;
        Ok(writer)
    }

    pub fn add(&mut self, row: &ResultRow) -> io::Result<()> {
        let text = |value: Option<String>| value.map(|value| defuse(&value)).unwrap_or_default();
        let number = |value: Option<u64>| value.map(|n| n.to_string()).unwrap_or_default();
        self.csv
            .write_record([
                row.row.to_string(),
                text(row.phone_number.clone()),
                number(row.chat_id),
                row.status.clone(),
                number(row.message_id),
                text(row.local_id.clone()),
                text(row.request_id.clone()),
                row.segments.map(|n| n.to_string()).unwrap_or_default(),
                text(row.encoding.clone()),
                row.attempts.to_string(),
                text(row.sent_at.clone()),
                text(row.error.clone()),
                defuse(&self.campaign),
            ])
            .map_err(csv_error)?;

        self.json
            .write_all(if self.rows == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.json, row)?;
        self.rows += 1;
        *self.by_status.entry(row.status.clone()).or_default() += 1;
        Ok(())
    }

    /// Writes `summary.md`, flushes everything to disk, renames the files into place and
    /// returns the folder and counts.
    pub fn finish(mut self, headline: &str) -> io::Result<(PathBuf, BTreeMap<String, u64>)> {
        self.csv.flush()?;
        self.json.write_all(b"\n]\n")?;
        self.json.flush()?;
        let summary = summary_markdown(&self.campaign, headline, &self.by_status);
        let mut file = crate::private::create_file(&partial(&self.dir, "summary.md"))?;
        file.write_all(summary.as_bytes())?;
        file.sync_all()?;
        self.csv.get_ref().sync_all()?;
        self.json.get_ref().sync_all()?;

        for name in FILES {
            std::fs::rename(partial(&self.dir, name), self.dir.join(name))?;
        }
        File::open(&self.dir)?.sync_all()?;
        Ok((self.dir.clone(), std::mem::take(&mut self.by_status)))
    }
}

impl Drop for ReportWriter {
    /// Removes what an unfinished report left; after `finish` there is nothing left to remove.
    fn drop(&mut self) {
        remove_partials(&self.dir);
    }
}

/// Removes the partial files in `dir`; one that is not there is already gone.
fn remove_partials(dir: &Path) {
    for name in FILES {
        let _ = std::fs::remove_file(partial(dir, name));
    }
}

/// A CSV write failure as the I/O error behind it, so that its kind (a full disk) is kept;
/// csv's own conversion hides it.
fn csv_error(error: csv::Error) -> io::Error {
    if !error.is_io_error() {
        return io::Error::other(error);
    }
    match error.into_kind() {
        csv::ErrorKind::Io(source) => source,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Where `name` is written until the report is complete.
fn partial(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.partial"))
}

/// The Markdown summary of a run, for `$GITHUB_STEP_SUMMARY`.
pub fn summary_markdown(
    campaign: &str,
    headline: &str,
    by_status: &BTreeMap<String, u64>,
) -> String {
    let mut out =
        format!("### Campaign `{campaign}`: {headline}\n\n| Status | Recipients |\n|---|---:|\n");
    for (status, count) in by_status {
        let _ = writeln!(out, "| {status} | {count} |");
    }
    out
}

/// Makes a cell safe to open in a spreadsheet: text that a spreadsheet would read as a
/// formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a leading apostrophe.
pub fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_report_appears_only_when_complete() {
        let dir = tempfile::tempdir().expect("temp dir");
        let writer = ReportWriter::create(dir.path(), "spring").expect("create");
        assert_eq!(
            names(dir.path()),
            ["results.csv.partial", "results.json.partial"]
        );

        writer.finish("0 sent").expect("finish");

        assert_eq!(names(dir.path()), FILES);
    }

    #[test]
    // A report cut short by a full disk was left looking complete.
    fn an_abandoned_report_leaves_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let writer = ReportWriter::create(dir.path(), "spring").expect("create");

        drop(writer);

        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("15105550101"), "15105550101");
    }
}
