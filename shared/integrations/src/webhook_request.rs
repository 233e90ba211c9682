//! What one webhook attempt puts on the wire: the body and every header, signatures included.
//!
//! Order of authority: connection headers first, then auth, then what Switchyard itself sets
//! (content type, `traceparent`, Standard Webhooks headers, the Meshes-style HMAC), so that nothing a
//! connection configures can replace a header receivers rely on (validation refuses such
//! names too). Credential and custom header values are marked sensitive, so they never show
//! in `Debug` output of the request.

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use switchyard_core::envelope::Envelope;
use switchyard_core::ports::DeliveryRequest;
use switchyard_core::signing::{
    WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, meshes_signature, sign_standard,
};
use switchyard_core::webhook::{PayloadMode, WebhookConfig};

/// The body and headers of one attempt.
pub(crate) struct WebhookRequest {
    pub body: Vec<u8>,
    pub headers: HeaderMap,
}

/// A header that validation should have refused; the message names it, never its value.
#[derive(Debug)]
pub(crate) struct InvalidHeader(pub String);

impl WebhookRequest {
    pub fn build(
        config: &WebhookConfig,
        request: &DeliveryRequest<'_>,
    ) -> Result<Self, InvalidHeader> {
        let body = match config.payload_mode {
            PayloadMode::Wrapped => {
                serde_json::to_vec(&Envelope::new(request.event, request.sent_at))
            }
            PayloadMode::Raw => serde_json::to_vec(&request.event.payload),
        }
        .expect("JSON values serialise");

        let mut headers = HeaderMap::new();
        for custom in &config.headers {
            insert(&mut headers, &custom.name, custom.value.expose(), true)?;
        }
        if let Some((name, value)) = config.auth.header() {
            insert(&mut headers, name, value.expose(), true)?;
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        // W3C trace context: the event's trace, this call's span as the receiver's parent.
        if let Some(traceparent) = request.traceparent {
            insert(&mut headers, "traceparent", &traceparent.to_string(), false)?;
        }

        // The delivery id: the same on every retry and redrive of this delivery, so receivers
        // can drop duplicates. The timestamp is this attempt's, so they can refuse replays.
        let id = request.delivery.id.to_string();
        let timestamp = request.sent_at.unix_timestamp();
        let in_force = config
            .signing
            .keys
            .as_ref()
            .map(|keys| keys.in_force(request.sent_at))
            .unwrap_or_default();
        let standard = sign_standard(&in_force, &id, timestamp, &body);
        insert(&mut headers, WEBHOOK_ID, &standard.id, false)?;
        insert(&mut headers, WEBHOOK_TIMESTAMP, &standard.timestamp, false)?;
        if let Some(signature) = &standard.signature {
            insert(&mut headers, WEBHOOK_SIGNATURE, signature, false)?;
        }
        if let (Some(hmac), Some(keys)) = (&config.signing.hmac, &config.signing.keys) {
            let signature = meshes_signature(hmac.algorithm, &keys.current, &body);
            insert(&mut headers, &hmac.header, &signature, false)?;
        }
        Ok(Self { body, headers })
    }
}

fn insert(
    headers: &mut HeaderMap,
    name: &str,
    value: &str,
    sensitive: bool,
) -> Result<(), InvalidHeader> {
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| InvalidHeader(format!("invalid header name {name:?}")))?;
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| InvalidHeader(format!("invalid value for header {name:?}")))?;
    value.set_sensitive(sensitive);
    headers.insert(header, value);
    Ok(())
}
