//! The four SQS queues in SQLite, with SQS's semantics: per-message delays, visibility
//! timeouts, receipt handles that go stale on the next receive, `maxReceiveCount` redrive to
//! a dead-letter queue, and long polling.
//!
//! All four queues share one table; a message moving to its DLQ is an update of its `queue`
//! column, so it keeps its message id and its place in line. Times are epoch milliseconds
//! from the injected [`Clock`], so tests drive timeouts with a manual clock instead of sleeping.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, params};
use switchyard_core::clock::epoch_millis;
use switchyard_core::ports::{
    MAX_DELAY, OutgoingMessage, Queue, QueueConsumer, QueueDepth, QueueName, ReceivedMessage,
};
use switchyard_core::{Clock, StoreError};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::db::Db;

/// A long poll re-checks the table at least this often, even with no notification: a message
/// whose delay or visibility timeout ends makes no call that could wake the poller, and a
/// manual clock can jump at any moment.
const MAX_NAP: Duration = Duration::from_millis(200);

/// SQS's cap on messages per receive.
const MAX_RECEIVE: usize = 10;

/// A source queue's attributes, as set on the SQS queue and its redrive policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// How long a received message stays invisible unless deleted or changed.
    pub visibility_timeout: Duration,
    /// Receives after which the next receive moves the message to the DLQ instead.
    /// Ignored for DLQs, which have no redrive policy.
    pub max_receive_count: u32,
}

impl Default for QueueSettings {
    /// SQS's default visibility timeout, and the receive count Switchyard's stack configures.
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            max_receive_count: 5,
        }
    }
}

/// A message as it sits in a queue, read without receiving it (`switchyard dlq list`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedMessage {
    pub message_id: String,
    pub body: String,
    /// `SentTimestamp`, epoch ms.
    pub sent_at_ms: i64,
    /// `ApproximateReceiveCount` so far (reset to zero by a move to the DLQ).
    pub receive_count: u32,
}

/// SQS-like queues over the shared SQLite database.
#[derive(Clone)]
pub struct SqliteQueue {
    pub(crate) db: Db,
    clock: Arc<dyn Clock>,
    settings: [QueueSettings; 4],
    /// Wakes long polls of a queue when something may have become visible in it.
    arrivals: Arc<[Notify; 4]>,
}

impl SqliteQueue {
    /// Creates the tables if needed. `settings` is asked once per queue; a DLQ's
    /// `max_receive_count` is ignored (its visibility timeout applies to whoever reads it).
    pub fn open(
        db: Db,
        clock: Arc<dyn Clock>,
        settings: impl Fn(QueueName) -> QueueSettings,
    ) -> Result<Self, StoreError> {
        db.call_sync(create_table)?;
        Ok(Self {
            db,
            clock,
            settings: QueueName::ALL.map(|q| {
                let s = settings(q);
                // SQS accepts 1..=1000; zero would dead-letter every message unseen.
                QueueSettings {
                    max_receive_count: s.max_receive_count.max(1),
                    ..s
                }
            }),
            arrivals: Arc::new(std::array::from_fn(|_| Notify::new())),
        })
    }

    /// The settings `queue` was opened with.
    pub fn settings(&self, queue: QueueName) -> QueueSettings {
        self.settings[index(queue)]
    }

