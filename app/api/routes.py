"""JSON API under /api/v1, documented at /openapi.json. Authenticated with personal access tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from app.api import idempotency, service
from app.api.deps import ReadScope, WriteScope
from app.api.schemas import PROBLEM_RESPONSES, Me, MeUpdate, TerritoryInfo
from app.web.deps import CurrentTerritory, ReadSession, WriteSession

router = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEM_RESPONSES)


@router.get("/me", response_model=Me, summary="The person this token belongs to")
def me(request: Request, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession) -> Me:
    return service.me(db, viewer, territory, request.state.api_token_scopes)


@router.patch(
    "/me",
    response_model=Me,
    summary="Update one's display name, neighbourhood or language (scope: write)",
    description="Send an `Idempotency-Key` header to make retries harmless: the same key with the same "
    "body returns the first answer and changes nothing; with another body it is refused (422).",
)
def update_me(
    request: Request,
    body: MeUpdate,
    viewer: WriteScope,
    territory: CurrentTerritory,
    db: WriteSession,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    scopes: list[str] = request.state.api_token_scopes
    assert viewer.api_token_id is not None

    def action() -> tuple[int, dict[str, object]]:
        return 200, service.update_me(db, viewer, territory, body, scopes).model_dump(mode="json")

    status, payload = idempotency.run_once(
        db,
        territory_id=territory.id,
        api_token_id=viewer.api_token_id,
        key=idempotency_key,
        request_fingerprint=idempotency.fingerprint("PATCH", "/api/v1/me", body.model_dump(mode="json")),
        action=action,
    )
    return JSONResponse(payload, status_code=status)


@router.get("/territory", response_model=TerritoryInfo, summary="Public facts of this territory (no token needed)")
def territory_info(territory: CurrentTerritory, db: ReadSession) -> TerritoryInfo:
    return service.territory_info(db, territory)
