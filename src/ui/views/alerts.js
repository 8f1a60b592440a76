// #/alerts: the triage view. Alert groups as the dispatcher forms them,
// merged across receivers (with `continue: true` one alert reaches several
// receivers; it is shown and counted once, with its receivers listed),
// sorted by severity then age, one line per alert with details on expand.
// Fast with many alerts: groups are paginated and each group shows its
// first alerts until asked for more, so the DOM stays small.

import { api } from "../api.js";
import { h, replace, errorBox, labelChip, pager, hashFor } from "../dom.js";
import { filterBar, indexLabels } from "../filter_bar.js";
import { parseMatchers, formatMatcher, formatMatchers, fromLabels } from "../matchers.js";
import { absolute, relative, humanDuration } from "../time.js";
import { timelineChart } from "../timeline.js";
import { linkified, isHttpUrl } from "../links.js";

const GROUPS_PER_PAGE = 25;
const ALERTS_PER_GROUP = 20;
const REFRESH_MS = 15000;
const COLLAPSED_KEY = "klaxon.alerts.collapsed";

const SEVERITIES = ["sev-critical", "sev-warning", "sev-info", "sev-unknown"];
const SEVERITY_NAMES = { "sev-critical": "critical", "sev-warning": "warning", "sev-info": "info", "sev-unknown": "other" };

/** Severity label → colour class; unknown values get the neutral one. */
export function severityClass(labels) {
  const s = (labels.severity || labels.priority || "").toLowerCase();
  if (["critical", "page", "error", "high", "p1", "emergency"].includes(s)) return "sev-critical";
  if (["warning", "warn", "medium", "p2", "p3"].includes(s)) return "sev-warning";
  if (["info", "informational", "notice", "low", "none", "p4", "p5"].includes(s)) return "sev-info";
  return "sev-unknown";
}

const rank = (labels) => SEVERITIES.indexOf(severityClass(labels));
const started = (a) => Date.parse(a.startsAt) || 0;

