"""Serving photo files after an access check.

`imageUrl`/`thumbnailUrl` are stable paths to these views, so the same payload works over
REST and WebSocket. Whoever may not see the trip gets 404, exactly as for a missing photo.
The bytes go out by PHOTO_SERVE_MODE: Django itself, or nginx/Apache (X-Accel-Redirect,
X-Sendfile) from a location clients cannot reach directly, or a redirect to a short-lived
signed storage URL (S3).
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseBase, HttpResponseRedirect


def file_response(name: str, content_type: str) -> HttpResponseBase:
    mode = settings.PHOTO_SERVE_MODE
    response: HttpResponseBase
    if mode == "x-accel":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.PHOTO_ACCEL_PREFIX.rstrip("/") + "/" + quote(name)
    elif mode == "x-sendfile":
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = default_storage.path(name)
    elif mode == "redirect":
        response = HttpResponseRedirect(default_storage.url(name))
    else:
        response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    # A photo id always names the same bytes; private: shared caches must not keep them.
    # A redirect is only as good as its signature, which expires.
    response["Cache-Control"] = "private, no-store" if mode == "redirect" else "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
