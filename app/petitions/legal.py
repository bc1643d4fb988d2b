"""A legal request's procedure after its threshold (art. L1112-16 CGCT): submitted to the mayor (an
acknowledgement of receipt), verified against the electoral roll by agents (each signature valid, or
invalid with a reason), the council informed at the first sitting after receipt (the only deadline
the law sets), the council's decision recorded.

The stages follow each other in the law's order (``LegalStage``); a step out of order is
``Conflict`` (409) before anything changes, another town's request is ``NotFound``, a person without
the role is ``Forbidden``. Each step writes one audit entry and flushes (the caller commits).

Signers are never told anything: they follow the request from their account. Their names are never
published; the consultation the law allows happens at the town hall, through an extract (names and
commune only) that an agent generates for a stated reason, every generation audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import Person
from app.audit import service as audit
from app.audit.models import AuditEntry
from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.notifications.service import notify
from app.petitions import permissions as perm
from app.petitions import service
from app.petitions.counting import PETITIONS_KIND, counted_clause
from app.petitions.models import (
    LegalStage,
    Petition,
    PetitionCount,
    PetitionKind,
    PetitionSignature,
    PetitionState,
    RollStatus,
)
from app.territories.context import TerritoryContext
from app.territories.models import CouncilSitting
from app.web.forms import clean_text
from app.web.i18n import N_, _, date, ngettext

REASON_MAX_LENGTH = 500
DECISION_MAX_LENGTH = 20_000
MAX_BULK = 1000
PAGE_LIMIT = 2000
ORDER = (
    LegalStage.COLLECTING,
    LegalStage.SUBMITTED_TO_MAYOR,
    LegalStage.VERIFIED,
    LegalStage.COUNCIL_INFORMED,
    LegalStage.DECIDED,
)
ROLL_LABELS = {
    RollStatus.PENDING: N_("à vérifier"),
    RollStatus.VALID: N_("valide"),
    RollStatus.INVALID: N_("invalide"),
}
ACTION_SUBMIT = "petition.legal_submit"
ACTION_CHECK = "petition.legal_check"
ACTION_VERIFIED = "petition.legal_verified"
ACTION_INFORMED = "petition.legal_council_informed"
ACTION_DECIDED = "petition.legal_decided"
ACTION_EXTRACT = "petition.legal_extract"


# ---------------------------------------------------------------- forms


class CheckInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ids: list[str] = Field(default_factory=list, max_length=MAX_BULK)
    status: RollStatus
    reason: str = Field(default="", max_length=REASON_MAX_LENGTH)


class InformInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sitting: str = Field(default="", max_length=40)
    reason: str = Field(default="", max_length=REASON_MAX_LENGTH)


class DecisionInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = Field(default="", max_length=DECISION_MAX_LENGTH)
    deliberation_number: str = Field(default="", max_length=40)
    deliberation_date: dt.date | None = None

    @field_validator("deliberation_date", mode="before")
    @classmethod
    def _blank_date(cls, value: object) -> object:
        # The form's date field is optional: a browser sends it empty.
        return None if isinstance(value, str) and not value.strip() else value


class ExtractInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(min_length=3, max_length=REASON_MAX_LENGTH)
    format: str = Field(default="html", pattern="^(html|csv)$")


# ---------------------------------------------------------------- who may do what


def is_legal(petition: Petition) -> bool:
    return petition.kind == PetitionKind.LEGAL and petition.legal_stage is not None


def stage_of(petition: Petition) -> LegalStage | None:
    return LegalStage(petition.legal_stage) if petition.legal_stage in set(LegalStage) else None


def can_submit_to_mayor(actor: Actor | None, petition: Petition) -> bool:
    """The author or an agent hands the request to the mayor, once its provisional threshold is stamped."""
    return (
        is_legal(petition)
        and petition.legal_stage == LegalStage.COLLECTING
        and petition.state in (PetitionState.OPEN, PetitionState.CLOSED)
        and petition.answer_threshold_reached_at is not None
        and (perm.is_author(actor, petition) or perm.is_agent(actor, petition.territory_id))
    )


def can_check(actor: Actor | None, petition: Petition) -> bool:
    """The agents check the signatures against the electoral roll, between receipt and verification."""
    return (
        is_legal(petition)
        and petition.legal_stage == LegalStage.SUBMITTED_TO_MAYOR
        and perm.is_agent(actor, petition.territory_id)
    )


def can_inform(actor: Actor | None, petition: Petition) -> bool:
    return (
        is_legal(petition)
        and petition.legal_stage == LegalStage.VERIFIED
        and (perm.is_agent(actor, petition.territory_id) or perm.is_executive(actor, petition.territory_id))
    )


def can_decide(actor: Actor | None, petition: Petition) -> bool:
    return (
        is_legal(petition)
        and petition.legal_stage == LegalStage.COUNCIL_INFORMED
        and perm.is_executive(actor, petition.territory_id)
    )


def can_extract(actor: Actor | None, petition: Petition) -> bool:
    """The extract exists once the signatures are verified (the list of admissible signers)."""
    return (
        is_legal(petition)
        and petition.legal_stage in (LegalStage.VERIFIED, LegalStage.COUNCIL_INFORMED, LegalStage.DECIDED)
        and perm.is_agent(actor, petition.territory_id)
    )


def can_see_receipt(actor: Actor | None, petition: Petition) -> bool:
    return (
        is_legal(petition)
        and petition.received_at is not None
        and (perm.is_author(actor, petition) or perm.is_staff(actor, petition.territory_id))
    )


# ---------------------------------------------------------------- helpers


def get(db: Session, actor: Actor | None, territory_id: int, public_id: str, *, for_update: bool = False) -> Petition:
    """The territory's legal request, if the actor may see it (NotFound otherwise)."""
    petition = service.get_visible(db, actor, territory_id, public_id, for_update=for_update)
    if not is_legal(petition):
        raise NotFound(_("Cette demande de consultation n'existe pas."))
    return petition


