"""The public count, computed by the worker from the counted rows, and the thresholds' stamps.

A signature counts when it became counted (``counted_at``) and is not withdrawn, not invalidated,
and not flagged unless an agent released it (then it counts from its release). Paper batches of a
civic petition add their numbers from their entry. The job writes ``PetitionCount`` (never a
counter UPDATE per signature on the petition row), stamps each threshold once with the moment
the Nth counted signature became counted — a stamp never moves and is never removed, even if the
count later falls back below — sets the answer's due date, and tells opted-in signers at 33, 66
and 100 % of each threshold and agents when an answer falls due or is overdue, once each.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import Account, Person, Role, RoleGrant
from app.audit import service as audit
from app.config import Settings
from app.core.actor import SYSTEM
from app.db.base import utcnow
from app.jobs.registry import job_settings
from app.mail.service import queue_email
from app.notifications.kinds import register_kind
from app.notifications.service import notify, territory_base_url
from app.petitions.models import (
    PaperBatch,
    Petition,
    PetitionAnswer,
    PetitionCount,
    PetitionKind,
    PetitionSignature,
    PetitionState,
    SignerRelation,
)
from app.territories.context import TerritoryContext
from app.territories.models import Territory
from app.territories.service import local_today
from app.web.i18n import N_, _

PETITIONS_KIND = register_kind(
    "petitions",
    N_("Les pétitions que je signe ou que je porte"),
    description=N_("Seuils atteints, réponse de la commune, pétition devenue un projet (si vous l'avez demandé)."),
)
PETITION_AGENTS_KIND = register_kind(
    "petition_answers_due",
    N_("Réponses aux pétitions à préparer (agent·es)"),
    description=N_("Une pétition a atteint son seuil de réponse, ou sa réponse est en retard."),
)
TOWN_RELATIONS = (SignerRelation.LIVES.value, SignerRelation.WORKS.value, SignerRelation.USES.value)
MILESTONES = (33, 66, 100)
# Closed petitions are still recounted a while (late invalidations), then their count stays.
RECOUNT_AFTER_CLOSING = dt.timedelta(days=30)


class Told(enum.IntFlag):
    ANSWER_33 = 1
    ANSWER_66 = 2
    ANSWER_100 = 4
    COUNCIL_33 = 8
    COUNCIL_66 = 16
    COUNCIL_100 = 32
    AGENTS_DUE = 64
    AGENTS_OVERDUE = 128


MILESTONE_FLAGS = {
    "answer": {33: Told.ANSWER_33, 66: Told.ANSWER_66, 100: Told.ANSWER_100},
    "council": {33: Told.COUNCIL_33, 66: Told.COUNCIL_66, 100: Told.COUNCIL_100},
}


def counted_clause() -> object:
    s = PetitionSignature
    return and_(
        s.counted_at.is_not(None),
        s.withdrawn_at.is_(None),
        s.invalidated_at.is_(None),
        or_(s.flagged_at.is_(None), s.released_at.is_not(None)),
    )


@dataclass
class _Figures:
    total: int = 0
    town: int = 0
    flagged: int = 0


def _figures(db: Session, ids: list[int]) -> dict[int, _Figures]:
    s = PetitionSignature
    counted = counted_clause()
    is_town = s.relation.in_(TOWN_RELATIONS)
    flagged = and_(
        s.flagged_at.is_not(None), s.released_at.is_(None), s.withdrawn_at.is_(None), s.invalidated_at.is_(None)
    )
    figures = {pid: _Figures() for pid in ids}
    rows = db.execute(
        select(
            s.petition_id,
            func.sum(case((counted, 1), else_=0)),  # type: ignore[arg-type]
            func.sum(case((and_(counted, is_town), 1), else_=0)),  # type: ignore[arg-type]
            func.sum(case((flagged, 1), else_=0)),
        )
        .where(s.petition_id.in_(ids))
        .group_by(s.petition_id)
    ).all()
    for pid, total, town, flag in rows:
        figures[pid] = _Figures(int(total or 0), int(town or 0), int(flag or 0))
    batches = db.execute(
        select(PaperBatch.petition_id, func.sum(PaperBatch.signatures), func.sum(PaperBatch.town_signatures))
        .where(PaperBatch.petition_id.in_(ids), PaperBatch.invalidated_at.is_(None))
        .group_by(PaperBatch.petition_id)
    ).all()
    for pid, total, town in batches:
        figures[pid].total += int(total or 0)
        figures[pid].town += int(town or 0)
    return figures


def nth_counted_moment(db: Session, petition: Petition, n: int) -> dt.datetime | None:
    """When the Nth signature of the threshold's basis became counted (None: fewer than N count)."""
    s = PetitionSignature
    stmt = select(s.counted_at, s.flagged_at, s.released_at).where(s.petition_id == petition.id, counted_clause())  # type: ignore[arg-type]
    batches = select(PaperBatch.counted_at, PaperBatch.signatures, PaperBatch.town_signatures).where(
        PaperBatch.petition_id == petition.id, PaperBatch.invalidated_at.is_(None)
    )
    town_only = petition.threshold_basis == "town"
    if town_only:
        stmt = stmt.where(s.relation.in_(TOWN_RELATIONS))
    events: list[tuple[dt.datetime, int]] = []
    for counted_at, flagged_at, released_at in db.execute(stmt):
        if counted_at is None:
            continue
        moment: dt.datetime = counted_at
        if flagged_at is not None and released_at is not None and released_at > moment:
            moment = released_at  # counted from its release
        events.append((moment, 1))
    for counted_at, signatures, town_signatures in db.execute(batches):
        weight = town_signatures if town_only else signatures
        if weight:
            events.append((counted_at, weight))
    events.sort(key=lambda e: e[0])
    running = 0
    for moment, weight in events:
        running += weight
        if running >= n:
            return moment
    return None


