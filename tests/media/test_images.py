"""Checking and re-encoding images: types, sizes, pixel floods, metadata and hidden payloads."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.core.errors import Invalid
from app.media import images
from tests.media import helpers as m


def _decoded(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_exif_and_gps_are_gone() -> None:
    result = images.process(m.jpeg_with_gps())
    stored = _decoded(result.image.data)
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info
    assert b"Exif" not in result.image.data
    assert b"SN-123456" not in result.image.data
    assert b"Phone X" not in result.image.data
    assert dict(_decoded(result.thumbnail.data).getexif()) == {}  # type: ignore[union-attr]


def test_orientation_is_applied() -> None:
    # Orientation 6: the camera was turned; the 60x30 sensor image is shown 30 wide, 60 high,
    # its left (red) half on top.
    result = images.process(m.jpeg_with_gps(orientation=6))
    stored = _decoded(result.image.data).convert("RGB")
    assert (result.image.width, result.image.height) == (30, 60) == stored.size
    top = stored.getpixel((15, 5))
    bottom = stored.getpixel((15, 55))
    assert isinstance(top, tuple)
    assert isinstance(bottom, tuple)
    assert (top[0] > 200, top[2] < 80) == (True, True)  # red
    assert (bottom[2] > 200, bottom[0] < 80) == (True, True)  # blue


def test_png_text_chunk_and_transparency() -> None:
    data = m.png_with_text()
    assert m.SCRIPT in data
    result = images.process(data)
    assert m.SCRIPT not in result.image.data
    assert result.source_format == "PNG"
    stored = _decoded(result.image.data)
    assert (stored.format, stored.mode) == ("JPEG", "RGB")
    pixel = stored.getpixel((20, 20))
    assert isinstance(pixel, tuple)
    assert pixel[0] > 100  # half-transparent green on white, not on black


def test_polyglot_payload_is_gone() -> None:
    data = m.polyglot()
    assert data.count(m.SCRIPT) == 2
    result = images.process(data)
    assert m.SCRIPT not in result.image.data
    assert b"<html" not in result.image.data
    assert result.image.data.startswith(b"\xff\xd8\xff")
    assert result.image.data.endswith(b"\xff\xd9")


def test_webp_is_accepted() -> None:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(out, "WEBP")
    result = images.process(out.getvalue())
    assert result.source_format == "WEBP"
    assert (result.image.width, result.image.height, result.image.content_type) == (20, 10, "image/jpeg")


def test_large_photo_is_shrunk_and_thumbnailed() -> None:
    result = images.process(m.jpeg((4000, 3000)))
    assert (result.image.width, result.image.height) == (2048, 1536)
    assert result.thumbnail is not None
    assert (result.thumbnail.width, result.thumbnail.height) == (480, 360)


@pytest.mark.parametrize(
    "data",
    [m.gif(), m.SVG, b"just some text, named photo.jpg", b"MZ\x90\x00" + b"\x00" * 100, b"PK\x03\x04" + b"\x00" * 50],
    ids=["gif", "svg", "text", "exe", "zip"],
)
def test_other_types_are_refused(data: bytes) -> None:
    with pytest.raises(Invalid) as exc:
        images.process(data)
    assert "JPEG, PNG ou WebP" in exc.value.message


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff\xe0truncated", m.jpeg()[:200]], ids=["empty", "header", "cut"])
def test_broken_files_are_refused(data: bytes) -> None:
    with pytest.raises(Invalid) as exc:
        images.process(data)
    assert exc.value.message


# As in production (app.media.images turns the warning into an error at import; pytest resets filters).
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("size", [(50_000, 50_000), (9_000, 5_000)], ids=["bomb", "45-megapixels"])
def test_pixel_flood_is_refused_before_decoding(size: tuple[int, int]) -> None:
    data = m.png_declaring(*size)
    assert len(data) < 200
    with pytest.raises(Invalid) as exc:
        images.process(data)
    assert "millions de pixels" in exc.value.message


def test_pixel_limit_holds_without_the_warning_filter() -> None:
    """Even if something reset the warning filters, the dimensions are checked before decoding."""
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(Invalid) as exc:
        images.process(m.png_declaring(9_000, 5_000))
    assert "millions de pixels" in exc.value.message


def test_animation_is_refused() -> None:
    out = io.BytesIO()
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue", "green")]
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:])
    with pytest.raises(Invalid) as exc:
        images.process(out.getvalue())
    assert "animées" in exc.value.message


def test_size_limit_is_enforced_while_reading() -> None:
    class Endless(io.RawIOBase):
        """A stream that never ends: reading must stop at the limit, not at the end."""

        read_bytes = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            buffer[:] = b"\xff" * len(buffer)
            self.read_bytes += len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(Invalid) as exc:
        images.read_limited(io.BufferedReader(stream), limit=1024 * 1024)
    assert "Mo" in exc.value.message
    assert stream.read_bytes <= 1024 * 1024 + 2 * images.READ_CHUNK
