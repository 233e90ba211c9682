//! The MCP server: `tools/list` from the table, `tools/call` as one API call with the caller's
//! credentials, the API's answer returned as text and as structured JSON.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, ResourceContents, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};

use crate::api_client::{ApiClient, ApiRequest, ApiResponse, CallerHeaders, Verb};
use crate::tools::{Call, TOOLS, ToolSpec};
use crate::{diagnose, resources};

/// Mints a bearer token per call (a machine JWT lives 60 s at most; stdio sessions last hours).
pub type TokenSource = Arc<dyn Fn() -> anyhow::Result<String> + Send + Sync>;

/// Where a call's credentials come from.
#[derive(Clone)]
pub enum Credentials {
    /// The HTTP request's own `Authorization` header (`/mcp`): each caller as itself.
    FromRequest,
    /// A credential of the process (`switchyard mcp` over stdio).
    Fixed(TokenSource),
}

#[derive(Clone)]
pub struct SwitchyardMcp {
    api: Arc<dyn ApiClient>,
    credentials: Credentials,
}

const INSTRUCTIONS: &str = "Switchyard routes a product's events to its customers' \
    destinations (webhooks and SaaS connectors), with retries and a delivery history. Tools \
    named meshes_* behave as in Meshes' MCP server; switchyard_* tools are extensions. To \
    debug a failed delivery: meshes_get_workspace_events (status failed or retrying), \
    meshes_get_event for its rule_events, switchyard_diagnose_delivery, fix the cause (e.g. \
    meshes_update_connection), then meshes_retry_event_rule. A refused call answers a tool \
    error carrying the API's message.";

impl SwitchyardMcp {
    pub fn new(api: Arc<dyn ApiClient>, credentials: Credentials) -> Self {
        Self { api, credentials }
    }

