// Unit tests of the browser client (web/static/realtime/trava-realtime.js) under
// Node's built-in test runner: a fake WebSocket driven from the server's side, a manual
// clock, and Math.random injected, so every delay is exact.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  apiUrlOf,
  backoffDelay,
  closePolicy,
  createClient,
  DEFAULTS,
  resumePoint,
} from "../../web/static/realtime/trava-realtime.js";
import { FakeClock, FakeTarget, flush, socketClass } from "./fakes.mjs";

function setup(options = {}) {
  const clock = new FakeClock();
  const WebSocket = socketClass();
  const win = new FakeTarget();
  const doc = new FakeTarget();
  const tokenCalls = [];
  let uuid = 0;
  const client = createClient({
    url: "ws://test/ws",
    getToken: async (info) => {
      tokenCalls.push(info);
      return `token-${tokenCalls.length}`;
    },
    WebSocket,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: clock.now,
    random: () => 0.5,
    randomUUID: () => `cmid-${++uuid}`,
    window: win,
    document: doc,
    // No network in unit tests: a catch-up fails (-> resync) unless a test scripts fetch.
    fetch: async () => {
      throw new Error("no network in unit tests");
    },
    ...options,
  });
  const states = [];
  const events = [];
  client.on("state", (state) => states.push(state));
  for (const type of ["error", "kicked", "fatal", "resync", "disconnected"]) {
    client.on(type, (data) => events.push([type, data]));
  }
  return { clock, WebSocket, win, doc, client, tokenCalls, states, events, socket: () => WebSocket.created.at(-1) };
}

/** Open the latest socket and answer its authenticate. */
async function authenticate(t, authenticated = {}) {
  await flush();
  const ws = t.socket();
  ws.open();
  ws.receive({ type: "authenticated", payload: { clientId: "c1", user: { id: 1, username: "alice" }, ...authenticated } });
  return ws;
}

/** Drop the current connection with `code` and let the retry timer fire. */
async function dropAndRetry(t, code = 1006) {
  t.socket().serverClose(code);
  const [delay] = t.clock.pending();
  await t.clock.tick(delay);
  return delay;
}

const joined = (roomId, extra = {}) => ({
  type: "room_joined",
  payload: { roomId, roomType: "trip", members: [], lastEventId: 0, epoch: "e1", ...extra },
});
const chat = (roomId, eventId, text, extra = {}) => ({
  type: "message_sent",
  roomId,
  eventId,
  payload: { roomId, text, ...extra },
});

describe("backoff and close-code policy (pure)", () => {
  test("full jitter doubles from 500 ms up to the 20 s cap", () => {
    const top = Array.from({ length: 9 }, (_, attempt) => backoffDelay(attempt, DEFAULTS, () => 1));
    assert.deepEqual(top, [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000]);
    assert.equal(backoffDelay(3, DEFAULTS, () => 0.25), 1000);
    assert.equal(backoffDelay(3, DEFAULTS, () => 0), 0);
  });

  test("each close code maps to its action", () => {
    const policy = (code, attempt = 0) => closePolicy(code, attempt, DEFAULTS, () => 0.5);
    assert.deepEqual(policy(4003), { action: "stop", delay: 0, refreshToken: false, report: "kicked" });
    assert.deepEqual(policy(4001), { action: "reconnect", delay: 250, refreshToken: true, report: null });
    assert.equal(policy(4029).delay, 5250);
    assert.equal(policy(1013, 2).delay, 6000);
    assert.equal(policy(1012, 6).delay, 500, "1012 reconnects soon whatever the attempt");
    assert.equal(policy(1009).report, "message_too_large");
    assert.equal(policy(4008).report, "flooded");
    assert.deepEqual(policy(1006, 1), { action: "reconnect", delay: 500, refreshToken: false, report: null });
  });
});

