//! `campaign apply` through the binary: each audience kind, saved plans, confirmation,
//! resuming, faults, windows, the lock, `--json` and Ctrl-C.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::sandbox_proc::{
    Case, FAST_SEND, SandboxProc, assert_exit, csv_of, per_phone, phones_of, read_jsonl, run,
    signal, text, wait_until,
};

/// The planned `local_id` of every message `apply` made for this case (`apply.plan`).
fn planned_local_ids(case: &Case) -> BTreeSet<String> {
    let plan = case.path("state").join("test-campaign").join("apply.plan");
    read_jsonl(&plan)
        .iter()
        .filter(|line| line["message"]["status"] == "send")
        .map(|line| text(&line["message"]["local_id"]))
        .collect()
}

fn logged_local_ids(messages: &[Value]) -> BTreeSet<String> {
    messages
        .iter()
        .map(|message| text(&message["local_id"]))
        .collect()
}

fn assert_private_report(case: &Case, run: u32) {
    for name in ["results.csv", "results.json", "summary.md"] {
        let mode = std::fs::metadata(case.report(run).join(name))
            .expect("report file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} is readable by its owner only");
    }
}

fn sandbox(case: &Case, options: &[&str]) -> SandboxProc {
    SandboxProc::start(&case.path("sent.jsonl"), options)
}

fn apply_to(case: &Case, sandbox: &SandboxProc, run: u32) -> std::process::Command {
    let mut command = case.apply(&case.campaign_file(), run);
    sandbox.point(&mut command);
    command
}

/// Campaign YAML with the given audience and message lines, sending at once.
fn campaign_yaml(audience: &str, message: &str) -> String {
    format!(
        "version: 1\nname: test-campaign\ninbox: 42\ncreator: 7\naudience:\n{audience}message:\n{message}send:\n{FAST_SEND}"
    )
}

#[test]
// Proves a CSV campaign sends each recipient once, with its planned local_id, and reports it.
fn csv_recipients_are_each_sent_once_and_reported() {
    let case = Case::recipients(FAST_SEND, &csv_of(4));
    let sandbox = sandbox(&case, &[]);

    assert_exit(&run(&mut apply_to(&case, &sandbox, 1)), 0);

    let messages = sandbox.messages();
    assert_eq!(messages.len(), 4);
    assert_eq!(logged_local_ids(&messages), planned_local_ids(&case));
    let statuses = case.statuses(1);
    assert_eq!(statuses.len(), 4);
    for phone in phones_of(4) {
        assert_eq!(statuses[&phone], "sent", "{phone}");
    }
    let csv = std::fs::read_to_string(case.report(1).join("results.csv")).expect("csv");
    assert_eq!(
        csv.lines().count(),
        5,
        "a header and one line per recipient"
    );
    assert_private_report(&case, 1);
}

#[test]
// Proves a list campaign is one broadcast request with list_id and its planned local_id.
fn a_list_broadcast_is_one_request() {
    let case = Case::new(&campaign_yaml(
        "  list: 501\n",
        "  text: \"VIP early access. Reply STOP to opt out.\"\n",
    ));
    let sandbox = sandbox(&case, &[]);

    assert_exit(&run(&mut apply_to(&case, &sandbox, 1)), 0);

    let messages = sandbox.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["list_id"], 501);
    assert_eq!(logged_local_ids(&messages), planned_local_ids(&case));
    let results = case.results(1);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["status"], "sent");
    assert_private_report(&case, 1);
}

#[test]
// Proves a group campaign is one MMS request whose targets are every member.
fn a_group_mms_is_one_request_to_all_targets() {
    let case = Case::new(&campaign_yaml(
        "  group:\n    - \"+1 510 555 0121\"\n    - \"+1 510 555 0122\"\n    - \"+1 212 555 0123\"\n",
        "  text: \"Store leads: displays go up tonight.\"\n  media_url: https://cdn.example.com/a.jpg\n",
    ));
    let sandbox = sandbox(&case, &[]);

    assert_exit(&run(&mut apply_to(&case, &sandbox, 1)), 0);

    let messages = sandbox.messages();
    assert_eq!(messages.len(), 1);
    let targets: BTreeSet<String> = messages[0]["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(text)
        .collect();
    let expected = ["15105550121", "15105550122", "12125550123"];
    assert_eq!(targets, expected.iter().map(|t| (*t).to_owned()).collect());
    assert_eq!(logged_local_ids(&messages), planned_local_ids(&case));
    let results = case.results(1);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["status"], "sent");
    assert_private_report(&case, 1);
}

