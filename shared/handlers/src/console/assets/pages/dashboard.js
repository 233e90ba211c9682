// A workspace's dashboard: events by status, failure rate, recent failures.

import { get } from "../api.js";
import { h, show, badge } from "../dom.js";
import { enc, eventTable } from "./shared.js";

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