def _stage_label(petition: Petition) -> str:
    stage = stage_of(petition)
    return _(service.LEGAL_STAGE_LABELS[stage]) if stage is not None else ""


def _out_of_order(petition: Petition) -> Conflict:
    return Conflict(
        _("La demande en est à l'étape « %(stage)s » : cette étape n'est pas possible maintenant.")
        % {"stage": _stage_label(petition)}
    )


def _require_stage(petition: Petition, stage: LegalStage) -> None:
    if petition.legal_stage != stage:
        raise _out_of_order(petition)


def _clean(text: str, *, field: str, limit: int, required: bool) -> str:
    value = clean_text(text or "").strip()
    if required and not value:
        raise Invalid(_("Ce champ est obligatoire."), field=field)
    if len(value) > limit:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": limit}, field=field)
    return value


def _record(
    db: Session,
    actor: Actor,
    action: str,
    petition: Petition,
    *,
    reason: str = "",
    data: dict[str, object] | None = None,
) -> None:
    audit.record(
        db, actor, action, "petition", petition.public_id, territory_id=petition.territory_id,
        reason=reason, data=data or {},
    )  # fmt: skip


def _to_check() -> object:
    """The signatures the roll check covers: those that count (not withdrawn, fraudulent or held)."""
    return counted_clause()


def _pending() -> object:
    s = PetitionSignature
    return or_(s.roll_status.is_(None), s.roll_status == RollStatus.PENDING.value)


@dataclass(frozen=True)
class RollFigures:
    checked_total: int  # the signatures under check
    valid: int
    invalid: int
    pending: int
    threshold: int  # one tenth of the electors registered when the request opened
    electors: int

    @property
    def retained(self) -> int:
        """The signatures not found invalid (valid and still pending)."""
        return self.valid + self.pending

    @property
    def reached(self) -> bool:
        return self.threshold > 0 and self.valid >= self.threshold


