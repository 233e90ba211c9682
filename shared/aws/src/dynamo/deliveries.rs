//! Deliveries and their attempts. A delivery is one item under its own key
//! (`DL#<org>#<id>`: no hot partition however many deliveries an organization runs) and
//! carries its attempts in a list, so an attempt costs one conditional update — usually one
//! write unit — instead of an update plus an insert, or a transaction at twice the price.
//!
//! One delivery per (event, rule) is kept by the event item: its `r_<rule>` claim names the
//! rule's delivery, set with `if_not_exists`, so however often an event is routed the first
//! delivery id for a rule wins. The item is written only when a delivery needs more than its
//! claim and a successful first attempt — a failed attempt, a cancel, a restart: until then
//! the claim is the delivery (`rule_claims.rs`), settled by its event's outcomes
//! (`outcomes.rs`), which saves a write per delivery and is why a delivery is looked up with
//! its event.

use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use switchyard_core::page::PageRequest;
use switchyard_core::ports::{AttemptRecord, Deliveries, DeliveryCounts, FailedPage};

use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::domain::{Attempt, Delivery, DeliveryStatus};
use switchyard_core::{
    ConnectionId, DeliveryId, EventId, OrgId, RuleId, StoreError, WorkspaceId, v7_floor,
};
use time::OffsetDateTime;

use super::codec;
use super::events::{StoredEvent, routed_key};
use super::expr::Expr;
use super::item::{Item, ms, n, s};
use super::keys::*;
use super::rule_claims::{self, Claim, EventHead};
use super::{DynamoStore, Table, absent, outcomes};

/// The most events one count of a workspace's deliveries reads (each delivery is then one
/// batched read).
const STATS_EVENTS: usize = 1000;

/// Attempts past this number are stored without their response body, so a delivery item that
/// has been retried for months stays far below DynamoDB's 400 KB item limit.
const ATTEMPTS_WITH_BODY: u32 = 64;

fn status(s_: DeliveryStatus) -> AttributeValue {
    s(s_.as_str())
}

/// Neither attempted nor otherwise changed since routing: a claim alone holds it.
fn is_fresh(d: &Delivery) -> bool {
    d.status == DeliveryStatus::Pending
        && d.attempt_count == 0
        && d.schedule_base == 0
        && d.started_at.is_none()
        && d.completed_at.is_none()
        && d.next_attempt_at.is_none()
        && d.last_error.is_none()
        && d.updated_at == d.created_at
}

#[async_trait]
impl Deliveries for DynamoStore {
    async fn insert_deliveries(
        &self,
        org: OrgId,
        event: EventId,
        deliveries: &[Delivery],
    ) -> Result<Vec<Delivery>, StoreError> {
        if deliveries.iter().any(|d| d.org != org || d.event != event) {
            return Err(StoreError::Backend(
                "delivery does not belong to the event being routed".into(),
            ));
        }
        // The first delivery per rule in this call; later ones for the same rule are dropped.
        let mut proposed: BTreeMap<RuleId, &Delivery> = BTreeMap::new();
        for d in deliveries {
            proposed.entry(d.rule).or_insert(d);
        }
        // 1. Claim (event, rule) for each proposed delivery and mark the event routed, in one
        //    conditional update of the event item that answers with the winning claims (with
        //    nothing proposed for an event already marked here, a read).
        let event_item = if proposed.is_empty() && self.routed.contains(&routed_key(org, event)) {
            self.get(Table::History, events_pk(org, event), &event_sk(event))
                .await?
        } else {
            self.claim_rules(org, event, &proposed).await?
        };
        let Some(event_item) = event_item else {
            return Err(StoreError::Backend(format!("event {event} not found")));
        };
        let head = EventHead::from_item(org, &event_item)?;

        // 2. A delivery this call claimed is its claim until an attempt or a cancel writes it —
        //    written now only when it is not a fresh pending one (history imported, a
        //    fixture), fresh ids in one batch.
        let mut all = Vec::new();
        let mut written = Vec::new();
        let mut others = BTreeMap::new();
        for (rule, claim) in rule_claims::claims(&event_item) {
            match proposed.get(&rule) {
                Some(d) if d.id == claim.id => {
                    if !is_fresh(d) {
                        written.push(codec::delivery_item(d, self.expiry(d.created_at)));
                    }
                    all.push((*d).clone());
                }
                _ => {
                    others.insert(rule, claim);
                }
            }
        }
        self.batch_put(Table::History, written).await?;

        // 3. Deliveries claimed earlier: their item once written, else the claim itself. An
        //    earlier version's claim (the id alone) without its item was left by a router that
        //    died before writing it: write this call's proposal under the claimed id.
        if !others.is_empty() {
            let found = self.claimed_deliveries(org, &[(&head, &others)]).await?;
            for (rule, claim) in others {
                let Some(proposal) = proposed.get(&rule) else {
                    continue;
                };
                if found.iter().any(|d| d.id == claim.id) {
                    continue;
                }
                let repaired = Delivery {
                    id: claim.id,
                    ..(*proposal).clone()
                };
                let item = codec::delivery_item(&repaired, self.expiry(repaired.created_at));
                if self.put(Table::History, item, Some(absent())).await? {
                    all.push(repaired);
                } else if let Some(d) = self.delivery(org, event, claim.id).await? {
                    all.push(d);
                }
            }
            all.extend(found);
        }
        all.sort_by_key(|d| d.id);
        Ok(all)
    }

