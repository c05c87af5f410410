"""The harness every test builds on: real daphne processes, real HTTP and WebSocket
clients, the suite's own database and Redis prefix, and service requirements."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.core.management.base import CommandError
from django.test import TransactionTestCase
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.factories import UserFactory
from tests.servers import DaphneNode, database_url_of

REQUIRE_SERVICES = os.environ.get("TRAVA_REQUIRE_SERVICES") == "1"


def _flush_retrying_deadlocks(flush: Callable[..., None]) -> Callable[..., None]:
    """A transactional test's teardown empties every table (TRUNCATE on PostgreSQL) while
    the live nodes may still be writing what the test's closing sockets caused (presence
    events in the event log, connection records): PostgreSQL then picks the flush as a
    deadlock victim. The nodes' writes are short: retry the flush, a few times."""

    @functools.wraps(flush)
    def teardown(self: TransactionTestCase) -> None:
        for attempt in range(6):
            try:
                return flush(self)
            except CommandError as exc:
                if "deadlock" not in repr(exc.__cause__).lower() or attempt == 5:
                    raise
                time.sleep(0.3 * (attempt + 1))

    return teardown


TransactionTestCase._fixture_teardown = _flush_retrying_deadlocks(TransactionTestCase._fixture_teardown)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `redis` or `postgres` skip without the service, except in CI's second
    pass (TRAVA_REQUIRE_SERVICES=1), where a missing service fails them in setup (an
    error, exit code 1: tests/test_require_services.py)."""
    have = {"redis": bool(settings.REDIS_URL), "postgres": bool(settings.DATABASE_URL.startswith("postgres"))}
    for item in items:
        for service, present in have.items():
            if item.get_closest_marker(service) and not present:
                if REQUIRE_SERVICES:
                    item.user_properties.append(("missing", service))
                else:
                    item.add_marker(pytest.mark.skip(reason=f"needs {service} (set its URL)"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for key, service in item.user_properties:
        if key == "missing":
            pytest.fail(f"{service} is required (TRAVA_REQUIRE_SERVICES=1) but its URL is not set")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop every Redis key this run wrote (the suite's own prefix)."""
    if not settings.REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        for pattern in (f"{settings.REDIS_PREFIX}:*", f"{settings.REDIS_PREFIX}*"):
            batch = list(client.scan_iter(match=pattern, count=1000))
            for start in range(0, len(batch), 500):
                client.delete(*batch[start : start + 500])
    except redis.RedisError:
        pass
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """A channel layer bound to a finished test's event loop must not leak into the next."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def user_factory(db) -> type[UserFactory]:  # type: ignore[no-untyped-def]
    return UserFactory


@pytest.fixture
def user(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="alice")


def access_token(user) -> str:  # type: ignore[no-untyped-def]
    return str(AccessToken.for_user(user))


def refresh_token(user) -> str:  # type: ignore[no-untyped-def]
    return str(RefreshToken.for_user(user))


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def auth_api() -> Callable[..., APIClient]:
    """`auth_api(user)`: an in-process API client signed in as `user` with a real JWT."""

    def make(user) -> APIClient:  # type: ignore[no-untyped-def]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
        return client

    return make


@pytest.fixture(scope="session")
def test_database_url(django_db_setup, django_db_blocker) -> str:  # type: ignore[no-untyped-def]
    from django.db import connection

    return database_url_of(connection.settings_dict)


@pytest.fixture(scope="session")
def daphne_server(test_database_url: str) -> Iterator[DaphneNode]:
    """One live daphne for the whole session. Tests using it need `transactional_db`
    so the data they create is committed and visible to the server process."""
    node = DaphneNode(test_database_url).start()
    yield node
    node.stop()


@pytest.fixture
def daphne_factory(test_database_url: str) -> Iterator[Callable[..., DaphneNode]]:
    """Start extra nodes (own settings through `env`); all stopped after the test."""
    nodes: list[DaphneNode] = []

    def start(env: dict[str, str] | None = None) -> DaphneNode:
        node = DaphneNode(test_database_url, env=env).start()
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        node.kill()


@pytest.fixture
def http(daphne_server: DaphneNode) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=daphne_server.http_url, timeout=15) as client:
        yield client


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    """A headless chromium for one test (see tests/browser.py).

    Playwright's sync API keeps an asyncio loop on the main thread while it runs, which
    trips Django's async-safety check for the test's own (synchronous) ORM calls; no
    Django code runs inside that loop, so the check is lifted for the browser's lifetime.
    """
    from tests.browser import chromium

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium() as instance:
        yield instance