#[test]
// Proves chat_id campaigns leave one private note in each existing conversation.
fn private_notes_go_to_each_chat() {
    let case = Case::new(&campaign_yaml(
        "  recipients: tickets.csv\n  chat_id_column: chat_id\n",
        "  text: \"Owner: {{ owner }}\"\n  private: true\n",
    ));
    case.write(
        "tickets.csv",
        "chat_id,owner\n9001,Sam\n9002,Avery\n9003,Sam\n",
    );
    let sandbox = sandbox(&case, &[]);

    assert_exit(&run(&mut apply_to(&case, &sandbox, 1)), 0);

    let messages = sandbox.messages();
    assert_eq!(messages.len(), 3);
    let chats: BTreeSet<String> = messages.iter().map(|m| text(&m["chat_id"])).collect();
    assert_eq!(chats, ["9001", "9002", "9003"].map(str::to_owned).into());
    assert!(messages.iter().all(|m| m["private"] == true));
    assert_eq!(logged_local_ids(&messages), planned_local_ids(&case));
    let statuses = case.statuses(1);
    assert_eq!(statuses.len(), 3);
    assert!(statuses.values().all(|status| status == "sent"));
    assert_private_report(&case, 1);
}

#[test]
// Proves a saved plan is sent without a prompt, exactly as planned.
fn a_saved_plan_is_sent_without_a_prompt() {
    let case = Case::recipients(FAST_SEND, &csv_of(3));
    let sandbox = sandbox(&case, &[]);
    let plan = case.path("saved.plan");
    let mut planning = crate::sandbox_proc::campaign();
    planning
        .arg("plan")
        .arg(case.campaign_file())
        .arg("--out")
        .arg(&plan);
    sandbox.point(&mut planning);
    assert_exit(&run(&mut planning), 0);

    let mut apply = crate::sandbox_proc::campaign();
    apply
        .arg("apply")
        .arg(&plan)
        .arg("--state-dir")
        .arg(case.path("state"))
        .arg("--report")
        .arg(case.report(1));
    sandbox.point(&mut apply);
    assert_exit(&run(&mut apply), 0);

    assert_eq!(per_phone(&sandbox.messages()).len(), 3);
    assert!(case.statuses(1).values().all(|status| status == "sent"));
}

#[test]
// Proves a plan whose CSV changed after planning is refused, naming the CSV, and sends nothing.
fn a_stale_plan_is_refused() {
    let case = Case::recipients(FAST_SEND, &csv_of(3));
    let sandbox = sandbox(&case, &[]);
    let plan = case.path("saved.plan");
    let mut planning = crate::sandbox_proc::campaign();
    planning
        .arg("plan")
        .arg(case.campaign_file())
        .arg("--out")
        .arg(&plan);
    sandbox.point(&mut planning);
    assert_exit(&run(&mut planning), 0);
    case.write("recipients.csv", &csv_of(4));

    let mut apply = crate::sandbox_proc::campaign();
    apply
        .arg("apply")
        .arg(&plan)
        .arg("--state-dir")
        .arg(case.path("state"))
        .arg("--report")
        .arg(case.report(1));
    sandbox.point(&mut apply);
    let output = run(&mut apply);

    assert_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stale"), "{stderr}");
    assert!(stderr.contains("recipients.csv"), "{stderr}");
    assert!(sandbox.messages().is_empty());
}

#[test]
// Proves that without a terminal, apply FILE asks for --auto-approve and sends nothing.
fn without_a_terminal_apply_needs_auto_approve() {
    let case = Case::recipients(FAST_SEND, &csv_of(2));
    let sandbox = sandbox(&case, &[]);
    let mut apply = crate::sandbox_proc::campaign();
    apply
        .arg("apply")
        .arg(case.campaign_file())
        .arg("--state-dir")
        .arg(case.path("state"))
        .arg("--report")
        .arg(case.report(1));
    sandbox.point(&mut apply);

    let output = run(&mut apply);

    assert_exit(&output, 1);
    assert!(String::from_utf8_lossy(&output.stderr).contains("--auto-approve"));
    assert!(sandbox.messages().is_empty());
}

