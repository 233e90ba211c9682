//! The SaaS connectors against a fake provider on 127.0.0.1 that speaks each provider's wire
//! format: the exact requests each action sends, and the outcome of every kind of answer
//! (success, 401, 404, 429 with the provider's reset header, 5xx). One table row per provider
//! action; the failure matrix runs over every row.

use std::time::Duration;

use serde_json::{Map, Value, json};
use switchyard_core::domain::IntegrationType;
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::Integration;
use switchyard_core::webhook::UrlPolicy;
use switchyard_integrations::{ClientSettings, Integrations, OutboundClient, ProviderUrls};
use switchyard_tests::{FakeProvider, ProviderRequest, Reply};

#[path = "connectors_cases.rs"]
mod connector_cases;
use switchyard_tests::outbound as outbound_fixture;

use outbound_fixture::Attempt;

fn object(v: Value) -> Map<String, Value> {
    v.as_object().expect("object").clone()
}

/// One delivery to a connection of `kind` of an event whose payload has the fields the
/// connectors read (and characters Slack must escape).
fn fixture(kind: IntegrationType, metadata: Value, secrets: Value, rule: Value) -> Attempt {
    Attempt::new(
        kind,
        object(metadata),
        object(secrets),
        rule,
        json!({
            "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
            "plan": "pro", "note": "<!channel> & co"
        }),
    )
}

fn integrations(fake: &FakeProvider) -> Integrations {
    let client = OutboundClient::new(ClientSettings {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(5),
    })
    .expect("client");
    Integrations::new(
        client,
        UrlPolicy {
            allow_loopback_http: true,
        },
    )
    .with_provider_urls(ProviderUrls::all_at(&fake.base_url()))
}

/// One provider action: the connection, the rule, the calls it makes (each route with the
/// provider's success answer, in order) and what the last call must carry.
struct Case {
    name: &'static str,
    kind: IntegrationType,
    metadata: Value,
    secrets: Value,
    rule: Value,
    /// Every call of the action in order: route and the provider's success answer.
    calls: Vec<(String, Reply)>,
    /// Checks the requests the action sent (one per call).
    expect: fn(&[ProviderRequest]),
    /// The provider's own answers for an unauthorized call and a rate limit (with the reset
    /// header it documents, meaning `reset_secs`).
    unauthorized: Reply,
    rate_limited: Reply,
    reset_secs: Option<u64>,
}

fn bearer(request: &ProviderRequest, token: &str) {
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {token}").as_str()),
        "{}",
        request.route()
    );
}

fn slack_cases() -> Vec<Case> {
    vec![Case {
        name: "slack send_message",
        kind: IntegrationType::Slack,
        metadata: json!({}),
        secrets: json!({"access_token": "xoxb-test-token"}),
        rule: json!({"action": "send_message", "id": "C0123",
            "value": "New {{plan}} signup: {{email}} ({{note}})"}),
        calls: vec![(
            "POST /slack/api/chat.postMessage".into(),
            Reply::json(
                200,
                json!({"ok": true, "channel": "C0123", "ts": "1503435956.000247"}),
            ),
        )],
        expect: |requests| {
            let r = &requests[0];
            bearer(r, "xoxb-test-token");
            assert!(
                r.header("content-type")
                    .unwrap()
                    .starts_with("application/json")
            );
            assert_eq!(
                r.json(),
                json!({"channel": "C0123",
                    "text": "New pro signup: ada@example.com (&lt;!channel&gt; &amp; co)"})
            );
        },
        unauthorized: Reply::json(200, json!({"ok": false, "error": "invalid_auth"})),
        rate_limited: Reply::json(429, json!({"ok": false, "error": "ratelimited"}))
            .header("Retry-After", "30"),
        reset_secs: Some(30),
    }]
}

fn all_cases(base: &str) -> Vec<Case> {
    let mut cases = slack_cases();
    cases.extend(connector_cases::cases(base));
    cases
}

#[tokio::test]
async fn each_action_sends_the_documented_requests() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    for case in all_cases(&fake.base_url()) {
        fake.clear();
        for (route, reply) in &case.calls {
            fake.script(route, reply.clone());
        }
        let fixture = fixture(
            case.kind,
            case.metadata.clone(),
            case.secrets.clone(),
            case.rule.clone(),
        );
        let result = fixture.deliver(&integrations).await;
        assert_eq!(
            result.outcome,
            Outcome::Delivered,
            "{}: {result:?}",
            case.name
        );
        let requests = fake.requests();
        let routes: Vec<String> = requests.iter().map(ProviderRequest::route).collect();
        let expected: Vec<&str> = case
            .calls
            .iter()
            .map(|(r, _)| r.split('?').next().unwrap())
            .collect();
        assert_eq!(routes, expected, "{}", case.name);
        (case.expect)(&requests);
        // Credentials never reach the delivery history.
        let secrets = case.secrets.as_object().unwrap();
        for value in secrets.values().filter_map(Value::as_str) {
            assert!(!result.request.contains(value), "{}", case.name);
            assert!(!format!("{result:?}").contains(value), "{}", case.name);
        }
    }
}

#[test]
fn every_saas_type_and_action_has_a_row() {
    let cases = all_cases("http://127.0.0.1:9");
    for spec in switchyard_core::integration_catalog::all() {
        if spec.kind == IntegrationType::Webhook {
            continue;
        }
        for action in spec.actions {
            assert!(
                cases
                    .iter()
                    .any(|c| c.kind == spec.kind && c.rule["action"] == action.key),
                "no row for {} {}",
                spec.kind,
                action.key
            );
        }
    }
}

