//! What `apply` says when it cannot go on: the error, each cause, and hints with the fix.
//!
//! The hints that matter most are about the disk. A journal that cannot be written stops the
//! run, since no send may leave without its intent on disk; a report that cannot be written
//! costs only the report, since every outcome is already in the journal. Either way the fix
//! is the same: free space (when the disk is full) and run the same `apply` again. This
//! module words those messages; it decides nothing about sending.

use std::error::Error;
use std::io::ErrorKind;
use std::path::Path;

/// What a hint names: the file `apply` was given, and the campaign file behind it.
#[derive(Debug, Clone, Copy)]
pub struct Rerun<'a> {
    /// The campaign file or saved plan, as given to `apply`.
    pub file: &'a Path,
    /// The campaign file, for `campaign status`.
    pub campaign_file: &'a Path,
}

/// Prints `error` and each of its causes to stderr, then `hints`.
pub fn print(error: &(dyn Error + 'static), hints: &[String]) {
    eprintln!("error: {error}");
    let mut cause = error.source();
    while let Some(source) = cause {
        eprintln!("  caused by: {source}");
        cause = source.source();
    }
    for hint in hints {
        eprintln!("  = hint: {hint}");
    }
}

/// Whether `error`, or any of its causes, is a disk out of space or over quota.
pub fn is_disk_full(error: &(dyn Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(current) = next {
        let is_full = current.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge
            )
        });
        if is_full {
            return true;
        }
        next = current.source();
    }
    false
}

/// The hints after the journal in `journal_dir` could not be opened: nothing was sent.
pub fn journal_unopened(
    error: &(dyn Error + 'static),
    journal_dir: &Path,
    rerun: Rerun,
) -> Vec<String> {
    match is_disk_full(error) {
        true => vec![format!(
            "{}, then run the same `campaign apply {}` again; nothing was sent",
            free_space(journal_dir),
            rerun.file.display()
        )],
        false => Vec::new(),
    }
}

/// The hints after the journal in `journal_dir` failed mid-run and sending stopped.
pub fn journal_stopped(
    error: &(dyn Error + 'static),
    journal_dir: &Path,
    rerun: Rerun,
) -> Vec<String> {
    let fix = match is_disk_full(error) {
        true => free_space(journal_dir),
        false => "fix the cause above".to_owned(),
    };
    vec![
        format!(
            "{fix}, then run the same `campaign apply {}` again to resume",
            rerun.file.display()
        ),
        format!(
            "no message recorded `sent` is sent again; those in flight when the journal failed \
             become `unknown`, never re-sent blindly; `campaign status {}` shows where the sends stand",
            rerun.campaign_file.display()
        ),
    ]
}

/// The hints after the report in `report_dir` could not be written; the outcomes are safe in
/// the journal at `journal`.
pub fn report_unwritten(
    error: &(dyn Error + 'static),
    report_dir: &Path,
    journal: &Path,
    rerun: Rerun,
) -> Vec<String> {
    let fix = match is_disk_full(error) {
        true => free_space(report_dir),
        false => "fix the cause above".to_owned(),
    };
    vec![
        format!(
            "no outcome is lost: they are in the journal `{}`; `campaign status {}` shows them",
            journal.display(),
            rerun.campaign_file.display()
        ),
        format!(
            "{fix}, then run the same `campaign apply {}` again to write the report; messages \
             already sent are not sent again",
            rerun.file.display()
        ),
    ]
}

/// The hint after any other write that a full disk refused; `file` is what `apply` was given.
pub fn disk_full(file: &Path) -> Vec<String> {
    vec![format!(
        "the disk is full: free space, then run the same `campaign apply {}` again; no message \
         recorded `sent` is sent again",
        file.display()
    )]
}

/// Our wording of "No space left on device" for the disk holding `dir`, with the fix.
fn free_space(dir: &Path) -> String {
    format!(
        "the disk holding `{}` is full: free space on it",
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> std::io::Error {
        std::io::Error::from(ErrorKind::StorageFull)
    }

    #[test]
    fn a_full_disk_is_found_below_context() {
        let error = anyhow::Error::new(full()).context("cannot write the report to `r`");

        assert!(is_disk_full(error.as_ref()));
    }

    #[test]
    fn other_failures_are_not_a_full_disk() {
        let error = anyhow::Error::new(std::io::Error::from(ErrorKind::PermissionDenied));

        assert!(!is_disk_full(error.as_ref()));
    }

    #[test]
    fn a_full_journal_disk_names_the_folder_and_the_rerun() {
        let rerun = Rerun {
            file: Path::new("spring.yaml"),
            campaign_file: Path::new("spring.yaml"),
        };

        let hints = journal_stopped(&full(), Path::new("state/spring"), rerun);

        assert!(hints[0].contains("the disk holding `state/spring` is full"));
        assert!(hints[0].contains("`campaign apply spring.yaml` again to resume"));
    }
}
