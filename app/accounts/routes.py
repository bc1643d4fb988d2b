"""Registration, e-mail verification, login, logout and password reset pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.routing import NoMatchFound

from app.accounts import service, sessions
from app.accounts.forms import ForgotForm, LoginForm, RegisterForm, ResetForm, VerifyForm
from app.accounts.models import AgeBracket
from app.config import Settings
from app.core.errors import Conflict, Invalid, NotFound
from app.territories.service import list_neighbourhoods
from app.web.auth import CurrentViewer, MaybeViewer, clear_session_cookie, session_token, set_session_cookie
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import N_, _, get_locale
from app.web.responses import redirect, safe_next
from app.web.templating import render, url

router = APIRouter()

AGE_BRACKETS: tuple[tuple[str, str], ...] = (
    (AgeBracket.UNDER_15, N_("Moins de 15 ans")),
    (AgeBracket.FROM_15_TO_17, N_("15 à 17 ans")),
    (AgeBracket.ADULT, N_("18 ans et plus")),
)
SECRET_FIELDS = ("password", "password_confirm", "current_password", "new_password", "new_password_confirm")
LINK_STATUS = {service.TOKEN_UNKNOWN: 404, service.TOKEN_USED: 410, service.TOKEN_EXPIRED: 410}


# --- Helpers shared with the profile pages ------------------------------------------------------


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def base_url(request: Request) -> str:
    """Scheme from the settings, host from the request (only hosts mapped to a territory get here)."""
    settings: Settings = request.app.state.settings
    return f"{settings.base_scheme}://{request.url.netloc}"


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def optional_url(request: Request, name: str) -> str | None:
    """A route's URL, or None while the route does not exist (pages built by other parts)."""
    try:
        return url(request, name)
    except NoMatchFound:
        return None


def public_values(values: dict[str, Any]) -> dict[str, Any]:
    """Form values to show again: never a password."""
    return {k: v for k, v in values.items() if k not in SECRET_FIELDS}


def email_key(raw: str) -> str:
    try:
        return service.normalise_email(raw)[1]
    except Invalid:
        return raw.strip().casefold()[:254]


# --- Registration -------------------------------------------------------------------------------


def _register_page(
    request: Request, db: Session, territory_id: int, errors: dict[str, str], values: dict[str, Any], status: int = 200
) -> HTMLResponse:
    neighbourhoods = [(n.id, n.name) for n in list_neighbourhoods(db, territory_id)]
    ages = [(value, _(label)) for value, label in AGE_BRACKETS]
    context = {"errors": errors, "values": public_values(values), "neighbourhoods": neighbourhoods, "ages": ages}
    return render(request, "pages/accounts/register.html", context, status_code=status)


@router.get("/inscription", name="accounts:register")
def register_form(request: Request, territory: CurrentTerritory, db: ReadSession) -> Response:
    return no_store(_register_page(request, db, territory.id, {}, {}))


@router.post("/inscription", name="accounts:register_submit")
def register_submit(request: Request, territory: CurrentTerritory, db: WriteSession, form: FormDep) -> Response:
    request.app.state.rate_limiter.hit("register:ip", client_ip(request))
    result = validate_form(RegisterForm, form)
    if result.data is None:
        return no_store(_register_page(request, db, territory.id, result.errors, result.values, 422))
    claim_form_nonce(request, db, form, territory.id)
    data = result.data
    registration = service.Registration(
        email=data.email,
        password=data.password,
        display_name=data.display_name,
        neighbourhood_id=data.neighbourhood_id,
        age_bracket=data.age_bracket,
        guardian_contact=data.guardian_contact or None,
        locale=get_locale(),
    )
    try:
        service.register(db, territory.id, registration, base_url(request))
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return no_store(_register_page(request, db, territory.id, errors, result.values, 422))
    return redirect(request, url(request, "accounts:register_done"))