    /// The delivery's item, else — not attempted yet — its claim on the event item; settled
    /// by its successful first attempt when the event's outcomes hold one.
    async fn delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let (own, done) = self.delivery_items(org, event, id).await?;
        let current = match own.as_ref().map(codec::delivery).transpose()? {
            Some(d) => Some(d).filter(|d| d.event == event),
            None => self.unwritten_delivery(org, event, id).await?,
        };
        Ok(current.map(|d| outcomes::settle(d, &done)))
    }

    /// The routing's copy, read from nothing: a freshly claimed delivery has no item, unless a
    /// cancel wrote it, which the stored delivery then keeps (`outcomes::settle`).
    async fn claimed_delivery(&self, routed: &Delivery) -> Result<Option<Delivery>, StoreError> {
        Ok(Some(routed.clone()))
    }

    async fn deliveries_for_event(
        &self,
        org: OrgId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        let Some(event_item) = self
            .get(Table::History, events_pk(org, event), &event_sk(event))
            .await?
        else {
            return Ok(Vec::new());
        };
        let head = EventHead::from_item(org, &event_item)?;
        let claims = rule_claims::claims(&event_item);
        let mut all = self.claimed_deliveries(org, &[(&head, &claims)]).await?;
        all.sort_by_key(|d| d.id);
        Ok(all)
    }

    /// A read, not a write: the delivery as its attempt sees it (`processing`, first start
    /// kept) when it may be attempted. The stored item keeps its status until
    /// [`Deliveries::finish_attempt`] records the attempt and sets `started` if unset —
    /// saving one write unit per attempt, the price of `processing` never showing on AWS.
    async fn begin_attempt(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        Ok(self
            .delivery(org, event, id)
            .await?
            .and_then(|d| d.attempt_starting(now)))
    }

    /// Nothing stored, as for every adapter that saves the write; a first attempt is counted
    /// as running, so its event's successful first attempts can wait for it (`outcome_groups.rs`).
    async fn begin_attempt_of(
        &self,
        current: &Delivery,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        let starting = current.attempt_starting(now);
        if starting.is_some() && current.attempt_count == 0 {
            self.outcome_started((current.org, current.event));
        }
        Ok(starting)
    }

    /// A successful first attempt is written to its event's outcomes (`outcomes.rs`), with the
    /// event's others that end meanwhile. Any other: one conditional update records the
    /// attempt and moves the delivery — writing it, at its first record, from what the attempt
    /// began with. A delivery canceled while the attempt ran fails that update's condition and
    /// takes the second, which records the attempt and keeps `canceled` (and schedules
    /// nothing). A duplicate of an attempt already counted (SQS delivered its message twice and
    /// both ran, or the attempt's own retry finished first) fails both and takes the third,
    /// which only appends it.
    async fn finish_attempt(
        &self,
        attempted: &Delivery,
        record: &AttemptRecord,
    ) -> Result<Delivery, StoreError> {
        record.ensure_of(attempted)?;
        let org = attempted.org;
        let a = &record.attempt;
        let group = (org, attempted.event);
        if outcomes::is_outcome(attempted, a, record.status) {
            let ttl = self.expiry(attempted.created_at);
            if self.record_outcome(group, a, ttl).await? {
                let from_claim = Delivery {
                    started_at: None,
                    ..attempted.clone()
                };
                return Ok(outcomes::settle(from_claim, std::slice::from_ref(a)));
            }
            // The event's outcomes are full: recorded on the delivery's own item, as any other.
        } else if attempted.attempt_count == 0 {
            self.outcome_not_made(group);
            // A copy of this attempt may have succeeded already (SQS handed the message over
            // twice): its delivery's item is written from it, so this one counts as the
            // duplicate it is and moves nothing.
            if a.number == 1 {
                let (own, done) = self
                    .delivery_items(org, attempted.event, a.delivery)
                    .await?;
                if own.is_none() && !done.is_empty() {
                    self.put_settled(org, attempted.event, a.delivery, &done)
                        .await?;
                }
            }
        }
        let ended = a.started_at
            + time::Duration::milliseconds(i64::try_from(a.duration_ms).unwrap_or(i64::MAX));
        let attempt = AttributeValue::L(vec![codec::attempt_value(
            a,
            a.number <= ATTEMPTS_WITH_BODY,
        )]);
        let key = delivery_pk(org, a.delivery);

        let final_status = matches!(
            record.status,
            DeliveryStatus::Completed | DeliveryStatus::Failed
        );
        let mut sets = vec![
            "#st = :st".to_owned(),
            "#started = if_not_exists(#started, :astart)".to_owned(),
            "#n = :num".to_owned(),
            "#att = list_append(if_not_exists(#att, :empty), :a)".to_owned(),
            "#up = :ended".to_owned(),
            "#base = if_not_exists(#base, :base)".to_owned(),
        ];
        // The first attempt writes the delivery: what never changes, set only if absent.
        let mut base = Expr::default();
        for (i, (name, value)) in codec::delivery_base(attempted, self.expiry(attempted.created_at))
            .into_iter()
            .enumerate()
        {
            sets.push(format!("#d{i} = if_not_exists(#d{i}, :d{i})"));
            base = base
                .name(&format!("#d{i}"), name)
                .value(&format!(":d{i}"), value);
        }
        let mut removes = Vec::new();
        if record.last_error.is_some() {
            sets.push("#err = :err".to_owned())
        } else {
            removes.push("#err")
        }
        if record.next_attempt_at.is_some() {
            sets.push("#next = :next".to_owned())
        } else {
            removes.push("#next")
        }
        if final_status {
            sets.push("#done = :ended".to_owned());
        }
        // A failed delivery enters the sparse `failed_by_connection` index (bulk replay).
        let failed = record.status == DeliveryStatus::Failed;
        if failed {
            sets.push("#fsk = :fsk".to_owned());
        }
        let mut text = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            text.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let common = |e: Expr| {
            let mut e = e
                .value(":empty", AttributeValue::L(Vec::new()))
                .value(":a", attempt.clone())
                .value(":ended", ms(ended));
            if let Some(err) = &record.last_error {
                e = e.value(":err", s(err));
            }
            e
        };
        let mut set = common(Expr::new(text))
            .value(":st", status(record.status))
            .value(":astart", ms(a.started_at))
            .value(":base", n(attempted.schedule_base));
        set.names.extend(base.names);
        set.values.extend(base.values);
        if let Some(next) = record.next_attempt_at {
            set = set.value(":next", ms(next));
        }
        if failed {
            set = set.value(":fsk", s(a.delivery.to_string()));
        }
        // This attempt's number is not yet counted: a duplicate's is. `#n` becomes the number,
        // not `#n + 1`: a retry that started before its predecessor was recorded (its message
        // goes out first) may finish first, and the predecessor then counts as a duplicate.
        let first = |e: Expr| e.value(":num", n(a.number));
        let not_canceled = first(Expr::new(
            "attribute_not_exists(#pk) OR (#st <> :canceled AND #n < :num)",
        ))
        .value(":canceled", status(DeliveryStatus::Canceled));
        if let Some(item) = self
            .update(
                Table::History,
                key.clone(),
                DELIVERY_SK,
                set,
                Some(not_canceled),
            )
            .await?
        {
            return codec::delivery(&item);
        }

        let text = if record.last_error.is_some() {
            "SET #n = :num, #att = list_append(if_not_exists(#att, :empty), :a), #up = :ended, #err = :err REMOVE #next"
        } else {
            "SET #n = :num, #att = list_append(if_not_exists(#att, :empty), :a), #up = :ended REMOVE #next, #err"
        };
        let canceled = first(Expr::new("#st = :canceled AND #n < :num"))
            .value(":canceled", status(DeliveryStatus::Canceled));
        if let Some(item) = self
            .update(
                Table::History,
                key.clone(),
                DELIVERY_SK,
                common(Expr::new(text)),
                Some(canceled),
            )
            .await?
        {
            return codec::delivery(&item);
        }

        let duplicate = Expr::new("SET #att = list_append(if_not_exists(#att, :empty), :a)")
            .value(":empty", AttributeValue::L(Vec::new()))
            .value(":a", attempt);
        match self
            .update(
                Table::History,
                key,
                DELIVERY_SK,
                duplicate,
                Some(Expr::new("attribute_exists(#pk)")),
            )
            .await?
        {
            Some(item) => codec::delivery(&item),
            None => Err(StoreError::Backend("delivery not found".into())),
        }
    }

    /// The delivery item's attempts and its event's outcomes of it.
    async fn attempts(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        let (own, done) = self.delivery_items(org, event, id).await?;
        let mut all = own
            .as_ref()
            .map(codec::attempts)
            .transpose()?
            .unwrap_or_default();
        for a in done {
            if !all.iter().any(|b| b.id == a.id) {
                all.push(a);
            }
        }
        all.sort_by_key(|a| (a.number, a.id));
        Ok(all)
    }

    /// A delivery not written yet (never attempted, or completed by its first attempt alone)
    /// is written canceled unless it completed, or its first attempt wrote it meanwhile: then
    /// the update is tried again.
    async fn cancel_delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        if let Some(canceled) = self.cancel_written(org, id, now).await? {
            return Ok(Some(canceled));
        }
        let (_, done) = self.delivery_items(org, event, id).await?;
        if !done.is_empty() {
            return Ok(None);
        }
        let Some(pending) = self.unwritten_delivery(org, event, id).await? else {
            return Ok(None);
        };
        let canceled = Delivery {
            status: DeliveryStatus::Canceled,
            updated_at: now,
            ..pending
        };
        let item = codec::delivery_item(&canceled, self.expiry(canceled.created_at));
        if self.put(Table::History, item, Some(absent())).await? {
            Ok(Some(canceled))
        } else {
            self.cancel_written(org, id, now).await
        }
    }

    async fn restart_delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.restart_delivery_item(org, event, id, now, None).await
    }

    async fn replay_delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
        since: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        self.restart_delivery_item(org, event, id, now, Some(since))
            .await
    }

    /// No index holds a workspace's deliveries by time, so this reads the events of the
    /// window (a sort-key range of each of the organization's shards, newest first, at most
    /// [`STATS_EVENTS`] events) and their deliveries by key: bounded cost, and
    /// `complete: false` when the window held more.
    async fn delivery_counts(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
        since_ms: u64,
        bucket_ms: u64,
    ) -> Result<DeliveryCounts, StoreError> {
        let floor = EventId::floor_at_ms(since_ms).hyphenated().to_string();
        let queries = (0..EVENT_SHARDS)
            .map(|shard| {
                super::list::Query::new(Table::History, event_shard_pk(org, shard), "")
                    .equal("ws", Some(s(workspace.to_string())))
                    .at_least(Some(floor.clone()))
            })
            .collect();
        // Each event item's id, what its deliveries take from it, and its rules' claims.
        type Counted = (uuid::Uuid, EventHead, BTreeMap<RuleId, Claim>);
        let decode = |items: &[Item]| {
            let mut events: Vec<Counted> = Vec::new();
            for item in items.iter().filter(|i| !super::events::is_payload(i)) {
                let Some(AttributeValue::S(id)) = item.get(SK) else {
                    continue;
                };
                let Ok(id) = uuid::Uuid::parse_str(id) else {
                    continue;
                };
                events.push((
                    id,
                    EventHead::from_item(org, item)?,
                    rule_claims::claims(item),
                ));
            }
            Ok(events)
        };
        let window = PageRequest {
            limit: STATS_EVENTS as u32,
            cursor: None,
        };
        let events = self
            .merged_page(
                queries,
                window,
                |i| !super::events::is_payload(i),
                decode,
                |e: &Counted| e.0,
            )
            .await?;
        let complete = events.next_cursor.is_none();
        let claimed: Vec<_> = events
            .records
            .iter()
            .map(|(_, head, claims)| (head, claims))
            .collect();
        let mut tally: BTreeMap<(u64, &'static str), (DeliveryStatus, u64)> = BTreeMap::new();
        for d in self.claimed_deliveries(org, &claimed).await? {
            let made =
                u64::try_from(d.created_at.unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
            if made < since_ms {
                continue;
            }
            let start = made / bucket_ms.max(1) * bucket_ms.max(1);
            tally
                .entry((start, d.status.as_str()))
                .or_insert((d.status, 0))
                .1 += 1;
        }
        Ok(DeliveryCounts {
            counts: tally
                .into_iter()
                .map(|((start, _), (status, n))| (start, status, n))
                .collect(),
            complete,
        })
    }

    /// A Query of the sparse global index (eventually consistent, keys only), then a
    /// consistent BatchGetItem of what it found, keeping what still reads `failed`.
    async fn failed_deliveries(
        &self,
        org: OrgId,
        connection: ConnectionId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        after: Option<DeliveryId>,
        limit: u32,
    ) -> Result<FailedPage, StoreError> {
        // Just above `after`: BETWEEN is inclusive, and the bounds from times match no real id.
        let lower = match after {
            Some(id) => uuid::Uuid::from_u128(id.0.as_u128().saturating_add(1)).max(v7_floor(from)),
            None => v7_floor(from),
        };
        let upper = v7_floor(to);
        if lower >= upper {
            return Ok(FailedPage::default());
        }
        let out = self
            .client
            .query()
            .table_name(self.table(Table::History))
            .index_name(FAILED_INDEX)
            .key_condition_expression("#c = :c AND #f BETWEEN :lo AND :hi")
            .expression_attribute_names("#c", FAILED_HASH)
            .expression_attribute_names("#f", FAILED_SORT)
            .expression_attribute_values(":c", s(connection.to_string()))
            .expression_attribute_values(":lo", s(lower.hyphenated().to_string()))
            .expression_attribute_values(":hi", s(upper.hyphenated().to_string()))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| crate::error::backend("Query", e))?;
        self.meter
            .read(out.items().iter().map(super::item_size).sum(), false);
        let seen: Vec<DeliveryId> = out
            .items()
            .iter()
            .filter_map(|item| match item.get(FAILED_SORT) {
                Some(AttributeValue::S(id)) => id.parse().ok(),
                _ => None,
            })
            .collect();
        // More may follow when the page was full, whether or not the service said so (moto
        // returns no LastEvaluatedKey at the end of an index, DynamoDB does): as embedded.
        let full = seen.len() >= limit as usize;
        let next = (out.last_evaluated_key().is_some() || full)
            .then(|| seen.last().copied())
            .flatten();
        let found = seen;
        // Another organization's connection id finds no item under this organization's keys.
        let keys = found
            .iter()
            .map(|id| (delivery_pk(org, *id), DELIVERY_SK.to_owned()))
            .collect::<Vec<_>>();
        let mut deliveries = if keys.is_empty() {
            Vec::new()
        } else {
            self.batch_get(Table::History, keys)
                .await?
                .iter()
                .filter_map(|item| codec::written_delivery(item).transpose())
                .collect::<Result<Vec<_>, _>>()?
        };
        deliveries.retain(|d| d.status == DeliveryStatus::Failed && d.connection == connection);
        deliveries.sort_by_key(|d| d.id);
        Ok(FailedPage { deliveries, next })
    }
}

