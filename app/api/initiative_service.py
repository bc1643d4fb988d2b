"""Read models and input conversion for the initiatives API, over the same services as the pages."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api.initiative_schemas import (
    BalanceOut,
    BeneficiaryOut,
    InitiativeCreate,
    InitiativeDetail,
    InitiativePage,
    InitiativeSummary,
    LedgerOut,
    LineCreate,
    LineOut,
    MemberOut,
)
from app.core.actor import Actor
from app.core.errors import Invalid, NotFound
from app.initiatives import permissions as perm
from app.initiatives import service as initiatives
from app.initiatives import workflow as wf
from app.initiatives.forms import InitiativeInput
from app.initiatives.models import Initiative, InitiativeState, ProjectType
from app.ledger import service as ledger
from app.ledger.models import CommitmentLine, LineState
from app.review import service as review
from app.territories.models import Neighbourhood, Theme
from app.web.i18n import _


def initiative_page(
    db: Session, actor: Actor, territory_id: int, state: InitiativeState | None, limit: int, offset: int
) -> InitiativePage:
    """One page of the visible initiatives, newest first, with their ledger totals (three queries)."""
    conditions = [Initiative.territory_id == territory_id, perm.visible_clause(actor, territory_id)]
    if state is not None:
        conditions.append(Initiative.state == state.value)
    total = db.scalar(select(func.count()).select_from(Initiative).where(*conditions)) or 0
    rows = db.execute(
        select(
            Initiative.id,
            Initiative.public_id,
            Initiative.title,
            Initiative.state,
            Initiative.project_type,
            Initiative.submitted_at,
            Neighbourhood.name,
            Theme.name,
        )
        .outerjoin(Neighbourhood, Neighbourhood.id == Initiative.neighbourhood_id)
        .outerjoin(Theme, Theme.id == Initiative.theme_id)
        .where(*conditions)
        .order_by(Initiative.created_at.desc(), Initiative.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    lines: dict[int, list[CommitmentLine]] = defaultdict(list)
    if rows:
        for line in db.scalars(
            select(CommitmentLine).where(
                CommitmentLine.initiative_id.in_([r[0] for r in rows]), CommitmentLine.state != LineState.CANCELLED
            )
        ):
            lines[line.initiative_id].append(line)
    items = []
    for iid, public_id, title, row_state, project_type, submitted_at, hood, theme in rows:
        totals = ledger.totals_of(lines[iid])
        items.append(
            InitiativeSummary(
                public_id=public_id,
                title=title,
                state=row_state,
                state_label=wf.state_label(row_state),
                neighbourhood=hood,
                theme=theme,
                project_type=ProjectType(project_type),
                submitted_at=submitted_at,
                residents_value_cents=totals.residents_value_cents,
                town_value_cents=totals.town_value_cents,
                town_cash_cents=totals.town_cash_cents,
                partners_value_cents=totals.partners_value_cents,
            )
        )
    return InitiativePage(items=items, total=total, limit=limit, offset=offset)


def line_out(line: CommitmentLine) -> LineOut:
    return LineOut.model_validate(line, from_attributes=True)


def _ledger_out(db: Session, actor: Actor, initiative: Initiative) -> LedgerOut | None:
    try:
        view = ledger.ledger_view(db, actor, initiative)
    except NotFound:  # the ledger is not shown to this person; the rest is
        return None
    b = view.balance
    leverage = (b.leverage_residents_per_town, b.leverage_town_per_residents)
    balance = BalanceOut(
        residents_value_cents=b.residents_value_cents,
        town_value_cents=b.town_value_cents,
        town_cash_cents=b.town_cash_cents,
        partners_value_cents=b.partners_value_cents,
        k_percent=b.k_percent,
        counted_residents_cents=b.counted_residents_cents,
        required_residents_cents=b.required_residents_cents,
        match_ok=b.match_ok,
        cap_cents=b.cap_cents,
        cap_ok=b.cap_ok,
        envelope_left_cents=b.envelope_left_cents,
        envelope_ok=b.envelope_ok,
        leverage_residents_per_town=None if leverage[0] is None else str(leverage[0]),
        leverage_town_per_residents=None if leverage[1] is None else str(leverage[1]),
        enforcement=b.enforcement,
        warnings=b.warnings,
    )
    lines = [line_out(row.line) for side in view.sides for row in side.rows]
    return LedgerOut(lines=lines, balance=balance, writable_sides=view.writable_sides, frozen=view.frozen)


def initiative_detail(db: Session, actor: Actor, territory_id: int, public_id: str) -> InitiativeDetail:
    """The workspace as the page shows it to this person (404 if they may not see it)."""
    ws = initiatives.workspace(db, actor, territory_id, public_id)
    i = ws.initiative
    panel = review.review_panel(db, actor, i)
    beneficiary = None
    if ws.beneficiary_public_name:
        kind = ws.beneficiary.kind if ws.beneficiary is not None else None
        beneficiary = BeneficiaryOut(kind=kind, name=ws.beneficiary_public_name)
    return InitiativeDetail(
        public_id=i.public_id,
        title=i.title,
        state=i.state,
        state_label=ws.state_label,
        description=i.description,
        general_interest=i.general_interest,
        residents_offer=i.residents_offer,
        town_request=i.town_request,
        project_type=ProjectType(i.project_type),
        neighbourhood=ws.neighbourhood or None,
        theme=ws.theme or None,
        fund=ws.fund or None,
        address=i.address,
        latitude=None if i.latitude is None else str(i.latitude),
        longitude=None if i.longitude is None else str(i.longitude),
        start_on=i.start_on,
        end_on=i.end_on,
        submitted_at=i.submitted_at,
        decision_due_on=i.decision_due_on,
        beneficiary=beneficiary,
        members=[
            MemberOut(
                public_id=m.public_id,
                role=m.role,
                role_label=m.role_label,
                name=(m.name or m.invited_email) if ws.private else m.public_name,
                pending=m.pending,
            )
            for m in ws.members
        ],
        ledger=_ledger_out(db, actor, i),
        can_edit=ws.can_edit,
        can_submit=ws.can_submit,
        can_withdraw=ws.can_withdraw,
        review_actions=panel.actions,
        can_decide=panel.can_decide,
    )


def row_id(
    db: Session, model: type[Neighbourhood] | type[Theme], territory_id: int, public_id: str | None
) -> int | None:
    if not public_id:
        return None
    return db.scalar(select(model.id).where(model.public_id == public_id, model.territory_id == territory_id))


def initiative_input(db: Session, territory_id: int, body: InitiativeCreate) -> InitiativeInput:
    """The form's input, with the neighbourhood and the theme found by public id in this territory."""
    neighbourhood_id = row_id(db, Neighbourhood, territory_id, body.neighbourhood_id)
    if body.neighbourhood_id and neighbourhood_id is None:
        raise Invalid(_("Quartier inconnu dans ce territoire."), field="neighbourhood_id")
    theme_id = row_id(db, Theme, territory_id, body.theme_id)
    if body.theme_id and theme_id is None:
        raise Invalid(_("Choisissez une thématique de la liste."), field="theme_id")
    values = body.model_dump()
    values.update(neighbourhood_id=neighbourhood_id, theme_id=theme_id)
    return InitiativeInput.model_validate(values)


def line_input(body: LineCreate) -> ledger.LineInput:
    return ledger.LineInput(**body.model_dump())
