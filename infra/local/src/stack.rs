//! A deployed SAM stack, found by its name: its CloudFormation outputs name the tables, queues,
//! secret and API URL, so the operator commands act on the stack directly (`--stack`), with
//! the shell's AWS credentials and no server running.

use anyhow::Context;
use switchyard_aws::AwsResources;

/// What the operator commands need of a deployed stack.
pub struct Stack {
    pub resources: AwsResources,
    /// Where the stack's API is served, without `/api/v1` (the console lives beside it).
    pub base_url: String,
}

/// The template's output for each setting the functions read from their environment.
const OUTPUT_SETTINGS: [(&str, &str); 8] = [
    ("ConfigTableName", "SWITCHYARD_CONFIG_TABLE"),
    ("HistoryTableName", "SWITCHYARD_HISTORY_TABLE"),
    ("MasterKeySecretArn", "SWITCHYARD_MASTER_KEY_SECRET"),
    ("EventsQueueUrl", "SWITCHYARD_EVENTS_QUEUE_URL"),
    ("EventsDeadLetterQueueUrl", "SWITCHYARD_EVENTS_DLQ_URL"),
    ("DeliveriesQueueUrl", "SWITCHYARD_DELIVERIES_QUEUE_URL"),
    (
        "DeliveriesDeadLetterQueueUrl",
        "SWITCHYARD_DELIVERIES_DLQ_URL",
    ),
    ("RetentionDays", "SWITCHYARD_RETENTION_DAYS"),
];

/// Reads the stack's outputs (`DescribeStacks`).
pub async fn describe(name: &str) -> anyhow::Result<Stack> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let stacks = aws_sdk_cloudformation::Client::new(&config)
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("cannot describe stack {name}: {}", e.into_service_error()))?;
    let stack = stacks
        .stacks()
        .first()
        .with_context(|| format!("no stack {name}"))?;
    let outputs: Vec<(String, String)> = stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect();
    from_outputs(name, &outputs)
}

/// The resources and base URL named by a stack's outputs.
pub fn from_outputs(name: &str, outputs: &[(String, String)]) -> anyhow::Result<Stack> {
    let output = |key: &str| {
        outputs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let required = [
        "ApiUrl",
        "ConfigTableName",
        "HistoryTableName",
        "MasterKeySecretArn",
    ];
    if let Some(missing) = required.iter().find(|key| output(key).is_none()) {
        anyhow::bail!("stack {name} has no output {missing}: is it a Switchyard stack?");
    }
    let resources = AwsResources::from_lookup(|setting| {
        let (key, _) = OUTPUT_SETTINGS.iter().find(|(_, s)| *s == setting)?;
        output(key)
    })
    .map_err(|e| anyhow::anyhow!("stack {name}: {e}"))?;
    let api_url = output("ApiUrl").unwrap_or_default();
    Ok(Stack {
        resources,
        base_url: api_url
            .trim_end_matches('/')
            .trim_end_matches("/api/v1")
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use switchyard_core::ports::QueueName;

    use super::*;

    fn outputs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_stacks_outputs_name_its_resources_and_api_origin() {
        let stack = from_outputs(
            "switchyard-dev",
            &outputs(&[
                (
                    "ApiUrl",
                    "https://x.execute-api.eu-west-1.amazonaws.com/api/v1",
                ),
                ("ConfigTableName", "switchyard-dev-config"),
                ("HistoryTableName", "switchyard-dev-history"),
                (
                    "MasterKeySecretArn",
                    "arn:aws:secretsmanager:eu-west-1:1:secret:k",
                ),
                ("DeliveriesDeadLetterQueueUrl", "https://sqs/dlq"),
                ("RetentionDays", "14"),
                ("AlarmTopicArn", "arn:aws:sns:eu-west-1:1:t"),
            ]),
        )
        .unwrap();
        assert_eq!(
            stack.base_url,
            "https://x.execute-api.eu-west-1.amazonaws.com"
        );
        assert_eq!(stack.resources.config_table, "switchyard-dev-config");
        assert_eq!(stack.resources.retention_days, 14);
        assert_eq!(
            stack.resources.queue_urls[&QueueName::DeliveriesDlq],
            "https://sqs/dlq"
        );
        assert!(!stack.resources.queue_urls.contains_key(&QueueName::Events));
    }

    #[test]
    fn a_stack_without_switchyards_outputs_is_refused_by_name() {
        let err = from_outputs("other", &outputs(&[("ApiUrl", "https://x/api/v1")]))
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            "stack other has no output ConfigTableName: is it a Switchyard stack?"
        );
    }
}