impl DynamoStore {
    /// The deliveries events' claims stand for: each one's item once written, else the claim
    /// itself (`pending`), settled by the events' outcomes — all items in one batched read. An
    /// earlier version's claim whose item is missing stands for nothing.
    async fn claimed_deliveries(
        &self,
        org: OrgId,
        events: &[(&EventHead, &BTreeMap<RuleId, Claim>)],
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut keys: Vec<_> = events
            .iter()
            .flat_map(|(_, claims)| claims.values())
            .map(|c| (delivery_pk(org, c.id), DELIVERY_SK.to_owned()))
            .collect();
        keys.extend(
            events
                .iter()
                .filter(|(_, claims)| !claims.is_empty())
                .map(|(head, _)| (outcomes_pk(org, head.id()), OUTCOMES_SK.to_owned())),
        );
        let mut written = HashMap::new();
        let mut done = HashMap::new();
        for item in self.batch_get(Table::History, keys).await? {
            if super::events::is_sk(&item, OUTCOMES_SK) {
                done.extend(outcomes::by_delivery(&item, org)?);
            } else if let Some(d) = codec::written_delivery(&item)? {
                written.insert(d.id, d);
            }
        }
        let mut all = Vec::new();
        for (head, claims) in events {
            for (rule, claim) in claims.iter() {
                let current = written
                    .remove(&claim.id)
                    .or_else(|| head.pending_delivery(*rule, claim));
                all.extend(
                    current.map(|d| {
                        outcomes::settle(d, done.get(&claim.id).map_or(&[], Vec::as_slice))
                    }),
                );
            }
        }
        Ok(all)
    }