def _agent_person_ids(db: Session, territory_id: int) -> list[int]:
    return list(
        db.scalars(
            select(Person.id)
            .join(Account, Account.person_id == Person.id)
            .join(RoleGrant, RoleGrant.account_id == Account.id)
            .where(
                Person.territory_id == territory_id,
                Person.anonymised_at.is_(None),
                Account.disabled_at.is_(None),
                RoleGrant.role == Role.AGENT.value,
                RoleGrant.revoked_at.is_(None),
                RoleGrant.confirmed_at.is_not(None),
            )
            .distinct()
            .order_by(Person.id)
        )
    )


def tell_signers(
    db: Session,
    petition: Petition,
    subject: str,
    body: str,
    *,
    settings: Settings,
    only_invite: bool = False,
) -> int:
    """Tells the petition's opted-in signers (those who still sign it): a notification for people
    with an account, an e-mail for guests. Legal-request signers are never told (the law's rule)."""
    if petition.kind == PetitionKind.LEGAL:
        return 0
    s = PetitionSignature
    flag = s.invite_if_project if only_invite else s.notify
    rows = db.execute(
        select(s.person_id, s.email, s.display_name).where(
            s.petition_id == petition.id,
            flag.is_(True),
            s.withdrawn_at.is_(None),
            s.invalidated_at.is_(None),
            s.erased_at.is_(None),
            or_(s.confirmed_at.is_not(None), s.person_id.is_not(None)),
        )
    ).all()
    link = f"/petitions/{petition.public_id}"
    base_url = territory_base_url(db, petition.territory_id, settings)
    told = 0
    for person_id, email, name in rows:
        if person_id is not None:
            notify(
                db, territory_id=petition.territory_id, person_id=person_id, kind=PETITIONS_KIND.key,
                subject=subject, body=body, link=link, settings=settings, base_url=base_url,
            )  # fmt: skip
        elif email:
            queue_email(
                db, territory_id=petition.territory_id, person_id=None, to=email, template="petition_news",
                context={"subject": subject, "body": body, "name": name, "link": base_url + link},
            )  # fmt: skip
        else:
            continue
        told += 1
    return told


def _tell_agents(db: Session, petition: Petition, subject: str, body: str, settings: Settings) -> None:
    base_url = territory_base_url(db, petition.territory_id, settings)
    for person_id in _agent_person_ids(db, petition.territory_id):
        notify(
            db, territory_id=petition.territory_id, person_id=person_id, kind=PETITION_AGENTS_KIND.key,
            subject=subject, body=body, link=f"/petitions/{petition.public_id}/reponse",
            settings=settings, base_url=base_url,
        )  # fmt: skip


