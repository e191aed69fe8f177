//! The on-disk journal: one redb file per campaign, `state_dir/<campaign>/journal.redb`.
//!
//! Two tables: `entries` maps each `local_id` to its [`Entry`] as JSON, upserted by every
//! record; `meta` names the campaign, the format and when the journal was made. Opening takes
//! the campaign lock, then turns every entry left in flight by a stopped run into `unknown`,
//! in one commit. Writes go through the group-commit [`Writer`]; this module owns the layout
//! and how a record changes an entry, never when to send.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Builder, Database, DatabaseError, Durability, ReadableTable, TableDefinition};

use crate::panic_guard::catch_silently;

use super::files::{campaign_dir, create_private_dir, private_file_options, restrict};
use super::gate::CommitGate;
use super::lock::CampaignLock;
use super::writer::Writer;
use super::{Entry, EntryStatus, Ledger, Record, StateError};

/// The journal file's name inside a campaign's state folder.
pub const JOURNAL_FILE: &str = "journal.redb";

/// The error an entry gets when it was in flight as a previous run stopped.
pub const IN_FLIGHT_AT_STOP: &str = "in flight when a previous run stopped";

/// The layout version written to `meta`; a journal in any other format is refused.
const FORMAT_VERSION: &str = "1";

pub(super) const ENTRIES: TableDefinition<&str, &[u8]> = TableDefinition::new("entries");
const META: TableDefinition<&str, &str> = TableDefinition::new("meta");

/// The durable journal of one campaign, held exclusively while it is open.
///
/// Dropping it finishes the queued appends, closes the file and releases the lock.
#[derive(Debug)]
pub struct Journal {
    // Field order is drop order: the writer drains and stops before the file closes, and the
    // lock goes last, so the next holder never finds the file still open.
    writer: Writer,
    db: Arc<Database>,
    path: PathBuf,
    recovered: usize,
    _lock: CampaignLock,
}

impl Journal {
    /// Opens (or creates) the journal of `campaign` under `state_dir` and takes its lock.
    ///
    /// Folders are made `0700` and files `0600`: the journal holds personal data. Fails with
    /// [`StateError::Locked`] at once when another run holds the campaign.
    pub fn open(state_dir: &Path, campaign: &str) -> Result<Journal, StateError> {
        let dir = campaign_dir(state_dir, campaign)?;
        create_private_dir(&dir)?;
        let lock = CampaignLock::acquire(&dir, campaign)?;

        let path = dir.join(JOURNAL_FILE);
        let gate = CommitGate::open(&dir)?;
        let db = open_database(&path, campaign, &lock)?;
        let recovered = prepare(&db, &gate, &path, campaign)?;
        if recovered > 0 {
            log::warn!("marked {recovered} sends `unknown`: {IN_FLIGHT_AT_STOP}");
        }

        let db = Arc::new(db);
        let writer = Writer::spawn(Arc::clone(&db), gate, path.clone())?;
        Ok(Journal {
            writer,
            db,
            path,
            recovered,
            _lock: lock,
        })
    }

    /// The entries of `campaign` without taking its lock, or `None` when it has no journal.
    ///
    /// Works while a run holds the campaign: the view is a consistent copy of the file. An
    /// entry in flight reads as `InFlight` while a run holds the lock, `Unknown` otherwise.
    pub fn read_only(
        state_dir: &Path,
        campaign: &str,
    ) -> Result<Option<BTreeMap<String, Entry>>, StateError> {
        let dir = campaign_dir(state_dir, campaign)?;
        super::snapshot::read(&dir, campaign)
    }

    /// Where the journal file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many entries this open found in flight from a stopped run and made `Unknown`.
    pub fn recovered(&self) -> usize {
        self.recovered
    }
}

impl Ledger for Journal {
    /// Resolves once `records` are committed with an fsync; a failed commit fails every append
    /// that shared it. A dropped future does not withdraw its records: they may still commit.
    fn append(&self, records: Vec<Record>) -> impl Future<Output = Result<(), StateError>> + Send {
        let queued = (!records.is_empty()).then(|| self.writer.submit(records));

        async move {
            let Some(queued) = queued else {
                return Ok(());
            };
            queued?.await.map_err(|_| StateError::Closed)?
        }
    }

