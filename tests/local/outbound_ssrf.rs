//! The SSRF guard through the real outbound client: refused address classes, as IP literals
//! and behind host names, a DNS answer that changes between validation and delivery, and the
//! endpoint probe of connection create.
//!
//! Names resolve through a `HostsTable` the test controls (never real DNS). Tests that aim at
//! non-loopback addresses run in a network namespace of their own holding only loopback, so
//! even a broken guard could not send a packet to another machine; each also asserts the
//! exact refusal, which only the guard produces.

use switchyard_tests::outbound as outbound_fixture;

use std::net::IpAddr;
use std::sync::Arc;

use outbound_fixture::{
    Attempt, in_own_network_namespace, integrations, integrations_with_hosts, loopback_allowed,
    quick_settings,
};
use serde_json::json;
use switchyard_core::domain::IntegrationType;
use switchyard_core::outcome::Outcome;
use switchyard_core::webhook::UrlPolicy;
use switchyard_integrations::{HostsTable, probe};
use switchyard_tests::Receiver;
use url::Url;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Delivers to `url` and asserts it was refused with `message`, as `network_error`.
async fn assert_refused(
    integrations: &switchyard_integrations::Integrations,
    url: &str,
    message: &str,
) {
    let result = Attempt::webhook(json!({"url": url}))
        .deliver(integrations)
        .await;
    assert_eq!(result.outcome, Outcome::NetworkError, "{url}: {result:?}");
    assert_eq!(result.error.as_deref(), Some(message), "{url}");
    assert_eq!(result.status_code, None);
}

#[tokio::test]
async fn loopback_is_refused_unless_the_flag_allows_it() {
    let receiver = Receiver::start().await;
    let port = Url::parse(&receiver.url("/")).unwrap().port().unwrap();
    let hosts = Arc::new(HostsTable::new());
    hosts.set("loop.test", &[ip("127.0.0.1")]);
    let strict = integrations_with_hosts(hosts.clone(), quick_settings(), UrlPolicy::default());

    let refused_v4 = "destination address 127.0.0.1 is not allowed (loopback)";
    let refused_v6 = "destination address ::1 is not allowed (loopback)";
    let refused_mapped = "destination address ::ffff:127.0.0.1 is not allowed (loopback)";
    assert_refused(&strict, &format!("https://127.0.0.1:{port}/"), refused_v4).await;
    assert_refused(&strict, &format!("https://[::1]:{port}/"), refused_v6).await;
    assert_refused(
        &strict,
        &format!("https://[::ffff:127.0.0.1]:{port}/"),
        refused_mapped,
    )
    .await;
    // IPv4-translated (SIIT): judged by the IPv4 address it carries.
    assert_refused(
        &strict,
        &format!("https://[::ffff:0:127.0.0.1]:{port}/"),
        "destination address ::ffff:0:7f00:1 is not allowed (loopback)",
    )
    .await;
    assert_refused(&strict, &format!("https://loop.test:{port}/"), refused_v4).await;
    // `localhost` never reaches a DNS server: it is loopback by definition.
    let system = integrations(UrlPolicy::default());
    let localhost = Attempt::webhook(json!({"url": format!("https://localhost:{port}/")}))
        .deliver(&system)
        .await;
    assert_eq!(localhost.outcome, Outcome::NetworkError);
    assert!(
        localhost
            .error
            .as_deref()
            .unwrap()
            .ends_with("is not allowed (loopback)"),
        "{localhost:?}"
    );
    // 0.0.0.0 reaches the local host too, and stays refused even with the flag.
    let local = integrations(loopback_allowed());
    assert_refused(
        &local,
        &format!("https://0.0.0.0:{port}/"),
        "destination address 0.0.0.0 is not allowed (unspecified)",
    )
    .await;
    assert!(receiver.requests().is_empty());

    let allowed = Attempt::webhook(json!({"url": receiver.url("/ok")}))
        .deliver(&local)
        .await;
    assert_eq!(allowed.outcome, Outcome::Delivered);
}

