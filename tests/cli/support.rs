//! The fluent helper every CLI test uses: run the real `campaign` binary offline and check
//! its exit code and output, plus scratch directories for campaign files and CSVs.
//!
//! Every run starts from a clean slate: colour off, no Heymarket credentials, no GitHub
//! Actions variables, so a test behaves the same on a laptop, in CI and inside a workflow.
//! This module knows nothing about what a campaign means; the test files say that.

#![allow(
    dead_code,
    reason = "each test module uses a different subset of the helpers"
)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// Variables that would make a run online, coloured or annotated if inherited.
const SCRUBBED_ENV: &[&str] = &[
    "HEYMARKET_SECRET_ID",
    "HEYMARKET_SECRET_KEY",
    "HEYMARKET_API_KEY",
    "HEYMARKET_BASE_URL",
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
    "CAMPAIGN_STATE_DIR",
    "RUST_LOG",
    "CLICOLOR_FORCE",
];

/// The campaign file header every scratch campaign shares: version, name, inbox, creator.
pub const HEADER: &str = "version: 1\nname: test-campaign\ninbox: 42\ncreator: 7\n";

/// The repository root: example campaigns and schemas are found from here.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One invocation of the binary, built up before it runs.
#[derive(Debug)]
pub struct Run {
    command: Command,
    args: Vec<String>,
}

impl Run {
    /// `campaign ARGS...`, run from the repository root unless [`Run::dir`] says otherwise.
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::cargo_bin("campaign").expect("the campaign binary is built");
        let mut shown = Vec::new();
        for arg in args {
            shown.push(arg.as_ref().to_string_lossy().into_owned());
            command.arg(arg);
        }
        for name in SCRUBBED_ENV {
            command.env_remove(name);
        }
        command.env("NO_COLOR", "1").current_dir(repo());
        Self {
            command,
            args: shown,
        }
    }

    /// Sets one environment variable for this run.
    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Runs from `dir` instead of the repository root.
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Runs the binary to the end and captures what it printed.
    pub fn run(mut self) -> Outcome {
        let output = self.command.output().expect("the campaign binary runs");
        Outcome {
            args: self.args.join(" "),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// What one run printed and how it ended; each check panics with the whole output.
#[derive(Debug)]
pub struct Outcome {
    args: String,
    code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// The exit code must be `expected`.
    pub fn code(self, expected: i32) -> Self {
        if self.code != Some(expected) {
            self.fail(&format!(
                "expected exit code {expected}, got {:?}",
                self.code
            ));
        }
        self
    }

    /// stdout must contain `needle`.
    pub fn stdout_has(self, needle: &str) -> Self {
        if !self.stdout.contains(needle) {
            self.fail(&format!("stdout lacks {needle:?}"));
        }
        self
    }

    /// stdout must not contain `needle`.
    pub fn stdout_lacks(self, needle: &str) -> Self {
        if self.stdout.contains(needle) {
            self.fail(&format!("stdout has {needle:?}"));
        }
        self
    }

    /// stderr must contain `needle`.
    pub fn stderr_has(self, needle: &str) -> Self {
        if !self.stderr.contains(needle) {
            self.fail(&format!("stderr lacks {needle:?}"));
        }
        self
    }

    /// stderr must not contain `needle`.
    pub fn stderr_lacks(self, needle: &str) -> Self {
        if self.stderr.contains(needle) {
            self.fail(&format!("stderr has {needle:?}"));
        }
        self
    }

    /// stdout parsed as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| self.fail(&format!("stdout is not one JSON document: {error}")))
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "`campaign {}`: {what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args, self.stdout, self.stderr
        )
    }
}

/// A temporary directory holding one test's campaign files and CSVs.
#[derive(Debug)]
pub struct Scratch {
    dir: TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `name` inside the directory, byte for byte.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("the scratch file is written");
        path
    }

    /// Writes `campaign.yaml` ([`HEADER`] then `body`) and its `people.csv`.
    pub fn campaign(&self, body: &str, csv: impl AsRef<[u8]>) -> PathBuf {
        self.file("people.csv", csv);
        self.file("campaign.yaml", format!("{HEADER}{body}"))
    }

    /// A campaign sending `text` to the rows of `people.csv`, with `audience` lines added.
    pub fn recipients(&self, audience: &str, text: &str, csv: impl AsRef<[u8]>) -> PathBuf {
        let body =
            format!("audience:\n  recipients: people.csv\n{audience}message:\n  text: {text:?}\n");
        self.campaign(&body, csv)
    }
}

/// Whether `text` shows the subscriber part (last seven digits) of `phone` anywhere, even
/// split by the spaces, dashes, dots or brackets people write numbers with.
pub fn shows_phone(text: &str, phone: &str) -> bool {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let subscriber = &digits[digits.len().saturating_sub(7)..];
    digit_runs(text).iter().any(|run| run.contains(subscriber))
}

/// Runs of digits, joined across the separators a written phone number uses.
fn digit_runs(text: &str) -> Vec<String> {
    let mut runs = vec![String::new()];
    for c in text.chars() {
        match c {
            '0'..='9' => runs.last_mut().expect("one run at least").push(c),
            ' ' | '-' | '.' | '(' | ')' | '+' => {}
            _ => runs.push(String::new()),
        }
    }
    runs
}

/// The `messages` array of a `plan --json` document.
pub fn messages(plan: &Value) -> &Vec<Value> {
    plan["messages"]
        .as_array()
        .expect("the plan has a `messages` array")
}
