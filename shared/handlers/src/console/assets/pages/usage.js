// Usage (operators only): the organization's plan limits and what it uses of them this month.

import { get } from "../api.js";
import { h, show, when } from "../dom.js";

export async function usage(main) {
  const u = await get("/usage");
  const rows = [
    ["Events this month", u.usage.events, u.limits.events_per_month],
    ["Workspaces", u.usage.workspaces, u.limits.workspaces],
    ["Connections", u.usage.connections, u.limits.connections],
    ["Rules", u.usage.rules, u.limits.rules],
  ];
  show(main,
    h("h1", {}, "Usage"),
    h("p", { class: "muted" }, "From ", when(u.period.start), " to ", h("time", { dateTime: u.period.end, title: u.period.end }, new Date(u.period.end).toLocaleDateString()),
      ` (UTC month). History is kept ${u.limits.retention_days} days.`),
    h("table", { "aria-label": "Plan usage" },
      h("thead", {}, h("tr", {}, ["", "Used", "Limit", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map(([label, used, limit]) => {
        const share = limit ? Math.min(1, used / limit) : 0;
        return h("tr", {},
          h("th", { scope: "row" }, label),
          h("td", { "data-test": "used" }, String(used)),
          h("td", {}, limit === null ? "unlimited" : String(limit)),
          h("td", { class: "meter" }, limit === null ? null : h("span", {
            class: `bar ${share >= 0.9 ? "s-failed" : share >= 0.75 ? "s-retrying" : "s-completed"}`,
            style: `width:${Math.max(2, 100 * share)}%`, role: "img",
            "aria-label": `${Math.round(100 * share)} % used`,
          })));
      }))));
}
