//! The crash test: `apply` killed with SIGKILL at random moments, resumed until a run
//! finishes, and then judged from the sandbox's own log: nobody got two messages, every row
//! ends in a final status, `unknown` is bounded by the requests in flight at the kills, and
//! `--retry-unknown` against a deduplicating sandbox settles every unknown without a
//! duplicate.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::Value;

use crate::sandbox_proc::{
    Case, FAST_SEND, SandboxProc, csv_of, per_phone, row_key, run, signal, text,
};

/// Messages in flight at once in every crash trial.
const CONCURRENCY: usize = 4;

/// Trials per test in the normal suite.
const TRIALS: usize = 3;

/// Rows every trial's CSV carries besides its recipients: an opted-out and a blocked contact,
/// two numbers that are not phone numbers, and a duplicate of the first recipient.
const AWKWARD_ROWS: &str = "+1 510 555 0199,OptedOut\n+1 510 555 0198,Blocked\n12345,Short\nnot a phone,Words\n+1 510 555 0101,Again\n";

/// How each of [`AWKWARD_ROWS`] ends, in order; the two contacts the sandbox refuses may
/// also be `unknown` when a fault hid the refusal.
const AWKWARD_ENDS: [&str; 5] = [
    "skipped_opted_out",
    "skipped_blocked",
    "invalid",
    "invalid",
    "skipped_duplicate",
];

/// The sandbox faults a trial runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Faults {
    /// None: every unknown comes from a kill.
    Off,
    /// 429s (each pausing every send for a second) and slow answers: the client knows nothing was accepted, so again every
    /// unknown comes from a kill.
    Clear,
    /// Dropped connections and 5xx answers before and after recording: unknowns of their own.
    Ambiguous,
}

impl Faults {
    fn options(self, seed: &str) -> Vec<String> {
        let options: &[&str] = match self {
            Faults::Off => &[],
            Faults::Clear => &[
                "--fail-429",
                "0.02",
                "--slow-share",
                "0.05",
                "--slow-ms",
                "150",
            ],
            Faults::Ambiguous => &[
                "--drop-after",
                "0.03",
                "--drop-before",
                "0.02",
                "--fail-500-after",
                "0.03",
                "--fail-500",
                "0.02",
            ],
        };
        let mut options: Vec<String> = options.iter().map(|o| (*o).to_owned()).collect();
        options.extend(["--seed".to_owned(), seed.to_owned()]);
        options
    }

    fn name(self) -> &'static str {
        match self {
            Faults::Off => "off",
            Faults::Clear => "429s",
            Faults::Ambiguous => "drops+5xx",
        }
    }
}

/// How one trial went.
#[derive(Debug)]
struct Trial {
    faults: Faults,
    recipients: usize,
    kills: usize,
    /// Requests in flight at the kills, summed: intents the journal held without an outcome.
    in_flight: usize,
    final_exit: Option<i32>,
    sent: usize,
    unknown: usize,
    /// Phone numbers the sandbox log holds more than once, before and after settling.
    duplicates: usize,
    /// `--retry-unknown` runs it took to settle every unknown (0 when there were none).
    settle_runs: usize,
    elapsed: Duration,
}

