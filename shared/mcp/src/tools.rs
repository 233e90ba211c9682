//! The tool set, as a table: each tool is one v1 API call whose arguments are placed into the
//! path, the query or the body. Names, arguments and meanings of the `meshes_*` tools are
//! Meshes' own (so prompts and agent configs written for its MCP server work); `switchyard_*`
//! tools are extensions. The schemas document; the API validates, so a bad argument gets the
//! API's own message.

use std::sync::Arc;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::api_client::{ApiRequest, Verb};

/// What a tool does to the system, as MCP's annotations say it.
#[derive(Clone, Copy)]
pub enum Effect {
    /// Reads only.
    Read,
    /// Writes; the same call twice leaves the same state.
    Idempotent,
    /// Writes something new each call (an event, a session, a retry).
    Additive,
    /// Deletes or revokes: what it removes does not come back.
    Destructive,
}

#[derive(Clone, Copy)]
pub enum Kind {
    Uuid,
    Str,
    Bool,
    Int,
    Object,
    /// An array of objects.
    Objects,
    Strings,
    OneOf(&'static [&'static str]),
}

/// Where an argument goes in the API call.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Path,
    Query,
    Body,
    /// The argument is the whole body (a bulk batch is a bare array).
    WholeBody,
    /// Into the body's `metadata` object (a rule's `action`, merged with `metadata_extra`).
    Metadata,
}

pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub place: Place,
    pub required: bool,
    pub description: &'static str,
}

/// What the tool calls.
pub enum Call {
    Api {
        verb: Verb,
        path: &'static str,
    },
    /// Reads the delivery, its attempts and explains them (`diagnose.rs`).
    Diagnose,
}

pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub effect: Effect,
    pub params: &'static [Param],
    pub call: Call,
}

const fn p(
    name: &'static str,
    kind: Kind,
    place: Place,
    required: bool,
    description: &'static str,
) -> Param {
    Param {
        name,
        kind,
        place,
        required,
        description,
    }
}

use Kind::*;
use Place::*;

const WORKSPACE_ID: Param = p("workspace_id", Uuid, Path, true, "The workspace UUID");
const CONNECTION_ID: Param = p("connection_id", Uuid, Path, true, "The connection UUID");
const RULE_ID: Param = p(
    "rule_id",
    Uuid,
    Path,
    true,
    "The rule UUID (from rule_events in the event detail)",
);
const EVENT_ID: Param = p("event_id", Uuid, Path, true, "The event UUID");
const SESSION_ID: Param = p("session_id", Str, Path, true, "The session ID");
const LIMIT: Param = p(
    "limit",
    Int,
    Query,
    false,
    "Results per page (1-200, default 50)",
);
const CURSOR: Param = p(
    "cursor",
    Str,
    Query,
    false,
    "Pagination cursor from the previous response's next_cursor",
);
const EVENT_FILTER: Param = p(
    "event",
    Str,
    Query,
    false,
    "Filter by event type (e.g. 'user.signup')",
);
const RESOURCE_FILTER: Param = p("resource", Str, Query, false, "Filter by resource type");
const RESOURCE_ID_FILTER: Param = p("resource_id", Str, Query, false, "Filter by resource ID");

const INTEGRATION_TYPES: &[&str] = &[
    "activecampaign",
    "aweber",
    "customer_io",
    "discord",
    "hubspot",
    "intercom",
    "mailchimp",
    "mailerlite",
    "pipedrive",
    "resend",
    "salesforce",
    "sendgrid",
    "slack",
    "webhook",
    "zoom",
];
const DELIVERY_STATUSES: &[&str] = &[
    "pending",
    "processing",
    "retrying",
    "completed",
    "failed",
    "canceled",
];

const fn api(verb: Verb, path: &'static str) -> Call {
    Call::Api { verb, path }
}

