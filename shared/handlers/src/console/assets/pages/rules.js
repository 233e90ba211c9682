// Rules: the list (action labels, an active switch, Send Test Event) and the form — event
// type and resource picked from the workspace catalog, the connection's actions by label with
// their inputs (the provider account's live choices where it has them), and conditions.

import { get, post, patch } from "../api.js";
import { h, show, field, alertBox } from "../dom.js";
import { recs, enc, may } from "./shared.js";

// A type's actions: an object keyed by action key (or an array), as [{key, label, data}].
const actionsOf = (actions) => {
  const a = actions || [];
  const list = Array.isArray(a) ? a : Object.entries(a).map(([key, v]) => ({ ...v, key: v.key || key }));
  return list.map((x) => ({ ...x, key: x.key || x.action, label: x.label || x.display?.label || x.name || x.key }));
};

/** The inputs of one action, as fields; `read()` gives the rule metadata they fill. */
function actionInputs(action) {
  const inputs = (action?.data || []).map((d) => {
    const input = d.options?.length
      ? h("select", { name: d.field, required: d.required },
        !d.required && h("option", { value: "" }, "—"),
        d.options.map((o) => h("option", { value: o.value }, o.label)))
      : h("input", { name: d.field, required: d.required, placeholder: d.placeholder || "", autocomplete: "off" });
    const wrap = field(d.label || d.key, input);
    if (d.description) wrap.append(h("small", { class: "help" }, d.description));
    return { d, input, wrap };
  });
  return {
    wraps: inputs.map((x) => x.wrap),
    read: () => Object.fromEntries(inputs.filter((x) => x.input.value !== "").map((x) => [x.d.field, x.input.value])),
  };
}

export async function rules(main, ws) {
  const [list, conns, types, resources, catalog] = await Promise.all([
    get(`/workspaces/${enc(ws)}/rules?limit=200`),
    get(`/workspaces/${enc(ws)}/connections?limit=200`),
    get(`/workspaces/${enc(ws)}/event-types`),
    get(`/workspaces/${enc(ws)}/resources`),
    get("/integrations"),
  ]);
  const byType = new Map(recs(catalog).map((t) => [t.type, t]));
  const out = h("div", { "aria-live": "polite" });
  const conn = h("select", { name: "connection", required: true },
    conns.records.map((c) => h("option", { value: c.id }, `${c.name} (${byType.get(c.type)?.name || c.type})`)));
  const action = h("select", { name: "action", required: true });
  const inputsSlot = h("div");
  let actions = [];
  let inputs = actionInputs(null);
  const renderInputs = () => {
    inputs = actionInputs(actions.find((a) => a.key === action.value));
    show(inputsSlot, inputs.wraps);
  };
  const renderActions = async () => {
    const c = conns.records.find((x) => x.id === conn.value);
    if (!c) return;
    // The connection's own list carries the provider account's choices; the catalog's is
    // the fallback when the provider does not answer.
    actions = actionsOf(byType.get(c.type)?.actions);
    try { actions = actionsOf((await get(`/connections/${enc(c.id)}/actions`)).actions); } catch { /* catalog's */ }
    show(action, actions.map((a) => h("option", { value: a.key }, a.label)));
    renderInputs();
  };
  conn.addEventListener("change", renderActions);
  action.addEventListener("change", renderInputs);

  const pick = (id, options) => h("datalist", { id }, options.map((o) => h("option", { value: o.key }, o.label || o.key)));
  const event = h("input", { name: "event", required: true, placeholder: "user.signup", autocomplete: "off" });
  event.setAttribute("list", "event-types");
  const resource = h("input", { name: "resource", placeholder: "any", autocomplete: "off" });
  resource.setAttribute("list", "resources");
  const resourceId = h("input", { name: "resource_id", placeholder: "any", autocomplete: "off", pattern: "[A-Za-z0-9._:-]{1,64}" });
  const conditions = h("textarea", {
    name: "conditions", rows: 3, spellcheck: false,
    placeholder: '{"all": [{"path": "payload.plan", "equals": "pro"}]}',
  });
  const active = h("input", { type: "checkbox", name: "active", checked: true });
  const form = h("form", {
    class: "card",
    onsubmit: async (ev) => {
      ev.preventDefault();
      const body = {
        workspace: ws, connection: conn.value, event: event.value,
        metadata: { action: action.value, ...inputs.read() }, active: active.checked,
      };
      if (resource.value) body.resource = resource.value;
      if (resourceId.value) body.resource_id = resourceId.value;
      if (conditions.value.trim()) {
        try { body.conditions = JSON.parse(conditions.value); } catch {
          show(out, alertBox("Conditions must be JSON, for example {\"all\": [{\"path\": \"payload.plan\", \"equals\": \"pro\"}]}."));
          return;
        }
      }
      try {
        const { rule } = await post("/rules", body);
        await rules(main, ws);
        main.append(h("p", { class: "card ok", role: "status" }, `Rule created for ${rule.event}.`));
      } catch (e) { show(out, alertBox(e.message)); }
    },
  },
    h("h2", {}, "New rule"),
    conns.records.length ? [
      field("Event type", event), pick("event-types", recs(types)),
      field("Resource (optional)", resource), pick("resources", recs(resources)),
      field("Resource id (optional)", resourceId),
      field("Connection", conn), field("Action", action), inputsSlot,
      field("Conditions (optional, JSON)", conditions),
      h("div", { class: "field check" }, h("label", {}, active, " Active")),
      h("button", { type: "submit" }, "Create rule")]
      : h("p", {}, "Create a connection first."));
  if (conns.records.length) await renderActions();

  const names = new Map(conns.records.map((c) => [c.id, c]));
  const labelOf = (r) => {
    const c = names.get(r.connection);
    const a = actionsOf(byType.get(c?.type)?.actions).find((x) => x.key === r.metadata?.action);
    return a?.label || r.metadata?.action || "—";
  };
  const toggle = (r) => {
    const box = h("input", {
      type: "checkbox", checked: r.active, disabled: !may.write, "aria-label": `Active: ${r.event}`,
      "data-test": "rule-active",
      onchange: async () => {
        try { await patch(`/rules/${enc(r.id)}`, { active: box.checked }); }
        catch (e) { box.checked = !box.checked; show(out, alertBox(e.message)); }
      },
    });
    return box;
  };
  show(main, h("h1", {}, "Rules"),
    list.records.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["Event", "Resource", "Connection", "Action", "Active", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, list.records.map((r) => h("tr", {},
        h("td", {}, r.event, r.conditions ? h("small", { class: "muted", title: JSON.stringify(r.conditions) }, " + conditions") : null),
        h("td", {}, r.resource ? `${r.resource}${r.resource_id ? ` ${r.resource_id}` : ""}` : "any"),
        h("td", {}, names.get(r.connection)?.name || r.connection),
        h("td", { "data-test": "rule-action" }, labelOf(r)), h("td", {}, toggle(r)),
        h("td", {}, may.write && h("button", {
          type: "button", "data-test": "send-test",
          onclick: async () => {
            try {
              const { event: e } = await post(`/rules/${enc(r.id)}/test`);
              location.hash = `#/w/${ws}/events/${e.id}`;
            } catch (err) { show(out, alertBox(err.message)); }
          },
        }, "Send test event"))))))
      : h("p", { class: "muted" }, "No rules yet."),
    out, may.write ? form : null);
}
