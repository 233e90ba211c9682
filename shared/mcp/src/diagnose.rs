//! `switchyard_diagnose_delivery`: the delivery and its attempts, read through the API, told
//! in words an agent (or its user) can act on.

use serde_json::{Value, json};

/// What to say about a delivery (`rule_event`) given its attempts, oldest first. Returns the
/// words and the structured facts they were drawn from.
pub fn explain(delivery: &Value, attempts: &[Value]) -> (String, Value) {
    let status = delivery["status"].as_str().unwrap_or("unknown");
    let count = delivery["attempt_count"].as_u64().unwrap_or(0);
    let last = attempts.last();
    let outcome = last.and_then(|a| a["outcome"].as_str());
    let code = last.and_then(|a| a["status_code"].as_u64());
    let body = last.and_then(|a| a["response_body"].as_str()).map(excerpt);
    let error = last
        .and_then(|a| a["error"].as_str())
        .or_else(|| delivery["last_error"].as_str());
    let next = delivery["next_attempt_at"].as_str();
    let target = last.and_then(|a| a["request"].as_str());

    let mut words = format!(
        "Delivery {} of event {} through rule {} ({}) is {status} after {count} attempt{}.",
        delivery["id"].as_str().unwrap_or("?"),
        delivery["event_id"].as_str().unwrap_or("?"),
        delivery["rule"].as_str().unwrap_or("?"),
        delivery["integration_type"].as_str().unwrap_or("?"),
        if count == 1 { "" } else { "s" },
    );
    if let Some(outcome) = outcome {
        words.push_str(&format!(" The last attempt's outcome was {outcome}"));
        if let Some(target) = target {
            words.push_str(&format!(" ({target})"));
        }
        match code {
            Some(code) => words.push_str(&format!(": the destination answered HTTP {code}")),
            None => words.push_str(": the destination gave no HTTP answer"),
        }
        if let Some(body) = &body {
            words.push_str(&format!(" with body \"{body}\""));
        }
        words.push('.');
    }
    if let Some(error) = error {
        words.push_str(&format!(" Error: {error}."));
    }
    match (status, next) {
        ("retrying", Some(at)) => words.push_str(&format!(" The next attempt is due at {at}.")),
        ("retrying", None) => words.push_str(" Another attempt is scheduled."),
        _ => {}
    }
    words.push_str(" Circuit breaker state is per destination and kept in the delivery runtime; the API does not expose it, so repeated timeouts or 5xx answers to one host are the sign to look for.");
    words.push_str(&format!(" What to do: {}", advice(status, outcome, code)));
    let facts = json!({
        "delivery": delivery,
        "last_attempt": last,
        "status": status,
        "attempt_count": count,
        "outcome": outcome,
        "last_status_code": code,
        "last_response_excerpt": body,
        "next_attempt_at": next,
        "advice": advice(status, outcome, code),
    });
    (words, facts)
}

fn excerpt(body: &str) -> String {
    const MAX: usize = 300;
    let trimmed = body.trim();
    match trimmed.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

fn advice(status: &str, outcome: Option<&str>, code: Option<u64>) -> &'static str {
    match (status, outcome) {
        ("completed", _) => "nothing: it was delivered.",
        ("canceled", _) => {
            "nothing unless it should still go: retry it with meshes_retry_event_rule."
        }
        ("pending" | "processing", None) => {
            "wait: the first attempt has not finished yet; diagnose again in a few seconds."
        }
        (_, Some("rejected_server_error")) => {
            "the destination failed (5xx): check its logs or status; if the URL is wrong, fix \
             it with meshes_update_connection, then retry with meshes_retry_event_rule."
        }
        (_, Some("rejected_client_error")) if code == Some(404) || code == Some(405) => {
            "the destination refused the path or method: fix the connection's url or \
             http_method with meshes_update_connection, then retry with meshes_retry_event_rule."
        }
        (_, Some("rejected_client_error")) => {
            "the destination refused the request (4xx): compare the payload \
             (meshes_get_event_payload) and the field mapping with what it expects, fix, then \
             retry with meshes_retry_event_rule."
        }
        (_, Some("auth_failed")) => {
            "the destination refused the credentials: update them on the connection \
             (meshes_update_connection, or reconnect OAuth), then retry."
        }
        (_, Some("rate_limited")) => {
            "the destination is rate limiting: retries back off on their own; lower the event \
             rate if it persists."
        }
        (_, Some("timeout")) => {
            "the destination is too slow: make it answer sooner (acknowledge, then work), or \
             raise the connection's timeout_ms; then retry."
        }
        (_, Some("network_error")) => {
            "the destination could not be reached (DNS, refused connection, TLS): check the \
             connection's url with meshes_get_connection, fix it with meshes_update_connection, \
             then retry with meshes_retry_event_rule."
        }
        (_, Some("mapping_error")) => {
            "the field mapping failed on this payload: read it with \
             meshes_get_connection_default_mappings, fix it, then retry."
        }
        ("retrying", _) => "wait for the next attempt, or fix the cause and retry now.",
        _ => "read the attempts (switchyard_list_delivery_attempts), fix the cause, then retry.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_is_told_with_its_status_and_body() {
        let delivery = json!({"id": "d", "event_id": "e", "rule": "r", "status": "retrying",
            "attempt_count": 2, "integration_type": "webhook",
            "next_attempt_at": "2026-01-01T00:00:00Z", "last_error": "HTTP 500"});
        let attempts = [
            json!({"outcome": "rejected_server_error", "status_code": 500,
            "response_body": "boom", "request": "POST http://127.0.0.1:1/hook"}),
        ];
        let (words, facts) = explain(&delivery, &attempts);
        assert!(words.contains("HTTP 500"), "{words}");
        assert!(words.contains("\"boom\""), "{words}");
        assert!(words.contains("2026-01-01T00:00:00Z"), "{words}");
        assert!(words.contains("meshes_update_connection"), "{words}");
        assert_eq!(facts["last_status_code"], 500);
    }
}
