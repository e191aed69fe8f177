//! A [`Ledger`] held in memory, for tests and dry runs.
//!
//! It folds records into entries exactly as the durable journal does, and keeps every record
//! in order so a test can check that an intent came before its request. "Durable" here means
//! only "stored before `append` returns"; nothing survives the process. [`MemoryLedger::reopen`]
//! imitates a restart: what was in flight becomes `unknown`.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::{Entry, EntryStatus, Ledger, Record, StateError};

/// The journal's contents: entries by `local_id`, and every record appended.
#[derive(Debug, Default, Clone)]
struct Journal {
    entries: BTreeMap<String, Entry>,
    records: Vec<Record>,
}

/// An in-memory journal.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    journal: Mutex<Journal>,
}

impl MemoryLedger {
    /// An empty journal.
    pub fn new() -> MemoryLedger {
        MemoryLedger::default()
    }

    /// A journal already holding `entries`, as if an earlier run had written them.
    pub fn with_entries(entries: impl IntoIterator<Item = Entry>) -> MemoryLedger {
        let entries = entries
            .into_iter()
            .map(|entry| (entry.local_id.clone(), entry))
            .collect();
        MemoryLedger {
            journal: Mutex::new(Journal {
                entries,
                records: Vec::new(),
            }),
        }
    }

    /// The journal as a new process would read it: an intent with no outcome is `unknown`.
    pub fn reopen(&self) -> MemoryLedger {
        let mut journal = self.lock().clone();
        for entry in journal.entries.values_mut() {
            if entry.status == EntryStatus::InFlight {
                entry.status = EntryStatus::Unknown;
            }
        }
        MemoryLedger {
            journal: Mutex::new(journal),
        }
    }

    /// Every record appended so far, in order.
    pub fn records(&self) -> Vec<Record> {
        self.lock().records.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Journal> {
        self.journal
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Ledger for MemoryLedger {
    async fn append(&self, records: Vec<Record>) -> Result<(), StateError> {
        let mut journal = self.lock();
        for record in records {
            fold(&mut journal.entries, &record);
            journal.records.push(record);
        }
        Ok(())
    }

    fn entries(&self) -> Result<BTreeMap<String, Entry>, StateError> {
        Ok(self.lock().entries.clone())
    }
}

/// Applies one record to the entries, by the same rule the durable journal uses.
fn fold(entries: &mut BTreeMap<String, Entry>, record: &Record) {
    let local_id = record.local_id().to_owned();
    let current = entries.remove(&local_id);
    entries.insert(local_id, super::journal::apply_record(current, record));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_intent_without_outcome_is_unknown_after_a_reopen() {
        let ledger = MemoryLedger::new();
        let intent = |attempt| Record::Intent {
            local_id: "a".to_owned(),
            row: 3,
            attempt,
        };
        ledger.append(vec![intent(1)]).await.expect("append");
        ledger
            .append(vec![Record::Outcome {
                local_id: "a".to_owned(),
                status: EntryStatus::Failed,
                message_id: None,
                request_id: Some("r1".to_owned()),
                sent_at: None,
                error: Some("429".to_owned()),
            }])
            .await
            .expect("append");
        ledger.append(vec![intent(2)]).await.expect("append");

        let entry = ledger.entries().expect("entries")["a"].clone();
        assert_eq!(
            (entry.status, entry.attempts, entry.row),
            (EntryStatus::InFlight, 2, 3)
        );
        let reopened = ledger.reopen().entries().expect("entries");
        assert_eq!(reopened["a"].status, EntryStatus::Unknown);
        assert_eq!(ledger.records().len(), 3);
    }
}
