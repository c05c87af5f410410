"""REST endpoints of journals (api.md "Journals"): thin, the rules are elsewhere.

An entry the user may not read answers 404 like a missing one; one they read but may not
change answers 403.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from journals import selectors, services
from journals.models import JournalEntry
from journals.permissions import (
    can_comment_journal_entry,
    can_edit_journal_entry,
    can_manage_journal_entry,
    can_view_journal_entry,
)
from journals.serializers import (
    CollaboratorAddSerializer,
    JournalCommentCreateSerializer,
    JournalCommentSerializer,
    JournalConflictSerializer,
    JournalEntryCreateSerializer,
    JournalEntrySerializer,
    JournalEntryUpdateSerializer,
    JournalRevisionSerializer,
)
from trava.accounts.serializers import UserSerializer
from trava.api.errors import deny_unless, error_responses
from trips.models import Trip
from trips.permissions import can_view_trip


def _visible_entry(user: Any, entry_id: int) -> JournalEntry:
    entry = selectors.journal_entry_detail(entry_id)
    if entry is None or not can_view_journal_entry(user, entry):
        raise NotFound("Journal entry not found.")
    return entry


def _represent(entry: JournalEntry) -> dict:
    return JournalEntrySerializer(selectors.journal_entry_detail(entry.pk)).data


class JournalListView(generics.GenericAPIView):
    """Entries I wrote, entries shared with me, and published entries I may read."""

    serializer_class = JournalEntrySerializer

    @extend_schema(
        parameters=[OpenApiParameter("trip", int, required=False, description="Only entries of this trip.")],
        responses={200: JournalEntrySerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        trip_id = None
        if raw := request.query_params.get("trip"):
            # Bounded like a primary key: 23 digits overflow the database's integer.
            field = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
            try:
                trip_id = field.run_validation(raw)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"trip": exc.detail}) from exc
        entries = selectors.journal_entries_visible_to(request.user, trip_id=trip_id)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(JournalEntrySerializer(page, many=True).data)

    @extend_schema(
        request=JournalEntryCreateSerializer,
        responses={201: JournalEntrySerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = JournalEntryCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        trip = None
        if trip_id := fields.pop("trip", None):
            trip = Trip.objects.filter(pk=trip_id).first()
            if trip is None or not can_view_trip(request.user, trip):
                raise serializers.ValidationError({"trip": ["Not a trip you are a member of."]})
        entry = services.journal_entry_create(author=request.user, trip=trip, **fields)
        return Response(_represent(entry), status=status.HTTP_201_CREATED)


class JournalDetailView(generics.GenericAPIView):
    serializer_class = JournalEntrySerializer

    @extend_schema(responses={200: JournalEntrySerializer, **error_responses(401, 404)})
    def get(self, request: Request, entry_id: int) -> Response:
        return Response(JournalEntrySerializer(_visible_entry(request.user, entry_id)).data)

    @extend_schema(
        request=JournalEntryUpdateSerializer,
        responses={
            200: JournalEntrySerializer,
            409: OpenApiResponse(
                JournalConflictSerializer, description="Stale `version`: the current entry."
            ),
            **error_responses(400, 401, 403, 404),
        },
    )
    def patch(self, request: Request, entry_id: int) -> Response:
        entry = _visible_entry(request.user, entry_id)
        deny_unless(can_edit_journal_entry(request.user, entry), "Only the author and collaborators edit.")
        data = JournalEntryUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            entry = services.journal_entry_update(entry=entry, user=request.user, **data.validated_data)
        except services.VersionConflict as exc:
            exc.extra["current"] = _represent(exc.current)
            raise
        return Response(_represent(entry))

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, entry_id: int) -> Response:
        entry = _visible_entry(request.user, entry_id)
        deny_unless(can_manage_journal_entry(request.user, entry), "Only the author deletes an entry.")
        services.journal_entry_delete(entry=entry)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JournalPublishView(generics.GenericAPIView):
    serializer_class = JournalEntrySerializer

    @extend_schema(request=None, responses={200: JournalEntrySerializer, **error_responses(401, 403, 404)})
    def post(self, request: Request, entry_id: int) -> Response:
        entry = _visible_entry(request.user, entry_id)
        deny_unless(can_manage_journal_entry(request.user, entry), "Only the author publishes an entry.")
        return Response(_represent(services.journal_entry_publish(entry=entry)))


class JournalRevisionsView(generics.GenericAPIView):
    """Every accepted state of the entry, newest first: for whoever may edit it."""

    serializer_class = JournalRevisionSerializer

    @extend_schema(responses={200: JournalRevisionSerializer(many=True), **error_responses(401, 403, 404)})
    def get(self, request: Request, entry_id: int) -> Response:
        entry = _visible_entry(request.user, entry_id)
        deny_unless(
            can_edit_journal_entry(request.user, entry), "Only the author and collaborators see revisions."
        )
        page = self.paginate_queryset(selectors.journal_revisions(entry))
        return self.get_paginated_response(JournalRevisionSerializer(page, many=True).data)


class JournalCollaboratorsView(generics.GenericAPIView):
    """Collaborators edit drafts with the author; the author adds and removes them."""

    serializer_class = UserSerializer
    pagination_class = None

    @extend_schema(responses={200: UserSerializer(many=True), **error_responses(401, 404)})
    def get(self, request: Request, entry_id: int) -> Response:
        entry = _visible_entry(request.user, entry_id)
        return Response(UserSerializer(sorted(entry.collaborators.all(), key=lambda u: u.pk), many=True).data)

    @extend_schema(
        request=CollaboratorAddSerializer,
        responses={201: UserSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, entry_id: int) -> Response:
        entry = _visible_entry(request.user, entry_id)
        deny_unless(can_manage_journal_entry(request.user, entry), "Only the author adds collaborators.")
        data = CollaboratorAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.journal_collaborator_add(entry=entry, username=data.validated_data["username"])
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class JournalCollaboratorDetailView(generics.GenericAPIView):
    serializer_class = UserSerializer

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, entry_id: int, username: str) -> Response:
        entry = _visible_entry(request.user, entry_id)
        deny_unless(can_manage_journal_entry(request.user, entry), "Only the author removes collaborators.")
        if not services.journal_collaborator_remove(entry=entry, username=username):
            raise NotFound("Not a collaborator of this entry.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class JournalCommentsView(generics.GenericAPIView):
    """Comments: on published entries by their readers, on drafts by author and collaborators."""

    serializer_class = JournalCommentSerializer

    @extend_schema(responses={200: JournalCommentSerializer(many=True), **error_responses(401, 404)})
    def get(self, request: Request, entry_id: int) -> Response:
        entry = _visible_entry(request.user, entry_id)
        page = self.paginate_queryset(selectors.journal_comments(entry))
        return self.get_paginated_response(JournalCommentSerializer(page, many=True).data)

    @extend_schema(
        request=JournalCommentCreateSerializer,
        responses={201: JournalCommentSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, entry_id: int) -> Response:
        entry = _visible_entry(request.user, entry_id)
        deny_unless(can_comment_journal_entry(request.user, entry), "You may not comment on this entry.")
        data = JournalCommentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.journal_comment_add(
            entry=entry, user=request.user, text=data.validated_data["text"]
        )
        return Response(JournalCommentSerializer(comment).data, status=status.HTTP_201_CREATED)
