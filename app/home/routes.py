from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.territories import service as territories
from app.web.deps import CurrentTerritory, ReadSession
from app.web.templating import render

router = APIRouter()


@router.get("/", name="home:index")
def index(request: Request, territory: CurrentTerritory, db: ReadSession) -> HTMLResponse:
    overview = territories.home_overview(db, territory)
    return render(request, "pages/home/index.html", {"overview": overview})
