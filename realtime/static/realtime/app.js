/**
 * Trava's live trip page: sign in, list my trips, open one and follow it live.
 *
 * REST (`/api/...`) owns the state; the WebSocket client (`trava-realtime.js`) pushes what
 * changed into the trip's room. Every resource is kept in a Map by its id, so an event that
 * repeats what REST already returned (or a replayed event) never shows twice.
 */
import { createClient } from "./trava-realtime.js";

const TOKENS_KEY = "trava.tokens";
const ME_KEY = "trava.me";
const EVENT_LOG_SIZE = 50;
const CHAT_PAGE_SIZE = 30;
const REFRESH_MARGIN_S = 30; // refresh the access token this long before it expires

const $ = (id) => document.getElementById(id);

/** Build an element: h("li", {class: "x", dataset: {id: 1}}, "text", child). Text only, never HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// --- tokens and REST -----------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `Request failed (${status})`);
    this.status = status;
    this.code = body?.code ?? "http_error";
    this.fields = body?.fields ?? null;
  }
}

const auth = {
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

/**
 * The token provider of the REST calls and the WebSocket client: the stored access token
 * while it is fresh, otherwise a new one from the refresh token. Null means signed out
 * (no tokens, or the refresh token was refused); a network failure throws (retry later).
 */
async function getToken({ refresh = false } = {}) {
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
  if (access == null) signOut({ reason: "Your session has ended. Please sign in again." });
  return access;
}

async function safeJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** A REST call as the signed-in user; JSON in and out. Retries once with a fresh token on 401. */
async function api(path, { method = "GET", body, retried = false } = {}) {
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
function localPath(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

/** Every page of a page-number list. */
async function fetchAll(path) {
  const items = [];
  let next = `${path}${path.includes("?") ? "&" : "?"}pageSize=100`;
  while (next) {
    const page = await api(next);
    items.push(...(page.results ?? page));
    next = page.next ? localPath(page.next) : null;
  }
  return items;
}

// --- formatting ------------------------------------------------------------------------------

const CATEGORY_LABELS = {
  lodging: "Lodging",
  transport: "Transport",
  food: "Food and drink",
  activities: "Activities",
  shopping: "Shopping",
  other: "Other",
};

const EVENT_LABELS = {
  trip_updated: "Trip updated",
  itinerary_modified: "Itinerary",
  expense_added: "Expense added",
  budget_updated: "Budget updated",
  message_sent: "Message",
  user_joined: "Joined",
  user_left: "Left",
  notification: "Notification",
  photo_uploaded: "Photo uploaded",
  photo_commented: "Photo comment",
  photo_liked: "Photo liked",
  album_updated: "Album updated",
  journal_entry_created: "Journal entry",
  journal_entry_updated: "Journal updated",
  journal_entry_published: "Journal published",
  journal_comment: "Journal comment",
};

function money(amount, currency) {
  if (amount == null || amount === "") return "—";
  const value = Number(amount);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "EUR" }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency ?? ""}`.trim();
  }
}

function parseDate(value) {
  // A bare date (2026-05-01) is a calendar day, not midnight UTC.
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00`) : new Date(value);
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const dateFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

function dateRange(start, end) {
  if (!start) return "";
  const from = dateFormat.format(parseDate(start));
  return end && end !== start ? `${from} – ${dateFormat.format(parseDate(end))}` : from;
}

function timeTag(value, format) {
  const date = parseDate(value);
  return h("time", { datetime: date.toISOString() }, format.format(date));
}

function initials(name) {
  return (name || "?").slice(0, 2).toUpperCase();
}

function today() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

function toast(text, kind = "info") {
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  $("toasts").append(item);
  setTimeout(() => item.remove(), 5000);
}

function show(el, visible) {
  el.hidden = !visible;
}

// --- app state -------------------------------------------------------------------------------

const app = {
  me: null, // {id, username}
  client: null,
  trip: null, // the open trip's state, see openTrip()
};

function readMe() {
  try {
    return JSON.parse(sessionStorage.getItem(ME_KEY));
  } catch {
    return null;
  }
}

// --- connection badge ------------------------------------------------------------------------

const STATE_LABELS = {
  connecting: "Connecting…",
  authenticating: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Offline",
};