    fn entries(&self) -> Result<BTreeMap<String, Entry>, StateError> {
        read_entries(&self.db, &self.path)
    }
}

/// How `record` changes the entry it is about (`None` when there is none yet).
///
/// An outcome with no intent before it still makes an entry, with row 0 and no attempts, so
/// nothing recorded is dropped. Once a message has a `message_id` or `sent_at`, an outcome
/// without one keeps the old value.
pub(super) fn apply_record(current: Option<Entry>, record: &Record) -> Entry {
    let mut entry = current.unwrap_or_else(|| Entry {
        local_id: record.local_id().to_string(),
        row: 0,
        status: EntryStatus::InFlight,
        attempts: 0,
        message_id: None,
        request_id: None,
        sent_at: None,
        error: None,
    });

    match record {
        Record::Intent { row, attempt, .. } => {
            entry.status = EntryStatus::InFlight;
            entry.row = *row;
            entry.attempts = *attempt;
        }
        Record::Outcome {
            status,
            message_id,
            request_id,
            sent_at,
            error,
            ..
        } => {
            entry.status = *status;
            entry.message_id = message_id.or(entry.message_id);
            entry.request_id = request_id.clone().or(entry.request_id);
            entry.sent_at = sent_at.clone().or(entry.sent_at);
            entry.error = error.clone();
        }
    }
    entry
}

/// Applies `records` in order in one transaction and commits it with an fsync, holding `gate`
/// while the commit lands.
pub(super) fn commit_records<'a>(
    db: &Database,
    gate: &CommitGate,
    path: &Path,
    records: impl Iterator<Item = &'a Record>,
) -> Result<(), StateError> {
    let mut txn = db.begin_write().map_err(|e| storage_error(path, e))?;
    txn.set_durability(Durability::Immediate);

    {
        let mut table = txn
            .open_table(ENTRIES)
            .map_err(|e| storage_error(path, e))?;
        for record in records {
            let id = record.local_id();
            let stored = table.get(id).map_err(|e| storage_error(path, e))?;
            let current = stored.map(|v| decode(path, v.value())).transpose()?;
            let next = apply_record(current, record);
            let bytes = encode(path, &next)?;
            table
                .insert(id, bytes.as_slice())
                .map_err(|e| storage_error(path, e))?;
        }
    }

    gate.exclusive(|| txn.commit())
        .map_err(|e| storage_error(path, e))
}

/// Every entry in `db`, by `local_id`; an empty map when the table was never made.
pub(super) fn read_entries(
    db: &Database,
    path: &Path,
) -> Result<BTreeMap<String, Entry>, StateError> {
    let txn = db.begin_read().map_err(|e| storage_error(path, e))?;
    let table = match txn.open_table(ENTRIES) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(BTreeMap::new()),
        Err(error) => return Err(storage_error(path, error)),
    };

    let mut entries = BTreeMap::new();
    for row in table.iter().map_err(|e| storage_error(path, e))? {
        let (id, value) = row.map_err(|e| storage_error(path, e))?;
        entries.insert(id.value().to_string(), decode(path, value.value())?);
    }
    Ok(entries)
}

/// Converts a redb failure about the file at `path`.
pub(super) fn storage_error(path: &Path, error: impl Into<redb::Error>) -> StateError {
    let path = path.display().to_string();
    match error.into() {
        redb::Error::Io(source) => StateError::Io { path, source },
        redb::Error::Corrupted(reason) => StateError::Corrupt { path, reason },
        other => StateError::Io {
            path,
            source: std::io::Error::other(other.to_string()),
        },
    }
}

/// Runs a redb call that may panic on a damaged file (redb 2 asserts, for one, that the file
/// is as long as its header says) and turns such a panic into [`StateError::Corrupt`].
/// Journals are opened before any send starts.
pub(super) fn guard_damaged<T>(
    path: &Path,
    open: impl FnOnce() -> Result<T, StateError>,
) -> Result<T, StateError> {
    catch_silently(open).unwrap_or_else(|| {
        Err(StateError::Corrupt {
            path: path.display().to_string(),
            reason: "it is shorter than its own header says: truncated or damaged".to_owned(),
        })
    })
}

