//! The integration catalog, a connection's actions and its field catalog as Meshes' typed
//! clients read them, end to end through the real `switchyard serve` (on either backend):
//! answers are decoded into strict types written from the contract (every key a client
//! requires, with its type; `actions` a map; extra keys allowed), and the live parts come
//! from a fake HubSpot speaking its wire format on 127.0.0.1.

use std::collections::{BTreeSet, HashMap};

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::domain::IntegrationType;
use switchyard_tests::{
    Api, FakeProvider, Reply, Switchyard, assert_contract_error, expect_status, start,
};

#[derive(Deserialize)]
struct List<T> {
    count: usize,
    limit: usize,
    next_cursor: Option<String>,
    records: Vec<T>,
}

#[derive(Deserialize)]
struct Integration {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    authentication: Authentication,
    actions: HashMap<String, Action>,
}

#[derive(Deserialize)]
struct Authentication {
    #[serde(rename = "type")]
    kind: AuthKind,
    #[serde(default)]
    fields: Vec<AuthField>,
    oauth: Option<OAuth>,
}

#[derive(Deserialize, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
enum AuthKind {
    ApiKey,
    Basic,
    None,
    Oauth,
}

#[derive(Deserialize)]
struct OAuth {
    version: u8,
}

#[derive(Deserialize)]
struct AuthField {
    key: String,
    label: String,
    #[serde(rename = "type")]
    kind: FormType,
    required: bool,
    #[serde(rename = "helpText")]
    #[allow(dead_code)]
    help_text: Option<String>,
    validate: Option<String>,
    #[serde(rename = "defaultValue")]
    default_value: Option<String>,
    options: Option<Vec<Choice>>,
    #[serde(rename = "dependsOn")]
    depends_on: Option<DependsOn>,
}

#[derive(Deserialize, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
enum FormType {
    Text,
    Password,
    Textarea,
    Select,
}

#[derive(Deserialize, Clone, PartialEq, Debug)]
struct Choice {
    label: String,
    value: String,
}

#[derive(Deserialize)]
struct DependsOn {
    field: String,
    value: String,
}

#[derive(Deserialize)]
struct Action {
    key: String,
    label: String,
    noun: String,
    display: Display,
    fields: Option<Vec<String>>,
    data: Vec<Input>,
}

#[derive(Deserialize)]
struct Display {
    label: String,
    description: String,
}

#[derive(Deserialize)]
struct Input {
    key: String,
    field: String,
    kind: InputKind,
    label: String,
    #[serde(rename = "type")]
    kind_of_widget: FormType,
    #[allow(dead_code)]
    noun: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    #[allow(dead_code)]
    placeholder: Option<String>,
    required: bool,
    options: Option<Vec<Choice>>,
}

#[derive(Deserialize, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
enum InputKind {
    Simple,
    Field,
    Advanced,
}

#[derive(Deserialize)]
struct ConnectionActions {
    connection_id: String,
    #[serde(rename = "type")]
    kind: String,
    actions: HashMap<String, Action>,
    options_error: Option<String>,
}

#[derive(Deserialize)]
struct FieldCatalog {
    id: uuid::Uuid,
    workspace_id: uuid::Uuid,
    connection_id: uuid::Uuid,
    integration_type: String,
    catalog_version: String,
    refreshed_at: String,
    created_by: String,
    created_at: String,
    updated_at: String,
    fields: Vec<Field>,
}

#[derive(Deserialize)]
struct Field {
    key: String,
    #[serde(rename = "type")]
    kind: FieldKind,
    label: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    constraints: Option<Constraints>,
    provider_meta: Option<Value>,
}

#[derive(Deserialize, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
enum FieldKind {
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

#[derive(Deserialize)]
struct Constraints {
    required: Option<bool>,
    read_only: Option<bool>,
    format: Option<String>,
    allowed_values: Option<Vec<String>>,
}

fn decode<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> T {
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("a typed client cannot read {what}: {e}\n{value}"))
}

