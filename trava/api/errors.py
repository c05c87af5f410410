"""The one error path of the REST API: what services raise, how it is answered, and how
the schema documents it.

Every error answer is `{"code": str, "message": str, "fields"?: {field: [messages]}}`:
`code` is stable and machine-readable, `message` is for people, and `fields` (validation
errors only) names each offending field in camelCase, as the client sent it.

Services raise `DomainError` (or Django's `ValidationError`, `PermissionDenied`,
`ObjectDoesNotExist`); views let them through; `exception_handler` (settings
REST_FRAMEWORK["EXCEPTION_HANDLER"]) answers each with that shape, and an unexpected
exception with a 500 of the same shape. `error_responses()` documents the shape in every
view's `extend_schema`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from trava.api.camel import camelize

logger = logging.getLogger("django.request")

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


class DomainError(Exception):
    """A rule of the domain was broken; raised by services, answered by the API.

    With `field`, it is a validation error of that input (400 `validation_error`, the
    field named in `fields`), as a Django ValidationError keyed by field would be. Without,
    it answers `status` with `code`. `extra` adds keys to the body (a 409's `current`).
    """

    code = "validation_error"
    status = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.code
        self.status = status or self.status
        self.extra = dict(extra or {})


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


class _DomainAnswer(exceptions.APIException):
    """A DomainError without a field, as DRF answers it."""

    def __init__(self, error: DomainError) -> None:
        self.status_code = error.status
        self.default_code = error.code
        super().__init__(error.message, error.code)


def _as_api_exception(exc: Exception) -> Exception:
    """The DRF exception a domain or Django exception is answered as (others unchanged;
    DRF itself maps Http404 and Django's PermissionDenied)."""
    if isinstance(exc, DomainError):
        if exc.field is not None:
            return exceptions.ValidationError({exc.field: [exc.message]})
        return _DomainAnswer(exc)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return exceptions.ValidationError(fields)
    if isinstance(exc, ObjectDoesNotExist):
        return exceptions.NotFound()
    if isinstance(exc, SuspiciousOperation):
        # e.g. more than DATA_UPLOAD_MAX_NUMBER_FIELDS query or form fields: the client's
        # error. Django's own answer is a 400 too, but under DEBUG its error page reads the
        # request's fields again, fails the same way and turns it into a 500.
        return BadRequest(str(exc))
    return exc


def _internal_error(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):
        return None  # the database is down: DatabaseUnavailableMiddleware answers 503
    request = getattr(context.get("request"), "_request", None)
    # What Django does with an exception a view lets through: log it (with the traceback)
    # and signal it (the test client re-raises it in-process); but answer in our shape.
    logger.error(
        "Internal Server Error: %s",
        getattr(request, "path", "?"),
        exc_info=exc,
        extra={"status_code": 500, "request": request},
    )
    got_request_exception.send(sender=None, request=request)
    set_rollback()
    return Response(error_body("internal_error", "Internal server error."), status=500)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    domain_extra = exc.extra if isinstance(exc, DomainError) else {}
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return _internal_error(exc, context)
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
    response.data = {**body, **domain_extra}
    return response


def deny_unless(allowed: bool, message: str) -> None:
    """403 with `message` unless the predicate allowed it (the caller already knows the
    object is visible: an invisible one is a 404)."""
    if not allowed:
        raise exceptions.PermissionDenied(message)


# --- The schema of the error answers -----------------------------------------------------
class ApiErrorSerializer(serializers.Serializer):
    """The one error shape of the API (the `ApiError` component of the schema)."""

    code = serializers.CharField(help_text="Stable, machine-readable: validation_error, not_found, ...")
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors only: camelCase field name to its messages.",
    )
    retry_after = serializers.IntegerField(required=False, help_text="429 only: seconds to wait.")


_ERROR_TEXT = {
    400: "Invalid input; `fields` names each offending field.",
    401: "Not signed in.",
    403: "Visible, but the user's role does not allow this.",
    404: "Missing, or private to others (no existence leak).",
    409: "Conflicts with the current state.",
    413: "The body is too large.",
    429: "Too many requests; `retryAfter` says how long to wait.",
}


def error_responses(*codes: int, described: Mapping[int, str] | None = None) -> dict[int, OpenApiResponse]:
    """Schema entries for the error answers of an endpoint, each the ApiError shape;
    `described` words a status for this endpoint."""
    text = {**_ERROR_TEXT, **(described or {})}
    return {code: OpenApiResponse(ApiErrorSerializer, description=text[code]) for code in codes}
