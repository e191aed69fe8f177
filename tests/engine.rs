//! The send engine against a scripted Heymarket stub on loopback: real HTTP, real timers.

#[path = "common/stub.rs"]
mod stub;

use std::sync::Arc;
use std::time::{Duration, Instant};

use campaign::campaign::Window;
use campaign::heymarket::auth::Credentials;
use campaign::heymarket::client::Client;
use campaign::heymarket::secret::Secret;
use campaign::heymarket::types::SendRequest;
use campaign::send::clock::Clock;
use campaign::send::engine::{EngineOptions, HaltReason, RunSummary, SendItem, run};
use campaign::send::events::{Event, EventLog, SkipReason};
use campaign::send::limiter::RateGate;
use campaign::send::retry::RetryPolicy;
use campaign::state::memory::MemoryLedger;
use campaign::state::{Entry, EntryStatus, Ledger, Record};
use stub::{Reply, Stub};
use tokio::sync::watch;

fn phone(row: u64) -> String {
    format!("1510555{row:04}")
}

fn item(row: u64) -> SendItem {
    let local_id = format!("spring-{row}");
    SendItem {
        row,
        local_id: local_id.clone(),
        request: SendRequest {
            inbox_id: 1,
            creator_id: 2,
            phone_number: Some(phone(row)),
            text: Some("Spring sale: 20% off. Reply STOP to opt out".to_owned()),
            local_id: Some(local_id),
            ..SendRequest::default()
        },
        zones: Vec::new(),
        label: format!("+1******{row:04}"),
    }
}

fn items(count: u64) -> impl Iterator<Item = SendItem> {
    (1..=count).map(item)
}

fn client_for(url: &str, gate: RateGate, timeout: Duration) -> Client {
    let credentials = Credentials::Secret {
        id: "sid".to_owned(),
        key: Secret::new("stub-key"),
    };
    Client::new(url, credentials, Arc::new(gate), timeout).expect("client")
}