describe("connecting", () => {
  test("authenticates by the first message, then is open", async () => {
    const t = setup();
    const ws = await authenticate(t);
    assert.equal(ws.url, "ws://test/ws");
    assert.deepEqual(ws.sent[0].type, "authenticate");
    assert.deepEqual(ws.sent[0].payload, { token: "token-1" });
    assert.deepEqual(t.tokenCalls, [{ refresh: false }]);
    assert.deepEqual(t.states, ["authenticating", "open"]); // "connecting" fired inside createClient
    assert.equal(t.client.state, "open");
    assert.equal(t.client.session.user.username, "alice");
  });

  test("failed attempts back off 500, 1000, 2000 ... capped at 20 s, reset after success", async () => {
    const t = setup({ random: () => 0.999999 });
    const delays = [];
    await flush();
    for (let i = 0; i < 8; i++) delays.push(Math.round(await dropAndRetry(t)));
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000]);
    assert.equal(t.WebSocket.created.length, 9);
    await authenticate(t);
    assert.equal(Math.round(await dropAndRetry(t)), 500, "a successful authenticate resets the backoff");
  });

  test("base and cap are settable, and the jitter is random(0, ceiling)", async () => {
    const t = setup({ baseDelay: 100, maxDelay: 300, random: () => 0.5 });
    await flush();
    const delays = [];
    for (let i = 0; i < 4; i++) delays.push(await dropAndRetry(t));
    assert.deepEqual(delays, [50, 100, 150, 150]);
  });

  test("no socket is opened before the retry delay has passed", async () => {
    const t = setup();
    await authenticate(t);
    t.socket().serverClose(1006);
    assert.equal(t.client.state, "reconnecting");
    await t.clock.tick(249);
    assert.equal(t.WebSocket.created.length, 1);
    await t.clock.tick(1);
    assert.equal(t.WebSocket.created.length, 2);
    assert.equal(t.client.state, "connecting");
  });
});

describe("close codes", () => {
  test("4001 asks getToken for a fresh token, then reconnects with it", async () => {
    const t = setup();
    await authenticate(t);
    await dropAndRetry(t, 4001);
    await flush();
    assert.deepEqual(t.tokenCalls, [{ refresh: false }, { refresh: true }]);
    t.socket().open();
    assert.deepEqual(t.socket().sent[0].payload, { token: "token-2" });
  });

  test("4003 stops for good and reports kicked/fatal", async () => {
    const t = setup();
    const ws = await authenticate(t);
    const room = t.client.join("trip_1");
    ws.receive(joined("trip_1"));
    const sending = room.sendMessage("hello");
    ws.serverClose(4003, "kicked by staff");
    await assert.rejects(sending);
    assert.equal(t.client.state, "stopped");
    assert.deepEqual(
      t.events.filter(([type]) => type === "kicked" || type === "fatal").map(([type, d]) => [type, d.closeCode]),
      [["kicked", 4003], ["fatal", 4003]],
    );
    assert.deepEqual(t.clock.pending(), []);
    await t.clock.tick(60_000);
    t.win.dispatch("online");
    await flush();
    assert.equal(t.WebSocket.created.length, 1, "never reconnects");
  });

  for (const code of [4029, 1013]) {
    test(`${code} backs off longer: at least 5 s`, async () => {
      const t = setup();
      await authenticate(t);
      t.socket().serverClose(code);
      assert.deepEqual(t.clock.pending(), [5250]);
      await t.clock.tick(5000);
      assert.equal(t.WebSocket.created.length, 1);
    });
  }

  test("1012 reconnects soon, even deep into a backoff", async () => {
    const t = setup({ random: () => 0.9 });
    await flush();
    for (let i = 0; i < 6; i++) await dropAndRetry(t); // ceiling now 20 s
    t.socket().serverClose(1012);
    assert.deepEqual(t.clock.pending(), [900]);
  });

  for (const [code, report] of [
    [1009, "message_too_large"],
    [4008, "flooded"],
  ]) {
    test(`${code} reports ${report} and backs off`, async () => {
      const t = setup();
      await authenticate(t);
      t.socket().serverClose(code, "why");
      const errors = t.events.filter(([type]) => type === "error").map(([, d]) => d);
      assert.deepEqual(errors, [{ code: report, message: "why", closeCode: code }]);
      assert.equal(t.client.state, "reconnecting");
      assert.deepEqual(t.clock.pending(), [250]);
    });
  }

  test("a rejected getToken counts as a failed attempt", async () => {
    let calls = 0;
    const t = setup({
      getToken: async () => {
        calls += 1;
        if (calls === 1) throw new Error("refresh endpoint down");
        return "token-ok";
      },
    });
    await flush();
    assert.equal(t.WebSocket.created.length, 0);
    assert.equal(t.events[0][1].code, "token_unavailable");
    await t.clock.tick(t.clock.pending()[0]);
    await flush();
    t.socket().open();
    assert.equal(t.socket().sent[0].payload.token, "token-ok");
  });

  test("getToken returning null (signed out) stops the client", async () => {
    const t = setup({ getToken: async () => null });
    await flush();
    assert.equal(t.client.state, "stopped");
    assert.deepEqual(t.events.at(-1), ["fatal", { code: "no_token" }]);
  });
});

