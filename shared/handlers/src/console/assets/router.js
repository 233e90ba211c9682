// The hash router and the workspace navigation, shared by the operator console and the embed.

import { h, show, alertBox } from "./dom.js";
import * as pages from "./pages.js";

/** Routes `#/w/<ws>/<page>[/<id>]` into `main`, and in the operator console the organization's
 *  `#/keys`, `#/usage`, `#/dlq[/<queue>]` and `#/w/<ws>/connections/<id>/replay`. With
 *  `workspace` set (the embed), only that workspace's pages exist and anything else opens
 *  `home`. `changed(path)` after each page;
 *  `guard()` before each hash change's page (false: stay). */
export function startRouter({
  main, nav, workspace = null, home = "dashboard", changed = () => {}, guard = async () => true,
}) {
  let stop = null;
  const navFor = (ws, here) => {
    const link = (path, label) => h("a", {
      href: `#/w/${ws}/${path}`, "aria-current": here === path ? "page" : null,
    }, label);
    show(nav, workspace ? null : h("a", { href: "#/" }, "Workspaces"),
      link("dashboard", "Dashboard"), link("connections", "Connections"),
      link("rules", "Rules"), link("events", "Events"));
  };
  const orgNav = (here) => show(nav, [["", "Workspaces"], ["keys", "Keys"], ["usage", "Usage"],
    ["dlq", "Dead letters"]].map(([path, label]) => h("a", {
    href: `#/${path}`, "aria-current": here === path ? "page" : null,
  }, label)));
  const route = async () => {
    if (stop) { stop(); stop = null; }
    const [w, ws, page, id, sub] = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
    if (workspace && (w !== "w" || ws !== workspace)) {
      location.replace(`#/w/${workspace}/${home}`); // fires hashchange → route again
      return;
    }
    try {
      if (w !== "w" || !ws) {
        orgNav(w || "");
        if (w === "keys") await pages.keys(main);
        else if (w === "usage") await pages.usage(main);
        else if (w === "dlq") await pages.deadLetters(main, ws);
        else await pages.workspaces(main);
      } else {
        navFor(ws, page);
        if (page === "connections" && id && sub === "replay" && !workspace) await pages.replay(main, ws, id);
        else if (page === "connections" && id) await pages.connection(main, ws, id);
        else if (page === "connections") await pages.connections(main, ws);
        else if (page === "rules") await pages.rules(main, ws);
        else if (page === "events" && id) stop = await pages.eventDetail(main, ws, id);
        else if (page === "events") stop = await pages.events(main, ws);
        else stop = await pages.dashboard(main, ws);
      }
      document.title = `${main.querySelector("h1")?.textContent || "Console"} · Switchyard`;
    } catch (e) {
      show(main, alertBox(e.message));
    }
    changed(location.hash.slice(1));
  };
  window.addEventListener("hashchange", async () => { if (await guard()) route(); });
  route();
}
