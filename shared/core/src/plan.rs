//! Plan limits: what one organization may use — events per calendar month, workspaces,
//! connections, rules — and how long its history is kept. Set per deployment; a limit that is
//! reached refuses the request with a clear error, it never drops anything silently.

use time::{Date, Month, OffsetDateTime, Time};

/// History is kept between these bounds (days), as Meshes' plans do.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 3..=60;
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// `None` is unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanLimits {
    pub events_per_month: Option<u64>,
    pub workspaces: Option<u64>,
    pub connections: Option<u64>,
    pub rules: Option<u64>,
    pub retention_days: u32,
}

impl Default for PlanLimits {
    fn default() -> Self {
        Self {
            events_per_month: None,
            workspaces: None,
            connections: None,
            rules: None,
            retention_days: DEFAULT_RETENTION_DAYS,
        }
    }
}

impl PlanLimits {
    /// Reads the limits from environment-style variables (`SWITCHYARD_PLAN_EVENTS_PER_MONTH`,
    /// `_WORKSPACES`, `_CONNECTIONS`, `_RULES`, and `SWITCHYARD_RETENTION_DAYS`); unset or
    /// empty is unlimited (retention: 30 days).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let limit = |name: &str| -> Result<Option<u64>, String> {
            match get(name).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => v
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{name} must be a whole number")),
            }
        };
        let retention_days = match get("SWITCHYARD_RETENTION_DAYS").filter(|v| !v.is_empty()) {
            None => DEFAULT_RETENTION_DAYS,
            Some(v) => v
                .parse()
                .ok()
                .filter(|d| RETENTION_DAYS.contains(d))
                .ok_or("SWITCHYARD_RETENTION_DAYS must be between 3 and 60 days")?,
        };
        Ok(Self {
            events_per_month: limit("SWITCHYARD_PLAN_EVENTS_PER_MONTH")?,
            workspaces: limit("SWITCHYARD_PLAN_WORKSPACES")?,
            connections: limit("SWITCHYARD_PLAN_CONNECTIONS")?,
            rules: limit("SWITCHYARD_PLAN_RULES")?,
            retention_days,
        })
    }

    /// The bound on `resource`.
    pub fn of(&self, resource: Resource) -> Option<u64> {
        match resource {
            Resource::Workspaces => self.workspaces,
            Resource::Connections => self.connections,
            Resource::Rules => self.rules,
        }
    }
}

/// What a plan counts by number of items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Workspaces,
    Connections,
    Rules,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workspaces => "workspaces",
            Self::Connections => "connections",
            Self::Rules => "rules",
        }
    }
}

/// What an organization has and has sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub workspaces: u64,
    pub connections: u64,
    pub rules: u64,
    /// Events accepted in the period, as counted at ingest — kept only where a monthly limit
    /// is set (counting costs a write per request on DynamoDB).
    pub events_counted: Option<u64>,
    /// Events of the period still in the history (retention may already have removed some).
    pub events_stored: u64,
}

impl Usage {
    pub fn of(&self, resource: Resource) -> u64 {
        match resource {
            Resource::Workspaces => self.workspaces,
            Resource::Connections => self.connections,
            Resource::Rules => self.rules,
        }
    }

    /// Events of the period: the ingest count where kept, else what the history holds.
    pub fn events(&self) -> u64 {
        self.events_counted
            .map_or(self.events_stored, |n| n.max(self.events_stored))
    }
}

/// A calendar month in UTC: the period monthly event limits count over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsagePeriod {
    /// `2026-11`: the counter's key.
    pub key: String,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

impl UsagePeriod {
    pub fn containing(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let first = |year, month| {
            Date::from_calendar_date(year, month, 1)
                .expect("the first of a month exists")
                .with_time(Time::MIDNIGHT)
                .assume_utc()
        };
        let start = first(at.year(), at.month());
        let (year, month) = match at.month() {
            Month::December => (at.year() + 1, Month::January),
            m => (at.year(), m.next()),
        };
        Self {
            key: format!("{:04}-{:02}", at.year(), u8::from(at.month())),
            start,
            end: first(year, month),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn periods_are_utc_calendar_months() {
        let p = UsagePeriod::containing(datetime!(2026-12-31 23:59:59 -01:00));
        assert_eq!(p.key, "2027-01");
        assert_eq!(p.start, datetime!(2027-01-01 0:00 UTC));
        assert_eq!(p.end, datetime!(2027-02-01 0:00 UTC));
        let p = UsagePeriod::containing(datetime!(2026-11-23 10:00 UTC));
        assert_eq!(p.key, "2026-11");
        assert_eq!(p.end, datetime!(2026-12-01 0:00 UTC));
    }

    #[test]
    fn limits_read_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(PlanLimits::from_lookup(env(&[])), Ok(PlanLimits::default()));
        let limits = PlanLimits::from_lookup(env(&[
            ("SWITCHYARD_PLAN_EVENTS_PER_MONTH", "100000"),
            ("SWITCHYARD_PLAN_RULES", "20"),
            ("SWITCHYARD_RETENTION_DAYS", "7"),
        ]))
        .unwrap();
        assert_eq!(limits.events_per_month, Some(100_000));
        assert_eq!(limits.rules, Some(20));
        assert_eq!(limits.workspaces, None);
        assert_eq!(limits.retention_days, 7);
        assert!(PlanLimits::from_lookup(env(&[("SWITCHYARD_RETENTION_DAYS", "90")])).is_err());
        assert!(PlanLimits::from_lookup(env(&[("SWITCHYARD_PLAN_RULES", "many")])).is_err());
    }

    #[test]
    fn counted_events_win_over_stored_ones_unless_fewer() {
        let mut u = Usage {
            events_stored: 7,
            ..Usage::default()
        };
        assert_eq!(u.events(), 7);
        u.events_counted = Some(9);
        assert_eq!(u.events(), 9);
        u.events_counted = Some(3);
        assert_eq!(u.events(), 7);
    }
}