    fn caller(&self, context: &RequestContext<RoleServer>) -> Result<CallerHeaders, ErrorData> {
        match &self.credentials {
            Credentials::Fixed(mint) => {
                let token = mint().map_err(|e| {
                    ErrorData::internal_error(format!("cannot mint a token: {e}"), None)
                })?;
                Ok(CallerHeaders {
                    authorization: Some(format!("Bearer {token}")),
                    ..CallerHeaders::default()
                })
            }
            Credentials::FromRequest => {
                let parts = context.extensions.get::<axum::http::request::Parts>();
                let header = |name: &str| {
                    parts
                        .and_then(|p| p.headers.get(name))
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                Ok(CallerHeaders {
                    authorization: header("authorization"),
                    host: header("host"),
                    forwarded_proto: header("x-forwarded-proto"),
                })
            }
        }
    }

    async fn call_api(
        &self,
        caller: &CallerHeaders,
        request: ApiRequest,
    ) -> Result<ApiResponse, ErrorData> {
        self.api.call(caller, request).await.map_err(|e| {
            tracing::warn!(error = %e, "MCP tool could not reach the API");
            ErrorData::internal_error(format!("the API could not be reached: {e}"), None)
        })
    }

    async fn run(
        &self,
        spec: &ToolSpec,
        args: &Map<String, Value>,
        caller: &CallerHeaders,
    ) -> Result<CallToolResult, ErrorData> {
        match spec.call {
            Call::Api { .. } => match spec.request(args) {
                Err(problems) => Ok(invalid_arguments(&problems)),
                Ok(request) => Ok(answer(self.call_api(caller, request).await?)),
            },
            Call::Diagnose => self.diagnose(spec, args, caller).await,
        }
    }

    /// Reads the event (its deliveries) and the delivery's attempts, then explains.
    async fn diagnose(
        &self,
        spec: &ToolSpec,
        args: &Map<String, Value>,
        caller: &CallerHeaders,
    ) -> Result<CallToolResult, ErrorData> {
        let ids = ["event_id", "rule_id"].map(|k| args.get(k).and_then(Value::as_str));
        let [Some(event), Some(rule)] = ids else {
            let problems: Vec<_> = spec
                .params
                .iter()
                .filter(|p| args.get(p.name).and_then(Value::as_str).is_none())
                .map(|p| {
                    (
                        p.name.to_owned(),
                        "is required and must be a string".to_owned(),
                    )
                })
                .collect();
            return Ok(invalid_arguments(&problems));
        };
        let attempts_request = crate::tools::find("switchyard_list_delivery_attempts")
            .expect("the attempts tool")
            .request(args)
            .map_err(|_| ErrorData::internal_error("attempts request", None))?;
        let event_path = attempts_request
            .path
            .split("/rules/")
            .next()
            .unwrap_or_default()
            .to_owned();
        let event_response = self
            .call_api(
                caller,
                ApiRequest {
                    method: Verb::Get,
                    path: event_path,
                    query: Vec::new(),
                    body: None,
                },
            )
            .await?;
        if !event_response.is_success() {
            return Ok(answer(event_response));
        }
        let delivery = event_response.body["rule_events"]
            .as_array()
            .and_then(|all| all.iter().find(|d| d["rule"] == rule))
            .cloned();
        let Some(delivery) = delivery else {
            return Ok(api_error(
                404,
                &json!({"message": format!("Event {event} has no delivery through rule {rule}"),
                    "error": {"name": "NotFound",
                        "message": format!("Event {event} has no delivery through rule {rule}")}}),
            ));
        };
        let attempts_response = self.call_api(caller, attempts_request).await?;
        if !attempts_response.is_success() {
            return Ok(answer(attempts_response));
        }
        let attempts = attempts_response.body["records"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (words, facts) = diagnose::explain(&delivery, &attempts);
        let mut result = CallToolResult::structured(json!({"diagnosis": words, "facts": facts}));
        result.content = vec![ContentBlock::text(words)];
        Ok(result)
    }
}

/// The API's answer as a tool result: success with its JSON, or a tool error with its message.
fn answer(response: ApiResponse) -> CallToolResult {
    if !response.is_success() {
        return api_error(response.status, &response.body);
    }
    let structured = match response.body {
        Value::Object(_) => response.body,
        // MCP's structured content is an object: bare arrays (event types) and empty
        // answers are wrapped.
        other => json!({"status": response.status, "result": other}),
    };
    let text = serde_json::to_string_pretty(&structured).unwrap_or_default();
    let mut result = CallToolResult::structured(structured);
    result.content = vec![ContentBlock::text(text)];
    result
}

/// A refusal: the API's error body, its status, and the message in words.
fn api_error(status: u16, body: &Value) -> CallToolResult {
    let message = body["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| match body {
            Value::String(s) => s.clone(),
            _ => "the API refused the call".to_owned(),
        });
    let mut text = format!("HTTP {status}: {message}");
    if let Some(data) = body["error"]["data"].as_array() {
        for item in data {
            text.push_str(&format!(
                "\n- {}: {}",
                item["param"].as_str().unwrap_or("?"),
                item["msg"].as_str().unwrap_or("?")
            ));
        }
    }
    let mut structured = match body {
        Value::Object(map) => map.clone(),
        _ => Map::from_iter([("message".to_owned(), json!(message))]),
    };
    structured.insert("status".into(), json!(status));
    let mut result = CallToolResult::structured_error(Value::Object(structured));
    result.content = vec![ContentBlock::text(text)];
    result
}

/// Arguments the call cannot even be addressed with, in the API's validation error shape.
fn invalid_arguments(problems: &[(String, String)]) -> CallToolResult {
    let data: Vec<Value> = problems
        .iter()
        .map(|(param, msg)| json!({"param": param, "msg": msg}))
        .collect();
    api_error(
        400,
        &json!({"message": "Validation failed",
            "error": {"name": "ValidationError", "message": "Validation failed", "data": data}}),
    )
}

impl ServerHandler for SwitchyardMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(
            Implementation::new("switchyard", env!("CARGO_PKG_VERSION")).with_title("Switchyard"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            TOOLS.iter().map(ToolSpec::tool).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(spec) = crate::tools::find(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("no tool named {}", request.name),
                None,
            ));
        };
        let caller = self.caller(&context)?;
        let args = request.arguments.unwrap_or_default();
        let result = self.run(spec, &args, &caller).await?;
        tracing::info!(tool = spec.name, is_error = ?result.is_error, "MCP tool called");
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::list()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if let Some(contents) = resources::static_text(&request.uri) {
            return Ok(ReadResourceResult::new(vec![contents]).into());
        }
        if request.uri != resources::CATALOG_URI {
            return Err(ErrorData::resource_not_found(
                format!("no resource {}", request.uri),
                None,
            ));
        }
        let caller = self.caller(&context)?;
        let response = self
            .call_api(
                &caller,
                ApiRequest {
                    method: Verb::Get,
                    path: "/integrations".into(),
                    query: Vec::new(),
                    body: None,
                },
            )
            .await?;
        if !response.is_success() {
            return Err(ErrorData::invalid_request(
                format!("HTTP {}: {}", response.status, response.body["message"]),
                None,
            ));
        }
        Ok(
            ReadResourceResult::new(vec![ResourceContents::TextResourceContents {
                uri: request.uri,
                mime_type: Some("application/json".into()),
                text: serde_json::to_string_pretty(&response.body).unwrap_or_default(),
                meta: None,
            }])
            .into(),
        )
    }
}
