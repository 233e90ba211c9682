//! Queries on one partition: whole (small collections such as an organization's machine keys)
//! or as newest-first cursor pages. Filters the key cannot express are DynamoDB filter
//! expressions, which are billed for what they read; a page stops after [`SCAN_BUDGET`] items
//! read and hands back a cursor, so one API call can never read a tenant's whole history.

use std::collections::HashMap;
use switchyard_core::page::{Page, PageRequest};

use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::StoreError;
use uuid::Uuid;

use super::expr::non_empty;
use super::item::{Item, item_size, s};
use super::keys::{PK, SCOPE, SCOPE_INDEX, SK};
use super::{DynamoStore, Table};
use crate::error::backend;

/// Items a page may read before it returns what it found with a cursor to go on from.
pub(crate) const SCAN_BUDGET: i32 = 2000;

/// One partition, optionally narrowed to a sort-key prefix and filtered by attribute equality.
pub(crate) struct Query {
    pub(crate) table: Table,
    /// Query the `by_scope` local index (sort key `scope`) instead of the table.
    pub(crate) by_scope: bool,
    pub(crate) pk: String,
    /// Every listed item's sort key starts with this (empty: the whole partition).
    pub(crate) prefix: String,
    /// `attribute = value` conditions, all of which must hold.
    pub(crate) equal: Vec<(&'static str, AttributeValue)>,
    /// Sort keys at or above this (only with no prefix): the start of an id range.
    pub(crate) lower: Option<String>,
}

impl Query {
    pub(crate) fn new(table: Table, pk: String, prefix: impl Into<String>) -> Self {
        Self {
            table,
            by_scope: false,
            pk,
            prefix: prefix.into(),
            equal: Vec::new(),
            lower: None,
        }
    }

    pub(crate) fn by_scope(mut self) -> Self {
        self.by_scope = true;
        self
    }

    /// Adds `attribute = value` when a value is given; `None` means "any".
    pub(crate) fn equal(mut self, attribute: &'static str, value: Option<AttributeValue>) -> Self {
        if let Some(v) = value {
            self.equal.push((attribute, v));
        }
        self
    }

    /// Keeps sort keys at or above `lower` (a query with no prefix: ids from a UUID up).
    pub(crate) fn at_least(mut self, lower: Option<String>) -> Self {
        self.lower = lower;
        self
    }

    fn sort_attr(&self) -> &'static str {
        if self.by_scope { SCOPE } else { SK }
    }

    fn filter(
        &self,
    ) -> (
        Option<String>,
        HashMap<String, String>,
        HashMap<String, AttributeValue>,
    ) {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut terms = Vec::new();
        for (i, (attr, v)) in self.equal.iter().enumerate() {
            names.insert(format!("#f{i}"), (*attr).to_owned());
            values.insert(format!(":f{i}"), v.clone());
            terms.push(format!("#f{i} = :f{i}"));
        }
        (
            (!terms.is_empty()).then(|| terms.join(" AND ")),
            names,
            values,
        )
    }
}

/// The sort key of an item in the direction `forward`, or `None` when the request must stop.
type Sort = Option<String>;

/// What [`DynamoStore::query_page`] found.
pub(crate) struct Scanned {
    /// Newest first.
    pub(crate) items: Vec<Item>,
    /// Items the service read (filtered ones included).
    pub(crate) read: i32,
    /// Where to go on when the budget ran out before `want` items were found.
    pub(crate) resume: Option<Uuid>,
}

