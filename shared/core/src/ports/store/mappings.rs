use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{ConnectionId, OrgId, StoreError};

/// Each connection's field mapping, versioned for optimistic writes.
#[async_trait]
pub trait Mappings: Send + Sync + 'static {
    /// The connection's field mapping and its version; `None` when none was written (or the
    /// connection is another organization's). Deleting the connection deletes its mapping.
    async fn connection_mapping(
        &self,
        org: OrgId,
        connection: ConnectionId,
    ) -> Result<Option<crate::mapping::VersionedMapping>, StoreError>;

    /// Writes the connection's mapping, at `at`, if its stored version is still
    /// `expected_version` (0: none written yet) and returns the new version,
    /// `expected_version + 1`; the first write's time stays its `created_at`. `Conflict` when
    /// the version has moved. The caller checks that the connection exists.
    async fn put_connection_mapping(
        &self,
        org: OrgId,
        connection: ConnectionId,
        mapping: &crate::mapping::FieldMapping,
        expected_version: u64,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}
