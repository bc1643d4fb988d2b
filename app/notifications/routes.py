"""Notification preferences (signed in) and the one-click unsubscribe link (from any mail client)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.core.errors import Invalid
from app.notifications import service
from app.notifications.kinds import all_kinds, frequency_label
from app.web.auth import CurrentViewer
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, clean_text
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect
from app.web.templating import render, url

router = APIRouter()


def _preferences_page(
    request: Request,
    db: Session,
    person_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "kinds": all_kinds(),
        "values": values if values is not None else service.preferences(db, person_id),
        "errors": errors or {},
        "frequency_label": frequency_label,
        "notifications": service.recent_notifications(db, person_id),
    }
    return render(request, "pages/notifications/preferences.html", context, status_code=status_code)


@router.get(service.PREFERENCES_PATH, name="notifications:preferences")
def show_preferences(request: Request, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    assert viewer.person_id is not None
    return _preferences_page(request, db, viewer.person_id)


@router.post(service.PREFERENCES_PATH)
def save_preferences(request: Request, viewer: CurrentViewer, db: WriteSession, form: FormDep) -> Response:
    assert viewer.person_id is not None
    # A kind the form does not mention keeps its current frequency.
    choices = {
        k.key: clean_text(str(form.get(f"kind-{k.key}", "")))
        for k in all_kinds()
        if k.can_disable and f"kind-{k.key}" in form
    }
    try:
        service.set_preferences(db, viewer, choices)
    except Invalid as exc:
        values = {**service.preferences(db, viewer.person_id), **choices}
        return _preferences_page(
            request, db, viewer.person_id, values=values, errors={exc.field or "__all__": exc.message}, status_code=422
        )
    claim_form_nonce(request, db, form, viewer.territory_id or 0)
    return redirect(request, url(request, "notifications:preferences"), flash=_("Vos préférences sont enregistrées."))


@router.get(service.UNSUBSCRIBE_PATH + "/{token}", name="notifications:unsubscribe")
def confirm_unsubscribe(request: Request, token: str, territory: CurrentTerritory, db: ReadSession) -> HTMLResponse:
    target = service.resolve_unsubscribe(db, territory.id, request.app.state.secret_key, token)
    return render(request, "pages/notifications/unsubscribe.html", {"target": target, "token": token, "done": False})


@router.post(service.UNSUBSCRIBE_PATH + "/{token}")
def unsubscribe(request: Request, token: str, territory: CurrentTerritory, db: WriteSession) -> HTMLResponse:
    # No CSRF token here (RFC 8058: mail providers POST without cookies): the signed token decides.
    target = service.resolve_unsubscribe(db, territory.id, request.app.state.secret_key, token)
    service.unsubscribe(db, target)
    return render(request, "pages/notifications/unsubscribe.html", {"target": target, "token": token, "done": True})
