//! Domain values as items and back. Attribute names are short because every byte of a history
//! item is billed on every write of it (see `keys.rs` for the keys themselves); JSON fields
//! (payloads, metadata, conditions) are stored as JSON text so numbers and nesting survive
//! exactly.

use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::domain::*;
use switchyard_core::keyring::Sealed;
use switchyard_core::outcome::Outcome;
use switchyard_core::{DeliveryId, OrgId, StoreError};

use super::item::{Item, Reader, json_s, ms, n, put_opt, s};
use super::keys::*;

fn bad(kind: &str, what: &str) -> StoreError {
    StoreError::Backend(format!("stored {kind} has a malformed {what}"))
}

fn parse_enum<T: std::str::FromStr>(kind: &str, what: &str, v: &str) -> Result<T, StoreError> {
    v.parse().map_err(|_| bad(kind, what))
}

fn keyed(pk: String, sk: String) -> Item {
    Item::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

pub(crate) fn organization_item(o: &Organization) -> Item {
    let mut item = keyed(org_pk(o.id), ORG_SK.into());
    item.insert("id".into(), s(o.id.to_string()));
    item.insert("name".into(), s(&o.name));
    item.insert("at".into(), ms(o.created_at));
    item
}

pub(crate) fn organization(item: &Item) -> Result<Organization, StoreError> {
    let r = Reader::new(item, "organization");
    Ok(Organization {
        id: r.parse("id")?,
        name: r.string("name")?,
        created_at: r.time("at")?,
    })
}

fn machine_key_attrs(item: &mut Item, k: &MachineKey) {
    item.insert("access".into(), s(&k.access_key));
    item.insert("org".into(), s(k.org.to_string()));
    item.insert("name".into(), s(&k.name));
    item.insert("secret".into(), s(&k.secret.0));
    item.insert("at".into(), ms(k.created_at));
    put_opt(item, "revoked", k.revoked_at.map(ms));
}

/// The lookup item (by access key) and the organization's copy (for listing).
pub(crate) fn machine_key_items(k: &MachineKey) -> (Item, Item) {
    let mut lookup = keyed(machine_key_pk(&k.access_key), LOOKUP_SK.into());
    machine_key_attrs(&mut lookup, k);
    let mut copy = keyed(org_pk(k.org), machine_key_org_sk(&k.access_key));
    machine_key_attrs(&mut copy, k);
    (lookup, copy)
}

pub(crate) fn machine_key(item: &Item) -> Result<MachineKey, StoreError> {
    let r = Reader::new(item, "machine key");
    Ok(MachineKey {
        access_key: r.string("access")?,
        org: r.parse("org")?,
        name: r.string("name")?,
        secret: Sealed(r.string("secret")?),
        created_at: r.time("at")?,
        revoked_at: r.opt_time("revoked")?,
    })
}

fn publishable_key_attrs(item: &mut Item, k: &PublishableKey) {
    item.insert("hash".into(), s(&k.key_hash));
    item.insert("org".into(), s(k.org.to_string()));
    item.insert("ws".into(), s(k.workspace.to_string()));
    item.insert("name".into(), s(&k.name));
    item.insert("key".into(), s(&k.key.0));
    item.insert("at".into(), ms(k.created_at));
    put_opt(item, "expires", k.expires_at.map(ms));
}

pub(crate) fn publishable_key_items(k: &PublishableKey) -> (Item, Item) {
    let mut lookup = keyed(publishable_key_pk(&k.key_hash), LOOKUP_SK.into());
    publishable_key_attrs(&mut lookup, k);
    let mut copy = keyed(
        org_pk(k.org),
        format!("{}{}", publishable_keys_prefix(k.workspace), k.key_hash),
    );
    publishable_key_attrs(&mut copy, k);
    (lookup, copy)
}

pub(crate) fn publishable_key(item: &Item) -> Result<PublishableKey, StoreError> {
    let r = Reader::new(item, "publishable key");
    Ok(PublishableKey {
        key_hash: r.string("hash")?,
        org: r.parse("org")?,
        workspace: r.parse("ws")?,
        name: r.string("name")?,
        key: Sealed(r.string("key")?),
        created_at: r.time("at")?,
        expires_at: r.opt_time("expires")?,
    })
}

pub(crate) fn workspace_item(w: &Workspace) -> Item {
    let mut item = keyed(org_pk(w.org), workspace_sk(w.id));
    item.insert("id".into(), s(w.id.to_string()));
    item.insert("org".into(), s(w.org.to_string()));
    item.insert("name".into(), s(&w.name));
    put_opt(&mut item, "desc", w.description.as_deref().map(s));
    item.insert("at".into(), ms(w.created_at));
    item.insert("up".into(), ms(w.updated_at));
    item
}

pub(crate) fn workspace(item: &Item) -> Result<Workspace, StoreError> {
    let r = Reader::new(item, "workspace");
    Ok(Workspace {
        id: r.parse("id")?,
        org: r.parse("org")?,
        name: r.string("name")?,
        description: r.opt_string("desc")?,
        created_at: r.time("at")?,
        updated_at: r.time("up")?,
    })
}

pub(crate) fn workspace_name_item(w: &Workspace) -> Item {
    let mut item = keyed(org_pk(w.org), workspace_name_sk(&w.name));
    item.insert("id".into(), s(w.id.to_string()));
    item
}

pub(crate) fn connection_item(c: &Connection) -> Result<Item, StoreError> {
    let mut item = keyed(org_pk(c.org), connection_sk(c.id));
    item.insert(
        SCOPE.into(),
        s(format!("{}{}", connection_scope_prefix(c.workspace), c.id)),
    );
    item.insert("id".into(), s(c.id.to_string()));
    item.insert("org".into(), s(c.org.to_string()));
    item.insert("ws".into(), s(c.workspace.to_string()));
    item.insert("kind".into(), s(c.kind.as_str()));
    item.insert("name".into(), s(&c.name));
    item.insert("meta".into(), json_s(&c.metadata)?);
    put_opt(&mut item, "secrets", c.secrets.as_ref().map(|x| s(&x.0)));
    item.insert("hidden".into(), AttributeValue::Bool(c.hidden));
    item.insert("by".into(), s(&c.created_by));
    item.insert("at".into(), ms(c.created_at));
    item.insert("up".into(), ms(c.updated_at));
    Ok(item)
}

pub(crate) fn connection(item: &Item) -> Result<Connection, StoreError> {
    let r = Reader::new(item, "connection");
    Ok(Connection {
        id: r.parse("id")?,
        org: r.parse("org")?,
        workspace: r.parse("ws")?,
        kind: parse_enum("connection", "kind", r.s("kind")?)?,
        name: r.string("name")?,
        metadata: r.json("meta")?,
        secrets: r.opt_string("secrets")?.map(Sealed),
        hidden: r.bool("hidden")?,
        created_by: r.string("by")?,
        created_at: r.time("at")?,
        updated_at: r.time("up")?,
    })
}

pub(crate) fn session_item(x: &Session) -> Result<Item, StoreError> {
    let mut item = keyed(org_pk(x.org), session_sk(x.id));
    item.insert(
        SCOPE.into(),
        s(format!("{}{}", session_scope_prefix(x.workspace), x.id)),
    );
    item.insert("id".into(), s(x.id.to_string()));
    item.insert("org".into(), s(x.org.to_string()));
    item.insert("ws".into(), s(x.workspace.to_string()));
    item.insert("type".into(), s(x.session_type.as_str()));
    item.insert("role".into(), s(x.role.as_str()));
    put_opt(&mut item, "res", x.resource.as_deref().map(s));
    put_opt(&mut item, "rid", x.resource_id.as_deref().map(s));
    put_opt(&mut item, "ext", x.external_user_id.as_deref().map(s));
    item.insert("scopes".into(), json_s(&x.scopes)?);
    put_opt(&mut item, "page", x.launch_page.map(|p| s(p.as_str())));
    item.insert("origins".into(), json_s(&x.allowed_origins)?);
    item.insert("th".into(), s(&x.token_hash));
    item.insert("exp".into(), ms(x.expires_at));
    item.insert("ttl_s".into(), n(x.ttl_seconds));
    item.insert("lh".into(), s(&x.launch_hash));
    item.insert("lexp".into(), ms(x.launch_expires_at));
    item.insert("at".into(), ms(x.created_at));
    if let Some(b) = &x.branding {
        item.insert("brand".into(), json_s(b)?);
    }
    item.insert(
        "st".into(),
        s(if x.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        }),
    );
    put_opt(&mut item, "rev", x.revoked_at.map(ms));
    Ok(item)
}

