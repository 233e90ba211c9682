//! Meshes' official clients, simulated: every route of the v1 contract answered by the real process and decoded into strict types written
//! from the contract — UUID ids, RFC 3339 times, the status and outcome enums, maps where the
//! clients unmarshal maps, bare arrays where they expect arrays. A field a typed client
//! requires that is missing or of another type fails the decode here as it would there; keys
//! we add beyond the contract are ignored, as the clients ignore them.

// The types hold every field a client decodes; the test reads only some of them.
#![allow(dead_code)]

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use switchyard_tests::{Api, DEADLINE, Receiver, eventually, expect_status, start};
use time::OffsetDateTime;
use uuid::Uuid;

type Time = OffsetDateTime;

#[derive(Debug, Deserialize)]
struct List<T> {
    count: usize,
    limit: u32,
    next_cursor: Option<String>,
    records: Vec<T>,
}

#[derive(Debug, Deserialize)]
struct PublishableKey {
    public_key: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct Workspace {
    id: Uuid,
    name: String,
    description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Time,
    publishable_key: Option<PublishableKey>,
}

#[derive(Debug, Deserialize)]
struct WorkspaceCreated {
    workspace: Workspace,
}

#[derive(Debug, Deserialize)]
struct Connection {
    id: Uuid,
    workspace: Uuid,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    metadata: serde_json::Map<String, Value>,
    active: bool,
    inactive_reason: Option<InactiveReason>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Time,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum InactiveReason {
    AuthenticationInvalid,
    OauthAuthorizationRevoked,
    OauthReauthorizationRequired,
    ManuallyInactivated,
}

#[derive(Debug, Deserialize)]
struct ConnectionCreated {
    connection: Connection,
}

#[derive(Debug, Deserialize)]
struct Rule {
    id: Uuid,
    workspace: Uuid,
    connection: Uuid,
    event: String,
    metadata: serde_json::Map<String, Value>,
    resource: Option<String>,
    resource_id: Option<String>,
    active: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Time,
}

#[derive(Debug, Deserialize)]
struct RuleCreated {
    rule: Rule,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Status {
    Pending,
    Processing,
    Retrying,
    Completed,
    Failed,
    Canceled,
}

#[derive(Debug, Deserialize)]
struct Event {
    id: Uuid,
    event: String,
    workspace: Uuid,
    resource: String,
    resource_id: Option<String>,
    created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Time,
}

#[derive(Debug, Deserialize)]
struct EventCreated {
    event: Event,
}

#[derive(Debug, Deserialize)]
struct RuleEvent {
    id: Uuid,
    connection: Uuid,
    rule: Uuid,
    integration_type: String,
    status: Status,
    attempt_count: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    started_at: Option<Time>,
    #[serde(with = "time::serde::rfc3339::option")]
    completed_at: Option<Time>,
    last_error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EventDetail {
    #[serde(flatten)]
    event: Event,
    status: Status,
    rule_events: Vec<RuleEvent>,
}

#[derive(Debug, Deserialize)]
struct EventWithPayload {
    #[serde(flatten)]
    detail: EventDetail,
    payload: Value,
}

#[derive(Debug, Deserialize)]
struct BulkAccepted {
    count: usize,
    records: Vec<Event>,
}

#[derive(Debug, Deserialize)]
struct BulkPartial {
    count: usize,
    error_count: usize,
    records: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Delivered,
    RejectedClientError,
    RejectedServerError,
    RateLimited,
    AuthFailed,
    Timeout,
    NetworkError,
    MappingError,
    InternalError,
}

#[derive(Debug, Deserialize)]
struct Attempt {
    id: Uuid,
    outcome: Outcome,
    status_code: Option<u16>,
    #[serde(with = "time::serde::rfc3339")]
    started_at: Time,
}

#[derive(Debug, Deserialize)]
struct Attempts {
    count: usize,
    records: Vec<Attempt>,
}

/// `GET /workspaces/{id}/event-types` and `/resources`: a bare array.
#[derive(Debug, Deserialize)]
struct CatalogEntry {
    id: Uuid,
    key: String,
    label: String,
    description: Option<String>,
    active: Option<bool>,
    created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Time,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: Time,
}

#[derive(Debug, Deserialize)]
struct Integration {
    name: String,
    #[serde(rename = "type")]
    kind: IntegrationType,
    authentication: Authentication,
    /// A map: an array here fails the Go client's whole call.
    actions: BTreeMap<String, Action>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
enum IntegrationType {
    Activecampaign,
    Aweber,
    CustomerIo,
    Discord,
    Hubspot,
    Intercom,
    Mailchimp,
    Mailerlite,
    Pipedrive,
    Resend,
    Sendgrid,
    Salesforce,
    Slack,
    Webhook,
    Zoom,
}

#[derive(Debug, Deserialize)]
struct Authentication {
    #[serde(rename = "type")]
    kind: AuthType,
    #[serde(default)]
    fields: Vec<AuthField>,
    oauth: Option<OAuthInfo>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum AuthType {
    ApiKey,
    Basic,
    None,
    Oauth,
}

#[derive(Debug, Deserialize)]
struct AuthField {
    key: String,
    label: String,
    #[serde(rename = "type")]
    kind: FieldInputType,
    required: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FieldInputType {
    Text,
    Password,
    Select,
}

#[derive(Debug, Deserialize)]
struct OAuthInfo {
    version: u8,
}

#[derive(Debug, Deserialize)]
struct Action {
    key: String,
    label: String,
    noun: String,
    display: Option<ActionDisplay>,
    fields: Option<Vec<String>>,
    #[serde(default)]
    data: Vec<ActionInput>,
}

#[derive(Debug, Deserialize)]
struct ActionDisplay {
    label: String,
    description: String,
}

#[derive(Debug, Deserialize)]
struct ActionInput {
    key: String,
    field: String,
    kind: InputKind,
    #[serde(rename = "type")]
    input_type: Option<InputType>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum InputKind {
    Simple,
    Field,
    Advanced,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum InputType {
    Text,
    Password,
    Textarea,
    Select,
}

/// `GET /connections/{id}/fields`: the destination field catalog.
#[derive(Debug, Deserialize)]
struct FieldCatalog {
    id: Uuid,
    workspace_id: Uuid,
    connection_id: Uuid,
    integration_type: IntegrationType,
    catalog_version: String,
    #[serde(with = "time::serde::rfc3339")]
    refreshed_at: Time,
    fields: Vec<DestinationField>,
}

#[derive(Debug, Deserialize)]
struct DestinationField {
    key: String,
    #[serde(rename = "type")]
    kind: FieldType,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FieldType {
    String,
    Number,
    Boolean,
    Date,
    Datetime,
    Enum,
    MultiEnum,
    Json,
    Object,
    Array,
    Unknown,
}

/// `GET|PUT /connections/{id}/mappings/default`.
#[derive(Debug, Deserialize)]
struct MappingEnvelope {
    mapping: Mapping,
    status: String,
}

#[derive(Debug, Deserialize)]
struct Mapping {
    id: Uuid,
    mapping_id: Uuid,
    connection_id: Uuid,
    workspace_id: Uuid,
    integration_type: IntegrationType,
    name: String,
    schema: MappingSchema,
    version: u64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Time,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: Time,
}

#[derive(Debug, Deserialize)]
struct MappingSchema {
    schema_version: u32,
    fields: Vec<Value>,
}

/// Decodes a 2xx answer's body into `T`, failing as a typed client would.
async fn decode<T: DeserializeOwned>(what: &str, response: reqwest::Response, status: u16) -> T {
    let body = expect_status(response, status).await;
    serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{what}: a typed client fails to decode: {e}\n{body:#}"))
}

async fn call<T: DeserializeOwned>(
    api: &Api,
    method: Method,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> T {
    let mut request = api.machine(method.clone(), path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the API answers");
    decode(&format!("{method} {path}"), response, status).await
}

/// As the events client sends: the workspace's publishable key, no machine token.
async fn emit<T: DeserializeOwned>(api: &Api, path: &str, body: Value, status: u16) -> T {
    let response = api
        .request(Method::POST, path)
        .header("X-Meshes-Publishable-Key", &api.publishable_key)
        .json(&body)
        .send()
        .await
        .expect("the API answers");
    decode(&format!("POST {path} (publishable key)"), response, status).await
}

#[tokio::test]
async fn every_contract_route_decodes_into_the_clients_types() {
    let (_dir, _server, api) = start();
    let receiver = Receiver::start().await;
    let checked = |route: &str| eprintln!("decoded: {route}");

    // Workspaces.
    let created: WorkspaceCreated = call(
        &api,
        Method::POST,
        "/workspaces",
        Some(json!({"name": "Typed client", "description": "decoded strictly"})),
        201,
    )
    .await;
    let ws = created.workspace.id;
    checked("POST /workspaces");
    let list: List<Workspace> = call(&api, Method::GET, "/workspaces", None, 200).await;
    assert!(list.records.iter().any(|w| w.id == ws) && list.count == list.records.len());
    checked("GET /workspaces");
    let one: Workspace = call(&api, Method::GET, &format!("/workspaces/{ws}"), None, 200).await;
    assert!(
        one.publishable_key.is_some(),
        "GET /workspaces/{{id}} carries publishable_key"
    );
    checked("GET /workspaces/{id}");
    let _: Value = call(
        &api,
        Method::PUT,
        &format!("/workspaces/{ws}"),
        Some(json!({"name": "Typed client two"})),
        200,
    )
    .await;
    checked("PUT /workspaces/{id}");

    // Connections: a webhook to the loopback receiver.
    let created: ConnectionCreated = call(
        &api,
        Method::POST,
        "/connections",
        Some(
            json!({"workspace": api.workspace_id, "type": "webhook", "name": "Typed hook",
                    "metadata": {"url": receiver.url("/typed")}}),
        ),
        201,
    )
    .await;
    let conn = created.connection.id;
    assert!(created.connection.active);
    checked("POST /connections");
    let _: List<Connection> = call(&api, Method::GET, "/connections", None, 200).await;
    checked("GET /connections");
    let _: Connection = call(
        &api,
        Method::GET,
        &format!("/connections/{conn}"),
        None,
        200,
    )
    .await;
    checked("GET /connections/{id}");
    let _: Value = call(
        &api,
        Method::PUT,
        &format!("/connections/{conn}"),
        Some(json!({"name": "Typed hook two"})),
        200,
    )
    .await;
    checked("PUT /connections/{id}");
    let actions: Value = call(
        &api,
        Method::GET,
        &format!("/connections/{conn}/actions"),
        None,
        200,
    )
    .await;
    assert!(actions.to_string().contains("send_webhook"), "{actions}");
    checked("GET /connections/{id}/actions");
    let fields: FieldCatalog = call(
        &api,
        Method::GET,
        &format!("/connections/{conn}/fields"),
        None,
        200,
    )
    .await;
    assert_eq!(fields.connection_id, conn);
    assert!(
        fields.fields.is_empty(),
        "a webhook's field catalog is empty"
    );
    checked("GET /connections/{id}/fields");
    let schema = json!({"schema_version": 1, "fields": [
        {"dest": "email", "source": {"type": "path", "value": "payload.email"}}]});
    let put: MappingEnvelope = call(
        &api,
        Method::PUT,
        &format!("/connections/{conn}/mappings/default"),
        Some(json!({"schema": schema})),
        200,
    )
    .await;
    assert_eq!(put.mapping.connection_id, conn);
    checked("PUT /connections/{id}/mappings/default");
    let got: MappingEnvelope = call(
        &api,
        Method::GET,
        &format!("/connections/{conn}/mappings/default"),
        None,
        200,
    )
    .await;
    assert_eq!(got.mapping.version, put.mapping.version);
    checked("GET /connections/{id}/mappings/default");

    // Rules.
    let created: RuleCreated = call(
        &api,
        Method::POST,
        "/rules",
        Some(
            json!({"workspace": api.workspace_id, "connection": conn, "event": "user.signup",
                    "metadata": {"action": "send_webhook"}, "resource": "user"}),
        ),
        201,
    )
    .await;
    let rule = created.rule.id;
    checked("POST /rules");
    let _: List<Rule> = call(&api, Method::GET, "/rules?event=user.signup", None, 200).await;
    checked("GET /rules");
    let _: Rule = call(&api, Method::GET, &format!("/rules/{rule}"), None, 200).await;
    checked("GET /rules/{id}");

    // Events: one with the publishable key and one with the machine key, then a bulk of two,
    // and a bulk with one item refused.
    let created: EventCreated = emit(
        &api,
        "/events",
        json!({"event": "user.signup", "resource": "user", "resource_id": "usr_1",
               "payload": {"email": "a@example.com"}}),
        201,
    )
    .await;
    let event = created.event.id;
    checked("POST /events (publishable key)");
    let _: EventCreated = call(
        &api,
        Method::POST,
        "/events",
        Some(json!({"workspace": api.workspace_id, "event": "order.placed", "payload": {}})),
        201,
    )
    .await;
    checked("POST /events (machine key)");
    let bulk: BulkAccepted = emit(
        &api,
        "/events/bulk",
        json!([{"event": "user.signup", "payload": {"n": 1}},
               {"event": "user.signup", "payload": {"n": 2}}]),
        201,
    )
    .await;
    assert_eq!((bulk.count, bulk.records.len()), (2, 2));
    checked("POST /events/bulk (201)");
    let partial: BulkPartial = emit(
        &api,
        "/events/bulk",
        json!([{"event": "user.signup", "payload": {}}, {"payload": {}}]),
        207,
    )
    .await;
    assert_eq!(
        (partial.count, partial.error_count, partial.records.len()),
        (2, 1, 2)
    );
    checked("POST /events/bulk (207)");
    let _: List<Event> = call(&api, Method::GET, "/events", None, 200).await;
    checked("GET /events");
    let detail: EventDetail = eventually("the event delivered", DEADLINE, || async {
        let d: EventDetail = call(&api, Method::GET, &format!("/events/{event}"), None, 200).await;
        (d.status == Status::Completed).then_some(d)
    })
    .await;
    assert_eq!(detail.rule_events.len(), 1);
    assert_eq!(detail.rule_events[0].rule, rule);
    checked("GET /events/{id}");
    let with_payload: EventWithPayload = call(
        &api,
        Method::GET,
        &format!("/events/{event}/payload"),
        None,
        200,
    )
    .await;
    assert_eq!(with_payload.payload["email"], "a@example.com");
    assert_eq!(with_payload.detail.event.id, event);
    checked("GET /events/{id}/payload");

    // The workspace's sub-lists and catalogs.
    let wsid = &api.workspace_id;
    let _: List<Connection> = call(
        &api,
        Method::GET,
        &format!("/workspaces/{wsid}/connections"),
        None,
        200,
    )
    .await;
    checked("GET /workspaces/{id}/connections");
    let _: List<Rule> = call(
        &api,
        Method::GET,
        &format!("/workspaces/{wsid}/rules"),
        None,
        200,
    )
    .await;
    checked("GET /workspaces/{id}/rules");
    let _: List<Event> = call(
        &api,
        Method::GET,
        &format!("/workspaces/{wsid}/events"),
        None,
        200,
    )
    .await;
    checked("GET /workspaces/{id}/events");
    let types: Vec<CatalogEntry> = call(
        &api,
        Method::GET,
        &format!("/workspaces/{wsid}/event-types"),
        None,
        200,
    )
    .await;
    let signup = types
        .iter()
        .find(|t| t.key == "user.signup")
        .expect("user.signup listed");
    assert_eq!(signup.label, "User Signup");
    checked("GET /workspaces/{id}/event-types");
    let resources: Vec<CatalogEntry> = call(
        &api,
        Method::GET,
        &format!("/workspaces/{wsid}/resources"),
        None,
        200,
    )
    .await;
    assert!(resources.iter().any(|r| r.key == "user"));
    checked("GET /workspaces/{id}/resources");

    // One delivery's history, replay and cancel.
    let base = format!("/events/{event}/rules/{rule}");
    let attempts: Attempts = call(&api, Method::GET, &format!("{base}/attempts"), None, 200).await;
    assert!(attempts.count >= 1 && matches!(attempts.records[0].outcome, Outcome::Delivered));
    checked("GET /events/{e}/rules/{r}/attempts");
    let first = attempts.records[0].id;
    let _: Attempt = call(
        &api,
        Method::GET,
        &format!("{base}/attempts/{first}"),
        None,
        200,
    )
    .await;
    checked("GET /events/{e}/rules/{r}/attempts/{a}");
    let _: Attempt = call(
        &api,
        Method::GET,
        &format!("{base}/response-details"),
        None,
        200,
    )
    .await;
    checked("GET /events/{e}/rules/{r}/response-details");
    let replayed: RuleEvent = call(&api, Method::POST, &format!("{base}/retry"), None, 200).await;
    assert_eq!(replayed.rule, rule);
    checked("POST /events/{e}/rules/{r}/retry");
    // Cancel: a delivery still retrying, to a destination that answers 500.
    let failing = Receiver::start().await;
    failing.respond_with(500);
    let (_, failing_rule) = api
        .webhook_rule(&failing.url("/down"), "invoice.paid")
        .await;
    let failing_event: EventCreated = emit(
        &api,
        "/events",
        json!({"event": "invoice.paid", "payload": {}}),
        201,
    )
    .await;
    let failing_event = failing_event.event.id;
    eventually("the delivery retrying", DEADLINE, || async {
        let d: EventDetail = call(
            &api,
            Method::GET,
            &format!("/events/{failing_event}"),
            None,
            200,
        )
        .await;
        (d.rule_events.first().map(|r| &r.status) == Some(&Status::Retrying)).then_some(())
    })
    .await;
    let canceled: RuleEvent = call(
        &api,
        Method::POST,
        &format!("/events/{failing_event}/rules/{failing_rule}/cancel"),
        None,
        200,
    )
    .await;
    assert_eq!(canceled.status, Status::Canceled);
    checked("POST /events/{e}/rules/{r}/cancel");
    let _: EventDetail = call(
        &api,
        Method::POST,
        &format!("/events/{failing_event}/cancel"),
        None,
        200,
    )
    .await;
    checked("POST /events/{id}/cancel");

    // The integrations catalog.
    let integrations: List<Integration> =
        call(&api, Method::GET, "/integrations?limit=200", None, 200).await;
    let mut kinds: Vec<&IntegrationType> = integrations.records.iter().map(|i| &i.kind).collect();
    kinds.sort();
    assert_eq!(
        kinds.len(),
        15,
        "every type of the clients' list: {kinds:?}"
    );
    for i in &integrations.records {
        assert_eq!(
            i.authentication.kind == AuthType::Oauth,
            i.authentication.oauth.is_some(),
            "{}",
            i.name
        );
        assert!(!i.actions.is_empty(), "{} has actions", i.name);
        for (key, action) in &i.actions {
            assert_eq!(key, &action.key, "{}: actions keyed by their key", i.name);
        }
    }
    checked("GET /integrations");

    // Deletes last: a rule, then its connection.
    let _: Value = call(&api, Method::DELETE, &format!("/rules/{rule}"), None, 200).await;
    checked("DELETE /rules/{id}");
    let _: Value = call(
        &api,
        Method::DELETE,
        &format!("/connections/{conn}"),
        None,
        200,
    )
    .await;
    checked("DELETE /connections/{id}");
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SessionRole {
    Member,
    Admin,
    Owner,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SessionType {
    Workspace,
    Resource,
    Dashboard,
}

/// `POST /sessions/{id}/refresh`, and the body of `POST /sessions`.
#[derive(Debug, Deserialize)]
struct SessionToken {
    session_id: Uuid,
    workspace_id: Uuid,
    session_type: SessionType,
    role: SessionRole,
    resource: Option<String>,
    resource_id: Option<String>,
    access_token: String,
    expires_in: u64,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: Time,
}

#[derive(Debug, Deserialize)]
struct SessionCreated {
    #[serde(flatten)]
    session: SessionToken,
    launch_token: String,
    #[serde(with = "time::serde::rfc3339")]
    launch_expires_at: Time,
    launch_url: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SessionStatus {
    Active,
    Revoked,
}

#[derive(Debug, Deserialize)]
struct SessionRecord {
    session_id: Uuid,
    workspace_id: Uuid,
    session_type: SessionType,
    role: SessionRole,
    resource: Option<String>,
    resource_id: Option<String>,
    external_user_id: Option<String>,
    status: SessionStatus,
    is_expired: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Time,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: Time,
}

#[derive(Debug, Deserialize)]
struct SessionRevoked {
    revoked: bool,
}

#[tokio::test]
async fn the_session_routes_decode_into_the_clients_types() {
    let (_dir, _server, api) = start();
    let created: SessionCreated = call(
        &api,
        Method::POST,
        "/sessions",
        Some(json!({"workspace_id": api.workspace_id, "role": "admin",
                    "session_type": "resource", "resource": "user", "resource_id": "usr_1",
                    "external_user_id": "customer-1"})),
        200,
    )
    .await;
    let id = created.session.session_id;
    let listed: List<SessionRecord> = call(
        &api,
        Method::GET,
        &format!(
            "/sessions?workspace_id={}&status=active&resource=user&resource_id=usr_1",
            api.workspace_id
        ),
        None,
        200,
    )
    .await;
    assert_eq!(listed.records[0].session_id, id);
    let refreshed: SessionToken = call(
        &api,
        Method::POST,
        &format!("/sessions/{id}/refresh"),
        None,
        200,
    )
    .await;
    assert_eq!(refreshed.session_id, id);
    let revoked: SessionRevoked =
        call(&api, Method::DELETE, &format!("/sessions/{id}"), None, 200).await;
    assert!(revoked.revoked);
}
