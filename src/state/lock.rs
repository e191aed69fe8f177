//! The per-campaign lock that keeps two `apply` runs of one campaign apart.
//!
//! The lock is an OS advisory lock on `state_dir/<campaign>/lock`, so the kernel drops it when
//! its holder exits for any reason, `kill -9` included: a crash never leaves a campaign stuck.
//! The holder writes its pid into the file so the refusal can say who holds it. This module
//! only guards the journal; it does not decide what a run may send.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::StateError;
use super::files::private_file_options;

/// The lock file's name inside a campaign's state folder.
pub const LOCK_FILE: &str = "lock";

/// A held campaign lock. Dropping it closes the file, which releases the lock.
#[derive(Debug)]
pub struct CampaignLock {
    /// Kept open for as long as the lock is held: closing it releases the lock.
    _file: File,
    path: PathBuf,
}

impl CampaignLock {
    /// Takes the lock of `campaign` in its state folder `dir`, or fails at once with
    /// [`StateError::Locked`] when another process (or another handle here) holds it.
    pub fn acquire(dir: &Path, campaign: &str) -> Result<CampaignLock, StateError> {
        let path = dir.join(LOCK_FILE);
        let io_error = |source| StateError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = private_file_options().open(&path).map_err(io_error)?;

        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    campaign: campaign.to_string(),
                    lock: path.display().to_string(),
                    pid: read_pid(&mut file),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io_error(source)),
        }

        write_pid(&mut file).map_err(io_error)?;
        Ok(CampaignLock { _file: file, path })
    }

    /// Where the lock file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether some process holds the lock of the campaign whose state folder is `dir`.
///
/// This probes with a shared lock that is released at once. A folder with no lock file is not
/// held; a lock that cannot be probed counts as held, so callers err towards "a run is going".
pub fn is_held(dir: &Path) -> bool {
    let file = match File::open(dir.join(LOCK_FILE)) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return false,
        Err(_) => return true,
    };

    match file.try_lock_shared() {
        Ok(()) => false,
        Err(TryLockError::WouldBlock | TryLockError::Error(_)) => true,
    }
}

/// Replaces the lock file's content with this process's pid.
fn write_pid(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "{}", std::process::id())
}

/// The pid the current holder wrote, if it wrote one that reads as a number.
fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_acquire_names_the_holder_pid() {
        let dir = tempfile::tempdir().expect("temp dir");
        let held = CampaignLock::acquire(dir.path(), "spring").expect("first lock");

        let refused = CampaignLock::acquire(dir.path(), "spring").expect_err("second lock");

        match refused {
            StateError::Locked {
                campaign,
                lock,
                pid,
            } => {
                assert_eq!(campaign, "spring");
                assert_eq!(lock, held.path().display().to_string());
                assert_eq!(pid, Some(std::process::id()));
            }
            other => panic!("expected Locked, got {other:?}"),
        }
    }

    #[test]
    fn dropping_the_lock_frees_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let held = CampaignLock::acquire(dir.path(), "spring").expect("first lock");
        assert!(is_held(dir.path()));

        drop(held);

        assert!(!is_held(dir.path()));
        CampaignLock::acquire(dir.path(), "spring").expect("lock after drop");
    }

    #[test]
    fn a_missing_lock_file_is_not_held() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(!is_held(dir.path()));
    }

    #[test]
    fn a_garbled_pid_reads_as_none() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut file = private_file_options()
            .open(dir.path().join(LOCK_FILE))
            .expect("open lock file");
        file.write_all(b"not a pid").expect("write");

        assert_eq!(read_pid(&mut file), None);
    }
}