#[tokio::test]
async fn provider_answers_map_to_outcomes() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    for case in all_cases(&fake.base_url()) {
        let (last_route, _) = case.calls.last().expect("an action makes a call").clone();
        let failures = [
            ("401", case.unauthorized.clone(), Outcome::AuthFailed, None),
            (
                "404",
                Reply::json(404, json!({"message": "Not Found"})),
                Outcome::RejectedClientError,
                None,
            ),
            (
                "429",
                case.rate_limited.clone(),
                Outcome::RateLimited,
                case.reset_secs.map(Duration::from_secs),
            ),
            (
                "503",
                Reply::json(503, json!({"message": "Service Unavailable"})),
                Outcome::RejectedServerError,
                None,
            ),
            // A provider API's redirect is not a webhook's success.
            (
                "301",
                Reply::json(301, json!(null)).header("Location", "https://elsewhere.example/"),
                Outcome::RejectedClientError,
                None,
            ),
        ];
        for (what, reply, outcome, retry_after) in failures {
            fake.clear();
            for (route, ok) in &case.calls {
                fake.script(route, ok.clone());
            }
            fake.script(&last_route, reply);
            let fixture = fixture(
                case.kind,
                case.metadata.clone(),
                case.secrets.clone(),
                case.rule.clone(),
            );
            let result = fixture.deliver(&integrations).await;
            assert_eq!(result.outcome, outcome, "{} {what}: {result:?}", case.name);
            // Described without the query (it may carry an e-mail address).
            assert!(
                !result.request.contains('?'),
                "{}: {}",
                case.name,
                result.request
            );
            assert!(result.response_body.is_some(), "{} {what}", case.name);
            if let Some(expected) = retry_after {
                // The reset is a delay or a Unix time; either way within a second of it.
                let got = result
                    .retry_after
                    .expect("retry_after from the reset header");
                assert!(
                    got.as_secs().abs_diff(expected.as_secs()) <= 1,
                    "{} {what}: {got:?} vs {expected:?}",
                    case.name
                );
            }
        }
    }
}

#[tokio::test]
async fn an_unreachable_provider_is_a_network_error() {
    let fake = FakeProvider::start().await;
    let base = fake.base_url();
    drop(fake);
    let client = OutboundClient::new(ClientSettings::default()).expect("client");
    let integrations = Integrations::new(
        client,
        UrlPolicy {
            allow_loopback_http: true,
        },
    )
    .with_provider_urls(ProviderUrls::all_at(&base));
    let case = &slack_cases()[0];
    let fixture = fixture(
        case.kind,
        case.metadata.clone(),
        case.secrets.clone(),
        case.rule.clone(),
    );
    let result = fixture.deliver(&integrations).await;
    assert_eq!(result.outcome, Outcome::NetworkError, "{result:?}");
}

/// A provider that does not answer within the client's bound is a `timeout`.
#[tokio::test]
async fn a_slow_provider_is_a_timeout() {
    let fake = FakeProvider::start().await;
    let client = OutboundClient::new(ClientSettings {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_millis(300),
    })
    .expect("client");
    let integrations = Integrations::new(
        client,
        UrlPolicy {
            allow_loopback_http: true,
        },
    )
    .with_provider_urls(ProviderUrls::all_at(&fake.base_url()));
    fake.script(
        "POST /zoom/v2/meetings/1/registrants",
        Reply::json(201, json!({})).after(Duration::from_secs(2)),
    );
    let fixture = fixture(
        IntegrationType::Zoom,
        json!({}),
        json!({"access_token": "t"}),
        json!({"action": "add_meeting_registrant", "id": "1"}),
    );
    let result = fixture.deliver(&integrations).await;
    assert_eq!(result.outcome, Outcome::Timeout, "{result:?}");
    assert_eq!(
        result.request,
        format!("POST {}/zoom/v2/meetings/1/registrants", fake.base_url())
    );
}

#[tokio::test]
async fn slack_error_codes_in_a_200_are_classified() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    let case = &slack_cases()[0];
    for (code, outcome) in [
        ("channel_not_found", Outcome::RejectedClientError),
        ("not_in_channel", Outcome::RejectedClientError),
        ("token_revoked", Outcome::AuthFailed),
        ("ratelimited", Outcome::RateLimited),
        ("internal_error", Outcome::RejectedServerError),
    ] {
        fake.script(
            "POST /slack/api/chat.postMessage",
            Reply::json(200, json!({"ok": false, "error": code})),
        );
        let fixture = fixture(
            case.kind,
            case.metadata.clone(),
            case.secrets.clone(),
            case.rule.clone(),
        );
        let result = fixture.deliver(&integrations).await;
        assert_eq!(result.outcome, outcome, "{code}: {result:?}");
        assert_eq!(
            result.error.as_deref(),
            Some(format!("Slack answered {code}").as_str())
        );
    }
    // A connection not yet authorized: auth_failed, so the OAuth layer can step in.
    let fixture = fixture(case.kind, json!({}), json!({}), case.rule.clone());
    let result = fixture.deliver(&integrations).await;
    assert_eq!(result.outcome, Outcome::AuthFailed, "{result:?}");
}

