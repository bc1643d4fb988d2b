"""Session cookie handling and the viewer dependencies used by HTML routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from app.accounts import sessions
from app.accounts.models import Role
from app.accounts.viewer import Viewer
from app.config import Settings
from app.core.errors import Forbidden, NotFound, Unauthenticated
from app.web.deps import ReadSession, get_database, get_territory
from app.web.i18n import _


def session_cookie_name(settings: Settings) -> str:
    # The __Host- prefix pins the cookie to this exact host, over HTTPS, for the whole site.
    return "__Host-cailloux_session" if settings.secure_cookies else "cailloux_session"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings: Settings = request.app.state.settings
    response.set_cookie(
        session_cookie_name(settings),
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
        max_age=int(sessions.RESIDENT_ABSOLUTE.total_seconds()),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    settings: Settings = request.app.state.settings
    response.delete_cookie(
        session_cookie_name(settings), path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
    )


def session_token(request: Request) -> str | None:
    settings: Settings = request.app.state.settings
    return request.cookies.get(session_cookie_name(settings))


def get_viewer(request: Request, db: ReadSession) -> Viewer | None:
    cached = getattr(request.state, "viewer_resolved", False)
    if cached:
        viewer: Viewer | None = request.state.viewer
        return viewer
    token = session_token(request)
    viewer = None
    if token:
        territory = get_territory(request)
        found = sessions.lookup(db, token, territory.id)
        if found is not None:
            viewer = found.viewer
            if found.needs_touch and viewer.session_id is not None and viewer.account_id is not None:
                with get_database(request).write_factory() as wdb, wdb.begin():
                    sessions.touch(wdb, viewer.session_id, viewer.account_id)
        else:
            request.state.stale_session_cookie = True
    request.state.viewer = viewer
    request.state.viewer_resolved = True
    return viewer


MaybeViewer = Annotated[Viewer | None, Depends(get_viewer)]


def require_viewer(request: Request, viewer: MaybeViewer) -> Viewer:
    if viewer is None:
        raise Unauthenticated(_("Connectez-vous pour continuer."))
    return viewer


CurrentViewer = Annotated[Viewer, Depends(require_viewer)]


def _role_dependency(*roles: Role) -> object:
    def dependency(viewer: CurrentViewer) -> Viewer:
        if not viewer.has_any_role(*roles):
            # Staff pages are not secret, but residents have nothing to do there.
            raise Forbidden(_("Cette page est réservée au personnel habilité de la commune."))
        return viewer

    return dependency


RequireAdmin = Annotated[Viewer, Depends(_role_dependency(Role.ADMIN))]
RequireAgent = Annotated[Viewer, Depends(_role_dependency(Role.AGENT, Role.EXECUTIVE, Role.ADMIN))]
RequireExecutive = Annotated[Viewer, Depends(_role_dependency(Role.EXECUTIVE))]
RequireCouncil = Annotated[
    Viewer, Depends(_role_dependency(Role.COUNCIL_MEMBER, Role.EXECUTIVE, Role.AGENT, Role.ADMIN))
]

__all__ = [
    "CurrentViewer",
    "MaybeViewer",
    "NotFound",
    "RequireAdmin",
    "RequireAgent",
    "RequireCouncil",
    "RequireExecutive",
]
