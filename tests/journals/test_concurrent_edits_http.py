"""Two editors PATCH the same version at the same moment: one wins, one gets 409."""

from __future__ import annotations

import threading

import httpx
import pytest

from journals.models import JournalRevision
from tests.conftest import access_token
from tests.journals.factories import make_entry
from tests.photos.factories import TripPeople

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_patches_with_one_version_give_one_200_and_one_409(daphne_server) -> None:  # type: ignore[no-untyped-def]
    people = TripPeople("private", "edit-race")
    entry = make_entry(author=people.owner, trip=people.trip, collaborators=(people.editor,), body="v1")
    editors = {"owner": people.owner, "editor": people.editor}
    barrier = threading.Barrier(len(editors))
    results: dict[str, httpx.Response] = {}

    def edit(name: str) -> None:
        headers = {"Authorization": f"Bearer {access_token(editors[name])}"}
        with httpx.Client(base_url=daphne_server.http_url, timeout=20) as client:
            barrier.wait()
            results[name] = client.patch(
                f"/api/journals/{entry.pk}/", json={"version": 1, "body": f"text by {name}"}, headers=headers
            )

    threads = [threading.Thread(target=edit, args=(name,)) for name in editors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(r.status_code for r in results.values()) == [200, 409]
    winner = next(name for name, r in results.items() if r.status_code == 200)
    loser = next(name for name, r in results.items() if r.status_code == 409)
    accepted = results[winner].json()
    conflict = results[loser].json()
    assert accepted["version"] == 2 and accepted["body"] == f"text by {winner}"
    assert conflict["code"] == "version_conflict"
    assert conflict["current"] == accepted  # the loser gets the entry as it now is, to merge
    revisions = list(
        JournalRevision.objects.filter(entry=entry).order_by("version").values_list("version", "body")
    )
    assert revisions == [(1, "v1"), (2, f"text by {winner}")]  # the rejected text is nowhere

    with httpx.Client(base_url=daphne_server.http_url, timeout=20) as client:
        headers = {"Authorization": f"Bearer {access_token(people.editor)}"}
        history = client.get(f"/api/journals/{entry.pk}/revisions/", headers=headers).json()["results"]
        assert [(r["version"], r["body"]) for r in history] == [(2, f"text by {winner}"), (1, "v1")]
        assert history[0]["author"]["username"] == editors[winner].username
        retry = client.patch(
            f"/api/journals/{entry.pk}/", json={"version": 2, "body": "merged"}, headers=headers
        )
        assert retry.status_code == 200 and retry.json()["version"] == 3
