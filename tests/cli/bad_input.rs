//! `campaign validate` against the bad-input corpus in `tests/bad-input/`: every broken
//! campaign file, CSV and template there must end in a clear message, never a panic or a hang.
//!
//! Each folder `NN-short-name/` holds a `campaign.yaml` (plus the CSV or template the case is
//! about). The run must exit 1, or 0 when the folder name ends in `-warning-only`; it must
//! not print `panicked`, must name a file of the case, and must finish within a hang guard.
//! Its stderr is snapshotted. Inputs too large to commit are written to a temporary folder
//! at test time and held to the same rules.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::support::{HEADER, Scratch, repo};

/// Not a timing assertion: a run still going after this long is taken to be hung.
const HANG_GUARD: Duration = Duration::from_secs(20);

/// The folder-name suffix of the few cases that are accepted with warnings.
const WARNING_ONLY: &str = "-warning-only";

/// How one validate run ended.
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

// Every committed case: exit code, no panic, names its file, stderr as snapshotted.
#[test]
fn each_committed_case_fails_clearly() {
    let cases = committed_cases();
    assert!(cases.len() >= 60, "the corpus has {} cases", cases.len());

    for case in cases {
        let name = case_name(&case);
        let expected = if name.ends_with(WARNING_ONLY) { 0 } else { 1 };
        let finished = validate_in(&case);
        check(&name, &finished, expected, &file_names(&case));
        insta::assert_snapshot!(name.clone(), finished.stderr);
    }
}

// A 10 MB message text is refused for its length, not by running out of memory or time.
#[test]
fn a_ten_megabyte_text_is_refused() {
    let scratch = Scratch::new();
    let text = "x".repeat(10 * 1024 * 1024);
    scratch.file(
        "campaign.yaml",
        format!("{HEADER}audience:\n  list: 501\nmessage:\n  text: \"{text} Reply STOP\"\n"),
    );

    refused("huge-text", &scratch, "campaign.yaml");
}

// A 1 GB CSV line is refused at its line once it passes the row limit (1 MiB), without
// reading the rest of it into memory.
#[test]
fn a_one_gigabyte_csv_line_is_refused_at_its_line() {
    let scratch = Scratch::new();
    scratch.recipients("", "Hi {{ first_name }}. Reply STOP to opt out.", "");
    write_huge_csv(&scratch.path().join("people.csv"), 1024);

    let finished = refused("huge-csv-line", &scratch, "people.csv");
    assert!(
        finished.stderr.contains("people.csv:3") && finished.stderr.contains("longer than 1 MiB"),
        "{}",
        finished.stderr
    );
}

// A template file that never ends is refused at the size cap, not read until memory runs
// out: reading it used to be unbounded.
#[test]
fn an_endless_template_file_is_refused_for_its_size() {
    let scratch = Scratch::new();
    scratch.file(
        "campaign.yaml",
        format!("{HEADER}audience:\n  list: 501\nmessage:\n  template: /dev/zero\n"),
    );

    refused("endless-template", &scratch, "campaign.yaml");
}

// A template that doubles a string 34 times asks for 16 GiB in a few hundred instructions,
// which fuel does not stop: it used to fill the machine's memory. The binary's render
// budget stops it at 64 MiB, naming the template's line and the row.
#[test]
fn a_template_that_grows_without_bound_is_stopped_at_the_memory_budget() {
    let doubling = "{% set ns = namespace(s=first_name) %}{% for i in range(34) %}\
                    {% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }} Reply STOP";
    template_refused("doubling-template", doubling, "needs more than 64 MiB");
}

// Each `i in range(100000)` is one instruction walking 100,000 numbers, so fuel let this
// loop run for minutes (found by fuzzing). The binary's watchdog stops a render after 5 s,
// naming the template's line and the row.
#[test]
fn a_template_whose_instructions_are_costly_is_stopped_by_the_watchdog() {
    let slow = "{% for i in range(100000) if 99999 in range(100000) %}x{% endfor %} Reply STOP";
    template_refused("slow-template", slow, "takes more than 5 s");
}

// Compiling folds constants without fuel: this one steps through ten billion empty
// repetitions (found by fuzzing), and the same watchdog stops it.
#[test]
fn a_template_whose_constant_repeats_a_sequence_endlessly_is_stopped_by_the_watchdog() {
    let endless = "{{ (() * 10000000000) ~ \"\" }} Reply STOP";
    template_refused("repeated-sequence-template", endless, "takes more than 5 s");
}

