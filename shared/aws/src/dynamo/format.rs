//! The format a config table's credentials were written in, recorded in one marker item, so
//! that `switchyard serve --backend aws` refuses a table an older Switchyard wrote — whose
//! organization ids (UUIDv7) and access keys (`AK…`) the official clients refuse — instead of
//! serving it. There were no deployments to carry over, so there is no migration.

use super::item::{Item, Reader, n, s};
use super::keys::{PK, SK};
use super::{DynamoStore, Table};
use crate::error::backend;

const FORMAT_PK: &str = "SWITCHYARD";
const FORMAT_SK: &str = "FORMAT";
const CREDENTIALS: &str = "credentials";
/// Organization ids UUIDv4, access keys `mk_…`: the formats Meshes' clients accept.
const CREDENTIAL_FORMAT: u64 = 2;

impl DynamoStore {
    /// `Ok` for a table of this format, marking a new (empty) one; `Err` saying what to do for
    /// one an older Switchyard wrote. One GetItem; on a table without its marker also a Scan
    /// of at most one item (the only Scan there is), to tell an empty table from an old one.
    pub async fn check_format(&self) -> Result<(), String> {
        let old = || {
            format!(
                "the DynamoDB table {} was written by an older Switchyard: its organization ids \
                 (UUIDv7) and machine keys (`AK…`) have formats the official Meshes clients \
                 refuse. Delete the stack's tables (or use another --aws-prefix) and start \
                 again; a new organization and machine key are created on start",
                self.config_table
            )
        };
        let marker = self
            .get(Table::Config, FORMAT_PK.to_owned(), FORMAT_SK)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(item) = marker {
            let format: u64 = Reader::new(&item, "format marker")
                .num(CREDENTIALS)
                .map_err(|e| e.to_string())?;
            return if format == CREDENTIAL_FORMAT {
                Ok(())
            } else {
                Err(old())
            };
        }
        let any = self
            .client
            .scan()
            .table_name(&self.config_table)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("Scan", e).to_string())?;
        if any.items.is_some_and(|items| !items.is_empty()) {
            return Err(old());
        }
        let item: Item = [
            (PK.to_owned(), s(FORMAT_PK)),
            (SK.to_owned(), s(FORMAT_SK)),
            (CREDENTIALS.to_owned(), n(CREDENTIAL_FORMAT)),
        ]
        .into_iter()
        .collect();
        self.put(Table::Config, item, None)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}
