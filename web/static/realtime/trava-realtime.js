/**
 * Trava real-time client: a browser ES module, no build step, no dependencies.
 *
 *   import { createClient } from "/static/realtime/trava-realtime.js";
 *   const client = createClient({ getToken: async () => (await refresh()).access });
 *   client.on("state", (state) => badge.textContent = state);
 *   const room = client.join("trip_42");
 *   room.on("message_sent", (payload) => addChatLine(payload));
 *   room.on("resync", () => reloadTripOverRest());
 *
 * When a re-join answers `recovered: false` (the socket replay was refused, e.g. too many
 * events), the client first catches up over REST (`client.catchUp`, protocol 9.3) and
 * delivers the missed events through the same handlers, in order, once; only when that
 * fails too (410 `history_expired`, the log was reset, the network) does the room signal
 * `resync`.
 *   await room.sendMessage("hello");
 *
 * The wire contract is the project's protocol document (the shared protocol.md): JSON
 * envelopes `{type, payload, timestamp}`, authentication by the first message, rooms
 * with per-room `eventId`s and `epoch`s for resume, and the close codes below.
 */

/** Close codes the client acts on (protocol section 7). */
export const CloseCode = Object.freeze({
  MESSAGE_TOO_LARGE: 1009,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  AUTH_FAILED: 4001,
  KICKED: 4003,
  FLOOD: 4008,
  TOO_MANY_CONNECTIONS: 4029,
});

/** Default timings, all in milliseconds. */
/** How far back an event may arrive out of order and still be delivered once. */
const REORDER_WINDOW = 64;

/**
 * Where a re-join resumes: the last id before the first one missing within the reorder
 * window. Ids can arrive out of order (a node killed between its commit and its send: the
 * event comes late, after later ones), so resuming from the highest id would skip the one
 * still missing; a gap older than the window is an event not for us.
 */
export function resumePoint(cursor) {
  const last = cursor.lastEventId;
  const seen = cursor._seen;
  if (last == null || !seen || seen.size === 0) return last ?? null;
  let point = Math.max(cursor._floor ?? 0, last - REORDER_WINDOW, Math.min(...seen) - 1);
  while (point < last && seen.has(point + 1)) point += 1;
  return point;
}

/** A room's position: a new epoch starts it over. */
function resetCursor(cursor, epoch) {
  cursor.epoch = epoch;
  cursor.lastEventId = null;
  cursor._floor = null;
  cursor._seen = new Set();
}

/**
 * Deliver each eventId once. Ids normally arrive in order, but two nodes broadcasting to
 * one room at the same instant can deliver consecutive ids swapped: a late id that was not
 * delivered yet is still delivered (within REORDER_WINDOW), a repeated one is dropped.
 * `lastEventId` is the highest delivered: what a re-join resumes from.
 */
function acceptEventId(cursor, id) {
  const seen = (cursor._seen ??= new Set());
  if (seen.has(id) || (cursor._floor != null && id <= cursor._floor)) return false;
  seen.add(id);
  if (cursor.lastEventId == null || id > cursor.lastEventId) cursor.lastEventId = id;
  if (seen.size > 2 * REORDER_WINDOW) {
    cursor._floor = Math.max(cursor._floor ?? 0, cursor.lastEventId - REORDER_WINDOW);
    for (const old of seen) if (old <= cursor._floor) seen.delete(old);
  }
  return true;
}

/** Events per page of the REST catch-up (the server's cap is 1000). */
const CATCH_UP_PAGE_SIZE = 500;

/** An error of the REST catch-up; `code` is "history_expired" for a 410. */
export class CatchUpError extends Error {
  constructor(message, { status = null, code = "catch_up_failed" } = {}) {
    super(message);
    this.name = "CatchUpError";
    this.status = status;
    this.code = code;
  }
}

/**
 * The REST API's base URL of a socket URL: `ws(s)://host[/prefix]/ws` -> `http(s)://host[/prefix]`.
 * @param {string} wsUrl
 * @returns {string}
 */
export function apiUrlOf(wsUrl) {
  const url = new URL(wsUrl.replace(/^ws(s?):/i, "http$1:"));
  return url.origin + url.pathname.replace(/\/ws\/?$/, "").replace(/\/$/, "");
}

/** Join errors after which retrying the same room cannot succeed. */
const PERMANENT_JOIN_ERRORS = new Set(["room_access_denied", "invalid_room", "too_many_rooms"]);

