"""Realisation lines: what was actually delivered against each commitment, then verified by the town.

``record_realisation`` is the one entry point that writes a realisation: the ledger page (promoters
for the residents' lines, agents for any line), the town's deliveries recorded by agents (source
``delivery``) and the checked hours of a work-day register (source ``work_day``, exactly once per
``source_key``) all go through it.

Rules:
- A realisation is counted in the commitment's own unit (minutes, days, units) and valued at the
  commitment's own unit value (``line_value``, as the ledger does): nothing is revalued.
- Delivering more than what is left of the commitment is allowed (more volunteers came than
  promised is good news) but flagged on the page (``beyond``) and in the audit entry: what was
  committed is never changed by what was done.
- Only an agent verifies (delivered -> verified), never a promoter. A line is cancelled with a
  reason (kept, not counted): by an agent, or by the promoters while it is not verified yet.
- Matches, caps and envelopes keep using the commitments only (``app.ledger.service``): the totals
  here are a separate "what was done" view, each realisation counted once, cancelled ones never.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.display import public_name
from app.accounts.models import Person
from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.followup import permissions as fperm
from app.initiatives.models import Initiative
from app.ledger.models import (
    CommitmentLine,
    LineState,
    RealisationLine,
    RealisationSource,
    RealisationState,
    Side,
    Unit,
)
from app.ledger.service import SIDE_LABELS, quantity_text
from app.ledger.valuation import MAX_QUANTITY, line_value
from app.review import service as review
from app.review.permissions import Involvement
from app.web.forms import clean_text
from app.web.i18n import N_, _

NOTES_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 2000
SOURCE_KEY_MAX_LENGTH = 80

STATE_LABELS: dict[str, str] = {
    RealisationState.DELIVERED: N_("déclaré"),
    RealisationState.VERIFIED: N_("vérifié"),
    RealisationState.CANCELLED: N_("annulé"),
}
SOURCE_LABELS: dict[str, str] = {
    RealisationSource.MANUAL: N_("saisie"),
    RealisationSource.WORK_DAY: N_("chantier participatif"),
    RealisationSource.DELIVERY: N_("livraison de la commune"),
}


# ---------------------------------------------------------------- who may act


def _is_system(actor: Actor, initiative: Initiative) -> bool:
    """A job acting for the initiative's town (``dataclasses.replace(SYSTEM, territory_id=...)``)."""
    return (
        actor.person_id is None
        and actor.account_id is None
        and not actor.roles
        and actor.territory_id == initiative.territory_id
    )


def _initiative_of(db: Session, line: CommitmentLine) -> Initiative:
    initiative = db.scalar(
        select(Initiative).where(Initiative.id == line.initiative_id, Initiative.territory_id == line.territory_id)
    )
    if initiative is None:
        raise NotFound(_("Cette initiative n'existe pas."))
    return initiative


def _involvement(db: Session, actor: Actor, initiative: Initiative) -> Involvement:
    """How the actor stands towards the initiative; 404 if they may not see it (or it is another town's)."""
    if actor.territory_id != initiative.territory_id:
        raise NotFound(_("Cette initiative n'existe pas."))
    if _is_system(actor, initiative):
        return Involvement()
    return review.visible_involvement(db, actor, initiative)


def _check_open(initiative: Initiative) -> None:
    if not fperm.is_open(initiative):
        raise Conflict(_("Les réalisations s'inscrivent entre la signature de la convention et l'évaluation."))


# ---------------------------------------------------------------- writing


def _existing(db: Session, source_key: str) -> RealisationLine | None:
    return db.scalar(select(RealisationLine).where(RealisationLine.source_key == source_key))


def _same_source(found: RealisationLine, line: CommitmentLine) -> RealisationLine:
    if found.commitment_line_id != line.id:
        raise Conflict(_("Cette réalisation est déjà inscrite sur un autre apport."))
    return found


def delivered_quantity(db: Session, line: CommitmentLine, *, verified_only: bool = False) -> int:
    """What was delivered against the line so far (cancelled realisations excluded)."""
    states = [RealisationState.VERIFIED.value]
    if not verified_only:
        states.append(RealisationState.DELIVERED.value)
    total = db.scalar(
        select(func.coalesce(func.sum(RealisationLine.quantity), 0)).where(
            RealisationLine.commitment_line_id == line.id, RealisationLine.state.in_(states)
        )
    )
    return int(total or 0)


