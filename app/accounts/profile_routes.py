"""« Mon espace »: profile, password, sessions and personal access tokens of the signed-in person."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from app.accounts import service, tokens
from app.accounts.forms import PasswordChangeForm, ProfileForm, TokenForm
from app.accounts.roles import ROLE_LABELS, role_label
from app.accounts.routes import AGE_BRACKETS, no_store, optional_url, public_values
from app.accounts.viewer import Viewer
from app.core.errors import Invalid
from app.territories.service import list_neighbourhoods
from app.web.auth import CurrentViewer
from app.web.deps import ReadSession, WriteSession
from app.web.forms import claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _, use_locale
from app.web.responses import redirect
from app.web.templating import is_htmx, render, url

router = APIRouter()

LOCALE_NAMES = (("fr", "Français"), ("en", "English"))
OTHER_PAGES = {
    "export": "privacy:export",
    "delete": "privacy:delete",
    "notifications": "notifications:preferences",
}


def _profile_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    *,
    profile_errors: dict[str, str] | None = None,
    profile_values: dict[str, Any] | None = None,
    password_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    profile = service.get_profile(db, viewer)
    values = profile_values or {
        "display_name": profile.display_name,
        "neighbourhood_id": profile.neighbourhood_id or "",
        "locale": profile.locale,
    }
    context = {
        "profile": profile,
        "age_label": _(dict(AGE_BRACKETS).get(profile.age_bracket, "")) if profile.age_bracket else "",
        "roles": [role_label(r) for r in ROLE_LABELS if r in viewer.roles],
        "neighbourhoods": [(n.id, n.name) for n in list_neighbourhoods(db, viewer.territory_id or 0)],
        "locales": LOCALE_NAMES,
        "profile_errors": profile_errors or {},
        "profile_values": values,
        "password_errors": password_errors or {},
        "links": {key: optional_url(request, name) for key, name in OTHER_PAGES.items()},
    }
    return no_store(render(request, "pages/profile/show.html", context, status_code=status))


@router.get("/mon-espace", name="profile:show")
def show(request: Request, viewer: CurrentViewer, db: ReadSession) -> Response:
    return _profile_page(request, db, viewer)


@router.post("/mon-espace/profil", name="profile:update")
def update(request: Request, viewer: CurrentViewer, db: WriteSession, form: FormDep) -> Response:
    result = validate_form(ProfileForm, form)
    if result.data is None:
        return _profile_page(
            request, db, viewer, profile_errors=result.errors, profile_values=result.values, status=422
        )
    data = result.data
    try:
        service.update_profile(
            db, viewer, display_name=data.display_name, neighbourhood_id=data.neighbourhood_id, locale=data.locale
        )
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _profile_page(request, db, viewer, profile_errors=errors, profile_values=result.values, status=422)
    with use_locale(data.locale):  # the page follows the language just chosen
        target = url(request, "profile:show")
        message = _("Votre profil est enregistré.")
    return no_store(redirect(request, target, flash=message))


@router.post("/mon-espace/mot-de-passe", name="profile:password")
def change_password(request: Request, viewer: CurrentViewer, db: WriteSession, form: FormDep) -> Response:
    result = validate_form(PasswordChangeForm, form)
    if result.data is None:
        return _profile_page(request, db, viewer, password_errors=result.errors, status=422)
    try:
        service.change_password(db, viewer, result.data.current_password, result.data.new_password)
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _profile_page(request, db, viewer, password_errors=errors, status=422)
    message = _("Votre mot de passe est changé. Vos autres sessions ont été fermées.")
    return no_store(redirect(request, url(request, "profile:show"), flash=message))


# --- Sessions -----------------------------------------------------------------------------------


def _sessions_page(request: Request, db: Session, viewer: Viewer, message: str | None = None) -> Response:
    context = {"sessions": service.list_sessions(db, viewer), "current_id": viewer.session_id, "message": message}
    return no_store(render(request, "pages/profile/sessions.html", context, block="sessions_panel"))


@router.get("/mon-espace/sessions", name="profile:sessions")
def sessions_list(request: Request, viewer: CurrentViewer, db: ReadSession) -> Response:
    return _sessions_page(request, db, viewer)


@router.post("/mon-espace/sessions/{session_id}/revoquer", name="profile:revoke_session")
def revoke_session(request: Request, session_id: str, viewer: CurrentViewer, db: WriteSession) -> Response:
    service.revoke_session(db, viewer, session_id)
    message = _("La session a été fermée.")
    if is_htmx(request):
        db.flush()
        return _sessions_page(request, db, viewer, message)
    return no_store(redirect(request, url(request, "profile:sessions"), flash=message))


@router.post("/mon-espace/sessions/revoquer-les-autres", name="profile:revoke_other_sessions")
def revoke_others(request: Request, viewer: CurrentViewer, db: WriteSession) -> Response:
    count = service.revoke_other_sessions(db, viewer)
    message = _("Vos autres sessions ont été fermées (%(n)s).") % {"n": count}
    if is_htmx(request):
        return _sessions_page(request, db, viewer, message)
    return no_store(redirect(request, url(request, "profile:sessions"), flash=message))


# --- Personal access tokens ---------------------------------------------------------------------


def _tokens_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    created: tuple[Any, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "tokens": tokens.list_tokens(db, viewer),
        "is_active": tokens.is_active,
        "scope_label": tokens.scope_label,
        "scopes": [(s, tokens.scope_label(s)) for s in tokens.SCOPES],
        "errors": errors or {},
        "values": values if values is not None else {"scopes": ["read"]},
        "created": created,
    }
    return no_store(render(request, "pages/profile/tokens.html", context, status_code=status))


@router.get("/mon-espace/jetons", name="profile:tokens")
def tokens_list(request: Request, viewer: CurrentViewer, db: ReadSession) -> Response:
    return _tokens_page(request, db, viewer)


@router.post("/mon-espace/jetons", name="profile:create_token")
def create_token(request: Request, viewer: CurrentViewer, db: WriteSession, form: FormDep) -> Response:
    result = validate_form(TokenForm, form, multi=("scopes",))
    if result.data is None:
        return _tokens_page(request, db, viewer, errors=result.errors, values=public_values(result.values), status=422)
    claim_form_nonce(request, db, form, viewer.territory_id or 0)
    data = result.data
    try:
        created = tokens.create_token(db, viewer, data.name, data.scopes, data.expires_in_days)
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _tokens_page(request, db, viewer, errors=errors, values=result.values, status=422)
    # The raw token is shown in this answer only (never stored); a resubmit lands on the list.
    remember_result(request, url(request, "profile:tokens"))
    return _tokens_page(request, db, viewer, created=created)


@router.post("/mon-espace/jetons/{public_id}/revoquer", name="profile:revoke_token")
def revoke_token(request: Request, public_id: str, viewer: CurrentViewer, db: WriteSession) -> Response:
    token = tokens.revoke_token(db, viewer, public_id)
    message = _("Le jeton « %(name)s » est révoqué.") % {"name": token.name}
    return no_store(redirect(request, url(request, "profile:tokens"), flash=message))
