from django.conf import settings
from rest_framework import pagination


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