def roll_figures(db: Session, petition: Petition) -> RollFigures:
    s = PetitionSignature
    rows = db.execute(
        select(s.roll_status, func.count())
        .where(s.petition_id == petition.id, _to_check())  # type: ignore[arg-type]
        .group_by(s.roll_status)
    ).all()
    by_status: dict[str, int] = {}
    for status, n in rows:
        key = status if status in (RollStatus.VALID, RollStatus.INVALID) else RollStatus.PENDING.value
        by_status[key] = by_status.get(key, 0) + int(n)
    valid = by_status.get(RollStatus.VALID.value, 0)
    invalid = by_status.get(RollStatus.INVALID.value, 0)
    pending = by_status.get(RollStatus.PENDING.value, 0)
    return RollFigures(
        checked_total=valid + invalid + pending,
        valid=valid,
        invalid=invalid,
        pending=pending,
        threshold=petition.answer_threshold,
        electors=petition.electors_frozen or 0,
    )


# ---------------------------------------------------------------- 1. submitted to the mayor


def submit_to_mayor(
    db: Session, actor: Actor, territory: TerritoryContext, public_id: str, *, settings: Settings | None = None
) -> Petition:
    """The request is handed to the mayor: collecting ends (the petition closes), the receipt is
    dated, and its author gets the acknowledgement of receipt (the signers are told nothing)."""
    petition = get(db, actor, territory.id, public_id, for_update=True)
    if not (perm.is_author(actor, petition) or perm.is_agent(actor, territory.id)):
        raise Forbidden(_("Seul·es l'auteur·rice de la demande et les agent·es la remettent au maire."))
    _require_stage(petition, LegalStage.COLLECTING)
    if petition.state not in (PetitionState.OPEN, PetitionState.CLOSED):
        raise service._conflict(petition)
    if petition.answer_threshold_reached_at is None:
        raise Conflict(
            _("Le seuil d'un dixième des électeur·rices inscrit·es (%(n)s signatures) n'est pas encore atteint.")
            % {"n": petition.answer_threshold}
        )
    now = utcnow()
    was = petition.state
    petition.legal_stage = LegalStage.SUBMITTED_TO_MAYOR.value
    petition.received_at = now
    if petition.state == PetitionState.OPEN:
        petition.state = PetitionState.CLOSED.value
        petition.closed_at = now
    count = db.get(PetitionCount, petition.id)
    db.flush()
    _record(
        db, actor, ACTION_SUBMIT, petition,
        data={
            "received_at": now.isoformat(),
            "from_state": was,
            "signatures": count.total if count is not None else 0,
            "threshold": petition.answer_threshold,
        },
    )  # fmt: skip
    if petition.author_person_id is not None:
        author = db.get(Person, petition.author_person_id)
        if author is not None and author.anonymised_at is None:
            when = date(now, tz=territory.timezone)
            notify(
                db, territory_id=petition.territory_id, person_id=author.id, kind=PETITIONS_KIND.key,
                subject=_("Accusé de réception : « %(title)s »") % {"title": petition.title},
                body=_(
                    "Le maire de %(town)s a reçu le %(date)s votre demande « %(title)s » (art. L1112-16 du CGCT). "
                    "Les signatures vont être vérifiées sur la liste électorale ; le conseil municipal en sera "
                    "informé à sa première séance qui suit la réception."
                ) % {"town": territory.name, "date": when, "title": petition.title},
                link=f"/petitions/{petition.public_id}/accuse-de-reception",
                settings=settings,
            )  # fmt: skip
    return petition


@dataclass(frozen=True)
class Receipt:
    petition: Petition
    town: str
    received_at: dt.datetime
    submitted_by: str
    signatures: int
    threshold: int
    electors: int
    purpose: str


