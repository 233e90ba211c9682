//! Proof of delivery: every (event, destination) the rules called for arrived, and any that
//! arrived twice is explained by the server having recorded more than one attempt for it.

use std::collections::HashMap;

use serde::Serialize;

use super::api::Api;
use super::receiver::Receipts;

/// One expected delivery: an event the server accepted, a destination its rules name, and
/// the rule that names it.
pub struct Expected {
    pub event_id: String,
    pub destination: u16,
    pub rule_id: String,
    /// The client of the event's organization, when it is not the bench's first one.
    pub api: Option<Api>,
}

#[derive(Serialize, Debug, Default, Clone)]
pub struct Verdict {
    pub expected: usize,
    pub lost: usize,
    /// Arrived more than once, and the server recorded as many attempts (a retry).
    pub explained_duplicates: usize,
    pub unexplained_duplicates: usize,
    /// Arrived but no rule called for it.
    pub unexpected: usize,
}

pub async fn verify(api: &Api, receipts: &Receipts, expected: &[Expected]) -> Verdict {
    let counts: HashMap<(String, u16), u32> = receipts.counts.lock().expect("lock").clone();
    let mut verdict = Verdict {
        expected: expected.len(),
        ..Verdict::default()
    };
    let mut matched = 0;
    for e in expected {
        match counts.get(&(e.event_id.clone(), e.destination)).copied() {
            None => verdict.lost += 1,
            Some(1) => matched += 1,
            Some(n) => {
                matched += 1;
                let api = e.api.as_ref().unwrap_or(api);
                let attempts = api.attempts(&e.event_id, &e.rule_id).await.unwrap_or(0);
                if attempts >= n as usize {
                    verdict.explained_duplicates += 1;
                } else {
                    verdict.unexplained_duplicates += 1;
                }
            }
        }
    }
    verdict.unexpected = counts.len() - matched;
    verdict
}
