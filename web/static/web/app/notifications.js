/** The notifications menu: the REST list, then live from the user's own room (`user_<id>`). */
import { api, fetchAll } from "./api.js";
import { $, h, show, toast } from "./dom.js";
import { dateTimeFormat, timeTag } from "./format.js";

const items = new Map(); // id -> notification
let listeners = [];

/** Called for every new notification (the trips list refreshes on an invitation). */
export function onNotification(fn) {
  listeners.push(fn);
}

export function resetNotifications() {
  items.clear();
  listeners = [];
  render();
  closeMenu();
}

export async function loadNotifications() {
  try {
    const list = await fetchAll("/api/notifications/");
    for (const n of list) items.set(n.id, n);
    render();
  } catch {
    // the menu fills from live events; the next sign-in reads it again
  }
}

/** Wire the socket client: `notification` and `notifications_read` arrive in the user room. */
export function followNotifications(client) {
  client.on("notification", (payload) => {
    if (payload?.id == null || items.has(payload.id)) return;
    items.set(payload.id, payload);
    render();
    toast(payload.message ?? "New notification");
    for (const fn of listeners) fn(payload);
  });
  client.on("notifications_read", (payload) => {
    const ids = payload?.ids ?? [...items.keys()];
    for (const id of ids) {
      const n = items.get(id);
      if (n) items.set(id, { ...n, read: true });
    }
    render();
  });
}

/** The trip a notification is about, if any. */
export function tripOf(notification) {
  return notification?.data?.tripId ?? notification?.data?.trip_id ?? null;
}

function render() {
  const sorted = [...items.values()].sort((a, b) => Number(a.read) - Number(b.read) || new Date(b.createdAt) - new Date(a.createdAt));
  const unread = sorted.filter((n) => !n.read).length;
  const count = $("notif-count");
  count.textContent = unread > 99 ? "99+" : String(unread);
  show(count, unread > 0);
  $("notif-button").setAttribute("aria-label", unread ? `Notifications, ${unread} unread` : "Notifications");
  $("notif-list").replaceChildren(
    ...sorted.slice(0, 50).map((n) =>
      h(
        "li",
        { class: `notif${n.read ? "" : " unread"}`, dataset: { testid: "notification-item", notificationId: n.id } },
        h(
          "a",
          { href: tripOf(n) ? `#trip/${tripOf(n)}` : "#trips", onclick: () => markRead([n.id]) },
          h("span", { class: "notif-text" }, n.message || n.kind),
          n.createdAt ? h("span", { class: "muted small" }, timeTag(n.createdAt, dateTimeFormat)) : null,
        ),
      ),
    ),
  );
  show($("notif-empty"), sorted.length === 0);
}

async function markRead(ids) {
  const unread = ids ? ids.filter((id) => items.get(id) && !items.get(id).read) : [...items.values()].filter((n) => !n.read).map((n) => n.id);
  if (!unread.length) {
    closeMenu();
    return;
  }
  for (const id of unread) items.set(id, { ...items.get(id), read: true });
  render();
  closeMenu();
  try {
    await api("/api/notifications/read/", { method: "POST", body: ids ? { ids: unread } : {} });
  } catch {
    toast("Couldn't mark notifications as read.", "error");
  }
}

function closeMenu() {
  show($("notif-panel"), false);
  $("notif-button").setAttribute("aria-expanded", "false");
}

export function initNotifications() {
  const button = $("notif-button");
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    const open = $("notif-panel").hidden;
    show($("notif-panel"), open);
    button.setAttribute("aria-expanded", String(open));
  });
  $("notif-read-all").addEventListener("click", () => markRead(null));
  document.addEventListener("click", (event) => {
    if (!$("notif-panel").hidden && !event.target.closest("#notif-panel")) closeMenu();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("notif-panel").hidden) {
      closeMenu();
      button.focus();
    }
  });
}