def receipt(db: Session, viewer: Actor | None, territory: TerritoryContext, public_id: str) -> Receipt:
    """The printable acknowledgement of receipt: for the author and the town's staff."""
    petition = get(db, viewer, territory.id, public_id)
    if not can_see_receipt(viewer, petition):
        raise NotFound(_("Cette demande de consultation n'existe pas."))
    assert petition.received_at is not None
    entry = db.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.territory_id == territory.id,
            AuditEntry.subject_type == "petition",
            AuditEntry.subject_id == petition.public_id,
            AuditEntry.action == ACTION_SUBMIT,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    data = entry.data if entry is not None else {}
    purpose = (
        _("organiser une consultation locale")
        if petition.legal_purpose == "consultation"
        else _("prendre position sur une affaire de sa compétence")
    )
    return Receipt(
        petition=petition,
        town=territory.name,
        received_at=petition.received_at,
        submitted_by=entry.actor_label if entry is not None else "",
        signatures=int(data.get("signatures", 0) or 0),
        threshold=petition.answer_threshold,
        electors=petition.electors_frozen or 0,
        purpose=purpose,
    )


# ---------------------------------------------------------------- 2. verified against the roll


def check_signatures(
    db: Session, actor: Actor, territory_id: int, public_id: str, public_ids: Sequence[str], status: str,
    reason: str = "",
) -> int:  # fmt: skip
    """Agents mark the selected signatures valid, or invalid with a reason (one or many at once).
    A check may be corrected until the verification is finished."""
    petition = get(db, actor, territory_id, public_id, for_update=True)
    if not perm.is_agent(actor, territory_id):
        raise Forbidden(_("Seul·es les agent·es de la commune vérifient les signatures."))
    _require_stage(petition, LegalStage.SUBMITTED_TO_MAYOR)
    if status not in (RollStatus.VALID, RollStatus.INVALID):
        raise Invalid(_("Choisissez « valide » ou « invalide »."), field="status")
    text = _clean(reason, field="reason", limit=REASON_MAX_LENGTH, required=status == RollStatus.INVALID)
    ids = list(dict.fromkeys(p for p in public_ids if p))[:MAX_BULK]
    if not ids:
        raise Invalid(_("Choisissez au moins une signature."), field="ids")
    s = PetitionSignature
    rows = list(
        db.scalars(
            select(s).where(s.petition_id == petition.id, s.public_id.in_(ids), _to_check())  # type: ignore[arg-type]
        )
    )
    if len(rows) != len(ids):
        raise Invalid(_("Certaines signatures choisies ne sont pas à vérifier sur cette demande."), field="ids")
    now = utcnow()
    for row in rows:
        row.roll_status = status
        row.roll_reason = text if status == RollStatus.INVALID else ""
        row.roll_checked_by_person_id = actor.person_id
        row.roll_checked_at = now
    db.flush()
    _record(
        db, actor, ACTION_CHECK, petition, reason=text,
        data={"status": status, "count": len(rows), "ids": [r.public_id for r in rows][:200]},
    )  # fmt: skip
    return len(rows)


def check_signature(
    db: Session, actor: Actor, territory_id: int, public_id: str, signature_public_id: str, status: str,
    reason: str = "",
) -> PetitionSignature:  # fmt: skip
    """One signature, valid or invalid with a reason."""
    petition = get(db, actor, territory_id, public_id)
    row = _signature(db, petition, signature_public_id)
    check_signatures(db, actor, territory_id, public_id, [row.public_id], status, reason)
    return row


def _signature(db: Session, petition: Petition, signature_public_id: str) -> PetitionSignature:
    row = db.scalar(
        select(PetitionSignature).where(
            PetitionSignature.petition_id == petition.id, PetitionSignature.public_id == signature_public_id
        )
    )
    if row is None:
        raise NotFound(_("Cette signature n'existe pas."))
    return row