/// Opens the redb file at `path`, creating it `0600`. redb's own file lock backs ours up.
fn open_database(path: &Path, campaign: &str, lock: &CampaignLock) -> Result<Database, StateError> {
    let io_error = |source| StateError::Io {
        path: path.display().to_string(),
        source,
    };
    if !path.exists() {
        create_database(path).map_err(io_error)?;
    }
    let file = private_file_options().open(path).map_err(io_error)?;
    restrict(path, 0o600).map_err(io_error)?;

    match guard_damaged(path, || Ok(Builder::new().create_file(file)))? {
        Ok(db) => Ok(db),
        Err(DatabaseError::DatabaseAlreadyOpen) => Err(StateError::Locked {
            campaign: campaign.to_string(),
            lock: lock.path().display().to_string(),
            pid: None,
        }),
        Err(error) => Err(storage_error(path, error)),
    }
}

/// Makes an empty journal at `path` by building it beside and renaming it into place.
///
/// redb refuses for good a file whose creation was cut short (its header is written last),
/// so a run killed while creating the journal in place would lock the campaign out. Built
/// beside it, a cut-short file is only a leftover that the next creation replaces.
fn create_database(path: &Path) -> std::io::Result<()> {
    let fresh = path.with_extension("redb.new");
    match std::fs::remove_file(&fresh) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let file = private_file_options().open(&fresh)?;
    let db = Builder::new().create_file(file).map_err(creation_error)?;
    drop(db);
    std::fs::File::open(&fresh)?.sync_all()?;
    std::fs::rename(&fresh, path)
}

/// The I/O error behind a failed creation, kept whole so that its kind (a full disk, say)
/// reaches the user's hint.
fn creation_error(error: DatabaseError) -> std::io::Error {
    match error {
        DatabaseError::Storage(redb::StorageError::Io(source)) => source,
        other => std::io::Error::other(other.to_string()),
    }
}

/// Checks or writes `meta` and turns in-flight entries into `Unknown`, in one durable
/// commit. Returns how many entries it turned.
fn prepare(
    db: &Database,
    gate: &CommitGate,
    path: &Path,
    campaign: &str,
) -> Result<usize, StateError> {
    let mut txn = db.begin_write().map_err(|e| storage_error(path, e))?;
    txn.set_durability(Durability::Immediate);

    check_meta(&txn, path, campaign)?;
    let recovered = settle_in_flight(&txn, path)?;

    gate.exclusive(|| txn.commit())
        .map_err(|e| storage_error(path, e))?;
    Ok(recovered)
}

/// Writes `meta` into a new journal; refuses one of another format or campaign.
fn check_meta(txn: &redb::WriteTransaction, path: &Path, campaign: &str) -> Result<(), StateError> {
    let mut meta = txn.open_table(META).map_err(|e| storage_error(path, e))?;
    let read = |meta: &redb::Table<&str, &str>, key| -> Result<Option<String>, StateError> {
        let value = meta.get(key).map_err(|e| storage_error(path, e))?;
        Ok(value.map(|v| v.value().to_string()))
    };
    let corrupt = |reason| StateError::Corrupt {
        path: path.display().to_string(),
        reason,
    };

    let Some(format) = read(&meta, "format")? else {
        let created_at = jiff::Timestamp::now().to_string();
        for (key, value) in [
            ("campaign", campaign),
            ("format", FORMAT_VERSION),
            ("created_at", created_at.as_str()),
        ] {
            meta.insert(key, value)
                .map_err(|e| storage_error(path, e))?;
        }
        return Ok(());
    };

    if format != FORMAT_VERSION {
        return Err(corrupt(format!(
            "it is in format `{format}` and this build reads format `{FORMAT_VERSION}`"
        )));
    }
    match read(&meta, "campaign")? {
        Some(owner) if owner == campaign => Ok(()),
        Some(owner) => Err(corrupt(format!("it belongs to campaign `{owner}`"))),
        None => Err(corrupt("it names no campaign".to_string())),
    }
}

