//! Live events: every committed change, announced to every open `GET /api/v1/events` stream
//! (spec: interfaces.md, HTTP API: Server-Sent Events).
//!
//! Writes publish into a `tokio::sync::broadcast` channel after they commit; publishing never
//! waits. Each client has its own small forwarding task: a slow client falls behind on its own
//! and, once it has missed events, is told to reload instead of receiving a partial history.
//!
//! Events:
//! - `event: change`, data `{"entity": "deals", "id": "d-1", "kind": "created|updated|deleted"}`,
//!   one per changed record. For keyed entities `id` is the key's values joined by `/`
//!   (`d-1/s-2/2026-03-04T09:15:00Z`).
//! - `event: reload`, data `{"entities": ["orders"]}`: too much changed to list record by record
//!   (a commit of more than [`BULK`] changes, such as a large import), so the client should
//!   refetch those entities. `{"entities": null}` after a client fell behind: refetch everything.
//! - `event: notification`, data `{}`: the signed-in user has a new notification in the app, or
//!   marked some read (the bell's count changed). Told only to that user; found by the database
//!   watch, so notifications made by the evaluator thread or another process are told too.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use serde_json::json;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use traction_domain::Entity;
use traction_store::Summary;

/// A commit with more changes than this is announced as one `reload` event.
pub const BULK: usize = 1000;

/// Events kept for clients that are behind; one further behind and it gets a `reload`.
const CAPACITY: usize = 4096;

/// One announcement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Announcement {
    Change {
        entity: Entity,
        id: String,
        kind: &'static str,
    },
    Reload {
        entities: Option<Vec<Entity>>,
    },
    /// A user's notifications in the app changed (monitoring.md: the bell updates live).
    Notification {
        user: String,
    },
}

impl Announcement {
    fn to_event(&self) -> Event {
        match self {
            Announcement::Change { entity, id, kind } => Event::default()
                .event("change")
                // An empty id (a change announced without it) is null.
                .data(
                    json!({"entity": entity.name(), "id": (!id.is_empty()).then_some(id), "kind": kind})
                        .to_string(),
                ),
            Announcement::Reload { entities } => {
                let names: Option<Vec<&str>> =
                    entities.as_ref().map(|list| list.iter().map(|e| e.name()).collect());
                Event::default().event("reload").data(json!({"entities": names}).to_string())
            }
            Announcement::Notification { .. } => Event::default().event("notification").data("{}"),
        }
    }
}

/// The hub the writes publish to and the streams subscribe to.
#[derive(Clone, Debug)]
pub struct Events {
    tx: broadcast::Sender<Announcement>,
    shutdown: watch::Receiver<bool>,
    /// Commits announced by this process, so the database watch can tell them from others'.
    published: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Ends every event stream when triggered (so a graceful shutdown does not wait for them).
#[derive(Debug)]
pub struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

impl Events {
    pub fn new() -> (Events, Shutdown) {
        let (tx, _) = broadcast::channel(CAPACITY);
        let (stop_tx, stop_rx) = watch::channel(false);
        let published = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        (Events { tx, shutdown: stop_rx, published }, Shutdown(stop_tx))
    }

    /// Announces a committed write. `touched` is the entity the request was about, named in a
    /// `reload` when the commit's own list of changes was cut short.
    pub fn publish(&self, summary: &Summary, touched: Entity) {
        self.published.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if summary.changes.len() > BULK || summary.truncated {
            let mut entities: Vec<Entity> = summary.changes.iter().map(|c| c.entity).collect();
            entities.push(touched);
            entities.sort();
            entities.dedup();
            // An error only means nobody listens.
            let _ = self.tx.send(Announcement::Reload { entities: Some(entities) });
            return;
        }
        for change in &summary.changes {
            let _ = self.tx.send(Announcement::Change {
                entity: change.entity,
                id: change.key.clone(),
                kind: change.kind.name(),
            });
        }
    }

    /// Tells `user`'s open pages that their notifications changed.
    pub fn notified(&self, user: &str) {
        let _ = self.tx.send(Announcement::Notification { user: user.to_string() });
    }

