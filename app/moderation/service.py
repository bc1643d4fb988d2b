"""Reporting public content, and the agents' moderation: hide, restore, or keep and close the reports.

Reports are open to anyone who may see the content, signed in or not; the route limits how
many a visitor sends. Agents decide per piece of content: hiding it (with a written reason)
closes its open reports; restoring it needs a reason too; keeping it closes the reports. Each
decision writes one audit entry, filed under the initiative that holds the content so that
its team reads it on the timeline. Reporters are never told who decided, and agents never see
who reported. Pages get plain dataclasses.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import Person
from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.initiatives import permissions as perm
from app.initiatives.models import Initiative
from app.media.models import InitiativePhoto
from app.moderation import permissions as mod_perm
from app.moderation import subjects
from app.moderation.forms import REASON_LABELS, ReportInput
from app.moderation.models import (
    ContentReport,
    HiddenContent,
    ReportOutcome,
    ReportReason,
    ReportStatus,
    SubjectType,
)
from app.moderation.subjects import Subject
from app.privacy.export import register_section
from app.web.i18n import N_, _

# What the audit log records for a visitor who is not signed in.
ANONYMOUS_LABEL = "anonymous visitor"
OUTCOME_LABELS = {ReportOutcome.HIDDEN: N_("contenu masqué"), ReportOutcome.KEPT: N_("contenu gardé visible")}
MAX_QUEUE = 200
MAX_REPORTS_SHOWN = 100


def reason_label(reason: str) -> str:
    return _(REASON_LABELS[ReportReason(reason)]) if reason in REASON_LABELS else reason


def reason_choices() -> list[tuple[str, str]]:
    return [(r.value, _(label)) for r, label in REASON_LABELS.items()]


def _require_moderator(actor: Actor, territory_id: int) -> None:
    if not mod_perm.can_moderate(actor, territory_id):
        raise Forbidden(_("Seul le personnel de la commune modère les contenus publics."))


# ---------------------------------------------------------------- reporting


@dataclass(frozen=True)
class ReportPage:
    subject: Subject
    # What may be reported: "" for the content itself, then the parts shown with it (an initiative's photos).
    elements: list[tuple[str, str]]
    reasons: list[tuple[str, str]]


def _reportable(db: Session, territory_id: int, subject_type: str, public_id: str) -> Subject:
    subject = subjects.get(db, territory_id, subject_type, public_id)
    if not mod_perm.can_report(subject):
        # Content the public does not see cannot be reported (and its existence is not revealed).
        raise NotFound(_("Ce contenu n'existe pas."))
    return subject


def _visible_photos(db: Session, territory_id: int, initiative_public_id: str) -> dict[str, tuple[str, Subject]]:
    """The initiative's photos the public sees, in order: their text alternative and subject."""
    rows = db.execute(
        select(InitiativePhoto.public_id, InitiativePhoto.alt_text)
        .join(Initiative, Initiative.id == InitiativePhoto.initiative_id)
        .where(Initiative.public_id == initiative_public_id, InitiativePhoto.territory_id == territory_id)
        .order_by(InitiativePhoto.position, InitiativePhoto.id)
    ).all()
    loaded = subjects.load(db, territory_id, SubjectType.PHOTO, [pid for pid, _alt in rows])
    return {pid: (alt, loaded[pid]) for pid, alt in rows if pid in loaded and loaded[pid].reportable}


def report_page(db: Session, territory_id: int, subject_type: str, public_id: str) -> ReportPage:
    subject = _reportable(db, territory_id, subject_type, public_id)
    elements: list[tuple[str, str]] = []
    if subject.type == SubjectType.INITIATIVE:
        elements.append(("", _("Le texte de l'initiative (titre, description, intérêt général)")))
        photos = _visible_photos(db, territory_id, subject.public_id)
        for n, (pid, (alt, _photo)) in enumerate(photos.items(), start=1):
            elements.append((pid, _("Photo %(n)s : « %(alt)s »") % {"n": n, "alt": alt}))
    return ReportPage(subject=subject, elements=elements, reasons=reason_choices())


