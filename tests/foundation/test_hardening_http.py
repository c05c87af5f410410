"""The security review's REST findings (issue 12), over real HTTP against live daphne:
inputs that gave 500s, the spoofable throttle address, tokens in the log, and the editor
who could make the owner's private trip public."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from django.conf import settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from tests.conftest import access_token, refresh_token
from tests.factories import UserFactory
from tests.photos.factories import image_bytes, make_album
from tests.servers import DaphneNode
from tests.social.factories import ChatMessageFactory
from tests.trips.factories import TripFactory, TripMemberFactory
from trips.models import Role, Trip, Visibility

pytestmark = pytest.mark.django_db(transaction=True)


def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(user)}"}


def assert_error_shape(answer: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, (answer.status_code, answer.text[:500])
    body = answer.json()
    assert isinstance(body.get("code"), str) and isinstance(body.get("message"), str), body
    assert set(body) <= {"code", "message", "fields", "retryAfter"}, body
    if code is not None:
        assert body["code"] == code, body
    return body


class LogWatch:
    """What a live node wrote to its log (stdout and stderr) from now on."""

    def __init__(self, node: DaphneNode) -> None:
        self.node = node
        self.offset = node.log_path.stat().st_size

    def text(self, settle: float = 0.3) -> str:
        time.sleep(settle)  # the access log line is written after the response
        with self.node.log_path.open("rb") as log:
            log.seek(self.offset)
            return log.read().decode(errors="replace")


@pytest.fixture
def session_log(daphne_server: DaphneNode) -> LogWatch:
    """What the session node logs during the test."""
    return LogWatch(daphne_server)


# --- The six 500s -----------------------------------------------------------------------------
def test_journal_list_with_a_23_digit_trip_filter_is_400(http: httpx.Client, session_log: LogWatch) -> None:
    user = UserFactory()
    for raw in ["1" * 23, str(2**63), "-" + "9" * 23]:
        answer = http.get(f"/api/journals/?trip={raw}", headers=bearer(user))
        body = assert_error_shape(answer, 400, "validation_error")
        assert "trip" in body["fields"]
    assert http.get(f"/api/journals/?trip={2**63 - 1}", headers=bearer(user)).status_code == 200
    assert "Traceback" not in session_log.text()


def test_too_many_fields_are_400_and_logged_without_a_traceback(
    http: httpx.Client, session_log: LogWatch
) -> None:
    """More than DATA_UPLOAD_MAX_NUMBER_FIELDS query or form fields: 400 in the API's
    shape (under DEBUG, Django's own error page re-read the fields and answered 500)."""
    user = UserFactory()
    query = "&".join(f"f{n}=1" for n in range(1500))
    assert_error_shape(http.get(f"/api/trips/?{query}", headers=bearer(user)), 400, "bad_request")
    form = http.post(
        "/api/auth/register/", content=query, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_error_shape(form, 400, "bad_request")
    # Outside the API (Django's own suspicious-request path): one line, no traceback.
    assert http.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
    log = session_log.text()
    assert "DisallowedHost" in log or "Invalid HTTP_HOST" in log, log[-2000:]
    assert "Traceback" not in log, log[-3000:]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_bad_chat_cursors_are_400_invalid_cursor(http: httpx.Client, session_log: LogWatch) -> None:
    owner = UserFactory()
    trip = TripFactory(created_by=owner)
    for _ in range(3):
        ChatMessageFactory(trip=trip, author=owner)
    url = f"/api/trips/{trip.pk}/messages/"
    first = http.get(url, params={"pageSize": 1}, headers=bearer(owner))
    assert first.status_code == 200 and first.json()["next"]  # a real cursor still works
    assert http.get(first.json()["next"], headers=bearer(owner)).status_code == 200
    cursors = [
        "garbage!",  # not base64
        _b64("p=not-a-date"),  # decodes, to garbage
        _b64("p=2026-02-30 10:00:00%2B00:00"),  # an impossible date
        _b64("p=9999-12-31 23:59:59-23:59"),  # valid ISO, out of range once in UTC
        _b64("p=0001-01-01 00:00:00%2B23:59"),
        _b64("p=" + "9" * 40),
    ]
    for cursor in cursors:
        answer = http.get(url, params={"cursor": cursor}, headers=bearer(owner))
        assert_error_shape(answer, 400, "invalid_cursor")
    assert "Traceback" not in session_log.text()


def test_bad_notification_cursors_are_400_invalid_cursor(http: httpx.Client, session_log: LogWatch) -> None:
    user = UserFactory()
    cursors = [
        "garbage",
        _b64("1|not-a-date|5"),
        _b64("1|2026-02-30T10:00:00+00:00|5"),  # impossible date
        _b64("0|9999-12-31T23:59:59-23:59|5"),  # out of range in UTC
        _b64("1|2026-01-01T00:00:00+00:00|" + "9" * 25),  # id past bigint
        _b64("9" * 25 + "|2026-01-01T00:00:00+00:00|5"),  # unread flag past bigint
        _b64("1|2026-01-01T00:00:00+00:00"),
    ]
    for cursor in cursors:
        answer = http.get("/api/notifications/", params={"cursor": cursor}, headers=bearer(user))
        assert_error_shape(answer, 400, "invalid_cursor")
    assert "Traceback" not in session_log.text()


@pytest.mark.parametrize("depth", [65, 5_000, 100_000])
def test_deeply_nested_json_bodies_are_400_on_every_parser_path(
    http: httpx.Client, session_log: LogWatch, depth: int
) -> None:
    user = UserFactory()
    trip = TripFactory(created_by=user)
    nested_list = "[" * depth + "]" * depth
    nested_object = '{"a":' * depth + "1" + "}" * depth
    targets = [
        ("POST", "/api/trips/", bearer(user)),
        ("PATCH", f"/api/trips/{trip.pk}/", bearer(user)),
        ("POST", f"/api/trips/{trip.pk}/messages/", bearer(user)),
        ("POST", "/api/auth/register/", {}),  # unauthenticated endpoint, same parser
    ]
    for method, url, headers in targets:
        for body in (nested_list, nested_object, f'{{"title": {nested_list}}}'):
            answer = http.request(
                method, url, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            assert_error_shape(answer, 400, "parse_error")
    assert "Traceback" not in session_log.text()
    # 64 levels are still parsed (and then refused by the serializer, not the parser).
    ok_depth = '{"title": ' + "[" * 63 + "]" * 63 + "}"
    answer = http.post(
        "/api/trips/", content=ok_depth, headers={**bearer(user), "Content-Type": "application/json"}
    )
    assert_error_shape(answer, 400, "validation_error")


def forged_access_token(user: Any, **claims: Any) -> str:
    """A token signed with the server's own key (HS256), with chosen claims."""
    now = int(time.time())
    payload = {
        "token_type": "access",
        "exp": now + 600,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": str(user.pk),
        "hash_password": get_md5_hash_password(user.password),
        **claims,
    }
    return jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")


MALFORMED_CLAIMS = {
    "exp-string": {"exp": str(int(time.time()) + 600)},
    "exp-huge": {"exp": 10**20},
    "exp-list": {"exp": [1]},
    "user-id-text": {"user_id": "abc"},
    "user-id-23-digits": {"user_id": "1" * 23},
    "user-id-object": {"user_id": {"id": 1}},
}


@pytest.mark.parametrize("kind", sorted(MALFORMED_CLAIMS))
def test_a_validly_signed_token_with_malformed_claims_is_401(
    http: httpx.Client, session_log: LogWatch, kind: str
) -> None:
    user = UserFactory()
    token = forged_access_token(user, **MALFORMED_CLAIMS[kind])
    assert (
        http.get(
            "/api/auth/me/", headers={"Authorization": f"Bearer {forged_access_token(user)}"}
        ).status_code
        == 200
    )
    answer = http.get("/api/auth/me/", headers={"Authorization": f"Bearer {token}"})
    assert_error_shape(answer, 401)
    answer = http.get(
        "/api/trips/", params={"access_token": token}, headers={"Authorization": f"Bearer {token}"}
    )
    assert_error_shape(answer, 401)
    assert "Traceback" not in session_log.text()


def test_token_refresh_for_a_deleted_user_is_401(http: httpx.Client, session_log: LogWatch) -> None:
    user = UserFactory()
    refresh = refresh_token(user)
    assert http.post("/api/auth/token/refresh/", json={"refresh": refresh}).status_code == 200
    user.delete()
    answer = http.post("/api/auth/token/refresh/", json={"refresh": refresh})
    assert_error_shape(answer, 401)
    assert "Traceback" not in session_log.text()


def test_a_password_change_voids_earlier_access_and_refresh_tokens(http: httpx.Client) -> None:
    user = UserFactory()
    access, refresh = access_token(user), refresh_token(user)
    assert http.get("/api/auth/me/", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    user.set_password("Another-secret-2026")
    user.save()
    assert_error_shape(http.get("/api/auth/me/", headers={"Authorization": f"Bearer {access}"}), 401)
    assert_error_shape(http.post("/api/auth/token/refresh/", json={"refresh": refresh}), 401)
    signed_in = http.post(
        "/api/auth/token/", json={"username": user.username, "password": "Another-secret-2026"}
    )
    assert signed_in.status_code == 200
    fresh = signed_in.json()["access"]
    assert http.get("/api/auth/me/", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


# --- Client addresses ----------------------------------------------------------------------------
def _throttle_node(daphne_factory: Any, **env: str) -> DaphneNode:
    # Its own key prefix: other tests' sign-ins (same address, shared cache) must not count.
    prefix = f"{settings.REDIS_PREFIX}-spoof-{uuid.uuid4().hex[:6]}"
    return daphne_factory(env={"THROTTLE_LOGIN": "3/min", "TRAVA_REDIS_PREFIX": prefix, **env})


def _sign_in(http: httpx.Client, headers: dict[str, str] | None = None) -> int:
    return http.post(
        "/api/auth/token/", json={"username": "x", "password": "y"}, headers=headers or {}
    ).status_code


def test_after_a_429_on_sign_in_a_spoofed_forwarded_header_is_still_429(daphne_factory: Any) -> None:
    node = _throttle_node(daphne_factory)
    with httpx.Client(base_url=node.http_url, timeout=15) as http:
        assert [_sign_in(http) for _ in range(3)] == [401, 401, 401]
        assert _sign_in(http) == 429
        for spoof in ("203.0.113.9", "198.51.100.1, 127.0.0.1"):
            assert _sign_in(http, {"X-Forwarded-For": spoof}) == 429
            assert _sign_in(http, {"X-Real-IP": spoof}) == 429
            assert _sign_in(http, {"Forwarded": f"for={spoof}"}) == 429
        # The metrics network check does not believe the headers either.
        assert http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200


def test_with_proxy_header_set_the_named_header_is_the_client_address(daphne_factory: Any) -> None:
    node = _throttle_node(daphne_factory, PROXY_HEADER="X-Real-IP")
    alice, bob = {"X-Real-IP": "203.0.113.10"}, {"X-Real-IP": "203.0.113.11"}
    with httpx.Client(base_url=node.http_url, timeout=15) as http:
        assert [_sign_in(http, alice) for _ in range(3)] == [401, 401, 401]
        assert _sign_in(http, alice) == 429
        assert _sign_in(http, {**alice, "X-Forwarded-For": "198.51.100.7"}) == 429
        assert _sign_in(http, bob) == 401  # another client behind the proxy
        # /metrics: an outside client is refused even though the proxy connects from loopback.
        assert http.get("/metrics", headers=alice).status_code == 403
        assert http.get("/metrics", headers={"X-Real-IP": "127.0.0.1"}).status_code == 200
        watch = LogWatch(node)
        http.get("/healthz", headers={"X-Real-IP": "203.0.113.12", "X-Forwarded-For": "198.51.100.8"})
        log = watch.text()
        assert "203.0.113.12" in log and "198.51.100.8" not in log, log[-2000:]


# --- Tokens never in logs ----------------------------------------------------------------------------
@pytest.fixture
def photo(http: httpx.Client) -> Iterator[tuple[Any, int]]:
    owner = UserFactory()
    trip = TripFactory(created_by=owner)
    album = make_album(trip, user=owner)
    uploaded = http.post(
        f"/api/albums/{album.pk}/photos/",
        files={"image": ("a.png", image_bytes("PNG"), "image/png")},
        headers=bearer(owner),
    )
    assert uploaded.status_code == 201, uploaded.text
    yield owner, uploaded.json()["id"]


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_access_tokens_in_urls_are_redacted_from_the_server_log(
    daphne_factory: Any, http: httpx.Client, photo: tuple[Any, int], log_format: str
) -> None:
    owner, photo_id = photo
    node = daphne_factory(env={"LOG_FORMAT": log_format, "LOG_LEVEL": "INFO"})
    token = access_token(owner)
    watch = LogWatch(node)
    with httpx.Client(base_url=node.http_url, timeout=15) as client:
        assert client.get(f"/api/photos/{photo_id}/image/", params={"access_token": token}).status_code == 200
        assert client.get(f"/api/photos/{photo_id}/thumbnail/?x=1&access_token={token}").status_code == 200
        # Answers Django logs as warnings (with the request) are redacted too.
        assert client.get("/api/photos/999999999/image/", params={"access_token": token}).status_code == 404
        assert client.get("/api/photos/999999999/image/", params={"token": token}).status_code in (401, 404)
        assert client.get(f"/nowhere/?access%5Ftoken={token}").status_code == 404
    log = watch.text(settle=0.5)
    assert f"/api/photos/{photo_id}/image/" in log, log[-3000:]  # the access log did write the line
    assert token not in log and token.split(".")[2] not in log, log[-3000:]
    assert "access_token=[redacted]" in log, log[-3000:]


# --- Owner-only trip settings ------------------------------------------------------------------------
def test_an_editor_cannot_change_visibility_or_currency_but_edits_the_plan(http: httpx.Client) -> None:
    owner, editor = UserFactory(), UserFactory()
    trip = TripFactory(created_by=owner, visibility=Visibility.PRIVATE, currency="EUR")
    TripMemberFactory(trip=trip, user=editor, role=Role.EDITOR)
    url = f"/api/trips/{trip.pk}/"
    for change in ({"visibility": "public"}, {"currency": "USD"}, {"title": "Porto", "visibility": "public"}):
        answer = http.patch(url, json=change, headers=bearer(editor))
        assert_error_shape(answer, 403, "permission_denied")
    trip = Trip.objects.get(pk=trip.pk)
    assert (trip.visibility, trip.currency, trip.title) != (Visibility.PUBLIC, "USD", "Porto")
    assert trip.visibility == Visibility.PRIVATE and trip.currency == "EUR"
    # The plan is theirs to edit, and resending the current settings is not a change.
    answer = http.patch(
        url, json={"title": "Porto", "visibility": "private", "currency": "eur"}, headers=bearer(editor)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["title"] == "Porto"
    # Owners decide.
    answer = http.patch(url, json={"visibility": "public", "currency": "USD"}, headers=bearer(owner))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["visibility"], answer.json()["currency"]) == ("public", "USD")
