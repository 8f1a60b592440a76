// #/routes: the routing tree as the running config built it (inherited
// settings filled in) and a tester: which routes and receivers would a
// label set reach, and with which group key. The server answers with the
// dispatcher's own matching, so the view cannot disagree with delivery.

import { api } from "../api.js";
import { h, replace, errorBox } from "../dom.js";

export function render(el, route, ctx) {
  let left = false;
  const input = h("input", {
    id: "route-labels",
    "data-filter": true,
    value: route.params.get("labels") || "",
    placeholder: '{alertname="DiskFull", severity="critical", team="db"}',
    spellcheck: "false",
    autocomplete: "off",
    "aria-label": "Label set to route",
  });
  const result = h("section", { class: "route-result", "aria-live": "polite" });
  const tree = h("div", { class: "route-tree" }, h("p", { class: "muted" }, "Loading…"));

  const test = async (e) => {
    e?.preventDefault();
    const labels = input.value.trim();
    ctx.setParams("/routes", { labels });
    for (const n of tree.querySelectorAll(".matched, .on-path")) n.classList.remove("matched", "on-path");
    if (!labels) {
      replace(result);
      return;
    }
    try {
      const m = await api.routeMatch(labels);
      if (left) return;
      for (const r of m.routes) {
        for (const id of r.path) tree.querySelector(`[data-route-id="${id}"]`)?.classList.add("on-path");
        tree.querySelector(`[data-route-id="${r.id}"]`)?.classList.add("matched");
      }
      replace(result,
        h("h2", {}, "Reaches ", h("span", { id: "route-receivers" }, m.receivers.join(", "))),
        h("ol", { class: "matched-routes" }, m.routes.map((r) =>
          h("li", {},
            h("strong", {}, r.receiver),
            h("dl", { class: "facts" },
              h("dt", {}, "Group key"), h("dd", {}, h("code", {}, r.groupKey)),
              r.muteTimeIntervals.length ? [h("dt", {}, "Muted during"), h("dd", {}, r.muteTimeIntervals.join(", "))] : null,
              r.activeTimeIntervals.length ? [h("dt", {}, "Active only during"), h("dd", {}, r.activeTimeIntervals.join(", "))] : null)))));
    } catch (err) {
      if (!left) replace(result, errorBox(err));
    }
  };

  replace(el,
    h("h1", {}, "Routes"),
    h("form", { class: "route-test", onsubmit: test },
      h("label", { for: "route-labels" }, "Where would an alert with these labels go?"),
      h("div", { class: "inline" }, input, h("button", { type: "submit", class: "primary", id: "route-test" }, "Test"))),
    result,
    h("h2", {}, "Routing tree"),
    tree);

  api.routes().then((root) => {
    if (left) return;
    replace(tree, h("ul", { class: "tree" }, node(root, true)));
    if (input.value.trim()) test();
  }).catch((e) => replace(tree, errorBox(e)));

  return () => {
    left = true;
  };
}

function node(r, isRoot) {
  const meta = [
    `group by ${r.groupBy.length ? r.groupBy.join(", ") : "(nothing)"}`,
    `wait ${r.groupWait}`,
    `interval ${r.groupInterval}`,
    `repeat ${r.repeatInterval}`,
  ];
  return h("li", { class: "route", "data-route-id": String(r.id) },
    h("div", { class: "route-box" },
      h("span", { class: "receiver" }, r.receiver),
      r.matchers.length
        ? r.matchers.map((m) => h("span", { class: "chip" }, m))
        : h("span", { class: "muted" }, isRoot ? "root: every alert" : "matches every alert"),
      r.continue ? h("span", { class: "badge continue", title: "Later siblings are tried too" }, "continue") : null,
      h("p", { class: "route-meta" }, meta.join(" · ")),
      r.muteTimeIntervals.length ? h("p", { class: "route-meta" }, `muted during ${r.muteTimeIntervals.join(", ")}`) : null,
      r.activeTimeIntervals.length ? h("p", { class: "route-meta" }, `active only during ${r.activeTimeIntervals.join(", ")}`) : null),
    r.routes.length ? h("ul", {}, r.routes.map((c) => node(c, false))) : null);
}