/// API keys are tried once when the connection is created: a refused key is a 422 on
/// `metadata.api_key` that never echoes the key; an accepted one passes.
#[tokio::test]
async fn api_keys_are_checked_on_create() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    let base = fake.base_url();
    let refused = Reply::json(401, json!({"message": "Unauthenticated."}));
    // (type, metadata, the credential's key, the one call, the provider's yes)
    let rows = [
        (
            IntegrationType::Mailchimp,
            json!({"api_key": "secret-key-us6"}),
            "api_key",
            "GET /mailchimp/us6/3.0/ping",
            ok_reply(json!({"health_status": "Everything's Chimpy!"})),
        ),
        (
            IntegrationType::Resend,
            json!({"api_key": "re_secret_key"}),
            "api_key",
            "GET /resend/domains",
            ok_reply(json!({"object": "list", "data": []})),
        ),
        (
            IntegrationType::Mailerlite,
            json!({"api_key": "ml-secret-key"}),
            "api_key",
            "GET /mailerlite/api/groups",
            ok_reply(json!({"data": []})),
        ),
        (
            IntegrationType::ActiveCampaign,
            json!({"api_key": "ac-secret-key", "api_url": format!("{base}/ac")}),
            "api_key",
            "GET /ac/api/3/users/me",
            ok_reply(json!({"user": {"id": "1"}})),
        ),
        (
            IntegrationType::CustomerIo,
            json!({"api_key": "cio-secret-key", "site_id": "site-123"}),
            "api_key",
            "GET /customer_io/us/api/v1/accounts/region",
            ok_reply(
                json!({"url": "https://track.customer.io", "data_center": "us", "environment_id": 12345}),
            ),
        ),
        (
            IntegrationType::Sendgrid,
            json!({"api_key": "SG.secret-key"}),
            "api_key",
            "GET /sendgrid/v3/scopes",
            ok_reply(json!({"scopes": ["marketing.read", "mail.send"]})),
        ),
        (
            IntegrationType::Pipedrive,
            json!({"api_token": "pd-secret-token", "company_domain": "acme"}),
            "api_token",
            "GET /pipedrive/acme/api/v1/users/me",
            ok_reply(json!({"success": true, "data": {"id": 1, "name": "Ada"}})),
        ),
        (
            IntegrationType::Discord,
            json!({"webhook_url": "https://discord.com/api/webhooks/112233/secret-token"}),
            "webhook_url",
            "GET /discord/api/webhooks/112233/secret-token",
            ok_reply(json!({"type": 1, "id": "112233", "name": "Alerts",
                            "channel_id": "1170000000000000000", "token": "secret-token"})),
        ),
    ];
    for (kind, metadata, key_name, route, accepted) in rows {
        let metadata = object(metadata);
        let param = format!("metadata.{key_name}");
        let key = metadata[key_name].as_str().unwrap().to_owned();
        fake.clear();
        fake.script(route, refused.clone());
        let errors = integrations
            .validate_destination(kind, &metadata)
            .await
            .expect_err("a refused key is refused");
        assert_eq!(errors.0[0].param, param, "{kind}");
        assert!(
            errors.0[0].msg.contains("rejected"),
            "{kind}: {}",
            errors.0[0].msg
        );
        assert!(!format!("{errors:?}").contains(&key), "{kind}");
        assert!(!format!("{errors:?}").contains("secret"), "{kind}");
        let sent = fake.requests();
        assert_eq!(sent.len(), 1, "{kind}: one cheap call");
        assert_eq!(sent[0].route(), route);

        fake.script(route, accepted);
        integrations
            .validate_destination(kind, &metadata)
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e:?}"));

        let mut missing = metadata.clone();
        missing.remove(key_name);
        let errors = integrations
            .validate_destination(kind, &missing)
            .await
            .expect_err("a key is required");
        assert_eq!(errors.0[0].param, param, "{kind}");
    }

    // Customer.io's optional App API key (for listing segments) is checked too.
    fake.clear();
    fake.script(
        "GET /customer_io/us/api/v1/accounts/region",
        ok_reply(json!({"url": "https://track.customer.io", "data_center": "us"})),
    );
    fake.script("GET /customer_io/us/app/v1/segments", refused.clone());
    let errors = integrations
        .validate_destination(
            IntegrationType::CustomerIo,
            &object(json!({"site_id": "s", "api_key": "k", "app_api_key": "app-secret"})),
        )
        .await
        .expect_err("a refused App API key is refused");
    assert_eq!(errors.0[0].param, "metadata.app_api_key");
    let app = &fake.requests()[1];
    assert_eq!(app.header("authorization"), Some("Bearer app-secret"));

    // A Resend key restricted to sending is genuine.
    fake.script(
        "GET /resend/domains",
        Reply::json(
            401,
            json!({"statusCode": 401, "name": "restricted_api_key",
                   "message": "This API key is restricted to only send emails"}),
        ),
    );
    integrations
        .validate_destination(
            IntegrationType::Resend,
            &object(json!({"api_key": "re_send_only"})),
        )
        .await
        .expect("a sending-only key is accepted");
    // A tenant-supplied API host must pass the deployment's URL policy.
    let errors = integrations
        .validate_destination(
            IntegrationType::ActiveCampaign,
            &object(json!({"api_key": "k", "api_url": "ftp://example.com"})),
        )
        .await
        .expect_err("not http(s)");
    assert_eq!(errors.0[0].param, "metadata.api_url");
}

fn ok_reply(body: Value) -> Reply {
    Reply::json(200, body)
}

/// Mailchimp answers 200 for a batch whose member was refused; the refusal is in `errors`.
#[tokio::test]
async fn mailchimp_member_errors_in_a_200_are_rejections() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    fake.script(
        "POST /mailchimp/us6/3.0/lists/57afe96172",
        ok_reply(json!({"new_members": [], "updated_members": [], "error_count": 1,
            "errors": [{"email_address": "ada@example.com",
                        "error": "ada@example.com looks fake or invalid, please enter a real email address.",
                        "error_code": "ERROR_CONTACT_EXISTS"}]})),
    );
    let fixture = fixture(
        IntegrationType::Mailchimp,
        json!({}),
        json!({"api_key": "k-us6"}),
        json!({"action": "add_to_list", "id": "57afe96172"}),
    );
    let result = fixture.deliver(&integrations).await;
    assert_eq!(result.outcome, Outcome::RejectedClientError, "{result:?}");
    assert!(result.error.unwrap().contains("looks fake"));
}

/// Already-done answers are the wanted state: a duplicate campaign member, an AWeber
/// subscriber already on the list, an Intercom tag removal for an unknown contact.
#[tokio::test]
async fn already_done_is_delivered() {
    let fake = FakeProvider::start().await;
    let base = fake.base_url();
    let integrations = integrations(&fake);

    fake.script(
        "GET /salesforce/services/data/v60.0/query",
        ok_reply(json!({"totalSize": 1, "done": true, "records": [{"Id": "003000000000001"}]})),
    );
    fake.script(
        "POST /salesforce/services/data/v60.0/sobjects/CampaignMember",
        Reply::json(
            400,
            json!([{"message": "Already a campaign member.", "errorCode": "DUPLICATE_VALUE", "fields": []}]),
        ),
    );
    let salesforce = fixture(
        IntegrationType::Salesforce,
        json!({"instance_url": format!("{base}/salesforce")}),
        json!({"access_token": "t"}),
        json!({"action": "add_to_campaign", "id": "701000000000001"}),
    );
    assert_eq!(
        salesforce.deliver(&integrations).await.outcome,
        Outcome::Delivered
    );

    fake.script(
        "POST /resend/contacts",
        Reply::json(
            409,
            json!({"statusCode": 409, "name": "conflict", "message": "Contact already exists"}),
        ),
    );
    fake.script(
        "POST /resend/contacts/ada@example.com/segments/seg_1",
        ok_reply(json!({"id": "seg_1"})),
    );
    let resend = fixture(
        IntegrationType::Resend,
        json!({}),
        json!({"api_key": "re"}),
        json!({"action": "add_to_segment", "id": "seg_1"}),
    );
    assert_eq!(
        resend.deliver(&integrations).await.outcome,
        Outcome::Delivered
    );

    fake.script(
        "POST /aweber/1.0/accounts/1/lists/2/subscribers",
        Reply::json(
            400,
            json!({"error": {"status": 400, "message": "email: Subscriber already subscribed.",
                   "type": "WebServiceError"}}),
        ),
    );
    let aweber = fixture(
        IntegrationType::Aweber,
        json!({"account_id": 1}),
        json!({"access_token": "t"}),
        json!({"action": "add_to_list", "id": "2"}),
    );
    assert_eq!(
        aweber.deliver(&integrations).await.outcome,
        Outcome::Delivered
    );

    fake.script(
        "POST /intercom/contacts/search",
        ok_reply(json!({"type": "list", "data": [], "total_count": 0})),
    );
    let intercom = fixture(
        IntegrationType::Intercom,
        json!({}),
        json!({"access_token": "t"}),
        json!({"action": "remove_tag", "id": "9"}),
    );
    assert_eq!(
        intercom.deliver(&integrations).await.outcome,
        Outcome::Delivered
    );
}

