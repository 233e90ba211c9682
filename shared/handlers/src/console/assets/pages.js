// The pages. Each renders into `main` from the public /api/v1 routes and returns an optional
// stop function (for polling) that the router calls when leaving.

import { get, post } from "./api.js";
import { h, show, badge, when, copyable, field, alertBox } from "./dom.js";

// A list answer: a page `{records}` or (workspace catalog) a bare array.
const recs = (answer) => (Array.isArray(answer) ? answer : answer?.records || []);
const FINAL = new Set(["completed", "failed", "canceled"]);
const enc = encodeURIComponent;

// What the viewer may change. The operator console may do everything; an embed session of a
// reading role gets no forms or buttons for writes (the API refuses them anyway).
const may = { write: true };
export function allowWrites(write) { may.write = write; }

function poll(fn, ms) {
  const id = setInterval(() => { if (!document.hidden) fn(); }, ms);
  return () => clearInterval(id);
}

async function guarded(main, fn) {
  try { return await fn(); } catch (e) { show(main, alertBox(e.message)); return null; }
}

export async function workspaces(main) {
  const list = await get("/workspaces?limit=200");
  show(main,
    h("h1", {}, "Workspaces"),
    h("ul", { class: "cards" }, list.records.map((w) =>
      h("li", {}, h("a", { href: `#/w/${w.id}/dashboard` }, w.name), " ", copyable(w.id)))));
}

export async function dashboard(main, ws) {
  const page = await get(`/workspaces/${enc(ws)}/events?limit=200`);
  const counts = {};
  for (const e of page.records) counts[e.status] = (counts[e.status] || 0) + 1;
  const total = page.records.length;
  const failed = counts.failed || 0;
  const max = Math.max(1, ...Object.values(counts));
  const failures = page.records.filter((e) => e.status === "failed").slice(0, 10);
  show(main,
    h("h1", {}, "Dashboard"),
    h("p", { class: "muted" }, `The latest ${total} events.`),
    h("div", { class: "stats" },
      h("div", { class: "stat" }, h("span", {}, "Events"), h("strong", {}, String(total))),
      h("div", { class: "stat" }, h("span", {}, "Failure rate"),
        h("strong", { "data-test": "failure-rate" }, total ? `${((100 * failed) / total).toFixed(1)} %` : "—"))),
    h("h2", {}, "By status"),
    h("ul", { class: "bars", "aria-label": "Events by status" },
      Object.entries(counts).map(([status, n]) =>
        h("li", {}, badge(status),
          h("span", { class: `bar s-${status}`, style: `width:${(100 * n) / max}%` }), ` ${n}`))),
    h("h2", {}, "Recent failures"),
    failures.length ? eventTable(ws, failures) : h("p", { class: "muted" }, "No failures."));
}