pub(crate) fn session(item: &Item) -> Result<Session, StoreError> {
    let r = Reader::new(item, "session");
    Ok(Session {
        id: r.parse("id")?,
        org: r.parse("org")?,
        workspace: r.parse("ws")?,
        session_type: parse_enum("session", "type", r.s("type")?)?,
        role: parse_enum("session", "role", r.s("role")?)?,
        resource: r.opt_string("res")?,
        resource_id: r.opt_string("rid")?,
        external_user_id: r.opt_string("ext")?,
        scopes: r.json("scopes")?,
        launch_page: r
            .opt_s("page")?
            .map(|p| parse_enum("session", "launch page", p))
            .transpose()?,
        allowed_origins: r.json("origins")?,
        token_hash: r.string("th")?,
        expires_at: r.time("exp")?,
        ttl_seconds: r.num("ttl_s")?,
        launch_hash: r.string("lh")?,
        launch_expires_at: r.time("lexp")?,
        created_at: r.time("at")?,
        revoked_at: r.opt_time("rev")?,
        branding: r.opt_json("brand")?,
    })
}

pub(crate) fn rule_item(rule: &Rule) -> Result<Item, StoreError> {
    let mut item = keyed(org_pk(rule.org), rule_sk(rule.id));
    item.insert(
        SCOPE.into(),
        s(format!(
            "{}{}",
            rule_scope_prefix(rule.workspace, &rule.event),
            rule.id
        )),
    );
    item.insert("id".into(), s(rule.id.to_string()));
    item.insert("org".into(), s(rule.org.to_string()));
    item.insert("ws".into(), s(rule.workspace.to_string()));
    item.insert("conn".into(), s(rule.connection.to_string()));
    item.insert("kind".into(), s(rule.kind.as_str()));
    item.insert("event".into(), s(&rule.event));
    put_opt(&mut item, "res", rule.resource.as_deref().map(s));
    put_opt(&mut item, "rid", rule.resource_id.as_deref().map(s));
    item.insert("meta".into(), json_s(&rule.metadata)?);
    if let Some(c) = &rule.conditions {
        item.insert("cond".into(), json_s(c)?);
    }
    item.insert("active".into(), AttributeValue::Bool(rule.active));
    item.insert("hidden".into(), AttributeValue::Bool(rule.hidden));
    item.insert("by".into(), s(&rule.created_by));
    item.insert("at".into(), ms(rule.created_at));
    item.insert("up".into(), ms(rule.updated_at));
    Ok(item)
}