/// What a rule or the fields lack ends the attempt without a call, and is not retried.
#[tokio::test]
async fn missing_settings_fail_without_calling() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    let no_channel = fixture(
        IntegrationType::Slack,
        json!({}),
        json!({"access_token": "t"}),
        json!({"action": "send_message", "value": "hi"}),
    );
    let result = no_channel.deliver(&integrations).await;
    assert_eq!(result.outcome, Outcome::RejectedClientError);
    assert!(!result.outcome.is_retryable(result.status_code));

    // update_property without its value template would clear the property: refused.
    let no_value = fixture(
        IntegrationType::Hubspot,
        json!({}),
        json!({"access_token": "t"}),
        json!({"action": "update_property", "id": "plan_tier"}),
    );
    let result = no_value.deliver(&integrations).await;
    assert_eq!(result.outcome, Outcome::RejectedClientError, "{result:?}");
    assert!(result.error.unwrap().contains("metadata.value"));

    let mut no_email = fixture(
        IntegrationType::Zoom,
        json!({}),
        json!({"access_token": "t"}),
        json!({"action": "add_meeting_registrant", "id": "1"}),
    );
    no_email
        .event
        .payload
        .as_object_mut()
        .expect("object")
        .remove("email");
    assert_eq!(
        no_email.deliver(&integrations).await.outcome,
        Outcome::MappingError
    );

    // A tenant-supplied host is held to the URL policy at delivery too.
    let plain_http = fixture(
        IntegrationType::Salesforce,
        json!({"instance_url": "http://example.com"}),
        json!({"access_token": "t"}),
        json!({"action": "add_to_campaign", "id": "701"}),
    );
    assert_eq!(
        plain_http.deliver(&integrations).await.outcome,
        Outcome::RejectedClientError
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

/// `GET /connections/{id}/fields`: each provider's listing endpoints, read into
/// `{kind, id, name}` entries whose `id` a rule's `metadata.id` takes.
#[tokio::test]
async fn provider_accounts_list_their_rule_targets() {
    let fake = FakeProvider::start().await;
    let base = fake.base_url();
    let integrations = integrations(&fake);
    let ok = ok_reply;
    let rows = [
        (
            IntegrationType::Slack,
            json!({}),
            json!({"access_token": "xoxb"}),
            vec![(
                "GET /slack/api/conversations.list",
                ok(json!({"ok": true, "channels": [{"id": "C0123", "name": "general"}]})),
            )],
            json!([{"kind": "channel", "id": "C0123", "name": "general"}]),
        ),
        (
            IntegrationType::Hubspot,
            json!({}),
            json!({"access_token": "hs"}),
            vec![(
                "POST /hubspot/crm/v3/lists/search",
                ok(
                    json!({"lists": [{"listId": "123", "name": "Customers", "processingType": "MANUAL",
                                          "objectTypeId": "0-1"},
                                         {"listId": "124", "name": "Companies", "processingType": "MANUAL",
                                          "objectTypeId": "0-2"}],
                              "hasMore": false, "offset": 1, "total": 1}),
                ),
            )],
            json!([{"kind": "list", "id": "123", "name": "Customers"}]),
        ),
        (
            IntegrationType::Mailchimp,
            json!({"data_center": "us6"}),
            json!({"api_key": "k-us6"}),
            vec![(
                "GET /mailchimp/us6/3.0/lists",
                ok(json!({"lists": [{"id": "57afe96172", "name": "Newsletter"}]})),
            )],
            json!([{"kind": "list", "id": "57afe96172", "name": "Newsletter"}]),
        ),
        (
            IntegrationType::Resend,
            json!({}),
            json!({"api_key": "re"}),
            vec![
                (
                    "GET /resend/segments",
                    ok(
                        json!({"object": "list", "data": [{"id": "seg_1", "name": "Registered Users"}]}),
                    ),
                ),
                (
                    "GET /resend/templates",
                    ok(json!({"object": "list", "data": [{"id": "tpl_1", "name": "welcome"}]})),
                ),
            ],
            json!([{"kind": "segment", "id": "seg_1", "name": "Registered Users"},
                   {"kind": "template", "id": "tpl_1", "name": "welcome"}]),
        ),
        (
            IntegrationType::Intercom,
            json!({}),
            json!({"access_token": "ic"}),
            vec![(
                "GET /intercom/tags",
                ok(
                    json!({"type": "list", "data": [{"type": "tag", "id": "7522907", "name": "vip"}]}),
                ),
            )],
            json!([{"kind": "tag", "id": "7522907", "name": "vip"}]),
        ),
        (
            IntegrationType::ActiveCampaign,
            json!({"api_url": format!("{base}/ac")}),
            json!({"api_key": "ac"}),
            vec![
                (
                    "GET /ac/api/3/lists",
                    ok(json!({"lists": [{"id": "2", "name": "Master"}]})),
                ),
                (
                    "GET /ac/api/3/tags",
                    ok(json!({"tags": [{"id": "20", "tag": "vip"}]})),
                ),
            ],
            json!([{"kind": "list", "id": "2", "name": "Master"},
                   {"kind": "tag", "id": "20", "name": "vip"}]),
        ),
        (
            IntegrationType::Aweber,
            json!({"account_id": "1234567"}),
            json!({"access_token": "aw"}),
            vec![(
                "GET /aweber/1.0/accounts/1234567/lists",
                ok(json!({"entries": [{"id": 6543210, "name": "Buyers"}], "total_size": 1})),
            )],
            json!([{"kind": "list", "id": "6543210", "name": "Buyers"}]),
        ),
        (
            IntegrationType::Mailerlite,
            json!({}),
            json!({"api_key": "ml"}),
            vec![(
                "GET /mailerlite/api/groups",
                ok(json!({"data": [{"id": "111222", "name": "Trial"}]})),
            )],
            json!([{"kind": "group", "id": "111222", "name": "Trial"}]),
        ),
        (
            IntegrationType::Zoom,
            json!({}),
            json!({"access_token": "zm"}),
            vec![
                (
                    "GET /zoom/v2/users/me/meetings",
                    ok(json!({"meetings": [{"id": 85746065432_u64, "topic": "Onboarding"}]})),
                ),
                (
                    "GET /zoom/v2/users/me/webinars",
                    ok(json!({"webinars": [{"id": 95204914252_u64, "topic": "Launch"}]})),
                ),
            ],
            json!([{"kind": "meeting", "id": "85746065432", "name": "Onboarding"},
                   {"kind": "webinar", "id": "95204914252", "name": "Launch"}]),
        ),
        (
            IntegrationType::Salesforce,
            json!({"instance_url": format!("{base}/salesforce")}),
            json!({"access_token": "sf"}),
            vec![(
                "GET /salesforce/services/data/v60.0/query",
                ok(json!({"totalSize": 1, "done": true,
                          "records": [{"Id": "701000000000001", "Name": "Spring launch"}]})),
            )],
            json!([{"kind": "campaign", "id": "701000000000001", "name": "Spring launch"}]),
        ),
        (
            IntegrationType::Sendgrid,
            json!({}),
            json!({"api_key": "SG.key"}),
            vec![
                (
                    "GET /sendgrid/v3/marketing/lists",
                    ok(
                        json!({"result": [{"id": "ca7a3796", "name": "Newsletter", "contact_count": 2}],
                              "_metadata": {"self": "https://api.sendgrid.com/v3/marketing/lists?page_size=100"}}),
                    ),
                ),
                (
                    "GET /sendgrid/v3/templates",
                    ok(
                        json!({"result": [{"id": "d-13b8f94f", "name": "Welcome", "generation": "dynamic"}],
                              "_metadata": {"count": 1}}),
                    ),
                ),
            ],
            json!([{"kind": "list", "id": "ca7a3796", "name": "Newsletter"},
                   {"kind": "template", "id": "d-13b8f94f", "name": "Welcome"}]),
        ),
        (
            IntegrationType::Pipedrive,
            json!({"company_domain": "acme"}),
            json!({"api_token": "pd"}),
            vec![(
                "GET /pipedrive/acme/api/v1/stages",
                ok(json!({"success": true, "data": [
                    {"id": 1, "name": "Qualified", "pipeline_id": 1, "pipeline_name": "Sales"}]})),
            )],
            json!([{"kind": "stage", "id": "1", "name": "Qualified"}]),
        ),
        (
            IntegrationType::CustomerIo,
            json!({"site_id": "site-123", "region": "eu"}),
            json!({"api_key": "cio", "app_api_key": "cio-app"}),
            vec![(
                "GET /customer_io/eu/app/v1/segments",
                ok(json!({"segments": [
                    {"id": 7, "name": "Beta testers", "type": "manual", "state": "finished"},
                    {"id": 8, "name": "Active", "type": "dynamic", "state": "finished"}]})),
            )],
            json!([{"kind": "segment", "id": "7", "name": "Beta testers"}]),
        ),
    ];
    for (kind, metadata, secrets, routes, expected) in rows {
        fake.clear();
        for (route, reply) in &routes {
            fake.script(route, reply.clone());
        }
        let fixture = fixture(kind, metadata, secrets.clone(), json!({}));
        let fields = integrations
            .rule_targets(&fixture.connection, &fixture.secrets, true)
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(Value::Array(fields), expected, "{kind}");
        // Every catalog input that takes live options names a kind this listing answers.
        for action in switchyard_core::integration_catalog::spec(kind).actions {
            let listed = action.inputs.iter().filter_map(|i| i.live);
            for live in listed.filter(|l| *l != switchyard_core::integration_catalog::FIELD_CATALOG)
            {
                assert!(
                    expected
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|e| e["kind"] == live),
                    "{kind} {}: no `{live}` entries listed",
                    action.key
                );
            }
        }
        let sent: Vec<String> = fake.requests().iter().map(ProviderRequest::route).collect();
        let wanted: Vec<&str> = routes.iter().map(|(r, _)| *r).collect();
        assert_eq!(sent, wanted, "{kind}");
        assert!(
            fake.requests()
                .iter()
                .all(|r| ["authorization", "api-token", "x-api-token"]
                    .iter()
                    .any(|h| r.header(h).is_some())),
            "{kind}: every listing call is authenticated"
        );

        // Cached: no new call until refresh.
        fake.clear();
        for (route, reply) in &routes {
            fake.script(route, reply.clone());
        }
        integrations
            .rule_targets(&fixture.connection, &fixture.secrets, false)
            .await
            .unwrap();
        assert!(
            fake.requests().is_empty(),
            "{kind}: answered from the cache"
        );

        // A refused credential is an error that names the outcome, never the credential.
        fake.script(
            routes[0].0,
            Reply::json(401, json!({"message": "Unauthorized"})),
        );
        let error = integrations
            .rule_targets(&fixture.connection, &fixture.secrets, true)
            .await
            .expect_err("refused");
        assert!(error.contains("auth_failed"), "{kind}: {error}");
        for value in secrets
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_str)
        {
            assert!(!error.contains(value), "{kind}");
        }
    }
}

