//! Newest-first cursor pages over one tenant's rows, with optional equality filters.

use rusqlite::types::Value;
use rusqlite::{Connection, Row, params_from_iter};
use switchyard_core::OrgId;
use switchyard_core::page::{Page, PageRequest};
use uuid::Uuid;

/// `SELECT * FROM <table> WHERE org = ? [AND <column> = ?]… [AND id < cursor]
/// ORDER BY id DESC LIMIT limit + 1`. Table and column names are static, so only values are
/// ever bound from input.
pub(super) struct ListQuery {
    table: &'static str,
    columns: Vec<&'static str>,
    values: Vec<Value>,
    /// `id >= lower` and `id < upper`, when set (a time range over UUIDv7 ids).
    lower: Option<Uuid>,
    upper: Option<Uuid>,
}

impl ListQuery {
    pub(super) fn new(table: &'static str, org: OrgId) -> Self {
        Self {
            table,
            columns: vec!["org"],
            values: vec![Value::Text(org.to_string())],
            lower: None,
            upper: None,
        }
    }

    /// Narrows the list to ids in `[lower, upper)`; `None` leaves that side open.
    pub(super) fn ids_within(mut self, lower: Option<Uuid>, upper: Option<Uuid>) -> Self {
        self.lower = lower;
        self.upper = upper;
        self
    }

    /// Adds `column = value` when a value is given; `None` means "any".
    pub(super) fn filter(mut self, column: &'static str, value: Option<String>) -> Self {
        if let Some(value) = value {
            self.columns.push(column);
            self.values.push(Value::Text(value));
        }
        self
    }

    /// Runs the query for one page. Ids are UUID v7 in hyphenated text, so `id < cursor` is
    /// "older than the cursor": records created meanwhile never shift a later page.
    pub(super) fn page<T>(
        mut self,
        conn: &Connection,
        page: PageRequest,
        map: fn(&Row) -> rusqlite::Result<T>,
        id: fn(&T) -> Uuid,
    ) -> rusqlite::Result<Page<T>> {
        // The cursor and the range's end are both "older than": the lower of them applies.
        let upper = match (page.cursor, self.upper) {
            (Some(c), Some(u)) => Some(c.min(u)),
            (c, u) => c.or(u),
        };
        let sql = sql(
            self.table,
            &self.columns,
            upper.is_some(),
            self.lower.is_some(),
        );
        if let Some(upper) = upper {
            self.values
                .push(Value::Text(upper.hyphenated().to_string()));
        }
        if let Some(lower) = self.lower {
            self.values
                .push(Value::Text(lower.hyphenated().to_string()));
        }
        // One extra row tells whether another page follows.
        self.values.push(Value::Integer(i64::from(page.limit) + 1));

        let mut stmt = conn.prepare(&sql)?;
        let records = stmt
            .query_map(params_from_iter(self.values.iter()), map)?
            .collect::<rusqlite::Result<Vec<T>>>()?;
        Ok(Page::from_overfetch(records, page.limit, id))
    }
}

/// The page query over `table` filtered on `columns` (the first is `org`), from the newest or
/// below an upper id (a cursor or a range's end), and above a lower id when `lower`.
pub(super) fn sql(table: &str, columns: &[&str], upper: bool, lower: bool) -> String {
    let mut sql = format!("SELECT * FROM {table} WHERE ");
    let conditions: Vec<String> = columns.iter().map(|c| format!("{c} = ?")).collect();
    sql.push_str(&conditions.join(" AND "));
    if upper {
        sql.push_str(" AND id < ?");
    }
    if lower {
        sql.push_str(" AND id >= ?");
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    sql
}
