//! OpenAPI schemas for what no handler type states by itself: the names of core's enums (drawn
//! from core's own lists, so a new status cannot go undocumented), the event bodies that ingest
//! reads as raw JSON, webhook connection metadata, and the recursive rule conditions.
//!
//! The types here are documentation only: they are never built, only their schemas are used.

use std::borrow::Cow;

use serde_json::json;
use switchyard_core::conditions::{MAX_DEPTH, MAX_IN_VALUES, MAX_PATH_BYTES, MAX_TESTS};
use switchyard_core::domain::{DeliveryStatus, EventStatus, InactiveReason, IntegrationType};
use switchyard_core::field_catalog::FieldKind;
use switchyard_core::integration_catalog::{AuthType, FieldType, InputKind, InputType};
use switchyard_core::outcome::Outcome;
use switchyard_core::validation::MAX_EVENT_BYTES;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// A string schema with exactly these values.
fn string_enum<'a>(description: &str, values: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values.into_iter().map(str::to_owned)))
        .into()
}

/// Declares a documentation-only type whose schema is `$schema`, under the type's own name.
macro_rules! doc_schema {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

doc_schema!(
    /// `pending | processing | retrying | completed | failed | canceled`.
    DeliveryStatusName => string_enum(
        "A delivery's status.",
        DeliveryStatus::ALL.map(DeliveryStatus::as_str),
    )
);

doc_schema!(
    /// An event's status, derived from its deliveries.
    EventStatusName => string_enum(
        "An event's status, derived from its deliveries.",
        [
            EventStatus::Pending,
            EventStatus::Processing,
            EventStatus::Completed,
            EventStatus::Failed,
        ]
        .map(EventStatus::as_str),
    )
);

doc_schema!(
    /// Every integration type of the catalog.
    IntegrationTypeName => string_enum(
        "An integration (connection) type. This version delivers to every type; the catalog \
         (`GET /integrations`) lists each with `available`.",
        IntegrationType::ALL.map(IntegrationType::as_str),
    )
);

doc_schema!(
    /// The integration types connections can be created with in this version.
    DeliverableTypeName => string_enum(
        "A connection type this version can deliver to. Other types of the catalog answer 400 \
         on create until they are implemented.",
        IntegrationType::ALL
            .into_iter()
            .filter(|t| t.is_deliverable())
            .map(IntegrationType::as_str),
    )
);

doc_schema!(
    /// How an attempt ended.
    OutcomeName => string_enum(
        "How a delivery attempt ended.",
        Outcome::ALL.map(Outcome::as_str),
    )
);

doc_schema!(
    /// How an integration authenticates.
    AuthTypeName => string_enum(
        "How an integration authenticates.",
        AuthType::ALL.map(AuthType::as_str),
    )
);

doc_schema!(
    /// How a connection field is entered.
    AuthFieldTypeName => string_enum(
        "How a connection field is entered; `password` fields are write-only.",
        FieldType::ALL.map(FieldType::as_str),
    )
);

doc_schema!(
    /// Why a connection is inactive.
    InactiveReasonName => string_enum(
        "Why a connection is inactive.",
        InactiveReason::ALL.map(InactiveReason::as_str),
    )
);

doc_schema!(
    /// A destination field's type.
    FieldKindName => string_enum(
        "A destination field's type.",
        FieldKind::ALL.map(FieldKind::as_str),
    )
);

doc_schema!(
    /// How a rule editor presents an action input.
    InputKindName => string_enum(
        "`simple`: a value entered or picked; `field`: the name of a field at the destination; \
         `advanced`: optional fine-tuning.",
        InputKind::ALL.map(InputKind::as_str),
    )
);

doc_schema!(
    /// The widget of an action input.
    InputTypeName => string_enum(
        "The widget of an action input.",
        InputType::ALL.map(InputType::as_str),
    )
);

/// Event names and resources: 1–128 characters, no whitespace or control characters.
const NAME_PATTERN: &str = r"^[^\s\x00-\x1f\x7f-\x9f]{1,128}$";
/// Resource ids, as the contract gives them.
const RESOURCE_ID_PATTERN: &str = r"^[A-Za-z0-9._:-]{1,64}$";

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

fn nullable(types: Type) -> SchemaType {
    SchemaType::from_iter([types, Type::Null])
}

doc_schema!(
    /// The body of `POST /events` and one item of `POST /events/bulk` (read as raw JSON so
    /// every field problem is reported at once).
    EventInput => ObjectBuilder::new()
        .description(Some(
            "An event to send. With a publishable key the workspace is the key's; with a machine \
             key `workspace` is required.",
        ))
        .property(
            "event",
            string("The event type, dotted by convention (`user.signup`).").pattern(Some(NAME_PATTERN)),
        )
        .required("event")
        .property(
            "payload",
            ObjectBuilder::new()
                .schema_type(nullable(Type::Object))
                .description(Some(format!(
                    "Any JSON object (default `{{}}`); at most {MAX_EVENT_BYTES} bytes of JSON, \
                     else 413."
                ))),
        )
        .property(
            "resource",
            ObjectBuilder::new()
                .schema_type(nullable(Type::String))
                .pattern(Some(NAME_PATTERN))
                .description(Some("What the event is about (default `global`).")),
        )
        .property(
            "resource_id",
            ObjectBuilder::new()
                .schema_type(nullable(Type::String))
                .pattern(Some(RESOURCE_ID_PATTERN)),
        )
        .property(
            "workspace",
            ObjectBuilder::new()
                .schema_type(nullable(Type::String))
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Uuid,
                )))
                .description(Some(
                    "The target workspace when sending with a machine key (required then); \
                     ignored with a publishable key.",
                )),
        )
        .examples([json!({"event": "user.signup", "resource": "user", "resource_id": "usr_2048",
            "payload": {"email": "ada@example.com", "plan": "pro"}})])
        .into()
);

