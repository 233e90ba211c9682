//! A headless Chromium behind chromedriver on a free loopback port, a fresh profile each, with
//! the flags that keep it off the network (no updates, sync or background fetches).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use switchyard_tests::eventually;

/// How long one step in the browser may take.
pub const STEP: Duration = Duration::from_secs(30);

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new("chromedriver")
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (make browser-deps installs it)");
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = json!({"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }});
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let url = format!("http://127.0.0.1:{port}");
        let client = eventually("chromedriver to start a session", STEP, || {
            let caps = caps.clone();
            let url = url.clone();
            async move {
                ClientBuilder::new(HttpConnector::new())
                    .capabilities(caps)
                    .connect(&url)
                    .await
                    .ok()
            }
        })
        .await;
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// The first element matching `css` whose text contains `text`, once there is one.
    /// On a timeout it fails with what the page shows instead.
    pub async fn wait_text(&self, css: &str, text: &str) -> fantoccini::elements::Element {
        let deadline = std::time::Instant::now() + STEP;
        loop {
            if let Some(el) = self.find_text(css, text).await {
                return el;
            }
            if std::time::Instant::now() > deadline {
                let shown = self.eval("return document.body.innerText").await;
                let url = self.client.current_url().await.map(|u| u.to_string());
                panic!("{css} never showed {text:?}; at {url:?} the page shows:\n{shown}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn find_text(&self, css: &str, text: &str) -> Option<fantoccini::elements::Element> {
        for el in self.client.find_all(Locator::Css(css)).await.ok()? {
            if el.text().await.ok()?.contains(text) {
                return Some(el);
            }
        }
        None
    }

    /// Clicks the first element matching `css` whose text contains `text`, once there is one
    /// (again if a redraw replaced it between finding and clicking).
    pub async fn click_text(&self, css: &str, text: &str) {
        eventually(&format!("a click on {css} {text:?}"), STEP, || async {
            for el in self.client.find_all(Locator::Css(css)).await.ok()? {
                if el.text().await.ok()?.contains(text) {
                    return el.click().await.ok();
                }
            }
            None
        })
        .await
    }

    /// Saves a PNG of the viewport to `<target>/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// A script's value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    pub async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("screenshots")
}
