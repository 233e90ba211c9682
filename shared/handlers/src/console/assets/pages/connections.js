// Connections: the list and the form built from the catalog's authentication fields.

import { get, post } from "../api.js";
import { h, show, when, copyable, field, alertBox } from "../dom.js";
import { recs, enc, may } from "./shared.js";

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
