//! The OpenAPI document: the committed `docs/openapi.json` is what the code generates, the
//! served one is the same, and it documents exactly the routes the router serves — every one
//! of which the SAM template routes to a function.

use std::collections::BTreeSet;
use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::Value;
use switchyard_handlers::api::{openapi, routes};

const REGENERATE: &str = "cargo run -p switchyard -- openapi > docs/openapi.json";

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

#[test]
fn committed_document_is_what_the_code_generates() {
    let generated = openapi::document_json();
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or(
                committed.lines().count().min(generated.lines().count()),
                |i| i,
            )
            + 1;
        panic!(
            "docs/openapi.json is stale (first difference at line {line}); regenerate it with\n\n    \
             {REGENERATE}\n\nand commit it with the change that altered the API."
        );
    }
}

/// `(METHOD, path)` of every operation the document describes.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in [
            "get", "put", "post", "delete", "patch", "head", "options", "trace",
        ] {
            if item.get(method).is_some() {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

#[test]
fn every_route_is_documented_and_every_documented_route_is_served() {
    let document = serde_json::to_value(openapi::document()).expect("serialises");
    let documented = documented_operations(&document);
    let served: BTreeSet<(String, String)> = routes()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document (add #[utoipa::path] and list them in \
         api/openapi.rs): {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented operations the router does not serve: {unserved:?}"
    );
    assert!(served.len() >= 38, "{} routes", served.len());
}

/// `(METHOD, path)` of every API Gateway route `template.yaml` declares (its `HttpApi` events'
/// `Method:` and `Path:` lines).
fn template_routes() -> Vec<(String, String)> {
    let template =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
            .expect("template.yaml");
    let mut routes = Vec::new();
    let mut method = None;
    for line in template.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("Method: ") {
            method = Some(m.to_owned());
        } else if let (Some(path), Some(m)) = (line.strip_prefix("Path: "), method.take()) {
            routes.push((m, path.to_owned()));
        }
    }
    routes
}

/// What the template routes to a function is what reaches it on AWS: a served route it does
/// not cover answers API Gateway's 404 there, while it works under `switchyard serve`.
#[test]
fn every_served_route_is_routed_by_the_template() {
    let template = template_routes();
    assert!(template.len() >= 9, "{template:?}");
    let routed = |method: &str, path: &str| {
        template.iter().any(|(m, p)| {
            (m == method || m == "ANY")
                && match p.strip_suffix("{proxy+}") {
                    Some(prefix) => path.starts_with(prefix),
                    None => p == path,
                }
        })
    };
    let unrouted: Vec<_> = routes()
        .into_iter()
        .filter(|(method, path)| !routed(method.as_str(), path))
        .collect();
    assert!(
        unrouted.is_empty(),
        "served routes template.yaml does not route to a function: {unrouted:?}"
    );
}

#[test]
fn operations_have_unique_ids_and_declare_their_credentials() {
    let document = serde_json::to_value(openapi::document()).expect("serialises");
    assert_eq!(document["openapi"], "3.1.0");
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(
        schemes["publishable_key"]["name"],
        "X-Meshes-Publishable-Key"
    );
    assert_eq!(schemes["machine_jwt"]["scheme"], "bearer");
    assert_eq!(schemes["session_token"]["scheme"], "bearer");
    let mut ids = BTreeSet::new();
    for (method, path) in documented_operations(&document) {
        let operation = &document["paths"][&path][method.to_lowercase()];
        let id = operation["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        let security = operation["security"].as_array().expect("security");
        // The OAuth callback is where a browser arrives: its sealed `state` is the credential.
        // A CORS preflight carries none, by the Fetch standard; the embed's launch exchange
        // carries its launch token in the body.
        let public = path == "/healthz"
            || path == "/api/v1/openapi.json"
            || path == "/api/v1/connections/oauth/{type}/callback"
            || path == "/api/v1/sessions/launch"
            || method == "OPTIONS";
        // Routes an embed session may not reach (a session token gets 403 there).
        let machine_only = path.starts_with("/api/v1/sessions")
            || path.starts_with("/api/v1/machine-keys")
            || path == "/api/v1/usage"
            || path.starts_with("/api/v1/dlq/")
            || path.ends_with("/replay")
            || path.ends_with("/publishable-key/rotate")
            || (method == "POST" && path == "/api/v1/workspaces")
            || (method == "PUT" && path == "/api/v1/workspaces/{id}");
        let names: BTreeSet<&str> = security
            .iter()
            .flat_map(|s| s.as_object().expect("requirement").keys())
            .map(String::as_str)
            .collect();
        let expected: BTreeSet<&str> = if public {
            BTreeSet::new()
        } else if method == "POST" && (path == "/api/v1/events" || path == "/api/v1/events/bulk") {
            ["publishable_key", "machine_jwt"].into()
        } else if machine_only {
            ["machine_jwt"].into()
        } else {
            ["machine_jwt", "session_token"].into()
        };
        assert_eq!(names, expected, "{method} {path}");
        let responses = operation["responses"].as_object().expect("responses");
        if !public {
            assert!(responses.contains_key("401"), "{method} {path} has no 401");
        }
        // A preflight is answered by the CORS layer alone: no backend to fail.
        assert!(
            method == "OPTIONS" || responses.contains_key("500"),
            "{method} {path} has no 500"
        );
    }
}

#[tokio::test]
async fn the_server_serves_the_document_without_credentials() {
    let (_dir, _server, api) = switchyard_tests::start();
    let response = reqwest::get(format!("{}/api/v1/openapi.json", api.base))
        .await
        .expect("GET openapi.json");
    assert_eq!(response.status(), StatusCode::OK);
    let served: Value = response.json().await.expect("JSON");
    let generated = serde_json::to_value(openapi::document()).expect("serialises");
    assert_eq!(served, generated);
}

/// Bounds the annotations state as literals (attribute values must be) match the code's.
#[test]
fn documented_bounds_are_the_codes() {
    let document = serde_json::to_value(openapi::document()).expect("serialises");
    let limit = document["paths"]["/api/v1/workspaces"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("limit parameter")
        .clone();
    assert_eq!(limit["schema"]["maximum"], switchyard_core::page::MAX_LIMIT);
    let grace = &document["components"]["schemas"]["Rotate"]["properties"]["grace_period_seconds"];
    assert_eq!(
        grace["maximum"],
        switchyard_handlers::tenancy::MAX_ROTATION_GRACE.whole_seconds()
    );
    let batch = &document["components"]["schemas"]["EventBatch"];
    assert_eq!(batch["maxItems"], 100);
}
