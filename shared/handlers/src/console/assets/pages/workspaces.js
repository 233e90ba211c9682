// The operator's workspace list (the console's home).

import { get } from "../api.js";
import { h, show, copyable } from "../dom.js";

export async function workspaces(main) {
  const list = await get("/workspaces?limit=200");
  show(main,
    h("h1", {}, "Workspaces"),
    h("ul", { class: "cards" }, list.records.map((w) =>
      h("li", {}, h("a", { href: `#/w/${w.id}/dashboard` }, w.name), " ", copyable(w.id)))));
}
