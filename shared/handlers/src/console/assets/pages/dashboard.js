// A workspace's dashboard: deliveries by status over the last 24 hours as a chart, the
// failure rate, and the latest failed events — from the stats extension and a filtered list.

import { get } from "../api.js";
import { h, show } from "../dom.js";
import { enc, eventTable, poll, guarded } from "./shared.js";

// Bottom to top in each bar; `ok` and `bad` read at a glance, the waiting ones in between.
const SERIES = [
  ["completed", "Completed"], ["failed", "Failed"], ["canceled", "Canceled"],
  ["retrying", "Retrying"], ["processing", "Processing"], ["pending", "Pending"],
];
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

const hour = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** Stacked bars, one per bucket; each segment's title tells its count. */
function chart(stats) {
  const W = 720, H = 200, top = 10, left = 36, bottom = 22;
  const n = stats.buckets.length;
  const max = Math.max(1, ...stats.buckets.map((b) => SERIES.reduce((t, [k]) => t + b.counts[k], 0)));
  const step = (W - left) / n;
  const y = (v) => ((H - top - bottom) * v) / max;
  const grid = [0, Math.ceil(max / 2), max].map((v) => svg("g", {},
    svg("line", { x1: left, x2: W, y1: H - bottom - y(v), y2: H - bottom - y(v), class: "grid" }),
    svg("text", { x: left - 6, y: H - bottom - y(v) + 4, "text-anchor": "end" }, String(v))));
  const bars = stats.buckets.map((b, i) => {
    let base = H - bottom;
    const x = left + i * step + 1;
    const parts = SERIES.filter(([k]) => b.counts[k]).map(([k, label]) => {
      const hgt = Math.max(1, y(b.counts[k]));
      base -= hgt;
      return svg("rect", { x, y: base, width: Math.max(1, step - 2), height: hgt, class: `c-${k}` },
        svg("title", {}, `${hour(b.start)}: ${b.counts[k]} ${label.toLowerCase()}`));
    });
    // A label near either end is anchored inside the chart, so it is never cut off.
    const at = x + step / 2;
    const anchor = at > W - 40 ? "end" : at < left + 40 ? "start" : "middle";
    const tick = i % Math.ceil(n / 8) === 0
      ? svg("text", { x: anchor === "end" ? W : at, y: H - 6, "text-anchor": anchor }, hour(b.start)) : null;
    return svg("g", {}, ...parts, ...(tick ? [tick] : []));
  });
  const t = stats.totals;
  return svg("svg", {
    viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": `Deliveries per hour, last 24 hours: ${t.completed} completed, ${t.failed} failed, ${t.retrying + t.processing + t.pending} under way.`,
  }, ...grid, ...bars);
}

const legend = () => h("ul", { class: "legend" },
  SERIES.map(([k, label]) => h("li", {}, h("span", { class: `swatch c-${k}`, "aria-hidden": "true" }), label)));

/** The same numbers as a table, for screen readers and exact reading. */
const dataTable = (stats) => h("details", {},
  h("summary", {}, "Show as a table"),
  h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Hour"), SERIES.map(([, l]) => h("th", { scope: "col" }, l)))),
    h("tbody", {}, stats.buckets.map((b) => h("tr", {},
      h("th", { scope: "row" }, hour(b.start)), SERIES.map(([k]) => h("td", {}, String(b.counts[k]))))))));

const percent = (rate) => (rate === null ? "—" : `${(100 * rate).toFixed(1)} %`);

export async function dashboard(main, ws) {
  let shown = "";
  const render = async () => {
    const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    // A resource session may not read workspace-wide stats (403): it sees its failures only.
    const [stats, failed] = await Promise.all([
      get(`/workspaces/${enc(ws)}/stats?since=${enc(since)}&bucket=3600`).catch((e) => { if (e.status === 403) return null; throw e; }),
      get(`/workspaces/${enc(ws)}/events?status=failed&limit=10`),
    ]);
    const seen = JSON.stringify([stats?.totals, stats?.buckets?.length, failed.records.map((e) => e.id)]);
    if (seen === shown) return;
    shown = seen;
    const t = stats?.totals;
    show(main,
      h("h1", {}, "Dashboard"),
      stats && [
        h("div", { class: "stats" },
          h("div", { class: "stat" }, h("span", {}, "Deliveries, 24 h"),
            h("strong", { "data-test": "deliveries-total" }, String(SERIES.reduce((n, [k]) => n + t[k], 0)))),
          h("div", { class: "stat" }, h("span", {}, "Failure rate"),
            h("strong", { "data-test": "failure-rate" }, percent(stats.failure_rate))),
          h("div", { class: "stat" }, h("span", {}, "Failed"), h("strong", { class: "s-failed" }, String(t.failed))),
          h("div", { class: "stat" }, h("span", {}, "Under way"),
            h("strong", { class: "s-pending" }, String(t.pending + t.processing + t.retrying)))),
        h("h2", {}, "Deliveries by status, per hour"),
        h("figure", { class: "card" }, chart(stats), legend(),
          !stats.complete && h("figcaption", { class: "muted" }, "Counted over the newest 1,000 events of the window.")),
        dataTable(stats)],
      h("h2", {}, "Recent failures"),
      failed.records.length ? eventTable(ws, failed.records) : h("p", { class: "muted" }, "No failures."));
  };
  await render();
  return poll(() => guarded(main, render), 30000);
}
