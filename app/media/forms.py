"""What the photo forms carry: files taken from a multipart body, and text alternatives."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import FormData, UploadFile

from app.media.service import Upload

ALT_TEXT_MAX = 300


class AltTextInput(BaseModel):
    """The text alternative of a photo: what it shows, for those who cannot see it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    alt_text: str = Field(min_length=1, max_length=ALT_TEXT_MAX)


class AddPhotosInput(BaseModel):
    """The text fields sent with new photos (the files themselves are read by ``uploads_in``)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    alt_text: str = Field(default="", max_length=ALT_TEXT_MAX)


def uploads_in(form: FormData, name: str = "photos") -> list[Upload]:
    """The files chosen in a file field; the empty part a browser sends when none was chosen is skipped."""
    uploads: list[Upload] = []
    for value in form.getlist(name):
        if not isinstance(value, UploadFile):
            continue
        if not value.filename and not value.size:
            continue
        uploads.append(Upload(filename=value.filename or "", stream=value.file))
    return uploads
