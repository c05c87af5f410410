"""One REST error path (issue 14), over real HTTP against a live daphne.

Whatever goes wrong behind a view, in whichever app, the client gets the one body
`{code, message, fields?}` from trava/api/errors.py: a domain error a service raises, a
Django ValidationError of a service or a model, Django's PermissionDenied, an ORM
DoesNotExist, and a bug (500, the traceback in the node's log). The OpenAPI schema
documents every error answer with the one ApiError component.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import access_token
from tests.factories import UserFactory
from tests.journals.factories import make_entry
from tests.photos.factories import add_member, make_album, make_photo_row, make_trip
from tests.servers import DaphneNode
from trips.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def node(test_database_url: str) -> Iterator[DaphneNode]:
    """A node with the views of tests/foundation/error_path_urls.py besides every route."""
    server = DaphneNode(
        test_database_url, env={"DJANGO_SETTINGS_MODULE": "tests.foundation.error_path_settings"}
    ).start()
    yield server
    server.stop()


def client(node: DaphneNode, user: Any) -> httpx.Client:
    return httpx.Client(
        base_url=node.http_url, timeout=15, headers={"Authorization": f"Bearer {access_token(user)}"}
    )


def answer(response: httpx.Response, status: int) -> dict[str, Any]:
    """The body of an error answer, checked to be the one shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body.get("code"), str) and isinstance(body.get("message"), str), body
    assert set(body) <= {"code", "message", "fields", "current"}, body
    return body


# --- A domain error from each app -----------------------------------------------------------
def test_trips_service_refuses_removing_the_last_owner(node: DaphneNode) -> None:
    owner = UserFactory(username="err-owner")
    trip = make_trip(owner=owner)
    with client(node, owner) as alice:
        body = answer(alice.delete(f"/api/trips/{trip.pk}/members/{owner.pk}/"), 400)
    assert body == {
        "code": "validation_error",
        "message": "Invalid input: userId.",
        "fields": {"userId": ["A trip must keep at least one owner. Delete the trip or name another owner."]},
    }


def test_photos_service_refuses_a_cover_from_another_album_and_a_file_that_is_no_image(
    node: DaphneNode,
) -> None:
    owner = UserFactory(username="err-photographer")
    trip = make_trip(owner=owner)
    album, other = make_album(trip, user=owner), make_album(trip, user=owner, title="Other")
    elsewhere = make_photo_row(other, user=owner)
    with client(node, owner) as alice:
        cover = answer(alice.patch(f"/api/albums/{album.pk}/", json={"coverPhoto": elsewhere.pk}), 400)
        upload = answer(
            alice.post(
                f"/api/albums/{album.pk}/photos/", files={"image": ("a.png", b"not an image", "image/png")}
            ),
            400,
        )
    assert cover == {
        "code": "validation_error",
        "message": "Invalid input: coverPhoto.",
        "fields": {"coverPhoto": ["Not a photo of this album."]},
    }
    assert upload["code"] == "validation_error" and upload["message"] == "Invalid input: image."
    assert list(upload["fields"]) == ["image"], upload


def test_journals_service_refuses_an_unknown_collaborator_and_a_stale_version(node: DaphneNode) -> None:
    author = UserFactory(username="err-author")
    entry = make_entry(author=author)
    with client(node, author) as alice:
        unknown = answer(
            alice.post(f"/api/journals/{entry.pk}/collaborators/", json={"username": "nobody"}), 400
        )
        stale = answer(alice.patch(f"/api/journals/{entry.pk}/", json={"version": 7, "title": "Late"}), 409)
    assert unknown == {
        "code": "validation_error",
        "message": "Invalid input: username.",
        "fields": {"username": ["No such user."]},
    }
    assert stale["code"] == "version_conflict"
    assert stale["message"] == "The entry changed meanwhile (now version 1): merge and retry."
    assert stale["current"]["id"] == entry.pk and stale["current"]["version"] == 1  # camelCase entry


def test_social_service_errors_and_an_orm_does_not_exist(node: DaphneNode) -> None:
    owner, member, outsider = (UserFactory(username=f"err-{name}") for name in ("host", "guest", "stranger"))
    trip = make_trip(owner=owner)
    add_member(trip, member, Role.VIEWER)
    with client(node, member) as bob, client(node, outsider) as eve:
        blank = answer(bob.post(f"/api/error-path/chat/{trip.pk}/", json={"text": "   "}), 400)
        denied = answer(eve.post(f"/api/error-path/chat/{trip.pk}/", json={"text": "hi"}), 403)
        missing = answer(bob.post(f"/api/error-path/chat/{trip.pk + 1000}/", json={"text": "hi"}), 404)
    assert blank == {
        "code": "validation_error",
        "message": "Invalid input: text.",
        "fields": {"text": ["Must not be empty."]},
    }
    assert denied == {"code": "permission_denied", "message": "Only members of the trip can chat."}
    assert missing == {"code": "not_found", "message": "Not found."}


# --- Django's ValidationError from a model, and a bug ------------------------------------------
def test_a_models_validation_error_names_each_field_in_camel_case(node: DaphneNode) -> None:
    with client(node, UserFactory(username="err-modeller")) as alice:
        body = answer(alice.post("/api/error-path/model/"), 400)
    assert body["code"] == "validation_error"
    assert {"title", "destination", "startDate", "endDate"} <= set(body["fields"]), body
    assert body["message"] == "Invalid input: " + ", ".join(sorted(body["fields"])) + "."


def test_a_bug_answers_500_in_the_one_shape_and_its_traceback_is_logged(node: DaphneNode) -> None:
    with client(node, UserFactory(username="err-victim")) as alice:
        body = answer(alice.get("/api/error-path/bug/"), 500)
    assert body == {"code": "internal_error", "message": "Internal server error."}
    assert "RuntimeError: a bug behind a REST view" in node.log()


# --- The schema ---------------------------------------------------------------------------------
def test_every_error_answer_in_the_schema_is_the_one_component(http: httpx.Client) -> None:
    schema = http.get("/api/schema/", params={"format": "json"}).json()
    components = schema["components"]["schemas"]
    shape = set(components["ApiError"]["properties"])
    seen: dict[str, set[str]] = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] not in "45":
                    continue
                (media,) = response["content"].values()
                name = media["schema"]["$ref"].rsplit("/", 1)[1]
                seen.setdefault(name, set()).add(f"{method.upper()} {path} {status}")
    assert "ApiError" in seen and len(seen["ApiError"]) > 100, seen.keys()
    # Only a body that adds to the shape (a stale journal edit's 409 carries `current`) has a
    # component of its own, and it is the shape plus its addition.
    assert set(seen) == {"ApiError", "JournalConflict"}, {
        name: sorted(where)[:3] for name, where in seen.items()
    }
    assert seen["JournalConflict"] == {"PATCH /api/journals/{entry_id}/ 409"}
    assert shape <= set(components["JournalConflict"]["properties"])
