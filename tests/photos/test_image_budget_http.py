"""Frame and pixel budgets of image uploads (issue 12), over real HTTP to a live daphne,
with the server process's memory measured: its peak RSS (VmHWM, reset through
/proc/<pid>/clear_refs before each upload) may not pass its RSS before the upload by
200 MiB for any file under the upload size limit, refused or accepted."""

from __future__ import annotations

import io
import math
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from PIL import Image

from photos.models import Photo
from tests.conftest import access_token
from tests.photos.factories import make_album, make_trip

pytestmark = pytest.mark.django_db(transaction=True)

RSS_BUDGET_MIB = 200


# --- payloads, built here ---------------------------------------------------------------
def gif_frame_bomb(
    screen: tuple[int, int] = (4000, 4000), frames: int = 10, frame: tuple[int, int] = (1, 1)
) -> bytes:
    """A raw GIF: a `screen` logical screen and `frames` tiny frames (Pillow composites
    each onto a full-screen canvas). The issue's payload is the default: 269 bytes."""
    out = bytearray(b"GIF89a" + struct.pack("<HH", *screen) + b"\x80\x00\x00")
    out += b"\x00\x00\x00\xff\xff\xff"  # global colour table: black, white
    out += b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for _ in range(frames):
        out += b"!\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
        out += b"," + struct.pack("<HHHH", 0, 0, *frame) + b"\x00"
        out += b"\x02\x02\x44\x01\x00"  # LZW: clear code, pixel 0, end
    out += b";"
    return bytes(out)


