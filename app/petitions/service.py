"""A petition's life: draft -> submitted -> open (published by an agent) | rejected (a reason of the
published charter) -> closed (the open period ended); the author may withdraw it before it opens.

Every function checks the territory (another town's petition is 404) and the actor's rights,
refuses an illegal transition with ``Conflict`` (409) before changing anything, writes one audit
entry and flushes (the caller commits). Pages get plain dataclasses: templates never query.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.accounts.display import public_name
from app.accounts.models import Person
from app.accounts.service import check_neighbourhood
from app.audit import service as audit
from app.core.actor import SYSTEM, Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.initiatives import permissions as initiative_perm
from app.initiatives.models import Initiative, InitiativeState
from app.moderation.models import HiddenContent
from app.moderation.visibility import hidden_clause, is_hidden
from app.petitions import permissions as perm
from app.petitions import search
from app.petitions.forms import PetitionFilters, PetitionInput
from app.petitions.models import (
    LegalStage,
    Petition,
    PetitionAnswer,
    PetitionCount,
    PetitionKind,
    PetitionSignature,
    PetitionState,
)
from app.petitions.subjects import PETITION
from app.territories.context import TerritoryContext
from app.territories.models import Neighbourhood, Territory, Theme
from app.territories.service import petition_thresholds
from app.territories.settings_schema import PetitionRules
from app.web.i18n import N_, _

STATE_LABELS = {
    PetitionState.DRAFT: N_("brouillon"),
    PetitionState.SUBMITTED: N_("en attente de publication"),
    PetitionState.REJECTED: N_("non publiée"),
    PetitionState.OPEN: N_("ouverte aux signatures"),
    PetitionState.CLOSED: N_("close"),
    PetitionState.WITHDRAWN: N_("retirée"),
}
LEGAL_STAGE_LABELS = {
    LegalStage.COLLECTING: N_("recueil des signatures"),
    LegalStage.SUBMITTED_TO_MAYOR: N_("remise au maire"),
    LegalStage.VERIFIED: N_("signatures vérifiées sur la liste électorale"),
    LegalStage.COUNCIL_INFORMED: N_("conseil municipal informé"),
    LegalStage.DECIDED: N_("décision du conseil enregistrée"),
}
EDITABLE_FIELDS = ("title", "request", "body", "neighbourhood_id", "theme_id")
PAGE_SIZE = 20


def state_label(state: str) -> str:
    return _(STATE_LABELS[PetitionState(state)]) if state in STATE_LABELS else state


def _not_found() -> NotFound:
    return NotFound(_("Cette pétition n'existe pas."))


# ---------------------------------------------------------------- loading


def get(db: Session, territory_id: int, public_id: str, *, for_update: bool = False) -> Petition:
    """The territory's petition (whoever asks): 404 when it is another town's or does not exist."""
    stmt = select(Petition).where(Petition.public_id == public_id, Petition.territory_id == territory_id)
    if for_update:
        stmt = stmt.with_for_update()
    petition = db.scalar(stmt)
    if petition is None:
        raise _not_found()
    return petition


def get_visible(
    db: Session, actor: Actor | None, territory_id: int, public_id: str, *, for_update: bool = False
) -> Petition:
    petition = get(db, territory_id, public_id, for_update=for_update)
    if not perm.can_view(actor, petition):
        raise _not_found()
    if not perm.sees_despite_hidden(actor, petition) and is_hidden(db, PETITION, petition.public_id):
        raise _not_found()
    return petition


def _check_theme(db: Session, territory_id: int, theme_id: int | None) -> None:
    if theme_id is None:
        return
    if db.scalar(select(Theme.id).where(Theme.id == theme_id, Theme.territory_id == territory_id)) is None:
        raise Invalid(_("Choisissez une thématique de la liste."), field="theme_id")


def _conflict(petition: Petition) -> Conflict:
    return Conflict(
        _("Cette pétition est « %(state)s » : cette action n'est plus possible.")
        % {"state": state_label(petition.state)}
    )


# ---------------------------------------------------------------- drafting


def start(
    db: Session, actor: Actor, territory_id: int, data: PetitionInput, *, from_initiative_id: int | None = None
) -> Petition:
    """A registered resident drafts a civic petition or a legal request (art. L1112-16 CGCT)."""
    if not perm.can_start(actor, territory_id):
        raise Forbidden(_("Connectez-vous avec un compte de cette commune pour lancer une pétition."))
    check_neighbourhood(db, territory_id, data.neighbourhood_id)
    _check_theme(db, territory_id, data.theme_id)
    petition = Petition(
        territory_id=territory_id,
        kind=data.kind.value,
        legal_purpose=data.legal_purpose.value if data.legal_purpose else None,
        author_person_id=actor.person_id,
        state=PetitionState.DRAFT.value,
        from_initiative_id=from_initiative_id,
        title=data.title,
        request=data.request,
        body=data.body,
        neighbourhood_id=data.neighbourhood_id,
        theme_id=data.theme_id,
    )
    db.add(petition)
    db.flush()
    audit.record(
        db, actor, "petition.start", "petition", petition.public_id, territory_id=territory_id,
        data={"kind": petition.kind, "from_initiative_id": from_initiative_id},
    )  # fmt: skip
    return petition


def update_draft(db: Session, actor: Actor, territory_id: int, public_id: str, data: PetitionInput) -> Petition:
    petition = get_visible(db, actor, territory_id, public_id, for_update=True)
    if petition.state not in perm.EDITABLE_STATES:
        raise _conflict(petition)
    if not perm.can_edit(actor, petition):
        raise Forbidden(_("Seul·e l'auteur·rice de la pétition peut la modifier."))
    check_neighbourhood(db, territory_id, data.neighbourhood_id)
    _check_theme(db, territory_id, data.theme_id)
    values = {name: getattr(data, name) for name in EDITABLE_FIELDS}
    values["kind"] = data.kind.value
    values["legal_purpose"] = data.legal_purpose.value if data.legal_purpose else None
    changed = sorted(k for k, v in values.items() if getattr(petition, k) != v)
    for key, value in values.items():
        setattr(petition, key, value)
    db.flush()
    audit.record(
        db, actor, "petition.update", "petition", petition.public_id, territory_id=territory_id,
        data={"fields": changed},
    )  # fmt: skip
    return petition


def form_values(petition: Petition) -> dict[str, object]:
    values: dict[str, object] = {name: getattr(petition, name) for name in EDITABLE_FIELDS}
    values["kind"] = petition.kind
    values["legal_purpose"] = petition.legal_purpose or ""
    return {k: ("" if v is None else v) for k, v in values.items()}


def missing_for_submission(petition: Petition) -> list[str]:
    missing = []
    if not petition.title.strip():
        missing.append(_("le titre"))
    if not petition.request.strip():
        missing.append(_("ce que vous demandez à la commune"))
    return missing


def submit(db: Session, actor: Actor, territory_id: int, public_id: str) -> Petition:
    petition = get_visible(db, actor, territory_id, public_id, for_update=True)
    if petition.state != PetitionState.DRAFT:
        raise _conflict(petition)
    if not perm.can_submit(actor, petition):
        raise Forbidden(_("Seul·e l'auteur·rice de la pétition peut la déposer."))
    missing = missing_for_submission(petition)
    if missing:
        raise Invalid(_("Avant de déposer, complétez : %(fields)s.") % {"fields": ", ".join(missing)})
    petition.state = PetitionState.SUBMITTED.value
    petition.submitted_at = utcnow()
    db.flush()
    audit.record(db, actor, "petition.submit", "petition", petition.public_id, territory_id=territory_id)
    return petition


def withdraw(db: Session, actor: Actor, territory_id: int, public_id: str) -> Petition:
    petition = get_visible(db, actor, territory_id, public_id, for_update=True)
    if petition.state not in perm.WITHDRAWABLE_STATES:
        raise _conflict(petition)
    if not perm.can_withdraw(actor, petition):
        raise Forbidden(_("Seul·e l'auteur·rice de la pétition peut la retirer."))
    previous = petition.state
    petition.state = PetitionState.WITHDRAWN.value
    db.flush()
    audit.record(
        db, actor, "petition.withdraw", "petition", petition.public_id, territory_id=territory_id,
        data={"from": previous},
    )  # fmt: skip
    return petition


# ---------------------------------------------------------------- moderation against the charter


@dataclass(frozen=True)
class CharterItem:
    key: str
    label: str


def charter(rules: PetitionRules) -> list[CharterItem]:
    """The territory's published charter: the only reasons a petition may be refused for."""
    return [CharterItem(r.key, _(r.label)) for r in rules.charter]


