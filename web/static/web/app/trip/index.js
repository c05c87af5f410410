/**
 * One trip: its REST state read once (and again after a resync the server could not
 * replay), then kept current by the events of its room (`trip_<id>`), plus the rooms of
 * the album and the journal entry being looked at. Every resource is kept in a Map by its
 * id, so an event that repeats what REST already returned (or a replayed event, or one
 * reaching two rooms) never shows twice.
 */
import { api, fetchAll, forgetImages } from "../api.js";
import { $, debounce, show, toast } from "../dom.js";
import { app } from "../state.js";
import { loadActivities, onActivityEvent, renderActivities, resetActivities } from "./activities.js";
import { addMessage, renderChat, resetChat } from "./chat.js";
import { closeEntry, loadJournal, onJournalEvent, openEntry, renderJournalList, resetJournal } from "./journal.js";
import { logEvent, resetLog } from "./log.js";
import { renderBudget, renderExpenses, renderHeader, renderItinerary, renderPaidBy, resetOverview, tripNotice } from "./overview.js";
import { canEdit, memberEventUserId, memberFromApi, renderMembers, renderPresence, resetPeople, setMembersChangedHandler } from "./people.js";
import { closeAlbum, loadAlbums, onPhotoEvent, openAlbum, renderAlbums, resetPhotos } from "./photos.js";

const CHAT_PAGE_SIZE = 30;
const TABS = ["overview", "photos", "journal"];

const TRIP_EVENTS = ["trip_updated", "itinerary_modified", "expense_added", "budget_updated", "message_sent"];
const MEMBER_EVENTS = ["member_added", "member_removed", "member_role_changed"];
const ACTIVITY_EVENTS = ["activity_created", "activity_updated", "activity_deleted", "rsvp_changed"];
const PHOTO_EVENTS = ["photo_uploaded", "photo_updated", "photo_deleted", "photo_liked", "photo_unliked", "photo_commented", "photo_comment_deleted", "album_updated"];
const JOURNAL_EVENTS = ["journal_entry_created", "journal_entry_updated", "journal_entry_published", "journal_entry_deleted", "journal_comment", "journal_comment_deleted"];
const HANDLED = new Set([...TRIP_EVENTS, ...MEMBER_EVENTS, ...ACTIVITY_EVENTS, ...PHOTO_EVENTS, ...JOURNAL_EVENTS, "trip_deleted"]);

/** Parse `#trip/<id>[/<tab>[/<itemId>]]`; null if the hash names no trip. */
export function parseTripHash(hash) {
  const match = /^#trip\/(\d+)(?:\/(overview|photos|journal)(?:\/(\d+))?)?$/.exec(hash);
  if (!match) return null;
  return { tripId: Number(match[1]), tab: match[2] ?? "overview", itemId: match[3] ? Number(match[3]) : null };
}

export function closeTrip() {
  const trip = app.trip;
  if (!trip) return;
  app.trip = null;
  trip.closed = true;
  closeAlbum(trip);
  closeEntry(trip);
  for (const off of trip.unsubscribe) off();
  trip.room?.leave();
  forgetImages();
}

/** Show the trip named by the route (opening it first if another one, or none, is open). */
export async function showTrip({ tripId, tab, itemId }) {
  if (!app.client) return; // signing in: the route runs again once the client exists
  if (app.trip?.id !== tripId) openTrip(tripId);
  const trip = app.trip;
  trip.tab = tab;
  trip.itemId = itemId;
  showTab(trip);
  await trip.loaded;
  if (trip.closed || trip.tab !== tab || trip.itemId !== itemId) return;
  if (tab === "photos") await openAlbum(trip, itemId, (type, payload) => handle(trip, type, payload));
  if (tab === "journal") await openEntry(trip, itemId, (type, payload) => handle(trip, type, payload));
}

