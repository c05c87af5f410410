"""photos.images on its own: no metadata of any kind survives re-encoding."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from photos.images import InvalidImage, process_image

SECRET = b"SECRET-GPS-48.8582N"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SECRET + b"</x:xmpmeta>"


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = SECRET.decode()
    exif.get_ifd(0x8825)[1] = "N"
    return exif


def _sample(fmt: str) -> bytes:
    image = Image.new("RGB", (30, 20), (10, 20, 30))
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", exif=_exif(), comment=SECRET, xmp=XMP)
    elif fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", SECRET.decode())
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        image.save(out, "PNG", pnginfo=info, exif=_exif())
    elif fmt == "WEBP":
        image.save(out, "WEBP", exif=_exif(), xmp=XMP)
    else:
        frames = [Image.new("RGB", (20, 20), color) for color in ((255, 0, 0), (0, 255, 0))]
        frames[0].save(
            out, "GIF", save_all=True, append_images=frames[1:], comment=SECRET, duration=70, loop=2
        )
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_exif_xmp_and_comments_are_stripped(fmt: str) -> None:
    original = _sample(fmt)
    assert SECRET in original
    processed = process_image(io.BytesIO(original))
    assert SECRET not in processed.content and SECRET not in processed.thumbnail
    with Image.open(io.BytesIO(processed.content)) as image:
        assert image.format == fmt
        assert len(image.getexif()) == 0
        if fmt == "GIF":
            assert image.n_frames == 2 and image.info["duration"] == 70 and image.info["loop"] == 2


def test_a_gif_whose_later_frame_is_truncated_is_refused() -> None:
    data = _sample("GIF")
    with pytest.raises(InvalidImage):
        process_image(io.BytesIO(data[: len(data) - 20]))
