//! The campaign file exactly as written: the serde mirror of the YAML and the source of the
//! JSON Schema that editors use to complete and check it.
//!
//! Every key is optional here, even the required ones (the schema still marks them
//! required), so that a file with a missing key still deserializes and `load` can report
//! every other problem too. These types judge nothing beyond shape: whether a rate is too
//! fast or a number a phone is `load`'s business.

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroU64};

use schemars::JsonSchema;
use serde::Deserialize;

/// A Heymarket SMS/MMS campaign: who gets which message, and how fast it may be sent.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Heymarket campaign")]
pub struct RawCampaign {
    /// The campaign file format; always `1`.
    #[schemars(required, with = "u32", range(min = 1, max = 1))]
    pub version: Option<u32>,
    /// The campaign's slug (`a-z`, `0-9`, `-`, at most 63 characters); seeds every `local_id`.
    #[schemars(
        required,
        with = "String",
        regex(pattern = r"^[a-z0-9][a-z0-9-]{0,62}$")
    )]
    pub name: Option<String>,
    /// The Heymarket inbox the messages are sent from (`inbox_id`).
    #[schemars(required, with = "NonZeroU64")]
    pub inbox: Option<NonZeroU64>,
    /// The team member the messages are sent as (`creator_id`, a member id).
    #[schemars(required, with = "NonZeroU64")]
    pub creator: Option<NonZeroU64>,
    /// The inbox's own phone number; a toll-free number cannot send group MMS.
    pub inbox_phone: Option<RawPhone>,
    /// Who the campaign reaches: one of `recipients`, `list` or `group`.
    #[schemars(required, with = "RawAudience")]
    pub audience: Option<RawAudience>,
    /// What every recipient gets.
    #[schemars(required, with = "RawMessage")]
    pub message: Option<RawMessage>,
    /// Variables every template sees, next to each recipient's CSV columns.
    pub vars: Option<BTreeMap<String, serde_json::Value>>,
    /// How fast, when and how much apply may send.
    pub send: Option<RawSend>,
}

/// Who the campaign reaches: exactly one of `recipients`, `list` or `group`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Audience")]
pub struct RawAudience {
    /// A CSV file of recipients, relative to this file's folder: one send per row.
    pub recipients: Option<String>,
    /// A Heymarket list id: one broadcast that Heymarket sends to each member.
    pub list: Option<NonZeroU64>,
    /// 2 to 10 phone numbers sharing one group MMS conversation.
    #[schemars(length(min = 2, max = 10))]
    pub group: Option<Vec<RawPhone>>,
    /// The CSV column holding phone numbers (default `phone`).
    pub phone_column: Option<String>,
    /// The CSV column holding a Heymarket conversation id (default `chat_id`).
    pub chat_id_column: Option<String>,
    /// The CSV column holding an IANA time zone (default `timezone`).
    pub timezone_column: Option<String>,
    /// The CSV field separator; detected from the header line when absent.
    pub delimiter: Option<RawDelimiter>,
    /// The two-letter country assumed for numbers written without `+` (default `US`).
    #[schemars(regex(pattern = r"^[A-Za-z]{2}$"))]
    pub default_region: Option<String>,
    /// What to do with a number that appears twice (default `skip`).
    pub duplicates: Option<RawRowPolicy>,
    /// What to do with a row that cannot be sent (default `skip`).
    pub invalid_rows: Option<RawRowPolicy>,
    /// CSV files of numbers never to text, relative to this file's folder.
    pub suppress: Option<RawPaths>,
}

/// The message every recipient gets.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Message")]
pub struct RawMessage {
    /// The message as a minijinja template.
    pub text: Option<String>,
    /// A minijinja template file, relative to this file's folder.
    pub template: Option<String>,
    /// A template saved in Heymarket, filled by Heymarket from the contact record.
    pub template_id: Option<NonZeroU64>,
    /// A public `https` image or file that makes the message an MMS.
    #[schemars(extend("format" = "uri", "pattern" = "^https://"))]
    pub media_url: Option<String>,
    /// The most SMS segments one message may take (1 to 10, default 10).
    #[schemars(range(min = 1, max = 10))]
    pub max_segments: Option<u32>,
    /// Post an internal comment in each recipient's conversation instead of texting them.
    pub private: Option<bool>,
}

