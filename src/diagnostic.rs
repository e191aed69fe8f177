//! Problems found in user input, located at `file:line:col` and rendered in one voice.
//!
//! Every stage that reads a file the user wrote (the campaign file, a recipient CSV, a
//! template, a suppression list) reports through [`Diagnostic`], so that `validate`, `plan`
//! and the GitHub annotations all say the same thing the same way. This module only formats;
//! it never decides what is wrong.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a problem is: errors stop a plan, warnings are shown and let it go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A 1-based position in a file, with the width of the offending text (0 when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub len: usize,
}

/// One problem in one file, with an optional fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub span: Option<Span>,
    /// The text of the offending line, shown under the location.
    pub source_line: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error about `file` as a whole.
    pub fn error(file: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, file, message)
    }

    /// A warning about `file` as a whole.
    pub fn warning(file: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, file, message)
    }

    fn new(severity: Severity, file: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self {
            severity,
            file: file.as_ref().to_path_buf(),
            span: None,
            source_line: None,
            message: message.into(),
            hint: None,
        }
    }

    /// Points the problem at `line:col` (1-based) and takes that line's text from `source`.
    pub fn at(mut self, source: &str, line: usize, col: usize, len: usize) -> Self {
        self.span = Some(Span { line, col, len });
        self.source_line = source
            .lines()
            .nth(line.saturating_sub(1))
            .map(|text| text.trim_end_matches('\r').to_owned());
        self
    }

    /// Points the problem at a line whose text the caller already holds (a streamed CSV row).
    pub fn at_line(mut self, line: usize, text: Option<String>) -> Self {
        self.span = Some(Span {
            line,
            col: 1,
            len: 0,
        });
        self.source_line = text;
        self
    }

    /// Adds the fix, shown on a `hint:` line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col`, or just the file when the problem has no position.
    pub fn location(&self) -> String {
        match self.span {
            Some(span) => format!("{}:{}:{}", self.file.display(), span.line, span.col),
            None => self.file.display().to_string(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", self.message)?;
        writeln!(f, "  --> {}", self.location())?;

        if let (Some(span), Some(text)) = (self.span, &self.source_line) {
            let number = span.line.to_string();
            let pad = " ".repeat(number.len());
            let shown = truncate_for_display(text, 160);
            writeln!(f, "{pad} |")?;
            writeln!(f, "{number} | {shown}")?;
            if span.len > 0 && span.col <= shown.chars().count() + 1 {
                let caret = "^".repeat(span.len.min(80));
                writeln!(f, "{pad} | {}{caret}", " ".repeat(span.col - 1))?;
            }
        }

        if let Some(hint) = &self.hint {
            writeln!(f, "  = hint: {hint}")?;
        }
        Ok(())
    }
}

/// Keeps a very long source line (a CSV row, a minified file) from flooding the terminal.
fn truncate_for_display(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.replace('\t', " ");
    }
    let head: String = text.chars().take(max_chars).collect();
    format!("{}…", head.replace('\t', " "))
}

/// Returns the known name closest to `unknown`, when one is close enough to be a typo.
pub fn did_you_mean<'a>(
    unknown: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    known
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(unknown, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_line_caret_and_hint() {
        let source = "version: 1\nnmae: x\n";
        let diagnostic = Diagnostic::error("c.yaml", "unknown key `nmae`")
            .at(source, 2, 1, 4)
            .with_hint("did you mean `name`?");
        let text = diagnostic.to_string();
        assert_eq!(
            text,
            "error: unknown key `nmae`\n  --> c.yaml:2:1\n  |\n2 | nmae: x\n  | ^^^^\n  = hint: did you mean `name`?\n"
        );
    }

    #[test]
    fn suggests_only_close_names() {
        assert_eq!(
            did_you_mean("recipient", ["recipients", "list"]),
            Some("recipients")
        );
        assert_eq!(did_you_mean("zzz", ["recipients", "list"]), None);
    }
}
