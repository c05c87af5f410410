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
from photos.uploads import MULTIPART_OVERHEAD
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


# --- Metadata stripped from every format, not only JPEG -----------------------------------
MARK = b"TravaTestCam"  # in every piece of metadata the test files carry
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Make="TravaTestCam"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def _exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = MARK.decode()  # camera make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 29.0)
    return exif


def png_with_metadata() -> bytes:
    """EXIF with GPS (an eXIf chunk), a text comment and XMP (tEXt, iTXt chunks)."""
    from PIL.PngImagePlugin import PngInfo

    text = PngInfo()
    text.add_text("Comment", MARK.decode())
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    return image_bytes("PNG", size=(40, 30), exif=_exif_with_gps(), pnginfo=text)


def webp_with_metadata() -> bytes:
    """EXIF with GPS and XMP (the EXIF and XMP chunks of the RIFF container)."""
    return image_bytes("WEBP", size=(40, 30), exif=_exif_with_gps(), xmp=XMP)


def gif_with_metadata() -> bytes:
    """An animated GIF with a comment extension and an XMP application extension (Pillow
    reads the comment and keeps application blocks as `extension`; it writes no EXIF)."""
    frames = [Image.new("RGB", (20, 20), color) for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0, comment=MARK)
    gif = out.getvalue()
    flags = gif[10]  # after the header, the global colour table when there is one
    at = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    xmp = b"\x21\xff\x0bXMP DataXMP" + XMP + bytes([1, *range(255, -1, -1)]) + b"\x00"
    return gif[:at] + xmp + gif[at:]


@pytest.mark.parametrize(
    ("fmt", "make"), [("png", png_with_metadata), ("webp", webp_with_metadata), ("gif", gif_with_metadata)]
)
def test_png_webp_and_gif_are_served_without_exif_gps_xmp_or_comments(uploader, http, fmt, make) -> None:  # type: ignore[no-untyped-def]
    original = make()
    with Image.open(io.BytesIO(original)) as source:  # the test file really carries it
        assert original.count(MARK) >= (1 if fmt == "gif" else 2)
        if fmt == "gif":
            assert source.info["comment"] == MARK and b"XMP DataXMP" in original
        else:
            assert source.getexif().get_ifd(0x8825) and source.info.get("xmp")
    response = uploader(original, f"IMG_0001.{fmt}", f"image/{fmt}")
    assert response.status_code == 201, response.text
    photo = response.json()

    for url in (photo["imageUrl"], photo["thumbnailUrl"]):
        served = http.get(url, headers=uploader.headers)
        assert served.status_code == 200
        assert MARK not in served.content and b"XMP DataXMP" not in served.content
        with Image.open(io.BytesIO(served.content)) as image:
            assert len(image.getexif()) == 0 and not image.getexif().get_ifd(0x8825)
            assert not {"exif", "xmp", "comment", "Comment", "XML:com.adobe.xmp"} & set(image.info)
            # A GIF's one application block left is the animation's loop count (NETSCAPE2.0).
            assert image.info.get("extension", (b"NETSCAPE2.0",))[0].startswith(b"NETSCAPE2.0")


def test_the_servers_body_limit_admits_the_largest_photo_upload() -> None:
    # realtime.runtime's guard refuses bodies over MAX_REQUEST_BODY_BYTES before Django runs.
    assert settings.MAX_REQUEST_BODY_BYTES >= settings.PHOTO_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD
