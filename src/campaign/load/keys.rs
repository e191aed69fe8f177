//! The key and type pass: every key of the document checked against the keys its level
//! knows, and every known value against the type its raw field has.
//!
//! Each unknown key and each wrongly typed value is reported (all of them, not the first)
//! and then removed, so that the rest still deserializes into [`RawCampaign`] and the later
//! checks can run. Email campaigns are recognised here and refused with one message. What a
//! well-typed value means (a rate too fast, an invalid number) is not this pass's concern.
//!
//! [`RawCampaign`]: crate::campaign::raw::RawCampaign

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroU64};

use serde::de::DeserializeOwned;
use serde_yaml::{Mapping, Value};

use super::problems::{At, Problems, dotted};
use crate::campaign::raw::{RawDelimiter, RawPaths, RawPhone, RawRowPolicy};
use crate::diagnostic::did_you_mean;

/// Whether a value has the type a key needs.
type Fits = fn(&Value) -> bool;

/// One key a level of the file knows, and what its value must be.
#[derive(Debug)]
pub(super) struct Key {
    pub name: &'static str,
    /// What the value must be, as the user reads it: "a positive integer".
    pub expected: &'static str,
    pub fits: Fits,
    /// For a list: what each item must be, so a bad item is named by its index.
    pub item: Option<(&'static str, Fits)>,
    /// For a mapping: the keys it knows.
    pub children: &'static [Key],
}

/// Keys that only an email campaign would have.
const EMAIL_KEYS: &[&str] = &["subject", "html", "from_email", "email", "to_email"];

const fn key(name: &'static str, expected: &'static str, fits: Fits) -> Key {
    Key {
        name,
        expected,
        fits,
        item: None,
        children: &[],
    }
}

const fn list(name: &'static str, expected: &'static str, item: (&'static str, Fits)) -> Key {
    Key {
        name,
        expected,
        fits: Value::is_sequence,
        item: Some(item),
        children: &[],
    }
}

const fn section(name: &'static str, children: &'static [Key]) -> Key {
    Key {
        name,
        expected: "a mapping of keys",
        fits: Value::is_mapping,
        item: None,
        children,
    }
}

/// The top level of a campaign file.
pub(super) const TOP: &[Key] = &[
    key("version", "the number `1`", fits::<u32>),
    key("name", "a slug such as `spring-sale-2026`", fits::<String>),
    key(
        "inbox",
        "a positive integer (an inbox id)",
        fits::<NonZeroU64>,
    ),
    key(
        "creator",
        "a positive integer (a member id)",
        fits::<NonZeroU64>,
    ),
    key("inbox_phone", "a phone number", fits::<RawPhone>),
    section("audience", AUDIENCE),
    section("message", MESSAGE),
    key(
        "vars",
        "a mapping of names to values",
        fits::<BTreeMap<String, serde_json::Value>>,
    ),
    section("send", SEND),
];

const AUDIENCE: &[Key] = &[
    key("recipients", "a path to a CSV file", fits::<String>),
    key("list", "a positive integer (a list id)", fits::<NonZeroU64>),
    list(
        "group",
        "a list of phone numbers",
        ("a phone number", fits::<RawPhone>),
    ),
    key("phone_column", "a column name", fits::<String>),
    key("chat_id_column", "a column name", fits::<String>),
    key("timezone_column", "a column name", fits::<String>),
    key(
        "delimiter",
        "one of `,` `;` `tab` `|`",
        fits::<RawDelimiter>,
    ),
    key(
        "default_region",
        "a two-letter country code such as `US`",
        fits::<String>,
    ),
    key("duplicates", "`skip` or `fail`", fits::<RawRowPolicy>),
    key("invalid_rows", "`skip` or `fail`", fits::<RawRowPolicy>),
    key("suppress", "a path or a list of paths", fits::<RawPaths>),
];

const MESSAGE: &[Key] = &[
    key("text", "text", fits::<String>),
    key("template", "a path to a template file", fits::<String>),
    key(
        "template_id",
        "a positive integer (a template id)",
        fits::<NonZeroU64>,
    ),
    key("media_url", "an `https` URL", fits::<String>),
    key("max_segments", "a whole number from 1 to 10", fits::<u32>),
    key("private", "`true` or `false`", fits::<bool>),
];

const SEND: &[Key] = &[
    key("rate", "a rate such as `400/min` or `5/s`", fits::<String>),
    key(
        "window",
        "hours such as `08:00-21:00`, or `always`",
        fits::<String>,
    ),
    key("max_recipients", "a positive integer", fits::<NonZeroU64>),
    key("cost_per_segment", "a number such as `0.0079`", fits::<f64>),
    key("trust_local_id_dedupe", "`true` or `false`", fits::<bool>),
    section("error_budget", ERROR_BUDGET),
];

const ERROR_BUDGET: &[Key] = &[
    key(
        "consecutive_failures",
        "a positive integer",
        fits::<NonZeroU32>,
    ),
    key(
        "failure_ratio",
        "a number above 0 and at most 1",
        fits::<f64>,
    ),
];

/// Refuses an email campaign with one message; true when the document is one.
pub(super) fn is_email(document: &Mapping, problems: &mut Problems) -> bool {
    let message = document.get("message").and_then(Value::as_mapping);
    let found = email_key(document, &[]).or_else(|| email_key(message?, &["message"]));
    let Some(path) = found else {
        return false;
    };

    let message = "email campaigns are not sent by `campaign`: \
                   Heymarket sends email through POST /v1/email/send";
    problems
        .error(&path, At::Key, message)
        .hint("`campaign` sends SMS and MMS: send email through Heymarket's email API instead");
    true
}

fn email_key(mapping: &Mapping, parent: &[&str]) -> Option<Vec<String>> {
    let name = mapping
        .keys()
        .filter_map(Value::as_str)
        .find(|name| EMAIL_KEYS.contains(name))?;
    let mut path: Vec<String> = parent.iter().map(|part| (*part).to_owned()).collect();
    path.push(name.to_owned());
    Some(path)
}

/// Reports and removes unknown keys and wrongly typed values, marking each as reported.
pub(super) fn check(document: &mut Mapping, problems: &mut Problems) {
    check_mapping(document, TOP, &[], problems);
}

fn check_mapping(mapping: &mut Mapping, keys: &[Key], parent: &[String], problems: &mut Problems) {
    mapping.retain(|name, value| {
        let name = key_text(name);
        let mut path = parent.to_vec();
        path.push(name.clone());

        let keep = match keys.iter().find(|known| known.name == name) {
            None => {
                // A likely typo of a key counts as that key having been reported, so a
                // required key is not also called missing.
                if let Some(close) = unknown_key(&path, keys, problems) {
                    problems.mark_reported(&[parent, &[close.to_owned()]].concat());
                }
                false
            }
            Some(known) => check_value(value, known, &path, problems),
        };
        if !keep {
            problems.mark_reported(&path);
        }
        keep
    });
}

/// Checks one known key's value; false when it must be removed.
fn check_value(value: &mut Value, known: &Key, path: &[String], problems: &mut Problems) -> bool {
    if !(known.fits)(value) {
        wrong_type(path, known.expected, value, problems);
        return false;
    }

    if let (Some((expected, fits)), Value::Sequence(items)) = (known.item, &*value) {
        let mut fine = true;
        for (index, item) in items.iter().enumerate().filter(|(_, item)| !fits(item)) {
            let mut item_path = path.to_vec();
            item_path.push(index.to_string());
            wrong_type(&item_path, expected, item, problems);
            fine = false;
        }
        return fine;
    }

    if let (false, Value::Mapping(children)) = (known.children.is_empty(), value) {
        check_mapping(children, known.children, path, problems);
    }
    true
}

/// Notes an unknown key; returns the known key it is probably a typo of.
fn unknown_key(path: &[String], keys: &[Key], problems: &mut Problems) -> Option<&'static str> {
    let name = path.last().map(String::as_str).unwrap_or_default();
    let names = keys.iter().map(|known| known.name);
    let close = did_you_mean(name, names.clone());
    let hint = match (close, home_of(name, TOP, &mut Vec::new())) {
        (Some(close), _) => format!("did you mean `{close}`?"),
        (None, _) if name == "<<" => "merge keys are not supported: write the keys out".to_owned(),
        (None, Some(home)) if home.is_empty() => format!("`{name}` belongs at the top level"),
        (None, Some(home)) => format!("`{name}` belongs under `{}`", dotted(&home)),
        _ => format!(
            "expected one of {}",
            names
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };

    problems
        .error(path, At::Key, format!("unknown key `{}`", dotted(path)))
        .hint(hint);
    close
}

/// The section a key name is known in, when it is known anywhere.
fn home_of(name: &str, keys: &[Key], parent: &mut Vec<String>) -> Option<Vec<String>> {
    for known in keys {
        if known.name == name {
            return Some(parent.clone());
        }
        parent.push(known.name.to_owned());
        let found = home_of(name, known.children, parent);
        parent.pop();
        if found.is_some() {
            return found;
        }
    }
    None
}

fn wrong_type(path: &[String], expected: &str, value: &Value, problems: &mut Problems) {
    let message = format!(
        "`{}` must be {expected}, found {}",
        dotted(path),
        found(value)
    );
    problems.error(path, At::Value, message);
}

/// What a value is, in a few words.
pub(super) fn found(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(flag) => format!("`{flag}`"),
        Value::Number(number) => format!("`{number}`"),
        Value::String(text) if text.chars().count() <= 40 && !text.contains('\n') => {
            format!("a string (`{text}`)")
        }
        Value::String(_) => "a string".to_owned(),
        Value::Sequence(_) => "a list".to_owned(),
        Value::Mapping(_) => "a mapping".to_owned(),
        Value::Tagged(_) => "a tagged value".to_owned(),
    }
}

/// A mapping key as text (keys are meant to be plain words).
fn key_text(key: &Value) -> String {
    match key {
        Value::String(text) => text.clone(),
        other => serde_yaml::to_string(other)
            .map(|text| text.trim_end().to_owned())
            .unwrap_or_default(),
    }
}

/// Whether a value deserializes as `T`.
fn fits<T: DeserializeOwned>(value: &Value) -> bool {
    serde_yaml::from_value::<T>(value.clone()).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;
    use crate::campaign::schema::campaign_schema;

    /// The names a level of the schema knows, following `$ref`s.
    fn schema_keys(schema: &serde_json::Value, level: &serde_json::Value) -> Vec<String> {
        let level = match level.get("$ref").and_then(|r| r.as_str()) {
            Some(reference) => &schema["$defs"][reference.trim_start_matches("#/$defs/")],
            None => level,
        };
        let mut names: Vec<String> = level["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    fn table_keys(keys: &[Key]) -> Vec<String> {
        let mut names: Vec<String> = keys.iter().map(|k| k.name.to_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn tables_match_the_raw_types() {
        let schema = campaign_schema();
        let top = &schema;
        assert_eq!(table_keys(TOP), schema_keys(&schema, top));
        for (name, keys) in [("audience", AUDIENCE), ("message", MESSAGE), ("send", SEND)] {
            assert_eq!(
                table_keys(keys),
                schema_keys(&schema, &top["properties"][name]),
                "{name}"
            );
        }
        let send = &schema["$defs"]["Send"];
        assert_eq!(
            table_keys(ERROR_BUDGET),
            schema_keys(&schema, &send["properties"]["error_budget"])
        );
    }

    #[test]
    fn finds_where_a_key_belongs() {
        assert_eq!(
            home_of("rate", TOP, &mut Vec::new()),
            Some(vec!["send".to_owned()])
        );
        assert_eq!(home_of("nope", TOP, &mut Vec::new()), None);
    }

    #[test]
    fn describes_what_was_found() {
        assert_eq!(found(&Value::String("42".into())), "a string (`42`)");
        assert_eq!(found(&Value::Null), "nothing");
    }
}