fn rfc3339(text: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The contract's known actions per type (`meshes-v1-contract.md`, "Integrations catalog").
const KNOWN_ACTIONS: [(&str, &[&str]); 11] = [
    (
        "activecampaign",
        &[
            "add_to_list",
            "remove_from_list",
            "add_tag",
            "remove_tag",
            "sync_contact",
        ],
    ),
    ("aweber", &["add_to_list", "remove_from_list"]),
    (
        "hubspot",
        &["add_to_list", "remove_from_list", "update_property"],
    ),
    ("intercom", &["add_tag", "remove_tag"]),
    ("mailchimp", &["add_to_list", "remove_from_list"]),
    ("mailerlite", &["add_to_group", "remove_from_group"]),
    (
        "resend",
        &[
            "add_to_segment",
            "remove_from_segment",
            "send_email_template",
        ],
    ),
    (
        "salesforce",
        &["add_to_campaign", "remove_from_campaign", "update_property"],
    ),
    ("slack", &["send_message"]),
    ("webhook", &["send_webhook"]),
    (
        "zoom",
        &["add_meeting_registrant", "add_webinar_registrant"],
    ),
];

#[tokio::test]
async fn the_catalog_decodes_as_a_typed_client_reads_it() {
    let (_dir, _server, api) = start();
    let raw = api.get("/integrations").await;
    assert!(
        raw["records"][0]["actions"].is_object(),
        "a map, not an array"
    );
    let list: List<Integration> = decode(raw, "GET /integrations");
    assert_eq!(list.count, list.records.len());
    assert!(list.limit >= list.count);
    assert_eq!(list.next_cursor, None);
    let types: BTreeSet<&str> = list.records.iter().map(|i| i.kind.as_str()).collect();
    let built: BTreeSet<&str> = IntegrationType::ALL
        .into_iter()
        .map(IntegrationType::as_str)
        .collect();
    assert_eq!(types, built, "every type this build knows, once");

    for integration in &list.records {
        let t = integration.kind.as_str();
        assert!(!integration.name.is_empty(), "{t}");
        let auth = &integration.authentication;
        match auth.kind {
            AuthKind::Oauth => assert_eq!(auth.oauth.as_ref().map(|o| o.version), Some(2), "{t}"),
            _ => assert!(auth.oauth.is_none(), "{t}: oauth only on OAuth types"),
        }
        for field in &auth.fields {
            assert!(!field.key.is_empty() && !field.label.is_empty(), "{t}");
            assert_ne!(field.kind, FormType::Textarea, "{t}: not a form-field type");
            assert_eq!(
                field.kind == FormType::Select,
                field.options.as_ref().is_some_and(|o| !o.is_empty()),
                "{t} {}: a select lists its options",
                field.key
            );
            if let Some(url) = &field.validate {
                assert_eq!(url, "url");
            }
            if let (Some(default), Some(options)) = (&field.default_value, &field.options) {
                assert!(
                    options.iter().any(|o| &o.value == default),
                    "{t} {}",
                    field.key
                );
            }
            if let Some(on) = &field.depends_on {
                let parent = auth.fields.iter().find(|f| f.key == on.field);
                assert!(
                    parent
                        .and_then(|p| p.options.as_ref())
                        .is_some_and(|o| o.iter().any(|c| c.value == on.value)),
                    "{t} {} depends on a real choice",
                    field.key
                );
            }
        }
        assert!(!integration.actions.is_empty(), "{t}");
        for (key, action) in &integration.actions {
            assert_eq!(key, &action.key, "{t}: keyed by its own key");
            assert!(
                !action.label.is_empty() && !action.noun.is_empty(),
                "{t} {key}"
            );
            assert!(!action.display.label.is_empty(), "{t} {key}");
            assert!(!action.display.description.is_empty(), "{t} {key}");
            assert!(action.fields.is_some(), "{t} {key}");
            for input in &action.data {
                assert!(
                    !input.key.is_empty() && !input.label.is_empty(),
                    "{t} {key}"
                );
                assert_ne!(input.field, "action", "{t} {key}");
                if input.kind == InputKind::Advanced {
                    assert!(!input.required, "{t} {key}: advanced inputs are optional");
                }
            }
        }
    }
    for (t, actions) in KNOWN_ACTIONS {
        let integration = list.records.iter().find(|i| i.kind == t).unwrap();
        for action in actions {
            assert!(integration.actions.contains_key(*action), "{t} {action}");
        }
    }
    // What each connector reads, as the forms say: Slack's channel and message, HubSpot's
    // property and value.
    let slack = list.records.iter().find(|i| i.kind == "slack").unwrap();
    let message = &slack.actions["send_message"];
    let fields: Vec<(&str, bool)> = message
        .data
        .iter()
        .map(|i| (i.field.as_str(), i.required))
        .collect();
    assert_eq!(fields, [("id", true), ("value", true)]);
    assert_eq!(message.data[1].kind_of_widget, FormType::Textarea);
    let hubspot = list.records.iter().find(|i| i.kind == "hubspot").unwrap();
    assert_eq!(
        hubspot.actions["update_property"].data[0].kind,
        InputKind::Field
    );
    let ac = list
        .records
        .iter()
        .find(|i| i.kind == "activecampaign")
        .unwrap();
    let ac_fields: Vec<(&str, &FormType, bool)> = ac
        .authentication
        .fields
        .iter()
        .map(|f| (f.key.as_str(), &f.kind, f.required))
        .collect();
    assert_eq!(
        ac_fields,
        [
            ("api_url", &FormType::Text, true),
            ("api_key", &FormType::Password, true)
        ]
    );
}

/// The forms are what the server accepts: a connection without a field its form requires, and
/// a rule without an input its action requires, answer 400 naming the `metadata` key.
#[tokio::test]
async fn forms_required_by_the_catalog_are_required_on_create() {
    let (_dir, _server, api) = start();
    let response = api
        .machine(Method::POST, "/connections")
        .json(
            &json!({"workspace": api.workspace_id, "type": "activecampaign", "name": "crm",
                      "metadata": {"api_url": "https://acme.api-us1.com"}}),
        )
        .send()
        .await
        .unwrap();
    let body = expect_status(response, 400).await;
    assert_contract_error(&body);
    assert_eq!(
        body["error"]["data"],
        json!([{"param": "metadata.api_key", "msg": "is required"}])
    );

    let slack = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "slack", "name": "chat",
                   "metadata": {"access_token": "xoxb-form-secret"}}),
        )
        .await;
    let connection = slack["connection"]["id"].as_str().unwrap();
    let response = api
        .machine(Method::POST, "/rules")
        .json(&json!({"workspace": api.workspace_id, "connection": connection,
                      "event": "user.signup", "metadata": {"action": "send_message", "value": "hi"}}))
        .send()
        .await
        .unwrap();
    let body = expect_status(response, 400).await;
    assert_contract_error(&body);
    assert_eq!(body["error"]["data"][0]["param"], "metadata.id", "{body}");
    assert_eq!(api.get("/rules").await["count"], 0, "nothing stored");
    // The older spelling of the message the connector also reads is accepted.
    api.post(
        "/rules",
        json!({"workspace": api.workspace_id, "connection": connection, "event": "user.signup",
               "metadata": {"action": "send_message", "id": "C1", "template": "hi {{email}}"}}),
    )
    .await;
}

