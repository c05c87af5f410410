"""Chat: idempotent sends (also under concurrency), mentions, newest-first history."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from social.models import ChatMessage, Notification, NotificationKind
from social.services import chat_message_send
from tests.conftest import access_token
from tests.factories import UserFactory
from tests.servers import DaphneNode
from tests.social.factories import ChatMessageFactory
from tests.trips.factories import TripFactory, TripMemberFactory


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sends_with_one_client_message_id_store_one_message(
    daphne_server: DaphneNode, daphne_factory: Callable[..., DaphneNode]
) -> None:
    # Two nodes, as behind a load balancer: the sends really run at the same time.
    second = daphne_factory()
    author = UserFactory()
    trip = TripFactory(created_by=author)
    headers = {"Authorization": f"Bearer {access_token(author)}"}
    for round_ in range(5):
        barrier = threading.Barrier(2)
        answers: list[httpx.Response] = []

        def send(
            base_url: str,
            round_: int = round_,
            barrier: threading.Barrier = barrier,
            answers: list[httpx.Response] = answers,
        ) -> None:
            with httpx.Client(base_url=base_url, timeout=20) as client:
                barrier.wait()
                answers.append(
                    client.post(
                        f"/api/trips/{trip.pk}/messages/",
                        json={"text": f"on my way {round_}", "clientMessageId": f"cmid-{round_}"},
                        headers=headers,
                    )
                )

        threads = [threading.Thread(target=send, args=(node.http_url,)) for node in (daphne_server, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
        assert answers[0].json() == answers[1].json()
        assert ChatMessage.objects.filter(trip=trip, client_message_id=f"cmid-{round_}").count() == 1
    assert ChatMessage.objects.filter(trip=trip).count() == 5


@pytest.mark.django_db
def test_resend_returns_the_first_message_and_other_authors_have_their_own_ids() -> None:
    alice, bob = UserFactory(), UserFactory()
    trip = TripFactory(created_by=alice)
    TripMemberFactory(trip=trip, user=bob)
    first, created = chat_message_send(trip=trip, author=alice, text="hi", client_message_id="x1")
    again, created_again = chat_message_send(
        trip=trip, author=alice, text="hi (resent)", client_message_id="x1"
    )
    assert created and not created_again and again.pk == first.pk and again.text == "hi"
    bobs, bob_created = chat_message_send(trip=trip, author=bob, text="hey", client_message_id="x1")
    assert bob_created and bobs.pk != first.pk
    # Without a clientMessageId every send is a new message.
    chat_message_send(trip=trip, author=alice, text="hi")
    chat_message_send(trip=trip, author=alice, text="hi")
    assert ChatMessage.objects.filter(trip=trip).count() == 4


@pytest.mark.django_db
def test_mentions_of_members_notify_them_once(auth_api: Callable) -> None:
    alice, bob, carol = (
        UserFactory(username="alice"),
        UserFactory(username="bob.s"),
        UserFactory(username="carol"),
    )
    outsider = UserFactory(username="dave")
    trip = TripFactory(created_by=alice, title="Lisbon")
    TripMemberFactory(trip=trip, user=bob)
    TripMemberFactory(trip=trip, user=carol)
    Notification.objects.all().delete()
    response = auth_api(alice).post(
        f"/api/trips/{trip.pk}/messages/",
        {"text": "@Bob.s and @carol, dinner at 8? @dave @alice mail me: x@carol.com @bob.s."},
        format="json",
    )
    assert response.status_code == 201, response.content
    mentions = Notification.objects.filter(kind=NotificationKind.MENTION)
    assert sorted(n.recipient.username for n in mentions) == ["bob.s", "carol"]
    note = mentions.get(recipient=bob)
    assert note.data == {"trip_id": trip.pk, "message_id": response.json()["id"], "author_id": alice.pk}
    assert not Notification.objects.filter(recipient__in=[outsider, alice]).exists()


@pytest.mark.django_db
def test_history_is_newest_first_and_cursor_paginated(auth_api: Callable) -> None:
    alice = UserFactory()
    trip = TripFactory(created_by=alice)
    ids = [ChatMessageFactory(trip=trip, author=alice).pk for _ in range(7)]
    client = auth_api(alice)
    page = client.get(f"/api/trips/{trip.pk}/messages/?pageSize=3").json()
    seen = [m["id"] for m in page["results"]]
    assert set(page) == {"next", "previous", "results"}
    assert set(page["results"][0]) == {"id", "tripId", "author", "text", "clientMessageId", "createdAt"}
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [m["id"] for m in page["results"]]
    assert seen == list(reversed(ids))


@pytest.mark.django_db
def test_blank_and_oversized_messages_are_refused(auth_api: Callable) -> None:
    alice = UserFactory()
    trip = TripFactory(created_by=alice)
    client = auth_api(alice)
    for body, field in [
        ({"text": "   "}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"text": "ok", "clientMessageId": "c" * 65}, "clientMessageId"),
        ({"text": ["no"]}, "text"),
        ({}, "text"),
    ]:
        response = client.post(f"/api/trips/{trip.pk}/messages/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["fields"], response.json()
    assert not ChatMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_resend_loses_the_insert_returns_the_first_row_and_keeps_the_transaction() -> None:
    """The insert goes first (no lookup for a new message): a resend, or the loser of a
    race between two sends of one id, hits the unique index. The savepoint absorbs the
    IntegrityError and the caller's transaction stays usable."""
    from django.db import transaction

    alice = UserFactory()
    trip = TripFactory(created_by=alice)
    winner = ChatMessageFactory(trip=trip, author=alice, client_message_id="race")
    with transaction.atomic():
        message, created = chat_message_send(trip=trip, author=alice, text="dup", client_message_id="race")
        assert ChatMessage.objects.filter(trip=trip).count() == 1  # the transaction is still usable
        again, _ = chat_message_send(trip=trip, author=alice, text="next", client_message_id="next")
    assert (message.pk, created, message.text) == (winner.pk, False, winner.text)
    assert ChatMessage.objects.filter(trip=trip).count() == 2 and again.text == "next"