// minijinja folds constant expressions while compiling, so two 100 MB repetitions were
// built before any row was rendered: compiling is held to the same budget.
#[test]
fn a_template_whose_constants_are_huge_is_stopped_while_compiling() {
    let huge = "{{ (\"x\" * 99999999) ~ (\"x\" * 99999999) }} Reply STOP";
    template_refused("huge-constant-template", huge, "needs more than 64 MiB");
}

// The same for the campaign file itself, here a link to `/dev/zero`.
#[cfg(unix)]
#[test]
fn an_endless_campaign_file_is_refused_for_its_size() {
    let scratch = Scratch::new();
    std::os::unix::fs::symlink("/dev/zero", scratch.path().join("campaign.yaml"))
        .expect("link campaign.yaml to /dev/zero");

    refused("endless-campaign-file", &scratch, "campaign.yaml");
}

/// Validates a generated case, holds it to the checks every case shares (exit 1, naming
/// `file`) and snapshots its stderr as `generated-<name>`.
fn refused(name: &str, scratch: &Scratch, file: &str) -> Finished {
    let finished = validate_in(scratch.path());
    check(name, &finished, 1, &[file.to_owned()]);
    insta::assert_snapshot!(format!("generated-{name}"), finished.stderr);
    finished
}

/// Validates a campaign sending `text` to one row, held to [`refused`] as
/// `generated-<name>`; its error must say `says`.
fn template_refused(name: &str, text: &str, says: &str) {
    let scratch = Scratch::new();
    scratch.recipients("", text, "phone,first_name\n+1 510 555 0101,Ana\n");
    let finished = refused(name, &scratch, "campaign.yaml");
    assert!(finished.stderr.contains(says), "{}", finished.stderr);
}

/// `people.csv` with a good row, then a row whose name is `mebibytes` MiB long, then another.
fn write_huge_csv(path: &Path, mebibytes: usize) {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create CSV"));
    file.write_all(b"phone,first_name\n+1 510 555 0101,Ana\n+1 510 555 0102,")
        .expect("write CSV");
    let chunk = vec![b'y'; 1024 * 1024];
    for _ in 0..mebibytes {
        file.write_all(&chunk).expect("write CSV");
    }
    file.write_all(b"\n+1 510 555 0103,Ben\n")
        .expect("write CSV");
    file.flush().expect("write CSV");
}

/// The case folders under `tests/bad-input/`, in name order.
fn committed_cases() -> Vec<PathBuf> {
    let root = repo().join("tests").join("bad-input");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/bad-input/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    cases
}

fn case_name(case: &Path) -> String {
    case.file_name()
        .expect("a case folder has a name")
        .to_string_lossy()
        .into_owned()
}

/// The names of the files a case folder holds: its output must mention one of them.
fn file_names(case: &Path) -> Vec<String> {
    std::fs::read_dir(case)
        .expect("the case folder is readable")
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect()
}

/// The checks every case shares; each failure shows the whole output.
fn check(name: &str, finished: &Finished, expected: i32, files: &[String]) {
    let shown = format!(
        "case `{name}`\n--- stdout ---\n{}\n--- stderr ---\n{}",
        finished.stdout, finished.stderr
    );
    assert_eq!(finished.code, Some(expected), "exit code of {shown}");
    assert!(!finished.stderr.contains("panicked"), "a panic in {shown}");

    let talk = match expected {
        0 => format!("{}{}", finished.stdout, finished.stderr),
        _ => finished.stderr.clone(),
    };
    assert!(
        files.iter().any(|file| talk.contains(file.as_str())),
        "no file of the case is named in {shown}"
    );
}

/// Runs `campaign validate campaign.yaml` inside `dir`, killing it at the hang guard.
fn validate_in(dir: &Path) -> Finished {
    let mut child = Command::new(env!("CARGO_BIN_EXE_campaign"))
        .args(["validate", "campaign.yaml"])
        .current_dir(dir)
        .env_clear()
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the campaign binary starts");

    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let code = wait_guarded(&mut child, dir);

    Finished {
        code,
        stdout: stdout.join().expect("stdout is read"),
        stderr: stderr.join().expect("stderr is read"),
    }
}

/// Reads a pipe to the end on its own thread, so a chatty child never blocks on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).expect("the pipe is read");
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn wait_guarded(child: &mut Child, dir: &Path) -> Option<i32> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited on") {
            return status.code();
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`campaign validate` in {} hung past {HANG_GUARD:?}",
                dir.display()
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
}