/// Every tool, in the order `tools/list` answers them.
pub static TOOLS: &[ToolSpec] = &[
    // Workspaces.
    ToolSpec {
        name: "meshes_list_workspaces",
        title: "List Workspaces",
        description: "List all workspaces in the organization (a session token sees its own \
            only). Workspaces are tenant-scoped containers holding connections, rules and \
            event logs; in a multi-tenant app each customer typically has one.",
        effect: Effect::Read,
        params: &[],
        call: api(Verb::Get, "/workspaces"),
    },
    ToolSpec {
        name: "meshes_get_workspace",
        title: "Get Workspace",
        description: "Get a workspace by UUID, including its publishable key for client-side \
            event ingestion.",
        effect: Effect::Read,
        params: &[WORKSPACE_ID],
        call: api(Verb::Get, "/workspaces/{workspace_id}"),
    },
    ToolSpec {
        name: "meshes_create_workspace",
        title: "Create Workspace",
        description: "Create a new workspace, typically when onboarding a new tenant.",
        effect: Effect::Additive,
        params: &[
            p(
                "name",
                Str,
                Body,
                true,
                "Workspace name (3-50 chars, alphanumeric/space/underscore/dash)",
            ),
            p(
                "description",
                Str,
                Body,
                false,
                "Optional description (max 1024 chars)",
            ),
        ],
        call: api(Verb::Post, "/workspaces"),
    },
    ToolSpec {
        name: "meshes_update_workspace",
        title: "Update Workspace",
        description: "Update a workspace's name and description.",
        effect: Effect::Idempotent,
        params: &[
            WORKSPACE_ID,
            p("name", Str, Body, true, "New name"),
            p(
                "description",
                Str,
                Body,
                false,
                "New description (null to clear)",
            ),
        ],
        call: api(Verb::Put, "/workspaces/{workspace_id}"),
    },
    ToolSpec {
        name: "meshes_get_workspace_connections",
        title: "Get Workspace Connections",
        description: "List all connections of one workspace.",
        effect: Effect::Read,
        params: &[WORKSPACE_ID],
        call: api(Verb::Get, "/workspaces/{workspace_id}/connections"),
    },
    ToolSpec {
        name: "meshes_get_workspace_event_types",
        title: "Get Workspace Event Types",
        description: "List the event types of a workspace: each key, label, description and \
            active state.",
        effect: Effect::Read,
        params: &[WORKSPACE_ID],
        call: api(Verb::Get, "/workspaces/{workspace_id}/event-types"),
    },
    ToolSpec {
        name: "meshes_get_workspace_resources",
        title: "Get Workspace Resources",
        description: "List the resource types of a workspace: each key, label, description \
            and active state.",
        effect: Effect::Read,
        params: &[WORKSPACE_ID],
        call: api(Verb::Get, "/workspaces/{workspace_id}/resources"),
    },
    ToolSpec {
        name: "meshes_get_workspace_rules",
        title: "Get Workspace Rules",
        description: "List the routing rules of one workspace, optionally filtered by event, \
            resource and resource_id.",
        effect: Effect::Read,
        params: &[
            WORKSPACE_ID,
            EVENT_FILTER,
            RESOURCE_FILTER,
            RESOURCE_ID_FILTER,
        ],
        call: api(Verb::Get, "/workspaces/{workspace_id}/rules"),
    },
    ToolSpec {
        name: "meshes_get_workspace_events",
        title: "Get Workspace Events",
        description: "List events of a workspace with optional filters: for checking delivery \
            status, debugging or monitoring the event flow.",
        effect: Effect::Read,
        params: &[
            WORKSPACE_ID,
            LIMIT,
            CURSOR,
            EVENT_FILTER,
            p(
                "status",
                OneOf(DELIVERY_STATUSES),
                Query,
                false,
                "Filter by delivery status",
            ),
            RESOURCE_FILTER,
            RESOURCE_ID_FILTER,
        ],
        call: api(Verb::Get, "/workspaces/{workspace_id}/events"),
    },
    // Connections.
    ToolSpec {
        name: "meshes_list_connections",
        title: "List Connections",
        description: "List all connections across the organization. Connections are \
            configured destinations (webhooks, HubSpot, Slack, ...) holding credentials and \
            configuration; secrets are never returned.",
        effect: Effect::Read,
        params: &[],
        call: api(Verb::Get, "/connections"),
    },
    ToolSpec {
        name: "meshes_get_connection",
        title: "Get Connection",
        description: "Get a connection by UUID. Does not expose credentials.",
        effect: Effect::Read,
        params: &[CONNECTION_ID],
        call: api(Verb::Get, "/connections/{connection_id}"),
    },
    ToolSpec {
        name: "meshes_create_connection",
        title: "Create Connection",
        description: "Create a connection (destination) in a workspace. `metadata` holds the \
            connector's configuration: for a webhook `{\"url\": \"https://...\"}` plus \
            optional http_method, payload_mode, auth and signing settings; for SaaS \
            connectors their API keys (see meshes_list_integrations for each type's fields).",
        effect: Effect::Additive,
        params: &[
            p(
                "workspace",
                Uuid,
                Body,
                true,
                "The workspace UUID this connection belongs to",
            ),
            p(
                "type",
                OneOf(INTEGRATION_TYPES),
                Body,
                true,
                "Integration type",
            ),
            p("name", Str, Body, true, "Connection name (1-128 chars)"),
            p(
                "metadata",
                Object,
                Body,
                true,
                "Connector-specific configuration",
            ),
            p("hidden", Bool, Body, false, "Hide from UI (default false)"),
        ],
        call: api(Verb::Post, "/connections"),
    },
    ToolSpec {
        name: "meshes_update_connection",
        title: "Update Connection",
        description: "Update a connection's name, metadata or visibility (e.g. fix a \
            webhook's URL). Secrets left out of metadata are kept.",
        effect: Effect::Idempotent,
        params: &[
            CONNECTION_ID,
            p("name", Str, Body, false, "Updated name"),
            p(
                "metadata",
                Object,
                Body,
                false,
                "Updated connector-specific configuration",
            ),
            p("hidden", Bool, Body, false, "Hide from UI"),
        ],
        call: api(Verb::Put, "/connections/{connection_id}"),
    },
    ToolSpec {
        name: "meshes_delete_connection",
        title: "Delete Connection",
        description: "Delete a connection. Answers 409 while active rules use it, unless \
            force_delete is true.",
        effect: Effect::Destructive,
        params: &[
            CONNECTION_ID,
            p(
                "force_delete",
                Bool,
                Body,
                false,
                "Force delete even if rules exist",
            ),
        ],
        call: api(Verb::Delete, "/connections/{connection_id}"),
    },
    ToolSpec {
        name: "meshes_get_connection_actions",
        title: "Get Connection Actions",
        description: "Get the actions available for a connection's rules (e.g. add_to_list, \
            send_webhook), with their inputs: what to put in a rule's metadata.",
        effect: Effect::Read,
        params: &[CONNECTION_ID],
        call: api(Verb::Get, "/connections/{connection_id}/actions"),
    },
    ToolSpec {
        name: "meshes_get_connection_fields",
        title: "Get Connection Fields",
        description: "Get the destination field catalog of a connection: field keys, types, \
            constraints and allowed values, for building field mappings.",
        effect: Effect::Read,
        params: &[
            CONNECTION_ID,
            p(
                "refresh",
                Bool,
                Query,
                false,
                "Refresh the field catalog from the provider",
            ),
        ],
        call: api(Verb::Get, "/connections/{connection_id}/fields"),
    },
    ToolSpec {
        name: "meshes_get_connection_default_mappings",
        title: "Get Connection Default Mappings",
        description: "Get the default field mapping of a connection: how event payload fields \
            map to destination fields, with optional transforms.",
        effect: Effect::Read,
        params: &[CONNECTION_ID],
        call: api(Verb::Get, "/connections/{connection_id}/mappings/default"),
    },
    ToolSpec {
        name: "meshes_update_connection_default_mappings",
        title: "Update Connection Default Mappings",
        description: "Replace the default field mapping of a connection. `schema` is \
            `{schema_version: 1, fields: [{dest, source: {type: path|literal, value}, \
            transforms?, on_error?}]}` (resource switchyard://mapping-schema describes it); \
            pass expected_version to refuse a stale write (409).",
        effect: Effect::Idempotent,
        params: &[
            CONNECTION_ID,
            p("schema", Object, Body, true, "The mapping schema"),
            p(
                "expected_version",
                Int,
                Body,
                false,
                "The version you read; a newer one answers 409",
            ),
            p("name", Str, Body, false, "Mapping name"),
            p("mapping_id", Str, Body, false, "Mapping ID"),
            p("workspace_id", Uuid, Body, false, "The workspace UUID"),
        ],
        call: api(Verb::Put, "/connections/{connection_id}/mappings/default"),
    },
    ToolSpec {
        name: "meshes_list_integrations",
        title: "List Integrations",
        description: "The supported integration types: each one's authentication (oauth, \
            api_key, basic, none), connection fields and actions.",
        effect: Effect::Read,
        params: &[],
        call: api(Verb::Get, "/integrations"),
    },
    // Rules.
    ToolSpec {
        name: "meshes_list_rules",
        title: "List Rules",
        description: "List routing rules across the organization. Rules bind event types to \
            connections with action metadata. Filter by event, resource and resource_id.",
        effect: Effect::Read,
        params: &[EVENT_FILTER, RESOURCE_FILTER, RESOURCE_ID_FILTER],
        call: api(Verb::Get, "/rules"),
    },
    ToolSpec {
        name: "meshes_get_rule",
        title: "Get Rule",
        description: "Get a routing rule by UUID.",
        effect: Effect::Read,
        params: &[p("rule_id", Uuid, Path, true, "The rule UUID")],
        call: api(Verb::Get, "/rules/{rule_id}"),
    },
    ToolSpec {
        name: "meshes_create_rule",
        title: "Create Rule",
        description: "Create a routing rule that sends an event type to a connection. \
            `action` (metadata.action) says what the destination does: `send_webhook` for a \
            webhook; meshes_get_connection_actions lists a connection's actions.",
        effect: Effect::Additive,
        params: &[
            p("workspace", Uuid, Body, true, "The workspace UUID"),
            p(
                "connection",
                Uuid,
                Body,
                true,
                "The connection UUID this rule routes to",
            ),
            p(
                "event",
                Str,
                Body,
                true,
                "Event type to match (e.g. 'user.signup')",
            ),
            p(
                "action",
                Str,
                Metadata,
                true,
                "The action the destination performs (goes into metadata.action)",
            ),
            p(
                "resource",
                Str,
                Body,
                false,
                "Optional resource type filter",
            ),
            p(
                "resource_id",
                Str,
                Body,
                false,
                "Optional resource ID filter (^[A-Za-z0-9._:-]{1,64}$)",
            ),
            p(
                "active",
                Bool,
                Body,
                false,
                "Whether the rule is active (default true)",
            ),
            p("hidden", Bool, Body, false, "Hide from UI (default false)"),
            p(
                "metadata_extra",
                Object,
                Metadata,
                false,
                "Additional metadata fields (id, name, value, key, data, option, option_value)",
            ),
            p(
                "conditions",
                Object,
                Body,
                false,
                "Extension: a filter on the event's payload (equals, not, in, prefix, suffix, \
                 exists, numeric ranges; all/any/not nesting)",
            ),
        ],
        call: api(Verb::Post, "/rules"),
    },
    ToolSpec {
        name: "meshes_delete_rule",
        title: "Delete Rule",
        description: "Delete a routing rule: events matching it are no longer routed to its \
            connection.",
        effect: Effect::Destructive,
        params: &[p("rule_id", Uuid, Path, true, "The rule UUID")],
        call: api(Verb::Delete, "/rules/{rule_id}"),
    },
    // Events and deliveries.
    ToolSpec {
        name: "meshes_list_events",
        title: "List Events",
        description: "List events across the organization, newest first, with pagination.",
        effect: Effect::Read,
        params: &[LIMIT, CURSOR],
        call: api(Verb::Get, "/events"),
    },
    ToolSpec {
        name: "meshes_get_event",
        title: "Get Event",
        description: "Get an event with its deliveries (rule_events): each one's connection, \
            rule, integration_type, status, attempt_count, next_attempt_at and last_error.",
        effect: Effect::Read,
        params: &[EVENT_ID],
        call: api(Verb::Get, "/events/{event_id}"),
    },
    ToolSpec {
        name: "meshes_get_event_payload",
        title: "Get Event with Payload",
        description: "Get an event with its full payload, to debug what data was sent.",
        effect: Effect::Read,
        params: &[EVENT_ID],
        call: api(Verb::Get, "/events/{event_id}/payload"),
    },
    ToolSpec {
        name: "meshes_retry_event_rule",
        title: "Retry Event Rule",
        description: "Retry one delivery (an event through a rule) now, after fixing the cause \
            (a wrong URL, expired credentials, a bad mapping). 425 when a retry is already \
            imminent.",
        effect: Effect::Additive,
        params: &[EVENT_ID, RULE_ID],
        call: api(Verb::Post, "/events/{event_id}/rules/{rule_id}/retry"),
    },
    ToolSpec {
        name: "meshes_emit_event",
        title: "Emit Event",
        description: "Emit an event for routing and delivery to every matching rule of the \
            workspace. Include 'email' in the payload for person-related events.",
        effect: Effect::Additive,
        params: &[
            p(
                "workspace",
                Uuid,
                Body,
                true,
                "The workspace UUID to emit the event into",
            ),
            p(
                "event",
                Str,
                Body,
                true,
                "Event type (e.g. 'user.signup', 'payment.failed')",
            ),
            p("payload", Object, Body, true, "Event payload"),
            p(
                "resource",
                Str,
                Body,
                false,
                "Optional resource type (e.g. 'user', 'order')",
            ),
            p("resource_id", Str, Body, false, "Optional resource ID"),
        ],
        call: api(Verb::Post, "/events"),
    },
    ToolSpec {
        name: "meshes_emit_bulk_events",
        title: "Emit Bulk Events",
        description: "Emit 1-100 events in one request, each with its workspace. 201 when all \
            were accepted, 207 with per-event results when some were not.",
        effect: Effect::Additive,
        params: &[p(
            "events",
            Objects,
            WholeBody,
            true,
            "Array of 1-100 events: {workspace, event, payload, resource?, resource_id?}",
        )],
        call: api(Verb::Post, "/events/bulk"),
    },
    // Embed sessions.
    ToolSpec {
        name: "meshes_create_session",
        title: "Create Session",
        description: "Mint an embed session with an access token and a launch URL, for a \
            workspace, a dashboard-only view or one resource.",
        effect: Effect::Additive,
        params: &[
            p("workspace_id", Uuid, Body, true, "The workspace UUID"),
            p(
                "role",
                OneOf(&["member", "admin", "owner"]),
                Body,
                false,
                "Workspace role for the session (default member)",
            ),
            p(
                "session_type",
                OneOf(&["workspace", "resource", "dashboard"]),
                Body,
                false,
                "Session scope (default workspace)",
            ),
            p(
                "external_user_id",
                Str,
                Body,
                false,
                "Optional application-specific user identifier",
            ),
            p(
                "ttl_seconds",
                Int,
                Body,
                false,
                "Access token lifetime, 300-3600 (default 1800)",
            ),
            p(
                "launch_ttl_seconds",
                Int,
                Body,
                false,
                "Launch token lifetime, 15-60 (default 30)",
            ),
            p(
                "launch_page",
                OneOf(&["dashboard", "connections", "rules", "events"]),
                Body,
                false,
                "Initial embed page",
            ),
            p(
                "resource",
                Str,
                Body,
                false,
                "Resource type for resource sessions",
            ),
            p(
                "resource_id",
                Str,
                Body,
                false,
                "Resource ID for resource sessions",
            ),
            p(
                "allowed_origins",
                Strings,
                Body,
                false,
                "Up to 10 origins the embed may run under",
            ),
            p(
                "scopes",
                Strings,
                Body,
                false,
                "Extra scopes: events.payload:read",
            ),
        ],
        call: api(Verb::Post, "/sessions"),
    },
    ToolSpec {
        name: "meshes_list_sessions",
        title: "List Sessions",
        description: "List the embed sessions of a workspace, with status and resource \
            filters.",
        effect: Effect::Read,
        params: &[
            p("workspace_id", Uuid, Query, true, "The workspace UUID"),
            LIMIT,
            CURSOR,
            p(
                "status",
                OneOf(&["active", "revoked"]),
                Query,
                false,
                "Session status filter",
            ),
            RESOURCE_FILTER,
            RESOURCE_ID_FILTER,
        ],
        call: api(Verb::Get, "/sessions"),
    },
    ToolSpec {
        name: "meshes_refresh_session",
        title: "Refresh Session",
        description: "Issue a new access token for an existing session (the previous one \
            stops working).",
        effect: Effect::Additive,
        params: &[SESSION_ID],
        call: api(Verb::Post, "/sessions/{session_id}/refresh"),
    },
    ToolSpec {
        name: "meshes_revoke_session",
        title: "Revoke Session",
        description: "Revoke an embed session (or an MCP token): its token stops working at \
            once.",
        effect: Effect::Destructive,
        params: &[SESSION_ID],
        call: api(Verb::Delete, "/sessions/{session_id}"),
    },
    // Extensions: what operators need beyond Meshes' set.
    ToolSpec {
        name: "switchyard_diagnose_delivery",
        title: "Diagnose Delivery",
        description: "Explain in words why a delivery (an event through a rule) is where it \
            is: its outcome, the destination's last answer, the next attempt, and what to do \
            about it. Start here when a delivery failed.",
        effect: Effect::Read,
        params: &[EVENT_ID, RULE_ID],
        call: Call::Diagnose,
    },
    ToolSpec {
        name: "switchyard_list_delivery_attempts",
        title: "List Delivery Attempts",
        description: "Every attempt of a delivery, oldest first: outcome, HTTP status, the \
            start of the destination's answer, error and duration.",
        effect: Effect::Read,
        params: &[EVENT_ID, RULE_ID],
        call: api(Verb::Get, "/events/{event_id}/rules/{rule_id}/attempts"),
    },
    ToolSpec {
        name: "switchyard_get_delivery_attempt",
        title: "Get Delivery Attempt",
        description: "One attempt of a delivery.",
        effect: Effect::Read,
        params: &[
            EVENT_ID,
            RULE_ID,
            p("attempt_id", Uuid, Path, true, "The attempt UUID"),
        ],
        call: api(
            Verb::Get,
            "/events/{event_id}/rules/{rule_id}/attempts/{attempt_id}",
        ),
    },
    ToolSpec {
        name: "switchyard_get_delivery_response",
        title: "Get Delivery Response Details",
        description: "The destination's last answer to a delivery: status, headers and the \
            start of its body.",
        effect: Effect::Read,
        params: &[EVENT_ID, RULE_ID],
        call: api(
            Verb::Get,
            "/events/{event_id}/rules/{rule_id}/response-details",
        ),
    },
    ToolSpec {
        name: "switchyard_cancel_delivery",
        title: "Cancel Delivery",
        description: "Cancel a delivery that has not finished: no further attempts are made.",
        effect: Effect::Destructive,
        params: &[EVENT_ID, RULE_ID],
        call: api(Verb::Post, "/events/{event_id}/rules/{rule_id}/cancel"),
    },
    ToolSpec {
        name: "switchyard_cancel_event",
        title: "Cancel Event",
        description: "Cancel every unfinished delivery of an event.",
        effect: Effect::Destructive,
        params: &[EVENT_ID],
        call: api(Verb::Post, "/events/{event_id}/cancel"),
    },
    ToolSpec {
        name: "switchyard_send_test_event",
        title: "Send Test Event",
        description: "Send a sample event through one rule alone (Send Test Event), to check a \
            destination end to end; the payload defaults to a sample marked as a test.",
        effect: Effect::Additive,
        params: &[
            p("rule_id", Uuid, Path, true, "The rule UUID"),
            p("payload", Object, Body, false, "The payload to send"),
            p("resource", Str, Body, false, "Default: the rule's resource"),
            p(
                "resource_id",
                Str,
                Body,
                false,
                "Default: the rule's resource_id",
            ),
        ],
        call: api(Verb::Post, "/rules/{rule_id}/test"),
    },
    ToolSpec {
        name: "switchyard_get_usage",
        title: "Get Usage",
        description: "The organization's usage this month against its plan: events, \
            workspaces, connections, rules and history retention. Organization scope: a \
            machine key only.",
        effect: Effect::Read,
        params: &[],
        call: api(Verb::Get, "/usage"),
    },
    // The operator's routes: a machine key only (a session or MCP token is refused, 403).
    ToolSpec {
        name: "switchyard_list_dead_letters",
        title: "List Dead Letters",
        description: "The organization's messages in a dead-letter queue (`deliveries`: \
            deliveries whose attempts all failed in the queue itself; `events`: events the \
            router could not route), oldest first. Organization scope: a machine key only.",
        effect: Effect::Read,
        params: &[
            p(
                "queue",
                OneOf(&["deliveries", "events"]),
                Path,
                true,
                "Which DLQ",
            ),
            LIMIT,
        ],
        call: api(Verb::Get, "/dlq/{queue}"),
    },
    ToolSpec {
        name: "switchyard_redrive_dead_letters",
        title: "Redrive Dead Letters",
        description: "Sends the organization's dead letters of a queue back to their source \
            queue, to be processed again (after the cause is fixed). Organization scope: a \
            machine key only.",
        effect: Effect::Additive,
        params: &[p(
            "queue",
            OneOf(&["deliveries", "events"]),
            Path,
            true,
            "Which DLQ",
        )],
        call: api(Verb::Post, "/dlq/{queue}/redrive"),
    },
    ToolSpec {
        name: "switchyard_replay_failed_deliveries",
        title: "Replay Failed Deliveries",
        description: "After an outage: re-queues a connection's failed deliveries created in \
            [from, to), each on a fresh retry schedule, at most `limit` looked at per call; go \
            on with `next_cursor`. Replaying twice never sends a delivery twice. Organization \
            scope: a machine key only.",
        effect: Effect::Additive,
        params: &[
            CONNECTION_ID,
            p("from", Str, Body, true, "Created at or after (RFC 3339)"),
            p("to", Str, Body, true, "Created before (RFC 3339)"),
            p(
                "cursor",
                Str,
                Body,
                false,
                "The previous answer's next_cursor",
            ),
            p(
                "limit",
                Int,
                Body,
                false,
                "Deliveries to look at, 1-200 (default 100)",
            ),
        ],
        call: api(Verb::Post, "/connections/{connection_id}/replay"),
    },
];

