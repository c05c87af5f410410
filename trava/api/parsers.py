import json
from typing import Any

from django.conf import settings
from djangorestframework_camel_case.parser import CamelCaseJSONParser as _Parser
from djangorestframework_camel_case.util import underscoreize
from rest_framework.exceptions import ParseError

from trava.jsonlimits import MAX_JSON_DEPTH, json_depth_exceeds


class CamelCaseJSONParser(_Parser):
    """The one JSON parser of the API: camelCase request keys in as snake_case.

    A body nested deeper than MAX_JSON_DEPTH is a 400 (`parse_error`), never a
    RecursionError: json.loads itself gives up near Python's recursion limit (caught
    here), and anything under it is measured before the recursive key conversion.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(stream.read().decode(encoding))
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_depth_exceeds(data):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return underscoreize(data, **self.json_underscoreize)
