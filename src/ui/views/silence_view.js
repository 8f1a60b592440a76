// #/silences/{id}: one silence, its state, and the alerts it mutes now
// (or, while pending, would mute).

import { api } from "../api.js";
import { h, replace, errorBox } from "../dom.js";
import { formatMatcher, fromApi } from "../matchers.js";
import { relative, absolute } from "../time.js";
import { silenceActions } from "./silences.js";
import { severityClass } from "./alerts.js";

export function render(el, route) {
  const id = route.args[0];
  let left = false;

  async function load() {
    try {
      const s = await api.silence(id);
      const ms = s.matchers.map(fromApi);
      let alerts = [];
      if (s.status.state === "active") {
        const all = await api.alerts({ silenced: true, inhibited: true, muted: true, active: true, filter: ms.map(formatMatcher) });
        alerts = all.filter((a) => (a.status.silencedBy || []).includes(s.id));
      } else if (s.status.state === "pending") {
        alerts = await api.alerts({ silenced: true, inhibited: true, muted: true, active: true, filter: ms.map(formatMatcher) });
      }
      if (left) return;
      draw(s, ms, alerts);
    } catch (e) {
      if (!left) replace(el, h("h1", {}, "Silence"), errorBox(e), h("a", { href: "#/silences" }, "All silences"));
    }
  }

  function draw(s, ms, alerts) {
    const st = s.status.state;
    const row = (k, v) => [h("dt", {}, k), h("dd", {}, v)];
    const when = (iso) => [h("time", { datetime: iso }, absolute(iso)), ` (${relative(iso)})`];
    replace(el,
      h("p", {}, h("a", { href: "#/silences" }, "‹ All silences")),
      h("h1", {}, "Silence ", h("span", { class: `badge ${st}`, id: "silence-state" }, st)),
      h("dl", { class: "facts silence-detail", "data-silence-id": s.id },
        row("ID", h("code", {}, s.id)),
        row("Matchers", h("div", { class: "matchers" }, ms.map((m) => h("span", { class: "chip" }, formatMatcher(m))))),
        row("Starts", when(s.startsAt)),
        row("Ends", when(s.endsAt)),
        row("Updated", when(s.updatedAt)),
        row("Created by", s.createdBy),
        row("Comment", h("span", { class: "comment" }, s.comment)),
        Object.keys(s.annotations || {}).length
          ? row("Annotations", h("div", { class: "annotations", id: "silence-annotations" },
              Object.keys(s.annotations).sort().map((k) => h("span", { class: "chip" }, `${k}=${s.annotations[k]}`))))
          : null),
      silenceActions(s, load, { onItsPage: true }),
      h("h2", {}, st === "pending" ? `Would mute ${alerts.length} alert(s)` : st === "active" ? `Mutes ${alerts.length} alert(s)` : "Expired: mutes nothing"),
      h("ul", { class: "alerts compact" }, alerts.slice(0, 200).map((a) =>
        h("li", { class: `alert ${severityClass(a.labels)}`, "data-fingerprint": a.fingerprint },
          Object.keys(a.labels).sort().map((n) => h("span", { class: "chip" }, `${n}="${a.labels[n]}"`))))),
      alerts.length > 200 ? h("p", { class: "muted" }, `…and ${alerts.length - 200} more.`) : null);
  }

  replace(el, h("p", { class: "muted" }, "Loading…"));
  load();
  return () => {
    left = true;
  };
}