impl DynamoStore {
    /// Every item the query selects, in sort-key order (`forward`) or reversed.
    pub(crate) async fn query_all(
        &self,
        q: &Query,
        forward: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let (page, next, _) = self.query_once(q, None, forward, None, start).await?;
            items.extend(page);
            match next {
                Some(k) => start = Some(k),
                None => return Ok(items),
            }
        }
    }

    /// Newest-first items older than `cursor`, until `want` of them satisfy `counts` (payload
    /// items of events do not count). Returns the items, how many items were read, and, when
    /// `budget` (items read) ran out first, a cursor to continue from.
    pub(crate) async fn query_page(
        &self,
        q: &Query,
        cursor: Option<Uuid>,
        want: usize,
        budget: i32,
        counts: impl Fn(&Item) -> bool,
    ) -> Result<Scanned, StoreError> {
        let mut items = Vec::new();
        let mut counted = 0;
        let mut scanned = 0;
        let mut start = None;
        let filtered = !q.equal.is_empty();
        loop {
            let limit = if filtered {
                200
            } else {
                ((want - counted) * 2 + 1) as i32
            }
            .min((budget - scanned).max(1));
            let (page, next, read) = self
                .query_once(q, cursor, false, Some(limit), start)
                .await?;
            scanned += read;
            for item in page {
                let c = counts(&item);
                items.push(item);
                if c {
                    counted += 1;
                    if counted == want {
                        return Ok(Scanned {
                            items,
                            read: scanned,
                            resume: None,
                        });
                    }
                }
            }
            let Some(next) = next else {
                return Ok(Scanned {
                    items,
                    read: scanned,
                    resume: None,
                });
            };
            if scanned >= budget {
                return Ok(Scanned {
                    items,
                    read: scanned,
                    resume: Some(resume_cursor(&next, q.sort_attr())?),
                });
            }
            start = Some(next);
        }
    }

    /// One Query request: the items, where to go on (`LastEvaluatedKey`) and how many it read.
    async fn query_once(
        &self,
        q: &Query,
        cursor: Option<Uuid>,
        forward: bool,
        limit: Option<i32>,
        start: Option<HashMap<String, AttributeValue>>,
    ) -> Result<(Vec<Item>, Option<HashMap<String, AttributeValue>>, i32), StoreError> {
        let sort = q.sort_attr();
        let (filter, mut names, mut values) = q.filter();
        names.insert("#pk".into(), PK.into());
        values.insert(":pk".into(), s(&q.pk));
        let mut key = "#pk = :pk".to_owned();
        let mut upper: Sort = None;
        match (q.prefix.is_empty(), cursor) {
            (true, None) if q.lower.is_some() => {
                names.insert("#sort".into(), sort.into());
                values.insert(":lo".into(), s(q.lower.as_deref().unwrap_or_default()));
                key.push_str(" AND #sort >= :lo");
            }
            (true, Some(c)) if q.lower.is_some() => {
                // BETWEEN is inclusive: the cursor's own item is dropped below.
                let hi = c.hyphenated().to_string();
                names.insert("#sort".into(), sort.into());
                values.insert(":lo".into(), s(q.lower.as_deref().unwrap_or_default()));
                values.insert(":hi".into(), s(&hi));
                key.push_str(" AND #sort BETWEEN :lo AND :hi");
                upper = Some(hi);
            }
            (true, None) => {}
            (true, Some(c)) => {
                names.insert("#sort".into(), sort.into());
                values.insert(":c".into(), s(c.hyphenated().to_string()));
                key.push_str(" AND #sort < :c");
            }
            (false, None) => {
                names.insert("#sort".into(), sort.into());
                values.insert(":prefix".into(), s(&q.prefix));
                key.push_str(" AND begins_with(#sort, :prefix)");
            }
            (false, Some(c)) => {
                // BETWEEN is inclusive: the cursor's own item is dropped below.
                let hi = format!("{}{}", q.prefix, c.hyphenated());
                names.insert("#sort".into(), sort.into());
                values.insert(":prefix".into(), s(&q.prefix));
                values.insert(":hi".into(), s(&hi));
                key.push_str(" AND #sort BETWEEN :prefix AND :hi");
                upper = Some(hi);
            }
        }
        let out = self
            .client
            .query()
            .table_name(self.table(q.table))
            .set_index_name(q.by_scope.then(|| SCOPE_INDEX.to_owned()))
            .key_condition_expression(key)
            .set_filter_expression(filter)
            .set_expression_attribute_names(non_empty(names))
            .set_expression_attribute_values(non_empty(values))
            .scan_index_forward(forward)
            .consistent_read(true)
            .set_limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| backend("Query", e))?;
        let items: Vec<Item> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .filter(|item| match (&upper, item.get(sort)) {
                (Some(hi), Some(AttributeValue::S(v))) => v != hi,
                _ => true,
            })
            .collect();
        self.meter.read(items.iter().map(item_size).sum(), true);
        Ok((items, out.last_evaluated_key, out.scanned_count))
    }
}

/// A cursor that continues after the last item a query read. Sort keys end in the item's id
/// (`…<uuid>`), except an event's payload item (`<uuid>#P`), which sorts just after its event:
/// there the cursor is the next uuid up, so the event itself is still ahead.
fn resume_cursor(last: &HashMap<String, AttributeValue>, sort: &str) -> Result<Uuid, StoreError> {
    let Some(AttributeValue::S(key)) = last.get(sort) else {
        return Err(StoreError::Backend(
            "query resumed without a sort key".into(),
        ));
    };
    let bad = || StoreError::Backend(format!("unexpected sort key shape in {sort}"));
    if let Some(id) = key.strip_suffix("#P") {
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        return Ok(Uuid::from_u128(id.as_u128().wrapping_add(1)));
    }
    let tail = key.get(key.len().saturating_sub(36)..).ok_or_else(bad)?;
    Uuid::parse_str(tail).map_err(|_| bad())
}

impl DynamoStore {
    /// One newest-first page of a query whose items all decode to `T`.
    pub(super) async fn page<T>(
        &self,
        q: &Query,
        page: PageRequest,
        decode: fn(&super::item::Item) -> Result<T, StoreError>,
        id: fn(&T) -> uuid::Uuid,
    ) -> Result<Page<T>, StoreError> {
        let want = page.limit as usize + 1;
        let found = self
            .query_page(q, page.cursor, want, SCAN_BUDGET, |_| true)
            .await?;
        let records = found
            .items
            .iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(assemble(records, page.limit, found.resume, id))
    }
}

/// A page from up to `limit + 1` records, or — when the scan budget stopped the query early —
/// the records found with the query's own resume cursor.
pub(super) fn assemble<T>(
    records: Vec<T>,
    limit: u32,
    resume: Option<uuid::Uuid>,
    id: fn(&T) -> uuid::Uuid,
) -> Page<T> {
    match resume {
        Some(cursor) if records.len() <= limit as usize => Page {
            records,
            limit,
            next_cursor: Some(cursor),
        },
        _ => Page::from_overfetch(records, limit, id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_resumes_before_an_event_whose_payload_item_was_read_last() {
        let id = Uuid::now_v7();
        let last = HashMap::from([(SK.to_owned(), s(format!("{id}#P")))]);
        let cursor = resume_cursor(&last, SK).unwrap();
        assert!(id.hyphenated().to_string() < cursor.hyphenated().to_string());
        let last = HashMap::from([(SCOPE.to_owned(), s(format!("RU#x#1:a#{id}")))]);
        assert_eq!(resume_cursor(&last, SCOPE).unwrap(), id);
    }
}
