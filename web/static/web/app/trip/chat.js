/** The trip's chat: history over REST, new messages over the socket. */
import { api, localPath } from "../api.js";
import { $, h, show, toast } from "../dom.js";
import { timeFormat, timeTag } from "../format.js";
import { app } from "../state.js";

export function addMessage(trip, message) {
  if (trip.messages.has(message.id)) return;
  trip.messages.set(message.id, message);
  renderChat(trip, { scroll: "if-near-bottom" });
}

export function resetChat() {
  $("chat-list").replaceChildren();
  show($("chat-more"), false);
}

export function renderChat(trip, { scroll = "keep" } = {}) {
  const box = $("chat-scroll");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const fromBottom = box.scrollHeight - box.scrollTop;
  const messages = [...trip.messages.values()].sort((a, b) => new Date(a.createdAt) - new Date(b.createdAt) || a.id - b.id);
  const rows = messages.map((m) => {
    const mine = m.author && app.me && m.author.id === app.me.id;
    return h(
      "li",
      { class: `msg${mine ? " mine" : ""}`, dataset: { testid: "chat-message", messageId: m.id } },
      h("span", { class: "msg-meta" }, h("span", { class: "msg-author" }, m.author?.username ?? "Someone"), timeTag(m.createdAt, timeFormat)),
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

function autoGrow(event) {
  const input = event.currentTarget;
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 140)}px`;
}

export function initChat() {
  $("chat-form").addEventListener("submit", onChatSubmit);
  $("chat-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("chat-form").requestSubmit();
    }
  });
  $("chat-input").addEventListener("input", autoGrow);
  $("chat-more").addEventListener("click", loadEarlier);
}
