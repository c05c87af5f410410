"""Keyset pagination for the notification inbox: unread first, then newest first.

DRF's CursorPagination positions on its first ordering field only, and "unread" is a
two-valued field, so it would fall back to ever-growing offsets. This cursor carries the
whole sort key (unread, created_at, id) and filters on it, so every page is one indexed
query whatever the inbox size. Forward only: `next` is null on the last page.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from trava.api.pagination import InvalidCursor, cursor_datetime

MAX_ID = 2**63 - 1  # the largest primary key (bigint)


class UnreadFirstCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "pageSize"

    def _page_size(self, request: Request) -> int:
        default = settings.REST_FRAMEWORK.get("PAGE_SIZE", 50)
        try:
            wanted = int(request.query_params.get(self.page_size_query_param, default))
        except ValueError:
            wanted = default
        return max(1, min(wanted, settings.REST_PAGE_SIZE_MAX))

    @staticmethod
    def _encode(unread: int, created_at: datetime, pk: int) -> str:
        return base64.urlsafe_b64encode(f"{unread}|{created_at.isoformat()}|{pk}".encode()).decode()

    @staticmethod
    def _decode(cursor: str) -> tuple[int, datetime, int]:
        """The sort key a cursor carries; InvalidCursor (400) for anything this class did
        not write: undecodable, an impossible date, an id or flag out of range."""
        try:
            unread, created_at, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
            key = int(unread), cursor_datetime(created_at), int(pk)
        except (ValueError, UnicodeError) as exc:
            raise InvalidCursor() from exc
        if key[0] not in (0, 1) or not 1 <= key[2] <= MAX_ID:
            raise InvalidCursor()
        return key

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        size = self._page_size(request)
        rows = queryset.annotate(
            unread=Case(
                When(read_at__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        ).order_by("-unread", "-created_at", "-id")
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            unread, created_at, pk = self._decode(cursor)
            rows = rows.filter(
                Q(unread__lt=unread)
                | Q(unread=unread, created_at__lt=created_at)
                | Q(unread=unread, created_at=created_at, id__lt=pk)
            )
        page = list(rows[: size + 1])
        self.next_cursor = None
        if len(page) > size:
            page = page[:size]
            last = page[-1]
            self.next_cursor = self._encode(last.unread, last.created_at, last.pk)
        return page

    def get_next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        return replace_query_param(
            self.request.build_absolute_uri(), self.cursor_query_param, self.next_cursor
        )

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The pagination cursor value.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Number of results to return per page.",
                "schema": {"type": "integer"},
            },
        ]
