// The console's entry: the login hand-off, the navigation and the hash router.

import { login, logout, session } from "./api.js";
import { h, show, alertBox } from "./dom.js";
import * as pages from "./pages.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let stop = null;

/** A `#login=<code>` in the address: traded once; false when refused (the page says why). */
async function handOff() {
  const code = new URLSearchParams(location.hash.slice(1)).get("login");
  if (!code) return true;
  // The code leaves the address bar (and history) before anything else happens.
  history.replaceState(null, "", "/console/");
  try { await login(code); return true; } catch (e) { show(nav); show(main, alertBox(e.message)); return false; }
}

async function boot() {
  if (!(await handOff())) return;
  if (!session()) {
    show(main, h("h1", {}, "Log in"),
      h("p", {}, "Open the one-time link that ", h("code", {}, "switchyard console"), " prints."));
    return;
  }
  const out = document.getElementById("logout");
  out.hidden = false;
  out.addEventListener("click", () => { logout(); location.replace("/console/"); });
  window.addEventListener("hashchange", async () => { if (await handOff()) route(); });
  route();
}

function navFor(ws, here) {
  const link = (path, label) => h("a", {
    href: `#/w/${ws}/${path}`, "aria-current": here === path ? "page" : null,
  }, label);
  show(nav, h("a", { href: "#/" }, "Workspaces"),
    link("dashboard", "Dashboard"), link("connections", "Connections"),
    link("rules", "Rules"), link("events", "Events"));
}

async function route() {
  if (stop) { stop(); stop = null; }
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const [w, ws, page, id] = parts;
  try {
    if (w !== "w" || !ws) {
      show(nav);
      await pages.workspaces(main);
    } else {
      navFor(ws, page);
      if (page === "connections") await pages.connections(main, ws);
      else if (page === "rules") await pages.rules(main, ws);
      else if (page === "events" && id) stop = await pages.eventDetail(main, ws, id);
      else if (page === "events") stop = await pages.events(main, ws);
      else await pages.dashboard(main, ws);
    }
    document.title = `${main.querySelector("h1")?.textContent || "Console"} · Switchyard`;
  } catch (e) {
    show(main, alertBox(e.message));
  }
}

boot();
