//! The campaign file: parsed as written, then validated into a [`Campaign`].
//!
//! `raw` mirrors the YAML exactly (and is what the JSON Schema is generated from); `load`
//! turns it into a [`Campaign`], collecting every problem with its `file:line:col`. Nothing
//! downstream ever sees a raw file: a `Campaign` cannot name two audiences, a rate above
//! Heymarket's limit, or a message with no content. Reading the recipient CSV is not this
//! module's job; it only records where the CSV is and how to read it.

pub mod load;
pub mod locate;
pub mod raw;
pub mod schema;

pub use load::{Loaded, load, load_str};

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::civil::Time;

use crate::recipients::phone::{Phone, Region};

/// Heymarket's documented ceiling: 500 requests a minute per credential.
pub const HEYMARKET_MAX_PER_MINUTE: u32 = 500;

/// The rate a campaign sends at when it names none.
pub const DEFAULT_PER_MINUTE: u32 = 400;

/// Carriers reject texts longer than this many segments.
pub const DEFAULT_MAX_SEGMENTS: u32 = 10;

/// A validated campaign file. Paths in it are already resolved against the file's folder.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// The campaign file itself, as the user named it.
    pub path: PathBuf,
    /// The slug that seeds every `local_id` and names state and reports.
    pub name: String,
    pub inbox: u64,
    pub creator: u64,
    /// The inbox's own number, when the file declares it (`inbox_phone`).
    pub inbox_phone: Option<Phone>,
    pub audience: Audience,
    pub message: MessageSpec,
    /// Campaign-wide template variables (`vars`).
    pub vars: BTreeMap<String, serde_json::Value>,
    pub send: SendPolicy,
}

/// Who the campaign reaches: exactly one of the three target families.
#[derive(Debug, Clone)]
pub enum Audience {
    /// A CSV file, one individual send (or one in-conversation reply) per row.
    Recipients(RecipientsSource),
    /// A Heymarket list: one broadcast request that Heymarket fans out.
    List { list_id: u64 },
    /// One group MMS conversation with these numbers.
    Group { targets: Vec<Phone> },
}

/// Where the recipient CSV is and how each row is read.
#[derive(Debug, Clone)]
pub struct RecipientsSource {
    pub csv: PathBuf,
    /// The column holding each row's phone number (`phone_column`, default `phone`).
    pub phone_column: String,
    /// The column holding a conversation id (`chat_id_column`, default `chat_id`).
    pub chat_id_column: String,
    /// The column naming a recipient's IANA time zone (`timezone_column`, default `timezone`).
    pub timezone_column: String,
    pub default_region: Region,
    /// `None` detects `,`, `;`, tab or `|` from the header line.
    pub delimiter: Option<u8>,
    pub duplicates: RowPolicy,
    pub invalid_rows: RowPolicy,
    /// CSV files of numbers never to text.
    pub suppress: Vec<PathBuf>,
}

/// What to do with a duplicate or an invalid row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowPolicy {
    /// Leave the row out, list it in the plan, and go on.
    Skip,
    /// Refuse the whole plan.
    Fail,
}

/// The message every recipient gets.
#[derive(Debug, Clone)]
pub struct MessageSpec {
    pub content: Content,
    pub media_url: Option<url::Url>,
    /// An internal comment inside an existing conversation, never sent to the contact.
    pub private: bool,
    pub max_segments: u32,
}

/// Where the message text comes from.
#[derive(Debug, Clone)]
pub enum Content {
    /// A minijinja template, inline or from a file.
    Template(TemplateSource),
    /// A template saved in Heymarket, filled server-side from the contact record.
    TemplateId(u64),
    /// Media only (an MMS with no text).
    MediaOnly,
}

/// A minijinja template and where it was written, so errors can point into it.
#[derive(Debug, Clone)]
pub struct TemplateSource {
    pub text: String,
    /// The file the template text is in: the campaign file for inline `text`.
    pub file: PathBuf,
    /// The 1-based line of that file where the template's first line is.
    pub first_line: usize,
}

/// How apply is allowed to send, and what plan reports about it.
#[derive(Debug, Clone)]
pub struct SendPolicy {
    pub rate: Rate,
    pub window: Window,
    pub max_recipients: Option<u64>,
    pub cost_per_segment: Option<f64>,
    /// Trust Heymarket's `local_id` deduplication, so ambiguous sends may be retried.
    pub trust_local_id_dedupe: bool,
    /// Halt after this many failures in a row.
    pub max_consecutive_failures: u32,
    /// Halt when more than this share of finished sends failed (after 20 sends).
    pub max_failure_ratio: f64,
}

/// Requests per period; always at most Heymarket's 500 a minute once validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: RatePeriod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatePeriod {
    Second,
    Minute,
}

impl Rate {
    /// The rate as requests a minute (may exceed 500 only for loopback sandboxes).
    pub fn per_minute(self) -> f64 {
        match self.per {
            RatePeriod::Second => f64::from(self.count) * 60.0,
            RatePeriod::Minute => f64::from(self.count),
        }
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per {
            RatePeriod::Second => "s",
            RatePeriod::Minute => "min",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// When, in each recipient's local time, a message may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// From `start` (inclusive) to `end` (exclusive), local wall-clock time.
    Between { start: Time, end: Time },
    /// Any time of day (`always`): allowed, with a warning.
    Always,
}
