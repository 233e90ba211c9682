// A connection's field mapping, edited against its live destination field catalog: each row
// a destination field, its source (a payload path or a literal), transforms and on-error.

import { get, put } from "../api.js";
import { h, show, field, alertBox } from "../dom.js";
import { enc, may } from "./shared.js";

const ON_ERROR = [["fail_action", "Fail the delivery"], ["warn_action", "Send without it, warn"], ["skip_field", "Leave it out"]];
const TRANSFORMS = ["trim", "lower", "upper", "to_string", "to_number", "to_boolean", "to_date", "to_datetime", "default", "substring"];

// Transforms as one line: `trim, default:production, substring:0:5`.
const transformsText = (list = []) => list.map((t) =>
  t.type === "default" ? `default:${typeof t.value === "string" ? t.value : JSON.stringify(t.value)}`
    : t.type === "substring" ? ["substring", t.start ?? 0, t.length].filter((x) => x !== undefined).join(":")
      : t.type).join(", ");

function parseTransforms(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((part) => {
    const [type, ...args] = part.split(":");
    if (type === "default") return { type, value: args.join(":") };
    if (type === "substring") {
      const t = { type, start: Number(args[0] || 0) };
      if (args[1] !== undefined && args[1] !== "") t.length = Number(args[1]);
      return t;
    }
    return { type };
  });
}

/** The editor as a section, or a note when the connection sends no mapped fields. */
export async function mappingEditor(connection) {
  const id = connection.id;
  const [catalog, current] = await Promise.all([
    get(`/connections/${enc(id)}/fields`), get(`/connections/${enc(id)}/mappings/default`),
  ]);
  const section = h("section", { class: "card", "aria-labelledby": "mapping-title" },
    h("h2", { id: "mapping-title" }, "Field mapping"));
  if (!catalog.fields.length) {
    section.append(h("p", { class: "muted" },
      "This connection sends the whole event as it is; it has no fields to map."));
    return section;
  }
  let version = current.mapping.version;
  const rows = h("tbody");
  const destinations = catalog.fields.filter((f) => !f.constraints?.read_only);
  const out = h("div", { "aria-live": "polite" });

  const row = (rule = { dest: destinations[0]?.key, source: { type: "path", value: "" } }) => {
    const dest = h("select", { name: "dest", "aria-label": "Destination field" },
      destinations.map((f) => h("option", { value: f.key },
        `${f.label || f.key}${f.constraints?.required ? " *" : ""} (${f.type})`)));
    dest.value = rule.dest;
    const kind = h("select", { name: "source-type", "aria-label": "Source kind" },
      h("option", { value: "path" }, "Event field"), h("option", { value: "literal" }, "Fixed value"));
    kind.value = rule.source.type;
    const value = h("input", {
      name: "source", "aria-label": "Source", autocomplete: "off", placeholder: "email or user.address.city",
      value: rule.source.type === "literal" && typeof rule.source.value !== "string"
        ? JSON.stringify(rule.source.value) : rule.source.value ?? "",
    });
    const transforms = h("input", {
      name: "transforms", "aria-label": "Transforms", autocomplete: "off",
      placeholder: "trim, lower", value: transformsText(rule.transforms),
    });
    const onError = h("select", { name: "on_error", "aria-label": "When it fails" },
      ON_ERROR.map(([v, l]) => h("option", { value: v }, l)));
    onError.value = rule.on_error || "fail_action";
    const tr = h("tr", { "data-test": "mapping-row" },
      h("td", {}, dest), h("td", {}, kind, " ", value), h("td", {}, transforms), h("td", {}, onError),
      h("td", {}, may.write && h("button", { type: "button", class: "secondary", onclick: () => tr.remove() }, "Remove")));
    tr.read = () => {
      const source = kind.value === "literal"
        ? { type: "literal", value: (() => { try { return JSON.parse(value.value); } catch { return value.value; } })() }
        : { type: "path", value: value.value.trim() };
      const rule = { dest: dest.value, source, on_error: onError.value };
      const list = parseTransforms(transforms.value);
      if (list.length) rule.transforms = list;
      return rule;
    };
    return tr;
  };
  for (const rule of current.mapping.schema.fields || []) rows.append(row(rule));

  const form = h("form", {
    onsubmit: async (ev) => {
      ev.preventDefault();
      const fields = [...rows.children].map((tr) => tr.read());
      try {
        const saved = await put(`/connections/${enc(id)}/mappings/default`,
          { schema: { schema_version: 1, fields }, expected_version: version });
        version = saved.mapping.version;
        show(out, h("p", { class: "card ok", role: "status" }, `Mapping saved (version ${version}).`));
      } catch (e) {
        show(out, alertBox(e.status === 409
          ? "Someone else changed this mapping meanwhile: reload the page, then apply your change again."
          : e.message));
      }
    },
  },
    h("p", { class: "muted" },
      "Each row fills one of the destination's fields. Transforms apply in order, separated by commas: ",
      TRANSFORMS.join(", "), " (", h("code", {}, "default:value"), ", ", h("code", {}, "substring:start:length"), ")."),
    h("table", { class: "mapping" },
      h("thead", {}, h("tr", {}, ["Destination field", "Source", "Transforms", "When it fails", ""].map((t) => h("th", { scope: "col" }, t)))),
      rows),
    may.write && h("p", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => rows.append(row()) }, "Add field"), " ",
      h("button", { type: "submit" }, "Save mapping")));
  if (!may.write) for (const el of form.querySelectorAll("input, select")) el.disabled = true;
  section.append(field("Catalog version", h("input", { readOnly: true, value: catalog.catalog_version })), form, out);
  return section;
}
