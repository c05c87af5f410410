"""Every journal endpoint x method x {anonymous, non-member, viewer, editor, owner, staff} x
{private, public trip} x {draft, published}, over real HTTP against the live daphne.

The trip's owner writes the entries, its editor is their collaborator, its viewer is a
plain member; the outsider and staff are not members (staff are not special in REST)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from journals.models import EntryStatus, JournalEntry
from tests.conftest import access_token
from tests.journals.factories import make_entry
from tests.photos.factories import TripPeople

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ("anonymous", "outsider", "viewer", "editor", "owner", "staff")
READ, EDIT, MANAGE = "read", "edit", "manage"


def can_view(role: str, visibility: str, status: str) -> bool:
    if role in ("owner", "editor"):
        return True
    if role == "anonymous" or status == EntryStatus.DRAFT:
        return False
    return visibility == "public" or role == "viewer"


def expected(role: str, visibility: str, status: str, kind: str, ok: int) -> int:
    if role == "anonymous":
        return 401
    allowed = {READ: True, EDIT: role in ("owner", "editor"), MANAGE: role == "owner"}[kind]
    if allowed and can_view(role, visibility, status):
        return ok
    return 403 if can_view(role, visibility, status) else 404


@dataclass
class Case:
    name: str
    method: str
    url: Callable[[], str]
    kind: str
    ok: int
    json: Callable[[], Any] | None = None


def cases(people: TripPeople, entry: JournalEntry, status: str) -> list[Case]:
    def fresh() -> JournalEntry:
        return make_entry(
            author=people.owner, trip=people.trip, status=status, collaborators=(people.editor,)
        )

    def current_version() -> dict:
        return {"version": JournalEntry.objects.get(pk=entry.pk).version, "body": "edited"}

    return [
        Case("read", "GET", lambda: f"/api/journals/{entry.pk}/", READ, 200),
        Case("edit", "PATCH", lambda: f"/api/journals/{entry.pk}/", EDIT, 200, current_version),
        Case("delete", "DELETE", lambda: f"/api/journals/{fresh().pk}/", MANAGE, 204),
        Case("publish", "POST", lambda: f"/api/journals/{fresh().pk}/publish/", MANAGE, 200),
        Case("revisions", "GET", lambda: f"/api/journals/{entry.pk}/revisions/", EDIT, 200),
        Case("collaborators", "GET", lambda: f"/api/journals/{entry.pk}/collaborators/", READ, 200),
        Case(
            "add collaborator",
            "POST",
            lambda: f"/api/journals/{fresh().pk}/collaborators/",
            MANAGE,
            201,
            lambda: {"username": people.viewer.username},
        ),
        Case(
            "remove collaborator",
            "DELETE",
            lambda: f"/api/journals/{fresh().pk}/collaborators/{people.editor.username}/",
            MANAGE,
            204,
        ),
        Case("comments", "GET", lambda: f"/api/journals/{entry.pk}/comments/", READ, 200),
        Case(
            "comment",
            "POST",
            lambda: f"/api/journals/{entry.pk}/comments/",
            READ,
            201,
            lambda: {"text": "hi"},
        ),
    ]


def test_journal_endpoints_permission_matrix(http: httpx.Client) -> None:
    mismatches: list[str] = []
    worlds = []
    for visibility in ("private", "public"):
        people = TripPeople(visibility, f"jr-{visibility}")
        entries = {
            status: make_entry(
                author=people.owner, trip=people.trip, status=status, collaborators=(people.editor,)
            )
            for status in (EntryStatus.DRAFT, EntryStatus.PUBLISHED)
        }
        worlds.append((visibility, people, entries))

    def headers_of(user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token(user)}"} if user else {}

    # The list and create endpoints, before the loop below adds entries.
    for visibility, people, entries in worlds:
        users = people.by_role()
        for role in ROLES:
            headers = headers_of(users.get(role))
            listed = http.get("/api/journals/", params={"trip": people.trip.pk}, headers=headers)
            if role == "anonymous":
                want_ids = None
                ok = listed.status_code == 401
            else:
                want_ids = sorted(e.pk for s, e in entries.items() if can_view(role, visibility, s))
                ok = (
                    listed.status_code == 200
                    and sorted(r["id"] for r in listed.json()["results"]) == want_ids
                )
            if not ok:
                mismatches.append(
                    f"{visibility} {role} list: {listed.status_code} {listed.text[:150]} want {want_ids}"
                )
            created = http.post(
                "/api/journals/", json={"title": "Mine", "trip": people.trip.pk}, headers=headers
            )
            want = {"anonymous": 401, "outsider": 400, "staff": 400}.get(role, 201)
            if created.status_code != want or (want == 400 and "trip" not in created.json()["fields"]):
                mismatches.append(f"{visibility} {role} create: {created.status_code} want {want}")

    for visibility, people, entries in worlds:
        users = people.by_role()
        for status, entry in entries.items():
            for role in ROLES:
                headers = headers_of(users.get(role))
                for case in cases(people, entry, status):
                    body = case.json() if case.json else None
                    response = http.request(case.method, case.url(), headers=headers, json=body)
                    want = expected(role, visibility, status, case.kind, case.ok)
                    if response.status_code != want:
                        mismatches.append(
                            f"{visibility:7} {status:9} {role:9} {case.name:20} got {response.status_code}, "
                            f"want {want}: {response.text[:120]}"
                        )
    assert not mismatches, "\n".join(mismatches)
