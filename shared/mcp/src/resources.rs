//! Reference material an agent reads before it acts: the integration catalog (live, from the
//! API), the mapping schema and the webhook verification snippet.

use rmcp::model::{Resource, ResourceContents};

pub const CATALOG_URI: &str = "switchyard://integrations";
pub const MAPPING_SCHEMA_URI: &str = "switchyard://mapping-schema";
pub const VERIFY_URI: &str = "switchyard://webhook-verification";

pub fn list() -> Vec<Resource> {
    vec![
        Resource::new(CATALOG_URI, "integrations")
            .with_title("Integration catalog")
            .with_description(
                "Every integration type: its authentication, connection fields and actions \
                 (GET /api/v1/integrations).",
            )
            .with_mime_type("application/json"),
        Resource::new(MAPPING_SCHEMA_URI, "mapping-schema")
            .with_title("Field mapping schema")
            .with_description(
                "The schema meshes_update_connection_default_mappings takes, with an example.",
            )
            .with_mime_type("text/markdown"),
        Resource::new(VERIFY_URI, "webhook-verification")
            .with_title("Verifying webhook deliveries")
            .with_description("How a receiver checks a delivery's Standard Webhooks signature.")
            .with_mime_type("text/markdown"),
    ]
}

/// A static resource's text; the catalog is read from the API by the caller.
pub fn static_text(uri: &str) -> Option<ResourceContents> {
    let text = match uri {
        MAPPING_SCHEMA_URI => MAPPING_SCHEMA,
        VERIFY_URI => VERIFY,
        _ => return None,
    };
    Some(ResourceContents::TextResourceContents {
        uri: uri.to_owned(),
        mime_type: Some("text/markdown".into()),
        text: text.to_owned(),
        meta: None,
    })
}

const MAPPING_SCHEMA: &str = r#"# Field mapping schema

`PUT /connections/{id}/mappings/default` (tool `meshes_update_connection_default_mappings`)
takes `{schema, expected_version?, name?}` where `schema` is:

```json
{"schema_version": 1,
 "fields": [
   {"dest": "email", "source": {"type": "path", "value": "email"},
    "transforms": [{"type": "trim"}, {"type": "lower"}], "on_error": "fail_action"},
   {"dest": "plan", "source": {"type": "literal", "value": "pro"}}
 ],
 "meta": {"name": "signup to CRM"}}
```

- `fields`: at most 250; `dest` is a key of the connection's field catalog
  (`meshes_get_connection_fields`).
- `source.type`: `path` (a dotted path into the event payload) or `literal`.
- `transforms` (at most 10, applied in order): to_string, to_number, to_boolean, to_date,
  to_datetime, default (`{"type": "default", "value": ...}`), trim, lower, upper,
  substring (`{"type": "substring", "start": 0, "length": 10}`).
- `on_error`: `skip_field` (drop the field), `warn_action` (send without it, record a
  warning) or `fail_action` (the attempt fails with `mapping_error`).
- `expected_version`: the `version` you read; a newer stored version answers 409.
"#;

const VERIFY: &str = r#"# Verifying webhook deliveries

Every webhook carries Standard Webhooks headers: `webhook-id` (the delivery id, the same on
every retry: drop duplicates by it), `webhook-timestamp` (seconds) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{raw body}">`, keyed with the
connection's `whsec_` secret (base64 after the prefix). During a rotation two signatures are
sent, separated by spaces; accept the delivery if any matches.

Python:

```python
from standardwebhooks.webhooks import Webhook
Webhook(secret).verify(body, headers)   # raises if forged or stale
```

Node:

```js
import { Webhook } from "standardwebhooks";
new Webhook(secret).verify(body, headers); // throws if forged or stale
```

By hand: reject a timestamp more than 5 minutes from now, compute the HMAC above and compare
it to each `v1,` signature in constant time. Verify the raw body bytes, before parsing JSON.
"#;
