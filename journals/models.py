"""Travel journals: Markdown entries, drafted alone or with collaborators, then published.

`version` grows by one with every accepted edit; an edit names the version it was based on
and is refused (409) when someone else's edit got in first. Every accepted state is kept
as a JournalRevision.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from trips.models import Trip


class EntryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class JournalEntry(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="journal_entries"
    )
    # Deleting the trip deletes its entries: an entry of a private trip must never outlive
    # the trip and become visible to everyone.
    trip = models.ForeignKey(
        Trip, on_delete=models.CASCADE, null=True, blank=True, related_name="journal_entries"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="", max_length=100_000)
    status = models.CharField(max_length=10, choices=EntryStatus.choices, default=EntryStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="JournalCollaborator", related_name="shared_journal_entries"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-updated_at", "-id")
        verbose_name_plural = "journal entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=EntryStatus.values), name="journal_entry_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=EntryStatus.DRAFT) | Q(published_at__isnull=False),
                name="journal_entry_published_has_date",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="journal_entry_version_positive"),
        ]

    def __str__(self) -> str:
        return self.title


class JournalCollaborator(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="collaborator_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("added_at", "id")
        constraints = [models.UniqueConstraint(fields=("entry", "user"), name="journal_collaborator_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.entry_id}"


class JournalRevision(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="revisions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-version",)
        constraints = [models.UniqueConstraint(fields=("entry", "version"), name="journal_revision_unique")]

    def __str__(self) -> str:
        return f"{self.entry_id} v{self.version}"


class JournalComment(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.text[:50]
