from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, pagination, status
from rest_framework.request import Request


class InvalidCursor(exceptions.APIException):
    """A `cursor` that is not one this API handed out: 400 for every malformed cursor,
    whether it does not decode at all or decodes to an impossible position."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid cursor."
    default_code = "invalid_cursor"


def cursor_datetime(raw: Any) -> datetime:
    """A cursor's timestamp as an aware UTC datetime the database can hold, else
    InvalidCursor (a malformed or impossible date, or one out of range once in UTC)."""
    try:
        value = parse_datetime(raw) if isinstance(raw, str) else None
        if value is None:
            raise ValueError(raw)
        if timezone.is_naive(value):
            value = timezone.make_aware(value, UTC)
        value = value.astimezone(UTC)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidCursor() from exc
    if not 1 <= value.year <= 9998:
        raise InvalidCursor()
    return value


class PageNumberPagination(pagination.PageNumberPagination):
    """Default list pagination: `?page=N&pageSize=M`, answers `{count, next, previous, results}`."""

    page_size_query_param = "pageSize"

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.REST_PAGE_SIZE_MAX


class NewestFirstCursorPagination(pagination.CursorPagination):
    """Cursor pagination, newest first, for feeds that grow while people read them."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "pageSize"

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.REST_PAGE_SIZE_MAX

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        # DRF answers an undecodable cursor 404 and filters on whatever position one
        # decodes to (a 500 when it is not a date): both are a 400 here.
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise InvalidCursor() from exc
        if cursor is not None and cursor.position is not None:
            cursor = cursor._replace(position=cursor_datetime(cursor.position).isoformat())
        return cursor
