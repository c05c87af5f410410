/** The trip's header, itinerary, expenses and budget. */
import { api } from "../api.js";
import { $, busy, formError, h, show, toast } from "../dom.js";
import { CATEGORY_LABELS, dateFormat, dateRange, dayFormat, initials, money, timeFormat, timeTag, today } from "../format.js";
import { app } from "../state.js";

export function tripNotice(text) {
  const notice = $("trip-notice");
  notice.textContent = text;
  show(notice, Boolean(text));
}

export function memberName(trip, userId) {
  if (app.me && userId === app.me.id) return "You";
  return trip.members.get(userId)?.username ?? `Member #${userId}`;
}

export function resetOverview() {
  for (const id of ["trip-title", "trip-destination", "trip-dates", "trip-description", "trip-visibility"]) {
    $(id).textContent = "";
  }
  $("trip-title").textContent = "Loading…";
  tripNotice("");
  for (const id of ["itinerary-list", "expense-list", "budget-categories", "budget-members", "budget-settle"]) {
    $(id).replaceChildren();
  }
  for (const id of ["budget-total", "budget-spent", "budget-remaining"]) $(id).textContent = "—";
  show($("expense-error"), false);
  $("expense-paid-by").replaceChildren();
  $("expense-date").value = today();
}

export function renderHeader(trip) {
  const info = trip.info;
  if (!info) return;
  document.title = `${info.title} · Trava`;
  $("trip-title").textContent = info.title;
  $("trip-destination").textContent = info.destination;
  $("trip-dates").textContent = dateRange(info.startDate, info.endDate);
  $("trip-visibility").textContent = info.visibility === "public" ? "Public" : "Private";
  $("trip-description").textContent = info.description ?? "";
}

export function renderItinerary(trip) {
  const items = [...trip.itinerary.values()].sort(
    (a, b) => new Date(a.startsAt) - new Date(b.startsAt) || a.position - b.position || a.id - b.id,
  );
  const rows = [];
  let day = null;
  for (const item of items) {
    const label = dayFormat.format(new Date(item.startsAt));
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
  $("itinerary-list").replaceChildren(...rows);
  show($("itinerary-empty"), items.length === 0);
}

export function renderExpenses(trip) {
  const currency = trip.info?.currency;
  const expenses = [...trip.expenses.values()].sort((a, b) => b.spentOn.localeCompare(a.spentOn) || b.id - a.id);
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

/** Widths go through the CSSOM: the page's CSP allows no inline style attributes. */
function barFill(category, share) {
  const fill = h("span", { class: `bar-fill fill-${category}` });
  fill.style.width = `${Math.max(2, Math.round(share * 100))}%`;
  return fill;
}

export function renderBudget(trip) {
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
  const categories = (budget.byCategory ?? []).filter((row) => Number(row.amount) > 0);
  $("budget-categories").replaceChildren(
    ...(categories.length
      ? categories.map((row) =>
          h(
            "li",
            {},
            h("span", { class: "bar-label" }, CATEGORY_LABELS[row.category] ?? row.category),
            h("span", { class: "bar-value" }, money(row.amount, currency)),
            h("span", { class: "bar", "aria-hidden": "true" }, barFill(row.category, Number(row.amount) / spent)),
          ),
        )
      : [h("li", { class: "muted" }, "Nothing spent yet.")]),
  );

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

export function renderPaidBy(trip) {
  const select = $("expense-paid-by");
  const current = Number(select.value) || app.me?.id;
  select.replaceChildren(
    ...[...trip.members.values()].map((m) =>
      h("option", { value: m.userId, selected: m.userId === current }, m.userId === app.me?.id ? `${m.username} (you)` : m.username),
    ),
  );
}

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
    formError(error, "Enter a description, an amount above zero (at most 2 decimals) and a date.");
    return;
  }
  formError(error, "");
  await busy(form, async () => {
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
      formError(error, err.status === 403 ? "Only editors can add expenses to this trip." : err.describe?.("Couldn't add the expense.") ?? "Couldn't add the expense.");
    }
  });
}

async function onItinerarySubmit(event) {
  event.preventDefault();
  const trip = app.trip;
  if (!trip) return;
  const form = event.currentTarget;
  const error = $("itinerary-error");
  const title = form.title.value.trim();
  const when = form.startsAt.value;
  if (!title || !when) {
    formError(error, "Give the stop a name and a start time.");
    return;
  }
  formError(error, "");
  await busy(form, async () => {
    try {
      const item = await api(`/api/trips/${trip.id}/itinerary/`, {
        method: "POST",
        body: { title, startsAt: new Date(when).toISOString(), location: form.location.value.trim() },
      });
      if (trip.closed) return;
      trip.itinerary.set(item.id, item); // the itinerary_modified event finds it already here
      renderItinerary(trip);
      form.reset();
    } catch (err) {
      formError(error, err.status === 403 ? "Only editors can change the itinerary." : (err.describe?.("Couldn't add the stop.") ?? "Couldn't add the stop."));
    }
  });
}

async function onBudgetSubmit(event) {
  event.preventDefault();
  const trip = app.trip;
  if (!trip) return;
  const form = event.currentTarget;
  const value = form.total.value.trim().replace(",", ".");
  if (value && !/^\d+(\.\d{1,2})?$/.test(value)) {
    toast("The budget is an amount like 1500 or 1500.00.", "error");
    return;
  }
  await busy(form, async () => {
    try {
      const budget = await api(`/api/trips/${trip.id}/budget/`, { method: "PATCH", body: { total: value || null } });
      if (trip.closed) return;
      trip.budget = budget;
      renderBudget(trip);
      form.reset();
      form.closest("details").open = false;
    } catch (err) {
      toast(err.status === 403 ? "Only editors can change the budget." : (err.describe?.("Couldn't save the budget.") ?? "Couldn't save the budget."), "error");
    }
  });
}

export function initOverview() {
  $("expense-form").addEventListener("submit", onExpenseSubmit);
  $("itinerary-form").addEventListener("submit", onItinerarySubmit);
  $("budget-form").addEventListener("submit", onBudgetSubmit);
}
