//! Catalogs: the integrations this server knows (`/integrations`) and a connection's actions
//! with their live options (a workspace's event types and resources: `workspace_catalog.rs`).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Map, Value};

use switchyard_core::ConnectionId;
use switchyard_core::domain::Connection;
use switchyard_core::integration_catalog::{
    self, ActionInput, AuthField, Choice, FIELD_CATALOG, IntegrationSpec,
};
use utoipa::ToSchema;

use super::auth::Reader;
use super::body::PathId;
use super::error::{ApiError, ApiResult};
use super::openapi::{BadRequest, NotFound, Unauthorized};
use super::query::Params;
use super::schemas::{
    AuthFieldTypeName, AuthTypeName, InputKindName, InputTypeName, IntegrationTypeName,
};
use super::views::List;
use crate::Deps;

/// One integration of the catalog.
#[derive(Serialize, ToSchema)]
pub struct IntegrationView {
    name: &'static str,
    #[serde(rename = "type")]
    #[schema(value_type = IntegrationTypeName)]
    kind: &'static str,
    authentication: AuthenticationView,
    /// The actions a rule on this type may take, keyed by action key (`metadata.action`).
    #[schema(value_type = std::collections::HashMap<String, ActionView>)]
    actions: ActionMap,
    /// Extension: whether this version can deliver to the type (connections of other types
    /// are refused on create).
    available: bool,
}

/// How a connection of the type authenticates and what its form asks for.
#[derive(Serialize, ToSchema)]
pub struct AuthenticationView {
    #[serde(rename = "type")]
    #[schema(value_type = AuthTypeName)]
    kind: &'static str,
    /// The connection `metadata` fields a connection form asks for (OAuth tokens come from the
    /// OAuth flow and are not listed).
    fields: Vec<AuthFieldView>,
    /// Present on OAuth types.
    #[serde(skip_serializing_if = "Option::is_none")]
    oauth: Option<OAuthView>,
}

#[derive(Serialize, ToSchema)]
pub struct OAuthView {
    /// The OAuth version: 2 (OAuth 2.0, authorization-code flow via
    /// `GET /connections/oauth/{type}/start`).
    version: u8,
}

/// A connection `metadata` field.
#[derive(Serialize, ToSchema)]
pub struct AuthFieldView {
    /// The `metadata` key.
    key: &'static str,
    label: &'static str,
    /// `password` fields are write-only: sealed at rest, never shown back.
    #[serde(rename = "type")]
    #[schema(value_type = AuthFieldTypeName)]
    kind: &'static str,
    required: bool,
    #[serde(rename = "helpText", skip_serializing_if = "Option::is_none")]
    help_text: Option<&'static str>,
    /// `url` when the value must be a URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "url")]
    validate: Option<&'static str>,
    #[serde(rename = "defaultValue", skip_serializing_if = "Option::is_none")]
    default_value: Option<&'static str>,
    /// The choices of a `select`.
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<Vec<ChoiceView>>,
    /// Asked only when the field `field` has the value `value`.
    #[serde(rename = "dependsOn", skip_serializing_if = "Option::is_none")]
    depends_on: Option<DependsOnView>,
}

#[derive(Clone, Serialize, ToSchema)]
pub struct ChoiceView {
    label: String,
    value: String,
}

#[derive(Serialize, ToSchema)]
pub struct DependsOnView {
    field: &'static str,
    value: &'static str,
}

/// An action a rule on this type of connection may take.
#[derive(Serialize, ToSchema)]
pub struct ActionView {
    /// The value of a rule's `metadata.action`.
    key: &'static str,
    label: &'static str,
    /// What the action acts on (`Contact`, `Message`).
    noun: &'static str,
    display: DisplayView,
    /// The event fields (after the connection's field mapping) the action reads.
    fields: Vec<&'static str>,
    /// The rule `metadata` inputs the action reads.
    data: Vec<InputView>,
}

#[derive(Serialize, ToSchema)]
pub struct DisplayView {
    label: &'static str,
    description: &'static str,
}

