"""The WebSocket protocol's AsyncAPI document (`/api/asyncapi.yaml`). The live page
(`/app/`) is the `web` app."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

ASYNCAPI_PATH = Path(settings.BASE_DIR) / "docs" / "asyncapi.yaml"


@lru_cache(maxsize=1)
def _asyncapi_bytes(mtime_ns: int) -> bytes:
    return ASYNCAPI_PATH.read_bytes()


@require_GET
def asyncapi_document(request: HttpRequest) -> HttpResponse:
    """docs/asyncapi.yaml: the /ws protocol as an AsyncAPI 3 document."""
    body = _asyncapi_bytes(ASYNCAPI_PATH.stat().st_mtime_ns)
    response = HttpResponse(body, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="asyncapi.yaml"'
    return response
