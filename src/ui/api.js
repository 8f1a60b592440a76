// The page's only door to the server. Paths are relative to the page, so
// the UI works under --web.route-prefix and behind a path-rewriting proxy.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `klaxon is unreachable (${e.message})`);
  }
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!resp.ok) {
    // The API answers errors as a bare JSON string or {code, message}.
    const msg = typeof data === "string" ? data : (data && data.message) || resp.statusText;
    throw new ApiError(resp.status, msg.trim());
  }
  return data;
}

/** Builds "path?k=v&k=v" from an object; array values repeat the key. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body) => request("POST", path, body),
  del: (path) => request("DELETE", path),

  alerts: (params) => request("GET", withQuery("api/v2/alerts", params)),
  alertGroups: (params) => request("GET", withQuery("api/v2/alerts/groups", params)),
  silences: (params) => request("GET", withQuery("api/v2/silences", params || {})),
  silence: (id) => request("GET", `api/v2/silence/${encodeURIComponent(id)}`),
  postSilence: (body) => request("POST", "api/v2/silences", body),
  expireSilence: (id) => request("DELETE", `api/v2/silence/${encodeURIComponent(id)}`),
  status: () => request("GET", "api/v2/status"),
  receivers: () => request("GET", "api/v2/receivers"),
  notifications: (params) => request("GET", withQuery("api/klaxon/notifications", params)),
  store: () => request("GET", "api/klaxon/store"),
  cluster: () => request("GET", "api/klaxon/cluster"),
  routes: () => request("GET", "api/klaxon/routes"),
  timeline: (params) => request("GET", withQuery("api/klaxon/timeline", params || {})),
  routeMatch: (labels) => request("GET", withQuery("api/klaxon/routes/match", { labels })),
};
