//! The full-disk scenarios: `apply` with its state folder, then its report folder, on a tiny
//! tmpfs that fills partway through the run.
//!
//! A tmpfs needs a mount namespace, and vanishes with it, so each scenario runs whole in one
//! `unshare -rm` script (a user and mount namespace: no real root needed): mount the tmpfs,
//! fill most of it, apply until the disk is full, remove the filler, apply again, and copy
//! out what the tmpfs held. The sandbox's log then judges, as in the crash test: nobody got
//! two messages, and the final report agrees with the log.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::sandbox_proc::{Case, FAST_SEND, SandboxProc, campaign, csv_of, per_phone, read_jsonl};

/// Recipients in each scenario.
const RECIPIENTS: usize = 300;

/// Messages in flight at once: at most this many can be left `unknown` by the full disk.
const CONCURRENCY: usize = 4;

/// The scenario, run inside the namespace. Each `apply` leaves its exit code, stderr and
/// what its first report folder held in `$CASE`; the log as it stood after the first run
/// and the tmpfs's final content are copied there too.
const SCRIPT: &str = r#"
set -eu
mount -t tmpfs -o "size=${DISK_KB}k" campaign-disk "$DISK"
head -c "${FILLER_KB}k" /dev/zero > "$DISK/filler"
apply() {
    set +e
    "$CAMPAIGN" apply "$CASE/campaign.yaml" --auto-approve --rate unlimited \
        --concurrency "$CONCURRENCY" --state-dir "$STATE" --report "$2" \
        > /dev/null 2> "$CASE/$1.stderr"
    echo $? > "$CASE/$1.code"
    set -e
}
apply first "$REPORT_FIRST"
ls -A "$REPORT_FIRST" > "$CASE/first.listing" 2> /dev/null || true
cp "$LOG" "$CASE/first.jsonl"
rm "$DISK/filler"
apply second "$REPORT_SECOND"
cp -R "$DISK/." "$CASE/disk-copy"
"#;

/// Where the tiny disk goes and how much of it the filler leaves free.
struct Disk {
    /// The case folder mounted over: `state` or `reports`.
    mount: &'static str,
    size_kb: u32,
    free_kb: u32,
}

/// Where the two runs keep their journal and reports.
struct Paths {
    state: PathBuf,
    reports: [PathBuf; 2],
}

/// One `apply` inside the scenario.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stderr: String,
}

/// What a scenario left behind.
struct Scenario {
    case: Case,
    sandbox: SandboxProc,
    first: Run,
    second: Run,
    /// The sandbox log as it stood after the first run.
    first_log: Vec<Value>,
    /// What the first run's report folder held after it failed.
    first_listing: String,
}

/// Whether this machine lets us make a user and mount namespace; says why not when it
/// does not.
fn namespaces_work() -> bool {
    match Command::new("unshare").args(["-rm", "true"]).output() {
        Ok(output) if output.status.success() => true,
        Ok(output) => {
            let why = String::from_utf8_lossy(&output.stderr);
            println!("skipped: `unshare -rm true` failed here: {}", why.trim());
            false
        }
        Err(error) => {
            println!("skipped: cannot run `unshare`: {error}");
            false
        }
    }
}

