//! A consistent read of a journal that another process may be writing.
//!
//! redb 2 holds an exclusive file lock for as long as a database is open, so `campaign status`
//! cannot open the file a running `apply` holds. Instead it copies the file into memory and
//! opens the copy, the way redb opens a file after a crash. The copy is taken holding the
//! commit gate shared, so no commit lands while it is read, and is kept only when the file's
//! header, which every commit rewrites, is the same before and after the read: then the copy
//! holds the last commit intact even if a writer went ahead without the gate. This module
//! reads; it never writes the journal or takes the campaign lock.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;
use std::time::Duration;

use redb::{Builder, Database, StorageBackend, backends::InMemoryBackend};

use super::gate;
use super::journal::{IN_FLIGHT_AT_STOP, JOURNAL_FILE, guard_damaged, read_entries, storage_error};
use super::lock::{self, LOCK_FILE};
use super::{Entry, EntryStatus, StateError};

/// The leading bytes compared before and after a copy: the first page, holding redb's header.
const HEADER_BYTES: u64 = 4096;

/// How many copies to try before giving up on a journal that keeps changing.
const COPY_ATTEMPTS: u32 = 50;

/// The pause between two tries.
const COPY_PAUSE: Duration = Duration::from_millis(20);

/// The entries of the journal in the campaign folder `dir`, or `None` when it has none.
pub fn read(dir: &Path, campaign: &str) -> Result<Option<BTreeMap<String, Entry>>, StateError> {
    let path = dir.join(JOURNAL_FILE);
    let Some(bytes) = stable_copy(&path, dir, campaign)? else {
        return Ok(None);
    };

    let db = in_memory(&path, &bytes)?;
    let mut entries = read_entries(&db, &path)?;

    if !lock::is_held(dir) {
        settle_in_memory(&mut entries);
    }
    Ok(Some(entries))
}

/// The file's bytes once a read saw no commit land, `None` when there is no file.
///
/// The gate keeps commits out of a copy, so the first try normally succeeds. Only a writer
/// that went ahead without the gate on every one of [`COPY_ATTEMPTS`] tries gets
/// [`StateError::Locked`]: the campaign is busy, and asking again later will do.
fn stable_copy(path: &Path, dir: &Path, campaign: &str) -> Result<Option<Vec<u8>>, StateError> {
    let io_error = |source| StateError::Io {
        path: path.display().to_string(),
        source,
    };

    for _ in 0..COPY_ATTEMPTS {
        let copy = gate::shared(dir, || {
            let bytes = std::fs::read(path)?;
            Ok::<_, std::io::Error>((bytes, read_header(path)?))
        });
        let (bytes, header) = match copy {
            Ok(copy) => copy,
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error(error)),
        };

        if bytes.starts_with(&header) {
            return Ok(Some(bytes));
        }
        std::thread::sleep(COPY_PAUSE);
    }

    Err(StateError::Locked {
        campaign: campaign.to_string(),
        lock: dir.join(LOCK_FILE).display().to_string(),
        pid: None,
    })
}

/// The first [`HEADER_BYTES`] of the file, read afresh.
fn read_header(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut header = Vec::new();
    File::open(path)?
        .take(HEADER_BYTES)
        .read_to_end(&mut header)?;
    Ok(header)
}

/// Opens a copied journal in memory; redb repairs it as it would after a crash.
fn in_memory(path: &Path, bytes: &[u8]) -> Result<Database, StateError> {
    let backend = InMemoryBackend::new();
    let io_error = |source| StateError::Io {
        path: path.display().to_string(),
        source,
    };
    backend.set_len(bytes.len() as u64).map_err(io_error)?;
    backend.write(0, bytes).map_err(io_error)?;

    guard_damaged(path, || {
        Builder::new()
            .create_with_backend(backend)
            .map_err(|error| storage_error(path, error))
    })
}

/// With no run holding the campaign, what is still in flight was left by a stopped run: it
/// reads as `Unknown`, as the next open will record it.
fn settle_in_memory(entries: &mut BTreeMap<String, Entry>) {
    for entry in entries.values_mut() {
        if entry.status == EntryStatus::InFlight {
            entry.status = EntryStatus::Unknown;
            entry.error = Some(IN_FLIGHT_AT_STOP.to_string());
        }
    }
}
