//! Spent OAuth authorisation states: one item per nonce in the history table, written on the
//! condition that none is there (or the one there has expired), and removed by DynamoDB's TTL
//! when the state expires.

use switchyard_core::{OrgId, StoreError};
use time::OffsetDateTime;

use super::expr::Expr;
use super::item::{Item, ms, n, s};
use super::keys::{PK, SK, TTL, oauth_state_pk};
use super::{DynamoStore, Table};

const STATE_SK: &str = "S";

impl DynamoStore {
    pub(super) async fn consume_oauth_state_item(
        &self,
        org: OrgId,
        nonce: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut item = Item::new();
        item.insert(PK.into(), s(oauth_state_pk(org, nonce)));
        item.insert(SK.into(), s(STATE_SK));
        item.insert("exp".into(), ms(expires_at));
        item.insert(TTL.into(), n(expires_at.unix_timestamp()));
        let unused = Expr::new("attribute_not_exists(#pk) OR #exp <= :now").value(":now", ms(now));
        self.put(Table::History, item, Some(unused)).await
    }
}
