//! No statement of the embedded store reads a big table whole: every SQL statement in this
//! crate's source (and every list query the API can build) is planned with `EXPLAIN QUERY
//! PLAN` against the real schema, and a full scan of a table that grows with traffic fails, as
//! does a statement with a LIMIT that sorts (it reads every match to return a few).
//! History grows without bound; a scan would make the API, the router or the retention purge
//! slower with every event kept.

use std::path::Path;

use rusqlite::Connection;

use super::list;
use crate::{Db, SqliteQueue, SqliteStore};

/// Tables that grow with traffic. The others hold configuration (a tenant's handful of rows).
const BIG: &[&str] = &[
    "events",
    "deliveries",
    "attempts",
    "queue_messages",
    "idempotency_keys",
    "catalog",
    "sessions",
];

/// The list queries the store builds: table and the filters the API offers.
const LISTS: &[(&str, &[&str])] = &[
    (
        "events",
        &["workspace", "event", "resource", "resource_id", "status"],
    ),
    (
        "rules",
        &[
            "workspace",
            "connection",
            "event",
            "resource",
            "resource_id",
        ],
    ),
    ("connections", &["workspace"]),
    (
        "sessions",
        &["workspace", "status", "resource", "resource_id"],
    ),
    ("workspaces", &[]),
];

/// Every string literal in `source` that is a SQL statement.
fn statements(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut literal = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => {
                    if let Some(next) = chars.next() {
                        literal.push(next);
                    }
                }
                c => literal.push(c),
            }
        }
        let head = literal.trim_start().to_ascii_uppercase();
        if ["SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH "]
            .iter()
            .any(|k| head.starts_with(k))
        {
            found.push(literal);
        }
    }
    found
}

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with(file!()) {
            let mut text = std::fs::read_to_string(&path).unwrap();
            // The statements the crate runs, not its tests' own (on tables of their own).
            if let Some(tests) = text.find("\n#[cfg(test)]") {
                text.truncate(tests);
            }
            out.push((path.display().to_string(), text));
        }
    }
}

/// The full scans of big tables in `sql`'s plan (aliases resolved by the plan's own names).
fn big_scans(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap_or_else(|e| panic!("cannot plan {sql}: {e}"));
    // Planned with every parameter NULL: the plan depends on the indexes, not the values.
    let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
    let details: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    // A search by the organization alone reads all of its rows unless a LIMIT stops it (a
    // list's page): the planner picks such an index over a selective one it was not shown.
    let unbounded = !sql.contains("LIMIT");
    details
        .into_iter()
        .filter(|d| {
            let big = |rest: &str| {
                let name = rest.split_whitespace().next().unwrap_or_default();
                BIG.contains(&name) || alias_of_big(sql, name)
            };
            // A LIMIT that sorts reads every match first, however few it returns.
            let sorted = !unbounded && d.starts_with("USE TEMP B-TREE FOR ORDER BY");
            sorted
                || d.strip_prefix("SCAN ").is_some_and(big)
                || (unbounded
                    && d.ends_with("(org=?)")
                    && d.strip_prefix("SEARCH ").is_some_and(big))
        })
        .collect()
}

/// `name` is an alias a FROM or JOIN gives a big table in `sql` (`FROM deliveries d`).
fn alias_of_big(sql: &str, name: &str) -> bool {
    let words: Vec<&str> = sql.split_whitespace().collect();
    words
        .windows(2)
        .any(|w| BIG.contains(&w[0]) && w[1] == name)
}

#[test]
fn no_statement_scans_a_big_table() {
    let db = Db::in_memory().unwrap();
    SqliteStore::open(db.clone()).unwrap();
    SqliteQueue::open(
        db.clone(),
        std::sync::Arc::new(switchyard_core::SystemClock),
        |_| crate::QueueSettings::default(),
    )
    .unwrap();

    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    // The tables `within_limit(c, "<table>", …)` counts rows of.
    let tables: Vec<String> = files
        .iter()
        .flat_map(|(_, text)| text.split("within_limit(c, \"").skip(1))
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect();
    assert!(!tables.is_empty(), "within_limit's tables found");
    let mut planned = Vec::new();
    // list.rs builds its statements; they are planned from `LISTS` below.
    for (file, text) in files.iter().filter(|(f, _)| !f.ends_with("list.rs")) {
        for sql in statements(text) {
            if sql.contains("{table}") {
                // `within_limit`'s count, for any tenant table.
                planned.extend(
                    tables
                        .iter()
                        .map(|t| (file.clone(), sql.replace("{table}", t))),
                );
            } else if !sql.contains('{') {
                planned.push((file.clone(), sql));
            }
        }
    }
    for (table, filters) in LISTS {
        for mask in 0..1_u32 << filters.len() {
            let mut columns = vec!["org"];
            columns.extend(
                filters
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, c)| *c),
            );
            for (upper, lower) in [(false, false), (true, false), (false, true), (true, true)] {
                planned.push(("list.rs".into(), list::sql(table, &columns, upper, lower)));
            }
        }
    }
    assert!(planned.len() > 80, "found {} statements", planned.len());

    let failures: Vec<String> = db
        .call_sync(|c| {
            Ok(planned
                .iter()
                .filter_map(|(file, sql)| {
                    let scans = big_scans(c, sql);
                    (!scans.is_empty()).then(|| format!("{file}: {scans:?} in\n{sql}"))
                })
                .collect())
        })
        .unwrap();
    assert!(
        failures.is_empty(),
        "full scans of big tables:\n{}",
        failures.join("\n\n")
    );
}

/// The `IN` lists of three or more constants in `sql`: SQLite builds a temporary b-tree of
/// such a list each time the statement runs (a page allocated and zeroed), which cost the
/// delivery path several per delivery. Spell them as `=`/`<>` tests.
fn constant_in_lists(sql: &str) -> Vec<String> {
    let upper = sql.to_ascii_uppercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = upper[from..].find(" IN (") {
        let open = from + at + " IN (".len();
        let close = upper[open..].find(')').map_or(upper.len(), |c| open + c);
        let list = &sql[open..close];
        let items: Vec<&str> = list.split(',').map(str::trim).collect();
        if items.len() >= 3 && items.iter().all(|i| i.starts_with('\'')) {
            found.push(list.to_owned());
        }
        from = close;
    }
    found
}

#[test]
fn no_statement_tests_a_column_against_a_list_of_constants() {
    let db = Db::in_memory().unwrap();
    SqliteStore::open(db.clone()).unwrap();
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut sql: Vec<(String, String)> = files
        .iter()
        .flat_map(|(file, text)| statements(text).into_iter().map(|s| (file.clone(), s)))
        .collect();
    // The views and triggers the migrations left, as the database holds them now.
    sql.extend(
        db.call_sync(|c| {
            c.prepare("SELECT name, sql FROM sqlite_master WHERE type IN ('view', 'trigger')")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<(String, String)>>>()
        })
        .unwrap(),
    );
    let failures: Vec<String> = sql
        .iter()
        .filter_map(|(place, s)| {
            let lists = constant_in_lists(s);
            (!lists.is_empty()).then(|| format!("{place}: IN ({})", lists.join("), IN (")))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        constant_in_lists("WHERE s NOT IN ('a', 'b', 'c') AND t IN ('x', 'y')"),
        ["'a', 'b', 'c'"]
    );
}