/// Marks every `InFlight` entry `Unknown` with [`IN_FLIGHT_AT_STOP`]; returns how many.
fn settle_in_flight(txn: &redb::WriteTransaction, path: &Path) -> Result<usize, StateError> {
    let mut table = txn
        .open_table(ENTRIES)
        .map_err(|e| storage_error(path, e))?;

    let mut stale = Vec::new();
    for row in table.iter().map_err(|e| storage_error(path, e))? {
        let (_, value) = row.map_err(|e| storage_error(path, e))?;
        let entry = decode(path, value.value())?;
        if entry.status == EntryStatus::InFlight {
            stale.push(entry);
        }
    }

    for mut entry in stale.iter().cloned() {
        entry.status = EntryStatus::Unknown;
        entry.error = Some(IN_FLIGHT_AT_STOP.to_string());
        let bytes = encode(path, &entry)?;
        table
            .insert(entry.local_id.as_str(), bytes.as_slice())
            .map_err(|e| storage_error(path, e))?;
    }
    Ok(stale.len())
}

/// Reads one stored entry.
fn decode(path: &Path, bytes: &[u8]) -> Result<Entry, StateError> {
    serde_json::from_slice(bytes).map_err(|error| StateError::Corrupt {
        path: path.display().to_string(),
        reason: format!("an entry does not read back: {error}"),
    })
}

/// Writes one entry for storage.
fn encode(path: &Path, entry: &Entry) -> Result<Vec<u8>, StateError> {
    serde_json::to_vec(entry).map_err(|error| StateError::Corrupt {
        path: path.display().to_string(),
        reason: format!("an entry does not serialize: {error}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(id: &str, attempt: u32) -> Record {
        Record::Intent {
            local_id: id.to_string(),
            row: 7,
            attempt,
        }
    }

    fn outcome(id: &str, status: EntryStatus, message_id: Option<u64>) -> Record {
        Record::Outcome {
            local_id: id.to_string(),
            status,
            message_id,
            request_id: Some("req-1".to_string()),
            sent_at: message_id.map(|_| "2026-01-01T00:00:00Z".to_string()),
            error: None,
        }
    }

    #[test]
    fn an_intent_puts_the_message_in_flight() {
        let entry = apply_record(None, &intent("a", 1));

        assert_eq!(entry.status, EntryStatus::InFlight);
        assert_eq!((entry.row, entry.attempts), (7, 1));
    }

    #[test]
    fn an_outcome_sets_status_and_answer_fields() {
        let entry = apply_record(None, &intent("a", 1));
        let entry = apply_record(Some(entry), &outcome("a", EntryStatus::Sent, Some(42)));

        assert_eq!(entry.status, EntryStatus::Sent);
        assert_eq!(entry.message_id, Some(42));
        assert_eq!(entry.request_id.as_deref(), Some("req-1"));
        assert_eq!((entry.row, entry.attempts), (7, 1));
    }

    #[test]
    fn a_later_outcome_keeps_the_message_id_of_a_send() {
        let sent = apply_record(None, &outcome("a", EntryStatus::Sent, Some(42)));
        let later = apply_record(Some(sent), &outcome("a", EntryStatus::Unknown, None));

        assert_eq!(later.message_id, Some(42));
        assert!(later.sent_at.is_some());
    }

    #[test]
    // A run killed while creating the journal in place left a file redb refused for good.
    fn a_journal_creation_cut_short_does_not_block_the_next_open() {
        let state = tempfile::tempdir().expect("temp dir");
        let dir = state.path().join("spring");
        std::fs::create_dir_all(&dir).expect("campaign dir");
        std::fs::write(dir.join("journal.redb.new"), vec![0u8; 4096]).expect("leftover");

        let journal = Journal::open(state.path(), "spring").expect("open");

        assert!(journal.entries().expect("entries").is_empty());
        assert!(!dir.join("journal.redb.new").exists());
    }

    #[test]
    fn an_outcome_without_intent_still_makes_an_entry() {
        let entry = apply_record(None, &outcome("a", EntryStatus::Failed, None));

        assert_eq!(entry.local_id, "a");
        assert_eq!((entry.row, entry.attempts), (0, 0));
    }
}
