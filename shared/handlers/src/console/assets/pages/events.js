// Events: the paged, live list and one event's deliveries with their attempts.

import { get, post } from "../api.js";
import { h, show, badge, when, copyable, alertBox } from "../dom.js";
import { FINAL, enc, may, poll, guarded, eventTable } from "./shared.js";

export async function events(main, ws) {
  const cursors = [null];
  let stop = null;
  const table = h("div");
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  let shown = "";
  const load = async () => {
    const cursor = cursors[cursors.length - 1];
    const page = await get(`/workspaces/${enc(ws)}/events?limit=50${cursor ? `&cursor=${enc(cursor)}` : ""}`);
    const seen = JSON.stringify([cursors, page]);
    if (seen === shown) return;
    shown = seen;
    show(table, page.records.length ? eventTable(ws, page.records) : h("p", { class: "muted" }, "No events yet."));
    show(pager,
      h("button", { type: "button", disabled: cursors.length === 1, onclick: () => { cursors.pop(); load(); } }, "Newer"),
      h("button", { type: "button", disabled: !page.next_cursor, onclick: () => { cursors.push(page.next_cursor); load(); } }, "Older"));
  };
  await load();
  show(main, h("h1", {}, "Events"), h("p", { class: "muted" }, "Refreshes every 5 s on the first page."), table, pager);
  // Live by polling (works behind API Gateway); only the newest page moves.
  stop = poll(() => { if (cursors.length === 1) guarded(table, load); }, 5000);
  return stop;
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
