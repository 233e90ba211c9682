//! The table rows after Slack: one per provider action, each with the provider's documented
//! paths, auth, bodies, error answers and rate-limit headers (included by `connectors.rs`).

use serde_json::json;
use switchyard_core::domain::IntegrationType;
use switchyard_tests::{ProviderRequest, Reply};

use super::{Case, bearer};

fn soql(q: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .finish()
}

fn ok(body: serde_json::Value) -> Reply {
    Reply::json(200, body)
}

fn header(request: &ProviderRequest, name: &str, value: &str) {
    assert_eq!(
        request.header(name),
        Some(value),
        "{} {name}",
        request.route()
    );
}

pub fn cases(base: &str) -> Vec<Case> {
    let hubspot_401 = Reply::json(
        401,
        json!({"status": "error", "message": "Authentication credentials not found.",
               "category": "INVALID_AUTHENTICATION"}),
    );
    let hubspot_429 = Reply::json(
        429,
        json!({"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
               "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}),
    )
    .header("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
    .header("X-HubSpot-RateLimit-Remaining", "0");
    let upsert = (
        "POST /hubspot/crm/v3/objects/contacts/batch/upsert".to_owned(),
        ok(json!({"status": "COMPLETE", "results": [{"id": "512", "properties": {}}]})),
    );
    let mailchimp_401 = Reply::json(
        401,
        json!({"type": "https://mailchimp.com/developer/marketing/docs/errors/",
               "title": "API Key Invalid", "status": 401,
               "detail": "Your API key may be invalid, or you've attempted to access the wrong datacenter."}),
    );
    let mailchimp_429 = Reply::json(
        429,
        json!({"title": "Too Many Requests", "status": 429,
               "detail": "You have exceeded the limit of 10 simultaneous connections."}),
    )
    .header("Retry-After", "5");
    let resend_401 = Reply::json(
        401,
        json!({"statusCode": 401, "name": "validation_error", "message": "API key is invalid"}),
    );
    let resend_429 = Reply::json(
        429,
        json!({"statusCode": 429, "name": "rate_limit_exceeded", "message": "Too many requests."}),
    )
    .header("retry-after", "1")
    .header("ratelimit-reset", "1");
    let intercom_401 = Reply::json(
        401,
        json!({"type": "error.list", "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}]}),
    );
    let reset_at = (time::OffsetDateTime::now_utc().unix_timestamp() + 20).to_string();
    let intercom_429 = Reply::json(
        429,
        json!({"type": "error.list", "errors": [{"code": "rate_limit_exceeded", "message": "Exceeded rate limit"}]}),
    )
    .header("X-RateLimit-Limit", "10000")
    .header("X-RateLimit-Remaining", "0")
    .header("X-RateLimit-Reset", &reset_at);
    let zoom_401 = Reply::json(
        401,
        json!({"code": 124, "message": "Invalid access token."}),
    );
    let zoom_429 = Reply::json(
        429,
        json!({"code": 429, "message": "You have reached the maximum per-second rate limit for this API."}),
    )
    .header("X-RateLimit-Category", "Light")
    .header("Retry-After", "1");
    let mailerlite_401 = Reply::json(401, json!({"message": "Unauthenticated."}));
    let mailerlite_429 = Reply::json(429, json!({"message": "Too Many Attempts."}))
        .header("X-RateLimit-Limit", "120")
        .header("X-RateLimit-Remaining", "0")
        .header("X-RateLimit-Retry-After", "42");
    let aweber_401 = Reply::json(
        401,
        json!({"error": {"status": 401, "message": "Invalid access token.", "type": "UnauthorizedError"}}),
    );
    let aweber_rate = Reply::json(
        403,
        json!({"error": {"status": 403, "message": "Rate Limit Error", "type": "ForbiddenError",
               "documentation_url": "https://labs.aweber.com/docs/troubleshooting#forbidden"}}),
    );
    let ac_401 = Reply::json(
        403,
        json!({"message": "No Result found for Subscriber with id 0"}),
    );
    let ac_429 =
        Reply::json(429, json!({"message": "Too Many Requests"})).header("Retry-After", "1");
    let sf_401 = Reply::json(
        401,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
    );
    let sf_limit = Reply::json(
        403,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
    );
    let sf_query = "/salesforce/services/data/v60.0/query";
    let contact_query = soql("SELECT Id FROM Contact WHERE Email = 'ada@example.com' LIMIT 1");
    let lead_query = soql("SELECT Id FROM Lead WHERE Email = 'ada@example.com' LIMIT 1");
    let found = |id: &str| {
        ok(
            json!({"totalSize": 1, "done": true, "records": [{"attributes": {"type": "X"}, "Id": id}]}),
        )
    };
    let none = ok(json!({"totalSize": 0, "done": true, "records": []}));

    let cio_401 = Reply::json(401, json!({"meta": {"error": "Unauthorized request"}}));
    let cio_429 = Reply::json(429, json!({"meta": {"error": "Too many requests"}}));
    let discord_401 = Reply::json(
        401,
        json!({"message": "Invalid Webhook Token", "code": 50027}),
    );
    // Discord's 429: the wait in the JSON body (seconds, fractional); its X-RateLimit-Reset is
    // a fractional Unix time, which is not a whole-second reset.
    let discord_reset = format!(
        "{}.250",
        time::OffsetDateTime::now_utc().unix_timestamp() + 3
    );
    let discord_429 = Reply::json(
        429,
        json!({"message": "You are being rate limited.", "retry_after": 3.2, "global": false}),
    )
    .header("X-RateLimit-Limit", "5")
    .header("X-RateLimit-Remaining", "0")
    .header("X-RateLimit-Reset", &discord_reset)
    .header("X-RateLimit-Reset-After", "3.2")
    .header("X-RateLimit-Scope", "shared");
    let sendgrid_401 = Reply::json(
        401,
        json!({"errors": [{"field": null, "message": "authorization required"}]}),
    );
    let sendgrid_reset = (time::OffsetDateTime::now_utc().unix_timestamp() + 30).to_string();
    let sendgrid_429 = Reply::json(
        429,
        json!({"errors": [{"field": null, "message": "too many requests"}]}),
    )
    .header("X-RateLimit-Limit", "600")
    .header("X-RateLimit-Remaining", "0")
    .header("X-RateLimit-Reset", &sendgrid_reset);
    let pipedrive_401 = Reply::json(
        401,
        json!({"success": false, "error": "unauthorized access", "errorCode": 401,
               "error_info": "Please check developers.pipedrive.com for more information about Pipedrive API."}),
    );
    let pipedrive_429 = Reply::json(
        429,
        json!({"success": false, "error": "Request over limit", "errorCode": 429}),
    )
    .header("x-ratelimit-limit", "80")
    .header("x-ratelimit-remaining", "0")
    .header("x-ratelimit-reset", "2");
    let pipedrive_search = "GET /pipedrive/acme/api/v1/persons/search".to_owned();
    let pipedrive_found = ok(json!({"success": true, "data": {"items": [
        {"result_score": 1.0, "item": {"id": 7, "type": "person", "name": "Ada",
                                       "emails": ["ada@example.com"]}}]}}));
    let pipedrive_none = ok(json!({"success": true, "data": {"items": []},
        "additional_data": {"pagination": {"start": 0, "limit": 1, "more_items_in_collection": false}}}));

    vec![
        Case {
            name: "hubspot add_to_list",
            kind: IntegrationType::Hubspot,
            metadata: json!({}),
            secrets: json!({"access_token": "hs-token"}),
            rule: json!({"action": "add_to_list", "id": "123"}),
            calls: vec![
                upsert.clone(),
                (
                    "PUT /hubspot/crm/v3/lists/123/memberships/add".into(),
                    ok(json!({"recordIdsMissing": [], "recordIdsRemoved": [], "recordsIdsAdded": ["512"]})),
                ),
            ],
            expect: |r| {
                bearer(&r[0], "hs-token");
                assert_eq!(
                    r[0].json(),
                    json!({"inputs": [{"idProperty": "email", "id": "ada@example.com",
                        "properties": {"firstname": "Ada", "lastname": "Lovelace"}}]})
                );
                bearer(&r[1], "hs-token");
                assert_eq!(r[1].json(), json!(["512"]));
            },
            unauthorized: hubspot_401.clone(),
            rate_limited: hubspot_429.clone(),
            reset_secs: Some(10),
        },
        Case {
            name: "hubspot remove_from_list",
            kind: IntegrationType::Hubspot,
            metadata: json!({}),
            secrets: json!({"access_token": "hs-token"}),
            rule: json!({"action": "remove_from_list", "id": "123"}),
            calls: vec![
                upsert.clone(),
                (
                    "PUT /hubspot/crm/v3/lists/123/memberships/remove".into(),
                    ok(json!({"recordIdsMissing": [], "recordIdsRemoved": ["512"], "recordsIdsAdded": []})),
                ),
            ],
            expect: |r| assert_eq!(r[1].json(), json!(["512"])),
            unauthorized: hubspot_401.clone(),
            rate_limited: hubspot_429.clone(),
            reset_secs: Some(10),
        },
        Case {
            name: "hubspot update_property",
            kind: IntegrationType::Hubspot,
            metadata: json!({}),
            secrets: json!({"access_token": "hs-token"}),
            rule: json!({"action": "update_property", "id": "plan_tier", "value": "{{plan}}"}),
            calls: vec![upsert.clone()],
            expect: |r| {
                assert_eq!(
                    r[0].json()["inputs"][0]["properties"],
                    json!({"firstname": "Ada", "lastname": "Lovelace", "plan_tier": "pro"})
                );
            },
            unauthorized: hubspot_401,
            rate_limited: hubspot_429,
            reset_secs: Some(10),
        },
        Case {
            name: "mailchimp add_to_list",
            kind: IntegrationType::Mailchimp,
            metadata: json!({"data_center": "us6"}),
            secrets: json!({"api_key": "0123456789abcdef-us6"}),
            rule: json!({"action": "add_to_list", "id": "57afe96172"}),
            calls: vec![(
                "POST /mailchimp/us6/3.0/lists/57afe96172".into(),
                ok(json!({"new_members": [{"email_address": "ada@example.com"}], "updated_members": [],
                          "errors": [], "total_created": 1, "total_updated": 0, "error_count": 0})),
            )],
            expect: |r| {
                // HTTP Basic, any user name, the key as password.
                use base64::Engine;
                let expected = base64::engine::general_purpose::STANDARD
                    .encode("switchyard:0123456789abcdef-us6");
                header(&r[0], "authorization", &format!("Basic {expected}"));
                assert_eq!(
                    r[0].json(),
                    json!({"members": [{"email_address": "ada@example.com", "status": "subscribed",
                        "merge_fields": {"FNAME": "Ada", "LNAME": "Lovelace"}}], "update_existing": true})
                );
            },
            unauthorized: mailchimp_401.clone(),
            rate_limited: mailchimp_429.clone(),
            reset_secs: Some(5),
        },
        Case {
            name: "mailchimp remove_from_list",
            kind: IntegrationType::Mailchimp,
            metadata: json!({}),
            secrets: json!({"api_key": "0123456789abcdef-us6"}),
            rule: json!({"action": "remove_from_list", "id": "57afe96172"}),
            calls: vec![(
                "POST /mailchimp/us6/3.0/lists/57afe96172".into(),
                ok(json!({"new_members": [], "updated_members": [{"email_address": "ada@example.com"}],
                          "errors": [], "error_count": 0})),
            )],
            expect: |r| assert_eq!(r[0].json()["members"][0]["status"], "unsubscribed"),
            unauthorized: mailchimp_401,
            rate_limited: mailchimp_429,
            reset_secs: Some(5),
        },
        Case {
            name: "resend add_to_segment",
            kind: IntegrationType::Resend,
            metadata: json!({}),
            secrets: json!({"api_key": "re_test_key"}),
            rule: json!({"action": "add_to_segment", "id": "78261eea-8f8b-4381-83c6-79fa7120f1cf"}),
            calls: vec![
                ("POST /resend/contacts".into(), Reply::json(201, json!({"object": "contact", "id": "479e3145"}))),
                (
                    "POST /resend/contacts/ada@example.com/segments/78261eea-8f8b-4381-83c6-79fa7120f1cf".into(),
                    Reply::json(200, json!({"id": "78261eea-8f8b-4381-83c6-79fa7120f1cf"})),
                ),
            ],
            expect: |r| {
                bearer(&r[0], "re_test_key");
                assert_eq!(
                    r[0].json(),
                    json!({"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"})
                );
                bearer(&r[1], "re_test_key");
            },
            unauthorized: resend_401.clone(),
            rate_limited: resend_429.clone(),
            reset_secs: Some(1),
        },
        Case {
            name: "resend remove_from_segment",
            kind: IntegrationType::Resend,
            metadata: json!({}),
            secrets: json!({"api_key": "re_test_key"}),
            rule: json!({"action": "remove_from_segment", "id": "seg_1"}),
            calls: vec![(
                "DELETE /resend/contacts/ada@example.com/segments/seg_1".into(),
                ok(json!({"id": "seg_1", "deleted": true})),
            )],
            expect: |r| bearer(&r[0], "re_test_key"),
            unauthorized: resend_401.clone(),
            rate_limited: resend_429.clone(),
            reset_secs: Some(1),
        },
        Case {
            name: "resend send_email_template",
            kind: IntegrationType::Resend,
            metadata: json!({"from": "Acme <hi@acme.test>"}),
            secrets: json!({"api_key": "re_test_key"}),
            rule: json!({"action": "send_email_template", "id": "welcome-email"}),
            calls: vec![("POST /resend/emails".into(), ok(json!({"id": "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"})))],
            expect: |r| {
                let body = r[0].json();
                assert_eq!(body["to"], json!(["ada@example.com"]));
                assert_eq!(body["from"], "Acme <hi@acme.test>");
                assert_eq!(body["template"]["id"], "welcome-email");
                assert_eq!(body["template"]["variables"]["plan"], "pro");
                assert!(r[0].header("idempotency-key").is_some(), "retries never send twice");
            },
            unauthorized: resend_401,
            rate_limited: resend_429,
            reset_secs: Some(1),
        },
        Case {
            name: "intercom add_tag",
            kind: IntegrationType::Intercom,
            metadata: json!({}),
            secrets: json!({"access_token": "ic-token"}),
            rule: json!({"action": "add_tag", "id": "7522907"}),
            calls: vec![
                (
                    "POST /intercom/contacts/search".into(),
                    ok(json!({"type": "list", "data": [], "total_count": 0})),
                ),
                ("POST /intercom/contacts".into(), ok(json!({"type": "contact", "id": "6329bd9ffe4e2e91dac76188"}))),
                (
                    "POST /intercom/contacts/6329bd9ffe4e2e91dac76188/tags".into(),
                    ok(json!({"type": "tag", "id": "7522907", "name": "vip"})),
                ),
            ],
            expect: |r| {
                for request in r {
                    bearer(request, "ic-token");
                    header(request, "intercom-version", "2.11");
                }
                assert_eq!(
                    r[0].json(),
                    json!({"query": {"field": "email", "operator": "=", "value": "ada@example.com"}})
                );
                assert_eq!(
                    r[1].json(),
                    json!({"role": "user", "email": "ada@example.com", "name": "Ada Lovelace"})
                );
                assert_eq!(r[2].json(), json!({"id": "7522907"}));
            },
            unauthorized: intercom_401.clone(),
            rate_limited: intercom_429.clone(),
            reset_secs: Some(20),
        },
        Case {
            name: "intercom remove_tag",
            kind: IntegrationType::Intercom,
            metadata: json!({}),
            secrets: json!({"access_token": "ic-token"}),
            rule: json!({"action": "remove_tag", "id": "7522907"}),
            calls: vec![
                (
                    "POST /intercom/contacts/search".into(),
                    ok(json!({"type": "list", "data": [{"type": "contact", "id": "c1"}], "total_count": 1})),
                ),
                ("DELETE /intercom/contacts/c1/tags/7522907".into(), ok(json!({"type": "tag", "id": "7522907"}))),
            ],
            expect: |r| header(&r[1], "intercom-version", "2.11"),
            unauthorized: intercom_401,
            rate_limited: intercom_429,
            reset_secs: Some(20),
        },
        Case {
            name: "zoom add_meeting_registrant",
            kind: IntegrationType::Zoom,
            metadata: json!({}),
            secrets: json!({"access_token": "zoom-token"}),
            rule: json!({"action": "add_meeting_registrant", "id": "85746065432"}),
            calls: vec![(
                "POST /zoom/v2/meetings/85746065432/registrants".into(),
                Reply::json(201, json!({"id": 85746065432_u64, "registrant_id": "fdgsfh2ey82fuh",
                    "join_url": "https://example.com/j/11111"})),
            )],
            expect: |r| {
                bearer(&r[0], "zoom-token");
                assert_eq!(
                    r[0].json(),
                    json!({"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"})
                );
            },
            unauthorized: zoom_401.clone(),
            rate_limited: zoom_429.clone(),
            reset_secs: Some(1),
        },
        Case {
            name: "zoom add_webinar_registrant",
            kind: IntegrationType::Zoom,
            metadata: json!({}),
            secrets: json!({"access_token": "zoom-token"}),
            rule: json!({"action": "add_webinar_registrant", "id": "95204914252"}),
            calls: vec![(
                "POST /zoom/v2/webinars/95204914252/registrants".into(),
                Reply::json(201, json!({"id": 95204914252_u64, "registrant_id": "z8yBXksUSGmEm3jjVJH9BA"})),
            )],
            expect: |r| bearer(&r[0], "zoom-token"),
            unauthorized: zoom_401,
            rate_limited: zoom_429,
            reset_secs: Some(1),
        },
        Case {
            name: "mailerlite add_to_group",
            kind: IntegrationType::Mailerlite,
            metadata: json!({}),
            secrets: json!({"api_key": "ml-key"}),
            rule: json!({"action": "add_to_group", "id": "111222"}),
            calls: vec![(
                "POST /mailerlite/api/subscribers".into(),
                Reply::json(201, json!({"data": {"id": "31897397363737859", "email": "ada@example.com"}})),
            )],
            expect: |r| {
                bearer(&r[0], "ml-key");
                assert_eq!(
                    r[0].json(),
                    json!({"email": "ada@example.com", "groups": ["111222"],
                           "fields": {"name": "Ada", "last_name": "Lovelace"}})
                );
            },
            unauthorized: mailerlite_401.clone(),
            rate_limited: mailerlite_429.clone(),
            reset_secs: Some(42),
        },
        Case {
            name: "mailerlite remove_from_group",
            kind: IntegrationType::Mailerlite,
            metadata: json!({}),
            secrets: json!({"api_key": "ml-key"}),
            rule: json!({"action": "remove_from_group", "id": "111222"}),
            calls: vec![
                (
                    "GET /mailerlite/api/subscribers/ada@example.com".into(),
                    ok(json!({"data": {"id": "31897397363737859", "email": "ada@example.com"}})),
                ),
                (
                    "DELETE /mailerlite/api/subscribers/31897397363737859/groups/111222".into(),
                    Reply::json(204, json!(null)),
                ),
            ],
            expect: |r| bearer(&r[1], "ml-key"),
            unauthorized: mailerlite_401,
            rate_limited: mailerlite_429,
            reset_secs: Some(42),
        },
        Case {
            name: "aweber add_to_list",
            kind: IntegrationType::Aweber,
            metadata: json!({}),
            secrets: json!({"access_token": "aw-token"}),
            rule: json!({"action": "add_to_list", "id": "6543210"}),
            calls: vec![
                ("GET /aweber/1.0/accounts".into(), ok(json!({"entries": [{"id": 1234567}], "total_size": 1}))),
                ("POST /aweber/1.0/accounts/1234567/lists/6543210/subscribers".into(), Reply::json(201, json!(null))),
            ],
            expect: |r| {
                bearer(&r[0], "aw-token");
                bearer(&r[1], "aw-token");
                assert_eq!(
                    r[1].json(),
                    json!({"email": "ada@example.com", "name": "Ada Lovelace", "update_existing": "true"})
                );
            },
            unauthorized: aweber_401.clone(),
            rate_limited: aweber_rate.clone(),
            reset_secs: Some(60),
        },
        Case {
            name: "aweber remove_from_list",
            kind: IntegrationType::Aweber,
            metadata: json!({"account_id": "1234567"}),
            secrets: json!({"access_token": "aw-token"}),
            rule: json!({"action": "remove_from_list", "id": "6543210"}),
            calls: vec![(
                "DELETE /aweber/1.0/accounts/1234567/lists/6543210/subscribers".into(),
                Reply::json(204, json!(null)),
            )],
            expect: |r| assert_eq!(r[0].query.as_deref(), Some("subscriber_email=ada%40example.com")),
            unauthorized: aweber_401,
            rate_limited: aweber_rate,
            reset_secs: Some(60),
        },
        Case {
            name: "activecampaign add_to_list",
            kind: IntegrationType::ActiveCampaign,
            metadata: json!({"api_url": format!("{base}/ac")}),
            secrets: json!({"api_key": "ac-key"}),
            rule: json!({"action": "add_to_list", "id": "2"}),
            calls: vec![
                ("POST /ac/api/3/contact/sync".into(), Reply::json(201, json!({"contact": {"id": "113", "email": "ada@example.com"}}))),
                ("POST /ac/api/3/contactLists".into(), Reply::json(201, json!({"contactList": {"id": "9"}}))),
            ],
            expect: |r| {
                header(&r[0], "api-token", "ac-key");
                assert_eq!(
                    r[0].json(),
                    json!({"contact": {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"}})
                );
                header(&r[1], "api-token", "ac-key");
                assert_eq!(
                    r[1].json(),
                    json!({"contactList": {"list": "2", "contact": "113", "status": 1}})
                );
            },
            unauthorized: ac_401.clone(),
            rate_limited: ac_429.clone(),
            reset_secs: Some(1),
        },
        Case {
            name: "activecampaign remove_from_list",
            kind: IntegrationType::ActiveCampaign,
            metadata: json!({"api_url": format!("{base}/ac")}),
            secrets: json!({"api_key": "ac-key"}),
            rule: json!({"action": "remove_from_list", "id": "2"}),
            calls: vec![
                ("POST /ac/api/3/contact/sync".into(), ok(json!({"contact": {"id": "113"}}))),
                ("POST /ac/api/3/contactLists".into(), ok(json!({"contactList": {"id": "9"}}))),
            ],
            expect: |r| {
                assert_eq!(
                    r[1].json(),
                    json!({"contactList": {"list": "2", "contact": "113", "status": 2}})
                );
            },
            unauthorized: ac_401.clone(),
            rate_limited: ac_429.clone(),
            reset_secs: Some(1),
        },
        Case {
            name: "activecampaign remove_tag",
            kind: IntegrationType::ActiveCampaign,
            metadata: json!({"api_url": format!("{base}/ac")}),
            secrets: json!({"api_key": "ac-key"}),
            rule: json!({"action": "remove_tag", "id": "20"}),
            calls: vec![
                ("POST /ac/api/3/contact/sync".into(), ok(json!({"contact": {"id": 113}}))),
                (
                    "GET /ac/api/3/contacts/113/contactTags".into(),
                    ok(json!({"contactTags": [{"contact": "113", "tag": "20", "id": "777"}]})),
                ),
                ("DELETE /ac/api/3/contactTags/777".into(), ok(json!({}))),
            ],
            expect: |r| header(&r[2], "api-token", "ac-key"),
            unauthorized: ac_401.clone(),
            rate_limited: ac_429.clone(),
            reset_secs: Some(1),
        },
        Case {
            name: "activecampaign add_tag",
            kind: IntegrationType::ActiveCampaign,
            metadata: json!({"api_url": format!("{base}/ac")}),
            secrets: json!({"api_key": "ac-key"}),
            rule: json!({"action": "add_tag", "id": "20"}),
            calls: vec![
                ("POST /ac/api/3/contact/sync".into(), ok(json!({"contact": {"id": "113"}}))),
                ("POST /ac/api/3/contactTags".into(), Reply::json(201, json!({"contactTag": {"id": "778"}}))),
            ],
            expect: |r| assert_eq!(r[1].json(), json!({"contactTag": {"contact": "113", "tag": "20"}})),
            unauthorized: ac_401.clone(),
            rate_limited: ac_429.clone(),
            reset_secs: Some(1),
        },
        Case {
            name: "activecampaign sync_contact",
            kind: IntegrationType::ActiveCampaign,
            metadata: json!({"api_url": format!("{base}/ac")}),
            secrets: json!({"api_key": "ac-key"}),
            rule: json!({"action": "sync_contact"}),
            calls: vec![("POST /ac/api/3/contact/sync".into(), ok(json!({"contact": {"id": "113"}})))],
            expect: |r| header(&r[0], "api-token", "ac-key"),
            unauthorized: ac_401,
            rate_limited: ac_429,
            reset_secs: Some(1),
        },
        Case {
            name: "salesforce add_to_campaign",
            kind: IntegrationType::Salesforce,
            metadata: json!({"instance_url": format!("{base}/salesforce")}),
            secrets: json!({"access_token": "sf-token"}),
            rule: json!({"action": "add_to_campaign", "id": "701000000000001"}),
            calls: vec![
                (format!("GET {sf_query}?{contact_query}"), found("003000000000001")),
                (
                    "POST /salesforce/services/data/v60.0/sobjects/CampaignMember".into(),
                    Reply::json(201, json!({"id": "00v000000000001", "success": true, "errors": []})),
                ),
            ],
            expect: |r| {
                bearer(&r[0], "sf-token");
                assert_eq!(
                    r[1].json(),
                    json!({"CampaignId": "701000000000001", "ContactId": "003000000000001"})
                );
            },
            unauthorized: sf_401.clone(),
            rate_limited: sf_limit.clone(),
            reset_secs: None,
        },
        Case {
            name: "salesforce update_property on a lead",
            kind: IntegrationType::Salesforce,
            metadata: json!({"instance_url": format!("{base}/salesforce")}),
            secrets: json!({"access_token": "sf-token"}),
            rule: json!({"action": "update_property", "id": "Plan__c", "value": "{{plan}}"}),
            calls: vec![
                (format!("GET {sf_query}?{contact_query}"), none.clone()),
                (format!("GET {sf_query}?{lead_query}"), found("00Q000000000001")),
                (
                    "PATCH /salesforce/services/data/v60.0/sobjects/Lead/00Q000000000001".into(),
                    Reply::json(204, json!(null)),
                ),
            ],
            expect: |r| assert_eq!(r[2].json(), json!({"Plan__c": "pro"})),
            unauthorized: sf_401.clone(),
            rate_limited: sf_limit.clone(),
            reset_secs: None,
        },
        Case {
            name: "salesforce remove_from_campaign",
            kind: IntegrationType::Salesforce,
            metadata: json!({"instance_url": format!("{base}/salesforce")}),
            secrets: json!({"access_token": "sf-token"}),
            rule: json!({"action": "remove_from_campaign", "id": "701000000000001"}),
            calls: vec![
                (format!("GET {sf_query}?{contact_query}"), found("003000000000001")),
                (
                    format!("GET {sf_query}?{}", soql("SELECT Id FROM CampaignMember WHERE CampaignId = '701000000000001' AND ContactId = '003000000000001' LIMIT 1")),
                    found("00v000000000001"),
                ),
                (
                    "DELETE /salesforce/services/data/v60.0/sobjects/CampaignMember/00v000000000001".into(),
                    Reply::json(204, json!(null)),
                ),
            ],
            expect: |r| bearer(&r[2], "sf-token"),
            unauthorized: sf_401,
            rate_limited: sf_limit,
            reset_secs: None,
        },
        Case {
            name: "customer_io identify",
            kind: IntegrationType::CustomerIo,
            metadata: json!({"site_id": "site-123"}),
            secrets: json!({"api_key": "cio-track-key"}),
            rule: json!({"action": "identify"}),
            calls: vec![("PUT /customer_io/us/api/v1/customers/ada@example.com".into(), ok(json!({})))],
            expect: |r| {
                // HTTP Basic: the site id and the Track API key.
                use base64::Engine;
                let pair = base64::engine::general_purpose::STANDARD.encode("site-123:cio-track-key");
                header(&r[0], "authorization", &format!("Basic {pair}"));
                // The fields are the person's attributes.
                assert_eq!(
                    r[0].json(),
                    json!({"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
                           "plan": "pro", "note": "<!channel> & co"})
                );
            },
            unauthorized: cio_401.clone(),
            rate_limited: cio_429.clone(),
            reset_secs: None,
        },
        Case {
            name: "customer_io track_event",
            kind: IntegrationType::CustomerIo,
            metadata: json!({"site_id": "site-123"}),
            secrets: json!({"api_key": "cio-track-key"}),
            rule: json!({"action": "track_event", "id": "signed_up"}),
            calls: vec![(
                "POST /customer_io/us/api/v1/customers/ada@example.com/events".into(),
                ok(json!({})),
            )],
            expect: |r| {
                let body = r[0].json();
                assert_eq!(body["name"], "signed_up");
                assert_eq!(body["data"]["plan"], "pro");
            },
            unauthorized: cio_401.clone(),
            rate_limited: cio_429.clone(),
            reset_secs: None,
        },
        Case {
            name: "customer_io add_to_segment (EU)",
            kind: IntegrationType::CustomerIo,
            metadata: json!({"site_id": "site-123", "region": "eu"}),
            secrets: json!({"api_key": "cio-track-key"}),
            rule: json!({"action": "add_to_segment", "id": "7"}),
            calls: vec![(
                "POST /customer_io/eu/api/v1/segments/7/add_customers?id_type=email".into(),
                ok(json!({})),
            )],
            expect: |r| {
                assert_eq!(r[0].query.as_deref(), Some("id_type=email"));
                assert_eq!(r[0].json(), json!({"ids": ["ada@example.com"]}));
            },
            unauthorized: cio_401.clone(),
            rate_limited: cio_429.clone(),
            reset_secs: None,
        },
        Case {
            name: "customer_io remove_from_segment",
            kind: IntegrationType::CustomerIo,
            metadata: json!({"site_id": "site-123"}),
            secrets: json!({"api_key": "cio-track-key"}),
            rule: json!({"action": "remove_from_segment", "id": "7"}),
            calls: vec![(
                "POST /customer_io/us/api/v1/segments/7/remove_customers?id_type=email".into(),
                ok(json!({})),
            )],
            expect: |r| assert_eq!(r[0].json(), json!({"ids": ["ada@example.com"]})),
            unauthorized: cio_401,
            rate_limited: cio_429,
            reset_secs: None,
        },
        Case {
            name: "discord send_message",
            kind: IntegrationType::Discord,
            metadata: json!({"username": "Switchyard"}),
            secrets: json!({"webhook_url": "https://discord.com/api/webhooks/112233445566/tOk-en_9"}),
            rule: json!({"action": "send_message", "value": "New {{plan}} signup: {{email}} ({{note}})"}),
            calls: vec![(
                "POST /discord/api/webhooks/112233445566/tOk-en_9?wait=true".into(),
                ok(json!({"id": "1180000000000000000", "type": 0, "channel_id": "1170000000000000000",
                          "content": "New pro signup", "webhook_id": "112233445566"})),
            )],
            expect: |r| {
                assert_eq!(r[0].query.as_deref(), Some("wait=true"));
                assert!(r[0].header("authorization").is_none(), "the token is the path");
                // Mentions are off, so inserted text like @everyone pings nobody.
                assert_eq!(
                    r[0].json(),
                    json!({"content": "New pro signup: ada@example.com (<!channel> & co)",
                           "allowed_mentions": {"parse": []}, "username": "Switchyard"})
                );
            },
            unauthorized: discord_401,
            rate_limited: discord_429,
            reset_secs: Some(3),
        },
        Case {
            name: "sendgrid add_to_list",
            kind: IntegrationType::Sendgrid,
            metadata: json!({}),
            secrets: json!({"api_key": "SG.test-key"}),
            rule: json!({"action": "add_to_list", "id": "ca7a3796-e8a8-4029-9ccb-df8937940562"}),
            calls: vec![(
                "PUT /sendgrid/v3/marketing/contacts".into(),
                Reply::json(202, json!({"job_id": "2387e363-4104-4225-8960-4a5758492351"})),
            )],
            expect: |r| {
                bearer(&r[0], "SG.test-key");
                assert_eq!(
                    r[0].json(),
                    json!({"list_ids": ["ca7a3796-e8a8-4029-9ccb-df8937940562"],
                           "contacts": [{"email": "ada@example.com", "first_name": "Ada",
                                         "last_name": "Lovelace"}]})
                );
            },
            unauthorized: sendgrid_401.clone(),
            rate_limited: sendgrid_429.clone(),
            reset_secs: Some(30),
        },
        Case {
            name: "sendgrid remove_from_list",
            kind: IntegrationType::Sendgrid,
            metadata: json!({}),
            secrets: json!({"api_key": "SG.test-key"}),
            rule: json!({"action": "remove_from_list", "id": "ca7a3796"}),
            calls: vec![
                (
                    "POST /sendgrid/v3/marketing/contacts/search/emails".into(),
                    ok(json!({"result": {"ada@example.com": {"contact": {
                        "id": "3d8ce4a2-0b4b-4c1d-a3ce-4a8b2e1a2b3c", "email": "ada@example.com"}}}})),
                ),
                (
                    "DELETE /sendgrid/v3/marketing/lists/ca7a3796/contacts".into(),
                    Reply::json(202, json!({"job_id": "f2b7a1e8-51cf-4a6d-8f4e-4b0a5b0a1c2d"})),
                ),
            ],
            expect: |r| {
                assert_eq!(r[0].json(), json!({"emails": ["ada@example.com"]}));
                bearer(&r[1], "SG.test-key");
                assert_eq!(
                    r[1].query.as_deref(),
                    Some("contact_ids=3d8ce4a2-0b4b-4c1d-a3ce-4a8b2e1a2b3c")
                );
            },
            unauthorized: sendgrid_401.clone(),
            rate_limited: sendgrid_429.clone(),
            reset_secs: Some(30),
        },
        Case {
            name: "sendgrid send_template_email",
            kind: IntegrationType::Sendgrid,
            metadata: json!({"from": "Acme <hi@acme.test>"}),
            secrets: json!({"api_key": "SG.test-key"}),
            rule: json!({"action": "send_template_email", "id": "d-13b8f94fbcae4ec6b75270d6cb59f932"}),
            calls: vec![("POST /sendgrid/v3/mail/send".into(), Reply::json(202, json!(null)))],
            expect: |r| {
                let body = r[0].json();
                assert_eq!(body["template_id"], "d-13b8f94fbcae4ec6b75270d6cb59f932");
                assert_eq!(body["from"], json!({"email": "hi@acme.test", "name": "Acme"}));
                assert_eq!(
                    body["personalizations"][0]["to"],
                    json!([{"email": "ada@example.com", "name": "Ada Lovelace"}])
                );
                assert_eq!(body["personalizations"][0]["dynamic_template_data"]["plan"], "pro");
                assert!(body["custom_args"]["switchyard_delivery"].is_string());
            },
            unauthorized: sendgrid_401,
            rate_limited: sendgrid_429,
            reset_secs: Some(30),
        },
        Case {
            name: "pipedrive upsert_person (found)",
            kind: IntegrationType::Pipedrive,
            metadata: json!({"company_domain": "acme"}),
            secrets: json!({"api_token": "pd-token"}),
            rule: json!({"action": "upsert_person"}),
            calls: vec![
                (pipedrive_search.clone(), pipedrive_found),
                (
                    "PUT /pipedrive/acme/api/v1/persons/7".into(),
                    ok(json!({"success": true, "data": {"id": 7, "name": "Ada Lovelace"}})),
                ),
            ],
            expect: |r| {
                header(&r[0], "x-api-token", "pd-token");
                assert_eq!(
                    r[0].query.as_deref(),
                    Some("term=ada%40example.com&fields=email&exact_match=true&limit=1")
                );
                header(&r[1], "x-api-token", "pd-token");
                assert_eq!(r[1].json(), json!({"name": "Ada Lovelace"}));
            },
            unauthorized: pipedrive_401.clone(),
            rate_limited: pipedrive_429.clone(),
            reset_secs: Some(2),
        },
        Case {
            name: "pipedrive create_deal (new person)",
            kind: IntegrationType::Pipedrive,
            metadata: json!({"company_domain": "acme"}),
            secrets: json!({"api_token": "pd-token"}),
            rule: json!({"action": "create_deal", "id": "3", "value": "{{plan}} plan: {{email}}"}),
            calls: vec![
                (pipedrive_search, pipedrive_none),
                (
                    "POST /pipedrive/acme/api/v1/persons".into(),
                    Reply::json(201, json!({"success": true, "data": {"id": 8, "name": "Ada Lovelace"}})),
                ),
                (
                    "POST /pipedrive/acme/api/v1/deals".into(),
                    Reply::json(201, json!({"success": true, "data": {"id": 55, "title": "pro plan"}})),
                ),
            ],
            expect: |r| {
                assert_eq!(
                    r[1].json(),
                    json!({"name": "Ada Lovelace",
                           "email": [{"value": "ada@example.com", "primary": true, "label": "work"}]})
                );
                header(&r[2], "x-api-token", "pd-token");
                assert_eq!(
                    r[2].json(),
                    json!({"title": "pro plan: ada@example.com", "person_id": 8, "stage_id": 3})
                );
            },
            unauthorized: pipedrive_401,
            rate_limited: pipedrive_429,
            reset_secs: Some(2),
        },
    ]
}
