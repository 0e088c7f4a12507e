// The REST API and WebSocket feeds, authenticated with the key kept in sessionStorage.

const KEY = "minuta.apiKey";

export const session = {
  get key() { return sessionStorage.getItem(KEY) || ""; },
  set(key) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** Listeners told when the key stops working (401), so the app can ask to sign in again. */
export const onUnauthorized = new Set();

async function errorFrom(response) {
  let code = "http_error", detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    code = body.error || code;
    if (typeof body.detail === "string") detail = body.detail;
    else if (Array.isArray(body.detail)) detail = body.detail.map((d) => d.msg || d).join("; ");
  } catch { /* not JSON: keep the status line */ }
  if (response.status === 401) onUnauthorized.forEach((fn) => fn(detail));
  return new ApiError(response.status, code, detail);
}

/** fetch() under /v1 with the key; returns the Response, throws ApiError on non-2xx. */
export async function request(path, { method = "GET", json, headers = {}, signal } = {}) {
  const init = { method, signal, headers: { Authorization: `Bearer ${session.key}`, ...headers } };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "unreachable", "the server cannot be reached; check your connection");
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export async function getJSON(path, options) {
  return (await request(path, options)).json();
}

export const meetingPath = (id, suffix = "") => `/v1/meetings/${encodeURIComponent(id)}${suffix}`;

/**
 * Upload a file with XMLHttpRequest (fetch has no upload progress).
 * Returns {promise, abort}; onProgress(loaded, total) is called as bytes go out.
 */
export function upload(file, fields, onProgress) {
  const xhr = new XMLHttpRequest();
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) if (value) form.append(name, value);
  form.append("file", file, file.name);
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", "/v1/meetings");
    xhr.setRequestHeader("Authorization", `Bearer ${session.key}`);
    xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* keep {} */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        if (xhr.status === 401) onUnauthorized.forEach((fn) => fn(body.detail));
        reject(new ApiError(xhr.status, body.error || "http_error", body.detail || `HTTP ${xhr.status}`));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "unreachable", "the upload failed: the server cannot be reached")));
    xhr.addEventListener("abort", () => reject(new ApiError(0, "aborted", "upload cancelled")));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/** Download an export with the key and save it under `filename`. */
export async function download(path, filename) {
  const blob = await (await request(path)).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A live event feed over WebSocket, resumed from the last seq after a drop.
 * `path` is "/v1/meetings/ID/events" (resume key "seq") or "/v1/events" ("tenant_seq").
 * Each connection gets a fresh single-use ticket, so no long-lived secret is in a URL.
 */
export class Feed {
  constructor(path, onEvent, { seqField = "seq", afterParam = "after_seq", after = 0, onState = () => {} } = {}) {
    Object.assign(this, { path, onEvent, seqField, afterParam, onState });
    this.lastSeq = after;
    this.closed = false;
    this.failures = 0;
    this.ws = null;
    this.connect();
  }

  async connect() {
    if (this.closed) return;
    try {
      const { ticket } = await getJSON("/v1/ws-ticket", { method: "POST" });
      if (this.closed) return;
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const query = new URLSearchParams({ ticket });
      // null: live only (the server starts after its newest event); else resume after lastSeq.
      if (this.lastSeq !== null) query.set(this.afterParam, String(this.lastSeq));
      this.ws = new WebSocket(`${proto}//${location.host}${this.path}?${query}`);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return;
      this.retry();
      return;
    }
    this.ws.addEventListener("open", () => { this.failures = 0; this.onState("live"); });
    this.ws.addEventListener("message", (msg) => this.receive(msg.data));
    this.ws.addEventListener("close", () => { this.ws = null; this.retry(); });
  }

  receive(data) {
    let event;
    try { event = JSON.parse(data); } catch { return; }
    const seq = event[this.seqField];
    if (typeof seq === "number") {
      if (this.lastSeq !== null && seq <= this.lastSeq) return; // already seen before a reconnect
      this.lastSeq = seq;
    }
    if (event.type === "ping") return;
    this.onEvent(event);
  }

  retry() {
    if (this.closed) return;
    this.onState("reconnecting");
    this.failures += 1;
    const delay = Math.min(1000 * 2 ** Math.min(this.failures, 4), 15_000);
    setTimeout(() => this.connect(), delay);
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}
