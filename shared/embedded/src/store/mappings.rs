//! Connections' field mappings: one row per connection, written conditionally on its version so
//! two editors cannot overwrite each other unseen.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, named_params};
use switchyard_core::StoreError;
use switchyard_core::clock::from_epoch_millis;
use switchyard_core::mapping::{FieldMapping, VersionedMapping};
use switchyard_core::ports::Mappings;
use switchyard_core::{ConnectionId, OrgId};
use time::OffsetDateTime;

use super::SqliteStore;
use super::rows::{ms, to_json};

#[async_trait]
impl Mappings for SqliteStore {
    async fn connection_mapping(
        &self,
        org: OrgId,
        connection: ConnectionId,
    ) -> Result<Option<VersionedMapping>, StoreError> {
        self.db
            .read(move |c| connection_mapping(c, org, connection))
            .await
    }

    async fn put_connection_mapping(
        &self,
        org: OrgId,
        connection: ConnectionId,
        mapping: &FieldMapping,
        expected_version: u64,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mapping = mapping.clone();
        self.db
            .call(move |c| {
                put_connection_mapping(c, org, connection, &mapping, expected_version, at)
            })
            .await?
            .ok_or_else(|| StoreError::Conflict("the mapping's version has moved".into()))
    }
}

pub(super) fn connection_mapping(
    c: &Connection,
    org: OrgId,
    connection: ConnectionId,
) -> rusqlite::Result<Option<VersionedMapping>> {
    let row: Option<(String, i64, i64, i64)> = c
        .prepare_cached(
            "SELECT mapping, version, created_at, updated_at FROM connection_mappings
             WHERE org = ?1 AND connection = ?2",
        )?
        .query_row([org.to_string(), connection.to_string()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .optional()?;
    row.map(|(text, version, created_at, updated_at)| {
        let mapping: FieldMapping = serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })?;
        Ok(VersionedMapping {
            mapping,
            version: version as u64,
            created_at: from_epoch_millis(created_at),
            updated_at: from_epoch_millis(updated_at),
        })
    })
    .transpose()
}

/// The new version, or `None` when the stored version is not `expected` (nothing written).
pub(super) fn put_connection_mapping(
    c: &mut Connection,
    org: OrgId,
    connection: ConnectionId,
    mapping: &FieldMapping,
    expected: u64,
    at: OffsetDateTime,
) -> rusqlite::Result<Option<u64>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: u64 = tx
        .query_row(
            "SELECT version FROM connection_mappings WHERE org = ?1 AND connection = ?2",
            [org.to_string(), connection.to_string()],
            |row| row.get::<_, i64>(0),
        )
        .optional()?
        .map_or(0, |v| v as u64);
    if current != expected {
        return Ok(None);
    }
    let version = expected + 1;
    tx.prepare_cached(
        "INSERT INTO connection_mappings (org, connection, version, mapping, created_at, updated_at)
         VALUES (:org, :connection, :version, :mapping, :at, :at)
         ON CONFLICT (org, connection)
         DO UPDATE SET version = :version, mapping = :mapping, updated_at = :at",
    )?
    .execute(named_params! {
        ":org": org.to_string(),
        ":connection": connection.to_string(),
        ":version": version as i64,
        ":mapping": to_json(mapping)?,
        ":at": ms(at),
    })?;
    tx.commit()?;
    Ok(Some(version))
}