def charter_label(rules: PetitionRules, key: str) -> str:
    for item in charter(rules):
        if item.key == key:
            return item.label
    return key


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_date(moment: dt.datetime, timezone: str) -> dt.date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def publish(db: Session, actor: Actor, territory: TerritoryContext, public_id: str) -> Petition:
    """Submitted -> open: the open period starts and the thresholds in force are frozen on it."""
    petition = get_visible(db, actor, territory.id, public_id, for_update=True)
    if petition.state != PetitionState.SUBMITTED:
        raise _conflict(petition)
    if not perm.can_moderate(actor, petition):
        raise Forbidden(_("Seul·es les agent·es de la commune publient les pétitions."))
    rules = territory.settings.petitions
    now = utcnow()
    petition.state = PetitionState.OPEN.value
    petition.opened_at = now
    petition.closes_on = add_months(local_date(now, territory.timezone), rules.open_period_months)
    if petition.kind == PetitionKind.LEGAL:
        petition.electors_frozen = territory.registered_electors
        petition.answer_threshold = math.ceil(territory.registered_electors / 10)
        petition.council_threshold = 0
        petition.threshold_basis = "total"  # every signer is a registered elector of the commune
        petition.legal_stage = LegalStage.COLLECTING.value
    else:
        thresholds = petition_thresholds(territory)
        petition.answer_threshold = thresholds.answer
        petition.council_threshold = thresholds.council
        petition.threshold_basis = rules.threshold_basis
    db.flush()
    audit.record(
        db, actor, "petition.publish", "petition", petition.public_id, territory_id=territory.id,
        data={
            "closes_on": petition.closes_on.isoformat(),
            "answer_threshold": petition.answer_threshold,
            "council_threshold": petition.council_threshold,
            "threshold_basis": petition.threshold_basis,
            "electors_frozen": petition.electors_frozen,
        },
    )  # fmt: skip
    return petition