    /// Up to `limit` messages of `queue`, visible or not, in the order they became (or
    /// become) visible — for a DLQ, the order they were dead-lettered — without receiving
    /// them: receiving would count towards `maxReceiveCount` and hide them from others. The
    /// index's order, so a page reads a page, not the whole queue.
    pub async fn peek_all(
        &self,
        queue: QueueName,
        limit: usize,
    ) -> Result<Vec<QueuedMessage>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .call(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT message_id, body, sent_at_ms, receive_count FROM queue_messages
                     WHERE queue = ?1 ORDER BY visible_at_ms, seq LIMIT ?2",
                )?;
                stmt.query_map(params![queue.as_str(), limit], |row| {
                    Ok(QueuedMessage {
                        message_id: row.get(0)?,
                        body: row.get(1)?,
                        sent_at_ms: row.get(2)?,
                        receive_count: row.get(3)?,
                    })
                })?
                .collect()
            })
            .await
    }

    /// Moves every message of `from` (visible or not) to `to`, oldest first, as SQS's DLQ
    /// redrive does: as new messages, with a new message id, `SentTimestamp` now and no
    /// receives, so they get a full `maxReceiveCount` again. Returns how many moved.
    pub async fn redrive(&self, from: QueueName, to: QueueName) -> Result<u64, StoreError> {
        let now = self.now_ms();
        let moved = self
            .db
            .call(move |conn| {
                let tx = conn.transaction()?;
                let bodies: Vec<(i64, String)> = {
                    let mut stmt = tx.prepare_cached(
                        "SELECT seq, body FROM queue_messages WHERE queue = ?1 ORDER BY seq",
                    )?;
                    stmt.query_map([from.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?
                        .collect::<rusqlite::Result<_>>()?
                };
                for (seq, body) in &bodies {
                    tx.prepare_cached("DELETE FROM queue_messages WHERE seq = ?1")?
                        .execute([seq])?;
                    insert(&tx, to, body, now, now)?;
                }
                tx.commit()?;
                Ok(bodies.len() as u64)
            })
            .await?;
        if moved > 0 {
            self.wake(to);
        }
        Ok(moved)
    }

    pub(crate) fn now_ms(&self) -> i64 {
        epoch_millis(self.clock.now())
    }

    pub(crate) fn wake(&self, queue: QueueName) {
        self.arrivals[index(queue)].notify_waiters();
    }

    /// One short poll, one write so concurrent consumers never get the same message.
    async fn receive_once(&self, queue: QueueName, max: usize) -> Result<Polled, StoreError> {
        let now = self.now_ms();
        let settings = self.settings(queue);
        let polled = self
            .db
            .write(move |conn| receive_tx(conn, queue, settings, now, max))
            .await?;
        if polled.dead_lettered
            && let Some(dlq) = queue.dlq()
        {
            self.wake(dlq);
        }
        Ok(polled)
    }
}

/// The queues' table. `seq` orders a queue (oldest first) and survives a move to the DLQ; a
/// plain row id, so a new message is numbered past every message present. Only the visibility
/// index: a receipt handle names its row (`<seq>.<random>`), and message ids are random, so
/// neither needs an index of its own.
const TABLE: &str = "
CREATE TABLE IF NOT EXISTS queue_messages (
    seq                  INTEGER PRIMARY KEY,
    queue                TEXT    NOT NULL,
    message_id           TEXT    NOT NULL,
    body                 TEXT    NOT NULL,
    sent_at_ms           INTEGER NOT NULL,
    visible_at_ms        INTEGER NOT NULL,
    receive_count        INTEGER NOT NULL DEFAULT 0,
    first_received_at_ms INTEGER,
    receipt_handle       TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS queue_messages_by_visibility ON queue_messages (queue, visible_at_ms);
";

/// Creates the table, or rebuilds one written by an earlier release — which kept a unique
/// index of message ids and one of receipt handles, and an `AUTOINCREMENT` counter: three more
/// b-trees written by every send, receive and delete. Messages keep their place, receive
/// counts and visibility; the handles of messages in flight are dropped (they belonged to the
/// process that stopped), so those come back when their visibility timeout ends, as after
/// any restart.
fn create_table(conn: &mut Connection) -> rusqlite::Result<()> {
    let earlier: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table'
                        AND name = 'queue_messages' AND sql LIKE '%AUTOINCREMENT%')",
        [],
        |r| r.get(0),
    )?;
    let tx = conn.transaction()?;
    if earlier {
        // The index would follow the table under its new name, and keep its own.
        tx.execute_batch(
            "DROP INDEX queue_messages_by_visibility;
             ALTER TABLE queue_messages RENAME TO queue_messages_earlier;",
        )?;
    }
    tx.execute_batch(TABLE)?;
    if earlier {
        tx.execute_batch(
            "-- Once, and whole: a rebuild reads every row (the query-plan test skips it).
             INSERT INTO queue_messages (seq, queue, message_id, body, sent_at_ms,
                                         visible_at_ms, receive_count, first_received_at_ms)
             SELECT seq, queue, message_id, body, sent_at_ms, visible_at_ms, receive_count,
                    first_received_at_ms
             FROM queue_messages_earlier;
             DROP TABLE queue_messages_earlier;",
        )?;
    }
    tx.commit()
}

