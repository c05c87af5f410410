"""Included under /api/: a room's events for catching up (protocol.md 9.3) and the admin
REST API of protocol.md section 8."""

from django.urls import path

from realtime.delivery import catchup
from realtime.ops import api as admin_api

urlpatterns = [
    path("rooms/<str:room_id>/events/", catchup.RoomEventsView.as_view(), name="room-events"),
    path("websocket/stats", admin_api.StatsView.as_view(), name="websocket-stats"),
    path("websocket/rooms", admin_api.RoomListView.as_view(), name="websocket-rooms"),
    path("websocket/rooms/<str:room_id>", admin_api.RoomDetailView.as_view(), name="websocket-room"),
    path("websocket/clients", admin_api.ClientListView.as_view(), name="websocket-clients"),
    path("websocket/clients/<str:client_id>", admin_api.ClientDetailView.as_view(), name="websocket-client"),
    path("websocket/broadcast", admin_api.BroadcastView.as_view(), name="websocket-broadcast"),
    path("websocket/broadcast/room", admin_api.RoomBroadcastView.as_view(), name="websocket-broadcast-room"),
]
