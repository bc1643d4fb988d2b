"""The ledger of an initiative: add, cancel and confirm lines, and the live preview of the balance.

Without JavaScript every form posts and is redirected (303) back to the initiative; with HTMX the
panel (or only the balance, for the preview) is re-rendered in place.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.routing import NoMatchFound

from app.core.actor import Actor
from app.core.errors import Invalid
from app.initiatives.models import Initiative
from app.ledger import service as ledger
from app.ledger.forms import LineForm
from app.web.auth import CurrentViewer, MaybeViewer
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect
from app.web.templating import is_htmx, render, url

router = APIRouter()


def initiative_url(request: Request, public_id: str) -> str:
    """The initiative's page, or the ledger page while the initiative pages are not installed."""
    try:
        return url(request, "initiatives:show", public_id=public_id)
    except NoMatchFound:
        return url(request, "ledger:show", public_id=public_id)


def _panel(
    request: Request,
    db: Session,
    actor: Actor | None,
    initiative: Initiative,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    status_code: int = 200,
    view: ledger.LedgerView | None = None,
) -> HTMLResponse:
    """The panel alone for HTMX, else the ledger page around it."""
    context = {
        "ledger": view or ledger.ledger_view(db, actor, initiative),
        "initiative": initiative,
        "values": values or {},
        "errors": errors or {},
        "message": message,
        "back_url": initiative_url(request, initiative.public_id),
    }
    template = "partials/ledger/panel.html" if is_htmx(request) else "pages/funds/ledger.html"
    return render(request, template, context, status_code=status_code)


def _done(request: Request, db: Session, viewer: Actor, public_id: str, territory_id: int, message: str) -> Response:
    if not is_htmx(request):
        return redirect(request, initiative_url(request, public_id), flash=message)
    remember_result(request, initiative_url(request, public_id))
    initiative = ledger.get_initiative(db, territory_id, public_id)
    return _panel(request, db, viewer, initiative, message=message)


@router.get("/initiatives/{public_id}/registre", name="ledger:show")
def show(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer, db: ReadSession
) -> HTMLResponse:
    initiative = ledger.get_initiative(db, territory.id, public_id)
    return _panel(request, db, viewer, initiative)


@router.post("/initiatives/{public_id}/registre/lignes", name="ledger:add_line")
def add_line(
    request: Request,
    public_id: str,
    territory: CurrentTerritory,
    viewer: CurrentViewer,
    db: WriteSession,
    form: FormDep,
) -> Response:
    result = validate_form(LineForm, form)
    try:
        if result.data is None:
            raise Invalid(next(iter(result.errors.values())), field=next(iter(result.errors)))
        data = result.data.to_input()
        # A refused line leaves nothing behind, not even the used form nonce.
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            ledger.add_line(db, viewer, public_id, territory.id, data)
    except Invalid as exc:
        errors = result.errors or {exc.field or "__all__": exc.message}
        initiative = ledger.get_initiative(db, territory.id, public_id)
        return _panel(request, db, viewer, initiative, values=result.values, errors=errors, status_code=422)
    return _done(request, db, viewer, public_id, territory.id, _("La ligne est ajoutée au registre."))


@router.post("/initiatives/{public_id}/registre/apercu", name="ledger:preview")
def preview(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession, form: FormDep
) -> HTMLResponse:
    """The balance with the line being typed included; writes nothing."""
    initiative = ledger.get_initiative(db, territory.id, public_id)
    result = validate_form(LineForm, form)
    problem = ""
    candidate = None
    try:
        if result.data is None:
            raise Invalid(next(iter(result.errors.values())), field=next(iter(result.errors)))
        candidate = ledger.preview_line(db, viewer, initiative, result.data.to_input())
    except Invalid as exc:
        problem = exc.message
    balance = ledger.balance(db, initiative, candidate)
    if is_htmx(request):
        context = {"balance": balance, "preview": True, "preview_error": problem}
        return render(request, "partials/ledger/balance.html", context)
    view = dataclasses.replace(ledger.ledger_view(db, viewer, initiative), balance=balance)
    return _panel(request, db, viewer, initiative, values=result.values, view=view)


@router.post("/initiatives/{public_id}/registre/lignes/{line_id}/annuler", name="ledger:cancel_line")
def cancel_line(
    request: Request,
    public_id: str,
    line_id: str,
    territory: CurrentTerritory,
    viewer: CurrentViewer,
    db: WriteSession,
    form: FormDep,
) -> Response:
    claim_form_nonce(request, db, form, territory.id)
    ledger.cancel_line(db, viewer, public_id, territory.id, line_id)
    return _done(request, db, viewer, public_id, territory.id, _("La ligne est annulée."))


@router.post("/initiatives/{public_id}/registre/lignes/{line_id}/securiser", name="ledger:secure_line")
def secure_line(
    request: Request,
    public_id: str,
    line_id: str,
    territory: CurrentTerritory,
    viewer: CurrentViewer,
    db: WriteSession,
    form: FormDep,
) -> Response:
    claim_form_nonce(request, db, form, territory.id)
    ledger.secure_line(db, viewer, public_id, territory.id, line_id)
    return _done(request, db, viewer, public_id, territory.id, _("L'apport est confirmé."))
