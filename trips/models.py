"""Trips, their members and roles, itinerary and expenses.

Constraints live in the database, not only in serializers: dates in order, amounts
positive with two decimals, one membership per trip and user.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    PUBLIC = "public", "Public"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class Trip(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="", max_length=10_000)
    destination = models.CharField(max_length=200)
    start_date = models.DateField()
    end_date = models.DateField()
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    currency = models.CharField(max_length=3, default="EUR")  # ISO 4217, validated by services
    budget_total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-start_date", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="trip_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values), name="trip_visibility_valid"
            ),
            models.CheckConstraint(
                condition=Q(budget_total__isnull=True) | Q(budget_total__gte=Decimal("0")),
                name="trip_budget_not_negative",
            ),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="trip_currency_iso4217"),
        ]

    def __str__(self) -> str:
        return self.title


class TripMember(models.Model):
    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trip_memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("joined_at", "id")
        constraints = [
            models.UniqueConstraint(fields=("trip", "user"), name="trip_member_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="trip_member_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.trip_id} as {self.role}"
