/**
 * The trip's journal: entries listed, read as rendered Markdown, edited with the version
 * check (a stale version is refused with 409: the editor keeps the text and says so), and
 * published. The open entry's room (`journal_<id>`) brings its changes live to readers.
 */
import { api, fetchAll } from "../api.js";
import { $, busy, formError, h, show, toast } from "../dom.js";
import { dateTimeFormat, timeTag } from "../format.js";
import { renderMarkdown } from "../markdown.js";
import { app } from "../state.js";

export function resetJournal() {
  $("journal-list").replaceChildren();
  show($("entry-view"), false);
  formError($("journal-error"), "");
}

export async function loadJournal(trip) {
  const entries = await fetchAll(`/api/journals/?trip=${trip.id}`);
  trip.entries = new Map(entries.map((e) => [e.id, e]));
}

function canEdit(entry) {
  const me = app.me?.id;
  return entry.author?.id === me || (entry.collaborators ?? []).some((c) => c.id === me);
}

export function renderJournalList(trip) {
  const entries = [...trip.entries.values()].sort((a, b) => new Date(b.updatedAt) - new Date(a.updatedAt) || b.id - a.id);
  $("journal-list").replaceChildren(
    ...entries.map((entry) =>
      h(
        "li",
        {},
        h(
          "a",
          {
            href: `#trip/${trip.id}/journal/${entry.id}`,
            class: `entry-link${entry.id === trip.openEntryId ? " active" : ""}`,
            "aria-current": entry.id === trip.openEntryId ? "true" : null,
            dataset: { testid: "journal-item", entryId: entry.id },
          },
          h("span", { class: "entry-name" }, entry.title),
          h(
            "span",
            { class: "muted small" },
            entry.author?.username ?? "",
            " · ",
            entry.status === "published" ? "Published" : "Draft",
          ),
        ),
      ),
    ),
  );
  show($("journal-empty"), entries.length === 0);
}

/** Leave the entry's room (on a switch of entry, or when the trip closes). */
export function closeEntry(trip) {
  for (const off of trip.entryUnsubscribe.splice(0)) off();
  trip.entryRoom?.leave();
  trip.entryRoom = null;
  trip.openEntryId = null;
  trip.editing = null;
}

export async function openEntry(trip, entryId, onRoomEvent) {
  if (entryId == null) {
    if (trip.openEntryId != null) closeEntry(trip);
    show($("entry-view"), false);
    renderJournalList(trip);
    return;
  }
  if (trip.openEntryId === entryId) return;
  closeEntry(trip);
  trip.openEntryId = entryId;
  trip.entryComments = new Map();
  renderComments(trip);
  renderJournalList(trip);
  const room = app.client.join(`journal_${entryId}`);
  trip.entryRoom = room;
  trip.entryUnsubscribe.push(room.on("*", (message) => onRoomEvent(message.type, message.payload ?? {}, message)));
  trip.entryUnsubscribe.push(room.on("resync", () => refreshEntry(trip, entryId)));
  if (trip.entries.has(entryId)) renderEntry(trip);
  await refreshEntry(trip, entryId);
  await loadComments(trip, entryId);
}

/** Comments: on published entries for every reader, on drafts for the writers. */
async function loadComments(trip, entryId) {
  const entry = trip.entries.get(entryId);
  if (!entry || (entry.status !== "published" && !canEdit(entry))) return;
  try {
    const comments = await fetchAll(`/api/journals/${entryId}/comments/`);
    if (trip.closed || trip.openEntryId !== entryId) return;
    for (const c of comments) trip.entryComments.set(c.id, c);
    renderComments(trip);
  } catch {
    // not allowed (yet): the section stays hidden
  }
}

function renderComments(trip) {
  const entry = trip.entries.get(trip.openEntryId);
  const visible = Boolean(entry) && (entry.status === "published" || canEdit(entry));
  show($("entry-comments"), visible);
  const comments = [...(trip.entryComments?.values() ?? [])].sort((a, b) => new Date(a.createdAt) - new Date(b.createdAt) || a.id - b.id);
  $("entry-comment-list").replaceChildren(
    ...comments.map((c) =>
      h(
        "li",
        { dataset: { testid: "journal-comment", commentId: c.id } },
        h("span", { class: "msg-author" }, c.author?.username ?? "Someone"),
        " ",
        h("span", {}, c.text),
        " ",
        h("span", { class: "muted small" }, timeTag(c.createdAt, dateTimeFormat)),
      ),
    ),
  );
  show($("entry-comments-empty"), comments.length === 0);
}