doc_schema!(
    /// The body of `POST /events/bulk`.
    EventBatch => ArrayBuilder::new()
        .items(Ref::from_schema_name("EventInput"))
        .min_items(Some(1))
        .max_items(Some(crate::api::events::MAX_BULK))
        .description(Some(
            "1–100 events. Each is validated on its own: valid ones are accepted even when \
             others are not (207).",
        ))
        .into()
);

doc_schema!(
    /// Webhook connection metadata.
    WebhookMetadata => ObjectBuilder::new()
        .description(Some(
            "Connection settings. For `webhook`: the fields below. Secret fields (`auth_password`, \
             `auth_token`, `auth_header_value`, `headers`, `signing_secret`, and any field named \
             like a secret) are write-only: sealed at rest, never returned. Other types' fields \
             are listed by `GET /integrations`.",
        ))
        .property(
            "url",
            string("`https://` only (the embedded runtime's `--allow-loopback-http` also allows \
                    `http://` to loopback). The endpoint is resolved and probed on create; an \
                    unsafe or unreachable one answers 422.")
            .format(Some(utoipa::openapi::SchemaFormat::Custom("uri".into()))),
        )
        .property(
            "http_method",
            string_enum("Default `POST`.", ["POST", "PUT", "PATCH"]),
        )
        .property(
            "payload_mode",
            string_enum(
                "`wrapped` (the envelope, default) or `raw` (the payload only).",
                ["wrapped", "raw"],
            ),
        )
        .property(
            "auth_scheme",
            string_enum("Default `none`.", ["none", "basic", "bearer", "header"]),
        )
        .property("auth_username", string("For `basic`."))
        .property("auth_password", string("For `basic`. Write-only."))
        .property("auth_token", string("For `bearer`. Write-only."))
        .property("auth_header_name", string("For `header`."))
        .property("auth_header_value", string("For `header`. Write-only."))
        .property(
            "headers",
            ObjectBuilder::new()
                .description(Some("Up to 5 custom headers, name → value. Write-only."))
                .additional_properties(Some(string("A header value."))),
        )
        .property(
            "signing_secret",
            string("Extension: Standard Webhooks secret (`whsec_…`); generated when absent. \
                    Setting a new one on update rotates it: the old one keeps signing for 24 h. \
                    Write-only."),
        )
        .property(
            "signature_algorithm",
            string_enum("Meshes-style HMAC signing (off when absent).", ["sha256", "sha512"]),
        )
        .property(
            "signature_header",
            string("Header of the Meshes-style signature (default `X-Meshes-Signature`)."),
        )
        .property(
            "timeout_ms",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1000))
                .maximum(Some(30000))
                .description(Some(
                    "Extension: how long an attempt waits for the answer, in milliseconds \
                     (default 30000). A timeout is retried on the schedule.",
                )),
        )
        .into()
);