fn client(stub: &Stub) -> Client {
    client_for(&stub.url(), RateGate::unlimited(), Duration::from_secs(5))
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

fn options() -> EngineOptions {
    EngineOptions {
        retry: quick_retries(),
        ..EngineOptions::default()
    }
}

fn no_stop() -> watch::Receiver<bool> {
    watch::channel(false).1
}

/// Runs the engine to the end and returns its summary and events.
async fn apply(
    client: &Client,
    ledger: &MemoryLedger,
    items: impl Iterator<Item = SendItem>,
    options: &EngineOptions,
) -> (RunSummary, Vec<Event>) {
    let log = EventLog::new();
    let summary = run(client, ledger, items, options, &log, no_stop())
        .await
        .expect("run");
    (summary, log.events())
}

fn status_of(ledger: &MemoryLedger, local_id: &str) -> EntryStatus {
    ledger.entries().expect("entries")[local_id].status
}

fn entry(local_id: &str, status: EntryStatus, attempts: u32) -> Entry {
    Entry {
        local_id: local_id.to_owned(),
        row: 0,
        status,
        attempts,
        message_id: None,
        request_id: None,
        sent_at: None,
        error: None,
    }
}

#[tokio::test]
async fn every_message_is_sent_once_with_its_intent_journalled_first() {
    let stub = Stub::start().await;
    let ledger = MemoryLedger::new();
    let (summary, events) = apply(&client(&stub), &ledger, items(12), &options()).await;

    assert_eq!(
        (summary.sent, summary.failed, summary.halted),
        (12, 0, None)
    );
    for row in 1..=12 {
        let local_id = format!("spring-{row}");
        assert_eq!(stub.sends_of(&local_id), 1);
        let entry = &ledger.entries().expect("entries")[&local_id];
        assert_eq!(entry.status, EntryStatus::Sent);
        assert!(entry.message_id.is_some() && entry.request_id.is_some());
    }

    let records = ledger.records();
    for (index, record) in records.iter().enumerate() {
        if let Record::Outcome { local_id, .. } = record {
            let intent = records[..index].iter().any(
                |earlier| matches!(earlier, Record::Intent { local_id: id, .. } if id == local_id),
            );
            assert!(intent, "outcome of {local_id} without an earlier intent");
        }
    }
    let json = serde_json::to_string(&events).expect("json");
    assert!(
        !json.contains(&phone(3)),
        "a phone number leaked into events"
    );
    assert!(matches!(events.last(), Some(Event::Finished { .. })));
}

#[tokio::test]
async fn a_429_storm_is_waited_out_and_is_not_a_failure() {
    let stub = Stub::start().await;
    stub.then([
        Reply::RateLimited(None),
        Reply::RateLimited(Some("0")),
        Reply::RateLimited(None),
        Reply::RateLimited(Some("0")),
        Reply::RateLimited(None),
        Reply::RateLimited(None),
    ]);
    let ledger = MemoryLedger::new();
    let (summary, events) = apply(&client(&stub), &ledger, items(3), &options()).await;

    assert_eq!((summary.sent, summary.failed, summary.unknown), (3, 0, 0));
    let retries = events
        .iter()
        .filter(|event| matches!(event, Event::Retrying { .. }))
        .count();
    assert_eq!(retries, 6);
    assert_eq!(stub.arrivals().len(), 9);
}

#[tokio::test]
async fn a_500_is_unknown_and_not_sent_again() {
    let stub = Stub::start().await;
    stub.for_local_id("spring-1", [Reply::Status(500)]);
    let ledger = MemoryLedger::new();
    let (summary, events) = apply(&client(&stub), &ledger, items(2), &options()).await;

    assert_eq!((summary.sent, summary.unknown), (1, 1));
    assert_eq!(status_of(&ledger, "spring-1"), EntryStatus::Unknown);
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Event::Unknown { row: 1, .. }))
    );

    // A second run leaves it alone...
    let (again, _) = apply(&client(&stub), &ledger, items(2), &options()).await;
    assert_eq!((again.sent, again.already_sent, again.unknown), (0, 1, 1));
    assert_eq!(stub.sends_of("spring-1"), 1);

    // ...unless Heymarket's dedupe is trusted: then it goes again with the same local_id.
    let mut trusting = options();
    trusting.retry.retry_unknown = true;
    let (retried, _) = apply(&client(&stub), &ledger, items(2), &trusting).await;
    assert_eq!((retried.sent, retried.already_sent), (1, 1));
    assert_eq!(stub.sends_of("spring-1"), 2);
    assert_eq!(ledger.entries().expect("entries")["spring-1"].attempts, 2);
}

#[tokio::test]
async fn a_500_is_retried_in_the_run_when_dedupe_is_trusted() {
    let stub = Stub::start().await;
    stub.for_local_id("spring-1", [Reply::Status(500), Reply::Status(502)]);
    let mut trusting = options();
    trusting.retry.retry_unknown = true;
    let ledger = MemoryLedger::new();
    let (summary, _) = apply(&client(&stub), &ledger, items(1), &trusting).await;

    assert_eq!((summary.sent, summary.unknown), (1, 0));
    assert_eq!(stub.sends_of("spring-1"), 3);
    // Between retries the journal said `unknown`, never `failed`: a crash there must not
    // make a run without trusted dedupe send it again.
    let interim: Vec<EntryStatus> = ledger
        .records()
        .into_iter()
        .filter_map(|record| match record {
            Record::Outcome { status, .. } => Some(status),
            Record::Intent { .. } => None,
        })
        .collect();
    let expected = [
        EntryStatus::Unknown,
        EntryStatus::Unknown,
        EntryStatus::Sent,
    ];
    assert_eq!(interim, expected);
}

