"""JSON shapes of the follow-up API: the work (start, delivery report), milestones and realisations.

Quantities are integers in the commitment's ``unit``, as in the ledger: minutes for hours, days
for equipment loans, units otherwise. Money fields are integer cents ending in ``_cents``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.followup.forms import DeliverForm
from app.followup.milestones import TITLE_MAX_LENGTH, MilestoneInput
from app.ledger.models import LineKind, RealisationSource, RealisationState, Side, Unit
from app.ledger.realisations import NOTES_MAX_LENGTH, REASON_MAX_LENGTH
from app.ledger.valuation import MAX_QUANTITY

PUBLIC_ID_MAX_LENGTH = 32


class ChoiceOut(BaseModel):
    public_id: str
    label: str


# ---------------------------------------------------------------- milestones


class MilestoneOut(BaseModel):
    public_id: str
    side: Side
    side_label: str
    title: str
    due_on: dt.date
    done_on: dt.date | None
    overdue: bool = Field(description="Not done and its due date has passed")
    commitment_line: str | None = Field(description="The `public_id` of the commitment line it delivers, if any")
    commitment_label: str
    can_edit: bool = Field(description="This token's person may edit it, mark it done, reopen or remove it now")


class MilestonesOut(BaseModel):
    items: list[MilestoneOut] = Field(description="Date order, the earliest first, done ones included")
    writable_sides: list[Side] = Field(description="The sides this token's person may add milestones to now")
    commitment_lines: list[ChoiceOut] = Field(description="The commitment lines a milestone of those sides may name")


class MilestoneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    side: Side
    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH)
    due_on: dt.date
    commitment_line: str | None = Field(
        default=None, max_length=PUBLIC_ID_MAX_LENGTH, description="A commitment line of the same side"
    )

    def to_input(self) -> MilestoneInput:
        return MilestoneInput(
            side=self.side.value, title=self.title, due_on=self.due_on, commitment_line=self.commitment_line or ""
        )


class MilestoneUpdate(BaseModel):
    """The fields to change; the others keep their value (``commitment_line: null`` unlinks it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    side: Side | None = None
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX_LENGTH)
    due_on: dt.date | None = None
    commitment_line: str | None = Field(default=None, max_length=PUBLIC_ID_MAX_LENGTH)

    def to_input(self, current: MilestoneOut) -> MilestoneInput:
        given = self.model_fields_set
        line = self.commitment_line if "commitment_line" in given else current.commitment_line
        return MilestoneInput(
            side=(self.side or current.side).value,
            title=self.title if self.title is not None else current.title,
            due_on=self.due_on or current.due_on,
            commitment_line=line or "",
        )


MilestoneStep = Literal["done", "reopen"]


# ---------------------------------------------------------------- the work


class ReportOut(BaseModel):
    what_was_done: str
    what_changed: str
    written_by: str
    written_at: dt.datetime


class FollowupOut(BaseModel):
    initiative_public_id: str
    state: str
    state_label: str
    can_start: bool = Field(description="This token's person may start the work now")
    can_deliver: bool = Field(description="This token's person may deliver it now, with the report")
    report: ReportOut | None = Field(description="The promoters' delivery report, once delivered")
    milestones: list[MilestoneOut]
    overdue_count: int


class DeliverBody(DeliverForm):
    """The promoters' short delivery report."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- realisations


class RealisationOut(BaseModel):
    public_id: str
    commitment_line: str = Field(description="The `public_id` of the commitment it delivers")
    quantity: int = Field(description="In the commitment's unit: minutes for hours, days, units")
    unit: Unit
    value_cents: int = Field(description="At the commitment's own unit value")
    state: RealisationState
    state_label: str
    source: RealisationSource
    source_label: str
    delivered_on: dt.date
    notes: str
    recorded_by: str
    verified_by: str
    cancel_reason: str
    can_verify: bool
    can_cancel: bool


class CommitmentDoneOut(BaseModel):
    public_id: str
    side: Side
    kind: LineKind
    label: str
    unit: Unit
    committed_quantity: int = Field(description="What was committed, in `unit` (minutes for hours)")
    committed_cents: int
    delivered_quantity: int = Field(description="Declared or verified, cancelled realisations excluded")
    verified_quantity: int = Field(description="The verified part of `delivered_quantity`")
    delivered_cents: int
    verified_cents: int
    beyond: bool = Field(description="More delivered than committed (allowed, flagged)")
    due_on: dt.date | None
    cancelled: bool
    realisations: list[RealisationOut]


class SideDoneOut(BaseModel):
    side: Side
    title: str
    committed_cents: int
    delivered_cents: int
    verified_cents: int


class RealisationsOut(BaseModel):
    initiative_public_id: str
    commitments: list[CommitmentDoneOut]
    totals: list[SideDoneOut]
    recordable_lines: list[ChoiceOut] = Field(description="The commitments this token's person may record against")
    records_deliveries: bool = Field(description="Staff: what they record on a town line is a town delivery")


class RealisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    line: str = Field(min_length=1, max_length=PUBLIC_ID_MAX_LENGTH, description="The commitment line's `public_id`")
    quantity: int = Field(gt=0, le=MAX_QUANTITY, description="In the line's unit: minutes for hours, days or units")
    delivered_on: dt.date
    notes: str = Field(default="", max_length=NOTES_MAX_LENGTH)


class RealisationCancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=REASON_MAX_LENGTH)
