"""Fifty-fifty initiatives in the JSON API: the same services as the pages, under /api/v1.

Reads need a token with the ``read`` scope, writes the ``write`` scope; every write accepts an
``Idempotency-Key``. Visibility, rights and transitions are decided by the domain services
(``app.initiatives``, ``app.ledger``, ``app.review``): this module only parses, calls and shapes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.api import idempotency
from app.api.deps import ReadScope, WriteScope
from app.api.initiative_schemas import (
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    BalanceOut,
    BeneficiaryOut,
    DecisionBody,
    DecisionOut,
    InitiativeCreate,
    InitiativeDetail,
    InitiativePage,
    InitiativeSummary,
    LedgerOut,
    LineCreate,
    LineOut,
    MemberOut,
    ReviewAction,
    ReviewBody,
    WithdrawBody,
)
from app.api.schemas import PROBLEM_RESPONSES, Problem
from app.core.actor import Actor
from app.core.errors import Invalid, NotFound
from app.initiatives import permissions as perm
from app.initiatives import service as initiatives
from app.initiatives import workflow as wf
from app.initiatives.forms import InitiativeInput
from app.initiatives.models import Initiative, InitiativeMember, InitiativeState, ProjectType
from app.ledger import service as ledger
from app.ledger.models import CommitmentLine, LineState
from app.review import service as review
from app.territories.context import TerritoryContext
from app.territories.models import Neighbourhood, Theme
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.i18n import _

RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    409: {
        "model": Problem,
        "content": {"application/problem+json": {}},
        "description": "Not possible in the initiative's current state (an illegal transition changes nothing)",
    },
}
router = APIRouter(prefix="/api/v1", tags=["initiatives"], responses=RESPONSES)

IDEMPOTENCY_NOTE = (
    "Send an `Idempotency-Key` header to make retries harmless: the same key with the same body returns "
    "the first answer and changes nothing; with another body it is refused (422)."
)
IdempotencyKey = Annotated[str | None, Header(description="Makes a retry harmless (1 to 200 characters)")]


# ---------------------------------------------------------------- reading


def visible_clause(actor: Actor, territory_id: int) -> ColumnElement[bool]:
    """The SQL form of ``app.initiatives.permissions.can_view``: public initiatives, those the
    person acts for, and everything for the territory's staff."""
    if perm.is_staff(actor, territory_id):
        return true()
    public = or_(
        Initiative.state.in_([s.value for s in perm.PUBLIC_STATES]),
        and_(Initiative.state.in_([s.value for s in wf.PRIVATE_OUTCOMES]), Initiative.public_despite_outcome.is_(True)),
    )
    if actor.person_id is None or actor.territory_id != territory_id:
        return public
    mine = select(InitiativeMember.initiative_id).where(
        InitiativeMember.person_id == actor.person_id,
        InitiativeMember.accepted_at.is_not(None),
        InitiativeMember.role.in_([r.value for r in perm.ACTING_ROLES]),
    )
    return or_(public, Initiative.id.in_(mine))


def initiative_page(
    db: Session, actor: Actor, territory_id: int, state: InitiativeState | None, limit: int, offset: int
) -> InitiativePage:
    """One page of the visible initiatives, newest first, with their ledger totals (three queries)."""
    conditions = [Initiative.territory_id == territory_id, visible_clause(actor, territory_id)]
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


# ---------------------------------------------------------------- writing


def _once(
    request: Request,
    db: Session,
    viewer: Viewer,
    territory: TerritoryContext,
    key: str | None,
    body: BaseModel | None,
    action: Callable[[], tuple[int, BaseModel]],
) -> JSONResponse:
    """Runs ``action`` once per ``Idempotency-Key`` and answers its (status, model) as JSON."""
    assert viewer.api_token_id is not None

    def run() -> tuple[int, dict[str, Any]]:
        status, model = action()
        return status, model.model_dump(mode="json")

    payload = body.model_dump(mode="json") if body is not None else None
    status, answer = idempotency.run_once(
        db,
        territory_id=territory.id,
        api_token_id=viewer.api_token_id,
        key=key,
        request_fingerprint=idempotency.fingerprint(request.method, request.url.path, payload),
        action=run,
    )
    return JSONResponse(answer, status_code=status)


def _row_id(
    db: Session, model: type[Neighbourhood] | type[Theme], territory_id: int, public_id: str | None
) -> int | None:
    if not public_id:
        return None
    return db.scalar(select(model.id).where(model.public_id == public_id, model.territory_id == territory_id))


def initiative_input(db: Session, territory_id: int, body: InitiativeCreate) -> InitiativeInput:
    """The form's input, with the neighbourhood and the theme found by public id in this territory."""
    neighbourhood_id = _row_id(db, Neighbourhood, territory_id, body.neighbourhood_id)
    if body.neighbourhood_id and neighbourhood_id is None:
        raise Invalid(_("Quartier inconnu dans ce territoire."), field="neighbourhood_id")
    theme_id = _row_id(db, Theme, territory_id, body.theme_id)
    if body.theme_id and theme_id is None:
        raise Invalid(_("Choisissez une thématique de la liste."), field="theme_id")
    values = body.model_dump()
    values.update(neighbourhood_id=neighbourhood_id, theme_id=theme_id)
    return InitiativeInput.model_validate(values)