function eventTable(ws, events) {
  return h("table", {},
    h("thead", {}, h("tr", {}, ["Event", "Resource", "Status", "Received", "Id"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, events.map((e) => h("tr", {},
      h("td", {}, h("a", { href: `#/w/${ws}/events/${e.id}` }, e.event)),
      h("td", {}, e.resource_id ? `${e.resource} ${e.resource_id}` : e.resource),
      h("td", {}, badge(e.status)),
      h("td", {}, when(e.created_at)),
      h("td", {}, copyable(e.id))))));
}

// The catalog's connection form: each field's label, type, options, default, help and the
// field it depends on (`GET /integrations` → authentication.fields).
const formFields = (auth) => (auth?.fields || [])
  .map((f) => (typeof f === "string" ? { key: f, label: f, type: "text", required: true } : f));

function formInput(f) {
  const input = f.type === "select"
    ? h("select", { name: f.key, required: !!f.required },
      // An optional choice without a default starts unset, so nothing is sent for it.
      !f.required && f.defaultValue === undefined && h("option", { value: "" }, "—"),
      (f.options || []).map((o) => h("option", { value: o.value }, o.label)))
    : h("input", {
      name: f.key, required: !!f.required, autocomplete: "off",
      type: f.type === "password" ? "password" : f.validate === "url" ? "url" : "text",
    });
  if (f.defaultValue !== undefined) input.value = input.dataset.default = f.defaultValue;
  const wrap = field(f.label || f.key, input);
  if (f.helpText) wrap.append(h("small", { class: "help" }, f.helpText));
  return { f, input, wrap };
}

export async function connections(main, ws) {
  const [list, catalog] = await Promise.all([
    get(`/workspaces/${enc(ws)}/connections?limit=200`), get("/integrations"),
  ]);
  const types = recs(catalog).filter((t) => t.available !== false);
  types.sort((a, b) => (a.type === "webhook" ? -1 : b.type === "webhook" ? 1 : a.name.localeCompare(b.name)));
  const out = h("div", { "aria-live": "polite" });
  const fields = h("div");
  const typeSelect = h("select", { name: "type", required: true },
    types.map((t) => h("option", { value: t.type }, t.name)));
  const name = h("input", { name: "name", required: true, maxLength: 200 });
  const renderFields = () => {
    const t = types.find((x) => x.type === typeSelect.value);
    const inputs = formFields(t.authentication).map(formInput);
    // A field that depends on another's value shows (and is sent) only when that one has it.
    const sync = () => inputs.forEach(({ f, input, wrap }) => {
      const on = !f.dependsOn
        || inputs.find((x) => x.f.key === f.dependsOn.field)?.input.value === f.dependsOn.value;
      wrap.hidden = !on;
      input.disabled = !on;
    });
    inputs.forEach(({ input }) => input.addEventListener("change", sync));
    show(fields, inputs.map((x) => x.wrap));
    sync();
  };
  typeSelect.addEventListener("change", renderFields);
  renderFields();
  const form = h("form", {
    class: "card",
    onsubmit: async (ev) => {
      ev.preventDefault();
      const metadata = {};
      for (const input of fields.querySelectorAll("input, select")) {
        // A default left as it is stays the server's to apply (in its own type).
        const left = input.value === "" || input.value === input.dataset.default;
        if (!input.disabled && !left) metadata[input.name] = input.value;
      }
      try {
        const { connection } = await post("/connections",
          { workspace: ws, type: typeSelect.value, name: name.value, metadata });
        show(out, h("div", { class: "card ok", role: "status" },
          h("p", {}, `Connected “${connection.name}”.`),
          connection.signing_secret && [
            h("p", {}, "Signing secret — shown this once; verify deliveries with it:"),
            h("code", { class: "secret", "data-test": "signing-secret" }, connection.signing_secret)]));
        form.reset(); renderFields();
        refreshList();
      } catch (e) { show(out, alertBox(e.message)); }
    },
  },
    h("h2", {}, "New connection"),
    field("Type", typeSelect), field("Name", name), fields,
    h("button", { type: "submit" }, "Connect"));
  const table = h("div");
  const refreshList = async () => {
    const fresh = await get(`/workspaces/${enc(ws)}/connections?limit=200`);
    show(table, connectionTable(fresh.records));
  };
  show(table, connectionTable(list.records));
  show(main, h("h1", {}, "Connections"), table, may.write ? form : null, out);
}

function connectionTable(records) {
  if (!records.length) return h("p", { class: "muted" }, "No connections yet.");
  return h("table", {},
    h("thead", {}, h("tr", {}, ["Name", "Type", "Created", "Id"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, records.map((c) => h("tr", {},
      h("td", { "data-test": "connection-name" }, c.name), h("td", {}, c.type),
      h("td", {}, when(c.created_at)), h("td", {}, copyable(c.id))))));
}

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

export async function events(main, ws) {
  const cursors = [null];
  let stop = null;
  const table = h("div");
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  let shown = "";
  const load = async () => {
    const cursor = cursors[cursors.length - 1];
    const page = await get(`/workspaces/${enc(ws)}/events?limit=50${cursor ? `&cursor=${enc(cursor)}` : ""}`);
    const seen = JSON.stringify([cursors, page]);
    if (seen === shown) return;
    shown = seen;
    show(table, page.records.length ? eventTable(ws, page.records) : h("p", { class: "muted" }, "No events yet."));
    show(pager,
      h("button", { type: "button", disabled: cursors.length === 1, onclick: () => { cursors.pop(); load(); } }, "Newer"),
      h("button", { type: "button", disabled: !page.next_cursor, onclick: () => { cursors.push(page.next_cursor); load(); } }, "Older"));
  };
  await load();
  show(main, h("h1", {}, "Events"), h("p", { class: "muted" }, "Refreshes every 5 s on the first page."), table, pager);
  // Live by polling (works behind API Gateway); only the newest page moves.
  stop = poll(() => { if (cursors.length === 1) guarded(table, load); }, 5000);
  return stop;
}

export async function eventDetail(main, ws, id) {
  let shown = "";
  const render = async () => {
    const detail = await get(`/events/${enc(id)}`);
    const lists = await Promise.all(detail.rule_events.map((d) =>
      get(`/events/${enc(id)}/rules/${enc(d.rule)}/attempts`)));
    // Polling redraws only on change, so focus and a half-made click stay put.
    const seen = JSON.stringify([detail, lists]);
    if (seen === shown) return;
    shown = seen;
    const e = detail; // the event, flattened beside its deliveries
    const sections = detail.rule_events.map((d, i) => {
      const attempts = lists[i];
      const msg = h("div", { "aria-live": "polite" });
      const act = (verb) => async () => {
        try { await post(`/events/${enc(id)}/rules/${enc(d.rule)}/${verb}`); await render(); }
        catch (err) { show(msg, alertBox(err.message)); }
      };
      return h("section", { class: "card", "data-test": "delivery" },
        h("h2", {}, `${d.integration_type} · rule `, copyable(d.rule)),
        h("p", {}, badge(d.status), ` ${d.attempt_count} attempt(s)`,
          d.next_attempt_at ? [" · next ", when(d.next_attempt_at)] : null,
          d.last_error ? [" · ", h("span", { class: "muted" }, d.last_error)] : null),
        may.write && h("p", {},
          h("button", { type: "button", "data-test": "retry", onclick: act("retry") }, "Retry"), " ",
          h("button", { type: "button", disabled: FINAL.has(d.status), onclick: act("cancel") }, "Cancel")),
        msg,
        h("ol", { class: "attempts" }, attempts.records.map((a) => h("li", { "data-test": "attempt" },
          h("p", {}, h("strong", {}, `#${a.number} ${a.outcome}`), ` ${a.status_code ?? "no answer"} · ${a.duration_ms} ms · `, when(a.started_at)),
          h("p", {}, h("code", {}, a.request)),
          a.error ? h("p", { class: "muted" }, a.error) : null,
          a.response_body ? h("pre", {}, a.response_body) : null))));
    });
    show(main,
      h("p", {}, h("a", { href: `#/w/${ws}/events` }, "← Events")),
      h("h1", {}, e.event, " ", badge(e.status)),
      h("p", {}, `${e.resource}${e.resource_id ? ` ${e.resource_id}` : ""} · `, when(e.created_at), " · ", copyable(e.id)),
      sections.length ? sections : h("p", { class: "muted" }, "No deliveries (no rule matched, or not routed yet)."),
      // Absent for an embed session without the payload scope.
      "payload" in detail && [h("h2", {}, "Payload"),
        h("pre", { "data-test": "payload" }, JSON.stringify(detail.payload, null, 2))]);
    return detail;
  };
  await render();
  return poll(() => guarded(main, render), 2000);
}
