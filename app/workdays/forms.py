"""Forms of the work days: planning a day, and the register entered in bulk (one row per person).

The register has a variable number of rows, so it is read field by field rather than with one
Pydantic model: ``p-<participant>-<field>`` for the people already on it, ``new-<n>-<field>`` for
the walk-ins added on the day. Hours are typed as on the ledger ("3:30", "3h30", "3,5").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from starlette.datastructures import FormData

from app.web.forms import clean_text
from app.web.i18n import _

PLACE_MAX_LENGTH = 300
TEXT_MAX_LENGTH = 5_000
REASON_MAX_LENGTH = 2_000
NAME_MAX_LENGTH = 120
HOURS_MAX_LENGTH = 20
MAX_PARTICIPANTS = 10_000
# Blank walk-in rows shown under the people already on the register, and the most a form may carry.
BLANK_ROWS = 3
MAX_NEW_ROWS = 60

TIME_RE = re.compile(r"^(\d{1,2})(?:[:h](\d{2})?)?$")


def parse_time(value: Any) -> Any:
    """ "9:30", "09:30", "9h30", "9h" or "9" -> a time; anything else is refused with a message."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower().replace(" ", "")
    if not text:
        return None
    match = TIME_RE.match(text)
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2) or 0)
        if hours < 24 and minutes < 60:
            return dt.time(hours, minutes)
    raise ValueError(_("Saisissez une heure, par exemple 9:30."))


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class WorkDayInput(BaseModel):
    """A work day as planned or edited by a promoter or an agent."""

    model_config = ConfigDict(extra="ignore")

    day: dt.date
    starts_at: dt.time
    ends_at: dt.time
    place: str = Field(min_length=1, max_length=PLACE_MAX_LENGTH)
    meeting_point: str = Field(default="", max_length=PLACE_MAX_LENGTH)
    tasks: str = Field(default="", max_length=TEXT_MAX_LENGTH)
    tools: str = Field(default="", max_length=TEXT_MAX_LENGTH)
    max_participants: int | None = Field(default=None, ge=1, le=MAX_PARTICIPANTS)

    @field_validator("day", "max_participants", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("starts_at", "ends_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return parse_time(value)

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, value: dt.time, info: ValidationInfo) -> dt.time:
        starts_at = info.data.get("starts_at")
        if isinstance(starts_at, dt.time) and value <= starts_at:
            raise ValueError(_("L'heure de fin doit être après l'heure de début."))
        return value


class CancelInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(default="", max_length=REASON_MAX_LENGTH)


@dataclass(frozen=True)
class RowInput:
    """One row of the register as typed. ``participant`` is the public id of a person already on
    the register, None for a walk-in added now (``name`` and ``is_minor`` then say who)."""

    key: str
    participant: str | None
    name: str
    is_minor: bool
    came: bool
    safety_briefing: bool
    insurance_ack: bool
    parental_permission: bool
    hours: str
    remove: bool = False

    @property
    def is_blank(self) -> bool:
        """A walk-in row left empty: ignored."""
        return (
            self.participant is None
            and not (self.name or self.came or self.safety_briefing or self.insurance_ack or self.parental_permission)
            and not self.hours
        )


def _ticked(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


def _text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return clean_text(value.replace("\x00", ""))[:limit]


def new_row_count(form: FormData) -> int:
    raw = form.get("new_rows")
    try:
        count = int(raw) if isinstance(raw, str) else BLANK_ROWS
    except ValueError:
        count = BLANK_ROWS
    return max(0, min(count, MAX_NEW_ROWS))


def register_rows(form: FormData, participant_ids: list[str]) -> list[RowInput]:
    """The rows of a submitted register: the people already on it (in the given order) whose row
    the form carried, then the walk-in rows."""
    rows: list[RowInput] = []
    for public_id in participant_ids:
        key = f"p-{public_id}"
        if form.get(f"{key}-row") is None:
            continue  # signed up after the form was shown: left as it is
        rows.append(
            RowInput(
                key=key,
                participant=public_id,
                name="",
                is_minor=False,
                came=_ticked(form, f"{key}-came"),
                safety_briefing=_ticked(form, f"{key}-safety"),
                insurance_ack=_ticked(form, f"{key}-insurance"),
                parental_permission=_ticked(form, f"{key}-parental"),
                hours=_text(form, f"{key}-hours", HOURS_MAX_LENGTH),
                remove=_ticked(form, f"{key}-remove"),
            )
        )
    for index in range(new_row_count(form)):
        key = f"new-{index}"
        name = form.get(f"{key}-name")
        rows.append(
            RowInput(
                key=key,
                participant=None,
                # Kept whole for the length check; the service refuses a name that is too long.
                name=clean_text(name.replace("\x00", "")) if isinstance(name, str) else "",
                is_minor=_ticked(form, f"{key}-minor"),
                came=_ticked(form, f"{key}-came"),
                safety_briefing=_ticked(form, f"{key}-safety"),
                insurance_ack=_ticked(form, f"{key}-insurance"),
                parental_permission=_ticked(form, f"{key}-parental"),
                hours=_text(form, f"{key}-hours", HOURS_MAX_LENGTH),
            )
        )
    return rows
