"""Conventions in the JSON API: read, propose and sign, through the same service as the pages.

The convention is private to the initiative's promoters and the town's staff (404 for anyone
else). Signing asks for the account's password again, in the body, and the fingerprint of the
text read (409 if it changed since); the password never enters the idempotency fingerprint.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.api.deps import ReadScope, WriteScope
from app.api.initiative_schemas import LedgerTotals
from app.api.initiatives import IDEMPOTENCY_NOTE, RESPONSES, IdempotencyKey, _once
from app.conventions import clauses
from app.conventions import service as conventions
from app.conventions.forms import PASSWORD_MAX_LENGTH, UPKEEP_BY_MAX_LENGTH, UPKEEP_MAX_MONTHS
from app.conventions.models import Convention, ConventionKind, SignatureMethod, SignatureParty
from app.funds import service as funds
from app.web.deps import CurrentTerritory, ReadSession, WriteSession

router = APIRouter(prefix="/api/v1", tags=["conventions"], responses=RESPONSES)


# ---------------------------------------------------------------- shapes


class PartyOut(BaseModel):
    party: SignatureParty
    signed: bool
    signatory: str = Field(description="The name under the valid signature of this party, if any")


class SignatureOut(BaseModel):
    public_id: str
    party: SignatureParty
    method: SignatureMethod
    signatory_name: str
    signatory_capacity: str
    signed_at: dt.datetime = Field(description="When the signature was recorded")
    signed_on: dt.date | None = Field(description="The date written on paper (paper signatures)")
    revision: int
    text_sha256: str
    voided: bool = Field(description="Given on an earlier revision, regenerated since: no longer valid")
    current: bool = Field(description="A valid signature of the text as it is now")


class AmendmentOut(BaseModel):
    public_id: str
    number: int
    reason: str
    changes: str
    text: str
    text_sha256: str
    proposed_at: dt.datetime
    signed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    parties: list[PartyOut]
    signatures: list[SignatureOut]
    sign_as: SignatureParty | None


class ConventionOut(BaseModel):
    public_id: str
    initiative_public_id: str
    number: str
    kind: ConventionKind = Field(description="`commitment`: a small project's simple commitment, promoters only")
    revision: int
    text: str = Field(description="The full Markdown text, as generated and frozen")
    text_sha256: str = Field(description="Send it back to sign: it proves which text was read")
    totals: LedgerTotals = Field(description="The ledger's totals copied when the text was generated (cents)")
    snapshot: dict[str, Any] = Field(description="Totals, ratios, rules, rates and lines as they stood (cents)")
    upkeep_by: str
    upkeep_months: int
    template_version: int
    proposed_at: dt.datetime
    signed_at: dt.datetime | None
    release_on: dt.date | None = Field(description="Unsigned by then: the envelope is released")
    parties: list[PartyOut]
    signatures: list[SignatureOut]
    sign_as: SignatureParty | None = Field(description="The party this token's person may sign for now")
    amendments: list[AmendmentOut]


class ProposeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    upkeep_by: str = Field(min_length=1, max_length=UPKEEP_BY_MAX_LENGTH, description="Who maintains the result")
    upkeep_months: int = Field(ge=0, le=UPKEEP_MAX_MONTHS, description="For how long (months; 0: no upkeep)")


class SignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH, description="The account's password, again")
    text_sha256: str = Field(min_length=64, max_length=64, description="The `text_sha256` of the text read")


class _SignFingerprint(BaseModel):
    """What identifies a signing request for ``Idempotency-Key``: never the password."""

    text_sha256: str


class TemplateVersionOut(BaseModel):
    public_id: str
    version: int
    title: str
    created_at: dt.datetime | None
    change_note: str
    default_upkeep_months: int
    preamble: str
    upkeep_clause: str
    insurance_clause: str
    general_clauses: str


# ---------------------------------------------------------------- reading


def _signatures(signing: conventions.SigningState) -> tuple[list[PartyOut], list[SignatureOut]]:
    parties = [PartyOut(party=SignatureParty(p.party), signed=p.signed, signatory=p.signatory) for p in signing.parties]
    signatures = [
        SignatureOut(
            public_id=s.public_id,
            party=SignatureParty(s.party),
            method=SignatureMethod(s.method),
            signatory_name=s.signatory_name,
            signatory_capacity=s.signatory_capacity,
            signed_at=s.signed_at,
            signed_on=s.signed_on,
            revision=s.revision,
            text_sha256=s.text_sha256,
            voided=s.voided,
            current=s.current,
        )
        for s in signing.signatures
    ]
    return parties, signatures


def _totals(convention: Convention) -> LedgerTotals:
    balance = (convention.snapshot or {}).get("balance", {})
    return LedgerTotals(
        residents_value_cents=int(balance.get("residents_value_cents", 0)),
        town_value_cents=int(balance.get("town_value_cents", 0)),
        town_cash_cents=int(balance.get("town_cash_cents", 0)),
        partners_value_cents=int(balance.get("partners_value_cents", 0)),
    )


def convention_out(db: Session, viewer: Viewer, public_id: str) -> ConventionOut:
    initiative = conventions.get_initiative(db, viewer, public_id)
    page = conventions.convention_page(db, viewer, initiative)
    c = page.convention
    parties, signatures = _signatures(page.signing)
    amendments = []
    for a in page.amendments:
        a_parties, a_signatures = _signatures(a.signing)
        am = a.amendment
        amendments.append(
            AmendmentOut(
                public_id=am.public_id,
                number=am.number,
                reason=am.reason,
                changes=am.changes,
                text=am.text,
                text_sha256=am.text_sha256,
                proposed_at=am.proposed_at,
                signed_at=am.signed_at,
                cancelled_at=am.cancelled_at,
                parties=a_parties,
                signatures=a_signatures,
                sign_as=SignatureParty(a.signing.sign_as) if a.signing.sign_as else None,
            )
        )
    return ConventionOut(
        public_id=c.public_id, initiative_public_id=initiative.public_id, number=c.number,
        kind=ConventionKind(c.kind), revision=c.revision, text=c.text, text_sha256=c.text_sha256,
        totals=_totals(c), snapshot=c.snapshot or {}, upkeep_by=c.upkeep_by, upkeep_months=c.upkeep_months,
        template_version=page.template_version, proposed_at=c.proposed_at, signed_at=c.signed_at,
        release_on=page.release_on, parties=parties, signatures=signatures,
        sign_as=SignatureParty(page.signing.sign_as) if page.signing.sign_as else None, amendments=amendments,
    )  # fmt: skip


# ---------------------------------------------------------------- routes


@router.get(
    "/initiatives/{public_id}/convention",
    response_model=ConventionOut,
    summary="The convention of an initiative, its signatures and amendments (promoters and staff)",
)
def get_convention(public_id: str, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession) -> ConventionOut:
    return convention_out(db, viewer, public_id)


@router.post(
    "/initiatives/{public_id}/convention",
    status_code=201,
    response_model=ConventionOut,
    summary="Propose the convention of an approved initiative (an agent; scope: write)",
    description="The text is generated from the fund's template, the initiative and its ledger, then frozen. "
    + IDEMPOTENCY_NOTE,
)
def propose(
    request: Request, public_id: str, body: ProposeBody, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = conventions.get_initiative(db, viewer, public_id)
        conventions.propose(
            db, viewer, initiative, body.upkeep_by, body.upkeep_months, settings=request.app.state.settings
        )
        return 201, convention_out(db, viewer, public_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.post(
    "/initiatives/{public_id}/convention/sign",
    response_model=ConventionOut,
    summary="Sign the convention online (a promoter or the guardian, or the executive; scope: write)",
    description="Wrong password: 422 (attempts are rate limited per account). `text_sha256` of another text "
    "than the current one: 409, read it again. Signing twice changes nothing. " + IDEMPOTENCY_NOTE,
)
def sign(
    request: Request, public_id: str, body: SignBody, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    initiative = conventions.get_initiative(db, viewer, public_id)
    convention = conventions.get_convention(db, viewer, initiative)
    request.app.state.rate_limiter.hit("login:account", str(viewer.account_id))

    def action() -> tuple[int, BaseModel]:
        conventions.sign_online(
            db, viewer, convention, body.password, body.text_sha256, settings=request.app.state.settings
        )
        return 200, convention_out(db, viewer, public_id)

    fingerprint = _SignFingerprint(text_sha256=body.text_sha256)
    return _once(request, db, viewer, territory, idempotency_key, fingerprint, action)


@router.get(
    "/funds/{public_id}/convention-templates",
    response_model=list[TemplateVersionOut],
    summary="The versions of a fund's convention template, newest first",
)
def template_versions(
    public_id: str, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession
) -> list[TemplateVersionOut]:
    fund = funds.get_fund(db, territory.id, public_id)
    return [
        TemplateVersionOut(
            public_id=v.public_id,
            version=v.version,
            title=v.title,
            created_at=v.created_at,
            change_note=v.change_note,
            default_upkeep_months=v.default_upkeep_months,
            preamble=v.preamble,
            upkeep_clause=v.upkeep_clause,
            insurance_clause=v.insurance_clause,
            general_clauses=v.general_clauses,
        )
        for v in clauses.versions(db, fund)
    ]
