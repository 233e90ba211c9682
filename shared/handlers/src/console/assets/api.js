// The tab's credential and the API. The console session (from the one-time login link) is a
// machine key that expires on its own; it lives in sessionStorage (this tab only, never a
// cookie, so no request carries it unless this code adds it) and signs a fresh 30 s machine
// JWT per request, exactly as Meshes' SDKs do.

const KEY = "switchyard.console";
const API = "/api/v1";

export function session() {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  const s = JSON.parse(raw);
  if (Date.parse(s.expires_at) <= Date.now()) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  return s;
}

export function logout() {
  sessionStorage.removeItem(KEY);
}

/** Trades the one-time code for the session. */
export async function login(code) {
  const res = await fetch("/console/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
    credentials: "omit",
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || `Login failed (${res.status})`);
  sessionStorage.setItem(KEY, JSON.stringify(body));
  return body;
}

const utf8 = (s) => new TextEncoder().encode(s);
const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

let signer = null;

// Embed mode: a session access token handed over by the host page (memory only), and what
// to do when the API refuses it.
let bearer = null;
let onUnauthorized = null;

/** Switches this page to an embed session's access token (`null` forgets it). */
export function useAccessToken(token, unauthorized) {
  bearer = token;
  if (unauthorized) onUnauthorized = unauthorized;
}

async function token(s) {
  if (!signer || signer.kid !== s.access_key) {
    const key = await crypto.subtle.importKey(
      "raw", utf8(s.secret_key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    signer = { kid: s.access_key, key };
  }
  // iat a little in the past tolerates a clock behind the server's.
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(utf8(JSON.stringify({ alg: "HS256", typ: "JWT", kid: s.access_key })));
  const claims = b64url(utf8(JSON.stringify({
    iss: `urn:meshes:m2m:${s.access_key}`, aud: "meshes-api", org: s.organization,
    iat: now - 10, exp: now + 30,
  })));
  const sig = await crypto.subtle.sign("HMAC", signer.key, utf8(`${head}.${claims}`));
  return `${head}.${claims}.${b64url(sig)}`;
}

export class ApiError extends Error {
  constructor(status, body) {
    const details = (body?.error?.data || []).map((d) => `${d.param}: ${d.msg}`).join("; ");
    super((body?.message || `HTTP ${status}`) + (details ? ` (${details})` : ""));
    this.status = status;
  }
}

/** One API call; the parsed JSON body, or an ApiError with the contract's message. */
export async function api(method, path, body) {
  let auth = bearer;
  if (!auth) {
    const s = session();
    if (!s) throw new ApiError(401, { message: "Your console session is over: run `switchyard console` again" });
    auth = await token(s);
  }
  const headers = { Authorization: `Bearer ${auth}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(API + path, {
    method, headers, credentials: "omit",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) {
    if (res.status === 401 && bearer && onUnauthorized) onUnauthorized();
    throw new ApiError(res.status, json);
  }
  return json;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body ?? {});
export const put = (path, body) => api("PUT", path, body);
export const patch = (path, body) => api("PATCH", path, body);
