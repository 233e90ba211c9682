//! Reading an instant from a payload value, for `to_date` and `to_datetime`.
//!
//! Accepted: a number or a string of digits — epoch **milliseconds** when its magnitude is at
//! least 10^11, epoch **seconds** below that (10^11 s is the year 5138, 10^11 ms is 1973, so the
//! two ranges of real timestamps do not overlap); fractional epochs are kept to the
//! microsecond. An RFC 3339 string (`2026-04-17T15:06:00Z`, `…+02:00`, fractions allowed). A
//! date `YYYY-MM-DD`, read as midnight UTC. Output is always UTC.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::transform::{kind, parse_number};

/// Epoch values at or above this magnitude are milliseconds.
const MILLIS_FROM: f64 = 1e11;

const NOT_A_TIME: &str =
    "the string is not a time (epoch seconds or milliseconds, RFC 3339, or YYYY-MM-DD)";

pub(super) fn instant(value: &Value) -> Result<OffsetDateTime, String> {
    match value {
        Value::Number(n) => epoch(n),
        Value::String(s) => {
            let s = s.trim();
            if !s.is_empty()
                && s.trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            {
                let n = parse_number(s).ok_or(NOT_A_TIME)?;
                return epoch(&n);
            }
            if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
                return Ok(t.to_offset(time::UtcOffset::UTC));
            }
            let date = Date::parse(s, format_description!("[year]-[month]-[day]"))
                .map_err(|_| NOT_A_TIME)?;
            Ok(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc())
        }
        other => Err(format!("expects a number or a string, got {}", kind(other))),
    }
}

fn epoch(n: &serde_json::Number) -> Result<OffsetDateTime, String> {
    let nanos: i128 = if let Some(i) = n.as_i64() {
        let i = i128::from(i);
        if (i.abs() as f64) >= MILLIS_FROM {
            i * 1_000_000
        } else {
            i * 1_000_000_000
        }
    } else {
        let f = n.as_f64().ok_or("the number is out of range")?;
        let seconds = if f.abs() >= MILLIS_FROM { f / 1e3 } else { f };
        // Microseconds: a double cannot carry nanoseconds of a present-day epoch. The cast
        // saturates, so a huge number lands out of range below rather than overflowing.
        ((seconds * 1e6).round() as i128).saturating_mul(1_000)
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| "the time is out of range".into())
}

/// `YYYY-MM-DD`, the UTC date.
pub(super) fn date(t: OffsetDateTime) -> Result<Value, String> {
    t.format(format_description!("[year]-[month]-[day]"))
        .map(Value::String)
        .map_err(|_| "the date is out of range".into())
}

/// RFC 3339 in UTC; fails outside the years 0000–9999, which RFC 3339 cannot write.
pub(super) fn rfc3339(t: OffsetDateTime) -> Result<Value, String> {
    t.format(&Rfc3339)
        .map(Value::String)
        .map_err(|_| "the time is outside the years 0000-9999".into())
}