pub(crate) fn rule(item: &Item) -> Result<Rule, StoreError> {
    let r = Reader::new(item, "rule");
    Ok(Rule {
        id: r.parse("id")?,
        org: r.parse("org")?,
        workspace: r.parse("ws")?,
        connection: r.parse("conn")?,
        kind: parse_enum("rule", "kind", r.s("kind")?)?,
        event: r.string("event")?,
        resource: r.opt_string("res")?,
        resource_id: r.opt_string("rid")?,
        metadata: r.json("meta")?,
        conditions: conditions(&r)?,
        active: r.bool("active")?,
        hidden: r.bool("hidden")?,
        created_by: r.string("by")?,
        created_at: r.time("at")?,
        updated_at: r.time("up")?,
    })
}

/// A rule's stored conditions, checked again on the way out: a value that no longer parses is
/// damage and fails the read, rather than routing events through a rule that matches all.
fn conditions(
    r: &Reader<'_>,
) -> Result<Option<switchyard_core::conditions::Conditions>, StoreError> {
    let Some(value) = r.opt_json::<serde_json::Value>("cond")? else {
        return Ok(None);
    };
    switchyard_core::conditions::Conditions::parse(&value)
        .map(Some)
        .map_err(|_| bad("rule", "conditions"))
}

pub(crate) fn catalog_item(e: &CatalogEntry) -> Item {
    let mut item = keyed(
        org_pk(e.org),
        format!("{}{}", catalog_prefix(e.workspace, e.kind), e.key),
    );
    item.insert("key".into(), s(&e.key));
    item.insert("at".into(), ms(e.created_at));
    item
}

pub(crate) fn catalog_entry(
    item: &Item,
    org: switchyard_core::OrgId,
    workspace: switchyard_core::WorkspaceId,
    kind: CatalogKind,
) -> Result<CatalogEntry, StoreError> {
    let r = Reader::new(item, "catalog entry");
    Ok(CatalogEntry {
        org,
        workspace,
        kind,
        key: r.string("key")?,
        created_at: r.time("at")?,
    })
}

