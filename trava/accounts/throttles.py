import logging

import redis
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from trava.clientaddr import client_address

logger = logging.getLogger("trava.throttle")


class _AddressThrottle(SimpleRateThrottle):
    """Counts requests per client address in the shared cache (Redis in a cluster).

    The rate is read from settings at each request (not frozen at import, as DRF's
    THROTTLE_RATES is), so deployments and tests can change it.
    """

    def get_rate(self) -> str:
        return settings.THROTTLE_RATES[self.scope]

    def get_ident(self, request) -> str:  # type: ignore[no-untyped-def]
        # Not DRF's: it trusts X-Forwarded-For, which any client can set (a new
        # address per attempt would never be throttled).
        return client_address(request)

    def get_cache_key(self, request, view) -> str:  # type: ignore[no-untyped-def]
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        # Fail open while the cache (Redis) is unreachable: sign-in must keep working
        # through a Redis restart (issue 9's drill), and a throttle that cannot count
        # must not turn every request into a 500. Brute force stays bounded by the
        # password hasher; the outage is logged.
        try:
            return super().allow_request(request, view)
        except (redis.RedisError, OSError) as exc:
            logger.warning("throttle %s not applied: cache unavailable (%s)", self.scope, exc)
            return True


class LoginThrottle(_AddressThrottle):
    scope = "login"


class RegisterThrottle(_AddressThrottle):
    scope = "register"
