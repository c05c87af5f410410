"""`GET /api/rooms/<roomId>/events/?since=<eventId>` (protocol.md 9.3): catching up on a
room without a socket (mobile background sync). The same events a `join_room {since}`
replay would give the caller, by the same rule (realtime.delivery.audience: only what the caller
could have received when it happened), oldest first, a page at a time.

Access is the room's join rule now (events.rooms); a room the caller may not join, or
that does not exist, is 404 (no existence leak). A `since` whose following events are
past retention (or pruned, or from another epoch): 410 `history_expired`, re-read the
state over REST.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events import log, rooms
from realtime.delivery import audience
from realtime.delivery.broadcast import frame

PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000


class HistoryExpired(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "Those events are no longer kept: re-read the state."
    default_code = "history_expired"


class _Query(serializers.Serializer):
    since = serializers.IntegerField(min_value=0, max_value=2**63 - 1)
    epoch = serializers.CharField(required=False, max_length=32)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)


class RoomEventsView(APIView):
    """The room's events after `since` that the caller could have received, oldest first."""

    # The events exactly as on the socket (their payloads are camelCase already).
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        parameters=[
            OpenApiParameter("since", int, required=True, description="The last eventId the client has."),
            OpenApiParameter("epoch", str, description="The epoch that eventId belongs to."),
            OpenApiParameter("pageSize", int, description=f"At most {MAX_PAGE_SIZE}; default {PAGE_SIZE}."),
        ],
        responses={
            200: inline_serializer(
                "RoomEventPage",
                {
                    "epoch": serializers.CharField(),
                    "lastEventId": serializers.IntegerField(),
                    "next": serializers.CharField(allow_null=True),
                    "results": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
    )
    def get(self, request: Request, room_id: str) -> Response:
        room = rooms.parse_room_id(room_id)
        access = rooms.can_join_sync(request.user, room) if room is not None else rooms.Access.DENIED
        if not access:
            raise exceptions.NotFound("No such room.")
        params = request.query_params
        data = {"since": params.get("since"), "page_size": params.get("pageSize") or PAGE_SIZE}
        if "epoch" in params:
            data["epoch"] = params["epoch"]
        query = _Query(data=data)
        query.is_valid(raise_exception=True)
        since = query.validated_data["since"]
        head, epoch = log.head(room.value)
        wanted = query.validated_data.get("epoch")
        if (wanted is not None and wanted != epoch) or since > head or log.expired(room.value, since):
            raise HistoryExpired()
        rows, more = log.page(room.value, since, query.validated_data["page_size"])
        via_staff = access is rooms.Access.STAFF
        visible = [
            frame(row, epoch)
            for row in rows
            if audience.allows(audience.from_wire(row.audience), request.user.pk, via_staff=via_staff)
        ]
        next_url = None
        if more:
            params = request.query_params.copy()
            params["since"] = str(rows[-1].event_id)
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response({"epoch": epoch, "lastEventId": head, "next": next_url, "results": visible})