struct WithFakeHubspot {
    hubspot: FakeProvider,
    api: Api,
    _server: Switchyard,
    _dir: tempfile::TempDir,
}

async fn serve_with_fake_hubspot() -> WithFakeHubspot {
    let hubspot = FakeProvider::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/hubspot", hubspot.base_url());
    let server = Switchyard::start_with_env(
        &dir.path().join("data"),
        &["--allow-loopback-http"],
        &[("SWITCHYARD_HUBSPOT_API_URL", &url)],
    );
    let api = Api::from_credentials(&server.credentials());
    WithFakeHubspot {
        hubspot,
        api,
        _server: server,
        _dir: dir,
    }
}

fn properties(extra: Option<Value>) -> Value {
    let mut results = vec![
        json!({"name": "email", "label": "Email", "type": "string", "fieldType": "text",
               "groupName": "contactinformation", "hidden": false, "options": [],
               "modificationMetadata": {"readOnlyValue": false}}),
        json!({"name": "plan_tier", "label": "Plan tier", "type": "enumeration", "fieldType": "select",
               "groupName": "contactinformation", "hidden": false,
               "options": [{"label": "Free", "value": "free"}, {"label": "Pro", "value": "pro"}],
               "modificationMetadata": {"readOnlyValue": false}}),
        json!({"name": "createdate", "label": "Create Date", "type": "datetime", "fieldType": "date",
               "groupName": "contactinformation", "hidden": false, "options": [],
               "modificationMetadata": {"readOnlyValue": true}}),
    ];
    results.extend(extra);
    json!({"results": results})
}

