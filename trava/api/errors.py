"""The one error shape of the REST API.

Every error answer is `{"code": str, "message": str, "fields"?: {field: [messages]}}`:
`code` is stable and machine-readable, `message` is for people, and `fields` (validation
errors only) names each offending field in camelCase, as the client sent it.
"""

from typing import Any

from django.core.exceptions import SuspiciousOperation
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from trava.api.camel import camelize

_CODES = {
    status.HTTP_400_BAD_REQUEST: "validation_error",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return body


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
        return "Invalid input."
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "Invalid input."
    return str(detail)


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."
    default_code = "bad_request"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, SuspiciousOperation):
        # e.g. more than DATA_UPLOAD_MAX_NUMBER_FIELDS query or form fields: the client's
        # error. Django's own answer is a 400 too, but under DEBUG its error page reads the
        # request's fields again, fails the same way and turns it into a 500.
        exc = BadRequest(str(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: DatabaseUnavailableMiddleware or Django handle it
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    code = _CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(detail, dict):
            fields = {key: value for key, value in detail.items()}
            message = "Invalid input: " + ", ".join(sorted(camelize(dict.fromkeys(fields)))) + "."
            response.data = error_body(code, message, fields)
        else:
            response.data = error_body(code, _first_message(detail), {"non_field_errors": detail})
        return response
    if isinstance(exc, exceptions.APIException):
        code = exc.default_code  # DRF's stable codes: not_authenticated, permission_denied, ...
    body = error_body(code, _first_message(detail))
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["retry_after"] = int(exc.wait + 0.999)
    response.data = body
    return response
