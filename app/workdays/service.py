"""Work days: planning, « Je participe », the day's register and its check, the insurer's export.

Every function finds the initiative in the actor's territory (404 for what they may not see),
checks the actor's rights (``app.workdays.permissions``), changes what it must, writes one audit
entry filed under the initiative (its timeline shows the main steps) and only flushes.

The register is entered in bulk by a promoter (or an agent), then checked by an agent who is not
tied to the initiative: each attendee's hours then become a verified realisation of the residents'
volunteer-hours commitment, exactly once (``source_key`` names the participant). A checked register
is closed: corrections go through the ledger.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.display import public_name
from app.accounts.models import AgeBracket, Person, PersonKind
from app.audit import service as audit
from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.equipment import service as equipment
from app.follows import service as follows
from app.funds.service import territory_today
from app.initiatives import permissions as iperm
from app.initiatives.models import Initiative, InitiativeMember
from app.ledger.forms import parse_hours
from app.ledger.models import CommitmentLine, LineKind, LineState, RealisationSource, Side
from app.ledger.realisations import record_realisation
from app.notifications.kinds import register_kind
from app.privacy.export import register_section
from app.review import service as review
from app.review.permissions import Involvement
from app.web.forms import clean_text
from app.web.i18n import N_, _, date
from app.workdays import permissions as perm
from app.workdays.forms import BLANK_ROWS, NAME_MAX_LENGTH, REASON_MAX_LENGTH, RowInput, WorkDayInput
from app.workdays.models import RegisterState, WorkDay, WorkDayParticipant, WorkDayState

WORK_DAYS_KIND = register_kind(
    "work_days",
    N_("Chantiers participatifs auxquels je participe"),
    description=N_(
        "Un chantier auquel vous vous êtes inscrit·e change de date, d'horaire ou de lieu, ou il est annulé."
    ),
)

MAX_MINUTES = 24 * 60
SOURCE_KEY_PREFIX = "work_day_participant:"
# Work-day fields whose change the participants are told about.
NOTIFIED_FIELDS = ("day", "starts_at", "ends_at", "place", "meeting_point")
REGISTER_STATE_LABELS = {
    RegisterState.EMPTY: N_("à remplir"),
    RegisterState.ENTERED: N_("remplie, à vérifier par un·e agent·e"),
    RegisterState.CHECKED: N_("vérifiée"),
}
CSV_COLUMNS = (
    N_("Date"),
    N_("Lieu"),
    N_("Initiative"),
    N_("Nom"),
    N_("Mineur·e"),
    N_("Présent·e"),
    N_("Consignes de sécurité données"),
    N_("Assurance acceptée"),
    N_("Autorisation parentale"),
    N_("Heures"),
)
# Spreadsheets run a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------- lookups


def standing(db: Session, actor: Actor | None, initiative: Initiative) -> Involvement:
    """How the actor stands towards the initiative (a promoter; tied to it in any way)."""
    if actor is None or actor.territory_id != initiative.territory_id:
        return Involvement()
    return review.involvement_of(db, actor, initiative)


def load(db: Session, actor: Actor | None, territory_id: int, public_id: str) -> tuple[Initiative, Involvement]:
    """The initiative and how the actor stands towards it; 404 if they may not see it."""
    initiative = db.scalar(
        select(Initiative).where(Initiative.territory_id == territory_id, Initiative.public_id == public_id)
    )
    if initiative is None:
        raise NotFound(_("Cette initiative n'existe pas."))
    members = list(db.scalars(select(InitiativeMember).where(InitiativeMember.initiative_id == initiative.id)))
    if not iperm.can_view(actor, initiative, members):
        raise NotFound(_("Cette initiative n'existe pas."))
    return initiative, standing(db, actor, initiative)


def get_work_day(db: Session, initiative: Initiative, public_id: str, *, for_update: bool = False) -> WorkDay:
    stmt = select(WorkDay).where(
        WorkDay.territory_id == initiative.territory_id,
        WorkDay.initiative_id == initiative.id,
        WorkDay.public_id == public_id,
    )
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    work_day = db.scalar(stmt)
    if work_day is None:
        raise NotFound(_("Ce chantier n'existe pas."))
    return work_day


def _participants(db: Session, work_day: WorkDay) -> list[tuple[WorkDayParticipant, Person]]:
    rows = db.execute(
        select(WorkDayParticipant, Person)
        .join(Person, Person.id == WorkDayParticipant.person_id)
        .where(WorkDayParticipant.work_day_id == work_day.id)
        .order_by(WorkDayParticipant.signed_up.desc(), WorkDayParticipant.id)
    )
    return [(p, person) for p, person in rows]


def _signed_up_count(db: Session, work_day: WorkDay) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(WorkDayParticipant)
            .where(WorkDayParticipant.work_day_id == work_day.id, WorkDayParticipant.signed_up.is_(True))
        )
        or 0
    )


def _audit(
    db: Session, actor: Actor, action: str, initiative: Initiative, work_day: WorkDay, *, reason: str = "",
    **data: object,
) -> None:  # fmt: skip
    audit.record(
        db,
        actor,
        action,
        "initiative",
        initiative.public_id,
        territory_id=initiative.territory_id,
        reason=reason,
        data={"work_day": work_day.public_id, "day": work_day.day.isoformat(), **data},
    )


def _today(db: Session, initiative: Initiative) -> dt.date:
    return territory_today(db, initiative.territory_id)


# ---------------------------------------------------------------- telling the participants


def _tell_participants(
    db: Session, actor: Actor, initiative: Initiative, work_day: WorkDay, subject: str, body: str,
    settings: Settings | None,
) -> int:  # fmt: skip
    from app.notifications.service import notify

    person_ids = db.scalars(
        select(WorkDayParticipant.person_id)
        .join(Person, Person.id == WorkDayParticipant.person_id)
        .where(
            WorkDayParticipant.work_day_id == work_day.id,
            WorkDayParticipant.signed_up.is_(True),
            Person.anonymised_at.is_(None),
        )
        .order_by(WorkDayParticipant.id)
    )
    told = 0
    for person_id in person_ids:
        if person_id == actor.person_id:
            continue
        notify(
            db,
            territory_id=initiative.territory_id,
            person_id=person_id,
            kind=WORK_DAYS_KIND.key,
            subject=subject,
            body=body,
            link=f"/initiatives/{initiative.public_id}/chantiers/{work_day.public_id}",
            settings=settings,
        )
        told += 1
    return told


def _when(work_day: WorkDay) -> str:
    return _("le %(day)s de %(start)s à %(end)s") % {
        "day": date(work_day.day),
        "start": work_day.starts_at.strftime("%H:%M"),
        "end": work_day.ends_at.strftime("%H:%M"),
    }


# ---------------------------------------------------------------- planning


def _check_day(db: Session, initiative: Initiative, data: WorkDayInput) -> None:
    if data.day < _today(db, initiative):
        raise Invalid(_("Choisissez une date à venir."), field="day")


def _apply(work_day: WorkDay, data: WorkDayInput) -> None:
    work_day.day = data.day
    work_day.starts_at = data.starts_at
    work_day.ends_at = data.ends_at
    work_day.place = data.place
    work_day.meeting_point = data.meeting_point
    work_day.tasks = data.tasks
    work_day.tools = data.tools
    work_day.max_participants = data.max_participants


def plan(
    db: Session, actor: Actor, territory_id: int, public_id: str, data: WorkDayInput,
    *, settings: Settings | None = None,
) -> WorkDay:  # fmt: skip
    """A new work day of the initiative, by a promoter or an agent, once the convention is signed;
    the initiative's followers are invited to it."""
    initiative, involvement = load(db, actor, territory_id, public_id)
    if not perm.organises(actor, initiative, involvement):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es programment un chantier."))
    if not perm.can_plan(actor, initiative, involvement):
        raise Conflict(_("Un chantier se programme une fois la convention signée, pendant les travaux."))
    _check_day(db, initiative, data)
    work_day = WorkDay(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        state=WorkDayState.PLANNED.value,
        register_state=RegisterState.EMPTY.value,
        created_by_person_id=actor.person_id,
        cancel_reason="",
    )
    _apply(work_day, data)
    db.add(work_day)
    db.flush()
    _audit(db, actor, "work_day.plan", initiative, work_day, place=work_day.place)
    follows.tell_followers(
        db, actor, initiative,
        _("Nouveau chantier participatif : %(title)s") % {"title": initiative.title},
        _("Un chantier participatif est prévu %(when)s, %(place)s. Vous pouvez y participer.")
        % {"when": _when(work_day), "place": work_day.place},
        link=f"/initiatives/{initiative.public_id}/chantiers/{work_day.public_id}",
        settings=settings,
    )  # fmt: skip
    return work_day