function renderConnection(state) {
  const badge = $("connection-state");
  badge.dataset.state = state;
  badge.querySelector(".conn-label").textContent = STATE_LABELS[state] ?? state;
  badge.title = state === "open" ? "Receiving live updates" : "Live updates paused; changes will catch up";
}

function startClient() {
  const client = createClient({ getToken });
  app.client = client;
  renderConnection(client.state);
  client.on("state", (state) => renderConnection(state));
  client.on("notification", (payload, message) => {
    logEvent(message);
    toast(payload.message ?? "New notification");
  });
  client.on("kicked", () => {
    toast("You were disconnected by an administrator.", "error");
  });
  client.on("error", (payload) => {
    if (payload?.code === "rate_limited") toast("Slow down a little — too many messages.", "error");
  });
  return client;
}

// --- views and routing -----------------------------------------------------------------------

function showView(name) {
  for (const view of ["signin", "trips", "trip"]) show($(`view-${view}`), view === name);
  const signedIn = name !== "signin";
  show($("connection-state"), signedIn);
  show($("sign-out"), signedIn);
  show($("current-user"), signedIn);
}

function route() {
  if (!auth.read()) {
    closeTrip();
    showView("signin");
    $("signin-username").focus();
    return;
  }
  const match = /^#trip\/(\d+)$/.exec(location.hash);
  if (match) openTrip(Number(match[1]));
  else {
    closeTrip();
    showTrips();
  }
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = $("signin-error");
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    error.textContent = "Enter your username and password.";
    show(error, true);
    return;
  }
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  show(error, false);
  try {
    const response = await fetch("/api/auth/token/", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ username, password }),
    });
    const body = await safeJson(response);
    if (!response.ok) {
      error.textContent =
        response.status === 429
          ? "Too many attempts. Please wait a minute and try again."
          : response.status === 401 || response.status === 400
            ? "That username and password don't match."
            : (body?.message ?? "Sign in failed. Please try again.");
      show(error, true);
      return;
    }
    auth.write({ access: body.access, refresh: body.refresh });
    form.reset();
    await afterSignIn();
  } catch {
    error.textContent = "Can't reach Trava. Check your connection and try again.";
    show(error, true);
  } finally {
    submit.disabled = false;
  }
}

async function afterSignIn() {
  app.me = readMe();
  if (!app.me) {
    const me = await api("/api/auth/me/");
    app.me = { id: me.id, username: me.username };
    sessionStorage.setItem(ME_KEY, JSON.stringify(app.me));
  }
  $("current-user").textContent = app.me.username;
  if (!app.client) startClient();
  route();
}

function signOut({ reason } = {}) {
  auth.clear();
  closeTrip();
  app.client?.close();
  app.client = null;
  app.me = null;
  renderConnection("stopped");
  if (reason) toast(reason);
  if (location.hash) history.replaceState(null, "", location.pathname);
  showView("signin");
}

// --- trip list -------------------------------------------------------------------------------

async function showTrips() {
  showView("trips");
  document.title = "My trips · Trava";
  const list = $("trip-list");
  const status = $("trips-status");
  status.textContent = "Loading your trips…";
  try {
    const trips = await fetchAll("/api/trips/");
    list.replaceChildren(
      ...trips.map((trip) =>
        h(
          "li",
          {},
          h(
            "a",
            { class: "card trip-card", href: `#trip/${trip.id}`, dataset: { testid: "trip-card", tripId: trip.id } },
            h("span", { class: "trip-card-title" }, trip.title),
            h("span", { class: "trip-card-dest" }, trip.destination),
            h("span", { class: "trip-card-dates muted" }, dateRange(trip.startDate, trip.endDate)),
          ),
        ),
      ),
    );
    status.textContent = trips.length ? "" : "No trips yet. Trips you create or are invited to appear here.";
  } catch (err) {
    if (err.status !== 401) status.textContent = "Couldn't load your trips. Try reloading the page.";
  }
}

// --- one trip --------------------------------------------------------------------------------

function closeTrip() {
  const trip = app.trip;
  if (!trip) return;
  app.trip = null;
  trip.closed = true;
  for (const off of trip.unsubscribe) off();
  trip.room?.leave();
}