#[tokio::test]
async fn ip_literals_of_every_refused_class_are_never_contacted() {
    if !in_own_network_namespace(
        "outbound_ssrf::ip_literals_of_every_refused_class_are_never_contacted",
    ) {
        return;
    }
    let client = integrations(loopback_allowed());
    let cases = [
        ("10.0.0.1", "10.0.0.1", "private network"),
        ("172.16.5.4", "172.16.5.4", "private network"),
        ("192.168.0.10", "192.168.0.10", "private network"),
        (
            "169.254.169.254",
            "169.254.169.254",
            "cloud metadata service",
        ),
        ("169.254.1.1", "169.254.1.1", "link-local"),
        ("100.64.0.1", "100.64.0.1", "carrier-grade NAT"),
        ("224.0.0.251", "224.0.0.251", "multicast"),
        ("255.255.255.255", "255.255.255.255", "broadcast"),
        ("192.0.2.1", "192.0.2.1", "documentation range"),
        ("198.18.0.1", "198.18.0.1", "benchmarking range"),
        ("240.0.0.1", "240.0.0.1", "reserved range"),
        ("[fd00::1]", "fd00::1", "IPv6 unique local"),
        ("[fe80::1]", "fe80::1", "link-local"),
        ("[ff02::1]", "ff02::1", "multicast"),
        ("[::]", "::", "unspecified"),
        ("[2001:db8::1]", "2001:db8::1", "documentation range"),
        ("[::ffff:10.0.0.1]", "::ffff:10.0.0.1", "private network"),
        (
            "[::ffff:169.254.169.254]",
            "::ffff:169.254.169.254",
            "cloud metadata service",
        ),
        (
            "[64:ff9b::a9fe:a9fe]",
            "64:ff9b::a9fe:a9fe",
            "cloud metadata service",
        ),
        ("[2002:a00:1::1]", "2002:a00:1::1", "private network"),
        ("[::ffff:0:a00:1]", "::ffff:0:a00:1", "private network"),
        ("[fd00:ec2::254]", "fd00:ec2::254", "cloud metadata service"),
    ];
    for (host, shown, class) in cases {
        assert_refused(
            &client,
            &format!("https://{host}/latest/meta-data/"),
            &format!("destination address {shown} is not allowed ({class})"),
        )
        .await;
    }
}

#[tokio::test]
async fn a_hostname_resolving_to_a_private_address_is_refused() {
    if !in_own_network_namespace(
        "outbound_ssrf::a_hostname_resolving_to_a_private_address_is_refused",
    ) {
        return;
    }
    let hosts = Arc::new(HostsTable::new());
    hosts.set("db.internal.test", &[ip("10.20.30.40")]);
    hosts.set("metadata.test", &[ip("169.254.169.254")]);
    hosts.set("ula.test", &[ip("fd12::7")]);
    // One private address among public ones refuses the whole answer.
    hosts.set("mixed.test", &[ip("93.184.215.14"), ip("192.168.1.20")]);
    let client = integrations_with_hosts(hosts, quick_settings(), loopback_allowed());
    let cases = [
        (
            "db.internal.test",
            "10.20.30.40 is not allowed (private network)",
        ),
        (
            "metadata.test",
            "169.254.169.254 is not allowed (cloud metadata service)",
        ),
        ("ula.test", "fd12::7 is not allowed (IPv6 unique local)"),
        (
            "mixed.test",
            "192.168.1.20 is not allowed (private network)",
        ),
    ];
    for (host, refusal) in cases {
        assert_refused(
            &client,
            &format!("https://{host}/hook"),
            &format!("destination address {refusal}"),
        )
        .await;
    }
}