#[tokio::test]
async fn a_refused_connection_is_retried_until_the_server_is_up() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
    let addr = probe.local_addr().expect("address");
    drop(probe);
    let server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Stub::serve(tokio::net::TcpListener::bind(addr).await.expect("rebind"))
    });

    let mut patient = options();
    patient.retry.max_not_sent = 100;
    let url = format!("http://{addr}");
    let client = client_for(&url, RateGate::unlimited(), Duration::from_secs(5));
    let ledger = MemoryLedger::new();
    let (summary, events) = apply(&client, &ledger, items(1), &patient).await;

    let stub = server.await.expect("server");
    assert_eq!((summary.sent, summary.failed), (1, 0));
    assert_eq!(stub.sends_of("spring-1"), 1);
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Event::Retrying { .. }))
    );
}

#[tokio::test]
async fn a_timeout_is_unknown() {
    let stub = Stub::start().await;
    stub.then([Reply::Slow(Duration::from_secs(2))]);
    let client = client_for(
        &stub.url(),
        RateGate::unlimited(),
        Duration::from_millis(300),
    );
    let ledger = MemoryLedger::new();
    let (summary, _) = apply(&client, &ledger, items(1), &options()).await;

    assert_eq!((summary.sent, summary.unknown), (0, 1));
    assert_eq!(stub.sends_of("spring-1"), 1);
}

#[tokio::test]
async fn a_connection_dropped_after_the_request_is_unknown() {
    let stub = Stub::start().await;
    stub.then([Reply::Drop]);
    let ledger = MemoryLedger::new();
    let (summary, _) = apply(&client(&stub), &ledger, items(1), &options()).await;

    assert_eq!(summary.unknown, 1);
    assert_eq!(status_of(&ledger, "spring-1"), EntryStatus::Unknown);
}

#[tokio::test]
async fn a_400_fails_that_message_only_and_its_error_hides_the_number() {
    let stub = Stub::start().await;
    stub.for_local_id("spring-2", [Reply::Status(400)]);
    let ledger = MemoryLedger::new();
    let (summary, events) = apply(&client(&stub), &ledger, items(3), &options()).await;

    assert_eq!((summary.sent, summary.failed), (2, 1));
    assert_eq!(stub.sends_of("spring-2"), 1);
    let error = ledger.entries().expect("entries")["spring-2"].error.clone();
    assert!(error.is_some_and(|error| !error.contains("5553344")));
    let json = serde_json::to_string(&events).expect("json");
    assert!(json.contains("refused (400)") && !json.contains("5553344"));
}

#[tokio::test]
async fn a_401_is_resigned_once() {
    let stub = Stub::start().await;
    stub.unauthorized(1);
    let ledger = MemoryLedger::new();
    let (summary, _) = apply(&client(&stub), &ledger, items(1), &options()).await;

    assert_eq!(summary.sent, 1);
    assert_eq!(stub.requests(), 2);
}

#[tokio::test]
async fn refused_credentials_halt_the_run() {
    let stub = Stub::start().await;
    stub.unauthorized(100);
    let mut one_at_a_time = options();
    one_at_a_time.concurrency = 1;
    let ledger = MemoryLedger::new();
    let (summary, _) = apply(&client(&stub), &ledger, items(3), &one_at_a_time).await;

    assert_eq!(
        (summary.failed, summary.halted),
        (1, Some(HaltReason::Unauthorized))
    );
    assert_eq!(stub.requests(), 2);
}

#[tokio::test]
async fn a_403_for_an_opted_out_contact_is_recorded_as_skipped() {
    let stub = Stub::start().await;
    stub.for_local_id("spring-1", [Reply::Status(403)])
        .opted_out(&phone(1));
    let ledger = MemoryLedger::new();
    let (summary, _) = apply(&client(&stub), &ledger, items(1), &options()).await;

    assert_eq!((summary.skipped_opted_out, summary.failed), (1, 0));
    assert_eq!(status_of(&ledger, "spring-1"), EntryStatus::SkippedOptedOut);
}