async function openTrip(tripId) {
  if (app.trip?.id === tripId) return;
  closeTrip();
  const trip = {
    id: tripId,
    closed: false,
    loading: true,
    queued: [], // events that arrived while the REST state was loading
    info: null,
    members: new Map(), // userId -> {userId, username, role}
    itinerary: new Map(),
    deletedItems: new Set(),
    expenses: new Map(),
    budget: null,
    messages: new Map(),
    pending: new Map(), // local id -> {text, status}
    chatNext: null,
    logged: new Set(),
    unsubscribe: [],
    room: null,
  };
  app.trip = trip;
  showView("trip");
  resetTripView();

  trip.room = app.client.join(`trip_${tripId}`);
  const room = trip.room;
  const on = (type, fn) => trip.unsubscribe.push(room.on(type, fn));
  on("members", (members) => renderPresence(members));
  on("*", (message) => logEvent(message));
  on("error", (payload) => {
    if (payload?.code === "room_access_denied") tripNotice("Live updates aren't available for this trip.");
  });
  on("resync", () => reloadTrip(trip));
  for (const type of ["trip_updated", "itinerary_modified", "expense_added", "budget_updated", "message_sent"]) {
    on(type, (payload) => (trip.loading ? trip.queued.push([type, payload]) : applyEvent(trip, type, payload)));
  }
  renderPresence([...room.members.values()]);

  await reloadTrip(trip);
}

/** Read the whole trip over REST (first open, and after a resync the server could not replay). */
async function reloadTrip(trip) {
  trip.loading = true;
  const base = `/api/trips/${trip.id}`;
  try {
    const [info, members, itinerary, expenses, budget, chat] = await Promise.all([
      api(`${base}/`),
      fetchAll(`${base}/members/`),
      fetchAll(`${base}/itinerary/`),
      fetchAll(`${base}/expenses/`),
      api(`${base}/budget/`),
      api(`${base}/messages/?pageSize=${CHAT_PAGE_SIZE}`),
    ]);
    if (trip.closed) return;
    trip.info = info;
    trip.members = new Map(members.map((m) => [m.user.id, { userId: m.user.id, username: m.user.username, role: m.role }]));
    trip.itinerary = new Map(itinerary.map((item) => [item.id, item]));
    trip.expenses = new Map(expenses.map((expense) => [expense.id, expense]));
    trip.budget = budget;
    for (const message of chat.results) trip.messages.set(message.id, message);
    if (trip.chatNext === null || trip.messages.size <= chat.results.length) trip.chatNext = chat.next;
  } catch (err) {
    if (trip.closed || err.status === 401) return;
    if (err.status === 404) {
      tripNotFound();
      return;
    }
    tripNotice("Couldn't load this trip. It will refresh when the connection recovers.");
    trip.loading = false;
    return;
  }
  trip.loading = false;
  for (const [type, payload] of trip.queued.splice(0)) applyEvent(trip, type, payload, { render: false });
  renderTrip(trip);
  renderChat(trip, { scroll: "bottom" });
}

function applyEvent(trip, type, payload, { render = true } = {}) {
  switch (type) {
    case "trip_updated":
      if (newer(payload, trip.info)) trip.info = { ...trip.info, ...payload };
      if (render) renderHeader(trip);
      break;
    case "itinerary_modified": {
      const item = payload.item ?? payload;
      if (payload.action === "deleted") {
        trip.itinerary.delete(item.id);
        trip.deletedItems.add(item.id);
      } else if (!trip.deletedItems.has(item.id) && newer(item, trip.itinerary.get(item.id))) {
        const { action: _action, ...fields } = item;
        trip.itinerary.set(item.id, fields);
      }
      if (render) renderItinerary(trip);
      break;
    }
    case "expense_added":
      trip.expenses.set(payload.id, payload);
      if (render) renderExpenses(trip);
      break;
    case "budget_updated":
      trip.budget = payload;
      if (render) renderBudget(trip);
      reconcileExpenses(trip);
      break;
    case "message_sent":
      addMessage(trip, payload);
      break;
  }
}

/** An event's copy replaces ours unless ours is more recent (REST read after the change). */
function newer(incoming, current) {
  if (!current?.updatedAt || !incoming?.updatedAt) return true;
  return new Date(incoming.updatedAt) >= new Date(current.updatedAt);
}

