"""One ASGI middleware for what every request needs before routing:

- the locale from the URL (``/en/...`` is English, the rest French) and, on a first visit,
  a redirect by ``Accept-Language``;
- the territory from the host name (unknown host: 404, nothing else runs);
- a one-shot flash message carried by a signed cookie across a redirect;
- security headers (CSP without inline scripts, nosniff, frame-ancestors, referrer policy)
  and ``Vary: HX-Request`` on every HTML response.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.territories.context import TerritoryResolver
from app.web import i18n

FLASH_COOKIE = "cailloux_flash"
NEGOTIATED_COOKIE = "cailloux_lang"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
UNLOCALISED_PREFIXES = ("/static/", "/api/", "/openapi.json", "/healthz", "/desabonnement/")


def flash_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="flash")


class CaillouxMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asgi_app: Any = scope["app"]
        path: str = scope["path"]
        locale = i18n.DEFAULT_LOCALE
        if path == "/en" or path.startswith("/en/"):
            locale = "en"
            path = path[3:] or "/"
            scope = dict(scope)
            scope["path"] = path
            scope["raw_path"] = path.encode()
        token = i18n.set_locale(locale)
        try:
            await self._handle(scope, receive, send, asgi_app, locale)
        finally:
            i18n._current_locale.reset(token)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, asgi_app: Any, locale: str) -> None:
        conn = HTTPConnection(scope)
        state = scope.setdefault("state", {})
        state["locale"] = locale
        path: str = scope["path"]
        localised = not path.startswith(UNLOCALISED_PREFIXES)

        if path.startswith("/static/"):
            await self.app(scope, receive, send)
            return

        resolver: TerritoryResolver = asgi_app.state.territory_resolver
        host = conn.headers.get("host", "")
        territory = resolver.resolve(host)
        if territory is None and path != "/healthz":
            response = HTMLResponse(
                "<!doctype html><html lang=fr><title>Territoire inconnu</title>"
                "<h1>Territoire inconnu</h1><p>Aucune commune n'est servie à cette adresse.</p></html>",
                status_code=404,
            )
            await response(scope, receive, send)
            return
        state["territory"] = territory

        if (
            localised
            and locale == i18n.DEFAULT_LOCALE
            and scope["method"] == "GET"
            and NEGOTIATED_COOKIE not in conn.cookies
            and "hx-request" not in conn.headers
            and i18n.negotiate(conn.headers.get("accept-language")) == "en"
        ):
            target = "/en" + (path if path != "/" else "/")
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            redirect = RedirectResponse(target, status_code=302)
            redirect.set_cookie(NEGOTIATED_COOKIE, "1", max_age=365 * 86400, samesite="lax", httponly=True)
            redirect.headers["Vary"] = "Accept-Language"
            await redirect(scope, receive, send)
            return

        flash_raw = conn.cookies.get(FLASH_COOKIE)
        if flash_raw:
            try:
                state["flash"] = flash_serializer(asgi_app.state.secret_key).loads(flash_raw, max_age=120)
            except BadSignature:
                state["flash"] = None
        production = asgi_app.state.settings.is_production

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                content_type = headers.get("content-type", "")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                if production:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
                if state.get("viewer") is not None or "authorization" in conn.headers:
                    # Pages seen signed in hold personal data: never stored by a browser or a proxy.
                    headers["Cache-Control"] = "no-store"
                if content_type.startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", CSP)
                    headers.add_vary_header("HX-Request")
                    headers.setdefault("Content-Language", locale)
                if flash_raw and not any(v.startswith(FLASH_COOKIE + "=") for v in headers.getlist("set-cookie")):
                    headers.append("Set-Cookie", f"{FLASH_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
            await send(message)

        await self.app(scope, receive, send_wrapper)
