//! The loader's notebook: every problem found in one campaign file, each pointed at the key
//! or value it is about.
//!
//! Checks name a key path (`["send", "rate"]`) and say whether the key or its value is at
//! fault; this module turns that into a `file:line:col` [`Diagnostic`]. A path that is not
//! written in the file (a missing key) points at its nearest written parent, or at the file.

use std::path::Path;

use crate::campaign::locate::{Locations, Spot};
use crate::diagnostic::Diagnostic;

/// Which part of a `key: value` pair a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum At {
    Key,
    Value,
}

/// Every problem found so far in one file.
#[derive(Debug)]
pub(super) struct Problems<'a> {
    pub file: &'a Path,
    pub source: &'a str,
    pub locations: Locations,
    pub diagnostics: Vec<Diagnostic>,
    /// Keys already reported as unknown or wrongly typed (and so left out of the raw
    /// campaign): later checks must not report them again as missing.
    reported: Vec<Vec<String>>,
}

/// A problem just noted, which may still get a hint.
#[derive(Debug)]
pub(super) struct Noted<'p>(&'p mut Diagnostic);

impl Noted<'_> {
    /// Adds the fix, shown on a `hint:` line.
    pub fn hint(self, hint: impl Into<String>) {
        self.0.hint = Some(hint.into());
    }
}

impl<'a> Problems<'a> {
    pub fn new(file: &'a Path, source: &'a str, locations: Locations) -> Self {
        Problems {
            file,
            source,
            locations,
            diagnostics: Vec::new(),
            reported: Vec::new(),
        }
    }

    /// Remembers that the key at `path` was reported and left out.
    pub fn mark_reported<S: AsRef<str>>(&mut self, path: &[S]) {
        let path = path.iter().map(|part| part.as_ref().to_owned()).collect();
        self.reported.push(path);
    }

    /// Whether the key at `path` was reported and left out.
    pub fn is_reported<S: AsRef<str>>(&self, path: &[S]) -> bool {
        self.reported.iter().any(|reported| {
            reported.len() == path.len() && reported.iter().zip(path).all(|(a, b)| a == b.as_ref())
        })
    }

    /// Notes an error about the key or value at `path`.
    pub fn error<S: AsRef<str>>(
        &mut self,
        path: &[S],
        at: At,
        message: impl Into<String>,
    ) -> Noted<'_> {
        let diagnostic = self.place(Diagnostic::error(self.file, message), path, at);
        self.push(diagnostic)
    }

    /// Notes a warning about the key or value at `path`.
    pub fn warning<S: AsRef<str>>(
        &mut self,
        path: &[S],
        at: At,
        message: impl Into<String>,
    ) -> Noted<'_> {
        let diagnostic = self.place(Diagnostic::warning(self.file, message), path, at);
        self.push(diagnostic)
    }

    /// Notes an error about the file as a whole.
    pub fn error_in_file(&mut self, message: impl Into<String>) -> Noted<'_> {
        let diagnostic = Diagnostic::error(self.file, message);
        self.push(diagnostic)
    }

    /// Notes an error at a known line and column.
    pub fn error_at(
        &mut self,
        line: usize,
        col: usize,
        len: usize,
        message: impl Into<String>,
    ) -> Noted<'_> {
        let diagnostic = Diagnostic::error(self.file, message).at(self.source, line, col, len);
        self.push(diagnostic)
    }

    /// Whether any error (not a warning) was noted.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Where `path` is written, if it is.
    pub fn spot<S: AsRef<str>>(&self, path: &[S]) -> Option<Spot> {
        self.locations.get(path).copied()
    }

    fn push(&mut self, diagnostic: Diagnostic) -> Noted<'_> {
        self.diagnostics.push(diagnostic);
        let last = self.diagnostics.len() - 1;
        Noted(&mut self.diagnostics[last])
    }

    /// Points a diagnostic at `path`, or at its nearest written parent's key.
    fn place<S: AsRef<str>>(&self, diagnostic: Diagnostic, path: &[S], at: At) -> Diagnostic {
        let written = (1..=path.len())
            .rev()
            .find_map(|len| Some((len, self.locations.get(&path[..len])?)));

        match written {
            Some((len, spot)) if len == path.len() && at == At::Value => {
                let width = spot.value_len;
                diagnostic.at(self.source, spot.value.line, spot.value.col, width)
            }
            Some((_, spot)) => {
                // A list item has no key: its value is underlined instead.
                let width = if spot.key_len > 0 {
                    spot.key_len
                } else {
                    spot.value_len
                };
                diagnostic.at(self.source, spot.key.line, spot.key.col, width)
            }
            None => diagnostic,
        }
    }
}

/// `audience.group[2]`: a key path as the user would write it in prose.
pub(super) fn dotted<S: AsRef<str>>(path: &[S]) -> String {
    let mut text = String::new();
    for part in path {
        let part = part.as_ref();
        if part.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
            text.push_str(&format!("[{part}]"));
        } else {
            if !text.is_empty() {
                text.push('.');
            }
            text.push_str(part);
        }
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    fn problems(source: &str) -> Problems<'_> {
        let locations = Locations::scan(source).unwrap();
        Problems::new(Path::new("c.yaml"), source, locations)
    }

    #[test]
    fn points_at_the_value() {
        let mut problems = problems("send:\n  rate: 9000/min\n");
        problems.error(&["send", "rate"], At::Value, "too fast");
        assert_eq!(problems.diagnostics[0].location(), "c.yaml:2:9");
        assert_eq!(problems.diagnostics[0].span.unwrap().len, 8);
    }

    #[test]
    fn a_missing_key_points_at_its_parent() {
        let mut problems = problems("version: 1\naudience:\n  list: 1\n");
        problems
            .error(&["audience", "recipients"], At::Value, "missing")
            .hint("add it");
        let diagnostic = &problems.diagnostics[0];
        assert_eq!(diagnostic.location(), "c.yaml:2:1");
        assert_eq!(diagnostic.hint.as_deref(), Some("add it"));
    }

    #[test]
    fn a_key_nowhere_in_the_file_has_no_position() {
        let mut problems = problems("version: 1\n");
        problems.error(&["inbox"], At::Key, "missing `inbox`");
        assert_eq!(problems.diagnostics[0].location(), "c.yaml");
    }

    #[test]
    fn writes_paths_as_prose() {
        assert_eq!(dotted(&["audience", "group", "2"]), "audience.group[2]");
        assert_eq!(dotted(&["send", "rate"]), "send.rate");
    }
}
