"""JSON API under /api/v1, documented at /openapi.json. Authenticated with personal access tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.api import service
from app.api.deps import ReadScope
from app.api.schemas import PROBLEM_RESPONSES, Me, TerritoryInfo
from app.web.deps import CurrentTerritory, ReadSession

router = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEM_RESPONSES)


@router.get("/me", response_model=Me, summary="The person this token belongs to")
def me(request: Request, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession) -> Me:
    return service.me(db, viewer, territory, request.state.api_token_scopes)


@router.get("/territory", response_model=TerritoryInfo, summary="Public facts of this territory (no token needed)")
def territory_info(territory: CurrentTerritory, db: ReadSession) -> TerritoryInfo:
    return service.territory_info(db, territory)
