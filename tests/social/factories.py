import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from social.models import Activity, ChatMessage, Notification, NotificationKind, Rsvp, RsvpStatus
from tests.factories import UserFactory
from tests.trips.factories import TripFactory


class ChatMessageFactory(DjangoModelFactory):
    class Meta:
        model = ChatMessage

    trip = factory.SubFactory(TripFactory)
    author = factory.LazyAttribute(lambda o: o.trip.created_by)
    text = factory.Sequence(lambda n: f"message {n}")


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    kind = NotificationKind.MENTION
    message = factory.Sequence(lambda n: f"notification {n}")


class ActivityFactory(DjangoModelFactory):
    class Meta:
        model = Activity

    trip = factory.SubFactory(TripFactory)
    title = factory.Sequence(lambda n: f"Activity {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=31))
    created_by = factory.LazyAttribute(lambda o: o.trip.created_by)


class RsvpFactory(DjangoModelFactory):
    class Meta:
        model = Rsvp

    activity = factory.SubFactory(ActivityFactory)
    user = factory.SubFactory(UserFactory)
    status = RsvpStatus.GOING
