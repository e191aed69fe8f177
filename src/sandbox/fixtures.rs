//! The world the sandbox pretends to be: team, inboxes, contacts, lists, templates, chats.
//!
//! Fixtures are read from YAML (strictly: unknown keys are errors) or taken from the
//! built-in defaults that the example campaigns use, and are checked for consistency before
//! a sandbox starts. This module never changes fixtures at run time; sent messages live in
//! the store.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::heymarket::types::Member;

/// Everything the sandbox knows about the pretend Heymarket team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    pub team: TeamFixture,
    pub inboxes: Vec<InboxFixture>,
    #[serde(default)]
    pub contacts: ContactsFixture,
    #[serde(default)]
    pub lists: Vec<ListFixture>,
    #[serde(default)]
    pub templates: Vec<TemplateFixture>,
    #[serde(default)]
    pub conversations: Vec<ConversationFixture>,
}

/// The team and its members (`creator_id` names one of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamFixture {
    pub id: u64,
    pub name: String,
    pub members: Vec<Member>,
}

/// An inbox: its number (may carry `+`) and the member ids allowed to send from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxFixture {
    pub id: u64,
    pub name: String,
    pub phone: String,
    pub members: Vec<u64>,
}

/// Contacts that cannot be messaged, as E.164 digits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactsFixture {
    #[serde(default)]
    pub unsubscribed: Vec<String>,
    #[serde(default)]
    pub blocked: Vec<String>,
}

/// A contact list for `list_id` broadcasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListFixture {
    pub id: u64,
    pub name: String,
    pub members: Vec<String>,
}

/// A saved template for `template_id` sends and `GET /v1/template/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFixture {
    pub id: u64,
    pub name: String,
    pub text: String,
}

/// An existing conversation (`chat_id`) with one contact in one inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationFixture {
    pub chat_id: u64,
    pub inbox_id: u64,
    pub phone: String,
}

/// Why fixtures could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("could not read fixtures `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("fixtures `{path}` are not valid YAML for the sandbox")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_yaml::Error,
    },
    #[error("fixtures are inconsistent: {problem}")]
    Inconsistent { problem: String },
}

impl Fixtures {
    /// Reads and checks fixtures from a YAML file shaped like `sandbox/fixtures.yaml`.
    pub fn from_yaml_file(path: &Path) -> Result<Fixtures, FixtureError> {
        let text = crate::text_file::read(path).map_err(|source| FixtureError::Read {
            path: path.to_owned(),
            source,
        })?;
        Fixtures::from_yaml_str(&text).map_err(|error| match error {
            FixtureError::Parse { source, .. } => FixtureError::Parse {
                path: path.to_owned(),
                source,
            },
            other => other,
        })
    }

    /// Parses and checks fixtures from YAML text.
    pub fn from_yaml_str(text: &str) -> Result<Fixtures, FixtureError> {
        let fixtures: Fixtures =
            serde_yaml::from_str(text).map_err(|source| FixtureError::Parse {
                path: PathBuf::from("<text>"),
                source,
            })?;
        fixtures.check()?;
        Ok(fixtures)
    }

    /// Checks that ids are unique, references resolve and every number is E.164 digits.
    pub fn check(&self) -> Result<(), FixtureError> {
        let member_ids: HashSet<u64> = self.team.members.iter().map(|m| m.id).collect();
        let inbox_ids: HashSet<u64> = self.inboxes.iter().map(|i| i.id).collect();

        unique("team member", self.team.members.iter().map(|m| m.id))?;
        unique("inbox", self.inboxes.iter().map(|i| i.id))?;
        unique("list", self.lists.iter().map(|l| l.id))?;
        unique("template", self.templates.iter().map(|t| t.id))?;
        unique("conversation", self.conversations.iter().map(|c| c.chat_id))?;

        for inbox in &self.inboxes {
            if let Some(member) = inbox.members.iter().find(|id| !member_ids.contains(id)) {
                return inconsistent(format!(
                    "inbox `{}` lists member `{member}`, who is not in the team",
                    inbox.id
                ));
            }
            e164(&inbox.phone.replace('+', ""), "inbox phone")?;
        }
        for chat in &self.conversations {
            if !inbox_ids.contains(&chat.inbox_id) {
                return inconsistent(format!(
                    "conversation `{}` is in unknown inbox `{}`",
                    chat.chat_id, chat.inbox_id
                ));
            }
            e164(&chat.phone, "conversation phone")?;
        }
        let numbers = self
            .contacts
            .unsubscribed
            .iter()
            .chain(&self.contacts.blocked);
        for number in numbers.chain(self.lists.iter().flat_map(|l| &l.members)) {
            e164(number, "contact phone")?;
        }
        Ok(())
    }

    /// The inbox with this id.
    pub fn inbox(&self, id: u64) -> Option<&InboxFixture> {
        self.inboxes.iter().find(|inbox| inbox.id == id)
    }

    /// The list with this id.
    pub fn list(&self, id: u64) -> Option<&ListFixture> {
        self.lists.iter().find(|list| list.id == id)
    }