def report(
    db: Session, actor: Actor | None, territory_id: int, subject_type: str, public_id: str, data: ReportInput
) -> ContentReport:
    """Records a report of public content (or of one of the parts shown with it)."""
    subject = _reportable(db, territory_id, subject_type, public_id)
    if data.element:
        found = None
        if subject.type == SubjectType.INITIATIVE:
            found = _visible_photos(db, territory_id, subject.public_id).get(data.element)
        if found is None:
            raise Invalid(_("Choisissez un élément de la liste."), field="element")
        subject = found[1]
    signed_in = actor is not None and actor.territory_id == territory_id
    row = ContentReport(
        territory_id=territory_id,
        subject_type=subject.type,
        subject_id=subject.public_id,
        reason=data.reason.value,
        comment=data.comment,
        reporter_person_id=actor.person_id if signed_in and actor is not None else None,
        status=ReportStatus.OPEN,
    )
    db.add(row)
    db.flush()
    who = actor if signed_in and actor is not None else Actor(None, None, territory_id, ANONYMOUS_LABEL)
    audit.record(
        db, who, "moderation.report", "content_report", row.public_id, territory_id=territory_id,
        data={"subject_type": subject.type, "subject": subject.public_id, "reason": row.reason},
    )  # fmt: skip
    return row


# ---------------------------------------------------------------- the agents' queue


@dataclass(frozen=True)
class ReportedItem:
    subject: Subject
    open_reports: int
    first_reported_at: dt.datetime
    reasons: list[str]  # labels, most frequent first


@dataclass(frozen=True)
class HiddenItem:
    subject: Subject
    reason: str
    since: dt.datetime


@dataclass(frozen=True)
class Queue:
    reported: list[ReportedItem]
    hidden: list[HiddenItem]


