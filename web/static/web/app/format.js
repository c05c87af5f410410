/** Labels, money and dates as people read them. */
import { h } from "./dom.js";

export const CATEGORY_LABELS = {
  lodging: "Lodging",
  transport: "Transport",
  food: "Food and drink",
  activities: "Activities",
  shopping: "Shopping",
  other: "Other",
};

export const ROLE_LABELS = { owner: "Owner", editor: "Editor", viewer: "Viewer" };

export const EVENT_LABELS = {
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
  photo_deleted: "Photo deleted",
  album_updated: "Album updated",
  member_added: "Member added",
  member_removed: "Member removed",
  journal_entry_created: "Journal entry",
  journal_entry_updated: "Journal updated",
  journal_entry_published: "Journal published",
  journal_entry_deleted: "Journal deleted",
  journal_comment: "Journal comment",
};

export function money(amount, currency) {
  if (amount == null || amount === "") return "—";
  const value = Number(amount);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "EUR" }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency ?? ""}`.trim();
  }
}

export function parseDate(value) {
  // A bare date (2026-05-01) is a calendar day, not midnight UTC.
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00`) : new Date(value);
}

export const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
export const dateFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
export const dateTimeFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
export const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

export function dateRange(start, end) {
  if (!start) return "";
  const from = dateFormat.format(parseDate(start));
  return end && end !== start ? `${from} – ${dateFormat.format(parseDate(end))}` : from;
}

export function timeTag(value, format) {
  const date = parseDate(value);
  return h("time", { datetime: date.toISOString() }, format.format(date));
}

export function initials(name) {
  return (name || "?").slice(0, 2).toUpperCase();
}

export function today() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

/** One line of text for the activity log. */
export function summarize(message) {
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
    case "photo_uploaded":
      return `${p.uploadedBy?.username ?? "Someone"}${p.caption ? ` · ${p.caption}` : ""}`;
    case "photo_commented":
      return `${p.author?.username ?? "Someone"}: ${p.text ?? ""}`;
    case "photo_liked":
      return `${p.user?.username ?? "Someone"} ${p.emoji ?? ""}`;
    case "member_added":
    case "member_removed":
      return p.user?.username ?? p.username ?? "";
    default:
      return p.title ?? p.caption ?? "";
  }
}
