//! The embed in a real browser, across two origins: a host product's page on
//! `http://localhost:<port>` frames a session's launch URL from Switchyard on
//! `http://127.0.0.1:<port>` with `/embed/host.js`. The host hands over the access token by
//! postMessage; the embedded events page shows the workspace's events; a member session gets
//! no forms for writes and the API refuses one (403); a message from a frame of a disallowed
//! origin is ignored, visibly; a launch URL opened twice is refused; revoking the session
//! makes the next call 401 and the host hears `meshes:token-expired`.

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use fantoccini::Locator;
use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{Api, eventually, expect_status, start};

use crate::browser::{Browser, STEP};

/// The host product's page: the embed (first frame), then a frame from a disallowed origin.
/// `getToken` waits for `release()`, so the test decides when the host authenticates; its
/// first token is said to expire in 61 s, so the embed asks for a fresh one a second later.
fn host_page(switchyard: &str, evil_origin: &str) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Host product</title></head>
<body style="font-family:sans-serif;margin:0 2rem">
<h1>Host product · Integrations</h1>
<div id="embed"></div><div id="again"></div>
<iframe id="evil" src="{evil_origin}/evil" style="height:40px"></iframe>
<script src="{switchyard}/embed/host.js"></script>
<script>
const q = new URLSearchParams(location.search);
window.heard = [];
let tokens = 0;
let release;
const gate = new Promise((r) => (release = r));
window.release = release;
window.mount = (container) => SwitchyardEmbed.mount({{
  container: document.getElementById(container),
  launchUrl: q.get("launch"),
  getToken: () => gate.then(() => {{
    const soon = new Date(Date.now() + 61000).toISOString();
    return tokens++ ? q.get("token") : {{ access_token: q.get("token"), expires_at: soon }};
  }}),
  onMessage: (m) => heard.push(m.type),
  onExpired: () => heard.push("expired"),
}});
mount("embed");
</script></body></html>"#
    )
}

/// Serves the host page and the disallowed frame on 127.0.0.1:<port> (reached as `localhost`
/// for the allowed origin and as `127.0.0.1` for the disallowed one); the port.
async fn host_server(switchyard: String) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind host");
    let port = listener.local_addr().unwrap().port();
    let page = host_page(&switchyard, &format!("http://127.0.0.1:{port}"));
    let app = Router::new()
        .route("/host", get(move || async move { Html(page) }))
        .route(
            "/evil",
            get(|| async { Html("<!doctype html><title>other</title><p>other origin</p>") }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.expect("host serves") });
    port
}

async fn create_session(api: &Api, body: Value) -> Value {
    let response = api
        .machine(Method::POST, "/sessions")
        .json(&body)
        .send()
        .await
        .expect("POST /sessions");
    expect_status(response, 200).await
}

/// Switches into the `index`th frame of the top page (in document order).
async fn into_frame(browser: &Browser, index: u16) {
    to_top(browser).await;
    browser.client.enter_frame(index).await.expect("frame");
}

async fn to_top(browser: &Browser) {
    // Two levels is as deep as this page goes.
    browser.client.enter_parent_frame().await.unwrap();
    browser.client.enter_parent_frame().await.unwrap();
}

async fn heard(browser: &Browser) -> Vec<String> {
    to_top(browser).await;
    serde_json::from_value(browser.eval("return window.heard").await).unwrap()
}

