// #/silences: active, pending and expired silences in tabs with counts,
// filtered by matchers (the API's `filter=`), with the alerts each mutes.

import { api } from "../api.js";
import { h, replace, errorBox, pager, hashFor } from "../dom.js";
import { filterBar, indexLabels } from "../filter_bar.js";
import { parseMatchers, formatMatcher, fromApi, matchesLabels } from "../matchers.js";
import { relative, absolute } from "../time.js";

const STATES = ["active", "pending", "expired"];
const PER_PAGE = 50;

export function render(el, route, ctx) {
  const p = route.params;
  const state = {
    filter: p.get("filter") || "",
    tab: STATES.includes(p.get("state")) ? p.get("state") : "active",
    offset: 0,
    silences: [],
    alerts: [],
    index: new Map(),
  };
  let left = false;
  const save = () => ctx.setParams("/silences", { filter: state.filter, state: state.tab === "active" ? "" : state.tab });

  const bar = filterBar({
    value: state.filter,
    labelIndex: () => state.index,
    onChange: (text) => {
      state.filter = text;
      state.offset = 0;
      save();
      load();
    },
  });
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Silence state" });
  const list = h("div", { class: "silences", role: "tabpanel" });
  replace(el,
    h("div", { class: "title-row" },
      h("h1", {}, "Silences"),
      h("a", { class: "button primary", href: "#/silences/new" }, "New silence")),
    h("div", { class: "toolbar" }, bar.element),
    tabs,
    list);

  let latest = 0; // answers to superseded requests are dropped

  async function load() {
    const mine = ++latest;
    let matchers;
    try {
      matchers = parseMatchers(state.filter);
    } catch {
      return;
    }
    try {
      // Every alert, suppressed or not, to count what each silence mutes.
      const [silences, alerts] = await Promise.all([
        api.silences({ filter: matchers.map(formatMatcher) }),
        api.alerts({ silenced: true, inhibited: true, muted: true, active: true }),
      ]);
      if (left || mine !== latest) return;
      state.silences = silences;
      state.alerts = alerts;
      state.index = indexLabels(silences.flatMap((s) => s.matchers.map((m) => ({ [m.name]: m.value }))));
      draw();
    } catch (e) {
      if (!left) replace(list, errorBox(e));
    }
  }

  function draw() {
    const by = { active: [], pending: [], expired: [] };
    for (const s of state.silences) (by[s.status.state] || by.expired).push(s);
    by.active.sort((a, b) => a.endsAt.localeCompare(b.endsAt));
    by.pending.sort((a, b) => a.startsAt.localeCompare(b.startsAt));
    by.expired.sort((a, b) => b.endsAt.localeCompare(a.endsAt));

    const pick = (st) => {
      state.tab = st;
      state.offset = 0;
      save();
      draw();
      tabs.querySelector(`.tab-${st}`).focus();
    };
    // The tab pattern: one tab stop, arrow keys move between tabs.
    const onKey = (e) => {
      const i = STATES.indexOf(state.tab);
      if (e.key === "ArrowRight") pick(STATES[(i + 1) % STATES.length]);
      else if (e.key === "ArrowLeft") pick(STATES[(i + STATES.length - 1) % STATES.length]);
    };
    replace(tabs, STATES.map((st) =>
      h("button", {
        type: "button",
        role: "tab",
        class: `tab tab-${st}`,
        tabindex: st === state.tab ? "0" : "-1",
        "aria-selected": String(st === state.tab),
        onclick: () => pick(st),
        onkeydown: onKey,
      }, `${st[0].toUpperCase()}${st.slice(1)} `, h("span", { class: "count" }, String(by[st].length)))));

    const rows = by[state.tab];
    const muted = muteCounts(state.alerts);
    const go = (offset) => {
      state.offset = offset;
      draw();
    };
    replace(list,
      rows.length === 0 ? h("p", { class: "empty" }, `No ${state.tab} silences.`) : null,
      h("ul", { class: "silence-list" },
        rows.slice(state.offset, state.offset + PER_PAGE).map((s) => silenceRow(s, muted, state.alerts, load))),
      pager(rows.length, state.offset, PER_PAGE, go));
  }

  load();
  return () => {
    left = true;
  };
}

/** silence ID → number of alerts the server says it silences. */
function muteCounts(alerts) {
  const counts = new Map();
  for (const a of alerts) {
    for (const id of a.status.silencedBy || []) counts.set(id, (counts.get(id) || 0) + 1);
  }
  return counts;
}

/** One silence as a list row; shared with the silence page's header. */
export function silenceRow(s, muted, alerts, reload) {
  const st = s.status.state;
  const ms = s.matchers.map(fromApi);
  let mutes;
  if (st === "active") {
    const n = muted.get(s.id) || 0;
    mutes = `Mutes ${n} alert${n === 1 ? "" : "s"}`;
  } else if (st === "pending") {
    // The server says nothing about future muting; estimate it here.
    const n = alerts.filter((a) => matchesLabels(ms, a.labels)).length;
    mutes = `Would mute ${n} alert${n === 1 ? "" : "s"} now`;
  }
  return h("li", { class: `silence state-${st}`, "data-silence-id": s.id },
    h("div", { class: "matchers" }, ms.map((m) => h("span", { class: "chip" }, formatMatcher(m)))),
    h("p", { class: "comment" }, s.comment),
    h("p", { class: "meta" },
      h("span", { class: "author" }, `by ${s.createdBy}`),
      timeSpan(st === "pending" ? "Starts" : "Started", s.startsAt),
      timeSpan(st === "expired" ? "Ended" : "Ends", s.endsAt),
      mutes ? h("span", { class: "mutes" }, mutes) : null),
    silenceActions(s, reload));
}

function timeSpan(label, iso) {
  return h("span", {}, `${label} `, h("time", { datetime: iso, title: iso }, relative(iso)), ` (${absolute(iso)})`);
}

/**
 * View / Edit / Expire (with an inline confirmation, reachable by
 * keyboard and without a modal) / Recreate for expired ones.
 */
export function silenceActions(s, reload, { onItsPage = false } = {}) {
  const st = s.status.state;
  const box = h("div", { class: "actions" });
  const view = onItsPage ? null : h("a", { class: "button", href: `#/silences/${encodeURIComponent(s.id)}` }, "View");
  const normal = () => {
    replace(box,
      view,
      st === "expired"
        ? h("a", { class: "button recreate", href: hashFor(`/silences/${encodeURIComponent(s.id)}/edit`, { recreate: "true" }) }, "Recreate")
        : [
            h("a", { class: "button edit", href: `#/silences/${encodeURIComponent(s.id)}/edit` }, "Edit"),
            h("button", { type: "button", class: "danger expire", onclick: confirm }, "Expire"),
          ]);
  };
  const confirm = () => {
    const yes = h("button", {
      type: "button",
      class: "danger confirm-expire",
      onclick: async () => {
        yes.disabled = true;
        try {
          await api.expireSilence(s.id);
          reload();
        } catch (e) {
          box.append(errorBox(e));
        }
      },
    }, "Yes, expire");
    replace(box, h("span", {}, "Expire this silence now?"), yes,
      h("button", { type: "button", class: "cancel", onclick: normal }, "Cancel"));
    yes.focus();
  };
  normal();
  return box;
}