def record_realisation(
    db: Session,
    actor: Actor,
    line: CommitmentLine,
    quantity: int,
    delivered_on: dt.date,
    *,
    source: RealisationSource = RealisationSource.MANUAL,
    source_key: str | None = None,
    notes: str = "",
    verified: bool = False,
) -> RealisationLine:
    """Records what was delivered against ``line``: ``quantity`` in the line's unit (minutes, days,
    units), valued at the line's own unit value. Returns the new realisation line.

    Exactly once per ``source_key`` (a work-day participant's checked hours, say): a second call with
    the same key returns the line written the first time and writes nothing.

    Who: the promoters for the residents' side, the town's staff (not tied to the initiative) for
    every side; a job may pass ``dataclasses.replace(SYSTEM, territory_id=...)`` for an automatic
    source. A town delivery (``source=DELIVERY``) is a town line recorded by staff. ``verified``
    (already checked, as the hours of a register checked by an agent are) is for staff or a job only.
    Raises ``NotFound`` (not visible, another town), ``Forbidden`` (side or verification not allowed),
    ``Conflict`` (cancelled commitment, state outside the follow-up, key used on another line) or
    ``Invalid`` (quantity, date, notes, key).
    """
    source = RealisationSource(source)
    if source_key is not None:
        source_key = source_key.strip()
        if not source_key or len(source_key) > SOURCE_KEY_MAX_LENGTH:
            raise Invalid(_("Clé de source invalide."), field="source_key")
        found = _existing(db, source_key)
        if found is not None:
            return _same_source(found, line)
    initiative = _initiative_of(db, line)
    involvement = _involvement(db, actor, initiative)
    system = _is_system(actor, initiative)
    if system and source is RealisationSource.MANUAL:
        raise Forbidden(_("Une saisie manuelle est faite par une personne."))
    town = system or fperm.acts_for_town(actor, initiative, involvement)
    if not (town or fperm.may_write_side(actor, initiative, involvement, line.side)):
        raise Forbidden(_("Vous ne pouvez pas inscrire de réalisation sur cette partie du registre."))
    if source is RealisationSource.DELIVERY and (line.side != Side.TOWN or not town):
        raise Forbidden(_("Une livraison de la commune est inscrite par un·e agent·e, sur un apport de la commune."))
    if verified and not town:
        raise Forbidden(_("Seul·es les agent·es de la commune vérifient une réalisation."))
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= MAX_QUANTITY:
        raise Invalid(_("La quantité doit être un nombre positif."), field="quantity")
    today = review.local_date(utcnow(), review.territory_timezone(db, initiative.territory_id))
    if delivered_on > today:
        raise Invalid(_("La date de réalisation ne peut pas être dans le futur."), field="delivered_on")
    text = clean_text(notes or "")
    if "\x00" in text:
        raise Invalid(_("Ce texte contient un caractère interdit."), field="notes")
    if len(text) > NOTES_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": NOTES_MAX_LENGTH}, field="notes")
    review.lock_initiative(db, initiative)
    _check_open(initiative)
    if line.state == LineState.CANCELLED or line.initiative_id != initiative.id:
        raise Conflict(_("Cet apport est annulé : on ne peut plus y inscrire de réalisation."))
    try:
        value = line_value(quantity, Unit(line.unit), line.unit_value_cents)
    except ValueError as exc:
        raise Invalid(str(exc), field="quantity") from None
    already = delivered_quantity(db, line)
    beyond = already + quantity > line.quantity
    moment = utcnow()
    row = RealisationLine(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        commitment_line_id=line.id,
        quantity=quantity,
        value_cents=value,
        state=(RealisationState.VERIFIED if verified else RealisationState.DELIVERED).value,
        delivered_on=delivered_on,
        source=source.value,
        source_key=source_key,
        notes=text,
        created_by_person_id=actor.person_id,
        verified_at=moment if verified else None,
        verified_by_person_id=actor.person_id if verified else None,
        cancel_reason="",
    )
    try:
        # A parallel call with the same key loses on the unique index: it returns the winner's line.
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        if source_key is None:
            raise
        found = _existing(db, source_key)
        if found is None:
            raise
        return _same_source(found, line)
    audit.record(
        db, actor, "ledger.realisation.record", "initiative", initiative.public_id,
        territory_id=initiative.territory_id,
        data={"line": line.public_id, "realisation": row.public_id, "side": line.side, "source": source.value,
              "quantity": quantity, "unit": line.unit, "value_cents": value, "verified": verified,
              "beyond_commitment": beyond, "delivered_on": delivered_on.isoformat()},
    )  # fmt: skip
    return row


