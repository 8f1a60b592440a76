// Small DOM helpers. Everything is built with createElement and text
// nodes, never innerHTML, so label values and comments from the API can
// never inject markup.

/**
 * h("a", {href: "#/x", class: "c", onclick: fn}, "text", child, [more])
 * Attributes starting with "on" become listeners; `false`, null and
 * undefined attributes and children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else if (k === "dataset") {
      Object.assign(el.dataset, v);
    } else if (k === "value" || k === "checked") {
      el[k] = v; // properties, so they also work after user edits
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.textContent = "";
  append(el, children);
  return el;
}

/** An error box; `role=alert` makes screen readers announce it. */
export function errorBox(err) {
  return h("div", { class: "error", role: "alert" }, String(err && err.message ? err.message : err));
}

/** Calls `fn` once `ms` have passed without another call. */
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

/** A label as a chip; `onclick` makes it a button (e.g. "add to filter"). */
export function labelChip(name, value, onclick) {
  const text = `${name}="${value}"`;
  return onclick
    ? h("button", { type: "button", class: "chip", title: "Add to filter", onclick }, text)
    : h("span", { class: "chip" }, text);
}

/**
 * Pagination controls for `total` items shown `size` at a time from
 * `offset`; `go(newOffset)` is called on a page change.
 */
export function pager(total, offset, size, go) {
  if (total <= size) return null;
  const last = Math.floor((total - 1) / size) * size;
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", disabled: offset <= 0, onclick: () => go(Math.max(0, offset - size)) }, "‹ Previous"),
    h("span", {}, `${offset + 1}–${Math.min(total, offset + size)} of ${total}`),
    h("button", { type: "button", disabled: offset >= last, onclick: () => go(offset + size) }, "Next ›"),
  );
}

/** "/alerts" + {filter: …} → "#/alerts?filter=…", skipping empty values. */
export function hashFor(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "" && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ""}`;
}