export const DEFAULTS = Object.freeze({
  baseDelay: 500, // first reconnect waits random(0, 500)
  maxDelay: 20_000, // the backoff cap
  throttleDelay: 5_000, // 4029/1013: at least this long, plus the normal backoff
  quickDelay: 1_000, // 1012: random(0, 1000), another node is probably up
  pingInterval: 25_000,
  pongTimeout: 10_000, // no message at all this long after a ping: the connection is dead
  refreshMargin: 60_000, // re-authenticate this long before the token expires
  catchUpTimeout: 15_000, // one page of the REST catch-up
});

/**
 * Full-jitter exponential backoff: random(0, min(maxDelay, baseDelay * 2^attempt)).
 * @param {number} attempt consecutive failed attempts since the last success (0 first)
 * @param {{baseDelay: number, maxDelay: number}} timing
 * @param {() => number} [random] returns a number in [0, 1)
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, timing, random = Math.random) {
  return random() * Math.min(timing.maxDelay, timing.baseDelay * 2 ** attempt);
}

/**
 * @typedef {object} ClosePolicy
 * @property {"reconnect"|"stop"} action
 * @property {number} delay milliseconds before the next attempt
 * @property {boolean} refreshToken ask getToken for a fresh token first (4001)
 * @property {string|null} report an error code to report to the app, if any
 */

/**
 * What the client does after the socket closed with `code`.
 * @param {number} code the close code (1006 when the connection dropped or never opened)
 * @param {number} attempt consecutive failed attempts so far
 * @param {typeof DEFAULTS} timing
 * @param {() => number} [random]
 * @returns {ClosePolicy}
 */
export function closePolicy(code, attempt, timing, random = Math.random) {
  const backoff = () => backoffDelay(attempt, timing, random);
  const reconnect = (delay, extra = {}) => ({ action: "reconnect", delay, refreshToken: false, report: null, ...extra });
  switch (code) {
    case CloseCode.KICKED:
      return { action: "stop", delay: 0, refreshToken: false, report: "kicked" };
    case CloseCode.AUTH_FAILED:
      return reconnect(backoff(), { refreshToken: true });
    case CloseCode.TOO_MANY_CONNECTIONS:
    case CloseCode.TRY_AGAIN_LATER:
      return reconnect(timing.throttleDelay + backoff());
    case CloseCode.SERVICE_RESTART:
      return reconnect(random() * timing.quickDelay);
    case CloseCode.MESSAGE_TOO_LARGE:
      return reconnect(backoff(), { report: "message_too_large" });
    case CloseCode.FLOOD:
      return reconnect(backoff(), { report: "flooded" });
    default:
      return reconnect(backoff());
  }
}

/** A tiny event emitter; a throwing listener never breaks the client. */
class Emitter {
  #listeners = new Map();

