// Times as people read them: "in 2h 5m", "3m ago", and the local wall
// clock for the exact instant (the title/tooltip carries the ISO form).

const UNITS = [["w", 604800], ["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];

/** Seconds as "1d 2h" (the two largest units), "0s" for nothing. */
export function humanDuration(seconds) {
  let s = Math.max(0, Math.round(Math.abs(seconds)));
  const out = [];
  for (const [u, n] of UNITS) {
    if (s >= n) {
      out.push(`${Math.floor(s / n)}${u}`);
      s %= n;
    }
    if (out.length === 2) break;
  }
  return out.length ? out.join(" ") : "0s";
}

export function relative(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const d = (t - now) / 1000;
  if (Math.abs(d) < 5) return "now";
  return d > 0 ? `in ${humanDuration(d)}` : `${humanDuration(d)} ago`;
}

export function absolute(iso) {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "";
  return t.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A `<time>`-ready pair: the relative text and the exact instant. */
export function both(iso) {
  return `${relative(iso)} (${absolute(iso)})`;
}

/**
 * Parses Prometheus-style durations ("1h30m", "2d", "90m", "1w") into
 * seconds; also accepts spaces between parts ("1d 2h"). Null if invalid.
 */
export function parseDuration(text) {
  const t = (text || "").replace(/\s+/g, "");
  if (!/^(\d+[wdhms])+$/.test(t)) return null;
  let total = 0;
  for (const [, n, u] of t.matchAll(/(\d+)([wdhms])/g)) {
    total += Number(n) * UNITS.find(([x]) => x === u)[1];
  }
  return total > 0 ? total : null;
}

/** Prometheus form without spaces, for the duration field. */
export function formatDuration(seconds) {
  let s = Math.max(0, Math.round(seconds));
  let out = "";
  for (const [u, n] of UNITS) {
    if (u === "w") continue; // "7d" reads better than "1w" in a form
    if (s >= n) {
      out += `${Math.floor(s / n)}${u}`;
      s %= n;
    }
  }
  return out || "0s";
}

/** A Date as the value of an <input type=datetime-local> (local time). */
export function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The inverse of toLocalInput; null when empty or invalid. */
export function fromLocalInput(value) {
  if (!value) return null;
  const d = new Date(value); // "YYYY-MM-DDTHH:MM" is read as local time
  return Number.isNaN(d.getTime()) ? null : d;
}
