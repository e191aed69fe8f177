//! `GET /v1/messages`: a conversation's latest messages, as a client checks what went out.
//!
//! A conversation is one contact number in one inbox. It holds direct sends to the number,
//! sends into its chat, and list broadcasts the number received (each shown with the
//! broadcast's id, since the sandbox records a broadcast once). Group sends (`targets`)
//! belong to their group conversation and are not listed. This module only reads.

use super::fixtures::Fixtures;
use super::shared::Shared;
use super::store::RecordedMessage;
use crate::heymarket::types::HistoryMessage;

/// The newest `limit` messages of `phone`'s conversation in `inbox_id`, newest first.
pub fn conversation(
    shared: &Shared,
    phone: &str,
    inbox_id: u64,
    limit: usize,
) -> Vec<HistoryMessage> {
    let fixtures = &shared.fixtures;
    shared.with_messages(|messages| {
        messages
            .iter()
            .rev()
            .filter(|m| m.inbox_id == inbox_id && reached(m, phone, fixtures))
            .take(limit)
            .map(|m| entry(m, fixtures))
            .collect()
    })
}

fn reached(message: &RecordedMessage, phone: &str, fixtures: &Fixtures) -> bool {
    if message.phone_number.as_deref() == Some(phone) {
        return true;
    }
    let in_chat = message
        .chat_id
        .and_then(|id| fixtures.conversation(id))
        .is_some_and(|chat| chat.phone == phone);
    let in_list = message
        .list_id
        .and_then(|id| fixtures.list(id))
        .is_some_and(|list| list.members.iter().any(|m| m == phone))
        && !fixtures.is_unsubscribed(phone)
        && !fixtures.is_blocked(phone);
    in_chat || in_list
}

fn entry(message: &RecordedMessage, fixtures: &Fixtures) -> HistoryMessage {
    let template_text = message
        .template_id
        .and_then(|id| fixtures.template(id))
        .map(|template| template.text.clone());
    HistoryMessage {
        id: message.id,
        local_id: message.local_id.clone(),
        status: Some("sent".to_owned()),
        date: Some(message.received_at.clone()),
        text: message.text.clone().or(template_text),
    }
}
