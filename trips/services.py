"""Every write to trips, members, itinerary, expenses and budget.

Keyword-only, typed, atomic. Rules that span rows run under a lock on the trip row
(`select_for_update`), so two concurrent requests cannot both pass a check that only one
of them may pass (two demotions leaving no owner, two reorders interleaving). On SQLite
the lock is a no-op, but its IMMEDIATE transactions serialize writers just the same.
Errors are Django `ValidationError`s keyed by field; trava/api/errors.py answers them as
400s naming each field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from trips.currencies import is_iso_4217
from trips.models import (
    MONEY_MAX_DIGITS,
    Expense,
    ExpenseCategory,
    ExpenseShare,
    ItineraryItem,
    Role,
    Trip,
    TripMember,
    Visibility,
)
from trips.signals import itinerary_positions_changed, trip_changed, trip_member_role_changed

LAST_OWNER_MESSAGE = "A trip must keep at least one owner."


def _lock_trip(trip: Trip) -> Trip:
    return Trip.objects.select_for_update().get(pk=trip.pk)


def _check_money(field: str, value: Decimal | None, *, allow_zero: bool, nullable: bool = False) -> None:
    if value is None:
        if nullable:
            return
        raise ValidationError({field: ["This field is required."]})
    if not value.is_finite():
        raise ValidationError({field: ["Enter a valid amount."]})
    if value < 0 or (value == 0 and not allow_zero):
        raise ValidationError(
            {field: ["Must be greater than zero." if not allow_zero else "Must not be negative."]}
        )
    if value >= Decimal(10) ** (MONEY_MAX_DIGITS - 2):
        raise ValidationError({field: [f"Must be less than {10 ** (MONEY_MAX_DIGITS - 2)}."]})
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError({field: ["At most 2 decimal places."]})


# --- Trips --------------------------------------------------------------------------------
def _check_trip(trip: Trip) -> None:
    errors: dict[str, list[str]] = {}
    if trip.end_date < trip.start_date:
        errors["end_date"] = ["The end date must not be before the start date."]
    if not is_iso_4217(trip.currency):
        errors["currency"] = [f"{trip.currency!r} is not an active ISO 4217 currency code."]
    if trip.visibility not in Visibility.values:
        errors["visibility"] = ["Must be private or public."]
    if errors:
        raise ValidationError(errors)
    _check_money("budget_total", trip.budget_total, allow_zero=True, nullable=True)


@transaction.atomic
def trip_create(
    *,
    user: Any,
    title: str,
    destination: str,
    start_date: date,
    end_date: date,
    description: str = "",
    visibility: str = Visibility.PRIVATE,
    currency: str = "EUR",
    budget_total: Decimal | None = None,
) -> Trip:
    """Create a trip; its creator becomes its owner."""
    trip = Trip(
        title=title,
        destination=destination,
        start_date=start_date,
        end_date=end_date,
        description=description,
        visibility=visibility,
        currency=currency.upper(),
        budget_total=budget_total,
        created_by=user,
    )
    _check_trip(trip)
    trip.save()
    TripMember.objects.create(trip=trip, user=user, role=Role.OWNER)
    return trip


TRIP_UPDATABLE = (
    "title",
    "destination",
    "description",
    "start_date",
    "end_date",
    "visibility",
    "currency",
    "budget_total",
)


@transaction.atomic
def trip_update(*, trip: Trip, data: Mapping[str, Any]) -> Trip:
    """Change any of TRIP_UPDATABLE; the dates are checked together, old and new."""
    locked = _lock_trip(trip)
    changed = set()
    for field in TRIP_UPDATABLE:
        if field in data:
            value = data[field]
            value = value.upper() if field == "currency" else value
            if getattr(locked, field) != value:
                changed.add(field)
            setattr(locked, field, value)
    _check_trip(locked)
    locked.save()
    trip_changed.send(sender=Trip, trip_id=locked.pk, fields=changed)
    return Trip.objects.select_related("created_by").get(pk=locked.pk)


@transaction.atomic
def trip_delete(*, trip: Trip) -> None:
    Trip.objects.filter(pk=trip.pk).delete()


@transaction.atomic
def budget_update(*, trip: Trip, total: Decimal | None) -> Trip:
    """Set (or clear, with None) the trip's budget total."""
    _check_money("total", total, allow_zero=True, nullable=True)
    return trip_update(trip=trip, data={"budget_total": total})