@router.get("/inscription/verifiez-vos-mails", name="accounts:register_done")
def register_done(request: Request) -> HTMLResponse:
    return render(request, "pages/accounts/check_inbox.html", {"reason": "register"})


# --- E-mail verification ------------------------------------------------------------------------


def _link_problem(request: Request, state: str, purpose: str) -> Response:
    context = {"state": state, "purpose": purpose}
    status = LINK_STATUS.get(state, 404)
    return no_store(render(request, "pages/accounts/link_invalid.html", context, status_code=status))


@router.get("/compte/verifier", name="accounts:verify")
def verify_page(request: Request, territory: CurrentTerritory, db: ReadSession, token: str = "") -> Response:
    # Showing the page changes nothing: a mail scanner that opens the link confirms nobody.
    state = service.email_token_state(db, territory.id, token[:200], service.VERIFY_EMAIL)
    if state != service.TOKEN_VALID:
        return _link_problem(request, state, service.VERIFY_EMAIL)
    return no_store(render(request, "pages/accounts/verify.html", {"token": token}))


@router.post("/compte/verifier", name="accounts:verify_confirm")
def verify_confirm(
    request: Request, territory: CurrentTerritory, db: WriteSession, form: FormDep, viewer: MaybeViewer
) -> Response:
    result = validate_form(VerifyForm, form)
    if result.data is None:
        return _link_problem(request, service.TOKEN_UNKNOWN, service.VERIFY_EMAIL)
    claim_form_nonce(request, db, form, territory.id)
    try:
        account = service.confirm_email(db, territory.id, result.data.token)
    except (NotFound, Conflict):
        state = service.email_token_state(db, territory.id, result.data.token, service.VERIFY_EMAIL)
        return _link_problem(request, state, service.VERIFY_EMAIL)
    signed_in = viewer is not None and viewer.account_id == account.id
    target = url(request, "profile:show") if signed_in else url(request, "accounts:login")
    message = _("Votre adresse e-mail est confirmée.")
    if not signed_in:
        message += " " + _("Vous pouvez vous connecter.")
    return redirect(request, target, flash=message)


@router.post("/compte/verifier/renvoyer", name="accounts:verify_resend")
def verify_resend(request: Request, viewer: CurrentViewer, db: WriteSession) -> Response:
    request.app.state.rate_limiter.hit("verify:account", str(viewer.account_id))
    sent = service.resend_verification(db, viewer, base_url(request))
    if not sent:
        return redirect(request, url(request, "profile:show"), flash=_("Votre adresse e-mail est déjà confirmée."))
    message = _("Un nouveau lien vient d'être envoyé à %(email)s. Il est valable 48 heures.") % {"email": viewer.email}
    return redirect(request, url(request, "profile:show"), flash=message)


# --- Login and logout ---------------------------------------------------------------------------


def _login_page(request: Request, errors: dict[str, str], values: dict[str, Any], status: int = 200) -> Response:
    shown = public_values(values)
    shown["next"] = safe_next(str(values.get("next") or ""), "")
    context = {"errors": errors, "values": shown}
    return no_store(render(request, "pages/accounts/login.html", context, status_code=status))


@router.get("/connexion", name="accounts:login")
def login_form(request: Request, next: str = "") -> Response:
    return _login_page(request, {}, {"next": next})


@router.post("/connexion", name="accounts:login_submit")
def login_submit(request: Request, territory: CurrentTerritory, db: WriteSession, form: FormDep) -> Response:
    limiter = request.app.state.rate_limiter
    limiter.hit("login:ip", client_ip(request))
    result = validate_form(LoginForm, form)
    if result.data is None:
        return _login_page(request, result.errors, result.values, 422)
    data = result.data
    limiter.hit("login:account", email_key(data.email))
    account = service.authenticate(db, territory.id, data.email, data.password)
    if account is None:
        errors = {"__all__": _("Adresse e-mail ou mot de passe incorrect.")}
        return _login_page(request, errors, result.values, 422)
    # Rotation: whatever session this browser held ends; a new one starts.
    previous = session_token(request)
    if previous:
        sessions.revoke_by_token(db, previous, territory.id)
    token = service.login(db, account, request.headers.get("user-agent", ""))
    response = redirect(request, safe_next(data.next, url(request, "home:index")))
    set_session_cookie(request, response, token)
    return no_store(response)


