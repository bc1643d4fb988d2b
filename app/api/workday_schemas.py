"""JSON shapes of the work-days API: work days, « Je participe », the register, equipment bookings.

Hours are integer minutes (as the ledger's), times are local to the territory (``HH:MM``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.api.followup_schemas import ChoiceOut
from app.equipment.forms import CONDITION_MAX_LENGTH, BookingInput
from app.equipment.models import BookingState
from app.workdays import forms
from app.workdays.models import RegisterState, WorkDayState
from app.workdays.service import MAX_MINUTES

# ---------------------------------------------------------------- work days


class WorkDayOut(BaseModel):
    public_id: str
    day: dt.date
    starts_at: dt.time
    ends_at: dt.time
    place: str
    meeting_point: str
    tasks: str
    tools: str = Field(description="What to bring, or what will be lent")
    max_participants: int | None
    state: WorkDayState
    cancel_reason: str
    signed_up: int = Field(description="How many people said « Je participe »")
    full: bool
    mine: bool = Field(description="This token's person is signed up")
    open: bool = Field(description="Sign-ups are open (planned, ahead, register not entered)")
    register_state: RegisterState | None = Field(description="For the promoters and the town's staff only")
    can_sign_up: bool
    can_withdraw: bool
    can_enter_register: bool
    can_check_register: bool


class ParticipantOut(BaseModel):
    public_id: str
    name: str
    is_minor: bool
    signed_up: bool = Field(description="False: added on the register on the day (a walk-in)")
    came: bool | None = Field(description="Null until the register is entered")
    minutes: int | None


class WorkDayDetail(WorkDayOut):
    participants: list[ParticipantOut] = Field(description="For the promoters and the town's staff only (else empty)")
    can_edit: bool


class WorkDayCreate(forms.WorkDayInput):
    """A work day: from today on, once the convention is signed. Times as ``HH:MM`` (``9:30`` and
    ``09:30:00`` are read too)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("starts_at", "ends_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        if isinstance(value, str) and value.count(":") == 2:
            try:
                return dt.time.fromisoformat(value)
            except ValueError:
                pass
        return forms.parse_time(value)


# ---------------------------------------------------------------- the register


class RegisterRowOut(BaseModel):
    participant: str = Field(description="The participant's `public_id` (send it back to change the row)")
    name: str
    is_minor: bool
    signed_up: bool = Field(description="False: a walk-in added on the register")
    came: bool | None = Field(description="Null until the register is entered")
    safety_briefing: bool
    insurance_ack: bool
    parental_permission: bool
    minutes: int | None


class RegisterOut(BaseModel):
    work_day_public_id: str
    state: RegisterState
    state_label: str
    checked: bool = Field(description="Checked by an agent: the hours are in the ledger, the register is closed")
    can_enter: bool
    can_check: bool
    has_hours_line: bool = Field(description="The residents have a volunteer-hours commitment to receive the hours")
    attendees: int
    total_minutes: int
    rows: list[RegisterRowOut]


class RegisterRowIn(BaseModel):
    """A person already on the register (``participant``), or a walk-in (``participant`` null, with
    ``name`` and ``is_minor``). Someone present needs the safety briefing and the insurance ticked,
    the parents' permission for a minor, and their hours."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    participant: str | None = Field(default=None, max_length=32)
    name: str = Field(default="", max_length=forms.NAME_MAX_LENGTH, description="A walk-in's name")
    is_minor: bool = Field(default=False, description="A walk-in under 18 (a signed-up person's age is known)")
    came: bool = False
    safety_briefing: bool = False
    insurance_ack: bool = False
    parental_permission: bool = False
    minutes: int | None = Field(default=None, ge=1, le=MAX_MINUTES, description="Hours on the day, in minutes")
    remove: bool = Field(default=False, description="Takes a walk-in off the register (not a person signed up)")


class RegisterBody(BaseModel):
    """The register's rows; a person on it whose row is not sent is left as it is."""

    model_config = ConfigDict(extra="forbid")

    rows: list[RegisterRowIn] = Field(max_length=forms.MAX_PARTICIPANTS)

    @model_validator(mode="after")
    def _walk_ins(self) -> RegisterBody:
        if sum(1 for row in self.rows if row.participant is None) > forms.MAX_NEW_ROWS:
            raise ValueError(f"at most {forms.MAX_NEW_ROWS} walk-ins at once")
        return self


class CheckOut(RegisterOut):
    """The register, now checked and closed, with what its check wrote to the ledger."""

    realisations_written: int = Field(description="Verified realisations written to the volunteer-hours line")
    minutes_written: int


# ---------------------------------------------------------------- equipment


class BookingOut(BaseModel):
    public_id: str
    equipment_name: str
    quantity: int
    starts_on: dt.date
    ends_on: dt.date
    state: BookingState
    state_label: str
    initiative_public_id: str
    work_day_public_id: str
    work_day_on: dt.date
    place: str
    condition_out: str
    condition_returned: str
    late: bool = Field(description="Out and due back before today")
    can_cancel: bool
    can_hand_out: bool
    can_take_back: bool


class BookingsOut(BaseModel):
    items: list[BookingOut]
    can_book: bool
    equipment: list[ChoiceOut] = Field(description="What may be booked (active equipment), when `can_book`")
    loan_lines: list[ChoiceOut] = Field(description="The ledger's equipment-loan lines a booking may deliver")


class BookingCreate(BookingInput):
    """Units of an equipment (its ``public_id``) for the work day; the period defaults to the day."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


BookingAction = Literal["hand-out", "return", "cancel"]


class BookingStepBody(BaseModel):
    """``condition`` when handing out or taking back, ``reason`` when cancelling (both optional)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    condition: str = Field(default="", max_length=CONDITION_MAX_LENGTH)
    reason: str = Field(default="", max_length=CONDITION_MAX_LENGTH)


class EquipmentOut(BaseModel):
    public_id: str
    name: str
    description: str
    quantity: int = Field(description="Units that can be lent at the same time")
    condition_notes: str
    active: bool
