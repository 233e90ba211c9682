//! The four Lambda functions, as the real bootstraps, called with the JSON documents AWS sends
//! them — API Gateway HTTP API (payload 2.0) requests for `ingest` and `api`, SQS event source
//! batches for `router` and `delivery` — against DynamoDB, SQS and Secrets Manager on moto,
//! delivering to a real receiver on 127.0.0.1. The test plays API Gateway and the event source
//! mappings (receive, invoke, delete what succeeded); everything the functions do is theirs.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use serde_json::{Value, json};
use switchyard_aws::{AwsResources, Clients, SqsQueue, build_deps, default_queue_attributes};
use switchyard_core::ports::QueueName;
use switchyard_core::webhook::UrlPolicy;
use switchyard_handlers::{dlq, tenancy};
use switchyard_tests::{Api, LambdaFunction, Moto, Receiver, require_moto};

/// Fresh resources on moto, a tenant in them, and the environment the template gives the
/// functions.
struct Stack {
    clients: Clients,
    resources: AwsResources,
    env: Vec<(String, String)>,
    api: Api,
}

async fn stack() -> Option<Stack> {
    let moto: Moto = require_moto!(None);
    let clients = moto.clients(None).await;
    let resources = moto.resources(&clients, default_queue_attributes).await;
    // The tenant, made as `switchyard orgs create` makes one: through the same store.
    let backend = build_deps(&clients, &resources, UrlPolicy::default())
        .await
        .expect("deps");
    let (org, key) = tenancy::create_organization(&backend.deps, "lambda")
        .await
        .expect("org");
    let (ws, publishable_key) = tenancy::create_workspace(&backend.deps, org.id, "default", None)
        .await
        .expect("workspace");
    let mut env = moto.env();
    env.extend(resources.to_env());
    env.push(("SWITCHYARD_ALLOW_LOOPBACK_HTTP".into(), "true".into()));
    let api = Api::from_credentials(&json!({
        "api_url": "lambda://", "org_id": org.id.to_string(), "access_key": key.access_key,
        "secret_key": key.secret_key, "workspace_id": ws.id.to_string(),
        "publishable_key": publishable_key,
    }));
    Some(Stack {
        clients,
        resources,
        env,
        api,
    })
}

