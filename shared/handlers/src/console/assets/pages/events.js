// Events: the paged, live list and one event's deliveries with their attempts.

import { get, post } from "../api.js";
import { h, show, badge, when, copyable, field, alertBox } from "../dom.js";
import { FINAL, recs, enc, may, poll, guarded, eventTable } from "./shared.js";

const STATUSES = ["pending", "processing", "completed", "failed"];

// The filters stay as they were set while the tab lives, per workspace.
const filtersOf = new Map();

// A `datetime-local` value (the viewer's time) as the API's RFC 3339 instant.
const instant = (local) => (local ? new Date(local).toISOString() : "");

/** The workspace's events, filtered on the server (type, status, resource, time range) and
 *  paged by cursor; the first page refreshes by polling (works behind API Gateway). */
export async function events(main, ws) {
  const [types, resources] = await Promise.all([
    get(`/workspaces/${enc(ws)}/event-types`), get(`/workspaces/${enc(ws)}/resources`),
  ]);
  const filters = filtersOf.get(ws) || {};
  const choice = (name, label, options) => {
    const select = h("select", { name },
      h("option", { value: "" }, "Any"), options.map((o) => h("option", { value: o }, o)));
    select.value = filters[name] || "";
    return field(label, select);
  };
  const time = (name, label) => {
    const input = h("input", { name, type: "datetime-local", value: filters[name] || "" });
    return field(label, input);
  };
  const form = h("form", {
    class: "filters", role: "search", "aria-label": "Filter events",
    onsubmit: (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      for (const key of ["event", "status", "resource", "since", "until"]) filters[key] = data.get(key) || "";
      filtersOf.set(ws, filters);
      cursors.splice(1);
      guarded(table, load);
    },
  },
    choice("event", "Event type", recs(types).map((t) => t.key)),
    choice("status", "Status", STATUSES),
    choice("resource", "Resource", recs(resources).map((r) => r.key)),
    time("since", "From"), time("until", "Until"),
    h("div", { class: "actions" },
      h("button", { type: "submit" }, "Apply"),
      h("button", {
        type: "button", class: "secondary",
        onclick: () => { for (const key of Object.keys(filters)) filters[key] = ""; form.reset(); form.requestSubmit(); },
      }, "Clear")));

  const cursors = [null];
  const table = h("div", { "aria-live": "polite", "data-test": "events" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  let shown = "";
  const query = () => {
    const q = new URLSearchParams({ limit: "50" });
    for (const key of ["event", "status", "resource"]) if (filters[key]) q.set(key, filters[key]);
    if (filters.since) q.set("since", instant(filters.since));
    if (filters.until) q.set("until", instant(filters.until));
    const cursor = cursors[cursors.length - 1];
    if (cursor) q.set("cursor", cursor);
    return q;
  };
  const load = async () => {
    const page = await get(`/workspaces/${enc(ws)}/events?${query()}`);
    const seen = JSON.stringify([cursors, filters, page]);
    if (seen === shown) return;
    shown = seen;
    const filtered = ["event", "status", "resource", "since", "until"].some((k) => filters[k]);
    show(table, page.records.length ? eventTable(ws, page.records)
      : h("p", { class: "muted" }, page.next_cursor ? "None on this page; look further with Older."
        : filtered ? "No events match these filters." : "No events yet."));
    show(pager,
      h("button", { type: "button", disabled: cursors.length === 1, onclick: () => { cursors.pop(); guarded(table, load); } }, "Newer"),
      h("button", { type: "button", disabled: !page.next_cursor, onclick: () => { cursors.push(page.next_cursor); guarded(table, load); } }, "Older"));
  };
  await load();
  show(main, h("h1", {}, "Events"), form,
    h("p", { class: "muted" }, "The first page refreshes every 5 s."), table, pager);
  // Live by polling; only the newest page moves.
  return poll(() => { if (cursors.length === 1) guarded(table, load); }, 5000);
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