# --- Members ------------------------------------------------------------------------------
@transaction.atomic
def trip_member_add(*, trip: Trip, user: Any, role: str = Role.VIEWER) -> TripMember:
    if role not in Role.values:
        raise ValidationError({"role": [f"Must be one of {', '.join(Role.values)}."]})
    _lock_trip(trip)
    if TripMember.objects.filter(trip=trip, user=user).exists():
        raise ValidationError({"username": [f"{user.username} is already a member of this trip."]})
    member = TripMember.objects.create(trip=trip, user=user, role=role)
    member.trip = trip
    return member


def _owners_besides(member: TripMember) -> int:
    return TripMember.objects.filter(trip_id=member.trip_id, role=Role.OWNER).exclude(pk=member.pk).count()


@transaction.atomic
def trip_member_update_role(*, member: TripMember, role: str) -> TripMember:
    """Change a member's role. The last owner cannot be demoted: the check runs after the
    trip row is locked, so two owners demoting each other at once leave one owner."""
    if role not in Role.values:
        raise ValidationError({"role": [f"Must be one of {', '.join(Role.values)}."]})
    _lock_trip(member.trip)
    current = TripMember.objects.select_related("user").get(pk=member.pk)
    if current.role == role:
        return current
    if current.role == Role.OWNER and _owners_besides(current) == 0:
        raise ValidationError({"role": [LAST_OWNER_MESSAGE]})
    previous, current.role = current.role, role
    current.save(update_fields=["role"])
    trip_member_role_changed.send(sender=TripMember, member=current, previous_role=previous)
    return current


@transaction.atomic
def trip_member_remove(*, member: TripMember) -> None:
    """Remove a member (a member may remove themself). The last owner stays."""
    _lock_trip(member.trip)
    current = TripMember.objects.filter(pk=member.pk).first()
    if current is None:
        return
    if current.role == Role.OWNER and _owners_besides(current) == 0:
        raise ValidationError({"user_id": [LAST_OWNER_MESSAGE + " Delete the trip or name another owner."]})
    current.delete()


# --- Itinerary ----------------------------------------------------------------------------
def _check_item(item: ItineraryItem) -> None:
    if item.ends_at is not None and item.ends_at < item.starts_at:
        raise ValidationError({"ends_at": ["The end must not be before the start."]})


def _renumber(items: list[ItineraryItem]) -> None:
    changed = []
    for index, item in enumerate(items):
        if item.position != index:
            item.position = index
            changed.append(item)
    ItineraryItem.objects.bulk_update(changed, ["position"])
    if changed:  # bulk_update fires no post_save: tell the event layer (trips.signals)
        itinerary_positions_changed.send(sender=ItineraryItem, items=changed)


def _place(trip: Trip, item: ItineraryItem, position: int | None) -> None:
    """Put `item` at `position` (end if None or past the end) and keep positions dense."""
    others = list(ItineraryItem.objects.filter(trip=trip).exclude(pk=item.pk).order_by("position", "id"))
    index = len(others) if position is None else max(0, min(position, len(others)))
    others.insert(index, item)
    _renumber(others)


@transaction.atomic
def itinerary_item_create(
    *,
    trip: Trip,
    user: Any,
    title: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    location: str = "",
    notes: str = "",
    position: int | None = None,
) -> ItineraryItem:
    locked = _lock_trip(trip)
    item = ItineraryItem(
        trip=locked,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        notes=notes,
        position=ItineraryItem.objects.filter(trip=locked).count(),
        created_by=user,
    )
    _check_item(item)
    item.save()
    if position is not None:
        _place(locked, item, position)
        item.refresh_from_db(fields=["position"])
    return item


ITEM_UPDATABLE = ("title", "starts_at", "ends_at", "location", "notes")


@transaction.atomic
def itinerary_item_update(*, item: ItineraryItem, data: Mapping[str, Any]) -> ItineraryItem:
    locked_trip = _lock_trip(item.trip)
    current = ItineraryItem.objects.select_related("created_by").get(pk=item.pk)
    for field in ITEM_UPDATABLE:
        if field in data:
            setattr(current, field, data[field])
    _check_item(current)
    current.save()
    if data.get("position") is not None:
        _place(locked_trip, current, data["position"])
        current.refresh_from_db(fields=["position"])
    return current


