"""Bearer-token authentication for the API. Cookies are ignored here, so CSRF does not apply."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.accounts.models import Person
from app.accounts.sessions import active_roles
from app.accounts.viewer import Viewer
from app.core.errors import Forbidden, Unauthenticated
from app.web.deps import ReadSession, get_database, get_territory
from app.web.i18n import _


def api_viewer(request: Request, db: ReadSession) -> Viewer:
    from app.accounts.tokens import find_token, needs_touch, touch_token

    header = request.headers.get("authorization", "")
    scheme, _sep, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthenticated(_("Un jeton d'accès personnel est nécessaire (en-tête Authorization: Bearer)."))
    territory = get_territory(request)
    found = find_token(db, raw.strip(), territory.id)
    if found is None:
        raise Unauthenticated(_("Jeton inconnu, expiré, révoqué ou émis par un autre territoire."))
    token, account = found
    if needs_touch(token):
        # The last use is written in its own short transaction, at most once a minute.
        with get_database(request).write_factory() as wdb, wdb.begin():
            touch_token(wdb, token.id)
    person = db.get_one(Person, account.person_id)
    request.state.api_token_scopes = list(token.scopes)
    return Viewer(
        person_id=person.id,
        account_id=account.id,
        territory_id=territory.id,
        label=person.display_name,
        roles=active_roles(db, account.id),
        api_token_id=token.id,
        display_name=person.display_name,
        email=account.email,
        email_verified=account.email_verified_at is not None,
        locale=account.locale,
        age_bracket=person.age_bracket,
        person_public_id=person.public_id,
    )


ApiViewer = Annotated[Viewer, Depends(api_viewer)]


def require_scope(scope: str) -> object:
    def dependency(request: Request, viewer: ApiViewer) -> Viewer:
        if scope not in getattr(request.state, "api_token_scopes", []):
            raise Forbidden(_("Ce jeton n'a pas la portée « %(scope)s ».") % {"scope": scope})
        return viewer

    return dependency


ReadScope = Annotated[Viewer, Depends(require_scope("read"))]
WriteScope = Annotated[Viewer, Depends(require_scope("write"))]
