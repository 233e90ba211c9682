// One connection: edit it (secret fields write-only: empty keeps what is stored), test it,
// re-authorise an OAuth one, and edit its field mapping.

import { get, post, put } from "../api.js";
import { h, show, badge, copyable, field, alertBox } from "../dom.js";
import { recs, enc, may } from "./shared.js";
import { formFields, formInput, syncDependents, oauthPopup } from "./connections.js";
import { mappingEditor } from "./mapping.js";

export async function connection(main, ws, id) {
  const [c, catalog] = await Promise.all([get(`/connections/${enc(id)}`), get("/integrations")]);
  const type = recs(catalog).find((t) => t.type === c.type);
  const oauth = !!type?.authentication?.oauth;
  const out = h("div", { "aria-live": "polite" });

  const name = h("input", { name: "name", required: true, maxLength: 200, value: c.name });
  const inputs = formFields(type?.authentication).map(formInput);
  for (const { f, input } of inputs) {
    if (f.type === "password") {
      // Write-only: never shown, so empty here means "keep the stored one".
      input.required = false;
      input.placeholder = "Stored — type to replace";
    } else if (c.metadata[f.key] !== undefined) {
      input.value = String(c.metadata[f.key]);
    }
  }
  syncDependents(inputs);
  const form = h("form", {
    class: "card",
    onsubmit: async (ev) => {
      ev.preventDefault();
      // The stored public metadata (with what the form does not show, such as an OAuth
      // connection's instance URL), the form's fields over it; secret fields only when typed.
      const metadata = { ...c.metadata };
      for (const { f, input } of inputs) {
        if (f.type === "password") { if (input.value) metadata[f.key] = input.value; continue; }
        if (input.disabled || input.value === "") delete metadata[f.key];
        else metadata[f.key] = input.value;
      }
      try {
        const saved = await put(`/connections/${enc(id)}`, { name: name.value, metadata });
        show(out, h("p", { class: "card ok", role: "status" }, `Saved “${saved.name}”.`));
        for (const { f, input } of inputs) if (f.type === "password") input.value = "";
      } catch (e) { show(out, alertBox(e.message)); }
    },
  },
    h("h2", {}, "Settings"),
    field("Name", name), inputs.map((x) => x.wrap),
    h("p", { class: "actions" }, h("button", { type: "submit" }, "Save")));
  if (!may.write) for (const el of form.querySelectorAll("input, select, button")) el.disabled = true;

  const test = h("button", {
    type: "button", class: "secondary", "data-test": "test-connection",
    onclick: async () => {
      test.disabled = true;
      show(out, h("p", { class: "muted", role: "status" }, "Testing…"));
      try {
        const r = await post(`/connections/${enc(id)}/test`);
        show(out, h("p", { class: "card ok", role: "status" }, `Test passed: ${r.message}`));
      } catch (e) { show(out, alertBox(`Test failed: ${e.message}`)); } finally { test.disabled = false; }
    },
  }, "Test connection");
  const reauth = oauth && h("button", {
    type: "button", class: "secondary",
    onclick: async () => {
      try {
        await oauthPopup(ws, c.type, c.name, c.id, () => connection(main, ws, id));
      } catch (e) { show(out, alertBox(e.message)); }
    },
  }, `Sign in to ${type.name} again`);

  show(main,
    h("p", {}, h("a", { href: `#/w/${ws}/connections` }, "← Connections")),
    h("h1", {}, c.name, " ", c.active ? badge("active") : badge(c.inactive_reason || "inactive")),
    h("p", {}, `${type?.name || c.type} · `, copyable(c.id)),
    may.write && h("p", { class: "actions" }, test, " ", reauth),
    out, form,
    h("div", { "data-test": "mapping" }, h("p", { class: "muted" }, "Loading the field mapping…")));
  const slot = main.querySelector("[data-test=mapping]");
  try { show(slot, await mappingEditor(c)); } catch (e) { show(slot, alertBox(e.message)); }
}
