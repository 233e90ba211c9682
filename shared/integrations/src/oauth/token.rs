//! The two token requests and how a provider's answer is read.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use switchyard_core::Clock;
use switchyard_core::oauth::{ClientAuth, Provider, TokenEndpoint, TokenError, TokenSet};
use switchyard_core::secret::Secret;
use url::form_urlencoded;

use crate::client::{OutboundClient, bounded_body, describe_send_error};

/// Error codes that mean the grant itself is dead: the user must authorise again. Slack
/// answers `invalid_refresh_token` or `token_revoked` where RFC 6749 says `invalid_grant`.
const DEAD_GRANT: [&str; 4] = [
    "invalid_grant",
    "invalid_refresh_token",
    "token_revoked",
    "invalid_code",
];

pub struct OAuthClient {
    client: OutboundClient,
    clock: Arc<dyn Clock>,
}

impl OAuthClient {
    pub fn new(client: OutboundClient, clock: Arc<dyn Clock>) -> Self {
        Self { client, clock }
    }

    async fn request(
        &self,
        provider: &Provider,
        params: &[(&str, &str)],
    ) -> Result<TokenSet, TokenError> {
        let url = &provider.token_url;
        self.client
            .check_literal(url)
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        // Built before any await: the serializer is not `Send`.
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.extend_pairs(params);
            if provider.client_auth == ClientAuth::Body {
                form.append_pair("client_id", &provider.client_id);
                form.append_pair("client_secret", provider.client_secret.expose());
            }
            form.finish()
        };
        let mut request = self
            .client
            .http
            .post(url.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json");
        if provider.client_auth == ClientAuth::Basic {
            request =
                request.basic_auth(&provider.client_id, Some(provider.client_secret.expose()));
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| TokenError::Unavailable(describe_send_error(e).1))?;
        let status = response.status().as_u16();
        let body = bounded_body(response).await;
        read_answer(status, &body, self.clock.now())
    }
}

/// Reads a token response. Only the provider's error code is ever repeated, never the body.
fn read_answer(status: u16, body: &str, now: time::OffsetDateTime) -> Result<TokenSet, TokenError> {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if status >= 500 {
        return Err(TokenError::Unavailable(format!("HTTP {status}")));
    }
    // Slack answers errors with 200 and `"ok": false`.
    let refused = json
        .as_ref()
        .and_then(|j| j.get("ok"))
        .and_then(Value::as_bool)
        == Some(false);
    if let Some(code) =
        field("error").filter(|_| refused || status >= 400 || field("access_token").is_none())
    {
        return Err(if DEAD_GRANT.contains(&code.as_str()) {
            TokenError::InvalidGrant(code)
        } else {
            TokenError::Refused(code)
        });
    }
    if status >= 400 {
        return Err(TokenError::Refused(format!("HTTP {status}")));
    }
    let Some(access_token) = field("access_token") else {
        return Err(TokenError::Refused("the answer has no access_token".into()));
    };
    let expires_in = json
        .as_ref()
        .and_then(|j| j.get("expires_in"))
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
    Ok(TokenSet {
        instance_url: field("instance_url"),
        ..TokenSet::granted(access_token, field("refresh_token"), expires_in, now)
    })
}

#[async_trait]
impl TokenEndpoint for OAuthClient {
    async fn exchange_code(
        &self,
        provider: &Provider,
        code: &str,
        redirect_uri: &str,
    ) -> Result<TokenSet, TokenError> {
        self.request(
            provider,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
            ],
        )
        .await
    }

    async fn refresh(
        &self,
        provider: &Provider,
        refresh_token: &Secret,
    ) -> Result<TokenSet, TokenError> {
        self.request(
            provider,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose()),
            ],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    #[test]
    fn reads_a_grant() {
        let set = read_answer(
            200,
            r#"{"access_token":"a","refresh_token":"r","expires_in":3600,"token_type":"Bearer"}"#,
            now(),
        )
        .unwrap();
        assert_eq!(set.access_token.expose(), "a");
        assert_eq!(set.expires_at, Some(now() + time::Duration::hours(1)));
    }

    /// Salesforce's grant, as its OAuth guide shows it: the org's API host comes with it.
    #[test]
    fn a_salesforce_grant_keeps_its_instance_url() {
        let set = read_answer(
            200,
            r#"{"access_token":"00D!AQ","refresh_token":"5Aep","signature":"x","scope":"api refresh_token",
               "instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00D/005",
               "token_type":"Bearer","issued_at":"1700000000000"}"#,
            now(),
        )
        .unwrap();
        assert_eq!(
            set.instance_url.as_deref(),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(set.expires_at, None);
    }

    #[test]
    fn dead_grants_are_told_apart_from_other_refusals() {
        assert_eq!(
            read_answer(400, r#"{"error":"invalid_grant"}"#, now()),
            Err(TokenError::InvalidGrant("invalid_grant".into()))
        );
        assert_eq!(
            read_answer(
                200,
                r#"{"ok":false,"error":"invalid_refresh_token"}"#,
                now()
            ),
            Err(TokenError::InvalidGrant("invalid_refresh_token".into()))
        );
        assert_eq!(
            read_answer(401, r#"{"error":"invalid_client"}"#, now()),
            Err(TokenError::Refused("invalid_client".into()))
        );
        assert!(matches!(
            read_answer(503, "busy", now()),
            Err(TokenError::Unavailable(_))
        ));
    }
}