#[tokio::test]
async fn a_resumed_run_sends_only_what_is_unsettled() {
    let stub = Stub::start().await;
    let ledger = MemoryLedger::with_entries([
        entry("spring-1", EntryStatus::Sent, 1),
        entry("spring-2", EntryStatus::Unknown, 1),
        entry("spring-3", EntryStatus::Failed, 2),
        entry("spring-4", EntryStatus::InFlight, 1),
    ]);
    let (summary, events) = apply(&client(&stub), &ledger, items(5), &options()).await;

    assert_eq!(
        (summary.sent, summary.already_sent, summary.unknown),
        (2, 1, 2)
    );
    assert_eq!(stub.sends_of("spring-1") + stub.sends_of("spring-2"), 0);
    assert_eq!(stub.sends_of("spring-4"), 0);
    assert_eq!(ledger.entries().expect("entries")["spring-3"].attempts, 3);
    assert!(events.iter().any(|event| matches!(
        event,
        Event::Skipped {
            row: 2,
            reason: SkipReason::UnknownOutcome,
            ..
        }
    )));
}

#[tokio::test]
async fn a_run_of_failures_halts_on_the_error_budget() {
    let stub = Stub::start().await;
    stub.always(Reply::Status(400));
    let mut strict = options();
    strict.concurrency = 1;
    strict.max_consecutive_failures = 3;
    let ledger = MemoryLedger::new();
    let (summary, _) = apply(&client(&stub), &ledger, items(30), &strict).await;

    assert_eq!(
        (summary.failed, summary.halted),
        (3, Some(HaltReason::ErrorBudget))
    );
    assert_eq!(stub.arrivals().len(), 3);
}

#[tokio::test]
async fn a_stop_lets_in_flight_sends_finish_and_be_journalled() {
    let stub = Stub::start().await;
    stub.always(Reply::Slow(Duration::from_millis(400)));
    let mut two = options();
    two.concurrency = 2;
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        stop.send(true).expect("stop");
    });

    let ledger = MemoryLedger::new();
    let log = EventLog::new();
    let summary = run(&client(&stub), &ledger, items(10), &two, &log, stopped)
        .await
        .expect("run");

    assert_eq!(
        (summary.sent, summary.halted),
        (2, Some(HaltReason::Interrupted))
    );
    assert_eq!(stub.arrivals().len(), 2);
    let entries = ledger.entries().expect("entries");
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .values()
            .all(|entry| entry.status == EntryStatus::Sent)
    );
}

#[tokio::test]
async fn a_stop_ends_a_long_rate_limit_wait_and_leaves_the_message_resendable() {
    let stub = Stub::start().await;
    stub.then([Reply::RateLimited(Some("30"))]);
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.send(true).expect("stop");
    });

    let ledger = MemoryLedger::new();
    let started = Instant::now();
    let summary = run(
        &client(&stub),
        &ledger,
        items(3),
        &options(),
        &EventLog::new(),
        stopped,
    )
    .await
    .expect("run");

    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(summary.halted, Some(HaltReason::Interrupted));
    assert_eq!(stub.sends_of("spring-1"), 1);
    assert_eq!(status_of(&ledger, "spring-1"), EntryStatus::Failed);
}

#[tokio::test]
async fn a_local_id_repeated_in_the_plan_is_sent_once() {
    let stub = Stub::start().await;
    let ledger = MemoryLedger::new();
    let plan = [item(1), item(2), item(1)];
    let (summary, events) = apply(&client(&stub), &ledger, plan.into_iter(), &options()).await;

    assert_eq!(summary.sent, 2);
    assert_eq!(stub.sends_of("spring-1"), 1);
    assert!(events.iter().any(|event| matches!(
        event,
        Event::Skipped {
            reason: SkipReason::Duplicate,
            ..
        }
    )));
}

