// Rules: the list (with "Send test event") and the form.

import { get, post } from "../api.js";
import { h, show, field, alertBox } from "../dom.js";
import { recs, enc, may } from "./shared.js";

// A type's actions: an array of {action, name}, or an object keyed by action.
const actionsOf = (entry) => {
  const a = entry?.actions || [];
  return Array.isArray(a) ? a : Object.entries(a).map(([action, v]) => ({ action, name: v.name || action }));
};

export async function rules(main, ws) {
  const [list, conns, types, catalog] = await Promise.all([
    get(`/workspaces/${enc(ws)}/rules?limit=200`),
    get(`/workspaces/${enc(ws)}/connections?limit=200`),
    get(`/workspaces/${enc(ws)}/event-types`),
    get("/integrations"),
  ]);
  const byType = new Map(recs(catalog).map((t) => [t.type, t]));
  const out = h("div", { "aria-live": "polite" });
  const conn = h("select", { name: "connection", required: true },
    conns.records.map((c) => h("option", { value: c.id }, `${c.name} (${c.type})`)));
  const action = h("select", { name: "action", required: true });
  const renderActions = () => {
    const c = conns.records.find((x) => x.id === conn.value);
    show(action, actionsOf(byType.get(c?.type)).map((a) => h("option", { value: a.action }, a.name)));
  };
  conn.addEventListener("change", renderActions);
  renderActions();
  const known = h("datalist", { id: "event-types" }, recs(types).map((t) => h("option", { value: t.key })));
  const event = h("input", { name: "event", required: true, placeholder: "user.signup", autocomplete: "off" });
  event.setAttribute("list", "event-types");
  const form = h("form", {
    class: "card",
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const { rule } = await post("/rules", {
          workspace: ws, connection: conn.value, event: event.value, metadata: { action: action.value },
        });
        show(out, h("p", { class: "card ok", role: "status" }, `Rule created for ${rule.event}.`));
        await rules(main, ws);
        main.append(out);
      } catch (e) { show(out, alertBox(e.message)); }
    },
  },
    h("h2", {}, "New rule"),
    conns.records.length ? [field("Event type", event), known, field("Connection", conn), field("Action", action),
      h("button", { type: "submit" }, "Create rule")]
      : h("p", {}, "Create a connection first."));
  const names = new Map(conns.records.map((c) => [c.id, c.name]));
  show(main, h("h1", {}, "Rules"),
    list.records.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["Event", "Connection", "Action", "Active", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, list.records.map((r) => h("tr", {},
        h("td", {}, r.event), h("td", {}, names.get(r.connection) || r.connection),
        h("td", {}, r.metadata?.action || "—"), h("td", {}, r.active ? "yes" : "no"),
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
    may.write ? form : null, out);
}
