//! Accepted messages: kept in memory in order, and appended to a JSONL log as they arrive.
//!
//! The store assigns message ids, remembers `local_id`s for dedupe and conversation ids for
//! answers. Each accepted message is written to the log in a single `write` before the
//! sandbox answers, so a separate process can read the log while the sandbox runs. The log
//! is handed to the operating system, not fsynced: it survives a killed client or sandbox,
//! not a power cut. The store never decides whether a message is acceptable.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::heymarket::types::{SendRequest, SendResponse};

/// Conversation ids handed out for numbers that had no conversation yet start here.
const FIRST_NEW_CONVO_ID: u64 = 20_001;

/// MMS answers carry a `gallery_url` under this (unresolvable, on purpose) address.
const GALLERY_BASE: &str = "https://gallery.sandbox.invalid/m";

/// One accepted message exactly as it was asked for; also one line of the JSONL log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedMessage {
    /// The message id the sandbox answered with (1, 2, 3, ...).
    pub id: u64,
    /// The `X-Request-Id` of the request that created it.
    pub request_id: String,
    /// When the sandbox accepted it, RFC 3339 in UTC.
    pub received_at: String,
    pub inbox_id: u64,
    pub creator_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
}

/// In-memory messages, dedupe memory, conversation ids and the open log.
#[derive(Debug)]
pub struct Store {
    messages: Vec<RecordedMessage>,
    answers: Vec<SendResponse>,
    /// Per inbox, the index of the message each `local_id` first arrived with.
    by_local_id: HashMap<u64, HashMap<String, usize>>,
    convo_ids: HashMap<(u64, String), u64>,
    log: Option<File>,
}

impl RecordedMessage {
    /// The message as the request that created it.
    pub fn to_request(&self) -> SendRequest {
        SendRequest {
            inbox_id: self.inbox_id,
            creator_id: self.creator_id,
            phone_number: self.phone_number.clone(),
            chat_id: self.chat_id,
            list_id: self.list_id,
            targets: self.targets.clone(),
            text: self.text.clone(),
            template_id: self.template_id,
            media_url: self.media_url.clone(),
            local_id: self.local_id.clone(),
            private: self.private,
        }
    }

    fn new(id: u64, request_id: &str, received_at: &str, request: SendRequest) -> Self {
        RecordedMessage {
            id,
            request_id: request_id.to_owned(),
            received_at: received_at.to_owned(),
            inbox_id: request.inbox_id,
            creator_id: request.creator_id,
            phone_number: request.phone_number,
            chat_id: request.chat_id,
            list_id: request.list_id,
            targets: request.targets,
            text: request.text,
            template_id: request.template_id,
            media_url: request.media_url,
            local_id: request.local_id,
            private: request.private,
        }
    }
}

impl Store {
    /// An empty store; with a log path, the log is opened (mode 0600) and, if it already
    /// holds messages from an earlier run, they are loaded so ids and dedupe carry on.
    pub fn open(log_path: Option<&Path>) -> std::io::Result<Store> {
        let mut store = Store {
            messages: Vec::new(),
            answers: Vec::new(),
            by_local_id: HashMap::new(),
            convo_ids: HashMap::new(),
            log: None,
        };
        let Some(path) = log_path else {
            return Ok(store);
        };

        if path.exists() {
            for message in read_log(path)? {
                let answer = store.answer_for(&message);
                store.remember(message, answer);
            }
        }
        store.log = Some(open_log(path)?);
        Ok(store)
    }

    /// The answer already given for this `local_id` in this inbox, if any.
    pub fn find_by_local_id(&self, inbox_id: u64, local_id: &str) -> Option<&SendResponse> {
        let index = self.by_local_id.get(&inbox_id)?.get(local_id)?;
        self.answers.get(*index)
    }