def _commitment(
    db: Session, initiative: Initiative, line_public_id: str, *, field: str | None = None
) -> CommitmentLine:
    line = db.scalar(
        select(CommitmentLine).where(
            CommitmentLine.public_id == line_public_id,
            CommitmentLine.initiative_id == initiative.id,
            CommitmentLine.territory_id == initiative.territory_id,
        )
    )
    if line is None:
        if field is not None:
            raise Invalid(_("Choisissez un apport de la liste."), field=field)
        raise NotFound(_("Cette ligne n'existe pas."))
    return line


def record_from_form(
    db: Session,
    actor: Actor,
    initiative: Initiative,
    line_public_id: str,
    quantity_text: str,
    delivered_on: dt.date,
    notes: str = "",
) -> RealisationLine:
    """A realisation entered on the page: the quantity as typed ("3:30" hours, days, units) in the
    commitment's unit. What the town's staff record on a town line is a town delivery."""
    from app.ledger.forms import parse_quantity

    line = _commitment(db, initiative, line_public_id, field="line")
    try:
        quantity = parse_quantity(quantity_text, Unit(line.unit))
    except ValueError as exc:
        raise Invalid(str(exc), field="quantity") from None
    involvement = _involvement(db, actor, initiative)
    town = fperm.acts_for_town(actor, initiative, involvement)
    source = RealisationSource.DELIVERY if town and line.side == Side.TOWN else RealisationSource.MANUAL
    return record_realisation(db, actor, line, quantity, delivered_on, source=source, notes=notes)


def _realisation(db: Session, initiative: Initiative, public_id: str) -> RealisationLine:
    row = db.scalar(
        select(RealisationLine).where(
            RealisationLine.public_id == public_id,
            RealisationLine.initiative_id == initiative.id,
            RealisationLine.territory_id == initiative.territory_id,
        )
    )
    if row is None:
        raise NotFound(_("Cette réalisation n'existe pas."))
    return row


def get_realisation(db: Session, actor: Actor, initiative: Initiative, public_id: str) -> RealisationLine:
    """A realisation of the initiative, for its promoters and the town's staff only (404 otherwise)."""
    involvement = _involvement(db, actor, initiative)
    if not fperm.is_party(actor, initiative, involvement):
        raise NotFound(_("Cette réalisation n'existe pas."))
    return _realisation(db, initiative, public_id)


def verify_realisation(db: Session, actor: Actor, initiative: Initiative, public_id: str) -> RealisationLine:
    """The town checked it (delivered -> verified): only staff not tied to the initiative, never a promoter."""
    row = get_realisation(db, actor, initiative, public_id)
    involvement = _involvement(db, actor, initiative)
    if not fperm.acts_for_town(actor, initiative, involvement):
        raise Forbidden(_("Seul·es les agent·es de la commune vérifient une réalisation."))
    review.lock_initiative(db, initiative)
    _check_open(initiative)
    if row.state != RealisationState.DELIVERED:
        raise Conflict(_("Seule une réalisation déclarée, ni vérifiée ni annulée, peut être vérifiée."))
    line = db.get_one(CommitmentLine, row.commitment_line_id)
    row.state = RealisationState.VERIFIED.value
    row.verified_at = utcnow()
    row.verified_by_person_id = actor.person_id
    db.flush()
    audit.record(
        db, actor, "ledger.realisation.verify", "initiative", initiative.public_id,
        territory_id=initiative.territory_id,
        data={"line": line.public_id, "realisation": row.public_id, "side": line.side, "value_cents": row.value_cents},
    )  # fmt: skip
    return row


def cancel_realisation(
    db: Session, actor: Actor, initiative: Initiative, public_id: str, reason: str
) -> RealisationLine:
    """Entered by mistake: kept with its reason, no longer counted. The town's staff cancel any line;
    the promoters cancel a residents' line while it is not verified."""
    text = clean_text(reason or "")
    if not text:
        raise Invalid(_("Dites pourquoi cette réalisation est annulée."), field="reason")
    if len(text) > REASON_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": REASON_MAX_LENGTH}, field="reason")
    row = get_realisation(db, actor, initiative, public_id)
    line = db.get_one(CommitmentLine, row.commitment_line_id)
    involvement = _involvement(db, actor, initiative)
    if not can_cancel(actor, initiative, involvement, row, line.side, ignore_state=True):
        raise Forbidden(_("Vous ne pouvez pas annuler cette réalisation."))
    review.lock_initiative(db, initiative)
    _check_open(initiative)
    if row.state == RealisationState.CANCELLED:
        raise Conflict(_("Cette réalisation est déjà annulée."))
    if not can_cancel(actor, initiative, involvement, row, line.side):
        raise Conflict(_("Une réalisation vérifiée ne peut être annulée que par la commune."))
    previous = row.state
    row.state = RealisationState.CANCELLED.value
    row.cancelled_at = utcnow()
    row.cancel_reason = text
    db.flush()
    audit.record(
        db, actor, "ledger.realisation.cancel", "initiative", initiative.public_id,
        territory_id=initiative.territory_id, reason=text,
        data={"line": line.public_id, "realisation": row.public_id, "side": line.side, "from": previous,
              "value_cents": row.value_cents},
    )  # fmt: skip
    return row