def reject(
    db: Session, actor: Actor, territory: TerritoryContext, public_id: str, reason: str, comment: str = ""
) -> Petition:
    petition = get_visible(db, actor, territory.id, public_id, for_update=True)
    if petition.state != PetitionState.SUBMITTED:
        raise _conflict(petition)
    if not perm.can_moderate(actor, petition):
        raise Forbidden(_("Seul·es les agent·es de la commune examinent les pétitions."))
    keys = {item.key for item in charter(territory.settings.petitions)}
    if reason not in keys:
        raise Invalid(_("Choisissez un motif de la charte des pétitions."), field="reason")
    petition.state = PetitionState.REJECTED.value
    petition.rejected_at = utcnow()
    petition.rejection_reason = reason
    petition.rejection_comment = comment
    db.flush()
    audit.record(
        db, actor, "petition.reject", "petition", petition.public_id, territory_id=territory.id,
        reason=comment, data={"charter_reason": reason},
    )  # fmt: skip
    return petition


def close_expired(db: Session, now: dt.datetime | None = None) -> int:
    """Open petitions whose period ended (``closes_on`` before the town's local date) are closed."""
    now = now or utcnow()
    rows = db.execute(
        select(Petition, Territory.timezone)
        .join(Territory, Territory.id == Petition.territory_id)
        .where(Petition.state == PetitionState.OPEN.value, Petition.closes_on.is_not(None))
        .where(Petition.closes_on < (now + dt.timedelta(days=1)).date())
        .with_for_update(of=Petition)
    ).all()
    closed = 0
    for petition, timezone in rows:
        assert petition.closes_on is not None
        if petition.closes_on >= local_date(now, timezone):
            continue
        petition.state = PetitionState.CLOSED.value
        petition.closed_at = now
        db.flush()
        audit.record(
            db, SYSTEM, "petition.close", "petition", petition.public_id, territory_id=petition.territory_id,
            data={"closes_on": petition.closes_on.isoformat()},
        )  # fmt: skip
        closed += 1
    return closed


# ---------------------------------------------------------------- from a declined initiative