pub fn find(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|t| t.name == name)
}

impl ToolSpec {
    /// The MCP description of this tool: its JSON Schema and its annotations.
    pub fn tool(&self) -> Tool {
        let (read_only, destructive, idempotent) = match self.effect {
            Effect::Read => (true, false, true),
            Effect::Idempotent => (false, false, true),
            Effect::Additive => (false, false, false),
            Effect::Destructive => (false, true, false),
        };
        let annotations = ToolAnnotations::with_title(self.title)
            .read_only(read_only)
            .destructive(destructive)
            .idempotent(idempotent)
            .open_world(false);
        Tool::new(self.name, self.description, Arc::new(self.schema()))
            .with_title(self.title)
            .with_annotations(annotations)
    }

    fn schema(&self) -> JsonObject {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for param in self.params {
            let mut schema = kind_schema(param.kind);
            schema.insert("description".into(), json!(param.description));
            properties.insert(param.name.into(), Value::Object(schema));
            if param.required {
                required.push(json!(param.name));
            }
        }
        let mut object = Map::new();
        object.insert("type".into(), json!("object"));
        object.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            object.insert("required".into(), Value::Array(required));
        }
        object
    }

    /// The API call these arguments make, or the argument problems that keep it from being
    /// made (path arguments only: everything else is the API's to judge).
    pub fn request(&self, args: &JsonObject) -> Result<ApiRequest, Vec<(String, String)>> {
        let Call::Api { verb, path } = self.call else {
            unreachable!("only API tools build a request")
        };
        let mut problems = Vec::new();
        let mut path = path.to_owned();
        let mut query = Vec::new();
        let mut body: Option<Value> = None;
        let mut metadata = Map::new();
        for param in self.params {
            let value = args.get(param.name).filter(|v| !v.is_null());
            match param.place {
                Path => match value {
                    Some(Value::String(s)) if !s.is_empty() => {
                        let segment = utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
                        path = path.replace(&format!("{{{}}}", param.name), &segment);
                    }
                    Some(_) => problems.push((param.name.into(), "must be a string".into())),
                    None => problems.push((param.name.into(), "is required".into())),
                },
                Query => match value {
                    None => {}
                    Some(Value::String(s)) => query.push((param.name.into(), s.clone())),
                    Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                        query.push((param.name.into(), v.to_string()))
                    }
                    Some(_) => problems.push((
                        param.name.into(),
                        "must be a string, a number or a boolean".into(),
                    )),
                },
                Body => {
                    if let Some(v) = value {
                        body_object(&mut body).insert(param.name.into(), v.clone());
                    }
                }
                WholeBody => body = value.cloned(),
                Metadata => match (param.name, value) {
                    (_, None) => {}
                    ("metadata_extra", Some(Value::Object(extra))) => {
                        for (k, v) in extra {
                            metadata.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                    ("metadata_extra", Some(_)) => {
                        problems.push((param.name.into(), "must be an object".into()))
                    }
                    (name, Some(v)) => {
                        metadata.insert(name.into(), v.clone());
                    }
                },
            }
        }
        if !metadata.is_empty() {
            body_object(&mut body).insert("metadata".into(), Value::Object(metadata));
        }
        // A write always sends a body, so the API reports missing fields, not a missing body.
        if body.is_none() && matches!(verb, Verb::Post | Verb::Put) {
            body = Some(json!({}));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ApiRequest {
            method: verb,
            path,
            query,
            body,
        })
    }
}