def can_cancel(
    actor: Actor | None,
    initiative: Initiative,
    involvement: Involvement,
    row: RealisationLine,
    side: str,
    *,
    ignore_state: bool = False,
) -> bool:
    if not ignore_state and (row.state == RealisationState.CANCELLED or not fperm.is_open(initiative)):
        return False
    if fperm.acts_for_town(actor, initiative, involvement):
        return True
    if not fperm.may_write_side(actor, initiative, involvement, side):
        return False
    return ignore_state or row.state == RealisationState.DELIVERED


# ---------------------------------------------------------------- totals (what was done)


@dataclass(frozen=True)
class SideDone:
    """What was done on one side, next to what was committed (each realisation counted once)."""

    side: str
    title: str
    committed_cents: int
    delivered_cents: int  # declared or verified, cancelled ones excluded
    verified_cents: int  # the verified part of ``delivered_cents``


def side_totals(db: Session, initiative: Initiative) -> list[SideDone]:
    """Per side: committed (the live commitments, as the ledger counts them), delivered and verified."""
    committed: dict[str, int] = {
        side: int(total)
        for side, total in db.execute(
            select(CommitmentLine.side, func.coalesce(func.sum(CommitmentLine.value_cents), 0))
            .where(CommitmentLine.initiative_id == initiative.id, CommitmentLine.state != LineState.CANCELLED)
            .group_by(CommitmentLine.side)
        )
    }
    done: dict[tuple[str, str], int] = {
        (side, state): int(total)
        for side, state, total in db.execute(
            select(CommitmentLine.side, RealisationLine.state, func.sum(RealisationLine.value_cents))
            .join(CommitmentLine, CommitmentLine.id == RealisationLine.commitment_line_id)
            .where(
                RealisationLine.initiative_id == initiative.id,
                RealisationLine.territory_id == initiative.territory_id,
                RealisationLine.state != RealisationState.CANCELLED,
            )
            .group_by(CommitmentLine.side, RealisationLine.state)
        ).all()
    }
    result = []
    for side in Side:
        verified = done.get((side.value, RealisationState.VERIFIED.value), 0)
        declared = done.get((side.value, RealisationState.DELIVERED.value), 0)
        result.append(
            SideDone(
                side=side.value,
                title=_(SIDE_LABELS[side]),
                committed_cents=committed.get(side.value, 0),
                delivered_cents=declared + verified,
                verified_cents=verified,
            )
        )
    return result


def done_totals(db: Session, initiative: Initiative) -> list[SideDone]:
    """``side_totals`` once the convention is signed (nothing is done before), else an empty list."""
    if initiative.state not in fperm.SHOWN_STATES:
        return []
    return side_totals(db, initiative)


# ---------------------------------------------------------------- what the page shows


@dataclass(frozen=True)
class ProofLink:
    public_id: str
    title: str
    is_pdf: bool


@dataclass(frozen=True)
class RealisationRow:
    public_id: str
    quantity_text: str
    value_cents: int
    state: str
    state_label: str
    source_label: str
    delivered_on: dt.date
    notes: str
    recorded_by: str
    verified_by: str
    cancel_reason: str
    can_verify: bool
    can_cancel: bool
    proofs: list[ProofLink]


@dataclass(frozen=True)
class CommitmentRow:
    public_id: str
    side: str
    label: str
    committed_text: str
    committed_cents: int
    delivered_text: str
    verified_text: str
    delivered_cents: int
    verified_cents: int
    beyond: bool  # more delivered than committed: shown, never hidden
    due_on: dt.date | None
    cancelled: bool
    realisations: list[RealisationRow]