fn new_york_morning() -> EngineOptions {
    EngineOptions {
        window: Window::Between {
            start: "08:00".parse().expect("start"),
            end: "21:00".parse().expect("end"),
        },
        // Spring-forward Sunday, two seconds before 08:00 in New York.
        clock: Clock::parse("2026-03-08T07:59:58-04:00").expect("clock"),
        ..options()
    }
}

fn in_zone(row: u64, zone: &str) -> SendItem {
    SendItem {
        zones: vec![zone.to_owned()],
        ..item(row)
    }
}

#[tokio::test]
async fn a_closed_window_is_waited_for() {
    let stub = Stub::start().await;
    let ledger = MemoryLedger::new();
    let started = Instant::now();
    let recipients = [in_zone(1, "America/New_York"), in_zone(2, "Europe/London")];
    let (summary, events) = apply(
        &client(&stub),
        &ledger,
        recipients.into_iter(),
        &new_york_morning(),
    )
    .await;

    assert_eq!(
        (summary.sent, summary.deferred, summary.halted),
        (2, 0, None)
    );
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert!(events.iter().any(|event| matches!(
        event,
        Event::Waiting { until, deferred: 1 } if until == "2026-03-08T12:00:00Z"
    )));
}

#[tokio::test]
async fn a_closed_window_halts_a_no_wait_run() {
    let stub = Stub::start().await;
    let ledger = MemoryLedger::new();
    let mut no_wait = new_york_morning();
    no_wait.no_wait = true;
    let recipients = [in_zone(1, "America/New_York"), in_zone(2, "Europe/London")];
    let (summary, _) = apply(&client(&stub), &ledger, recipients.into_iter(), &no_wait).await;

    assert_eq!((summary.sent, summary.deferred), (1, 1));
    assert_eq!(summary.halted, Some(HaltReason::Window));
    assert_eq!(stub.sends_of("spring-1"), 0);
}

#[tokio::test]
async fn a_window_that_never_opens_is_reported_not_waited_on() {
    let stub = Stub::start().await;
    let ledger = MemoryLedger::new();
    let mut narrow = new_york_morning();
    narrow.window = Window::Between {
        start: "09:00".parse().expect("start"),
        end: "10:00".parse().expect("end"),
    };
    let far_apart = SendItem {
        zones: vec!["America/New_York".to_owned(), "Asia/Tokyo".to_owned()],
        ..item(1)
    };
    let (summary, events) = apply(&client(&stub), &ledger, [far_apart].into_iter(), &narrow).await;

    assert_eq!((summary.sent, summary.deferred), (0, 1));
    assert!(events.iter().any(|event| matches!(
        event,
        Event::Skipped {
            reason: SkipReason::WindowNeverOpens,
            ..
        }
    )));
}

#[tokio::test]
async fn the_rate_gate_holds_fifty_a_second_in_every_window() {
    let stub = Stub::start().await;
    let gate = RateGate::new(50.0 * 60.0);
    let client = client_for(&stub.url(), gate, Duration::from_secs(5));
    let ledger = MemoryLedger::new();
    let (summary, _) = apply(&client, &ledger, items(151), &options()).await;
    assert_eq!(summary.sent, 151);

    let arrivals: Vec<Instant> = stub.arrivals().iter().map(|arrival| arrival.at).collect();
    let span = arrivals[150] - arrivals[0];
    let rate = 150.0 / span.as_secs_f64();
    assert!((48.5..=51.5).contains(&rate), "achieved {rate:.2}/s");
    // Heymarket's limit is per minute: the gate allows a burst of 3 and spaces the rest at
    // 60/2997 s, so no 60 s window holds more than the rate. Scaled to this 3 s test, a 1 s
    // window holds at most 50 + 3, plus one arrival of scheduling jitter on a shared machine.
    for window in arrivals.windows(55) {
        assert!(
            window[54] - window[0] > Duration::from_secs(1),
            "55 sends in 1 s"
        );
    }
}
