"""The live trip page (`/app/`) and the WebSocket protocol's AsyncAPI document
(`/api/asyncapi.yaml`).

The page is one static HTML shell: it signs in against the REST token endpoint and keeps
its JWTs in sessionStorage, so the view needs no server-side session. Everything it loads
comes from this origin (the page must work offline), which its Content-Security-Policy
states explicitly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

ASYNCAPI_PATH = Path(settings.BASE_DIR) / "docs" / "asyncapi.yaml"


def _content_security_policy(request: HttpRequest) -> str:
    # 'self' does not cover ws:// in every browser: name this origin's socket explicitly.
    socket = f"{'wss' if request.is_secure() else 'ws'}://{request.get_host()}"
    return "; ".join(
        [
            "default-src 'self'",
            f"connect-src 'self' {socket}",
            "img-src 'self' data:",
            "style-src 'self'",
            "script-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


@never_cache
@require_GET
def app_page(request: HttpRequest) -> HttpResponse:
    """The live trip page: the HTML shell of realtime/static/realtime/app.js."""
    response = render(request, "realtime/app.html")
    response["Content-Security-Policy"] = _content_security_policy(request)
    response["Referrer-Policy"] = "same-origin"
    return response


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