def from_initiative(db: Session, actor: Actor, territory_id: int, initiative_public_id: str) -> Petition:
    """A declined initiative's promoters turn it into a petition: a pre-filled draft, linked both
    ways (``from_initiative_id``; the initiative page finds it). Asking again opens the same draft."""
    # Imported here: the initiatives domain does not depend on the petitions.
    from app.initiatives import service as initiatives

    initiative, members = initiatives.get_visible(db, actor, territory_id, initiative_public_id)
    if not initiative_perm.is_member(actor, initiative, members):
        raise Forbidden(_("Seul·es les porteur·ses du projet peuvent en faire une pétition."))
    if initiative.state != InitiativeState.DECLINED:
        raise Conflict(_("Seule une initiative que la commune n'a pas retenue peut devenir une pétition."))
    existing = db.scalar(
        select(Petition).where(
            Petition.territory_id == territory_id,
            Petition.from_initiative_id == initiative.id,
            Petition.state != PetitionState.WITHDRAWN.value,
        )
    )
    if existing is not None:
        return existing
    data = PetitionInput(
        title=initiative.title[:200],
        request=initiative.general_interest[:2000],
        body=initiative.description[:20_000],
        neighbourhood_id=initiative.neighbourhood_id,
        theme_id=initiative.theme_id,
    )
    return start(db, actor, territory_id, data, from_initiative_id=initiative.id)


def petition_of_initiative(db: Session, viewer: Actor | None, initiative: Initiative) -> Petition | None:
    """The petition a declined initiative became, if the viewer may see it."""
    petition = db.scalar(
        select(Petition)
        .where(
            Petition.territory_id == initiative.territory_id,
            Petition.from_initiative_id == initiative.id,
            Petition.state != PetitionState.WITHDRAWN.value,
        )
        .order_by(Petition.id.desc())
        .limit(1)
    )
    return petition if petition is not None and perm.can_view(viewer, petition) else None


# ---------------------------------------------------------------- pages


@dataclass(frozen=True)
class PetitionCard:
    public_id: str
    title: str
    request: str
    kind: str
    state: str
    state_label: str
    neighbourhood: str
    theme: str
    total: int
    town: int
    basis_count: int
    next_threshold: int
    closes_on: dt.date | None
    answer_threshold_reached_at: dt.datetime | None
    answered: bool


@dataclass(frozen=True)
class ListPage:
    cards: list[PetitionCard]
    total: int
    page: int
    pages: int
    filters: PetitionFilters


def tab_clause(tab: str) -> object:
    answered = exists().where(PetitionAnswer.petition_id == Petition.id, PetitionAnswer.published_at.is_not(None))
    if tab == "open":
        return Petition.state == PetitionState.OPEN.value
    if tab == "closed":
        return Petition.state == PetitionState.CLOSED.value
    if tab == "answered":
        return answered
    if tab == "awaiting":
        # Legal requests await the council's decision, not an official answer.
        return and_(
            Petition.kind == PetitionKind.CIVIC.value, Petition.answer_threshold_reached_at.is_not(None), ~answered
        )
    return None