/// An API Gateway HTTP API request event, payload format 2.0, as the service sends it.
fn http_event(method: &str, path: &str, headers: &[(&str, String)], body: Option<&Value>) -> Value {
    let mut h = serde_json::Map::new();
    for (k, v) in [
        ("accept", "*/*".to_owned()),
        ("content-type", "application/json".to_owned()),
        (
            "host",
            "abc123.execute-api.us-east-1.amazonaws.com".to_owned(),
        ),
        ("user-agent", "curl/8.5.0".to_owned()),
        ("x-forwarded-for", "203.0.113.7".to_owned()),
        ("x-forwarded-port", "443".to_owned()),
        ("x-forwarded-proto", "https".to_owned()),
    ]
    .into_iter()
    .chain(headers.iter().map(|(k, v)| (*k, v.clone())))
    {
        h.insert(k.to_lowercase(), Value::String(v));
    }
    let body = body.map(Value::to_string);
    if let Some(b) = &body {
        h.insert("content-length".into(), Value::String(b.len().to_string()));
    }
    let now = time::OffsetDateTime::now_utc();
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": h,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.5.0"
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": format!("{method} {path}"),
            "stage": "$default",
            "time": "23/Nov/2026:08:00:00 +0000",
            "timeEpoch": now.unix_timestamp() * 1000
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// The response document's status and JSON body.
fn http_answer(answer: Result<Value, Value>) -> (u16, Value) {
    let doc = answer.expect("the function answered");
    let status = doc["statusCode"].as_u64().expect("statusCode") as u16;
    let body = match &doc["body"] {
        Value::String(s) if !s.is_empty() => serde_json::from_str(s).expect("JSON body"),
        _ => Value::Null,
    };
    (status, body)
}

/// An SQS event source batch, built from the messages exactly as SQS returned them.
fn sqs_event(queue_arn: &str, messages: &[Message]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, Value> = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

impl Stack {
    fn url(&self, q: QueueName) -> &str {
        &self.resources.queue_urls[&q]
    }

    async fn arn(&self, q: QueueName) -> String {
        self.clients
            .sqs
            .get_queue_attributes()
            .queue_url(self.url(q))
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|mut a| a.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("queue ARN")
    }

    /// Receives what the event source mapping would hand the function next (polling up to a
    /// deadline for at least one message).
    async fn receive(&self, q: QueueName) -> Vec<Message> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = self
                .clients
                .sqs
                .receive_message()
                .queue_url(self.url(q))
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive");
            if !out.messages().is_empty() {
                return out.messages().to_vec();
            }
            assert!(Instant::now() < deadline, "nothing arrived on {q}");
        }
    }

    /// One event source mapping round: a batch from `q` to `function`, then deletes what the
    /// function did not report as failed. Returns the reported failures.
    async fn pump(&self, q: QueueName, function: &LambdaFunction) -> Vec<Value> {
        let messages = self.receive(q).await;
        let answer = function
            .invoke(sqs_event(&self.arn(q).await, &messages))
            .await
            .expect("the function answered");
        let failures = answer["batchItemFailures"]
            .as_array()
            .expect("a partial batch response")
            .clone();
        for m in &messages {
            let failed = failures
                .iter()
                .any(|f| f["itemIdentifier"].as_str() == m.message_id());
            if !failed {
                self.clients
                    .sqs
                    .delete_message()
                    .queue_url(self.url(q))
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
            }
        }
        failures
    }

    fn bearer(&self) -> (&'static str, String) {
        ("authorization", format!("Bearer {}", self.api.jwt()))
    }

    async fn call(
        &self,
        f: &LambdaFunction,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let event = http_event(method, path, &[self.bearer()], body.as_ref());
        http_answer(f.invoke(event).await)
    }

    /// A webhook connection and a rule for `event`, created through the api function.
    async fn webhook_rule(&self, api: &LambdaFunction, url: &str, event: &str) {
        self.webhook_rule_with(api, json!({"url": url}), event)
            .await
    }

    /// The same, with the connection's `metadata` given whole.
    async fn webhook_rule_with(&self, api: &LambdaFunction, metadata: Value, event: &str) {
        let ws = &self.api.workspace_id;
        let name = metadata["url"].as_str().unwrap_or("hook").to_owned();
        let (status, conn) = self
            .call(
                api,
                "POST",
                "/api/v1/connections",
                Some(json!({
                "workspace": ws, "type": "webhook", "name": name, "metadata": metadata})),
            )
            .await;
        assert_eq!(status, 201, "{conn}");
        let (status, rule) = self
            .call(
                api,
                "POST",
                "/api/v1/rules",
                Some(json!({
                "workspace": ws, "connection": conn["connection"]["id"], "event": event,
                "metadata": {"action": "send_webhook"}})),
            )
            .await;
        assert_eq!(status, 201, "{rule}");
    }

    /// `POST /api/v1/events` through the ingest function with the publishable key.
    async fn send_event(&self, ingest: &LambdaFunction, body: Value) -> String {
        let headers = [("x-meshes-publishable-key", self.api.publishable_key.clone())];
        let event = http_event("POST", "/api/v1/events", &headers, Some(&body));
        let (status, answer) = http_answer(ingest.invoke(event).await);
        assert_eq!(status, 201, "{answer}");
        answer["event"]["id"].as_str().expect("event id").to_owned()
    }
}

#[tokio::test]
async fn an_event_goes_through_the_four_functions_as_aws_calls_them() {
    let Some(s) = stack().await else { return };
    let receiver = Receiver::start().await;
    let (ingest, api, router, delivery) = tokio::join!(
        LambdaFunction::start("switchyard-ingest", &s.env),
        LambdaFunction::start("switchyard-api", &s.env),
        LambdaFunction::start("switchyard-router", &s.env),
        LambdaFunction::start("switchyard-delivery", &s.env),
    );
    s.webhook_rule(&api, &receiver.url("/hook"), "user.signup")
        .await;

    let id = s
        .send_event(
            &ingest,
            json!({"event": "user.signup", "payload": {"email": "ada@example.com"}}),
        )
        .await;
    assert!(s.pump(QueueName::Events, &router).await.is_empty());
    assert!(s.pump(QueueName::Deliveries, &delivery).await.is_empty());

    let delivered = receiver.requests_to("/hook");
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].json()["uuid"], id.as_str());
    let (status, event) = s
        .call(&api, "GET", &format!("/api/v1/events/{id}"), None)
        .await;
    assert_eq!(status, 200, "{event}");
    assert_eq!(event["status"], "completed", "{event}");
    assert_eq!(event["rule_events"][0]["attempt_count"], 1);

    // A management answer without credentials is the contract's 401, through API Gateway too.
    let unauthenticated = http_event("GET", "/api/v1/workspaces", &[], None);
    assert_eq!(http_answer(api.invoke(unauthenticated).await).0, 401);

    // A browser's preflight of the ingest route (routed to the ingest function by the
    // template) is approved for any origin; one of a management route is not.
    let preflight = |path: &str, method: &str| {
        let headers = [
            ("origin", "https://app.example.com".to_owned()),
            ("access-control-request-method", method.to_owned()),
            (
                "access-control-request-headers",
                "content-type,x-meshes-publishable-key".to_owned(),
            ),
        ];
        http_event("OPTIONS", path, &headers, None)
    };
    let approved = ingest
        .invoke(preflight("/api/v1/events", "POST"))
        .await
        .expect("the function answered");
    assert_eq!(approved["statusCode"], 200, "{approved}");
    assert_eq!(
        approved["headers"]["access-control-allow-origin"], "*",
        "{approved}"
    );
    let refused = api
        .invoke(preflight("/api/v1/workspaces", "GET"))
        .await
        .expect("the function answered");
    assert_eq!(refused["statusCode"], 405, "{refused}");
    assert!(
        refused["headers"]
            .get("access-control-allow-origin")
            .is_none(),
        "{refused}"
    );

    for (name, f) in [
        ("ingest", &ingest),
        ("api", &api),
        ("router", &router),
        ("delivery", &delivery),
    ] {
        eprintln!(
            "cold start (moto): {name} init {:?}",
            f.init_duration().expect("the function polled for work")
        );
    }
}

