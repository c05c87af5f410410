/** The trip's activity log: every live event of its rooms, newest first. */
import { $, h, show } from "../dom.js";
import { clockFormat, EVENT_LABELS, summarize } from "../format.js";
import { app } from "../state.js";

const EVENT_LOG_SIZE = 50;

export function resetLog() {
  $("event-log").replaceChildren();
  show($("event-log-empty"), true);
}

export function logEvent(message) {
  const trip = app.trip;
  if (!trip || !message?.type || message.type === "room_joined") return;
  // The client already drops replayed duplicates; this guards the log against a REST
  // reload meeting a resent event too, and an event reaching two joined rooms.
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