    /// A delivery no item holds yet, from its claim. On the hot path the event read for an
    /// earlier record of the batch answers (a claim never changes once set), unless it was
    /// read before this delivery was claimed.
    async fn unwritten_delivery(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let claimed = |stored: Option<StoredEvent>| {
            let stored = stored?;
            let (rule, claim) = stored.claims.iter().find(|(_, c)| c.id == id)?;
            EventHead::of(&stored.event).pending_delivery(*rule, claim)
        };
        if let Some(d) = claimed(self.stored_event(org, event, false).await?) {
            return Ok(Some(d));
        }
        if self.hot.is_none() {
            return Ok(None);
        }
        Ok(claimed(self.stored_event(org, event, true).await?))
    }

    /// Cancels a written delivery that is not final.
    async fn cancel_written(
        &self,
        org: OrgId,
        id: DeliveryId,
        now: OffsetDateTime,
    ) -> Result<Option<Delivery>, StoreError> {
        let set = Expr::new("SET #st = :canceled, #up = :now REMOVE #next")
            .value(":canceled", status(DeliveryStatus::Canceled))
            .value(":now", ms(now));
        let when = Expr::new("#st IN (:pending, :processing, :retrying)")
            .value(":pending", status(DeliveryStatus::Pending))
            .value(":processing", status(DeliveryStatus::Processing))
            .value(":retrying", status(DeliveryStatus::Retrying));
        self.update_delivery(org, id, set, when).await
    }

