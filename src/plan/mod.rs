//! The plan: every message `apply` would send, and every row it would not, with the reason.
//!
//! [`build`] streams a validated campaign into [`PlannedMessage`]s, one per CSV row (or one
//! for a list broadcast or group MMS), and a [`Summary`] of the whole. The output formats
//! (`human`, `json`, `markdown`, the saved plan file) only present what `build` decided; none
//! of them reads an input or renders a message.

pub mod build;
pub mod human;
pub mod json;
pub mod markdown;
mod rows;
pub mod saved;
pub mod summary;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::recipients::phone::Phone;
use crate::render::segments::Encoding;

pub use build::{Options, Outcome, build};
pub use summary::Summary;

/// What `apply` will do with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Send,
    Skip,
    Invalid,
}

/// Why a row is skipped or invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The same number (or conversation) as an earlier row.
    Duplicate,
    /// The number is in a suppression file.
    Suppressed,
    /// No phone number and no chat id.
    MissingTarget,
    /// Both a phone number and a chat id: the API takes one.
    PhoneAndChatId,
    InvalidPhone,
    InvalidChatId,
    InvalidTimezone,
    /// The CSV row itself is malformed (ragged, not UTF-8).
    MalformedRow,
    RenderFailed,
    TooManySegments,
}

impl Reason {
    /// The word used in summaries: `duplicate`, `invalid_phone`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Duplicate => "duplicate",
            Reason::Suppressed => "suppressed",
            Reason::MissingTarget => "missing_target",
            Reason::PhoneAndChatId => "phone_and_chat_id",
            Reason::InvalidPhone => "invalid_phone",
            Reason::InvalidChatId => "invalid_chat_id",
            Reason::InvalidTimezone => "invalid_timezone",
            Reason::MalformedRow => "malformed_row",
            Reason::RenderFailed => "render_failed",
            Reason::TooManySegments => "too_many_segments",
        }
    }
}

/// Who one message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Phone(Phone),
    Chat(u64),
    List(u64),
    Group(Vec<Phone>),
    /// An invalid row that names no usable recipient.
    None,
}

impl Target {
    /// The masked form for output that may be shared (PR comments, logs, terminals).
    pub fn masked(&self) -> String {
        match self {
            Target::Phone(phone) => phone.masked(),
            Target::Chat(id) => format!("chat {id}"),
            Target::List(id) => format!("list {id}"),
            Target::Group(targets) => format!("group of {}", targets.len()),
            Target::None => "-".to_owned(),
        }
    }
}

/// One row's fate: a message to send, or the reason there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedMessage {
    /// 1-based data row (the CSV header is row 0); 1 for a list or group request.
    pub row: u64,
    /// The CSV line the row starts on, for pointing at it.
    pub line: Option<u64>,
    pub status: Status,
    pub reason: Option<Reason>,
    /// Words for the reason: "same number as row 3", "`12345` is too short".
    pub detail: Option<String>,
    pub target: Target,
    /// The rendered text; `None` for Heymarket templates and media-only messages.
    pub text: Option<String>,
    pub encoding: Option<Encoding>,
    pub segments: Option<u32>,
    pub local_id: Option<String>,
    /// IANA zones the send window must hold in (all US zones when unknown). Shared: most
    /// recipients have one of a few hundred zone sets.
    pub zones: Arc<[String]>,
}

impl PlannedMessage {
    pub fn is_send(&self) -> bool {
        self.status == Status::Send
    }

    /// The SHA-256 of everything that makes this message what it is, recorded in a saved
    /// plan so `apply` can prove it sends what was reviewed.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let target = match &self.target {
            Target::Phone(phone) => format!("phone:{}", phone.digits()),
            Target::Chat(id) => format!("chat:{id}"),
            Target::List(id) => format!("list:{id}"),
            Target::Group(phones) => {
                let digits: Vec<&str> = phones.iter().map(Phone::digits).collect();
                format!("group:{}", digits.join(","))
            }
            Target::None => "none".to_owned(),
        };
        for part in [
            target.as_str(),
            self.local_id.as_deref().unwrap_or(""),
            self.text.as_deref().unwrap_or(""),
        ] {
            hasher.update(part.len().to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hex::encode(hasher.finalize())
    }
}