/// A receipt handle names its message's row, and a random part makes it stale once the
/// message is received again.
fn receipt_handle(seq: i64) -> String {
    format!("{seq}.{}", Uuid::new_v4().simple())
}

/// The row a receipt handle names; `None` for a handle this queue never gave out.
fn seq_of(handle: &str) -> Option<i64> {
    handle.split_once('.')?.0.parse().ok()
}

/// What one short poll found.
struct Polled {
    messages: Vec<ReceivedMessage>,
    /// Some message moved to the DLQ.
    dead_lettered: bool,
    /// When the queue's next invisible message becomes visible, if it has one.
    next_visible_at_ms: Option<i64>,
}

/// One receive: the first `max` visible messages are read, then each is taken — counted,
/// hidden and given a fresh receipt handle — by its row id. "First" is in order of becoming
/// visible, the order of the `(queue, visible_at_ms)` index, so the read stops after about
/// `max` index entries whatever the backlog (ordered by `seq`, it sorted every visible message
/// first). Not one `UPDATE … WHERE seq IN (SELECT …) RETURNING`: SQLite runs that with three
/// temporary b-trees (the subquery's rows, the rows to update, the returned rows), more work
/// than the row updates themselves. A taken message whose count passes `maxReceiveCount`
/// moves to the DLQ instead of being returned (SQS moves rather than returns it, keeping id
/// and body): rare, so it costs a statement only when it happens. Runs as one write
/// (`Db::write`), so concurrent receives never share a message.
fn receive_tx(
    conn: &Connection,
    queue: QueueName,
    settings: QueueSettings,
    now: i64,
    max: usize,
) -> rusqlite::Result<Polled> {
    let invisible_until = now.saturating_add(millis(settings.visibility_timeout));
    let mut taken: Vec<(i64, ReceivedMessage)> = conn
        .prepare_cached(
            "SELECT seq, message_id, body, receive_count, sent_at_ms, first_received_at_ms
             FROM queue_messages
             WHERE queue = ?1 AND visible_at_ms <= ?2
             ORDER BY visible_at_ms, seq LIMIT ?3",
        )?
        .query_map(params![queue.as_str(), now, max as i64], |row| {
            let seq = row.get(0)?;
            Ok((
                seq,
                ReceivedMessage {
                    message_id: row.get(1)?,
                    receipt_handle: receipt_handle(seq),
                    body: row.get(2)?,
                    receive_count: row.get::<_, u32>(3)? + 1,
                    sent_at_ms: row.get(4)?,
                    first_received_at_ms: row.get::<_, Option<i64>>(5)?.unwrap_or(now),
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (seq, m) in &taken {
        conn.prepare_cached(
            "UPDATE queue_messages
             SET receive_count = ?2, receipt_handle = ?3, first_received_at_ms = ?4,
                 visible_at_ms = ?5
             WHERE seq = ?1",
        )?
        .execute(params![
            seq,
            m.receive_count,
            m.receipt_handle,
            m.first_received_at_ms,
            invisible_until
        ])?;
    }
    let mut dead_lettered = false;
    // A DLQ has no redrive policy: any number of receives.
    if let Some(dlq) = queue.dlq() {
        let mut past_limit = Vec::new();
        taken.retain(|(seq, m)| {
            let keep = m.receive_count <= settings.max_receive_count;
            if !keep {
                past_limit.push(*seq);
            }
            keep
        });
        for seq in past_limit {
            conn.prepare_cached(
                "UPDATE queue_messages
                 SET queue = ?2, visible_at_ms = ?3, receive_count = 0,
                     first_received_at_ms = NULL, receipt_handle = NULL
                 WHERE seq = ?1",
            )?
            .execute(params![seq, dlq.as_str(), now])?;
            dead_lettered = true;
        }
    }
    // Read in order of becoming visible; a batch goes out oldest first.
    taken.sort_unstable_by_key(|(seq, _)| *seq);
    let messages: Vec<ReceivedMessage> = taken.into_iter().map(|(_, m)| m).collect();
    let next_visible_at_ms = if messages.is_empty() {
        conn.prepare_cached(
            "SELECT MIN(visible_at_ms) FROM queue_messages
             WHERE queue = ?1 AND visible_at_ms > ?2",
        )?
        .query_row(params![queue.as_str(), now], |row| row.get(0))?
    } else {
        None
    };
    Ok(Polled {
        messages,
        dead_lettered,
        next_visible_at_ms,
    })
}

/// Sends `messages` at `now_ms`, each visible after its delay.
pub(crate) fn insert_all(
    conn: &Connection,
    queue: QueueName,
    messages: &[OutgoingMessage],
    now_ms: i64,
) -> rusqlite::Result<()> {
    for m in messages {
        let visible_at = now_ms.saturating_add(millis(m.delay.min(MAX_DELAY)));
        insert(conn, queue, &m.body, now_ms, visible_at)?;
    }
    Ok(())
}

pub(crate) fn insert(
    conn: &Connection,
    queue: QueueName,
    body: &str,
    sent_at_ms: i64,
    visible_at_ms: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO queue_messages (queue, message_id, body, sent_at_ms, visible_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        queue.as_str(),
        Uuid::new_v4().to_string(),
        body,
        sent_at_ms,
        visible_at_ms
    ])?;
    Ok(())
}

fn index(queue: QueueName) -> usize {
    match queue {
        QueueName::Events => 0,
        QueueName::EventsDlq => 1,
        QueueName::Deliveries => 2,
        QueueName::DeliveriesDlq => 3,
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send_batch(
        &self,
        queue: QueueName,
        messages: Vec<OutgoingMessage>,
    ) -> Result<(), StoreError> {
        if messages.is_empty() {
            return Ok(());
        }
        let now = self.now_ms();
        self.db
            .write(move |conn| insert_all(conn, queue, &messages, now))
            .await?;
        self.wake(queue);
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for SqliteQueue {
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        let max = max.clamp(1, MAX_RECEIVE);
        // The deadline is real time: the caller's wait is on the wall, whatever the clock says.
        let deadline = tokio::time::Instant::now() + wait;
        let arrival = &self.arrivals[index(queue)];
        loop {
            // Registered before polling, so a send between the poll and the wait still wakes us.
            let notified = arrival.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            let polled = self.receive_once(queue, max).await?;
            if !polled.messages.is_empty() {
                return Ok(polled.messages);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(Vec::new());
            }
            let until_visible = polled.next_visible_at_ms.map_or(MAX_NAP, |at| {
                Duration::from_millis(at.saturating_sub(self.now_ms()).max(0) as u64)
            });
            let nap = left.min(MAX_NAP).min(until_visible);
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn delete_batch(
        &self,
        queue: QueueName,
        receipt_handles: &[String],
    ) -> Result<(), StoreError> {
        if receipt_handles.is_empty() {
            return Ok(());
        }
        let handles = receipt_handles.to_vec();
        self.db
            .write(move |conn| {
                // A handle matches only while its message has not been received again, so
                // stale and unknown handles delete nothing, silently.
                let mut stmt = conn.prepare_cached(
                    "DELETE FROM queue_messages
                     WHERE seq = ?1 AND queue = ?2 AND receipt_handle = ?3",
                )?;
                for handle in &handles {
                    if let Some(seq) = seq_of(handle) {
                        stmt.execute(params![seq, queue.as_str(), handle])?;
                    }
                }
                Ok(())
            })
            .await
    }

    async fn change_visibility(
        &self,
        queue: QueueName,
        receipt_handle: &str,
        timeout: Duration,
    ) -> Result<(), StoreError> {
        let visible_at = self.now_ms().saturating_add(millis(timeout));
        let handle = receipt_handle.to_owned();
        let Some(seq) = seq_of(&handle) else {
            return Ok(());
        };
        let changed = self
            .db
            .write(move |conn| {
                conn.prepare_cached(
                    "UPDATE queue_messages SET visible_at_ms = ?4
                     WHERE seq = ?1 AND queue = ?2 AND receipt_handle = ?3",
                )?
                .execute(params![seq, queue.as_str(), handle, visible_at])
            })
            .await?;
        if changed > 0 {
            self.wake(queue);
        }
        Ok(())
    }

    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, StoreError> {
        let now = self.now_ms();
        self.db
            .call(move |conn| {
                // Invisible messages never received are delayed; received ones are in flight.
                conn.prepare_cached(
                    "SELECT
                         COALESCE(SUM(visible_at_ms <= ?2), 0),
                         COALESCE(SUM(visible_at_ms > ?2 AND receive_count > 0), 0),
                         COALESCE(SUM(visible_at_ms > ?2 AND receive_count = 0), 0)
                     FROM queue_messages WHERE queue = ?1",
                )?
                .query_row(params![queue.as_str(), now], |row| {
                    Ok(QueueDepth {
                        visible: row.get::<_, i64>(0)? as u64,
                        in_flight: row.get::<_, i64>(1)? as u64,
                        delayed: row.get::<_, i64>(2)? as u64,
                    })
                })
            })
            .await
    }

    async fn oldest_message_age(&self, queue: QueueName) -> Result<Option<Duration>, StoreError> {
        let now = self.now_ms();
        let oldest: Option<i64> = self
            .db
            .call(move |conn| {
                conn.prepare_cached("SELECT MIN(sent_at_ms) FROM queue_messages WHERE queue = ?1")?
                    .query_row([queue.as_str()], |row| row.get(0))
            })
            .await?;
        Ok(Some(oldest.map_or(Duration::ZERO, |sent| {
            Duration::from_millis(now.saturating_sub(sent).max(0) as u64)
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data directory written by an earlier release keeps its messages through the
    /// table's rebuild, and they are received and deleted as any other.
    #[tokio::test]
    async fn a_queue_table_of_an_earlier_release_is_rebuilt_with_its_messages() {
        let db = Db::in_memory().unwrap();
        db.call_sync(|c| {
            c.execute_batch(
                "CREATE TABLE queue_messages (
                     seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
                     queue                TEXT    NOT NULL,
                     message_id           TEXT    NOT NULL UNIQUE,
                     body                 TEXT    NOT NULL,
                     sent_at_ms           INTEGER NOT NULL,
                     visible_at_ms        INTEGER NOT NULL,
                     receive_count        INTEGER NOT NULL DEFAULT 0,
                     first_received_at_ms INTEGER,
                     receipt_handle       TEXT    UNIQUE
                 ) STRICT;
                 CREATE INDEX queue_messages_by_visibility
                     ON queue_messages (queue, visible_at_ms);
                 INSERT INTO queue_messages (queue, message_id, body, sent_at_ms, visible_at_ms,
                                             receive_count, first_received_at_ms, receipt_handle)
                 VALUES ('events', 'm1', 'first', 1, 0, 0, NULL, NULL),
                        ('events', 'm2', 'second', 2, 0, 2, 5, 'ab12');",
            )
        })
        .unwrap();
        let queue = SqliteQueue::open(db.clone(), Arc::new(switchyard_core::SystemClock), |_| {
            QueueSettings::default()
        })
        .unwrap();
        let indexes: Vec<String> = db
            .call_sync(|c| {
                c.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'queue_messages' AND type = 'index'")?
                    .query_map([], |r| r.get(0))?
                    .collect()
            })
            .unwrap();
        assert_eq!(indexes, ["queue_messages_by_visibility"]);

        let got = queue
            .receive(QueueName::Events, 10, Duration::ZERO)
            .await
            .unwrap();
        let kept: Vec<(&str, &str, u32)> = got
            .iter()
            .map(|m| (m.message_id.as_str(), m.body.as_str(), m.receive_count))
            .collect();
        assert_eq!(kept, [("m1", "first", 1), ("m2", "second", 3)]);
        assert_eq!(got[1].first_received_at_ms, 5);

        // The next message sent is numbered past them, and deleting by handle works.
        queue
            .send_batch(
                QueueName::Events,
                vec![OutgoingMessage::now("third".into())],
            )
            .await
            .unwrap();
        let handles: Vec<String> = got.iter().map(|m| m.receipt_handle.clone()).collect();
        queue
            .delete_batch(QueueName::Events, &handles)
            .await
            .unwrap();
        let rest = queue.peek_all(QueueName::Events, 10).await.unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].body, "third");
    }
}
