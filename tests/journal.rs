//! The durable journal through its public API: what survives a reopen, a crash and a second
//! process, and what a read-only view sees.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use campaign::state::{
    Entry, EntryStatus, GATE_FILE, IN_FLIGHT_AT_STOP, JOURNAL_FILE, Journal, LOCK_FILE, Ledger,
    Record, StateError,
};

const CAMPAIGN: &str = "spring-sale";

/// Set by the SIGKILL test for the child copy of this binary: the state dir to hold.
const CHILD_STATE_DIR: &str = "CAMPAIGN_JOURNAL_TEST_CHILD_STATE_DIR";

fn intent(id: &str, attempt: u32) -> Record {
    Record::Intent {
        local_id: id.to_string(),
        row: 3,
        attempt,
    }
}

fn sent(id: &str, message_id: u64) -> Record {
    Record::Outcome {
        local_id: id.to_string(),
        status: EntryStatus::Sent,
        message_id: Some(message_id),
        request_id: Some(format!("req-{message_id}")),
        sent_at: Some("2026-03-01T09:00:00Z".to_string()),
        error: None,
    }
}

fn entry<'a>(entries: &'a BTreeMap<String, Entry>, id: &str) -> &'a Entry {
    entries.get(id).unwrap_or_else(|| panic!("no entry `{id}`"))
}

fn campaign_dir(state: &Path) -> PathBuf {
    state.join(CAMPAIGN)
}

#[tokio::test]
async fn an_outcome_survives_a_reopen_as_sent() {
    let state = tempfile::tempdir().expect("temp dir");
    let journal = Journal::open(state.path(), CAMPAIGN).expect("open");
    journal.append(vec![intent("m1", 1)]).await.expect("intent");
    journal
        .append(vec![sent("m1", 501)])
        .await
        .expect("outcome");
    drop(journal);

    let journal = Journal::open(state.path(), CAMPAIGN).expect("reopen");
    let entries = journal.entries().expect("entries");

    let m1 = entry(&entries, "m1");
    assert_eq!(m1.status, EntryStatus::Sent);
    assert_eq!(m1.message_id, Some(501));
    assert_eq!((m1.row, m1.attempts), (3, 1));
    assert_eq!(journal.recovered(), 0);
}

