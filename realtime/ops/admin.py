"""Django admin for the real-time layer (staff only).

- Connection records: the durable trace of ended connections, with filters.
- Live rooms (`/admin/realtime/liveroom/`): rooms with members, cluster-wide; a room's
  page (`.../liveroom/room/<roomId>/`) lists its members and has a room broadcast form.
- Live clients (`/admin/realtime/liveclient/`): every signed-in client with a kick button;
  the global broadcast form is at `.../liveclient/broadcast/`.

The live pages are proxy models' changelists: they read the registry through
realtime.ops.services, the same functions as the REST API, and store nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from events import rooms
from realtime.models import ConnectionRecord, LiveClient, LiveRoom
from realtime.ops import services as services


@admin.register(ConnectionRecord)
class ConnectionRecordAdmin(admin.ModelAdmin):
    list_display = (
        "client_short", "username", "node", "connected_at", "disconnected_at", "duration",
        "close_code", "lost", "messages_in", "messages_out", "error_count", "rooms_joined",
    )  # fmt: skip
    list_filter = (
        "node",
        "close_code",
        "lost",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("disconnected_at", admin.DateFieldListFilter),
    )
    search_fields = ("client_id", "username", "remote_address", "user_agent")
    date_hierarchy = "disconnected_at"
    list_select_related = ("user",)
    ordering = ("-disconnected_at",)

    @admin.display(description="client", ordering="client_id")
    def client_short(self, record: ConnectionRecord) -> str:
        return record.client_id[:12]

    @admin.display(description="duration")
    def duration(self, record: ConnectionRecord) -> str:
        return f"{record.duration_seconds:.0f} s"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BroadcastForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    type = forms.CharField(initial=services.DEFAULT_KIND, required=False, max_length=32)

    def clean_message(self) -> str:
        return services.validate_message(self.cleaned_data["message"])

    def clean_type(self) -> str:
        return services.validate_kind(self.cleaned_data.get("type"))


class LiveAdmin(admin.ModelAdmin):
    """A read-only page over the registry: any staff member may see it (as the API)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def page(self, request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "live_rooms_url": reverse("admin:realtime_liveroom_changelist"),
            "live_clients_url": reverse("admin:realtime_liveclient_changelist"),
            "broadcast_url": reverse("admin:realtime_liveclient_broadcast"),
            **context,
        }
        return TemplateResponse(request, f"admin/realtime/{template}", context)

    def wrap(self, view: Any) -> Any:
        return self.admin_site.admin_view(view)


@admin.register(LiveRoom)
class LiveRoomAdmin(LiveAdmin):
    def get_urls(self) -> list:
        own = [path("room/<str:room_id>/", self.wrap(self.room_view), name="realtime_liveroom_room")]
        return own + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        room_type = request.GET.get("type") or None
        found = services.run(services.room_list, room_type)
        found = [_room_for_page(room) for room in found]
        return self.page(request, "live_rooms.html", "Live rooms", rooms=found, room_type=room_type or "")

    def room_view(self, request: HttpRequest, room_id: str) -> HttpResponse:
        if rooms.parse_room_id(room_id) is None:
            raise Http404("Unknown room id format.")
        form = BroadcastForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            sent = services.run(
                services.broadcast_to_room, room_id, form.cleaned_data["message"], form.cleaned_data["type"]
            )
            _report(request, sent)
            return HttpResponseRedirect(request.path)
        room = _room_for_page(services.run(services.room_detail, room_id))
        return self.page(request, "live_room.html", f"Room {room_id}", room=room, room_id=room_id, form=form)


@admin.register(LiveClient)
class LiveClientAdmin(LiveAdmin):
    def get_urls(self) -> list:
        own = [
            path("broadcast/", self.wrap(self.broadcast_view), name="realtime_liveclient_broadcast"),
            path("kick/", self.wrap(require_POST(self.kick_view)), name="realtime_liveclient_kick"),
        ]
        return own + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        query = (request.GET.get("user") or "").strip()
        if query:
            user_id = services.resolve_user(query)
            found = [] if user_id is None else services.run(services.client_list, user_id)
        else:
            found = services.run(services.client_list)
        found = [{**c, "connectedAtDt": _when(c.get("connectedAt"))} for c in found]
        return self.page(
            request, "live_clients.html", "Live clients", clients=found, query=query,
            kick_url=reverse("admin:realtime_liveclient_kick"),
        )  # fmt: skip

    def kick_view(self, request: HttpRequest) -> HttpResponse:
        client_id = request.POST.get("client_id", "")
        node = services.run(services.client_kick, client_id) if client_id else None
        if node is None:
            messages.warning(request, f"No live client {client_id[:32]!r}.")
        else:
            messages.success(request, f"Client {client_id} on {node} was kicked (close 4003).")
        return HttpResponseRedirect(reverse("admin:realtime_liveclient_changelist"))

    def broadcast_view(self, request: HttpRequest) -> HttpResponse:
        form = BroadcastForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            sent = services.run(
                services.broadcast_everyone, form.cleaned_data["message"], form.cleaned_data["type"]
            )
            _report(request, sent)
            return HttpResponseRedirect(request.path)
        return self.page(request, "broadcast.html", "Broadcast to every client", form=form)


def _when(ms: int | None) -> datetime.datetime | None:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC) if ms else None


def _room_for_page(room: dict[str, Any] | None) -> dict[str, Any] | None:
    if room is None:
        return None
    members = [{**m, "joinedAtDt": _when(m.get("joinedAt"))} for m in room.get("members", [])]
    return {**room, "members": members, "lastActivityAt": _when(room.get("lastActivity"))}


def _report(request: HttpRequest, recipients: int | None) -> None:
    if recipients is None:
        messages.error(request, "The broadcast could not be sent; try again.")
    else:
        messages.success(request, f"Notification sent to {recipients} client(s).")
