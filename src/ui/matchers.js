// Alertmanager's matcher syntax: `{alertname="Foo", severity=~"crit|warn"}`,
// as typed in filter bars and carried in `?filter=` links. Braces are
// optional and values may be left unquoted, as Alertmanager accepts.

export const OPERATORS = ["=", "!=", "=~", "!~"];

/** Splits on commas outside double quotes. */
function splitTopLevel(text) {
  const parts = [];
  let start = 0, quoted = false, escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (escaped) { escaped = false; continue; }
    if (c === "\\" && quoted) escaped = true;
    else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts;
}

function stripBraces(text) {
  let t = text.trim();
  if (t.startsWith("{")) t = t.slice(1);
  if (t.endsWith("}")) t = t.slice(0, -1);
  return t;
}

const ONE = /^\s*([^=!~\s"]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

function unquote(v) {
  if (!v.startsWith('"')) return v;
  if (v.length < 2 || !v.endsWith('"')) throw new Error(`unterminated quote in ${v}`);
  try {
    return JSON.parse(v); // Go's and JSON's escapes agree for what people type
  } catch {
    throw new Error(`bad escape in ${v}`);
  }
}

/** Parses one matcher, throwing an Error with a readable message. */
export function parseMatcher(text) {
  const m = ONE.exec(text);
  if (!m) throw new Error(`"${text.trim()}" is not a matcher (expected name="value")`);
  return { name: m[1], op: m[2], value: unquote(m[3]) };
}

/** Parses a whole matcher list; "" is no matchers. */
export function parseMatchers(text) {
  return splitTopLevel(stripBraces(text || ""))
    .filter((p) => p.trim() !== "")
    .map(parseMatcher);
}

export function quote(value) {
  return JSON.stringify(value);
}

export function formatMatcher(m) {
  return `${m.name}${m.op}${quote(m.value)}`;
}

export function formatMatchers(ms) {
  return `{${ms.map(formatMatcher).join(", ")}}`;
}

/** The API's silence matcher shape. */
export function toApi(m) {
  return { name: m.name, value: m.value, isRegex: m.op.endsWith("~"), isEqual: !m.op.startsWith("!") };
}

export function fromApi(m) {
  const eq = m.isEqual !== false;
  return { name: m.name, value: m.value, op: m.isRegex ? (eq ? "=~" : "!~") : (eq ? "=" : "!=") };
}

/** A label set as matchers that select exactly it (for "silence this"). */
export function fromLabels(labels) {
  return Object.keys(labels).sort().map((name) => ({ name, op: "=", value: labels[name] }));
}

/**
 * Whether `labels` satisfy every matcher, anchored like the server. JS
 * regexes are close to RE2 but not identical, so this is only used for
 * estimates (pending silences); the server answers everything else.
 */
export function matchesLabels(ms, labels) {
  return ms.every((m) => {
    const v = labels[m.name] ?? "";
    let hit;
    if (m.op.endsWith("~")) {
      try {
        hit = new RegExp(`^(?:${m.value})$`, "u").test(v);
      } catch {
        return false;
      }
    } else {
      hit = v === m.value;
    }
    return m.op.startsWith("!") ? !hit : hit;
  });
}

/**
 * What the user is typing at the end of a filter: a label name, or a
 * value after `name op`. Drives the filter bar's suggestions.
 */
export function partialAtEnd(text) {
  const parts = splitTopLevel(text);
  const last = parts[parts.length - 1];
  const head = text.slice(0, text.length - last.length);
  const body = last.replace(/^\s*\{?\s*/, "");
  const lead = last.slice(0, last.length - body.length);
  const m = /^([^=!~\s"]*)\s*(=~|!~|!=|=)?\s*(.*)$/s.exec(body);
  if (!m || body.endsWith("}")) return null;
  const [, name, op, value] = m;
  if (!op) return { kind: "name", prefix: head + lead, partial: name };
  return { kind: "value", prefix: head + lead + name + op, name, partial: value.replace(/^"/, "").replace(/"$/, "") };
}
