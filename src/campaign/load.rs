//! Turning a campaign file into a validated [`Campaign`], reporting every problem in it.
//!
//! The stages, one file each: `document` reads the YAML (syntax, tabs, duplicate keys),
//! `keys` checks every key and value type against the known keys of its level, then the
//! typed [`RawCampaign`] is validated section by section (`audience`, `message`, `send`).
//! Every problem becomes a [`Diagnostic`] at `file:line:col`; a campaign is returned only
//! when there is no error. Recipient CSVs and suppression lists are located, never read.

mod audience;
mod document;
mod keys;
mod message;
mod problems;
mod send;

#[cfg(test)]
mod tests;

use std::path::Path;

use serde_yaml::Value;

use self::problems::{At, Problems, dotted};
use super::locate::Locations;
use super::raw::{RawCampaign, RawPhone};
use super::{Audience, Campaign};
use crate::diagnostic::Diagnostic;
use crate::recipients::phone::{Phone, Region};

/// The longest campaign name, so a `local_id` built from it stays short.
const MAX_NAME_LEN: usize = 63;

/// The outcome of loading one campaign file.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated campaign, present only when no diagnostic is an error.
    pub campaign: Option<Campaign>,
    /// Every error and warning, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// The file's text, for callers that show more of it.
    pub source: String,
}

/// Reads and validates the campaign file at `path`.
pub fn load(path: &Path) -> Loaded {
    match crate::text_file::read(path) {
        Ok(source) => load_str(path, &source),
        Err(err) => Loaded {
            campaign: None,
            diagnostics: vec![
                Diagnostic::error(path, format!("cannot read the campaign file: {err}"))
                    .with_hint(read_hint(&err)),
            ],
            source: String::new(),
        },
    }
}

/// The fix for a file that cannot be read: a wrong path, or bytes that are not UTF-8 text.
fn read_hint(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::InvalidData => {
            "a campaign file is UTF-8 text: save it as UTF-8, or check it is the file you meant"
        }
        std::io::ErrorKind::FileTooLarge => {
            "a campaign file is a few kilobytes of YAML: check it is the file you meant"
        }
        _ => "check the path; it is relative to the current directory",
    }
}

/// Validates `source` as the campaign file at `path` (relative paths resolve from its folder).
pub fn load_str(path: &Path, source: &str) -> Loaded {
    let locations = Locations::scan(source).unwrap_or_default();
    let mut problems = Problems::new(path, source, locations);
    let campaign = check(&mut problems).filter(|_| !problems.has_errors());

    // Checks run section by section; the user reads the file top to bottom.
    let mut diagnostics = problems.diagnostics;
    diagnostics.sort_by_key(|diagnostic| diagnostic.span.map(|span| (span.line, span.col)));
    Loaded {
        campaign,
        diagnostics,
        source: source.to_owned(),
    }
}

fn check(problems: &mut Problems) -> Option<Campaign> {
    let mut document = document::parse(problems)?;
    if keys::is_email(&document, problems) {
        return None;
    }
    keys::check(&mut document, problems);

    let raw = match serde_yaml::from_value::<RawCampaign>(Value::Mapping(document)) {
        Ok(raw) => raw,
        Err(err) => {
            problems.error_in_file(format!("the campaign file does not fit its schema: {err}"));
            return None;
        }
    };
    document::check_version(raw.version, problems);
    build(raw, problems)
}

/// Validates each section; every problem is noted before giving up.
fn build(raw: RawCampaign, problems: &mut Problems) -> Option<Campaign> {
    let folder = problems
        .file
        .parent()
        .unwrap_or(Path::new(""))
        .to_path_buf();

    let mut missing = Vec::new();
    let name = required(raw.name, "name", &mut missing, problems);
    let inbox = required(raw.inbox, "inbox", &mut missing, problems);
    let creator = required(raw.creator, "creator", &mut missing, problems);
    let raw_audience = required(raw.audience, "audience", &mut missing, problems);
    let raw_message = required(raw.message, "message", &mut missing, problems);
    report_missing(&missing, problems);
    let name = name.and_then(|name| slug(name, problems));

    let region_code = raw_audience.as_ref().and_then(|a| a.default_region.clone());
    let region = region(region_code.as_deref(), problems);
    let inbox_phone = (raw.inbox_phone.as_ref())
        .and_then(|phone| read_phone(phone, region, &["inbox_phone"], problems));

    let audience = raw_audience
        .and_then(|raw| audience::build(raw, region, inbox_phone.as_ref(), &folder, problems));
    let is_csv = audience
        .as_ref()
        .map(|a| matches!(a, Audience::Recipients(_)));
    let message = raw_message.and_then(|raw| message::build(raw, is_csv, &folder, problems));
    let send = send::build(raw.send.unwrap_or_default(), problems);

    Some(Campaign {
        path: problems.file.to_path_buf(),
        name: name?,
        inbox: inbox?.get(),
        creator: creator?.get(),
        inbox_phone,
        audience: audience?,
        message: message?,
        vars: raw.vars.unwrap_or_default(),
        send: send?,
    })
}