@dataclass(frozen=True)
class RealisationsView:
    initiative_public_id: str
    commitments: list[CommitmentRow]
    totals: list[SideDone]
    # (public id, label) of the commitments this viewer may record against now.
    line_choices: list[tuple[str, str]]
    can_record: bool
    records_deliveries: bool  # staff: a town line recorded by them is a town delivery
    today: dt.date  # in the territory's calendar: the form's default date

    @property
    def has_realisations(self) -> bool:
        return any(c.realisations for c in self.commitments)


def _quantity(line: CommitmentLine, quantity: int) -> str:
    # A transient line (never added to the session) so the ledger's own wording is used.
    return quantity_text(CommitmentLine(unit=line.unit, quantity=quantity))


def _name(person: Person | None, *, private: bool) -> str:
    if person is None:
        return ""
    return person.display_name if private and person.anonymised_at is None else public_name(person)


def realisations_view(
    db: Session,
    actor: Actor | None,
    initiative: Initiative,
    proofs: dict[int, list[ProofLink]] | None = None,
    *,
    involvement: Involvement | None = None,
) -> RealisationsView | None:
    """The commitments with what was delivered against each, for the promoters and the town's staff
    (None for anyone else: the public sees the totals on the ledger only). ``proofs``: by realisation id."""
    if actor is None or actor.territory_id != initiative.territory_id:
        return None
    if involvement is None:
        involvement = review.involvement_of(db, actor, initiative)
    if not fperm.is_party(actor, initiative, involvement):
        return None
    proofs = proofs or {}
    lines = list(
        db.scalars(
            select(CommitmentLine).where(CommitmentLine.initiative_id == initiative.id).order_by(CommitmentLine.id)
        )
    )
    realised = list(
        db.scalars(
            select(RealisationLine)
            .where(
                RealisationLine.initiative_id == initiative.id, RealisationLine.territory_id == initiative.territory_id
            )
            .order_by(RealisationLine.delivered_on, RealisationLine.id)
        )
    )
    person_ids = {p for r in realised for p in (r.created_by_person_id, r.verified_by_person_id) if p is not None}
    people = (
        {p.id: p for p in db.scalars(select(Person).where(Person.id.in_(sorted(person_ids))))} if person_ids else {}
    )
    verify = fperm.can_verify(actor, initiative, involvement)
    commitments = []
    for line in lines:
        mine = [r for r in realised if r.commitment_line_id == line.id]
        if line.state == LineState.CANCELLED and not mine:
            continue
        live = [r for r in mine if r.state != RealisationState.CANCELLED]
        delivered = sum(r.quantity for r in live)
        verified = sum(r.quantity for r in live if r.state == RealisationState.VERIFIED)
        rows = [
            RealisationRow(
                public_id=r.public_id,
                quantity_text=_quantity(line, r.quantity),
                value_cents=r.value_cents,
                state=r.state,
                state_label=_(STATE_LABELS[r.state]),
                source_label=_(SOURCE_LABELS[r.source]),
                delivered_on=r.delivered_on,
                notes=r.notes,
                recorded_by=_name(people.get(r.created_by_person_id or 0), private=True),
                verified_by=_name(people.get(r.verified_by_person_id or 0), private=True),
                cancel_reason=r.cancel_reason,
                can_verify=verify and r.state == RealisationState.DELIVERED,
                can_cancel=can_cancel(actor, initiative, involvement, r, line.side),
                proofs=proofs.get(r.id, []),
            )
            for r in mine
        ]
        commitments.append(
            CommitmentRow(
                public_id=line.public_id,
                side=line.side,
                label=line.label,
                committed_text=_quantity(line, line.quantity),
                committed_cents=line.value_cents,
                delivered_text=_quantity(line, delivered),
                verified_text=_quantity(line, verified),
                delivered_cents=sum(r.value_cents for r in live),
                verified_cents=sum(r.value_cents for r in live if r.state == RealisationState.VERIFIED),
                beyond=delivered > line.quantity,
                due_on=line.due_on,
                cancelled=line.state == LineState.CANCELLED,
                realisations=rows,
            )
        )
    writable = set(fperm.writable_sides(actor, initiative, involvement))
    choices = [
        (line.public_id, f"{_(SIDE_LABELS[line.side])} — {line.label}")
        for line in lines
        if line.state != LineState.CANCELLED and line.side in writable
    ]
    return RealisationsView(
        initiative_public_id=initiative.public_id,
        commitments=commitments,
        totals=side_totals(db, initiative),
        line_choices=choices,
        can_record=bool(choices),
        records_deliveries=fperm.acts_for_town(actor, initiative, involvement),
        today=review.local_date(utcnow(), review.territory_timezone(db, initiative.territory_id)),
    )
