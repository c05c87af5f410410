"""Bench data through Django's ORM: users (one per client), one trip room per run, tokens.

Imported only after `bench.run` has set the environment (DATABASE_URL, SECRET_KEY) and
called `django.setup()`. Everything created carries the run's tag so it can be removed
from a database the bench does not own.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from rest_framework_simplejwt.tokens import AccessToken

from trava.accounts.models import User
from trips.models import Role, Trip, TripMember


def create_users(tag: str, count: int, staff_sender: bool = False) -> list[User]:
    """`count` active users named `<tag>-<n>` with unusable passwords (tokens are minted).
    The first one sends; `staff_sender` makes it staff (for the server's test_broadcast hook)."""
    users = [
        User(
            username=f"{tag}-{n:05d}",
            email=f"{tag}-{n:05d}@bench.invalid",
            password="!",
            is_staff=staff_sender and n == 0,
        )
        for n in range(count)
    ]
    User.objects.bulk_create(users, batch_size=500)
    return list(User.objects.filter(username__startswith=f"{tag}-").order_by("username"))


def create_trip_room(tag: str, members: Sequence[User]) -> str:
    """A private trip with `members` (the first one owns it, who sends); its room id."""
    today = datetime.date.today()
    trip = Trip.objects.create(
        title=f"{tag} trip",
        destination="Loopback",
        start_date=today,
        end_date=today + datetime.timedelta(days=3),
        created_by=members[0],
    )
    TripMember.objects.bulk_create(
        [
            TripMember(trip=trip, user=user, role=Role.OWNER if i == 0 else Role.EDITOR)
            for i, user in enumerate(members)
        ],
        batch_size=500,
    )
    return f"trip_{trip.pk}"


def tokens_for(users: Sequence[User]) -> list[str]:
    return [str(AccessToken.for_user(user)) for user in users]


def delete_bench_data(tag: str) -> None:
    Trip.objects.filter(title=f"{tag} trip").delete()
    User.objects.filter(username__startswith=f"{tag}-").delete()
