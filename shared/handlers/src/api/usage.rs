//! `GET /usage` (extension): the organization's plan limits and what it uses of them.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use switchyard_core::plan::UsagePeriod;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::Machine;
use super::error::ApiResult;
use super::openapi::{Forbidden, Unauthorized};
use crate::Deps;

#[derive(Serialize, ToSchema)]
pub struct UsageView {
    /// The calendar month (UTC) monthly limits count over.
    pub period: PeriodView,
    pub limits: LimitsView,
    pub usage: UsedView,
}

#[derive(Serialize, ToSchema)]
pub struct PeriodView {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub end: OffsetDateTime,
}

/// `null` is unlimited.
#[derive(Serialize, ToSchema)]
pub struct LimitsView {
    pub events_per_month: Option<u64>,
    pub workspaces: Option<u64>,
    pub connections: Option<u64>,
    pub rules: Option<u64>,
    /// Days the delivery history is kept (3–60).
    pub retention_days: u32,
}

#[derive(Serialize, ToSchema)]
pub struct UsedView {
    /// Events accepted this period: the ingest count where a monthly limit is set, else the
    /// events of the period still in the history.
    pub events: u64,
    pub workspaces: u64,
    pub connections: u64,
    pub rules: u64,
}

#[utoipa::path(
    get,
    path = "/api/v1/usage",
    operation_id = "getUsage",
    summary = "Plan limits and usage",
    description = "**Extension**: the organization's plan limits (`null` = unlimited) and what \
        it uses of them this calendar month (UTC). Over a limit, event ingest answers 429 \
        `QuotaExceeded` with `Retry-After` until the month turns, and creating a workspace, \
        connection or rule answers 403 `PlanLimitReached` — nothing is dropped silently.",
    tag = "usage",
    security(("machine_jwt" = [])),
    responses(
        (status = 200, description = "Limits and usage.", body = UsageView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
)]
pub async fn get(State(deps): State<Deps>, machine: Machine) -> ApiResult<Json<UsageView>> {
    let period = UsagePeriod::containing(deps.now());
    let used = deps.metering().usage(machine.org, Some(&period)).await?;
    let plan = deps.settings.plan;
    Ok(Json(UsageView {
        period: PeriodView {
            start: period.start,
            end: period.end,
        },
        limits: LimitsView {
            events_per_month: plan.events_per_month,
            workspaces: plan.workspaces,
            connections: plan.connections,
            rules: plan.rules,
            retention_days: plan.retention_days,
        },
        usage: UsedView {
            events: used.events(),
            workspaces: used.workspaces,
            connections: used.connections,
            rules: used.rules,
        },
    }))
}
