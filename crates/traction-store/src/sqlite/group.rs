//! Group commit: many requests' writes, one transaction, one fsync (issue 17, point 5).
//!
//! A commit in WAL mode with `synchronous = FULL` waits for one fsync of the log, about half a
//! millisecond on the machines we measure, and one request after another can never do better
//! than one fsync each. [`SqliteStore::write_grouped`] lets requests that arrive together share
//! it, without weakening what an answer means (a write acknowledged is on disk):
//!
//! - Each request queues its work. The first to find nobody leading becomes the **leader**; the
//!   others wait on their own reply channel.
//! - The leader takes the write connection, opens one transaction (`BEGIN IMMEDIATE`) and runs
//!   every queued work in turn on its own thread, each inside its own `SAVEPOINT`: a work that
//!   fails (a record refused, a 403) rolls back to its savepoint only and keeps its own answer;
//!   the others' writes stay. While the batch is open, this store's writers on the leader's
//!   thread are savepoints of that transaction, and its reads on that thread go through the
//!   same connection, so each work sees the writes of those before it (a PATCH reads the record
//!   as the previous request of the batch left it, exactly as if they had run one after the
//!   other). See [`super::SqliteStore::writer_as`] and `light_reader`.
//! - Then one `COMMIT` (one fsync) makes the whole batch durable, and only then is every
//!   request of the batch answered: with `Ok` when its writes are on disk, with the commit's
//!   error when the commit failed (a full disk: `Error::Busy`, nothing of the batch written).
//! - If requests queued meanwhile, the leader hands the lead to the first of them and returns.
//!
//! A batch holds at most [`MAX_BATCH`] works; under light load it holds one, and a write costs
//! what it cost before.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use super::SqliteStore;
use crate::Error;

/// The most works one transaction holds: bounds how long the last of a batch waits.
pub(crate) const MAX_BATCH: usize = 64;

thread_local! {
    /// The write connection of the batch this thread is leading, with its store's id.
    static BATCH: RefCell<Option<(u64, Rc<Connection>)>> = const { RefCell::new(None) };
}

/// The write connection of the batch the current thread leads for store `id`, if any.
pub(crate) fn batch_connection(id: u64) -> Option<Rc<Connection>> {
    BATCH.with(|batch| {
        batch.borrow().as_ref().filter(|(owner, _)| *owner == id).map(|(_, conn)| conn.clone())
    })
}

/// What a leader tells a waiting request.
enum Reply {
    /// Its batch is over: `Ok` when its writes are durable (or it undid them itself).
    Done(Result<(), Error>),
    /// Lead the next batch (which holds its own work).
    Lead,
}

struct Job {
    work: Box<dyn FnOnce() -> bool + Send>,
    reply: SyncSender<Reply>,
}

/// The works waiting for a batch, and whether someone leads.
#[derive(Default)]
pub(crate) struct Queue {
    pending: Vec<Job>,
    leading: bool,
}

fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `Error` is not `Clone` (it need not be elsewhere): the same failure told to every request
/// of a batch.
fn again(e: &Error) -> Error {
    match e {
        Error::Invalid(problems) => Error::Invalid(problems.clone()),
        Error::Conflict(m) => Error::Conflict(m.clone()),
        Error::NotFound => Error::NotFound,
        Error::Storage(m) => Error::Storage(m.clone()),
        Error::Busy(m) => Error::Busy(m.clone()),
    }
}

fn stopped() -> Error {
    Error::Storage("the write was lost by the group writer (a bug): nothing was written".into())
}

impl SqliteStore {
    /// See [`crate::Store::write_grouped`] and this module's documentation.
    pub(crate) fn submit_grouped(
        &self,
        work: Box<dyn FnOnce() -> bool + Send>,
    ) -> Result<(), Error> {
        let (reply, answer) = sync_channel(1);
        let lead = {
            let mut queue = lock(&self.group);
            queue.pending.push(Job { work, reply });
            !std::mem::replace(&mut queue.leading, true)
        };
        if !lead {
            match answer.recv() {
                Ok(Reply::Done(res)) => return res,
                Ok(Reply::Lead) => {}
                Err(_) => return Err(stopped()),
            }
        }
        self.lead(&answer)
    }

    /// Runs the batch queued so far, hands the lead on, and answers this thread's own work.
    fn lead(&self, answer: &Receiver<Reply>) -> Result<(), Error> {
        let batch: Vec<Job> = {
            let mut queue = lock(&self.group);
            let n = queue.pending.len().min(MAX_BATCH);
            queue.pending.drain(..n).collect()
        };
        self.run_batch(batch);
        {
            let mut queue = lock(&self.group);
            match queue.pending.first() {
                // Its thread waits on its channel, whose one slot is free until it is answered.
                Some(next) => {
                    let _ = next.reply.send(Reply::Lead);
                }
                None => queue.leading = false,
            }
        }
        match answer.recv() {
            Ok(Reply::Done(res)) => res,
            Ok(Reply::Lead) | Err(_) => Err(stopped()),
        }
    }

