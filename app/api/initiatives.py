"""Fifty-fifty initiatives in the JSON API: the same services as the pages, under /api/v1.

Reads need a token with the ``read`` scope, writes the ``write`` scope; every write accepts an
``Idempotency-Key``. Visibility, rights and transitions are decided by the domain services
(``app.initiatives``, ``app.ledger``, ``app.review``): this module only parses, calls and shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.api import idempotency
from app.api import initiative_service as service
from app.api.deps import ReadScope, WriteScope
from app.api.initiative_schemas import (
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    DecisionBody,
    DecisionOut,
    InitiativeCreate,
    InitiativeDetail,
    InitiativePage,
    LineCreate,
    LineOut,
    ReviewAction,
    ReviewBody,
    WithdrawBody,
)
from app.api.schemas import PROBLEM_RESPONSES, Problem
from app.initiatives import service as initiatives
from app.initiatives.models import Initiative, InitiativeState
from app.ledger import service as ledger
from app.review import service as review
from app.territories.context import TerritoryContext
from app.web.deps import CurrentTerritory, ReadSession, WriteSession

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
    return service.initiative_page(db, viewer, territory.id, state, limit, offset)


@router.get(
    "/initiatives/{public_id}",
    response_model=InitiativeDetail,
    summary="An initiative with its team, its ledger lines and its balance",
)
def get_initiative(public_id: str, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession) -> InitiativeDetail:
    return service.initiative_detail(db, viewer, territory.id, public_id)


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
        initiative = initiatives.propose(db, viewer, territory.id, service.initiative_input(db, territory.id, body))
        return 201, service.initiative_detail(db, viewer, territory.id, initiative.public_id)

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
        return 200, service.initiative_detail(db, viewer, territory.id, public_id)

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
        return 200, service.initiative_detail(db, viewer, territory.id, public_id)

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
        return 201, service.line_out(ledger.add_line(db, viewer, public_id, territory.id, service.line_input(body)))

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
        return 200, service.initiative_detail(db, viewer, territory.id, public_id)

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