/** Orders alerts (and groups, by their first alert) for each sort choice. */
const ORDERS = {
  severity: (a, b) => rank(a.labels) - rank(b.labels) || started(b) - started(a),
  newest: (a, b) => started(b) - started(a),
  oldest: (a, b) => started(a) - started(b),
  name: (a, b) => (a.labels.alertname || "").localeCompare(b.labels.alertname || "") || started(b) - started(a),
};

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
    sort: ORDERS[p.get("sort")] ? p.get("sort") : "severity",
    offset: 0,
    shown: new Map(), // group key → alerts shown (beyond the default)
    open: new Set(), // fingerprints whose details are open
    collapsed: loadCollapsed(),
    groups: [], // display groups, sorted, each alert once
    byFingerprint: new Map(),
    silences: new Map(), // id → silence, for suppression details
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
      sort: state.sort === "severity" ? "" : state.sort,
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

  const sortSelect = h("select", {
    class: "sort",
    "aria-label": "Sort groups and alerts",
    onchange: (e) => {
      state.sort = e.target.value;
      saveParams();
      state.groups = displayGroups(state.raw || [], state.sort);
      draw();
    },
  },
  h("option", { value: "severity" }, "By severity"),
  h("option", { value: "newest" }, "Newest first"),
  h("option", { value: "oldest" }, "Oldest first"),
  h("option", { value: "name" }, "By name"));
  sortSelect.value = state.sort;

  const foldAll = h("button", {
    type: "button",
    class: "fold-all",
    onclick: () => {
      const anyOpen = state.groups.some((g) => !state.collapsed.has(g.key));
      state.collapsed = new Set(anyOpen ? state.groups.map((g) => g.key) : []);
      saveCollapsed(state.collapsed);
      draw();
    },
  }, "Collapse all");

  const summary = h("p", { class: "summary alerts-summary muted", "aria-live": "polite" });
  // The summary line sits in the timeline's caption once it is drawn.
  const chart = h("div", { class: "timeline-slot" }, summary);
  const list = h("div", { class: "groups" });
  replace(el,
    h("div", { class: "toolbar" },
      h("h1", {}, "Alerts"),
      bar.element,
      h("div", { class: "toggles" },
        receiverSelect,
        sortSelect,
        toggle("silenced", "Silenced"),
        toggle("inhibited", "Inhibited"),
        toggle("muted", "Muted"),
        toggle("refresh", "Auto-refresh"),
        foldAll),
    ),
    chart,
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
    drawTimeline(mine);
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
      state.raw = groups;
      state.groups = displayGroups(groups, state.sort);
      state.byFingerprint = new Map(state.groups.flatMap((g) => g.alerts.map((a) => [a.fingerprint, a])));
      state.index = null;
      await fetchSuppressors(mine);
      if (left || mine !== latest) return;
      draw();
    } catch (e) {
      if (!left) replace(list, errorBox(e));
    }
    schedule();
  }

  /** Silences and inhibiting alerts the listed alerts name, so their
   *  suppression can be explained by author, comment and labels. */
  async function fetchSuppressors(mine) {
    const all = state.groups.flatMap((g) => g.alerts);
    const silenced = all.some((a) => (a.status?.silencedBy || []).length);
    const unknownSource = all.some((a) => (a.status?.inhibitedBy || []).some((fp) => !state.byFingerprint.has(fp)));
    const [silences, others] = await Promise.all([
      silenced ? api.silences().catch(() => []) : [],
      // The inhibiting alert may be filtered out of this view.
      unknownSource ? api.alerts({ silenced: true, inhibited: true, muted: true }).catch(() => []) : [],
    ]);
    if (mine !== latest) return;
    state.silences = new Map(silences.map((s) => [s.id, s]));
    for (const a of others) if (!state.byFingerprint.has(a.fingerprint)) state.byFingerprint.set(a.fingerprint, a);
  }

  async function drawTimeline(mine) {
    try {
      const t = await api.timeline({});
      if (left || mine !== latest) return;
      const bySev = new Map(SEVERITIES.map((c) => [c, new Array(t.alerts[0]?.firing.length || 0).fill(0)]));
      for (const line of t.alerts) {
        const values = bySev.get(severityClass({ severity: line.severity }));
        line.firing.forEach((v, i) => (values[i] += v));
      }
      replace(chart, timelineChart({
        before: summary,
        title: "Alerts firing",
        series: [...bySev].reverse().map(([cls, values]) => ({ name: SEVERITY_NAMES[cls], cls, values })),
        start: t.start, end: t.end,
        stepSeconds: t.stepSeconds,
        empty: "no alert fired",
      }));
    } catch {
      replace(chart, summary); // the listing reports errors; the picture is optional
    }
  }

  function schedule() {
    clearTimeout(timer);
    // Refreshing a hidden tab wastes the server's time; catch up on return.
    if (state.refresh && !left) timer = setTimeout(() => (document.hidden ? schedule() : load()), REFRESH_MS);
  }

  function draw() {
    const groups = state.groups;
    const alertCount = groups.reduce((n, g) => n + g.alerts.length, 0);
    summary.textContent = `${alertCount} alert${alertCount === 1 ? "" : "s"} in ${groups.length} group${groups.length === 1 ? "" : "s"} · updated ${new Date().toLocaleTimeString()}`;
    foldAll.textContent = groups.some((g) => !state.collapsed.has(g.key)) ? "Collapse all" : "Expand all";
    foldAll.hidden = groups.length === 0;
    if (state.offset >= groups.length) state.offset = 0;
    const page = groups.slice(state.offset, state.offset + GROUPS_PER_PAGE);
    const go = (offset) => {
      state.offset = offset;
      draw();
      el.scrollIntoView();
    };
    replace(list,
      groups.length === 0 ? h("p", { class: "empty" }, "No alerts match.") : null,
      page.map(drawGroup),
      pager(groups.length, state.offset, GROUPS_PER_PAGE, go));
  }

  function drawGroup(g) {
    const limit = state.shown.get(g.key) || ALERTS_PER_GROUP;
    const names = Object.keys(g.labels).sort();
    const more = g.alerts.length - limit;
    const collapsed = state.collapsed.has(g.key);
    const worst = severityClass(g.alerts[0].labels);
    // A group without group labels is silenced by what its alerts share.
    const silenceLabels = names.length ? g.labels : commonLabels(g.alerts);
    const silenceHref = hashFor("/silences/new", { filter: formatMatchers(fromLabels(silenceLabels)) });
    return h("section", {
      class: `group ${worst}${collapsed ? " collapsed" : ""}`,
      "data-receiver": g.receivers.join(","),
      "data-group": g.key,
    },
      h("header", { class: "group-head" },
        h("button", {
          type: "button",
          class: "fold",
          "aria-expanded": String(!collapsed),
          "aria-label": collapsed ? "Expand group" : "Collapse group",
          onclick: () => {
            if (collapsed) state.collapsed.delete(g.key);
            else state.collapsed.add(g.key);
            saveCollapsed(state.collapsed);
            draw();
          },
        }, collapsed ? "▸" : "▾"),
        h("span", { class: `count ${worst}`, title: "Alerts in the group" }, String(g.alerts.length)),
        names.length
          ? names.map((n) => labelChip(n, g.labels[n], () => addToFilter(n, g.labels[n])))
          : h("span", { class: "muted" }, "(no group labels)"),
        h("span", { class: "receivers muted", title: "Receivers" }, `→ ${g.receivers.join(", ")}`),
        h("a", { class: "button small silence-group", href: silenceHref, title: "Silence every alert of this group" }, "Silence group")),
      collapsed
        ? null
        : h("ul", { class: "alerts" }, g.alerts.slice(0, limit).map((a) => drawAlert(a, g))),
      !collapsed && more > 0
        ? h("button", {
            type: "button",
            class: "more",
            onclick: () => {
              state.shown.set(g.key, limit + 200);
              draw();
            },
          }, `Show ${Math.min(more, 200)} more of ${more}`)
        : null);
  }

  function drawAlert(a, g) {
    const labels = a.labels;
    const st = a.status || {};
    const open = state.open.has(a.fingerprint);
    const silenceHref = hashFor("/silences/new", { filter: formatMatchers(fromLabels(labels)) });
    const extra = Object.keys(labels).sort().filter((n) => !(n in g.labels) && n !== "alertname" && n !== "severity");
    const ann = a.annotations || {};
    const suppressed = suppressionWords(st);
    const detailsId = `details-${a.fingerprint}`;
    const otherReceivers = a.receiverNames.length > 1 || a.receiverNames.join() !== g.receivers.join();
    const flip = () => {
      if (open) state.open.delete(a.fingerprint);
      else state.open.add(a.fingerprint);
      draw();
    };
    return h("li", {
      class: `alert ${severityClass(labels)} state-${st.state || "active"}${open ? " open" : ""}`,
      "data-fingerprint": a.fingerprint,
      "data-receivers": a.receiverNames.join(","),
    },
      h("div", {
        class: "alert-row",
        // A click anywhere on the line opens it, except on its own links
        // and buttons; the keyboard uses the expand button.
        onclick: (e) => {
          if (!e.target.closest("a, button")) flip();
        },
      },
        h("button", {
          type: "button",
          class: "expand",
          "aria-expanded": String(open),
          "aria-controls": detailsId,
          "aria-label": `Details of ${labels.alertname || "alert"}`,
          onclick: flip,
        }, open ? "▾" : "▸"),
        h("strong", { class: "alertname" }, labels.alertname || "(no alertname)"),
        labels.severity ? h("span", { class: "sev-text" }, labels.severity) : null,
        suppressed ? h("span", { class: "badge suppressed" }, suppressed) : null,
        h("span", { class: "row-text" },
          ann.summary ? h("span", { class: "summary-text" }, ann.summary) : null,
          extra.map((n) => h("span", { class: "row-label" }, `${n}=${labels[n]}`))),
        otherReceivers ? h("span", { class: "row-receivers muted", title: "Receivers" }, a.receiverNames.join(", ")) : null,
        h("time", { datetime: a.startsAt, title: `Started ${absolute(a.startsAt)}` }, firingFor(a.startsAt)),
        h("a", { class: "button small silence-this", href: silenceHref, title: "Silence this alert" }, "Silence")),
      open ? drawDetails(a, detailsId, extra) : null);
  }

  function drawDetails(a, id, extra) {
    const labels = a.labels;
    const ann = a.annotations || {};
    const annNames = Object.keys(ann).filter((k) => k !== "summary").sort();
    return h("div", { class: "alert-details", id },
      ann.summary ? h("p", { class: "summary-text" }, linkified(ann.summary)) : null,
      h("div", { class: "labels" }, Object.keys(labels).sort().map((n) => labelChip(n, labels[n], () => addToFilter(n, labels[n])))),
      annNames.length
        ? h("dl", { class: "facts annotations" }, annNames.map((k) => [h("dt", {}, k), h("dd", {}, linkified(ann[k]))]))
        : null,
      h("p", { class: "muted meta" },
        `Started ${absolute(a.startsAt)} · receivers: ${a.receiverNames.join(", ")}`,
        isHttpUrl(a.generatorURL) ? [" · ", h("a", { href: a.generatorURL, rel: "noopener noreferrer", target: "_blank" }, "Source")] : null),
      whySuppressed(a.status || {}, state));
  }

  load();
  return () => {
    left = true;
    clearTimeout(timer);
  };
}

