//! The operator's organization pages and the embed's branding in the browser: the dead
//! letters page lists a failed delivery and redrives it after a confirming click; the keys
//! and usage pages show the organization; a connection's failed deliveries are replayed from
//! its page; a branded session's embed shows the host's name, logo (from its own loopback
//! origin, which the page's CSP admits alone), accent colour and forced dark theme.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use reqwest::Method;
use serde_json::json;
use switchyard_tests::{Api, Receiver, all_deliveries, event_when, expect_status, start};

use crate::browser::Browser;
use crate::console_operator::login_link;

async fn failed_event(api: &Api, event: &str) -> String {
    let id = api.send_event(json!({"event": event})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    event_when(api, &id, "the delivery to fail", |e| {
        all_deliveries(e, "failed")
    })
    .await;
    id
}

#[tokio::test]
async fn an_operator_redrives_dead_letters_and_replays_a_connections_failures() {
    let (_dir, server, api) = start();
    let receiver = Receiver::start().await;
    api.webhook_rule(&receiver.url("/hook"), "invoice.paid")
        .await;
    // Down: a plain 4xx fails a delivery at once, and sends it to the DLQ.
    receiver.respond_with(400);
    let first = failed_event(&api, "invoice.paid").await;

    let browser = Browser::start().await;
    browser.client.goto(&login_link(&server)).await.unwrap();
    browser.wait_text("h1", "Workspaces").await;

    // The dead letters: the failed delivery, then redriven once the destination is back.
    browser.click_text("#nav a", "Dead letters").await;
    browser.wait_text("h1", "Dead letters").await;
    browser.wait_text("td a", &first[first.len() - 8..]).await;
    browser.wait_text("td .badge", "failed").await;
    browser.screenshot("operator-dlq").await;
    receiver.respond_with(200);
    browser.click_text("button", "Redrive…").await;
    browser
        .wait_text(
            "[role=alert]",
            "Move 1 message(s) back to the deliveries queue?",
        )
        .await;
    browser.screenshot("operator-dlq-confirm").await;
    browser.click_text("button", "Redrive now").await;
    browser
        .wait_text("[role=status]", "Redrove 1 message(s).")
        .await;
    browser
        .wait_text("[data-test=dlq-empty]", "No dead letters.")
        .await;
    event_when(&api, &first, "the redriven delivery", |e| {
        all_deliveries(e, "completed")
    })
    .await;

    // Keys and usage.
    browser.click_text("#nav a", "Keys").await;
    browser.wait_text("h1", "Machine keys").await;
    browser.wait_text("td", "console").await;
    // The console's own key works until its session ends: active, not revoked.
    browser.wait_text("[data-test=expires]", "expires in").await;
    browser.screenshot("operator-keys").await;
    browser.click_text("#nav a", "Usage").await;
    browser.wait_text("h1", "Usage").await;
    browser.wait_text("th", "Connections").await;
    browser.screenshot("operator-usage").await;

    // Down again: a bulk replay from the connection's page once it is back.
    receiver.respond_with(400);
    let second = failed_event(&api, "invoice.paid").await;
    receiver.respond_with(200);
    browser.click_text("#nav a", "Workspaces").await;
    browser.click_text("a", "default").await;
    browser.click_text("#nav a", "Connections").await;
    browser.click_text("td a", "Replay failures").await;
    browser.wait_text("h1", "Replay failed deliveries").await;
    browser
        .click_text("button", "Replay failed deliveries")
        .await;
    browser
        .wait_text("[data-test=replay-progress]", "Done: 1 re-queued.")
        .await;
    browser.screenshot("operator-replay").await;
    let done = event_when(&api, &second, "the replayed delivery", |e| {
        all_deliveries(e, "completed")
    })
    .await;
    assert_eq!(done["rule_events"][0]["attempt_count"], 2);
    browser.stop().await;
}

const LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#7c3aed"/><path d="M18 44 32 16l14 28" stroke="#fff" stroke-width="6" fill="none"/></svg>"##;

/// The host page (reached as `localhost`) and the logo (reached as `127.0.0.1`: another
/// origin); the port.
async fn host_server(switchyard: String) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let page = format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Acme</title></head>
<body style="font-family:sans-serif;margin:0 2rem;background:#f4f1fb">
<h1>Acme CRM · Integrations</h1><div id="embed"></div>
<script src="{switchyard}/embed/host.js"></script>
<script>
const q = new URLSearchParams(location.search);
SwitchyardEmbed.mount({{
  container: document.getElementById("embed"),
  launchUrl: q.get("launch"),
  getToken: () => Promise.resolve(q.get("token")),
}});
</script></body></html>"#
    );
    let app = Router::new()
        .route("/host", get(move || async move { Html(page) }))
        .route(
            "/logo.svg",
            get(|| async { ([(header::CONTENT_TYPE, "image/svg+xml")], LOGO).into_response() }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

#[tokio::test]
async fn a_branded_session_shows_the_hosts_name_logo_colour_and_theme() {
    let (_dir, server, api) = start();
    let port = host_server(server.api_url.clone()).await;
    let host_origin = format!("http://localhost:{port}");
    let logo_origin = format!("http://127.0.0.1:{port}");
    let response = api
        .machine(Method::POST, "/sessions")
        .json(&json!({"workspace_id": api.workspace_id, "role": "admin",
                      "launch_page": "connections", "allowed_origins": [host_origin],
                      "branding": {"name": "Acme CRM", "accent_color": "#7C3AED",
                                   "logo_url": format!("{logo_origin}/logo.svg"), "theme": "dark"}}))
        .send()
        .await
        .unwrap();
    let session = expect_status(response, 200).await;
    let launch_url = session["launch_url"].as_str().unwrap().to_owned();

    // The logo's origin is the one image source the page adds.
    let page = reqwest::get(&launch_url).await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("img-src 'self' data: {logo_origin};")),
        "{csp}"
    );

    let browser = Browser::start().await;
    let b = &browser.client;
    let mut host = url::Url::parse(&format!("{host_origin}/host")).unwrap();
    host.query_pairs_mut()
        .append_pair("launch", &launch_url)
        .append_pair("token", session["access_token"].as_str().unwrap());
    b.goto(host.as_str()).await.unwrap();
    b.enter_frame(0).await.unwrap();
    browser.wait_text("h1", "Connections").await;
    browser.wait_text("#brand", "Acme CRM").await;
    let look = browser
        .eval(
            "const root = document.documentElement; const img = document.querySelector('#brand img');\
             const css = getComputedStyle(root);\
             return {theme: root.dataset.theme, brand: css.getPropertyValue('--brand').trim(),\
                     onBrand: css.getPropertyValue('--on-brand').trim(),\
                     background: getComputedStyle(document.body).backgroundColor,\
                     button: getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor,\
                     logo: img && img.complete && img.naturalWidth}",
        )
        .await;
    assert_eq!(look["theme"], "dark", "{look}");
    assert_eq!(look["brand"], "#7c3aed", "{look}");
    assert_eq!(
        look["onBrand"], "#ffffff",
        "white contrasts more on violet: {look}"
    );
    assert_eq!(
        look["background"], "rgb(13, 17, 23)",
        "the dark palette: {look}"
    );
    assert_eq!(look["button"], "rgb(124, 58, 237)", "{look}");
    assert_eq!(look["logo"], 64, "the logo loaded through the CSP: {look}");
    b.enter_parent_frame().await.unwrap();
    browser.screenshot("embed-branded").await;
    browser.stop().await;
}
