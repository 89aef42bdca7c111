// The management API, called with the session cookie; every state change carries the CSRF token.
const BASE = "/_satchel/api";
let csrf = null;
const listeners = [];

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setCsrf(token) { csrf = token; }

// The server's clock as its last answer's Date header gave it (whole seconds): a PAR's timeExpires is a
// moment, not a duration, and a browser whose clock is off would make it expire too early or too late.
let skew = 0;
export function serverNow() { return Date.now() + (Math.abs(skew) > 2000 ? skew : 0); }
export function onSignedOut(fn) { listeners.push(fn); }

function headers(method, extra = {}) {
  const out = { ...extra };
  if (method !== "GET" && method !== "HEAD" && csrf) out["X-CSRF-Token"] = csrf;
  return out;
}

// S3's terse messages, said the way a person would; messages written for people pass unchanged.
const PLAIN = {
  AccessDenied: "You do not have permission to do this.",
  NoSuchBucket: "This bucket does not exist (any more). Reload the page.",
  NoSuchKey: "This object does not exist (any more). Reload the page.",
  BucketNotEmpty: "The bucket is not empty: delete its objects (and cancel its uploads) first.",
  BucketAlreadyExists: "That bucket name is taken. Bucket names are shared by everyone on this server: choose another.",
  BucketAlreadyOwnedByYou: "You already have a bucket with that name.",
  InvalidBucketName: "That is not a valid bucket name: use 3-63 characters of a-z, 0-9, dots and hyphens.",
  EntityTooLarge: "The file is larger than this server accepts.",
  SlowDown: "The server is busy. Try again in a moment.",
  InternalError: "Something went wrong on the server. Try again; if it keeps happening, tell your administrator.",
};
const TERSE = new Set(["Access Denied", "The specified bucket does not exist", "The specified key does not exist.",
  "The bucket you tried to delete is not empty", "The specified bucket is not valid."]);

function explain(status, body) {
  const error = body && body.error ? body.error : { code: "Error", message: `The server answered ${status}.` };
  const plain = PLAIN[error.code];
  const message = plain && (TERSE.has(error.message) || !error.message || error.code in { BucketAlreadyExists: 1,
    BucketAlreadyOwnedByYou: 1, InternalError: 1, SlowDown: 1, EntityTooLarge: 1 }) ? plain : error.message;
  return new ApiError(status, error.code, message);
}

export async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: headers(method) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (err) {
    throw new ApiError(0, "NetworkError", "The server cannot be reached. Check your connection and try again.");
  }
  const date = Date.parse(response.headers.get("Date") || "");
  if (!Number.isNaN(date)) skew = date - Date.now();
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  if (response.status === 401 && path !== "/session") listeners.forEach((fn) => fn());
  if (!response.ok) throw explain(response.status, data);
  return data;
}

export function query(params) {
  const parts = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

// A raw body sent with progress events; returns {promise, abort}.
export function send(method, path, blob, onProgress, contentType) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open(method, BASE + path);
    const all = headers(method, contentType ? { "Content-Type": contentType } : {});
    for (const [name, value] of Object.entries(all)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (err) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(explain(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError(0, "NetworkError", "The upload was interrupted."));
    xhr.onabort = () => reject(new ApiError(0, "Cancelled", "Cancelled."));
    xhr.send(blob);
  });
  return { promise, abort: () => xhr.abort() };
}

export function downloadUrl(bucket, key) {
  return `${BASE}/buckets/${encodeURIComponent(bucket)}/download${query({ key })}`;
}
