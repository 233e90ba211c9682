//! The bench's client of the server's `/api/v1`: setting up webhook rules as a machine, sending
//! events with the publishable key, and reading attempts back.

use anyhow::Context;
use serde_json::{Value, json};

use crate::credentials_file::Credentials;
use crate::token;

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    creds: Credentials,
}

impl Api {
    pub fn new(creds: &Credentials) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder().no_proxy().build()?,
            base: format!("{}/api/v1", creds.api_url),
            creds: creds.clone(),
        })
    }

    async fn machine_post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token::mint(&self.creds, 30)?)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "POST {path}: {status} {body}");
        Ok(body)
    }

    /// A new workspace of the same organization, and a client sending events to it.
    pub async fn new_workspace(&self, name: &str) -> anyhow::Result<Api> {
        let created = self
            .machine_post("/workspaces", json!({"name": name}))
            .await?;
        let workspace = &created["workspace"];
        let mut creds = self.creds.clone();
        creds.workspace_id = workspace["id"].as_str().context("workspace id")?.to_owned();
        creds.publishable_key = workspace["publishable_key"]["public_key"]
            .as_str()
            .context("publishable key")?
            .to_owned();
        Api::new(&creds)
    }

    /// A webhook connection to `url` (signing on: the default) and a rule sending `event`
    /// to it; returns the rule id.
    pub async fn webhook_rule(&self, url: &str, event: &str) -> anyhow::Result<String> {
        let connection = self
            .machine_post(
                "/connections",
                json!({"workspace": self.creds.workspace_id, "type": "webhook",
                       "name": format!("bench {url}"), "metadata": {"url": url}}),
            )
            .await?;
        let connection_id = connection["connection"]["id"]
            .as_str()
            .context("connection id")?;
        let rule = self
            .machine_post(
                "/rules",
                json!({"workspace": self.creds.workspace_id, "connection": connection_id,
                       "event": event, "metadata": {"action": "send_webhook"}}),
            )
            .await?;
        Ok(rule["rule"]["id"].as_str().context("rule id")?.to_owned())
    }

    /// Ingests one event carrying its send time; returns the event id.
    pub async fn send_event(&self, event: &str, sent_us: u64) -> anyhow::Result<String> {
        let response = self
            .http
            .post(format!("{}/events", self.base))
            .header("X-Meshes-Publishable-Key", &self.creds.publishable_key)
            .json(&json!({"event": event, "payload": {"sent_us": sent_us}}))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.as_u16() == 201, "POST /events: {status} {body}");
        Ok(body["event"]["id"].as_str().context("event id")?.to_owned())
    }

    /// How many attempts the server recorded for an event's delivery through a rule.
    pub async fn attempts(&self, event_id: &str, rule_id: &str) -> anyhow::Result<usize> {
        let body: Value = self
            .http
            .get(format!(
                "{}/events/{event_id}/rules/{rule_id}/attempts",
                self.base
            ))
            .bearer_auth(token::mint(&self.creds, 30)?)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let list = body
            .as_object()
            .and_then(|o| o.values().find_map(Value::as_array))
            .context("no attempt list")?;
        Ok(list.len())
    }

    /// `GET /events` (the newest page), as the console's history view asks it.
    pub async fn list_events(&self) -> anyhow::Result<()> {
        self.http
            .get(format!("{}/events", self.base))
            .bearer_auth(token::mint(&self.creds, 30)?)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        Ok(())
    }
}
