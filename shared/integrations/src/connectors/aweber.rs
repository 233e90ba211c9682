//! AWeber: `add_to_list`, `remove_from_list` (rule `id` = the list id) under the connection's
//! account (`account_id`, else the first of `GET /accounts`):
//! <https://api.aweber.com/#tag/Subscribers/paths/~1accounts~1{accountId}~1lists~1{listId}~1subscribers/post>,
//! removal by `subscriber_email`:
//! <https://api.aweber.com/#tag/Subscribers/paths/~1accounts~1{accountId}~1lists~1{listId}~1subscribers/delete>.
//!
//! Quirks: the rate limit is a **403** whose message is "Rate Limit Error", lifted after 60 s
//! (<https://help.aweber.com/hc/en-us/articles/360002917994>); adding someone already on the
//! list is a 400 "already subscribed", which is the wanted state: delivered.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_core::outcome::Outcome;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};

use super::call::{Answer, Attempt, Auth, Call, Step};
use super::fields::{action, email, endpoint, full_name, rule_setting, secret};
use super::settings::ProviderUrls;

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let token = secret(attempt, request, "access_token")?;
    let list = rule_setting(attempt, request, "id", "the list id")?;
    let email = email(attempt, request.fields)?;
    let configured = request
        .connection
        .metadata
        .get("account_id")
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    let account = match configured {
        Some(id) => id,
        None => {
            let call = Call::new(
                Method::GET,
                endpoint(&urls.aweber, &["accounts"]),
                Auth::Bearer(token.clone()),
            );
            let answer = attempt.send(call).await?;
            if !answer.is_success() {
                return Err(classify(attempt, answer));
            }
            let Some(id) = answer.json()["entries"][0]["id"].as_u64() else {
                return Err(attempt.classified(
                    answer,
                    Outcome::RejectedClientError,
                    Some("the AWeber authorization has no account".into()),
                ));
            };
            id.to_string()
        }
    };
    let subscribers = endpoint(
        &urls.aweber,
        &["accounts", &account, "lists", &list, "subscribers"],
    );
    let call = if action(request) == "remove_from_list" {
        let mut url = subscribers;
        url.query_pairs_mut()
            .append_pair("subscriber_email", &email);
        Call::new(Method::DELETE, url, Auth::Bearer(token))
    } else {
        let mut subscriber = json!({"email": email, "update_existing": "true"});
        if let Some(name) = full_name(request.fields) {
            subscriber["name"] = name.into();
        }
        Call::new(Method::POST, subscribers, Auth::Bearer(token)).json(subscriber)
    };
    let answer = attempt.send(call).await?;
    Ok(classify(attempt, answer))
}

fn classify(attempt: &Attempt<'_>, mut answer: Answer) -> DeliveryResult {
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if answer.status == 403 && message.contains("rate limit") {
        answer.retry_after.get_or_insert(Duration::from_secs(60));
        return attempt.classified(
            answer,
            Outcome::RateLimited,
            Some("AWeber rate limit".into()),
        );
    }
    if answer.status == 400 && message.contains("already subscribed") {
        return attempt.classified(answer, Outcome::Delivered, None);
    }
    attempt.answered(answer)
}
