"""Journal behaviour through the in-process API client."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from journals.models import EntryStatus, JournalComment, JournalEntry
from journals.serializers import JournalCommentSerializer, JournalEntrySerializer
from tests.journals.factories import make_entry
from tests.photos.factories import TripPeople
from trava.api.camel import camelize

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db) -> TripPeople:  # type: ignore[no-untyped-def]
    return TripPeople("private", "japi")


def test_draft_edit_publish_comment_flow_and_payloads_equal_the_serializers(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    author = auth_api(people.owner)
    created = author.post(
        "/api/journals/", {"title": "Day 1", "body": "# Lisbon", "trip": people.trip.pk}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and body["version"] == 1 and body["publishedAt"] is None
    entry_id = body["id"]

    viewer = auth_api(people.viewer)
    assert viewer.get(f"/api/journals/{entry_id}/").status_code == 404  # a draft: author only

    added = author.post(
        f"/api/journals/{entry_id}/collaborators/", {"username": "JAPI-EDITOR"}, format="json"
    )
    assert added.status_code == 201 and added.json()["username"] == "japi-editor"
    editor = auth_api(people.editor)
    edited = editor.patch(f"/api/journals/{entry_id}/", {"version": 1, "title": "Day one"}, format="json")
    assert edited.status_code == 200 and edited.json()["version"] == 2 and edited.json()["body"] == "# Lisbon"
    assert editor.post(f"/api/journals/{entry_id}/publish/").status_code == 403  # author only

    published = author.post(f"/api/journals/{entry_id}/publish/")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert published.json()["publishedAt"] is not None and published.json()["version"] == 2
    again = author.post(f"/api/journals/{entry_id}/publish/")
    assert again.json()["publishedAt"] == published.json()["publishedAt"]  # idempotent

    comment = viewer.post(f"/api/journals/{entry_id}/comments/", {"text": "Lovely"}, format="json")
    assert comment.status_code == 201
    entry = JournalEntry.objects.get(pk=entry_id)
    assert viewer.get(f"/api/journals/{entry_id}/").json() == camelize(JournalEntrySerializer(entry).data)
    assert comment.json() == camelize(JournalCommentSerializer(JournalComment.objects.get()).data)
    assert viewer.get(f"/api/journals/{entry_id}/").json()["commentCount"] == 1
    assert viewer.get(f"/api/journals/{entry_id}/revisions/").status_code == 403  # readers are not editors


def test_patch_needs_version_and_a_stale_one_is_409_with_the_current_entry(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(author=people.owner)
    api = auth_api(people.owner)
    missing = api.patch(f"/api/journals/{entry.pk}/", {"body": "x"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()["fields"]
    assert (
        api.patch(f"/api/journals/{entry.pk}/", {"version": 1, "body": "new"}, format="json").status_code
        == 200
    )
    stale = api.patch(f"/api/journals/{entry.pk}/", {"version": 1, "body": "old"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"]["body"] == "new" and stale.json()["current"]["version"] == 2
    assert JournalEntry.objects.get(pk=entry.pk).body == "new"


def test_published_entries_without_a_trip_are_for_everyone_signed_in(people, auth_api, api) -> None:  # type: ignore[no-untyped-def]
    public = make_entry(author=people.owner, status=EntryStatus.PUBLISHED, title="open")
    draft = make_entry(author=people.owner, title="closed")
    private_trip = make_entry(author=people.owner, trip=people.trip, status=EntryStatus.PUBLISHED)
    ids = [r["id"] for r in auth_api(people.outsider).get("/api/journals/").json()["results"]]
    assert public.pk in ids and draft.pk not in ids and private_trip.pk not in ids
    assert api.get("/api/journals/").status_code == 401
    assert auth_api(people.outsider).get("/api/journals/?trip=abc").status_code == 400


def test_collaborators_rules(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(author=people.owner, trip=people.trip)
    api = auth_api(people.owner)
    url = f"/api/journals/{entry.pk}/collaborators/"
    for username, reason in [
        ("nobody-here", "unknown"),
        (people.owner.username, "author"),
        (people.outsider.username, "not a member of the private trip"),
    ]:
        response = api.post(url, {"username": username}, format="json")
        assert response.status_code == 400 and "username" in response.json()["fields"], reason
    assert api.post(url, {"username": people.viewer.username}, format="json").status_code == 201
    assert api.post(url, {"username": people.viewer.username}, format="json").status_code == 201  # idempotent
    assert [u["username"] for u in api.get(url).json()] == [people.viewer.username]
    assert api.delete(f"{url}{people.viewer.username}/").status_code == 204
    assert api.delete(f"{url}{people.viewer.username}/").status_code == 404


def test_list_queries_do_not_grow_with_the_number_of_entries(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    api = auth_api(people.owner)

    def add(count: int) -> None:
        for _ in range(count):
            entry = make_entry(author=people.owner, collaborators=(people.editor, people.viewer))
            JournalComment.objects.create(entry=entry, author=people.viewer, text="c")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = api.get("/api/journals/?pageSize=100")
        assert all(
            r["commentCount"] == 1 and len(r["collaborators"]) == 2 for r in response.json()["results"]
        )
        return len(captured)

    add(1)
    one = queries()
    add(49)
    assert queries() == one


def test_malformed_and_oversized_input_is_400_with_fields(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(author=people.owner)
    api = auth_api(people.owner)
    long_body = "x" * 100_001
    cases = [
        ("post", "/api/journals/", {}, "title"),
        ("post", "/api/journals/", {"title": "t" * 201}, "title"),
        ("post", "/api/journals/", {"title": "t", "body": long_body}, "body"),
        ("post", "/api/journals/", {"title": "t", "trip": "x"}, "trip"),
        ("post", "/api/journals/", {"title": "t", "trip": 99999999}, "trip"),
        ("post", "/api/journals/", {"title": "t", "trip": 10**30}, "trip"),
        ("patch", f"/api/journals/{entry.pk}/", {"version": "one"}, "version"),
        ("patch", f"/api/journals/{entry.pk}/", {"version": 0}, "version"),
        ("patch", f"/api/journals/{entry.pk}/", {"version": 10**30, "body": "x"}, "version"),
        ("patch", f"/api/journals/{entry.pk}/", {"version": 1, "body": long_body}, "body"),
        ("patch", f"/api/journals/{entry.pk}/", {"version": 1, "title": None}, "title"),
        ("post", f"/api/journals/{entry.pk}/collaborators/", {}, "username"),
        ("post", f"/api/journals/{entry.pk}/collaborators/", {"username": "u" * 200}, "username"),
        ("post", f"/api/journals/{entry.pk}/comments/", {"text": ""}, "text"),
        ("post", f"/api/journals/{entry.pk}/comments/", {"text": "c" * 5001}, "text"),
        ("post", f"/api/journals/{entry.pk}/comments/", [1], "nonFieldErrors"),
    ]
    problems = []
    for method, url, body, field in cases:
        response = getattr(api, method)(url, body, format="json")
        if response.status_code != 400 or field not in response.json().get("fields", {}):
            problems.append(
                f"{method} {url} {str(body)[:40]}: {response.status_code} {response.content[:150]}"
            )
    for method, url in [("post", "/api/journals/"), ("patch", f"/api/journals/{entry.pk}/")]:
        if getattr(api, method)(url, b"[", content_type="application/json").status_code != 400:
            problems.append(f"{method} {url}: garbage is not 400")
    assert not problems, "\n".join(problems)
    assert JournalEntry.objects.get(pk=entry.pk).version == 1
