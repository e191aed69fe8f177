//! Suppression lists: CSV files of numbers that must never be texted.
//!
//! A suppression file is a CSV with a `phone` (or `number`, `mobile`) column; without one
//! its first column is used, and a file with no header at all (just numbers) works too.
//! Every problem is an error, never a warning: a number that cannot be read is a person who
//! asked not to be texted and might be. This module only builds the set; leaving suppressed
//! recipients out of a plan is the plan's job.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::recipients::csv::{CsvError, CsvReader, Record};
use crate::recipients::phone::{Phone, PhoneError, Region};

/// Header names that mark the phone column, compared case-insensitively.
const PHONE_HEADERS: [&str; 3] = ["phone", "number", "mobile"];

/// The numbers never to text, from every suppression file.
#[derive(Debug, Clone, Default)]
pub struct SuppressionSet {
    numbers: HashSet<u64>,
}

impl SuppressionSet {
    /// Whether `phone` is suppressed.
    pub fn contains(&self, phone: &Phone) -> bool {
        self.numbers.contains(&phone.as_u64())
    }

    /// Adds `phone`; returns whether it was new.
    pub fn insert(&mut self, phone: &Phone) -> bool {
        self.numbers.insert(phone.as_u64())
    }

    /// How many distinct numbers are suppressed.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// Whether no number is suppressed.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }
}

/// Reads every suppression file, reading numbers without a country code in `region`.
///
/// Returns every problem in every file, not just the first.
pub fn load_suppressions(
    paths: &[PathBuf],
    region: Region,
) -> Result<SuppressionSet, Vec<Diagnostic>> {
    let mut set = SuppressionSet::default();
    let mut problems = Vec::new();
    for path in paths {
        load_file(path, region, &mut set, &mut problems);
    }

    if problems.is_empty() {
        Ok(set)
    } else {
        Err(problems)
    }
}

fn load_file(
    path: &Path,
    region: Region,
    set: &mut SuppressionSet,
    problems: &mut Vec<Diagnostic>,
) {
    let mut csv = match CsvReader::open(path, None) {
        Ok(csv) => csv,
        Err(error) => return problems.push(error.to_diagnostic(path)),
    };
    let column = phone_column(csv.headers());

    // A file of bare numbers has no header: its first "header" is a number to suppress.
    if let Some(Ok(phone)) = csv
        .headers()
        .get(column)
        .map(|cell| Phone::parse(cell, region))
    {
        set.insert(&phone);
    }

    let mut record = Record::default();
    loop {
        match csv.read(&mut record) {
            Ok(true) => add_cell(path, &record, column, region, set, problems),
            Ok(false) => return,
            Err(error @ CsvError::Io { .. }) => return problems.push(error.to_diagnostic(path)),
            Err(error) => problems.push(error.to_diagnostic(path)),
        }
    }
}

/// The column named like a phone column, else the first one.
fn phone_column(headers: &[String]) -> usize {
    headers
        .iter()
        .position(|name| {
            PHONE_HEADERS
                .iter()
                .any(|known| name.eq_ignore_ascii_case(known))
        })
        .unwrap_or(0)
}

fn add_cell(
    path: &Path,
    record: &Record,
    column: usize,
    region: Region,
    set: &mut SuppressionSet,
    problems: &mut Vec<Diagnostic>,
) {
    match Phone::parse(record.get(column), region) {
        Ok(phone) => {
            set.insert(&phone);
        }
        // A blank cell names nobody; there is nothing to suppress.
        Err(PhoneError::Empty) => {}
        Err(error) => problems.push(
            Diagnostic::error(path, format!("suppression list: {error}"))
                .at_line(record.line as usize, None)
                .with_hint(error.hint().unwrap_or(
                    "fix or remove the number: every entry of a suppression list must be read",
                )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(text.as_bytes()).expect("write");
        file
    }

    fn phone(text: &str) -> Phone {
        Phone::parse(text, Region::US).expect("valid phone")
    }

    #[test]
    fn reads_the_phone_column_from_every_file() {
        let first = file("name,Mobile\nAnn,(510) 555-3344\nBob,+44 20 7946 0958\n");
        let second = file("phone;note\n415.555.0101;asked by email\n");
        let paths = [first.path().to_path_buf(), second.path().to_path_buf()];

        let set = load_suppressions(&paths, Region::US).expect("loads");
        assert_eq!(set.len(), 3);
        assert!(set.contains(&phone("+1 510 555 3344")));
        assert!(set.contains(&phone("+44 20 7946 0958")));
        assert!(set.contains(&phone("4155550101")));
        assert!(!set.contains(&phone("4155550102")));
    }

    #[test]
    fn uses_the_first_column_and_reads_files_without_a_header() {
        let named = file("contact,reason\n5105553344,stop\n");
        let bare = file("4155550101\n4155550102\n\n");
        let paths = [named.path().to_path_buf(), bare.path().to_path_buf()];

        let set = load_suppressions(&paths, Region::US).expect("loads");
        assert_eq!(set.len(), 3);
        assert!(set.contains(&phone("4155550101")));
    }

    #[test]
    fn every_bad_number_and_missing_file_is_an_error() {
        let bad = file("phone\n5105553344\nnot a number\n\n1.5105E+10\n");
        let missing = PathBuf::from("/nonexistent/suppress.csv");
        let paths = [bad.path().to_path_buf(), missing];

        let problems = load_suppressions(&paths, Region::US).expect_err("errors");
        let summary: Vec<(Option<usize>, &str)> = problems
            .iter()
            .map(|d| (d.span.map(|s| s.line), d.message.as_str()))
            .collect();
        assert_eq!(summary.len(), 3, "{summary:?}");
        assert_eq!(summary[0].0, Some(3));
        assert!(summary[0].1.contains("unexpected character"));
        assert_eq!(summary[1].0, Some(5));
        assert_eq!(
            problems[1].hint.as_deref(),
            Some("format the column as text in the spreadsheet")
        );
        assert!(
            summary[2]
                .1
                .starts_with("cannot read `/nonexistent/suppress.csv`")
        );
    }
}