async function onCommentSubmit(event) {
  event.preventDefault();
  const trip = app.trip;
  const form = event.currentTarget;
  const entryId = trip?.openEntryId;
  const text = form.text.value.trim();
  if (entryId == null || !text) return;
  await busy(form, async () => {
    try {
      const comment = await api(`/api/journals/${entryId}/comments/`, { method: "POST", body: { text } });
      trip.entryComments.set(comment.id, comment);
      renderComments(trip);
      form.reset();
    } catch (err) {
      toast(err.describe?.("Couldn't post the comment.") ?? "Couldn't post the comment.", "error");
    }
  });
}

async function refreshEntry(trip, entryId) {
  try {
    const entry = await api(`/api/journals/${entryId}/`);
    if (trip.closed || trip.openEntryId !== entryId) return;
    trip.entries.set(entry.id, entry);
    renderJournalList(trip);
    renderEntry(trip);
  } catch (err) {
    if (err.status === 404 && trip.openEntryId === entryId) {
      trip.entries.delete(entryId);
      location.hash = `#trip/${trip.id}/journal`;
      toast("That journal entry doesn't exist, or you can't see it.", "error");
    }
  }
}

/** The reader (rendered Markdown), or the editor while editing. */
function renderEntry(trip) {
  const entry = trip.entries.get(trip.openEntryId);
  if (!entry) return;
  show($("entry-view"), true);
  const editing = trip.editing != null;
  show($("entry-reader"), !editing);
  show($("entry-form"), editing);
  $("entry-title").textContent = entry.title;
  const status = $("entry-status");
  status.textContent = entry.status === "published" ? "Published" : "Draft";
  status.dataset.status = entry.status;
  const who = [entry.author?.username, ...(entry.collaborators ?? []).map((c) => c.username)].filter(Boolean);
  $("entry-byline").textContent = `By ${who.join(", ")} · version ${entry.version} · ${dateTimeFormat.format(new Date(entry.updatedAt))}`;
  $("entry-body").innerHTML = renderMarkdown(entry.body); // escaped first: see markdown.js
  if (!entry.body) $("entry-body").replaceChildren(h("p", { class: "muted" }, "Nothing written yet."));
  const mine = entry.author?.id === app.me?.id;
  show($("entry-edit"), canEdit(entry));
  show($("entry-publish"), mine && entry.status !== "published");
  show($("collaborator-form"), mine);
  renderComments(trip);
}

function startEditing() {
  const trip = app.trip;
  const entry = trip?.entries.get(trip.openEntryId);
  if (!entry) return;
  trip.editing = { baseVersion: entry.version };
  const form = $("entry-form");
  form.title.value = entry.title;
  form.body.value = entry.body;
  formError($("entry-conflict"), "");
  show($("entry-theirs"), false);
  renderEntry(trip);
  form.body.focus();
}

function stopEditing() {
  const trip = app.trip;
  if (!trip) return;
  trip.editing = null;
  renderEntry(trip);
}

async function onEntrySave(event) {
  event.preventDefault();
  const trip = app.trip;
  const form = event.currentTarget;
  const entryId = trip?.openEntryId;
  if (entryId == null || !trip.editing) return;
  const title = form.title.value.trim();
  if (!title) {
    formError($("entry-conflict"), "An entry needs a title.");
    return;
  }
  await busy(form, async () => {
    try {
      const entry = await api(`/api/journals/${entryId}/`, {
        method: "PATCH",
        body: { version: trip.editing.baseVersion, title, body: form.body.value },
      });
      trip.entries.set(entry.id, entry);
      trip.editing = null;
      renderJournalList(trip);
      renderEntry(trip);
      toast("Saved.");
    } catch (err) {
      if (err.status === 409 && err.body?.current) {
        // Someone saved first. Their version becomes the base; the text in the editor is
        // still this person's, so saving again is a deliberate choice to replace theirs.
        const current = err.body.current;
        trip.entries.set(current.id, current);
        trip.editing.baseVersion = current.version;
        formError(
          $("entry-conflict"),
          `Not saved: someone else saved this entry while you were editing (it is now version ${current.version}). ` +
            "Your text is still here. Compare it with their version below, then save again to replace theirs, or cancel to keep it.",
        );
        $("entry-theirs-body").innerHTML = renderMarkdown(current.body);
        show($("entry-theirs"), true);
        renderJournalList(trip);
      } else {
        formError($("entry-conflict"), err.status === 403 ? "Only the author and collaborators can edit this entry." : err.describe?.("Couldn't save the entry.") ?? "Couldn't save the entry.");
      }
    }
  });
}