/**
 * The API's groups (one per receiver and group labels) as the page shows
 * them: groups with the same labels merged across receivers, each alert
 * once (in the first group the order puts it in) with every receiver it
 * reaches, groups ordered by their first alert.
 */
export function displayGroups(apiGroups, sort = "severity") {
  const order = ORDERS[sort] || ORDERS.severity;
  const byKey = new Map();
  const receiversOf = new Map();
  for (const g of apiGroups) {
    const key = labelsKey(g.labels);
    let d = byKey.get(key);
    if (!d) byKey.set(key, (d = { key, labels: g.labels, receivers: new Set(), alerts: new Map() }));
    d.receivers.add(g.receiver.name);
    for (const a of g.alerts) {
      if (!d.alerts.has(a.fingerprint)) d.alerts.set(a.fingerprint, a);
      let rs = receiversOf.get(a.fingerprint);
      if (!rs) receiversOf.set(a.fingerprint, (rs = new Set()));
      rs.add(g.receiver.name);
      for (const r of a.receivers || []) rs.add(r.name);
    }
  }
  const groups = [...byKey.values()].map((d) => ({
    key: d.key,
    labels: d.labels,
    receivers: [...d.receivers].sort(),
    alerts: [...d.alerts.values()].sort(order),
  }));
  groups.sort((x, y) => order(x.alerts[0], y.alerts[0]) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const seen = new Set();
  const out = [];
  for (const g of groups) {
    g.alerts = g.alerts.filter((a) => !seen.has(a.fingerprint));
    if (!g.alerts.length) continue;
    for (const a of g.alerts) {
      seen.add(a.fingerprint);
      a.receiverNames = [...receiversOf.get(a.fingerprint)].sort();
    }
    out.push(g);
  }
  return out;
}

function labelsKey(labels) {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join("\u0000");
}

/** Labels with the same value on every alert. */
function commonLabels(alerts) {
  const out = { ...(alerts[0]?.labels || {}) };
  for (const a of alerts.slice(1)) {
    for (const k of Object.keys(out)) if (a.labels[k] !== out[k]) delete out[k];
  }
  return out;
}

function firingFor(iso) {
  const secs = (Date.now() - Date.parse(iso)) / 1000;
  return secs < 60 ? "just now" : humanDuration(secs);
}

function suppressionWords(st) {
  const words = [];
  if ((st.silencedBy || []).length) words.push("silenced");
  if ((st.inhibitedBy || []).length) words.push("inhibited");
  if ((st.mutedBy || []).length) words.push("muted");
  return words.join(", ");
}

/** Why an alert is suppressed: the silence's author, comment and end;
 *  the inhibiting alert's labels; the muting time interval. */
function whySuppressed(st, state) {
  const reasons = [];
  for (const id of st.silencedBy || []) {
    const s = state.silences.get(id);
    const link = h("a", { href: `#/silences/${encodeURIComponent(id)}` }, s ? "silence" : `silence ${id.slice(0, 8)}`);
    reasons.push(s
      ? h("li", { class: "why-silence" }, "Silenced by ", h("strong", {}, s.createdBy), " until ",
          h("time", { datetime: s.endsAt, title: absolute(s.endsAt) }, `${absolute(s.endsAt)} (${relative(s.endsAt)})`),
          ": ", h("q", {}, s.comment), " (", link, ")")
      : h("li", { class: "why-silence" }, "Silenced by ", link));
  }
  for (const fp of st.inhibitedBy || []) {
    const source = state.byFingerprint.get(fp);
    reasons.push(source
      ? h("li", { class: "why-inhibit" }, "Inhibited by ",
          Object.keys(source.labels).sort().map((n) => labelChip(n, source.labels[n])),
          h("span", { class: "muted" }, ` firing ${firingFor(source.startsAt)}`))
      : h("li", { class: "why-inhibit" }, "Inhibited by an alert no longer listed (fingerprint ", h("code", {}, fp), ")"));
  }
  for (const name of st.mutedBy || []) {
    reasons.push(h("li", {}, "Muted by time interval ", h("code", {}, name)));
  }
  return reasons.length ? h("ul", { class: "why" }, reasons) : null;
}

function loadCollapsed() {
  try {
    return new Set(JSON.parse(localStorage.getItem(COLLAPSED_KEY) || "[]"));
  } catch {
    return new Set();
  }
}

function saveCollapsed(set) {
  try {
    // Bounded: keys of groups long gone should not pile up for ever.
    localStorage.setItem(COLLAPSED_KEY, JSON.stringify([...set].slice(-500)));
  } catch {
    // Private mode or a full quota: collapsing still works for this visit.
  }
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