/// Runs the scenario script for a fresh case of [`RECIPIENTS`] against a fresh sandbox.
fn scenario(disk: &Disk, paths: impl Fn(&Case) -> Paths) -> Scenario {
    let case = Case::recipients(FAST_SEND, &csv_of(RECIPIENTS));
    // Without dedupe, a second send of one message shows in the log as a second line.
    let sandbox = SandboxProc::start(
        &case.path("sent.jsonl"),
        &["--rate-limit", "0", "--no-dedupe"],
    );
    let mount = case.path(disk.mount);
    std::fs::create_dir_all(&mount).expect("mount point");
    let paths = paths(&case);

    let mut command = Command::new("unshare");
    copy_env(&campaign(), &mut command);
    sandbox.point(&mut command);
    command
        .args(["-rm", "sh", "-c", SCRIPT, "disk-full"])
        .env("CAMPAIGN", env!("CARGO_BIN_EXE_campaign"))
        .env("CASE", case.dir.path())
        .env("DISK", &mount)
        .env("DISK_KB", disk.size_kb.to_string())
        .env("FILLER_KB", (disk.size_kb - disk.free_kb).to_string())
        .env("CONCURRENCY", CONCURRENCY.to_string())
        .env("STATE", &paths.state)
        .env("REPORT_FIRST", &paths.reports[0])
        .env("REPORT_SECOND", &paths.reports[1])
        .env("LOG", &sandbox.log);
    let output = command.output().expect("run unshare");
    assert!(
        output.status.success(),
        "the scenario script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let first = read_run(&case, "first");
    let second = read_run(&case, "second");
    let first_log = read_jsonl(&case.path("first.jsonl"));
    let first_listing = std::fs::read_to_string(case.path("first.listing")).unwrap_or_default();
    Scenario {
        case,
        sandbox,
        first,
        second,
        first_log,
        first_listing,
    }
}

/// Gives `to` the environment changes of `from`: the clean child environment of `campaign()`.
fn copy_env(from: &Command, to: &mut Command) {
    for (name, value) in from.get_envs() {
        match value {
            Some(value) => to.env(name, value),
            None => to.env_remove(name),
        };
    }
}

fn read_run(case: &Case, name: &str) -> Run {
    let code = std::fs::read_to_string(case.path(&format!("{name}.code"))).expect("exit code");
    Run {
        code: code.trim().parse().ok(),
        stderr: std::fs::read_to_string(case.path(&format!("{name}.stderr"))).expect("stderr"),
    }
}

/// The run failed with our exit code 1, no panic, the OS's words for a full disk, and every
/// one of `needles` (paths and the fix).
fn assert_clear_failure(run: &Run, needles: &[String]) {
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.stderr.contains("No space left on device"),
        "{}",
        run.stderr
    );
    for needle in needles {
        assert!(
            run.stderr.contains(needle.as_str()),
            "`{needle}` in:\n{}",
            run.stderr
        );
    }
}

/// Report statuses by phone number, from a `results.json`.
fn statuses(report: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(report.join("results.json")).expect("results.json");
    let rows: Vec<Value> = serde_json::from_str(&text).expect("results.json is JSON");
    rows.iter()
        .map(|row| {
            let phone = row["phone_number"].as_str().expect("a phone number");
            let status = row["status"].as_str().expect("a status");
            (phone.to_owned(), status.to_owned())
        })
        .collect()
}

/// The report and the log agree: everyone is `sent` or `unknown`, every `sent` recipient is
/// in the log exactly once, nobody in the log is reported unsent, and nobody got two.
fn assert_log_agrees(statuses: &BTreeMap<String, String>, log: &[Value]) {
    let counts = per_phone(log);
    assert_eq!(statuses.len(), RECIPIENTS, "every recipient is reported");
    for (phone, status) in statuses {
        assert!(
            matches!(status.as_str(), "sent" | "unknown"),
            "{phone} is {status}"
        );
        if status == "sent" {
            assert_eq!(
                counts.get(phone),
                Some(&1),
                "{phone} is sent and logged once"
            );
        }
    }
    for (phone, count) in &counts {
        assert_eq!(*count, 1, "{phone} got {count} messages");
        let status = statuses.get(phone).map(String::as_str);
        assert!(
            matches!(status, Some("sent" | "unknown")),
            "{phone} is in the log but reported {status:?}"
        );
    }
}

fn count(statuses: &BTreeMap<String, String>, word: &str) -> usize {
    statuses.values().filter(|status| *status == word).count()
}

