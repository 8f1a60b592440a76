// #/silences/new?filter=…&comment=… and #/silences/{id}/edit: the silence
// editor. Matchers come from the link's filter, an alert's labels or the
// silence being edited; the preview asks the server which alerts the
// matchers select, so what you see is what the silence will mute.

import { api } from "../api.js";
import { h, replace, errorBox, debounce } from "../dom.js";
import { indexLabels } from "../filter_bar.js";
import { OPERATORS, parseMatchers, formatMatcher, toApi, fromApi, matchesLabels } from "../matchers.js";
import { parseDuration, formatDuration, toLocalInput, fromLocalInput } from "../time.js";
import { severityClass } from "./alerts.js";

const AUTHOR_KEY = "klaxon.silence.author";
const DEFAULT_SECONDS = 2 * 3600;
const PREVIEW_LIMIT = 25;

export function render(el, route, ctx) {
  const editId = route.args[0] || null;
  const recreate = route.params.get("recreate") === "true";
  let left = false;
  replace(el, h("p", { class: "muted" }, "Loading…"));

  const init = async () => {
    const now = new Date();
    const model = {
      id: null,
      matchers: [],
      start: now,
      end: new Date(now.getTime() + DEFAULT_SECONDS * 1000),
      // For edits: the start exactly as stored, sent back unchanged unless
      // the user moves it (moving an active silence's start replaces it).
      startIso: null,
      createdBy: localStorage.getItem(AUTHOR_KEY) || "",
      comment: route.params.get("comment") || "",
      // Alertmanager 0.33's silence annotations, one `key=value` a line.
      annotations: "",
      loadError: null,
    };
    if (editId) {
      try {
        const s = await api.silence(editId);
        model.matchers = s.matchers.map(fromApi);
        model.comment = s.comment;
        model.annotations = Object.keys(s.annotations || {}).sort().map((k) => `${k}=${s.annotations[k]}`).join("\n");
        model.createdBy = s.createdBy || model.createdBy;
        // Recreating (or "editing" an expired silence) makes a new one from
        // now with the default length: an expired silence's own length is
        // usually how long until someone expired it, not what was meant.
        if (!recreate && s.status.state !== "expired") {
          model.id = s.id;
          model.start = new Date(s.startsAt);
          model.startIso = s.startsAt;
          model.end = new Date(s.endsAt);
        }
      } catch (e) {
        model.loadError = e;
      }
    } else {
      try {
        model.matchers = parseMatchers(route.params.get("filter") || "");
      } catch (e) {
        model.loadError = new Error(`The link's filter is not valid: ${e.message}`);
      }
    }
    if (model.matchers.length === 0) model.matchers.push({ name: "", op: "=", value: "" });
    if (!left) form(el, model, ctx, editId, recreate, () => left);
  };
  init();
  return () => {
    left = true;
  };
}