/// Applies a campaign of `recipients` (plus [`AWKWARD_ROWS`]) against a sandbox with
/// `faults`, killing each run after a random delay up to `max_delay_ms` until one finishes by
/// itself (after `max_kills` kills the next run is left alone); checks the outcome, then
/// settles the unknowns with `--retry-unknown` against a fault-free sandbox on the same log.
fn crash_trial(
    recipients: usize,
    faults: Faults,
    seed: u64,
    max_kills: usize,
    max_delay_ms: u64,
) -> Trial {
    let started = Instant::now();
    let case = Case::recipients(FAST_SEND, &(csv_of(recipients) + AWKWARD_ROWS));
    let mut options = vec![
        "--rate-limit".to_owned(),
        "0".into(),
        "--latency-ms".into(),
        "5".into(),
    ];
    options.extend(faults.options(&seed.to_string()));
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let sandbox = SandboxProc::start(&case.path("sent.jsonl"), &options);
    let mut rng = rand::rng();

    let mut kills = 0;
    let mut in_flight = BTreeSet::new();
    let mut run_number = 0;
    let final_exit = loop {
        run_number += 1;
        let mut command = apply(&case, &sandbox, run_number);
        if kills >= max_kills {
            break run(&mut command).status.code();
        }
        let stderr =
            std::fs::File::create(case.path(&format!("stderr-{run_number}"))).expect("stderr file");
        let mut child = command
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start apply");
        std::thread::sleep(Duration::from_millis(rng.random_range(50..=max_delay_ms)));
        if let Some(status) = child.try_wait().expect("poll apply") {
            break status.code();
        }
        signal(&child, "KILL");
        let _ = child.wait();
        kills += 1;

        let at_kill: BTreeSet<String> = in_flight_at_kill(&case)
            .difference(&in_flight)
            .cloned()
            .collect();
        assert!(
            at_kill.len() <= CONCURRENCY,
            "{at_kill:?} in flight at once"
        );
        in_flight.extend(at_kill);
    };

    let rows = report_rows(&case, run_number, final_exit, false);
    let counts = per_phone(&sandbox.messages());
    check_log_agrees(&rows, &counts);
    let mut trial = Trial {
        faults,
        recipients,
        kills,
        in_flight: in_flight.len(),
        final_exit,
        sent: count(&rows, "sent"),
        unknown: count(&rows, "unknown"),
        duplicates: counts.values().filter(|count| **count > 1).count(),
        settle_runs: 0,
        elapsed: Duration::ZERO,
    };
    drop(sandbox);

    trial.settle_runs = settle(&case, run_number, trial.unknown);
    let settled = SandboxProc::start(&case.path("sent.jsonl"), &["--rate-limit", "0"]);
    let counts = per_phone(&settled.messages());
    trial.duplicates += counts.values().filter(|count| **count > 1).count();
    trial.elapsed = started.elapsed();
    trial
}

/// `campaign apply` for run `run` of the trial, pointed at `sandbox`, with concurrency.
fn apply(case: &Case, sandbox: &SandboxProc, run: u32) -> std::process::Command {
    let mut command = case.apply(&case.campaign_file(), run);
    sandbox.point(&mut command);
    command.args([
        "--rate",
        "unlimited",
        "--concurrency",
        &CONCURRENCY.to_string(),
    ]);
    command
}

/// The messages that were in flight when the last run was killed: `campaign status` reads
/// a stopped run's intents without an outcome as unknown, "in flight when a previous run
/// stopped" (as does the next run, which keeps them unknown).
fn in_flight_at_kill(case: &Case) -> BTreeSet<String> {
    let output = run(case.status().arg("--json"));
    assert!(
        output.status.success(),
        "status after a kill: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Value = serde_json::from_slice(&output.stdout).expect("status --json");
    document["unknown"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| text(&entry["error"]) == "in flight when a previous run stopped")
        .map(|entry| text(&entry["local_id"]))
        .collect()
}

/// The finished run's report rows, each checked to end where it may: a recipient `sent`
/// or `unknown` (only `sent` once `settled`), an awkward row as [`AWKWARD_ENDS`] says.
fn report_rows(case: &Case, run: u32, exit: Option<i32>, settled: bool) -> Vec<Value> {
    if !case.report(run).exists() {
        let stderr = std::fs::read_to_string(case.path(&format!("stderr-{run}")));
        panic!("run {run} ended {exit:?} without a report: {stderr:?}");
    }
    let rows = case.results(run);
    let recipients = rows.len() - AWKWARD_ENDS.len();
    for (index, row) in rows.iter().enumerate() {
        let status = text(&row["status"]);
        let expected = AWKWARD_ENDS.get(index.wrapping_sub(recipients)).copied();
        let may_be_unknown = !settled && index < recipients + 2;
        let fine = match expected {
            None => status == "sent" || (may_be_unknown && status == "unknown"),
            Some(end) => status == end || (may_be_unknown && status == "unknown"),
        };
        assert!(fine, "row {} ends {status}: {row}", index + 1);
    }
    rows
}

/// Runs `apply --retry-unknown` against a fault-free sandbox on the trial's log (its
/// `local_id` dedupe remembers every message logged) until no row is unknown; returns how
/// many runs it took.
fn settle(case: &Case, last_run: u32, unknown: usize) -> usize {
    if unknown == 0 {
        return 0;
    }
    let sandbox = SandboxProc::start(&case.path("sent.jsonl"), &["--rate-limit", "0"]);
    for attempt in 1..=3 {
        let run_number = last_run + u32::try_from(attempt).expect("few runs");
        let output = run(apply(case, &sandbox, run_number).arg("--retry-unknown"));
        let rows = report_rows(case, run_number, output.status.code(), false);
        if count(&rows, "unknown") == 0 {
            report_rows(case, run_number, output.status.code(), true);
            let counts = per_phone(&sandbox.messages());
            check_log_agrees(&rows, &counts);
            return attempt;
        }
    }
    panic!("--retry-unknown against a healthy sandbox left unknowns after 3 runs");
}

fn count(rows: &[Value], word: &str) -> usize {
    rows.iter().filter(|row| row["status"] == word).count()
}

/// Every `sent` row is in the log once; nobody in the log is reported anything but `sent`
/// or `unknown`.
fn check_log_agrees(rows: &[Value], counts: &BTreeMap<String, usize>) {
    let mut statuses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        statuses
            .entry(row_key(row))
            .or_default()
            .push(text(&row["status"]));
        if row["status"] == "sent" {
            let phone = row_key(row);
            assert_eq!(
                counts.get(&phone),
                Some(&1),
                "{phone} is sent and logged once"
            );
        }
    }
    for phone in counts.keys() {
        let found = statuses.get(phone).into_iter().flatten();
        assert!(
            found
                .clone()
                .any(|status| status == "sent" || status == "unknown"),
            "{phone} is in the log but reported {:?}",
            found.collect::<Vec<_>>()
        );
    }
}

