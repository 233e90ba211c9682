// Connections: the list and the form built from the catalog's authentication fields (or, for
// an OAuth type, the provider's consent in a popup).

import { get, post } from "../api.js";
import { h, show, badge, when, copyable, field, alertBox } from "../dom.js";
import { recs, enc, may } from "./shared.js";

// The catalog's connection form: each field's label, type, options, default, help and the
// field it depends on (`GET /integrations` → authentication.fields).
export const formFields = (auth) => (auth?.fields || [])
  .map((f) => (typeof f === "string" ? { key: f, label: f, type: "text", required: true } : f));

export function formInput(f) {
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

/** A dependent field shows (and is sent) only while the field it depends on has its value. */
export function syncDependents(inputs) {
  const sync = () => inputs.forEach(({ f, input, wrap }) => {
    const on = !f.dependsOn
      || inputs.find((x) => x.f.key === f.dependsOn.field)?.input.value === f.dependsOn.value;
    wrap.hidden = !on;
    input.disabled = !on;
  });
  inputs.forEach(({ input }) => input.addEventListener("change", sync));
  sync();
}

/** The OAuth flow in a popup: the provider's consent, then Switchyard's callback, which lands
 *  on a page that closes itself. `done()` runs when the popup has closed. `connection` set:
 *  re-authorise that connection. */
export async function oauthPopup(ws, type, name, connection, done) {
  // Opened at once, inside the click, so no popup blocker stops it; its address follows.
  const popup = window.open("about:blank", "switchyard-oauth", "popup,width=560,height=720");
  try {
    const q = new URLSearchParams({ workspace: ws, name, redirect_uri: `${location.origin}/console/oauth-done.html` });
    if (connection) q.set("connection", connection);
    const { authorize_url: url } = await get(`/connections/oauth/${enc(type)}/start?${q}`);
    if (!popup) { location.assign(url); return; }
    popup.location.href = url;
    const watch = setInterval(() => { if (popup.closed) { clearInterval(watch); done(); } }, 500);
  } catch (e) {
    popup?.close();
    throw e;
  }
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
    const oauth = !!t.authentication?.oauth;
    show(fields, inputs.map((x) => x.wrap),
      oauth && h("p", { class: "muted" }, `${t.name} asks you to sign in and allow access in a window it opens.`));
    syncDependents(inputs);
    submit.textContent = oauth ? `Connect with ${t.name}` : "Connect";
    form.dataset.oauth = oauth ? "1" : "";
  };
  const submit = h("button", { type: "submit" }, "Connect");
  typeSelect.addEventListener("change", renderFields);
  const form = h("form", {
    class: "card",
    onsubmit: async (ev) => {
      ev.preventDefault();
      if (form.dataset.oauth) {
        try {
          await oauthPopup(ws, typeSelect.value, name.value, null, () => {
            show(out, h("p", { class: "card", role: "status" }, "The sign-in window closed; the list shows what was connected."));
            refreshList();
          });
        } catch (e) { show(out, alertBox(e.message)); }
        return;
      }
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
    field("Type", typeSelect), field("Name", name), fields, submit);
  renderFields();
  const table = h("div");
  const refreshList = async () => {
    const fresh = await get(`/workspaces/${enc(ws)}/connections?limit=200`);
    show(table, connectionTable(fresh.records, ws));
  };
  show(table, connectionTable(list.records, ws));
  show(main, h("h1", {}, "Connections"), table, may.write ? form : null, out);
}

function connectionTable(records, ws) {
  if (!records.length) return h("p", { class: "muted" }, "No connections yet.");
  // Operators get the bulk replay of a connection's failed deliveries (after an outage).
  const heads = ["Name", "Type", "State", "Created", "Id", may.operator && ""].filter((t) => t !== false);
  return h("table", {},
    h("thead", {}, h("tr", {}, heads.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, records.map((c) => h("tr", {},
      h("td", { "data-test": "connection-name" }, h("a", { href: `#/w/${c.workspace}/connections/${c.id}` }, c.name)),
      h("td", {}, c.type),
      h("td", {}, c.active ? badge("active") : badge(c.inactive_reason || "inactive")),
      h("td", {}, when(c.created_at)), h("td", {}, copyable(c.id)),
      may.operator && h("td", {}, h("a", {
        href: `#/w/${ws}/connections/${c.id}/replay`, "aria-label": `Replay failed deliveries of ${c.name}`,
      }, "Replay failures…"))))));
}