def _milestones(db: Session, petition: Petition, which: str, count: int, threshold: int, settings: Settings) -> None:
    if threshold <= 0:
        return
    told = Told(petition.milestones_told)
    newly = [p for p in MILESTONES if count * 100 >= p * threshold and not told & MILESTONE_FLAGS[which][p]]
    if not newly:
        return
    for p in MILESTONES:
        if count * 100 >= p * threshold:
            told |= MILESTONE_FLAGS[which][p]
    petition.milestones_told = int(told)
    top = max(newly)
    if which == "answer":
        what = _("le seuil qui oblige la commune à répondre (%(n)s signatures)") % {"n": threshold}
    else:
        what = _("le seuil d'inscription au conseil municipal (%(n)s signatures)") % {"n": threshold}
    if top == 100:
        subject = _("La pétition « %(title)s » a atteint son seuil") % {"title": petition.title}
        body = _("La pétition que vous avez signée a atteint %(what)s.") % {"what": what}
    else:
        subject = _("La pétition « %(title)s » avance") % {"title": petition.title}
        body = _("La pétition que vous avez signée a recueilli %(percent)s %% des signatures pour %(what)s.") % {
            "percent": top,
            "what": what,
        }
    tell_signers(db, petition, subject, body, settings=settings)


def _stamp(db: Session, petition: Petition, territory: TerritoryContext, count: int, settings: Settings) -> None:
    if (
        petition.answer_threshold
        and petition.answer_threshold_reached_at is None
        and count >= petition.answer_threshold
    ):
        moment = nth_counted_moment(db, petition, petition.answer_threshold)
        if moment is not None:
            petition.answer_threshold_reached_at = moment
            data: dict[str, object] = {"threshold": petition.answer_threshold, "reached_at": moment.isoformat()}
            if petition.kind == PetitionKind.CIVIC:
                from app.petitions.service import local_date

                days = territory.settings.petitions.answer_deadline_days
                petition.answer_due_on = local_date(moment, territory.timezone) + dt.timedelta(days=days)
                data["answer_due_on"] = petition.answer_due_on.isoformat()
            audit.record(
                db, SYSTEM, "petition.answer_threshold", "petition", petition.public_id,
                territory_id=petition.territory_id, data=data,
            )  # fmt: skip
    if (
        petition.council_threshold
        and petition.council_threshold_reached_at is None
        and count >= petition.council_threshold
    ):
        moment = nth_counted_moment(db, petition, petition.council_threshold)
        if moment is not None:
            petition.council_threshold_reached_at = moment
            audit.record(
                db, SYSTEM, "petition.council_threshold", "petition", petition.public_id,
                territory_id=petition.territory_id,
                data={"threshold": petition.council_threshold, "reached_at": moment.isoformat()},
            )  # fmt: skip


def _agents_due(
    db: Session, petition: Petition, territory: TerritoryContext, answered: bool, settings: Settings
) -> None:
    if petition.kind != PetitionKind.CIVIC or petition.answer_due_on is None or answered:
        return
    told = Told(petition.milestones_told)
    due = petition.answer_due_on
    if not told & Told.AGENTS_DUE:
        told |= Told.AGENTS_DUE
        petition.milestones_told = int(told)
        _tell_agents(
            db, petition,
            _("Réponse à préparer : « %(title)s »") % {"title": petition.title},
            _("La pétition a atteint son seuil de réponse. La commune doit publier sa réponse officielle au plus tard le %(date)s.")
            % {"date": due.strftime("%d/%m/%Y")},
            settings,
        )  # fmt: skip
    if due < local_today(territory) and not told & Told.AGENTS_OVERDUE:
        told |= Told.AGENTS_OVERDUE
        petition.milestones_told = int(told)
        _tell_agents(
            db, petition,
            _("Réponse en retard : « %(title)s »") % {"title": petition.title},
            _("La réponse officielle à cette pétition était attendue le %(date)s et n'est pas encore publiée.")
            % {"date": due.strftime("%d/%m/%Y")},
            settings,
        )  # fmt: skip


