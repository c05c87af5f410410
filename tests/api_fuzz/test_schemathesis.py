"""REST under attack (issue 9): schemathesis against /api/schema/ on a live node.

Every operation of the OpenAPI schema, with generated valid and invalid input (positive
and negative generation), signed in with a real user JWT (staff for the /api/websocket/
admin API), over real HTTP. The only check: no 5xx, ever. Routes with ids see real data:
half of the cases of each operation have their path ids replaced by those of objects the
user can reach (a trip with itinerary, expense, activity, album, photo, journal entry and
chat), so the handlers behind the 404s run too. DELETEs keep their generated ids, so the
data survives the run. Bounded: MAX_EXAMPLES cases per operation, derandomized (the same
cases on every run), no example database.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.conftest import access_token
from tests.servers import DaphneNode

MAX_EXAMPLES = int(os.environ.get("TRAVA_FUZZ_EXAMPLES", "25"))

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


class Target:
    def __init__(self, node: DaphneNode, user_token: str, staff_token: str, ids: dict[str, Any]) -> None:
        self.node = node
        self.user_token = user_token
        self.staff_token = staff_token
        self.ids = ids
        self.counter = itertools.count()


def _seed(node: DaphneNode) -> tuple[str, str, dict[str, Any]]:
    """Committed data the node can see; the photo goes through the real upload."""
    from tests.factories import UserFactory
    from tests.journals.factories import make_entry
    from tests.photos.factories import image_bytes, make_album
    from tests.social.factories import ActivityFactory, ChatMessageFactory
    from tests.trips.factories import ExpenseFactory, ItineraryItemFactory, TripFactory, TripMemberFactory
    from trips.models import Role

    owner = UserFactory(username="fuzz-owner")
    friend = UserFactory(username="fuzz-friend")
    staff = UserFactory(username="fuzz-staff", is_staff=True)
    trip = TripFactory(created_by=owner)
    TripMemberFactory(trip=trip, user=friend, role=Role.EDITOR)
    item = ItineraryItemFactory(trip=trip)
    expense = ExpenseFactory(trip=trip)
    activity = ActivityFactory(trip=trip)
    album = make_album(trip, user=owner)
    entry = make_entry(author=owner, trip=trip, collaborators=(friend,))
    ChatMessageFactory(trip=trip, author=owner)
    token = access_token(owner)
    uploaded = httpx.post(
        f"{node.http_url}/api/albums/{album.pk}/photos/",
        files={"image": ("fuzz.png", image_bytes("PNG"), "image/png")},
        data={"caption": "fuzz"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert uploaded.status_code == 201, uploaded.text
    ids = {
        "trip_id": trip.pk,
        "item_id": item.pk,
        "expense_id": expense.pk,
        "activity_id": activity.pk,
        "album_id": album.pk,
        "photo_id": uploaded.json()["id"],
        "entry_id": entry.pk,
        "user_id": friend.pk,
        "username": friend.username,
        "room_id": f"trip_{trip.pk}",
    }
    return token, access_token(staff), ids


@pytest.fixture(scope="module")
def fuzz_target(test_database_url: str, django_db_blocker: Any) -> Iterator[Target]:
    from django.db import connection

    # Seeding commits and the teardown flushes: never against anything but a test database
    # (it is set up only when test_seeded_data_is_served is collected too).
    assert "test" in str(connection.settings_dict["NAME"]), (
        f"not a test database: {connection.settings_dict['NAME']} (collect test_seeded_data_is_served)"
    )
    node = DaphneNode(test_database_url, env={"LOG_LEVEL": "WARNING"}).start()
    try:
        with django_db_blocker.unblock():
            user_token, staff_token, ids = _seed(node)
        served = httpx.get(f"{node.http_url}/api/schema/?format=json", timeout=30)
        assert served.status_code == 200, served.text
        assert set(served.json()["paths"]) == set(schema.raw_schema["paths"])
        yield Target(node, user_token, staff_token, ids)
    finally:
        node.kill()
        # The seeded rows are committed: leave the test database empty for later tests.
        from django.core.management import call_command

        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


def _schema() -> Any:
    """The OpenAPI document /api/schema/ serves, generated in-process at collection, so
    every operation is its own test (the fixture checks the live one is the same)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = json.loads(
        OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True))
    )
    loaded = schemathesis.openapi.from_dict(document)
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=MAX_EXAMPLES,
        deterministic=True,
    )
    return loaded


schema = _schema()


# pytest-django sets up the test database only when a collected test asks for it, so one
# test here does (the fuzz cases must not: on SQLite, a test's open transaction would
# hold the write lock the node needs). It runs first and checks the node sees the data.
@pytest.mark.django_db
def test_seeded_data_is_served(fuzz_target: Target) -> None:
    answer = httpx.get(
        f"{fuzz_target.node.http_url}/api/trips/{fuzz_target.ids['trip_id']}/",
        headers={"Authorization": f"Bearer {fuzz_target.user_token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
def test_no_server_errors(case: Any, fuzz_target: Target) -> None:
    if case.path_parameters and case.method.upper() != "DELETE" and next(fuzz_target.counter) % 2 == 0:
        for name in case.path_parameters:
            if name in fuzz_target.ids:
                case.path_parameters[name] = fuzz_target.ids[name]
    admin = case.path.startswith("/api/websocket/")
    token = fuzz_target.staff_token if admin else fuzz_target.user_token
    response = case.call(
        base_url=fuzz_target.node.http_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    if response.status_code >= 500:
        print(f"--- node log:\n{fuzz_target.node.log()[-4000:]}")
    case.validate_response(response, checks=[not_a_server_error])
