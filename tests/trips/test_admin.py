"""Every trips and social model has a working admin: changelist (with search and a
filter), change page with its inlines."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from social.models import Activity, ChatMessage, Notification, Rsvp
from tests.factories import UserFactory
from tests.social.factories import ActivityFactory, ChatMessageFactory, NotificationFactory, RsvpFactory
from tests.trips.factories import ExpenseFactory, ItineraryItemFactory, TripFactory, TripMemberFactory
from trips.models import Expense, ItineraryItem, Trip, TripMember

pytestmark = pytest.mark.django_db


def test_admin_pages_render_for_every_model(client: Client) -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    trip = TripFactory()
    objects = {
        Trip: trip,
        TripMember: TripMemberFactory(trip=trip),
        ItineraryItem: ItineraryItemFactory(trip=trip),
        Expense: ExpenseFactory(trip=trip),
        ChatMessage: ChatMessageFactory(trip=trip),
        Notification: NotificationFactory(),
        Activity: ActivityFactory(trip=trip),
        Rsvp: RsvpFactory(),
    }
    for model, obj in objects.items():
        assert admin.site.is_registered(model), model
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for url in (base, f"{base}?q=a", f"{base}{obj.pk}/change/", f"{base}add/"):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
    trip_page = client.get(f"/admin/trips/trip/{trip.pk}/change/").content.decode()
    assert "Trip members" in trip_page  # the members inline