/// DNS rebinding: the name pointed somewhere acceptable when the connection was validated
/// and points at the metadata service when the delivery connects. The resolver runs for every
/// new connection and checks what it returns, so the delivery is refused.
#[tokio::test]
async fn a_dns_answer_that_changes_between_validation_and_delivery_is_caught() {
    if !in_own_network_namespace(
        "outbound_ssrf::a_dns_answer_that_changes_between_validation_and_delivery_is_caught",
    ) {
        return;
    }
    let receiver = Receiver::start().await;
    let port = Url::parse(&receiver.url("/")).unwrap().port().unwrap();
    let hosts = Arc::new(HostsTable::new());
    hosts.set("rebind.test", &[ip("127.0.0.1")]);
    let client = integrations_with_hosts(hosts.clone(), quick_settings(), loopback_allowed());
    let url = format!("https://rebind.test:{port}/hook");

    client
        .probe(&Url::parse(&url).unwrap())
        .await
        .expect("validated on create: resolves to an allowed, listening address");

    hosts.set("rebind.test", &[ip("169.254.169.254")]);
    assert_refused(
        &client,
        &url,
        "destination address 169.254.169.254 is not allowed (cloud metadata service)",
    )
    .await;
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn the_probe_refuses_unsafe_unresolvable_and_unreachable_endpoints() {
    if !in_own_network_namespace(
        "outbound_ssrf::the_probe_refuses_unsafe_unresolvable_and_unreachable_endpoints",
    ) {
        return;
    }
    let receiver = Receiver::start().await;
    let port = Url::parse(&receiver.url("/")).unwrap().port().unwrap();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let hosts = Arc::new(HostsTable::new());
    hosts.set("internal.test", &[ip("10.0.0.7")]);
    hosts.set("receiver.test", &[ip("127.0.0.1")]);
    let client = integrations_with_hosts(hosts, quick_settings(), loopback_allowed());
    let probe_at = |url: String| {
        let client = &client;
        async move { client.probe(&Url::parse(&url).unwrap()).await }
    };

    assert_eq!(probe_at(receiver.url("/hook")).await, Ok(()));
    assert_eq!(
        probe_at(format!("https://receiver.test:{port}/")).await,
        Ok(())
    );
    assert_eq!(
        probe_at("https://internal.test/hook".into()).await,
        Err("destination address 10.0.0.7 is not allowed (private network)".into())
    );
    assert_eq!(
        probe_at("https://169.254.169.254/".into()).await,
        Err("destination address 169.254.169.254 is not allowed (cloud metadata service)".into())
    );
    assert_eq!(
        probe_at("https://nowhere.test/hook".into()).await,
        Err("host nowhere.test does not resolve".into())
    );
    let unreachable = probe_at(format!("http://127.0.0.1:{closed}/hook"))
        .await
        .unwrap_err();
    assert!(
        unreachable.starts_with(&format!("could not connect to 127.0.0.1:{closed}: ")),
        "{unreachable}"
    );
    assert_eq!(
        probe_at("http://example.com/hook".into()).await,
        Err("http:// is allowed only to loopback addresses".into())
    );
    // The probe opens a connection but sends no request the receiver would record.
    assert!(receiver.requests().is_empty());
}

/// The free-standing `probe` the API handler can call: the system resolver, no client.
#[tokio::test]
async fn the_standalone_probe_uses_the_deployment_policy() {
    let receiver = Receiver::start().await;
    let url = Url::parse(&receiver.url("/hook")).unwrap();
    assert_eq!(probe(&url, loopback_allowed()).await, Ok(()));
    assert_eq!(
        probe(&url, UrlPolicy::default()).await,
        Err("must be an https:// URL".into())
    );
    let port = url.port().unwrap();
    let https_local = Url::parse(&format!("https://localhost:{port}/hook")).unwrap();
    let refused = probe(&https_local, UrlPolicy::default()).await.unwrap_err();
    assert!(refused.ends_with("is not allowed (loopback)"), "{refused}");
    // Special-use names are refused without asking a DNS server.
    let invalid = Url::parse("https://hooks.invalid/").unwrap();
    assert_eq!(
        probe(&invalid, UrlPolicy::default()).await,
        Err("host hooks.invalid does not resolve".into())
    );
}

/// What the connection-create handler calls: settings first, then the probe, each error
/// naming its `metadata.*` param.
#[tokio::test]
async fn checking_a_destination_names_the_param_that_is_wrong() {
    let receiver = Receiver::start().await;
    let port = Url::parse(&receiver.url("/")).unwrap().port().unwrap();
    let hosts = Arc::new(HostsTable::new());
    hosts.set("loop.test", &[ip("127.0.0.1")]);
    let strict = integrations_with_hosts(hosts, quick_settings(), UrlPolicy::default());
    let check = |metadata: serde_json::Value| {
        let strict = &strict;
        async move {
            strict
                .check_destination(
                    IntegrationType::Webhook,
                    metadata.as_object().expect("object"),
                )
                .await
                .map_err(|e| (e.0[0].param.clone(), e.0[0].msg.clone()))
        }
    };
    assert_eq!(
        check(json!({"url": format!("https://loop.test:{port}/hook")})).await,
        Err((
            "metadata.url".into(),
            "destination address 127.0.0.1 is not allowed (loopback)".into()
        ))
    );
    assert_eq!(
        check(json!({"url": "https://loop.test/", "auth_scheme": "bearer"})).await,
        Err((
            "metadata.auth_token".into(),
            "is required with auth_scheme bearer".into()
        ))
    );
    assert!(receiver.requests().is_empty());
}
