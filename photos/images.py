"""Decoding, checking and re-encoding uploaded images with Pillow.

The file's name and declared type are ignored: only what Pillow decodes counts. What is
stored is a fresh encoding of the decoded pixels, upright, without EXIF (GPS, camera
serials), XMP or comments; the capture time is read first and kept as a field.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import IO

from django.conf import settings
from PIL import Image, ImageFile, ImageOps, ImageSequence, UnidentifiedImageError

# format -> (content type, extension)
ALLOWED_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_OFFSET_TIME_ORIGINAL = 36881
_DATETIME = 306


class InvalidImage(Exception):
    """The upload is not an acceptable image; the message is for the client."""


@dataclass(frozen=True)
class ProcessedImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    taken_at: datetime | None
    thumbnail: bytes
    thumbnail_content_type: str = "image/webp"
    thumbnail_extension: str = "webp"


def _check_pixels(image: Image.Image) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InvalidImage("The image has no pixels.")
    if width * height > settings.PHOTO_MAX_PIXELS:
        raise InvalidImage(f"The image is too large: at most {settings.PHOTO_MAX_PIXELS} pixels.")


def _taken_at(image: Image.Image) -> datetime | None:
    try:
        exif = image.getexif()
        ifd = exif.get_ifd(_EXIF_IFD)
        raw = ifd.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
        if not raw:
            return None
        value = datetime.strptime(str(raw).strip("\x00 ").strip(), "%Y:%m:%d %H:%M:%S")
        offset = str(ifd.get(_OFFSET_TIME_ORIGINAL) or "").strip("\x00 ")
        tz = UTC  # cameras rarely record the zone; UTC is the documented default
        if len(offset) == 6 and offset[0] in "+-":
            sign = 1 if offset[0] == "+" else -1
            tz = dt_timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        return value.replace(tzinfo=tz)
    except (ValueError, TypeError, KeyError, OSError, SyntaxError):
        return None  # unreadable metadata is not a reason to refuse a photo


# What a GIF frame's `info` may keep: Pillow writes the rest (comments, XMP) back out.
_GIF_RENDERING_KEYS = ("transparency", "duration", "loop", "background", "disposal")


def _without_metadata(frame: Image.Image) -> Image.Image:
    frame.info = {key: frame.info[key] for key in _GIF_RENDERING_KEYS if key in frame.info}
    return frame


def _encode(image: Image.Image, fmt: str, source: Image.Image) -> bytes:
    out = io.BytesIO()
    # Only what is passed here is written: no exif=, xmp=, comment= -> none in the file.
    extra = {}
    if icc := source.info.get("icc_profile"):
        extra["icc_profile"] = icc  # colour, not private
    # Pillow writes some of `info` back by default (JPEG comments, XMP): keep only what
    # rendering needs. `image` is our own upright copy, never the caller's object.
    if fmt != "GIF":  # GIF frames are cleaned one by one below
        image.info = {key: image.info[key] for key in ("transparency",) if key in image.info}
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90, optimize=True, **extra)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=False, **extra)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=90, **extra)
    else:  # GIF: keep the animation, frame by frame
        frames = [_without_metadata(frame.copy()) for frame in ImageSequence.Iterator(source)]
        if len(frames) > 1:
            frames[0].save(
                out,
                "GIF",
                save_all=True,
                append_images=frames[1:],
                loop=source.info.get("loop", 0),
                duration=source.info.get("duration", 100),
            )
        else:
            _without_metadata(image).save(out, "GIF")
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    size = settings.PHOTO_THUMBNAIL_SIZE
    thumb = image.copy()
    if thumb.mode not in ("RGB", "RGBA"):
        thumb = thumb.convert("RGBA" if "transparency" in image.info or "A" in thumb.mode else "RGB")
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=80)
    return out.getvalue()


def process_image(file: IO[bytes]) -> ProcessedImage:
    """Decode `file` completely, or raise InvalidImage. Never trusts name or content type."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            # Pillow warns between MAX_IMAGE_PIXELS and twice that; a warning is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            file.seek(0)
            with Image.open(file) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise InvalidImage("Only JPEG, PNG, WebP and GIF images are accepted.")
                _check_pixels(probe)
                probe.verify()  # structure and checksums, without decoding pixels
            file.seek(0)
            image = Image.open(file)
            fmt = image.format
            _check_pixels(image)
            image.load()  # decodes every byte: a truncated file fails here
            if fmt == "GIF":
                for frame in ImageSequence.Iterator(image):
                    _check_pixels(frame)
                    frame.load()
                image.seek(0)
            taken_at = _taken_at(image)
            upright = ImageOps.exif_transpose(image) if fmt != "GIF" else image
            content = _encode(upright, fmt, image)
            thumbnail = _thumbnail(upright.convert("RGBA") if fmt == "GIF" else upright)
            width, height = upright.size
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImage("The image is too large once decoded.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise InvalidImage("The file is not a valid image (unreadable or truncated).") from exc
    content_type, extension = ALLOWED_FORMATS[fmt]
    return ProcessedImage(
        content=content,
        content_type=content_type,
        extension=extension,
        width=width,
        height=height,
        taken_at=taken_at,
        thumbnail=thumbnail,
    )