def animation(fmt: str, frames: int, size: tuple[int, int] = (8, 8)) -> bytes:
    """A real animation written by Pillow; every frame differs (writers merge equal ones)."""
    images = [Image.new("RGB", size, (i % 256, (i * 7) % 256, i // 256)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, fmt, save_all=True, append_images=images[1:], duration=40, loop=0)
    return out.getvalue()


def still(fmt: str, size: tuple[int, int], mode: str = "RGB", **options: object) -> bytes:
    """A compressible picture of `size` (a gradient), small on the wire."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def noisy_progressive_jpeg(size: tuple[int, int], mode: str = "RGB") -> bytes:
    """The costliest JPEG to decode: progressive (libjpeg keeps every coefficient), 4:4:4."""
    out = io.BytesIO()
    Image.effect_noise(size, 60).convert(mode).save(out, "JPEG", quality=30, progressive=True, subsampling=0)
    return out.getvalue()


# --- memory of the server process ---------------------------------------------------------
def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {key}")


class Memory:
    """RSS of the server before, at peak during, and after one request."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def __enter__(self) -> Memory:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # peak RSS := current RSS
        self.before = _status_kib(self.pid, "VmRSS")
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.started
        self.peak = _status_kib(self.pid, "VmHWM")
        self.after = _status_kib(self.pid, "VmRSS")

    @property
    def grown_mib(self) -> float:
        return (self.peak - self.before) / 1024

    def line(self, name: str, response: httpx.Response) -> str:
        return (
            f"[rss] {name}: HTTP {response.status_code} in {self.seconds:.2f}s; RSS before "
            f"{self.before / 1024:.0f} MiB, peak {self.peak / 1024:.0f} MiB (+{self.grown_mib:.0f}), "
            f"after {self.after / 1024:.0f} MiB"
        )


@pytest.fixture
def upload(user_factory, http: httpx.Client, daphne_server):  # type: ignore[no-untyped-def]
    owner = user_factory(username="budget-uploader")
    album = make_album(make_trip(owner=owner), title="Budget")
    headers = {"Authorization": f"Bearer {access_token(owner)}"}

    def send(data: bytes, name: str) -> httpx.Response:
        return http.post(
            f"/api/albums/{album.pk}/photos/",
            files={"image": (name, data, "application/octet-stream")},
            headers=headers,
            timeout=60,
        )

    # First-request allocations (Pillow's codecs, the ORM) out of the way.
    for fmt in ("PNG", "WEBP", "JPEG"):
        assert send(still(fmt, (64, 64)), f"warmup.{fmt.lower()}").status_code == 201
    assert send(animation("GIF", 3), "warmup.gif").status_code == 201
    send.headers = headers  # type: ignore[attr-defined]
    return send


def _upload_measured(upload, daphne_server, name: str, data: bytes) -> tuple[httpx.Response, Memory]:  # type: ignore[no-untyped-def]
    assert len(data) <= settings.PHOTO_MAX_UPLOAD_BYTES
    with Memory(daphne_server.pid) as memory:
        response = upload(data, name)
    print(memory.line(f"{name} ({len(data)} bytes)", response))
    assert memory.grown_mib < RSS_BUDGET_MIB, memory.line(name, response)
    return response, memory


def _assert_refused(response: httpx.Response, words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "validation_error", body
    assert words in " ".join(body["fields"]["image"]), body


# --- refused before decoding ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "payload", "words"),
    [
        # The file: 269 bytes, a 4000x4000 screen, ten 1x1 frames (160 M pixels).
        ("frame-bomb.gif", lambda: gif_frame_bomb(), "across its frames"),
        # 16 M pixels a frame, under the 40 M per frame, but four of them are 64 M.
        ("screen-bomb.gif", lambda: gif_frame_bomb((4000, 4000), frames=4), "across its frames"),
        # Two frames of 6.8 M pixels: an animation's re-encoding counts two frames more.
        ("two-big-frames.gif", lambda: gif_frame_bomb((2600, 2600), frames=2), "across its frames"),
        # A 1x1 screen whose frame reaches 6000x6000: Pillow grows the canvas to fit.
        (
            "growing-canvas.gif",
            lambda: gif_frame_bomb((1, 1), frames=1, frame=(6000, 6000)),
            "across its frames",
        ),
        # Many small frames, each far under the pixel caps.
        (
            "many-frames.gif",
            lambda: gif_frame_bomb((2, 2), frames=settings.PHOTO_MAX_FRAMES + 1),
            "too many frames",
        ),
        ("many-frames.png", lambda: animation("PNG", settings.PHOTO_MAX_FRAMES + 1), "too many frames"),
        ("many-frames.webp", lambda: animation("WEBP", settings.PHOTO_MAX_FRAMES + 1), "too many frames"),
        # Under Pillow's MAX_IMAGE_PIXELS (89 M) and PHOTO_MAX_PIXELS (40 M): 36 M pixels.
        ("wide.png", lambda: still("PNG", (6000, 6000), mode="1", optimize=True), "across its frames"),
        # 16 M WebP pixels cost like 40 M of a PNG's (libwebp's own canvases).
        ("big.webp", lambda: still("WEBP", (4000, 4000), quality=10), "across its frames"),
    ],
)
def test_costly_images_are_refused_from_their_headers_quickly_without_the_memory(
    upload, daphne_server, name, payload, words
) -> None:  # type: ignore[no-untyped-def]
    data = payload()
    rows_before = Photo.objects.count()
    response, memory = _upload_measured(upload, daphne_server, name, data)
    _assert_refused(response, words)
    assert memory.seconds < 3, memory.line(name, response)  # was 12 s for the frame bomb
    assert Photo.objects.count() == rows_before


def test_a_single_frame_on_a_huge_screen_is_refused_by_the_per_frame_cap(upload, daphne_server) -> None:  # type: ignore[no-untyped-def]
    response, _ = _upload_measured(
        upload, daphne_server, "one-frame.gif", gif_frame_bomb((8000, 6000), frames=1)
    )
    _assert_refused(response, f"at most {settings.PHOTO_MAX_PIXELS} pixels")


# --- the most expensive accepted uploads stay inside the budget ---------------------------
def _side(pixels: int) -> int:
    """The side of the largest square of at most `pixels` pixels."""
    return math.isqrt(pixels)


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        # Each at (or just under) the whole PHOTO_MAX_TOTAL_PIXELS budget (12 M by default).
        ("max-rgba.png", lambda: still("PNG", (4096, settings.PHOTO_MAX_TOTAL_PIXELS // 4096), mode="RGBA")),
        (
            "max-progressive.jpg",
            lambda: noisy_progressive_jpeg((4096, settings.PHOTO_MAX_TOTAL_PIXELS // 4096)),
        ),
        (
            "max.webp",
            lambda: still("WEBP", (_side(settings.PHOTO_MAX_TOTAL_PIXELS * 2 // 5),) * 2, mode="RGBA"),
        ),
        ("max-la.png", lambda: still("PNG", (4096, settings.PHOTO_MAX_TOTAL_PIXELS // 4096), mode="LA")),
        (  # a progressive CMYK pixel counts 1.5
            "max-cmyk-progressive.jpg",
            lambda: noisy_progressive_jpeg((4096, settings.PHOTO_MAX_TOTAL_PIXELS * 2 // 3 // 4096), "CMYK"),
        ),
        # Ten frames (counted twelve: two for the re-encoding) on a twelfth of the budget.
        (
            "max-frames.gif",
            lambda: gif_frame_bomb((1000, settings.PHOTO_MAX_TOTAL_PIXELS // 12_000), frames=10),
        ),
        (
            "max-big-frames.gif",
            lambda: animation("GIF", 2, size=(_side(settings.PHOTO_MAX_TOTAL_PIXELS // 4),) * 2),
        ),
    ],
)
def test_the_costliest_accepted_images_stay_under_the_memory_budget(
    upload, daphne_server, name, payload
) -> None:  # type: ignore[no-untyped-def]
    response, _ = _upload_measured(upload, daphne_server, name, payload())
    assert response.status_code == 201, response.text


def test_a_small_animated_gif_keeps_its_animation(upload, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    response = upload(animation("GIF", 12, size=(64, 48)), "hello.gif")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["width"], body["height"], body["contentType"]) == (64, 48, "image/gif")
    served = http.get(body["imageUrl"], headers=upload.headers)
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.n_frames == 12
        image.seek(5)
        assert image.convert("RGB").getpixel((0, 0)) == (5, 35, 0)
    thumb = http.get(body["thumbnailUrl"], headers=upload.headers)
    with Image.open(io.BytesIO(thumb.content)) as image:  # made from the first frame
        assert image.convert("RGB").getpixel((0, 0)) == (0, 0, 0)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animated_png_or_webp_is_stored_as_its_first_frame(upload, http: httpx.Client, fmt: str) -> None:  # type: ignore[no-untyped-def]
    response = upload(animation(fmt, 5, size=(32, 32)), f"moving.{fmt.lower()}")
    assert response.status_code == 201, response.text
    served = http.get(response.json()["imageUrl"], headers=upload.headers)
    with Image.open(io.BytesIO(served.content)) as image:
        assert getattr(image, "n_frames", 1) == 1
        assert image.convert("RGB").getpixel((0, 0)) == (0, 0, 0)


CONCURRENT = 4


def test_concurrent_costly_uploads_do_not_add_up(upload, daphne_server) -> None:  # type: ignore[no-untyped-def]
    """Each request runs its sync view in a thread of its own (Django's ASGI handler):
    images are decoded one at a time per process, on one thread, so four at once stay in
    the budget too (they did not: three at once grew the node by 282 MiB)."""
    data = noisy_progressive_jpeg((4096, settings.PHOTO_MAX_TOTAL_PIXELS // 4096))
    with Memory(daphne_server.pid) as memory, ThreadPoolExecutor(CONCURRENT) as pool:
        responses = list(pool.map(lambda i: upload(data, f"same-time-{i}.jpg"), range(CONCURRENT)))
    print(memory.line(f"{CONCURRENT} x max-progressive.jpg at once", responses[0]))
    assert [r.status_code for r in responses] == [201] * CONCURRENT
    assert memory.grown_mib < RSS_BUDGET_MIB, memory.line(f"{CONCURRENT} at once", responses[0])
