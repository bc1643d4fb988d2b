"""Redirects that work for plain forms (303, Post/Redirect/Get) and for HTMX (``HX-Redirect``)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from app.web.forms import remember_result
from app.web.middleware import FLASH_COOKIE, flash_serializer
from app.web.templating import is_htmx


def set_flash(request: Request, response: Response, message: str, kind: str = "success") -> None:
    response.set_cookie(
        FLASH_COOKIE,
        flash_serializer(request.app.state.secret_key).dumps({"message": message, "kind": kind}),
        max_age=120,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        path="/",
    )


def redirect(request: Request, location: str, *, flash: str | None = None, flash_kind: str = "success") -> Response:
    remember_result(request, location)
    response: Response
    if is_htmx(request):
        response = Response(status_code=204, headers={"HX-Redirect": location})
    else:
        response = RedirectResponse(location, status_code=303)
    if flash:
        set_flash(request, response, flash, flash_kind)
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths are accepted as a ``next`` target."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(c in target for c in "\r\n\t"):
        return default
    return target
