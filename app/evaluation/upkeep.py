"""Upkeep checks: is the result still alive? Once a year after the evaluation, until the end of the
convention's upkeep period.

The schedule counts from the day the convention was signed: one check on each anniversary that
falls within ``Convention.upkeep_months`` (a period shorter than a year gets one check at its end).
The lighter track (a small project's ``commitment``) has no upkeep check. The daily job
``upkeep_checks`` opens the check that has come due (only the current year's: a year missed is not
asked for afterwards), tells the promoters and the agent in charge once, and once more when the
check is still unanswered 30 days after its date. Safe to run any number of times: one check per
initiative and date (unique), each reminder stamped.

A promoter or an agent not tied to the initiative answers once: maintained, needs help or gone,
with a comment and an optional photo (private to the promoters and the staff). « Needs help »
opens a task for the agents. Every step is audited and appears on the initiative's timeline.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Person
from app.agent_tasks import service as agent_tasks
from app.audit import service as audit
from app.config import Settings
from app.conventions.models import Convention, ConventionKind
from app.core.actor import SYSTEM, Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.evaluation import permissions as perm
from app.evaluation.models import UpkeepCheck, UpkeepStatus
from app.initiatives.models import Initiative
from app.initiatives.models import InitiativeState as S
from app.media import service as media
from app.media.models import StoredFile
from app.media.storage import MediaStore
from app.notifications.kinds import EVALUATION
from app.notifications.service import notify
from app.review import service as review
from app.review.permissions import Involvement
from app.web.forms import clean_text
from app.web.i18n import N_, _, date

COMMENT_MAX_LENGTH = 2000
OVERDUE_DAYS = 30
# Only the current year's check is opened: a check is not asked for more than a year after its date.
OPEN_WITHIN_DAYS = 365
UPKEEP_PATH = "/initiatives/{public_id}/entretien"

STATUS_LABELS: dict[str, str] = {
    UpkeepStatus.MAINTAINED: N_("entretenu"),
    UpkeepStatus.NEEDS_HELP: N_("a besoin d'aide"),
    UpkeepStatus.GONE: N_("n'existe plus"),
}
# What the initiative's page says about the latest answer, with its date.
STATUS_PHRASES: dict[str, str] = {
    UpkeepStatus.MAINTAINED: N_("Entretenu au %(date)s"),
    UpkeepStatus.NEEDS_HELP: N_("A besoin d'aide pour son entretien (au %(date)s)"),
    UpkeepStatus.GONE: N_("N'existe plus (constaté le %(date)s)"),
}


def status_label(status: str | None) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else ""


def status_choices() -> list[tuple[str, str]]:
    return [(key, _(label)) for key, label in STATUS_LABELS.items()]


# ---------------------------------------------------------------- the schedule


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter: 29 Feb → 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(signed_on: dt.date, upkeep_months: int) -> list[dt.date]:
    """The checks' dates: each anniversary within the upkeep period, or its end if shorter than a year."""
    if upkeep_months <= 0:
        return []
    if upkeep_months < 12:
        return [add_months(signed_on, upkeep_months)]
    return [add_months(signed_on, 12 * year) for year in range(1, upkeep_months // 12 + 1)]


def has_upkeep(convention: Convention | None) -> bool:
    return (
        convention is not None
        and convention.signed_at is not None
        and convention.kind != ConventionKind.COMMITMENT
        and convention.upkeep_months > 0
    )


def _convention(db: Session, initiative: Initiative) -> Convention | None:
    return db.scalar(
        select(Convention).where(
            Convention.initiative_id == initiative.id, Convention.territory_id == initiative.territory_id
        )
    )


def _signed_on(convention: Convention, tz: ZoneInfo) -> dt.date:
    assert convention.signed_at is not None
    return review.local_date(convention.signed_at, tz)


def due_now(dates: list[dt.date], today: dt.date) -> tuple[int, dt.date] | None:
    """The check (its number and date) that is due today: the latest date reached, within a year."""
    reached = [(number, day) for number, day in enumerate(dates, start=1) if day <= today]
    if not reached:
        return None
    number, day = reached[-1]
    if (today - day).days >= OPEN_WITHIN_DAYS:
        return None
    return number, day


# ---------------------------------------------------------------- the daily job


@dataclass
class UpkeepReport:
    opened: list[str] = field(default_factory=list)  # check public ids
    reminded: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)


def _people(initiative: Initiative, convention: Convention | None, db: Session) -> list[int]:
    """The promoters and the agent in charge (or, without one, the agent who wrote the convention)."""
    people = review.promoter_ids(db, initiative)
    agent = initiative.assigned_agent_person_id
    if agent is None and convention is not None:
        agent = convention.proposed_by_person_id
    if agent is not None:
        people.append(agent)
    return list(dict.fromkeys(people))


def _tell(
    db: Session, actor: Actor, initiative: Initiative, people: list[int], subject: str, body: str,
    settings: Settings | None,
) -> None:  # fmt: skip
    for person_id in people:
        if person_id == actor.person_id:
            continue
        notify(
            db,
            territory_id=initiative.territory_id,
            person_id=person_id,
            kind=EVALUATION.key,
            subject=subject,
            body=body,
            link=UPKEEP_PATH.format(public_id=initiative.public_id),
            settings=settings,
        )


def _remind(
    db: Session, initiative: Initiative, convention: Convention, check: UpkeepCheck, *, overdue: bool,
    moment: dt.datetime, settings: Settings | None,
) -> None:  # fmt: skip
    system = dataclasses.replace(SYSTEM, territory_id=initiative.territory_id)
    title = {"title": initiative.title}
    if overdue:
        check.overdue_reminded_at = moment
        subject = _("Rappel : le point d'entretien de « %(title)s » attend sa réponse") % title
        body = _(
            "Le point d'entretien annuel prévu le %(date)s n'a pas encore de réponse. Dites en une minute si le "
            "projet est entretenu, s'il a besoin d'aide ou s'il n'existe plus."
        ) % {"date": date(check.due_on)}
    else:
        check.reminded_at = moment
        subject = _("Point d'entretien annuel de « %(title)s »") % title
        body = _(
            "Cela fait un an de plus que la convention est signée. Le projet est-il toujours entretenu ? "
            "Répondez en une minute : entretenu, besoin d'aide ou n'existe plus."
        )
    db.flush()
    audit.record(
        db, system, "upkeep.overdue" if overdue else "upkeep.remind", "initiative", initiative.public_id,
        territory_id=initiative.territory_id, data={"check": check.public_id, "due_on": check.due_on.isoformat()},
    )  # fmt: skip
    _tell(db, system, initiative, _people(initiative, convention, db), subject, body, settings)


def _open(db: Session, initiative: Initiative, convention: Convention, number: int, due_on: dt.date) -> UpkeepCheck:
    check = UpkeepCheck(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        convention_id=convention.id,
        due_on=due_on,
        number=number,
    )
    db.add(check)
    db.flush()
    system = dataclasses.replace(SYSTEM, territory_id=initiative.territory_id)
    audit.record(
        db, system, "upkeep.open", "initiative", initiative.public_id, territory_id=initiative.territory_id,
        data={"check": check.public_id, "due_on": due_on.isoformat(), "number": number},
    )  # fmt: skip
    return check


def run_upkeep(db: Session, *, now: dt.datetime | None = None, settings: Settings | None = None) -> UpkeepReport:
    """Opens the checks that came due and reminds (once, then once more when overdue)."""
    moment = now or utcnow()
    report = UpkeepReport()
    zones: dict[int, ZoneInfo] = {}

    def today_in(territory_id: int) -> dt.date:
        if territory_id not in zones:
            zones[territory_id] = review.territory_timezone(db, territory_id)
        return review.local_date(moment, zones[territory_id])

    rows = db.execute(
        select(Initiative, Convention)
        .join(Convention, Convention.initiative_id == Initiative.id)
        .where(
            Initiative.state == S.EVALUATED,
            Convention.signed_at.is_not(None),
            Convention.kind != ConventionKind.COMMITMENT,
            Convention.upkeep_months > 0,
        )
        .order_by(Initiative.id)
    ).all()
    for initiative, convention in rows:
        today = today_in(initiative.territory_id)
        tz = zones[initiative.territory_id]
        due = due_now(schedule(_signed_on(convention, tz), convention.upkeep_months), today)
        if due is None:
            continue
        number, due_on = due
        existing = db.scalar(
            select(UpkeepCheck.id).where(UpkeepCheck.initiative_id == initiative.id, UpkeepCheck.due_on == due_on)
        )
        if existing is None:
            check = _open(db, initiative, convention, number, due_on)
            report.opened.append(check.public_id)
    unanswered = db.execute(
        select(UpkeepCheck, Initiative, Convention)
        .join(Initiative, Initiative.id == UpkeepCheck.initiative_id)
        .join(Convention, Convention.id == UpkeepCheck.convention_id)
        .where(UpkeepCheck.answered_at.is_(None), Initiative.state == S.EVALUATED)
        .order_by(UpkeepCheck.id)
    ).all()
    for check, initiative, convention in unanswered:
        today = today_in(initiative.territory_id)
        if check.reminded_at is None:
            _remind(db, initiative, convention, check, overdue=False, moment=moment, settings=settings)
            report.reminded.append(check.public_id)
        elif (
            check.overdue_reminded_at is None
            and today >= check.due_on + dt.timedelta(days=OVERDUE_DAYS)
            # A check opened late (evaluated after the anniversary) gets its 30 days too.
            and moment >= check.reminded_at + dt.timedelta(days=OVERDUE_DAYS)
        ):
            _remind(db, initiative, convention, check, overdue=True, moment=moment, settings=settings)
            report.overdue.append(check.public_id)
    return report


# ---------------------------------------------------------------- answering


@dataclass(frozen=True)
class UpkeepInput:
    status: str
    comment: str = ""


def _check(db: Session, initiative: Initiative, check_public_id: str) -> UpkeepCheck:
    check = db.scalar(
        select(UpkeepCheck).where(
            UpkeepCheck.public_id == check_public_id,
            UpkeepCheck.initiative_id == initiative.id,
            UpkeepCheck.territory_id == initiative.territory_id,
        )
    )
    if check is None:
        raise NotFound(_("Ce point d'entretien n'existe pas."))
    return check


def check_can_answer(db: Session, actor: Actor, initiative: Initiative, check_public_id: str) -> UpkeepCheck:
    """The check, if the actor may answer it now: 404, 403, or 409 when it already has its answer."""
    tie = review.visible_involvement(db, actor, initiative)
    check = _check(db, initiative, check_public_id)
    if not perm.can_answer_upkeep(actor, initiative, tie):
        raise Forbidden(_("Les porteur·ses de projet et les agent·es de la commune répondent aux points d'entretien."))
    if check.answered_at is not None:
        raise Conflict(_("Ce point d'entretien a déjà sa réponse."))
    return check


def _clean(data: UpkeepInput) -> tuple[str, str]:
    if data.status not in STATUS_LABELS:
        raise Invalid(_("Choisissez une des réponses proposées."), field="status")
    comment = clean_text(data.comment or "")
    if len(comment) > COMMENT_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": COMMENT_MAX_LENGTH}, field="comment")
    if not comment and data.status == UpkeepStatus.NEEDS_HELP:
        raise Invalid(_("Dites de quelle aide vous avez besoin : la commune vous recontactera."), field="comment")
    if not comment and data.status == UpkeepStatus.GONE:
        raise Invalid(_("Dites en quelques mots ce qui s'est passé."), field="comment")
    return data.status, comment


def answer_check(
    db: Session,
    actor: Actor,
    initiative: Initiative,
    check_public_id: str,
    data: UpkeepInput,
    *,
    photo: media.PreparedImage | None = None,
    store: MediaStore | None = None,
    settings: Settings | None = None,
) -> UpkeepCheck:
    """Records the answer to an upkeep check, once; « needs help » opens a task for the agents."""
    check = check_can_answer(db, actor, initiative, check_public_id)
    if db.get_bind().dialect.name != "sqlite":
        db.refresh(check, with_for_update=True)
        if check.answered_at is not None:
            raise Conflict(_("Ce point d'entretien a déjà sa réponse."))
    status, comment = _clean(data)
    if photo is not None:
        if store is None:
            raise ValueError("a photo needs a media store")
        stored = media.store_image(db, actor, initiative.territory_id, photo, store=store, field="photo")
        check.photo_file_id = stored.id
    check.status = status
    check.comment = comment
    check.answered_at = utcnow()
    check.answered_by_person_id = actor.person_id
    convention = db.get(Convention, check.convention_id)
    people = _people(initiative, convention, db)
    if status == UpkeepStatus.NEEDS_HELP:
        promoters = review.promoter_ids(db, initiative)
        task = agent_tasks.create_task(
            db,
            territory_id=initiative.territory_id,
            person_id=promoters[0] if promoters else None,
            channel=None,
            subject=_("Entretien de « %(title)s » : les porteur·ses ont besoin d'aide") % {"title": initiative.title},
            body=f"{comment}\n\n{UPKEEP_PATH.format(public_id=initiative.public_id)}",
        )
        check.task_id = task.id
    db.flush()
    audit.record(
        db, actor, "upkeep.answer", "initiative", initiative.public_id, territory_id=initiative.territory_id,
        data={"check": check.public_id, "status": status, "number": check.number, "photo": photo is not None},
    )  # fmt: skip
    _tell(
        db,
        actor,
        initiative,
        people,
        _("Entretien de « %(title)s » : %(status)s") % {"title": initiative.title, "status": status_label(status)},
        comment or _("Le point d'entretien annuel a sa réponse."),
        settings,
    )
    return check


# ---------------------------------------------------------------- what the pages show


@dataclass(frozen=True)
class CheckRow:
    public_id: str
    number: int
    due_on: dt.date
    status: str
    status_label: str
    comment: str
    answered_at: dt.datetime | None
    answered_by: str
    has_photo: bool
    overdue: bool


@dataclass(frozen=True)
class UpkeepPage:
    initiative: Initiative
    rows: list[CheckRow]
    can_answer: bool
    has_upkeep: bool
    commitment: bool  # the lighter track: no upkeep check
    upkeep_by: str
    upkeep_months: int
    ends_on: dt.date | None
    dates: list[dt.date]

    @property
    def open_row(self) -> CheckRow | None:
        return next((row for row in self.rows if row.answered_at is None), None)


def _rows(db: Session, initiative: Initiative, today: dt.date) -> list[CheckRow]:
    found = db.execute(
        select(UpkeepCheck, Person)
        .outerjoin(Person, Person.id == UpkeepCheck.answered_by_person_id)
        .where(UpkeepCheck.initiative_id == initiative.id, UpkeepCheck.territory_id == initiative.territory_id)
        .order_by(UpkeepCheck.due_on.desc(), UpkeepCheck.id.desc())
    ).all()
    return [
        CheckRow(
            public_id=check.public_id,
            number=check.number,
            due_on=check.due_on,
            status=check.status or "",
            status_label=status_label(check.status),
            comment=check.comment,
            answered_at=check.answered_at,
            answered_by=person.display_name if person is not None else "",
            has_photo=check.photo_file_id is not None,
            overdue=check.answered_at is None and today >= check.due_on + dt.timedelta(days=OVERDUE_DAYS),
        )
        for check, person in found
    ]


def upkeep_page(db: Session, viewer: Actor, initiative: Initiative) -> UpkeepPage:
    """The checks of an initiative, for its promoters and the town's staff (403 for anyone else)."""
    tie = review.visible_involvement(db, viewer, initiative)
    if not perm.is_party(viewer, initiative, tie):
        raise Forbidden(_("Le suivi de l'entretien est réservé aux porteur·ses de projet et à la commune."))
    tz = review.territory_timezone(db, initiative.territory_id)
    today = review.local_date(utcnow(), tz)
    convention = _convention(db, initiative)
    dates: list[dt.date] = []
    ends_on = None
    if convention is not None and has_upkeep(convention):
        dates = schedule(_signed_on(convention, tz), convention.upkeep_months)
        ends_on = add_months(_signed_on(convention, tz), convention.upkeep_months)
    return UpkeepPage(
        initiative=initiative,
        rows=_rows(db, initiative, today),
        can_answer=perm.can_answer_upkeep(viewer, initiative, tie),
        has_upkeep=has_upkeep(convention),
        commitment=convention is not None and convention.kind == ConventionKind.COMMITMENT,
        upkeep_by=convention.upkeep_by if convention is not None else "",
        upkeep_months=convention.upkeep_months if convention is not None else 0,
        ends_on=ends_on,
        dates=dates,
    )


def check_photo(db: Session, viewer: Actor, initiative: Initiative, check_public_id: str) -> StoredFile:
    """The photo of an answer, for the promoters and the staff only (404 for anyone else: it may show people)."""
    tie = review.visible_involvement(db, viewer, initiative)
    check = _check(db, initiative, check_public_id)
    if not perm.is_party(viewer, initiative, tie) or check.photo_file_id is None:
        raise NotFound(_("Ce fichier n'existe pas."))
    return media.get_stored_file(db, initiative.territory_id, check.photo_file_id)


@dataclass(frozen=True)
class UpkeepStatusView:
    phrase: str  # « Entretenu au 12 mars 2027 », empty before the first answer
    status: str
    next_due_on: dt.date | None  # the next check's date, for the promoters and the staff
    open_check: str  # the public id of the check waiting for an answer the viewer may give, or empty
    ends_on: dt.date | None


def status_view(db: Session, viewer: Actor | None, initiative: Initiative, tie: Involvement) -> UpkeepStatusView | None:
    """The upkeep line of the initiative's page (None when the initiative has no upkeep to show)."""
    if initiative.state != S.EVALUATED:
        return None
    convention = _convention(db, initiative)
    if not has_upkeep(convention):
        return None
    assert convention is not None
    tz = review.territory_timezone(db, initiative.territory_id)
    today = review.local_date(utcnow(), tz)
    latest = db.execute(
        select(UpkeepCheck.status, UpkeepCheck.answered_at)
        .where(UpkeepCheck.initiative_id == initiative.id, UpkeepCheck.answered_at.is_not(None))
        .order_by(UpkeepCheck.answered_at.desc(), UpkeepCheck.id.desc())
        .limit(1)
    ).first()
    phrase, status = "", ""
    if latest is not None and latest[0] in STATUS_PHRASES and latest[1] is not None:
        status = latest[0]
        phrase = _(STATUS_PHRASES[status]) % {"date": date(review.local_date(latest[1], tz))}
    party = perm.is_party(viewer, initiative, tie)
    signed_on = _signed_on(convention, tz)
    upcoming = [day for day in schedule(signed_on, convention.upkeep_months) if day > today]
    open_check = ""
    if perm.can_answer_upkeep(viewer, initiative, tie):
        open_check = (
            db.scalar(
                select(UpkeepCheck.public_id)
                .where(UpkeepCheck.initiative_id == initiative.id, UpkeepCheck.answered_at.is_(None))
                .order_by(UpkeepCheck.due_on.desc())
                .limit(1)
            )
            or ""
        )
    if not phrase and not party:
        return None
    return UpkeepStatusView(
        phrase=phrase,
        status=status,
        next_due_on=upcoming[0] if upcoming and party else None,
        open_check=open_check,
        ends_on=add_months(signed_on, convention.upkeep_months) if party else None,
    )