#[tokio::test]
async fn an_intent_alone_reopens_as_unknown() {
    let state = tempfile::tempdir().expect("temp dir");
    let journal = Journal::open(state.path(), CAMPAIGN).expect("open");
    journal.append(vec![intent("m1", 2)]).await.expect("intent");
    assert_eq!(
        entry(&journal.entries().expect("entries"), "m1").status,
        EntryStatus::InFlight
    );
    drop(journal);

    let journal = Journal::open(state.path(), CAMPAIGN).expect("reopen");
    let entries = journal.entries().expect("entries");

    let m1 = entry(&entries, "m1");
    assert_eq!(m1.status, EntryStatus::Unknown);
    assert_eq!(m1.error.as_deref(), Some(IN_FLIGHT_AT_STOP));
    assert_eq!(m1.attempts, 2);
    assert_eq!(journal.recovered(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_each_acked_once_and_all_durable() {
    let state = tempfile::tempdir().expect("temp dir");
    let journal = Arc::new(Journal::open(state.path(), CAMPAIGN).expect("open"));

    let mut tasks = Vec::new();
    for task in 0..64 {
        let journal = Arc::clone(&journal);
        tasks.push(tokio::spawn(async move {
            let mut acks = 0;
            for n in 0..10 {
                let id = format!("t{task}-m{n}");
                journal.append(vec![intent(&id, 1)]).await.expect("intent");
                journal.append(vec![sent(&id, 7)]).await.expect("outcome");
                acks += 2;
            }
            acks
        }));
    }
    let mut acks = 0;
    for task in tasks {
        acks += task.await.expect("task");
    }
    assert_eq!(acks, 64 * 10 * 2);
    drop(journal);

    let journal = Journal::open(state.path(), CAMPAIGN).expect("reopen");
    let entries = journal.entries().expect("entries");
    assert_eq!(entries.len(), 640);
    assert!(entries.values().all(|e| e.status == EntryStatus::Sent));
}

#[test]
fn a_second_open_is_locked_until_the_first_is_dropped() {
    let state = tempfile::tempdir().expect("temp dir");
    let first = Journal::open(state.path(), CAMPAIGN).expect("open");

    let refused = Journal::open(state.path(), CAMPAIGN).expect_err("second open");
    let message = refused.to_string();
    match refused {
        StateError::Locked {
            campaign,
            lock,
            pid,
        } => {
            assert_eq!(campaign, CAMPAIGN);
            assert_eq!(
                lock,
                campaign_dir(state.path())
                    .join(LOCK_FILE)
                    .display()
                    .to_string()
            );
            assert_eq!(pid, Some(std::process::id()));
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );

    drop(first);
    Journal::open(state.path(), CAMPAIGN).expect("open after drop");
}

/// Not a test on its own: run by `a_killed_holder_loses_nothing_acked_and_frees_the_lock` in
/// a child process, which it SIGKILLs while this holds the journal.
#[tokio::test]
async fn child_holds_the_journal_until_killed() {
    let Some(state) = std::env::var_os(CHILD_STATE_DIR) else {
        return;
    };
    let state = PathBuf::from(state);
    let journal = Journal::open(&state, CAMPAIGN).expect("child open");
    journal
        .append(vec![intent("in-flight", 1)])
        .await
        .expect("intent");
    journal
        .append(vec![intent("done", 1), sent("done", 42)])
        .await
        .expect("sent");

    std::fs::write(state.join("ready"), b"").expect("ready marker");
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn a_killed_holder_loses_nothing_acked_and_frees_the_lock() {
    let state = tempfile::tempdir().expect("temp dir");
    let mut child = spawn_holder(state.path());
    wait_for(&state.path().join("ready"), &mut child);

    match Journal::open(state.path(), CAMPAIGN) {
        Err(StateError::Locked { pid, .. }) => assert_eq!(pid, Some(child.id())),
        other => panic!("expected Locked while the child holds it, got {other:?}"),
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");

    let journal = Journal::open(state.path(), CAMPAIGN).expect("open after the kill");
    let entries = journal.entries().expect("entries");
    assert_eq!(entry(&entries, "in-flight").status, EntryStatus::Unknown);
    assert_eq!(entry(&entries, "done").status, EntryStatus::Sent);
    assert_eq!(entry(&entries, "done").message_id, Some(42));
    assert_eq!(journal.recovered(), 1);
}

/// Starts this test binary again, running only the holder, with `state` to hold.
fn spawn_holder(state: &Path) -> Child {
    let exe = std::env::current_exe().expect("test binary path");
    Command::new(exe)
        .args([
            "child_holds_the_journal_until_killed",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_STATE_DIR, state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the holder")
}

/// Waits for `marker` to appear, failing if the child exits or a minute passes first.
fn wait_for(marker: &Path, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        if let Some(status) = child.try_wait().expect("poll the child") {
            panic!("the holder exited early with {status}");
        }
        assert!(Instant::now() < deadline, "the holder never got ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn the_journal_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;

    let state = tempfile::tempdir().expect("temp dir");
    let _journal = Journal::open(state.path(), CAMPAIGN).expect("open");
    let mode = |path: PathBuf| {
        std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };

    let dir = campaign_dir(state.path());
    assert_eq!(mode(dir.clone()), 0o700);
    assert_eq!(mode(dir.join(JOURNAL_FILE)), 0o600);
    assert_eq!(mode(dir.join(LOCK_FILE)), 0o600);
    assert_eq!(mode(dir.join(GATE_FILE)), 0o600);
}

#[tokio::test]
async fn a_read_only_view_works_while_a_run_holds_the_lock() {
    let state = tempfile::tempdir().expect("temp dir");
    assert!(
        Journal::read_only(state.path(), CAMPAIGN)
            .expect("read")
            .is_none()
    );

    let journal = Journal::open(state.path(), CAMPAIGN).expect("open");
    journal
        .append(vec![intent("a", 1), intent("b", 1), sent("b", 9)])
        .await
        .expect("append");

    let held = Journal::read_only(state.path(), CAMPAIGN)
        .expect("read")
        .expect("some");
    assert_eq!(entry(&held, "a").status, EntryStatus::InFlight);
    assert_eq!(entry(&held, "b").status, EntryStatus::Sent);

    drop(journal);
    let stopped = Journal::read_only(state.path(), CAMPAIGN)
        .expect("read")
        .expect("some");
    assert_eq!(entry(&stopped, "a").status, EntryStatus::Unknown);
    assert_eq!(
        entry(&stopped, "a").error.as_deref(),
        Some(IN_FLIGHT_AT_STOP)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_view_is_consistent_while_appends_commit() {
    let state = tempfile::tempdir().expect("temp dir");
    let journal = Arc::new(Journal::open(state.path(), CAMPAIGN).expect("open"));
    let stop = Arc::new(AtomicBool::new(false));

    let writers: Vec<_> = (0..8)
        .map(|task| {
            let (journal, stop) = (Arc::clone(&journal), Arc::clone(&stop));
            tokio::spawn(async move {
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = format!("t{task}-m{n}");
                    let records = vec![intent(&id, 1), sent(&id, n)];
                    journal.append(records).await.expect("append");
                }
            })
        })
        .collect();

    let dir = state.path().to_path_buf();
    let reads = tokio::task::spawn_blocking(move || {
        (0..10)
            .map(|_| Journal::read_only(&dir, CAMPAIGN).map(Option::unwrap_or_default))
            .collect::<Vec<_>>()
    })
    .await
    .expect("reads");
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }

    // Each append commits an intent with its outcome, so a torn copy would show `InFlight`.
    let mut counts = Vec::new();
    for read in reads {
        let entries = read.expect("a consistent read");
        assert!(entries.values().all(|e| e.status == EntryStatus::Sent));
        counts.push(entries.len());
    }
    assert!(counts.is_sorted(), "{counts:?}");
}

#[test]
fn an_unusable_state_dir_is_an_io_error_naming_the_path() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let not_a_dir = scratch.path().join("state");
    std::fs::write(&not_a_dir, b"a file where the state dir should be").expect("write");

    match Journal::open(&not_a_dir, CAMPAIGN) {
        Err(StateError::Io { path, .. }) => assert!(path.contains(CAMPAIGN), "{path}"),
        other => panic!("expected an Io error, got {other:?}"),
    }
}

#[test]
fn a_journal_of_another_campaign_is_refused() {
    let state = tempfile::tempdir().expect("temp dir");
    drop(Journal::open(state.path(), CAMPAIGN).expect("open"));
    std::fs::rename(campaign_dir(state.path()), state.path().join("other")).expect("rename");

    match Journal::open(state.path(), "other") {
        Err(StateError::Corrupt { reason, .. }) => assert!(reason.contains(CAMPAIGN), "{reason}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// Durable throughput with 32 concurrent appenders, one intent per append, on the disk that
/// holds the target dir. Run with
/// `cargo test --release --test journal -- --ignored --nocapture durable_throughput`.
#[ignore = "a measurement, not a check"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_throughput() {
    const APPENDERS: usize = 32;
    const PER_APPENDER: usize = 1000;

    let state = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let journal = Arc::new(Journal::open(state.path(), CAMPAIGN).expect("open"));
    let started = Instant::now();

    let tasks: Vec<_> = (0..APPENDERS)
        .map(|task| {
            let journal = Arc::clone(&journal);
            tokio::spawn(async move {
                for n in 0..PER_APPENDER {
                    let id = format!("t{task}-m{n}");
                    journal.append(vec![intent(&id, 1)]).await.expect("append");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("appender");
    }

    let elapsed = started.elapsed();
    let records = APPENDERS * PER_APPENDER;
    println!(
        "{records} durable records from {APPENDERS} appenders in {:.2?}: {:.0} records/s",
        elapsed,
        records as f64 / elapsed.as_secs_f64()
    );
}

#[tokio::test]
// Proves a truncated journal is refused as damaged, by a run and by a read, never a panic,
// and is left exactly as it was.
async fn a_truncated_journal_is_reported_damaged_and_left_alone() {
    let state = tempfile::tempdir().expect("temp dir");
    let journal = Journal::open(state.path(), CAMPAIGN).expect("open");
    journal.append(vec![intent("m1", 1)]).await.expect("intent");
    drop(journal);
    let path = campaign_dir(state.path()).join(JOURNAL_FILE);
    let whole = std::fs::read(&path).expect("journal bytes");

    for cut in [100, 5_000, whole.len() / 2] {
        std::fs::write(&path, &whole[..cut]).expect("truncate");
        for outcome in [
            Journal::open(state.path(), CAMPAIGN).map(|_| ()),
            Journal::read_only(state.path(), CAMPAIGN).map(|_| ()),
        ] {
            match outcome {
                Err(StateError::Corrupt { .. } | StateError::Io { .. }) => {}
                other => panic!("a journal cut at {cut} bytes gave {other:?}"),
            }
        }
        assert_eq!(
            std::fs::read(&path).expect("bytes"),
            &whole[..cut],
            "left alone"
        );
    }
}