fn lists() -> Value {
    json!({"lists": [{"listId": "123", "name": "Customers", "processingType": "MANUAL", "objectTypeId": "0-1"}],
           "hasMore": false, "offset": 1, "total": 1})
}

/// HubSpot's field catalog through the API: typed fields from its properties API, a version
/// that is stable while they are and changes when they do, and a 422 that never shows the
/// token when HubSpot refuses.
#[tokio::test]
async fn a_hubspot_field_catalog_is_typed_and_versioned() {
    let WithFakeHubspot {
        hubspot,
        api,
        _server,
        _dir,
    } = serve_with_fake_hubspot().await;
    hubspot.script(
        "GET /hubspot/crm/v3/properties/contacts",
        Reply::json(200, properties(None)),
    );
    let created = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "hubspot", "name": "crm",
                   "metadata": {"access_token": "hs-e2e-secret"}}),
        )
        .await;
    let connection = created["connection"]["id"].as_str().unwrap().to_owned();
    let path = format!("/connections/{connection}/fields");

    let catalog: FieldCatalog = decode(api.get(&path).await, "GET /connections/{id}/fields");
    assert_eq!(catalog.connection_id.to_string(), connection);
    assert_ne!(
        catalog.id.to_string(),
        connection,
        "the catalog has its own id"
    );
    assert_eq!(catalog.workspace_id.to_string(), api.workspace_id);
    assert_eq!(catalog.integration_type, "hubspot");
    assert!(catalog.created_by.starts_with("machine_key:"));
    assert!(rfc3339(&catalog.updated_at) >= rfc3339(&catalog.created_at));
    assert!(rfc3339(&catalog.refreshed_at) >= rfc3339(&catalog.created_at));
    let kinds: Vec<(&str, &FieldKind)> = catalog
        .fields
        .iter()
        .map(|f| (f.key.as_str(), &f.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("email", &FieldKind::String),
            ("plan_tier", &FieldKind::Enum),
            ("createdate", &FieldKind::Datetime)
        ]
    );
    let email = catalog.fields[0].constraints.as_ref().unwrap();
    assert_eq!(
        (email.required, email.format.as_deref()),
        (Some(true), Some("email"))
    );
    assert_eq!(
        catalog.fields[1]
            .constraints
            .as_ref()
            .unwrap()
            .allowed_values,
        Some(vec!["free".to_owned(), "pro".to_owned()])
    );
    assert_eq!(
        catalog.fields[2].constraints.as_ref().unwrap().read_only,
        Some(true)
    );
    assert_eq!(catalog.fields[1].label.as_deref(), Some("Plan tier"));
    assert!(catalog.fields[1].provider_meta.is_some());
    assert_eq!(hubspot.requests().len(), 1);

    // Asked again, the same fields have the same version.
    let again: FieldCatalog = decode(api.get(&format!("{path}?refresh=true")).await, "refresh");
    assert_eq!(again.catalog_version, catalog.catalog_version);
    assert_eq!(hubspot.requests().len(), 2, "refresh asks the provider");
    // A new property is a new version; without `refresh` the recent catalog is answered.
    let added = json!({"name": "seats", "label": "Seats", "type": "number", "fieldType": "number",
                       "groupName": "companyinformation", "hidden": false, "options": [],
                       "modificationMetadata": {"readOnlyValue": false}});
    hubspot.script(
        "GET /hubspot/crm/v3/properties/contacts",
        Reply::json(200, properties(Some(added))),
    );
    let cached: FieldCatalog = decode(api.get(&path).await, "cached");
    assert_eq!(cached.catalog_version, catalog.catalog_version);
    assert_eq!(hubspot.requests().len(), 2);
    let changed: FieldCatalog = decode(api.get(&format!("{path}?refresh=true")).await, "changed");
    assert_ne!(changed.catalog_version, catalog.catalog_version);
    assert_eq!(changed.fields.len(), 4);
    assert_eq!(changed.fields[3].kind, FieldKind::Number);

    hubspot.script(
        "GET /hubspot/crm/v3/properties/contacts",
        Reply::json(
            401,
            json!({"status": "error", "category": "INVALID_AUTHENTICATION"}),
        ),
    );
    let response = api
        .machine(Method::GET, &format!("{path}?refresh=true"))
        .send()
        .await
        .unwrap();
    let body = expect_status(response, 422).await;
    assert_contract_error(&body);
    assert!(!body.to_string().contains("hs-e2e-secret"), "{body}");
    assert!(
        hubspot
            .requests()
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer hs-e2e-secret")),
        "every call with the connection's token"
    );
}

