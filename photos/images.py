"""Decoding, checking and re-encoding uploaded images with Pillow.

The file's name and declared type are ignored: only what Pillow decodes counts. What is
stored is a fresh encoding of the decoded pixels, upright, without EXIF (GPS, camera
serials), XMP or comments; the capture time is read first and kept as a field.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import IO

from django.conf import settings
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from trava.api.errors import DomainError

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


# Every image is decoded on this one thread, one at a time. Django runs each request's
# sync view in a thread of its own: concurrent uploads would add their peaks up, and
# glibc gives each thread its own malloc arena, which keeps the freed pages of a big
# decode for that thread only. The budget (PHOTO_MAX_TOTAL_PIXELS) bounds one decode;
# this makes it the bound of the node.
_DECODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trava-image")


class InvalidImage(DomainError):
    """The upload is not an acceptable image; the message is for the client, answered as a
    validation error of the upload's `image` field."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="image")


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


class _GifReader:
    """A cursor over a GIF's bytes that reads as Pillow's GifImageFile reads its file."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += len(chunk)
        return chunk

    def block(self) -> bytes | None:
        """GifImageFile.data: one sub-block (b"" when cut short), None at a terminator."""
        size = self.read(1)
        return self.read(size[0]) if size and size[0] else None


def gif_layout(data: bytes, max_frames: int) -> tuple[int, int, int]:
    """(frames, width, height) of a GIF from its block structure alone, no LZW decoding.

    Walks the file step by step as Pillow does (GifImageFile._open and _seek), quirks
    included (after an extension's first sub-block, another chain is skipped; unknown
    bytes between blocks are passed over one by one), so that the count and the canvas
    are the ones Pillow will decode: a frame whose extent passes the logical screen
    grows the canvas Pillow composites every frame onto. Stops past `max_frames`.
    """
    gif = _GifReader(data)
    header = gif.read(13)
    if len(header) < 13:
        raise InvalidImage("The file is not a valid image (unreadable or truncated).")
    width, height = struct.unpack_from("<HH", header, 6)
    if header[10] & 0x80:
        gif.read(3 << ((header[10] & 7) + 1))
    frames = 0
    while frames <= max_frames:
        if frames:  # the previous frame's image data
            while gif.block():
                pass
        kind = gif.read(1)
        if not kind or kind == b";":
            break
        found = False
        while True:
            if not kind:
                kind = gif.read(1)
            if not kind or kind == b";":
                break
            if kind == b"!":
                label = gif.read(1)
                block = gif.block()
                if label and label[0] == 254:  # comment: its own chain only
                    while block:
                        block = gif.block()
                    kind = b""
                    continue
                if label and label[0] == 255 and not frames and block and block.startswith(b"NETSCAPE2.0"):
                    gif.block()  # the loop count's sub-block
                while gif.block():
                    pass
            elif kind == b",":
                descriptor = gif.read(9)
                if len(descriptor) < 9:
                    raise InvalidImage("The file is not a valid image (unreadable or truncated).")
                left, top, frame_width, frame_height = struct.unpack_from("<HHHH", descriptor)
                if descriptor[8] & 0x80:
                    gif.read(3 << ((descriptor[8] & 7) + 1))
                gif.read(1)  # LZW minimum code size
                width, height = max(width, left + frame_width), max(height, top + frame_height)
                found = True
                break
            kind = b""
        if not found:
            break
        frames += 1
    return frames, width, height


def _check_budget(probe: Image.Image, file: IO[bytes]) -> None:
    """Refuse, from headers only, what would cost too much to decode: more than
    PHOTO_MAX_FRAMES frames, or more than PHOTO_MAX_TOTAL_PIXELS pixels decoded across the
    frames we decode (a GIF's every frame, each the size of its whole canvas, plus two
    for an animation's re-encoding; one frame of the other formats, whose animations are
    stored as their first frame; a WebP pixel counts 2.5, a progressive CMYK JPEG's 1.5).
    Pillow's own MAX_IMAGE_PIXELS check runs at open as well."""
    max_frames = settings.PHOTO_MAX_FRAMES
    if probe.format == "GIF":
        file.seek(0)
        frames, width, height = gif_layout(file.read(), max_frames)
        # An animation is re-encoded frame by frame; Pillow's writer compares each with the
        # previous one through full-canvas RGBA copies: two frames' worth more.
        decoded = frames + 2 if frames > 1 else frames
    else:
        # PNG: the acTL chunk's count; WebP: libwebp's demuxer. Neither decodes a frame.
        frames, (width, height) = getattr(probe, "n_frames", 1), probe.size
        decoded = 1
    if frames > max_frames:
        raise InvalidImage(f"The image has too many frames: at most {max_frames}.")
    if width * height > settings.PHOTO_MAX_PIXELS:
        raise InvalidImage(f"The image is too large: at most {settings.PHOTO_MAX_PIXELS} pixels.")
    cost = decoded * width * height
    if probe.format == "WEBP":
        # libwebp's decoder holds two canvases of its own and hands Pillow a third copy:
        # about 2.5 times the memory of a PNG's or JPEG's pixels (docs/operations.md).
        cost = cost * 5 // 2
    elif probe.format == "JPEG" and probe.mode == "CMYK" and probe.info.get("progressive"):
        cost = cost * 3 // 2  # libjpeg keeps all coefficients of a progressive file: 8 B/px
    if cost > settings.PHOTO_MAX_TOTAL_PIXELS:
        raise InvalidImage(
            f"The image is too large: at most {settings.PHOTO_MAX_TOTAL_PIXELS} pixels across its frames."
        )


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
    # rendering needs. `image` is process_image's own object (rotated in place).
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
    elif getattr(source, "n_frames", 1) > 1:  # GIF: keep the (bounded) animation
        first = _without_metadata(source.copy())
        # One frame decoded at a time: Pillow's writer keeps each as 1 byte a pixel.
        first.save(
            out,
            "GIF",
            save_all=True,
            append_images=_later_frames(source),
            loop=source.info.get("loop", 0),
            duration=source.info.get("duration", 100),
        )
        source.seek(0)  # the thumbnail is made from the first frame
    else:
        _without_metadata(image).save(out, "GIF")
    return out.getvalue()


def _later_frames(source: Image.Image) -> Iterator[Image.Image]:
    for index in range(1, source.n_frames):
        source.seek(index)
        yield _without_metadata(source.copy())


_RESIZABLE_MODES = frozenset({"RGB", "RGBA", "L", "LA", "CMYK"})


def _thumbnail(image: Image.Image) -> bytes:
    size = settings.PHOTO_THUMBNAIL_SIZE
    alpha = "transparency" in image.info or "A" in image.mode
    thumb = image
    # Shrink first, convert the small result: no full-size copy for RGB, L or CMYK, one
    # (premultiplied) for RGBA and LA; palette, 16-bit and colour-keyed images convert first.
    if thumb.mode not in _RESIZABLE_MODES or "transparency" in image.info:
        thumb = thumb.convert("RGBA" if alpha else "RGB")
    width, height = thumb.size
    scale = min(1.0, size / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    if target != thumb.size:
        thumb = thumb.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if thumb.mode not in ("RGB", "RGBA"):
        thumb = thumb.convert("RGBA" if alpha else "RGB")
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=80)
    return out.getvalue()


def process_image(file: IO[bytes]) -> ProcessedImage:
    """Decode `file` completely, or raise InvalidImage. Never trusts name or content type.
    One at a time per process, on one thread (see _DECODER)."""
    return _DECODER.submit(_process_image, file).result()


def _process_image(file: IO[bytes]) -> ProcessedImage:
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            # Pillow warns between MAX_IMAGE_PIXELS and twice that; a warning is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            file.seek(0)
            with Image.open(file) as probe:  # lazy: headers only, no pixels yet
                if probe.format not in ALLOWED_FORMATS:
                    raise InvalidImage("Only JPEG, PNG, WebP and GIF images are accepted.")
                _check_pixels(probe)
                _check_budget(probe, file)  # frames and pixels, before any decoding
                file.seek(0)
                probe.verify()  # structure and checksums, without decoding pixels
            file.seek(0)
            image = Image.open(file)
            fmt = image.format
            _check_pixels(image)
            image.load()  # decodes the first frame: a truncated file fails here
            taken_at = _taken_at(image)
            if fmt != "GIF":  # in place: no second full-size copy when already upright
                ImageOps.exif_transpose(image, in_place=True)
            upright = image
            content = _encode(upright, fmt, image)  # a GIF's later frames decode here
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