async function publish() {
  const trip = app.trip;
  const entryId = trip?.openEntryId;
  if (entryId == null) return;
  if (!confirm("Publish this entry? Everyone in the trip will be able to read it.")) return;
  try {
    const entry = await api(`/api/journals/${entryId}/publish/`, { method: "POST" });
    trip.entries.set(entry.id, entry);
    renderJournalList(trip);
    renderEntry(trip);
    toast("Published.");
  } catch (err) {
    toast(err.describe?.("Couldn't publish the entry.") ?? "Couldn't publish the entry.", "error");
  }
}

async function onAddCollaborator(event) {
  event.preventDefault();
  const trip = app.trip;
  const form = event.currentTarget;
  const entryId = trip?.openEntryId;
  const username = form.username.value.trim();
  if (entryId == null || !username) return;
  await busy(form, async () => {
    try {
      await api(`/api/journals/${entryId}/collaborators/`, { method: "POST", body: { username } });
      form.reset();
      toast(`${username} can now edit this entry.`);
      await refreshEntry(trip, entryId);
    } catch (err) {
      toast(err.describe?.("Couldn't add the collaborator.") ?? "Couldn't add the collaborator.", "error");
    }
  });
}

async function onNewEntry(event) {
  event.preventDefault();
  const trip = app.trip;
  const form = event.currentTarget;
  const error = $("journal-error");
  const title = form.title.value.trim();
  if (!trip || !title) {
    formError(error, "Give the entry a title.");
    return;
  }
  formError(error, "");
  await busy(form, async () => {
    try {
      const entry = await api("/api/journals/", { method: "POST", body: { title, body: "", trip: trip.id } });
      trip.entries.set(entry.id, entry);
      form.reset();
      location.hash = `#trip/${trip.id}/journal/${entry.id}`;
    } catch (err) {
      formError(error, err.describe?.("Couldn't create the entry.") ?? "Couldn't create the entry.");
    }
  });
}

/** Journal events, from the trip's room (published entries) or the entry's own room. */
export function onJournalEvent(trip, type, payload) {
  if (type === "journal_entry_deleted") {
    const id = payload.id ?? payload.entryId;
    trip.entries.delete(id);
    renderJournalList(trip);
    if (trip.openEntryId === id) {
      location.hash = `#trip/${trip.id}/journal`;
      toast("That journal entry was deleted.");
    }
    return;
  }
  if (type === "journal_comment" || type === "journal_comment_deleted") {
    // journal_comment is the comment (`entry`), journal_comment_deleted the ids (`entryId`).
    if ((payload?.entry ?? payload?.entryId) !== trip.openEntryId) return;
    if (type === "journal_comment") trip.entryComments.set(payload.id, payload);
    else trip.entryComments.delete(payload.id ?? payload.commentId);
    renderComments(trip);
    return;
  }
  if (payload?.id == null || payload.trip !== trip.id) return;
  const known = trip.entries.get(payload.id);
  if (known && known.version > payload.version) return; // an older copy
  trip.entries.set(payload.id, payload);
  renderJournalList(trip);
  if (payload.id !== trip.openEntryId) return;
  if (!trip.editing) {
    renderEntry(trip);
  } else if (payload.version > trip.editing.baseVersion) {
    // Warn before the save is refused; the version check stays what protects the text.
    formError($("entry-conflict"), `Heads up: someone else just saved version ${payload.version} of this entry. Saving now will be refused until you review it.`);
  }
}

export function initJournal() {
  $("journal-form").addEventListener("submit", onNewEntry);
  $("entry-form").addEventListener("submit", onEntrySave);
  $("entry-edit").addEventListener("click", startEditing);
  $("entry-cancel").addEventListener("click", stopEditing);
  $("entry-publish").addEventListener("click", publish);
  $("collaborator-form").addEventListener("submit", onAddCollaborator);
  $("entry-comment-form").addEventListener("submit", onCommentSubmit);
}