def update(
    db: Session, actor: Actor, territory_id: int, public_id: str, work_day_id: str, data: WorkDayInput,
    *, settings: Settings | None = None,
) -> WorkDay:  # fmt: skip
    """Changes the day; the people signed up are told when its date, times or place change."""
    initiative, involvement = load(db, actor, territory_id, public_id)
    work_day = get_work_day(db, initiative, work_day_id, for_update=True)
    if not perm.organises(actor, initiative, involvement):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es modifient un chantier."))
    if not perm.can_edit(actor, initiative, involvement, work_day):
        raise Conflict(_("Ce chantier ne peut plus être modifié (annulé, ou sa feuille d'heures est déjà remplie)."))
    _check_day(db, initiative, data)
    before = {name: getattr(work_day, name) for name in NOTIFIED_FIELDS}
    _apply(work_day, data)
    db.flush()
    changed = [name for name in NOTIFIED_FIELDS if getattr(work_day, name) != before[name]]
    _audit(db, actor, "work_day.update", initiative, work_day, changed=changed)
    if changed:
        subject = _("Chantier modifié : %(title)s") % {"title": initiative.title}
        body = _("Le chantier auquel vous participez a changé. Il a lieu %(when)s, %(place)s.") % {
            "when": _when(work_day),
            "place": work_day.place,
        }
        _tell_participants(db, actor, initiative, work_day, subject, body, settings)
    return work_day


