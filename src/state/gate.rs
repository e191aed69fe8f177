//! The commit gate: keeps a journal's commits and `campaign status`'s copies of it apart.
//!
//! `status` reads a journal that a running `apply` may be committing to by copying the file
//! (see the snapshot module). A copy taken while a commit lands is torn, and a run that
//! commits without pause could tear every copy. So each commit holds an advisory lock on
//! `state_dir/<campaign>/commit.lock` exclusively, and each copy holds it shared: a reader
//! waits for at most one commit, and a commit waits for the readers already copying.
//!
//! A commit never waits on readers for longer than [`READER_WAIT`]: a `status` process that
//! was stopped while holding the gate must not stall a run. Past that, the commit goes ahead
//! and the reader, which still checks the file's header around its copy, notices and copies
//! again. This module orders commits and copies; it never reads or writes the journal.

use std::fs::{File, TryLockError};
use std::io::ErrorKind;
use std::path::Path;
use std::time::{Duration, Instant};

use super::StateError;
use super::files::private_file_options;

/// The gate file's name inside a campaign's state folder.
pub const GATE_FILE: &str = "commit.lock";

/// The longest a commit waits for readers to finish their copies.
const READER_WAIT: Duration = Duration::from_secs(2);

/// How often a waiting commit asks again.
const RETRY_PAUSE: Duration = Duration::from_millis(1);

/// The write side of the gate, held open by the run that owns the journal.
#[derive(Debug)]
pub struct CommitGate {
    file: File,
}

impl CommitGate {
    /// Opens (or creates, `0600`) the gate of the campaign whose state folder is `dir`.
    pub fn open(dir: &Path) -> Result<CommitGate, StateError> {
        let path = dir.join(GATE_FILE);
        let file = private_file_options()
            .open(&path)
            .map_err(|source| StateError::Io {
                path: path.display().to_string(),
                source,
            })?;
        Ok(CommitGate { file })
    }

    /// Runs `commit` with the gate held exclusively, once no reader is copying or
    /// [`READER_WAIT`] has passed.
    pub fn exclusive<T>(&self, commit: impl FnOnce() -> T) -> T {
        let deadline = Instant::now() + READER_WAIT;
        let held = loop {
            match self.file.try_lock() {
                Ok(()) => break true,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(RETRY_PAUSE);
                }
                Err(TryLockError::WouldBlock) => {
                    log::debug!("committing without the gate: a reader held it past the wait");
                    break false;
                }
                Err(TryLockError::Error(error)) => {
                    log::debug!("committing without the gate: {error}");
                    break false;
                }
            }
        };

        let result = commit();
        if held {
            // Closing the file at exit would release it too; an unlock that fails here leaves
            // readers to the header check, which needs no gate.
            let _ = self.file.unlock();
        }
        result
    }
}

/// Runs `copy` with the gate of the campaign folder `dir` held shared, so no commit lands
/// while it runs. With no gate file (no run of this build has held the campaign), or one
/// this process may not lock, `copy` runs unguarded and the caller's header check decides.
pub fn shared<T>(dir: &Path, copy: impl FnOnce() -> T) -> T {
    let file = match File::open(dir.join(GATE_FILE)) {
        Ok(file) => file,
        Err(error) => {
            if error.kind() != ErrorKind::NotFound {
                log::debug!("copying the journal without the gate: {error}");
            }
            return copy();
        }
    };

    // Blocks for at most the commit under way, which holds the gate only while it commits.
    let held = file.lock_shared().is_ok();
    let result = copy();
    if held {
        let _ = file.unlock();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::mpsc;

    #[test]
    fn a_commit_waits_for_a_reader_that_is_copying() {
        let dir = tempfile::tempdir().expect("temp dir");
        let gate = CommitGate::open(dir.path()).expect("gate");
        let (copying, started) = mpsc::channel();
        let (finish, release) = mpsc::channel::<()>();

        let folder = dir.path().to_path_buf();
        let reader = std::thread::spawn(move || {
            shared(&folder, || {
                copying.send(()).expect("signal");
                release.recv().expect("release");
                Instant::now()
            })
        });
        started.recv().expect("reader started");
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            finish.send(()).expect("finish");
        });

        let committed = gate.exclusive(Instant::now);
        let copied = reader.join().expect("reader");
        assert!(
            copied <= committed,
            "the commit ran while the copy held the gate"
        );
    }

    #[test]
    fn a_copy_without_a_gate_file_still_runs() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(shared(dir.path(), || 7), 7);
    }
}