function form(el, model, ctx, editId, recreate, isLeft) {
  let index = new Map();
  // Label names and values of current alerts, for the inputs' suggestions.
  api.alerts({ silenced: true, inhibited: true, muted: true, active: true })
    .then((alerts) => {
      index = indexLabels(alerts.map((a) => a.labels));
      refreshNames();
    })
    .catch(() => {});

  const errors = {};
  const fieldError = (key) => (errors[key] = h("p", { class: "field-error", id: `error-${key}`, "aria-live": "polite" }));
  const nameList = h("datalist", { id: "label-names" });
  const refreshNames = () => replace(nameList, [...index.keys()].sort().map((n) => h("option", { value: n })));

  // --- matchers editor ---------------------------------------------------
  const rows = h("div", { class: "matcher-rows" });
  const drawRows = () => {
    replace(rows, model.matchers.map((m, i) => {
      const valueList = h("datalist", { id: `label-values-${i}` });
      const fillValues = () => replace(valueList, [...(index.get(m.name) || [])].sort().slice(0, 100).map((v) => h("option", { value: v })));
      return h("div", { class: "matcher-row" },
        h("input", {
          class: "matcher-name",
          "aria-label": `Matcher ${i + 1} label name`,
          placeholder: "label",
          list: "label-names",
          value: m.name,
          spellcheck: "false",
          autocomplete: "off",
          oninput: (e) => { m.name = e.target.value.trim(); changed(); },
        }),
        h("select", {
          class: "matcher-op",
          "aria-label": `Matcher ${i + 1} operator`,
          onchange: (e) => { m.op = e.target.value; changed(); },
        }, OPERATORS.map((op) => h("option", { value: op, selected: op === m.op }, op))),
        h("input", {
          class: "matcher-value",
          "aria-label": `Matcher ${i + 1} value`,
          placeholder: "value",
          list: valueList.id,
          value: m.value,
          spellcheck: "false",
          autocomplete: "off",
          onfocus: fillValues,
          oninput: (e) => { m.value = e.target.value; changed(); },
        }),
        valueList,
        h("button", {
          type: "button",
          class: "icon remove-matcher",
          "aria-label": `Remove matcher ${i + 1}`,
          title: "Remove",
          disabled: model.matchers.length === 1,
          onclick: () => { model.matchers.splice(i, 1); drawRows(); changed(); },
        }, "×"));
    }));
  };
  const addMatcher = h("button", {
    type: "button",
    class: "add-matcher",
    onclick: () => {
      model.matchers.push({ name: "", op: "=", value: "" });
      drawRows();
      rows.querySelector(".matcher-row:last-child .matcher-name").focus();
    },
  }, "+ Add matcher");

  // --- times: start, duration and end stay consistent --------------------
  const startInput = h("input", { type: "datetime-local", id: "silence-start", value: toLocalInput(model.start) });
  const endInput = h("input", { type: "datetime-local", id: "silence-end", value: toLocalInput(model.end) });
  const durationInput = h("input", {
    id: "silence-duration",
    value: formatDuration((model.end - model.start) / 1000),
    placeholder: "2h, 1d, 90m",
    spellcheck: "false",
  });
  startInput.addEventListener("input", () => {
    const d = fromLocalInput(startInput.value);
    if (!d) return;
    const length = model.end - model.start;
    model.start = d;
    model.startIso = null; // moved by the user
    model.end = new Date(d.getTime() + length);
    endInput.value = toLocalInput(model.end);
  });
  durationInput.addEventListener("input", () => {
    const secs = parseDuration(durationInput.value);
    errors.duration.textContent = secs ? "" : "Use a duration like 2h, 90m or 1d12h.";
    if (!secs) return;
    model.end = new Date(model.start.getTime() + secs * 1000);
    endInput.value = toLocalInput(model.end);
  });
  endInput.addEventListener("input", () => {
    const d = fromLocalInput(endInput.value);
    if (!d) return;
    model.end = d;
    durationInput.value = d > model.start ? formatDuration((d - model.start) / 1000) : "";
  });

  const author = h("input", { id: "silence-author", value: model.createdBy, autocomplete: "name", oninput: (e) => (model.createdBy = e.target.value) });
  const comment = h("textarea", { id: "silence-comment", rows: 3, oninput: (e) => (model.comment = e.target.value) });
  comment.value = model.comment;
  const annotations = h("textarea", { id: "silence-annotations", rows: 2, placeholder: "ticket=OPS-123", oninput: (e) => (model.annotations = e.target.value) });
  annotations.value = model.annotations;

  // --- preview -----------------------------------------------------------
  const preview = h("section", { class: "preview", "aria-live": "polite" });
  let latest = 0; // a slow answer for old matchers must not replace a newer one
  const changed = debounce(async () => {
    const mine = ++latest;
    errors.matchers.textContent = "";
    const ms = model.matchers.filter((m) => m.name);
    if (ms.length === 0) {
      replace(preview, h("p", { class: "muted" }, "Add a matcher to see which alerts it would mute."));
      return;
    }
    try {
      const alerts = await api.alerts({ filter: ms.map(formatMatcher), silenced: true, inhibited: true, muted: true, active: true });
      if (isLeft() || mine !== latest) return;
      replace(preview,
        h("h2", {}, h("span", { id: "preview-count" }, String(alerts.length)), ` alert${alerts.length === 1 ? "" : "s"} would be muted`),
        h("ul", { class: "alerts compact" }, alerts.slice(0, PREVIEW_LIMIT).map((a) =>
          h("li", { class: `alert ${severityClass(a.labels)}`, "data-fingerprint": a.fingerprint },
            Object.keys(a.labels).sort().map((n) => h("span", { class: "chip" }, `${n}="${a.labels[n]}"`))))),
        alerts.length > PREVIEW_LIMIT ? h("p", { class: "muted" }, `…and ${alerts.length - PREVIEW_LIMIT} more.`) : null);
    } catch (e) {
      // A half-typed regex is normal while editing: show it by the matchers.
      errors.matchers.textContent = e.message;
      replace(preview);
    }
  }, 300);

  // --- submit --------------------------------------------------------------
  const formError = h("div", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary", id: "silence-submit" }, editId && model.id ? "Update silence" : "Create silence");
  const onSubmit = async (e) => {
    e.preventDefault();
    for (const k of Object.keys(errors)) errors[k].textContent = "";
    formError.textContent = "";
    const local = validate(model);
    for (const [k, msg] of Object.entries(local)) errors[k].textContent = msg;
    if (Object.keys(local).length) {
      el.querySelector(`#error-${Object.keys(local)[0]}`)?.scrollIntoView({ block: "center" });
      return;
    }
    const body = {
      matchers: filled(model).map(toApi),
      startsAt: model.startIso || model.start.toISOString(),
      endsAt: model.end.toISOString(),
      createdBy: model.createdBy.trim(),
      comment: model.comment.trim(),
    };
    const notes = parseAnnotations(model.annotations);
    if (Object.keys(notes).length) body.annotations = notes;
    if (model.id) body.id = model.id;
    submit.disabled = true;
    try {
      const res = await api.postSilence(body);
      localStorage.setItem(AUTHOR_KEY, body.createdBy);
      ctx.go(`#/silences/${encodeURIComponent(res.silenceID)}`);
    } catch (err) {
      const key = fieldFor(err.message);
      (key ? errors[key] : formError).textContent = err.message;
      if (key) errors[key].scrollIntoView({ block: "center" });
      submit.disabled = false;
    }
  };

  const field = (label, forId, input, key, hint) =>
    h("div", { class: "field" },
      h("label", { for: forId }, label),
      input,
      hint ? h("p", { class: "hint" }, hint) : null,
      fieldError(key));

  replace(el,
    h("h1", {}, editId && model.id ? "Edit silence" : recreate ? "Recreate silence" : "New silence"),
    model.loadError ? errorBox(model.loadError) : null,
    h("form", { class: "silence-form", novalidate: true, onsubmit: onSubmit },
      h("fieldset", {},
        h("legend", {}, "Matchers"),
        h("p", { class: "hint" }, "Alerts whose labels satisfy every matcher are muted."),
        rows, nameList, addMatcher, fieldError("matchers")),
      h("fieldset", { class: "times" },
        h("legend", {}, "When"),
        field("Start", "silence-start", startInput, "start"),
        field("Duration", "silence-duration", durationInput, "duration"),
        field("End", "silence-end", endInput, "end")),
      field("Author", "silence-author", author, "createdBy", "Remembered in this browser."),
      field("Comment", "silence-comment", comment, "comment", "Required: why, and a ticket if there is one."),
      field("Annotations", "silence-annotations", annotations, "annotations", "Optional notes, one key=value a line."),
      formError,
      h("div", { class: "buttons" },
        submit,
        h("a", { class: "button", href: editId ? `#/silences/${encodeURIComponent(editId)}` : "#/silences" }, "Cancel"))),
    preview);

  drawRows();
  changed();
  refreshNames();
  if (!model.createdBy) author.focus();
}

/** The matchers worth sending (blank rows dropped). */
function filled(model) {
  return model.matchers.filter((m) => m.name || m.value);
}

/** Checks made before asking the server, keyed by field. */
function validate(model) {
  const out = {};
  const named = filled(model);
  if (named.length === 0) out.matchers = "Add at least one matcher.";
  else if (named.some((m) => !m.name)) out.matchers = "Every matcher needs a label name.";
  // As Alertmanager: a silence whose every matcher matches an empty label
  // would mute everything.
  else if (named.every((m) => matchesLabels([m], {})))
    out.matchers = "At least one matcher must not match the empty string.";
  if (!(model.end > model.start)) out.end = "The end must be after the start.";
  else if (!(model.end > new Date())) out.end = "The end is in the past.";
  if (!model.createdBy.trim()) out.createdBy = "Say who you are.";
  if (!model.comment.trim()) out.comment = "A comment is required.";
  const bad = model.annotations.split("\n").map((l) => l.trim()).find((l) => l && !l.includes("="));
  if (bad) out.annotations = `"${bad}" is not key=value.`;
  return out;
}

/** Which field a server message is about, when it says. */
function fieldFor(message) {
  const m = message.toLowerCase();
  if (m.includes("comment")) return "comment";
  if (m.includes("createdby") || m.includes("author")) return "createdBy";
  if (m.includes("matcher") || m.includes("regex") || m.includes("label")) return "matchers";
  if (m.includes("end")) return "end";
  if (m.includes("start")) return "start";
  return null;
}

// `key=value` lines to an object; blank lines are skipped.
function parseAnnotations(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}