def cancel(
    db: Session, actor: Actor, territory_id: int, public_id: str, work_day_id: str, reason: str = "",
    *, settings: Settings | None = None,
) -> WorkDay:  # fmt: skip
    """Cancels the day (kept, shown as cancelled): its bookings are released, the participants told."""
    initiative, involvement = load(db, actor, territory_id, public_id)
    work_day = get_work_day(db, initiative, work_day_id, for_update=True)
    if not perm.organises(actor, initiative, involvement):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es annulent un chantier."))
    if not perm.can_edit(actor, initiative, involvement, work_day):
        raise Conflict(_("Ce chantier ne peut plus être annulé (déjà annulé, ou sa feuille d'heures est remplie)."))
    text = clean_text(reason or "")[:REASON_MAX_LENGTH]
    work_day.state = WorkDayState.CANCELLED.value
    work_day.cancelled_at = utcnow()
    work_day.cancel_reason = text
    db.flush()
    released = equipment.cancel_for_work_day(db, actor, work_day)
    _audit(db, actor, "work_day.cancel", initiative, work_day, reason=text, bookings_cancelled=released)
    subject = _("Chantier annulé : %(title)s") % {"title": initiative.title}
    body = _("Le chantier prévu %(when)s est annulé.") % {"when": _when(work_day)}
    if text:
        body += " " + _("Motif : %(reason)s") % {"reason": text}
    _tell_participants(db, actor, initiative, work_day, subject, body, settings)
    return work_day


# ---------------------------------------------------------------- « Je participe »


def _is_minor(db: Session, person_id: int) -> bool:
    bracket = db.scalar(select(Person.age_bracket).where(Person.id == person_id))
    return bracket is not None and bracket != AgeBracket.ADULT


def _own_row(db: Session, work_day: WorkDay, person_id: int) -> WorkDayParticipant | None:
    return db.scalar(
        select(WorkDayParticipant).where(
            WorkDayParticipant.work_day_id == work_day.id, WorkDayParticipant.person_id == person_id
        )
    )


def sign_up(db: Session, actor: Actor, territory_id: int, public_id: str, work_day_id: str) -> WorkDayParticipant:
    """« Je participe »: once per person and day (a second click finds the first row)."""
    initiative, _standing = load(db, actor, territory_id, public_id)
    work_day = get_work_day(db, initiative, work_day_id, for_update=True)
    if actor.person_id is None or actor.territory_id != initiative.territory_id:
        raise Forbidden(_("Connectez-vous avec un compte de cette commune pour participer."))
    existing = _own_row(db, work_day, actor.person_id)
    if existing is not None:
        return existing
    if not perm.sign_up_open(initiative, work_day, _today(db, initiative)):
        raise Conflict(_("Les inscriptions à ce chantier sont closes."))
    if work_day.max_participants is not None and _signed_up_count(db, work_day) >= work_day.max_participants:
        raise Conflict(_("Ce chantier est complet."))
    row = WorkDayParticipant(
        territory_id=initiative.territory_id,
        work_day_id=work_day.id,
        person_id=actor.person_id,
        signed_up=True,
        is_minor=_is_minor(db, actor.person_id),
    )
    try:
        # Two clicks at once: the unique (work day, person) index keeps one row.
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        found = _own_row(db, work_day, actor.person_id)
        if found is None:
            raise
        return found
    _audit(db, actor, "work_day.sign_up", initiative, work_day, participant=row.public_id, minor=row.is_minor)
    return row


