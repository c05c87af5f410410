"""Querysets already filtered to what a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from journals.models import EntryStatus, JournalComment, JournalEntry, JournalRevision
from trava.accounts.models import User
from trips.models import Visibility


def _comment_count() -> Coalesce:
    counts = (
        JournalComment.objects.filter(entry=OuterRef("pk"))
        .order_by()
        .values("entry")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def _with_details(queryset: QuerySet[JournalEntry]) -> QuerySet[JournalEntry]:
    return (
        queryset.select_related("author")
        .prefetch_related(Prefetch("collaborators", queryset=User.objects.order_by("id")))
        .annotate(comment_count=_comment_count())
    )


def journal_entries_visible_to(user: Any, *, trip_id: int | None = None) -> QuerySet[JournalEntry]:
    """Mine, shared with me, and published ones I may read (can_view_journal_entry)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return JournalEntry.objects.none()
    member = Q(trip__members__user_id=user.pk)
    published = Q(status=EntryStatus.PUBLISHED) & (
        Q(trip__isnull=True) | Q(trip__visibility=Visibility.PUBLIC) | member
    )
    # Authors and collaborators read their entries only while members of the entry's trip
    # (journals.permissions.can_edit_journal_entry).
    editor = (Q(author_id=user.pk) | Q(collaborator_links__user_id=user.pk)) & (Q(trip__isnull=True) | member)
    condition = editor | published
    visible = JournalEntry.objects.filter(pk__in=JournalEntry.objects.filter(condition).values("pk"))
    if trip_id is not None:
        visible = visible.filter(trip_id=trip_id)
    return _with_details(visible)


def journal_entry_detail(entry_id: int) -> JournalEntry | None:
    return _with_details(JournalEntry.objects.filter(pk=entry_id)).select_related("trip").first()


def journal_revisions(entry: JournalEntry) -> QuerySet[JournalRevision]:
    return JournalRevision.objects.filter(entry=entry).select_related("author")


def journal_comments(entry: JournalEntry) -> QuerySet[JournalComment]:
    return JournalComment.objects.filter(entry=entry).select_related("author")