#[test]
// Proves a second apply sends nothing again and reports the earlier sends as sent.
fn a_second_apply_resumes_without_resending() {
    let case = Case::recipients(FAST_SEND, &csv_of(3));
    let sandbox = sandbox(&case, &[]);
    assert_exit(&run(&mut apply_to(&case, &sandbox, 1)), 0);

    let output = run(&mut apply_to(&case, &sandbox, 2));

    assert_exit(&output, 0);
    assert_eq!(sandbox.messages().len(), 3);
    assert!(case.statuses(2).values().all(|status| status == "sent"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("3 already sent"));
}

#[test]
// Proves a 429 storm only slows the run: every recipient is sent exactly once, exit 0.
fn a_429_storm_sends_everyone_once() {
    let case = Case::recipients(FAST_SEND, &csv_of(6));
    let sandbox = sandbox(&case, &["--fail-429", "0.5", "--seed", "3"]);

    assert_exit(&run(&mut apply_to(&case, &sandbox, 1)), 0);

    let counts = per_phone(&sandbox.messages());
    assert_eq!(counts.len(), 6);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
    assert!(case.statuses(1).values().all(|status| status == "sent"));
}

/// Applies a 5-recipient campaign against a sandbox with `faults`, then again, then with
/// `--retry-unknown` against a fault-free sandbox on the same log; checks the outcomes.
fn unknowns_stay_unsent_until_retried(faults: &[&str]) {
    let case = Case::recipients(FAST_SEND, &csv_of(5));
    let first = sandbox(&case, faults);
    let output = run(&mut apply_to(&case, &first, 1));
    assert_exit(&output, 1);
    let unknown: Vec<String> = case
        .statuses(1)
        .into_iter()
        .filter(|(_, status)| status == "unknown")
        .map(|(phone, _)| phone)
        .collect();
    assert!(!unknown.is_empty(), "the faults made some sends unknown");
    assert!(
        case.statuses(1)
            .values()
            .all(|status| status == "sent" || status == "unknown")
    );

    let logged = first.messages().len();
    assert_exit(&run(&mut apply_to(&case, &first, 2)), 1);
    assert_eq!(first.messages().len(), logged, "unknowns are not re-sent");
    assert_eq!(case.statuses(2), case.statuses(1));
    drop(first);

    let healthy = sandbox(&case, &[]);
    let output = run(apply_to(&case, &healthy, 3).arg("--retry-unknown"));
    assert_exit(&output, 0);
    let counts = per_phone(&healthy.messages());
    assert_eq!(counts.len(), 5, "every recipient is in the log");
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
    assert!(case.statuses(3).values().all(|status| status == "sent"));
}

#[test]
// Proves 5xx answers are unknown, never re-sent by default, and settle with --retry-unknown.
fn server_errors_are_unknown_until_retried() {
    unknowns_stay_unsent_until_retried(&[
        "--fail-500-after",
        "0.3",
        "--fail-500",
        "0.3",
        "--seed",
        "1",
    ]);
}

#[test]
// Proves 503 answers are unknown too (Heymarket does not say a 503 means "not accepted"),
// never re-sent by default, and settle with --retry-unknown.
fn unavailable_answers_are_unknown_until_retried() {
    unknowns_stay_unsent_until_retried(&["--fail-503", "0.5", "--seed", "1"]);
}

#[test]
// Proves dropped connections are unknown, never re-sent by default, and settle with --retry-unknown.
fn dropped_connections_are_unknown_until_retried() {
    unknowns_stay_unsent_until_retried(&["--drop-after", "0.5", "--seed", "2"]);
}

#[test]
// Proves a send unanswered within --timeout is unknown, though the sandbox kept it, and is
// not re-sent; `status --settle` then finds it in history and settles it sent.
fn a_timeout_is_unknown_and_not_resent() {
    let case = Case::recipients(FAST_SEND, &csv_of(2));
    let sandbox = sandbox(&case, &["--slow-share", "1", "--slow-ms", "2000"]);

    let started = Instant::now();
    let output = run(apply_to(&case, &sandbox, 1).args(["--timeout", "1"]));

    assert_exit(&output, 1);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(case.statuses(1).values().all(|status| status == "unknown"));
    assert!(wait_until(Duration::from_secs(5), || sandbox
        .messages()
        .len()
        == 2));
    assert_exit(
        &run(apply_to(&case, &sandbox, 2).args(["--timeout", "1"])),
        1,
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(sandbox.messages().len(), 2, "unknowns are not re-sent");

    let mut settle = case.status();
    settle.arg("--settle");
    sandbox.point(&mut settle);
    assert_exit(&run(&mut settle), 0);
    assert_exit(&run(&mut apply_to(&case, &sandbox, 3)), 0);
    assert!(case.statuses(3).values().all(|status| status == "sent"));
    assert_eq!(sandbox.messages().len(), 2);
}

#[test]
// Proves opted-out and blocked contacts are skipped by rule, with exit 0.
fn opted_out_and_blocked_recipients_are_skipped() {
    let csv =
        "phone,first_name\n+1 510 555 0101,Ana\n+1 510 555 0199,Out\n+1 510 555 0198,Blocked\n";
    let case = Case::recipients(FAST_SEND, csv);
    let sandbox = sandbox(&case, &[]);

    assert_exit(&run(&mut apply_to(&case, &sandbox, 1)), 0);

    let statuses = case.statuses(1);
    assert_eq!(statuses["15105550101"], "sent");
    assert_eq!(statuses["15105550199"], "skipped_opted_out");
    assert_eq!(statuses["15105550198"], "skipped_blocked");
    assert_eq!(per_phone(&sandbox.messages()).len(), 1);
}

const CHICAGO_WINDOW: &str = "  rate: 500/min\n  window: \"09:00-20:00\"\n";
const CHICAGO_CSV: &str = "phone,first_name,timezone\n+1 510 555 0101,Ana,America/Chicago\n";
/// Three seconds before 09:00 in Chicago (CDT).
const BEFORE_NINE: &str = "2026-06-15T08:59:57-05:00";

#[test]
// Proves a run waits for a window that opens during it, then sends.
fn a_window_that_opens_during_the_run_is_waited_for() {
    let case = Case::recipients(CHICAGO_WINDOW, CHICAGO_CSV);
    let sandbox = sandbox(&case, &[]);

    let started = Instant::now();
    let output = run(apply_to(&case, &sandbox, 1).env("CAMPAIGN_NOW", BEFORE_NINE));

    assert_exit(&output, 0);
    assert!(started.elapsed() >= Duration::from_secs(2), "it waited");
    assert_eq!(sandbox.messages().len(), 1);
    let sent_at = text(&case.results(1)[0]["sent_at"]);
    assert!(sent_at.as_str() >= "2026-06-15T14:00:00", "{sent_at}");
}

#[test]
// Proves --no-wait halts with exit 3 before a closed window, and a later run resumes.
fn no_wait_halts_and_a_later_run_resumes() {
    let case = Case::recipients(CHICAGO_WINDOW, CHICAGO_CSV);
    let sandbox = sandbox(&case, &[]);

    let output = run(apply_to(&case, &sandbox, 1)
        .arg("--no-wait")
        .env("CAMPAIGN_NOW", BEFORE_NINE));
    assert_exit(&output, 3);
    assert!(sandbox.messages().is_empty());
    assert_eq!(case.results(1)[0]["status"], "pending");

    let later = run(apply_to(&case, &sandbox, 2)
        .arg("--no-wait")
        .env("CAMPAIGN_NOW", "2026-06-15T09:30:00-05:00"));
    assert_exit(&later, 0);
    assert_eq!(sandbox.messages().len(), 1);
    assert_eq!(case.results(2)[0]["status"], "sent");
}

#[test]
// Proves a second apply of a running campaign is refused at once with a clear message.
fn a_second_apply_while_one_runs_is_refused() {
    let case = Case::recipients(FAST_SEND, &csv_of(3));
    let sandbox = sandbox(&case, &["--latency-ms", "3000"]);
    let mut first = apply_to(&case, &sandbox, 1)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the first apply");
    let lock = case.path("state").join("test-campaign").join("apply.plan");
    assert!(wait_until(Duration::from_secs(20), || lock.exists()));
    std::thread::sleep(Duration::from_millis(300));

    let started = Instant::now();
    let output = run(&mut apply_to(&case, &sandbox, 2));

    assert_exit(&output, 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already being applied"), "{stderr}");
    assert!(stderr.contains("wait for the other run"), "{stderr}");
    assert_eq!(first.wait().expect("first apply").code(), Some(0));
    assert_eq!(sandbox.messages().len(), 3);
}

#[test]
// Proves --json writes one JSON event per line on stdout, from started to finished.
fn json_streams_one_event_per_line() {
    let case = Case::recipients(FAST_SEND, &csv_of(3));
    let sandbox = sandbox(&case, &[]);

    let output = run(apply_to(&case, &sandbox, 1).arg("--json"));

    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let events: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON event"))
        .collect();
    let names: Vec<String> = events.iter().map(|e| text(&e["event"])).collect();
    assert_eq!(names.first().map(String::as_str), Some("started"));
    assert_eq!(names.last().map(String::as_str), Some("finished"));
    assert_eq!(names.iter().filter(|name| *name == "sent").count(), 3);
}

#[test]
// Proves Ctrl-C halts with exit 3, writes the report, and a rerun sends the rest exactly once.
fn ctrl_c_halts_and_loses_nothing() {
    let case = Case::recipients(FAST_SEND, &csv_of(12));
    let sandbox = sandbox(&case, &["--latency-ms", "400"]);
    let mut child = apply_to(&case, &sandbox, 1)
        .args(["--concurrency", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start apply");
    let log = case.path("sent.jsonl");
    assert!(wait_until(Duration::from_secs(20), || !read_jsonl(&log).is_empty()));

    signal(&child, "INT");
    let status = child.wait().expect("apply ends");

    assert_eq!(status.code(), Some(3));
    let statuses = case.statuses(1);
    assert_eq!(statuses.len(), 12);
    let logged = per_phone(&sandbox.messages());
    for (phone, status) in &statuses {
        let expected = if logged.contains_key(phone) {
            "sent"
        } else {
            "pending"
        };
        assert_eq!(status, expected, "{phone}");
    }
    assert!(logged.len() < 12, "the run stopped early");

    assert_exit(&run(&mut apply_to(&case, &sandbox, 2)), 0);
    let counts = per_phone(&sandbox.messages());
    assert_eq!(counts.len(), 12);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
}

#[test]
// Proves `apply --sandbox` rehearses in-process with no credentials and reports every row.
fn an_in_process_sandbox_rehearsal_needs_no_credentials() {
    let csv = "phone,first_name\n+1 510 555 0101,Ana\n+1 510 555 0102,Ben\n+1 510 555 0199,Out\n";
    let case = Case::recipients("  window: \"09:00-20:00\"\n", csv);

    let output = run(case.apply(&case.campaign_file(), 1).arg("--sandbox"));

    assert_exit(&output, 0);
    let statuses = case.statuses(1);
    assert_eq!(statuses["15105550101"], "sent");
    assert_eq!(statuses["15105550102"], "sent");
    assert_eq!(statuses["15105550199"], "skipped_opted_out");
    assert_private_report(&case, 1);
}

#[test]
// Regression: a rehearsal shared the real journal, so a real apply after `--sandbox` found
// everyone "already sent" and texted nobody.
fn a_sandbox_rehearsal_does_not_count_as_a_real_send() {
    let case = Case::recipients(FAST_SEND, &csv_of(3));
    assert_exit(
        &run(case.apply(&case.campaign_file(), 1).arg("--sandbox")),
        0,
    );
    let sandbox = sandbox(&case, &[]);

    let output = run(&mut apply_to(&case, &sandbox, 2));

    assert_exit(&output, 0);
    assert_eq!(sandbox.messages().len(), 3);
    assert!(case.statuses(2).values().all(|status| status == "sent"));
}