/// Slack lists channels a page at a time: the listing follows `next_cursor` (a few pages at
/// most).
#[tokio::test]
async fn slack_channels_are_listed_across_pages() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    let cursor = "dGVhbTpDMDYxRkE1UEI=";
    fake.script(
        "GET /slack/api/conversations.list",
        ok_reply(
            json!({"ok": true, "channels": [{"id": "C1", "name": "general"}],
                        "response_metadata": {"next_cursor": cursor}}),
        ),
    );
    let second = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("types", "public_channel,private_channel")
        .append_pair("exclude_archived", "true")
        .append_pair("limit", "200")
        .append_pair("cursor", cursor)
        .finish();
    fake.script(
        &format!("GET /slack/api/conversations.list?{second}"),
        ok_reply(
            json!({"ok": true, "channels": [{"id": "C2", "name": "random"}],
                        "response_metadata": {"next_cursor": ""}}),
        ),
    );
    let fixture = fixture(
        IntegrationType::Slack,
        json!({}),
        json!({"access_token": "xoxb"}),
        json!({}),
    );
    let fields = integrations
        .rule_targets(&fixture.connection, &fixture.secrets, true)
        .await
        .expect("listed");
    assert_eq!(
        Value::Array(fields),
        json!([{"kind": "channel", "id": "C1", "name": "general"},
               {"kind": "channel", "id": "C2", "name": "random"}])
    );
    assert_eq!(fake.requests().len(), 2);

    // A cursor that never ends is followed a bounded number of times.
    fake.clear();
    fake.script(
        "GET /slack/api/conversations.list",
        ok_reply(json!({"ok": true, "channels": [], "response_metadata": {"next_cursor": cursor}})),
    );
    integrations
        .rule_targets(&fixture.connection, &fixture.secrets, true)
        .await
        .expect("listed");
    assert_eq!(fake.requests().len(), 5);
}

