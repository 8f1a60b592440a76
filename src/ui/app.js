// The shell: a hash router compatible with Alertmanager's links
// (#/alerts?filter=…, #/silences/{id}/edit, …) plus klaxon's own views.
// Each view module exports `render(el, route, ctx)` and may return a
// cleanup function (to stop its timers) that runs when the view is left.

import { h, replace, errorBox, hashFor } from "./dom.js";
import * as alerts from "./views/alerts.js";
import * as silences from "./views/silences.js";
import * as silenceForm from "./views/silence_form.js";
import * as silenceView from "./views/silence_view.js";
import * as status from "./views/status.js";
import * as notifications from "./views/notifications.js";
import * as routes from "./views/routes.js";

// First match wins; `new` must come before `{id}`.
const ROUTES = [
  [/^\/alerts$/, "alerts", alerts],
  [/^\/silences$/, "silences", silences],
  [/^\/silences\/new$/, "silences", silenceForm],
  [/^\/silences\/([^/]+)\/edit$/, "silences", silenceForm],
  [/^\/silences\/([^/]+)$/, "silences", silenceView],
  [/^\/status$/, "status", status],
  [/^\/notifications$/, "notifications", notifications],
  [/^\/routes$/, "routes", routes],
];

/** Splits "#/silences/x?filter=…" into a path and its parameters. */
export function parseHash(hash) {
  const raw = hash.replace(/^#/, "") || "/alerts";
  const at = raw.indexOf("?");
  const path = at < 0 ? raw : raw.slice(0, at);
  const params = new URLSearchParams(at < 0 ? "" : raw.slice(at + 1));
  return { path: path.replace(/\/+$/, "") || "/alerts", params };
}

const main = document.getElementById("view");
let cleanup = null;

const ctx = {
  /** Changes view (adds a history entry). */
  go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  },
  /** Rewrites the address for the current view without re-rendering,
   *  so filters stay shareable and survive a reload. */
  setParams(path, params) {
    history.replaceState(null, "", hashFor(path, params));
  },
};

function render() {
  if (cleanup) {
    try { cleanup(); } catch (e) { console.error(e); }
    cleanup = null;
  }
  const route = parseHash(location.hash);
  const found = ROUTES.map(([re, nav, view]) => [re.exec(route.path), nav, view]).find(([m]) => m);
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.toggleAttribute("aria-current", Boolean(found && a.dataset.nav === found[1]));
  }
  // A fresh container per visit: late answers of a view that was left
  // write into a detached element and cannot clobber the new view.
  const el = h("div", { class: "page" });
  replace(main, el);
  if (!found) {
    el.append(errorBox(`No view at ${route.path}.`), h("p", {}, h("a", { href: "#/alerts" }, "Go to alerts")));
    return;
  }
  const [m, , view] = found;
  route.args = m.slice(1).map(decodeURIComponent);
  try {
    const c = view.render(el, route, ctx);
    if (typeof c === "function") cleanup = c;
  } catch (e) {
    el.append(errorBox(e));
  }
}

window.addEventListener("hashchange", render);

// A bug in a view should not fail silently: show it above the view until
// dismissed, and count it on <body data-errors> (the browser tests read it).
function reportError(message) {
  const banner = h("div", { class: "error global-error", role: "alert" },
    `Something went wrong in the page: ${message} `,
    h("button", { type: "button", onclick: () => banner.remove() }, "Dismiss"));
  main.before(banner);
  document.body.dataset.errors = String(Number(document.body.dataset.errors || 0) + 1);
}
window.addEventListener("error", (e) => reportError(e.message));
window.addEventListener("unhandledrejection", (e) => reportError(e.reason?.message || String(e.reason)));

// "/" focuses the current view's filter, as in many web apps; Escape
// leaves a field so the shortcut works again.
document.addEventListener("keydown", (e) => {
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || "");
  if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
    const f = document.querySelector("[data-filter]");
    if (f) {
      e.preventDefault();
      f.focus();
    }
  } else if (e.key === "Escape" && typing) {
    document.activeElement.blur();
  }
});

if (!location.hash || location.hash === "#" || location.hash === "#/") {
  history.replaceState(null, "", "#/alerts");
}
render();
