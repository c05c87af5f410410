"""The upload size limit, enforced before the body is parsed and while it streams."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest
from rest_framework import status
from rest_framework.exceptions import APIException

# Room for the multipart envelope and a caption around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self) -> None:
        limit_mib = settings.PHOTO_MAX_UPLOAD_BYTES / (1024 * 1024)
        super().__init__(f"The image is too large: at most {limit_mib:g} MiB.")


class SizeLimitUploadHandler(FileUploadHandler):
    """First in the handler chain: counts each file's bytes as they arrive and stops the
    upload as soon as one passes the limit (a client may send no or a false length)."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.PHOTO_MAX_UPLOAD_BYTES:
            raise PayloadTooLarge()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handlers (memory, then temporary file) keep the data


def enforce_upload_limit(request: HttpRequest) -> None:
    """Call before anything reads request.POST/FILES (authentication included)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.PHOTO_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
        raise PayloadTooLarge()
    request.upload_handlers.insert(0, SizeLimitUploadHandler(request))