def finish_verification(db: Session, actor: Actor, territory_id: int, public_id: str) -> RollFigures:
    """Every signature is checked: the request is verified; its valid count is compared with the
    threshold frozen when it opened (the provisional stamp stays whatever the result)."""
    petition = get(db, actor, territory_id, public_id, for_update=True)
    if not perm.is_agent(actor, territory_id):
        raise Forbidden(_("Seul·es les agent·es de la commune vérifient les signatures."))
    _require_stage(petition, LegalStage.SUBMITTED_TO_MAYOR)
    figures = roll_figures(db, petition)
    if figures.pending:
        raise Conflict(
            ngettext(
                "%(num)s signature reste à vérifier : la vérification n'est pas terminée.",
                "%(num)s signatures restent à vérifier : la vérification n'est pas terminée.",
                figures.pending,
            )
            % {"num": figures.pending}
        )
    petition.legal_stage = LegalStage.VERIFIED.value
    db.flush()
    _record(
        db, actor, ACTION_VERIFIED, petition,
        data={
            "valid": figures.valid,
            "invalid": figures.invalid,
            "threshold": figures.threshold,
            "electors_frozen": figures.electors,
            "reached": figures.reached,
        },
    )  # fmt: skip
    return figures


@dataclass(frozen=True)
class SignatureRow:
    public_id: str
    surname: str
    first_names: str
    address: str
    birth_date: dt.date | None
    method: str
    signed_at: dt.datetime
    roll_status: str
    roll_label: str
    roll_reason: str
    roll_checked_at: dt.datetime | None
    checked_by: str


@dataclass(frozen=True)
class VerificationPage:
    petition: Petition
    rows: list[SignatureRow]
    figures: RollFigures
    status_filter: str
    can_check: bool
    can_finish: bool
    truncated: bool


def _names(row: PetitionSignature) -> tuple[str, str]:
    if row.surname or row.first_names:
        return row.surname, row.first_names
    return row.display_name, ""


def verification_page(
    db: Session, actor: Actor, territory_id: int, public_id: str, status_filter: str = ""
) -> VerificationPage:
    """The agents' list of the signatures with the roll's fields (never shown to anyone else)."""
    petition = get(db, actor, territory_id, public_id)
    if not perm.is_staff(actor, territory_id):
        raise Forbidden(_("Cette page est réservée au personnel habilité de la commune."))
    if stage_of(petition) in (None, LegalStage.COLLECTING):
        raise _out_of_order(petition)
    s = PetitionSignature
    checker = Person
    stmt = (
        select(s, checker.display_name)
        .outerjoin(checker, checker.id == s.roll_checked_by_person_id)
        .where(s.petition_id == petition.id, _to_check())  # type: ignore[arg-type]
        .order_by(s.surname, s.first_names, s.id)
        .limit(PAGE_LIMIT + 1)
    )
    if status_filter == RollStatus.PENDING:
        stmt = stmt.where(_pending())  # type: ignore[arg-type]
    elif status_filter in (RollStatus.VALID, RollStatus.INVALID):
        stmt = stmt.where(s.roll_status == status_filter)
    else:
        status_filter = ""
    found = db.execute(stmt).all()
    rows = []
    for row, checker_name in found[:PAGE_LIMIT]:
        status = row.roll_status if row.roll_status in (RollStatus.VALID, RollStatus.INVALID) else "pending"
        surname, first_names = _names(row)
        rows.append(
            SignatureRow(
                public_id=row.public_id,
                surname=surname,
                first_names=first_names,
                address=row.address,
                birth_date=row.birth_date,
                method=row.method,
                signed_at=row.created_at,
                roll_status=status,
                roll_label=_(ROLL_LABELS[RollStatus(status)]),
                roll_reason=row.roll_reason,
                roll_checked_at=row.roll_checked_at,
                checked_by=checker_name or "",
            )
        )
    figures = roll_figures(db, petition)
    return VerificationPage(
        petition=petition,
        rows=rows,
        figures=figures,
        status_filter=status_filter,
        can_check=can_check(actor, petition),
        can_finish=can_check(actor, petition) and figures.pending == 0,
        truncated=len(found) > PAGE_LIMIT,
    )


def signature_detail(
    db: Session, actor: Actor, territory_id: int, public_id: str, signature_public_id: str
) -> tuple[Petition, SignatureRow, bool]:
    page = verification_page(db, actor, territory_id, public_id)
    petition = page.petition
    row = _signature(db, petition, signature_public_id)
    for shown in page.rows:
        if shown.public_id == row.public_id:
            return petition, shown, page.can_check
    raise NotFound(_("Cette signature n'existe pas."))


