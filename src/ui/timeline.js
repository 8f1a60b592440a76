// A small stacked-bar timeline of the last hours, drawn as SVG with DOM
// calls (no library, no server-side image). The data comes from
// /api/klaxon/timeline; each view decides which series to stack.

import { h } from "./dom.js";
import { humanDuration } from "./time.js";

// The SVG namespace, from the HTML parser (which puts <svg> in it) rather
// than spelled out: the embedded files hold no absolute URL at all, which a
// unit test checks by looking for a scheme.
const SVG = (() => {
  const t = document.createElement("template");
  t.innerHTML = "<svg></svg>";
  return t.content.firstChild.namespaceURI;
})();
const WIDTH = 1000; // viewBox units; the SVG stretches to its box
const HEIGHT = 48;

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.append(c);
  return el;
}

/**
 * @param title   what the chart counts ("Alerts firing", …)
 * @param series  [{name, cls, values: [n per bucket]}], stacked bottom-up in order
 * @param start   ISO time of the first bucket
 * @param end     ISO time the last bucket ends (now)
 * @param stepSeconds bucket width
 * @param empty   text when every value is 0
 * @param before  an element shown above the caption's title (optional)
 */
export function timelineChart({ title, series, start, end, stepSeconds, empty, before }) {
  const buckets = series.length ? series[0].values.length : 0;
  const totals = Array.from({ length: buckets }, (_, i) => series.reduce((n, x) => n + (x.values[i] || 0), 0));
  const max = Math.max(0, ...totals);
  // From the window, not the series: there may be no series at all.
  const hours = Math.round((Date.parse(end) - Date.parse(start)) / 3600000);
  const legend = h("ul", { class: "timeline-legend" },
    series.filter((x) => x.values.some((v) => v > 0)).map((x) =>
      h("li", {}, h("span", { class: `swatch ${x.cls}` }), `${x.name} `,
        h("span", { class: "muted" }, `≤ ${Math.max(...x.values)}`))));
  const figure = h("figure", { class: "timeline", "data-max": String(max), "data-buckets": String(buckets) },
    h("figcaption", {},
      before || null,
      h("div", {}, h("span", { class: "timeline-title" }, title),
        h("span", { class: "muted" }, max === 0 ? ` · ${empty} in the last ${hours}h` : ` · last ${hours}h, at most ${max}`)),
      max === 0 ? null : legend));
  if (max === 0) return figure;

  const barWidth = WIDTH / buckets;
  const startMs = Date.parse(start);
  const svg = s("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": `${title}: at most ${max} per ${humanDuration(stepSeconds)} over the last ${hours}h`,
  });
  for (let i = 0; i < buckets; i++) {
    if (totals[i] === 0) continue;
    const from = new Date(startMs + i * stepSeconds * 1000);
    const to = new Date(startMs + (i + 1) * stepSeconds * 1000);
    const tip = `${from.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}–${to.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}: `
      + series.filter((x) => x.values[i] > 0).map((x) => `${x.name} ${x.values[i]}`).join(", ");
    const g = s("g", { class: "bar" }, s("title", {}, document.createTextNode(tip)));
    let y = HEIGHT;
    for (const x of series) {
      const v = x.values[i] || 0;
      if (v === 0) continue;
      const height = (v / max) * HEIGHT;
      y -= height;
      g.append(s("rect", { class: x.cls, x: i * barWidth + 0.5, y, width: Math.max(1, barWidth - 1), height }));
    }
    svg.append(g);
  }
  // The bars run from `hours` ago (left) to now (right); each has its
  // time range and counts as a tooltip.
  figure.append(svg);
  return figure;
}
