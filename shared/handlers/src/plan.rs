//! The plan's limits, applied where things are created: events per month at ingest (counted
//! before the event is stored, so an answered 201 never exceeds the plan), workspaces,
//! connections and rules at their create routes.

use switchyard_core::domain::{Connection, Rule};
use switchyard_core::plan::{Resource, UsagePeriod};
use switchyard_core::{OrgId, StoreError};

use crate::Deps;

#[derive(Clone, Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the plan's {limit} events for {} are used up", period.key)]
    Events { limit: u64, period: UsagePeriod },
    #[error("the plan allows {limit} {}", resource.as_str())]
    Resource { resource: Resource, limit: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts `n` events of `org` towards this month's limit, refusing them all when they do not fit.
pub async fn count_events(deps: &Deps, org: OrgId, n: u64) -> Result<(), PlanError> {
    let Some(limit) = deps.settings.plan.events_per_month else {
        return Ok(());
    };
    let period = UsagePeriod::containing(deps.now());
    match deps
        .metering()
        .count_events(org, &period.key, n, limit)
        .await?
    {
        Some(_) => Ok(()),
        None => Err(PlanError::Events { limit, period }),
    }
}

/// Whether `org` may create one more `resource`: a cheap early refusal before a create's
/// costlier steps (a destination probe). The create itself is counted atomically
/// ([`create_connection`], [`create_rule`]), so concurrent creates never overshoot.
pub async fn check_room(deps: &Deps, org: OrgId, resource: Resource) -> Result<(), PlanError> {
    let Some(limit) = deps.settings.plan.of(resource) else {
        return Ok(());
    };
    let usage = deps.metering().usage(org, None).await?;
    if usage.of(resource) >= limit {
        return Err(PlanError::Resource { resource, limit });
    }
    Ok(())
}

/// Stores a new connection within the plan's limit: the store counts and writes in one
/// atomic step, so of concurrent creates only those that fit succeed (403 for the rest).
pub async fn create_connection(deps: &Deps, connection: &Connection) -> Result<(), PlanError> {
    let resource = Resource::Connections;
    match deps.settings.plan.of(resource) {
        None => deps.connections().create_connection(connection).await?,
        Some(limit) => {
            if !deps
                .connections()
                .create_connection_within(connection, limit)
                .await?
            {
                return Err(PlanError::Resource { resource, limit });
            }
        }
    }
    Ok(())
}

/// As [`create_connection`], for a rule.
pub async fn create_rule(deps: &Deps, rule: &Rule) -> Result<(), PlanError> {
    let resource = Resource::Rules;
    match deps.settings.plan.of(resource) {
        None => deps.rules().create_rule(rule).await?,
        Some(limit) => {
            if !deps.rules().create_rule_within(rule, limit).await? {
                return Err(PlanError::Resource { resource, limit });
            }
        }
    }
    Ok(())
}
