"""The follow-up forms, validated with ``app.web.forms.validate_form`` (translated field errors)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.followup.milestones import TITLE_MAX_LENGTH, MilestoneInput
from app.followup.models import ProofKind
from app.followup.service import REPORT_MAX_LENGTH
from app.ledger.models import Side
from app.ledger.realisations import NOTES_MAX_LENGTH, REASON_MAX_LENGTH


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


class DeliverForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    what_was_done: str = Field(min_length=1, max_length=REPORT_MAX_LENGTH)
    what_changed: str = Field(default="", max_length=REPORT_MAX_LENGTH)


class MilestoneForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    side: Side
    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH)
    due_on: dt.date
    commitment_line: str = Field(default="", max_length=32)

    def to_input(self) -> MilestoneInput:
        return MilestoneInput(
            side=self.side.value, title=self.title, due_on=self.due_on, commitment_line=self.commitment_line
        )


class RealisationForm(BaseModel):
    """A realisation; the optional proof sent with it is read by ``uploads_in(form, "file")``."""

    model_config = ConfigDict(extra="ignore")

    line: str = Field(min_length=1, max_length=32)
    quantity: str = Field(min_length=1, max_length=20)
    delivered_on: dt.date
    notes: str = Field(default="", max_length=NOTES_MAX_LENGTH)
    proof_kind: ProofKind | None = None
    proof_title: str = Field(default="", max_length=TITLE_MAX_LENGTH)

    @field_validator("proof_kind", mode="before")
    @classmethod
    def _empty_kind(cls, value: Any) -> Any:
        return _empty_to_none(value)


class ProofForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: ProofKind
    title: str = Field(default="", max_length=TITLE_MAX_LENGTH)
    realisation: str = Field(default="", max_length=32)


class CancelForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(min_length=1, max_length=REASON_MAX_LENGTH)