#[tokio::test]
async fn a_host_page_embeds_a_member_session_across_origins() {
    let (_dir, server, api) = start();
    let http = reqwest::Client::new();
    let port = host_server(server.api_url.clone()).await;
    let host_origin = format!("http://localhost:{port}");
    let evil_origin = format!("http://127.0.0.1:{port}");
    api.send_event(json!({"event": "order.shipped", "payload": {"order": 7}}))
        .await;

    let session = create_session(
        &api,
        json!({"workspace_id": api.workspace_id, "role": "member", "launch_page": "events",
               "allowed_origins": [host_origin]}),
    )
    .await;
    let launch_url = session["launch_url"].as_str().unwrap().to_owned();
    let token = session["access_token"].as_str().unwrap().to_owned();
    // An admin session's valid token: what a disallowed frame tries to slip in.
    let admin = create_session(
        &api,
        json!({"workspace_id": api.workspace_id, "role": "admin",
               "allowed_origins": [evil_origin]}),
    )
    .await;

    // Only the session's origins may frame its page; a forged token's page, nobody.
    let csp = |r: &reqwest::Response| {
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let page = http.get(&launch_url).send().await.unwrap();
    assert!(
        csp(&page).ends_with(&format!("frame-ancestors {host_origin}")),
        "{}",
        csp(&page)
    );
    assert!(page.headers().get("x-frame-options").is_none());
    let forged = launch_url.replace("token=", "token=x");
    let page = http.get(&forged).send().await.unwrap();
    assert!(
        csp(&page).ends_with("frame-ancestors 'none'"),
        "{}",
        csp(&page)
    );

    let browser = Browser::start().await;
    let b = &browser.client;
    let mut host = url::Url::parse(&format!("{host_origin}/host")).unwrap();
    host.query_pairs_mut()
        .append_pair("launch", &launch_url)
        .append_pair("token", &token);
    b.goto(host.as_str()).await.unwrap();

    // The page spent its launch token, dropped it from its address, and waits for the host.
    into_frame(&browser, 0).await;
    browser.wait_text("main", "Waiting for the host page").await;
    let href = browser.eval("return location.href").await;
    assert!(!href.as_str().unwrap().contains("token"), "{href}");

    // A frame of a disallowed origin sends the admin token: ignored, and said so.
    into_frame(&browser, 1).await;
    b.execute(
        "for (let i = 0; i < parent.frames.length; i++) if (parent.frames[i] !== window) \
         parent.frames[i].postMessage({type: 'meshes:auth', access_token: arguments[0]}, '*')",
        vec![admin["access_token"].clone()],
    )
    .await
    .unwrap();
    into_frame(&browser, 0).await;
    browser
        .wait_text("#notice", &format!("Ignored a message from {evil_origin}"))
        .await;
    browser.wait_text("main", "Waiting for the host page").await;

    // The host authenticates: the workspace's events, and no forms for a member.
    to_top(&browser).await;
    browser.eval("release(); return true").await;
    into_frame(&browser, 0).await;
    browser.wait_text("h1", "Events").await;
    browser.wait_text("td", "order.shipped").await;
    browser.click_text("#nav a", "Connections").await;
    browser.wait_text("h1", "Connections").await;
    assert!(
        b.find(Locator::Css("form")).await.is_err(),
        "a member sees no form"
    );
    let refused = api
        .request(Method::POST, "/connections")
        .bearer_auth(&token)
        .json(
            &json!({"workspace": api.workspace_id, "type": "webhook", "name": "x",
                      "metadata": {"url": "http://127.0.0.1:9/hook"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    browser.click_text("#nav a", "Events").await;
    browser.click_text("td a", "order.shipped").await;
    browser.wait_text("h1", "order.shipped").await;
    let payload = b.find(Locator::Css("[data-test=payload]")).await;
    assert!(payload.is_err(), "no payload without the scope");

    // The host heard ready, page changes and sizes, and sized the frame to the content.
    let messages = heard(&browser).await;
    for kind in ["meshes:ready", "meshes:navigate", "meshes:resize"] {
        assert!(messages.iter().any(|m| m == kind), "{kind} in {messages:?}");
    }
    // A minute before the first token's expiry the embed asked for a fresh one.
    eventually("the embed to ask for a token refresh", STEP, || async {
        let messages = heard(&browser).await;
        messages
            .iter()
            .any(|m| m == "meshes:token-refresh")
            .then_some(())
    })
    .await;
    let height = browser
        .eval("return document.querySelector('#embed iframe').style.height")
        .await;
    assert_ne!(height, "480px", "the frame was resized");
    browser.screenshot("embed").await;

    // The same launch URL, opened again: refused.
    browser.eval("mount('again'); return true").await;
    into_frame(&browser, 1).await;
    browser.wait_text("main", "already used").await;

    // Revoked: the next call answers 401 and the host hears token-expired.
    let revoked = api
        .machine(
            Method::DELETE,
            &format!("/sessions/{}", session["session_id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    into_frame(&browser, 0).await;
    browser.click_text("#nav a", "Dashboard").await;
    browser.wait_text("#notice", "This session has ended").await;
    eventually("the host to hear token-expired", STEP, || async {
        let messages = heard(&browser).await;
        (messages.iter().any(|m| m == "meshes:token-expired")
            && messages.iter().any(|m| m == "expired"))
        .then_some(())
    })
    .await;
    browser.screenshot("embed-expired").await;
    browser.stop().await;
}

/// A name and a payload a careless page would turn into running script.
const HOSTILE: &str = "<img src=x onerror=\"window.__xss=1\">Hook";

/// Fills the input or select named `name` in the current frame's first form with `value`.
async fn fill(browser: &Browser, name: &str, value: &str) {
    browser
        .client
        .find(Locator::Css(&format!("form [name={name}]")))
        .await
        .unwrap()
        .send_keys(value)
        .await
        .unwrap();
}

/// An admin session inside the host page does the customer's whole path through the UI:
/// connects a webhook (the signing secret shown once), tests it, creates a rule (the action
/// by its label), sends a test event, sees it fail and then, retried, delivered with both
/// attempts. Hostile markup in names and payloads stays text; another workspace's event is
/// unreachable; a dashboard session cannot write.
#[tokio::test]
async fn an_admin_session_connects_routes_and_retries_inside_the_host_page() {
    let (_dir, server, api) = start();
    let receiver = switchyard_tests::Receiver::start().await;
    let port = host_server(server.api_url.clone()).await;
    let host_origin = format!("http://localhost:{port}");

    // Another workspace of the organization, with an event the session must never reach.
    let other = api
        .machine(Method::POST, "/workspaces")
        .json(&json!({"name": "elsewhere"}))
        .send()
        .await
        .unwrap();
    let other = expect_status(other, 201).await;
    let other_ws = other["workspace"]["id"].as_str().unwrap().to_owned();
    let elsewhere = api
        .machine(Method::POST, "/events")
        .json(&json!({"workspace": other_ws, "event": "secret.thing", "payload": {}}))
        .send()
        .await
        .unwrap();
    let elsewhere = expect_status(elsewhere, 201).await["event"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let session = create_session(
        &api,
        json!({"workspace_id": api.workspace_id, "role": "admin", "launch_page": "connections",
               "scopes": ["events.payload:read"], "allowed_origins": [host_origin]}),
    )
    .await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    let browser = Browser::start().await;
    let b = &browser.client;
    let mut host = url::Url::parse(&format!("{host_origin}/host")).unwrap();
    host.query_pairs_mut()
        .append_pair("launch", session["launch_url"].as_str().unwrap())
        .append_pair("token", &token);
    b.goto(host.as_str()).await.unwrap();
    browser.eval("release(); return true").await;
    into_frame(&browser, 0).await;
    browser.wait_text("h2", "New connection").await;
    let href = browser.eval("return location.href").await;
    assert!(!href.as_str().unwrap().contains("sy_"), "{href}");

    // Connect: the signing secret is shown this once.
    fill(&browser, "name", HOSTILE).await;
    fill(&browser, "url", &receiver.url("/hook")).await;
    b.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_text("[data-test=signing-secret]", "whsec_")
        .await;
    browser.screenshot("embed-connections").await;

    // Its page: test it; a webhook sends the whole event, so there is nothing to map.
    browser
        .click_text("[data-test=connection-name] a", "Hook")
        .await;
    browser.wait_text("h2", "Settings").await;
    browser
        .click_text("[data-test=test-connection]", "Test connection")
        .await;
    browser.wait_text("[role=status]", "Test passed").await;
    browser
        .wait_text("[data-test=mapping]", "no fields to map")
        .await;
    browser.screenshot("embed-connection").await;

    // A rule: the action is offered by its label.
    browser.click_text("#nav a", "Rules").await;
    browser.wait_text("h2", "New rule").await;
    fill(&browser, "event", "user.signup").await;
    let action = browser
        .eval("return document.querySelector('form [name=action] option').textContent")
        .await;
    assert_ne!(action, "send_webhook", "the label, not the key");
    b.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_text("[role=status]", "Rule created").await;
    browser.screenshot("embed-rules").await;

    // A test event, refused once by the receiver, then retried: delivered, both attempts.
    receiver.fail_next(1, 400);
    browser
        .click_text("[data-test=send-test]", "Send test event")
        .await;
    browser
        .wait_text("[data-test=delivery] .badge", "failed")
        .await;
    browser.click_text("[data-test=retry]", "Retry").await;
    browser
        .wait_text("[data-test=delivery] .badge", "completed")
        .await;
    eventually("both attempts listed", STEP, || async {
        let n = b
            .find_all(Locator::Css("[data-test=attempt]"))
            .await
            .ok()?
            .len();
        (n == 2).then_some(())
    })
    .await;
    browser
        .wait_text("[data-test=payload]", "test@example.com")
        .await;
    browser.screenshot("embed-event").await;

    // A payload carrying markup is shown as text, and nothing runs.
    let hostile = api
        .send_event(json!({"event": "user.signup", "payload": {"name": HOSTILE}}))
        .await;
    browser
        .eval(&format!(
            "location.hash = '#/w/{}/events/{}'; return true",
            api.workspace_id,
            hostile["id"].as_str().unwrap()
        ))
        .await;
    // JSON-escaped in the payload view; the markup's start shows as characters.
    browser
        .wait_text("[data-test=payload]", "<img src=x onerror=")
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

    // Another workspace's event: not found, in the page and from the API.
    browser
        .eval(&format!(
            "location.hash = '#/w/{}/events/{elsewhere}'; return true",
            api.workspace_id
        ))
        .await;
    browser.wait_text("[role=alert]", "not found").await;
    let reached = api
        .request(Method::GET, &format!("/events/{elsewhere}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(reached.status(), 404);

    browser.click_text("#nav a", "Dashboard").await;
    browser.wait_text("[data-test=failure-rate]", "%").await;
    browser.screenshot("embed-dashboard").await;
    browser.stop().await;

    // A dashboard session reads, whatever its role, and writes nothing.
    let dashboard = create_session(
        &api,
        json!({"workspace_id": api.workspace_id, "role": "owner", "session_type": "dashboard"}),
    )
    .await;
    let refused = api
        .request(Method::POST, "/rules")
        .bearer_auth(dashboard["access_token"].as_str().unwrap())
        .json(
            &json!({"workspace": api.workspace_id, "connection": api.workspace_id,
                      "event": "x.y", "metadata": {"action": "send_webhook"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let read = api
        .request(
            Method::GET,
            &format!("/workspaces/{}/stats", api.workspace_id),
        )
        .bearer_auth(dashboard["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
}
