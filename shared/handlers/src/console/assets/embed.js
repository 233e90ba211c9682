// The embed's entry: the console's pages inside a host product's iframe, for one session.
// The launch token (in the URL) is spent once and leaves the address bar; the access token
// comes from the host page by postMessage, only from the session's allowed origins, and
// lives in memory only. Messages: iframe → host `meshes:ready`, `meshes:navigate`,
// `meshes:resize`, `meshes:token-refresh`, `meshes:token-expired`; host → iframe `meshes:auth`.

import { useAccessToken } from "./api.js";
import { applyBranding } from "./branding.js";
import { h, show, alertBox } from "./dom.js";
import { allowWrites } from "./pages.js";
import { startRouter } from "./router.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const notice = document.getElementById("notice");
/** Ask the host for a fresh token this long before the current one expires. */
const REFRESH_AHEAD_MS = 60_000;

let session = null; // the launch exchange's answer
let host = null; // the host page's origin, once it has authenticated us
let started = false;
let expired = false;
let refreshTimer = null;
const ignored = new Set();

function say(message) {
  notice.hidden = !message;
  notice.textContent = message || "";
}

/** A message to the host page, never to an origin the session does not allow. */
function tell(type, data = {}) {
  const allowed = session?.allowed_origins || [];
  // Before the first `meshes:auth` the host's origin is one of the allowed ones; the browser
  // delivers to the one that matches (Chromium names it in ancestorOrigins).
  const framer = location.ancestorOrigins?.[0];
  const targets = host ? [host] : allowed.includes(framer) ? [framer] : allowed;
  for (const origin of targets) window.parent.postMessage({ type, ...data }, origin);
}

function scheduleRefresh(expiresAt) {
  clearTimeout(refreshTimer);
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return;
  refreshTimer = setTimeout(() => tell("meshes:token-refresh"), Math.max(0, at - Date.now() - REFRESH_AHEAD_MS));
}

function onExpired() {
  if (expired) return;
  expired = true;
  clearTimeout(refreshTimer);
  say("This session has ended. Reopen it from the host page.");
  tell("meshes:token-expired");
}

function onMessage(event) {
  const m = event.data;
  if (event.source !== window.parent || !session.allowed_origins.includes(event.origin)) {
    // Said out loud (as text) so an integrator sees a misconfigured origin at once.
    if (!started && !ignored.has(event.origin)) {
      ignored.add(event.origin);
      say(`Ignored a message from ${event.origin}: not an allowed origin of this session.`);
    }
    return;
  }
  if (m?.type !== "meshes:auth" || typeof m.access_token !== "string" || !m.access_token) return;
  host = event.origin;
  useAccessToken(m.access_token, onExpired);
  const expiresAt = m.expires_at
    || (m.expires_in ? new Date(Date.now() + 1000 * m.expires_in).toISOString() : null)
    || (started ? null : session.expires_at);
  scheduleRefresh(expiresAt);
  const renew = expired;
  expired = false;
  say(null);
  if (!started) {
    started = true;
    startRouter({
      main, nav, workspace: session.workspace_id, home: session.launch_page,
      changed: (path) => tell("meshes:navigate", { path, page: path.split("/")[3] || session.launch_page }),
    });
  } else if (renew) {
    window.dispatchEvent(new HashChangeEvent("hashchange")); // redraw with the new token
  }
}

function watchHeight() {
  let last = 0;
  new ResizeObserver(() => {
    const height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height !== last) { last = height; tell("meshes:resize", { height }); }
  }).observe(document.body);
}

async function launch() {
  const token = new URLSearchParams(location.search).get("token");
  // The token leaves the address bar (and history) before anything else happens.
  history.replaceState(null, "", location.pathname);
  if (window.parent === window) {
    show(main, alertBox("This page runs inside a host product's page."));
    return;
  }
  const res = await fetch("/api/v1/sessions/launch", {
    method: "POST", credentials: "omit",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ launch_token: token || "" }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    show(main, alertBox(body.message || `Launch failed (${res.status})`));
    return;
  }
  session = body;
  applyBranding(session.branding);
  // A member or a dashboard session reads only: no forms for writes.
  allowWrites(session.session_type !== "dashboard" && session.role !== "member");
  window.addEventListener("message", onMessage);
  show(main, h("p", { class: "muted" }, "Waiting for the host page…"));
  watchHeight();
  tell("meshes:ready");
}

launch().catch((e) => show(main, alertBox(e.message)));