def _load_all(db: Session, territory_id: int, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Subject]:
    """Subjects by (type, public id), one query per kind of content."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for subject_type, public_id in keys:
        by_type[subject_type].append(public_id)
    found: dict[tuple[str, str], Subject] = {}
    for subject_type, ids in by_type.items():
        for public_id, subject in subjects.load(db, territory_id, subject_type, ids).items():
            found[(subject_type, public_id)] = subject
    return found


def queue(db: Session, actor: Actor, territory_id: int) -> Queue:
    """The content with open reports (longest waiting first) and the content hidden now (latest first)."""
    _require_moderator(actor, territory_id)
    open_rows = db.execute(
        select(ContentReport.subject_type, ContentReport.subject_id, ContentReport.reason, func.count(), func.min(ContentReport.created_at))
        .where(ContentReport.territory_id == territory_id, ContentReport.status == ReportStatus.OPEN)
        .group_by(ContentReport.subject_type, ContentReport.subject_id, ContentReport.reason)
    ).all()  # fmt: skip
    counts: dict[tuple[str, str], int] = defaultdict(int)
    firsts: dict[tuple[str, str], dt.datetime] = {}
    reasons: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for subject_type, subject_id, reason, count, first in open_rows:
        key = (subject_type, subject_id)
        counts[key] += count
        firsts[key] = min(first, firsts.get(key, first))
        reasons[key].append((count, reason))
    hidden_rows = db.execute(
        select(HiddenContent.subject_type, HiddenContent.subject_id, HiddenContent.reason, HiddenContent.created_at)
        .where(HiddenContent.territory_id == territory_id)
        .order_by(HiddenContent.created_at.desc(), HiddenContent.id.desc())
        .limit(MAX_QUEUE)
    ).all()
    loaded = _load_all(db, territory_id, [*counts, *((r[0], r[1]) for r in hidden_rows)])
    reported = [
        ReportedItem(
            subject=loaded[key],
            open_reports=counts[key],
            first_reported_at=firsts[key],
            reasons=[reason_label(r) for _count, r in sorted(reasons[key], key=lambda cr: (-cr[0], cr[1]))],
        )
        for key in sorted(counts, key=lambda k: (firsts[k], k))
        if key in loaded  # content deleted since it was reported
    ][:MAX_QUEUE]
    hidden = [
        HiddenItem(subject=loaded[(t, i)], reason=reason, since=since)
        for t, i, reason, since in hidden_rows
        if (t, i) in loaded
    ]
    return Queue(reported=reported, hidden=hidden)


# ---------------------------------------------------------------- one piece of content


@dataclass(frozen=True)
class ReportView:
    reason: str
    comment: str
    created_at: dt.datetime
    open: bool
    outcome: str


@dataclass(frozen=True)
class HiddenState:
    reason: str
    since: dt.datetime


@dataclass(frozen=True)
class SubjectPage:
    subject: Subject
    kind: str
    hidden: HiddenState | None
    reports: list[ReportView]
    open_reports: int
    can_hide: bool
    can_restore: bool


def _hidden_row(db: Session, subject: Subject, *, for_update: bool = False) -> HiddenContent | None:
    stmt = select(HiddenContent).where(
        HiddenContent.subject_type == subject.type,
        HiddenContent.subject_id == subject.public_id,
        HiddenContent.territory_id == subject.territory_id,
    )
    if for_update:
        stmt = stmt.with_for_update()
    return db.scalar(stmt)


def subject_page(db: Session, actor: Actor, territory_id: int, subject_type: str, public_id: str) -> SubjectPage:
    _require_moderator(actor, territory_id)
    subject = subjects.get(db, territory_id, subject_type, public_id)
    row = _hidden_row(db, subject)
    reports = db.scalars(
        select(ContentReport)
        .where(
            ContentReport.territory_id == territory_id,
            ContentReport.subject_type == subject.type,
            ContentReport.subject_id == subject.public_id,
        )
        .order_by(ContentReport.created_at.desc(), ContentReport.id.desc())
        .limit(MAX_REPORTS_SHOWN)
    ).all()
    views = [
        ReportView(
            reason=reason_label(r.reason),
            comment=r.comment,
            created_at=r.created_at,
            open=r.status == ReportStatus.OPEN,
            outcome=_(OUTCOME_LABELS[ReportOutcome(r.outcome)]) if r.outcome in OUTCOME_LABELS else "",
        )
        for r in reports
    ]
    return SubjectPage(
        subject=subject,
        kind=subjects.kind_label(subject.type),
        hidden=HiddenState(row.reason, row.created_at) if row is not None else None,
        reports=views,
        open_reports=sum(1 for v in views if v.open),
        can_hide=mod_perm.can_hide(actor, subject),
        can_restore=mod_perm.can_restore(actor, subject),
    )


def _close_reports(db: Session, subject: Subject, outcome: ReportOutcome) -> int:
    rows = db.scalars(
        select(ContentReport).where(
            ContentReport.territory_id == subject.territory_id,
            ContentReport.subject_type == subject.type,
            ContentReport.subject_id == subject.public_id,
            ContentReport.status == ReportStatus.OPEN,
        )
    ).all()
    now = utcnow()
    for row in rows:
        row.status = ReportStatus.HANDLED
        row.outcome = outcome
        row.handled_at = now
    db.flush()
    return len(rows)


def _record(db: Session, actor: Actor, action: str, subject: Subject, reason: str, **data: Any) -> None:
    audit.record(
        db, actor, action, subject.audit_type, subject.audit_id, territory_id=subject.territory_id, reason=reason,
        data={"subject_type": subject.type, "subject": subject.public_id, **data},
    )  # fmt: skip


def hide(db: Session, actor: Actor, territory_id: int, subject_type: str, public_id: str, reason: str) -> Subject:
    """Hides content from the public, with the reason its team will read; closes its open reports."""
    _require_moderator(actor, territory_id)
    subject = subjects.get(db, territory_id, subject_type, public_id)
    if not reason.strip():
        raise Invalid(_("Ce champ est obligatoire."), field="reason")
    if _hidden_row(db, subject, for_update=True) is not None:
        raise Conflict(_("Ce contenu est déjà masqué."))
    row = HiddenContent(
        territory_id=territory_id,
        subject_type=subject.type,
        subject_id=subject.public_id,
        reason=reason,
        hidden_by_person_id=actor.person_id,
    )
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        # Another agent hid it at the same moment: theirs stands, nothing is done twice.
        raise Conflict(_("Ce contenu est déjà masqué.")) from None
    closed = _close_reports(db, subject, ReportOutcome.HIDDEN)
    _record(db, actor, "moderation.hide", subject, reason, reports=closed)
    return subject


def restore(db: Session, actor: Actor, territory_id: int, subject_type: str, public_id: str, reason: str) -> Subject:
    """Shows hidden content to the public again."""
    _require_moderator(actor, territory_id)
    subject = subjects.get(db, territory_id, subject_type, public_id)
    if not reason.strip():
        raise Invalid(_("Ce champ est obligatoire."), field="reason")
    row = _hidden_row(db, subject, for_update=True)
    if row is None:
        raise Conflict(_("Ce contenu n'est pas masqué."))
    db.delete(row)
    db.flush()
    _record(db, actor, "moderation.restore", subject, reason)
    return subject


def dismiss(db: Session, actor: Actor, territory_id: int, subject_type: str, public_id: str, reason: str = "") -> int:
    """Keeps the content as it is and closes its open reports; returns how many were closed."""
    _require_moderator(actor, territory_id)
    subject = subjects.get(db, territory_id, subject_type, public_id)
    closed = _close_reports(db, subject, ReportOutcome.KEPT)
    if closed == 0:
        raise Conflict(_("Aucun signalement n'attend de réponse pour ce contenu."))
    _record(db, actor, "moderation.dismiss", subject, reason, reports=closed)
    return closed


# ---------------------------------------------------------------- on the initiative's page


@dataclass(frozen=True)
class HiddenPart:
    label: str
    reason: str
    since: dt.datetime


@dataclass(frozen=True)
class InitiativePanel:
    """What the initiative's page shows about reports and moderation, for this viewer."""

    initiative_public_id: str
    can_report: bool  # the page is public: anyone may report it
    can_moderate: bool
    open_reports: int  # staff only (0 for everyone else)
    hidden: HiddenPart | None  # the team and the staff only
    hidden_photos: list[HiddenPart]


