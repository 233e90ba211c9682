// Building the page without HTML strings: text is always a text node, so names and payloads
// such as `<img src=x onerror=…>` render as the characters they are.

/** An element: `attrs` are properties (`on*` functions become listeners); children are nodes,
 *  strings (as text), arrays, or null/false (skipped). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "style") {
      el.style.cssText = value; // CSSOM, which the CSP allows (a style attribute in markup it would not)
    } else if (key === "class") {
      el.className = value;
    } else if (key.startsWith("data-") || key.startsWith("aria-") || key === "role" || key === "for") {
      el.setAttribute(key, value === true ? "" : String(value));
    } else {
      el[key] = value;
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `el` shows. */
export function show(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Status as colour plus text. */
export function badge(status) {
  return h("span", { class: `badge s-${status}` }, status);
}

/** A relative time, the exact one on hover. */
export function when(iso) {
  if (!iso) return "—";
  const t = new Date(iso);
  const secs = Math.round((Date.now() - t.getTime()) / 1000);
  // Past times read "… ago", future ones (a key's expiry) "in …"; a second of skew is past.
  const future = secs < -1;
  const ago = future ? -secs : Math.max(secs, 0);
  const span =
    ago < 60 ? `${ago} s` :
    ago < 3600 ? `${Math.round(ago / 60)} min` :
    ago < 86400 ? `${Math.round(ago / 3600)} h` : null;
  const rel = !span ? t.toLocaleDateString() : future ? `in ${span}` : `${span} ago`;
  return h("time", { dateTime: iso, title: t.toISOString() }, rel);
}

/** An id that copies itself on click. */
export function copyable(id) {
  return h("button", {
    type: "button", class: "id", title: "Copy", "aria-label": `Copy id ${id}`,
    onclick: () => navigator.clipboard?.writeText(id),
  }, id.slice(-8)); // the random end: time-ordered ids share their start
}

/** A labelled form field. */
export function field(label, input) {
  const id = `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

/** An error message region, announced. */
export function alertBox(message) {
  return h("p", { class: "error", role: "alert" }, message);
}
