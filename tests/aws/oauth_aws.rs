//! The OAuth clients on AWS come from one Secrets Manager secret: a JSON object of the same
//! `SWITCHYARD_OAUTH_<TYPE>_*` names the embedded runtime reads from its environment. Read here
//! from a real secret on the moto server (skipped without one, as the other AWS suites).

use serde_json::json;
use switchyard_core::domain::IntegrationType;
use switchyard_core::webhook::UrlPolicy;
use switchyard_integrations::{ClientSettings, OutboundClient};
use switchyard_tests::Moto;

#[tokio::test]
async fn the_oauth_clients_are_read_from_one_json_secret() {
    let Some(moto) = Moto::from_env() else {
        return;
    };
    let clients = moto.clients(None).await;
    let name = format!("{}-oauth", Moto::unique_prefix());
    let secret = json!({
        "SWITCHYARD_OAUTH_SLACK_CLIENT_ID": "slack-client",
        "SWITCHYARD_OAUTH_SLACK_CLIENT_SECRET": "slack-secret-not-shown",
        "SWITCHYARD_OAUTH_SLACK_TOKEN_URL": "http://127.0.0.1:9/token",
        "SWITCHYARD_OAUTH_HUBSPOT_CLIENT_ID": "hubspot-client",
    });
    let arn = clients
        .secrets
        .create_secret()
        .name(&name)
        .secret_string(secret.to_string())
        .send()
        .await
        .expect("create the secret on moto")
        .arn
        .expect("arn");
    let client = OutboundClient::new(ClientSettings::default()).unwrap();
    let policy = UrlPolicy::default();

    let oauth = switchyard_aws::oauth_clients(&clients, Some(&arn), &client, policy)
        .await
        .expect("OAuth clients from the secret");
    let slack = oauth.providers.get(IntegrationType::Slack).expect("slack");
    assert_eq!(slack.client_id, "slack-client");
    assert_eq!(slack.client_secret.expose(), "slack-secret-not-shown");
    assert_eq!(slack.token_url.as_str(), "http://127.0.0.1:9/token");
    assert_eq!(
        slack.authorize_url.as_str(),
        "https://slack.com/oauth/v2/authorize",
        "unset URLs are the provider's documented ones"
    );
    let hubspot = oauth
        .providers
        .get(IntegrationType::Hubspot)
        .expect("hubspot");
    assert_eq!(
        hubspot.token_url.as_str(),
        "https://api.hubapi.com/oauth/v1/token"
    );
    assert!(oauth.providers.get(IntegrationType::Zoom).is_none());
    assert!(
        !format!("{oauth:?}").contains("slack-secret-not-shown"),
        "Debug never shows a client secret"
    );

    // A secret that is not a JSON object is refused, naming the secret and not its value.
    let bad = clients
        .secrets
        .create_secret()
        .name(format!("{name}-bad"))
        .secret_string("not json")
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let error = switchyard_aws::oauth_clients(&clients, Some(&bad), &client, policy)
        .await
        .expect_err("not a JSON object");
    assert!(
        error.contains(&bad) && !error.contains("not json"),
        "{error}"
    );
}
