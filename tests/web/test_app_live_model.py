"""The live page applies the complete live model (protocol.md 9.2) for another user, live,
in a real browser (Debian's chromium via Playwright): while bob looks at the trip, alice
(over REST) deletes a photo, edits a caption, removes a member and finally deletes the
trip; bob's page drops the photo, shows the caption, drops the member from the list and
leaves the deleted trip with a message, all without a reload."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from tests.conftest import access_token
from tests.factories import UserFactory
from tests.servers import DaphneNode
from tests.web.conftest import TripScene
from tests.web.test_app_browser import LIVE, TIMEOUT_MS, page_of, sign_in  # noqa: F401 - a fixture
from trips import services as trips
from trips.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (24, 120, 110)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_deleted_photo_and_removed_member_vanish_for_another_user_live(  # type: ignore[no-untyped-def]
    page_of,  # noqa: F811 - the fixture imported above
    daphne_server: DaphneNode,
    trip_scene: TripScene,
) -> None:
    trip = trip_scene.trip
    carol = UserFactory(username="carol")
    trips.trip_member_add(trip=trip, user=carol, role=Role.VIEWER)
    alice = httpx.Client(
        base_url=f"{daphne_server.http_url}/api",
        headers={"Authorization": f"Bearer {access_token(trip_scene.alice)}"},
        timeout=15,
    )
    album = alice.post(f"/trips/{trip.pk}/albums/", json={"title": "Alfama"}).json()
    photos = {}
    for caption in ("Keep me", "Delete me"):
        response = alice.post(
            f"/albums/{album['id']}/photos/",
            files={"image": (f"{caption}.png", _png(), "image/png")},
            data={"caption": caption},
        )
        assert response.status_code == 201, response.text
        photos[caption] = response.json()["id"]

    bob = page_of()
    bob.set_default_timeout(TIMEOUT_MS)
    sign_in(bob, daphne_server, trip_scene, "bob")
    bob.evaluate(f"location.hash = '#trip/{trip.pk}'")
    bob.locator(LIVE).wait_for()
    members = bob.get_by_test_id("member")
    members.filter(has_text="carol").wait_for()
    assert members.count() == 3

    # Alice removes carol: she vanishes from bob's member list, the others stay.
    assert alice.delete(f"/trips/{trip.pk}/members/{carol.pk}/").status_code == 204
    members.filter(has_text="carol").wait_for(state="detached")
    members.filter(has_text="alice").wait_for()
    assert members.count() == 2

    # Bob opens the album; alice deletes one photo and re-captions the other.
    bob.evaluate(f"location.hash = '#trip/{trip.pk}/photos/{album['id']}'")
    grid = bob.get_by_test_id("photo-item")
    grid.filter(has_text="Delete me").wait_for()
    grid.filter(has_text="Keep me").wait_for()
    assert alice.delete(f"/photos/{photos['Delete me']}/").status_code == 204
    grid.filter(has_text="Delete me").wait_for(state="detached")
    response = alice.patch(f"/photos/{photos['Keep me']}/", json={"caption": "Kept, renamed"})
    assert response.status_code == 200, response.text
    bob.get_by_test_id("photo-caption").filter(has_text="Kept, renamed").wait_for()
    assert grid.count() == 1

    # Alice deletes the trip: bob's page says so and goes back to his trip list.
    assert alice.delete(f"/trips/{trip.pk}/").status_code == 204
    bob.locator("#toasts").filter(has_text="was deleted").wait_for()
    bob.get_by_test_id("trip-form").wait_for()
    assert "#trip/" not in bob.url
    assert bob.outside == [] and bob.errors == []
    alice.close()


def test_the_page_catches_up_over_rest_when_the_replay_is_refused(  # type: ignore[no-untyped-def]
    page_of,  # noqa: F811 - the fixture imported above
    test_database_url: str,
    trip_scene: TripScene,
    http: httpx.Client,
) -> None:
    """Bob's node restarts while alice adds expenses elsewhere; back, the re-join's replay
    is refused (more than HISTORY_MAX_EVENTS=1 missed), and the page gets the expenses from
    the REST catch-up (`/api/rooms/trip_<id>/events/`), not from re-reading the trip."""
    trip = trip_scene.trip
    node = DaphneNode(test_database_url, env={"HISTORY_MAX_EVENTS": "1"}).start()
    try:
        bob = page_of(node)
        sign_in(bob, node, trip_scene, "bob")
        bob.goto(f"{node.http_url}/app/#trip/{trip.pk}")
        bob.locator(LIVE).wait_for(timeout=TIMEOUT_MS)
        bob.get_by_test_id("expense-item").first.wait_for(timeout=TIMEOUT_MS)
        # The room is joined (bob is in its presence list): the re-join below resumes from
        # a position. (A first join cut off by the restart resyncs instead: tests/js.)
        bob.get_by_test_id("presence-member").filter(has_text="bob").wait_for(timeout=TIMEOUT_MS)
        requests: list[str] = []
        bob.on("request", lambda request: requests.append(request.url))

        node.stop()
        bob.locator('[data-testid="connection-state"][data-state="reconnecting"]').wait_for(
            timeout=TIMEOUT_MS
        )
        alice = {"Authorization": f"Bearer {access_token(trip_scene.alice)}"}
        for description, amount in (("Taxi", "25.00"), ("Ferry", "8.00")):
            response = http.post(
                f"/api/trips/{trip.pk}/expenses/",
                headers=alice,
                json={
                    "description": description,
                    "amount": amount,
                    "paidBy": trip_scene.alice.pk,
                    "spentOn": "2026-05-03",
                },
            )
            assert response.status_code == 201, response.text

        node.start()
        bob.locator(LIVE).wait_for(timeout=20_000)
        for description in ("Taxi", "Ferry"):
            bob.get_by_test_id("expense-item").filter(has_text=description).wait_for(timeout=TIMEOUT_MS)
        bob.get_by_test_id("budget-spent").filter(has_text="€673.00").wait_for(timeout=TIMEOUT_MS)
        bob.wait_for_timeout(300)
        assert any(f"/api/rooms/trip_{trip.pk}/events/?since=" in url for url in requests), requests
        assert not any("/itinerary/" in url for url in requests), "caught up: no re-read of the trip"
        assert bob.get_by_test_id("expense-item").filter(has_text="Taxi").count() == 1
        assert bob.outside == [] and bob.errors == []
    finally:
        node.stop()
