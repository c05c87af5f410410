"""Every photo endpoint x method x {anonymous, non-member, viewer, editor, owner, staff} x
{private, public trip}, over real HTTP against the live daphne (api.md "Access rules")."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from photos.models import Album, Photo
from photos.services import photo_comment_add, photo_upload
from tests.conftest import access_token
from tests.photos.factories import TripPeople, image_bytes, make_album, make_photo_row

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ("anonymous", "outsider", "viewer", "editor", "owner", "staff")
READ, PARTICIPATE, EDIT = "read", "participate", "edit"
PNG = image_bytes("PNG", size=(8, 8))


def expected(role: str, visibility: str, kind: str, ok: int) -> int:
    """The rule, written out independently of the predicates under test."""
    if role == "anonymous":
        return 401
    if role in ("outsider", "staff"):  # staff are not special in REST (api.md)
        if visibility == "private":
            return 404
        return ok if kind == READ else 403
    if kind == EDIT and role == "viewer":
        return 403
    return ok


@dataclass
class Case:
    name: str
    method: str
    url: Callable[[], str]  # called per request: some cases need a fresh object
    kind: str
    ok: int
    json: Any = None
    files: dict | None = None
    query_token: bool = False
    extra: dict = field(default_factory=dict)


def build_world(visibility: str) -> tuple[TripPeople, Album, Photo]:
    people = TripPeople(visibility, f"ph-{visibility}")
    album = make_album(people.trip, title="Main", user=people.owner)
    photo = photo_upload(album=album, user=people.owner, file=io.BytesIO(PNG))
    photo_comment_add(photo=photo, user=people.viewer, text="nice")
    return people, album, photo


def cases(people: TripPeople, album: Album, photo: Photo) -> list[Case]:
    trip = people.trip
    return [
        Case("list albums", "GET", lambda: f"/api/trips/{trip.pk}/albums/", READ, 200),
        Case(
            "create album", "POST", lambda: f"/api/trips/{trip.pk}/albums/", EDIT, 201, json={"title": "New"}
        ),
        Case("read album", "GET", lambda: f"/api/albums/{album.pk}/", READ, 200),
        Case(
            "update album", "PATCH", lambda: f"/api/albums/{album.pk}/", EDIT, 200, json={"title": "Renamed"}
        ),
        Case("delete album", "DELETE", lambda: f"/api/albums/{make_album(trip).pk}/", EDIT, 204),
        Case("list photos", "GET", lambda: f"/api/albums/{album.pk}/photos/", READ, 200),
        Case(
            "upload photo",
            "POST",
            lambda: f"/api/albums/{album.pk}/photos/",
            EDIT,
            201,
            files={"image": ("p.png", PNG, "image/png")},
        ),
        Case("read photo", "GET", lambda: f"/api/photos/{photo.pk}/", READ, 200),
        Case("update photo", "PATCH", lambda: f"/api/photos/{photo.pk}/", EDIT, 200, json={"caption": "c"}),
        Case("delete photo", "DELETE", lambda: f"/api/photos/{make_photo_row(album).pk}/", EDIT, 204),
        Case("image file", "GET", lambda: f"/api/photos/{photo.pk}/image/", READ, 200),
        Case("thumbnail file", "GET", lambda: f"/api/photos/{photo.pk}/thumbnail/", READ, 200),
        Case(
            "image ?access_token",
            "GET",
            lambda: f"/api/photos/{photo.pk}/image/",
            READ,
            200,
            query_token=True,
        ),
        Case(
            "thumbnail ?access_token",
            "GET",
            lambda: f"/api/photos/{photo.pk}/thumbnail/",
            READ,
            200,
            query_token=True,
        ),
        Case("list comments", "GET", lambda: f"/api/photos/{photo.pk}/comments/", READ, 200),
        Case(
            "comment",
            "POST",
            lambda: f"/api/photos/{photo.pk}/comments/",
            PARTICIPATE,
            201,
            json={"text": "hi"},
        ),
        Case("list reactions", "GET", lambda: f"/api/photos/{photo.pk}/reactions/", READ, 200),
        Case(
            "react",
            "POST",
            lambda: f"/api/photos/{photo.pk}/reactions/",
            PARTICIPATE,
            201,
            json={"emoji": "👍"},
        ),
        Case(
            "unreact",
            "DELETE",
            lambda: f"/api/photos/{photo.pk}/reactions/?emoji=%F0%9F%91%8D",
            PARTICIPATE,
            204,
        ),
    ]


def test_photo_endpoints_permission_matrix(http: httpx.Client) -> None:
    mismatches: list[str] = []
    for visibility in ("private", "public"):
        people, album, photo = build_world(visibility)
        users = people.by_role()
        for role in ROLES:
            token = access_token(users[role]) if role in users else None
            for case in cases(people, album, photo):
                headers, params = {}, {}
                if token and case.query_token:
                    params["access_token"] = token
                elif token:
                    headers["Authorization"] = f"Bearer {token}"
                response = http.request(
                    case.method,
                    case.url(),
                    headers=headers,
                    params=params or None,
                    json=case.json,
                    files=case.files,
                )
                want = expected(role, visibility, case.kind, case.ok)
                if response.status_code != want:
                    mismatches.append(
                        f"{visibility:7} {role:9} {case.name:24} got {response.status_code}, want {want}: "
                        f"{response.text[:120]}"
                    )
    assert not mismatches, "\n".join(mismatches)


def test_another_trips_photo_urls_are_404_and_unknown_ids_too(http: httpx.Client) -> None:
    _, _, private_photo = build_world("private")
    stranger, _, own_photo = build_world("public")
    headers = {"Authorization": f"Bearer {access_token(stranger.owner)}"}
    assert http.get(f"/api/photos/{own_photo.pk}/image/", headers=headers).status_code == 200
    for path in ("image", "thumbnail"):
        guessed = http.get(f"/api/photos/{private_photo.pk}/{path}/", headers=headers)
        unknown = http.get(f"/api/photos/{private_photo.pk + 1000}/{path}/", headers=headers)
        assert guessed.status_code == unknown.status_code == 404
        assert guessed.json() == unknown.json() == {"code": "not_found", "message": "Photo not found."}
    # A bad token in the query string is a 401, not a way around the check.
    bad = http.get(f"/api/photos/{own_photo.pk}/image/", params={"access_token": "not-a-jwt"})
    assert bad.status_code == 401
