// An embed session's branding (`POST /sessions`'s `branding`): the host product's name and
// logo in the header, its accent colour and theme. Applied through CSS custom properties and
// a `data-theme` attribute (CSSOM and attributes: the page's CSP allows no inline style); the
// logo is an <img>, whose origin alone the page's CSP admits.

import { h, show } from "./dom.js";

/** WCAG relative luminance of `#rrggbb`. */
function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const BACKGROUND = { light: "#ffffff", dark: "#0d1117" };

export function applyBranding(branding) {
  if (!branding) return;
  const root = document.documentElement;
  const theme = branding.theme === "light" || branding.theme === "dark" ? branding.theme : null;
  if (theme) root.dataset.theme = theme;
  const color = /^#[0-9a-f]{6}$/i.test(branding.accent_color || "") ? branding.accent_color : null;
  if (color) {
    // Buttons and marks take the colour, with black or white text, whichever contrasts more.
    root.style.setProperty("--brand", color);
    root.style.setProperty("--on-brand", contrast(color, "#000000") >= contrast(color, "#ffffff") ? "#000000" : "#ffffff");
    // Links and focus rings only where the colour is readable on the page (WCAG AA, 4.5:1).
    const dark = theme ? theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
    if (contrast(color, BACKGROUND[dark ? "dark" : "light"]) >= 4.5) {
      root.style.setProperty("--accent", color);
      root.style.setProperty("--focus", color);
    }
  }
  const brand = document.getElementById("brand");
  if (brand && (branding.name || branding.logo_url)) {
    show(brand,
      branding.logo_url ? h("img", { src: branding.logo_url, alt: branding.name ? "" : "Logo", class: "logo", referrerPolicy: "no-referrer" }) : null,
      branding.name || null);
    brand.hidden = false;
  }
}
