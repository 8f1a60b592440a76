// The filter bar: Alertmanager matcher syntax with suggestions for label
// names and values. Suggestions use a <datalist> whose options are whole
// filter strings (what is typed so far + the completion), so the browser's
// own keyboard handling of the list works without custom widgets.
// The text is checked when submitted (Enter, or clearing the field), not
// per keystroke: a half-typed matcher is not an error yet.

import { h } from "./dom.js";
import { parseMatchers, partialAtEnd, formatName, formatValue } from "./matchers.js";

let nextId = 0;
const MAX_SUGGESTIONS = 40;

/**
 * @param value      the initial filter text
 * @param onChange   called with the text when it is submitted and parses
 * @param labelIndex () => Map(labelName → Set(values)) for suggestions
 */
export function filterBar({ value, onChange, labelIndex, placeholder }) {
  const listId = `filter-suggestions-${nextId++}`;
  const list = h("datalist", { id: listId });
  const error = h("p", { class: "field-error", "aria-live": "polite" });
  const input = h("input", {
    type: "search",
    class: "filter-input",
    "data-filter": true,
    list: listId,
    value: value || "",
    spellcheck: "false",
    autocomplete: "off",
    placeholder: placeholder || '{alertname="Foo", severity=~"critical|warning"}',
    "aria-label": "Filter with matchers, like alertname=\"Foo\" (press / to focus)",
  });

  let last = value || "";
  const apply = () => {
    const text = input.value.trim();
    try {
      parseMatchers(text);
    } catch (e) {
      input.setAttribute("aria-invalid", "true");
      error.textContent = e.message;
      return;
    }
    input.removeAttribute("aria-invalid");
    error.textContent = "";
    if (text !== last) {
      last = text;
      onChange(text);
    }
  };

  const suggest = () => {
    list.textContent = "";
    const at = partialAtEnd(input.value);
    const index = labelIndex ? labelIndex() : null;
    if (!at || !index) return;
    const options = [];
    if (at.kind === "name") {
      for (const name of [...index.keys()].sort()) {
        if (name.startsWith(at.partial)) options.push(`${at.prefix}${formatName(name)}=`);
      }
    } else {
      const values = index.get(at.name);
      for (const v of values ? [...values].sort() : []) {
        if (v.startsWith(at.partial)) options.push(`${at.prefix}${formatValue(at.name, v)}`);
      }
    }
    for (const o of options.slice(0, MAX_SUGGESTIONS)) list.append(h("option", { value: o }));
  };

  input.addEventListener("input", () => {
    // Typing again withdraws the last verdict until the next submit.
    input.removeAttribute("aria-invalid");
    error.textContent = "";
    suggest();
  });
  input.addEventListener("focus", suggest);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      apply();
    }
  });
  // Clearing with the search field's × fires "search" only.
  input.addEventListener("search", apply);

  const wrap = h("div", { class: "filter-bar" }, input, list, error);
  return { element: wrap, input };
}

/** Label name → set of values, over any list of label objects. */
export function indexLabels(labelSets) {
  const index = new Map();
  for (const labels of labelSets) {
    for (const [k, v] of Object.entries(labels)) {
      let s = index.get(k);
      if (!s) index.set(k, (s = new Set()));
      s.add(v);
    }
  }
  return index;
}
