//! An operator's whole path in the browser: log in with the printed link, connect a webhook to
//! a loopback receiver, create a rule, send a test event, watch it fail, retry it, see it
//! delivered with both attempts. Names with markup stay text; the login code leaves the URL.

use std::process::Command;

use fantoccini::Locator;
use reqwest::Method;
use serde_json::json;
use switchyard_tests::{Api, FakeProvider, Receiver, Reply, Switchyard, binary, eventually, start};

use crate::browser::{Browser, STEP};

/// A name a careless page would turn into a running script.
const HOSTILE: &str = "<img src=x onerror=\"window.__xss=1\">Receiver";

/// `switchyard console` for the server's organization: the one-time login link.
pub fn login_link(server: &Switchyard) -> String {
    let out = Command::new(binary())
        .arg("console")
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .expect("switchyard console");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(
        link.starts_with(&format!("{}/console/#login=", server.api_url)),
        "{link}"
    );
    link
}

#[tokio::test]
async fn operator_connects_a_webhook_tests_a_rule_and_retries_a_failed_delivery() {
    let (_dir, server, api) = start();
    let receiver = Receiver::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;

    // Log in: the code is traded once and leaves the address bar; nothing lands in a cookie.
    let link = login_link(&server);
    b.goto(&link).await.unwrap();
    browser.wait_text("h1", "Workspaces").await;
    let url = b.current_url().await.unwrap();
    assert!(!url.as_str().contains("login"), "{url}");
    assert_eq!(browser.eval("return document.cookie").await, "");
    let weight = browser
        .eval(
            "return performance.getEntriesByType('navigation').concat(\
             performance.getEntriesByType('resource'))\
             .reduce((n, e) => n + e.encodedBodySize, 0)",
        )
        .await
        .as_u64()
        .unwrap();
    println!("first-load weight: {weight} bytes");
    assert!(weight <= 200 * 1024, "first load {weight} bytes");
    browser.screenshot("workspaces").await;

    browser.click_text("a", "default").await;
    browser.wait_text("h1", "Dashboard").await;
    browser.screenshot("dashboard").await;

    // Connect a webhook whose name is hostile markup: the signing secret shows once.
    browser.click_text("#nav a", "Connections").await;
    browser.wait_text("h2", "New connection").await;
    let form = b.find(Locator::Css("form")).await.unwrap();
    form.find(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys(HOSTILE)
        .await
        .unwrap();
    form.find(Locator::Css("input[name=url]"))
        .await
        .unwrap()
        .send_keys(&receiver.url("/hook"))
        .await
        .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let secret = browser
        .wait_text("[data-test=signing-secret]", "whsec_")
        .await;
    assert!(secret.text().await.unwrap().starts_with("whsec_"));
    browser
        .wait_text("[data-test=connection-name]", HOSTILE)
        .await;
    assert_eq!(
        browser.eval("return window.__xss === undefined").await,
        true
    );
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('main img').length")
            .await,
        0
    );
    browser.screenshot("connections").await;

    // A rule from the event type and the catalog's action.
    browser.click_text("#nav a", "Rules").await;
    browser.wait_text("h2", "New rule").await;
    b.find(Locator::Css("input[name=event]"))
        .await
        .unwrap()
        .send_keys("user.signup")
        .await
        .unwrap();
    b.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_text("[role=status]", "Rule created").await;
    browser
        .wait_text("[data-test=rule-action]", "Send webhook")
        .await;
    browser.screenshot("rules").await;

    // The active switch: off in the store, then on again.
    let active = || async {
        api.get(&format!("/workspaces/{}/rules", api.workspace_id))
            .await["records"][0]["active"]
            .as_bool()
    };
    for want in [false, true] {
        b.find(Locator::Css("[data-test=rule-active]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        eventually("the rule switched", STEP, || async {
            (active().await == Some(want)).then_some(())
        })
        .await;
    }

    // The receiver refuses the first delivery: a plain 4xx fails at once.
    receiver.fail_next(1, 400);
    browser
        .click_text("[data-test=send-test]", "Send test event")
        .await;
    browser
        .wait_text("[data-test=delivery] .badge", "failed")
        .await;
    browser.wait_text("[data-test=attempt]", "400").await;
    browser.screenshot("event-failed").await;

    browser.click_text("[data-test=retry]", "Retry").await;
    browser
        .wait_text("[data-test=delivery] .badge", "completed")
        .await;
    let attempts = eventually("both attempts listed", STEP, || async {
        let n = b
            .find_all(Locator::Css("[data-test=attempt]"))
            .await
            .ok()?
            .len();
        (n == 2).then_some(n)
    })
    .await;
    assert_eq!(attempts, 2);
    assert_eq!(receiver.requests_to("/hook").len(), 2);
    browser.screenshot("event-detail").await;

    browser.click_text("#nav a", "Events").await;
    browser.wait_text("table a", "user.signup").await;
    browser.screenshot("events").await;

    browser.click_text("#nav a", "Dashboard").await;
    // One delivery, failed and then retried: completed, and nothing failed in the end.
    browser.wait_text("[data-test=deliveries-total]", "1").await;
    browser.wait_text("[data-test=failure-rate]", "0.0 %").await;
    browser.screenshot("dashboard-after").await;

    // The same link again: refused, and said so.
    b.goto(&link).await.unwrap();
    browser.wait_text("[role=alert]", "already used").await;
    browser.stop().await;
}