  /**
   * @param {string} type
   * @param {(...args: any[]) => void} fn
   * @returns {() => void} unsubscribes
   */
  on(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  /** @param {string} type @param {(...args: any[]) => void} fn */
  off(type, fn) {
    this.#listeners.get(type)?.delete(fn);
  }

  emit(type, ...args) {
    for (const fn of [...(this.#listeners.get(type) ?? [])]) {
      try {
        fn(...args);
      } catch (err) {
        console.error(`trava-realtime: a "${type}" listener threw`, err);
      }
    }
  }
}

/**
 * One joined room. Events of the room arrive on `room.on(type, fn)` as `fn(payload, message)`;
 * `"*"` receives every event. Room signals: `joined` (room_joined payload), `members`
 * (array of members after each change), `caughtUp` ({roomId, since, count, lastEventId}: the
 * missed events a refused replay left out were delivered from the REST catch-up), `resync`
 * (history could not be replayed nor caught up: re-read the state over REST), `error`
 * (join refused: the room is dropped).
 */
export class Room extends Emitter {
  /** @type {string} */ id;
  /** Users in the room now, by user id. @type {Map<number|string, {userId: number|string, username: string}>} */
  members = new Map();
  /** A room_joined arrived on the current connection. */
  joined = false;
  /** @type {string|null} */ epoch = null;
  /** The last eventId delivered (or skipped by a resync). @type {number|null} */ lastEventId = null;
  /** Joined on some earlier connection: a join now is a re-join, with since/epoch. */
  _wasJoined = false;
  /** The connection its first join was sent on (a first join that lands on a later one is late). */
  _firstJoinGen = null;
  /** The last room_joined payload. @type {object|null} */ _joinedPayload = null;
  /** A REST catch-up in flight: {buffer} holds the live events that arrive meanwhile. */
  _catchUp = null;
  #client;
  #waiters = [];

  constructor(client, id) {
    super();
    this.#client = client;
    this.id = id;
  }

  /**
   * Send a chat message; queued while offline and resent after a reconnect with the same
   * clientMessageId (the server stores it once).
   * @param {string} text
   * @returns {Promise<object>} the acknowledged message (the `message_sent` payload)
   */
  sendMessage(text) {
    return this.#client._sendMessage(this, text);
  }

  /** Leave the room (sends leave_room when connected) and forget it. */
  leave() {
    this.#client._leave(this);
  }

  /**
   * Resolves with the next room_joined payload (at once if joined now); rejects when the
   * server refuses the room.
   * @returns {Promise<object>}
   */
  ready() {
    if (this.joined) return Promise.resolve(this._joinedPayload);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  _settle(error, payload) {
    for (const waiter of this.#waiters.splice(0)) error ? waiter.reject(error) : waiter.resolve(payload);
  }
}

/**
 * @typedef {object} ClientOptions
 * @property {(info: {refresh: boolean}) => Promise<string|null>|string|null} getToken
 *   returns a fresh access token; `refresh` is true after the server refused the last one
 *   (4001). Returning null stops the client (signed out).
 * @property {string} [url] default `ws(s)://<location.host>/ws`
 * @property {string} [apiUrl] the REST API's base URL; default derived from `url`
 * @property {typeof fetch} [fetch] injectable for tests (default: the global fetch)
 * @property {boolean} [catchUp] default true: on `recovered: false`, catch up over REST first
 * @property {number} [baseDelay] @property {number} [maxDelay] @property {number} [throttleDelay]
 * @property {number} [quickDelay] @property {number} [pingInterval] @property {number} [pongTimeout]
 * @property {number} [refreshMargin] @property {number} [catchUpTimeout] per REST catch-up page
 * @property {boolean} [autoConnect] default true; otherwise call `client.connect()`
 * @property {typeof WebSocket} [WebSocket] injectable for tests
 * @property {(fn: () => void, ms: number) => any} [setTimeout]
 * @property {(id: any) => void} [clearTimeout]
 * @property {() => number} [random]
 * @property {() => number} [now]
 * @property {() => string} [randomUUID]
 * @property {EventTarget|null} [window] where `online` fires (default: the global window)
 * @property {{visibilityState: string, addEventListener: Function, removeEventListener: Function}|null} [document]
 */

/**
 * Connection states: `connecting` (fetching a token, opening the socket), `authenticating`,
 * `open` (authenticated, rooms re-joined), `reconnecting` (waiting to retry), `stopped`
 * (closed by the app, kicked, or signed out).
 * @typedef {"connecting"|"authenticating"|"open"|"reconnecting"|"stopped"} ConnectionState
 */

const OPEN = 1; // WebSocket.OPEN

/**
 * The client. Client events (`client.on(type, fn)`):
 * - every server message type, as `fn(payload, message)` (room events too, after dedupe);
 *   `"*"` receives every server message;
 * - `state` `fn(state, previous)`; `authenticated` `fn(payload)`;
 * - `disconnected` `fn({code, reason, delay})` after each close;
 * - `error` `fn({code, message, replyTo?, closeCode?})`: server errors, and closes 1009
 *   (`message_too_large`) and 4008 (`flooded`);
 * - `kicked` and `fatal` `fn({code, closeCode?, reason?})`: the client stopped for good;
 * - `caughtUp` `fn(room, info)` when a room's missed events came from the REST catch-up;
 * - `resync` `fn(room)` when a room's missed events could be neither replayed nor caught up.
 */
export class TravaClient extends Emitter {
  /** @type {ConnectionState} */ state = "stopped";
  /** The `authenticated` payload of the current session. @type {object|null} */ session = null;
  /** @type {Map<string, Room>} */ rooms = new Map();

  #opts;
  #url;
  #apiUrl;
  #getToken;
  #token = null; // the last token given to the server: the REST catch-up uses it too
  #ws = null;
  #gen = 0; // bumps on every connection attempt; stale callbacks compare and bail out
  #attempt = 0;
  #refreshToken = false;
  #timers = { retry: null, ping: null, dead: null, auth: null };
  #seq = 0;
  #requests = new Map(); // request id -> {kind: "join", room} | {kind: "send", cmid}
  #outbox = new Map(); // clientMessageId -> {room, text, id, sentOn, resolve, reject}
  #cursors = new Map(); // rooms not joined explicitly (the personal room): roomId -> {epoch, lastEventId}
  #win;
  #doc;
  #onOnline = () => this.#wake();
  #onVisibility = () => {
    if (this.#doc?.visibilityState === "visible") this.#wake();
  };

  /** @param {ClientOptions} options */
  constructor(options) {
    super();
    const g = globalThis;
    this.#opts = {
      ...DEFAULTS,
      WebSocket: g.WebSocket,
      setTimeout: (fn, ms) => g.setTimeout(fn, ms),
      clearTimeout: (id) => g.clearTimeout(id),
      random: Math.random,
      now: Date.now,
      randomUUID: g.crypto?.randomUUID ? () => g.crypto.randomUUID() : null,
      ...options,
    };
    if (typeof options.getToken !== "function") throw new TypeError("createClient: getToken is required");
    this.#getToken = options.getToken;
    this.#url = options.url ?? defaultUrl();
    this.#apiUrl = options.apiUrl ?? null;
    this.#win = "window" in options ? options.window : (g.window ?? null);
    this.#doc = "document" in options ? options.document : (this.#win?.document ?? g.document ?? null);
    if (options.autoConnect !== false) this.connect();
  }

  /** Start (or restart after `stopped`). */
  connect() {
    if (this.state !== "stopped") return;
    this.#win?.addEventListener?.("online", this.#onOnline);
    this.#doc?.addEventListener?.("visibilitychange", this.#onVisibility);
    this.#connect();
  }

  /** Close for good: no reconnect; pending sends and room waits reject. */
  close() {
    this.#stop();
    this.#failAll(new Error("client closed"));
  }

  /**
   * Join a room (now, or as soon as connected) and keep it joined across reconnects.
   * @param {string} roomId e.g. "trip_42"
   * @returns {Room}
   */
  join(roomId) {
    let room = this.rooms.get(roomId);
    if (room) return room;
    room = new Room(this, roomId);
    this.rooms.set(roomId, room);
    if (this.state === "open") this.#sendJoin(room);
    return room;
  }

  /**
   * Send any message now; false when not connected (nothing is queued).
   * @param {string} type @param {object} [payload] @param {string} [id]
   */
  send(type, payload = {}, id = undefined) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN) return false;
    const message = { type, payload, timestamp: this.#opts.now() };
    if (id !== undefined) message.id = id;
    ws.send(JSON.stringify(message));
    return true;
  }

  // --- connection lifecycle ---------------------------------------------------------

  #setState(state) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.emit("state", state, previous);
  }

  async #connect() {
    this.#clear("retry");
    const gen = ++this.#gen;
    this.#setState("connecting");
    let token;
    try {
      token = await this.#getToken({ refresh: this.#refreshToken });
    } catch (err) {
      if (gen !== this.#gen) return;
      this.emit("error", { code: "token_unavailable", message: String(err?.message ?? err) });
      this.#retry(closePolicy(1006, this.#attempt, this.#opts, this.#opts.random), 1006, "no token");
      return;
    }
    if (gen !== this.#gen) return; // closed or restarted while waiting for the token
    if (token == null) {
      this.#stop();
      this.#failAll(new Error("signed out"));
      this.emit("fatal", { code: "no_token" });
      return;
    }
    this.#refreshToken = false;
    this.#token = token;
    let ws;
    try {
      ws = new this.#opts.WebSocket(this.#url);
    } catch (err) {
      this.#retry(closePolicy(1006, this.#attempt, this.#opts, this.#opts.random), 1006, String(err));
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      if (ws !== this.#ws) return;
      this.#setState("authenticating");
      this.send("authenticate", { token });
      this.#schedulePing();
    };
    ws.onmessage = (event) => ws === this.#ws && this.#onMessage(event.data);
    ws.onclose = (event) => ws === this.#ws && this.#onClose(event.code ?? 1006, event.reason ?? "");
    ws.onerror = () => {}; // a close event always follows
  }

  #onClose(code, reason) {
    this.#dropSocket();
    const policy = closePolicy(code, this.#attempt, this.#opts, this.#opts.random);
    if (policy.action === "stop") {
      this.emit("disconnected", { code, reason, delay: null });
      this.#stop();
      this.#failAll(new Error(`stopped by the server (${code})`));
      const info = { code: policy.report, closeCode: code, reason };
      this.emit("kicked", info);
      this.emit("fatal", info);
      return;
    }
    if (policy.report) this.emit("error", { code: policy.report, message: reason, closeCode: code });
    this.#retry(policy, code, reason);
  }

  #retry(policy, code, reason) {
    this.#attempt += 1;
    this.#refreshToken ||= policy.refreshToken;
    this.#setState("reconnecting");
    this.emit("disconnected", { code, reason, delay: policy.delay });
    this.#timers.retry = this.#opts.setTimeout(() => this.#connect(), policy.delay);
  }

  /** Browser came online or the tab became visible: retry now, or check a live socket. */
  #wake() {
    if (this.state === "reconnecting") this.#connect();
    else if (this.state === "open") this.#ping();
  }

  /** Forget the socket: timers off, handlers detached, rooms no longer joined on it. */
  #dropSocket() {
    const ws = this.#ws;
    this.#ws = null;
    for (const name of ["ping", "dead", "auth"]) this.#clear(name);
    this.#requests.clear();
    for (const room of this.rooms.values()) room.joined = false;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000);
      } catch {
        // already closed
      }
    }
  }

  #stop() {
    this.#gen += 1;
    this.#clear("retry");
    this.#dropSocket();
    this.#win?.removeEventListener?.("online", this.#onOnline);
    this.#doc?.removeEventListener?.("visibilitychange", this.#onVisibility);
    this.session = null;
    this.#setState("stopped");
  }

  #failAll(error) {
    for (const pending of this.#outbox.values()) pending.reject(error);
    this.#outbox.clear();
    for (const room of this.rooms.values()) room._settle(error);
  }

  #clear(name) {
    if (this.#timers[name] != null) this.#opts.clearTimeout(this.#timers[name]);
    this.#timers[name] = null;
  }

  // --- heartbeat ----------------------------------------------------------------------

  #schedulePing() {
    this.#timers.ping = this.#opts.setTimeout(() => {
      this.#ping();
      this.#schedulePing();
    }, this.#opts.pingInterval);
  }

  #ping() {
    if (!this.send("ping", { t: this.#opts.now() })) return;
    // Why not wait for "pong" only: any frame proves the connection is alive, and a busy
    // room's events may queue ahead of the pong.
    this.#timers.dead ??= this.#opts.setTimeout(() => {
      this.#timers.dead = null;
      this.#onClose(1006, "heartbeat timeout");
    }, this.#opts.pongTimeout);
  }

  // --- incoming -----------------------------------------------------------------------

  #onMessage(data) {
    this.#clear("dead");
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!message || typeof message.type !== "string") return;
    const payload = message.payload ?? {};
    this.#matchAck(message, payload); // before dedupe: an ack counts even for a replayed event
    switch (message.type) {
      case "authenticated":
        this.#onAuthenticated(payload, message);
        break;
      case "room_joined":
        this.#onRoomJoined(payload);
        break;
      case "error":
        this.#onError(payload, message);
        return; // #onError emits
      default:
        if (!this.#onEvent(message, payload)) return; // a duplicate, or held during a catch-up
    }
    this.emit(message.type, payload, message);
    this.emit("*", message);
  }

  #onAuthenticated(payload, message) {
    this.session = payload;
    this.#scheduleReauth(payload, message);
    if (this.state !== "authenticating") return; // a token refresh on a live session
    this.#attempt = 0;
    this.#setState("open");
    for (const room of this.rooms.values()) this.#sendJoin(room);
  }

  #scheduleReauth(payload, message) {
    this.#clear("auth");
    if (typeof payload.expiresAt !== "number") return;
    // The token's lifetime measured on the server's clock: immune to a skewed local clock.
    const lifetime = payload.expiresAt - (message.timestamp ?? this.#opts.now());
    const delay = Math.max(0, lifetime - Math.min(this.#opts.refreshMargin, lifetime / 10));
    const gen = this.#gen;
    this.#timers.auth = this.#opts.setTimeout(async () => {
      this.#timers.auth = null;
      try {
        const token = await this.#getToken({ refresh: true });
        if (gen === this.#gen && token) {
          this.#token = token;
          this.send("authenticate", { token });
        }
      } catch {
        // the server closes 4001 at expiry; the reconnect asks for a token again
      }
    }, delay);
  }

  #sendJoin(room) {
    const id = this.#nextId("join");
    this.#requests.set(id, { kind: "join", room });
    const payload = { roomId: room.id };
    room._firstJoinGen ??= this.#gen;
    const since = room._wasJoined ? resumePoint(room) : null;
    if (since != null) {
      payload.since = since;
      if (room.epoch != null) payload.epoch = room.epoch;
    }
    this.send("join_room", payload, id);
  }

  #onRoomJoined(payload) {
    const room = this.rooms.get(payload.roomId);
    if (!room) return;
    const rejoin = room._wasJoined;
    // A first join that only landed on a later connection (the first one dropped before
    // room_joined): the app read its state meanwhile, with no position to resume from, so
    // whatever happened between that read and this join is missing. Resync, as for a
    // re-join the server could not replay.
    const late = !rejoin && room._firstJoinGen !== null && room._firstJoinGen !== this.#gen;
    const since = resumePoint(room);
    const sinceEpoch = room.epoch;
    // Not replayed, but the log may still hold the events (a replay refused for its size):
    // catch up over REST from where we were. Another epoch means the log was reset: no use.
    const catchUp =
      rejoin &&
      payload.recovered !== true &&
      since != null &&
      this.#opts.catchUp !== false &&
      (payload.epoch == null || sinceEpoch == null || payload.epoch === sinceEpoch);
    room._catchUp = null; // a catch-up of an earlier join is superseded by this one
    // Replayed events (already delivered, in order, before this message) brought the room
    // up to lastEventId; when they could not, the server's lastEventId is where live events
    // continue from, and the app re-reads the state instead (or catches up first).
    if (payload.epoch != null && payload.epoch !== room.epoch) resetCursor(room, payload.epoch);
    if (catchUp) {
      // The cursor stays at `since`: the catch-up delivers from there, live events wait.
      room._catchUp = { buffer: [] };
    } else if (payload.lastEventId != null) {
      // Everything up to lastEventId was replayed before this message, or is not to be
      // delivered (a fresh join, or history lost): later copies of those ids are stale.
      room.lastEventId = payload.lastEventId;
      room._floor = Math.max(room._floor ?? 0, payload.lastEventId);
    }
    room.joined = true;
    room._wasJoined = true;
    room._joinedPayload = payload;
    room.members = new Map((payload.members ?? []).map((m) => [memberId(m), normalizeMember(m)]));
    room._settle(null, payload);
    room.emit("joined", payload);
    room.emit("members", [...room.members.values()]);
    if (catchUp) {
      this.#catchUpRoom(room, since, sinceEpoch, payload);
    } else if ((rejoin && payload.recovered !== true) || late) {
      room.emit("resync", payload);
      this.emit("resync", room);
    }
    for (const pending of this.#outbox.values()) {
      if (pending.room === room) this.#transmit(pending);
    }
  }

  /**
   * Deliver a room's missed events from the REST catch-up, then the live ones held
   * meanwhile, all through the normal path (dedupe by eventId); resync if it failed.
   */
  async #catchUpRoom(room, since, epoch, joinedPayload) {
    const pending = room._catchUp;
    let result = null;
    try {
      result = await this.catchUp(room.id, since, epoch);
    } catch {
      result = null; // 410 history_expired, or unreachable: re-read the state instead
    }
    if (room._catchUp !== pending || this.rooms.get(room.id) !== room) return; // superseded or left
    room._catchUp = null;
    const advance = (id) => {
      if (id == null) return;
      room.lastEventId = Math.max(room.lastEventId ?? 0, id);
      room._floor = Math.max(room._floor ?? 0, id);
    };
    if (result && (room.epoch == null || result.epoch == null || result.epoch === room.epoch)) {
      let count = 0;
      for (const event of result.events) if (this.#deliver(event)) count += 1;
      // Every id up to the log's head was delivered now, or is not for us.
      advance(result.lastEventId);
      const info = { roomId: room.id, since, count, lastEventId: room.lastEventId };
      room.emit("caughtUp", info);
      this.emit("caughtUp", room, info);
    } else {
      advance(joinedPayload.lastEventId);
      room.emit("resync", joinedPayload);
      this.emit("resync", room);
    }
    for (const message of pending.buffer) this.#deliver(message);
  }

  /** An event through the normal path: room handlers, then client handlers (once). */
  #deliver(message) {
    if (!message || typeof message.type !== "string") return false;
    const payload = message.payload ?? {};
    if (!this.#onEvent(message, payload)) return false;
    this.emit(message.type, payload, message);
    this.emit("*", message);
    return true;
  }

  /**
   * Catch up on a room over REST (protocol 9.3): every page of
   * `GET /api/rooms/<roomId>/events/?since=<since>[&epoch=]`, with the client's token.
   * Resolves `{epoch, lastEventId, events}` (events as on the socket, oldest first); rejects
   * with a CatchUpError, `code: "history_expired"` for a 410 (re-read the state instead).
   * @param {string} roomId @param {number} since @param {string|null} [epoch]
   * @returns {Promise<{epoch: string, lastEventId: number, events: object[]}>}
   */
  async catchUp(roomId, since, epoch = null) {
    const base = this.#apiUrl ?? apiUrlOf(this.#url);
    const doFetch = this.#opts.fetch ?? globalThis.fetch;
    if (typeof doFetch !== "function") throw new CatchUpError("no fetch available");
    const query = new URLSearchParams({ since: String(since), pageSize: String(CATCH_UP_PAGE_SIZE) });
    if (epoch != null) query.set("epoch", epoch);
    let url = `${base}/api/rooms/${encodeURIComponent(roomId)}/events/?${query}`;
    const events = [];
    let page = null;
    while (url) {
      let response = await this.#authorizedGet(doFetch, url, false);
      if (response.status === 401) response = await this.#authorizedGet(doFetch, url, true);
      if (response.status === 410) throw new CatchUpError("history expired", { status: 410, code: "history_expired" });
      if (!response.ok) throw new CatchUpError(`catch-up failed: HTTP ${response.status}`, { status: response.status });
      page = await response.json();
      events.push(...(page.results ?? []));
      // `next` is absolute as the server saw the request; keep our own origin (a proxy).
      url = page.next ? rebase(page.next, base) : null;
    }
    return { epoch: page?.epoch ?? epoch, lastEventId: page?.lastEventId ?? since, events };
  }

  async #authorizedGet(doFetch, url, refresh) {
    let token = this.#token;
    if (refresh || token == null) {
      token = await this.#getToken({ refresh });
      if (token == null) throw new CatchUpError("signed out");
      this.#token = token;
    }
    const init = { headers: { Authorization: `Bearer ${token}`, Accept: "application/json" } };
    // A hung request must not hold the room's live events forever: give up, then resync.
    const { AbortSignal: Signal } = globalThis;
    if (typeof Signal?.timeout === "function") init.signal = Signal.timeout(this.#opts.catchUpTimeout);
    return doFetch(url, init);
  }

  /** A room event: dedupe by eventId, track presence. False if a duplicate (or held). */
  #onEvent(message, payload) {
    const roomId = message.roomId ?? payload.roomId;
    const room = roomId != null ? this.rooms.get(roomId) : undefined;
    if (room?._catchUp) {
      room._catchUp.buffer.push(message); // delivered after the caught-up events, in order
      return false;
    }
    if (roomId != null && typeof message.eventId === "number") {
      const cursor = room ?? this.#cursor(roomId);
      // Every room event carries its epoch: a new one (the server lost the room's history,
      // ids restarted at 1) resets the cursor, and the app must re-read the room's state;
      // a cursor without one (the personal room) adopts it.
      if (message.epoch != null && message.epoch !== cursor.epoch) {
        const lost = cursor.epoch != null;
        resetCursor(cursor, message.epoch);
        if (lost && room) {
          room.emit("resync", { roomId, epoch: message.epoch, recovered: false });
          this.emit("resync", room);
        }
      }
      if (!acceptEventId(cursor, message.eventId)) return false;
    }
    if (room && (message.type === "user_joined" || message.type === "user_left")) {
      const user = normalizeMember(payload.user ?? payload);
      if (message.type === "user_joined") room.members.set(user.userId, user);
      else room.members.delete(user.userId);
      room.emit("members", [...room.members.values()]);
    }
    if (room) {
      room.emit(message.type, payload, message);
      room.emit("*", message);
    }
    return true;
  }

  #cursor(roomId) {
    if (!this.#cursors.has(roomId)) this.#cursors.set(roomId, { epoch: null, lastEventId: null });
    return this.#cursors.get(roomId);
  }

  /** A chat ack: the message_sent carrying our clientMessageId, or a direct reply. */
  #matchAck(message, payload) {
    if (message.type === "message_sent" && payload.clientMessageId != null) {
      this.#ack(payload.clientMessageId, payload);
    }
    if (message.replyTo == null || message.type === "error") return;
    const request = this.#requests.get(message.replyTo);
    if (request?.kind !== "send") return;
    this.#requests.delete(message.replyTo);
    this.#ack(request.cmid, payload.message ?? payload);
  }

  #onError(payload, message) {
    const replyTo = payload.replyTo ?? message.replyTo;
    const request = replyTo != null ? this.#requests.get(replyTo) : undefined;
    if (request) {
      this.#requests.delete(replyTo);
      const error = Object.assign(new Error(payload.message ?? payload.code), { code: payload.code, payload });
      if (request.kind === "send") {
        this.#outbox.get(request.cmid)?.reject(error);
        this.#outbox.delete(request.cmid);
      } else if (request.kind === "join") {
        const room = request.room;
        if (PERMANENT_JOIN_ERRORS.has(payload.code)) {
          // Access denied, an invalid id, too many rooms: retrying cannot help, drop the room.
          this.rooms.delete(room.id);
          room._settle(error);
        } else if (this.rooms.get(room.id) === room) {
          // Transient (rate_limited, internal_error, ...): keep the room and join it again
          // shortly on this connection; a reconnect re-joins it anyway.
          const delay = Math.max(payload.retryAfterMs ?? 0, this.#opts.quickDelay ?? 1000);
          this.#opts.setTimeout(() => {
            if (this.state === "open" && this.rooms.get(room.id) === room) this.#sendJoin(room);
          }, delay);
        }
        room.emit("error", payload);
      }
    }
    this.emit("error", payload, message);
    this.emit("*", message);
  }

  // --- chat ---------------------------------------------------------------------------

  _sendMessage(room, text) {
    if (this.rooms.get(room.id) !== room) return Promise.reject(new Error(`not in room ${room.id}`));
    const cmid = this.#opts.randomUUID ? this.#opts.randomUUID() : fallbackUuid(this.#opts.random);
    return new Promise((resolve, reject) => {
      const pending = { room, text, cmid, sentOn: -1, resolve, reject };
      this.#outbox.set(cmid, pending);
      if (room.joined) this.#transmit(pending);
    });
  }

  #transmit(pending) {
    if (pending.sentOn === this.#gen) return;
    const id = this.#nextId("msg");
    const payload = { roomId: pending.room.id, text: pending.text, clientMessageId: pending.cmid };
    if (this.send("send_message", payload, id)) {
      pending.sentOn = this.#gen;
      this.#requests.set(id, { kind: "send", cmid: pending.cmid });
    }
  }

  #ack(cmid, payload) {
    const pending = this.#outbox.get(cmid);
    if (!pending) return;
    this.#outbox.delete(cmid);
    pending.resolve(payload);
  }

  _leave(room) {
    if (this.rooms.get(room.id) !== room) return;
    this.rooms.delete(room.id);
    if (room.joined) this.send("leave_room", { roomId: room.id });
    room.joined = false;
    room._catchUp = null;
    const error = new Error(`left room ${room.id}`);
    room._settle(error);
    for (const [cmid, pending] of this.#outbox) {
      if (pending.room === room) {
        this.#outbox.delete(cmid);
        pending.reject(error);
      }
    }
  }

  #nextId(prefix) {
    this.#seq += 1;
    return `${prefix}-${this.#seq}`;
  }
}

/**
 * Create and (unless `autoConnect: false`) start a client.
 * @param {ClientOptions} options
 * @returns {TravaClient}
 */
export function createClient(options) {
  return new TravaClient(options);
}

/** A `next` URL of the catch-up on our own base URL (the server saw the request's Host). */
function rebase(next, base) {
  const url = new URL(next, base);
  const at = url.pathname.indexOf("/api/rooms/");
  return base + (at >= 0 ? url.pathname.slice(at) : url.pathname) + url.search;
}

function defaultUrl() {
  const loc = globalThis.location;
  if (!loc) throw new TypeError("createClient: url is required outside a browser");
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws`;
}

function memberId(member) {
  return member.userId ?? member.id;
}

function normalizeMember(member) {
  return { ...member, userId: memberId(member) };
}

function fallbackUuid(random) {
  const hex = () => Math.floor(random() * 16).toString(16);
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (c) =>
    c === "x" ? hex() : ((parseInt(hex(), 16) & 0x3) | 0x8).toString(16),
  );
}
