// Machine keys (operators only): the organization's keys, a new one (its secret shown once)
// and revoking one, with a confirming second click.

import { api, get, post } from "../api.js";
import { h, show, badge, when, field, alertBox } from "../dom.js";
import { enc } from "./shared.js";

export async function keys(main) {
  const list = await get("/machine-keys");
  const said = h("p", { role: "status", class: "muted" });
  const name = h("input", { name: "name", required: true, maxLength: 128, autocomplete: "off" });
  const created = h("div");
  const form = h("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const { machine_key: k } = await post("/machine-keys", { name: name.value });
        // Shown once: only its sealed form is kept.
        show(created, h("div", { class: "card ok", role: "alert" },
          h("p", {}, `Key “${k.name}” created. Copy its secret now: it is not shown again.`),
          h("p", {}, "Access key ", h("code", {}, k.access_key)),
          h("p", {}, "Secret key ", h("code", { class: "secret", "data-test": "secret" }, k.secret_key))));
        name.value = "";
        await refresh();
      } catch (err) { show(created, alertBox(err.message)); }
    },
  }, field("Name", name), h("button", { type: "submit" }, "Create key"));
  const table = h("div");
  const refresh = async () => {
    const fresh = await get("/machine-keys");
    show(table, keyTable(fresh.records, said, refresh));
  };
  show(main,
    h("h1", {}, "Machine keys"),
    h("p", { class: "muted" }, "Keys act on every workspace of the organization. Revoking one stops its tokens at once."),
    table, said,
    h("h2", {}, "New key"), form, created);
  show(table, keyTable(list.records, said, refresh));
}

function keyTable(records, said, refresh) {
  return h("table", {},
    h("thead", {}, h("tr", {}, ["Name", "Access key", "Created", "State", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, records.map((k) => h("tr", {},
      h("td", {}, k.name),
      h("td", {}, h("code", {}, k.access_key)),
      h("td", {}, when(k.created_at)),
      h("td", {}, k.revoked_at ? badge("revoked") : badge("active"),
        // A console session's key stops with its session.
        k.expires_at ? h("span", { class: "muted", "data-test": "expires" }, " · expires ", when(k.expires_at)) : null),
      h("td", {}, k.revoked_at ? null : revokeButton(k, said, refresh))))));
}

/** Revoke, with a confirming second click (the console's own key included: it says so). */
function revokeButton(k, said, refresh) {
  const cell = h("span");
  const ask = () => show(cell,
    h("button", {
      type: "button", class: "danger", "aria-label": `Confirm revoking ${k.name}`,
      onclick: async () => {
        try {
          await api("DELETE", `/machine-keys/${enc(k.access_key)}`);
          said.textContent = `Revoked “${k.name}”.`;
          await refresh();
        } catch (err) { said.textContent = err.message; }
      },
    }, "Revoke now"), " ",
    h("button", { type: "button", class: "plain", onclick: () => show(cell, start()) }, "Cancel"));
  const start = () => h("button", { type: "button", class: "plain", "aria-label": `Revoke ${k.name}`, onclick: ask }, "Revoke…");
  show(cell, start());
  return cell;
}