/// A connection's actions carry the provider account's entries as the options of the inputs
/// that take them; when the provider does not list them the actions still answer, saying why.
#[tokio::test]
async fn hubspot_actions_carry_live_options() {
    let WithFakeHubspot {
        hubspot,
        api,
        _server,
        _dir,
    } = serve_with_fake_hubspot().await;
    hubspot.script(
        "POST /hubspot/crm/v3/lists/search",
        Reply::json(200, lists()),
    );
    hubspot.script(
        "GET /hubspot/crm/v3/properties/contacts",
        Reply::json(200, properties(None)),
    );
    let created = api
        .post(
            "/connections",
            json!({"workspace": api.workspace_id, "type": "hubspot", "name": "crm",
                   "metadata": {"access_token": "hs-e2e-secret"}}),
        )
        .await;
    let connection = created["connection"]["id"].as_str().unwrap().to_owned();
    let raw = api.get(&format!("/connections/{connection}/actions")).await;
    let actions: ConnectionActions = decode(raw.clone(), "GET /connections/{id}/actions");
    assert_eq!(actions.connection_id, connection);
    assert_eq!(actions.kind, "hubspot");
    assert!(actions.options_error.is_none(), "{raw}");
    let keys: BTreeSet<&str> = actions.actions.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["add_to_list", "remove_from_list", "update_property"])
    );
    let customers = Choice {
        label: "Customers".into(),
        value: "123".into(),
    };
    for action in ["add_to_list", "remove_from_list"] {
        let list = &actions.actions[action].data[0];
        assert_eq!((list.field.as_str(), list.required), ("id", true));
        assert_eq!(
            list.options.as_deref(),
            Some(&[customers.clone()][..]),
            "{action}"
        );
    }
    let update = &actions.actions["update_property"];
    let property_options: Vec<&str> = update.data[0]
        .options
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(
        property_options,
        ["email", "plan_tier"],
        "the field catalog's writable fields"
    );
    assert!(
        update.data[1].options.is_none(),
        "the value template has no options"
    );
    assert!(!raw.to_string().contains("hs-e2e-secret"));

    // A rule made from those options is accepted.
    api.post(
        "/rules",
        json!({"workspace": api.workspace_id, "connection": connection, "event": "user.signup",
               "metadata": {"action": "add_to_list", "id": "123"}}),
    )
    .await;

    hubspot.script(
        "POST /hubspot/crm/v3/lists/search",
        Reply::json(503, json!({"status": "error", "message": "unavailable"})),
    );
    let raw = api
        .get(&format!("/connections/{connection}/actions?refresh=true"))
        .await;
    let failed: ConnectionActions = decode(raw.clone(), "actions without options");
    let why = failed
        .options_error
        .as_deref()
        .unwrap_or_else(|| panic!("{raw}"));
    assert!(why.contains("rejected_server_error"), "{why}");
    assert!(failed.actions["add_to_list"].data[0].options.is_none());
    assert!(
        failed.actions["update_property"].data[0].options.is_some(),
        "the field catalog still answered"
    );
    assert!(!raw.to_string().contains("hs-e2e-secret"));
}

