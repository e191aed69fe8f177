//! Group commit: one thread owns the journal's write side and shares each fsync.
//!
//! An append queues its records with a oneshot to answer on. The writer takes the first
//! queued append, drains whatever else is already waiting (up to [`MAX_BATCH_RECORDS`]),
//! commits them all in one durable transaction and only then answers each of them, so many
//! concurrent senders pay for one fsync and nothing is acknowledged before it is on disk.
//! This module batches and acknowledges; how a record changes an entry is the journal's.

use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};

use redb::Database;
use tokio::sync::oneshot;

use super::gate::CommitGate;
use super::journal::commit_records;
use super::{Record, StateError};

/// The most records one commit takes, so a flood of appends still commits in steady steps.
pub const MAX_BATCH_RECORDS: usize = 1024;

/// The answer an append waits for.
type Ack = oneshot::Sender<Result<(), StateError>>;

/// One append waiting to be committed.
#[derive(Debug)]
struct Request {
    records: Vec<Record>,
    ack: Ack,
}

/// The handle on the writer thread. Dropping it commits what is queued, then stops the thread.
#[derive(Debug)]
pub struct Writer {
    queue: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread for the journal `db`, stored at `path`, committing through
    /// the campaign's `gate`.
    pub fn spawn(db: Arc<Database>, gate: CommitGate, path: PathBuf) -> Result<Writer, StateError> {
        let (queue, requests) = mpsc::channel();
        let path_text = path.display().to_string();

        let thread = thread::Builder::new()
            .name("journal-writer".to_string())
            .spawn(move || run(&db, &gate, &path, &requests))
            .map_err(|source| StateError::Io {
                path: path_text,
                source,
            })?;

        Ok(Writer {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Queues `records`; the receiver answers once they are durable or have failed.
    pub fn submit(
        &self,
        records: Vec<Record>,
    ) -> Result<oneshot::Receiver<Result<(), StateError>>, StateError> {
        let queue = self.queue.as_ref().ok_or(StateError::Closed)?;
        let (ack, answer) = oneshot::channel();

        queue
            .send(Request { records, ack })
            .map_err(|_| StateError::Closed)?;
        Ok(answer)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue lets the thread commit what is left and return.
        drop(self.queue.take());

        if let Some(thread) = self.thread.take() {
            // A panicked writer has already reported itself, and its waiters got `Closed`.
            let _ = thread.join();
        }
    }
}

/// The writer loop: batch, commit, answer, until every handle to the queue is gone.
fn run(db: &Database, gate: &CommitGate, path: &Path, requests: &mpsc::Receiver<Request>) {
    while let Ok(first) = requests.recv() {
        let batch = gather(first, requests);

        let records = batch.iter().flat_map(|request| request.records.iter());
        let committed = commit_records(db, gate, path, records);

        acknowledge(batch, &committed);
    }
}

/// `first` and every append already queued behind it, up to [`MAX_BATCH_RECORDS`] records.
fn gather(first: Request, requests: &mpsc::Receiver<Request>) -> Vec<Request> {
    let mut count = first.records.len();
    let mut batch = vec![first];

    while count < MAX_BATCH_RECORDS {
        let Ok(next) = requests.try_recv() else {
            break;
        };
        count += next.records.len();
        batch.push(next);
    }
    batch
}

/// Answers every append of a batch with the fate of its one commit.
fn acknowledge(batch: Vec<Request>, committed: &Result<(), StateError>) {
    for request in batch {
        let answer = match committed {
            Ok(()) => Ok(()),
            Err(error) => Err(duplicate(error)),
        };
        // An appender that stopped waiting needs no answer; its records stand either way.
        let _ = request.ack.send(answer);
    }
}

/// A copy of `error` for one more waiter (`io::Error` cannot be cloned).
fn duplicate(error: &StateError) -> StateError {
    match error {
        StateError::Io { path, source } => StateError::Io {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        StateError::Corrupt { path, reason } => StateError::Corrupt {
            path: path.clone(),
            reason: reason.clone(),
        },
        StateError::Locked {
            campaign,
            lock,
            pid,
        } => StateError::Locked {
            campaign: campaign.clone(),
            lock: lock.clone(),
            pid: *pid,
        },
        StateError::Closed => StateError::Closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(records: usize) -> (Request, oneshot::Receiver<Result<(), StateError>>) {
        let (ack, answer) = oneshot::channel();
        let records = (0..records)
            .map(|i| Record::Intent {
                local_id: format!("m{i}"),
                row: 1,
                attempt: 1,
            })
            .collect();
        (Request { records, ack }, answer)
    }

    #[test]
    fn a_batch_takes_everything_queued() {
        let (queue, requests) = mpsc::channel();
        let (first, _a) = request(1);
        for _ in 0..3 {
            queue.send(request(2).0).expect("queue");
        }

        assert_eq!(gather(first, &requests).len(), 4);
    }

    #[test]
    fn a_batch_stops_at_the_record_cap() {
        let (queue, requests) = mpsc::channel();
        let (first, _a) = request(MAX_BATCH_RECORDS - 1);
        for _ in 0..3 {
            queue.send(request(1).0).expect("queue");
        }

        let batch = gather(first, &requests);

        assert_eq!(batch.len(), 2);
        assert!(
            requests.try_recv().is_ok(),
            "the rest waits for the next commit"
        );
    }

    #[test]
    fn a_failed_commit_fails_every_waiter() {
        let (one, mut one_answer) = request(1);
        let (two, mut two_answer) = request(1);
        let failure = StateError::Io {
            path: "/state/j".to_string(),
            source: std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"),
        };

        acknowledge(vec![one, two], &Err(failure));

        for answer in [one_answer.try_recv(), two_answer.try_recv()] {
            match answer.expect("answered") {
                Err(StateError::Io { source, .. }) => {
                    assert_eq!(source.kind(), std::io::ErrorKind::StorageFull);
                }
                other => panic!("expected an Io error, got {other:?}"),
            }
        }
    }
}
