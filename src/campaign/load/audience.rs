//! The `audience` section: exactly one of a recipient CSV, a Heymarket list or a group.
//!
//! Resolves the CSV and suppression paths against the campaign file's folder but opens
//! neither (the plan reads them), and refuses CSV-only keys on a list or group audience.
//! Group numbers are read here, since they are written in the campaign file itself.

use std::collections::HashMap;
use std::path::Path;

use super::problems::{At, Problems};
use super::read_phone;
use crate::campaign::raw::{RawAudience, RawPhone, RawRowPolicy};
use crate::campaign::{Audience, RecipientsSource, RowPolicy};
use crate::recipients::phone::{Phone, Region};

/// The audience kinds, at most one of them.
const KINDS: [&str; 3] = ["recipients", "list", "group"];

/// Heymarket's group MMS limits.
const GROUP_SIZE: std::ops::RangeInclusive<usize> = 2..=10;

/// Validates the `audience` section; `None` when it holds an error (already noted).
pub(super) fn build(
    raw: RawAudience,
    region: Region,
    inbox_phone: Option<&Phone>,
    folder: &Path,
    problems: &mut Problems,
) -> Option<Audience> {
    let given: Vec<&str> = KINDS
        .into_iter()
        .filter(|kind| match *kind {
            "recipients" => raw.recipients.is_some(),
            "list" => raw.list.is_some(),
            _ => raw.group.is_some(),
        })
        .collect();

    match given.as_slice() {
        [] if KINDS
            .iter()
            .any(|kind| problems.is_reported(&["audience", kind])) =>
        {
            None
        }
        [] => {
            problems
                .error(&["audience"], At::Key, "`audience` names nobody")
                .hint("add `recipients: <file.csv>`, `list: <list id>` or `group: [<numbers>]`");
            None
        }
        [_] => single(raw, region, inbox_phone, folder, problems),
        [first, second, ..] => {
            problems
                .error(
                    &["audience", second],
                    At::Key,
                    format!("`audience` has both `{first}` and `{second}`"),
                )
                .hint("a campaign reaches one audience: keep one of them");
            None
        }
    }
}

fn single(
    raw: RawAudience,
    region: Region,
    inbox_phone: Option<&Phone>,
    folder: &Path,
    problems: &mut Problems,
) -> Option<Audience> {
    if let Some(list_id) = raw.list {
        refuse_csv_keys(&raw, "list", problems);
        return Some(Audience::List {
            list_id: list_id.get(),
        });
    }
    if let Some(numbers) = &raw.group {
        refuse_csv_keys(&raw, "group", problems);
        let targets = group(numbers, region, problems)?;
        refuse_toll_free(inbox_phone, problems)?;
        return Some(Audience::Group { targets });
    }
    recipients(raw, region, folder, problems).map(Audience::Recipients)
}

fn recipients(
    raw: RawAudience,
    region: Region,
    folder: &Path,
    problems: &mut Problems,
) -> Option<RecipientsSource> {
    let csv = raw.recipients?;
    if csv.trim().is_empty() {
        problems
            .error(
                &["audience", "recipients"],
                At::Value,
                "`audience.recipients` is empty",
            )
            .hint("name the recipient CSV, relative to the campaign file's folder");
        return None;
    }

    let suppress = raw
        .suppress
        .map(|paths| paths.into_vec())
        .unwrap_or_default();
    Some(RecipientsSource {
        csv: folder.join(csv),
        phone_column: column(raw.phone_column, "phone_column", "phone", problems)?,
        chat_id_column: column(raw.chat_id_column, "chat_id_column", "chat_id", problems)?,
        timezone_column: column(raw.timezone_column, "timezone_column", "timezone", problems)?,
        default_region: region,
        delimiter: raw.delimiter.map(|delimiter| delimiter.byte()),
        duplicates: row_policy(raw.duplicates),
        invalid_rows: row_policy(raw.invalid_rows),
        suppress: suppress.iter().map(|path| folder.join(path)).collect(),
    })
}

fn column(
    raw: Option<String>,
    key: &str,
    default: &str,
    problems: &mut Problems,
) -> Option<String> {
    let name = raw.unwrap_or_else(|| default.to_owned());
    if name.trim().is_empty() {
        problems
            .error(
                &["audience", key],
                At::Value,
                format!("`audience.{key}` is empty"),
            )
            .hint(format!(
                "name a CSV header, or leave the key out for `{default}`"
            ));
        return None;
    }
    Some(name)
}

fn row_policy(raw: Option<RawRowPolicy>) -> RowPolicy {
    match raw {
        Some(RawRowPolicy::Fail) => RowPolicy::Fail,
        Some(RawRowPolicy::Skip) | None => RowPolicy::Skip,
    }
}

/// Notes each key that only means something for a CSV audience.
fn refuse_csv_keys(raw: &RawAudience, kind: &str, problems: &mut Problems) {
    let present = [
        ("phone_column", raw.phone_column.is_some()),
        ("chat_id_column", raw.chat_id_column.is_some()),
        ("timezone_column", raw.timezone_column.is_some()),
        ("delimiter", raw.delimiter.is_some()),
        ("duplicates", raw.duplicates.is_some()),
        ("invalid_rows", raw.invalid_rows.is_some()),
        ("suppress", raw.suppress.is_some()),
    ];
    for (key, _) in present.iter().filter(|(_, is_set)| *is_set) {
        problems
            .error(
                &["audience", key],
                At::Key,
                format!("`audience.{key}` applies only to a `recipients` CSV"),
            )
            .hint(format!("remove it: a `{kind}` audience has no CSV"));
    }
}

/// Reads 2 to 10 distinct group numbers, noting every bad one.
fn group(numbers: &[RawPhone], region: Region, problems: &mut Problems) -> Option<Vec<Phone>> {
    if !GROUP_SIZE.contains(&numbers.len()) {
        let message = format!("a group needs 2 to 10 numbers, found {}", numbers.len());
        problems
            .error(&["audience", "group"], At::Key, message)
            .hint("a Heymarket group MMS holds 2 to 10 people: use a `recipients` CSV for more");
        return None;
    }

    let mut targets = Vec::with_capacity(numbers.len());
    let mut first_seen: HashMap<Phone, usize> = HashMap::new();
    for (index, number) in numbers.iter().enumerate() {
        let path = ["audience".to_owned(), "group".to_owned(), index.to_string()];
        let Some(phone) = read_phone(number, region, &path, problems) else {
            continue;
        };
        if let Some(first) = first_seen.get(&phone) {
            problems
                .error(
                    &path,
                    At::Value,
                    format!("`audience.group[{index}]` repeats `audience.group[{first}]`"),
                )
                .hint("list each number once");
            continue;
        }
        first_seen.insert(phone, index);
        targets.push(phone);
    }
    (targets.len() == numbers.len()).then_some(targets)
}

/// Refuses a group sent from a toll-free inbox number.
fn refuse_toll_free(inbox_phone: Option<&Phone>, problems: &mut Problems) -> Option<()> {
    let Some(phone) = inbox_phone.filter(|phone| phone.is_toll_free()) else {
        return Some(());
    };
    let message = format!(
        "group MMS cannot be sent from the toll-free inbox number `+{}`",
        phone.digits()
    );
    problems
        .error(&["audience", "group"], At::Key, message)
        .hint(
            "Heymarket refuses group MMS from toll-free numbers: use a 10DLC or short code \
             inbox, or send individually with a `recipients` CSV",
        );
    None
}