/// An API key the provider refuses on a delivery marks the connection inactive
/// (`authentication_invalid`); the retry the provider accepts clears the mark.
#[tokio::test]
async fn a_refused_api_key_marks_the_connection_until_a_delivery_succeeds() {
    let mailchimp = FakeProvider::start().await;
    mailchimp.script(
        "GET /us6/3.0/ping",
        Reply::json(200, json!({"health_status": "Everything's Chimpy!"})),
    );
    // The first attempt is refused; the retry (at once, by the schedule) waits at the
    // provider until the test has seen the mark, so no later retry minutes away is needed.
    let list = "POST /us6/3.0/lists/57afe96172";
    mailchimp.script_next(
        list,
        Reply::json(401, json!({"title": "API Key Invalid", "status": 401})),
    );
    mailchimp.script(list, Reply::held());
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
            json!({"workspace": api.workspace_id, "type": "mailchimp", "name": "news",
                   "metadata": {"api_key": "f00dbabe-us6"}}),
        )
        .await;
    assert_eq!(created["connection"]["active"], true, "{created}");
    let connection = created["connection"]["id"].as_str().unwrap().to_owned();
    api.post(
        "/rules",
        json!({"workspace": api.workspace_id, "connection": connection, "event": "user.signup",
               "metadata": {"action": "add_to_list", "id": "57afe96172"}}),
    )
    .await;
    let event = api
        .send_event(json!({"event": "user.signup", "payload": {"email": "ada@example.com"}}))
        .await;
    let path = format!("/connections/{connection}");
    let marked = switchyard_tests::eventually(
        "the connection marked",
        switchyard_tests::DEADLINE,
        || async {
            let c = api.get(&path).await;
            (c["active"] == false).then_some(c)
        },
    )
    .await;
    assert_eq!(
        marked["inactive_reason"], "authentication_invalid",
        "{marked}"
    );
    assert!(!marked.to_string().contains("f00dbabe"), "{marked}");

    mailchimp.script(
        list,
        Reply::json(
            200,
            json!({"new_members": [{"email_address": "ada@example.com"}],
                                "updated_members": [], "errors": [], "error_count": 0}),
        ),
    );
    let id = event["id"].as_str().unwrap();
    switchyard_tests::event_when(&api, id, "the retry delivered", |e| {
        switchyard_tests::all_deliveries(e, "completed")
    })
    .await;
    let healed = api.get(&path).await;
    assert_eq!(healed["active"], true, "{healed}");
    assert!(healed.get("inactive_reason").is_none(), "{healed}");
    assert!(healed["metadata"].get("status").is_none(), "{healed}");
}
