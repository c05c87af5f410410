/**
 * Trava's live page: sign up or sign in, list and create trips, open one and follow it
 * live (overview, photos, journal), with notifications from the user's own room.
 *
 * REST (`/api/...`) owns the state; the WebSocket client (`trava-realtime.js`, the
 * project's browser client library) pushes what changed into the rooms the page follows.
 * Native ES modules, no build step: this module wires the views and the routes.
 */
import { createClient } from "../../realtime/trava-realtime.js";
import { api, auth, ME_KEY, publicApi, setSignedOutHandler, getToken } from "./api.js";
import { $, busy, formError, show, toast } from "./dom.js";
import { followNotifications, initNotifications, loadNotifications, onNotification, resetNotifications, tripOf } from "./notifications.js";
import { app } from "./state.js";
import { initActivities } from "./trip/activities.js";
import { initChat } from "./trip/chat.js";
import { closeTrip, parseTripHash, showTrip } from "./trip/index.js";
import { initJournal } from "./trip/journal.js";
import { logEvent } from "./trip/log.js";
import { initOverview } from "./trip/overview.js";
import { initPeople } from "./trip/people.js";
import { initPhotos } from "./trip/photos.js";
import { initTrips, showTrips } from "./trips.js";

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
  followNotifications(client);
  client.on("notification", (payload, message) => logEvent(message));
  client.on("kicked", () => toast("You were disconnected by an administrator.", "error"));
  client.on("error", (payload) => {
    if (payload?.code === "rate_limited") toast("Slow down a little — too many messages.", "error");
  });
  return client;
}

// --- views and routing -----------------------------------------------------------------------

function showView(name) {
  for (const view of ["signin", "trips", "trip"]) show($(`view-${view}`), view === name);
  const signedIn = name !== "signin";
  for (const id of ["connection-state", "sign-out", "current-user", "notifications"]) show($(id), signedIn);
}

/**
 * Show what the URL names. Until the signed-in session is set up (the user read, the
 * socket client created) a route waits: `start()` routes again when it is, so a hash
 * change while the page loads never reaches a trip without a client.
 */
function route() {
  if (!auth.read()) {
    closeTrip();
    showView("signin");
    $("signin-username").focus();
    return;
  }
  if (!app.client) return;
  const target = parseTripHash(location.hash);
  if (target) {
    showView("trip");
    showTrip(target);
  } else {
    closeTrip();
    showView("trips");
    showTrips();
  }
}

// --- sign in, sign up, sign out ----------------------------------------------------------------

function authMode(mode) {
  show($("signin-form"), mode === "signin");
  show($("signup-form"), mode === "signup");
  $(mode === "signin" ? "signin-username" : "signup-username").focus();
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = $("signin-error");
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    formError(error, "Enter your username and password.");
    return;
  }
  formError(error, "");
  await busy(form, async () => {
    try {
      const tokens = await publicApi("/api/auth/token/", { username, password });
      auth.write({ access: tokens.access, refresh: tokens.refresh });
      form.reset();
      await start();
    } catch (err) {
      formError(
        error,
        err.status === 429
          ? "Too many attempts. Please wait a minute and try again."
          : err.status === 401 || err.status === 400
            ? "That username and password don't match."
            : err.status
              ? err.message
              : "Can't reach Trava. Check your connection and try again.",
      );
    }
  });
}

async function signUp(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = $("signup-error");
  const body = { username: form.username.value.trim(), email: form.email.value.trim(), password: form.password.value };
  if (!body.username || !body.email || !body.password) {
    formError(error, "Choose a username, enter your email and a password.");
    return;
  }
  formError(error, "");
  await busy(form, async () => {
    try {
      await publicApi("/api/auth/register/", body);
      const tokens = await publicApi("/api/auth/token/", { username: body.username, password: body.password });
      auth.write({ access: tokens.access, refresh: tokens.refresh });
      form.reset();
      await start();
      toast(`Welcome to Trava, ${body.username}!`);
    } catch (err) {
      formError(
        error,
        err.status === 429
          ? "Too many sign-ups from here. Please wait a minute and try again."
          : err.status
            ? (err.describe?.("Couldn't create the account.") ?? "Couldn't create the account.")
            : "Can't reach Trava. Check your connection and try again.",
      );
    }
  });
}

/** Set up the signed-in session (who I am, the socket client, notifications), then route. */
async function start() {
  let me = null;
  try {
    me = JSON.parse(sessionStorage.getItem(ME_KEY));
  } catch {
    me = null;
  }
  if (!me) {
    const body = await api("/api/auth/me/");
    me = { id: body.id, username: body.username };
    sessionStorage.setItem(ME_KEY, JSON.stringify(me));
  }
  if (!auth.read()) return; // signed out while waiting
  app.me = me;
  $("current-user").textContent = me.username;
  if (!app.client) {
    startClient();
    loadNotifications();
  }
  route();
}

function signOut({ reason } = {}) {
  auth.clear();
  closeTrip();
  app.client?.close();
  app.client = null;
  app.me = null;
  resetNotifications();
  onNotification(refreshTripsOnInvite);
  renderConnection("stopped");
  if (reason) toast(reason);
  if (location.hash) history.replaceState(null, "", location.pathname);
  showView("signin");
  authMode("signin");
}

/** Added to a trip: the trip list shows it without a reload. */
function refreshTripsOnInvite(notification) {
  if (!app.trip && tripOf(notification) && !$("view-trips").hidden) showTrips();
}

// --- start -----------------------------------------------------------------------------------

function init() {
  setSignedOutHandler(signOut);
  $("signin-form").addEventListener("submit", signIn);
  $("signup-form").addEventListener("submit", signUp);
  $("show-signup").addEventListener("click", () => authMode("signup"));
  $("show-signin").addEventListener("click", () => authMode("signin"));
  $("sign-out").addEventListener("click", () => signOut());
  initNotifications();
  onNotification(refreshTripsOnInvite);
  initTrips();
  initOverview();
  initChat();
  initPeople();
  initActivities();
  initPhotos();
  initJournal();
  // On a phone the add forms start folded, so the lists they add to come first.
  if (matchMedia("(max-width: 820px)").matches) {
    for (const details of document.querySelectorAll("details[data-collapse-on-phone]")) details.open = false;
  }
  window.addEventListener("hashchange", route);
  if (auth.read()) {
    start().catch((err) => {
      if (err.status === 401) signOut();
      else toast("Can't reach Trava right now. Reload the page to try again.", "error");
    });
  } else {
    route();
  }
}

init();
