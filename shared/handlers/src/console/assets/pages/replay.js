// Bulk replay (operators, after an outage): every failed delivery of one connection created in
// a time range, re-queued on a fresh schedule. The API re-queues a bounded stretch per call;
// this form calls it with the cursor until the range is done, showing the running counts.

import { get, post } from "../api.js";
import { h, show, field, alertBox } from "../dom.js";
import { enc } from "./shared.js";
const HOUR = 3600 * 1000;

/** `datetime-local` text for a time, in the viewer's zone. */
function local(t) {
  const d = new Date(t - new Date(t).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

export async function replay(main, ws, id) {
  const connection = await get(`/connections/${enc(id)}`);
  const from = h("input", { type: "datetime-local", name: "from", required: true, value: local(Date.now() - 24 * HOUR) });
  const to = h("input", { type: "datetime-local", name: "to", required: true, value: local(Date.now() + 60_000) });
  const progress = h("p", { role: "status", "aria-live": "polite", "data-test": "replay-progress" });
  const run = h("button", { type: "submit" }, "Replay failed deliveries");
  const form = h("form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const range = { from: new Date(from.value).toISOString(), to: new Date(to.value).toISOString() };
      run.disabled = true;
      let requeued = 0;
      let skipped = 0;
      let cursor = null;
      try {
        do {
          const r = await post(`/connections/${enc(id)}/replay`, { ...range, cursor });
          requeued += r.requeued;
          skipped += r.skipped;
          cursor = r.next_cursor;
          progress.textContent = `${cursor ? "Replaying…" : "Done:"} ${requeued} re-queued${skipped ? `, ${skipped} already re-queued` : ""}.`;
        } while (cursor);
      } catch (err) {
        show(progress, alertBox(err.message));
      } finally {
        run.disabled = false;
      }
    },
  },
  field("Failed from", from),
  field("Until", to),
  run);
  show(main,
    h("h1", {}, "Replay failed deliveries"),
    h("p", {}, "Connection ", h("strong", {}, connection.name), ` (${connection.type}). `,
      h("a", { href: `#/w/${ws}/connections` }, "Back to connections")),
    h("p", { class: "muted" },
      "Re-queues every delivery to this connection that failed and was created in this range, each on a fresh retry schedule (earlier attempts are kept). Fix the destination first. Running it twice never sends a delivery twice."),
    form, progress);
}
