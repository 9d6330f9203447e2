// Talks to the same /v1 API as any client. The session cookie authenticates; every change
// carries the session's CSRF token.

let csrf = null;

/** Remembers the CSRF token of the signed-in session. */
export function setCsrf(token) {
  csrf = token;
}

/** An error answered by the API, with the field it names when it names one. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `request failed with status ${status}`);
    this.status = status;
    this.code = e.code || "error";
    this.details = e.details || {};
    this.field = this.details.field || null;
  }
}

/**
 * Calls the API. `body` is sent as JSON unless `raw` is given (a string or Blob sent as is
 * with `contentType`).
 */
export async function api(path, { method = "GET", body, raw, contentType } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  let payload;
  if (raw instanceof FormData) {
    payload = raw; // the browser sets the multipart boundary
  } else if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = contentType || "text/csv";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const resp = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  if (resp.status === 204) return null;
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: { message: text } };
  }
  if (!resp.ok) {
    if (resp.status === 401 && !path.startsWith("/ui/")) {
      window.dispatchEvent(new CustomEvent("signed-out"));
    }
    throw new ApiError(resp.status, data);
  }
  return data;
}

/** Every page of a cursor-paginated listing, up to `max` items. */
export async function all(path, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...(page.data || []));
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
