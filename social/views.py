"""Thin REST views of chat, notifications, activities and RSVPs."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from social import selectors, services
from social.models import Activity
from social.pagination import UnreadFirstCursorPagination
from social.serializers import (
    ActivityInputSerializer,
    ActivitySerializer,
    ChatMessageInputSerializer,
    ChatMessageSerializer,
    NotificationSerializer,
    NotificationsReadResultSerializer,
    NotificationsReadSerializer,
    RsvpInputSerializer,
    RsvpSerializer,
)
from trava.api.errors import deny_unless, error_responses
from trava.api.pagination import NewestFirstCursorPagination
from trips.api import TripScopedView
from trips.permissions import can_participate_in_trip

MEMBERS = "Members of the trip only."


def _validated(serializer_class: type, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class TripMessagesView(TripScopedView):
    """A trip's chat: history newest first, send (as the WebSocket send_message)."""

    serializer_class = ChatMessageSerializer
    pagination_class = NewestFirstCursorPagination

    @extend_schema(
        summary="Chat history, newest first",
        responses={200: ChatMessageSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, trip_id: int) -> Response:
        page = self.paginate_queryset(selectors.chat_message_list(trip=self.get_trip()))
        return self.get_paginated_response(ChatMessageSerializer(page, many=True).data)

    @extend_schema(
        summary="Send a chat message (members; idempotent per clientMessageId)",
        description="201 with the new message; 200 with the original one when this clientMessageId "
        "was already used by the same author in this trip.",
        request=ChatMessageInputSerializer,
        responses={
            201: ChatMessageSerializer,
            200: ChatMessageSerializer,
            **error_responses(400, 401, 403, 404),
        },
    )
    def post(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        self.require(can_participate_in_trip, trip, MEMBERS)
        data = _validated(ChatMessageInputSerializer, request)
        message, created = services.chat_message_send(
            trip=trip,
            author=request.user,
            text=data["text"],
            client_message_id=data.get("client_message_id") or None,
        )
        return Response(
            ChatMessageSerializer(message).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class NotificationListView(generics.GenericAPIView):
    """The signed-in user's notifications."""

    serializer_class = NotificationSerializer
    pagination_class = UnreadFirstCursorPagination

    @extend_schema(
        summary="My notifications, unread first, then newest",
        responses={200: NotificationSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.notification_list(user=request.user))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationReadView(generics.GenericAPIView):
    """Mark notifications read."""

    serializer_class = NotificationsReadSerializer

    @extend_schema(
        summary="Mark my notifications read ({ids} or all)",
        request=NotificationsReadSerializer,
        responses={200: NotificationsReadResultSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = _validated(NotificationsReadSerializer, request)
        marked = services.notifications_mark_read(user=request.user, ids=data.get("ids"))
        return Response(NotificationsReadResultSerializer({"marked": marked}).data)


class TripActivitiesView(TripScopedView):
    """A trip's group activities: list, propose one."""

    serializer_class = ActivitySerializer

    @extend_schema(
        summary="Group activities of a trip, soonest first",
        responses={200: ActivitySerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, trip_id: int) -> Response:
        page = self.paginate_queryset(selectors.activity_list(trip=self.get_trip()))
        return self.get_paginated_response(ActivitySerializer(page, many=True).data)

    @extend_schema(
        summary="Propose a group activity (members)",
        request=ActivityInputSerializer,
        responses={201: ActivitySerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        self.require(can_participate_in_trip, trip, MEMBERS)
        data = _validated(ActivityInputSerializer, request)
        activity = services.activity_create(trip=trip, user=request.user, **data)
        return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)


class ActivityScopedView(generics.GenericAPIView):
    """A view under `/api/activities/<activity_id>/` (404 when its trip is not visible)."""

    def get_activity(self) -> Activity:
        activity = selectors.activity_get_visible(
            user=self.request.user, activity_id=self.kwargs["activity_id"]
        )
        if activity is None:
            raise exceptions.NotFound("No such activity.")
        return activity


class ActivityDetailView(ActivityScopedView):
    """One group activity with its RSVPs."""

    serializer_class = ActivitySerializer

    @extend_schema(
        summary="One group activity with its RSVPs",
        responses={200: ActivitySerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, activity_id: int) -> Response:
        return Response(ActivitySerializer(self.get_activity()).data)


class ActivityRsvpView(ActivityScopedView):
    """An activity's RSVPs: list, answer."""

    serializer_class = RsvpSerializer

    @extend_schema(
        summary="RSVPs to an activity",
        responses={200: RsvpSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, activity_id: int) -> Response:
        page = self.paginate_queryset(selectors.rsvp_list(activity=self.get_activity()))
        return self.get_paginated_response(RsvpSerializer(page, many=True).data)

    @extend_schema(
        summary="Answer an activity: going, maybe or declined (members)",
        request=RsvpInputSerializer,
        responses={200: RsvpSerializer, 201: RsvpSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, activity_id: int) -> Response:
        activity = self.get_activity()
        deny_unless(can_participate_in_trip(request.user, activity.trip), MEMBERS)
        data = _validated(RsvpInputSerializer, request)
        rsvp, created = services.rsvp_set(activity=activity, user=request.user, status=data["status"])
        return Response(
            RsvpSerializer(rsvp).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