def withdraw(db: Session, actor: Actor, territory_id: int, public_id: str, work_day_id: str) -> bool:
    """« Je ne participe plus »: True if the person was signed up (a second click changes nothing)."""
    initiative, _standing = load(db, actor, territory_id, public_id)
    work_day = get_work_day(db, initiative, work_day_id, for_update=True)
    if actor.person_id is None or actor.territory_id != initiative.territory_id:
        raise Forbidden(_("Connectez-vous avec un compte de cette commune pour participer."))
    row = _own_row(db, work_day, actor.person_id)
    if row is None:
        return False
    if work_day.register_state != RegisterState.EMPTY:
        raise Conflict(_("La feuille d'heures de ce chantier est déjà remplie : voyez avec les porteur·ses du projet."))
    participant = row.public_id
    db.delete(row)
    db.flush()
    _audit(db, actor, "work_day.withdraw", initiative, work_day, participant=participant)
    return True


# ---------------------------------------------------------------- the register


def format_hours(minutes: int | None) -> str:
    """Minutes as typed on the register ("3:30")."""
    if not minutes:
        return ""
    hours, rest = divmod(minutes, 60)
    return f"{hours}:{rest:02d}"


def _minutes(text: str) -> int:
    """The hours of one row in minutes, or ``ValueError`` with the message to show."""
    if not text:
        raise ValueError(_("Indiquez les heures, par exemple 3:30 ou 3,5."))
    minutes = parse_hours(text)
    if minutes <= 0:
        raise ValueError(_("Les heures doivent être supérieures à zéro."))
    if minutes > MAX_MINUTES:
        raise ValueError(_("Pas plus de 24 heures pour une journée."))
    return minutes


@dataclass(frozen=True)
class _Checked:
    row: RowInput
    minutes: int | None


def _validate(
    rows: list[RowInput], minors: dict[str, bool], removable: set[str]
) -> tuple[list[_Checked], dict[str, str]]:
    """Each row against the rules; errors by field (``<row key>-<field>``), every row checked.
    Only a walk-in already on the register may be removed (``removable``): a person signed up stays."""
    errors: dict[str, str] = {}
    checked: list[_Checked] = []
    for row in rows:
        if row.remove and row.participant not in removable:
            row = dataclasses.replace(row, remove=False)
        if row.is_blank or row.remove:
            checked.append(_Checked(row, None))
            continue
        key = row.key
        if row.participant is None:
            if not row.name:
                errors[f"{key}-name"] = _("Indiquez le nom de la personne venue.")
            elif len(row.name) > NAME_MAX_LENGTH:
                errors[f"{key}-name"] = _("Saisissez au plus %(n)s caractères.") % {"n": NAME_MAX_LENGTH}
        minor = row.is_minor if row.participant is None else minors.get(row.participant, False)
        minutes = None
        if row.came:
            try:
                minutes = _minutes(row.hours)
            except ValueError as exc:
                errors[f"{key}-hours"] = str(exc)
            if not row.safety_briefing:
                errors[f"{key}-safety"] = _("Cochez les consignes de sécurité : elles sont données à chaque personne.")
            if not row.insurance_ack:
                errors[f"{key}-insurance"] = _(
                    "Cochez l'information sur l'assurance : la commune couvre ses bénévoles."
                )
            if minor and not row.parental_permission:
                errors[f"{key}-parental"] = _("Une personne mineure a besoin de l'autorisation de ses parents.")
        elif row.hours:
            errors[f"{key}-came"] = _("Des heures sont saisies : cochez « présent·e », ou effacez les heures.")
        checked.append(_Checked(row, minutes))
    return checked, errors


def _add_walk_in(db: Session, actor: Actor, work_day: WorkDay, row: RowInput) -> WorkDayParticipant:
    # A walk-in is a person without an account, so participation counts everyone who came. The
    # register only knows "minor or not": 15-17 is the minor bracket that asks for nothing more.
    person = Person(
        territory_id=work_day.territory_id,
        kind=PersonKind.WALK_IN.value,
        display_name=row.name,
        age_bracket=(AgeBracket.FROM_15_TO_17 if row.is_minor else AgeBracket.ADULT).value,
        created_by_person_id=actor.person_id,
    )
    db.add(person)
    db.flush()
    participant = WorkDayParticipant(
        territory_id=work_day.territory_id,
        work_day_id=work_day.id,
        person_id=person.id,
        signed_up=False,
        is_minor=row.is_minor,
    )
    db.add(participant)
    return participant