#[tokio::test]
async fn one_trace_through_the_four_functions_each_invocation_flushing_its_spans() {
    let Some(mut s) = stack().await else { return };
    let collector = Receiver::start().await;
    let receiver = Receiver::start().await;
    // Export on, batching longer than the test: only each invocation's flush sends spans.
    s.env
        .push(("OTEL_EXPORTER_OTLP_ENDPOINT".into(), collector.url("")));
    s.env
        .push(("OTEL_BSP_SCHEDULE_DELAY".into(), "600000".into()));
    let (ingest, api, router, delivery) = tokio::join!(
        LambdaFunction::start("switchyard-ingest", &s.env),
        LambdaFunction::start("switchyard-api", &s.env),
        LambdaFunction::start("switchyard-router", &s.env),
        LambdaFunction::start("switchyard-delivery", &s.env),
    );
    s.webhook_rule(&api, &receiver.url("/hook"), "user.signup")
        .await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let headers = [
        ("x-meshes-publishable-key", s.api.publishable_key.clone()),
        ("traceparent", format!("00-{trace}-00f067aa0ba902b7-01")),
    ];
    let body = json!({"event": "user.signup", "payload": {}});
    let (status, answer) = http_answer(
        ingest
            .invoke(http_event("POST", "/api/v1/events", &headers, Some(&body)))
            .await,
    );
    assert_eq!(status, 201, "{answer}");
    let id = answer["event"]["id"].as_str().expect("event id").to_owned();
    assert!(s.pump(QueueName::Events, &router).await.is_empty());
    assert!(s.pump(QueueName::Deliveries, &delivery).await.is_empty());

    let delivered = receiver.requests_to("/hook");
    let header = delivered[0].headers["traceparent"].to_str().unwrap();
    assert!(header.starts_with(&format!("00-{trace}-")), "{header}");
    let (status, event) = s
        .call(&api, "GET", &format!("/api/v1/events/{id}"), None)
        .await;
    assert_eq!(
        (status, event["trace_id"].as_str()),
        (200, Some(trace)),
        "{event}"
    );

    // Every function's invocation had sent its spans by the time it answered.
    let mut by_name: std::collections::BTreeMap<String, Value> = Default::default();
    for request in collector.requests_to("/v1/traces") {
        let body = request.json();
        let service =
            body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"].clone();
        for span in body["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap()
        {
            if span["traceId"] == trace {
                let mut span = span.clone();
                span["service"] = service.clone();
                by_name.insert(span["name"].as_str().unwrap().to_owned(), span);
            }
        }
    }
    for name in ["ingest", "route", "deliver", "destination_call"] {
        assert!(
            by_name.contains_key(name),
            "{name} span exported: {by_name:?}"
        );
    }
    assert_eq!(
        by_name["route"]["parentSpanId"],
        by_name["ingest"]["spanId"]
    );
    assert_eq!(
        by_name["deliver"]["parentSpanId"],
        by_name["route"]["spanId"]
    );
    assert_eq!(
        by_name["destination_call"]["parentSpanId"],
        by_name["deliver"]["spanId"]
    );
    assert!(header.ends_with(&format!(
        "-{}-01",
        by_name["destination_call"]["spanId"].as_str().unwrap()
    )));
}

#[tokio::test]
async fn a_failed_delivery_redriven_from_the_dlq_is_delivered_once() {
    let Some(s) = stack().await else { return };
    let receiver = Receiver::start().await;
    let (ingest, api, router, delivery) = tokio::join!(
        LambdaFunction::start("switchyard-ingest", &s.env),
        LambdaFunction::start("switchyard-api", &s.env),
        LambdaFunction::start("switchyard-router", &s.env),
        LambdaFunction::start("switchyard-delivery", &s.env),
    );
    s.webhook_rule(&api, &receiver.url("/hook"), "invoice.paid")
        .await;
    // A plain 4xx fails the delivery at once: it is sent to the delivery DLQ on purpose.
    receiver.respond_with(400);
    let id = s
        .send_event(
            &ingest,
            json!({"event": "invoice.paid", "payload": {"n": 1}}),
        )
        .await;
    assert!(s.pump(QueueName::Events, &router).await.is_empty());
    assert!(s.pump(QueueName::Deliveries, &delivery).await.is_empty());
    let (_, event) = s
        .call(&api, "GET", &format!("/api/v1/events/{id}"), None)
        .await;
    assert_eq!(event["status"], "failed", "{event}");

    // Ops fix the destination and redrive from the console: moto has no StartMessageMoveTask,
    // so the move is done as the console does it — receive from the DLQ, send to the source.
    receiver.respond_with(200);
    let queue = SqsQueue::new(s.clients.sqs.clone(), s.resources.queue_urls.clone());
    let dead = s.receive(QueueName::DeliveriesDlq).await;
    assert_eq!(dead.len(), 1);
    let body = dead[0].body().expect("body").to_owned();
    s.clients
        .sqs
        .change_message_visibility()
        .queue_url(s.url(QueueName::DeliveriesDlq))
        .receipt_handle(dead[0].receipt_handle().unwrap_or_default())
        .visibility_timeout(0)
        .send()
        .await
        .expect("release the DLQ message");
    assert_eq!(
        dlq::redrive(&queue, QueueName::DeliveriesDlq)
            .await
            .expect("redrive"),
        1
    );

    assert!(s.pump(QueueName::Deliveries, &delivery).await.is_empty());
    assert_eq!(
        receiver.requests_to("/hook").len(),
        2,
        "one failed attempt, one delivery"
    );
    let (_, event) = s
        .call(&api, "GET", &format!("/api/v1/events/{id}"), None)
        .await;
    assert_eq!(event["status"], "completed", "{event}");
    assert_eq!(event["rule_events"][0]["attempt_count"], 2);

    // The same message redriven again (a duplicate) changes nothing and calls no one.
    s.clients
        .sqs
        .send_message()
        .queue_url(s.url(QueueName::Deliveries))
        .message_body(body)
        .send()
        .await
        .expect("send the duplicate");
    assert!(s.pump(QueueName::Deliveries, &delivery).await.is_empty());
    assert_eq!(receiver.requests_to("/hook").len(), 2, "delivered once");
    let (_, again) = s
        .call(&api, "GET", &format!("/api/v1/events/{id}"), None)
        .await;
    assert_eq!(again["rule_events"], event["rule_events"]);
}

#[tokio::test]
async fn a_hanging_destination_holds_only_its_own_record_of_a_batch() {
    let Some(s) = stack().await else { return };
    let (healthy, hanging) = (Receiver::start().await, Receiver::start().await);
    hanging.hang();
    let (ingest, api, router, delivery) = tokio::join!(
        LambdaFunction::start("switchyard-ingest", &s.env),
        LambdaFunction::start("switchyard-api", &s.env),
        LambdaFunction::start("switchyard-router", &s.env),
        LambdaFunction::start("switchyard-delivery", &s.env),
    );
    s.webhook_rule_with(
        &api,
        json!({"url": hanging.url("/hang"), "timeout_ms": 1000}),
        "user.signup",
    )
    .await;
    s.webhook_rule(&api, &healthy.url("/hook"), "user.signup")
        .await;
    let id = s
        .send_event(&ingest, json!({"event": "user.signup", "payload": {}}))
        .await;
    assert!(s.pump(QueueName::Events, &router).await.is_empty());

    // Both deliveries in one batch: attempted together, the hanging one cut off by its timeout.
    let started = Instant::now();
    assert!(s.pump(QueueName::Deliveries, &delivery).await.is_empty());
    let took = started.elapsed();
    let (held, delivered) = (hanging.requests_to("/hang"), healthy.requests_to("/hook"));
    assert_eq!((held.len(), delivered.len()), (1, 1));
    assert!(
        delivered[0].received_at < held[0].received_at + Duration::from_millis(900),
        "the healthy record did not wait for the hanging one"
    );
    assert!(
        took < Duration::from_secs(15),
        "the batch answered once the hanging call was cut off, not after 30 s: {took:?}"
    );
    let (_, event) = s
        .call(&api, "GET", &format!("/api/v1/events/{id}"), None)
        .await;
    let mut statuses: Vec<&str> = event["rule_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["completed", "retrying"], "{event}");
}
