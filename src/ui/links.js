// Text with its web addresses as links (runbook_url, dashboards, …).
// Only http: and https: become links, so an annotation can never make a
// `javascript:` or `data:` link; the rest stays text.

import { h } from "./dom.js";

const URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/gi;
// Punctuation that ends a sentence, not the address.
const TRAILING = /[.,;:!?)\]}]+$/;

/** `text` as an array of strings and <a> elements. */
export function linkified(text) {
  const out = [];
  let at = 0;
  for (const m of String(text).matchAll(URL_IN_TEXT)) {
    let url = m[0];
    const tail = url.match(TRAILING);
    if (tail) url = url.slice(0, -tail[0].length);
    if (!isHttpUrl(url)) continue;
    out.push(String(text).slice(at, m.index));
    out.push(h("a", { href: url, rel: "noopener noreferrer", target: "_blank", class: "ext" }, url));
    at = m.index + url.length;
  }
  out.push(String(text).slice(at));
  return out.filter((x) => x !== "");
}

export function isHttpUrl(text) {
  try {
    const u = new URL(text);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}