def recount(db: Session, *, now: dt.datetime | None = None, settings: Settings | None = None) -> int:
    """Recomputes the counts of open (and recently closed) petitions; stamps and tells. Safe to run twice."""
    now = now or utcnow()
    settings = settings or job_settings()
    petitions = list(
        db.scalars(
            select(Petition)
            .where(
                or_(
                    Petition.state == PetitionState.OPEN.value,
                    and_(
                        Petition.state == PetitionState.CLOSED.value, Petition.closed_at >= now - RECOUNT_AFTER_CLOSING
                    ),
                )
            )
            .order_by(Petition.id)
            # A petition another transaction holds (being published, answered) is counted next minute;
            # two workers running the job at once share the petitions instead of waiting.
            .with_for_update(skip_locked=True)
        )
    )
    if not petitions:
        return 0
    ids = [p.id for p in petitions]
    figures = _figures(db, ids)
    existing = {c.petition_id: c for c in db.scalars(select(PetitionCount).where(PetitionCount.petition_id.in_(ids)))}
    answered = set(
        db.scalars(
            select(PetitionAnswer.petition_id).where(
                PetitionAnswer.petition_id.in_(ids), PetitionAnswer.published_at.is_not(None)
            )
        )
    )
    territories = {
        t.id: TerritoryContext.from_row(t)
        for t in db.scalars(select(Territory).where(Territory.id.in_({p.territory_id for p in petitions})))
    }
    for petition in petitions:
        f = figures[petition.id]
        row = existing.get(petition.id)
        if row is None:
            row = PetitionCount(petition_id=petition.id, territory_id=petition.territory_id, computed_at=now)
            db.add(row)
        row.total, row.town, row.flagged, row.computed_at = f.total, f.town, f.flagged, now
        count = f.town if petition.threshold_basis == "town" else f.total
        territory = territories[petition.territory_id]
        if petition.answer_threshold_reached_at is None:
            _milestones(db, petition, "answer", count, petition.answer_threshold, settings)
        if petition.answer_threshold_reached_at is not None or count >= petition.answer_threshold:
            _milestones(db, petition, "council", count, petition.council_threshold, settings)
        _stamp(db, petition, territory, count, settings)
        _agents_due(db, petition, territory, petition.id in answered, settings)
    db.flush()
    return len(petitions)


# ---------------------------------------------------------------- what pages show


@dataclass(frozen=True)
class CountView:
    total: int
    town: int
    basis: str  # "town" or "total"
    basis_count: int
    next_threshold: int  # 0: no threshold left
    next_kind: str  # "answer", "council" or ""
    progress_percent: int
    days_left: int | None
    answer_threshold: int
    council_threshold: int
    answer_threshold_reached_at: dt.datetime | None
    council_threshold_reached_at: dt.datetime | None
    answer_due_on: dt.date | None
    answer_overdue: bool
    below_after_stamp: bool  # a stamp stays although the count fell back below
    computed_at: dt.datetime | None

    @property
    def status_key(self) -> str:
        """What the screen-reader announcement says: it changes only when a threshold is crossed."""
        if self.council_threshold_reached_at is not None:
            return "council"
        if self.answer_threshold_reached_at is not None:
            return "answer"
        return "none"


def count_view(db: Session, petition: Petition, *, today: dt.date | None = None, answered: bool = False) -> CountView:
    row = db.get(PetitionCount, petition.id)
    total, town = (row.total, row.town) if row is not None else (0, 0)
    count = town if petition.threshold_basis == "town" else total
    if petition.answer_threshold and petition.answer_threshold_reached_at is None:
        nxt, kind = petition.answer_threshold, "answer"
    elif petition.council_threshold and petition.council_threshold_reached_at is None:
        nxt, kind = petition.council_threshold, "council"
    else:
        nxt, kind = 0, ""
    progress = min(100, (count * 100) // nxt) if nxt else 100
    days_left = None
    if petition.state == PetitionState.OPEN and petition.closes_on is not None:
        days_left = max(0, (petition.closes_on - (today or dt.date.today())).days)
    overdue = bool(petition.answer_due_on and petition.answer_due_on < (today or dt.date.today())) and not answered
    below = (petition.answer_threshold_reached_at is not None and count < petition.answer_threshold) or (
        petition.council_threshold_reached_at is not None and count < petition.council_threshold
    )
    return CountView(
        total=total,
        town=town,
        basis=petition.threshold_basis,
        basis_count=count,
        next_threshold=nxt,
        next_kind=kind,
        progress_percent=progress,
        days_left=days_left,
        answer_threshold=petition.answer_threshold,
        council_threshold=petition.council_threshold,
        answer_threshold_reached_at=petition.answer_threshold_reached_at,
        council_threshold_reached_at=petition.council_threshold_reached_at,
        answer_due_on=petition.answer_due_on,
        answer_overdue=overdue,
        below_after_stamp=below,
        computed_at=row.computed_at if row is not None else None,
    )
