/** Who is in the trip (members and their roles; the owner adds and removes them) and who
 * is looking at it right now (presence). */
import { api } from "../api.js";
import { $, busy, formError, h, show, toast } from "../dom.js";
import { initials, ROLE_LABELS } from "../format.js";
import { app } from "../state.js";

let onMembersChanged = () => {};

/** Who re-reads what depends on the members (the budget) after this page changed them. */
export function setMembersChangedHandler(fn) {
  onMembersChanged = fn;
}

export function memberFromApi(m) {
  return { userId: m.user.id, username: m.user.username, role: m.role };
}

/** The user id an event about a member names, whatever its exact shape. */
export function memberEventUserId(payload) {
  return payload?.user?.id ?? payload?.userId ?? payload?.user ?? null;
}

export function myRole(trip) {
  return trip.members.get(app.me?.id)?.role ?? null;
}

export function canEdit(trip) {
  return ["owner", "editor"].includes(myRole(trip));
}

export function resetPeople() {
  $("member-list").replaceChildren();
  $("presence-list").replaceChildren();
  show($("member-form"), false);
  formError($("member-error"), "");
}

export function renderMembers(trip) {
  const owner = myRole(trip) === "owner";
  const members = [...trip.members.values()].sort(
    (a, b) => ["owner", "editor", "viewer"].indexOf(a.role) - ["owner", "editor", "viewer"].indexOf(b.role) || a.username.localeCompare(b.username),
  );
  $("member-list").replaceChildren(
    ...members.map((m) => {
      const me = m.userId === app.me?.id;
      const removable = (owner && m.role !== "owner") || (me && m.role !== "owner");
      return h(
        "li",
        { dataset: { testid: "member", userId: m.userId, role: m.role } },
        h("span", { class: "avatar small", "aria-hidden": "true" }, initials(m.username)),
        h("span", { class: "member-name" }, m.username, me ? h("span", { class: "muted small" }, " (you)") : null),
        owner && !me && m.role !== "owner"
          ? h(
              "select",
              { class: "role-select", "aria-label": `Role of ${m.username}`, onchange: (e) => changeRole(trip, m, e.currentTarget.value) },
              ...["editor", "viewer"].map((role) => h("option", { value: role, selected: role === m.role }, ROLE_LABELS[role])),
            )
          : h("span", { class: `pill role-${m.role}` }, ROLE_LABELS[m.role] ?? m.role),
        removable
          ? h(
              "button",
              { type: "button", class: "icon-btn", "aria-label": me ? "Leave this trip" : `Remove ${m.username}`, title: me ? "Leave" : "Remove", onclick: () => removeMember(trip, m) },
              "×",
            )
          : null,
      );
    }),
  );
  show($("member-form"), owner);
}

async function changeRole(trip, member, role) {
  try {
    const updated = await api(`/api/trips/${trip.id}/members/${member.userId}/`, { method: "PATCH", body: { role } });
    trip.members.set(member.userId, memberFromApi(updated));
  } catch (err) {
    toast(err.describe?.("Couldn't change the role.") ?? "Couldn't change the role.", "error");
  }
  renderMembers(trip);
}

async function removeMember(trip, member) {
  const me = member.userId === app.me?.id;
  if (!confirm(me ? "Leave this trip?" : `Remove ${member.username} from this trip?`)) return;
  try {
    await api(`/api/trips/${trip.id}/members/${member.userId}/`, { method: "DELETE" });
    if (me) {
      location.hash = "#trips";
      return;
    }
    trip.members.delete(member.userId);
    renderMembers(trip);
    onMembersChanged(trip);
  } catch (err) {
    toast(err.describe?.("Couldn't remove the member.") ?? "Couldn't remove the member.", "error");
  }
}

async function onAddMember(event) {
  event.preventDefault();
  const trip = app.trip;
  if (!trip) return;
  const form = event.currentTarget;
  const error = $("member-error");
  const username = form.username.value.trim();
  if (!username) {
    formError(error, "Enter the username of the person to add.");
    return;
  }
  formError(error, "");
  await busy(form, async () => {
    try {
      const member = await api(`/api/trips/${trip.id}/members/`, { method: "POST", body: { username, role: form.role.value } });
      if (trip.closed) return;
      trip.members.set(member.user.id, memberFromApi(member));
      renderMembers(trip);
      onMembersChanged(trip);
      form.username.value = "";
      toast(`${member.user.username} was added to the trip.`);
    } catch (err) {
      formError(
        error,
        err.fields?.username?.some?.((t) => /no such user/i.test(t)) ? `There is no Trava user called “${username}”.` : err.describe?.("Couldn't add the member.") ?? "Couldn't add the member.",
      );
    }
  });
}

export function renderPresence(members) {
  const list = $("presence-list");
  const trip = app.trip;
  if (!trip?.room?.joined && members.length === 0) {
    list.replaceChildren(h("li", { class: "muted" }, "Connecting…"));
    return;
  }
  const sorted = [...members].sort((a, b) => String(a.username).localeCompare(String(b.username)));
  list.replaceChildren(
    ...sorted.map((m) =>
      h(
        "li",
        { dataset: { testid: "presence-member", userId: m.userId } },
        h("span", { class: "avatar", "aria-hidden": "true" }, initials(m.username), h("span", { class: "online-dot" })),
        h("span", {}, m.username, m.userId === app.me?.id ? h("span", { class: "muted small" }, " (you)") : null),
      ),
    ),
  );
  if (!sorted.length) list.append(h("li", { class: "muted" }, "Nobody else is here right now."));
}

export function initPeople() {
  $("member-form").addEventListener("submit", onAddMember);
}