describe("online and visibility", () => {
  test("the browser's online event reconnects at once", async () => {
    const t = setup();
    await authenticate(t);
    t.socket().serverClose(1006);
    t.win.dispatch("online");
    await flush();
    assert.equal(t.WebSocket.created.length, 2);
    assert.deepEqual(t.clock.pending(), [], "the retry timer was cancelled");
  });

  test("visibilitychange to visible reconnects at once; to hidden does not", async () => {
    const t = setup();
    await authenticate(t);
    t.socket().serverClose(1006);
    t.doc.visibilityState = "hidden";
    t.doc.dispatch("visibilitychange");
    await flush();
    assert.equal(t.WebSocket.created.length, 1);
    t.doc.visibilityState = "visible";
    t.doc.dispatch("visibilitychange");
    await flush();
    assert.equal(t.WebSocket.created.length, 2);
  });

  test("close() stops, closes the socket and removes the listeners", async () => {
    const t = setup();
    const ws = await authenticate(t);
    t.client.close();
    assert.equal(t.client.state, "stopped");
    assert.equal(ws.closedWith, 1000);
    assert.equal(t.win.listenerCount("online"), 0);
    assert.equal(t.doc.listenerCount("visibilitychange"), 0);
    assert.deepEqual(t.clock.pending(), []);
  });
});

