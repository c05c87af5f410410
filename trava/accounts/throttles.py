from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _AddressThrottle(SimpleRateThrottle):
    """Counts requests per client address in the shared cache (Redis in a cluster).

    The rate is read from settings at each request (not frozen at import, as DRF's
    THROTTLE_RATES is), so deployments and tests can change it.
    """

    def get_rate(self) -> str:
        return settings.THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view) -> str:  # type: ignore[no-untyped-def]
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginThrottle(_AddressThrottle):
    scope = "login"


class RegisterThrottle(_AddressThrottle):
    scope = "register"