def _fill(participant: WorkDayParticipant, row: RowInput, minutes: int | None) -> None:
    participant.came = row.came
    participant.safety_briefing = row.came and row.safety_briefing
    participant.insurance_ack = row.came and row.insurance_ack
    participant.parental_permission = row.came and participant.is_minor and row.parental_permission
    participant.minutes = minutes if row.came else None


def enter_register(
    db: Session, actor: Actor, territory_id: int, public_id: str, work_day_id: str, rows: list[RowInput]
) -> WorkDay:
    """Saves the register as typed, or nothing at all: ``Invalid`` carries every row's errors
    (``errors`` parameter, by field)."""
    initiative, involvement = load(db, actor, territory_id, public_id)
    work_day = get_work_day(db, initiative, work_day_id, for_update=True)
    if not perm.organises(actor, initiative, involvement):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es remplissent la feuille d'heures."))
    if work_day.register_state == RegisterState.CHECKED:
        raise Conflict(
            _("Cette feuille d'heures est vérifiée : elle ne change plus (corrigez dans le registre des apports).")
        )
    if not perm.can_enter_register(actor, initiative, involvement, work_day, _today(db, initiative)):
        raise Conflict(_("La feuille d'heures se remplit le jour du chantier ou après, s'il n'est pas annulé."))
    existing = {p.public_id: (p, person) for p, person in _participants(db, work_day)}
    unknown = [row.key for row in rows if row.participant is not None and row.participant not in existing]
    if unknown:
        raise NotFound(_("Cette personne ne figure pas sur la feuille d'heures."))
    minors = {pid: p.is_minor for pid, (p, _person) in existing.items()}
    removable = {pid for pid, (p, _person) in existing.items() if not p.signed_up}
    checked, errors = _validate(rows, minors, removable)
    if errors:
        raise Invalid(_("La feuille d'heures contient des erreurs : rien n'est enregistré."), errors=errors)
    added = removed = 0
    for item in checked:
        row = item.row
        if row.participant is not None:
            participant, person = existing[row.participant]
            if row.remove:
                db.delete(participant)
                db.flush()
                if person.kind == PersonKind.WALK_IN:
                    db.execute(delete(Person).where(Person.id == person.id))
                removed += 1
                continue
            _fill(participant, row, item.minutes)
        elif not row.is_blank:
            _fill(_add_walk_in(db, actor, work_day, row), row, item.minutes)
            added += 1
    work_day.register_state = RegisterState.ENTERED.value
    work_day.register_entered_at = utcnow()
    work_day.register_entered_by_person_id = actor.person_id
    db.flush()
    attendees, minutes = db.execute(
        select(func.count(), func.coalesce(func.sum(WorkDayParticipant.minutes), 0)).where(
            WorkDayParticipant.work_day_id == work_day.id, WorkDayParticipant.came.is_(True)
        )
    ).one()
    _audit(
        db, actor, "work_day.register_enter", initiative, work_day,
        attendees=int(attendees or 0), minutes=int(minutes or 0), walk_ins_added=added, walk_ins_removed=removed,
    )  # fmt: skip
    return work_day


def volunteer_hours_line(db: Session, initiative: Initiative) -> CommitmentLine | None:
    """The residents' commitment the checked hours go to: their first volunteer-hours line still live."""
    return db.scalar(
        select(CommitmentLine)
        .where(
            CommitmentLine.initiative_id == initiative.id,
            CommitmentLine.side == Side.RESIDENTS,
            CommitmentLine.kind == LineKind.VOLUNTEER_HOURS,
            CommitmentLine.state.in_([LineState.PLEDGED.value, LineState.SECURED.value]),
        )
        .order_by(CommitmentLine.id)
        .limit(1)
    )


@dataclass(frozen=True)
class CheckResult:
    work_day: WorkDay
    realisations: int
    minutes: int


