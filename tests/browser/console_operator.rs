//! An operator's whole path in the browser: log in with the printed link, connect a webhook to
//! a loopback receiver, create a rule, send a test event, watch it fail, retry it, see it
//! delivered with both attempts. Names with markup stay text; the login code leaves the URL.

use std::process::Command;

use fantoccini::Locator;
use switchyard_tests::{Receiver, Switchyard, binary, eventually, start};

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
    let (_dir, server, _api) = start();
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
    browser.screenshot("rules").await;

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
    browser.wait_text(".bars .badge", "completed").await;
    browser.screenshot("dashboard-after").await;

    // The same link again: refused, and said so.
    b.goto(&link).await.unwrap();
    browser.wait_text("[role=alert]", "already used").await;
    browser.stop().await;
}
