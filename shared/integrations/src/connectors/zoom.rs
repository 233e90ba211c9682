//! Zoom: `add_meeting_registrant`, `add_webinar_registrant` (rule `id` = the meeting or
//! webinar id): <https://developers.zoom.us/docs/api/meetings/#tag/meetings/POST/meetings/{meetingId}/registrants>,
//! <https://developers.zoom.us/docs/api/meetings/#tag/webinars/POST/webinars/{webinarId}/registrants>.
//! Zoom requires `first_name`; without one the e-mail's local part stands in.
//! Rate limits: <https://developers.zoom.us/docs/api/rest/rate-limits/> (429 with
//! `Retry-After`, an RFC 3339 time for daily limits). 404 code 3001: no such meeting.

use reqwest::Method;
use serde_json::json;
use switchyard_core::ports::{DeliveryRequest, DeliveryResult};

use super::call::{Attempt, Auth, Call, Step};
use super::fields::{action, email, endpoint, first_name, last_name, rule_setting, secret};
use super::settings::ProviderUrls;

pub(crate) async fn deliver(
    attempt: &mut Attempt<'_>,
    urls: &ProviderUrls,
    request: &DeliveryRequest<'_>,
) -> Step<DeliveryResult> {
    let token = secret(attempt, request, "access_token")?;
    let (collection, what) = if action(request) == "add_webinar_registrant" {
        ("webinars", "the webinar id")
    } else {
        ("meetings", "the meeting id")
    };
    let id = rule_setting(attempt, request, "id", what)?;
    let email = email(attempt, request.fields)?;
    let first = first_name(request.fields)
        .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let mut registrant = json!({"email": email, "first_name": first});
    if let Some(last) = last_name(request.fields) {
        registrant["last_name"] = last.into();
    }
    let call = Call::new(
        Method::POST,
        endpoint(&urls.zoom, &[collection, &id, "registrants"]),
        Auth::Bearer(token),
    )
    .json(registrant);
    let answer = attempt.send(call).await?;
    Ok(attempt.answered(answer))
}
