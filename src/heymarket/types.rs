//! The JSON bodies of the Heymarket endpoints this tool calls, shared with the sandbox.
//!
//! Requests are written exactly; responses are read leniently, as the API digest asks: every
//! field but the ones we rely on is optional and unknown fields are ignored.

use serde::{Deserialize, Serialize};

/// `POST /v1/message/send`. Exactly one target family may be set: `phone_number` or
/// `chat_id`; `list_id` with `local_id`; or `targets`. Read strictly (the sandbox refuses
/// unknown fields), unlike the lenient response types below.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    pub inbox_id: u64,
    pub creator_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub private: bool,
}

/// The send response: clients rely on `id` alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResponse {
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convo_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gallery_url: Option<String>,
}

/// An inbox from `GET /v1/inboxes`. Its phones may carry a `+`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub members: Vec<u64>,
}

/// `GET /v1/inboxes` answers a bare array or, on an older page, `{"inboxes": [...]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum InboxesResponse {
    Bare(Vec<Inbox>),
    Wrapped { inboxes: Vec<Inbox> },
}

impl InboxesResponse {
    pub fn into_inboxes(self) -> Vec<Inbox> {
        match self {
            InboxesResponse::Bare(inboxes) | InboxesResponse::Wrapped { inboxes } => inboxes,
        }
    }
}

/// `GET /v1/team`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub list_size: u64,
    #[serde(default)]
    pub members: Vec<Member>,
}

/// A team member; its `id` is what `creator_id` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
}

/// `POST /v1/contact/status` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactStatusRequest {
    pub phone: String,
}

/// `POST /v1/contact/status` answer: opted-out and blocked contacts cannot be messaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactStatus {
    #[serde(default)]
    pub id: Option<u64>,
    pub phone: String,
    #[serde(default)]
    pub unsubscribed: bool,
    #[serde(default)]
    pub blocked: bool,
}

/// One message of `GET /v1/messages?phoneNumber=&inboxID=` (the latest 50 of a conversation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryMessage {
    pub id: u64,
    #[serde(default)]
    pub local_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

/// `GET /v1/template/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    pub content: TemplateContent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateContent {
    #[serde(default)]
    pub text: String,
}

/// The error body the sandbox sends. The real API's shape is undocumented, so the client
/// never relies on this: it turns any JSON or text into a message string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `bad_data`, `unauthorized`, `denied`, `not_found`, `method_not_allowed`,
    /// `rate_limited`, `server_error` or `unavailable`.
    pub error: String,
    /// The request field at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// Whether an inbox number (digits, with or without `+`) is a North American toll-free one.
pub fn is_toll_free(number: &str) -> bool {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.len() {
        11 if digits.starts_with('1') => &digits[1..],
        10 => &digits[..],
        _ => return false,
    };
    national[..3]
        .parse::<u16>()
        .is_ok_and(|code| crate::recipients::phone::TOLL_FREE_AREA_CODES.contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toll_free_is_read_from_any_spelling() {
        assert!(is_toll_free("+18885551234"));
        assert!(is_toll_free("8005551234"));
        assert!(!is_toll_free("15105553344"));
        assert!(!is_toll_free("448005551234"));
    }

    #[test]
    fn inboxes_accept_both_shapes() {
        let bare: InboxesResponse = serde_json::from_str(r#"[{"id":1}]"#).expect("bare");
        let wrapped: InboxesResponse =
            serde_json::from_str(r#"{"inboxes":[{"id":1}]}"#).expect("wrapped");
        assert_eq!(bare.into_inboxes().len(), wrapped.into_inboxes().len());
    }
}
