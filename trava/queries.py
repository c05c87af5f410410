"""Small query helpers for hot paths."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet


def first_or_none(queryset: QuerySet) -> Any:
    """The first row of `queryset` in its own order, or None: `LIMIT 1`. Unlike
    `QuerySet.first()` on an unordered queryset it adds no `ORDER BY pk`, which the ORM
    compiles again on every call (a fifth of a lookup's CPU): for lookups of one row by
    a unique key (a trip by id, a member by trip and user), where order cannot matter."""
    return next(iter(queryset[:1]), None)
