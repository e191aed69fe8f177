//! One row of the recipient CSV at a time: who it is for, and whether it is sent.
//!
//! The deciding stage ([`decide_rows`], on its own thread) reads the CSV and settles each
//! row's recipient, duplicates, suppressions and time zones; the rendering stage
//! ([`RowRenderer`]) turns the rows to be sent into text. `build` wires the two together and
//! owns everything that spans the whole plan (summary, diagnostics, input hashes).

use std::collections::HashMap;
use std::sync::{Arc, mpsc};

use super::{PlannedMessage, Reason, Status, Target};
use crate::campaign::{Campaign, RecipientsSource};
use crate::diagnostic::Diagnostic;
use crate::recipients::csv::{CsvError, CsvReader, Record};
use crate::recipients::phone::{Phone, PhoneError};
use crate::recipients::suppress::SuppressionSet;
use crate::recipients::timezone::{US_ZONES, zones_for};
use crate::render::local_id::{RecipientKey, local_id};
use crate::render::segments;
use crate::render::template::{MessageTemplate, RenderError, RowValues};

/// The positions of the columns that say who a row is for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Columns {
    pub(super) phone: Option<usize>,
    pub(super) chat_id: Option<usize>,
    pub(super) timezone: Option<usize>,
}

/// Rows handed from the deciding thread to the rendering one at a time.
pub(super) const BATCH: usize = 256;

/// A row as the deciding thread leaves it.
pub(super) enum Decided {
    /// Decided; `fields` holds the row's values when it is to be sent (for rendering).
    Row(PlannedMessage, Vec<String>),
    /// A malformed CSV row, and the problem to report.
    Malformed(PlannedMessage, Diagnostic),
    /// The CSV cannot be read on: the problem, and no more rows.
    Fatal(Diagnostic),
}

/// Reads and decides every row, sending them on in batches; stops early if nobody listens.
pub(super) fn decide_rows(
    mut reader: CsvReader,
    mut rows: RowPlanner<'_>,
    out: mpsc::SyncSender<Vec<Decided>>,
) {
    let csv = rows.source.csv.clone();
    let mut record = Record::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut row = 0u64;
    loop {
        let decided = match reader.read(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                row += 1;
                let message = rows.plan(row, &record);
                let fields = match message.is_send() {
                    true => std::mem::take(&mut record.fields),
                    false => Vec::new(),
                };
                Decided::Row(message, fields)
            }
            Err(error) => match recoverable_line(&error) {
                Some(line) => {
                    row += 1;
                    Decided::Malformed(rows.malformed(row, line, &error), error.to_diagnostic(&csv))
                }
                None => {
                    batch.push(Decided::Fatal(error.to_diagnostic(&csv)));
                    break;
                }
            },
        };
        batch.push(decided);
        if batch.len() == BATCH
            && out
                .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                .is_err()
        {
            return;
        }
    }
    let _ = out.send(batch);
}

/// Renders the rows that are to be sent.
pub(super) struct RowRenderer<'a> {
    pub(super) template: Option<&'a MessageTemplate>,
    pub(super) headers: Arc<[String]>,
    pub(super) max_segments: u32,
}

impl RowRenderer<'_> {
    /// The rendered message, and the error when the template itself is at fault.
    pub(super) fn render(
        &self,
        message: PlannedMessage,
        fields: Vec<String>,
    ) -> (PlannedMessage, Option<RenderError>) {
        let Some(template) = self.template else {
            return (message, None);
        };
        let values = RowValues {
            row: message.row,
            headers: &self.headers,
            fields,
        };
        match template.render(Some(values)) {
            Ok(text) => (with_text(message, text, self.max_segments), None),
            Err(error) => {
                let detail = format!("the template failed for this row: {error}");
                let defect = error.is_template_defect.then_some(error);
                (invalid(message, Reason::RenderFailed, detail), defect)
            }
        }
    }
}

/// Per-row decisions, with the sets that span rows.
pub(super) struct RowPlanner<'a> {
    campaign: &'a Campaign,
    source: &'a RecipientsSource,
    columns: Columns,
    suppressions: SuppressionSet,
    /// The first row of each number, to skip later ones as "same recipient as row N".
    phone_rows: HashMap<u64, u64>,
    chat_rows: HashMap<u64, u64>,
    /// Zone lists by column value (`None`: not an IANA zone) and by area-code table entry,
    /// so rows share one allocation per distinct zone set.
    named_zones: HashMap<String, Option<Arc<[String]>>>,
    table_zones: HashMap<usize, Arc<[String]>>,
}

impl<'a> RowPlanner<'a> {
    pub(super) fn new(
        campaign: &'a Campaign,
        source: &'a RecipientsSource,
        columns: Columns,
        suppressions: SuppressionSet,
    ) -> Self {
        Self {
            campaign,
            source,
            columns,
            suppressions,
            phone_rows: HashMap::new(),
            chat_rows: HashMap::new(),
            named_zones: HashMap::new(),
            table_zones: HashMap::new(),
        }
    }

