//! Tenancy: two organizations, two workspaces each. Every route is tried with the other
//! organization's ids and keys; nothing crosses, and every miss is a 404 (existence is not
//! revealed). A publishable key reaches only its own workspace.

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_tests::{
    Api, Receiver, all_deliveries, event_when, expect_status, second_organization, start,
};

/// What one organization owns: a second workspace, and in each workspace a connection, a
/// rule and a delivered event.
struct Tenant {
    api: Api,
    workspaces: Vec<String>,
    connections: Vec<String>,
    rules: Vec<String>,
    events: Vec<String>,
}

async fn populate(api: Api, receiver: &Receiver, name: &str) -> Tenant {
    let second = api
        .post("/workspaces", json!({"name": format!("{name} staging")}))
        .await;
    let second_ws = second["workspace"]["id"].as_str().unwrap().to_owned();
    let second_key = second["workspace"]["publishable_key"]["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tenant = Tenant {
        api: api.clone(),
        workspaces: vec![],
        connections: vec![],
        rules: vec![],
        events: vec![],
    };
    for (ws, key) in [
        (api.workspace_id.clone(), api.publishable_key.clone()),
        (second_ws, second_key),
    ] {
        let mut scoped = api.clone();
        scoped.workspace_id = ws.clone();
        scoped.publishable_key = key;
        let (connection, rule) = scoped
            .webhook_rule(&receiver.url(&format!("/{ws}")), "user.signup")
            .await;
        let event = scoped
            .send_event(json!({"event": "user.signup", "payload": {"tenant": name}}))
            .await;
        let id = event["id"].as_str().unwrap().to_owned();
        event_when(&api, &id, "delivery", |e| all_deliveries(e, "completed")).await;
        tenant.workspaces.push(ws);
        tenant.connections.push(connection);
        tenant.rules.push(rule);
        tenant.events.push(id);
    }
    tenant
}

/// Every route that takes an id, filled with `victim`'s ids.
fn routes_into(victim: &Tenant) -> Vec<(Method, String, Option<Value>)> {
    let mut routes = Vec::new();
    for (i, ws) in victim.workspaces.iter().enumerate() {
        let (c, r, e) = (&victim.connections[i], &victim.rules[i], &victim.events[i]);
        routes.extend([
            (Method::GET, format!("/workspaces/{ws}"), None),
            (Method::PUT, format!("/workspaces/{ws}"), Some(json!({"name": "stolen"}))),
            (Method::GET, format!("/workspaces/{ws}/connections"), None),
            (Method::GET, format!("/workspaces/{ws}/rules"), None),
            (Method::GET, format!("/workspaces/{ws}/events"), None),
            (Method::GET, format!("/workspaces/{ws}/event-types"), None),
            (Method::GET, format!("/workspaces/{ws}/resources"), None),
            (Method::POST, format!("/workspaces/{ws}/publishable-key/rotate"), None),
            (Method::GET, format!("/connections/{c}"), None),
            (Method::PUT, format!("/connections/{c}"), Some(json!({"name": "stolen"}))),
            (Method::DELETE, format!("/connections/{c}"), Some(json!({"force_delete": true}))),
            (Method::GET, format!("/connections/{c}/actions"), None),
            (Method::GET, format!("/connections/{c}/fields"), None),
            (Method::GET, format!("/connections/{c}/mappings/default"), None),
            (
                Method::PUT,
                format!("/connections/{c}/mappings/default"),
                Some(json!({"schema": {"schema_version": 1, "fields": []}, "expected_version": 0})),
            ),
            (Method::GET, format!("/rules/{r}"), None),
            (Method::DELETE, format!("/rules/{r}"), None),
            (Method::POST, format!("/rules/{r}/test"), None),
            (Method::GET, format!("/events/{e}"), None),
            (Method::GET, format!("/events/{e}/payload"), None),
            (Method::POST, format!("/events/{e}/cancel"), None),
            (Method::GET, format!("/events/{e}/rules/{r}/attempts"), None),
            (Method::GET, format!("/events/{e}/rules/{r}/response-details"), None),
            (Method::POST, format!("/events/{e}/rules/{r}/retry"), None),
            (Method::POST, format!("/events/{e}/rules/{r}/cancel"), None),
            (
                Method::POST,
                "/rules".to_owned(),
                Some(json!({"workspace": ws, "connection": c, "event": "x.y", "metadata": {"action": "send_webhook"}})),
            ),
            (
                Method::POST,
                "/connections".to_owned(),
                Some(json!({"workspace": ws, "type": "webhook", "name": "x", "metadata": {"url": "https://x.example"}})),
            ),
            (Method::POST, "/events".to_owned(), Some(json!({"event": "x.y", "workspace": ws}))),
        ]);
    }
    routes.push((
        Method::DELETE,
        format!("/machine-keys/{}", victim.api.access_key),
        None,
    ));
    routes
}