def list_page(db: Session, territory_id: int, filters: PetitionFilters) -> ListPage:
    """The public list: open and closed petitions, filtered; two queries whatever the page's length."""
    hood = aliased(Neighbourhood)
    theme = aliased(Theme)
    answer = aliased(PetitionAnswer)
    conditions = [
        Petition.territory_id == territory_id,
        Petition.state.in_([s.value for s in perm.PUBLIC_STATES]),
        ~hidden_clause(PETITION, Petition.public_id),
    ]
    tab = tab_clause(filters.tab)
    if tab is not None:
        conditions.append(tab)  # type: ignore[arg-type]
    if filters.neighbourhood:
        conditions.append(hood.public_id == filters.neighbourhood)
    if filters.theme:
        conditions.append(theme.public_id == filters.theme)
    if filters.q:
        found = search.list_condition(db, filters.q)
        if found is not None:
            conditions.append(found)
    base = (
        select(Petition.id)
        .outerjoin(hood, hood.id == Petition.neighbourhood_id)
        .outerjoin(theme, theme.id == Petition.theme_id)
        .where(*conditions)
    )
    total = db.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(filters.page, pages)
    rows = db.execute(
        select(Petition, hood.name, theme.name, PetitionCount.total, PetitionCount.town, answer.published_at)
        .outerjoin(hood, hood.id == Petition.neighbourhood_id)
        .outerjoin(theme, theme.id == Petition.theme_id)
        .outerjoin(PetitionCount, PetitionCount.petition_id == Petition.id)
        .outerjoin(answer, answer.petition_id == Petition.id)
        .where(*conditions)
        .order_by(Petition.opened_at.desc(), Petition.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    cards = []
    for p, hood_name, theme_name, total_count, town_count, published_at in rows:
        total_count, town_count = total_count or 0, town_count or 0
        basis = town_count if p.threshold_basis == "town" else total_count
        cards.append(
            PetitionCard(
                public_id=p.public_id,
                title=p.title,
                request=p.request,
                kind=p.kind,
                state=p.state,
                state_label=state_label(p.state),
                neighbourhood=hood_name or "",
                theme=theme_name or "",
                total=total_count,
                town=town_count,
                basis_count=basis,
                next_threshold=next_threshold(p),
                closes_on=p.closes_on,
                answer_threshold_reached_at=p.answer_threshold_reached_at,
                answered=published_at is not None,
            )
        )
    return ListPage(cards=cards, total=total, page=page, pages=pages, filters=filters)


def next_threshold(petition: Petition) -> int:
    """The threshold the petition works towards (0: none left)."""
    if petition.answer_threshold and petition.answer_threshold_reached_at is None:
        return petition.answer_threshold
    if petition.council_threshold and petition.council_threshold_reached_at is None:
        return petition.council_threshold
    return 0


def filter_options(db: Session, territory_id: int) -> dict[str, list[tuple[str, str]]]:
    hoods = db.execute(
        select(Neighbourhood.public_id, Neighbourhood.name)
        .where(Neighbourhood.territory_id == territory_id)
        .order_by(Neighbourhood.position, Neighbourhood.name)
    ).all()
    themes = db.execute(
        select(Theme.public_id, Theme.name).where(Theme.territory_id == territory_id).order_by(Theme.name)
    ).all()
    return {"neighbourhoods": [(a, b) for a, b in hoods], "themes": [(a, b) for a, b in themes]}


@dataclass(frozen=True)
class PetitionPage:
    petition: Petition
    state_label: str
    author_name: str
    neighbourhood: str
    theme: str
    from_initiative: tuple[str, str] | None  # public id, title (when the viewer may open it)
    converted_initiative: tuple[str, str] | None
    rejection_label: str
    legal_stage_label: str
    is_author: bool
    is_staff: bool
    can_edit: bool
    can_submit: bool
    can_withdraw: bool
    can_moderate: bool
    can_convert: bool
    hidden: HiddenContent | None  # hidden by an agent: only its author and the staff get here
    can_report: bool
    can_hide: bool  # the territory's agents moderate published petitions


def _initiative_link(db: Session, viewer: Actor | None, initiative_id: int | None) -> tuple[str, str] | None:
    if initiative_id is None:
        return None
    from app.initiatives import service as initiatives

    initiative = db.get(Initiative, initiative_id)
    if initiative is None:
        return None
    try:
        initiatives.get_visible(db, viewer, initiative.territory_id, initiative.public_id)
    except NotFound:
        return None
    return initiative.public_id, initiative.title


def page(db: Session, viewer: Actor | None, territory: TerritoryContext, public_id: str) -> PetitionPage:
    petition = get_visible(db, viewer, territory.id, public_id)
    hidden = db.scalar(
        select(HiddenContent).where(
            HiddenContent.subject_type == PETITION, HiddenContent.subject_id == petition.public_id
        )
    )
    author = db.get(Person, petition.author_person_id) if petition.author_person_id else None
    staff = perm.is_staff(viewer, territory.id)
    hood = db.get(Neighbourhood, petition.neighbourhood_id) if petition.neighbourhood_id else None
    theme = db.get(Theme, petition.theme_id) if petition.theme_id else None
    return PetitionPage(
        petition=petition,
        state_label=state_label(petition.state),
        author_name=public_name(author) if author is not None else _("ancien·ne habitant·e"),
        neighbourhood=hood.name if hood else "",
        theme=theme.name if theme else "",
        from_initiative=_initiative_link(db, viewer, petition.from_initiative_id),
        converted_initiative=_initiative_link(db, viewer, petition.converted_initiative_id),
        rejection_label=charter_label(territory.settings.petitions, petition.rejection_reason)
        if petition.rejection_reason
        else "",
        legal_stage_label=_(LEGAL_STAGE_LABELS[LegalStage(petition.legal_stage)]) if petition.legal_stage else "",
        is_author=perm.is_author(viewer, petition),
        is_staff=staff,
        can_edit=perm.can_edit(viewer, petition),
        can_submit=perm.can_submit(viewer, petition),
        can_withdraw=perm.can_withdraw(viewer, petition),
        can_moderate=perm.can_moderate(viewer, petition),
        can_convert=perm.can_convert(viewer, petition),
        hidden=hidden,
        can_report=perm.can_report(viewer, petition, hidden is not None),
        can_hide=perm.is_public(petition) and perm.is_agent(viewer, territory.id),
    )


@dataclass(frozen=True)
class QueueRow:
    public_id: str
    title: str
    kind: str
    submitted_at: dt.datetime | None


def moderation_queue(db: Session, actor: Actor, territory_id: int) -> list[QueueRow]:
    """Submitted petitions, oldest first (agents only)."""
    if not perm.is_staff(actor, territory_id):
        raise Forbidden(_("Cette page est réservée au personnel habilité de la commune."))
    rows = db.execute(
        select(Petition.public_id, Petition.title, Petition.kind, Petition.submitted_at)
        .where(Petition.territory_id == territory_id, Petition.state == PetitionState.SUBMITTED.value)
        .order_by(Petition.submitted_at, Petition.id)
    ).all()
    return [QueueRow(*r) for r in rows]


@dataclass(frozen=True)
class DueRow:
    public_id: str
    title: str
    answer_due_on: dt.date | None
    drafted: bool


def answers_due(db: Session, actor: Actor, territory_id: int) -> list[DueRow]:
    """Civic petitions past their answer threshold whose answer is not published, soonest due first."""
    if not perm.is_staff(actor, territory_id):
        raise Forbidden(_("Cette page est réservée au personnel habilité de la commune."))
    rows = db.execute(
        select(Petition.public_id, Petition.title, Petition.answer_due_on, PetitionAnswer.id)
        .outerjoin(PetitionAnswer, PetitionAnswer.petition_id == Petition.id)
        .where(
            Petition.territory_id == territory_id,
            Petition.kind == PetitionKind.CIVIC.value,
            Petition.answer_threshold_reached_at.is_not(None),
            Petition.state.in_([s.value for s in perm.PUBLIC_STATES]),
            PetitionAnswer.published_at.is_(None),
        )
        .order_by(Petition.answer_due_on, Petition.id)
    ).all()
    return [DueRow(public_id, title, due, answer_id is not None) for public_id, title, due, answer_id in rows]


def mine(db: Session, actor: Actor, territory_id: int) -> list[Petition]:
    if actor.person_id is None:
        return []
    return list(
        db.scalars(
            select(Petition)
            .where(Petition.territory_id == territory_id, Petition.author_person_id == actor.person_id)
            .where(or_(Petition.state != PetitionState.WITHDRAWN.value))
            .order_by(Petition.id.desc())
        )
    )


@dataclass(frozen=True)
class SignedRow:
    petition: Petition
    state_label: str
    legal_stage_label: str
    signed_at: dt.datetime
    counted: bool  # False: waiting for the e-mail's confirmation, or kept aside for an agent's check
    roll_status: str | None  # legal requests, once checked against the electoral roll


def signed(db: Session, actor: Actor, territory_id: int) -> list[SignedRow]:
    """The petitions the person signed with their account and did not withdraw, latest first, in one
    query: how legal-request signers (who get no notifications) follow what became of them."""
    if actor.person_id is None or actor.territory_id != territory_id:
        return []
    rows = db.execute(
        select(Petition, PetitionSignature)
        .join(PetitionSignature, PetitionSignature.petition_id == Petition.id)
        .where(
            Petition.territory_id == territory_id,
            PetitionSignature.person_id == actor.person_id,
            PetitionSignature.withdrawn_at.is_(None),
        )
        .order_by(PetitionSignature.id.desc())
    ).all()
    return [
        SignedRow(
            petition=petition,
            state_label=state_label(petition.state),
            legal_stage_label=_(LEGAL_STAGE_LABELS[LegalStage(petition.legal_stage)]) if petition.legal_stage else "",
            signed_at=signature.created_at,
            counted=signature.counted_at is not None and signature.invalidated_at is None,
            roll_status=signature.roll_status,
        )
        for petition, signature in rows
    ]
