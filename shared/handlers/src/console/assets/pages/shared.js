// What every page shares: list answers, final statuses, the write switch, polling, and the
// event table (the dashboard's failures and the events page).

import { h, show, badge, when, copyable, alertBox } from "../dom.js";

// A list answer: a page `{records}` or (workspace catalog) a bare array.
export const recs = (answer) => (Array.isArray(answer) ? answer : answer?.records || []);
export const FINAL = new Set(["completed", "failed", "canceled"]);
export const enc = encodeURIComponent;

// What the viewer may change. The operator console may do everything; an embed session of a
// reading role gets no forms or buttons for writes (the API refuses them anyway).
export const may = { write: true };
export function allowWrites(write) { may.write = write; }

export function poll(fn, ms) {
  const id = setInterval(() => { if (!document.hidden) fn(); }, ms);
  return () => clearInterval(id);
}

export async function guarded(main, fn) {
  try { return await fn(); } catch (e) { show(main, alertBox(e.message)); return null; }
}

export function eventTable(ws, events) {
  return h("table", {},
    h("thead", {}, h("tr", {}, ["Event", "Resource", "Status", "Received", "Id"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, events.map((e) => h("tr", {},
      h("td", {}, h("a", { href: `#/w/${ws}/events/${e.id}` }, e.event)),
      h("td", {}, e.resource_id ? `${e.resource} ${e.resource_id}` : e.resource),
      h("td", {}, badge(e.status)),
      h("td", {}, when(e.created_at)),
      h("td", {}, copyable(e.id))))));
}
