"""Real image files, made by Pillow, uploaded over real HTTP to a live daphne."""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from PIL import Image

from photos.models import Photo
from tests.conftest import access_token
from tests.photos.factories import (
    animated_gif,
    header_bomb_png,
    image_bytes,
    jpeg_with_gps_and_orientation,
    make_album,
    make_trip,
    pixel_bomb_png,
    truncated_jpeg,
)

pytestmark = pytest.mark.django_db(transaction=True)


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT) / "photos"
    return {str(path) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.fixture
def uploader(user_factory, http: httpx.Client):  # type: ignore[no-untyped-def]
    owner = user_factory(username="uploader")
    album = make_album(make_trip(owner=owner), title="Beach")
    headers = {"Authorization": f"Bearer {access_token(owner)}"}

    def upload(data: bytes, name: str, content_type: str = "application/octet-stream", **form: str):  # type: ignore[no-untyped-def]
        return http.post(
            f"/api/albums/{album.pk}/photos/",
            files={"image": (name, data, content_type)},
            data=form,
            headers=headers,
        )

    upload.album = album  # type: ignore[attr-defined]
    upload.headers = headers  # type: ignore[attr-defined]
    return upload


def test_jpeg_is_served_upright_without_exif_or_gps_and_keeps_taken_at(uploader, http: httpx.Client) -> None:
    original = jpeg_with_gps_and_orientation()
    with Image.open(io.BytesIO(original)) as source:  # the test file really carries GPS
        assert source.getexif().get_ifd(0x8825)
    response = uploader(original, "IMG_0001.jpg", "image/jpeg", caption="Sunset")
    assert response.status_code == 201, response.text
    photo = response.json()
    assert photo["width"] == 40 and photo["height"] == 60  # rotated: was 60x40 on the sensor
    assert photo["takenAt"] == "2024-05-06T07:08:09Z"
    assert photo["caption"] == "Sunset" and photo["contentType"] == "image/jpeg"
    assert photo["imageUrl"] == f"/api/photos/{photo['id']}/image/"
    assert photo["thumbnailUrl"] == f"/api/photos/{photo['id']}/thumbnail/"

    served = http.get(photo["imageUrl"], headers=uploader.headers)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert b"TravaTestCam" not in served.content and b"Exif" not in served.content
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (40, 60)
        assert len(image.getexif()) == 0
        assert not image.getexif().get_ifd(0x8825)
        rgb = image.convert("RGB")
        top, bottom = rgb.getpixel((20, 5)), rgb.getpixel((20, 55))
        assert top[0] > 200 and top[2] < 60  # the left (red) half is now on top
        assert bottom[2] > 200 and bottom[0] < 60

    thumb = http.get(
        photo["thumbnailUrl"], params={"access_token": access_token(Photo.objects.get().uploaded_by)}
    )
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert image.format == "WEBP" and image.size == (40, 60)  # never upscaled
        assert len(image.getexif()) == 0


@pytest.mark.parametrize(
    ("fmt", "data", "content_type", "expected_type"),
    [
        ("png", image_bytes("PNG", size=(1200, 600)), "image/png", "image/png"),
        ("webp", image_bytes("WEBP", size=(300, 200)), "image/webp", "image/webp"),
        ("gif", animated_gif(), "image/gif", "image/gif"),
    ],
)
def test_png_webp_and_animated_gif_are_accepted(
    uploader, http, fmt, data, content_type, expected_type
) -> None:  # type: ignore[no-untyped-def]
    response = uploader(data, f"picture.{fmt}", "application/octet-stream")  # the declared type is ignored
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["contentType"] == expected_type
    served = http.get(body["imageUrl"], headers=uploader.headers)
    assert served.headers["content-type"] == expected_type
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (body["width"], body["height"])
        if fmt == "gif":
            assert getattr(image, "n_frames", 1) == 3
    thumb = http.get(body["thumbnailUrl"], headers=uploader.headers)
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) == min(settings.PHOTO_THUMBNAIL_SIZE, max(body["width"], body["height"]))


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("notes.png", b"this is just text, not a picture\n" * 20, "image/png"),
        ("half.jpg", truncated_jpeg(), "image/jpeg"),
        ("bomb.png", pixel_bomb_png(), "image/png"),
        ("header-bomb.png", header_bomb_png(), "image/png"),
        ("picture.bmp", image_bytes("BMP"), "image/bmp"),
        ("picture.tiff", image_bytes("TIFF"), "image/tiff"),
        ("empty.png", b"", "image/png"),
    ],
)
def test_rejected_uploads_are_400_naming_image_and_store_nothing(uploader, name, data, content_type) -> None:  # type: ignore[no-untyped-def]
    files_before, rows_before = media_files(), Photo.objects.count()
    response = uploader(data, name, content_type)
    assert response.status_code == 400, response.text
    assert "image" in response.json()["fields"]
    assert Photo.objects.count() == rows_before
    assert media_files() == files_before


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_oversized_upload_is_413_without_the_body_in_memory(uploader, daphne_server) -> None:  # type: ignore[no-untyped-def]
    body_size = 20 * 1024 * 1024
    payload = os.urandom(1024) * (body_size // 1024)
    uploader(image_bytes("PNG"), "warmup.png")  # first-request allocations out of the way
    files_before, rows_before = media_files(), Photo.objects.count()
    rss_before = _rss_kib(daphne_server.pid)
    response = uploader(payload, "huge.jpg", "image/jpeg")
    rss_after = _rss_kib(daphne_server.pid)
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "too_large"
    grown_mib = (rss_after - rss_before) / 1024
    assert grown_mib < 4, f"the server grew by {grown_mib:.1f} MiB for a 20 MiB body"
    assert Photo.objects.count() == rows_before
    assert media_files() == files_before
