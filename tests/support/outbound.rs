//! Shared by the webhook_*, outbound_* and connector suites:
//! one delivery's domain objects, the real integrations over a real client, the independent
//! Python verifier, and a way to run a test inside a network namespace of its own.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::Received;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use switchyard_core::domain::{Connection, Delivery, DeliveryStatus, Event, IntegrationType, Rule};
use switchyard_core::ports::{DeliveryRequest, DeliveryResult, Integration};
use switchyard_core::webhook::{UrlPolicy, split_secrets};
use switchyard_core::{ConnectionId, DeliveryId, EventId, OrgId, RuleId, WorkspaceId};
use switchyard_integrations::{ClientSettings, HostsTable, Integrations, OutboundClient};
use time::OffsetDateTime;

/// One event routed through one rule to one webhook connection, as the store would hand them
/// to the delivery handler; `secrets` is what the handler opens from the sealed blob.
pub struct Attempt {
    pub event: Event,
    pub rule: Rule,
    pub connection: Connection,
    pub secrets: Map<String, Value>,
    pub delivery: Delivery,
}

impl Attempt {
    /// A delivery to a webhook connection created with `metadata` (split as on create).
    pub fn webhook(metadata: Value) -> Self {
        let (public, secrets) = split_secrets(metadata.as_object().expect("object").clone());
        Self::new(
            IntegrationType::Webhook,
            public,
            secrets,
            json!({"action": "send_webhook"}),
            json!({"email": "ada@example.com", "plan": "pro", "note": "naïve ✓"}),
        )
    }

    /// A delivery of an event carrying `payload`, through a rule with `rule` metadata, to a
    /// connection of `kind` with `public` settings and `secrets` (as the handler opens them).
    pub fn new(
        kind: IntegrationType,
        public: Map<String, Value>,
        secrets: Map<String, Value>,
        rule: Value,
        payload: Value,
    ) -> Self {
        let now = OffsetDateTime::now_utc();
        let (org, workspace) = (OrgId::new(), WorkspaceId::new());
        let connection = Connection {
            id: ConnectionId::new(),
            org,
            workspace,
            kind,
            name: "destination".into(),
            metadata: public,
            secrets: None,
            hidden: false,
            created_by: "test".into(),
            created_at: now,
            updated_at: now,
        };
        let event = Event {
            id: EventId::new(),
            org,
            workspace,
            event: "user.signup".into(),
            resource: "user".into(),
            resource_id: Some("usr_2048".into()),
            payload,
            created_by: "test".into(),
            created_at: now,
            trace_id: None,
        };
        let rule = Rule {
            id: RuleId::new(),
            org,
            workspace,
            connection: connection.id,
            kind,
            event: event.event.clone(),
            resource: None,
            resource_id: None,
            metadata: rule.as_object().expect("object").clone(),
            conditions: None,
            active: true,
            hidden: false,
            created_by: "test".into(),
            created_at: now,
            updated_at: now,
        };
        let delivery = Delivery {
            id: DeliveryId::new(),
            org,
            workspace,
            event: event.id,
            event_name: event.event.clone(),
            rule: rule.id,
            connection: connection.id,
            kind,
            status: DeliveryStatus::Processing,
            attempt_count: 0,
            schedule_base: 0,
            started_at: Some(now),
            completed_at: None,
            next_attempt_at: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        Self {
            event,
            rule,
            connection,
            secrets,
            delivery,
        }
    }

    /// Attempt number `attempt`, sent at `sent_at`, through `integrations`.
    pub async fn deliver_at(
        &self,
        integrations: &Integrations,
        attempt: u32,
        sent_at: OffsetDateTime,
    ) -> DeliveryResult {
        let fields = self.event.payload.as_object().cloned().unwrap_or_default();
        integrations
            .deliver(DeliveryRequest {
                event: &self.event,
                rule: &self.rule,
                connection: &self.connection,
                secrets: &self.secrets,
                fields: &fields,
                delivery: &self.delivery,
                attempt,
                sent_at,
                traceparent: None,
            })
            .await
    }

    pub async fn deliver(&self, integrations: &Integrations) -> DeliveryResult {
        self.deliver_at(integrations, 1, OffsetDateTime::now_utc())
            .await
    }
}

pub fn loopback_allowed() -> UrlPolicy {
    UrlPolicy {
        allow_loopback_http: true,
    }
}

/// The real integrations over a real client and the system resolver.
pub fn integrations(policy: UrlPolicy) -> Integrations {
    let client = OutboundClient::new(ClientSettings::default()).expect("client");
    Integrations::new(client, policy)
}

/// The real integrations over a real client that resolves names through `hosts`.
pub fn integrations_with_hosts(
    hosts: Arc<HostsTable>,
    settings: ClientSettings,
    policy: UrlPolicy,
) -> Integrations {
    let client = OutboundClient::with_lookup(settings, hosts).expect("client");
    Integrations::new(client, policy)
}

pub fn quick_settings() -> ClientSettings {
    ClientSettings {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(2),
    }
}

/// The project's Python (`.venv`, made by `infra/dev/setup-venv.sh`, which `make test` runs).
fn venv_python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} not found: run infra/dev/setup-venv.sh (make test does) to install the pinned \
         verifiers of infra/dev/requirements.txt",
        python.display()
    );
    python
}