/// The mapping editor on a SaaS connection (Mailchimp, its API pointed at a fake provider on
/// loopback): the destination fields come from the live field catalog, a row maps a payload
/// path through transforms, and the save lands in the mappings API at version 1; a second
/// tab's stale save is refused (409) and said so.
#[tokio::test]
async fn operator_maps_a_connections_fields_from_its_field_catalog() {
    let mailchimp = FakeProvider::start().await;
    mailchimp.script(
        "GET /us6/3.0/ping",
        Reply::json(200, json!({"health_status": "Everything's Chimpy!"})),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/{{dc}}/3.0", mailchimp.base_url());
    let server = Switchyard::start_with_env(
        &dir.path().join("data"),
        &["--allow-loopback-http"],
        &[("SWITCHYARD_MAILCHIMP_API_URL", &url)],
    );
    let api = Api::from_credentials(&server.credentials());
    let created = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "mailchimp", "name": "News",
                   "metadata": {"api_key": "f00dbabe-us6"}}),
        )
        .await;
    let id = created["connection"]["id"].as_str().unwrap().to_owned();

    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(&login_link(&server)).await.unwrap();
    browser.wait_text("h1", "Workspaces").await;
    b.goto(&format!(
        "{}/console/#/w/{}/connections/{id}",
        server.api_url, api.workspace_id
    ))
    .await
    .unwrap();
    browser.wait_text("h2", "Field mapping").await;
    // The API key is write-only: never shown, the field empty.
    assert_eq!(
        browser
            .eval("return document.querySelector('form [name=api_key]').value")
            .await,
        ""
    );
    assert!(
        !browser
            .eval("return document.body.innerHTML")
            .await
            .to_string()
            .contains("f00dbabe")
    );

    browser.click_text("button", "Add field").await;
    let row = b
        .find(Locator::Css("[data-test=mapping-row]"))
        .await
        .unwrap();
    row.find(Locator::Css("select[name=dest]"))
        .await
        .unwrap()
        .select_by_value("email")
        .await
        .unwrap();
    row.find(Locator::Css("input[name=source]"))
        .await
        .unwrap()
        .send_keys("user.email")
        .await
        .unwrap();
    row.find(Locator::Css("input[name=transforms]"))
        .await
        .unwrap()
        .send_keys("trim, lower")
        .await
        .unwrap();
    row.find(Locator::Css("select[name=on_error]"))
        .await
        .unwrap()
        .select_by_value("skip_field")
        .await
        .unwrap();
    browser.click_text("button", "Save mapping").await;
    browser.wait_text("[role=status]", "version 1").await;
    browser.screenshot("mapping").await;

    let stored = api
        .get(&format!("/connections/{id}/mappings/default"))
        .await;
    let field = &stored["mapping"]["schema"]["fields"][0];
    assert_eq!(field["dest"], "email", "{stored}");
    assert_eq!(
        field["source"],
        json!({"type": "path", "value": "user.email"})
    );
    assert_eq!(
        field["transforms"],
        json!([{"type": "trim"}, {"type": "lower"}])
    );
    assert_eq!(field["on_error"], "skip_field");
    assert_eq!(stored["mapping"]["version"], 1);

    // Someone else saves meanwhile: this page's next save is stale, refused and explained.
    let put = api
        .machine(Method::PUT, &format!("/connections/{id}/mappings/default"))
        .json(&json!({"schema": {"schema_version": 1, "fields": []}}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    browser.click_text("button", "Save mapping").await;
    browser
        .wait_text("[role=alert]", "changed this mapping meanwhile")
        .await;
    browser.stop().await;
}
