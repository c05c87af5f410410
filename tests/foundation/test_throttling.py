"""Login and register are throttled per client address, with Retry-After."""

import httpx
import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_is_throttled_with_retry_after(daphne_factory) -> None:
    # Its own key prefix: the counters of other tests' logins (same address, shared
    # Redis cache) must not count here.
    prefix = f"{settings.REDIS_PREFIX}-throttle"
    node = daphne_factory(
        env={"THROTTLE_LOGIN": "3/min", "THROTTLE_REGISTER": "2/min", "TRAVA_REDIS_PREFIX": prefix}
    )
    with httpx.Client(base_url=node.http_url, timeout=15) as http:
        codes = [
            http.post("/api/auth/token/", json={"username": "x", "password": "y"}).status_code
            for _ in range(4)
        ]
        assert codes[:3] == [401, 401, 401]
        limited = http.post("/api/auth/token/", json={"username": "x", "password": "y"})
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) > 0
        assert limited.json()["code"] == "throttled"
        assert limited.json()["retryAfter"] > 0

        bodies = [
            {"username": f"t{i}", "email": f"t{i}@example.com", "password": "Sunny-Lisbon-2026"}
            for i in range(3)
        ]
        answers = [http.post("/api/auth/register/", json=body) for body in bodies]
        assert [a.status_code for a in answers] == [201, 201, 429]
        assert "Retry-After" in answers[2].headers