    fn plan(&mut self, row: u64, record: &Record) -> PlannedMessage {
        let mut message = blank(row, Some(record.line));
        let field = |index: Option<usize>| {
            index
                .map(|index| record.get(index).trim())
                .filter(|value| !value.is_empty())
        };
        let phone_text = field(self.columns.phone);
        let chat_text = field(self.columns.chat_id);

        let identity = match (phone_text, chat_text) {
            (Some(_), Some(_)) => Err((
                Reason::PhoneAndChatId,
                "has both a phone number and a chat id: keep one".to_owned(),
            )),
            (None, None) => Err((Reason::MissingTarget, "has no phone number".to_owned())),
            (Some(text), None) => self.phone_identity(text, row),
            (None, Some(text)) => self.chat_identity(text, row),
        };
        let (target, first_row) = match identity {
            Ok(found) => found,
            Err((reason, detail)) => return invalid(message, reason, detail),
        };

        message.local_id = Some(match &target {
            Target::Phone(phone) => {
                local_id(&self.campaign.name, RecipientKey::Phone(phone.digits()))
            }
            Target::Chat(id) => local_id(&self.campaign.name, RecipientKey::Chat(*id)),
            _ => String::new(),
        });
        message.target = target;
        if let Some(first) = first_row {
            message.status = Status::Skip;
            message.reason = Some(Reason::Duplicate);
            message.detail = Some(format!("same recipient as row {first}"));
            return message;
        }
        if let Target::Phone(phone) = &message.target
            && self.suppressions.contains(phone)
        {
            message.status = Status::Skip;
            message.reason = Some(Reason::Suppressed);
            return message;
        }

        match self.zones(field(self.columns.timezone), &message.target) {
            Ok(zones) => message.zones = zones,
            Err(detail) => return invalid(message, Reason::InvalidTimezone, detail),
        }
        message
    }

    fn phone_identity(
        &mut self,
        text: &str,
        row: u64,
    ) -> Result<(Target, Option<u64>), (Reason, String)> {
        let phone = Phone::parse(text, self.source.default_region).map_err(|error| {
            let shown = match error {
                // Rounded by a spreadsheet: no longer anyone's number, and worth recognising.
                PhoneError::SpreadsheetMangled => text.to_owned(),
                _ => mask_written_phone(text),
            };
            (Reason::InvalidPhone, format!("phone `{shown}`: {error}"))
        })?;
        let first = first_row(&mut self.phone_rows, phone.as_u64(), row);
        Ok((Target::Phone(phone), first))
    }

    fn chat_identity(
        &mut self,
        text: &str,
        row: u64,
    ) -> Result<(Target, Option<u64>), (Reason, String)> {
        let id: u64 = text.parse().ok().filter(|id| *id > 0).ok_or_else(|| {
            (
                Reason::InvalidChatId,
                format!("chat id `{text}` is not a positive whole number"),
            )
        })?;
        let first = first_row(&mut self.chat_rows, id, row);
        Ok((Target::Chat(id), first))
    }

    fn zones(&mut self, column: Option<&str>, target: &Target) -> Result<Arc<[String]>, String> {
        if let Some(name) = column {
            let known = self.named_zones.entry(name.to_owned()).or_insert_with(|| {
                let is_zone = jiff::tz::TimeZone::get(name).is_ok();
                is_zone.then(|| Arc::from(vec![name.to_owned()]))
            });
            return known.clone().ok_or_else(|| {
                format!("time zone `{name}` is not an IANA zone name such as `America/Chicago`")
            });
        }
        let zones = match target {
            Target::Phone(phone) => zones_for(phone),
            _ => US_ZONES,
        };
        let shared = self
            .table_zones
            .entry(zones.as_ptr() as usize)
            .or_insert_with(|| zone_list(zones));
        Ok(Arc::clone(shared))
    }

    fn malformed(&self, row: u64, line: u64, error: &CsvError) -> PlannedMessage {
        invalid(
            blank(row, Some(line)),
            Reason::MalformedRow,
            error.to_string(),
        )
    }
}

/// A phone cell as written, every digit but the last two hidden. An invalid number is most
/// often a real one with a typo, and this text reaches PR comments and CI logs.
fn mask_written_phone(text: &str) -> String {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen + 2 > digits { c } else { '•' }
        })
        .collect()
}

/// The row `key` was first seen on, or `None` (and `row` remembered) when this is the first.
fn first_row(rows: &mut HashMap<u64, u64>, key: u64, row: u64) -> Option<u64> {
    match rows.entry(key) {
        std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(row);
            None
        }
    }
}

/// Adds the rendered text and its SMS accounting; over `max_segments` the row is invalid.
pub(super) fn with_text(
    mut message: PlannedMessage,
    text: String,
    max_segments: u32,
) -> PlannedMessage {
    let counted = segments::count(&text);
    message.encoding = Some(counted.encoding);
    message.segments = Some(counted.segments);
    message.text = Some(text);
    if counted.segments > max_segments {
        let detail = format!(
            "{} segments, above `max_segments: {max_segments}`",
            counted.segments
        );
        return invalid(message, Reason::TooManySegments, detail);
    }
    message
}

pub(super) fn zone_list(zones: &[&str]) -> Arc<[String]> {
    zones.iter().map(|zone| (*zone).to_owned()).collect()
}

/// A row not yet decided: planned to send until a rule says otherwise.
fn blank(row: u64, line: Option<u64>) -> PlannedMessage {
    PlannedMessage {
        row,
        line,
        status: Status::Send,
        reason: None,
        detail: None,
        target: Target::None,
        text: None,
        encoding: None,
        segments: None,
        local_id: None,
        zones: Arc::from(Vec::new()),
    }
}

fn invalid(mut message: PlannedMessage, reason: Reason, detail: String) -> PlannedMessage {
    message.status = Status::Invalid;
    message.reason = Some(reason);
    message.detail = Some(detail);
    message
}

/// The line of a row-level CSV error the reader can continue past; `None` for fatal ones.
fn recoverable_line(error: &CsvError) -> Option<u64> {
    match error {
        CsvError::Ragged { line, .. } | CsvError::Utf8 { line, .. } => Some(*line),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_phones_keep_only_their_last_two_digits() {
        assert_eq!(mask_written_phone("+1 510 555 01011"), "+• ••• ••• •••11");
        assert_eq!(mask_written_phone("510-555-0101 x"), "•••-•••-••01 x");
        assert_eq!(mask_written_phone("bad"), "bad");
    }
}