/// A Discord webhook's token is its credential: it is in the call's path, so the attempt
/// history shows the path with the token masked; a Retry-After header wins over the body's
/// `retry_after`; a URL that is not a Discord webhook is refused without a call.
#[tokio::test]
async fn discord_tokens_stay_out_of_the_history() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    let route = "POST /discord/api/webhooks/112233/tok-SECRET";
    fake.script(
        route,
        Reply::json(
            429,
            json!({"message": "You are being rate limited.", "retry_after": 64.57, "global": false}),
        )
        .header("Retry-After", "65"),
    );
    let hook = |url: &str| {
        fixture(
            IntegrationType::Discord,
            json!({}),
            json!({"webhook_url": url}),
            json!({"action": "send_message", "value": "{{email}}"}),
        )
    };
    let result = hook("https://discord.com/api/webhooks/112233/tok-SECRET")
        .deliver(&integrations)
        .await;
    assert_eq!(result.outcome, Outcome::RateLimited, "{result:?}");
    assert_eq!(result.retry_after, Some(Duration::from_secs(65)));
    assert_eq!(
        result.request,
        format!("POST {}/discord/api/webhooks/112233/***", fake.base_url())
    );
    assert!(!format!("{result:?}").contains("tok-SECRET"));

    // A deleted webhook: Discord's 404 is not retried.
    fake.script(
        route,
        Reply::json(404, json!({"message": "Unknown Webhook", "code": 10015})),
    );
    let result = hook("https://discord.com/api/webhooks/112233/tok-SECRET")
        .deliver(&integrations)
        .await;
    assert_eq!(result.outcome, Outcome::RejectedClientError);
    assert!(!result.outcome.is_retryable(result.status_code));

    fake.clear();
    for url in [
        "https://evil.example/api/webhooks/112233/tok-SECRET",
        "http://discord.com/api/webhooks/112233/tok-SECRET",
    ] {
        let result = hook(url).deliver(&integrations).await;
        assert_eq!(result.outcome, Outcome::RejectedClientError, "{url}");
        assert!(!format!("{result:?}").contains("tok-SECRET"), "{url}");
        let errors = integrations
            .validate_destination(
                IntegrationType::Discord,
                &object(json!({"webhook_url": url})),
            )
            .await
            .expect_err("not a Discord webhook");
        assert_eq!(errors.0[0].param, "metadata.webhook_url");
        assert!(!format!("{errors:?}").contains("tok-SECRET"), "{url}");
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

/// Pipedrive's deal title and the person's e-mail, Customer.io's region and SendGrid's sender
/// are checked before any call; a contact SendGrid does not know is already off the list.
#[tokio::test]
async fn new_connectors_refuse_before_calling_and_treat_absent_as_done() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    let rows = [
        (
            IntegrationType::Pipedrive,
            json!({"company_domain": "acme"}),
            json!({"api_token": "pd"}),
            json!({"action": "create_deal", "id": "3"}),
            "metadata.value",
        ),
        (
            IntegrationType::Pipedrive,
            json!({"company_domain": "evil.test/x"}),
            json!({"api_token": "pd"}),
            json!({"action": "upsert_person"}),
            "company_domain",
        ),
        (
            IntegrationType::CustomerIo,
            json!({"site_id": "s", "region": "apac"}),
            json!({"api_key": "k"}),
            json!({"action": "identify"}),
            "metadata.region",
        ),
        (
            IntegrationType::Sendgrid,
            json!({}),
            json!({"api_key": "SG.k"}),
            json!({"action": "send_template_email", "id": "d-1"}),
            "sender",
        ),
    ];
    for (kind, metadata, secrets, rule, says) in rows {
        let result = fixture(kind, metadata, secrets, rule)
            .deliver(&integrations)
            .await;
        assert_eq!(result.outcome, Outcome::RejectedClientError, "{kind}");
        assert!(
            result.error.as_deref().unwrap_or_default().contains(says),
            "{result:?}"
        );
    }
    let mut no_id = fixture(
        IntegrationType::CustomerIo,
        json!({"site_id": "s"}),
        json!({"api_key": "k"}),
        json!({"action": "identify"}),
    );
    no_id
        .event
        .payload
        .as_object_mut()
        .expect("object")
        .remove("email");
    assert_eq!(
        no_id.deliver(&integrations).await.outcome,
        Outcome::MappingError
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());

    // SendGrid answers 404 when no contact has the e-mail: nothing to remove.
    fake.script(
        "POST /sendgrid/v3/marketing/contacts/search/emails",
        Reply::json(404, json!({"errors": [{"message": "No contacts found"}]})),
    );
    let remove = fixture(
        IntegrationType::Sendgrid,
        json!({}),
        json!({"api_key": "SG.k"}),
        json!({"action": "remove_from_list", "id": "ca7a3796"}),
    );
    assert_eq!(
        remove.deliver(&integrations).await.outcome,
        Outcome::Delivered
    );
    assert_eq!(fake.requests().len(), 1);

    // A Customer.io person with its own id is addressed by it.
    fake.clear();
    fake.script(
        "PUT /customer_io/us/api/v1/customers/usr_2048",
        Reply::json(200, json!({})),
    );
    let mut by_id = fixture(
        IntegrationType::CustomerIo,
        json!({"site_id": "s"}),
        json!({"api_key": "k"}),
        json!({"action": "identify"}),
    );
    by_id.event.payload["customer_id"] = json!("usr_2048");
    assert_eq!(
        by_id.deliver(&integrations).await.outcome,
        Outcome::Delivered
    );
    let sent = fake.requests();
    assert_eq!(sent[0].json()["email"], "ada@example.com");
    assert!(sent[0].json().get("customer_id").is_none());

    // A Pipedrive deal takes a numeric `amount` as its value, in the fields' currency.
    fake.clear();
    fake.script(
        "GET /pipedrive/acme/api/v1/persons/search",
        Reply::json(
            200,
            json!({"success": true, "data": {"items": [{"item": {"id": 7}}]}}),
        ),
    );
    fake.script(
        "PUT /pipedrive/acme/api/v1/persons/7",
        Reply::json(200, json!({"success": true, "data": {"id": 7}})),
    );
    fake.script(
        "POST /pipedrive/acme/api/v1/deals",
        Reply::json(201, json!({"success": true, "data": {"id": 56}})),
    );
    let mut priced = fixture(
        IntegrationType::Pipedrive,
        json!({"company_domain": "acme"}),
        json!({"api_token": "pd"}),
        json!({"action": "create_deal", "value": "Upgrade to {{plan}}"}),
    );
    priced.event.payload["amount"] = json!(49.5);
    priced.event.payload["currency"] = json!("EUR");
    assert_eq!(
        priced.deliver(&integrations).await.outcome,
        Outcome::Delivered
    );
    assert_eq!(
        fake.requests()[2].json(),
        json!({"title": "Upgrade to pro", "person_id": 7, "value": 49.5, "currency": "EUR"})
    );

    // Their field catalogs are what they send, typed: a Pipedrive deal's amount is a number;
    // Customer.io finds a person by customer_id, id or email, none required alone.
    let catalog = |kind, metadata: Value| {
        let f = fixture(kind, metadata, json!({}), json!({}));
        let integrations = &integrations;
        async move {
            let read = integrations
                .field_catalog(&f.connection, &f.secrets, true)
                .await
                .expect("fixed fields");
            assert!(read.read_at.is_none(), "{kind}: no provider call");
            serde_json::to_value(&read.fields).unwrap()
        }
    };
    let pipedrive = catalog(
        IntegrationType::Pipedrive,
        json!({"company_domain": "acme"}),
    )
    .await;
    let amount = pipedrive
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "amount");
    assert_eq!(
        amount.map(|f| f["type"].clone()),
        Some(json!("number")),
        "{pipedrive}"
    );
    let cio = catalog(IntegrationType::CustomerIo, json!({"site_id": "s"})).await;
    let keys: Vec<&str> = cio
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["key"].as_str())
        .collect();
    assert_eq!(keys, ["customer_id", "id", "email"]);
    assert!(!cio.to_string().contains("required"), "{cio}");

    // Discord, and Customer.io without an App API key, list nothing and call nothing.
    fake.clear();
    for (kind, secrets) in [
        (
            IntegrationType::Discord,
            json!({"webhook_url": "https://discord.com/api/webhooks/1/t"}),
        ),
        (IntegrationType::CustomerIo, json!({"api_key": "k"})),
    ] {
        let f = fixture(kind, json!({"site_id": "s"}), secrets, json!({}));
        let listed = integrations
            .rule_targets(&f.connection, &f.secrets, true)
            .await
            .expect("listed");
        assert!(listed.is_empty(), "{kind}");
    }
    assert!(fake.requests().is_empty());
}

