//! Connections' field mappings: one config item per connection, beside it in the organization's
//! partition, written with a condition on its version (a put that must not overwrite for the
//! first version), so a stale writer gets `Conflict` and nothing changes.

use async_trait::async_trait;
use switchyard_core::mapping::{FieldMapping, VersionedMapping};
use switchyard_core::ports::Mappings;
use switchyard_core::{ConnectionId, OrgId, StoreError};
use time::OffsetDateTime;

use super::expr::Expr;
use super::item::{Item, Reader, json_s, ms, n, s};
use super::keys::{PK, SK, mapping_sk, org_pk};
use super::{DynamoStore, Table, absent};

const MAPPING: &str = "mapping";
const VERSION: &str = "version";
const CREATED_AT: &str = "created_at";
const UPDATED_AT: &str = "updated_at";

#[async_trait]
impl Mappings for DynamoStore {
    async fn connection_mapping(
        &self,
        org: OrgId,
        connection: ConnectionId,
    ) -> Result<Option<VersionedMapping>, StoreError> {
        let Some(item) = self
            .get(Table::Config, org_pk(org), &mapping_sk(connection))
            .await?
        else {
            return Ok(None);
        };
        let r = Reader::new(&item, "field mapping");
        Ok(Some(VersionedMapping {
            mapping: r.json(MAPPING)?,
            version: r.num(VERSION)?,
            created_at: r.time(CREATED_AT)?,
            updated_at: r.time(UPDATED_AT)?,
        }))
    }

    async fn put_connection_mapping(
        &self,
        org: OrgId,
        connection: ConnectionId,
        mapping: &switchyard_core::mapping::FieldMapping,
        expected_version: u64,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.put_connection_mapping_item(org, connection, mapping, expected_version, at)
            .await
    }
}

impl DynamoStore {
    pub(super) async fn put_connection_mapping_item(
        &self,
        org: OrgId,
        connection: ConnectionId,
        mapping: &FieldMapping,
        expected: u64,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        // Saturating: an `expected` that high is never the stored version, so the put is refused.
        let version = expected.saturating_add(1);
        // A put replaces the item, so a later version carries the first one's `created_at`
        // forward: read here, and the version condition below makes the read current.
        let created_at = match expected {
            0 => at,
            _ => self
                .connection_mapping(org, connection)
                .await?
                .map_or(at, |stored| stored.created_at),
        };
        let item: Item = [
            (PK.to_owned(), s(org_pk(org))),
            (SK.to_owned(), s(mapping_sk(connection))),
            (VERSION.to_owned(), n(version)),
            (MAPPING.to_owned(), json_s(mapping)?),
            (CREATED_AT.to_owned(), ms(created_at)),
            (UPDATED_AT.to_owned(), ms(at)),
        ]
        .into_iter()
        .collect();
        let condition = if expected == 0 {
            absent()
        } else {
            Expr::new("#version = :expected").value(":expected", n(expected))
        };
        if self.put(Table::Config, item, Some(condition)).await? {
            Ok(version)
        } else {
            Err(StoreError::Conflict(
                "the mapping's version has moved".into(),
            ))
        }
    }

    /// Removes a deleted connection's mapping; `false` when it had none.
    pub(super) async fn delete_connection_mapping_item(
        &self,
        org: OrgId,
        connection: ConnectionId,
    ) -> Result<bool, StoreError> {
        self.delete(Table::Config, org_pk(org), &mapping_sk(connection))
            .await
    }
}
