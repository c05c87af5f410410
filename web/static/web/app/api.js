/**
 * The REST side: JWTs in sessionStorage, JSON calls as the signed-in user, uploads with
 * progress, and access-checked images fetched with the token in a header.
 */

const TOKENS_KEY = "trava.tokens";
export const ME_KEY = "trava.me";
const REFRESH_MARGIN_S = 30; // refresh the access token this long before it expires

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `Request failed (${status})`);
    this.status = status;
    this.code = body?.code ?? "http_error";
    this.fields = body?.fields ?? null;
    this.body = body ?? null;
  }

  /** The field errors as one sentence, or the message. */
  describe(fallback) {
    const fields = this.fields ? Object.values(this.fields).flat().join(" ") : "";
    return fields || this.message || fallback;
  }
}

let onSignedOut = () => {};

/** Who to tell when the refresh token is refused (the session ended). */
export function setSignedOutHandler(fn) {
  onSignedOut = fn;
}

export const auth = {
  read() {
    try {
      return JSON.parse(sessionStorage.getItem(TOKENS_KEY)) ?? null;
    } catch {
      return null;
    }
  },
  write(tokens) {
    sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  },
  clear() {
    sessionStorage.removeItem(TOKENS_KEY);
    sessionStorage.removeItem(ME_KEY);
  },
  refreshing: null,
};

/** Seconds since the epoch when a JWT expires (0 if unreadable). */
function jwtExpiry(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part)).exp ?? 0;
  } catch {
    return 0;
  }
}

export async function safeJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * The token provider of the REST calls and the WebSocket client: the stored access token
 * while it is fresh, otherwise a new one from the refresh token. Null means signed out
 * (no tokens, or the refresh token was refused); a network failure throws (retry later).
 */
export async function getToken({ refresh = false } = {}) {
  const tokens = auth.read();
  if (!tokens?.refresh) return null;
  const fresh = tokens.access && jwtExpiry(tokens.access) - REFRESH_MARGIN_S > Date.now() / 1000;
  if (fresh && !refresh) return tokens.access;
  // One refresh at a time: the socket and several REST calls may all ask at once.
  auth.refreshing ??= (async () => {
    try {
      const response = await fetch("/api/auth/token/refresh/", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refresh: tokens.refresh }),
      });
      if (response.status === 400 || response.status === 401) return null;
      if (!response.ok) throw new ApiError(response.status, await safeJson(response));
      const body = await response.json();
      const next = { access: body.access, refresh: body.refresh ?? tokens.refresh };
      if (auth.read()) auth.write(next); // not if signed out meanwhile
      return next.access;
    } finally {
      auth.refreshing = null;
    }
  })();
  const access = await auth.refreshing;
  if (access == null) onSignedOut({ reason: "Your session has ended. Please sign in again." });
  return access;
}

/** A call that needs no token (sign-in, sign-up); JSON in and out. */
export async function publicApi(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const parsed = await safeJson(response);
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** A REST call as the signed-in user; JSON in and out. Retries once with a fresh token on 401. */
export async function api(path, { method = "GET", body, retried = false } = {}) {
  const token = await getToken({ refresh: retried });
  if (!token) throw new ApiError(401, { code: "not_authenticated", message: "Signed out." });
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401 && !retried) return api(path, { method, body, retried: true });
  if (!response.ok) throw new ApiError(response.status, await safeJson(response));
  return response.status === 204 ? null : response.json();
}

/** Same-origin path of a pagination link (the server may name another host behind a proxy). */
export function localPath(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

/** Every page of a page-number list. */
export async function fetchAll(path) {
  const items = [];
  let next = `${path}${path.includes("?") ? "&" : "?"}pageSize=100`;
  while (next) {
    const page = await api(next);
    items.push(...(page.results ?? page));
    next = page.next ? localPath(page.next) : null;
  }
  return items;
}

/**
 * POST a multipart form with upload progress (fetch reports none): `onProgress(0..1)`.
 * Resolves with the JSON body; rejects with an ApiError (413 too large, 400 not an image).
 */
export async function upload(path, formData, onProgress, retried = false) {
  const token = await getToken({ refresh: retried });
  if (!token) throw new ApiError(401, { code: "not_authenticated", message: "Signed out." });
  const { status, body } = await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => resolve({ status: xhr.status, body: xhr.response }));
    xhr.addEventListener("error", () => reject(new ApiError(0, { message: "Can't reach Trava. Check your connection." })));
    xhr.addEventListener("abort", () => reject(new ApiError(0, { message: "Upload cancelled." })));
    xhr.send(formData);
  });
  if (status === 401 && !retried) return upload(path, formData, onProgress, true);
  if (status === 413) throw new ApiError(413, { code: "too_large", message: body?.message ?? "That photo is too large." });
  if (status < 200 || status >= 300) throw new ApiError(status, body);
  onProgress(1);
  return body;
}

const images = new Map(); // path -> Promise<objectURL>

/**
 * An access-checked image as a blob: URL, fetched with the token in a header (a token in
 * an <img> URL would end up in logs and history). Cached until `forgetImages()`.
 */
export function imageUrl(path) {
  if (!images.has(path)) {
    const loading = (async () => {
      const token = await getToken();
      const response = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
      if (!response.ok) throw new ApiError(response.status, null);
      return URL.createObjectURL(await response.blob());
    })();
    loading.catch(() => images.delete(path));
    images.set(path, loading);
  }
  return images.get(path);
}

/** Show an access-checked image in `img` (it keeps its alt text if the image fails). */
export function loadImage(img, path) {
  if (!path) return img;
  img.dataset.src = path;
  imageUrl(path).then(
    (url) => {
      if (img.dataset.src === path) img.src = url;
    },
    () => img.classList.add("broken"),
  );
  return img;
}

export function forgetImages() {
  for (const loading of images.values()) loading.then((url) => URL.revokeObjectURL(url), () => {});
  images.clear();
}