#[test]
// Proves a full disk under the journal stops sending at once with a clear error, and that
// freeing space and applying again finishes with nobody lost and nobody sent twice.
fn a_full_state_disk_stops_sending_and_resumes_without_loss() {
    if !namespaces_work() {
        return;
    }
    // 730 KiB free holds the plan and the new journal, and runs out some 100 sends in.
    let disk = Disk {
        mount: "state",
        size_kb: 4096,
        free_kb: 730,
    };
    let s = scenario(&disk, |case| Paths {
        state: case.path("state"),
        reports: [case.report(1), case.report(2)],
    });

    let campaign_dir = s.case.path("state").join("test-campaign");
    assert_clear_failure(
        &s.first,
        &[
            format!("`{}`", campaign_dir.join("journal.redb").display()),
            format!("the disk holding `{}` is full", campaign_dir.display()),
            format!(
                "run the same `campaign apply {}` again to resume",
                s.case.campaign_file().display()
            ),
        ],
    );
    let sent_first = s.first_log.len();
    assert!(
        0 < sent_first && sent_first < RECIPIENTS,
        "the disk filled partway: {sent_first} sent"
    );
    assert!(s.first_listing.is_empty(), "no report: {}", s.first_listing);

    let statuses = statuses(&s.case.report(2));
    let log = s.sandbox.messages();
    assert_log_agrees(&statuses, &log);
    let unknown = count(&statuses, "unknown");
    assert!(unknown <= CONCURRENCY, "{unknown} unknown");
    assert_eq!(
        s.second.code,
        Some(if unknown > 0 { 1 } else { 0 }),
        "{}",
        s.second.stderr
    );

    assert_unknown_not_resent(&statuses, &s.first_log, &log);
    assert_status_agrees(&s, &statuses);
}

/// Whoever the full disk left `unknown` got no message from the resumed run.
fn assert_unknown_not_resent(statuses: &BTreeMap<String, String>, first: &[Value], all: &[Value]) {
    let (first, all) = (per_phone(first), per_phone(all));
    for (phone, status) in statuses {
        if status == "unknown" {
            assert_eq!(
                all.get(phone),
                first.get(phone),
                "{phone} was re-sent blind"
            );
        }
    }
}

/// `campaign status` on the journal copied off the tmpfs counts what the report says.
fn assert_status_agrees(s: &Scenario, statuses: &BTreeMap<String, String>) {
    let output = campaign()
        .arg("status")
        .arg(s.case.campaign_file())
        .arg("--json")
        .arg("--state-dir")
        .arg(s.case.path("disk-copy"))
        .output()
        .expect("run status");
    let status: Value = serde_json::from_slice(&output.stdout).expect("status JSON");
    for word in ["sent", "unknown"] {
        let counted = status["counts"][word].as_u64().unwrap_or(0);
        assert_eq!(counted, count(statuses, word) as u64, "{word}: {status}");
    }
}

#[test]
// Proves a full disk under the report loses no outcome and leaves no report that looks
// complete, and that applying again after freeing space writes the report, sending nothing.
fn a_full_report_disk_loses_nothing_and_the_report_is_written_again() {
    if !namespaces_work() {
        return;
    }
    // 64 KiB free holds `results.csv` (about 37 KiB) but not `results.json` (about 78 KiB).
    let disk = Disk {
        mount: "reports",
        size_kb: 512,
        free_kb: 64,
    };
    let s = scenario(&disk, |case| Paths {
        state: case.path("state"),
        reports: [case.path("reports/run"), case.path("reports/run")],
    });

    let report = s.case.path("reports/run");
    let journal = s.case.path("state/test-campaign/journal.redb");
    assert_clear_failure(
        &s.first,
        &[
            format!("cannot write the report to `{}`", report.display()),
            format!("the disk holding `{}` is full", report.display()),
            format!("they are in the journal `{}`", journal.display()),
            format!(
                "run the same `campaign apply {}` again to write the report",
                s.case.campaign_file().display()
            ),
        ],
    );
    assert_eq!(s.first_log.len(), RECIPIENTS, "every message was sent");
    assert!(
        s.first_listing.is_empty(),
        "a half-written report was left: {}",
        s.first_listing
    );

    assert_eq!(s.second.code, Some(0), "{}", s.second.stderr);
    assert!(
        s.second.stderr.contains("0 sent, 300 already sent"),
        "{}",
        s.second.stderr
    );
    let log = s.sandbox.messages();
    assert_eq!(log.len(), RECIPIENTS, "the second run sent nothing");
    let statuses = statuses(&s.case.path("disk-copy/run"));
    assert_eq!(count(&statuses, "sent"), RECIPIENTS);
    assert_log_agrees(&statuses, &log);
}