# ---------------------------------------------------------------- 3. the council informed


def _receipt_day(petition: Petition, territory: TerritoryContext) -> dt.date:
    assert petition.received_at is not None
    return service.local_date(petition.received_at, territory.timezone)


def first_sitting(db: Session, petition: Petition, territory: TerritoryContext) -> CouncilSitting | None:
    """The first sitting of the council on or after the day of receipt: the one the law names."""
    if petition.received_at is None:
        return None
    return db.scalar(
        select(CouncilSitting)
        .where(
            CouncilSitting.territory_id == petition.territory_id,
            CouncilSitting.sitting_date >= _receipt_day(petition, territory),
        )
        .order_by(CouncilSitting.sitting_date, CouncilSitting.id)
        .limit(1)
    )


def sittings_after_receipt(db: Session, petition: Petition, territory: TerritoryContext) -> list[tuple[str, str]]:
    if petition.received_at is None:
        return []
    rows = db.execute(
        select(CouncilSitting.public_id, CouncilSitting.sitting_date, CouncilSitting.title)
        .where(
            CouncilSitting.territory_id == petition.territory_id,
            CouncilSitting.sitting_date >= _receipt_day(petition, territory),
        )
        .order_by(CouncilSitting.sitting_date, CouncilSitting.id)
        .limit(24)
    )
    return [(pid, f"{date(day)} — {title}") for pid, day, title in rows]


def inform_council(
    db: Session, actor: Actor, territory: TerritoryContext, public_id: str, sitting_public_id: str, reason: str = ""
) -> CouncilSitting:
    """Records the sitting at which the council was informed: the first one after receipt; a later
    one needs a written reason, an earlier one is refused."""
    petition = get(db, actor, territory.id, public_id, for_update=True)
    if not (perm.is_agent(actor, territory.id) or perm.is_executive(actor, territory.id)):
        raise Forbidden(_("Seul·es les agent·es et l'exécutif enregistrent l'information du conseil."))
    _require_stage(petition, LegalStage.VERIFIED)
    if not sitting_public_id:
        raise Invalid(_("Choisissez une séance du conseil."), field="sitting")
    sitting = db.scalar(
        select(CouncilSitting).where(
            CouncilSitting.public_id == sitting_public_id, CouncilSitting.territory_id == territory.id
        )
    )
    if sitting is None:
        raise Invalid(_("Choisissez une séance du conseil de la liste."), field="sitting")
    received = _receipt_day(petition, territory)
    if sitting.sitting_date < received:
        raise Conflict(
            _("Cette séance (%(sitting)s) précède la réception de la demande (%(received)s) : choisissez une séance qui la suit.")
            % {"sitting": date(sitting.sitting_date), "received": date(received)}
        )  # fmt: skip
    first = first_sitting(db, petition, territory)
    late = first is not None and first.id != sitting.id
    text = _clean(reason, field="reason", limit=REASON_MAX_LENGTH, required=late)
    petition.council_sitting_id = sitting.id
    petition.legal_stage = LegalStage.COUNCIL_INFORMED.value
    db.flush()
    _record(
        db, actor, ACTION_INFORMED, petition, reason=text,
        data={
            "sitting": sitting.public_id,
            "sitting_date": sitting.sitting_date.isoformat(),
            "first_sitting": first.public_id if first is not None else None,
            "late": late,
        },
    )  # fmt: skip
    return sitting


# ---------------------------------------------------------------- 4. the council's decision