/// The checks every trial must pass.
fn assert_trial(trial: &Trial) {
    assert!(matches!(trial.final_exit, Some(0 | 1)), "{trial:?}");
    assert_eq!(trial.duplicates, 0, "nobody got two messages: {trial:?}");
    if trial.faults != Faults::Ambiguous {
        assert!(
            trial.unknown <= trial.in_flight,
            "unknown only from kills: {trial:?}"
        );
    }
}

fn trials(count: usize, faults: Faults) -> Vec<Trial> {
    (0..count)
        .map(|seed| crash_trial(200, faults, seed as u64, 5, 900))
        .collect()
}

#[test]
// Proves SIGKILL at random moments never sends anyone two messages and loses nobody.
fn killed_runs_resume_without_duplicates() {
    let trials = trials(TRIALS, Faults::Off);
    for trial in &trials {
        assert_trial(trial);
    }
    assert!(trials.iter().any(|trial| trial.kills > 0), "{trials:?}");
}

#[test]
// Proves the same with dropped connections and server errors on top of the kills, and that
// --retry-unknown then settles every unknown without a duplicate.
fn killed_runs_with_faults_resume_without_duplicates() {
    let trials = trials(TRIALS, Faults::Ambiguous);
    for trial in &trials {
        assert_trial(trial);
    }
    assert!(trials.iter().any(|trial| trial.kills > 0), "{trials:?}");
}

#[test]
#[ignore = "long: run through scripts/crash-test.sh"]
// Proves the crash guarantees over many trials of 1,000 recipients (CRASH_TRIALS, default 50),
// cycling through no faults, 429 storms, and drops with 5xx answers.
fn crash_test_long() {
    let count: usize = std::env::var("CRASH_TRIALS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(50);
    println!(
        "\ntrial  faults     recipients  kills  in-flight  exit  sent  unknown  settle-runs  duplicates  seconds"
    );
    let mut totals = (0, 0, 0, 0);
    for number in 1..=count {
        let faults = [Faults::Off, Faults::Clear, Faults::Ambiguous][number % 3];
        let trial = crash_trial(1000, faults, number as u64, 8, 2500);
        println!(
            "{number:>5}  {:<9}  {:>10}  {:>5}  {:>9}  {:>4}  {:>4}  {:>7}  {:>11}  {:>10}  {:>7.1}",
            faults.name(),
            trial.recipients,
            trial.kills,
            trial.in_flight,
            trial
                .final_exit
                .map_or("-".to_owned(), |code| code.to_string()),
            trial.sent,
            trial.unknown,
            trial.settle_runs,
            trial.duplicates,
            trial.elapsed.as_secs_f64(),
        );
        assert_trial(&trial);
        totals.0 += trial.kills;
        totals.1 += trial.unknown;
        totals.2 += trial.duplicates;
        totals.3 += trial.recipients;
    }
    println!(
        "\n{count} trials, {} recipients, {} kills, {} unknown (all settled by --retry-unknown), {} duplicates",
        totals.3, totals.0, totals.1, totals.2
    );
}
