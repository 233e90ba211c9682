// The console's entry: the login hand-off, then the router.

import { login, logout, session } from "./api.js";
import { h, show, alertBox } from "./dom.js";
import { operatorConsole } from "./pages.js";
import { startRouter } from "./router.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

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
  operatorConsole();
  startRouter({ main, nav, guard: handOff });
}

boot();
