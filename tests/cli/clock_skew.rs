//! A wrong clock on the sending machine: Heymarket judges a token's `iat` on its own clock,
//! so a machine minutes slow signs tokens that look expired and one minutes fast signs tokens
//! from the future. `apply` must notice from the 401's `Date` header, sign on Heymarket's
//! time, and send everyone exactly once; with credentials that are simply wrong it must stop
//! with a clear error and send nothing. Each run's report is checked against the sandbox log.

use crate::sandbox_proc::{Case, FAST_SEND, SandboxProc, assert_exit, csv_of, per_phone, run};

/// Applies a 30-recipient campaign against a sandbox whose clock is `offset` seconds ahead of
/// this machine's and returns apply's stderr, after checking report and log agree.
fn apply_with_clock_offset(offset: &str) -> String {
    let case = Case::recipients(FAST_SEND, &csv_of(30));
    let sandbox = SandboxProc::start(&case.path("sent.jsonl"), &["--clock-offset", offset]);
    let mut command = case.apply(&case.campaign_file(), 1);
    sandbox.point(&mut command);

    let output = run(&mut command);
    assert_exit(&output, 0);

    let counts = per_phone(&sandbox.messages());
    assert_eq!(counts.len(), 30, "everyone is in the sandbox log");
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
    let statuses = case.statuses(1);
    assert_eq!(statuses.len(), 30);
    for (phone, status) in &statuses {
        assert_eq!(status, "sent", "{phone}");
        assert_eq!(
            counts.get(phone),
            Some(&1),
            "{phone} is reported sent and logged once"
        );
    }
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
// Proves a machine clock ten minutes slow (tokens look expired) is corrected from Heymarket's
// Date header, with one warning, and everyone is sent exactly once.
fn a_slow_clock_is_corrected_and_everyone_is_sent_once() {
    let stderr = apply_with_clock_offset("600");
    assert_eq!(
        stderr.matches("clock is").count(),
        1,
        "one warning: {stderr}"
    );
    assert!(stderr.contains("behind Heymarket's"), "{stderr}");
    assert!(stderr.contains("looked expired"), "{stderr}");
    assert!(stderr.contains("NTP"), "the fix is named: {stderr}");
}

#[test]
// Proves a machine clock ten minutes fast (tokens from the future) is corrected the same way.
fn a_fast_clock_is_corrected_and_everyone_is_sent_once() {
    let stderr = apply_with_clock_offset("-600");
    assert!(stderr.contains("ahead of Heymarket's"), "{stderr}");
    assert!(stderr.contains("issued in the future"), "{stderr}");
}

#[test]
// Proves wrong credentials on a skewed clock stop apply with a clear error and send nothing.
fn wrong_credentials_stop_apply_and_send_nothing() {
    let case = Case::recipients(FAST_SEND, &csv_of(10));
    let sandbox = SandboxProc::start(&case.path("sent.jsonl"), &["--clock-offset", "600"]);
    let mut command = case.apply(&case.campaign_file(), 1);
    sandbox.point(&mut command);
    command.env("HEYMARKET_SECRET_KEY", "not-the-key");

    let output = run(&mut command);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("401"), "the refusal is named: {stderr}");
    assert!(
        stderr.contains("HEYMARKET_SECRET_ID"),
        "the fix is named: {stderr}"
    );
    assert!(!stderr.contains("not-the-key"), "the secret is not echoed");
    assert!(sandbox.messages().is_empty(), "nothing was sent");
}
