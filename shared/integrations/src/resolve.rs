//! Name resolution with the SSRF guard inside it.
//!
//! reqwest asks its resolver for addresses every time it opens a connection (pooled
//! connections are reused, new ones resolve afresh), and connects only to what the resolver
//! returned. Checking the addresses *inside* the resolver therefore checks exactly the
//! addresses connected to, on every connection: a DNS answer that changes after a connection
//! was validated (DNS rebinding) is judged again when it is used. Any refused address in an
//! answer refuses the whole answer: a name mixing public and private addresses is not one to
//! deliver to.
//!
//! Where the names come from is a [`Lookup`]: the system resolver in production, or a
//! [`HostsTable`] — a hosts file in memory — where a deployment or a test pins names.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::address::{AddressPolicy, AddressRefused};

/// Turns a host name into addresses. No policy here: [`GuardedResolver`] applies it.
#[async_trait]
pub trait Lookup: Send + Sync + 'static {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The operating system's resolver (`getaddrinfo`, on tokio's blocking pool).
///
/// Special-use names are answered without a query (RFC 6761 and later): `localhost` is
/// loopback, and names under `.test`, `.example`, `.invalid`, `.local`, `.internal`, `.alt`,
/// `.onion` and `.home.arpa` do not resolve — none can be a public webhook endpoint, and
/// asking a resolver about them would only leak them to it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemLookup;

const NON_PUBLIC_SUFFIXES: [&str; 8] = [
    "test",
    "example",
    "invalid",
    "local",
    "internal",
    "alt",
    "onion",
    "home.arpa",
];

fn has_suffix(host: &str, suffix: &str) -> bool {
    host == suffix || host.ends_with(&format!(".{suffix}"))
}

#[async_trait]
impl Lookup for SystemLookup {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        if has_suffix(&name, "localhost") {
            return Ok(vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]);
        }
        if NON_PUBLIC_SUFFIXES.iter().any(|s| has_suffix(&name, s)) {
            return Ok(Vec::new());
        }
        let addrs = tokio::net::lookup_host((name.as_str(), 0)).await?;
        Ok(addrs.map(|a| a.ip()).collect())
    }
}

/// Names pinned to addresses, like `/etc/hosts`, changeable while in use. Names not in the
/// table do not resolve.
#[derive(Debug, Default)]
pub struct HostsTable {
    entries: RwLock<HashMap<String, Vec<IpAddr>>>,
}

impl HostsTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Points `host` at `addrs` from now on (replacing what it pointed at).
    pub fn set(&self, host: &str, addrs: &[IpAddr]) {
        self.entries
            .write()
            .expect("hosts table lock")
            .insert(host.to_ascii_lowercase(), addrs.to_vec());
    }
}

#[async_trait]
impl Lookup for HostsTable {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let entries = self.entries.read().expect("hosts table lock");
        Ok(entries
            .get(&host.trim_end_matches('.').to_ascii_lowercase())
            .cloned()
            .unwrap_or_default())
    }
}

/// Why a host could not be turned into addresses to connect to. The message is safe to show
/// the tenant.
#[derive(Debug)]
pub enum ResolveError {
    /// The answer contained an address the policy refuses.
    Refused(AddressRefused),
    /// The name has no address.
    NotFound(String),
    /// The resolver failed.
    Lookup(String, io::Error),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(refused) => refused.fmt(f),
            Self::NotFound(host) => write!(f, "host {host} does not resolve"),
            Self::Lookup(host, e) => write!(f, "could not resolve host {host}: {e}"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// A resolver that returns only addresses the [`AddressPolicy`] allows.
#[derive(Clone)]
pub struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
    policy: AddressPolicy,
}

impl GuardedResolver {
    pub fn new(lookup: Arc<dyn Lookup>, policy: AddressPolicy) -> Self {
        Self { lookup, policy }
    }

    pub fn policy(&self) -> AddressPolicy {
        self.policy
    }

    /// Resolves `host` and checks every address of the answer.
    pub async fn resolve_checked(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        let mut addrs = self
            .lookup
            .lookup(host)
            .await
            .map_err(|e| ResolveError::Lookup(host.to_owned(), e))?;
        let mut seen = Vec::with_capacity(addrs.len());
        addrs.retain(|ip| {
            let first = !seen.contains(ip);
            seen.push(*ip);
            first
        });
        if addrs.is_empty() {
            return Err(ResolveError::NotFound(host.to_owned()));
        }
        for ip in &addrs {
            self.policy.check(*ip).map_err(ResolveError::Refused)?;
        }
        Ok(addrs)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addrs = this.resolve_checked(name.as_str()).await?;
            // Port 0: reqwest puts in the URL's port.
            let addrs: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(table: Arc<HostsTable>, allow_loopback: bool) -> GuardedResolver {
        GuardedResolver::new(table, AddressPolicy { allow_loopback })
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_private_address_is_refused() {
        let table = Arc::new(HostsTable::new());
        table.set("hooks.example.test", &["10.1.2.3".parse().unwrap()]);
        let err = guarded(table, true)
            .resolve_checked("hooks.example.test")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "destination address 10.1.2.3 is not allowed (private network)"
        );
    }

    #[tokio::test]
    async fn one_refused_address_refuses_the_whole_answer() {
        let table = Arc::new(HostsTable::new());
        let mixed = ["93.184.215.14".parse().unwrap(), "fd00::1".parse().unwrap()];
        table.set("mixed.test", &mixed);
        let err = guarded(table, false)
            .resolve_checked("mixed.test")
            .await
            .unwrap_err();
        assert!(matches!(err, ResolveError::Refused(_)), "{err}");
    }

    #[tokio::test]
    async fn the_answer_is_judged_each_time_it_is_asked_for() {
        let table = Arc::new(HostsTable::new());
        let resolver = guarded(table.clone(), false);
        table.set("rebind.test", &["93.184.215.14".parse().unwrap()]);
        assert!(resolver.resolve_checked("rebind.test").await.is_ok());
        table.set("rebind.test", &["169.254.169.254".parse().unwrap()]);
        let err = resolver.resolve_checked("rebind.test").await.unwrap_err();
        assert!(err.to_string().contains("169.254.169.254"), "{err}");
    }

    #[tokio::test]
    async fn unknown_names_do_not_resolve() {
        let err = guarded(Arc::new(HostsTable::new()), false)
            .resolve_checked("nowhere.test")
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "host nowhere.test does not resolve");
    }

    #[tokio::test]
    async fn special_use_names_are_answered_without_a_query() {
        let system = SystemLookup;
        let local = system.lookup("LocalHost.").await.unwrap();
        assert!(local.iter().all(IpAddr::is_loopback));
        assert!(system.lookup("api.localhost").await.unwrap().len() == 2);
        for name in [
            "hooks.test",
            "a.example",
            "x.invalid",
            "printer.local",
            "db.internal",
        ] {
            assert!(system.lookup(name).await.unwrap().is_empty(), "{name}");
        }
        let resolver = GuardedResolver::new(Arc::new(SystemLookup), AddressPolicy::default());
        assert!(matches!(
            resolver.resolve_checked("localhost").await,
            Err(ResolveError::Refused(_))
        ));
    }
}
