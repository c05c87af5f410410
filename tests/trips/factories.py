import datetime
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from tests.factories import UserFactory
from trips.models import Expense, ExpenseShare, ItineraryItem, Role, Trip, TripMember, Visibility


class TripFactory(DjangoModelFactory):
    """A trip whose `created_by` is also its owner member (as `trip_create` makes it)."""

    class Meta:
        model = Trip
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Trip {n}")
    destination = "Lisbon"
    start_date = datetime.date(2026, 6, 1)
    end_date = datetime.date(2026, 6, 10)
    visibility = Visibility.PRIVATE
    currency = "EUR"
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def owner_member(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and self.created_by is not None:
            TripMember.objects.create(trip=self, user=self.created_by, role=Role.OWNER)


class TripMemberFactory(DjangoModelFactory):
    class Meta:
        model = TripMember

    trip = factory.SubFactory(TripFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class ItineraryItemFactory(DjangoModelFactory):
    class Meta:
        model = ItineraryItem

    trip = factory.SubFactory(TripFactory)
    title = factory.Sequence(lambda n: f"Stop {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
    position = factory.Sequence(lambda n: n)


class ExpenseFactory(DjangoModelFactory):
    """An expense paid by the trip's creator and split between every current member."""

    class Meta:
        model = Expense
        skip_postgeneration_save = True

    trip = factory.SubFactory(TripFactory)
    description = factory.Sequence(lambda n: f"Expense {n}")
    amount = Decimal("30.00")
    paid_by = factory.LazyAttribute(lambda o: o.trip.created_by)
    spent_on = datetime.date(2026, 6, 2)

    @factory.post_generation
    def split(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        if not create:
            return
        user_ids = extracted if extracted is not None else self.trip.members.values_list("user_id", flat=True)
        ExpenseShare.objects.bulk_create([ExpenseShare(expense=self, user_id=uid) for uid in user_ids])