fn body_object(body: &mut Option<Value>) -> &mut Map<String, Value> {
    match body.get_or_insert_with(|| json!({})) {
        Value::Object(map) => map,
        _ => unreachable!("a tool with body fields has an object body"),
    }
}

fn kind_schema(kind: Kind) -> Map<String, Value> {
    let value = match kind {
        Uuid => json!({"type": "string", "format": "uuid"}),
        Str => json!({"type": "string"}),
        Bool => json!({"type": "boolean"}),
        Int => json!({"type": "integer"}),
        Object => json!({"type": "object", "additionalProperties": true}),
        Objects => json!({"type": "array", "items": {"type": "object"}}),
        Strings => json!({"type": "array", "items": {"type": "string"}}),
        OneOf(words) => json!({"type": "string", "enum": words}),
    };
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_paths_fully_placed() {
        let mut names: Vec<_> = TOOLS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
        for tool in TOOLS {
            if let Call::Api { path, .. } = tool.call {
                for param in tool.params.iter().filter(|p| p.place == Path) {
                    assert!(
                        path.contains(&format!("{{{}}}", param.name)),
                        "{}",
                        tool.name
                    );
                }
                let placed = tool.params.iter().filter(|p| p.place == Path).count();
                assert_eq!(path.matches('{').count(), placed, "{}", tool.name);
            }
        }
    }

    #[test]
    fn path_arguments_are_encoded_not_interpreted() {
        let tool = find("meshes_get_connection").unwrap();
        let args = json!({"connection_id": "../workspaces?x=1"});
        let req = tool.request(args.as_object().unwrap()).unwrap();
        assert_eq!(req.path, "/connections/%2E%2E%2Fworkspaces%3Fx%3D1");
    }

    #[test]
    fn rule_action_goes_into_metadata() {
        let tool = find("meshes_create_rule").unwrap();
        let args = json!({"workspace": "w", "connection": "c", "event": "e",
            "action": "send_webhook", "metadata_extra": {"id": "x", "action": "ignored"}});
        let req = tool.request(args.as_object().unwrap()).unwrap();
        assert_eq!(
            req.body.unwrap()["metadata"],
            json!({"action": "send_webhook", "id": "x"})
        );
    }

    #[test]
    fn a_missing_path_argument_is_named() {
        let tool = find("meshes_retry_event_rule").unwrap();
        let args = json!({"event_id": 5});
        let problems = tool.request(args.as_object().unwrap()).unwrap_err();
        assert_eq!(
            problems,
            vec![
                ("event_id".to_owned(), "must be a string".to_owned()),
                ("rule_id".to_owned(), "is required".to_owned())
            ]
        );
    }
}
