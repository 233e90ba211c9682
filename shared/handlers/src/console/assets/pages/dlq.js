// Dead letters (operators only): the organization's messages in a dead-letter queue, listed
// where they are, and redriven after a confirming second click.

import { get, post } from "../api.js";
import { h, show, badge, when, copyable, field } from "../dom.js";

const QUEUES = { deliveries: "Deliveries", events: "Events" };

export async function deadLetters(main, queue = "deliveries") {
  if (!QUEUES[queue]) queue = "deliveries";
  const list = await get(`/dlq/${queue}?limit=200`);
  const said = h("p", { role: "status", class: "muted" });
  const pick = h("select", {
    name: "queue",
    onchange: () => { location.hash = `#/dlq/${pick.value}`; },
  }, Object.entries(QUEUES).map(([value, label]) => h("option", { value, selected: value === queue }, label)));
  const actions = h("div", { class: "actions" });
  const redriveStart = () => h("button", {
    type: "button", disabled: !list.count,
    onclick: () => show(actions,
      h("p", { role: "alert" },
        `Move ${list.count}${list.more ? "+" : ""} message(s) back to the ${queue} queue? Failed deliveries are attempted again on a fresh schedule.`),
      h("button", {
        type: "button", class: "danger", onclick: async () => {
          try {
            const r = await post(`/dlq/${queue}/redrive`);
            await deadLetters(main, queue);
            const line = main.querySelector("[role=status]");
            if (line) line.textContent = `Redrove ${r.redriven} message(s)${r.more ? "; more remain, redrive again" : ""}.`;
          } catch (err) { said.textContent = err.message; }
        },
      }, "Redrive now"), " ",
      h("button", { type: "button", class: "plain", onclick: () => show(actions, redriveStart()) }, "Cancel")),
  }, "Redrive…");
  show(actions, redriveStart());
  show(main,
    h("h1", {}, "Dead letters"),
    h("p", { class: "muted" },
      "Messages of this organization that could not be handled: deliveries that failed through their whole retry schedule, and messages that failed five times. Fix the cause, then redrive."),
    field("Queue", pick),
    said,
    list.count
      ? h("table", { "aria-label": `${QUEUES[queue]} dead letters` },
        h("thead", {}, h("tr", {}, ["Event", "Delivery", "Attempt", "Why", "Sent", "Receives"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, list.records.map((m) => h("tr", {},
          h("td", {}, m.workspace ? h("a", { href: `#/w/${m.workspace}/events/${m.event_id}` }, m.event_id.slice(-8)) : "—"),
          h("td", {}, m.delivery_id ? copyable(m.delivery_id) : "—"),
          h("td", {}, m.attempt ?? "—"),
          h("td", {}, m.failed_delivery ? badge("failed") : h("span", { class: "badge s-retrying" }, "unprocessable")),
          h("td", {}, when(m.sent_at)),
          h("td", {}, String(m.receive_count))))))
      : h("p", { class: "muted", "data-test": "dlq-empty" }, "No dead letters."),
    list.more ? h("p", { class: "muted" }, "Showing the first messages only.") : null,
    actions);
}
