//! The two tables as `CreateTable` requests, for `switchyard aws bootstrap` and the tests on
//! moto. `template.yaml` declares the same tables for AWS; a test checks the two agree.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    LocalSecondaryIndex, Projection, ProjectionType, ScalarAttributeType,
};

use super::keys::{FAILED_HASH, FAILED_INDEX, FAILED_SORT, PK, SCOPE, SCOPE_INDEX, SK};

/// A table to create: name, key attributes, and its local indexes.
#[derive(Clone, Debug)]
pub struct TableDefinition {
    pub name: String,
    pub attributes: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchemaElement>,
    pub local_indexes: Vec<LocalSecondaryIndex>,
    pub global_indexes: Vec<GlobalSecondaryIndex>,
    /// Items carry a `ttl` attribute (epoch seconds) that DynamoDB expires.
    pub ttl_attribute: Option<&'static str>,
    pub billing: BillingMode,
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("attribute definition")
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("key schema element")
}

/// The config table (with the `by_scope` local index) and the history table (with TTL and the
/// sparse `failed_by_connection` global index, keys only: a bulk replay reads the deliveries
/// it finds consistently anyway).
pub fn table_definitions(config_table: &str, history_table: &str) -> Vec<TableDefinition> {
    let base_key = vec![key(PK, KeyType::Hash), key(SK, KeyType::Range)];
    let by_scope = LocalSecondaryIndex::builder()
        .index_name(SCOPE_INDEX)
        .key_schema(key(PK, KeyType::Hash))
        .key_schema(key(SCOPE, KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("local index");
    let failed = GlobalSecondaryIndex::builder()
        .index_name(FAILED_INDEX)
        .key_schema(key(FAILED_HASH, KeyType::Hash))
        .key_schema(key(FAILED_SORT, KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()
        .expect("global index");
    vec![
        TableDefinition {
            name: config_table.to_owned(),
            attributes: vec![attr(PK), attr(SK), attr(SCOPE)],
            key_schema: base_key.clone(),
            local_indexes: vec![by_scope],
            global_indexes: Vec::new(),
            ttl_attribute: None,
            billing: BillingMode::PayPerRequest,
        },
        TableDefinition {
            name: history_table.to_owned(),
            attributes: vec![attr(PK), attr(SK), attr(FAILED_HASH), attr(FAILED_SORT)],
            key_schema: base_key,
            local_indexes: Vec::new(),
            global_indexes: vec![failed],
            ttl_attribute: Some(super::keys::TTL),
            billing: BillingMode::PayPerRequest,
        },
    ]
}
