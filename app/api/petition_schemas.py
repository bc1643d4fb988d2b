"""JSON shapes of the petitions API. Counts are the worker's (``PetitionCount``, lag up to a minute);
dates are ISO 8601; labels are translated for the token's person."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.petitions.forms import PetitionInput, RejectInput
from app.petitions.models import SignerRelation

MAX_PAGE_SIZE = 100
MAX_OFFSET = 100_000
MAX_EXPORT_PAGE = 1_000

Tab = Literal["open", "awaiting", "answered", "closed"]


# ---------------------------------------------------------------- reading


class PetitionSummary(BaseModel):
    public_id: str
    kind: str = Field(description="civic or legal (art. L1112-16 CGCT)")
    title: str
    request: str
    state: str
    state_label: str
    neighbourhood: str | None
    theme: str | None
    total: int = Field(description="Every counted signature")
    town: int = Field(description="Signers who live, work or use services in the town")
    basis: str = Field(description="Which count the thresholds use: town or total")
    basis_count: int
    next_threshold: int = Field(description="The threshold the petition works towards (0: none left)")
    closes_on: dt.date | None
    answer_threshold_reached_at: dt.datetime | None
    answered: bool


class PetitionPage(BaseModel):
    items: list[PetitionSummary]
    total: int
    limit: int
    offset: int


class CountsOut(BaseModel):
    total: int
    town: int
    basis: str
    basis_count: int
    computed_at: dt.datetime | None = Field(description="When the worker last counted (None: not yet)")
    next_threshold: int
    next_kind: str = Field(description="answer, council or '' when no threshold is left")
    progress_percent: int
    days_left: int | None


class ThresholdsOut(BaseModel):
    answer: int = Field(description="Frozen when the petition opened; for a legal request, a tenth of the electors")
    council: int
    answer_reached_at: dt.datetime | None = Field(description="Stamped once; never moves, never removed")
    council_reached_at: dt.datetime | None
    below_after_stamp: bool = Field(description="A stamp stays although the count fell back below")
    answer_due_on: dt.date | None
    answer_overdue: bool
    electors_frozen: int | None = Field(description="Legal requests: registered electors when it opened")


class AnswerOut(BaseModel):
    published: bool = Field(description="False: the draft, shown to the town's staff only")
    outcome: str | None
    outcome_label: str
    text: str
    published_at: dt.datetime | None
    authority: str = Field(description="The competent authority the request was transmitted to")
    transmitted_on: dt.date | None
    authority_reply: str
    authority_reply_on: dt.date | None


class InitiativeLink(BaseModel):
    public_id: str
    title: str


class MySignatureOut(BaseModel):
    """The signing box as the page shows it to the token's person."""

    open: bool
    can_sign: bool
    signed: bool
    counted: bool = Field(description="As far as the signer is told (a flagged signature looks counted)")
    can_withdraw: bool
    relation: str
    count: int = Field(description="The public count, with the person's own signature even if the count lags")
    quarter: str = Field(description="Legal requests: the calendar quarter of the one signature per elector")
    refusal: str = Field(description="Why this person may not sign, if so")


class PetitionDetail(BaseModel):
    public_id: str
    kind: str
    legal_purpose: str | None = Field(description="Legal requests: consultation or position")
    title: str
    request: str
    body: str
    state: str
    state_label: str
    legal_stage: str | None
    legal_stage_label: str
    author_name: str
    neighbourhood: str | None
    theme: str | None
    submitted_at: dt.datetime | None
    opened_at: dt.datetime | None
    closes_on: dt.date | None
    closed_at: dt.datetime | None
    rejection_reason: str = Field(description="A key of the territory's published charter")
    rejection_label: str
    rejection_comment: str
    hidden: bool = Field(description="Hidden by an agent: only its author and the staff see it")
    counts: CountsOut
    thresholds: ThresholdsOut
    answer: AnswerOut | None = Field(description="The official answer once published")
    from_initiative: InitiativeLink | None
    converted_initiative: InitiativeLink | None
    my_signature: MySignatureOut | None = Field(description="Published petitions only")
    can_edit: bool
    can_submit: bool
    can_withdraw: bool
    can_moderate: bool
    can_convert: bool


class RollCheckOut(BaseModel):
    """Legal requests: what the electoral roll check needs (used only for that check)."""

    surname: str
    first_names: str
    address: str
    birth_date: dt.date | None
    roll_status: str | None
    roll_reason: str
    roll_checked_at: dt.datetime | None


class PetitionSignatureOut(BaseModel):
    public_id: str
    name: str
    relation: str
    method: str = Field(description="account, guest or paper")
    status: str = Field(description="counted, awaiting_confirmation, flagged, withdrawn, invalidated or erased")
    show_name: bool
    signed_at: dt.datetime
    counted_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    invalidated_at: dt.datetime | None
    invalid_reason: str
    paper_sheet: str
    roll: RollCheckOut | None = Field(description="Legal requests only")


class SignatureExport(BaseModel):
    petition_public_id: str
    kind: str
    items: list[PetitionSignatureOut]
    total: int
    limit: int
    offset: int


# ---------------------------------------------------------------- writing


class PetitionCreate(PetitionInput):
    """A draft: the same fields and checks as the form, with the neighbourhood and the theme given
    by their ``public_id`` (see ``GET /api/v1/territory``). A legal request needs its ``legal_purpose``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    neighbourhood_id: str | None = Field(default=None, max_length=40)  # type: ignore[assignment]
    theme_id: str | None = Field(default=None, max_length=40)  # type: ignore[assignment]


class RejectBody(RejectInput):
    """``reason`` is a key of the territory's published charter (``GET /petitions/charte``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ElectorBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    surname: str = Field(min_length=1, max_length=120)
    first_names: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    birth_date: dt.date


class PetitionSignBody(BaseModel):
    """The signer's link with the town and opt-ins; a legal request also needs ``elector``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    relation: SignerRelation = SignerRelation.LIVES
    show_name: bool = Field(default=False, description="My name on the public page")
    notify: bool = Field(default=False, description="Thresholds, answer, conversion (never for legal requests)")
    invite_if_project: bool = Field(default=False, description="Invite me if this becomes a project")
    elector: ElectorBody | None = Field(default=None, description="Legal requests only: for the electoral roll check")


class SignOut(BaseModel):
    outcome: str = Field(description="signed, restored (after a withdrawal) or already (nothing changed)")
    message: str
    my_signature: MySignatureOut


class WithdrawOut(BaseModel):
    withdrawn: bool = Field(description="False: there was no signature to withdraw")
    message: str
    my_signature: MySignatureOut
