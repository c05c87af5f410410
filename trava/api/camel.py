"""camelCase conversion, in one place for REST bodies and WebSocket event payloads."""

from typing import Any

from djangorestframework_camel_case.settings import api_settings
from djangorestframework_camel_case.util import camelize as _camelize
from djangorestframework_camel_case.util import underscoreize as _underscoreize


def camelize(data: Any) -> Any:
    """snake_case keys to camelCase, recursively (what every JSON response goes through)."""
    return _camelize(data, **api_settings.JSON_UNDERSCOREIZE)


def underscoreize(data: Any) -> Any:
    """camelCase keys to snake_case, recursively (what every JSON request goes through)."""
    return _underscoreize(data, **api_settings.JSON_UNDERSCOREIZE)
