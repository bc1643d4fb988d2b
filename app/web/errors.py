"""Error handling: full pages in the site layout, HTMX-aware answers, and RFC 9457 problems for the API."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import AppError, Unauthenticated
from app.web.forms import DuplicateSubmission
from app.web.i18n import _, set_locale
from app.web.templating import is_htmx, render, url

log = logging.getLogger("cailloux.errors")

TITLES = {
    400: "Requête incorrecte",
    401: "Connexion nécessaire",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    409: "Action impossible dans l'état actuel",
    413: "Envoi trop volumineux",
    415: "Format non pris en charge",
    422: "Données non valides",
    429: "Trop de tentatives",
    500: "Erreur du serveur",
    503: "Service momentanément indisponible",
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem(status: int, detail: str, *, code: str = "error", extra: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://cailloux.example/problems/{code}",
        "title": _(TITLES.get(status, "Erreur")),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if extra:
        body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _resolve_viewer(request: Request) -> None:
    """Errors raised before routing (unknown page) still show the signed-in navigation."""
    if getattr(request.state, "viewer_resolved", False) or status_is_db_failure(request):
        return
    from app.web.auth import get_viewer
    from app.web.deps import get_database

    try:
        with get_database(request).read_factory() as db:
            get_viewer(request, db)
    except SQLAlchemyError:
        request.state.viewer = None


def status_is_db_failure(request: Request) -> bool:
    return bool(getattr(request.state, "database_failed", False))


def error_page(request: Request, status: int, message: str, *, correlation_id: str | None = None) -> Response:
    set_locale(getattr(request.state, "locale", "fr"))
    _resolve_viewer(request)
    if getattr(request.state, "territory", None) is None:
        return Response(message, status_code=status, media_type="text/plain; charset=utf-8")
    context = {
        "status": status,
        "title": _(TITLES.get(status, "Erreur")),
        "message": message,
        "correlation_id": correlation_id,
    }
    response = render(
        request, "errors/error.html", context, status_code=status, block="toast" if is_htmx(request) else None
    )
    if is_htmx(request):
        # Show the message in the page's live region instead of replacing the target.
        response.headers["HX-Retarget"] = "#toasts"
        response.headers["HX-Reswap"] = "beforeend"
    if status in (401, 403, 404) or request.method != "GET":
        response.headers["Cache-Control"] = "no-store"
    return response


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        if is_api(request):
            return problem(exc.status_code, exc.message, code=exc.code)
        if isinstance(exc, Unauthenticated):
            login = url(request, "accounts:login", query={"next": request.url.path})
            if is_htmx(request):
                return Response(status_code=401, headers={"HX-Redirect": login})
            from fastapi.responses import RedirectResponse

            return RedirectResponse(login, status_code=303)
        return error_page(request, exc.status_code, exc.message)

    @app.exception_handler(DuplicateSubmission)
    async def duplicate(request: Request, exc: DuplicateSubmission) -> Response:
        from app.web.responses import redirect

        location = exc.location or url(request, "home:index")
        return redirect(
            request,
            location,
            flash=_("Ce formulaire avait déjà été envoyé : rien n'a été fait deux fois."),
            flash_kind="info",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else ""
        if is_api(request):
            return problem(status, detail or _(TITLES.get(status, "Erreur")), code=f"http_{status}")
        if status == 404:
            message = _("Cette page n'existe pas ou a été déplacée. Vérifiez l'adresse ou repartez de l'accueil.")
        elif status == 405:
            message = _("Cette adresse ne s'utilise pas ainsi. Repartez de la page précédente.")
        elif status == 413:
            message = _("L'envoi dépasse la taille autorisée. Réduisez-le et réessayez.")
        else:
            message = _(TITLES.get(status, "Erreur"))
        return error_page(request, status, message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if is_api(request):
            errors = [
                {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                for e in exc.errors()
            ]
            return problem(
                422, _("Les données envoyées ne sont pas valides."), code="validation_error", extra={"errors": errors}
            )
        return error_page(
            request, 422, _("Les données envoyées ne sont pas valides. Vérifiez le formulaire et réessayez.")
        )

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> Response:
        log.error("database unavailable: %s", exc.__class__.__name__)
        request.state.database_failed = True
        message = _("Le service est momentanément indisponible. Réessayez dans quelques instants.")
        response = problem(503, message, code="unavailable") if is_api(request) else error_page(request, 503, message)
        response.headers["Retry-After"] = "30"
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        correlation_id = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s", correlation_id)
        message = _("Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez plus tard.")
        if is_api(request):
            return problem(500, message, code="server_error", extra={"correlation_id": correlation_id})
        return error_page(request, 500, message, correlation_id=correlation_id)