/// HubSpot's contact properties, as its properties API answers them
/// (`GET /crm/v3/properties/contacts`), abridged to the keys the catalog reads.
fn hubspot_properties() -> Value {
    json!({"results": [
        {"name": "email", "label": "Email", "type": "string", "fieldType": "text",
         "description": "A contact's email address", "groupName": "contactinformation",
         "options": [], "hidden": false, "calculated": false,
         "modificationMetadata": {"archivable": true, "readOnlyDefinition": true, "readOnlyValue": false}},
        {"name": "lifecyclestage", "label": "Lifecycle Stage", "type": "enumeration", "fieldType": "radio",
         "description": "", "groupName": "contactinformation", "hidden": false, "calculated": false,
         "options": [{"label": "Lead", "value": "lead", "hidden": false},
                     {"label": "Customer", "value": "customer", "hidden": false},
                     {"label": "Old", "value": "old", "hidden": true}],
         "modificationMetadata": {"archivable": true, "readOnlyDefinition": true, "readOnlyValue": false}},
        {"name": "interests", "label": "Interests", "type": "enumeration", "fieldType": "checkbox",
         "groupName": "contactinformation", "hidden": false,
         "options": [{"label": "Rust", "value": "rust"}, {"label": "Go", "value": "go"}],
         "modificationMetadata": {"readOnlyValue": false}},
        {"name": "num_employees", "label": "Employees", "type": "number", "fieldType": "number",
         "groupName": "companyinformation", "hidden": false, "options": [],
         "modificationMetadata": {"readOnlyValue": false}},
        {"name": "opted_in", "label": "Opted in", "type": "enumeration", "fieldType": "booleancheckbox",
         "groupName": "contactinformation", "hidden": false,
         "options": [{"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}],
         "modificationMetadata": {"readOnlyValue": false}},
        {"name": "createdate", "label": "Create Date", "type": "datetime", "fieldType": "date",
         "groupName": "contactinformation", "hidden": false, "options": [],
         "modificationMetadata": {"readOnlyValue": true}},
        {"name": "mobilephone", "label": "Mobile Phone Number", "type": "string", "fieldType": "phonenumber",
         "groupName": "contactinformation", "hidden": false, "options": [],
         "modificationMetadata": {"readOnlyValue": false}},
        {"name": "hs_internal", "label": "Internal", "type": "string", "fieldType": "text",
         "groupName": "contactinformation", "hidden": true, "options": [],
         "modificationMetadata": {"readOnlyValue": true}}
    ]})
}

/// `GET /connections/{id}/fields`: HubSpot's contact properties become typed fields — enum
/// options as allowed values, checkboxes as multi-enums, read-only and hidden properties told
/// apart — read once and then answered from the cache until `refresh`.
#[tokio::test]
async fn hubspot_properties_become_a_typed_field_catalog() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    fake.script(
        "GET /hubspot/crm/v3/properties/contacts",
        ok_reply(hubspot_properties()),
    );
    let fixture = fixture(
        IntegrationType::Hubspot,
        json!({}),
        json!({"access_token": "hs-secret"}),
        json!({}),
    );
    let read = integrations
        .field_catalog(&fixture.connection, &fixture.secrets, true)
        .await
        .expect("read");
    assert!(read.read_at.is_some(), "the provider was asked");
    let fields = serde_json::to_value(&read.fields).unwrap();
    let by_key = |key: &str| {
        fields
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("{key} in {fields}"))
    };
    assert_eq!(
        by_key("email"),
        json!({"key": "email", "type": "string", "label": "Email",
               "description": "A contact's email address",
               "constraints": {"required": true, "format": "email"},
               "provider_meta": {"type": "string", "fieldType": "text", "groupName": "contactinformation"}})
    );
    assert_eq!(by_key("lifecyclestage")["type"], "enum");
    assert_eq!(
        by_key("lifecyclestage")["constraints"]["allowed_values"],
        json!(["lead", "customer"])
    );
    assert!(by_key("lifecyclestage").get("description").is_none());
    assert_eq!(by_key("interests")["type"], "multi_enum");
    assert_eq!(by_key("num_employees")["type"], "number");
    assert_eq!(by_key("opted_in")["type"], "boolean");
    assert_eq!(by_key("createdate")["type"], "datetime");
    assert_eq!(by_key("createdate")["constraints"]["read_only"], true);
    assert_eq!(by_key("mobilephone")["constraints"]["format"], "phone");
    assert_eq!(
        fields.as_array().unwrap().len(),
        7,
        "hidden properties left out"
    );
    let sent = fake.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("authorization"), Some("Bearer hs-secret"));

    fake.clear();
    fake.script(
        "GET /hubspot/crm/v3/properties/contacts",
        ok_reply(hubspot_properties()),
    );
    let cached = integrations
        .field_catalog(&fixture.connection, &fixture.secrets, false)
        .await
        .unwrap();
    assert_eq!(cached, read, "answered from the cache");
    assert!(fake.requests().is_empty());

    fake.script(
        "GET /hubspot/crm/v3/properties/contacts",
        Reply::json(
            401,
            json!({"status": "error", "category": "INVALID_AUTHENTICATION"}),
        ),
    );
    let error = integrations
        .field_catalog(&fixture.connection, &fixture.secrets, true)
        .await
        .expect_err("refused");
    assert!(error.contains("auth_failed"), "{error}");
    assert!(!error.contains("hs-secret"), "{error}");
}

