// Fakes for the JS client's unit tests: a scripted WebSocket, a manual clock, a window.

/** Let pending promise callbacks (getToken, listeners) run. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A clock whose timers run only when the test advances it. */
export class FakeClock {
  time = 0;
  #seq = 0;
  #timers = new Map(); // id -> {at, fn}

  now = () => this.time;

  setTimeout = (fn, ms = 0) => {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (id) => {
    this.#timers.delete(id);
  };

  /** Delays (from now) of the timers still pending, soonest first. */
  pending() {
    return [...this.#timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /** Advance by `ms`, running due timers in order (and the promises they start). */
  async tick(ms) {
    const end = this.time + ms;
    for (;;) {
      let next = null;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= end && (next === null || timer.at < next[1].at)) next = [id, timer];
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

/** A WebSocket the test drives from the server's side. */
export class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;

  constructor(url) {
    this.url = url;
    this.readyState = FakeSocket.CONNECTING;
    this.sent = [];
    this.closedWith = null;
    this.constructor.created.push(this);
  }

  send(data) {
    if (this.readyState !== FakeSocket.OPEN) throw new Error("send on a socket that is not open");
    this.sent.push(JSON.parse(data));
  }

  close(code) {
    this.closedWith = code ?? 1005;
    this.readyState = FakeSocket.CLOSED;
  }

  // --- the server's side ---
  open() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.({});
  }

  receive(message) {
    this.onmessage?.({ data: JSON.stringify({ timestamp: 0, payload: {}, ...message }) });
  }

  serverClose(code, reason = "") {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code, reason, wasClean: code !== 1006 });
  }

  /** The messages the client sent, of one type. */
  sentOf(type) {
    return this.sent.filter((m) => m.type === type);
  }
}
FakeSocket.created = [];

/** A FakeSocket class with its own list of created sockets, for one test. */
export function socketClass() {
  return class extends FakeSocket {
    static created = [];
  };
}

/** A minimal EventTarget standing in for `window` and `document`. */
export class FakeTarget {
  visibilityState = "visible";
  #listeners = new Map();
  addEventListener(type, fn) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(fn);
  }
  removeEventListener(type, fn) {
    this.#listeners.get(type)?.delete(fn);
  }
  dispatch(type) {
    for (const fn of this.#listeners.get(type) ?? []) fn({ type });
  }
  listenerCount(type) {
    return this.#listeners.get(type)?.size ?? 0;
  }
}
