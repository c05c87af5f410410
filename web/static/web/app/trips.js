/** The trip list, and a form to create a trip. */
import { api, fetchAll } from "./api.js";
import { $, busy, formError, h } from "./dom.js";
import { dateRange, today } from "./format.js";

export async function showTrips() {
  document.title = "My trips · Trava";
  const list = $("trip-list");
  const status = $("trips-status");
  if (!list.children.length) status.textContent = "Loading your trips…";
  const form = $("trip-form");
  if (!form.startDate.value) form.startDate.value = today();
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
    status.textContent = trips.length ? "" : "No trips yet. Create one, or ask a friend to add you to theirs.";
  } catch (err) {
    if (err.status !== 401) status.textContent = "Couldn't load your trips. Try reloading the page.";
  }
}

async function onCreateTrip(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = $("trip-form-error");
  const body = {
    title: form.title.value.trim(),
    destination: form.destination.value.trim(),
    startDate: form.startDate.value,
    endDate: form.endDate.value || form.startDate.value,
    currency: form.currency.value,
    visibility: "private",
  };
  const budget = form.budgetTotal.value.trim().replace(",", ".");
  if (budget) body.budgetTotal = budget;
  if (!body.title || !body.destination || !body.startDate) {
    formError(error, "Give the trip a title, a destination and a start date.");
    return;
  }
  if (budget && !/^\d+(\.\d{1,2})?$/.test(budget)) {
    formError(error, "The budget is an amount like 1500 or 1500.00.");
    return;
  }
  formError(error, "");
  await busy(form, async () => {
    try {
      const trip = await api("/api/trips/", { method: "POST", body });
      form.reset();
      location.hash = `#trip/${trip.id}`;
    } catch (err) {
      formError(error, err.describe("Couldn't create the trip."));
    }
  });
}

export function initTrips() {
  $("trip-form").addEventListener("submit", onCreateTrip);
}
