//! Secrets never reach any output: every command at `-vvv` with known credentials, then a
//! search for them in stdout, stderr, plans, reports, the journal and the sandbox log.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::sandbox_proc::{Case, campaign, csv_of, run};

const SECRET_ID: &str = "sid-known-4411";
const SECRET_KEY: &str = "key-known-9f3a7c1e";
const API_KEY: &str = "legacy-known-5d2b8e";

/// A sandbox child that accepts the known credentials; killed when dropped.
struct Sandbox {
    child: Child,
    base_url: String,
}

impl Sandbox {
    fn start(log: &Path) -> Sandbox {
        let mut child = campaign()
            .args(["sandbox", "--port", "0", "--log"])
            .arg(log)
            .env("HEYMARKET_SECRET_ID", SECRET_ID)
            .env("HEYMARKET_SECRET_KEY", SECRET_KEY)
            .env("HEYMARKET_API_KEY", API_KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the sandbox");
        let stdout = child.stdout.take().expect("sandbox stdout");
        let line = BufReader::new(stdout)
            .lines()
            .next()
            .expect("a line")
            .expect("read it");
        let base_url = line
            .strip_prefix("export HEYMARKET_BASE_URL=")
            .expect("the base URL")
            .to_owned();
        Sandbox { child, base_url }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `campaign -vvv ARGS` with credentials of the given kind in its environment.
fn verbose(case: &Case, sandbox: &Sandbox, legacy: bool, args: &[&str]) -> String {
    let mut command: Command = campaign();
    command
        .arg("-vvv")
        .args(args)
        .current_dir(case.path("."))
        .env("HEYMARKET_BASE_URL", &sandbox.base_url);
    match legacy {
        true => command.env("HEYMARKET_API_KEY", API_KEY),
        false => command
            .env("HEYMARKET_SECRET_ID", SECRET_ID)
            .env("HEYMARKET_SECRET_KEY", SECRET_KEY),
    };
    let output = run(&mut command);
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every file below `dir`, as bytes.
fn files_below(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match path.is_dir() {
            true => found.extend(files_below(&path)),
            false => found.push((
                path.display().to_string(),
                std::fs::read(&path).unwrap_or_default(),
            )),
        }
    }
    found
}

fn assert_no_secret(place: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    for secret in [SECRET_KEY, API_KEY] {
        assert!(!text.contains(secret), "{place} holds a credential");
    }
    // A JWT starts with the base64 of `{"alg"` or `{"typ"`.
    assert!(
        !text.contains("eyJ0eXAi") && !text.contains("eyJhbGci"),
        "{place} holds a token"
    );
}

#[test]
// Proves no command, at the highest verbosity, leaks a secret key, API key or signed token.
fn no_output_or_file_holds_a_secret() {
    let case = Case::recipients("  window: always\n  rate: 500/min\n", &csv_of(4));
    let sandbox = Sandbox::start(&case.path("sent.jsonl"));
    let mut outputs = Vec::new();

    for legacy in [false, true] {
        outputs.push(verbose(
            &case,
            &sandbox,
            legacy,
            &["validate", "campaign.yaml"],
        ));
        outputs.push(verbose(
            &case,
            &sandbox,
            legacy,
            &["plan", "campaign.yaml", "--markdown", "plan.md"],
        ));
        outputs.push(verbose(
            &case,
            &sandbox,
            legacy,
            &["plan", "campaign.yaml", "--json", "--out", "saved.plan"],
        ));
        outputs.push(verbose(&case, &sandbox, legacy, &["show", "saved.plan"]));
        outputs.push(verbose(
            &case,
            &sandbox,
            legacy,
            &[
                "apply",
                "campaign.yaml",
                "--auto-approve",
                "--state-dir",
                "state",
                "--report",
                "report",
            ],
        ));
        outputs.push(verbose(
            &case,
            &sandbox,
            legacy,
            &[
                "apply",
                "saved.plan",
                "--json",
                "--state-dir",
                "state",
                "--report",
                "report2",
            ],
        ));
        outputs.push(verbose(
            &case,
            &sandbox,
            legacy,
            &[
                "status",
                "campaign.yaml",
                "--state-dir",
                "state",
                "--settle",
                "--json",
            ],
        ));
    }
    assert!(
        outputs
            .iter()
            .any(|output| output.contains("TRACE") || output.contains("DEBUG")),
        "-vvv logged"
    );

    for (index, output) in outputs.iter().enumerate() {
        assert_no_secret(&format!("the output of command {index}"), output.as_bytes());
    }
    let files = files_below(&case.path("."));
    assert!(
        files.iter().any(|(name, _)| name.ends_with("results.csv")),
        "reports were written"
    );
    for (name, bytes) in &files {
        assert_no_secret(name, bytes);
    }
}
