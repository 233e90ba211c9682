//! A newest-first page over several partitions of one sorted collection (an organization's
//! event shards): each shard is queried below the cursor, the results merged by id. Ids are
//! UUID v7, one order across shards, so the cursor stays one id — the next page is every
//! shard's items below it — and is stable under concurrent writes (new items are newer than
//! any cursor). Shards are read lazily: a first round asks each for its share of the page,
//! later rounds only the shards that could still hold items above the page's last one.

use futures::future::try_join_all;
use switchyard_core::StoreError;
use switchyard_core::page::{Page, PageRequest};
use uuid::Uuid;

use super::DynamoStore;
use super::item::Item;
use super::list::{Query, SCAN_BUDGET};

/// How far one shard has been read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Position {
    /// Read to its end.
    Done,
    /// Everything at or above this id is known; below it is unread.
    Below(Uuid),
    /// Nothing read yet.
    Top,
}

struct Shard<T> {
    query: Query,
    position: Position,
    records: Vec<T>,
}

impl DynamoStore {
    /// One page (newest first, `page.limit` records) of the records in `queries` (one per
    /// shard, same filters), `decode` turning one shard's newest-first items into records and
    /// `counts` telling which items are records (an event's payload item is not).
    pub(crate) async fn merged_page<T>(
        &self,
        queries: Vec<Query>,
        page: PageRequest,
        counts: fn(&Item) -> bool,
        decode: impl Fn(&[Item]) -> Result<Vec<T>, StoreError>,
        id: fn(&T) -> Uuid,
    ) -> Result<Page<T>, StoreError> {
        let want = page.limit as usize + 1;
        let mut shards: Vec<Shard<T>> = queries
            .into_iter()
            .map(|query| Shard {
                query,
                position: Position::Top,
                records: Vec::new(),
            })
            .collect();
        // A first round of each shard's share (plus one, for an uneven spread); a shard read
        // again is asked for twice as much as the last time, up to a whole page.
        let mut share = want.div_ceil(shards.len().max(1)) + 1;
        let mut budget = SCAN_BUDGET;
        loop {
            let mut known: Vec<Uuid> = shards
                .iter()
                .flat_map(|s| s.records.iter().map(id))
                .collect();
            known.sort_unstable_by(|a, b| b.cmp(a));
            let frontier = shards.iter().map(|s| s.position).max();
            let complete = |u: &Uuid| match frontier {
                None | Some(Position::Done) => true,
                Some(Position::Below(f)) => *u >= f,
                Some(Position::Top) => false,
            };
            let settled = known.iter().take_while(|u| complete(u)).count();
            if settled >= want || matches!(frontier, None | Some(Position::Done)) {
                return Ok(Page::from_overfetch(
                    take_newest(&mut shards, want, id),
                    page.limit,
                    id,
                ));
            }
            if budget <= 0 {
                // The scan budget ran out: what is settled, and the frontier as the cursor.
                let Some(Position::Below(cursor)) = frontier else {
                    return Err(StoreError::Backend(
                        "a shard was left unread by the first round".into(),
                    ));
                };
                return Ok(Page {
                    records: take_newest(&mut shards, settled, id),
                    limit: page.limit,
                    next_cursor: Some(cursor),
                });
            }
            // Shards that may hold items above the page's last record, as known so far.
            let threshold = known.get(want - 1).copied();
            let reading: Vec<usize> = (0..shards.len())
                .filter(|&i| match (shards[i].position, threshold) {
                    (Position::Done, _) => false,
                    (Position::Top, _) | (_, None) => true,
                    (Position::Below(p), Some(t)) => p > t,
                })
                .collect();
            let each = (budget / reading.len() as i32).max(share as i32);
            let reads = reading.iter().map(|&i| {
                let s = &shards[i];
                let cursor = match s.position {
                    Position::Below(p) => Some(p),
                    _ => page.cursor,
                };
                self.query_page(&s.query, cursor, share, each, counts)
            });
            let found = try_join_all(reads).await?;
            for (i, found) in reading.into_iter().zip(found) {
                budget -= found.read;
                let records = decode(&found.items)?;
                let shard = &mut shards[i];
                shard.position = match (found.resume, records.last()) {
                    (Some(r), _) => Position::Below(r),
                    (None, Some(last)) if records.len() >= share => Position::Below(id(last)),
                    _ => Position::Done,
                };
                shard.records.extend(records);
            }
            share = (share * 2).min(want);
        }
    }
}

/// The `n` newest records of all shards, newest first.
fn take_newest<T>(shards: &mut [Shard<T>], n: usize, id: fn(&T) -> Uuid) -> Vec<T> {
    let mut all: Vec<T> = shards
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.records))
        .collect();
    all.sort_unstable_by_key(|r| std::cmp::Reverse(id(r)));
    all.truncate(n);
    all
}