/// How the independent verifier should check a received request.
pub enum Check<'a> {
    /// Standard Webhooks, by the `standardwebhooks` package from PyPI.
    Standard { secret: &'a str },
    /// The Meshes-style HMAC, by Python's `hmac`.
    Hmac {
        secret: &'a str,
        algorithm: &'a str,
        header: &'a str,
    },
}

/// Runs `tests/python/verify_standardwebhooks.py` on a received request: `Ok` when it
/// verifies, `Err` with the verifier's reason otherwise.
pub fn verify(received: &Received, check: Check<'_>) -> Result<(), String> {
    let headers: Map<String, Value> = received
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                Value::from(value.to_str().expect("ASCII header")),
            )
        })
        .collect();
    let mut input = json!({"headers": headers, "body_b64": STANDARD.encode(&received.body)});
    match check {
        Check::Standard { secret } => {
            input["scheme"] = json!("standard");
            input["secret"] = json!(secret);
        }
        Check::Hmac {
            secret,
            algorithm,
            header,
        } => {
            input["scheme"] = json!("hmac");
            input["secret"] = json!(secret);
            input["algorithm"] = json!(algorithm);
            input["header"] = json!(header);
        }
    }
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/verify_standardwebhooks.py");
    let mut child = Command::new(venv_python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the Python verifier");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write to the verifier");
    let out = child.wait_with_output().expect("verifier finished");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match out.status.code() {
        Some(0) if stdout == "verified" => Ok(()),
        Some(1) => Err(stdout),
        _ => panic!(
            "the verifier itself failed ({}): {stdout} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Set in the copy of a test that runs inside its own network namespace.
const IN_NETNS: &str = "SWITCHYARD_TEST_IN_NETNS";

/// Runs the test `name` (this test binary's path to it, e.g. `module::test_name`, or just
/// `test_name`) again in a fresh network namespace holding only a loopback interface, and
/// returns `true` in that copy. Tests that aim the client at non-loopback addresses run there:
/// if the guard ever failed, the packet would have nowhere to go but an unreachable network,
/// never another machine. In the calling copy, returns `false` after asserting the copy passed.
pub fn in_own_network_namespace(name: &str) -> bool {
    if std::env::var_os(IN_NETNS).is_some() {
        return true;
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new("unshare")
        .args([
            "--net",
            "--",
            "sh",
            "-c",
            r#"ip link set lo up && exec "$0" "$@""#,
        ])
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(IN_NETNS, "1")
        .output()
        .expect("run unshare (util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} in its own network namespace: {}\n{stdout}\n{stderr}",
        out.status
    );
    false
}
