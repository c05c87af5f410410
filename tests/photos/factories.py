"""Trips, members, albums and photos for the photo and journal tests (ORM only: the trips
REST API is not something these tests depend on)."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date
from typing import Any

from PIL import Image

from photos.models import Album, Photo
from tests.factories import UserFactory
from trips.models import Role, Trip, TripMember, Visibility


def make_trip(*, owner: Any, visibility: str = Visibility.PRIVATE, title: str = "Trip") -> Trip:
    trip = Trip.objects.create(
        title=title,
        destination="Lisbon",
        start_date=date(2026, 5, 1),
        end_date=date(2026, 5, 9),
        visibility=visibility,
        created_by=owner,
    )
    TripMember.objects.create(trip=trip, user=owner, role=Role.OWNER)
    return trip


def add_member(trip: Trip, user: Any, role: str) -> TripMember:
    return TripMember.objects.create(trip=trip, user=user, role=role)


def make_album(trip: Trip, *, title: str = "Album", user: Any = None) -> Album:
    return Album.objects.create(trip=trip, title=title, created_by=user)


def make_photo_row(album: Album, *, user: Any = None, caption: str = "") -> Photo:
    """A Photo row without files (for listings and permission checks that never read bytes)."""
    image, thumbnail = Photo.new_file_names("png", "webp")
    return Photo.objects.create(
        album=album,
        image=image,
        thumbnail=thumbnail,
        content_type="image/png",
        caption=caption,
        uploaded_by=user,
        width=10,
        height=10,
    )


class TripPeople:
    """owner, editor, viewer (members), outsider and staff (not members) of one trip."""

    def __init__(self, visibility: str, prefix: str) -> None:
        self.owner = UserFactory(username=f"{prefix}-owner")
        self.editor = UserFactory(username=f"{prefix}-editor")
        self.viewer = UserFactory(username=f"{prefix}-viewer")
        self.outsider = UserFactory(username=f"{prefix}-outsider")
        self.staff = UserFactory(username=f"{prefix}-staff", is_staff=True)
        self.trip = make_trip(owner=self.owner, visibility=visibility, title=f"{prefix} trip")
        add_member(self.trip, self.editor, Role.EDITOR)
        add_member(self.trip, self.viewer, Role.VIEWER)

    def by_role(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "editor": self.editor,
            "viewer": self.viewer,
            "outsider": self.outsider,
            "staff": self.staff,
        }


# --- Image files, made with Pillow ------------------------------------------------------
def image_bytes(fmt: str, size: tuple[int, int] = (32, 24), mode: str = "RGB", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 0).save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps_and_orientation() -> bytes:
    """60x40, left half red, right half blue, EXIF: orientation 6 (rotate 90 CW to show),
    camera make, DateTimeOriginal and a GPS position."""
    image = Image.new("RGB", (60, 40), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 30, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TravaTestCam"
    exif.get_ifd(0x8769)[36867] = "2024:05:06 07:08:09"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 29.0)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (20, 20), color) for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    data = image_bytes("JPEG", size=(400, 300), quality=95)
    return data[: len(data) // 2]


def pixel_bomb_png(width: int = 8000, height: int = 8000) -> bytes:
    """A real, decodable 1-bit PNG of width x height: a few KB on the wire."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG", optimize=True)
    return out.getvalue()


def header_bomb_png(width: int = 60000, height: int = 60000) -> bytes:
    """A PNG whose header claims a huge size (Pillow's own DecompressionBombError)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
