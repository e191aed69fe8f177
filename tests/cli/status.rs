//! `campaign status` through the binary: listing `unknown` sends and settling them from
//! the sandbox's conversation history.

use crate::sandbox_proc::{
    Case, FAST_SEND, SandboxProc, assert_exit, csv_of, per_phone, run, text,
};

#[test]
// Proves status lists the unknowns, and --settle resolves them from history so a rerun
// sends only the ones that never went out.
fn status_lists_unknowns_and_settle_resolves_them() {
    let case = Case::recipients(FAST_SEND, &csv_of(6));
    let faults = [
        "--fail-500-after",
        "0.3",
        "--fail-500",
        "0.3",
        "--seed",
        "4",
    ];
    let sandbox = SandboxProc::start(&case.path("sent.jsonl"), &faults);
    let mut apply = case.apply(&case.campaign_file(), 1);
    sandbox.point(&mut apply);
    assert_exit(&run(&mut apply), 1);
    let unknown_rows: Vec<String> = case
        .results(1)
        .iter()
        .filter(|row| row["status"] == "unknown")
        .map(|row| text(&row["local_id"]))
        .collect();
    assert!(
        !unknown_rows.is_empty(),
        "the faults made some sends unknown"
    );

    let listed = run(&mut case.status());
    assert_exit(&listed, 0);
    let stdout = String::from_utf8_lossy(&listed.stdout);
    for local_id in &unknown_rows {
        assert!(
            stdout.contains(local_id.as_str()),
            "{local_id} listed:\n{stdout}"
        );
    }
    assert!(stdout.contains("--settle"), "{stdout}");

    let mut settle = case.status();
    settle.arg("--settle");
    sandbox.point(&mut settle);
    let settled = run(&mut settle);
    assert_exit(&settled, 0);
    assert!(!String::from_utf8_lossy(&settled.stdout).contains("unknown (may"));
    let in_log = per_phone(&sandbox.messages());
    let counts = status_counts(&case);
    let sent_before = case.statuses(1).values().filter(|s| *s == "sent").count();
    assert_eq!(
        counts.get("sent"),
        Some(&(in_log.len() as u64)),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("failed").copied().unwrap_or(0),
        (6 - in_log.len()) as u64,
        "unknowns missing from history are settled failed: {counts:?}"
    );
    assert!(in_log.len() >= sent_before);

    drop(sandbox);
    let healthy = SandboxProc::start(&case.path("sent.jsonl"), &[]);
    let mut again = case.apply(&case.campaign_file(), 2);
    healthy.point(&mut again);
    assert_exit(&run(&mut again), 0);
    let counts = per_phone(&healthy.messages());
    assert_eq!(counts.len(), 6);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
    assert!(case.statuses(2).values().all(|status| status == "sent"));
}

/// `campaign status --json` counts by status word.
fn status_counts(case: &Case) -> std::collections::BTreeMap<String, u64> {
    let output = run(case.status().arg("--json"));
    assert_exit(&output, 0);
    let document: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("status --json is JSON");
    serde_json::from_value(document["counts"].clone()).expect("counts")
}

#[test]
// Proves `status --json` answers with JSON, not prose, before anything was applied.
fn status_json_before_any_apply_is_an_empty_document() {
    let case = Case::recipients(
        crate::sandbox_proc::FAST_SEND,
        &crate::sandbox_proc::csv_of(2),
    );
    let output = run(case.status().arg("--json"));
    assert!(output.status.success());
    let document: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("status --json prints JSON");
    assert_eq!(document["campaign"], "test-campaign");
    assert_eq!(document["unknown"], serde_json::json!([]));
}
