//! The operator commands against a deployed stack found by its name (`--stack`): they read the
//! stack's CloudFormation outputs, act on its tables and queues, start no server, and leave the
//! data directory with credentials that mint tokens for the deployed API.

use std::path::Path;
use std::process::Command;

use aws_sdk_cloudformation::types::Capability;
use serde_json::Value;
use switchyard_tests::{Moto, binary, require_moto};

/// A stack as `sam deploy` leaves it, as far as the operator commands look: its outputs name
/// resources bootstrapped under `prefix` (moto runs no SAM transform, so the resources
/// themselves are made by the bootstrap, not by the stack).
fn template(prefix: &str, urls: &Value) -> String {
    let output = |key: &str, value: &str| format!("  {key}:\n    Value: \"{value}\"\n");
    let mut outputs = String::new();
    outputs += &output(
        "ApiUrl",
        "https://abc123.execute-api.us-east-1.amazonaws.com/api/v1",
    );
    outputs += &output("ConfigTableName", &format!("{prefix}-config"));
    outputs += &output("HistoryTableName", &format!("{prefix}-history"));
    outputs += &output("MasterKeySecretArn", &format!("{prefix}-master-key"));
    for (key, queue) in [
        ("EventsQueueUrl", "events"),
        ("EventsDeadLetterQueueUrl", "events-dlq"),
        ("DeliveriesQueueUrl", "deliveries"),
        ("DeliveriesDeadLetterQueueUrl", "deliveries-dlq"),
    ] {
        outputs += &output(key, urls[queue].as_str().expect("queue url"));
    }
    outputs += &output("RetentionDays", "30");
    format!(
        "Resources:\n  Placeholder:\n    Type: AWS::CloudFormation::WaitConditionHandle\nOutputs:\n{outputs}"
    )
}

/// Runs `switchyard <args>` against moto; its stdout, after asserting it succeeded.
fn switchyard(moto: &Moto, data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(binary())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(moto.env())
        .output()
        .expect("run switchyard");
    assert!(
        out.status.success(),
        "switchyard {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test]
async fn operator_commands_act_on_a_deployed_stack_by_its_name() {
    let moto = require_moto!();
    let clients = moto.clients(None).await;
    let prefix = Moto::unique_prefix();
    let resources =
        switchyard_aws::bootstrap(&clients, &prefix, switchyard_aws::default_queue_attributes)
            .await
            .expect("bootstrap");
    let urls: serde_json::Map<String, Value> = resources
        .queue_urls
        .iter()
        .map(|(q, url)| (q.as_str().to_owned(), Value::from(url.clone())))
        .collect();
    let stack = format!("{prefix}-stack");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
            "test", "test", None, None, "local",
        ))
        .load()
        .await;
    aws_sdk_cloudformation::Client::new(&config)
        .create_stack()
        .stack_name(&stack)
        .template_body(template(&prefix, &Value::Object(urls)))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .expect("create stack");

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ops");
    let created: Value = serde_json::from_str(&switchyard(
        &moto,
        &data,
        &["orgs", "create", "Acme", "--stack", &stack],
    ))
    .expect("orgs create prints JSON");
    let org = created["org_id"].as_str().expect("org_id");
    let access_key = created["access_key"].as_str().expect("access_key");

    // The credentials land in the data directory, pointing at the stack's API.
    let creds: Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("credentials.json")).expect("credentials.json"),
    )
    .unwrap();
    assert_eq!(creds["org_id"], org);
    assert_eq!(
        creds["api_url"],
        "https://abc123.execute-api.us-east-1.amazonaws.com"
    );
    let token = switchyard(&moto, &data, &["token"]);
    assert_eq!(token.trim().split('.').count(), 3, "a JWT: {token}");

    // The other commands read the same tables: the org's key, its default workspace, a new one.
    let keys = switchyard(&moto, &data, &["keys", "list", "--stack", &stack]);
    assert!(keys.contains(access_key), "{keys}");
    let ws: Value = serde_json::from_str(&switchyard(
        &moto,
        &data,
        &["workspaces", "create", "Billing", "--stack", &stack],
    ))
    .unwrap();
    let list = switchyard(&moto, &data, &["workspaces", "list", "--stack", &stack]);
    assert!(list.contains("default") && list.contains(ws["workspace_id"].as_str().unwrap()));

    // The DLQs are the stack's queues; the console link is the stack's API origin.
    let dlq = switchyard(&moto, &data, &["dlq", "list", "--stack", &stack]);
    assert!(dlq.starts_with("0 message(s)"), "{dlq}");
    let link = switchyard(&moto, &data, &["console", "--stack", &stack]);
    assert!(
        link.starts_with("https://abc123.execute-api.us-east-1.amazonaws.com/console/#login="),
        "{link}"
    );

    // An upgrade's migration finds the stack's history table by the same outputs.
    let migrated = Command::new(binary())
        .args(["migrate", "--stack", &stack])
        .envs(moto.env())
        .output()
        .expect("run switchyard migrate");
    assert!(migrated.status.success(), "{migrated:?}");
    assert_eq!(
        String::from_utf8_lossy(&migrated.stdout).trim(),
        format!(
            "moved 0 event items of {} to their shards",
            resources.history_table
        ),
    );

    // The org is the deployed stack's: the store behind its tables knows it.
    let deps = switchyard_aws::build_deps(&clients, &resources, Default::default())
        .await
        .expect("deps");
    let org_id = org.parse().expect("org id");
    assert!(
        deps.deps
            .tenants()
            .organization(org_id)
            .await
            .unwrap()
            .is_some()
    );
}

#[test]
fn a_stack_that_does_not_exist_is_named_in_the_error() {
    let moto = require_moto!();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(binary())
        .args([
            "keys",
            "list",
            "--org",
            "00000000-0000-4000-8000-000000000000",
        ])
        .args(["--stack", "no-such-stack", "--data-dir"])
        .arg(dir.path())
        .envs(moto.env())
        .output()
        .expect("run switchyard");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-stack"), "{err}");
}
