"""The person's own data: download it (JSON) and delete the account."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.core.errors import Conflict, Invalid
from app.privacy import erasure, export
from app.web.auth import CurrentViewer, clear_session_cookie
from app.web.deps import ReadSession, WriteSession
from app.web.forms import claim_form_nonce
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect
from app.web.templating import render, url

router = APIRouter()


@router.get("/mon-espace/donnees.json", name="privacy:export")
def download_my_data(viewer: CurrentViewer, db: ReadSession) -> Response:
    document = export.build_export(db, viewer)
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="mes-donnees-cailloux.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/mon-espace/supprimer", name="privacy:delete")
def confirm_delete(request: Request, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    blockers = erasure.deletion_blockers(db, erasure.person_of(db, viewer))
    return render(
        request,
        "pages/privacy/delete.html",
        {"blockers": blockers, "errors": {}, "anonymous_name": erasure.ANONYMOUS_NAME},
    )


@router.post("/mon-espace/supprimer")
def delete_account(request: Request, viewer: CurrentViewer, db: WriteSession, form: FormDep) -> Response:
    request.app.state.rate_limiter.hit("login:account", str(viewer.account_id))
    password = form.get("password")
    try:
        erasure.delete_own_account(db, viewer, password if isinstance(password, str) else "")
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return render(
            request,
            "pages/privacy/delete.html",
            {"blockers": [], "errors": errors, "anonymous_name": erasure.ANONYMOUS_NAME},
            status_code=422,
        )
    except Conflict as exc:
        context = {"blockers": [exc.message], "errors": {}, "anonymous_name": erasure.ANONYMOUS_NAME}
        return render(request, "pages/privacy/delete.html", context, status_code=409)
    claim_form_nonce(request, db, form, viewer.territory_id or 0)
    response = redirect(
        request, url(request, "home:index"), flash=_("Votre compte a été supprimé. Merci d'avoir participé.")
    )
    clear_session_cookie(request, response)
    return response
