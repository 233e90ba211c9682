//! The AWS backend under test: a real moto server on 127.0.0.1 that `make test` starts and
//! names in `SWITCHYARD_TEST_MOTO`. Each test creates its own tables, queues and secret under a
//! fresh prefix, so tests share the server without sharing state.
//!
//! Without the variable the AWS tests print why and pass vacuously — unless
//! `SWITCHYARD_REQUIRE_MOTO=1` (as `make test` sets), where a missing server fails them.

use switchyard_aws::{AwsResources, Clients, QueueAttributes, RequestCounter, bootstrap};
use switchyard_core::ports::QueueName;

/// A moto server's endpoint.
#[derive(Clone, Debug)]
pub struct Moto {
    pub endpoint: String,
}

impl Moto {
    /// The server `make test` started; `None` (after saying so) when there is none.
    pub fn from_env() -> Option<Self> {
        match std::env::var("SWITCHYARD_TEST_MOTO") {
            Ok(endpoint) if !endpoint.is_empty() => Some(Self { endpoint }),
            _ => {
                assert!(
                    std::env::var("SWITCHYARD_REQUIRE_MOTO").is_err(),
                    "SWITCHYARD_REQUIRE_MOTO is set but SWITCHYARD_TEST_MOTO is not"
                );
                eprintln!(
                    "skipped: no moto server (SWITCHYARD_TEST_MOTO unset); `make test` starts one"
                );
                None
            }
        }
    }

    pub async fn clients(&self, counter: Option<RequestCounter>) -> Clients {
        Clients::local(&self.endpoint, counter).await
    }

    /// A prefix no other test uses.
    pub fn unique_prefix() -> String {
        format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
    }

    /// Fresh resources under a fresh prefix.
    pub async fn resources(
        &self,
        clients: &Clients,
        attributes: impl Fn(QueueName) -> QueueAttributes,
    ) -> AwsResources {
        bootstrap(clients, &Self::unique_prefix(), attributes)
            .await
            .expect("bootstrap on moto")
    }

    /// The environment a child process (the switchyard binary, a Lambda bootstrap) needs to
    /// use this server: endpoint, region and dummy credentials — never a real account.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

/// Gets the moto server or returns from the test (having printed why).
#[macro_export]
macro_rules! require_moto {
    () => {
        match $crate::Moto::from_env() {
            Some(m) => m,
            None => return,
        }
    };
    ($ret:expr) => {
        match $crate::Moto::from_env() {
            Some(m) => m,
            None => return $ret,
        }
    };
}
