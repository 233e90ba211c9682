//! Where the backend's resources are. The Lambda functions read names and URLs from the
//! environment the SAM template sets (each function only gets the queues it may use, so a
//! missing URL is also least privilege at work); the local runtime derives them from a prefix.

use std::collections::BTreeMap;

use switchyard_core::ports::QueueName;

/// Help text for the environment variables, shared by the CLI and the docs.
pub const ENV_PREFIX_HELP: &str = "SWITCHYARD_CONFIG_TABLE, SWITCHYARD_HISTORY_TABLE, \
SWITCHYARD_EVENTS_QUEUE_URL, SWITCHYARD_EVENTS_DLQ_URL, SWITCHYARD_DELIVERIES_QUEUE_URL, \
SWITCHYARD_DELIVERIES_DLQ_URL, SWITCHYARD_MASTER_KEY_SECRET, SWITCHYARD_RETENTION_DAYS";

/// How long history (events, deliveries, attempts) is kept before DynamoDB's TTL removes it.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsResources {
    /// Organizations, credentials, workspaces, connections, rules, catalogs.
    pub config_table: String,
    /// Events, deliveries and their attempts; items expire by TTL.
    pub history_table: String,
    /// Queue URLs by queue; a function is given only the queues it sends to or reads.
    pub queue_urls: BTreeMap<QueueName, String>,
    /// Id or ARN of the Secrets Manager secret holding the master keys.
    pub master_key_secret: String,
    pub retention_days: u32,
}

fn queue_env(queue: QueueName) -> &'static str {
    match queue {
        QueueName::Events => "SWITCHYARD_EVENTS_QUEUE_URL",
        QueueName::EventsDlq => "SWITCHYARD_EVENTS_DLQ_URL",
        QueueName::Deliveries => "SWITCHYARD_DELIVERIES_QUEUE_URL",
        QueueName::DeliveriesDlq => "SWITCHYARD_DELIVERIES_DLQ_URL",
    }
}

impl AwsResources {
    /// Reads the resources from the environment, as the SAM template sets it.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), over any lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let required = |name: &str| {
            get(name)
                .filter(|v| !v.is_empty())
                .ok_or(format!("{name} is not set"))
        };
        let retention_days = match get("SWITCHYARD_RETENTION_DAYS") {
            None => DEFAULT_RETENTION_DAYS,
            Some(v) => v
                .parse()
                .ok()
                .filter(|d| *d > 0)
                .ok_or("SWITCHYARD_RETENTION_DAYS must be a positive number of days")?,
        };
        Ok(Self {
            config_table: required("SWITCHYARD_CONFIG_TABLE")?,
            history_table: required("SWITCHYARD_HISTORY_TABLE")?,
            queue_urls: QueueName::ALL
                .into_iter()
                .filter_map(|q| {
                    get(queue_env(q))
                        .filter(|v| !v.is_empty())
                        .map(|url| (q, url))
                })
                .collect(),
            master_key_secret: required("SWITCHYARD_MASTER_KEY_SECRET")?,
            retention_days,
        })
    }

    /// The names the local runtime and `switchyard aws bootstrap` use: `<prefix>-config`,
    /// `<prefix>-history`, `<prefix>-events` …, `<prefix>-master-key` — the SAM template's
    /// `switchyard-<stage>` naming. Queue URLs are resolved separately (they need the service).
    pub fn table_name(prefix: &str, table: &str) -> String {
        format!("{prefix}-{table}")
    }

    pub fn queue_name(prefix: &str, queue: QueueName) -> String {
        format!("{prefix}-{}", queue.as_str())
    }

    pub fn secret_name(prefix: &str) -> String {
        format!("{prefix}-master-key")
    }

    /// The environment the SAM template would set for these resources (used by the local
    /// runtime to start Lambda bootstraps, and printed by `switchyard aws bootstrap`).
    pub fn to_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("SWITCHYARD_CONFIG_TABLE".into(), self.config_table.clone()),
            (
                "SWITCHYARD_HISTORY_TABLE".into(),
                self.history_table.clone(),
            ),
            (
                "SWITCHYARD_MASTER_KEY_SECRET".into(),
                self.master_key_secret.clone(),
            ),
            (
                "SWITCHYARD_RETENTION_DAYS".into(),
                self.retention_days.to_string(),
            ),
        ];
        for (q, url) in &self.queue_urls {
            env.push((queue_env(*q).into(), url.clone()));
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn reads_the_template_environment_and_keeps_only_given_queues() {
        let env: HashMap<&str, &str> = HashMap::from([
            ("SWITCHYARD_CONFIG_TABLE", "c"),
            ("SWITCHYARD_HISTORY_TABLE", "h"),
            ("SWITCHYARD_MASTER_KEY_SECRET", "s"),
            ("SWITCHYARD_EVENTS_QUEUE_URL", "http://q/events"),
        ]);
        let r = AwsResources::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(r.config_table, "c");
        assert_eq!(r.retention_days, DEFAULT_RETENTION_DAYS);
        assert_eq!(
            r.queue_urls.keys().copied().collect::<Vec<_>>(),
            [QueueName::Events]
        );
        let back: HashMap<String, String> = r.to_env().into_iter().collect();
        assert_eq!(back["SWITCHYARD_EVENTS_QUEUE_URL"], "http://q/events");
    }

    #[test]
    fn missing_or_bad_settings_are_named() {
        let err = AwsResources::from_lookup(|_| None).unwrap_err();
        assert!(err.contains("SWITCHYARD_CONFIG_TABLE"), "{err}");
        let err = AwsResources::from_lookup(|k| {
            Some(
                if k == "SWITCHYARD_RETENTION_DAYS" {
                    "0"
                } else {
                    "x"
                }
                .to_string(),
            )
        })
        .unwrap_err();
        assert!(err.contains("RETENTION"), "{err}");
    }
}
