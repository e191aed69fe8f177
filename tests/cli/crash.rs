//! The crash test: `apply` killed with SIGKILL at random moments, resumed until a run
//! finishes, and then judged from the sandbox's own log: nobody got two messages, and every
//! recipient is `sent` or `unknown`, with `unknown` bounded by what the kills could leave.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::sandbox_proc::{Case, FAST_SEND, SandboxProc, csv_of, per_phone, run, signal};

/// Messages in flight at once in every crash trial.
const CONCURRENCY: usize = 4;

/// Trials per test in the normal suite.
const TRIALS: usize = 3;

/// How one trial went.
#[derive(Debug)]
struct Trial {
    recipients: usize,
    kills: usize,
    final_exit: Option<i32>,
    sent: usize,
    unknown: usize,
    /// Phone numbers the sandbox log holds more than once.
    duplicates: usize,
    elapsed: Duration,
}

/// Applies a campaign of `recipients` against a sandbox with `faults`, killing each run
/// after a random delay up to `max_delay_ms` until one finishes by itself (after at most
/// `max_kills` kills, the next run is left alone), then checks the outcome.
fn crash_trial(recipients: usize, faults: &[&str], max_kills: usize, max_delay_ms: u64) -> Trial {
    let started = Instant::now();
    let case = Case::recipients(FAST_SEND, &csv_of(recipients));
    let mut options = vec!["--rate-limit", "0", "--latency-ms", "5"];
    options.extend_from_slice(faults);
    let sandbox = SandboxProc::start(&case.path("sent.jsonl"), &options);
    let mut rng = rand::rng();

    let mut kills = 0;
    let mut run_number = 0;
    let final_exit = loop {
        run_number += 1;
        let mut command = case.apply(&case.campaign_file(), run_number);
        sandbox.point(&mut command);
        command.args([
            "--rate",
            "unlimited",
            "--concurrency",
            &CONCURRENCY.to_string(),
        ]);
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
    };

    if !case.report(run_number).exists() {
        let stderr = std::fs::read_to_string(case.path(&format!("stderr-{run_number}")));
        panic!("run {run_number} ended {final_exit:?} without a report: {stderr:?}");
    }
    let statuses = case.statuses(run_number);
    let counts = per_phone(&sandbox.messages());
    let trial = Trial {
        recipients,
        kills,
        final_exit,
        sent: count(&statuses, "sent"),
        unknown: count(&statuses, "unknown"),
        duplicates: counts.values().filter(|count| **count > 1).count(),
        elapsed: started.elapsed(),
    };
    check_log_agrees(&statuses, &counts);
    trial
}

fn count(statuses: &BTreeMap<String, String>, word: &str) -> usize {
    statuses.values().filter(|status| *status == word).count()
}

/// Every `sent` recipient is in the log once; nobody in the log is reported unsent.
fn check_log_agrees(statuses: &BTreeMap<String, String>, counts: &BTreeMap<String, usize>) {
    for (phone, status) in statuses {
        if status == "sent" {
            assert_eq!(
                counts.get(phone),
                Some(&1),
                "{phone} is sent and logged once"
            );
        }
    }
    for phone in counts.keys() {
        let status = statuses.get(phone).map(String::as_str);
        assert!(
            matches!(status, Some("sent" | "unknown")),
            "{phone} is in the log but reported {status:?}"
        );
    }
}

/// The checks every trial must pass; `bounded` when no fault adds unknowns of its own.
fn assert_trial(trial: &Trial, bounded: bool) {
    assert!(matches!(trial.final_exit, Some(0 | 1)), "{trial:?}");
    assert_eq!(trial.duplicates, 0, "nobody got two messages: {trial:?}");
    assert_eq!(trial.sent + trial.unknown, trial.recipients, "{trial:?}");
    if bounded {
        assert!(trial.unknown <= CONCURRENCY * trial.kills, "{trial:?}");
    }
}

#[test]
// Proves SIGKILL at random moments never sends anyone two messages and loses nobody.
fn killed_runs_resume_without_duplicates() {
    let trials: Vec<Trial> = (0..TRIALS).map(|_| crash_trial(200, &[], 5, 900)).collect();
    for trial in &trials {
        assert_trial(trial, true);
    }
    assert!(trials.iter().any(|trial| trial.kills > 0), "{trials:?}");
}

#[test]
// Proves the same with dropped connections and server errors on top of the kills.
fn killed_runs_with_faults_resume_without_duplicates() {
    let faults = ["--drop-after", "0.05", "--fail-500", "0.05", "--seed", "9"];
    let trials: Vec<Trial> = (0..TRIALS)
        .map(|_| crash_trial(200, &faults, 5, 900))
        .collect();
    for trial in &trials {
        assert_trial(trial, false);
    }
    assert!(trials.iter().any(|trial| trial.kills > 0), "{trials:?}");
}

#[test]
#[ignore = "long: run through scripts/crash-test.sh"]
// Proves the crash guarantees over many trials of 1,000 recipients (CRASH_TRIALS, default 20).
fn crash_test_long() {
    let trials: usize = std::env::var("CRASH_TRIALS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(20);
    println!("\ntrial  faults  recipients  kills  exit  sent  unknown  duplicates  seconds");
    for number in 1..=trials {
        let faulty = number % 2 == 0;
        let seed = number.to_string();
        let faults = [
            "--drop-after",
            "0.05",
            "--fail-500",
            "0.05",
            "--seed",
            &seed,
        ];
        let faults: &[&str] = if faulty { &faults } else { &[] };
        let trial = crash_trial(1000, faults, 8, 2500);
        println!(
            "{number:>5}  {:>6}  {:>10}  {:>5}  {:>4}  {:>4}  {:>7}  {:>10}  {:>7.1}",
            if faulty { "on" } else { "off" },
            trial.recipients,
            trial.kills,
            trial
                .final_exit
                .map_or("-".to_owned(), |code| code.to_string()),
            trial.sent,
            trial.unknown,
            trial.duplicates,
            trial.elapsed.as_secs_f64(),
        );
        assert_trial(&trial, !faulty);
    }
}