def record_decision(
    db: Session, actor: Actor, territory: TerritoryContext, public_id: str, data: DecisionInput
) -> Petition:
    """The executive records the council's decision (its text; the deliberation's number and date if any)."""
    petition = get(db, actor, territory.id, public_id, for_update=True)
    if not perm.is_executive(actor, territory.id):
        raise Forbidden(_("Seul l'exécutif (le maire ou son délégué) enregistre la décision du conseil."))
    _require_stage(petition, LegalStage.COUNCIL_INFORMED)
    text = _clean(data.text, field="text", limit=DECISION_MAX_LENGTH, required=True)
    number = _clean(data.deliberation_number, field="deliberation_number", limit=40, required=False)
    if data.deliberation_date is not None and data.deliberation_date < _receipt_day(petition, territory):
        raise Invalid(_("La délibération ne peut précéder la réception de la demande."), field="deliberation_date")
    petition.council_decision = text
    petition.legal_stage = LegalStage.DECIDED.value
    db.flush()
    _record(
        db, actor, ACTION_DECIDED, petition,
        data={
            "deliberation_number": number,
            "deliberation_date": data.deliberation_date.isoformat() if data.deliberation_date else None,
        },
    )  # fmt: skip
    return petition


# ---------------------------------------------------------------- the public timeline


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    done: bool
    current: bool
    on: dt.datetime | dt.date | None
    detail: str = ""


@dataclass(frozen=True)
class Timeline:
    petition: Petition
    stage_label: str
    steps: list[Step]
    decision: str
    deliberation: str
    figures: RollFigures | None  # once verified: aggregate counts only, never a name
    # What this viewer may do next (links and forms).
    can_submit: bool
    can_check: bool
    can_inform: bool
    can_decide: bool
    can_extract: bool
    can_receipt: bool
    sittings: list[tuple[str, str]]
    proposed_sitting: str  # the first sitting after receipt (public id)


def _entries(db: Session, petition: Petition) -> dict[str, AuditEntry]:
    actions = (ACTION_SUBMIT, ACTION_VERIFIED, ACTION_INFORMED, ACTION_DECIDED)
    found: dict[str, AuditEntry] = {}
    for entry in db.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.territory_id == petition.territory_id,
            AuditEntry.subject_type == "petition",
            AuditEntry.subject_id == petition.public_id,
            AuditEntry.action.in_(actions),
        )
        .order_by(AuditEntry.id)
    ):
        found[entry.action] = entry  # the latest of each
    return found


def timeline(db: Session, viewer: Actor | None, territory: TerritoryContext, public_id: str) -> Timeline:
    """The request's steps with their dates, public (aggregate figures only, no signer data)."""
    petition = get(db, viewer, territory.id, public_id)
    stage = stage_of(petition)
    position = ORDER.index(stage) if stage is not None else 0
    entries = _entries(db, petition)
    sitting = db.get(CouncilSitting, petition.council_sitting_id) if petition.council_sitting_id else None
    figures = roll_figures(db, petition) if position >= ORDER.index(LegalStage.VERIFIED) else None

    threshold_detail = _("Un dixième des %(electors)s électeur·rices inscrit·es à l'ouverture : %(n)s signatures.") % {
        "electors": petition.electors_frozen or 0,
        "n": petition.answer_threshold,
    }
    verified_detail = ""
    if figures is not None:
        verified_detail = (
            _("%(valid)s signatures valides pour un seuil de %(n)s : seuil atteint.")
            if figures.reached
            else _("%(valid)s signatures valides pour un seuil de %(n)s : seuil non atteint.")
        ) % {"valid": figures.valid, "n": figures.threshold}
    verified = entries.get(ACTION_VERIFIED)
    decided = entries.get(ACTION_DECIDED)
    deliberation = ""
    if decided is not None:
        number = str(decided.data.get("deliberation_number") or "")
        day = decided.data.get("deliberation_date")
        if number and day:
            deliberation = _("Délibération n° %(number)s du %(date)s") % {
                "number": number,
                "date": date(dt.date.fromisoformat(str(day))),
            }
        elif number:
            deliberation = _("Délibération n° %(number)s") % {"number": number}
        elif day:
            deliberation = _("Délibération du %(date)s") % {"date": date(dt.date.fromisoformat(str(day)))}
    received_detail = ""
    if petition.received_at is not None:
        received_detail = _("Le maire en a accusé réception.")
    informed_detail = ""
    if sitting is not None:
        informed_detail = _("Séance du conseil municipal : %(title)s.") % {"title": sitting.title}
    steps = [
        Step(
            "collecting", _("Recueil des signatures"), petition.opened_at is not None, position == 0,
            petition.opened_at,
        ),
        Step(
            "threshold", _("Seuil atteint (provisoire)"), petition.answer_threshold_reached_at is not None,
            position == 0 and petition.answer_threshold_reached_at is not None,
            petition.answer_threshold_reached_at, threshold_detail,
        ),
        Step(
            "submitted", _("Remise au maire (accusé de réception)"), position >= 1, position == 1,
            petition.received_at, received_detail,
        ),
        Step(
            "verified", _("Signatures vérifiées sur la liste électorale"), position >= 2, position == 2,
            verified.created_at if verified is not None else None, verified_detail,
        ),
        Step(
            "council_informed", _("Conseil municipal informé"), position >= 3, position == 3,
            sitting.sitting_date if sitting is not None else None, informed_detail,
        ),
        Step(
            "decided", _("Décision du conseil municipal"), position >= 4, position == 4,
            decided.created_at if decided is not None else None, deliberation,
        ),
    ]  # fmt: skip
    first = first_sitting(db, petition, territory) if can_inform(viewer, petition) else None
    return Timeline(
        petition=petition,
        stage_label=_stage_label(petition),
        steps=steps,
        decision=petition.council_decision if position >= 4 else "",
        deliberation=deliberation,
        figures=figures,
        can_submit=can_submit_to_mayor(viewer, petition),
        can_check=perm.is_staff(viewer, territory.id) and position >= 1,
        can_inform=can_inform(viewer, petition),
        can_decide=can_decide(viewer, petition),
        can_extract=can_extract(viewer, petition),
        can_receipt=can_see_receipt(viewer, petition),
        sittings=sittings_after_receipt(db, petition, territory) if can_inform(viewer, petition) else [],
        proposed_sitting=first.public_id if first is not None else "",
    )


