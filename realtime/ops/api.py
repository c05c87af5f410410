"""The admin REST API of protocol.md section 8 (`/api/websocket/...`), staff only: thin
DRF views over realtime.ops.services, cluster-wide through the registry.

Response bodies are built by the services (camelCase already); the serializers below
validate the broadcast input and document every shape in the OpenAPI schema. Maps keyed
by data (error codes, room types, distribution buckets) are left as they are.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from realtime.ops import services as services
from trava.accounts.serializers import UserSerializer
from trava.api.errors import DomainError, error_responses
from trava.api.renderers import CamelCaseJSONRenderer

STAFF = "Staff only: 401 without credentials, 403 for other users."


class AdminRenderer(CamelCaseJSONRenderer):
    """camelCase keys, except inside maps keyed by data (error codes, room types, ...)."""

    json_underscoreize = {
        **CamelCaseJSONRenderer.json_underscoreize,
        "ignore_fields": ("errors", "byCode", "byType", "membersPerRoom"),
    }


# --- input --------------------------------------------------------------------------------
class BroadcastSerializer(serializers.Serializer):
    message = serializers.CharField(
        trim_whitespace=True,
        validators=[services.validate_message],
        help_text="The text shown to every client.",
    )
    type = serializers.CharField(
        required=False,
        default=services.DEFAULT_KIND,
        validators=[services.validate_kind],
        help_text="The notification's `kind`: [a-z][a-z0-9_]{0,31}; default announcement.",
    )


class RoomBroadcastSerializer(BroadcastSerializer):
    room_id = serializers.CharField(validators=[services.validate_room_id], help_text="e.g. trip_12")


# --- output (documentation of the services' dicts) ------------------------------------------
_COUNTS = serializers.DictField(child=serializers.IntegerField())


class RateSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    per_second = serializers.FloatField(help_text="Over the last minute, cluster-wide.")


class MessagesSerializer(serializers.Serializer):
    received = RateSerializer()
    sent = RateSerializer()


class ErrorsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_code = serializers.DictField(child=serializers.IntegerField(), help_text="Error code to count.")
    per_minute = serializers.FloatField(help_text="Over the last minute, cluster-wide.")


class TopRoomSerializer(serializers.Serializer):
    room_id = serializers.CharField()
    member_count = serializers.IntegerField()
    client_count = serializers.IntegerField()


class RoomsStatsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Rooms with live members, personal rooms left out.")
    personal = serializers.IntegerField(help_text="Personal user_<id> rooms (one per signed-in user).")
    by_type = serializers.DictField(child=serializers.IntegerField())
    top = TopRoomSerializer(many=True)
    members_per_room = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Rooms per member-count bucket: 1, 2, 3-5, 6-10, 11-50, 51+.",
    )


class ConnectionsSerializer(serializers.Serializer):
    active = serializers.IntegerField()
    authenticated = serializers.IntegerField()
    anonymous = serializers.IntegerField()


class ChannelLayerSerializer(serializers.Serializer):
    drops = serializers.IntegerField()
    broadcast_failures = serializers.IntegerField()


class NodeSerializer(serializers.Serializer):
    node_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["alive", "dead", "gone"])
    alive = serializers.BooleanField()
    connections = serializers.IntegerField()
    authenticated = serializers.IntegerField(required=False)
    users = serializers.IntegerField(required=False)
    rooms = serializers.IntegerField(required=False)
    messages_in = serializers.IntegerField(required=False)
    messages_out = serializers.IntegerField(required=False)
    errors = serializers.DictField(child=serializers.IntegerField(), required=False)
    channel_layer_drops = serializers.IntegerField(required=False)
    started_at = serializers.IntegerField(allow_null=True, help_text="ms since the epoch")
    uptime = serializers.IntegerField(allow_null=True, required=False, help_text="seconds")
    last_heartbeat = serializers.IntegerField(allow_null=True, help_text="ms since the epoch")
    gone_at = serializers.IntegerField(required=False, help_text="gone nodes: when a sweep removed it")


class StatsSerializer(serializers.Serializer):
    connections = ConnectionsSerializer()
    unique_users = serializers.IntegerField()
    rooms = RoomsStatsSerializer()
    messages = MessagesSerializer()
    errors = ErrorsSerializer()
    channel_layer = ChannelLayerSerializer()
    broadcasts = serializers.IntegerField(help_text="Room events sent by the live nodes.")
    nodes = NodeSerializer(many=True)
    nodes_alive = serializers.IntegerField()
    uptime = serializers.IntegerField(help_text="Seconds since the oldest live node started.")
    generated_at = serializers.IntegerField()


class RoomMemberSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    client_ids = serializers.ListField(child=serializers.CharField())
    joined_at = serializers.IntegerField(help_text="ms: the user's first live connection's join")


class RoomSerializer(serializers.Serializer):
    room_id = serializers.CharField()
    room_type = serializers.CharField()
    members = RoomMemberSerializer(many=True)
    member_count = serializers.IntegerField()
    client_count = serializers.IntegerField()
    events_sent = serializers.IntegerField(help_text="Room events in the current history epoch.")
    last_event_at = serializers.IntegerField(allow_null=True)
    last_activity = serializers.IntegerField(allow_null=True, help_text="Last event or join, ms.")


class RoomListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = RoomSerializer(many=True)


class RecentErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    at = serializers.IntegerField()


class ClientSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    user = UserSerializer()
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    node = serializers.CharField()
    connected_at = serializers.IntegerField()
    duration_seconds = serializers.IntegerField()
    messages_in = serializers.IntegerField()
    messages_out = serializers.IntegerField()
    rooms = serializers.ListField(child=serializers.CharField())
    errors = _COUNTS
    recent_errors = RecentErrorSerializer(many=True)
    last_activity = serializers.IntegerField()
    remote_address = serializers.CharField(help_text="From PROXY_HEADER when configured.")
    user_agent = serializers.CharField()


class ClientListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = ClientSerializer(many=True)


class KickSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    node = serializers.CharField()
    kicked = serializers.BooleanField()


class BroadcastResultSerializer(serializers.Serializer):
    recipients = serializers.IntegerField(
        help_text="Live signed-in clients (of the room) counted from the registry as it was sent."
    )


# How these endpoints word their error answers (the shape is the API's one, trava.api.errors).
_ERRORS = {403: "Not staff.", 404: "Not live anywhere in the cluster.", 503: "The channel layer refused it."}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(*codes, described=_ERRORS)


# --- views -----------------------------------------------------------------------------------
class AdminView(APIView):
    permission_classes = [IsAdminUser]
    renderer_classes = [AdminRenderer]

    def validated(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class StatsView(AdminView):
    @extend_schema(
        tags=["websocket admin"], summary="Cluster-wide real-time stats", description=STAFF,
        responses={200: StatsSerializer, **_errors(401, 403)},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        return Response(services.run(services.cluster_stats))


class RoomListView(AdminView):
    @extend_schema(
        tags=["websocket admin"], summary="Rooms with live members",
        operation_id="websocket_rooms_list", description=STAFF,
        parameters=[OpenApiParameter("type", str, description="Room type (trip, album, journal, user); "
                                     "personal user rooms are listed only with type=user.")],
        responses={200: RoomListSerializer, **_errors(401, 403)},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        found = services.run(services.room_list, request.query_params.get("type") or None)
        return Response({"count": len(found), "results": found})


class RoomDetailView(AdminView):
    @extend_schema(
        tags=["websocket admin"], summary="One live room: members, events sent, last activity",
        description=STAFF, responses={200: RoomSerializer, **_errors(401, 403, 404)},
    )  # fmt: skip
    def get(self, request: Request, room_id: str) -> Response:
        room = services.run(services.room_detail, room_id)
        if room is None:
            raise exceptions.NotFound("Nobody is in this room.")
        return Response(room)


class ClientListView(AdminView):
    @extend_schema(
        tags=["websocket admin"], summary="Live signed-in clients",
        operation_id="websocket_clients_list", description=STAFF,
        parameters=[OpenApiParameter("user", str, description="A user id or username.")],
        responses={200: ClientListSerializer, **_errors(401, 403)},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        user = request.query_params.get("user")
        if user:
            user_id = services.resolve_user(user)
            found = [] if user_id is None else services.run(services.client_list, user_id)
        else:
            found = services.run(services.client_list)
        return Response({"count": len(found), "results": found})


class ClientDetailView(AdminView):
    @extend_schema(
        tags=["websocket admin"], summary="One live client", description=STAFF,
        responses={200: ClientSerializer, **_errors(401, 403, 404)},
    )  # fmt: skip
    def get(self, request: Request, client_id: str) -> Response:
        client = services.run(services.client_detail, client_id)
        if client is None:
            raise exceptions.NotFound("No live client with this id.")
        return Response(client)

    @extend_schema(
        tags=["websocket admin"], summary="Kick a client (close 4003 on whatever node holds it)",
        description=STAFF, responses={202: KickSerializer, **_errors(401, 403, 404)},
    )  # fmt: skip
    def delete(self, request: Request, client_id: str) -> Response:
        node = services.run(services.client_kick, client_id)
        if node is None:
            raise exceptions.NotFound("No live client with this id.")
        return Response(
            {"clientId": client_id, "node": node, "kicked": True}, status=status.HTTP_202_ACCEPTED
        )


def _sent(recipients: int | None) -> Response:
    if recipients is None:
        raise DomainError(
            "The broadcast could not be sent; try again.",
            code="unavailable",
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Response({"recipients": recipients}, status=status.HTTP_202_ACCEPTED)


class BroadcastView(AdminView):
    @extend_schema(
        tags=["websocket admin"], summary="Notify every connected client",
        description=STAFF + " Clients receive {type: notification, payload: {kind, message}}.",
        request=BroadcastSerializer,
        responses={202: BroadcastResultSerializer, **_errors(400, 401, 403, 503)},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = self.validated(BroadcastSerializer)
        return _sent(services.run(services.broadcast_everyone, data["message"], data["type"]))


class RoomBroadcastView(AdminView):
    @extend_schema(
        tags=["websocket admin"], summary="Notify the members of one room",
        description=STAFF + " A room event: {type: notification, roomId, eventId, payload: {kind, message}}.",
        request=RoomBroadcastSerializer,
        responses={202: BroadcastResultSerializer, **_errors(400, 401, 403, 503)},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = self.validated(RoomBroadcastSerializer)
        return _sent(services.run(services.broadcast_to_room, data["room_id"], data["message"], data["type"]))
