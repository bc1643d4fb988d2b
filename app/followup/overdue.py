"""The daily job that tells both sides what is overdue: milestones past their date, and commitments
past their due date that no verified realisation covers yet.

Each is told once (to the promoters and the town's agents following the initiative), and
remembered: a milestone's ``overdue_flagged_at``, a ``CommitmentOverdueFlag`` per line and due
date. Running the job twice, or in two workers at once, tells nobody twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.conventions.models import Convention
from app.core.actor import SYSTEM
from app.db.base import utcnow
from app.followup import permissions as fperm
from app.followup.models import CommitmentOverdueFlag, Milestone
from app.initiatives.models import Initiative
from app.ledger.models import CommitmentLine, LineState, RealisationLine, RealisationState
from app.review import service as review
from app.territories.models import Territory
from app.web import i18n
from app.web.i18n import _


@dataclass
class OverdueReport:
    milestones: list[str] = field(default_factory=list)  # public ids flagged this run
    commitments: list[str] = field(default_factory=list)


def _followers(db: Session, initiative: Initiative) -> list[int]:
    """The promoters, the agent in charge and the agent who wrote the convention."""
    people = review.promoter_ids(db, initiative)
    if initiative.assigned_agent_person_id is not None:
        people.append(initiative.assigned_agent_person_id)
    proposer = db.scalar(select(Convention.proposed_by_person_id).where(Convention.initiative_id == initiative.id))
    if proposer is not None:
        people.append(proposer)
    return list(dict.fromkeys(people))


def _today(db: Session, moment: dt.datetime, cache: dict[int, dt.date], territory_id: int) -> dt.date:
    if territory_id not in cache:
        name = db.scalar(select(Territory.timezone).where(Territory.id == territory_id))
        cache[territory_id] = moment.astimezone(ZoneInfo(name or "Europe/Paris")).date()
    return cache[territory_id]


def _open_states() -> list[str]:
    return [s.value for s in fperm.OPEN_STATES]


def flag_overdue(db: Session, *, now: dt.datetime | None = None, settings: Settings | None = None) -> OverdueReport:
    moment = now or utcnow()
    report = OverdueReport()
    days: dict[int, dt.date] = {}
    # A day ahead of UTC covers every time zone; each row is then checked against its own town's day.
    horizon = moment.date() + dt.timedelta(days=1)
    rows = db.execute(
        select(Milestone, Initiative)
        .join(Initiative, Initiative.id == Milestone.initiative_id)
        .where(
            Milestone.done_on.is_(None),
            Milestone.overdue_flagged_at.is_(None),
            Milestone.due_on < horizon,
            Initiative.territory_id == Milestone.territory_id,
            Initiative.state.in_(_open_states()),
        )
        .order_by(Milestone.due_on, Milestone.id)
    ).all()
    for milestone, initiative in rows:
        if milestone.due_on >= _today(db, moment, days, initiative.territory_id):
            continue
        _flag_milestone(db, milestone, initiative, moment, settings)
        report.milestones.append(milestone.public_id)
    verified = (
        select(func.coalesce(func.sum(RealisationLine.quantity), 0))
        .where(
            RealisationLine.commitment_line_id == CommitmentLine.id,
            RealisationLine.state == RealisationState.VERIFIED,
        )
        .scalar_subquery()
    )
    flagged = exists().where(
        CommitmentOverdueFlag.commitment_line_id == CommitmentLine.id,
        CommitmentOverdueFlag.due_on == CommitmentLine.due_on,
    )
    lines = db.execute(
        select(CommitmentLine, Initiative)
        .join(Initiative, Initiative.id == CommitmentLine.initiative_id)
        .where(
            CommitmentLine.due_on.is_not(None),
            CommitmentLine.due_on < horizon,
            CommitmentLine.state.in_([LineState.PLEDGED.value, LineState.SECURED.value]),
            Initiative.territory_id == CommitmentLine.territory_id,
            Initiative.state.in_(_open_states()),
            verified < CommitmentLine.quantity,
            ~flagged,
        )
        .order_by(CommitmentLine.due_on, CommitmentLine.id)
    ).all()
    for line, initiative in lines:
        if line.due_on is None or line.due_on >= _today(db, moment, days, initiative.territory_id):
            continue
        if _flag_commitment(db, line, initiative, settings):
            report.commitments.append(line.public_id)
    return report


def _flag_milestone(
    db: Session, milestone: Milestone, initiative: Initiative, moment: dt.datetime, settings: Settings | None
) -> None:
    system = dataclasses.replace(SYSTEM, territory_id=initiative.territory_id)
    milestone.overdue_flagged_at = moment
    db.flush()
    audit.record(
        db, system, "milestone.overdue", "initiative", initiative.public_id, territory_id=initiative.territory_id,
        data={"milestone": milestone.public_id, "title": milestone.title, "side": milestone.side,
              "due_on": milestone.due_on.isoformat()},
    )  # fmt: skip
    review.tell(
        db,
        system,
        initiative,
        _followers(db, initiative),
        _("Une étape de « %(title)s » est en retard") % {"title": initiative.title},
        _("L'étape « %(milestone)s » était prévue pour le %(date)s et n'est pas encore franchie.")
        % {"milestone": milestone.title, "date": i18n.date(milestone.due_on)},
        settings,
    )


def _flag_commitment(db: Session, line: CommitmentLine, initiative: Initiative, settings: Settings | None) -> bool:
    """Flags a commitment once per due date; False when another run flagged it first."""
    if line.due_on is None:
        return False
    system = dataclasses.replace(SYSTEM, territory_id=initiative.territory_id)
    try:
        with db.begin_nested():
            db.add(
                CommitmentOverdueFlag(territory_id=line.territory_id, commitment_line_id=line.id, due_on=line.due_on)
            )
            db.flush()
    except IntegrityError:
        return False
    audit.record(
        db, system, "ledger.commitment_overdue", "initiative", initiative.public_id,
        territory_id=initiative.territory_id,
        data={"line": line.public_id, "side": line.side, "due_on": line.due_on.isoformat()},
    )  # fmt: skip
    review.tell(
        db,
        system,
        initiative,
        _followers(db, initiative),
        _("Un apport de « %(title)s » est en retard") % {"title": initiative.title},
        _(
            "L'apport « %(label)s » était prévu pour le %(date)s et n'est pas encore vérifié comme réalisé. "
            "Inscrivez ce qui a été fait, ou convenez d'une nouvelle date."
        )
        % {"label": line.label, "date": i18n.date(line.due_on)},
        settings,
    )
    return True
