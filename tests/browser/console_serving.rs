//! How the console is served: security headers, revalidation, and the login exchange's refusals.

use reqwest::header;
use serde_json::json;
use switchyard_tests::{assert_contract_error, start};

use crate::console_operator::login_link;

#[tokio::test]
async fn console_pages_carry_a_strict_csp_and_revalidate_by_etag() {
    let (_dir, server, _api) = start();
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/console/", server.api_url))
        .send()
        .await
        .expect("GET /console/");
    assert_eq!(page.status(), 200);
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "CSP {csp:?} lacks {directive}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let etag = page.headers()[header::ETAG].to_str().unwrap().to_owned();

    let again = http
        .get(format!("{}/console/", server.api_url))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let missing = http
        .get(format!("{}/console/nope.js", server.api_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_contract_error(&missing.json().await.unwrap());
}

#[tokio::test]
async fn a_login_code_works_once_and_an_api_token_is_no_login_code() {
    let (_dir, server, api) = start();
    let http = reqwest::Client::new();
    let link = login_link(&server);
    let code = link.split("#login=").nth(1).expect("code in the fragment");
    let exchange = |code: String| {
        http.post(format!("{}/console/login", server.api_url))
            .json(&json!({"code": code}))
            .send()
    };

    let first = exchange(code.to_owned()).await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()[header::CACHE_CONTROL], "no-store");
    // No cookie, ever: the browser holds no ambient credential another site could ride (CSRF).
    assert!(first.headers().get(header::SET_COOKIE).is_none());
    let session: serde_json::Value = first.json().await.unwrap();
    assert!(session["secret_key"].is_string(), "{session}");

    let second = exchange(code.to_owned()).await.unwrap();
    assert_eq!(second.status(), 401);
    assert_contract_error(&second.json().await.unwrap());

    // A machine JWT of the organization's ordinary key never opens a console session (it
    // would hand out that key's secret).
    let token = exchange(api.jwt()).await.unwrap();
    assert_eq!(token.status(), 401);
}