/// A rule `metadata` input of an action.
#[derive(Serialize, ToSchema)]
pub struct InputView {
    /// The input's name within the action.
    key: &'static str,
    /// The rule `metadata` key its value goes in (`id`, `value`).
    field: &'static str,
    /// `simple`: a value entered or picked; `field`: a destination field's name;
    /// `advanced`: optional fine-tuning.
    #[schema(value_type = InputKindName)]
    kind: &'static str,
    label: &'static str,
    #[serde(rename = "type")]
    #[schema(value_type = InputTypeName)]
    input_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    noun: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    placeholder: Option<&'static str>,
    required: bool,
    /// The choices: fixed ones, or on `GET /connections/{id}/actions` the provider account's
    /// entries (lists, tags, channels …; `value` is what the rule's `metadata` takes).
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<Vec<ChoiceView>>,
}

/// Actions as a JSON object keyed by action key, in catalog order.
pub struct ActionMap(Vec<ActionView>);

impl Serialize for ActionMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for action in &self.0 {
            map.serialize_entry(action.key, action)?;
        }
        map.end()
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionActions {
    #[schema(format = Uuid)]
    connection_id: String,
    #[serde(rename = "type")]
    #[schema(value_type = IntegrationTypeName)]
    kind: &'static str,
    /// The actions, keyed by action key; inputs the provider has entries for carry them as
    /// `options`.
    #[schema(value_type = std::collections::HashMap<String, ActionView>)]
    actions: ActionMap,
    /// Why the provider's entries could not be listed (the actions are still answered, without
    /// live options); absent when they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    options_error: Option<String>,
}

fn choices(options: &[Choice]) -> Option<Vec<ChoiceView>> {
    (!options.is_empty()).then(|| {
        options
            .iter()
            .map(|c| ChoiceView {
                label: c.label.to_owned(),
                value: c.value.to_owned(),
            })
            .collect()
    })
}

fn auth_field_view(f: &AuthField) -> AuthFieldView {
    AuthFieldView {
        key: f.key,
        label: f.label,
        kind: f.kind.as_str(),
        required: f.required,
        help_text: f.help_text,
        validate: f.url.then_some("url"),
        default_value: f.default_value,
        options: choices(f.options),
        depends_on: f
            .depends_on
            .map(|(field, value)| DependsOnView { field, value }),
    }
}

/// The type's actions; `live` gives an input's options from the provider's entries of its
/// listing kind.
fn action_map(
    spec: &IntegrationSpec,
    live: impl Fn(&ActionInput) -> Option<Vec<ChoiceView>>,
) -> ActionMap {
    ActionMap(
        spec.actions
            .iter()
            .map(|a| ActionView {
                key: a.key,
                label: a.label,
                noun: a.noun,
                display: DisplayView {
                    label: a.label,
                    description: a.description,
                },
                fields: a.fields.to_vec(),
                data: a
                    .inputs
                    .iter()
                    .map(|i| InputView {
                        key: i.key,
                        field: i.field,
                        kind: i.kind.as_str(),
                        label: i.label,
                        input_type: i.input_type.as_str(),
                        noun: i.noun,
                        description: i.description,
                        placeholder: i.placeholder,
                        required: i.required,
                        options: live(i).or_else(|| choices(i.options)),
                    })
                    .collect(),
            })
            .collect(),
    )
}

fn integration_view(s: &IntegrationSpec) -> IntegrationView {
    IntegrationView {
        name: s.name,
        kind: s.kind.as_str(),
        authentication: AuthenticationView {
            kind: s.auth.as_str(),
            fields: s.auth_fields.iter().map(auth_field_view).collect(),
            oauth: s.oauth_version().map(|version| OAuthView { version }),
        },
        actions: action_map(s, |_| None),
        available: s.kind.is_deliverable(),
    }
}