@transaction.atomic
def itinerary_item_delete(*, item: ItineraryItem) -> None:
    locked_trip = _lock_trip(item.trip)
    ItineraryItem.objects.filter(pk=item.pk).delete()
    _renumber(list(ItineraryItem.objects.filter(trip=locked_trip).order_by("position", "id")))


@transaction.atomic
def itinerary_reorder(*, trip: Trip, item_ids: list[int]) -> list[ItineraryItem]:
    """Set the whole order at once: `item_ids` must list every item of the trip once."""
    locked = _lock_trip(trip)
    items = {item.pk: item for item in ItineraryItem.objects.filter(trip=locked).select_related("created_by")}
    if len(item_ids) != len(set(item_ids)) or set(item_ids) != set(items):
        raise ValidationError({"item_ids": ["Must list every itinerary item of the trip exactly once."]})
    ordered = [items[pk] for pk in item_ids]
    _renumber(ordered)
    return ordered


# --- Expenses -----------------------------------------------------------------------------
def _member_ids(trip: Trip) -> set[int]:
    return set(TripMember.objects.filter(trip=trip).values_list("user_id", flat=True))


def _check_expense_people(
    members: set[int], paid_by_id: int | None, split_between: Iterable[int] | None
) -> None:
    errors: dict[str, list[str]] = {}
    if paid_by_id is not None and paid_by_id not in members:
        errors["paid_by"] = ["Must be a member of the trip."]
    if split_between is not None:
        strangers = sorted(set(split_between) - members)
        if strangers:
            errors["split_between"] = [f"Not members of the trip: {', '.join(map(str, strangers))}."]
    if errors:
        raise ValidationError(errors)


def _check_expense_fields(*, amount: Decimal | None, category: str | None) -> None:
    if amount is not None:
        _check_money("amount", amount, allow_zero=False)
    if category is not None and category not in ExpenseCategory.values:
        raise ValidationError({"category": [f"Must be one of {', '.join(ExpenseCategory.values)}."]})


@transaction.atomic
def expense_add(
    *,
    trip: Trip,
    user: Any,
    description: str,
    amount: Decimal,
    paid_by_id: int,
    spent_on: date,
    category: str = ExpenseCategory.OTHER,
    split_between: list[int] | None = None,
) -> Expense:
    """Record an expense in the trip's currency. Without `split_between` it is split
    between every member the trip has now (stored, so later joiners owe nothing)."""
    locked = _lock_trip(trip)
    _check_expense_fields(amount=amount, category=category)
    members = _member_ids(locked)
    _check_expense_people(members, paid_by_id, split_between)
    expense = Expense.objects.create(
        trip=locked,
        description=description,
        amount=amount,
        category=category,
        paid_by_id=paid_by_id,
        spent_on=spent_on,
        created_by=user,
    )
    people = sorted(set(split_between)) if split_between else sorted(members)
    ExpenseShare.objects.bulk_create([ExpenseShare(expense=expense, user_id=uid) for uid in people])
    return expense_list_one(expense.pk)


def expense_list_one(expense_id: int) -> Expense:
    return (
        Expense.objects.select_related("trip", "paid_by", "created_by")
        .prefetch_related("shares")
        .get(pk=expense_id)
    )


EXPENSE_UPDATABLE = ("description", "amount", "category", "paid_by_id", "spent_on")


@transaction.atomic
def expense_update(*, expense: Expense, data: Mapping[str, Any]) -> Expense:
    locked = _lock_trip(expense.trip)
    _check_expense_fields(amount=data.get("amount"), category=data.get("category"))
    split_between = data.get("split_between")
    members = _member_ids(locked)
    _check_expense_people(members, data.get("paid_by_id"), split_between)
    current = Expense.objects.get(pk=expense.pk)
    for field in EXPENSE_UPDATABLE:
        if field in data:
            setattr(current, field, data[field])
    current.save()
    if split_between is not None:
        people = sorted(set(split_between)) if split_between else sorted(members)
        ExpenseShare.objects.filter(expense=current).delete()
        ExpenseShare.objects.bulk_create([ExpenseShare(expense=current, user_id=uid) for uid in people])
    return expense_list_one(current.pk)


@transaction.atomic
def expense_delete(*, expense: Expense) -> None:
    _lock_trip(expense.trip)
    Expense.objects.filter(pk=expense.pk).delete()