/// How fast, when and how much apply may send.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Send")]
pub struct RawSend {
    /// Requests per minute or second: `400/min`, `5/s` (default `400/min`, at most 500/min).
    #[schemars(regex(pattern = r"^[0-9]+/(min|s)$"))]
    pub rate: Option<String>,
    /// Recipient-local hours to send in, `HH:MM-HH:MM` (default `08:00-21:00`), or `always`.
    #[schemars(regex(pattern = r"^(always|[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2})$"))]
    pub window: Option<String>,
    /// Refuse to plan more sends than this.
    pub max_recipients: Option<NonZeroU64>,
    /// The price of one SMS segment, for the plan's cost estimate.
    #[schemars(range(min = 0))]
    pub cost_per_segment: Option<f64>,
    /// Retry sends whose outcome is unknown, trusting Heymarket to drop a repeated `local_id`.
    pub trust_local_id_dedupe: Option<bool>,
    /// When apply halts because too many sends fail.
    pub error_budget: Option<RawErrorBudget>,
}

/// When apply halts because too many sends fail.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ErrorBudget")]
pub struct RawErrorBudget {
    /// Halt after this many failures in a row (default 10).
    pub consecutive_failures: Option<NonZeroU32>,
    /// Halt when more than this share of finished sends failed, after 20 (default 0.2).
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    pub failure_ratio: Option<f64>,
}

/// A phone number as text (`"+1 (510) 555-3344"`) or as bare digits (`15105553344`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Phone")]
pub enum RawPhone {
    Text(String),
    Digits(u64),
}

/// One path or a list of paths.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Paths")]
pub enum RawPaths {
    One(String),
    Many(Vec<String>),
}

impl RawPaths {
    /// The paths as a list, however they were written.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            RawPaths::One(path) => vec![path],
            RawPaths::Many(paths) => paths,
        }
    }
}

/// What to do with a duplicate or an invalid row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "RowPolicy")]
pub enum RawRowPolicy {
    /// Leave the row out, list it in the plan, and go on.
    Skip,
    /// Refuse the whole plan.
    Fail,
}

/// A CSV field separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(rename = "Delimiter")]
pub enum RawDelimiter {
    #[serde(rename = ",")]
    Comma,
    #[serde(rename = ";")]
    Semicolon,
    #[serde(rename = "tab")]
    Tab,
    #[serde(rename = "|")]
    Pipe,
}

impl RawDelimiter {
    /// The byte the CSV reader splits on.
    pub fn byte(self) -> u8 {
        match self {
            RawDelimiter::Comma => b',',
            RawDelimiter::Semicolon => b';',
            RawDelimiter::Tab => b'\t',
            RawDelimiter::Pipe => b'|',
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_example() {
        let yaml = "\
version: 1
name: spring-sale-2026
inbox: 42
creator: 7
audience:
  recipients: spring-sale.csv
  delimiter: tab
  duplicates: fail
  suppress: do-not-text.csv
message:
  text: Hi
send:
  rate: 400/min
  error_budget:
    failure_ratio: 0.2
";
        let raw: RawCampaign = serde_yaml::from_str(yaml).unwrap();
        let audience = raw.audience.unwrap();
        assert_eq!(audience.delimiter.map(RawDelimiter::byte), Some(b'\t'));
        assert_eq!(audience.duplicates, Some(RawRowPolicy::Fail));
        assert_eq!(audience.suppress.unwrap().into_vec(), ["do-not-text.csv"]);
        assert_eq!(raw.send.unwrap().rate.as_deref(), Some("400/min"));
    }

    #[test]
    fn a_phone_may_be_text_or_digits() {
        let phones: Vec<RawPhone> =
            serde_yaml::from_str("[\"+1 510 555 3344\", 15105553345]").unwrap();
        assert_eq!(phones[1], RawPhone::Digits(15105553345));
    }

    #[test]
    fn refuses_unknown_keys() {
        assert!(serde_yaml::from_str::<RawSend>("rte: 1/s").is_err());
    }
}