/** Expense edits and deletions have no event of their own; the budget shows them. */
let reconcileTimer = null;
function reconcileExpenses(trip) {
  const listed = [...trip.expenses.values()].reduce((sum, e) => sum + Number(e.amount), 0);
  if (!trip.budget || Math.abs(listed - Number(trip.budget.spent)) < 0.005) return;
  clearTimeout(reconcileTimer);
  reconcileTimer = setTimeout(async () => {
    try {
      const expenses = await fetchAll(`/api/trips/${trip.id}/expenses/`);
      if (trip.closed) return;
      trip.expenses = new Map(expenses.map((expense) => [expense.id, expense]));
      renderExpenses(trip);
    } catch {
      // the next budget change or resync tries again
    }
  }, 400);
}

function tripNotice(text) {
  const notice = $("trip-notice");
  notice.textContent = text;
  show(notice, true);
}

function tripNotFound() {
  $("trip-title").textContent = "Trip not found";
  tripNotice("This trip doesn't exist, or you don't have access to it.");
}

function resetTripView() {
  for (const id of ["trip-title", "trip-destination", "trip-dates", "trip-description", "trip-visibility"]) {
    $(id).textContent = "";
  }
  $("trip-title").textContent = "Loading…";
  show($("trip-notice"), false);
  for (const id of ["itinerary-list", "expense-list", "chat-list", "presence-list", "event-log"]) {
    $(id).replaceChildren();
  }
  for (const id of ["budget-categories", "budget-members", "budget-settle"]) $(id).replaceChildren();
  for (const id of ["budget-total", "budget-spent", "budget-remaining"]) $(id).textContent = "—";
  show($("event-log-empty"), true);
  show($("chat-more"), false);
  show($("expense-error"), false);
  $("expense-paid-by").replaceChildren();
  $("expense-date").value = today();
}

function renderTrip(trip) {
  renderHeader(trip);
  renderItinerary(trip);
  renderExpenses(trip);
  renderBudget(trip);
  renderPaidBy(trip);
  renderPresence([...(trip.room?.members.values() ?? [])]);
}

function renderHeader(trip) {
  const info = trip.info;
  if (!info) return;
  document.title = `${info.title} · Trava`;
  $("trip-title").textContent = info.title;
  $("trip-destination").textContent = info.destination;
  $("trip-dates").textContent = dateRange(info.startDate, info.endDate);
  $("trip-visibility").textContent = info.visibility === "public" ? "Public" : "Private";
  $("trip-description").textContent = info.description ?? "";
}

function renderItinerary(trip) {
  const items = [...trip.itinerary.values()].sort(
    (a, b) => new Date(a.startsAt) - new Date(b.startsAt) || a.position - b.position || a.id - b.id,
  );
  const list = $("itinerary-list");
  const rows = [];
  let day = null;
  for (const item of items) {
    const start = new Date(item.startsAt);
    const label = dayFormat.format(start);
    if (label !== day) {
      day = label;
      rows.push(h("li", { class: "day", "aria-hidden": "true" }, label));
    }
    rows.push(
      h(
        "li",
        { class: "stop", dataset: { testid: "itinerary-item", itemId: item.id } },
        h(
          "span",
          { class: "stop-time" },
          timeTag(item.startsAt, timeFormat),
          item.endsAt ? h("span", { class: "muted" }, " – ", timeTag(item.endsAt, timeFormat)) : null,
        ),
        h(
          "span",
          { class: "stop-body" },
          h("span", { class: "stop-title" }, item.title),
          item.location ? h("span", { class: "stop-location muted" }, item.location) : null,
          item.notes ? h("span", { class: "stop-notes" }, item.notes) : null,
        ),
      ),
    );
  }
  list.replaceChildren(...rows);
  show($("itinerary-empty"), items.length === 0);
}

function memberName(trip, userId) {
  if (app.me && userId === app.me.id) return "You";
  return trip.members.get(userId)?.username ?? `Member #${userId}`;
}

function renderExpenses(trip) {
  const currency = trip.info?.currency;
  const expenses = [...trip.expenses.values()].sort(
    (a, b) => b.spentOn.localeCompare(a.spentOn) || b.id - a.id,
  );
  $("expense-list").replaceChildren(
    ...expenses.map((expense) =>
      h(
        "li",
        { class: "expense", dataset: { testid: "expense-item", expenseId: expense.id } },
        h("span", { class: `chip chip-${expense.category}` }, CATEGORY_LABELS[expense.category] ?? expense.category),
        h(
          "span",
          { class: "expense-body" },
          h("span", { class: "expense-title" }, expense.description),
          h("span", { class: "muted small" }, `${memberName(trip, expense.paidBy)} paid · `, timeTag(expense.spentOn, dateFormat)),
        ),
        h("span", { class: "expense-amount" }, money(expense.amount, expense.currency ?? currency)),
      ),
    ),
  );
  show($("expenses-empty"), expenses.length === 0);
}