def initiative_panel(db: Session, viewer: Actor | None, initiative: Initiative, *, team: bool) -> InitiativePanel:
    """``team``: the viewer is one of its promoters or staff (they see what is hidden, and why).

    Everyone else only reaches the page while the initiative is public: no query for them.
    """
    moderator = mod_perm.can_moderate(viewer, initiative.territory_id)
    if not team:
        return InitiativePanel(initiative.public_id, True, False, 0, None, [])
    photos = select(InitiativePhoto.public_id).where(InitiativePhoto.initiative_id == initiative.id)
    concerns_it = or_(
        (HiddenContent.subject_type == SubjectType.INITIATIVE) & (HiddenContent.subject_id == initiative.public_id),
        (HiddenContent.subject_type == SubjectType.PHOTO) & HiddenContent.subject_id.in_(photos),
    )
    rows = db.execute(
        select(HiddenContent.subject_type, HiddenContent.reason, HiddenContent.created_at, InitiativePhoto.alt_text)
        .outerjoin(InitiativePhoto, InitiativePhoto.public_id == HiddenContent.subject_id)
        .where(HiddenContent.territory_id == initiative.territory_id, concerns_it)
        .order_by(HiddenContent.created_at)
    ).all()
    hidden: HiddenPart | None = None
    hidden_photos: list[HiddenPart] = []
    for subject_type, reason, since, alt_text in rows:
        if subject_type == SubjectType.INITIATIVE:
            hidden = HiddenPart(_("« %(title)s »") % {"title": initiative.title}, reason, since)
        else:
            hidden_photos.append(HiddenPart(_("Photo « %(alt)s »") % {"alt": alt_text or ""}, reason, since))
    open_reports = 0
    if moderator:
        reported = or_(
            (ContentReport.subject_type == SubjectType.INITIATIVE) & (ContentReport.subject_id == initiative.public_id),
            (ContentReport.subject_type == SubjectType.PHOTO) & ContentReport.subject_id.in_(photos),
        )
        open_reports = (
            db.scalar(
                select(func.count()).where(
                    ContentReport.territory_id == initiative.territory_id,
                    ContentReport.status == ReportStatus.OPEN,
                    reported,
                )
            )
            or 0
        )
    return InitiativePanel(
        initiative_public_id=initiative.public_id,
        can_report=perm.is_public_by_state(initiative) and hidden is None,
        can_moderate=moderator,
        open_reports=open_reports,
        hidden=hidden,
        hidden_photos=hidden_photos,
    )


# ---------------------------------------------------------------- personal data


@register_section("content_reports")
def _my_reports(db: Session, person: Person) -> list[dict[str, Any]]:
    """The reports the person sent (what and why; not who handled them)."""
    rows = db.scalars(
        select(ContentReport)
        .where(ContentReport.reporter_person_id == person.id, ContentReport.territory_id == person.territory_id)
        .order_by(ContentReport.id)
    )
    return [
        {
            "public_id": r.public_id,
            "subject_type": r.subject_type,
            "subject": r.subject_id,
            "reason": r.reason,
            "comment": r.comment,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
