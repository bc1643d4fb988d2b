"""The review forms, validated with ``app.web.forms.validate_form`` (translated field errors)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from app.review.service import MESSAGE_MAX_LENGTH, REASON_MAX_LENGTH


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


class ChangesForm(BaseModel):
    message: str = Field(min_length=1, max_length=MESSAGE_MAX_LENGTH)


class HoldForm(BaseModel):
    reason: str = Field(min_length=1, max_length=REASON_MAX_LENGTH)
    resume_on: dt.date | None = None

    @field_validator("resume_on", mode="before")
    @classmethod
    def _empty_date(cls, value: Any) -> Any:
        return _empty_to_none(value)


class AbandonForm(BaseModel):
    reason: str = Field(min_length=1, max_length=REASON_MAX_LENGTH)


class MessageForm(BaseModel):
    body: str = Field(min_length=1, max_length=MESSAGE_MAX_LENGTH)
    staff_only: bool = False


class DecisionForm(BaseModel):
    outcome: Literal["approve", "decline"]
    act_kind: Literal["decision", "deliberation"] = "decision"
    act_reference: str = Field(default="", max_length=100)
    sitting: str = Field(default="", max_length=40)
    decided_on: dt.date | None = None
    reason: str = Field(default="", max_length=MESSAGE_MAX_LENGTH)
    override_reason: str = Field(default="", max_length=MESSAGE_MAX_LENGTH)
    waiting_list: bool = False

    @field_validator("decided_on", mode="before")
    @classmethod
    def _empty_date(cls, value: Any) -> Any:
        return _empty_to_none(value)


class QueueQuery(BaseModel):
    """The queue's filters from the query string (unknown values are ignored by the service)."""

    state: str = Field(default="", max_length=24)
    neighbourhood: str = Field(default="", max_length=40)
    theme: str = Field(default="", max_length=40)
    fund: str = Field(default="", max_length=40)
    mine: bool = False
    council: bool = False  # awaiting a council sitting

    @field_validator("mine", "council", mode="before")
    @classmethod
    def _checkbox(cls, value: Any) -> Any:
        return value not in ("", None, "0", "false")
