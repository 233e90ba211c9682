//! Routing at intake: where the intake stores an event's deliveries with it (the embedded
//! default), ingest expands the rules with the router's own functions before the write, and
//! logs each routing in its route span after it — the same spans and lines as the router's.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use switchyard_core::domain::{Event, Rule};
use switchyard_core::message::CarriedEvent;
use switchyard_core::ports::Routing;
use switchyard_core::trace::{SpanId, TraceParent};
use switchyard_core::{EventId, OrgId, RuleId, StoreError, WorkspaceId};

use crate::trace::RequestTrace;
use crate::{Deps, router};

/// Events routed at intake, to log in their route spans once stored.
#[derive(Default)]
pub(crate) struct Routings(Vec<RoutedAtIntake>);

struct RoutedAtIntake {
    trace: TraceParent,
    parent: Option<SpanId>,
    event: EventId,
    org: OrgId,
    workspace: WorkspaceId,
    rules: usize,
    deliveries: usize,
}

impl Routings {
    /// Each event's deliveries by the rules active now, as the router would expand them (a
    /// bulk's events of one type read their rules once).
    pub(crate) async fn expand(
        &mut self,
        deps: &Deps,
        events: &[&Event],
        only_rule: Option<RuleId>,
        trace: &RequestTrace,
    ) -> Result<Vec<Routing>, StoreError> {
        let now = deps.now();
        let mut rules: HashMap<(WorkspaceId, &str), Vec<Rule>> = HashMap::new();
        let mut routing = Vec::with_capacity(events.len());
        for e in events {
            let rules = match rules.entry((e.workspace, e.event.as_str())) {
                Entry::Occupied(read) => read.into_mut(),
                Entry::Vacant(unread) => {
                    unread.insert(router::rules_for(deps, e, only_rule).await?)
                }
            };
            let (route_trace, parent) =
                crate::trace::child_of(e.trace_id.map(|t| trace.parent_of(e.id, t)));
            let deliveries = router::deliveries_for(e, rules, only_rule, now);
            // Stored in the transaction that stores the event: each is this routing's claim.
            // The copy only for an event with deliveries (sizing it serialises the payload).
            let carried = (!deliveries.is_empty())
                .then(|| CarriedEvent::of(e))
                .flatten();
            let messages = deliveries
                .iter()
                .map(|d| router::first_attempt(d, true, carried.clone(), route_trace, now))
                .collect();
            self.0.push(RoutedAtIntake {
                trace: route_trace,
                parent,
                event: e.id,
                org: e.org,
                workspace: e.workspace,
                rules: rules.len(),
                deliveries: deliveries.len(),
            });
            routing.push(Routing::Expanded {
                deliveries,
                messages,
            });
        }
        Ok(routing)
    }

    /// The router's log line for each, in its route span.
    pub(crate) fn log(self) {
        for r in self.0 {
            router::route_span(&r.trace, r.parent, r.org, r.workspace, r.event)
                .in_scope(|| router::log_routed(r.rules, r.deliveries));
        }
    }
}
