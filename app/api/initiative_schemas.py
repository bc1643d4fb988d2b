"""JSON shapes of the initiatives API. Money fields are integer cents ending in ``_cents``;
quantities are minutes (hours), days or units as the line's ``unit`` says; ratios are strings."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.initiatives.forms import InitiativeInput, WithdrawInput
from app.initiatives.models import ProjectType
from app.ledger.models import LineKind, Side
from app.ledger.valuation import MAX_QUANTITY, MAX_UNIT_VALUE_CENTS
from app.review.forms import DecisionForm
from app.review.service import MESSAGE_MAX_LENGTH, REASON_MAX_LENGTH

MAX_PAGE_SIZE = 100
MAX_OFFSET = 100_000


# ---------------------------------------------------------------- reading


class LedgerTotals(BaseModel):
    residents_value_cents: int
    town_value_cents: int
    town_cash_cents: int
    partners_value_cents: int


class InitiativeSummary(LedgerTotals):
    public_id: str
    title: str
    state: str
    state_label: str
    neighbourhood: str | None
    theme: str | None
    project_type: ProjectType
    submitted_at: dt.datetime | None


class InitiativePage(BaseModel):
    items: list[InitiativeSummary]
    total: int
    limit: int
    offset: int


class MemberOut(BaseModel):
    public_id: str
    role: str
    role_label: str
    name: str = Field(description="The real name for staff and the project's team, the public name otherwise")
    pending: bool = Field(description="An invitation not accepted yet (shown to staff and the team only)")


class BeneficiaryOut(BaseModel):
    kind: str | None = Field(description="person, informal_group, association or school (staff and the team only)")
    name: str = Field(description="Its public name")


class LineOut(BaseModel):
    public_id: str
    side: Side
    kind: LineKind
    label: str
    quantity: int = Field(description="Minutes for hours, days for equipment loans, units otherwise")
    unit: str
    unit_value_cents: int = Field(description="Per hour, per day or per unit, copied when the line was written")
    value_cents: int
    is_town_cash: bool
    state: str
    due_on: dt.date | None
    partner_name: str
    supplier: str
    instalments: int


class BalanceOut(LedgerTotals):
    k_percent: int
    counted_residents_cents: int
    required_residents_cents: int
    match_ok: bool
    cap_cents: int | None
    cap_ok: bool
    envelope_left_cents: int | None
    envelope_ok: bool
    leverage_residents_per_town: str | None = Field(description="A decimal as a string, null without town value")
    leverage_town_per_residents: str | None
    enforcement: str
    warnings: list[str]


class LedgerOut(BaseModel):
    lines: list[LineOut]
    balance: BalanceOut
    writable_sides: list[Side]
    frozen: bool


class InitiativeDetail(BaseModel):
    public_id: str
    title: str
    state: str
    state_label: str
    description: str
    general_interest: str
    residents_offer: str
    town_request: str
    project_type: ProjectType
    neighbourhood: str | None
    theme: str | None
    fund: str | None
    address: str
    latitude: str | None
    longitude: str | None
    start_on: dt.date | None
    end_on: dt.date | None
    submitted_at: dt.datetime | None
    decision_due_on: dt.date | None
    beneficiary: BeneficiaryOut | None
    members: list[MemberOut]
    ledger: LedgerOut | None
    can_edit: bool
    can_submit: bool
    can_withdraw: bool
    review_actions: list[str] = Field(description="Review actions this token's person may take now")
    can_decide: bool


class DecisionOut(BaseModel):
    public_id: str
    initiative_public_id: str
    outcome: str
    act_kind: str
    act_reference: str
    decided_on: dt.date
    reason: str
    snapshot: dict[str, Any]


# ---------------------------------------------------------------- writing


class InitiativeCreate(InitiativeInput):
    """A proposal: the same fields and checks as the form, with the neighbourhood and the theme
    given by their ``public_id`` (see ``GET /api/v1/territory``). Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    neighbourhood_id: str | None = Field(default=None, max_length=40)  # type: ignore[assignment]
    theme_id: str | None = Field(default=None, max_length=40)  # type: ignore[assignment]


class WithdrawBody(WithdrawInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LineCreate(BaseModel):
    """A commitment line. Lines valued by a rate (hours, equipment days) take the rate in force;
    the others need ``unit_value_cents``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: LineKind
    side: Side | None = Field(default=None, description="Optional: checked against the kind")
    label: str = Field(default="", max_length=300)
    quantity: int = Field(default=1, gt=0, le=MAX_QUANTITY, description="Minutes for hours, days or units")
    unit_value_cents: int | None = Field(default=None, ge=0, le=MAX_UNIT_VALUE_CENTS)
    equipment: str = Field(default="", max_length=200, description="The equipment rate's label, for a loan")
    due_on: dt.date | None = None
    supplier: str = Field(default="", max_length=200)
    invoice_reference: str = Field(default="", max_length=100)
    commitment_number: str = Field(default="", max_length=100)
    instalments: int = Field(default=1, ge=1, le=24)
    partner_name: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=2000)


ReviewAction = Literal["start", "changes", "hold", "resume", "resubmit"]


class ReviewBody(BaseModel):
    """``message`` is required to request changes, ``reason`` to put on hold."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(default="", max_length=MESSAGE_MAX_LENGTH)
    reason: str = Field(default="", max_length=REASON_MAX_LENGTH)
    resume_on: dt.date | None = None


class DecisionBody(DecisionForm):
    """The executive's decision; ``sitting`` is a council sitting's ``public_id``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