def line_input(body: LineCreate) -> ledger.LineInput:
    return ledger.LineInput(**body.model_dump())


def _base_url(request: Request) -> str:
    return f"{request.app.state.settings.base_scheme}://{request.url.netloc}"


def _review(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, action: str, body: ReviewBody
) -> None:
    settings = request.app.state.settings
    if action == "start":
        review.start_review(db, viewer, initiative, settings=settings)
    elif action == "changes":
        review.request_changes(db, viewer, initiative, body.message, settings=settings)
    elif action == "hold":
        review.put_on_hold(db, viewer, initiative, body.reason, body.resume_on, settings=settings)
    elif action == "resume":
        review.resume(db, viewer, initiative, settings=settings)
    else:
        review.resubmit(db, viewer, initiative, settings=settings)


# ---------------------------------------------------------------- routes


@router.get("/initiatives", response_model=InitiativePage, summary="The initiatives this token's person may see")
def list_initiatives(
    viewer: ReadScope,
    territory: CurrentTerritory,
    db: ReadSession,
    state: Annotated[InitiativeState | None, Query(description="Only the initiatives in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> InitiativePage:
    return initiative_page(db, viewer, territory.id, state, limit, offset)


@router.get(
    "/initiatives/{public_id}",
    response_model=InitiativeDetail,
    summary="An initiative with its team, its ledger lines and its balance",
)
def get_initiative(public_id: str, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession) -> InitiativeDetail:
    return initiative_detail(db, viewer, territory.id, public_id)


@router.post(
    "/initiatives",
    status_code=201,
    response_model=InitiativeDetail,
    summary="Propose an initiative, saved as a draft (scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def propose(
    request: Request, body: InitiativeCreate, viewer: WriteScope, territory: CurrentTerritory, db: WriteSession,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = initiatives.propose(db, viewer, territory.id, initiative_input(db, territory.id, body))
        return 201, initiative_detail(db, viewer, territory.id, initiative.public_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.post(
    "/initiatives/{public_id}/submit",
    response_model=InitiativeDetail,
    summary="Submit a draft to the town (scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def submit(
    request: Request, public_id: str, viewer: WriteScope, territory: CurrentTerritory, db: WriteSession,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        settings = request.app.state.settings
        initiatives.submit(db, viewer, territory, public_id, settings=settings, base_url=_base_url(request))
        return 200, initiative_detail(db, viewer, territory.id, public_id)

    return _once(request, db, viewer, territory, idempotency_key, None, action)


@router.post(
    "/initiatives/{public_id}/withdraw",
    response_model=InitiativeDetail,
    summary="Withdraw an initiative (its promoters; scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def withdraw(
    request: Request, public_id: str, viewer: WriteScope, territory: CurrentTerritory, db: WriteSession,
    body: Annotated[WithdrawBody | None, Body()] = None, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    data = body or WithdrawBody()

    def action() -> tuple[int, BaseModel]:
        initiatives.withdraw(db, viewer, territory.id, public_id, data.reason)
        return 200, initiative_detail(db, viewer, territory.id, public_id)

    return _once(request, db, viewer, territory, idempotency_key, data, action)


@router.post(
    "/initiatives/{public_id}/ledger/lines",
    status_code=201,
    response_model=LineOut,
    summary="Add a commitment line to the ledger (scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def add_line(
    request: Request, public_id: str, body: LineCreate, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        return 201, line_out(ledger.add_line(db, viewer, public_id, territory.id, line_input(body)))

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.post(
    "/initiatives/{public_id}/review/{action}",
    response_model=InitiativeDetail,
    summary="A review step: start, request changes, hold, resume or resubmit (scope: write)",
    description="`changes` needs a `message`, `hold` a `reason`. " + IDEMPOTENCY_NOTE,
)
def review_step(
    request: Request, public_id: str, action: ReviewAction, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, body: Annotated[ReviewBody | None, Body()] = None, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    data = body or ReviewBody()

    def run() -> tuple[int, BaseModel]:
        _review(request, db, viewer, review.get_initiative(db, viewer, public_id), action, data)
        return 200, initiative_detail(db, viewer, territory.id, public_id)

    return _once(request, db, viewer, territory, idempotency_key, data, run)


@router.post(
    "/initiatives/{public_id}/decision",
    status_code=201,
    response_model=DecisionOut,
    summary="The executive approves or declines an initiative in review (scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def decide(
    request: Request, public_id: str, body: DecisionBody, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        initiative = review.get_initiative(db, viewer, public_id)
        decision = review.decide(
            db, viewer, initiative, body.outcome, body.act_kind, body.act_reference, body.sitting or None,
            body.decided_on, body.reason, body.override_reason, body.waiting_list,
            settings=request.app.state.settings,
        )  # fmt: skip
        return 201, DecisionOut(
            public_id=decision.public_id, initiative_public_id=initiative.public_id, outcome=decision.outcome,
            act_kind=decision.act_kind, act_reference=decision.act_reference, decided_on=decision.decided_on,
            reason=decision.reason, snapshot=decision.snapshot,
        )  # fmt: skip

    return _once(request, db, viewer, territory, idempotency_key, body, action)
