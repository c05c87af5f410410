/** Group activities with RSVPs (going, maybe, declined). */
import { api, fetchAll } from "../api.js";
import { $, busy, formError, h, show, toast } from "../dom.js";
import { dateTimeFormat, timeTag } from "../format.js";
import { app } from "../state.js";

const RSVP_LABELS = { going: "Going", maybe: "Maybe", declined: "Can't go" };

export function resetActivities() {
  $("activity-list").replaceChildren();
  formError($("activity-error"), "");
}

export async function loadActivities(trip) {
  const list = await fetchAll(`/api/trips/${trip.id}/activities/`);
  trip.activities = new Map(list.map((a) => [a.id, a]));
}

/** activity_created/updated/deleted and rsvp_changed: apply what the payload says, or re-read. */
export async function onActivityEvent(trip, type, payload) {
  if (type === "activity_deleted") {
    trip.activities.delete(payload?.id ?? payload?.activityId);
  } else if ((type === "activity_created" || type === "activity_updated") && payload?.id != null && payload.rsvps) {
    trip.activities.set(payload.id, payload);
  } else {
    try {
      await loadActivities(trip);
    } catch {
      return;
    }
    if (trip.closed) return;
  }
  renderActivities(trip);
}

export function renderActivities(trip) {
  const activities = [...trip.activities.values()].sort((a, b) => new Date(a.startsAt) - new Date(b.startsAt) || a.id - b.id);
  $("activity-list").replaceChildren(
    ...activities.map((activity) => {
      const rsvps = activity.rsvps ?? [];
      const mine = rsvps.find((r) => r.user?.id === app.me?.id)?.status ?? null;
      const going = rsvps.filter((r) => r.status === "going").map((r) => r.user?.username);
      const maybe = rsvps.filter((r) => r.status === "maybe").length;
      return h(
        "li",
        { class: "activity", dataset: { testid: "activity-item", activityId: activity.id } },
        h(
          "div",
          { class: "activity-head" },
          h("span", { class: "activity-title" }, activity.title),
          h("span", { class: "muted small" }, timeTag(activity.startsAt, dateTimeFormat), activity.location ? ` · ${activity.location}` : ""),
        ),
        h(
          "p",
          { class: "small muted activity-count", dataset: { testid: "activity-going" } },
          going.length ? `Going: ${going.join(", ")}` : "Nobody has said yes yet.",
          maybe ? ` · ${maybe} maybe` : "",
        ),
        h(
          "div",
          { class: "rsvp", role: "group", "aria-label": `Your answer for ${activity.title}` },
          ...Object.entries(RSVP_LABELS).map(([status, label]) =>
            h(
              "button",
              {
                type: "button",
                class: `btn btn-small ${mine === status ? "btn-primary" : "btn-ghost"}`,
                "aria-pressed": String(mine === status),
                dataset: { rsvp: status },
                onclick: () => rsvp(trip, activity, status),
              },
              label,
            ),
          ),
        ),
      );
    }),
  );
  show($("activities-empty"), activities.length === 0);
}

async function rsvp(trip, activity, status) {
  try {
    await api(`/api/activities/${activity.id}/rsvp/`, { method: "POST", body: { status } });
    const fresh = await api(`/api/activities/${activity.id}/`);
    if (trip.closed) return;
    trip.activities.set(fresh.id, fresh);
    renderActivities(trip);
  } catch (err) {
    toast(err.describe?.("Couldn't save your answer.") ?? "Couldn't save your answer.", "error");
  }
}

async function onCreateActivity(event) {
  event.preventDefault();
  const trip = app.trip;
  if (!trip) return;
  const form = event.currentTarget;
  const error = $("activity-error");
  const title = form.title.value.trim();
  const when = form.startsAt.value;
  if (!title || !when) {
    formError(error, "Give the activity a name and a time.");
    return;
  }
  formError(error, "");
  await busy(form, async () => {
    try {
      const activity = await api(`/api/trips/${trip.id}/activities/`, {
        method: "POST",
        body: { title, startsAt: new Date(when).toISOString(), location: form.location.value.trim() },
      });
      if (trip.closed) return;
      trip.activities.set(activity.id, activity);
      renderActivities(trip);
      form.reset();
    } catch (err) {
      formError(error, err.status === 403 ? "Only trip members can propose activities." : err.describe?.("Couldn't add the activity.") ?? "Couldn't add the activity.");
    }
  });
}

export function initActivities() {
  $("activity-form").addEventListener("submit", onCreateActivity);
}