describe("rooms and resume", () => {
  test("joins once open; after a reconnect re-joins with since and epoch", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    await flush();
    assert.equal(t.WebSocket.created.length, 1);
    const ws = await authenticate(t);
    assert.deepEqual(ws.sentOf("join_room")[0].payload, { roomId: "trip_1" });
    ws.receive(joined("trip_1", { lastEventId: 5, epoch: "e1" }));
    ws.receive(chat("trip_1", 6, "a"));
    ws.receive(chat("trip_1", 7, "b"));
    assert.equal(room.lastEventId, 7);

    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    const rejoin = ws2.sentOf("join_room");
    assert.equal(rejoin.length, 1);
    assert.deepEqual(rejoin[0].payload, { roomId: "trip_1", since: 7, epoch: "e1" });
    assert.ok(rejoin[0].id, "carries an id so an error comes back with replyTo");
    assert.ok(
      ws2.sent.findIndex((m) => m.type === "authenticate") < ws2.sent.findIndex((m) => m.type === "join_room"),
    );
  });

  test("replayed events arrive in order and none is delivered twice", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    const seen = [];
    room.on("message_sent", (payload, message) => seen.push(message.eventId));
    const clientSeen = [];
    t.client.on("message_sent", (payload, message) => clientSeen.push(message.eventId));
    const ws = await authenticate(t);
    ws.receive(joined("trip_1", { lastEventId: 2 }));
    ws.receive(chat("trip_1", 3, "c"));
    ws.receive(chat("trip_1", 3, "c")); // a duplicate on the same connection
    ws.receive(chat("trip_1", 4, "d"));

    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    // The server replays from `since` (overlapping what we saw), then room_joined, then live.
    for (const id of [3, 4, 5, 6]) ws2.receive(chat("trip_1", id, `r${id}`));
    ws2.receive(joined("trip_1", { lastEventId: 6, recovered: true }));
    ws2.receive(chat("trip_1", 6, "late duplicate"));
    ws2.receive(chat("trip_1", 7, "live"));
    assert.deepEqual(seen, [3, 4, 5, 6, 7]);
    assert.deepEqual(clientSeen, [3, 4, 5, 6, 7]);
    assert.deepEqual(
      t.events.filter(([type]) => type === "resync"),
      [],
      "recovered: true needs no resync",
    );
  });

  test("ids swapped by two nodes are both delivered, once, and resume goes from the highest", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    const seen = [];
    room.on("message_sent", (payload, message) => seen.push(message.eventId));
    const ws = await authenticate(t);
    ws.receive(joined("trip_1", { lastEventId: 2 }));
    for (const id of [3, 5, 4, 4, 2, 6]) ws.receive(chat("trip_1", id, `m${id}`));
    assert.deepEqual(seen, [3, 5, 4, 6], "4 arrives late and is still delivered; 4 again and 2 are not");
    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    assert.equal(ws2.sentOf("join_room")[0].payload.since, 6);
  });

  test("a live event in a new epoch (the server lost the history) raises resync", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    const resyncs = [];
    room.on("resync", (payload) => resyncs.push(payload.epoch));
    const seen = [];
    room.on("message_sent", (p, m) => seen.push(m.eventId));
    const ws = await authenticate(t);
    ws.receive(joined("trip_1", { lastEventId: 9, epoch: "e1" }));
    ws.receive({ ...chat("trip_1", 10, "old epoch"), epoch: "e1" });
    ws.receive({ ...chat("trip_1", 1, "new epoch"), epoch: "e2" });
    assert.deepEqual(resyncs, ["e2"]);
    assert.deepEqual(seen, [10, 1]);
    assert.equal(room.epoch, "e2");
  });

  test("a first join that lands only on a later connection raises resync", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    const resyncs = [];
    room.on("resync", (payload) => resyncs.push(payload.lastEventId));
    const ws = await authenticate(t);
    assert.deepEqual(ws.sentOf("join_room")[0].payload, { roomId: "trip_1" });
    // The node goes away before its room_joined: the page has read its state meanwhile.
    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    assert.deepEqual(ws2.sentOf("join_room")[0].payload, { roomId: "trip_1" }, "no position to resume from");
    ws2.receive(joined("trip_1", { lastEventId: 14, epoch: "e1", recovered: false }));
    assert.deepEqual(resyncs, [14], "what happened between that read and this join is re-read");
    await dropAndRetry(t);
    const ws3 = await authenticate(t);
    assert.deepEqual(ws3.sentOf("join_room")[0].payload, { roomId: "trip_1", since: 14, epoch: "e1" });
    ws3.receive(joined("trip_1", { lastEventId: 14, epoch: "e1", recovered: true }));
    assert.deepEqual(resyncs, [14], "a replayed re-join needs none");
  });

  test("recovered: false on a re-join raises resync and continues from the new epoch", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    const resyncs = [];
    room.on("resync", (payload) => resyncs.push(payload.epoch));
    const seen = [];
    room.on("message_sent", (p, m) => seen.push(m.eventId));
    const ws = await authenticate(t);
    ws.receive(joined("trip_1", { lastEventId: 40, epoch: "e1", recovered: false }));
    assert.deepEqual(resyncs, [], "a first join is not a resync");
    ws.receive(chat("trip_1", 41, "x"));

    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    assert.deepEqual(ws2.sentOf("join_room")[0].payload, { roomId: "trip_1", since: 41, epoch: "e1" });
    ws2.receive(joined("trip_1", { lastEventId: 3, epoch: "e2", recovered: false }));
    assert.deepEqual(resyncs, ["e2"]);
    assert.equal(t.events.filter(([type]) => type === "resync")[0][1], room);
    ws2.receive(chat("trip_1", 4, "after the flush"));
    assert.deepEqual(seen, [41, 4], "ids of the new epoch are not mistaken for duplicates");
    assert.equal(room.epoch, "e2");
  });

  test("members and presence follow room_joined, user_joined and user_left", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    const snapshots = [];
    room.on("members", (members) => snapshots.push(members.map((m) => m.username).sort()));
    const ws = await authenticate(t);
    ws.receive(joined("trip_1", { members: [{ userId: 1, username: "alice" }] }));
    ws.receive({ type: "user_joined", roomId: "trip_1", eventId: 1, payload: { roomId: "trip_1", user: { id: 2, username: "bob" } } });
    ws.receive({ type: "user_left", roomId: "trip_1", eventId: 2, payload: { roomId: "trip_1", user: { id: 1, username: "alice" } } });
    assert.deepEqual(snapshots, [["alice"], ["alice", "bob"], ["bob"]]);
    assert.deepEqual([...room.members.keys()], [2]);
  });

  test("a refused join rejects room.ready() and drops the room", async () => {
    const t = setup();
    const ws = await authenticate(t);
    const room = t.client.join("trip_9");
    const ready = room.ready();
    const id = ws.sentOf("join_room")[0].id;
    ws.receive({ type: "error", payload: { code: "room_access_denied", message: "no", replyTo: id } });
    await assert.rejects(ready, { code: "room_access_denied" });
    assert.equal(t.client.rooms.has("trip_9"), false);
  });

  test("a transient join error keeps the room and joins it again after retryAfterMs", async () => {
    const t = setup();
    const ws = await authenticate(t);
    const room = t.client.join("trip_9");
    const first = ws.sentOf("join_room")[0].id;
    ws.receive({ type: "error", payload: { code: "rate_limited", message: "slow down", retryAfterMs: 1500, replyTo: first } });
    assert.equal(t.client.rooms.get("trip_9"), room);
    assert.equal(ws.sentOf("join_room").length, 1);
    await t.clock.tick(1499);
    assert.equal(ws.sentOf("join_room").length, 1);
    await t.clock.tick(1);
    assert.equal(ws.sentOf("join_room").length, 2);
    ws.receive(joined("trip_9"));
    await room.ready();
  });

  test("leave() sends leave_room and the room is not re-joined", async () => {
    const t = setup();
    const ws = await authenticate(t);
    const room = t.client.join("trip_1");
    ws.receive(joined("trip_1"));
    room.leave();
    assert.deepEqual(ws.sentOf("leave_room")[0].payload, { roomId: "trip_1" });
    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    assert.deepEqual(ws2.sentOf("join_room"), []);
  });
});