/// `GET /integrations`: every type, how it authenticates, its actions, and whether this build
/// can deliver to it yet (`available`, an extension).
#[utoipa::path(
    get,
    path = "/api/v1/integrations",
    operation_id = "listIntegrations",
    summary = "List the integrations catalog",
    description = "Every integration type: how a connection of it authenticates and which \
        `metadata` fields its form asks for, and its actions — an object keyed by action key, \
        each with the rule `metadata` inputs it reads (`data`). **Extension**: `available` says \
        whether this version can deliver to the type.",
    tag = "catalog",
    security(("machine_jwt" = []), ("session_token" = [])),
    responses(
        (status = 200, description = "Every integration type (unpaged).",
            body = List<IntegrationView>),
        (status = 401, response = Unauthorized),
    ),
)]
pub async fn integrations(_caller: Reader) -> Json<List<IntegrationView>> {
    let records = integration_catalog::all()
        .iter()
        .map(integration_view)
        .collect();
    Json(List::all(records))
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}/actions",
    operation_id = "listConnectionActions",
    summary = "List a connection's actions",
    description = "The actions rules on this connection may take (`metadata.action`), keyed by \
        action key, each with its inputs. Inputs that pick from the provider account (a list, \
        tag, channel, segment …) carry its entries as `options`, listed live, and inputs that \
        name a destination field (`kind: field`) the writable fields of the field catalog \
        (both kept a few minutes; `refresh=true` asks again); when the provider does not \
        answer, the actions are answered without, and `options_error` says why. Meshes has this route but does not \
        publish its response shape; this body is Switchyard's (**extension**).",
    tag = "catalog",
    security(("machine_jwt" = []), ("session_token" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Connection id."),
        ("refresh" = Option<bool>, Query,
            description = "Ask the provider again instead of recently listed entries."),
    ),
    responses(
        (status = 200, description = "The actions rules on this connection may take.",
            body = ConnectionActions),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ),
)]
pub async fn connection_actions(
    State(deps): State<Deps>,
    caller: Reader,
    PathId(id): PathId<ConnectionId>,
    params: Params,
) -> ApiResult<Json<ConnectionActions>> {
    let refresh = refresh(&params);
    let connection = caller.connection(&deps, id).await?;
    let spec = integration_catalog::spec(connection.kind);
    let live_kinds: Vec<&str> = spec
        .actions
        .iter()
        .flat_map(|a| a.inputs.iter().filter_map(|i| i.live))
        .collect();
    let mut errors = Vec::new();
    let mut targets = None;
    let mut fields = None;
    if !live_kinds.is_empty() {
        match provider_secrets(&deps, &connection).await? {
            Err(why) => errors.push(why),
            Ok(secrets) => {
                if live_kinds.iter().any(|k| *k != FIELD_CATALOG) {
                    match deps
                        .integrations
                        .rule_targets(&connection, &secrets, refresh)
                        .await
                    {
                        Ok(listed) => targets = Some(listed),
                        Err(why) => errors.push(why),
                    }
                }
                if live_kinds.contains(&FIELD_CATALOG) {
                    match deps
                        .integrations
                        .field_catalog(&connection, &secrets, refresh)
                        .await
                    {
                        Ok(read) => fields = Some(read.fields),
                        Err(why) => errors.push(why),
                    }
                }
            }
        }
    }
    // Each input whose source answered gets its entries as options (an empty list when the
    // account has none), so an editor can tell "none" from "not listed".
    let live = |input: &ActionInput| match input.live? {
        FIELD_CATALOG => fields.as_ref().map(|fields| {
            fields
                .iter()
                .filter(|f| f.constraints.read_only != Some(true))
                .map(|f| ChoiceView {
                    label: f.label.clone().unwrap_or_else(|| f.key.clone()),
                    value: f.key.clone(),
                })
                .collect()
        }),
        kind => targets.as_ref().map(|targets| {
            targets
                .iter()
                .filter(|t| t["kind"] == kind)
                .filter_map(|t| {
                    Some(ChoiceView {
                        value: t["id"].as_str()?.to_owned(),
                        label: t["name"].as_str()?.to_owned(),
                    })
                })
                .collect()
        }),
    };
    let options_error = (!errors.is_empty()).then(|| errors.join("; "));
    Ok(Json(ConnectionActions {
        connection_id: connection.id.to_string(),
        kind: connection.kind.as_str(),
        actions: action_map(spec, live),
        options_error,
    }))
}

/// `?refresh=true` (or `1`): ask the provider again rather than answer recent entries.
pub(super) fn refresh(params: &Params) -> bool {
    matches!(params.get("refresh").as_deref(), Some("true" | "1"))
}

/// The secrets a call to the connection's provider is made with: OAuth connections with a
/// fresh access token, as deliveries are. `Ok(Err(why))`: no usable credentials.
pub(super) async fn provider_secrets(
    deps: &Deps,
    connection: &Connection,
) -> ApiResult<Result<Map<String, Value>, String>> {
    let secrets = connection
        .open_secrets(deps.keys.as_ref())
        .map_err(ApiError::internal)?;
    Ok(
        match crate::oauth::FreshToken::prepare(deps, connection, secrets).await {
            Ok(token) => Ok(token.secrets().clone()),
            Err(failed) => Err(failed.error.unwrap_or_else(|| failed.outcome.to_string())),
        },
    )
}