function renderBudget(trip) {
  const budget = trip.budget;
  if (!budget) return;
  const currency = budget.currency ?? trip.info?.currency;
  $("budget-total").textContent = budget.total == null ? "Not set" : money(budget.total, currency);
  $("budget-spent").textContent = money(budget.spent, currency);
  const remaining = $("budget-remaining");
  remaining.textContent = budget.remaining == null ? "—" : money(budget.remaining, currency);
  remaining.classList.toggle("negative", budget.remaining != null && Number(budget.remaining) < 0);

  const total = Number(budget.total);
  const share = total > 0 ? Math.min(100, Math.round((Number(budget.spent) / total) * 100)) : 0;
  const meter = $("budget-meter");
  meter.setAttribute("aria-valuenow", String(share));
  meter.classList.toggle("over", total > 0 && Number(budget.spent) > total);
  meter.firstElementChild.style.width = `${share}%`;
  show(meter, total > 0);

  const spent = Number(budget.spent) || 1;
  $("budget-categories").replaceChildren(
    ...(budget.byCategory ?? [])
      .filter((row) => Number(row.amount) > 0)
      .map((row) =>
        h(
          "li",
          {},
          h("span", { class: "bar-label" }, CATEGORY_LABELS[row.category] ?? row.category),
          h("span", { class: "bar-value" }, money(row.amount, currency)),
          h("span", { class: "bar", "aria-hidden": "true" }, barFill(row.category, Number(row.amount) / spent)),
        ),
      ),
  );
  if (!$("budget-categories").children.length) $("budget-categories").append(h("li", { class: "muted" }, "Nothing spent yet."));

  $("budget-members").replaceChildren(
    ...(budget.byMember ?? []).map((row) => {
      const balance = Number(row.balance);
      return h(
        "li",
        {},
        h("span", { class: "avatar small", "aria-hidden": "true" }, initials(row.username)),
        h("span", { class: "balance-name" }, row.username, h("span", { class: "muted small" }, ` paid ${money(row.paid, currency)}`)),
        h(
          "span",
          { class: `balance ${balance > 0 ? "positive" : balance < 0 ? "negative" : ""}` },
          balance > 0 ? `gets ${money(balance, currency)}` : balance < 0 ? `owes ${money(-balance, currency)}` : "settled",
        ),
      );
    }),
  );

  const names = new Map((budget.byMember ?? []).map((row) => [row.userId, row.username]));
  const name = (id) => names.get(id) ?? memberName(trip, id);
  const transfers = budget.settleUp ?? [];
  $("budget-settle").replaceChildren(
    ...(transfers.length
      ? transfers.map((t) =>
          h("li", {}, h("strong", {}, name(t.fromUserId)), " pays ", h("strong", {}, name(t.toUserId)), h("span", { class: "settle-amount" }, money(t.amount, currency))),
        )
      : [h("li", { class: "muted" }, "Everyone is square.")]),
  );
}

/** Widths go through the CSSOM: the page's CSP allows no inline style attributes. */
function barFill(category, share) {
  const fill = h("span", { class: `bar-fill fill-${category}` });
  fill.style.width = `${Math.max(2, Math.round(share * 100))}%`;
  return fill;
}

function renderPaidBy(trip) {
  const select = $("expense-paid-by");
  const current = Number(select.value) || app.me?.id;
  select.replaceChildren(
    ...[...trip.members.values()].map((m) =>
      h("option", { value: m.userId, selected: m.userId === current }, m.userId === app.me?.id ? `${m.username} (you)` : m.username),
    ),
  );
}

