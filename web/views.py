"""The live page (`/app/`): one static HTML shell.

It signs in against the REST token endpoint and keeps its JWTs in sessionStorage, so the
view needs no server-side session. Everything it loads comes from this origin (the page
must work offline), which its Content-Security-Policy states explicitly.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def content_security_policy(request: HttpRequest) -> str:
    """The page's policy: this origin only. Photos are fetched with the JWT in a header and
    shown from blob: URLs, so no token ever appears in an image URL."""
    # 'self' does not cover ws:// in every browser: name this origin's socket explicitly.
    socket = f"{'wss' if request.is_secure() else 'ws'}://{request.get_host()}"
    return "; ".join(
        [
            "default-src 'self'",
            f"connect-src 'self' {socket}",
            "img-src 'self' data: blob:",
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
    """The live page: the HTML shell of web/static/web/app/main.js."""
    response = render(request, "web/app.html")
    response["Content-Security-Policy"] = content_security_policy(request)
    response["Referrer-Policy"] = "same-origin"
    return response
