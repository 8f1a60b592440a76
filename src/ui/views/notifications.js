// #/notifications: klaxon's delivery history (every attempt, newest
// first) from /api/klaxon/notifications, paginated, filtered by receiver.

import { api } from "../api.js";
import { h, replace, errorBox } from "../dom.js";
import { relative, absolute } from "../time.js";

const PAGE = 50;

export function render(el, route, ctx) {
  const p = route.params;
  const state = { receiver: p.get("receiver") || "", offset: Math.max(0, Number(p.get("offset")) || 0) };
  let left = false;

  const select = h("select", {
    id: "notifications-receiver",
    "aria-label": "Receiver",
    onchange: (e) => {
      state.receiver = e.target.value;
      state.offset = 0;
      load();
    },
  }, h("option", { value: "" }, "All receivers"));
  api.receivers().then((rs) => {
    for (const r of rs) select.append(h("option", { value: r.name }, r.name));
    select.value = state.receiver;
  }).catch(() => {});

  const body = h("div", {});
  replace(el, h("h1", {}, "Notifications"), h("div", { class: "toolbar" }, select), body);

  async function load() {
    ctx.setParams("/notifications", { receiver: state.receiver, offset: state.offset || "" });
    try {
      const page = await api.notifications({ receiver: state.receiver, offset: state.offset, limit: PAGE });
      if (left) return;
      const rows = page.notifications;
      const nav = h("nav", { class: "pager", "aria-label": "Pages" },
        h("button", { type: "button", disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - PAGE); load(); } }, "‹ Newer"),
        h("span", {}, rows.length ? `${state.offset + 1}–${state.offset + rows.length}` : ""),
        h("button", { type: "button", disabled: page.nextOffset === undefined, onclick: () => { state.offset = page.nextOffset; load(); } }, "Older ›"));
      replace(body,
        rows.length === 0
          ? h("p", { class: "empty" }, "No notification attempts recorded yet.")
          : h("div", { class: "table-wrap" },
              h("table", { class: "notifications" },
                h("thead", {}, h("tr", {}, ["Time", "Receiver", "Integration", "Alerts", "Reason", "Outcome", "Group"].map((c) => h("th", { scope: "col" }, c)))),
                h("tbody", {}, rows.map((n) =>
                  h("tr", { class: `outcome-${String(n.outcome).toLowerCase()}` },
                    h("td", {}, h("time", { datetime: n.time, title: absolute(n.time) }, relative(n.time))),
                    h("td", {}, n.receiver),
                    h("td", {}, n.integration),
                    h("td", { class: "num" }, String(n.alerts)),
                    h("td", {}, n.reason),
                    h("td", {}, h("span", { class: "badge" }, String(n.outcome)), n.error ? h("div", { class: "error-text" }, n.error) : null),
                    h("td", { class: "group-key" }, h("code", {}, n.groupKey))))))),
        nav);
    } catch (e) {
      if (!left) replace(body, errorBox(e));
    }
  }

  load();
  return () => {
    left = true;
  };
}
