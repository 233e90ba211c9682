//! Creates the backend's resources where nothing else does: on moto for the tests and for
//! `switchyard serve --backend aws`. On AWS the SAM template owns them; this mirrors it —
//! the same tables, a DLQ per source queue with its redrive policy, a generated master key.
//! Everything is create-if-missing, so running it against existing resources changes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::TimeToLiveSpecification;
use aws_sdk_sqs::types::QueueAttributeName;
use switchyard_core::ports::QueueName;

use crate::config::DEFAULT_RETENTION_DAYS;
use crate::{AwsResources, Clients, MasterKeySecret, table_definitions};

/// A source queue's attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueAttributes {
    pub visibility_timeout: Duration,
    pub max_receive_count: u32,
}

/// The embedded runtime's values (events 30 s, deliveries 60 s, five receives), so the local
/// runtime behaves the same on either backend.
pub fn default_queue_attributes(queue: QueueName) -> QueueAttributes {
    QueueAttributes {
        visibility_timeout: Duration::from_secs(match queue {
            QueueName::Deliveries => 60,
            _ => 30,
        }),
        max_receive_count: 5,
    }
}

fn err(what: &str, e: impl std::error::Error) -> String {
    format!(
        "{what}: {}",
        aws_sdk_dynamodb::error::DisplayErrorContext(&e)
    )
}

/// Creates (if missing) the tables, queues and secret named after `prefix`, and answers with
/// where they are.
pub async fn bootstrap(
    clients: &Clients,
    prefix: &str,
    attributes: impl Fn(QueueName) -> QueueAttributes,
) -> Result<AwsResources, String> {
    let config_table = AwsResources::table_name(prefix, "config");
    let history_table = AwsResources::table_name(prefix, "history");
    for def in table_definitions(&config_table, &history_table) {
        let exists = clients
            .dynamodb
            .describe_table()
            .table_name(&def.name)
            .send()
            .await
            .is_ok();
        if !exists {
            clients
                .dynamodb
                .create_table()
                .table_name(&def.name)
                .set_attribute_definitions(Some(def.attributes))
                .set_key_schema(Some(def.key_schema))
                .set_local_secondary_indexes(
                    (!def.local_indexes.is_empty()).then_some(def.local_indexes),
                )
                .set_global_secondary_indexes(
                    (!def.global_indexes.is_empty()).then_some(def.global_indexes),
                )
                .billing_mode(def.billing)
                .send()
                .await
                .map_err(|e| err(&format!("CreateTable {}", def.name), e))?;
            if let Some(ttl) = def.ttl_attribute {
                clients
                    .dynamodb
                    .update_time_to_live()
                    .table_name(&def.name)
                    .time_to_live_specification(
                        TimeToLiveSpecification::builder()
                            .attribute_name(ttl)
                            .enabled(true)
                            .build()
                            .map_err(|e| err("TTL", e))?,
                    )
                    .send()
                    .await
                    .map_err(|e| err(&format!("UpdateTimeToLive {}", def.name), e))?;
            }
        }
    }

    let mut queue_urls = BTreeMap::new();
    for source in [QueueName::Events, QueueName::Deliveries] {
        let dlq = source.dlq().expect("source queues have a DLQ");
        let dlq_url = clients
            .sqs
            .create_queue()
            .queue_name(AwsResources::queue_name(prefix, dlq))
            .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
            .send()
            .await
            .map_err(|e| err("CreateQueue", e))?
            .queue_url
            .ok_or("CreateQueue answered no URL")?;
        let dlq_arn = clients
            .sqs
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| err("GetQueueAttributes", e))?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or("the DLQ has no ARN")?;
        let a = attributes(source);
        let redrive = serde_json::json!({
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": a.max_receive_count,
        });
        let url = clients
            .sqs
            .create_queue()
            .queue_name(AwsResources::queue_name(prefix, source))
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                a.visibility_timeout.as_secs().to_string(),
            )
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .send()
            .await
            .map_err(|e| err("CreateQueue", e))?
            .queue_url
            .ok_or("CreateQueue answered no URL")?;
        queue_urls.insert(source, url);
        queue_urls.insert(dlq, dlq_url);
    }

    let secret = AwsResources::secret_name(prefix);
    let exists = clients
        .secrets
        .describe_secret()
        .secret_id(&secret)
        .send()
        .await
        .is_ok();
    if !exists {
        clients
            .secrets
            .create_secret()
            .name(&secret)
            .secret_string(MasterKeySecret::generate())
            .send()
            .await
            .map_err(|e| err("CreateSecret", e))?;
    }

    Ok(AwsResources {
        config_table,
        history_table,
        queue_urls,
        master_key_secret: secret,
        retention_days: DEFAULT_RETENTION_DAYS,
    })
}

/// Finds the resources named after `prefix` without creating anything (a deployed stack's
/// `switchyard-<stage>`, or what `bootstrap` made earlier).
pub async fn resolve(clients: &Clients, prefix: &str) -> Result<AwsResources, String> {
    let mut queue_urls = BTreeMap::new();
    for queue in QueueName::ALL {
        let name = AwsResources::queue_name(prefix, queue);
        let url = clients
            .sqs
            .get_queue_url()
            .queue_name(&name)
            .send()
            .await
            .map_err(|e| err(&format!("queue {name}"), e))?
            .queue_url
            .ok_or(format!("queue {name} has no URL"))?;
        queue_urls.insert(queue, url);
    }
    Ok(AwsResources {
        config_table: AwsResources::table_name(prefix, "config"),
        history_table: AwsResources::table_name(prefix, "history"),
        queue_urls,
        master_key_secret: AwsResources::secret_name(prefix),
        retention_days: DEFAULT_RETENTION_DAYS,
    })
}
