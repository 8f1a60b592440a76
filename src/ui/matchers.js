// Alertmanager's matcher syntax: `{alertname="Foo", severity=~"crit|warn"}`,
// as typed in filter bars and carried in `?filter=` links. Braces are
// optional and values may be left unquoted, as Alertmanager accepts. Label
// names may be UTF-8 (`service.name=api`) and quoted (`"my label"="x"`),
// as in Alertmanager 0.27+; matchers print as Alertmanager prints them.

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

// A name is a Go-quoted string or a run without operators, quotes or
// whitespace; the value is whatever follows the operator.
const ONE = /^\s*("(?:[^"\\]|\\.)*"|[^=!~\s"{},]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

const SIMPLE_ESCAPES = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92, '"': 34 };

/**
 * Go's strconv.Unquote for a double-quoted string, as the server reads
 * it (\x and octal escapes are bytes; the result must be UTF-8).
 */
function goUnquote(q) {
  const bad = () => new Error(`bad escape or character in ${q}`);
  const bytes = [];
  const enc = new TextEncoder();
  const body = q.slice(1, -1);
  for (let i = 0; i < body.length; ) {
    const c = body[i];
    if (c === "\n" || c === '"') throw bad();
    if (c !== "\\") {
      const cp = body.codePointAt(i);
      const ch = String.fromCodePoint(cp);
      bytes.push(...enc.encode(ch));
      i += ch.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    if (e in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[e]);
    } else if (e === "x" || e === "u" || e === "U") {
      const n = { x: 2, u: 4, U: 8 }[e];
      const hex = body.slice(i, i + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw bad();
      i += n;
      const v = parseInt(hex, 16);
      if (e === "x") bytes.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) throw bad();
      else bytes.push(...enc.encode(String.fromCodePoint(v)));
    } else if (/^[0-7]$/.test(e || "")) {
      const oct = body.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) throw bad();
      bytes.push(parseInt(oct, 8));
      i += 2;
    } else {
      throw bad();
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    throw new Error(`${q} is not valid UTF-8`);
  }
}

const CLASSIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * A value as the server's classic parser reads it: optional surrounding
 * quotes; `\"`, `\\` and `\n` are escapes, any other backslash is literal.
 */
function classicValue(v) {
  const chars = [...v];
  let quoted = chars[0] === '"';
  if (quoted) chars.shift();
  let out = "";
  let escaped = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    const last = i === chars.length - 1;
    if (escaped) {
      escaped = false;
      out += c === "n" ? "\n" : c === '"' || c === "\\" ? c : `\\${c}`;
    } else if (c === "\\" && !last) {
      escaped = true;
    } else if (c === '"') {
      if (!quoted || !last) throw new Error(`unescaped double quote in ${v}`);
      quoted = false;
    } else {
      out += c;
    }
  }
  if (quoted) throw new Error(`missing closing quote in ${v}`);
  return out;
}

/** A value as the server's UTF-8 parser reads it: a Go string, or bare. */
function utf8Value(v) {
  if (v.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/s.test(v)) throw new Error(`missing closing quote in ${v}`);
    return goUnquote(v);
  }
  if (RESERVED.test(v)) throw new Error(`${v}: quote a value with spaces or any of {}!=~,\\"'\``);
  return v;
}

/** Parses one matcher, throwing an Error with a readable message. */
export function parseMatcher(text) {
  const m = ONE.exec(text);
  if (!m) {
    if (/^\s*"(?:[^"\\]|\\.)*$/s.test(text)) throw new Error(`missing closing quote in ${text.trim()}`);
    throw new Error(`"${text.trim()}" is not a matcher (expected name="value")`);
  }
  const [, rawName, op, rawValue] = m;
  const name = rawName.startsWith('"') ? goUnquote(rawName) : rawName;
  if (name === "") throw new Error("a label name must not be empty");
  let value;
  if (CLASSIC_NAME.test(rawName)) {
    // The server's default mode: whatever its classic parser reads, it
    // takes as the classic parser reads it.
    try {
      value = classicValue(rawValue);
    } catch (e) {
      try {
        value = utf8Value(rawValue);
      } catch {
        throw e;
      }
    }
  } else {
    value = utf8Value(rawValue);
  }
  return { name, op, value };
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

/** Alertmanager's reserved characters: a name with one must be quoted. */
const RESERVED = /[\s{}!=~,\\"'`]/u;

/** A label name as a matcher needs it: quoted when it has to be. */
export function formatName(name) {
  return RESERVED.test(name) || name === "" ? quote(name) : name;
}

/** OpenMetrics escaping, which both of the server's parsers read alike. */
function openMetricsEscape(value) {
  return value.replace(/[\\\n"]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/**
 * As Alertmanager prints a matcher: `service.name="api"`, and with a name
 * that needs quotes `"my label"="x"` (both parts Go-quoted then).
 */
export function formatMatcher(m) {
  return `${formatName(m.name)}${m.op}${formatValue(m.name, m.value)}`;
}

/** A value as it follows `name op` in a matcher (see formatMatcher). */
export function formatValue(name, value) {
  return RESERVED.test(name) || name === "" ? quote(value) : `"${openMetricsEscape(value)}"`;
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
  const m = /^("(?:[^"\\]|\\.)*"?|[^=!~\s"]*)\s*(=~|!~|!=|=)?\s*(.*)$/s.exec(body);
  if (!m || body.endsWith("}")) return null;
  const [, rawName, op, value] = m;
  let name = rawName;
  if (rawName.startsWith('"')) {
    try {
      name = goUnquote(rawName.endsWith('"') && rawName.length > 1 ? rawName : `${rawName}"`);
    } catch {
      return null;
    }
  }
  if (!op) return { kind: "name", prefix: head + lead, partial: name };
  return { kind: "value", prefix: head + lead + rawName + op, name, partial: value.replace(/^"/, "").replace(/"$/, "") };
}
