//! The machine form of a plan: `plan --json`, and the records of a saved plan.
//!
//! One [`MessageRecord`] per planned message is the shape every output shares. The JSON
//! document is streamed: its header, then each message as it is decided, then the summary
//! and diagnostics, so a million rows are never held in memory to print them.

use std::io::{self, Write};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{PlannedMessage, Reason, Status, Summary, Target};
use crate::diagnostic::{Diagnostic, Severity};
use crate::recipients::phone::Phone;
use crate::render::segments::Encoding;

/// Output buffer of the streamed JSON and plan files: large, so a million messages cost a
/// few hundred write calls rather than tens of thousands.
pub const WRITE_BUFFER: usize = 1 << 20;

/// The version of the `plan --json` document and of saved plan files.
pub const FORMAT_VERSION: u32 = 1;

/// One planned message as JSON. Phone numbers are E.164 digits without `+`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub row: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub status: Status,
    pub reason: Option<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
    pub text: Option<String>,
    pub encoding: Option<Encoding>,
    pub segments: Option<u32>,
    pub local_id: Option<String>,
    #[serde(default = "no_zones", skip_serializing_if = "<[String]>::is_empty")]
    pub timezones: Arc<[String]>,
    /// The message's fingerprint: what `apply PLAN` checks before sending it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl MessageRecord {
    /// The record of `message`; `with_fingerprint` adds its SHA-256 (saved plans).
    pub fn from_planned(message: PlannedMessage, with_fingerprint: bool) -> Self {
        let sha256 = with_fingerprint.then(|| message.fingerprint());
        let (phone_number, chat_id, list_id, targets) = match &message.target {
            Target::Phone(phone) => (Some(phone.digits().to_owned()), None, None, None),
            Target::Chat(id) => (None, Some(*id), None, None),
            Target::List(id) => (None, None, Some(*id), None),
            Target::Group(phones) => (
                None,
                None,
                None,
                Some(phones.iter().map(|p| p.digits().to_owned()).collect()),
            ),
            Target::None => (None, None, None, None),
        };
        Self {
            row: message.row,
            line: message.line,
            status: message.status,
            reason: message.reason,
            detail: message.detail,
            phone_number,
            chat_id,
            list_id,
            targets,
            text: message.text,
            encoding: message.encoding,
            segments: message.segments,
            local_id: message.local_id,
            timezones: message.zones,
            sha256,
        }
    }

    /// Who the message is for, masked for output that may be shared.
    pub fn masked_target(&self) -> String {
        if let Some(digits) = &self.phone_number {
            return Phone::from_e164_digits(digits)
                .map_or_else(|| "(invalid)".to_owned(), |phone| phone.masked());
        }
        match (self.chat_id, self.list_id, &self.targets) {
            (Some(id), _, _) => format!("chat {id}"),
            (_, Some(id), _) => format!("list {id}"),
            (_, _, Some(targets)) => format!("group of {}", targets.len()),
            _ => "-".to_owned(),
        }
    }
}

fn no_zones() -> Arc<[String]> {
    Arc::from(Vec::new())
}

/// What the plan was made against: printed at the top of every output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanHeader {
    pub campaign: String,
    pub campaign_file: String,
    /// `online` when the inbox and creator were checked against Heymarket, else `offline`.
    pub mode: String,
    /// Why the plan is offline, or what the online checks found.
    pub checks: Vec<String>,
}

/// A diagnostic as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticRecord {
    pub severity: String,
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl From<&Diagnostic> for DiagnosticRecord {
    fn from(diagnostic: &Diagnostic) -> Self {
        Self {
            severity: match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            }
            .to_owned(),
            file: diagnostic.file.display().to_string(),
            line: diagnostic.span.map(|span| span.line),
            column: diagnostic.span.map(|span| span.col),
            message: diagnostic.message.clone(),
            hint: diagnostic.hint.clone(),
        }
    }
}

/// Streams the `plan --json` document.
#[derive(Debug)]
pub struct JsonWriter<W: Write> {
    out: W,
    messages: u64,
}

impl<W: Write> JsonWriter<W> {
    /// Writes the document's opening and its header.
    pub fn begin(mut out: W, header: &PlanHeader) -> io::Result<Self> {
        write!(out, "{{\"format_version\":{FORMAT_VERSION},\"plan\":")?;
        serde_json::to_writer(&mut out, header)?;
        out.write_all(b",\"messages\":[")?;
        Ok(Self { out, messages: 0 })
    }

    /// Writes one message, one per line.
    pub fn message(&mut self, record: &MessageRecord) -> io::Result<()> {
        let separator: &[u8] = if self.messages == 0 { b"\n" } else { b",\n" };
        self.out.write_all(separator)?;
        serde_json::to_writer(&mut self.out, record)?;
        self.messages += 1;
        Ok(())
    }

    /// Closes the document with the summary and every diagnostic.
    pub fn finish(mut self, summary: &Summary, diagnostics: &[Diagnostic]) -> io::Result<W> {
        self.out.write_all(b"\n],\"summary\":")?;
        serde_json::to_writer(&mut self.out, summary)?;
        self.out.write_all(b",\"diagnostics\":")?;
        let records: Vec<DiagnosticRecord> =
            diagnostics.iter().map(DiagnosticRecord::from).collect();
        serde_json::to_writer(&mut self.out, &records)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}