function renderPresence(members) {
  const list = $("presence-list");
  const trip = app.trip;
  if (!trip?.room?.joined && members.length === 0) {
    list.replaceChildren(h("li", { class: "muted" }, "Connecting…"));
    return;
  }
  const sorted = [...members].sort((a, b) => String(a.username).localeCompare(String(b.username)));
  list.replaceChildren(
    ...sorted.map((m) =>
      h(
        "li",
        { dataset: { testid: "presence-member", userId: m.userId } },
        h("span", { class: "avatar", "aria-hidden": "true" }, initials(m.username), h("span", { class: "online-dot" })),
        h("span", {}, m.username, m.userId === app.me?.id ? h("span", { class: "muted small" }, " (you)") : null),
      ),
    ),
  );
  if (!sorted.length) list.append(h("li", { class: "muted" }, "Nobody else is here right now."));
}

// --- chat ------------------------------------------------------------------------------------

function addMessage(trip, message) {
  if (trip.messages.has(message.id)) return;
  trip.messages.set(message.id, message);
  renderChat(trip, { scroll: "if-near-bottom" });
}

function renderChat(trip, { scroll = "keep" } = {}) {
  const box = $("chat-scroll");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const fromBottom = box.scrollHeight - box.scrollTop;
  const messages = [...trip.messages.values()].sort((a, b) => new Date(a.createdAt) - new Date(b.createdAt) || a.id - b.id);
  const rows = messages.map((m) => {
    const mine = m.author && app.me && m.author.id === app.me.id;
    return h(
      "li",
      { class: `msg${mine ? " mine" : ""}`, dataset: { testid: "chat-message", messageId: m.id } },
      h(
        "span",
        { class: "msg-meta" },
        h("span", { class: "msg-author" }, m.author?.username ?? "Someone"),
        timeTag(m.createdAt, timeFormat),
      ),
      h("span", { class: "msg-text" }, m.text),
    );
  });
  for (const [localId, pending] of trip.pending) {
    rows.push(
      h(
        "li",
        { class: `msg mine pending ${pending.status}`, dataset: { testid: "chat-message-pending", localId, status: pending.status } },
        h(
          "span",
          { class: "msg-meta" },
          h("span", { class: "msg-author" }, app.me?.username ?? "You"),
          pending.status === "failed"
            ? h("span", { class: "msg-failed" }, "Not sent · ", h("button", { type: "button", class: "link", onclick: () => sendChat(trip, pending.text, localId) }, "Retry"))
            : h("span", { class: "msg-sending" }, "Sending…"),
        ),
        h("span", { class: "msg-text" }, pending.text),
      ),
    );
  }
  $("chat-list").replaceChildren(...rows);
  show($("chat-empty"), rows.length === 0);
  show($("chat-more"), Boolean(trip.chatNext));
  if (scroll === "bottom" || (scroll === "if-near-bottom" && nearBottom)) box.scrollTop = box.scrollHeight;
  else if (scroll === "keep-position") box.scrollTop = box.scrollHeight - fromBottom;
}

async function loadEarlier() {
  const trip = app.trip;
  if (!trip?.chatNext) return;
  const button = $("chat-more");
  button.disabled = true;
  try {
    const page = await api(localPath(trip.chatNext));
    if (trip.closed) return;
    for (const message of page.results) trip.messages.set(message.id, message);
    trip.chatNext = page.next;
    renderChat(trip, { scroll: "keep-position" });
  } catch {
    toast("Couldn't load earlier messages.", "error");
  } finally {
    button.disabled = false;
  }
}

let localSeq = 0;

/**
 * Send over the socket: the client library queues the message while offline and resends it
 * with the same clientMessageId after a reconnect, so the server stores it once. Until the
 * ack it shows as "Sending…"; a refused message can be retried (it was not stored).
 */
function sendChat(trip, text, localId = `local-${++localSeq}`) {
  trip.pending.set(localId, { text, status: "sending" });
  renderChat(trip, { scroll: "bottom" });
  trip.room.sendMessage(text).then(
    (message) => {
      trip.pending.delete(localId);
      if (message?.id != null && !trip.messages.has(message.id)) trip.messages.set(message.id, message);
      if (!trip.closed) renderChat(trip, { scroll: "if-near-bottom" });
    },
    (err) => {
      if (trip.closed) return;
      trip.pending.set(localId, { text, status: "failed" });
      renderChat(trip);
      if (err?.code === "rate_limited") toast("You're sending messages too fast.", "error");
    },
  );
}

function onChatSubmit(event) {
  event.preventDefault();
  const trip = app.trip;
  const input = $("chat-input");
  const text = input.value.trim();
  if (!trip || !text) return;
  input.value = "";
  sendChat(trip, text);
}

