"""The development outbox: the e-mails the app would have sent, readable in the browser.

Mounted only outside production (see ``create_app``), and it refuses to answer in production anyway.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.core.errors import NotFound
from app.mail.service import list_outbox
from app.web.deps import CurrentTerritory, ReadSession
from app.web.i18n import _
from app.web.templating import render

router = APIRouter()


@router.get("/dev/outbox", name="mail:outbox")
def outbox(request: Request, territory: CurrentTerritory, db: ReadSession) -> HTMLResponse:
    if request.app.state.settings.is_production:
        raise NotFound(_("Page introuvable."))
    emails = list_outbox(db, territory.id)
    return render(request, "pages/dev/outbox.html", {"emails": emails}, headers={"Cache-Control": "no-store"})