describe("send_message", () => {
  test("queued while offline, sent after the re-join, resolved by the matching message_sent", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    const ws = await authenticate(t);
    ws.receive(joined("trip_1", { lastEventId: 1 }));
    ws.serverClose(1006);

    const sending = room.sendMessage("while offline");
    await t.clock.tick(t.clock.pending()[0]);
    const ws2 = await authenticate(t);
    assert.deepEqual(ws2.sentOf("send_message"), [], "not before the room is joined again");
    ws2.receive(joined("trip_1", { lastEventId: 1, recovered: true }));
    const [sent] = ws2.sentOf("send_message");
    assert.deepEqual(sent.payload, { roomId: "trip_1", text: "while offline", clientMessageId: "cmid-1" });
    ws2.receive(chat("trip_1", 2, "while offline", { id: 77, clientMessageId: "cmid-1" }));
    const ack = await sending;
    assert.equal(ack.id, 77);
  });

  test("a message in flight when the connection drops is resent with the same clientMessageId", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    const ws = await authenticate(t);
    ws.receive(joined("trip_1"));
    const sending = room.sendMessage("hi");
    const first = ws.sentOf("send_message")[0];
    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    ws2.receive(joined("trip_1", { recovered: true }));
    const second = ws2.sentOf("send_message")[0];
    assert.equal(second.payload.clientMessageId, first.payload.clientMessageId);
    // This time the ack is a direct reply.
    ws2.receive({ type: "message_sent", replyTo: second.id, payload: { id: 5, text: "hi" } });
    assert.equal((await sending).id, 5);
  });

  test("an ack whose event was already covered by a resync still resolves the send", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    const delivered = [];
    room.on("message_sent", (p, m) => delivered.push(m.eventId));
    const ws = await authenticate(t);
    ws.receive(joined("trip_1"));
    const sending = room.sendMessage("hi");
    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    ws2.receive(joined("trip_1", { lastEventId: 1, recovered: false })); // history lost; id 1 is the message
    const resent = ws2.sentOf("send_message")[0];
    ws2.receive({ ...chat("trip_1", 1, "hi", { id: 9, clientMessageId: resent.payload.clientMessageId }), replyTo: resent.id });
    assert.equal((await sending).id, 9);
    assert.deepEqual(delivered, [], "not re-delivered: the resync re-reads it");
  });

  test("an error with replyTo rejects the send", async () => {
    const t = setup();
    const room = t.client.join("trip_1");
    const ws = await authenticate(t);
    ws.receive(joined("trip_1"));
    const sending = room.sendMessage("spam");
    const { id } = ws.sentOf("send_message")[0];
    ws.receive({ type: "error", payload: { code: "rate_limited", message: "slow down", replyTo: id, retryAfterMs: 100 } });
    await assert.rejects(sending, { code: "rate_limited" });
  });
});

