//! Which rules an event triggers.

use crate::domain::{Event, Rule};

/// A rule matches when it is active, its event type equals the event's, its resource and
/// resource id (each only if set) equal the event's, and its conditions (if set) hold. The
/// cheap equality checks go first, so conditions are evaluated only for candidate rules.
pub fn rule_matches(rule: &Rule, event: &Event) -> bool {
    rule.active
        && rule.workspace == event.workspace
        && rule.event == event.event
        && rule.resource.as_deref().is_none_or(|r| r == event.resource)
        && rule
            .resource_id
            .as_deref()
            .is_none_or(|id| Some(id) == event.resource_id.as_deref())
        && rule.conditions.as_ref().is_none_or(|c| c.matches(event))
}

/// The rules of `rules` that `event` triggers, in their given order.
pub fn matching_rules<'r>(rules: &'r [Rule], event: &Event) -> Vec<&'r Rule> {
    rules.iter().filter(|r| rule_matches(r, event)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conditions::Conditions;
    use crate::domain::IntegrationType;
    use crate::*;
    use serde_json::json;
    use time::OffsetDateTime;

    fn event(org: OrgId, ws: WorkspaceId) -> Event {
        Event {
            id: EventId::new(),
            org,
            workspace: ws,
            event: "user.signup".into(),
            resource: "user".into(),
            resource_id: Some("usr_1".into()),
            payload: json!({"plan": "pro", "amount": 250}),
            created_by: "test".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            trace_id: None,
        }
    }

    fn rule(e: &Event) -> Rule {
        Rule {
            id: RuleId::new(),
            org: e.org,
            workspace: e.workspace,
            connection: ConnectionId::new(),
            kind: IntegrationType::Webhook,
            event: e.event.clone(),
            resource: None,
            resource_id: None,
            metadata: Default::default(),
            conditions: None,
            active: true,
            hidden: false,
            created_by: "test".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn matches_on_event_type_and_optional_resource() {
        let e = event(OrgId::new(), WorkspaceId::new());
        let mut r = rule(&e);
        assert!(rule_matches(&r, &e));
        r.resource = Some("user".into());
        r.resource_id = Some("usr_1".into());
        assert!(rule_matches(&r, &e));
        r.resource_id = Some("usr_2".into());
        assert!(!rule_matches(&r, &e));
    }

    #[test]
    fn inactive_or_other_type_or_other_workspace_does_not_match() {
        let e = event(OrgId::new(), WorkspaceId::new());
        let mut r = rule(&e);
        r.active = false;
        assert!(!rule_matches(&r, &e));
        let mut r = rule(&e);
        r.event = "invoice.paid".into();
        assert!(!rule_matches(&r, &e));
        let mut r = rule(&e);
        r.workspace = WorkspaceId::new();
        assert!(!rule_matches(&r, &e));
    }

    #[test]
    fn conditions_must_hold_when_set() {
        let e = event(OrgId::new(), WorkspaceId::new());
        let mut r = rule(&e);
        let parse = |v| Conditions::parse(&v).unwrap();
        r.conditions = Some(parse(json!({"path": "payload.plan", "equals": "pro"})));
        assert!(rule_matches(&r, &e));
        r.conditions = Some(parse(json!({"path": "payload.amount", "gte": 1000})));
        assert!(!rule_matches(&r, &e));
        assert!(matching_rules(std::slice::from_ref(&r), &e).is_empty());
    }

    #[test]
    fn conditions_do_not_rescue_a_rule_that_fails_otherwise() {
        let e = event(OrgId::new(), WorkspaceId::new());
        let mut r = rule(&e);
        r.conditions = Some(Conditions::parse(&json!({"path": "event", "exists": true})).unwrap());
        r.resource = Some("invoice".into());
        assert!(!rule_matches(&r, &e));
        r.resource = None;
        r.active = false;
        assert!(!rule_matches(&r, &e));
    }
}