def check_register(db: Session, actor: Actor, territory_id: int, public_id: str, work_day_id: str) -> CheckResult:
    """An agent checks the register: each attendee's hours become a verified realisation of the
    residents' volunteer hours, exactly once; the register is then closed."""
    initiative, involvement = load(db, actor, territory_id, public_id)
    work_day = get_work_day(db, initiative, work_day_id, for_update=True)
    if not perm.may_check(actor, initiative, involvement):
        raise Forbidden(
            _("La feuille d'heures est vérifiée par un·e agent·e de la commune qui ne porte pas le projet.")
        )
    if work_day.register_state == RegisterState.CHECKED:
        raise Conflict(_("Cette feuille d'heures est déjà vérifiée : ses heures sont au registre des apports."))
    if not perm.can_check_register(actor, initiative, involvement, work_day):
        raise Conflict(_("La feuille d'heures doit d'abord être remplie."))
    line = volunteer_hours_line(db, initiative)
    if line is None:
        raise Conflict(
            _(
                "L'apport des habitant·es n'a pas de ligne « Heures de bénévolat » : ajoutez-en une au registre "
                "des apports (par un avenant si la convention est signée), puis vérifiez la feuille d'heures."
            )
        )
    notes = _("Chantier participatif du %(day)s") % {"day": date(work_day.day)}
    count = total = 0
    for participant, _person in _participants(db, work_day):
        if not participant.came or not participant.minutes:
            continue
        realisation = record_realisation(
            db, actor, line, participant.minutes, work_day.day,
            source=RealisationSource.WORK_DAY, source_key=SOURCE_KEY_PREFIX + participant.public_id,
            notes=notes, verified=True,
        )  # fmt: skip
        participant.realisation_line_id = realisation.id
        count += 1
        total += participant.minutes
    work_day.register_state = RegisterState.CHECKED.value
    work_day.register_checked_at = utcnow()
    work_day.register_checked_by_person_id = actor.person_id
    db.flush()
    _audit(
        db, actor, "work_day.register_check", initiative, work_day,
        line=line.public_id, realisations=count, minutes=total,
    )  # fmt: skip
    return CheckResult(work_day, count, total)


# ---------------------------------------------------------------- the insurer's export


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _yes(value: bool | None) -> str:
    if value is None:
        return ""
    return _("oui") if value else _("non")


def _hours_decimal(minutes: int | None) -> str:
    if not minutes:
        return ""
    return f"{minutes / 60:.2f}".replace(".", ",")


def _shown_name(person: Person) -> str:
    return public_name(person) if person.anonymised_at is not None else person.display_name