@router.post("/deconnexion", name="accounts:logout")
def logout(request: Request, viewer: MaybeViewer, db: WriteSession) -> Response:
    if viewer is not None:
        service.logout(db, viewer)
    response = redirect(request, url(request, "home:index"), flash=_("Vous êtes déconnecté·e."))
    clear_session_cookie(request, response)
    return no_store(response)


# --- Password reset -----------------------------------------------------------------------------


def _forgot_page(request: Request, errors: dict[str, str], values: dict[str, Any], status: int = 200) -> Response:
    context = {"errors": errors, "values": values}
    return no_store(render(request, "pages/accounts/forgot.html", context, status_code=status))


@router.get("/mot-de-passe/oublie", name="accounts:forgot")
def forgot_form(request: Request) -> Response:
    return _forgot_page(request, {}, {})


@router.post("/mot-de-passe/oublie", name="accounts:forgot_submit")
def forgot_submit(request: Request, territory: CurrentTerritory, db: WriteSession, form: FormDep) -> Response:
    limiter = request.app.state.rate_limiter
    limiter.hit("reset:ip", client_ip(request))
    result = validate_form(ForgotForm, form)
    if result.data is None:
        return _forgot_page(request, result.errors, result.values, 422)
    limiter.hit("reset:account", email_key(result.data.email))
    claim_form_nonce(request, db, form, territory.id)
    # The same answer whether or not the address has an account here.
    service.request_password_reset(db, territory.id, result.data.email, base_url(request))
    return redirect(request, url(request, "accounts:forgot_sent"))


@router.get("/mot-de-passe/oublie/envoye", name="accounts:forgot_sent")
def forgot_sent(request: Request) -> HTMLResponse:
    return render(request, "pages/accounts/check_inbox.html", {"reason": "reset"})


def _reset_page(request: Request, token: str, errors: dict[str, str], status: int = 200) -> Response:
    context = {"token": token, "errors": errors, "values": {}}
    return no_store(render(request, "pages/accounts/reset.html", context, status_code=status))


@router.get("/mot-de-passe/nouveau", name="accounts:reset")
def reset_form(request: Request, territory: CurrentTerritory, db: ReadSession, token: str = "") -> Response:
    state = service.email_token_state(db, territory.id, token[:200], service.RESET_PASSWORD)
    if state != service.TOKEN_VALID:
        return _link_problem(request, state, service.RESET_PASSWORD)
    return _reset_page(request, token, {})


@router.post("/mot-de-passe/nouveau", name="accounts:reset_submit")
def reset_submit(request: Request, territory: CurrentTerritory, db: WriteSession, form: FormDep) -> Response:
    result = validate_form(ResetForm, form)
    token = str(form.get("token") or "")[:200]
    if result.data is None:
        return _reset_page(request, token, result.errors, 422)
    try:
        service.reset_password(db, territory.id, result.data.token, result.data.password)
    except Invalid as exc:
        return _reset_page(request, token, {exc.field or "password": exc.message}, 422)
    except Conflict:
        state = service.email_token_state(db, territory.id, token, service.RESET_PASSWORD)
        return _link_problem(
            request, state if state != service.TOKEN_VALID else service.TOKEN_USED, service.RESET_PASSWORD
        )
    message = _("Votre mot de passe a été changé et toutes vos sessions ont été fermées. Connectez-vous.")
    response = redirect(request, url(request, "accounts:login"), flash=message)
    clear_session_cookie(request, response)
    return no_store(response)
