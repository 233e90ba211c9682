//! Organizations, machine keys and publishable keys.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, named_params};
use switchyard_core::domain::*;
use switchyard_core::ports::Tenants;
use switchyard_core::{OrgId, StoreError, WorkspaceId};

use super::SqliteStore;
use super::rows::{self, ms, ms_opt};

#[async_trait]
impl Tenants for SqliteStore {
    async fn create_organization(&self, org: &Organization) -> Result<(), StoreError> {
        let org = org.clone();
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "INSERT INTO organizations (id, name, created_at)
                     VALUES (:id, :name, :created_at)",
                )?
                .execute(named_params! {
                    ":id": org.id.to_string(),
                    ":name": org.name,
                    ":created_at": ms(org.created_at),
                })
                .map(drop)
            })
            .await
    }

    async fn organization(&self, id: OrgId) -> Result<Option<Organization>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached("SELECT * FROM organizations WHERE id = ?1")?
                    .query_row([id.to_string()], rows::organization)
                    .optional()
            })
            .await
    }

    async fn put_machine_key(&self, key: &MachineKey) -> Result<(), StoreError> {
        let key = key.clone();
        let written = self
            .db
            .call(move |c| {
                // An upsert (revoking rewrites the key) that never moves a key to another org.
                c.prepare_cached("INSERT INTO machine_keys (access_key, org, name, secret, created_at, revoked_at)
                     VALUES (:access_key, :org, :name, :secret, :created_at, :revoked_at)
                     ON CONFLICT (access_key) DO UPDATE SET
                         name = excluded.name,
                         secret = excluded.secret,
                         created_at = excluded.created_at,
                         revoked_at = excluded.revoked_at
                     WHERE machine_keys.org = excluded.org")?.execute(
                    named_params! {
                        ":access_key": key.access_key,
                        ":org": key.org.to_string(),
                        ":name": key.name,
                        ":secret": key.secret.0,
                        ":created_at": ms(key.created_at),
                        ":revoked_at": ms_opt(key.revoked_at),
                    },
                )
            })
            .await?;
        if written == 0 {
            return Err(StoreError::Conflict(
                "machine key belongs to another organization".into(),
            ));
        }
        Ok(())
    }

    async fn machine_key(&self, access_key: &str) -> Result<Option<MachineKey>, StoreError> {
        let access_key = access_key.to_owned();
        self.db
            .read(move |c| {
                c.prepare_cached("SELECT * FROM machine_keys WHERE access_key = ?1")?
                    .query_row([access_key], rows::machine_key)
                    .optional()
            })
            .await
    }

    async fn machine_keys(&self, org: OrgId) -> Result<Vec<MachineKey>, StoreError> {
        self.db
            .call(move |c| {
                c.prepare_cached(
                    "SELECT * FROM machine_keys WHERE org = ?1 ORDER BY created_at, access_key",
                )?
                .query_map([org.to_string()], rows::machine_key)?
                .collect()
            })
            .await
    }

    async fn delete_machine_key(&self, org: OrgId, access_key: &str) -> Result<bool, StoreError> {
        let access_key = access_key.to_owned();
        let deleted = self
            .db
            .call(move |c| {
                c.prepare_cached("DELETE FROM machine_keys WHERE access_key = ?1 AND org = ?2")?
                    .execute([access_key, org.to_string()])
            })
            .await?;
        Ok(deleted > 0)
    }

    async fn put_publishable_key(&self, key: &PublishableKey) -> Result<(), StoreError> {
        let key = key.clone();
        let written = self
            .db
            .call(move |c| {
                // An upsert (rotation sets `expires_at`) that never moves a key to another tenant.
                c.prepare_cached(
                    "INSERT INTO publishable_keys
                         (key_hash, org, workspace, name, key, created_at, expires_at)
                     VALUES (:key_hash, :org, :workspace, :name, :key, :created_at, :expires_at)
                     ON CONFLICT (key_hash) DO UPDATE SET
                         name = excluded.name,
                         key = excluded.key,
                         created_at = excluded.created_at,
                         expires_at = excluded.expires_at
                     WHERE publishable_keys.org = excluded.org
                       AND publishable_keys.workspace = excluded.workspace",
                )?
                .execute(named_params! {
                    ":key_hash": key.key_hash,
                    ":org": key.org.to_string(),
                    ":workspace": key.workspace.to_string(),
                    ":name": key.name,
                    ":key": key.key.0,
                    ":created_at": ms(key.created_at),
                    ":expires_at": ms_opt(key.expires_at),
                })
            })
            .await?;
        if written == 0 {
            return Err(StoreError::Conflict(
                "publishable key belongs to another workspace".into(),
            ));
        }
        Ok(())
    }

    async fn publishable_key(&self, key_hash: &str) -> Result<Option<PublishableKey>, StoreError> {
        let generation = self.db.generation();
        if let Some(key) = self.cache.publishable_keys.get(key_hash, generation) {
            return Ok(Some(key));
        }
        let hash = key_hash.to_owned();
        let key = self
            .db
            .read(move |c| {
                c.prepare_cached("SELECT * FROM publishable_keys WHERE key_hash = ?1")?
                    .query_row([hash], rows::publishable_key)
                    .optional()
            })
            .await?;
        // Only keys found: an unknown one (a client's typo, or someone guessing) is read
        // again each time rather than filling the cache.
        if let Some(key) = &key {
            let hash = key_hash.to_owned();
            self.cache
                .publishable_keys
                .put(hash, key.clone(), generation);
        }
        Ok(key)
    }

    async fn publishable_keys(
        &self,
        org: OrgId,
        workspace: WorkspaceId,
    ) -> Result<Vec<PublishableKey>, StoreError> {
        self.db
            .call(move |c| {
                // Key hashes are not time-ordered; rowid breaks ties of the same millisecond.
                c.prepare_cached(
                    "SELECT * FROM publishable_keys WHERE org = ?1 AND workspace = ?2
                     ORDER BY created_at DESC, rowid DESC",
                )?
                .query_map(
                    [org.to_string(), workspace.to_string()],
                    rows::publishable_key,
                )?
                .collect()
            })
            .await
    }
}
