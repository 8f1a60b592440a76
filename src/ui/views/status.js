// #/status: version, uptime, cluster, what the store holds, and the
// running config (the API has already replaced secrets with <secret>).

import { api } from "../api.js";
import { h, replace, errorBox } from "../dom.js";
import { relative, absolute } from "../time.js";

/** 1536 → "1.5 KiB". */
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function render(el) {
  let left = false;
  replace(el, h("h1", {}, "Status"), h("p", { class: "muted" }, "Loading…"));

  (async () => {
    try {
      const [status, alerts, silences, store, detail] = await Promise.all([
        api.status(),
        api.alerts({ silenced: true, inhibited: true, muted: true, active: true, unprocessed: true }),
        api.silences(),
        // klaxon's own endpoint; absent when the UI talks to something else.
        api.store().catch(() => null),
        // klaxon's replicas: leader, term and roles (404 for a single instance).
        api.cluster().catch(() => null),
      ]);
      if (left) return;
      const v = status.versionInfo || {};
      const cluster = status.cluster || {};
      const byState = { active: 0, pending: 0, expired: 0 };
      for (const s of silences) byState[s.status.state] = (byState[s.status.state] || 0) + 1;
      const suppressed = alerts.filter((a) => a.status.state === "suppressed").length;
      const row = (k, ...v) => [h("dt", {}, k), h("dd", {}, ...v)];
      replace(el,
        h("h1", {}, "Status"),
        h("section", { class: "card" },
          h("h2", {}, "klaxon"),
          h("dl", { class: "facts", id: "status-facts" },
            row("Version", h("span", { id: "status-version" }, v.version || "?")),
            v.revision ? row("Revision", v.revision) : null,
            v.branch ? row("Branch", v.branch) : null,
            row("Started", h("time", { datetime: status.uptime }, absolute(status.uptime)), ` (up ${relative(status.uptime).replace(/ ago$/, "")})`))),
        h("section", { class: "card" },
          h("h2", {}, "Cluster"),
          h("dl", { class: "facts" },
            row("Status", h("span", { class: `badge ${cluster.status || ""}` }, cluster.status || "?")),
            cluster.name ? row("Name", cluster.name) : null,
            detail ? row("Leader", h("span", { id: "status-cluster-leader" },
              (detail.members.find((m) => m.leader) || {}).name || "none yet")) : null,
            detail ? row("Term", String(detail.term)) : null,
            row("Peers", detail && detail.members.length
              ? h("ul", {}, detail.members.map((m) => h("li", {},
                `${m.name} ${m.address} — ${m.leader ? "leader" : m.voter ? "voter" : "learner"}`,
                m.config_differs ? h("span", { class: "badge pending" }, "config differs") : null)))
              : (cluster.peers || []).length
                ? h("ul", {}, cluster.peers.map((p) => h("li", {}, `${p.name} ${p.address}`)))
                : "none (klaxon runs as a single instance)"))),
        h("section", { class: "card" },
          h("h2", {}, "Store"),
          h("dl", { class: "facts" },
            row("Alerts", `${alerts.length} (${alerts.length - suppressed} active, ${suppressed} suppressed)`),
            row("Silences", `${silences.length} (${byState.active} active, ${byState.pending} pending, ${byState.expired} expired)`),
            store ? row("Size on disk", h("span", { id: "status-store-size" }, bytes(store.sizeOnDiskBytes))) : null,
            store ? row("Path", h("code", {}, store.path)) : null)),
        h("section", { class: "card" },
          h("h2", {}, "Config"),
          h("p", { class: "hint" }, "As loaded, with defaults filled in; secrets are shown as <secret>."),
          h("pre", { class: "config", tabindex: "0" }, status.config?.original || "")));
    } catch (e) {
      if (!left) replace(el, h("h1", {}, "Status"), errorBox(e));
    }
  })();
  return () => {
    left = true;
  };
}
