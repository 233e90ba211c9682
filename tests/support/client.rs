//! An API client as an application would write one: machine JWTs minted here with the
//! jsonwebtoken crate exactly as Meshes' SDKs do, independently of Switchyard's own code.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub org_id: String,
    pub access_key: String,
    pub secret_key: String,
    pub workspace_id: String,
    pub publishable_key: String,
    http: reqwest::Client,
}

impl Api {
    /// From a credentials.json document.
    pub fn from_credentials(creds: &Value) -> Self {
        let s = |k: &str| {
            creds[k]
                .as_str()
                .unwrap_or_else(|| panic!("credentials.{k}"))
                .to_owned()
        };
        Self {
            base: s("api_url"),
            org_id: s("org_id"),
            access_key: s("access_key"),
            secret_key: s("secret_key"),
            workspace_id: s("workspace_id"),
            publishable_key: s("publishable_key"),
            http: reqwest::Client::new(),
        }
    }

    /// A JWT with the given claims overrides (for forged and expired tokens).
    pub fn jwt_with(&self, iat_offset: i64, lifetime: i64, secret: &str) -> String {
        self.jwt_claims(iat_offset, lifetime, secret, json!({}))
    }

    /// As [`Api::jwt_with`], with `extra` claims merged in (`nbf`, …).
    pub fn jwt_claims(&self, iat_offset: i64, lifetime: i64, secret: &str, extra: Value) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp() + iat_offset;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.access_key.clone());
        let mut claims = json!({
            "iss": format!("urn:meshes:m2m:{}", self.access_key),
            "aud": "meshes-api",
            "org": self.org_id,
            "iat": now,
            "exp": now + lifetime,
        });
        if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
            claims.extend(extra);
        }
        encode(
            &header,
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encode")
    }

    /// A valid 30 s machine token.
    pub fn jwt(&self) -> String {
        self.jwt_with(0, 30, &self.secret_key)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/api/v1{path}", self.base))
    }

    /// A request authenticated with a fresh machine JWT.
    pub fn machine(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(self.jwt())
    }

    pub async fn get(&self, path: &str) -> Value {
        let response = self.machine(Method::GET, path).send().await.expect("GET");
        expect_status(response, 200).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .machine(Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("POST");
        expect_status(response, 201).await
    }

    /// Sends an event with the workspace's publishable key; returns the created event.
    pub async fn send_event(&self, body: Value) -> Value {
        let response = self
            .request(Method::POST, "/events")
            .header("X-Meshes-Publishable-Key", &self.publishable_key)
            .json(&body)
            .send()
            .await
            .expect("POST /events");
        expect_status(response, 201).await["event"].clone()
    }

    /// Sends events in one `POST /events/bulk` with the workspace's publishable key; returns
    /// the response (201: every event accepted).
    pub async fn send_bulk(&self, events: Vec<Value>) -> Value {
        let response = self
            .request(Method::POST, "/events/bulk")
            .header("X-Meshes-Publishable-Key", &self.publishable_key)
            .json(&events)
            .send()
            .await
            .expect("POST /events/bulk");
        expect_status(response, 201).await
    }

    /// Creates a webhook connection to `url` and a `send_webhook` rule for `event`; returns
    /// (connection id, rule id).
    pub async fn webhook_rule(&self, url: &str, event: &str) -> (String, String) {
        let connection = self
            .post(
                "/connections",
                json!({"workspace": self.workspace_id, "type": "webhook", "name": format!("hook for {event}"),
                       "metadata": {"url": url}}),
            )
            .await;
        let connection_id = connection["connection"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let rule = self
            .post(
                "/rules",
                json!({"workspace": self.workspace_id, "connection": connection_id, "event": event,
                       "metadata": {"action": "send_webhook"}}),
            )
            .await;
        (
            connection_id,
            rule["rule"]["id"].as_str().expect("id").to_owned(),
        )
    }
}

/// Asserts the status and returns the JSON body, showing the body when the status is wrong.
pub async fn expect_status(response: Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON body")
    }
}