describe("heartbeat and token refresh", () => {
  test("pings every 25 s; a live connection stays open", async () => {
    const t = setup();
    const ws = await authenticate(t);
    await t.clock.tick(25_000);
    assert.equal(ws.sentOf("ping").length, 1);
    ws.receive({ type: "pong", payload: ws.sentOf("ping")[0].payload });
    await t.clock.tick(25_000);
    assert.equal(ws.sentOf("ping").length, 2);
    ws.receive({ type: "pong" });
    await t.clock.tick(10_000);
    assert.equal(t.client.state, "open");
    assert.equal(ws.closedWith, null);
  });

  test("no message within 10 s of a ping: the connection is dead, closed and replaced", async () => {
    const t = setup();
    const ws = await authenticate(t);
    await t.clock.tick(25_000 + 9_999);
    assert.equal(t.client.state, "open");
    await t.clock.tick(1);
    assert.equal(t.client.state, "reconnecting");
    assert.notEqual(ws.closedWith, null, "the client closed the dead socket");
    await t.clock.tick(t.clock.pending()[0]);
    assert.equal(t.WebSocket.created.length, 2);
  });

  test("re-authenticates with a fresh token before expiresAt, without re-joining", async () => {
    const t = setup();
    t.client.join("trip_1");
    const ws = await authenticate(t, { expiresAt: 300_000 }); // 5 min on the server's clock
    ws.receive(joined("trip_1"));
    for (let i = 0; i < 53; i++) {
      await t.clock.tick(5_000);
      ws.receive({ type: "pong" }); // keeps the heartbeat happy
    }
    await t.clock.tick(4_999);
    assert.equal(ws.sentOf("authenticate").length, 1);
    await t.clock.tick(1); // 30 s (a tenth of the lifetime) before expiry
    assert.deepEqual(ws.sentOf("authenticate")[1].payload, { token: "token-2" });
    assert.deepEqual(t.tokenCalls.at(-1), { refresh: true });
    ws.receive({ type: "authenticated", payload: { clientId: "c1", user: { id: 1 }, expiresAt: 600_000 } });
    assert.equal(ws.sentOf("join_room").length, 1);
    assert.equal(t.client.state, "open");
  });
});

