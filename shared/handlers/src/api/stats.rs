//! `GET /workspaces/{id}/stats` (extension): a workspace's deliveries by time and status, and
//! its failure rate — the dashboard's chart without a full-list fetch.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use switchyard_core::domain::DeliveryStatus;
use switchyard_core::{ValidationErrors, WorkspaceId};
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, Reader};
use super::body::PathId;
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized};
use super::query::Params;
use crate::Deps;

/// The longest window one call counts, and the most buckets it answers.
const MAX_WINDOW: Duration = Duration::days(31);
const MAX_BUCKETS: u64 = 200;

/// Deliveries per status.
#[derive(Clone, Copy, Default, Serialize, ToSchema)]
pub struct StatusCounts {
    pub pending: u64,
    pub processing: u64,
    pub retrying: u64,
    pub completed: u64,
    pub failed: u64,
    pub canceled: u64,
}

impl StatusCounts {
    fn add(&mut self, status: DeliveryStatus, n: u64) {
        *match status {
            DeliveryStatus::Pending => &mut self.pending,
            DeliveryStatus::Processing => &mut self.processing,
            DeliveryStatus::Retrying => &mut self.retrying,
            DeliveryStatus::Completed => &mut self.completed,
            DeliveryStatus::Failed => &mut self.failed,
            DeliveryStatus::Canceled => &mut self.canceled,
        } += n;
    }
}

#[derive(Serialize, ToSchema)]
pub struct BucketView {
    /// The bucket's start; it lasts `bucket_seconds`.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub start: OffsetDateTime,
    pub counts: StatusCounts,
}

#[derive(Serialize, ToSchema)]
pub struct StatsView {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
    pub bucket_seconds: u64,
    /// Every bucket from `since` to now, oldest first (empty ones too).
    pub buckets: Vec<BucketView>,
    pub totals: StatusCounts,
    /// Failed among the deliveries that ended (completed, failed, canceled); `null` when none
    /// has ended.
    pub failure_rate: Option<f64>,
    /// `false` when only the newest part of the window was counted (DynamoDB reads at most
    /// 1,000 events per call).
    pub complete: bool,
}

/// Query of `GET /workspaces/{id}/stats`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StatsParams {
    /// The window's start (RFC 3339), at most 31 days ago; default 24 hours ago.
    since: Option<String>,
    /// Seconds per bucket, 60–86400; default 3600. At most 200 buckets per window.
    bucket: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/workspaces/{id}/stats",
    operation_id = "getWorkspaceStats",
    summary = "Deliveries by time and status",
    description = "**Extension**: the workspace's deliveries made since `since`, counted per \
        bucket and status, their totals and the failure rate. A resource session, which sees \
        one resource's history only, is refused (403).",
    tag = "events",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(("id" = uuid::Uuid, Path, description = "Workspace id."), StatsParams),
    responses(
        (status = 200, description = "The counts.", body = StatsView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn get(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(workspace): PathId<WorkspaceId>,
    params: Params,
) -> ApiResult<Json<StatsView>> {
    caller.workspace(&deps, workspace).await?;
    if let Caller::Session(s) = &*caller
        && s.resource.is_some()
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "A resource session sees one resource's events; workspace stats are beyond it",
        ));
    }
    let now = deps.now();
    let (since, bucket) = window(&params, now)?;
    let since_ms = epoch_ms(since);
    let bucket_ms = bucket * 1000;
    let first = since_ms / bucket_ms * bucket_ms;
    let counted = deps
        .deliveries()
        .delivery_counts(caller.org(), workspace, since_ms, bucket_ms)
        .await?;
    let mut buckets: Vec<BucketView> = (first..=epoch_ms(now))
        .step_by(usize::try_from(bucket_ms).unwrap_or(usize::MAX))
        .map(|start| BucketView {
            start: from_ms(start),
            counts: StatusCounts::default(),
        })
        .collect();
    let mut totals = StatusCounts::default();
    for (start, status, n) in counted.counts {
        totals.add(status, n);
        let index = start.saturating_sub(first) / bucket_ms;
        if let Some(b) = usize::try_from(index).ok().and_then(|i| buckets.get_mut(i)) {
            b.counts.add(status, n);
        }
    }
    let ended = totals.completed + totals.failed + totals.canceled;
    Ok(Json(StatsView {
        since,
        bucket_seconds: bucket,
        buckets,
        totals,
        failure_rate: (ended > 0).then(|| totals.failed as f64 / ended as f64),
        complete: counted.complete,
    }))
}

/// `since` and the bucket length in seconds, checked.
fn window(params: &Params, now: OffsetDateTime) -> ApiResult<(OffsetDateTime, u64)> {
    let mut errors = ValidationErrors::default();
    let since = match params.instant_ms("since")? {
        None => now - Duration::hours(24),
        Some(ms) => from_ms(ms),
    };
    if since < now - MAX_WINDOW || since > now {
        errors.push("since", "must be within the last 31 days");
    }
    let bucket = match params.get("bucket") {
        None => 3600,
        Some(raw) => raw.parse::<u64>().unwrap_or(0),
    };
    if !(60..=86_400).contains(&bucket) {
        errors.push("bucket", "must be a number of seconds from 60 to 86400");
    } else if (now - since).whole_seconds().max(0) as u64 / bucket >= MAX_BUCKETS {
        errors.push("bucket", "makes more than 200 buckets; choose a longer one");
    }
    errors
        .into_result((since, bucket))
        .map_err(ApiError::validation)
}

fn epoch_ms(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or_default()
}

fn from_ms(ms: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