    /// A conditional update of a written delivery: the delivery after it, or `None` when the
    /// condition failed (or no item holds the delivery).
    async fn update_delivery(
        &self,
        org: OrgId,
        id: DeliveryId,
        set: Expr,
        when: Expr,
    ) -> Result<Option<Delivery>, StoreError> {
        self.update(
            Table::History,
            delivery_pk(org, id),
            DELIVERY_SK,
            set,
            Some(when),
        )
        .await?
        .as_ref()
        .map(codec::delivery)
        .transpose()
    }

    /// `SET r_<rule> = if_not_exists(r_<rule>, :claim)` for each rule, on the existing event.
    async fn claim_rules(
        &self,
        org: OrgId,
        event: EventId,
        proposed: &BTreeMap<RuleId, &Delivery>,
    ) -> Result<Option<Item>, StoreError> {
        let mut terms = Vec::new();
        let mut claim = Expr::default();
        for (i, (rule, d)) in proposed.iter().enumerate() {
            terms.push(format!("#r{i} = if_not_exists(#r{i}, :d{i})"));
            claim = claim
                .name(&format!("#r{i}"), rule_attr(*rule))
                .value(&format!(":d{i}"), rule_claims::claim_value(d));
        }
        // Built from the raw text, the `#r<i>` names would map to themselves: the explicit
        // names replace them.
        // The routed mark rides on the claim: routing costs no second write. The
        // claims are the deliveries until their first attempts, so a router that dies after this
        // update has stored them all; its redelivered message enqueues them again.
        terms.push("#rt = :yes".to_owned());
        let mut update = Expr::new(format!("SET {}", terms.join(", ")));
        update.names.extend(claim.names);
        update.values.extend(claim.values);
        let update = update.value(":yes", super::yes());
        let item = self
            .update(
                Table::History,
                events_pk(org, event),
                &event_sk(event),
                update,
                Some(super::present()),
            )
            .await?;
        if item.is_some() {
            self.routed.insert(routed_key(org, event));
        }
        Ok(item)
    }