/** A scripted fetch: answers in order, records each request. */
function scriptedFetch(answers) {
  const calls = [];
  let release = null;
  const fetch = async (url, init) => {
    calls.push({ url, headers: init?.headers ?? {} });
    const answer = answers.shift();
    if (answer?.gate) await answer.gate;
    const { status = 200, body = {} } = answer ?? { status: 599 };
    return { status, ok: status >= 200 && status < 300, json: async () => body };
  };
  return { fetch, calls, release };
}

const rest = (roomId, eventId, text) => ({ ...chat(roomId, eventId, text), epoch: "e1", timestamp: 1 });

describe("REST catch-up when a re-join is not recovered (protocol 9.3)", () => {
  test("the REST base URL comes from the socket URL", () => {
    assert.equal(apiUrlOf("ws://127.0.0.1:8000/ws"), "http://127.0.0.1:8000");
    assert.equal(apiUrlOf("wss://trava.example/ws"), "https://trava.example");
    assert.equal(apiUrlOf("wss://example.org/trava/ws"), "https://example.org/trava");
  });

  test("missed events come from REST, in order, once, before the live ones held meanwhile", async () => {
    let open;
    const gate = new Promise((resolve) => (open = resolve));
    const scripted = scriptedFetch([
      {
        gate,
        body: { epoch: "e1", lastEventId: 12, next: "http://internal:9000/api/rooms/trip_1/events/?since=9&pageSize=500", results: [rest("trip_1", 8, "m8"), rest("trip_1", 9, "m9")] },
      },
      { body: { epoch: "e1", lastEventId: 12, next: null, results: [rest("trip_1", 9, "dup"), rest("trip_1", 11, "m11")] } },
    ]);
    const t = setup({ fetch: scripted.fetch });
    const room = t.client.join("trip_1");
    const seen = [];
    room.on("message_sent", (p, m) => seen.push(m.eventId));
    const clientSeen = [];
    t.client.on("message_sent", (p, m) => clientSeen.push(m.eventId));
    const caught = [];
    room.on("caughtUp", (info) => caught.push(info));
    const ws = await authenticate(t);
    ws.receive(joined("trip_1", { lastEventId: 5 }));
    ws.receive(chat("trip_1", 6, "a"));
    ws.receive(chat("trip_1", 7, "b"));

    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    ws2.receive(joined("trip_1", { lastEventId: 12, epoch: "e1", recovered: false }));
    ws2.receive(chat("trip_1", 13, "live during the catch-up"));
    ws2.receive(chat("trip_1", 12, "not for us before, a stale copy now"));
    assert.deepEqual(seen, [6, 7], "live events wait for the catch-up");
    open();
    await flush();
    await flush();
    assert.deepEqual(seen, [6, 7, 8, 9, 11, 13]);
    assert.deepEqual(clientSeen, [6, 7, 8, 9, 11, 13]);
    assert.deepEqual(t.events.filter(([type]) => type === "resync"), [], "caught up: nothing to re-read");
    assert.deepEqual(caught, [{ roomId: "trip_1", since: 7, count: 3, lastEventId: 12 }]);
    assert.equal(scripted.calls[0].url, "http://test/api/rooms/trip_1/events/?since=7&pageSize=500&epoch=e1");
    assert.equal(scripted.calls[0].headers.Authorization, "Bearer token-2");
    assert.equal(scripted.calls[1].url, "http://test/api/rooms/trip_1/events/?since=9&pageSize=500", "next, on our own base URL");
    ws2.receive(chat("trip_1", 14, "later"));
    assert.deepEqual(seen.at(-1), 14);
    await dropAndRetry(t);
    const ws3 = await authenticate(t);
    assert.deepEqual(ws3.sentOf("join_room")[0].payload, { roomId: "trip_1", since: 14, epoch: "e1" });
  });

  test("410 history_expired falls back to resync, and live events continue", async () => {
    const scripted = scriptedFetch([{ status: 410, body: { code: "history_expired" } }]);
    const t = setup({ fetch: scripted.fetch });
    const room = t.client.join("trip_1");
    const resyncs = [];
    room.on("resync", (payload) => resyncs.push(payload.lastEventId));
    const seen = [];
    room.on("message_sent", (p, m) => seen.push(m.eventId));
    const ws = await authenticate(t);
    ws.receive(joined("trip_1", { lastEventId: 5 }));
    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    ws2.receive(joined("trip_1", { lastEventId: 900, recovered: false }));
    ws2.receive(chat("trip_1", 901, "live"));
    await flush();
    assert.equal(scripted.calls.length, 1);
    assert.deepEqual(resyncs, [900]);
    assert.deepEqual(seen, [901]);
    await t.client.catchUp("trip_1", 3).then(
      () => assert.fail("expected a rejection"),
      (err) => assert.equal(err.code, "catch_up_failed"),
    );
  });

  test("catchUp() with a refused token asks getToken for a fresh one and retries once", async () => {
    const scripted = scriptedFetch([
      { status: 401 },
      { body: { epoch: "e1", lastEventId: 2, next: null, results: [rest("trip_1", 2, "x")] } },
    ]);
    const t = setup({ fetch: scripted.fetch, apiUrl: "https://api.example" });
    await authenticate(t);
    const result = await t.client.catchUp("trip_1", 1, "e1");
    assert.deepEqual(result.events.map((e) => e.eventId), [2]);
    assert.equal(result.lastEventId, 2);
    assert.deepEqual(t.tokenCalls.at(-1), { refresh: true });
    assert.equal(scripted.calls[1].headers.Authorization, `Bearer token-${t.tokenCalls.length}`);
    assert.ok(scripted.calls[0].url.startsWith("https://api.example/api/rooms/trip_1/events/?since=1"));
  });

  test("a new epoch on the re-join skips the catch-up (the log was reset): resync at once", async () => {
    const scripted = scriptedFetch([]);
    const t = setup({ fetch: scripted.fetch });
    const room = t.client.join("trip_1");
    const resyncs = [];
    room.on("resync", () => resyncs.push(room.epoch));
    const ws = await authenticate(t);
    ws.receive(joined("trip_1", { lastEventId: 5 }));
    await dropAndRetry(t);
    const ws2 = await authenticate(t);
    ws2.receive(joined("trip_1", { lastEventId: 2, epoch: "e9", recovered: false }));
    assert.deepEqual(resyncs, ["e9"]);
    assert.equal(scripted.calls.length, 0);
  });
});

describe("resume point (a late event after later ones)", () => {
  test("a re-join resumes below the first id still missing within the window", () => {
    const cursor = { lastEventId: 143, _floor: 100, _seen: new Set([139, 140, 142, 143]) };
    assert.equal(resumePoint(cursor), 140); // 141 came late or not yet: replay from it
  });
  test("in order, or nothing tracked: the highest id", () => {
    assert.equal(resumePoint({ lastEventId: 12, _floor: 9, _seen: new Set([10, 11, 12]) }), 12);
    assert.equal(resumePoint({ lastEventId: 7, _floor: 7, _seen: new Set() }), 7);
    assert.equal(resumePoint({ lastEventId: null }), null);
  });
});