    /// The template with this id.
    pub fn template(&self, id: u64) -> Option<&TemplateFixture> {
        self.templates.iter().find(|template| template.id == id)
    }

    /// The conversation with this chat id.
    pub fn conversation(&self, chat_id: u64) -> Option<&ConversationFixture> {
        self.conversations
            .iter()
            .find(|chat| chat.chat_id == chat_id)
    }

    /// Whether `id` is a member of the team.
    pub fn is_team_member(&self, id: u64) -> bool {
        self.team.members.iter().any(|member| member.id == id)
    }

    /// Whether the contact has opted out (texted STOP or similar).
    pub fn is_unsubscribed(&self, phone: &str) -> bool {
        self.contacts.unsubscribed.iter().any(|p| p == phone)
    }

    /// Whether the contact is blocked by the team.
    pub fn is_blocked(&self, phone: &str) -> bool {
        self.contacts.blocked.iter().any(|p| p == phone)
    }
}

impl Default for Fixtures {
    /// The built-in world the example campaigns are written against; identical to the
    /// repository's `sandbox/fixtures.yaml`.
    fn default() -> Self {
        let member = |id, name: &str, role: &str| Member {
            id,
            name: name.to_owned(),
            role: role.to_owned(),
        };
        let inbox = |id, name: &str, phone: &str| InboxFixture {
            id,
            name: name.to_owned(),
            phone: phone.to_owned(),
            members: vec![7, 8],
        };
        let chat = |chat_id, phone: &str| ConversationFixture {
            chat_id,
            inbox_id: 42,
            phone: phone.to_owned(),
        };
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        Fixtures {
            team: TeamFixture {
                id: 1,
                name: "Sandbox Team".to_owned(),
                members: vec![
                    member(7, "Avery Admin", "admin"),
                    member(8, "Sam Sender", "member"),
                    member(9, "Nia Outsider", "member"),
                ],
            },
            inboxes: vec![
                inbox(42, "Main Line", "+15105550100"),
                inbox(43, "Toll-Free Support", "+18885550123"),
            ],
            contacts: ContactsFixture {
                unsubscribed: strings(&["15105550199"]),
                blocked: strings(&["15105550198"]),
            },
            lists: vec![ListFixture {
                id: 501,
                name: "VIP customers".to_owned(),
                members: strings(&[
                    "15105550101",
                    "15105550102",
                    "15105550103",
                    "15105550104",
                    "15105550105",
                ]),
            }],
            templates: vec![TemplateFixture {
                id: 123,
                name: "spring-reminder".to_owned(),
                text: "Hi {{first_name}}, our spring sale starts today. Reply STOP to opt out."
                    .to_owned(),
            }],
            conversations: vec![
                chat(9001, "15105550111"),
                chat(9002, "15105550112"),
                chat(9003, "15105550113"),
            ],
        }
    }
}

/// Whether `digits` is a number Heymarket accepts: 8-15 digits without `+`, and a North
/// American number (leading `1`) exactly 11 digits long.
pub fn is_e164_digits(digits: &str) -> bool {
    let all_digits = digits.bytes().all(|b| b.is_ascii_digit());
    let length_ok = (8..=15).contains(&digits.len());
    let nanp_ok = !digits.starts_with('1') || digits.len() == 11;
    all_digits && length_ok && nanp_ok && !digits.starts_with('0')
}

fn e164(number: &str, what: &str) -> Result<(), FixtureError> {
    if is_e164_digits(number) {
        return Ok(());
    }
    inconsistent(format!("{what} `{number}` is not E.164 digits without `+`"))
}

fn unique(what: &str, ids: impl Iterator<Item = u64>) -> Result<(), FixtureError> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return inconsistent(format!("{what} id `{id}` appears twice"));
        }
    }
    Ok(())
}

fn inconsistent(problem: String) -> Result<(), FixtureError> {
    Err(FixtureError::Inconsistent { problem })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_yaml_is_the_built_in_default() {
        let shipped = include_str!("../../sandbox/fixtures.yaml");
        let parsed = Fixtures::from_yaml_str(shipped).expect("shipped fixtures parse");
        assert_eq!(parsed, Fixtures::default());
    }

    #[test]
    fn phone_numbers_follow_e164_digits_and_nanp_length() {
        assert!(is_e164_digits("15105550101"));
        assert!(is_e164_digits("447700900123"));
        assert!(!is_e164_digits("+15105550101"));
        assert!(!is_e164_digits("1510555010"));
        assert!(!is_e164_digits("5105550101x"));
        assert!(!is_e164_digits("1234567"));
        assert!(!is_e164_digits("1234567890123456"));
    }

    #[test]
    fn dangling_references_are_refused() {
        let mut fixtures = Fixtures::default();
        fixtures.inboxes[0].members.push(99);
        assert!(fixtures.check().is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = "team: {id: 1, name: T, members: []}\ninboxes: []\nextra: 1\n";
        assert!(Fixtures::from_yaml_str(text).is_err());
    }
}
