//! Cursor pagination: `{count, limit, next_cursor, records}`.
//!
//! Lists are newest first. The cursor is the last record's id; ids are time-ordered (UUID v7),
//! so "ids older than the cursor" never skips or repeats a record while new ones arrive (they
//! have larger ids and appear only on a fresh first page).

use uuid::Uuid;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    /// Return records with ids strictly smaller (older) than this one.
    pub cursor: Option<Uuid>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub records: Vec<T>,
    pub limit: u32,
    /// Present when more records may follow.
    pub next_cursor: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched records: the extra one only signals more.
    pub fn from_overfetch(mut records: Vec<T>, limit: u32, id: impl Fn(&T) -> Uuid) -> Self {
        let more = records.len() > limit as usize;
        records.truncate(limit as usize);
        let next_cursor = if more { records.last().map(&id) } else { None };
        Self {
            records,
            limit,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            records: self.records.into_iter().map(f).collect(),
            limit: self.limit,
            next_cursor: self.next_cursor,
        }
    }
}
