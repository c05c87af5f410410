"""Identical reactions posted at the same moment over real HTTP leave exactly one row."""

from __future__ import annotations

import threading

import httpx
import pytest

from photos.models import PhotoReaction
from tests.conftest import access_token
from tests.photos.factories import TripPeople, make_album, make_photo_row

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_identical_reactions_make_one_row(daphne_server) -> None:  # type: ignore[no-untyped-def]
    people = TripPeople("private", "race")
    photo = make_photo_row(make_album(people.trip))
    headers = {"Authorization": f"Bearer {access_token(people.viewer)}"}
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []

    def react() -> None:
        with httpx.Client(base_url=daphne_server.http_url, timeout=20) as client:
            barrier.wait()
            response = client.post(
                f"/api/photos/{photo.pk}/reactions/", json={"emoji": "🎉"}, headers=headers
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=react) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200] * (threads_count - 1) + [201]
    assert PhotoReaction.objects.filter(photo=photo, user=people.viewer, emoji="🎉").count() == 1

    with httpx.Client(base_url=daphne_server.http_url, timeout=20) as client:
        listed = client.get(f"/api/albums/{photo.album_id}/photos/", headers=headers).json()["results"][0]
    assert listed["reactions"] == [{"emoji": "🎉", "count": 1}]
