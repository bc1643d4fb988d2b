"""What the update forms carry: the text and progress, and for each photo its file, its text
alternative and the two answers about the people it shows (``yes`` / ``no``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.datastructures import FormData, UploadFile

from app.media.service import Upload
from app.web.forms import clean_text
from app.web.i18n import _

BODY_MAX = 5000
ALT_TEXT_MAX = 300
# Photos offered by the form of a new update (one file field per photo, each with its questions).
PHOTO_SLOTS = 6
YES, NO = "yes", "no"


class UpdateInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    body: str = Field(min_length=1, max_length=BODY_MAX)
    progress: int | None = None

    @field_validator("progress", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().removesuffix("%").strip()
            return value or None
        return value

    @field_validator("progress")
    @classmethod
    def _range(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 100:
            raise ValueError(_("Indiquez un pourcentage entre 0 et 100."))
        return value


def answer(value: Any) -> bool | None:
    """``yes`` / ``no`` as a boolean; anything else is no answer."""
    if value == YES:
        return True
    if value == NO:
        return False
    return None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return clean_text(value) if isinstance(value, str) else ""


def _check_answers(
    errors: dict[str, str], suffix: str, number: int, identifiable: bool | None, agreed: bool | None, alt_text: str
) -> None:
    if len(alt_text) > ALT_TEXT_MAX:
        errors[f"alt-{suffix}"] = _("Saisissez au plus %(n)s caractères.") % {"n": ALT_TEXT_MAX}
    if identifiable is None:
        errors[f"identifiable-{suffix}"] = _("Photo %(n)s : dites si des personnes reconnaissables y apparaissent.") % {
            "n": number
        }
    elif identifiable and agreed is None:
        errors[f"agreed-{suffix}"] = _(
            "Photo %(n)s : dites si les personnes visibles ont toutes donné leur accord."
        ) % {"n": number}


@dataclass(frozen=True)
class PhotoSlot:
    number: int
    upload: Upload
    alt_text: str
    identifiable: bool
    agreed: bool | None


def photo_slots(form: FormData) -> tuple[list[PhotoSlot], dict[str, str]]:
    """The photos chosen in the form of a new update, and the errors of their answers."""
    slots: list[PhotoSlot] = []
    errors: dict[str, str] = {}
    for number in range(1, PHOTO_SLOTS + 1):
        value = form.get(f"photo-{number}")
        if not isinstance(value, UploadFile) or (not value.filename and not value.size):
            continue  # no file chosen: the answers of an empty slot mean nothing
        alt_text = _text(form, f"alt-{number}")
        identifiable = answer(form.get(f"identifiable-{number}"))
        agreed = answer(form.get(f"agreed-{number}")) if identifiable else None
        _check_answers(errors, str(number), number, identifiable, agreed, alt_text)
        if identifiable is None:
            continue
        slots.append(
            PhotoSlot(number, Upload(filename=value.filename or "", stream=value.file), alt_text, identifiable, agreed)
        )
    return slots, errors


@dataclass(frozen=True)
class PhotoChange:
    """A photo of an update as the edit form leaves it."""

    public_id: str
    alt_text: str
    identifiable: bool | None
    agreed: bool | None
    remove: bool


def photo_changes(form: FormData, photo_ids: list[str]) -> tuple[list[PhotoChange], dict[str, str]]:
    changes: list[PhotoChange] = []
    errors: dict[str, str] = {}
    for number, public_id in enumerate(photo_ids, start=1):
        remove = form.get(f"remove-{public_id}") == "on"
        alt_text = _text(form, f"alt-{public_id}")
        identifiable = answer(form.get(f"identifiable-{public_id}"))
        agreed = answer(form.get(f"agreed-{public_id}")) if identifiable else None
        if not remove:
            if not alt_text:
                errors[f"alt-{public_id}"] = _("Ce champ est obligatoire.")
            _check_answers(errors, public_id, number, identifiable, agreed, alt_text)
        changes.append(PhotoChange(public_id, alt_text, identifiable, agreed, remove))
    return changes, errors