/// Event attributes the list filters read; payload items carry them too, so a filtered Query
/// keeps an event's payload item with it.
fn event_filter_attrs(item: &mut Item, e: &Event) {
    item.insert("ws".into(), s(e.workspace.to_string()));
    item.insert("name".into(), s(&e.event));
    item.insert("res".into(), s(&e.resource));
    put_opt(item, "rid", e.resource_id.as_deref().map(s));
}

/// The event item, and a separate payload item when the payload is too large to keep inline
/// (every routing update rewrites the event item, and is billed by its whole size).
pub(crate) fn event_items(
    e: &Event,
    ttl: i64,
    inline_max: usize,
) -> Result<(Item, Option<Item>), StoreError> {
    let payload = serde_json::to_string(&e.payload)
        .map_err(|err| StoreError::Backend(format!("cannot encode payload: {err}")))?;
    let mut item = keyed(events_pk(e.org, e.id), event_sk(e.id));
    event_filter_attrs(&mut item, e);
    item.insert("by".into(), s(&e.created_by));
    item.insert("at".into(), ms(e.created_at));
    if let Some(trace) = e.trace_id {
        item.insert("tr".into(), s(trace.to_string()));
    }
    item.insert(TTL.into(), n(ttl));
    if payload.len() <= inline_max {
        item.insert("payload".into(), s(payload));
        return Ok((item, None));
    }
    item.insert("px".into(), AttributeValue::Bool(true));
    let mut external = keyed(events_pk(e.org, e.id), payload_sk(e.id));
    event_filter_attrs(&mut external, e);
    external.insert("payload".into(), s(payload));
    external.insert(TTL.into(), n(ttl));
    Ok((item, Some(external)))
}

/// Whether the event item keeps its payload in a separate item.
pub(crate) fn payload_is_external(item: &Item) -> bool {
    Reader::new(item, "event").flag("px")
}

pub(crate) fn event(
    org: switchyard_core::OrgId,
    item: &Item,
    payload_item: Option<&Item>,
) -> Result<Event, StoreError> {
    let r = Reader::new(item, "event");
    let payload = match payload_item {
        Some(p) => Reader::new(p, "event payload").json("payload")?,
        None => r.json("payload")?,
    };
    Ok(Event {
        id: r.parse(SK)?,
        org,
        workspace: r.parse("ws")?,
        event: r.string("name")?,
        resource: r.string("res")?,
        resource_id: r.opt_string("rid")?,
        payload,
        created_by: r.string("by")?,
        created_at: r.time("at")?,
        trace_id: r
            .opt_string("tr")?
            .map(|t| t.parse())
            .transpose()
            .map_err(|e| StoreError::Backend(format!("event trace id: {e}")))?,
    })
}

/// What a delivery item holds that never changes once written (its key aside).
pub(crate) fn delivery_base(d: &Delivery, ttl: i64) -> [(&'static str, AttributeValue); 8] {
    [
        ("ws", s(d.workspace.to_string())),
        ("ev", s(d.event.to_string())),
        ("evn", s(&d.event_name)),
        ("rule", s(d.rule.to_string())),
        ("conn", s(d.connection.to_string())),
        ("kind", s(d.kind.as_str())),
        ("at", ms(d.created_at)),
        (TTL, n(ttl)),
    ]
}

pub(crate) fn delivery_item(d: &Delivery, ttl: i64) -> Item {
    let mut item = keyed(delivery_pk(d.org, d.id), DELIVERY_SK.into());
    item.extend(
        delivery_base(d, ttl)
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value)),
    );
    item.insert("st".into(), s(d.status.as_str()));
    item.insert("n".into(), n(d.attempt_count));
    item.insert("base".into(), n(d.schedule_base));
    put_opt(&mut item, "started", d.started_at.map(ms));
    put_opt(&mut item, "done", d.completed_at.map(ms));
    put_opt(&mut item, "next", d.next_attempt_at.map(ms));
    put_opt(&mut item, "err", d.last_error.as_deref().map(s));
    if d.status == DeliveryStatus::Failed {
        item.insert(FAILED_SORT.into(), s(d.id.to_string()));
    }
    item.insert("up".into(), ms(d.updated_at));
    item
}

/// The delivery an item holds, or `None` for an item that holds only its keys. DynamoDB never
/// shows such an item, but moto (the test server) stores a new item's keys before it applies
/// the update that writes it, so a read racing a delivery's first attempt can: that delivery is
/// still its claim.
pub(crate) fn written_delivery(item: &Item) -> Result<Option<Delivery>, StoreError> {
    if holds_only_keys(item) {
        return Ok(None);
    }
    delivery(item).map(Some)
}

