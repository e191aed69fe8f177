//! Colour for people, plain text for pipes: one switch, decided once.
//!
//! Colour is on only when the stream is a terminal and `NO_COLOR` is unset.

use std::io::IsTerminal;

/// Wraps text in ANSI colours when enabled.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    enabled: bool,
}

impl Style {
    /// Colour for stdout, if it is a terminal and `NO_COLOR` is not set.
    pub fn for_stdout() -> Self {
        Self::new(std::io::stdout().is_terminal())
    }

    /// Colour for stderr, if it is a terminal and `NO_COLOR` is not set.
    pub fn for_stderr() -> Self {
        Self::new(std::io::stderr().is_terminal())
    }

    fn new(is_terminal: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        Self {
            enabled: is_terminal && !no_color,
        }
    }

    /// No colour at all (files, Markdown, tests).
    pub fn plain() -> Self {
        Self { enabled: false }
    }

    fn paint(self, code: &str, text: &str) -> String {
        match self.enabled {
            true => format!("\x1b[{code}m{text}\x1b[0m"),
            false => text.to_owned(),
        }
    }

    pub fn green(self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }

    pub fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}