async fn assert_isolated(attacker: &Tenant, victim: &Tenant) {
    for (method, path, body) in routes_into(victim) {
        let mut request = attacker.api.machine(method.clone(), &path);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            404,
            "{method} {path} must not reach another organization"
        );
    }
    for list in [
        "/workspaces",
        "/connections",
        "/rules",
        "/events?limit=200",
        "/machine-keys",
    ] {
        let seen = attacker.api.get(list).await.to_string();
        for id in victim
            .workspaces
            .iter()
            .chain(&victim.connections)
            .chain(&victim.rules)
            .chain(&victim.events)
        {
            assert!(
                !seen.contains(id.as_str()),
                "{list} shows another organization's {id}"
            );
        }
        assert!(
            !seen.contains(&victim.api.access_key),
            "{list} shows another organization's key"
        );
    }
}

#[tokio::test]
async fn nothing_crosses_between_organizations_or_workspaces() {
    let (_dir, server, api_a) = start();
    let api_b = second_organization(&server, &api_a);

    let receiver = Receiver::start().await;
    let a = populate(api_a, &receiver, "acme").await;
    let b = populate(api_b, &receiver, "globex").await;
    assert_isolated(&a, &b).await;
    assert_isolated(&b, &a).await;

    // Each organization's resources are untouched by the other's attempts.
    for t in [&a, &b] {
        for (i, ws) in t.workspaces.iter().enumerate() {
            assert_ne!(
                t.api.get(&format!("/workspaces/{ws}")).await["name"],
                "stolen"
            );
            assert_eq!(
                t.api
                    .get(&format!("/connections/{}", t.connections[i]))
                    .await["id"],
                t.connections[i].as_str()
            );
            assert_eq!(
                t.api.get(&format!("/rules/{}", t.rules[i])).await["id"],
                t.rules[i].as_str()
            );
        }
    }

    // A publishable key reaches only its own workspace, whatever the body says.
    let event = a
        .api
        .send_event(json!({"event": "user.signup", "workspace": b.workspaces[0], "payload": {}}))
        .await;
    assert_eq!(event["workspace"], a.workspaces[0].as_str());
    let id = event["id"].as_str().unwrap();
    let stored = event_when(&a.api, id, "delivery", |e| all_deliveries(e, "completed")).await;
    let rule_events = stored["rule_events"].as_array().unwrap();
    assert_eq!(
        rule_events.len(),
        1,
        "only the key's own workspace's rule fired"
    );
    assert_eq!(rule_events[0]["rule"], a.rules[0].as_str());
    let not_found = b
        .api
        .machine(Method::GET, &format!("/events/{id}"))
        .send()
        .await
        .unwrap();
    expect_status(not_found, 404).await;
    // Exactly one delivery per workspace's event, none to another workspace's receiver path.
    for t in [&a, &b] {
        for ws in &t.workspaces {
            let expected = if ws == &a.workspaces[0] { 2 } else { 1 };
            assert_eq!(
                receiver.requests_to(&format!("/{ws}")).len(),
                expected,
                "deliveries to {ws}"
            );
        }
    }
}