def export_register(
    db: Session, actor: Actor, territory_id: int, public_id: str, work_day_id: str
) -> tuple[str, bytes]:
    """The register as CSV for the insurer (UTF-8 with BOM, ";" for French spreadsheets): staff
    only, and audited, since it carries personal data. Returns the file name and the bytes."""
    initiative, _standing = load(db, actor, territory_id, public_id)
    work_day = get_work_day(db, initiative, work_day_id)
    if not perm.can_export(actor, initiative):
        raise Forbidden(_("L'export de la feuille d'heures est réservé au personnel de la commune."))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_(column) for column in CSV_COLUMNS])
    rows = _participants(db, work_day)
    for participant, person in rows:
        writer.writerow(
            [
                work_day.day.isoformat(),
                _cell(work_day.place),
                _cell(initiative.title),
                _cell(_shown_name(person)),
                _yes(participant.is_minor),
                _yes(participant.came),
                _yes(participant.safety_briefing) if participant.came else "",
                _yes(participant.insurance_ack) if participant.came else "",
                (_yes(participant.parental_permission) if participant.is_minor else "") if participant.came else "",
                _hours_decimal(participant.minutes),
            ]
        )
    _audit(db, actor, "work_day.register_export", initiative, work_day, rows=len(rows))
    filename = f"feuille-heures-{work_day.day.isoformat()}-{work_day.public_id[:8]}.csv"
    return filename, ("\ufeff" + out.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- what the pages show


@dataclass(frozen=True)
class WorkDaySummary:
    work_day: WorkDay
    when: str
    signed_up: int
    full: bool
    cancelled: bool
    register_label: str
    mine: bool  # the viewer is signed up
    open: bool  # sign-ups are open (planned, ahead, register not entered)
    can_sign_up: bool
    can_withdraw: bool
    can_enter_register: bool
    can_check_register: bool


@dataclass(frozen=True)
class WorkDaysPanel:
    initiative_public_id: str
    upcoming: list[WorkDaySummary]
    past: list[WorkDaySummary]
    can_plan: bool
    signed_in: bool
    private: bool  # promoters and staff: the registers' states


def _summaries(
    db: Session, viewer: Actor | None, initiative: Initiative, involvement: Involvement, work_days: list[WorkDay],
    today: dt.date,
) -> list[WorkDaySummary]:  # fmt: skip
    if not work_days:
        return []
    ids = [w.id for w in work_days]
    counts: dict[int, int] = {
        work_day_id: count
        for work_day_id, count in db.execute(
            select(WorkDayParticipant.work_day_id, func.count())
            .where(WorkDayParticipant.work_day_id.in_(ids), WorkDayParticipant.signed_up.is_(True))
            .group_by(WorkDayParticipant.work_day_id)
        )
    }
    mine: set[int] = set()
    if viewer is not None and viewer.person_id is not None:
        mine = set(
            db.scalars(
                select(WorkDayParticipant.work_day_id).where(
                    WorkDayParticipant.work_day_id.in_(ids), WorkDayParticipant.person_id == viewer.person_id
                )
            )
        )
    result = []
    for w in work_days:
        signed = counts.get(w.id, 0)
        full = w.max_participants is not None and signed >= w.max_participants
        is_mine = w.id in mine
        may_sign = perm.can_sign_up(viewer, initiative, w, today)
        result.append(
            WorkDaySummary(
                work_day=w,
                when=_when(w),
                signed_up=signed,
                full=full,
                cancelled=w.state == WorkDayState.CANCELLED,
                register_label=_(REGISTER_STATE_LABELS[RegisterState(w.register_state)]),
                mine=is_mine,
                open=perm.sign_up_open(initiative, w, today),
                can_sign_up=may_sign and not is_mine and not full,
                can_withdraw=is_mine and may_sign,
                can_enter_register=perm.can_enter_register(viewer, initiative, involvement, w, today),
                can_check_register=perm.can_check_register(viewer, initiative, involvement, w),
            )
        )
    return result


def summary(db: Session, viewer: Actor | None, initiative: Initiative, work_day: WorkDay) -> WorkDaySummary:
    """One work day as the panel shows it (the « Je participe » box swapped by HTMX)."""
    involvement = standing(db, viewer, initiative)
    return _summaries(db, viewer, initiative, involvement, [work_day], _today(db, initiative))[0]


def panel(db: Session, viewer: Actor | None, initiative: Initiative) -> WorkDaysPanel | None:
    """The initiative page's box: upcoming and past work days (None before the signature)."""
    work_days = list(
        db.scalars(
            select(WorkDay)
            .where(WorkDay.territory_id == initiative.territory_id, WorkDay.initiative_id == initiative.id)
            .order_by(WorkDay.day, WorkDay.starts_at, WorkDay.id)
        )
    )
    if initiative.state not in perm.SHOWN_STATES and not work_days:
        return None
    involvement = standing(db, viewer, initiative)
    today = _today(db, initiative)
    summaries = _summaries(db, viewer, initiative, involvement, work_days, today)
    return WorkDaysPanel(
        initiative_public_id=initiative.public_id,
        upcoming=[s for s in summaries if s.work_day.day >= today],
        past=list(reversed([s for s in summaries if s.work_day.day < today])),
        can_plan=perm.can_plan(viewer, initiative, involvement),
        signed_in=viewer is not None and viewer.person_id is not None,
        private=perm.sees_register(viewer, initiative, involvement),
    )


@dataclass(frozen=True)
class ParticipantView:
    public_id: str
    name: str
    is_minor: bool
    signed_up: bool
    came: bool | None
    minutes: int | None


@dataclass(frozen=True)
class WorkDayPage:
    initiative: Initiative
    summary: WorkDaySummary
    private: bool  # promoters and staff: names of the participants
    participants: list[ParticipantView]
    can_edit: bool
    can_export: bool
    bookings: list[equipment.BookingRow]
    booking_form: equipment.BookingChoices | None


def work_day_page(db: Session, viewer: Actor | None, initiative: Initiative, work_day: WorkDay) -> WorkDayPage:
    involvement = standing(db, viewer, initiative)
    today = _today(db, initiative)
    summary = _summaries(db, viewer, initiative, involvement, [work_day], today)[0]
    private = perm.sees_register(viewer, initiative, involvement)
    participants = (
        [
            ParticipantView(p.public_id, _shown_name(person), p.is_minor, p.signed_up, p.came, p.minutes)
            for p, person in _participants(db, work_day)
        ]
        if private
        else []
    )
    return WorkDayPage(
        initiative=initiative,
        summary=summary,
        private=private,
        participants=participants,
        can_edit=perm.can_edit(viewer, initiative, involvement, work_day),
        can_export=perm.can_export(viewer, initiative),
        bookings=equipment.bookings_for_work_day(db, viewer, initiative, involvement, work_day) if private else [],
        booking_form=equipment.booking_choices(db, viewer, initiative, involvement, work_day),
    )


@dataclass(frozen=True)
class RegisterRowView:
    key: str
    participant: str | None  # None: a walk-in row added on the form
    name: str
    is_minor: bool
    signed_up: bool
    came: bool = False
    safety_briefing: bool = False
    insurance_ack: bool = False
    parental_permission: bool = False
    hours: str = ""
    remove: bool = False


def _as_typed(row: RegisterRowView, typed: RowInput) -> RegisterRowView:
    """The row with what was just typed in it (the form shown again after an error)."""
    return dataclasses.replace(
        row,
        came=typed.came,
        safety_briefing=typed.safety_briefing,
        insurance_ack=typed.insurance_ack,
        parental_permission=typed.parental_permission,
        hours=typed.hours,
        remove=typed.remove,
    )


@dataclass(frozen=True)
class RegisterPage:
    initiative: Initiative
    work_day: WorkDay
    when: str
    rows: list[RegisterRowView]
    new_rows: int
    state_label: str
    checked: bool
    can_enter: bool
    can_check: bool
    can_export: bool
    has_hours_line: bool
    attendees: int
    total_minutes: int
    errors: dict[str, str] = field(default_factory=dict)


def register_page(
    db: Session, viewer: Actor, initiative: Initiative, work_day: WorkDay, *,
    submitted: list[RowInput] | None = None, new_rows: int | None = None,
) -> RegisterPage:  # fmt: skip
    """The register as stored, or as just typed (``submitted``) when the form is shown again."""
    involvement = standing(db, viewer, initiative)
    if not perm.sees_register(viewer, initiative, involvement):
        raise NotFound(_("Ce chantier n'existe pas."))
    today = _today(db, initiative)
    stored = _participants(db, work_day)
    typed = {row.key: row for row in submitted or []}
    rows: list[RegisterRowView] = []
    for p, person in stored:
        key = f"p-{p.public_id}"
        base = RegisterRowView(
            key=key,
            participant=p.public_id,
            name=_shown_name(person),
            is_minor=p.is_minor,
            signed_up=p.signed_up,
            # A person signed up is expected to come: the row starts ticked "present".
            came=p.came if p.came is not None else p.signed_up,
            safety_briefing=p.safety_briefing,
            insurance_ack=p.insurance_ack,
            parental_permission=p.parental_permission,
            hours=format_hours(p.minutes),
        )
        rows.append(_as_typed(base, typed[key]) if key in typed else base)
    checked = work_day.register_state == RegisterState.CHECKED
    count = 0 if checked else (new_rows if new_rows is not None else BLANK_ROWS)
    for index in range(count):
        key = f"new-{index}"
        blank = RegisterRowView(key=key, participant=None, name="", is_minor=False, signed_up=False)
        row = typed.get(key)
        rows.append(_as_typed(dataclasses.replace(blank, name=row.name, is_minor=row.is_minor), row) if row else blank)
    came = [p for p, _person in stored if p.came]
    return RegisterPage(
        initiative=initiative,
        work_day=work_day,
        when=_when(work_day),
        rows=rows,
        new_rows=count,
        state_label=_(REGISTER_STATE_LABELS[RegisterState(work_day.register_state)]),
        checked=checked,
        can_enter=perm.can_enter_register(viewer, initiative, involvement, work_day, today),
        can_check=perm.can_check_register(viewer, initiative, involvement, work_day),
        can_export=perm.can_export(viewer, initiative),
        has_hours_line=volunteer_hours_line(db, initiative) is not None,
        attendees=len(came),
        total_minutes=sum(p.minutes or 0 for p in came),
    )


def participant_ids(db: Session, work_day: WorkDay) -> list[str]:
    """The public ids of the people on the register, in the order the form shows them."""
    return [p.public_id for p, _person in _participants(db, work_day)]


# ---------------------------------------------------------------- the person's data export


@register_section("work_days")
def _work_days(db: Session, person: Person) -> list[dict[str, Any]]:
    """The work days the person signed up for or came to, with what the register says of them."""
    rows = db.execute(
        select(Initiative.public_id, Initiative.title, WorkDay.day, WorkDay.place, WorkDayParticipant)
        .join(WorkDay, WorkDay.id == WorkDayParticipant.work_day_id)
        .join(Initiative, Initiative.id == WorkDay.initiative_id)
        .where(WorkDayParticipant.person_id == person.id, WorkDayParticipant.territory_id == person.territory_id)
        .order_by(WorkDay.day, WorkDayParticipant.id)
    )
    return [
        {
            "initiative": public_id,
            "title": title,
            "day": day.isoformat(),
            "place": place,
            "signed_up": p.signed_up,
            "came": p.came,
            "minutes": p.minutes,
            "safety_briefing": p.safety_briefing,
            "insurance_ack": p.insurance_ack,
            "parental_permission": p.parental_permission,
        }
        for public_id, title, day, place, p in rows
    ]
