//! Helpers for driving `campaign apply` and `campaign status` as child processes against a
//! `campaign sandbox` child on loopback, whose `--log` is the ground truth of what was sent.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// The environment variables a child must never inherit from the developer's shell.
const INHERITED: [&str; 6] = [
    "HEYMARKET_BASE_URL",
    "HEYMARKET_SECRET_ID",
    "HEYMARKET_SECRET_KEY",
    "HEYMARKET_API_KEY",
    "CAMPAIGN_NOW",
    "CAMPAIGN_STATE_DIR",
];

/// A `campaign` command with a clean environment and no colour.
pub fn campaign() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_campaign"));
    for name in INHERITED {
        command.env_remove(name);
    }
    command.env("NO_COLOR", "1").env_remove("GITHUB_ACTIONS");
    command.stdin(Stdio::null());
    command
}

/// A `campaign sandbox` child on a free loopback port; killed when dropped.
#[derive(Debug)]
pub struct SandboxProc {
    child: Child,
    /// `HEYMARKET_BASE_URL`, `HEYMARKET_SECRET_ID` and `HEYMARKET_SECRET_KEY` as printed.
    pub env: BTreeMap<String, String>,
    /// The sandbox's JSONL log of accepted messages.
    pub log: PathBuf,
}

impl SandboxProc {
    /// Starts a sandbox logging to `log`, with extra options such as `--fail-500 0.5`.
    pub fn start(log: &Path, options: &[&str]) -> SandboxProc {
        let mut child = campaign()
            .args(["sandbox", "--port", "0", "--log"])
            .arg(log)
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the sandbox");
        let stdout = child.stdout.take().expect("sandbox stdout");
        let mut env = BTreeMap::new();
        for line in BufReader::new(stdout).lines().take(3) {
            let line = line.expect("read sandbox stdout");
            let (name, value) = line
                .strip_prefix("export ")
                .and_then(|pair| pair.split_once('='))
                .unwrap_or_else(|| panic!("unexpected sandbox line `{line}`"));
            env.insert(name.to_owned(), value.to_owned());
        }
        assert_eq!(
            env.len(),
            3,
            "the sandbox printed its address and credentials"
        );
        SandboxProc {
            child,
            env,
            log: log.to_owned(),
        }
    }

    /// Points `command` at this sandbox.
    pub fn point(&self, command: &mut Command) {
        command.envs(&self.env);
    }

    /// Every accepted message, from the log.
    pub fn messages(&self) -> Vec<Value> {
        read_jsonl(&self.log)
    }
}

impl Drop for SandboxProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One test's folder: the campaign file, its CSV, the state and the reports.
#[derive(Debug)]
pub struct Case {
    pub dir: TempDir,
}

impl Case {
    /// A folder holding `campaign.yaml` with `yaml`.
    pub fn new(yaml: &str) -> Case {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("campaign.yaml"), yaml).expect("write campaign");
        Case { dir }
    }

    /// A folder holding `campaign.yaml` for `recipients.csv` with `send_yaml` as its `send:`
    /// section, and that CSV with the text `csv`.
    pub fn recipients(send_yaml: &str, csv: &str) -> Case {
        let case = Case::new(&recipients_yaml(send_yaml));
        case.write("recipients.csv", csv);
        case
    }

    /// Writes `name` in the folder.
    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write file");
    }

    /// A path in the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The campaign file.
    pub fn campaign_file(&self) -> PathBuf {
        self.path("campaign.yaml")
    }

    /// The report folder of run `run` (each run gets its own).
    pub fn report(&self, run: u32) -> PathBuf {
        self.path(&format!("report-{run}"))
    }

    /// `campaign apply FILE --auto-approve` with this case's state folder and the report of
    /// run `run`.
    pub fn apply(&self, file: &Path, run: u32) -> Command {
        let mut command = campaign();
        command
            .arg("apply")
            .arg(file)
            .arg("--auto-approve")
            .arg("--state-dir")
            .arg(self.path("state"))
            .arg("--report")
            .arg(self.report(run));
        command
    }

    /// `campaign status FILE` with this case's state folder.
    pub fn status(&self) -> Command {
        let mut command = campaign();
        command
            .arg("status")
            .arg(self.campaign_file())
            .arg("--state-dir")
            .arg(self.path("state"));
        command
    }

    /// The rows of run `run`'s `results.json`.
    pub fn results(&self, run: u32) -> Vec<Value> {
        let text =
            std::fs::read_to_string(self.report(run).join("results.json")).expect("results.json");
        let value: Value = serde_json::from_str(&text).expect("results.json is JSON");
        value.as_array().expect("an array of rows").clone()
    }

    /// Run `run`'s report status by phone number (or chat id, or row for a list or group).
    pub fn statuses(&self, run: u32) -> BTreeMap<String, String> {
        self.results(run)
            .iter()
            .map(|row| (row_key(row), text(&row["status"])))
            .collect()
    }
}

/// A campaign to `recipients.csv` (columns `phone`, `first_name` and an optional `timezone`),
/// with `send_yaml` as its `send:` section.
pub fn recipients_yaml(send_yaml: &str) -> String {
    format!(
        "version: 1\nname: test-campaign\ninbox: 42\ncreator: 7\naudience:\n  recipients: recipients.csv\n  phone_column: phone\n  default_region: US\nmessage:\n  text: \"Hi {{{{ first_name }}}}, the sale is on. Reply STOP to opt out.\"\nsend:\n{send_yaml}"
    )
}

/// The `send:` section of a test campaign: no window, no rate limit worth waiting for and an
/// error budget that never halts.
pub const FAST_SEND: &str = "  rate: 500/min\n  window: always\n  error_budget:\n    consecutive_failures: 100000\n    failure_ratio: 1.0\n";

/// A CSV of `count` recipients `+1 510 555 01NN` (from `01NN` = 0100 upwards, skipping the
/// sandbox's inbox, opted-out and blocked numbers).
pub fn csv_of(count: usize) -> String {
    let mut csv = String::from("phone,first_name\n");
    for number in usable_numbers().take(count) {
        csv.push_str(&format!("+1 510 555 {number:04},Name{number}\n"));
    }
    csv
}

/// The E.164 digits of the recipients [`csv_of`] writes.
pub fn phones_of(count: usize) -> Vec<String> {
    usable_numbers()
        .take(count)
        .map(|number| format!("1510555{number:04}"))
        .collect()
}

fn usable_numbers() -> impl Iterator<Item = u32> {
    (101..10_000).filter(|n| ![198, 199].contains(n))
}

/// How a report row names its recipient.
pub fn row_key(row: &Value) -> String {
    match (&row["phone_number"], &row["chat_id"]) {
        (Value::String(phone), _) => phone.clone(),
        (_, Value::Number(chat)) => chat.to_string(),
        _ => format!("row {}", row["row"]),
    }
}

/// A JSON value as text (strings without quotes).
pub fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Every line of a JSONL file; an absent file reads as none.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    let Ok(content) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    content
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// How many messages each phone number got, from sandbox log lines.
pub fn per_phone(messages: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in messages {
        *counts.entry(text(&message["phone_number"])).or_default() += 1;
    }
    counts
}

/// Runs `command` to the end and keeps its output.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("run campaign")
}

/// The exit code, with stderr in the panic message when it is not `expected`.
pub fn assert_exit(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Polls `check` every 20 ms until it holds or `limit` passes; whether it held.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// Sends `signal` (`INT`, `KILL`) to a child.
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} failed");
}
