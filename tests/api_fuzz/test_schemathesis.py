"""REST under attack (issue 9): schemathesis against /api/schema/ on a live node.

Every operation of the OpenAPI schema, with generated valid and invalid input (positive
and negative generation), signed in with a real user JWT (staff for the /api/websocket/
admin API), over real HTTP. The only check: no 5xx, ever. Routes with ids see real data:
half of the cases of each operation have their path ids replaced by those of objects the
user can reach (a trip with itinerary, expense, activity, album, photo, journal entry and
chat), so the handlers behind the 404s run too. DELETEs keep their generated ids, so the
data survives the run. Bounded: MAX_EXAMPLES cases per operation, derandomized (the same
cases on every run), no example database. Then what generation does not reach (bodies
nested 50,000 deep, bad cursors, 23-digit ids), and the node's whole log must hold no
traceback.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
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


# --- Inputs generation does not reach: deep nesting, bad cursors, huge ids -------------------
DEPTHS = (65, 5_000, 50_000)
BAD_CURSORS = (
    "garbage!",
    base64.b64encode(b"p=not-a-date").decode(),
    base64.b64encode(b"p=2026-02-30 10:00:00+00:00").decode(),
    base64.b64encode(b"p=9999-12-31 23:59:59-23:59").decode(),
    base64.b64encode(b"1|2026-02-30T10:00:00+00:00|5").decode(),
    base64.b64encode(b"0|9999-12-31T23:59:59-23:59|5").decode(),
    base64.b64encode(b"1|2026-01-01T00:00:00+00:00|" + b"9" * 25).decode(),
)
HUGE_INT = "1" * 23


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema.raw_schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method.upper(), operation


def _url(target: Target, path: str) -> str:
    for name in re.findall(r"{(\w+)}", path):
        path = path.replace(f"{{{name}}}", str(target.ids.get(name, 1)))
    return path


def _headers(target: Target, path: str) -> dict[str, str]:
    token = target.staff_token if path.startswith("/api/websocket/") else target.user_token
    return {"Authorization": f"Bearer {token}"}


def test_deeply_nested_bodies_bad_cursors_and_huge_ids_never_5xx(fuzz_target: Target) -> None:
    """Every operation with a JSON body gets bodies nested past the parser's limit (up to
    50,000 levels), every list with a cursor gets cursors that decode to garbage or to
    impossible dates, every integer query parameter gets 23 digits: never a 5xx."""
    failures: list[tuple[str, str, str, int]] = []
    sent = 0
    with httpx.Client(base_url=fuzz_target.node.http_url, timeout=30) as http:
        for path, method, operation in _operations():
            url, headers = _url(fuzz_target, path), _headers(fuzz_target, path)
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                for depth in DEPTHS:
                    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
                        answer = http.request(
                            method, url, content=body, headers={**headers, "Content-Type": "application/json"}
                        )
                        sent += 1
                        if answer.status_code >= 500:
                            failures.append((method, path, f"depth {depth}", answer.status_code))
            if method != "GET":
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                name = parameter["name"]
                if name == "cursor":
                    values: tuple[str, ...] = BAD_CURSORS
                elif parameter.get("schema", {}).get("type") == "integer":
                    values = (HUGE_INT, "-" + HUGE_INT)
                else:
                    continue
                for value in values:
                    answer = http.get(url, params={name: value}, headers=headers)
                    sent += 1
                    if answer.status_code >= 500:
                        failures.append((method, path, f"{name}={value}", answer.status_code))
    assert sent > 100, sent
    assert not failures, failures


def test_the_server_log_holds_no_traceback(fuzz_target: Target) -> None:
    """Runs after every fuzz case of this module (file order): the whole log of the node,
    not only its tail, is free of tracebacks and 500 reports."""
    log = fuzz_target.node.log_path.read_text(errors="replace")
    for marker in ("Traceback", "Exception inside application", "Internal Server Error"):
        assert marker not in log, log[max(0, log.find(marker) - 2000) : log.find(marker) + 2000]
