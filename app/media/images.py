"""Checking and re-encoding uploaded images: bytes in, a clean JPEG out (or ``Invalid``).

The policy (documented to users on every upload form): JPEG, PNG or WebP only, 10 Mo at most
per file, 40 million pixels at most. Nothing of the uploaded file is kept: the pixels are
decoded, turned upright, converted to RGB, shrunk and encoded again as a JPEG without any
metadata, so EXIF (GPS position, camera serial), text chunks and any payload hidden after or
inside the image (polyglots) are gone. SVG is never accepted: it is a document, not a photo.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from app.core.errors import Invalid
from app.web.i18n import _

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Stored copies: a phone screen shows them sharp; thumbnails for galleries.
MAX_SIDE = 2048
THUMBNAIL_SIDE = 480
JPEG_QUALITY = 85
# A colour profile is a few kilobytes; a huge one is an attack on the parser, not a photo.
MAX_ICC_BYTES = 1024 * 1024
CONTENT_TYPE = "image/jpeg"
ACCEPT = "image/jpeg,image/png,image/webp"
READ_CHUNK = 64 * 1024

# Pillow refuses (DecompressionBombError) above twice this and warns above it: the warning is
# made an error too, and ``process`` checks the dimensions itself before decoding anyway.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.simplefilter("error", Image.DecompressionBombWarning)


def _wrong_type() -> Invalid:
    return Invalid(_("Ce fichier n'est pas une photo acceptée : envoyez une image JPEG, PNG ou WebP."))


def _too_big() -> Invalid:
    return Invalid(
        _("Ce fichier dépasse %(size)s Mo : réduisez la photo (par exemple en taille « moyenne ») et réessayez.")
        % {"size": MAX_FILE_BYTES // (1024 * 1024)}
    )


def _too_many_pixels() -> Invalid:
    return Invalid(
        _("Cette image est trop grande (plus de %(n)s millions de pixels) : réduisez-la et réessayez.")
        % {"n": MAX_PIXELS // 1_000_000}
    )


def _unreadable() -> Invalid:
    return Invalid(_("Cette image est illisible ou incomplète : essayez avec une autre photo."))


def _animated() -> Invalid:
    return Invalid(_("Les images animées ne sont pas acceptées : envoyez une photo."))


@dataclass(frozen=True)
class EncodedImage:
    """A re-encoded image, ready to be stored."""

    data: bytes
    width: int
    height: int
    content_type: str = CONTENT_TYPE

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ProcessedImage:
    image: EncodedImage
    thumbnail: EncodedImage | None
    source_format: str


def read_limited(stream: BinaryIO, limit: int = MAX_FILE_BYTES) -> bytes:
    """Reads a whole upload, refusing it as soon as it goes past ``limit`` bytes."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(READ_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise _too_big()
        chunks.append(chunk)
    return b"".join(chunks)


def sniff(head: bytes) -> str | None:
    """The Pillow format name from the file's first bytes (its extension and declared type are ignored)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _flatten(img: Image.Image) -> Image.Image:
    """RGB on a white background: transparent areas of a PNG must not turn black."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale PNGs: scale to 8 bits before converting, else everything is white.
        img = img.point(lambda v: v / 256).convert("L")
    return img.convert("RGB")


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Phones tag photos with wide-gamut profiles (Display P3); the stored copy is plain sRGB."""
    if not icc:
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(img, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img  # a broken profile only costs some colour accuracy
    return converted if isinstance(converted, Image.Image) else img


def _encode(img: Image.Image, side: int) -> EncodedImage:
    copy = img.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    # Nothing from the source travels to the new file: no EXIF, no ICC, no comments.
    copy.info = {}
    out = io.BytesIO()
    copy.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return EncodedImage(out.getvalue(), copy.width, copy.height)


def process(data: bytes, *, max_side: int = MAX_SIDE, thumbnail_side: int | None = THUMBNAIL_SIDE) -> ProcessedImage:
    """Checks an uploaded image and re-encodes it (and its thumbnail) as JPEG without metadata.

    Raises ``Invalid`` (wrong type, too big, too many pixels, animated, unreadable).
    """
    if len(data) > MAX_FILE_BYTES:
        raise _too_big()
    kind = sniff(data[:16])
    if kind is None:
        raise _wrong_type()
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as img:
            # Only the header is read so far: refuse a pixel flood before decoding anything.
            width, height = img.size
            if width < 1 or height < 1:
                raise _unreadable()
            if width * height > MAX_PIXELS:
                raise _too_many_pixels()
            if getattr(img, "n_frames", 1) > 1:
                raise _animated()
            icc = img.info.get("icc_profile")
            if icc is not None and len(icc) > MAX_ICC_BYTES:
                raise _unreadable()
            if kind == "JPEG":
                # Decodes a large JPEG at a reduced scale when that still covers the stored size.
                img.draft("RGB", (max_side, max_side))
            img.load()
            try:
                upright = ImageOps.exif_transpose(img)
            except Exception:
                upright = img  # a corrupt EXIF block must not refuse a readable photo
            rgb = _flatten(upright)
            # Shrunk first: the colour conversion then works on 4 million pixels at most, not 40.
            rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            rgb = _to_srgb(rgb, icc if isinstance(icc, bytes) else None)
            if rgb.mode != "RGB":
                rgb = rgb.convert("RGB")
    except Invalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError):
        raise _unreadable() from None
    image = _encode(rgb, max_side)
    thumbnail = _encode(rgb, thumbnail_side) if thumbnail_side else None
    return ProcessedImage(image=image, thumbnail=thumbnail, source_format=kind)


def process_stream(
    stream: BinaryIO, *, max_side: int = MAX_SIDE, thumbnail_side: int | None = THUMBNAIL_SIDE
) -> ProcessedImage:
    """``process`` for a file object, read with the size limit enforced while reading."""
    return process(read_limited(stream), max_side=max_side, thumbnail_side=thumbnail_side)