    /// Watches the database for commits made by other processes (`traction import` into the
    /// file the server serves, another server) and announces each as a `reload`, so open pages
    /// stay live whoever wrote. Polls SQLite's data version every `every`; a change with no commit
    /// of this process announced since the last look is someone else's. Ends at shutdown.
    pub fn watch_database(
        &self,
        store: std::sync::Arc<dyn traction_store::Backend>,
        every: Duration,
    ) {
        let events = self.clone();
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            let version = |store: std::sync::Arc<dyn traction_store::Backend>| async move {
                tokio::task::spawn_blocking(move || store.change_counter().ok())
                    .await
                    .ok()
                    .flatten()
            };
            let notified = |store: std::sync::Arc<dyn traction_store::Backend>, after: i64| async move {
                tokio::task::spawn_blocking(move || {
                    traction_store::MonitorStore::notified_since(store.as_ref(), after).ok()
                })
                .await
                .ok()
                .flatten()
            };
            let mut last = version(store.clone()).await;
            let mut seen = events.published.load(std::sync::atomic::Ordering::SeqCst);
            let mut last_note = notified(store.clone(), i64::MAX).await.map_or(0, |(id, _)| id);
            loop {
                tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => break,
                    _ = tokio::time::sleep(every) => {}
                }
                // Read the count first: a commit of ours landing in between counts as ours.
                let published = events.published.load(std::sync::atomic::Ordering::SeqCst);
                let now = version(store.clone()).await;
                if now.is_some() && now != last && published == seen {
                    let _ = events.tx.send(Announcement::Reload { entities: None });
                }
                // New notifications in the app, whoever made them (the evaluator thread, a
                // `traction alert eval` from cron): each user told, so their bell counts up.
                if now.is_some()
                    && now != last
                    && let Some((latest, users)) = notified(store.clone(), last_note).await
                {
                    for user in users {
                        let _ = events.tx.send(Announcement::Notification { user });
                    }
                    last_note = latest;
                }
                last = now;
                seen = published;
            }
        });
    }

    /// How many streams are open (for tests and logs).
    pub fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }

    /// One client's announcements. A task per client forwards from the broadcast channel into a
    /// small queue; once the client is too far behind it gets one `Reload { entities: None }`.
    pub fn subscribe(&self) -> mpsc::Receiver<Announcement> {
        let mut rx = self.tx.subscribe();
        let mut shutdown = self.shutdown.clone();
        let (out, out_rx) = mpsc::channel::<Announcement>(64);
        tokio::spawn(async move {
            loop {
                let announcement = tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => break,
                    // The client went away: drop its subscription at once.
                    _ = out.closed() => break,
                    received = rx.recv() => match received {
                        Ok(a) => a,
                        Err(broadcast::error::RecvError::Lagged(_)) => Announcement::Reload { entities: None },
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                };
                // Waiting here holds back only this client: the broadcast channel never waits
                // for receivers, so writers are never slowed by a slow reader.
                if out.send(announcement).await.is_err() {
                    break;
                }
            }
        });
        out_rx
    }

    /// The Server-Sent Events response for a client who may hear only some changes: `filter`
    /// (run on the blocking pool: it may read the store) turns each announcement into what this
    /// client is told, or nothing.
    pub fn stream_filtered(
        &self,
        filter: impl Fn(Announcement) -> Option<Announcement> + Send + Sync + 'static,
    ) -> axum::response::Response {
        let mut rx = self.subscribe();
        let (out, out_rx) = mpsc::channel::<Announcement>(64);
        let filter = std::sync::Arc::new(filter);
        tokio::spawn(async move {
            while let Some(a) = rx.recv().await {
                let f = filter.clone();
                let told = tokio::task::spawn_blocking(move || f(a)).await.ok().flatten();
                if let Some(a) = told
                    && out.send(a).await.is_err()
                {
                    break;
                }
            }
        });
        let connected =
            tokio_stream::once(Ok::<_, Infallible>(Event::default().comment("connected")));
        let events = connected.chain(ReceiverStream::new(out_rx).map(|a| Ok(a.to_event())));
        axum::response::IntoResponse::into_response(
            Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))),
        )
    }

    /// The Server-Sent Events response for one client, `user` (told only of their own
    /// notifications).
    pub fn stream(&self, user: Option<String>) -> impl axum::response::IntoResponse + use<> {
        // Subscribed before the response starts, so no change after this request is missed; the
        // first comment tells the client the stream is open.
        let announcements = ReceiverStream::new(self.subscribe()).filter(move |a| match a {
            Announcement::Notification { user: to } => user.as_ref() == Some(to),
            _ => true,
        });
        let connected =
            tokio_stream::once(Ok::<_, Infallible>(Event::default().comment("connected")));
        let events = connected.chain(announcements.map(|a| Ok(a.to_event())));
        Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
    }
}

#[cfg(test)]
mod tests {
    use traction_store::{Change, ChangeKind};

    use super::*;

    fn summary(n: usize) -> Summary {
        let changes = (0..n)
            .map(|i| Change {
                entity: Entity::Deals,
                key: format!("d{i}"),
                kind: ChangeKind::Created,
            })
            .collect();
        Summary { created: n as u64, changes, ..Summary::default() }
    }

    #[test]
    fn each_change_is_announced() {
        let (events, _stop) = Events::new();
        let mut rx = events.tx.subscribe();
        events.publish(&summary(2), Entity::Deals);
        let expected = |id: &str| Announcement::Change {
            entity: Entity::Deals,
            id: id.into(),
            kind: "created",
        };
        assert_eq!(rx.try_recv().unwrap(), expected("d0"));
        assert_eq!(rx.try_recv().unwrap(), expected("d1"));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_bulk_commit_is_one_reload() {
        let (events, _stop) = Events::new();
        let mut rx = events.tx.subscribe();
        let mut big = summary(BULK + 1);
        big.changes[0].entity = Entity::Orders;
        events.publish(&big, Entity::Deals);
        assert_eq!(
            rx.try_recv().unwrap(),
            Announcement::Reload { entities: Some(vec![Entity::Deals, Entity::Orders]) }
        );
        assert!(rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_client_that_falls_behind_is_told_to_reload() {
        let (events, _stop) = Events::new();
        let mut rx = events.subscribe();
        // The forwarding task takes what fits in the client's queue...
        events.publish(&summary(100), Entity::Deals);
        tokio::task::yield_now().await;
        // ...then far more than the channel keeps is published while the client reads nothing.
        for _ in 0..(CAPACITY / 100 + 2) {
            events.publish(&summary(100), Entity::Deals);
        }
        let mut received = Vec::new();
        while let Ok(Some(a)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            received.push(a);
        }
        // The first events queued before the client fell behind, then one reload, and nothing
        // is delivered out of order.
        assert_eq!(
            received[0],
            Announcement::Change { entity: Entity::Deals, id: "d0".into(), kind: "created" }
        );
        let reloads = received.iter().filter(|a| matches!(a, Announcement::Reload { .. })).count();
        assert_eq!(reloads, 1, "{} received", received.len());
        assert!(received.contains(&Announcement::Reload { entities: None }));
    }

    #[test]
    fn publishing_without_listeners_does_not_fail() {
        let (events, _stop) = Events::new();
        events.publish(&summary(3), Entity::Deals);
        assert_eq!(events.listeners(), 0);
    }
}
