// #/notifications: klaxon's delivery history (every attempt, newest
// first) from /api/klaxon/notifications, paginated, filtered by receiver,
// under a timeline of the last 24 h per receiver (sent and failed). On a
// phone the table's rows become stacked cards (see style.css).

import { api } from "../api.js";
import { h, replace, errorBox } from "../dom.js";
import { relative, absolute } from "../time.js";
import { timelineChart } from "../timeline.js";

const PAGE = 50;
// Small multiples beyond this many receivers stop being readable.
const MAX_CHARTS = 6;
const COLUMNS = ["Time", "Receiver", "Integration", "Alerts", "Reason", "Outcome", "Group"];

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
      drawTimeline();
    },
  }, h("option", { value: "" }, "All receivers"));
  api.receivers().then((rs) => {
    for (const r of rs) select.append(h("option", { value: r.name }, r.name));
    select.value = state.receiver;
  }).catch(() => {});

  const body = h("div", {});
  const charts = h("div", { class: "timeline-slot notification-timelines" });
  replace(el, h("h1", {}, "Notifications"), h("div", { class: "toolbar" }, select), charts, body);

  async function drawTimeline() {
    try {
      const t = await api.timeline({});
      if (left) return;
      const lines = t.notifications
        .filter((n) => !state.receiver || n.receiver === state.receiver)
        .map((n) => ({ ...n, total: n.sent.reduce((a, b) => a + b, 0) + n.failed.reduce((a, b) => a + b, 0) }))
        .sort((a, b) => b.total - a.total)
        .slice(0, MAX_CHARTS);
      replace(charts, lines.length === 0
        ? timelineChart({ title: "Notifications", series: [], start: t.start, end: t.end, stepSeconds: t.stepSeconds, empty: "none sent" })
        : lines.map((n) => timelineChart({
            title: n.receiver,
            series: [
              { name: "sent", cls: "sent", values: n.sent },
              { name: "failed", cls: "failed", values: n.failed },
            ],
            start: t.start, end: t.end,
            stepSeconds: t.stepSeconds,
            empty: "nothing sent",
          })));
    } catch {
      replace(charts); // the table below reports errors; the picture is optional
    }
  }

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
                h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
                h("tbody", {}, rows.map((n) =>
                  h("tr", { class: `outcome-${String(n.outcome).toLowerCase()}` },
                    // data-label names the column on a phone, where rows are cards.
                    h("td", { "data-label": "Time" }, h("time", { datetime: n.time, title: absolute(n.time) }, relative(n.time))),
                    h("td", { "data-label": "Receiver" }, n.receiver),
                    h("td", { "data-label": "Integration" }, n.integration),
                    h("td", { class: "num", "data-label": "Alerts" }, String(n.alerts)),
                    h("td", { "data-label": "Reason" }, n.reason),
                    h("td", { "data-label": "Outcome" }, h("span", { class: "badge" }, String(n.outcome)), n.error ? h("div", { class: "error-text" }, n.error) : null),
                    h("td", { class: "group-key", "data-label": "Group" }, h("code", {}, n.groupKey))))))),
        nav);
    } catch (e) {
      if (!left) replace(body, errorBox(e));
    }
  }

  load();
  drawTimeline();
  return () => {
    left = true;
  };
}
