"""Images built with Pillow (or by hand, for the hostile ones) and upload helpers for the media tests."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import ExifTags, Image, PngImagePlugin
from sqlalchemy import func, select

from app.db.session import Database, read_only
from app.media.models import InitiativePhoto, StoredFile
from tests.factories import form_fields

SCRIPT = b"<script>alert(1)</script>"


def jpeg(size: tuple[int, int] = (64, 48), color: str = "red", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", **save)
    return out.getvalue()


def jpeg_with_gps(orientation: int | None = None) -> bytes:
    """A photo as a phone makes it: camera model and serial, GPS position, maybe an orientation."""
    img = Image.new("RGB", (60, 30), "red")
    img.paste(Image.new("RGB", (30, 30), "blue"), (30, 0))  # left half red, right half blue
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Phone X"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (50.0, 27.0, 0.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (2.0, 46.0, 0.0),
        }
    )
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = "SN-123456"
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=95)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture carries GPS
    return data


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    out = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 128, 0, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def polyglot() -> bytes:
    """A JPEG with a script in a comment segment and an HTML page after its end."""
    return jpeg(comment=SCRIPT) + b"<html><body>" + SCRIPT + b"</body></html>"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge image (a pixel flood)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(out, "GIF")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'


def counts(database: Database) -> tuple[int, int]:
    """(stored files, initiative photos)."""
    with read_only(database) as db:
        files = db.scalar(select(func.count()).select_from(StoredFile)) or 0
        photos = db.scalar(select(func.count()).select_from(InitiativePhoto)) or 0
        return files, photos


def files_on_disk(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def stored_files(database: Database) -> list[StoredFile]:
    with read_only(database) as db:
        rows = list(db.scalars(select(StoredFile).order_by(StoredFile.id)))
        for r in rows:
            db.expunge(r)
        return rows


def photos(database: Database) -> list[InitiativePhoto]:
    with read_only(database) as db:
        rows = list(db.scalars(select(InitiativePhoto).order_by(InitiativePhoto.position, InitiativePhoto.id)))
        for r in rows:
            db.expunge(r)
        return rows


def upload(
    client: TestClient,
    public_id: str,
    files: list[tuple[str, bytes]],
    *,
    alt_text: str = "",
    headers: dict[str, str] | None = None,
) -> Any:
    """Sends photos with the form of the initiative page, as a browser without JavaScript would."""
    page = client.get(f"/initiatives/{public_id}")
    assert page.status_code == 200, page.text[:300]
    return client.post(
        f"/initiatives/{public_id}/photos",
        data={**form_fields(page.text), "alt_text": alt_text},
        files=[("photos", (name, data, "image/jpeg")) for name, data in files],
        headers=headers or {},
    )


def upload_refused(client: TestClient, public_id: str) -> int:
    """The status of an upload by someone who may not open the initiative page (token from the home page)."""
    page = client.get("/")
    response = client.post(
        f"/initiatives/{public_id}/photos",
        data=form_fields(page.text),
        files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))],
    )
    return int(response.status_code)