# ---------------------------------------------------------------- the extract for consultation


@dataclass(frozen=True)
class Extract:
    petition: Petition
    town: str
    rows: list[tuple[str, str, str]]  # surname, first names, commune: nothing else
    generated_at: dt.datetime
    generated_by: str
    reason: str


def extract(db: Session, actor: Actor, territory: TerritoryContext, public_id: str, reason: str) -> Extract:
    """The list of the valid signers (names and commune only), generated by an agent for the
    consultation the law allows at the town hall; every generation is audited with its reason."""
    petition = get(db, actor, territory.id, public_id)
    if not perm.is_agent(actor, territory.id):
        raise Forbidden(_("Seul·es les agent·es de la commune génèrent l'extrait des signataires."))
    if stage_of(petition) not in (LegalStage.VERIFIED, LegalStage.COUNCIL_INFORMED, LegalStage.DECIDED):
        raise _out_of_order(petition)
    text = _clean(reason, field="reason", limit=REASON_MAX_LENGTH, required=True)
    s = PetitionSignature
    found = db.scalars(
        select(s)
        .where(
            s.petition_id == petition.id,
            and_(_to_check(), s.roll_status == RollStatus.VALID.value, s.erased_at.is_(None)),  # type: ignore[arg-type]
        )
        .order_by(s.surname, s.first_names, s.id)
    )
    rows = []
    for row in found:
        surname, first_names = _names(row)
        rows.append((surname, first_names, territory.name))
    now = utcnow()
    _record(db, actor, ACTION_EXTRACT, petition, reason=text, data={"rows": len(rows)})
    return Extract(
        petition=petition, town=territory.name, rows=rows, generated_at=now, generated_by=actor.label, reason=text
    )


def extract_csv(result: Extract) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Nom"), _("Prénoms"), _("Commune")])
    for surname, first_names, town in result.rows:
        writer.writerow([_neutral(surname), _neutral(first_names), _neutral(town)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _neutral(value: str) -> str:
    """A cell a spreadsheet will not read as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def roll_label(status: str | None) -> str:
    key = status if status in (RollStatus.VALID, RollStatus.INVALID) else RollStatus.PENDING
    return _(ROLL_LABELS[RollStatus(key)])