/// An item with nothing but its keys: see [`written_delivery`].
pub(crate) fn holds_only_keys(item: &Item) -> bool {
    item.keys().all(|k| k == PK || k == SK)
}

pub(crate) fn delivery(item: &Item) -> Result<Delivery, StoreError> {
    let r = Reader::new(item, "delivery");
    let pk = r.s(PK)?;
    // `DL#<org>#<id>`: the ids are the key's, so they are not stored twice.
    let mut parts = pk.splitn(3, '#').skip(1);
    let (Some(org), Some(id)) = (parts.next(), parts.next()) else {
        return Err(bad("delivery", "key"));
    };
    Ok(Delivery {
        id: id.parse().map_err(|_| bad("delivery", "key"))?,
        org: org.parse().map_err(|_| bad("delivery", "key"))?,
        workspace: r.parse("ws")?,
        event: r.parse("ev")?,
        event_name: r.string("evn")?,
        rule: r.parse("rule")?,
        connection: r.parse("conn")?,
        kind: parse_enum("delivery", "kind", r.s("kind")?)?,
        status: parse_enum("delivery", "status", r.s("st")?)?,
        attempt_count: r.num("n")?,
        schedule_base: r.num("base")?,
        started_at: r.opt_time("started")?,
        completed_at: r.opt_time("done")?,
        next_attempt_at: r.opt_time("next")?,
        last_error: r.opt_string("err")?,
        created_at: r.time("at")?,
        updated_at: r.time("up")?,
    })
}

/// An attempt as an element of its delivery's `att` list.
pub(crate) fn attempt_value(a: &Attempt, keep_body: bool) -> AttributeValue {
    AttributeValue::M(attempt_map(a, keep_body))
}

fn attempt_map(a: &Attempt, keep_body: bool) -> Item {
    let mut m = Item::new();
    m.insert("id".into(), s(a.id.to_string()));
    m.insert("n".into(), n(a.number));
    m.insert("out".into(), s(a.outcome.as_str()));
    put_opt(&mut m, "code", a.status_code.map(n));
    m.insert("req".into(), s(&a.request));
    if keep_body {
        put_opt(&mut m, "body", a.response_body.as_deref().map(s));
    }
    put_opt(&mut m, "err", a.error.as_deref().map(s));
    m.insert("ms".into(), n(a.duration_ms));
    m.insert("at".into(), ms(a.started_at));
    m
}

/// An attempt as an attribute of its event's outcomes item: the attempt naming its delivery.
pub(crate) fn outcome_value(a: &Attempt) -> AttributeValue {
    let mut m = attempt_map(a, true);
    m.insert("d".into(), s(a.delivery.to_string()));
    AttributeValue::M(m)
}

/// The attempts an event's outcomes item holds, of every delivery.
pub(crate) fn outcomes(item: &Item, org: OrgId) -> Result<Vec<Attempt>, StoreError> {
    let mut out = Vec::new();
    for (name, v) in item {
        if !name.starts_with(OUTCOME_ATTR_PREFIX) {
            continue;
        }
        let AttributeValue::M(m) = v else {
            return Err(bad("outcome", "attempt"));
        };
        let delivery = Reader::new(m, "outcome").parse("d")?;
        out.push(attempt_from(m, org, delivery)?);
    }
    Ok(out)
}

pub(crate) fn attempts(delivery_item: &Item) -> Result<Vec<Attempt>, StoreError> {
    let d = delivery(delivery_item)?;
    let mut out = Vec::new();
    for v in Reader::new(delivery_item, "delivery").list("att")? {
        let AttributeValue::M(m) = v else {
            return Err(bad("delivery", "attempt"));
        };
        out.push(attempt_from(m, d.org, d.id)?);
    }
    out.sort_by_key(|a| (a.number, a.id));
    Ok(out)
}

fn attempt_from(m: &Item, org: OrgId, delivery: DeliveryId) -> Result<Attempt, StoreError> {
    let r = Reader::new(m, "attempt");
    Ok(Attempt {
        id: r.parse("id")?,
        org,
        delivery,
        number: r.num("n")?,
        outcome: parse_enum::<Outcome>("attempt", "outcome", r.s("out")?)?,
        status_code: r.opt_n("code")?,
        request: r.string("req")?,
        response_body: r.opt_string("body")?,
        error: r.opt_string("err")?,
        duration_ms: r.num("ms")?,
        started_at: r.time("at")?,
    })
}
