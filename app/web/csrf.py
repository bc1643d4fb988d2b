"""CSRF protection for every state-changing request made with cookies (HTMX included).

Signed-in forms carry an HMAC of the session token. Anonymous forms (login, registration,
password reset) carry an HMAC of a random value held in a short-lived signed cookie that only
those form pages set, so that anonymous GETs elsewhere stay cookie-free and cacheable.
The JSON API is not covered: it authenticates with bearer tokens and ignores cookies.
"""

from __future__ import annotations

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.config import Settings
from app.core.errors import Forbidden
from app.core.tokens import constant_time_equal, hmac_hex, new_token
from app.web.auth import session_token
from app.web.i18n import _

ANON_COOKIE = "cailloux_form"
ANON_MAX_AGE = 2 * 60 * 60
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# RFC 8058 one-click unsubscribe is POSTed by mail providers without any cookie or token;
# the signed token in its URL is its authorisation.
EXEMPT_PREFIXES = ("/api/", "/desabonnement/")


def _secret(request: Request) -> str:
    secret: str = request.app.state.secret_key
    return secret


def _anon_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(request), salt="anon-form")


def _anon_value(request: Request) -> str | None:
    raw = request.cookies.get(ANON_COOKIE)
    if not raw:
        return None
    try:
        value = _anon_serializer(request).loads(raw, max_age=ANON_MAX_AGE)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def csrf_token(request: Request) -> str:
    """The token to put in forms and in ``hx-headers`` for this request."""
    token = session_token(request)
    if token and getattr(request.state, "viewer", None) is not None:
        return hmac_hex(_secret(request), "csrf:session:" + token)
    value = getattr(request.state, "anon_form_value", None) or _anon_value(request)
    if value is None:
        value = new_token(16)
        request.state.anon_form_value_new = True
    request.state.anon_form_value = value
    return hmac_hex(_secret(request), "csrf:anon:" + value)


def attach_anon_cookie(request: Request, response: Response) -> None:
    """Sets the anonymous form cookie when a page rendered an anonymous form for the first time."""
    if not getattr(request.state, "anon_form_value_new", False):
        return
    settings: Settings = request.app.state.settings
    response.set_cookie(
        ANON_COOKIE,
        _anon_serializer(request).dumps(request.state.anon_form_value),
        max_age=ANON_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def _expected_tokens(request: Request) -> list[str]:
    expected = []
    token = session_token(request)
    if token:
        expected.append(hmac_hex(_secret(request), "csrf:session:" + token))
    value = _anon_value(request)
    if value:
        expected.append(hmac_hex(_secret(request), "csrf:anon:" + value))
    return expected


async def csrf_protect(request: Request) -> None:
    if request.method in SAFE_METHODS or request.url.path.startswith(EXEMPT_PREFIXES):
        return
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        raise Forbidden(_("Requête refusée : elle ne vient pas de ce site."))
    submitted = request.headers.get("x-csrf-token")
    if not submitted:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            submitted = value if isinstance(value, str) else None
    if not submitted or not any(constant_time_equal(submitted, e) for e in _expected_tokens(request)):
        raise Forbidden(
            _("Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et réessayez.")
        )
