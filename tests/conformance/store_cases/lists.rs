//! The paginated lists of every role: newest first, stable cursors.

use anyhow::Result;
use switchyard_core::domain::*;
use switchyard_core::page::{Page, PageRequest};
use switchyard_core::ports::{EventFilter, Store};

use super::page;
use uuid::Uuid;

use super::super::store_fixtures::*;

/// The paginated lists, driven alike by the pagination case.
#[derive(Clone, Copy, Debug)]
enum Listed {
    Workspaces,
    Connections,
    Rules,
    Events,
}

async fn create_listed(store: &dyn Store, t: &Tenant, kind: Listed) -> Result<Uuid> {
    Ok(match kind {
        Listed::Workspaces => {
            let ws = workspace(t.org, &format!("ws-{}", Uuid::new_v4()));
            store.create_workspace(&ws).await?;
            ws.id.0
        }
        Listed::Connections => {
            let conn = connection(&t.workspace);
            store.create_connection(&conn).await?;
            conn.id.0
        }
        Listed::Rules => stored_rule(store, t, "user.created").await?.id.0,
        Listed::Events => stored_event(store, t, "user.created").await?.id.0,
    })
}

async fn list_listed(
    store: &dyn Store,
    t: &Tenant,
    kind: Listed,
    req: PageRequest,
) -> Result<Page<Uuid>> {
    let ws = Some(t.workspace.id);
    Ok(match kind {
        Listed::Workspaces => store.list_workspaces(t.org, req).await?.map(|w| w.id.0),
        Listed::Connections => store
            .list_connections(t.org, ws, req)
            .await?
            .map(|c| c.id.0),
        Listed::Rules => {
            let filter = RuleFilter {
                workspace: ws,
                event: Some("user.created".into()),
                ..RuleFilter::default()
            };
            store.list_rules(t.org, &filter, req).await?.map(|r| r.id.0)
        }
        Listed::Events => {
            let filter = EventFilter {
                workspace: ws,
                ..EventFilter::default()
            };
            store
                .list_events(t.org, &filter, req)
                .await?
                .map(|e| e.id.0)
        }
    })
}

pub async fn lists_are_newest_first_and_paginate_without_skips_or_repeats(
    store: &dyn Store,
) -> Result<()> {
    for kind in [
        Listed::Workspaces,
        Listed::Connections,
        Listed::Rules,
        Listed::Events,
    ] {
        let t = tenant(store).await?;
        let mut originals = match kind {
            Listed::Workspaces => vec![t.workspace.id.0],
            Listed::Connections => vec![t.connection.id.0],
            Listed::Rules | Listed::Events => vec![],
        };
        for _ in 0..7 {
            originals.push(create_listed(store, &t, kind).await?);
        }

        let mut seen = Vec::new();
        let mut cursor = None;
        let mut newest = None;
        for _ in 0..originals.len() {
            let p = list_listed(store, &t, kind, page(3, cursor)).await?;
            assert!(p.records.len() <= 3, "{kind:?}: page over its limit");
            assert_eq!(p.limit, 3);
            seen.extend(p.records.iter().copied());
            // Records arriving mid-walk are newer than any cursor and must not show up.
            newest = Some(create_listed(store, &t, kind).await?);
            match p.next_cursor {
                Some(next) => {
                    assert_eq!(
                        Some(&next),
                        p.records.last(),
                        "{kind:?}: cursor is the last id"
                    );
                    cursor = Some(next);
                }
                None => break,
            }
        }
        let expected: Vec<Uuid> = originals.iter().rev().copied().collect();
        assert_eq!(
            seen, expected,
            "{kind:?}: newest first, each original exactly once"
        );

        let fresh = list_listed(store, &t, kind, page(1, None)).await?;
        assert_eq!(
            fresh.records.first().copied(),
            newest,
            "{kind:?}: fresh page"
        );
    }
    Ok(())
}

/// An event list walked page by page while other events are ingested: newest first, every
/// event that existed when the walk began exactly once, never a repeat. Enough events that a
/// sharded store (DynamoDB: 32 partitions per organization) holds some in every shard, and
/// large payloads on some, whose separate items must not shift a cursor.
pub async fn event_pages_neither_skip_nor_repeat_under_concurrent_writes(
    store: &dyn Store,
) -> Result<()> {
    let t = tenant(store).await?;
    let mut originals = Vec::new();
    for i in 0..100 {
        let mut e = event(&t.workspace, "order.paid");
        if i % 7 == 0 {
            e.payload = serde_json::json!({"blob": "x".repeat(600)});
        }
        store.insert_event(&e).await?;
        originals.push(e.id.0);
    }
    let filter = EventFilter {
        workspace: Some(t.workspace.id),
        ..EventFilter::default()
    };
    let walking = std::sync::atomic::AtomicBool::new(true);
    let walk = async {
        let mut seen: Vec<Uuid> = Vec::new();
        let mut cursor = None;
        for _ in 0..200 {
            let p = store.list_events(t.org, &filter, page(7, cursor)).await?;
            assert!(p.records.len() <= 7, "page over its limit");
            seen.extend(p.records.iter().map(|e| e.id.0));
            match p.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        walking.store(false, std::sync::atomic::Ordering::SeqCst);
        anyhow::Ok(seen)
    };
    let write = async {
        let mut written = Vec::new();
        while walking.load(std::sync::atomic::Ordering::SeqCst) {
            written.push(stored_event(store, &t, "order.paid").await?.id.0);
            tokio::task::yield_now().await;
        }
        anyhow::Ok(written)
    };
    let (seen, written) = tokio::join!(walk, write);
    let (seen, written) = (seen?, written?);
    assert!(!written.is_empty(), "events were written during the walk");
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first, no repeats"
    );
    let older: Vec<Uuid> = seen
        .iter()
        .copied()
        .filter(|id| !written.contains(id))
        .collect();
    let expected: Vec<Uuid> = originals.iter().rev().copied().collect();
    assert_eq!(
        older, expected,
        "every event of before the walk exactly once"
    );
    Ok(())
}