    /// One transaction for every work of `batch`, each in its own savepoint; every job is
    /// answered once the transaction is over: a work that ran and kept its writes with the
    /// commit's outcome, one that undid them with `Ok` (its own answer stands), one that could
    /// not run with why.
    fn run_batch(&self, batch: Vec<Job>) {
        let mut slot = match self.writer_conn() {
            Ok(slot) => slot,
            Err(e) => {
                for job in batch {
                    let _ = job.reply.send(Reply::Done(Err(again(&e))));
                }
                return;
            }
        };
        let started = self
            .spare_connection()
            .and_then(|spare| Ok((spare, slot.execute_batch("BEGIN IMMEDIATE")?)));
        let placeholder = match started {
            Ok((spare, ())) => spare,
            Err(e) => {
                drop(slot);
                for job in batch {
                    let _ = job.reply.send(Reply::Done(Err(again(&e))));
                }
                return;
            }
        };
        // The connection moves to this thread's batch for the batch's length (the works reach
        // it through the thread-local; nobody else can lock the slot meanwhile).
        let conn = Rc::new(std::mem::replace(&mut *slot, placeholder));
        BATCH.with(|b| *b.borrow_mut() = Some((self.id, conn.clone())));
        let (mut kept, mut undone, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
        let mut lost: Option<Error> = None;
        for job in batch {
            if lost.is_some()
                || conn.is_autocommit()
                || conn.execute_batch("SAVEPOINT grouped").is_err()
            {
                // The transaction is gone (an I/O error or a full disk rolls all of it back):
                // what was kept so far is undone too, and the rest is not tried.
                lost.get_or_insert_with(lost_batch);
                skipped.push(job.reply);
                continue;
            }
            // A panic in a work is a failed work, not a lost batch.
            let ok = std::panic::catch_unwind(AssertUnwindSafe(job.work)).unwrap_or(false);
            if conn.is_autocommit() {
                lost.get_or_insert_with(lost_batch);
            } else {
                let end =
                    if ok { "RELEASE grouped" } else { "ROLLBACK TO grouped; RELEASE grouped" };
                if let Err(e) = conn.execute_batch(end) {
                    lost.get_or_insert(Error::from(e));
                }
            }
            if ok { kept.push(job.reply) } else { undone.push(job.reply) }
        }
        BATCH.with(|b| b.borrow_mut().take());
        let outcome = match Rc::try_unwrap(conn) {
            Ok(conn) => {
                let outcome = match lost {
                    Some(e) => Err(e),
                    None => conn.execute_batch("COMMIT").map_err(Error::from),
                };
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                let placeholder = std::mem::replace(&mut *slot, conn);
                self.keep_spare(placeholder);
                outcome
            }
            // A work kept the connection past its end (it cannot: each is run to completion
            // and what it made is dropped with it). The transaction is abandoned with that
            // connection; a fresh one takes its place.
            Err(_) => {
                if let Ok(fresh) = super::open_connection(&self.path) {
                    *slot = fresh;
                }
                Err(stopped())
            }
        };
        drop(slot);
        let failed = |e: &Error| Reply::Done(Err(again(e)));
        for reply in kept {
            let _ = reply.send(outcome.as_ref().map_or_else(failed, |()| Reply::Done(Ok(()))));
        }
        for reply in undone {
            let _ = reply.send(Reply::Done(Ok(())));
        }
        let why = outcome.err().unwrap_or_else(lost_batch);
        for reply in skipped {
            let _ = reply.send(failed(&why));
        }
    }

    /// A connection to stand in the write slot while a batch holds the real one: never used
    /// (the slot stays locked), kept from batch to batch.
    fn spare_connection(&self) -> Result<Connection, Error> {
        let kept = self.spare.lock().unwrap_or_else(|p| p.into_inner()).take();
        match kept {
            Some(conn) => Ok(conn),
            None => Ok(Connection::open_in_memory()?),
        }
    }

    /// How many works wait for a batch.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        lock(&self.group).pending.len()
    }

    fn keep_spare(&self, conn: Connection) {
        *self.spare.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn);
    }
}

/// A grouped write's work asked for the write connection itself instead of a writer.
pub(crate) fn outside_batch() -> Error {
    Error::Storage(
        "a grouped write tried to write outside its own transaction (a bug): its writes were undone".into(),
    )
}

fn lost_batch() -> Error {
    Error::Busy(
        "the database gave up the transaction this write shared with others (a full disk or an I/O error): nothing was written; retry".into(),
    )
}