/// Salesforce's Contact describe becomes typed fields: picklists with their active values,
/// formats from the field types, required and read-only from its flags, lengths kept.
#[tokio::test]
async fn salesforce_describe_becomes_a_typed_field_catalog() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    fake.script(
        "GET /salesforce/services/data/v60.0/sobjects/Contact/describe",
        ok_reply(json!({"name": "Contact", "fields": [
            {"name": "Id", "label": "Contact ID", "type": "id", "length": 18, "nillable": false,
             "createable": false, "updateable": false, "defaultedOnCreate": true, "picklistValues": []},
            {"name": "LastName", "label": "Last Name", "type": "string", "length": 80, "nillable": false,
             "createable": true, "updateable": true, "defaultedOnCreate": false, "picklistValues": []},
            {"name": "Email", "label": "Email", "type": "email", "length": 80, "nillable": true,
             "createable": true, "updateable": true, "defaultedOnCreate": false, "picklistValues": []},
            {"name": "LeadSource", "label": "Lead Source", "type": "picklist", "length": 255,
             "nillable": true, "createable": true, "updateable": true, "defaultedOnCreate": false,
             "picklistValues": [{"value": "Web", "label": "Web", "active": true},
                                {"value": "Fax", "label": "Fax", "active": false}]},
            {"name": "Birthdate", "label": "Birthdate", "type": "date", "nillable": true,
             "createable": true, "updateable": true, "picklistValues": []},
            {"name": "NumberOfEmployees__c", "label": "Employees", "type": "double", "nillable": true,
             "createable": true, "updateable": true, "picklistValues": []},
            {"name": "MailingAddress", "label": "Mailing Address", "type": "address", "nillable": true,
             "createable": false, "updateable": false, "picklistValues": []}
        ]})),
    );
    let fixture = fixture(
        IntegrationType::Salesforce,
        json!({"instance_url": format!("{}/salesforce", fake.base_url())}),
        json!({"access_token": "sf-secret"}),
        json!({}),
    );
    let read = integrations
        .field_catalog(&fixture.connection, &fixture.secrets, true)
        .await
        .expect("read");
    let fields = serde_json::to_value(&read.fields).unwrap();
    let types: Vec<(&str, &str)> = fields
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["key"].as_str().unwrap(), f["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("Id", "string"),
            ("LastName", "string"),
            ("Email", "string"),
            ("LeadSource", "enum"),
            ("Birthdate", "date"),
            ("NumberOfEmployees__c", "number"),
            ("MailingAddress", "object")
        ]
    );
    assert_eq!(
        fields[0]["constraints"],
        json!({"read_only": true, "max_length": 18})
    );
    assert_eq!(
        fields[1]["constraints"],
        json!({"required": true, "max_length": 80})
    );
    assert_eq!(fields[2]["constraints"]["format"], "email");
    assert_eq!(fields[3]["constraints"]["allowed_values"], json!(["Web"]));
    assert_eq!(fields[4]["constraints"]["format"], "date");
    assert_eq!(
        fake.requests()[0].header("authorization"),
        Some("Bearer sf-secret")
    );
}

/// Types without a properties API the connector writes through answer the fields their
/// actions read, typed, without calling the provider; a webhook has none.
#[tokio::test]
async fn other_types_answer_the_fields_their_connector_sends() {
    let fake = FakeProvider::start().await;
    let integrations = integrations(&fake);
    let mailchimp = fixture(
        IntegrationType::Mailchimp,
        json!({"data_center": "us6"}),
        json!({"api_key": "k-us6"}),
        json!({}),
    );
    let read = integrations
        .field_catalog(&mailchimp.connection, &mailchimp.secrets, true)
        .await
        .expect("fixed");
    assert_eq!(read.read_at, None);
    assert_eq!(
        serde_json::to_value(&read.fields).unwrap(),
        json!([{"key": "email", "type": "string", "label": "Email",
                "constraints": {"required": true, "format": "email"}},
               {"key": "first_name", "type": "string", "label": "First name"},
               {"key": "last_name", "type": "string", "label": "Last name"}])
    );
    let webhook = fixture(IntegrationType::Webhook, json!({}), json!({}), json!({}));
    let none = integrations
        .field_catalog(&webhook.connection, &webhook.secrets, true)
        .await
        .unwrap();
    assert!(none.fields.is_empty());
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}
