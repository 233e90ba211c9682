//! The events page and the dashboard at scale: 100,000 events stored (written straight into
//! the server's SQLite file through the embedded store, which is what ingest would have
//! left), the page interactive within a second, and its filters answered by the server.

use std::time::Instant;

use fantoccini::Locator;
use serde_json::{Value, json};
use switchyard_core::domain::{Delivery, DeliveryStatus, Event, IntegrationType};
use switchyard_core::ports::{Deliveries, Events};
use switchyard_core::{ConnectionId, DeliveryId, EventId, OrgId, RuleId, WorkspaceId};
use switchyard_embedded::{Db, SqliteStore};
use switchyard_tests::start;
use time::OffsetDateTime;

use crate::browser::Browser;
use crate::console_operator::login_link;

const EVENTS: usize = 100_000;
/// Every this many events has one failed delivery.
const FAILED_EVERY: usize = 1_000;

/// The time from `start` until the events table shows a row whose badge reads `status` (any
/// when empty), measured in the page (`performance.now()`), polled each animation frame.
const ROWS_SHOWN: &str = "
  const [status, done] = [arguments[0], arguments[arguments.length - 1]];
  const start = arguments[1] === null ? 0 : arguments[1];
  const check = () => {
    const rows = [...document.querySelectorAll('[data-test=events] tbody tr')];
    const ok = rows.length && rows.every((r) => !status || r.querySelector('.badge')?.textContent === status);
    if (ok) done(performance.now() - start); else requestAnimationFrame(check);
  };
  check();";

#[tokio::test]
async fn events_page_is_interactive_within_a_second_over_100k_events_and_filters_on_the_server() {
    let (_dir, server, api) = start();
    // The catalog (type and resource pickers) as ingest fills it.
    for (event, resource) in [("order.paid", "order"), ("user.signup", "user")] {
        api.post(
            "/events",
            json!({"workspace": api.workspace_id, "event": event, "resource": resource,
                   "resource_id": "r_1", "payload": {}}),
        )
        .await;
    }

    let seeded = Instant::now();
    seed(&server.data_dir, &api.org_id, &api.workspace_id).await;
    println!("seeded {EVENTS} events in {:?}", seeded.elapsed());

    // The API's filters, straight: the failed ones, and a time range with nothing in it.
    let failed = api
        .get(&format!(
            "/workspaces/{}/events?status=failed&limit=200",
            api.workspace_id
        ))
        .await;
    assert_eq!(
        failed["records"].as_array().unwrap().len(),
        EVENTS / FAILED_EVERY
    );
    assert!(
        failed["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == "failed")
    );
    let future = api
        .get(&format!(
            "/workspaces/{}/events?since=2999-01-01T00:00:00Z",
            api.workspace_id
        ))
        .await;
    assert_eq!(future["records"], json!([]));

    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(&login_link(&server)).await.unwrap();
    browser.wait_text("h1", "Workspaces").await;

    // A fresh load of the events page (the session stays in the tab).
    let page = format!("{}/console/#/w/{}/events", server.api_url, api.workspace_id);
    b.goto("about:blank").await.unwrap();
    b.goto(&page).await.unwrap();
    let load_ms = b
        .execute_async(ROWS_SHOWN, vec![json!(""), Value::Null])
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    println!("events page interactive with {EVENTS} events: {load_ms:.0} ms after navigation");
    browser.wait_text("h1", "Events").await;
    browser.screenshot("events-100k").await;

    // The status filter: the failed events, found by the server's index.
    b.find(Locator::Css("select[name=status]"))
        .await
        .unwrap()
        .select_by_value("failed")
        .await
        .unwrap();
    let started = browser.eval("return performance.now()").await;
    b.find(Locator::Css("form[role=search] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let filter_ms = b
        .execute_async(ROWS_SHOWN, vec![json!("failed"), started])
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    println!("status filter answered over {EVENTS} events: {filter_ms:.0} ms");
    browser.screenshot("events-failed").await;

    // The type filter: only the one ingested order.
    b.find(Locator::Css("select[name=status]"))
        .await
        .unwrap()
        .select_by_value("")
        .await
        .unwrap();
    b.find(Locator::Css("select[name=event]"))
        .await
        .unwrap()
        .select_by_value("order.paid")
        .await
        .unwrap();
    b.find(Locator::Css("form[role=search] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_text("[data-test=events] td", "order r_1")
        .await;
    let rows = browser
        .eval("return document.querySelectorAll('[data-test=events] tbody tr').length")
        .await;
    assert_eq!(rows, 1);

    // The dashboard: its chart and failure rate from the stats route, failures listed.
    browser.click_text("#nav a", "Dashboard").await;
    browser
        .wait_text("[data-test=failure-rate]", "100.0 %")
        .await;
    browser
        .wait_text(
            "[data-test=deliveries-total]",
            &(EVENTS / FAILED_EVERY).to_string(),
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('svg.chart rect.c-failed').length > 0")
            .await,
        true
    );
    browser.screenshot("dashboard-100k").await;
    browser.stop().await;

    assert!(
        load_ms <= 1000.0,
        "the events page took {load_ms:.0} ms to show its first page"
    );
}

/// Writes the events through the embedded store, as ingest and the router would have: every
/// [`FAILED_EVERY`]th one routed with one failed delivery.
async fn seed(data_dir: &std::path::Path, org: &str, workspace: &str) {
    let store = SqliteStore::open(Db::open(&data_dir.join("switchyard.db")).unwrap()).unwrap();
    let org: OrgId = org.parse().unwrap();
    let workspace: WorkspaceId = workspace.parse().unwrap();
    let (rule, connection) = (RuleId::new(), ConnectionId::new());
    for i in 0..EVENTS {
        let (name, resource) = if i % 2 == 0 {
            ("user.signup", "user")
        } else {
            ("invoice.sent", "invoice")
        };
        let event = Event {
            id: EventId::new(),
            org,
            workspace,
            event: name.into(),
            resource: resource.into(),
            resource_id: Some(format!("r_{}", i % 5000)),
            payload: json!({"n": i}),
            created_by: "seed".into(),
            created_at: OffsetDateTime::now_utc(),
            trace_id: None,
        };
        store.insert_event(&event).await.unwrap();
        if i % FAILED_EVERY == FAILED_EVERY - 1 {
            let now = OffsetDateTime::now_utc();
            let delivery = Delivery {
                id: DeliveryId::new(),
                org,
                workspace,
                event: event.id,
                event_name: event.event.clone(),
                rule,
                connection,
                kind: IntegrationType::Webhook,
                status: DeliveryStatus::Failed,
                attempt_count: 1,
                schedule_base: 0,
                started_at: Some(now),
                completed_at: Some(now),
                next_attempt_at: None,
                last_error: Some("HTTP 400".into()),
                created_at: now,
                updated_at: now,
            };
            store
                .insert_deliveries(org, event.id, &[delivery])
                .await
                .unwrap();
        }
    }
}