doc_schema!(
    /// A rule's conditions (extension).
    Condition => condition_schema()
);

fn condition_schema() -> RefOr<Schema> {
    let me = || Ref::from_schema_name("Condition");
    let group = |key: &str, what: &str| {
        ObjectBuilder::new()
            .property(key, ArrayBuilder::new().items(me()).min_items(Some(1)))
            .required(key)
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .description(Some(what))
    };
    let number = || ObjectBuilder::new().schema_type(Type::Number);
    let test = ObjectBuilder::new()
        .description(Some(
            "A test on the value at `path`; every operator given must hold. `gt`/`gte` and \
             `lt`/`lte` form a numeric range. Wrong types never match (no coercion).",
        ))
        .property(
            "path",
            string(
                "`event`, `resource`, `resource_id`, `payload` or `payload.<key>[.<key or \
                 index>…]`.",
            )
            .pattern(Some(r"^(event|resource|resource_id|payload(\.[^.]+)*)$"))
            .max_length(Some(MAX_PATH_BYTES)),
        )
        .required("path")
        .min_properties(Some(2))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .property(
            "equals",
            ObjectBuilder::new().description(Some("Any JSON value.")),
        )
        .property(
            "in",
            ArrayBuilder::new()
                .min_items(Some(1))
                .max_items(Some(MAX_IN_VALUES)),
        )
        .property("prefix", string("Non-empty.").min_length(Some(1)))
        .property("suffix", string("Non-empty.").min_length(Some(1)))
        .property("exists", ObjectBuilder::new().schema_type(Type::Boolean))
        .property("gt", number())
        .property("gte", number())
        .property("lt", number())
        .property("lte", number());
    let not = ObjectBuilder::new()
        .property("not", me())
        .required("not")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .description(Some("Holds when the condition does not."));
    OneOfBuilder::new()
        .description(Some(format!(
            "Extension: a filter on the event (Meshes rules have none). A test, or a group \
             (`all`, `any`, `not`). At most {MAX_DEPTH} levels deep and {MAX_TESTS} tests."
        )))
        .item(test)
        .item(group("all", "Holds when every condition holds."))
        .item(group("any", "Holds when at least one condition holds."))
        .item(not)
        .examples([json!({"all": [
            {"path": "payload.plan", "equals": "pro"},
            {"path": "payload.amount", "gte": 100, "lt": 1000}
        ]})])
        .into()
}

/// `?limit=&cursor=` on every paged list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page (opaque; anything else is a 400).
    cursor: Option<uuid::Uuid>,
}

/// Filters of `GET /connections`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ConnectionFilters {
    /// Only this workspace's connections.
    workspace: Option<uuid::Uuid>,
}

/// Filters of `GET /rules` (`workspace` is the path's in `/workspaces/{id}/rules`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RuleFilters {
    /// Only this workspace's rules (ignored under `/workspaces/{id}/rules`).
    workspace: Option<uuid::Uuid>,
    /// Only rules delivering to this connection.
    connection: Option<uuid::Uuid>,
    /// Only rules for this event type.
    event: Option<String>,
    resource: Option<String>,
    resource_id: Option<String>,
}

/// Filters of `GET /events`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct EventFilters {
    /// Only this workspace's events (ignored under `/workspaces/{id}/events`).
    workspace: Option<uuid::Uuid>,
    event: Option<String>,
    resource: Option<String>,
    resource_id: Option<String>,
    /// Extension: only events of this status (`pending`, `processing`, `completed`,
    /// `failed`), as the list derives it.
    status: Option<String>,
    /// Extension: only events received at or after this time (RFC 3339).
    since: Option<String>,
    /// Extension: only events received before this time (RFC 3339).
    until: Option<String>,
}