/// A required top-level key's value; its name joins `missing` when it is absent (unless the
/// key pass already reported it as misspelt or wrongly typed).
fn required<T>(
    value: Option<T>,
    key: &'static str,
    missing: &mut Vec<&'static str>,
    problems: &Problems,
) -> Option<T> {
    if value.is_none() && !problems.is_reported(&[key]) {
        missing.push(key);
    }
    value
}

/// One error naming every missing required key.
fn report_missing(missing: &[&str], problems: &mut Problems) {
    let names: Vec<String> = missing.iter().map(|key| format!("`{key}`")).collect();
    let (message, hint) = match names.as_slice() {
        [] => return,
        [one] => (
            format!("missing required key {one}"),
            format!("add a top-level {one} key"),
        ),
        [init @ .., last] => (
            format!("missing required keys {} and {last}", init.join(", ")),
            "add them as top-level keys".to_owned(),
        ),
    };
    problems.error_in_file(message).hint(hint);
}

/// Checks the name's slug rule, suggesting a slug made from it.
fn slug(name: String, problems: &mut Problems) -> Option<String> {
    if is_slug(&name) {
        return Some(name);
    }
    // A suggestion from a name with non-ASCII letters would lose them, so none is made.
    let suggestion = Some(slugify(&name)).filter(|slug| name.is_ascii() && is_slug(slug));
    let hint = match suggestion {
        Some(slug) => format!("try `name: {slug}`"),
        None => "use lowercase letters, digits and `-`, starting with a letter or digit".to_owned(),
    };
    let message = format!(
        "`name` must be a slug of at most {MAX_NAME_LEN} characters (`a-z`, `0-9`, `-`), \
         found `{name}`"
    );
    problems.error(&["name"], At::Value, message).hint(hint);
    None
}

fn is_slug(name: &str) -> bool {
    let bytes = name.as_bytes();
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    let starts_well = bytes.first().is_some_and(|b| *b != b'-' && allowed(b));
    starts_well && bytes.len() <= MAX_NAME_LEN && bytes.iter().all(allowed)
}

/// `Spring Sale 2026!` becomes `spring-sale-2026`.
fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    slug.chars()
        .take(MAX_NAME_LEN)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// The default region for numbers written without a country code (`US` unless given).
fn region(code: Option<&str>, problems: &mut Problems) -> Region {
    let Some(code) = code else {
        return Region::US;
    };
    parse_region(code).unwrap_or_else(|| {
        let message = format!(
            "`audience.default_region` must be a two-letter country code such as `US`, \
             found `{code}`"
        );
        problems
            .error(&["audience", "default_region"], At::Value, message)
            .hint("use the ISO 3166 code of the country the numbers belong to");
        Region::US
    })
}

/// The one place a region code from the campaign file becomes a [`Region`].
fn parse_region(code: &str) -> Option<Region> {
    Region::parse(code).ok()
}

/// Reads a number written in the campaign file, noting it at `path` when it is not one.
fn read_phone<S: AsRef<str>>(
    raw: &RawPhone,
    region: Region,
    path: &[S],
    problems: &mut Problems,
) -> Option<Phone> {
    let text = match raw {
        RawPhone::Text(text) => text.clone(),
        RawPhone::Digits(digits) => digits.to_string(),
    };
    let phone = parse_phone(&text, region);
    if phone.is_none() {
        problems
            .error(
                path,
                At::Value,
                format!("`{}` is not a phone number: `{text}`", dotted(path)),
            )
            .hint("write it with its country code, such as `+15105553344`");
    }
    phone
}

/// The one place a number from the campaign file becomes a [`Phone`]: `+1 (510) 555-3344`,
/// `510-555-3344` (North America) and `15105553344` all give `15105553344`.
fn parse_phone(text: &str, region: Region) -> Option<Phone> {
    Phone::parse(text, region).ok()
}