function showTab(trip) {
  for (const name of TABS) {
    show($(`tab-panel-${name}`), name === trip.tab);
    const link = $(`tab-${name}`);
    link.href = name === "overview" ? `#trip/${trip.id}` : `#trip/${trip.id}/${name}`;
    if (name === trip.tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function openTrip(tripId) {
  closeTrip();
  const trip = {
    id: tripId,
    closed: false,
    loading: true,
    loaded: null, // resolves when the first REST read is in
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
    activities: new Map(),
    albums: new Map(),
    photos: new Map(), // the open album's
    openAlbumId: null,
    albumRoom: null,
    albumUnsubscribe: [],
    openPhotoId: null,
    comments: new Map(), // the open photo's
    liked: new Set(), // photo ids I like
    entries: new Map(),
    openEntryId: null,
    entryRoom: null,
    entryUnsubscribe: [],
    entryComments: new Map(), // the open entry's
    editing: null, // {baseVersion} while the open entry is being edited
    logged: new Set(),
    unsubscribe: [],
    room: null,
    tab: "overview",
    itemId: null,
  };
  app.trip = trip;
  resetTripView();

  trip.room = app.client.join(`trip_${tripId}`);
  const room = trip.room;
  const on = (type, fn) => trip.unsubscribe.push(room.on(type, fn));
  on("members", (members) => renderPresence(members));
  on("*", (message) => {
    logEvent(message);
    if (HANDLED.has(message.type)) handle(trip, message.type, message.payload ?? {});
  });
  on("error", (payload) => {
    if (payload?.code === "room_access_denied") tripNotice("Live updates aren't available for this trip.");
  });
  on("room_left", (payload) => {
    if (payload?.reason === "access_revoked") lostAccess(trip);
  });
  on("resync", () => reloadTrip(trip));
  renderPresence([...room.members.values()]);
  trip.loaded = reloadTrip(trip);
}

function lostAccess(trip) {
  if (trip.closed || trip.deleted) return; // trip_deleted already said why, and left
  tripNotice("You no longer have access to this trip.");
  toast("You were removed from this trip.", "error");
}

/** The trip is gone: say so and leave its page for the trip list. */
function tripDeleted(trip) {
  if (trip.closed || trip.deleted) return;
  trip.deleted = true;
  const title = trip.info?.title;
  toast(title ? `“${title}” was deleted.` : "This trip was deleted.", "error");
  if (app.trip === trip) location.hash = "#trips"; // the route closes the trip
}

/** Every event of the trip's rooms; queued while the REST state loads. */
function handle(trip, type, payload) {
  if (trip.closed) return;
  if (type === "trip_deleted") return tripDeleted(trip); // no REST state to wait for
  if (trip.loading) trip.queued.push([type, payload]);
  else applyEvent(trip, type, payload);
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
      loadActivities(trip),
      loadAlbums(trip),
      loadJournal(trip),
    ]);
    if (trip.closed) return;
    trip.info = info;
    trip.members = new Map(members.map((m) => [m.user.id, memberFromApi(m)]));
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

/** Members changed: re-read them, and the budget (its split and balances include everyone). */
const reloadMembers = debounce(async (trip) => {
  try {
    const [members, budget] = await Promise.all([fetchAll(`/api/trips/${trip.id}/members/`), api(`/api/trips/${trip.id}/budget/`)]);
    if (trip.closed) return;
    trip.members = new Map(members.map((m) => [m.user.id, memberFromApi(m)]));
    trip.budget = budget;
    renderMembers(trip);
    renderPaidBy(trip);
    renderBudget(trip);
    renderRole(trip);
  } catch {
    // removed from the trip meanwhile: room_left says so
  }
}, 200);

setMembersChangedHandler((trip) => reloadMembers(trip));

function applyEvent(trip, type, payload, { render = true } = {}) {
  switch (type) {
    case "trip_updated":
      if (newer(payload, trip.info)) trip.info = { ...trip.info, ...payload };
      if (render) renderHeader(trip);
      break;
    case "trip_deleted":
      tripDeleted(trip);
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
    case "expense_updated":
      trip.expenses.set(payload.id, payload);
      if (render) renderExpenses(trip);
      break;
    case "expense_deleted":
      trip.expenses.delete(payload.id ?? payload.expenseId);
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
    case "member_added":
    case "member_role_changed":
      if (payload?.user?.id != null && payload.role) trip.members.set(payload.user.id, memberFromApi(payload));
      reloadMembers(trip);
      if (render) {
        renderMembers(trip);
        renderPaidBy(trip);
      }
      break;
    case "member_removed": {
      const userId = memberEventUserId(payload);
      if (userId != null) trip.members.delete(userId);
      if (userId !== app.me?.id) reloadMembers(trip);
      if (userId === app.me?.id) lostAccess(trip);
      if (render) {
        renderMembers(trip);
        renderPaidBy(trip);
      }
      break;
    }
    default:
      if (ACTIVITY_EVENTS.includes(type)) onActivityEvent(trip, type, payload);
      else if (PHOTO_EVENTS.includes(type)) onPhotoEvent(trip, type, payload);
      else if (JOURNAL_EVENTS.includes(type)) onJournalEvent(trip, type, payload);
  }
}

/** An event's copy replaces ours unless ours is more recent (REST read after the change). */
function newer(incoming, current) {
  if (!current?.updatedAt || !incoming?.updatedAt) return true;
  return new Date(incoming.updatedAt) >= new Date(current.updatedAt);
}

/** Expense edits and deletions may have no event of their own; the budget shows them. */
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

function tripNotFound() {
  $("trip-title").textContent = "Trip not found";
  tripNotice("This trip doesn't exist, or you don't have access to it.");
}

function resetTripView() {
  resetOverview();
  resetChat();
  resetLog();
  resetPeople();
  resetActivities();
  resetPhotos();
  resetJournal();
}

/** Forms for editors only: a viewer is not offered what the server would refuse. */
function renderRole(trip) {
  const editor = canEdit(trip);
  for (const el of document.querySelectorAll(".needs-edit")) show(el, editor);
}

function renderTrip(trip) {
  renderRole(trip);
  renderHeader(trip);
  renderItinerary(trip);
  renderExpenses(trip);
  renderBudget(trip);
  renderPaidBy(trip);
  renderMembers(trip);
  renderActivities(trip);
  renderAlbums(trip);
  renderJournalList(trip);
  renderPresence([...(trip.room?.members.values() ?? [])]);
}
