"""Trips, their members and roles, itinerary and expenses.

Constraints live in the database, not only in serializers: dates in order, amounts
positive with two decimals, one membership per trip and user. The rules that span rows
(a trip keeps an owner, payer and split are members) live in trips.services, under a
lock on the trip row.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from trips.currencies import ISO_4217_CODES


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    PUBLIC = "public", "Public"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class ExpenseCategory(models.TextChoices):
    LODGING = "lodging", "Lodging"
    TRANSPORT = "transport", "Transport"
    FOOD = "food", "Food and drink"
    ACTIVITIES = "activities", "Activities"
    SHOPPING = "shopping", "Shopping"
    OTHER = "other", "Other"


MONEY_MAX_DIGITS = 12


class Trip(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="", max_length=10_000)
    destination = models.CharField(max_length=200)
    start_date = models.DateField()
    end_date = models.DateField()
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    currency = models.CharField(
        max_length=3, default="EUR", choices=[(code, code) for code in sorted(ISO_4217_CODES)]
    )
    budget_total = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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


class ItineraryItem(models.Model):
    """One stop of the plan. `position` is 0..n-1 within the trip, kept dense by the
    services (which lock the trip row), so clients can render and reorder by it."""

    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="itinerary_items")
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=300, blank=True, default="")
    notes = models.TextField(max_length=5_000, blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("trip", "position", "id")
        indexes = [models.Index(fields=("trip", "position"), name="itinerary_trip_position")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="itinerary_end_after_start",
            ),
            models.CheckConstraint(condition=Q(position__gte=0), name="itinerary_position_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class Expense(models.Model):
    """An amount in the trip's currency, paid by one member and split between members
    (equal shares; remainder cents go to the lowest user ids, see trips.budget)."""

    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="expenses")
    description = models.CharField(max_length=300)
    amount = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    category = models.CharField(max_length=20, choices=ExpenseCategory.choices, default=ExpenseCategory.OTHER)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    spent_on = models.DateField()
    split_between = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ExpenseShare", related_name="+", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-spent_on", "-id")
        indexes = [models.Index(fields=("trip", "-spent_on"), name="expense_trip_spent_on")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=Decimal("0")), name="expense_amount_positive"),
            models.CheckConstraint(
                condition=Q(category__in=ExpenseCategory.values), name="expense_category_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.amount})"


class ExpenseShare(models.Model):
    """Who an expense is split between (the share amounts are derived, never stored)."""

    expense = models.ForeignKey(Expense, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ("expense", "user")
        constraints = [models.UniqueConstraint(fields=("expense", "user"), name="expense_share_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} shares {self.expense_id}"
