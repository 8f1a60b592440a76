// #/alerts: alert groups as the dispatcher forms them (per receiver and
// group labels), with a matcher filter, state toggles and auto-refresh.
// Fast with many alerts: groups are paginated and each group shows its
// first alerts until asked for more, so the DOM stays small.

import { api } from "../api.js";
import { h, replace, errorBox, labelChip, pager, hashFor } from "../dom.js";
import { filterBar, indexLabels } from "../filter_bar.js";
import { parseMatchers, formatMatcher, formatMatchers, fromLabels } from "../matchers.js";
import { absolute, humanDuration } from "../time.js";

const GROUPS_PER_PAGE = 25;
const ALERTS_PER_GROUP = 10;
const REFRESH_MS = 15000;

/** Severity label → colour class; unknown values get the neutral one. */
export function severityClass(labels) {
  const s = (labels.severity || labels.priority || "").toLowerCase();
  if (["critical", "page", "error", "high", "p1", "emergency"].includes(s)) return "sev-critical";
  if (["warning", "warn", "medium", "p2", "p3"].includes(s)) return "sev-warning";
  if (["info", "informational", "notice", "low", "none", "p4", "p5"].includes(s)) return "sev-info";
  return "sev-unknown";
}

export function render(el, route, ctx) {
  const p = route.params;
  // Alertmanager's own UI hides suppressed alerts unless asked.
  const state = {
    filter: p.get("filter") || "",
    silenced: p.get("silenced") === "true",
    inhibited: p.get("inhibited") === "true",
    muted: p.get("muted") === "true",
    receiver: p.get("receiver") || "",
    refresh: p.get("refresh") !== "false",
    offset: 0,
    shown: new Map(), // group id → alerts shown (beyond the default)
    groups: [],
    index: null, // label name → values, built when the filter bar asks
  };
  let timer = null;
  let left = false;

  const saveParams = () =>
    ctx.setParams("/alerts", {
      filter: state.filter,
      silenced: state.silenced,
      inhibited: state.inhibited,
      muted: state.muted,
      receiver: state.receiver,
      refresh: state.refresh ? "" : "false",
    });

  const bar = filterBar({
    value: state.filter,
    labelIndex: () =>
      (state.index ??= indexLabels(state.groups.flatMap((g) => g.alerts.map((a) => a.labels)))),
    onChange: (text) => {
      state.filter = text;
      state.offset = 0;
      saveParams();
      load();
    },
  });

  const toggle = (key, label) =>
    h("label", { class: "toggle" },
      h("input", {
        type: "checkbox",
        name: key,
        checked: state[key],
        onchange: (e) => {
          state[key] = e.target.checked;
          saveParams();
          if (key === "refresh") schedule();
          else load();
        },
      }),
      label);

  const receiverSelect = h("select", {
    "aria-label": "Receiver",
    onchange: (e) => {
      state.receiver = e.target.value;
      state.offset = 0;
      saveParams();
      load();
    },
  }, h("option", { value: "" }, "All receivers"));
  api.receivers().then((rs) => {
    for (const r of rs) receiverSelect.append(h("option", { value: r.name }, r.name));
    receiverSelect.value = state.receiver;
  }).catch(() => {});

  const summary = h("p", { class: "summary muted", "aria-live": "polite" });
  const list = h("div", { class: "groups" });
  replace(el,
    h("h1", {}, "Alerts"),
    h("div", { class: "toolbar" },
      bar.element,
      h("div", { class: "toggles" },
        receiverSelect,
        toggle("silenced", "Silenced"),
        toggle("inhibited", "Inhibited"),
        toggle("muted", "Muted"),
        toggle("refresh", "Auto-refresh")),
    ),
    summary,
    list);

  const addToFilter = (name, value) => {
    const ms = safeParse(state.filter).filter((m) => m.name !== name);
    ms.push({ name, op: "=", value });
    state.filter = formatMatchers(ms);
    bar.input.value = state.filter;
    state.offset = 0;
    saveParams();
    load();
  };

  let latest = 0; // answers to older requests (a refresh racing a new filter) are dropped

  async function load() {
    const mine = ++latest;
    let matchers;
    try {
      matchers = parseMatchers(state.filter);
    } catch (e) {
      return; // the filter bar shows the error
    }
    try {
      const groups = await api.alertGroups({
        filter: matchers.map(formatMatcher),
        silenced: state.silenced,
        inhibited: state.inhibited,
        muted: state.muted,
        active: true,
        receiver: state.receiver ? escapeRegex(state.receiver) : "",
      });
      if (left || mine !== latest) return;
      state.groups = sortGroups(groups);
      state.index = null;
      draw();
    } catch (e) {
      if (!left) replace(list, errorBox(e));
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    // Refreshing a hidden tab wastes the server's time; catch up on return.
    if (state.refresh && !left) timer = setTimeout(() => (document.hidden ? schedule() : load()), REFRESH_MS);
  }

  function draw() {
    const groups = state.groups;
    const alertCount = groups.reduce((n, g) => n + g.alerts.length, 0);
    const fingerprints = new Map();
    for (const g of groups) for (const a of g.alerts) fingerprints.set(a.fingerprint, a);
    summary.textContent = `${alertCount} alert${alertCount === 1 ? "" : "s"} in ${groups.length} group${groups.length === 1 ? "" : "s"} · updated ${new Date().toLocaleTimeString()}`;
    if (state.offset >= groups.length) state.offset = 0;
    const page = groups.slice(state.offset, state.offset + GROUPS_PER_PAGE);
    const go = (offset) => {
      state.offset = offset;
      draw();
      el.scrollIntoView();
    };
    replace(list,
      groups.length === 0 ? h("p", { class: "empty" }, "No alerts match.") : null,
      page.map((g) => drawGroup(g, fingerprints)),
      pager(groups.length, state.offset, GROUPS_PER_PAGE, go));
  }

  function drawGroup(g, fingerprints) {
    const id = `${g.receiver.name}|${JSON.stringify(g.labels)}`;
    const limit = state.shown.get(id) || ALERTS_PER_GROUP;
    const names = Object.keys(g.labels).sort();
    const more = g.alerts.length - limit;
    return h("section", { class: "group", "data-receiver": g.receiver.name },
      h("header", { class: "group-head" },
        h("span", { class: "receiver", title: "Receiver" }, g.receiver.name),
        names.length
          ? names.map((n) => labelChip(n, g.labels[n], () => addToFilter(n, g.labels[n])))
          : h("span", { class: "muted" }, "(no group labels)"),
        h("span", { class: "count" }, `${g.alerts.length}`)),
      h("ul", { class: "alerts" }, g.alerts.slice(0, limit).map((a) => drawAlert(a, g.labels, fingerprints))),
      more > 0
        ? h("button", {
            type: "button",
            class: "more",
            onclick: () => {
              state.shown.set(id, limit + 200);
              draw();
            },
          }, `Show ${Math.min(more, 200)} more of ${more}`)
        : null);
  }

  function drawAlert(a, groupLabels, fingerprints) {
    const labels = a.labels;
    const st = a.status || {};
    const silenceHref = hashFor("/silences/new", { filter: formatMatchers(fromLabels(labels)) });
    const extra = Object.keys(labels).sort().filter((n) => !(n in groupLabels) && n !== "alertname");
    const ann = a.annotations || {};
    const otherAnn = Object.keys(ann).filter((k) => k !== "summary" && k !== "description").sort();
    return h("li", {
      class: `alert ${severityClass(labels)} state-${st.state || "active"}`,
      "data-fingerprint": a.fingerprint,
    },
      h("div", { class: "alert-head" },
        h("strong", { class: "alertname" }, labels.alertname || "(no alertname)"),
        h("span", { class: `badge ${st.state || "active"}` }, st.state || "active"),
        labels.severity ? h("span", { class: "badge severity" }, labels.severity) : null,
        h("time", { datetime: a.startsAt, title: `Started ${absolute(a.startsAt)}` }, firingFor(a.startsAt)),
        h("span", { class: "actions" },
          h("a", { class: "button silence-this", href: silenceHref }, "Silence this"),
          a.generatorURL ? h("a", { class: "button", href: a.generatorURL, rel: "noreferrer" }, "Source") : null)),
      ann.summary ? h("p", { class: "summary-text" }, ann.summary) : null,
      ann.description ? h("p", { class: "description" }, ann.description) : null,
      h("div", { class: "labels" }, extra.map((n) => labelChip(n, labels[n], () => addToFilter(n, labels[n])))),
      otherAnn.length
        ? h("details", {}, h("summary", {}, "Annotations"),
            h("dl", {}, otherAnn.map((k) => [h("dt", {}, k), h("dd", {}, ann[k])])))
        : null,
      whySuppressed(st, fingerprints));
  }

  load();
  return () => {
    left = true;
    clearTimeout(timer);
  };
}

function firingFor(iso) {
  const secs = (Date.now() - Date.parse(iso)) / 1000;
  return secs < 60 ? "started just now" : `for ${humanDuration(secs)}`;
}

/** The reasons an alert is suppressed, each linking to its cause. */
function whySuppressed(st, fingerprints) {
  const reasons = [];
  for (const id of st.silencedBy || []) {
    reasons.push(h("li", {}, "Silenced by ", h("a", { href: `#/silences/${encodeURIComponent(id)}` }, `silence ${id.slice(0, 8)}`)));
  }
  for (const fp of st.inhibitedBy || []) {
    const source = fingerprints.get(fp);
    const what = source ? ` (${source.labels.alertname || "alert"})` : "";
    reasons.push(h("li", {}, "Inhibited by alert ", h("code", {}, fp), what));
  }
  for (const name of st.mutedBy || []) {
    reasons.push(h("li", {}, "Muted by time interval ", h("code", {}, name)));
  }
  return reasons.length ? h("ul", { class: "why" }, reasons) : null;
}

/** By receiver, then group labels, so groups keep their place on refresh. */
function sortGroups(groups) {
  const key = (g) => `${g.receiver.name}\u0000${Object.keys(g.labels).sort().map((k) => `${k}=${g.labels[k]}`).join("\u0000")}`;
  return groups.map((g) => [key(g), g]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, g]) => g);
}

function safeParse(text) {
  try {
    return parseMatchers(text);
  } catch {
    return [];
  }
}

/** The API's `receiver=` is a regex; the select offers exact names. */
function escapeRegex(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