    /// A fresh schedule counts from the attempts made so far. A delivery its first attempt
    /// completed, held by its event's outcomes alone, is written from them first.
    pub(super) async fn restart_delivery_item(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        now: OffsetDateTime,
        replay_since: Option<OffsetDateTime>,
    ) -> Result<Option<Delivery>, StoreError> {
        let restart = "#st IN (:completed, :failed, :canceled, :retrying)";
        let (set, when) = match replay_since {
            None => (
                Expr::new("SET #st = :pending, #base = #n, #up = :now REMOVE #done, #next, #fsk"),
                Expr::new(restart),
            ),
            // A replay also claims the delivery: `replayed` moves only if no replay after `since`.
            Some(since) => (
                Expr::new(
                    "SET #st = :pending, #base = #n, #up = :now, #replayed = :now REMOVE #done, #next, #fsk",
                ),
                Expr::new(format!(
                    "{restart} AND (attribute_not_exists(#replayed) OR #replayed <= :since)"
                ))
                .value(":since", ms(since)),
            ),
        };
        let set = set
            .value(":pending", status(DeliveryStatus::Pending))
            .value(":now", ms(now));
        let when = when
            .value(":completed", status(DeliveryStatus::Completed))
            .value(":failed", status(DeliveryStatus::Failed))
            .value(":canceled", status(DeliveryStatus::Canceled))
            .value(":retrying", status(DeliveryStatus::Retrying));
        if let Some(restarted) = self
            .update_delivery(org, id, set.clone(), when.clone())
            .await?
        {
            return Ok(Some(restarted));
        }
        if !self.write_settled(org, event, id).await? {
            return Ok(None);
        }
        self.update_delivery(org, id, set, when).await
    }

    /// Writes the item of a delivery that its event's outcomes alone hold (completed at its
    /// first attempt); `false` when there is no such delivery.
    async fn write_settled(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
    ) -> Result<bool, StoreError> {
        let (own, done) = self.delivery_items(org, event, id).await?;
        if own.is_some() || done.is_empty() {
            return Ok(false);
        }
        self.put_settled(org, event, id, &done).await
    }

    /// Writes a delivery's item as its claim and successful first attempt `done` make it,
    /// unless an item holds it already (written meanwhile: then it serves all the same);
    /// `false` when there is no claim.
    async fn put_settled(
        &self,
        org: OrgId,
        event: EventId,
        id: DeliveryId,
        done: &[Attempt],
    ) -> Result<bool, StoreError> {
        let Some(pending) = self.unwritten_delivery(org, event, id).await? else {
            return Ok(false);
        };
        let settled = outcomes::settle(pending, done);
        let item = codec::delivery_item(&settled, self.expiry(settled.created_at));
        self.put(Table::History, item, Some(absent())).await?;
        Ok(true)
    }
}
