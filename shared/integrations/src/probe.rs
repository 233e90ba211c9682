//! Endpoint validation on connection create: "the webhook endpoint may be probed".
//!
//! A probe resolves the host, applies the address policy to every address (as each delivery
//! will), and opens one TCP connection, closed at once. That refuses unsafe and unreachable
//! URLs with a clear reason while sending the receiver nothing it would record as a request
//! (an HTTP `HEAD` would show up in its logs, and in tests' request counts). TLS is not
//! checked here: a certificate problem surfaces on the first delivery as `network_error`.

use std::net::IpAddr;
use std::time::Duration;

use switchyard_core::webhook::UrlPolicy;
use tokio::net::TcpStream;
use url::{Host, Url};

use crate::resolve::{GuardedResolver, SystemLookup};

/// Probes `url` as a deployment with `policy` would deliver to it, over the system resolver:
/// `Err` carries a message for the API's 422. For the API handler that creates connections.
pub async fn probe(url: &Url, policy: UrlPolicy) -> Result<(), String> {
    policy.check(url)?;
    let resolver = GuardedResolver::new(std::sync::Arc::new(SystemLookup), policy.into());
    probe_with(&resolver, url, Duration::from_secs(5)).await
}

/// The probe over a given resolver; `connect_timeout` bounds the whole probe.
pub(crate) async fn probe_with(
    resolver: &GuardedResolver,
    url: &Url,
    connect_timeout: Duration,
) -> Result<(), String> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "has no port".to_owned())?;
    let policy = resolver.policy();
    let (shown, addrs): (String, Vec<IpAddr>) = match url.host() {
        None => return Err("must have a host".into()),
        Some(Host::Ipv4(ip)) => {
            policy.check(ip.into()).map_err(|e| e.to_string())?;
            (ip.to_string(), vec![ip.into()])
        }
        Some(Host::Ipv6(ip)) => {
            policy.check(ip.into()).map_err(|e| e.to_string())?;
            (format!("[{ip}]"), vec![ip.into()])
        }
        Some(Host::Domain(host)) => (
            host.to_owned(),
            resolver
                .resolve_checked(host)
                .await
                .map_err(|e| e.to_string())?,
        ),
    };
    let connect = async {
        let mut last = String::new();
        for ip in addrs {
            match TcpStream::connect((ip, port)).await {
                Ok(_) => return Ok(()),
                Err(e) => last = e.to_string(),
            }
        }
        Err(last)
    };
    match tokio::time::timeout(connect_timeout, connect).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("could not connect to {shown}:{port}: {e}")),
        Err(_) => Err(format!(
            "could not connect to {shown}:{port}: no answer within {} s",
            connect_timeout.as_secs_f32()
        )),
    }
}
