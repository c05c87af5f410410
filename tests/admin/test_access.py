"""Only staff reach the admin API and pages; malformed broadcasts are 400 naming the field."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/websocket/stats"),
    ("get", "/api/websocket/rooms"),
    ("get", "/api/websocket/rooms/trip_1"),
    ("get", "/api/websocket/clients"),
    ("get", "/api/websocket/clients/abc"),
    ("delete", "/api/websocket/clients/abc"),
    ("post", "/api/websocket/broadcast"),
    ("post", "/api/websocket/broadcast/room"),
]
PAGES = [
    "/admin/realtime/liveroom/",
    "/admin/realtime/liveroom/room/trip_1/",
    "/admin/realtime/liveclient/",
    "/admin/realtime/liveclient/broadcast/",
    "/admin/realtime/connectionrecord/",
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_gets_401_and_non_staff_403(api, auth_api, user_factory, method: str, path: str) -> None:
    body = {"message": "hi", "roomId": "trip_1"}
    anonymous = getattr(api, method)(path, body, format="json")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    member = getattr(auth_api(user_factory()), method)(path, body, format="json")
    assert member.status_code == 403
    assert member.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/websocket/broadcast", {"message": "", "type": "info"}, "message"),
        ("/api/websocket/broadcast", {"message": "   "}, "message"),
        ("/api/websocket/broadcast", {"type": "info"}, "message"),
        ("/api/websocket/broadcast", {"message": "x" * 41}, "message"),
        ("/api/websocket/broadcast", {"message": "hi", "type": "Bad Type!"}, "type"),
        ("/api/websocket/broadcast", {"message": "hi", "type": "x" * 33}, "type"),
        ("/api/websocket/broadcast/room", {"message": "hi"}, "roomId"),
        ("/api/websocket/broadcast/room", {"message": "hi", "roomId": "lobby"}, "roomId"),
        ("/api/websocket/broadcast/room", {"message": "hi", "roomId": "planet_3"}, "roomId"),
        ("/api/websocket/broadcast/room", {"message": "", "roomId": "trip_3"}, "message"),
    ],
)
def test_malformed_broadcasts_are_400_naming_the_field(
    auth_api, user_factory, settings, path: str, body: dict, field: str
) -> None:
    settings.ADMIN_BROADCAST_MAX_LENGTH = 40
    response = auth_api(user_factory(is_staff=True)).post(path, body, format="json")
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["code"] == "validation_error"
    assert list(answer["fields"]) == [field]


def test_missing_room_and_client_are_404(auth_api, user_factory) -> None:
    staff = auth_api(user_factory(is_staff=True))
    assert staff.get("/api/websocket/rooms/trip_987654").status_code == 404
    assert staff.get("/api/websocket/clients/nosuchclient").status_code == 404
    assert staff.delete("/api/websocket/clients/nosuchclient").status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_admin_pages_are_for_staff_only(user_factory, path: str) -> None:
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    member = Client()
    assert member.login(username=user_factory().username, password=PASSWORD)
    answer = member.get(path)
    assert answer.status_code == 302 and "/admin/login/" in answer["Location"]
    staff = Client()
    assert staff.login(username=user_factory(is_staff=True, is_superuser=True).username, password=PASSWORD)
    assert staff.get(path).status_code == 200