    /// Records an accepted message, writes its log line, and returns the answer to send.
    pub fn record(
        &mut self,
        request: SendRequest,
        request_id: &str,
        received_at: &str,
    ) -> std::io::Result<SendResponse> {
        let id = self.messages.len() as u64 + 1;
        let message = RecordedMessage::new(id, request_id, received_at, request);

        if let Some(log) = &mut self.log {
            let mut line = serde_json::to_vec(&message)?;
            line.push(b'\n');
            log.write_all(&line)?;
        }

        let answer = self.answer_for(&message);
        self.remember(message, answer.clone());
        Ok(answer)
    }

    /// Every accepted message, in order.
    pub fn messages(&self) -> &[RecordedMessage] {
        &self.messages
    }

    fn remember(&mut self, message: RecordedMessage, answer: SendResponse) {
        if let Some(local_id) = &message.local_id {
            let inbox = self.by_local_id.entry(message.inbox_id).or_default();
            if !inbox.contains_key(local_id) {
                inbox.insert(local_id.clone(), self.messages.len());
            }
        }
        self.messages.push(message);
        self.answers.push(answer);
    }

    fn answer_for(&mut self, message: &RecordedMessage) -> SendResponse {
        SendResponse {
            id: message.id,
            date: Some(message.received_at.clone()),
            convo_id: self.convo_id(message),
            queued: Some(true),
            gallery_url: message
                .media_url
                .as_ref()
                .map(|_| format!("{GALLERY_BASE}/{}", message.id)),
        }
    }

    /// A chat keeps its id; a number or a group gets a stable id per inbox; a list
    /// broadcast fans out into many conversations and so answers with none.
    fn convo_id(&mut self, message: &RecordedMessage) -> Option<u64> {
        if let Some(chat_id) = message.chat_id {
            return Some(chat_id);
        }
        let key = match (&message.phone_number, &message.targets) {
            (Some(phone), _) => phone.clone(),
            (None, Some(targets)) => targets.join(","),
            (None, None) => return None,
        };
        let next = FIRST_NEW_CONVO_ID + self.convo_ids.len() as u64;
        Some(
            *self
                .convo_ids
                .entry((message.inbox_id, key))
                .or_insert(next),
        )
    }
}

/// Reads a JSONL log written by a sandbox: one [`RecordedMessage`] per line.
pub fn read_log(path: &Path) -> std::io::Result<Vec<RecordedMessage>> {
    let reader = BufReader::new(File::open(path)?);
    let mut messages = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let message = serde_json::from_str(&line).map_err(|error| {
            let reason = format!("{}:{}: {error}", path.display(), index + 1);
            std::io::Error::new(std::io::ErrorKind::InvalidData, reason)
        })?;
        messages.push(message);
    }
    Ok(messages)
}

fn open_log(path: &Path) -> std::io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(phone: &str, local_id: Option<&str>) -> SendRequest {
        SendRequest {
            inbox_id: 42,
            creator_id: 7,
            phone_number: Some(phone.to_owned()),
            text: Some("hi".to_owned()),
            local_id: local_id.map(str::to_owned),
            ..SendRequest::default()
        }
    }

    #[test]
    fn ids_count_up_and_a_number_keeps_its_conversation() {
        let mut store = Store::open(None).expect("store");
        let first = store.record(request("15105550101", None), "r1", "t");
        let second = store.record(request("15105550101", None), "r2", "t");
        let (first, second) = (first.expect("first"), second.expect("second"));
        assert_eq!((first.id, second.id), (1, 2));
        assert_eq!(first.convo_id, second.convo_id);
    }

    #[test]
    fn the_log_is_private_and_reloads_on_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log.jsonl");
        let mut store = Store::open(Some(&path)).expect("store");
        store
            .record(request("15105550101", Some("a")), "r1", "t")
            .expect("record");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        let reopened = Store::open(Some(&path)).expect("reopen");
        assert_eq!(reopened.messages().len(), 1);
        assert_eq!(reopened.find_by_local_id(42, "a").map(|a| a.id), Some(1));
    }
}