// --- expenses --------------------------------------------------------------------------------

async function onExpenseSubmit(event) {
  event.preventDefault();
  const trip = app.trip;
  if (!trip) return;
  const form = event.currentTarget;
  const error = $("expense-error");
  const amount = form.amount.value.trim().replace(",", ".");
  const body = {
    description: form.description.value.trim(),
    amount,
    category: form.category.value,
    paidBy: Number(form.paidBy.value),
    spentOn: form.spentOn.value,
  };
  if (!body.description || !/^\d+(\.\d{1,2})?$/.test(amount) || Number(amount) <= 0 || !body.spentOn) {
    error.textContent = "Enter a description, an amount above zero (at most 2 decimals) and a date.";
    show(error, true);
    return;
  }
  show(error, false);
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    const expense = await api(`/api/trips/${trip.id}/expenses/`, { method: "POST", body });
    if (trip.closed) return;
    trip.expenses.set(expense.id, expense); // the expense_added event finds it already here
    renderExpenses(trip);
    form.description.value = "";
    form.amount.value = "";
    form.description.focus();
    // The budget_updated event brings the totals; reading them too keeps this page right
    // even while live updates are paused.
    const budget = await api(`/api/trips/${trip.id}/budget/`);
    if (!trip.closed) {
      trip.budget = budget;
      renderBudget(trip);
    }
  } catch (err) {
    const fields = err.fields ? Object.values(err.fields).flat().join(" ") : "";
    error.textContent =
      err.status === 403 ? "Only editors can add expenses to this trip." : fields || err.message || "Couldn't add the expense.";
    show(error, true);
  } finally {
    submit.disabled = false;
  }
}

// --- event log -------------------------------------------------------------------------------

function summarize(message) {
  const p = message.payload ?? {};
  switch (message.type) {
    case "message_sent":
      return `${p.author?.username ?? "Someone"}: ${p.text ?? ""}`;
    case "user_joined":
    case "user_left":
      return p.user?.username ?? "";
    case "itinerary_modified":
      return `${p.action ?? "changed"}${p.title ? ` · ${p.title}` : ""}`;
    case "expense_added":
      return `${p.description ?? ""} · ${money(p.amount, p.currency)}`;
    case "budget_updated":
      return `spent ${money(p.spent, p.currency)}`;
    case "trip_updated":
      return p.title ?? "";
    case "notification":
      return p.message ?? p.kind ?? "";
    default:
      return p.title ?? p.caption ?? "";
  }
}

function logEvent(message) {
  const trip = app.trip;
  if (!trip || !message?.type) return;
  // The client already drops replayed duplicates; this guards the log against a REST
  // reload meeting a resent event too.
  const key = message.eventId != null ? `${message.roomId}:${message.eventId}` : null;
  if (key) {
    if (trip.logged.has(key)) return;
    trip.logged.add(key);
  }
  const when = new Date(message.timestamp ?? Date.now());
  const summary = summarize(message);
  const item = h(
    "li",
    { dataset: { testid: "event-log-item", type: message.type, eventId: message.eventId ?? "" } },
    h("span", { class: `event-type type-${message.type}` }, EVENT_LABELS[message.type] ?? message.type),
    h("span", { class: "event-summary", title: summary }, summary),
    h("time", { class: "event-time", datetime: when.toISOString() }, clockFormat.format(when)),
  );
  const log = $("event-log");
  log.prepend(item);
  while (log.children.length > EVENT_LOG_SIZE) log.lastElementChild.remove();
  show($("event-log-empty"), false);
}

// --- start -----------------------------------------------------------------------------------

function autoGrow(event) {
  const input = event.currentTarget;
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 140)}px`;
}

function init() {
  $("signin-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut());
  $("chat-form").addEventListener("submit", onChatSubmit);
  $("chat-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("chat-form").requestSubmit();
    }
  });
  $("chat-input").addEventListener("input", autoGrow);
  $("chat-more").addEventListener("click", loadEarlier);
  $("expense-form").addEventListener("submit", onExpenseSubmit);
  window.addEventListener("hashchange", () => auth.read() && route());
  if (auth.read()) {
    afterSignIn().catch((err) => {
      if (err.status === 401) signOut();
      else toast("Can't reach Trava right now. Reload the page to try again.", "error");
    });
  } else {
    route();
  }
}

init();
